import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The GGUF v3 reader (shared/SPEC-NOTES.md "GGUF v3", shared/SPEC-FACTS.md §1).
//
//   "GGUF" | u32 version 3 | u64 n_tensors | u64 n_kv | n_kv × (string key, u32 type, value)
//   | n_tensors × (string name, u32 n_dims, n_dims × u64 ne (innermost first), u32 ggml type, u64 offset)
//   | zero padding to `general.alignment` (default 32) | data section (each tensor at an aligned offset)
//
// Everything is validated in `init`, through one bounded little-endian cursor that throws on a short read, so a
// `GGUFFile` that exists is safe to read from: counts are bounded by what the remaining bytes could hold before
// anything is reserved, sizes are computed with overflow checks, tensors lie inside the file and do not overlap.

/// The named limits of the reader.
public enum GGUFLimits {
    /// Longest metadata string or key (a chat template is a few KB; a whole file of 1 GB would be corrupt).
    public static let maxStringLength = 256 << 20
    /// Most elements in one metadata array (Qwen2's vocabulary has 151,936 entries).
    public static let maxArrayCount = 1 << 26
    /// Most metadata entries.
    public static let maxKeyValueCount = 1 << 20
    /// Most tensors.
    public static let maxTensorCount = 1 << 20
    /// Longest tensor name in bytes (ggml's GGML_MAX_NAME is 64 including the terminating NUL).
    public static let maxTensorNameLength = 63
    /// Most dimensions of a tensor (GGML_MAX_DIMS).
    public static let maxDimensions = 4
    /// The data alignment when `general.alignment` is absent (GGUF_DEFAULT_ALIGNMENT).
    public static let defaultAlignment = 32
    /// The largest `general.alignment` qwenkit writes (edit, and any GGUFWriter). gguf.cpp accepts any power of
    /// two (gguf-py's reader any UINT32), and so does this reader, which only maps the file; but a writer pads every
    /// tensor to the alignment: 2^30 would add up to a GiB per tensor and fill the disk. 64 KiB is the largest page
    /// size in use (arm64, ppc64); a larger alignment buys nothing for mapping the file.
    public static let maxWrittenAlignment = 1 << 16

    /// Why `value` cannot be the `general.alignment` of a file being written (nil when it can): it must be a
    /// UINT32 power of two no larger than `maxWrittenAlignment`.
    public static func writtenAlignmentProblem(_ value: GGUFValue) -> String? {
        guard case .uint32(let a) = value else { return "has type \(value.type.name), expected UINT32" }
        guard a != 0, a & (a - 1) == 0 else { return "\(a) is not a non-zero power of two" }
        guard a <= maxWrittenAlignment else { return "\(a) is above the limit of \(maxWrittenAlignment) bytes" }
        return nil
    }
}

/// One tensor of a GGUF file, validated.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: `dims[0]` is the innermost (contiguous) dimension, so a PyTorch `[out, in]` weight is `[in, out]`.
    public let dims: [Int]
    public let type: GGMLType
    /// Byte offset relative to the start of the data section.
    public let offset: Int
    /// Product of `dims`.
    public let elementCount: Int
    /// Bytes of data: `type.byteCount(elements: elementCount)`.
    public let byteCount: Int

    /// Validates the shape (1...4 dims, each ≥ 0, rows whole blocks, counts fit in `Int`) and computes the sizes.
    public init(name: String, dims: [Int], type: GGMLType, offset: Int, path: String) throws(ModelFileError) {
        func fail(_ reason: String) -> ModelFileError { .malformedTensor(path: path, tensor: name, reason: reason) }
        guard name.utf8.count <= GGUFLimits.maxTensorNameLength else {
            throw fail("name is \(name.utf8.count) bytes, above the limit of \(GGUFLimits.maxTensorNameLength)")
        }
        guard (1...GGUFLimits.maxDimensions).contains(dims.count) else {
            throw fail("has \(dims.count) dimensions; GGUF allows 1 to \(GGUFLimits.maxDimensions)")
        }
        var elements = 1
        for d in dims {
            guard d >= 0 else { throw fail("dims \(dims) has a negative entry") }
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("dims \(dims) has more elements than Int can count") }
            elements = p
        }
        guard dims[0] % type.blockSize == 0 else {
            throw fail("row length \(dims[0]) is not a multiple of the \(type.name) block size \(type.blockSize)")
        }
        let bytes: Int
        do { bytes = try type.byteCount(elements: elements) } catch { throw fail("dims \(dims): \(error)") }
        guard offset >= 0 else { throw fail("offset \(offset) is negative") }
        self.name = name
        self.dims = dims
        self.type = type
        self.offset = offset
        self.elementCount = elements
        self.byteCount = bytes
    }
}

