// Writes a Megatron indexed dataset as documents arrive: tokens straight into PREFIX.bin, each document's length into a
// nameless scratch file (4 bytes per document, on disk, so memory does not grow with the corpus), and PREFIX.idx at the
// end from three passes over those lengths. Both files are atomic outputs: .bin is committed first, then .idx, so a
// present .idx means a complete dataset.
//
// What Megatron-LM's preprocess_data.py makes of a document (one sequence per document, no sentence splitting):
// - a document with tokens is one sequence; --eod (its --append-eod) is appended to it;
// - an empty document has no sequence and no --eod, but is still a document (a repeated document-index entry);
// - with --chunk, each chunk of a document is one sequence of that document (as preprocess_data.py's sentences are).

import QwenKitIO

public final class MegatronDatasetWriter: TokenRecordWriter {
    public let prefix: String
    public let dtype: MegatronDType
    private let bin: ByteSink
    private let idx: ByteSink
    private let lengths: ByteSink
    private let scratch: ScratchFile
    private var sequenceLength = 0
    private var sequences = 0
    private var documents = 0
    private var staging: UnsafeMutableRawBufferPointer

    public var appendsEODToEmptyDocuments: Bool { false }

    /// Opens PREFIX.bin and PREFIX.idx as atomic outputs. Only uint16 and int32 hold token ids.
    public init(prefix: String, dtype: MegatronDType) throws {
        guard dtype == .uint16 || dtype == .int32 else {
            throw MegatronDatasetError("Megatron token datasets are uint16 or int32, not \(dtype.name)")
        }
        self.prefix = MegatronLayout.stripExtension(prefix)
        self.dtype = dtype
        let paths = MegatronLayout.paths(prefix: prefix)
        bin = try openOutput(path: paths.bin, compress: false)
        idx = try openOutput(path: paths.idx, compress: false)
        let slash = paths.idx.lastIndex(of: "/")
        scratch = try ScratchFile(directory: slash.map { String(paths.idx[...$0]) } ?? "", purpose: "\(paths.idx) (document lengths)")
        lengths = ByteSink(output: scratch, bufferCapacity: 1 << 16)
        staging = .allocate(byteCount: 1 << 16, alignment: 16)
    }

    deinit { staging.deallocate() }

    public func openRecord(input: Int, document: Int, chunk: Int?) throws {
        sequenceLength = 0
    }

    public func write(_ ids: UnsafeBufferPointer<UInt32>) throws {
        sequenceLength += ids.count
        switch dtype {
        case .int32:
            // Ids below 2^31 (every vocabulary) are the same bytes as int32.
            try bin.write(UnsafeRawBufferPointer(ids))
        default:
            // uint16, chosen only for vocabularies under 65,500 ids: narrowed through a small staging buffer.
            let out = staging.bindMemory(to: UInt16.self)
            var start = 0
            while start < ids.count {
                let n = min(out.count, ids.count - start)
                for k in 0..<n { out[k] = UInt16(truncatingIfNeeded: ids[start + k]).littleEndian }
                try bin.write(UnsafeRawBufferPointer(start: staging.baseAddress, count: 2 * n))
                start += n
            }
        }
    }

    public func closeRecord(extraFields: UnsafeBufferPointer<UInt8>, endsDocument: Bool) throws {
        if sequenceLength > 0 {
            guard sequenceLength <= Int(Int32.max) else {
                throw MegatronDatasetError("\(prefix): a document of \(sequenceLength) tokens is longer than a Megatron sequence can be (int32 lengths); use --chunk --max-tokens")
            }
            try lengths.writeLittleEndian(UInt32(sequenceLength))
            sequences += 1
        }
        if endsDocument {
            // A document's end is a length of 0 in the scratch file: the index is rebuilt from one stream.
            try lengths.writeLittleEndian(0)
            documents += 1
        }
    }

    /// Commits PREFIX.bin, then writes and commits PREFIX.idx.
    public func finish() throws {
        try lengths.close()
        try bin.close()
        let documentEntries = documents + 1
        try idx.write(MegatronLayout.header(dtype: dtype, sequences: sequences, documentEntries: documentEntries))
        // Pass 1: lengths; pass 2: pointers; pass 3: the document index.
        try eachLength { length in if length > 0 { try idx.writeLittleEndian(length) } }
        var pointer: Int64 = 0
        try eachLength { length in
            if length > 0 {
                try idx.writeLittleEndian64(UInt64(pointer))
                pointer += Int64(length) * Int64(dtype.size)
            }
        }
        var sequence: UInt64 = 0
        try idx.writeLittleEndian64(0)
        try eachLength { length in
            if length > 0 { sequence += 1 } else { try idx.writeLittleEndian64(sequence) }
        }
        try idx.close()
    }

    private func eachLength(_ body: (UInt32) throws -> Void) throws {
        let source = try scratch.rewind()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4)
        defer { buffer.deallocate() }
        while true {
            let n = try source.readFull(into: buffer)
            guard n % 4 == 0 else { throw MegatronDatasetError("\(scratch.name): read \(n) bytes, not whole lengths") }
            for k in 0..<(n / 4) { try body(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))) }
            if n < buffer.count { return }
        }
    }
}
