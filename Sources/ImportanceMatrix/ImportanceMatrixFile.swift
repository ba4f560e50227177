import ModelFiles
import QwenKitIO

/// The two file layouts llama-imatrix writes, and reading them back.
///
/// GGUF (its default): `general.type` = "imatrix", `imatrix.datasets` (string array), `imatrix.chunk_count` and
/// `imatrix.chunk_size` (UINT32); per weight, names sorted bytewise, `<weight>.in_sum2` F32 [columns, matrices] and
/// `<weight>.counts` F32 [1, matrices].
///
/// Legacy `dat` (`--output-format dat`), little-endian: int32 entry count; per entry (sorted) int32 name length, the
/// name, int32 ncall, int32 value count, then the floats (sum / count) × ncall, where ncall is the largest count
/// divided by the chunk size, rounded up (a matrix with no tokens stores 1 × ncall); then int32 chunk count, int32
/// length and the last dataset's name.
public enum ImportanceMatrixFile {
    public enum Format: String, Sendable, CaseIterable {
        case gguf, dat
    }

    /// Writes `matrix` to `path` (atomically, as every output).
    public static func write(_ matrix: ImportanceMatrix, to path: String, format: Format) throws {
        switch format {
        case .gguf: try writeGGUF(matrix, to: path)
        case .dat: try writeDat(matrix, to: path)
        }
    }

    static func writeGGUF(_ matrix: ImportanceMatrix, to path: String) throws {
        let writer = GGUFWriter(path: path)
        try writer.add(GGUFKeys.generalType, .string("imatrix"))
        try writer.add(GGUFKeys.imatrixDatasets, .array(GGUFArray(strings: matrix.datasets)))
        try writer.add(GGUFKeys.imatrixChunkCount, .uint32(UInt32(clamping: matrix.chunkCount)))
        try writer.add(GGUFKeys.imatrixChunkSize, .uint32(UInt32(clamping: matrix.chunkSize)))
        let names = matrix.namesInFileOrder
        for name in names {
            let entry = matrix.entries[name]!
            // ggml writes a tensor's dimensions up to its last one above 1: [columns] for a dense weight, [1] for its count.
            try writer.addTensor(name: name + ".in_sum2", dims: entry.matrices > 1 ? [entry.columns, entry.matrices] : [entry.columns],
                                 type: .f32)
            try writer.addTensor(name: name + ".counts", dims: entry.matrices > 1 ? [1, entry.matrices] : [1], type: .f32)
        }
        var index = 0
        try writer.write { sink in
            let entry = matrix.entries[names[index / 2]]!
            let values = index % 2 == 0 ? entry.sums : entry.counts.map { Float($0) }
            index += 1
            try sink.write(littleEndianBytes(values))
        }
    }