/// A memory-mapped GGUF v3 file. Metadata arrays and tensor bytes are views into the mapping, never copied.
///
/// `@unchecked Sendable`: immutable after `init`; the read-only mapping lives as long as this object.
public final class GGUFFile: @unchecked Sendable {
    /// The first four bytes of every GGUF file.
    public static let magic = Array("GGUF".utf8)

    /// Whether the file at `path` starts with `magic` (reads 4 bytes; a shorter file does not).
    public static func startsWithMagic(_ path: String) throws(ModelFileError) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(IOError.cannotOpen(path: path, errno: errno)) }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 4)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        return n == 4 && head == magic
    }

    public let path: String
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [GGUFKeyValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32.
    public let alignment: Int
    /// File offset of the data section (the end of the tensor infos rounded up to `alignment`).
    public let dataStart: Int
    public var fileSize: Int { file.count }

    /// Where each metadata entry (key, type id, value) lies in the file, in `metadata` order, and each tensor's
    /// name (u64 length and bytes), in `tensors` order: lets a copy prove it re-encodes the stored bytes exactly
    /// (a key or string that is not valid UTF-8 is decoded with U+FFFD and would not).
    let metadataRecordRanges: [Range<Int>]
    let tensorNameRanges: [Range<Int>]

    private let file: MappedFile
    private let bytes: UnsafeRawBufferPointer
    private let keyIndex: [String: Int]
    private let tensorIndex: [String: Int]

    /// Opens `path`, mapped or, with `.loaded`, read into memory (`FileResidency`).
    public init(path: String, residency: FileResidency = .mapped) throws(ModelFileError) {
        let file: MappedFile
        do { file = try MappedFile(path: path, residency: residency) } catch { throw .io(error) }
        let bytes = file.withUnsafeBytes { $0 }  // valid while `file` lives
        self.path = path
        self.file = file
        self.bytes = bytes
        var r = GGUFCursor(bytes: bytes, path: path)

        // Header.
        let magic = try r.fixed(4, "the magic")
        guard magic.elementsEqual(GGUFFile.magic) else {
            throw .ggufHeader(path: path, reason: "bad magic \(hex(magic)), expected 47 47 55 46 (\"GGUF\"): not a GGUF file")
        }
        let version = try r.u32("the version")
        guard version == 3 else {
            if version.byteSwapped == 3 || version.byteSwapped == 2 || version.byteSwapped == 1 {
                throw .ggufHeader(path: path, reason: "version reads as \(version): a byte-swapped (big-endian) file, which is not supported")
            }
            throw .ggufHeader(path: path, reason: "version \(version) is not supported (only GGUF version 3)")
        }
        self.version = version
        let tensorCount = try r.u64("the tensor count")
        let kvCount = try r.u64("the metadata count")
        // Every entry needs a minimum number of bytes: the counts cannot exceed what the rest of the file holds.
        let minKV = 8 + 4 + 1, minTensor = 8 + 4 + 8 + 4 + 8
        guard kvCount <= UInt64(GGUFLimits.maxKeyValueCount), Int(kvCount) <= r.remaining / minKV else {
            throw .ggufHeader(path: path, reason: "metadata count \(kvCount) is more than the file can hold"
                + " (\(r.remaining) bytes left, limit \(GGUFLimits.maxKeyValueCount))")
        }
        guard tensorCount <= UInt64(GGUFLimits.maxTensorCount),
              Int(tensorCount) <= (r.remaining - Int(kvCount) * minKV) / minTensor else {
            throw .ggufHeader(path: path, reason: "tensor count \(tensorCount) is more than the file can hold"
                + " (\(r.remaining) bytes left, limit \(GGUFLimits.maxTensorCount))")
        }

        // Metadata.
        var metadata: [GGUFKeyValue] = []
        metadata.reserveCapacity(Int(kvCount))
        var keyIndex: [String: Int] = [:]
        var metadataRecordRanges: [Range<Int>] = []
        metadataRecordRanges.reserveCapacity(Int(kvCount))
        for i in 0..<Int(kvCount) {
            let recordStart = r.position
            let key = try r.string("metadata key #\(i)")
            guard keyIndex[key] == nil else { throw .ggufDuplicateKey(path: path, key: key) }
            let value = try r.value(key: key, file: file)
            keyIndex[key] = metadata.count
            metadata.append(GGUFKeyValue(key, value))
            metadataRecordRanges.append(recordStart..<r.position)
        }

        // general.alignment: UINT32, a non-zero power of two.
        var alignment = GGUFLimits.defaultAlignment
        if let i = keyIndex[GGUFKeys.generalAlignment] {
            guard case .uint32(let a) = metadata[i].value else {
                throw .ggufMetadata(path: path, key: GGUFKeys.generalAlignment,
                                    reason: "has type \(metadata[i].value.type.name), expected UINT32")
            }
            guard a != 0, a & (a - 1) == 0 else {
                throw .ggufMetadata(path: path, key: GGUFKeys.generalAlignment, reason: "\(a) is not a non-zero power of two")
            }
            alignment = Int(a)
        }

        // Tensor infos.
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(Int(tensorCount))
        var tensorIndex: [String: Int] = [:]
        var tensorNameRanges: [Range<Int>] = []
        tensorNameRanges.reserveCapacity(Int(tensorCount))
        for i in 0..<Int(tensorCount) {
            let nameStart = r.position
            let name = try r.string("the name of tensor #\(i)")
            tensorNameRanges.append(nameStart..<r.position)
            func fail(_ reason: String) -> ModelFileError { .malformedTensor(path: path, tensor: name, reason: reason) }
            guard name.utf8.count <= GGUFLimits.maxTensorNameLength else {
                throw fail("name is \(name.utf8.count) bytes, above the limit of \(GGUFLimits.maxTensorNameLength)")
            }
            guard tensorIndex[name] == nil else { throw .duplicateTensor(path: path, tensor: name) }
            let nDims = try r.u32("n_dims of tensor \(q(name))")
            guard nDims >= 1, nDims <= UInt32(GGUFLimits.maxDimensions) else {
                throw fail("n_dims is \(nDims); GGUF allows 1 to \(GGUFLimits.maxDimensions)")
            }
            var dims: [Int] = []
            for _ in 0..<Int(nDims) {
                let d = try r.u64("the dims of tensor \(q(name))")
                guard d <= UInt64(Int64.max) else { throw fail("dimension \(d) is above INT64_MAX") }
                dims.append(Int(d))
            }
            let typeID = try r.u32("the type of tensor \(q(name))")
            guard let type = GGMLType(rawValue: typeID) else { throw fail("unknown ggml type id \(typeID)") }
            let offset = try r.u64("the offset of tensor \(q(name))")
            guard offset <= UInt64(Int64.max) else { throw fail("offset \(offset) is above INT64_MAX") }
            let info = try GGUFTensorInfo(name: name, dims: dims, type: type, offset: Int(offset), path: path)
            guard info.offset % alignment == 0 else {
                throw fail("offset \(info.offset) is not a multiple of the alignment \(alignment)")
            }
            tensorIndex[name] = tensors.count
            tensors.append(info)
        }

        // The data section and each tensor's place in it.
        let (padded, overflow) = r.position.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw .ggufHeader(path: path, reason: "data section start overflows") }
        let dataStart = padded / alignment * alignment
        // With tensors, the data section must start inside the file, even if every tensor is empty: a view at
        // `dataStart` would otherwise point past the mapping. (Without tensors, gguf-py writes no padding.)
        guard tensors.isEmpty || dataStart <= bytes.count else {
            throw .ggufTruncated(path: path, what: "the padding before the data section", offset: r.position,
                                 needed: dataStart - r.position, fileSize: bytes.count)
        }
        let dataSize = max(0, bytes.count - dataStart)
        for t in tensors {
            guard t.offset <= dataSize, t.byteCount <= dataSize - t.offset else {
                throw .offsetsOutOfBounds(path: path, tensor: t.name, begin: t.offset,
                                          end: t.offset &+ t.byteCount, dataSize: dataSize)
            }
        }
        try checkNoOverlap(tensors.map { ($0.name, $0.offset..<($0.offset + $0.byteCount)) }, path: path)

        self.metadata = metadata
        self.metadataRecordRanges = metadataRecordRanges
        self.tensorNameRanges = tensorNameRanges
        self.keyIndex = keyIndex
        self.alignment = alignment
        self.tensors = tensors
        self.tensorIndex = tensorIndex
        self.dataStart = dataStart
    }

    /// The value of metadata `key`, or nil.
    public subscript(key: String) -> GGUFValue? { keyIndex[key].map { metadata[$0].value } }

    /// The tensor named `name`, or nil.
    public func tensor(named name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The bytes of `info` (a tensor of this file), a view into the mapping valid while `self` lives.
    public func data(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(dataStart + info.offset)..<(dataStart + info.offset + info.byteCount)])
    }

    /// The bytes of tensor `name`; throws `noSuchTensor` if there is none.
    public func data(of name: String) throws(ModelFileError) -> UnsafeRawBufferPointer {
        guard let info = tensor(named: name) else { throw .noSuchTensor(path: path, tensor: name) }
        return data(of: info)
    }

    /// The stored bytes at `range` (one of `metadataRecordRanges` or `tensorNameRanges`), valid while `self` lives.
    func storedBytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// Keeps the mapping alive across `body` (for callers holding `data(of:)` views).
    public func withExtendedLifetime<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        defer { _fixLifetime(self) }
        return try body()
    }
}