    static func writeDat(_ matrix: ImportanceMatrix, to path: String) throws {
        var out: [UInt8] = []
        func int32(_ v: Int) { withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) } }
        let names = matrix.namesInFileOrder
        int32(names.count)
        let chunkSize = Int64(max(matrix.chunkSize, 1))
        for name in names {
            let entry = matrix.entries[name]!
            int32(name.utf8.count)
            out.append(contentsOf: name.utf8)
            let ncall = ((entry.counts.max() ?? 0) + chunkSize - 1) / chunkSize
            int32(Int(ncall))
            int32(entry.sums.count)
            var values = [Float](repeating: 0, count: entry.sums.count)
            for i in 0..<values.count {
                var count = Float(entry.counts[i / entry.columns])
                var value = entry.sums[i]
                if count == 0 {
                    value = 1
                    count = 1
                }
                values[i] = (value / count) * Float(ncall)
            }
            out.append(contentsOf: littleEndianBytes(values))
        }
        int32(matrix.chunkCount)
        let dataset = matrix.datasets.last ?? ""
        int32(dataset.utf8.count)
        out.append(contentsOf: dataset.utf8)
        let sink = ByteSink(output: try openOutputFile(path: path))
        try sink.write(out)
        try sink.close()
    }

    private static func littleEndianBytes(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    // MARK: Reading

    /// Reads either layout: GGUF when the file starts with the GGUF magic, else the legacy one (whose sums and counts
    /// are scaled by `chunkSize`, as llama-imatrix does).
    public static func read(_ path: String, chunkSize: Int) throws -> ImportanceMatrix {
        try isGGUF(path) ? try readGGUF(path) : try readDat(path, chunkSize: chunkSize)
    }

    /// Whether `path` is in the GGUF layout (else it is read as the legacy one).
    public static func isGGUF(_ path: String) throws -> Bool { try GGUFFile.startsWithMagic(path) }

    /// Reads a GGUF importance matrix (`general.type` "imatrix"), checking every pair of tensors before use.
    public static func readGGUF(_ path: String) throws -> ImportanceMatrix {
        let file = try GGUFFile(path: path)
        func fail(_ reason: String) -> ImportanceMatrixError { .malformed(path: path, reason: reason) }
        guard file[GGUFKeys.generalType]?.stringValue == "imatrix" else {
            throw fail("general.type is not \"imatrix\" (not an importance matrix)")
        }
        var matrix = ImportanceMatrix(chunkSize: file[GGUFKeys.imatrixChunkSize]?.intValue ?? 0)
        matrix.chunkCount = file[GGUFKeys.imatrixChunkCount]?.intValue ?? 0
        if let datasets = file[GGUFKeys.imatrixDatasets]?.arrayValue, datasets.elementType == .string {
            matrix.datasets = (0..<datasets.count).map { datasets.string(at: $0) }
        }
        for info in file.tensors where info.name.hasSuffix(".in_sum2") {
            let name = String(info.name.dropLast(".in_sum2".count))
            guard let counts = file.tensor(named: name + ".counts") else { throw fail("\(info.name) has no \(name).counts") }
            // Trailing dimensions of 1 are not stored (ggml): [columns] is [columns, 1].
            let sumDims = info.dims + [1, 1], countDims = counts.dims + [1, 1]
            guard info.type == .f32, counts.type == .f32, info.dims.count <= 2, counts.dims.count <= 2,
                  countDims[0] == 1, countDims[1] == sumDims[1], sumDims[0] > 0, sumDims[1] > 0 else {
                throw fail("\(info.name) \(info.type.name) \(info.dims) and \(name).counts \(counts.type.name) \(counts.dims) "
                    + "are not F32 [columns, matrices] and [1, matrices]")
            }
            let sums = floats(file.data(of: info)), countValues = floats(file.data(of: counts))
            guard countValues.allSatisfy({ $0 >= 0 && $0.isFinite && $0 == $0.rounded() }) else {
                throw fail("\(name).counts holds a value that is not a token count")
            }
            matrix.entries[name] = ImportanceMatrix.Entry(columns: sumDims[0], sums: sums, counts: countValues.map { Int64($0) })
        }
        return matrix
    }

    /// Reads the legacy layout. The stored values are (sum / count) × ncall with a count of ncall for each entry;
    /// as llama-imatrix does when it loads one, the sums come back as value × chunk size and the counts as
    /// ncall × chunk size (`chunkSize` from the caller: the file does not store it). Every length is checked against
    /// the bytes that are left before it is used.
    public static func readDat(_ path: String, chunkSize: Int) throws -> ImportanceMatrix {
        let file = try MappedFile(path: path)
        func fail(_ reason: String) -> ImportanceMatrixError { .malformed(path: path, reason: reason) }
        return try file.withUnsafeBytes { bytes throws -> ImportanceMatrix in
            var offset = 0
            func int32(_ what: String) throws -> Int {
                guard bytes.count - offset >= 4 else { throw fail("ends inside \(what) at byte \(offset)") }
                defer { offset += 4 }
                return Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            }
            func text(_ length: Int, _ what: String) throws -> String {
                guard length >= 0, bytes.count - offset >= length else { throw fail("\(what) of \(length) bytes runs past the end") }
                defer { offset += length }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self)
            }
            let n = try int32("the entry count")
            guard n >= 0, n <= bytes.count / 16 else { throw fail("claims \(n) entries, more than its \(bytes.count) bytes hold") }
            var matrix = ImportanceMatrix(chunkSize: chunkSize)
            for _ in 0..<n {
                let name = try text(try int32("a name length"), "a name")
                let ncall = try int32("ncall of \(name)")
                let count = try int32("the value count of \(name)")
                guard count > 0, ncall >= 0, count <= (bytes.count - offset) / 4 else {
                    throw fail("\(name): \(count) values (ncall \(ncall)) do not fit in the \(bytes.count - offset) bytes left")
                }
                var sums = [Float](repeating: 0, count: count)
                for i in 0..<count {
                    sums[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self)))
                        * Float(chunkSize)
                }
                offset += 4 * count
                matrix.entries[name] = ImportanceMatrix.Entry(columns: count, sums: sums, counts: [Int64(ncall) * Int64(chunkSize)])
            }
            if bytes.count - offset >= 4 {
                matrix.chunkCount = try int32("the chunk count")
                if bytes.count - offset >= 4 {
                    let dataset = try text(try int32("the dataset name length"), "the dataset name")
                    if !dataset.isEmpty { matrix.datasets = [dataset] }
                }
            }
            return matrix
        }
    }

    private static func floats(_ bytes: UnsafeRawBufferPointer) -> [Float] {
        (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}

public enum ImportanceMatrixError: Error, Equatable, CustomStringConvertible {
    case malformed(path: String, reason: String)
    /// A matrix to combine holds `weight` with other sizes than the ones before it.
    case mismatched(path: String, weight: String, reason: String)
    /// The loaded matrices (`--in-file`) hold `loaded` sums for `weight`, the model's weight takes `model`.
    case modelMismatch(weight: String, loaded: Int, model: Int)

    public var description: String {
        switch self {
        case .malformed(let path, let reason): return terminalSafe("\(path): \(reason)")
        case .mismatched(let path, let weight, let reason):
            return terminalSafe("\(path): \(weight) has \(reason) as in the matrices before it (another model?)")
        case .modelMismatch(let weight, let loaded, let model):
            return terminalSafe("\(weight): the --in-file matrices hold \(loaded) sums, the model's weight takes \(model) "
                + "(matrices of another model?)")
        }
    }
}