/// The one bounded little-endian reader over untrusted GGUF bytes: every read checks the remaining length first.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var position = 0

    var remaining: Int { bytes.count - position }

    private func need(_ n: Int, _ what: @autoclosure () -> String) throws(ModelFileError) {
        guard n <= remaining else {
            throw .ggufTruncated(path: path, what: what(), offset: position, needed: n, fileSize: bytes.count)
        }
    }

    mutating func fixed(_ n: Int, _ what: @autoclosure () -> String) throws(ModelFileError) -> UnsafeRawBufferPointer {
        try need(n, what())
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(ModelFileError) -> UInt32 {
        try need(4, what())
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws(ModelFileError) -> UInt64 {
        try need(8, what())
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// A u64 length and that many bytes, decoded as UTF-8 (ill-formed bytes become U+FFFD, as gguf.cpp does not
    /// check them either).
    mutating func string(_ what: @autoclosure () -> String) throws(ModelFileError) -> String {
        let bytes = try stringBytes(what())
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func stringBytes(_ what: @autoclosure () -> String) throws(ModelFileError) -> UnsafeRawBufferPointer {
        let start = position
        let length = try u64(what())
        guard length <= UInt64(GGUFLimits.maxStringLength) else {
            position = start
            throw .ggufTruncated(path: path, what: "\(what()) (string length \(length), limit \(GGUFLimits.maxStringLength))",
                                 offset: start + 8, needed: Int(clamping: length), fileSize: bytes.count)
        }
        return try fixed(Int(length), what())
    }

    /// A type id and a value for metadata `key`.
    mutating func value(key: String, file: MappedFile) throws(ModelFileError) -> GGUFValue {
        let typeID = try u32("the type of metadata key \(q(key))")
        guard let type = GGUFValueType(rawValue: typeID) else {
            throw .ggufMetadata(path: path, key: key, reason: "unknown value type id \(typeID)")
        }
        switch type {
        case .string:
            return .string(try string("the value of metadata key \(q(key))"))
        case .array:
            let elementID = try u32("the element type of metadata key \(q(key))")
            guard let elementType = GGUFValueType(rawValue: elementID) else {
                throw .ggufMetadata(path: path, key: key, reason: "unknown array element type id \(elementID)")
            }
            guard elementType != .array else {
                throw .ggufMetadata(path: path, key: key, reason: "nested arrays are not supported")
            }
            let declared = try u64("the element count of metadata key \(q(key))")
            guard declared <= UInt64(GGUFLimits.maxArrayCount),
                  Int(declared) <= remaining / elementType.minimumSize else {
                throw .ggufMetadata(path: path, key: key, reason: "array of \(declared) \(elementType.name) elements"
                    + " is more than the file can hold (\(remaining) bytes left, limit \(GGUFLimits.maxArrayCount))")
            }
            let count = Int(declared)
            let start = position
            var offsets: [Int] = []
            if let size = elementType.fixedSize {
                _ = try fixed(count * size, "the elements of metadata key \(q(key))")
            } else {
                offsets.reserveCapacity(count + 1)  // bounded: count ≤ remaining / 8
                for i in 0..<count {
                    offsets.append(position - start)
                    _ = try stringBytes("string #\(i) of metadata key \(q(key))")
                }
                offsets.append(position - start)
            }
            return .array(GGUFArray(file: file, range: start..<position, elementType: elementType, count: count,
                                    stringOffsets: offsets))
        default:
            let size = type.fixedSize!
            let raw = try fixed(size, "the value of metadata key \(q(key))")
            return decodeFixed(type, raw, at: 0)
        }
    }
}

private func hex(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    return bytes.map { String(decoding: [digits[Int($0 >> 4)], digits[Int($0 & 15)]], as: UTF8.self) }
        .joined(separator: " ")
}

/// A key or name from the file as a JSON string literal, so control bytes cannot break the one-line message.
private func q(_ s: String) -> String { quoted(s) }
