import QwenKitIO

/// The base file of llama-perplexity's KL divergence (`--kl-divergence-base`), little-endian:
///
///     "_logits_"                          8 bytes
///     n_ctx, n_vocab, n_chunk             int32 each
///     tokens                              n_chunk × n_ctx int32 (the chunks run, in order)
///     per chunk, per scored position      rowWidth uint16: the scale and the minimum log-probability as two
///                                         float32 (four uint16), then n_vocab uint16, padded to an even count
///
/// A chunk scores positions n_ctx/2 … n_ctx−2 (each predicts the next token): n_ctx − 1 − n_ctx/2 rows. The
/// log-probability of token i is scale × q[i] + min (see `PositionScoring.quantizeLogProbabilities`).
public enum KLDivergenceBase {
    public static let magic: [UInt8] = Array("_logits_".utf8)
    /// Magic and the three int32 counts.
    public static let headerSize = 8 + 3 * 4
    /// The largest context size and chunk count a base file may declare (so sizes cannot overflow, and a corrupt
    /// count is reported as such rather than as a multi-terabyte allocation).
    public static let maxContext = 1 << 24
    public static let maxChunks = 1 << 24
    public static let maxVocabulary = 1 << 24

    /// uint16 values per scored position (llama-perplexity's `nv`): 4 for the two floats, the vocabulary rounded up
    /// to even.
    public static func rowWidth(vocabulary: Int) -> Int { 2 * ((vocabulary + 1) / 2) + 4 }

    /// Scored positions per chunk of `context` tokens (n_ctx − 1 − n_ctx/2).
    public static func scoredPerChunk(context: Int) -> Int { context - 1 - context / 2 }

    /// The whole file's size for these counts (callers keep them under the caps above, so this cannot overflow).
    public static func fileSize(context: Int, vocabulary: Int, chunks: Int) -> Int {
        headerSize + 4 * context * chunks + 2 * chunks * scoredPerChunk(context: context) * rowWidth(vocabulary: vocabulary)
    }

    /// Stores `value`'s bits as two uint16, low half first (a float in memory on a little-endian machine).
    @inline(__always) static func storeFloat(_ value: Float, at p: UnsafeMutablePointer<UInt16>) {
        p[0] = UInt16(truncatingIfNeeded: value.bitPattern)
        p[1] = UInt16(truncatingIfNeeded: value.bitPattern >> 16)
    }

    @inline(__always) static func loadFloat(at p: UnsafePointer<UInt16>) -> Float {
        Float(bitPattern: UInt32(p[0]) | UInt32(p[1]) << 16)
    }

    /// The counts at the start of a base file.
    public struct Header: Sendable, Equatable {
        public var context: Int
        public var vocabulary: Int
        public var chunks: Int

        public init(context: Int, vocabulary: Int, chunks: Int) {
            self.context = context
            self.vocabulary = vocabulary
            self.chunks = chunks
        }

        public var rowWidth: Int { KLDivergenceBase.rowWidth(vocabulary: vocabulary) }
        public var scoredPerChunk: Int { KLDivergenceBase.scoredPerChunk(context: context) }
        public var fileSize: Int { KLDivergenceBase.fileSize(context: context, vocabulary: vocabulary, chunks: chunks) }
    }
}

/// Writes a base file as a stream: the header and tokens first, then one chunk of rows at a time. The output is
/// opened as every output is (`openOutputFile`: under a temporary name, renamed by `finish`; abandoned, nothing is
/// left at the path).
public final class KLDivergenceBaseWriter {
    public let path: String
    public let header: KLDivergenceBase.Header
    private let sink: ByteSink
    private var chunksWritten = 0
    private var finished = false

    /// Opens `path` and writes the header and `tokens` (header.chunks × header.context ids).
    public init(path: String, header: KLDivergenceBase.Header, tokens: ArraySlice<UInt32>) throws(IOError) {
        precondition(tokens.count == header.chunks * header.context, "the base file's tokens are its chunks'")
        self.path = path
        self.header = header
        sink = ByteSink(output: try openOutputFile(path: path))
        do {
            try sink.write(KLDivergenceBase.magic)
            for v in [header.context, header.vocabulary, header.chunks] { try sink.writeLittleEndian(UInt32(truncatingIfNeeded: v)) }
            for t in tokens { try sink.writeLittleEndian(t) }
        } catch {
            sink.abandon()
            throw error
        }
    }

    deinit { if !finished { sink.abandon() } }

    /// Appends one chunk's rows (header.scoredPerChunk × header.rowWidth values), little-endian.
    public func writeChunk(_ rows: UnsafeBufferPointer<UInt16>) throws(IOError) {
        precondition(rows.count == header.scoredPerChunk * header.rowWidth && chunksWritten < header.chunks)
        #if _endian(little)
        try sink.write(UnsafeRawBufferPointer(rows))
        #else
        for v in rows { try sink.write(UInt8(truncatingIfNeeded: v)); try sink.write(UInt8(truncatingIfNeeded: v >> 8)) }
        #endif
        chunksWritten += 1
    }

    /// Commits the file (renamed into place) once every chunk is written.
    public func finish() throws(IOError) {
        precondition(chunksWritten == header.chunks)
        finished = true
        try sink.close()
    }

    /// Gives up: the temporary file is removed, the path left as it was.
    public func abandon() {
        finished = true
        sink.abandon()
    }
}

/// Reads a base file as a stream: the header and tokens at once (checked, and the file's size against them when it
/// is known), then one chunk of rows at a time, each row's scale and minimum checked before use.
public final class KLDivergenceBaseReader {
    public let path: String
    public let header: KLDivergenceBase.Header
    /// header.chunks × header.context token ids, each below header.vocabulary.
    public let tokens: [UInt32]
    private let source: any ByteSource
    private var chunksRead = 0

    public init(path: String) throws {
        self.path = path
        let source = try openInput(path: path, decompress: false)
        self.source = source
        func fail(_ reason: String) -> PerplexityError { .malformedBase(path: path, reason: reason) }
        var head = [UInt8](repeating: 0, count: KLDivergenceBase.headerSize)
        let got = try head.withUnsafeMutableBytes { try source.readFull(into: $0) }
        guard got >= 8, Array(head[0..<8]) == KLDivergenceBase.magic else {
            throw fail("does not look like a file of log-probabilities (no _logits_ magic: not a llama-perplexity "
                + "--kl-divergence-base file)")
        }
        guard got == head.count else { throw fail("ends inside its header (\(got) of \(head.count) bytes)") }
        func int32(_ offset: Int) -> Int {
            Int(Int32(bitPattern: UInt32(head[offset]) | UInt32(head[offset + 1]) << 8 | UInt32(head[offset + 2]) << 16
                | UInt32(head[offset + 3]) << 24))
        }
        let context = int32(8), vocabulary = int32(12), chunks = int32(16)
        guard (3...KLDivergenceBase.maxContext).contains(context) else {
            throw fail("its context size \(context) is not one llama-perplexity scores with (3 to \(KLDivergenceBase.maxContext))")
        }
        guard (1...KLDivergenceBase.maxVocabulary).contains(vocabulary) else {
            throw fail("its vocabulary size \(vocabulary) is out of range (1 to \(KLDivergenceBase.maxVocabulary))")
        }
        guard (1...KLDivergenceBase.maxChunks).contains(chunks) else {
            throw fail("its chunk count \(chunks) is out of range (1 to \(KLDivergenceBase.maxChunks))")
        }
        let header = KLDivergenceBase.Header(context: context, vocabulary: vocabulary, chunks: chunks)
        // 2^24 × 2^24 × 2^25 bytes would overflow: check the size in a wider type first.
        let (rows, o1) = (chunks * header.scoredPerChunk).multipliedReportingOverflow(by: header.rowWidth)
        let (rowBytes, o2) = rows.multipliedReportingOverflow(by: 2)
        guard !o1, !o2, rowBytes <= Int(Int64.max / 2) else { throw fail("its counts (n_ctx \(context), n_vocab \(vocabulary), "
            + "n_chunk \(chunks)) describe an impossibly large file") }
        let expected = header.fileSize
        if let size = source.inputSize, size != Int64(expected) {
            throw fail("is \(size) bytes, but its header (n_ctx \(context), n_vocab \(vocabulary), n_chunk \(chunks)) makes it "
                + "\(expected): \(size < expected ? "truncated" : "corrupt (bytes after the end)")")
        }
        self.header = header
        var tokens = [UInt32](repeating: 0, count: context * chunks)
        let tokenBytes = try tokens.withUnsafeMutableBytes { try source.readFull(into: $0) }
        guard tokenBytes == context * chunks * 4 else { throw fail("ends inside its tokens: truncated") }
        for i in tokens.indices {
            tokens[i] = UInt32(littleEndian: tokens[i])
            guard tokens[i] < UInt32(vocabulary) else {
                throw fail("token \(tokens[i]) at position \(i) is outside its vocabulary of \(vocabulary): corrupt")
            }
        }
        self.tokens = tokens
    }

    /// Reads the next chunk's rows into `rows` (header.scoredPerChunk × header.rowWidth values), checking that each
    /// row's scale and minimum are finite and the scale not negative.
    public func readChunk(into rows: UnsafeMutableBufferPointer<UInt16>) throws {
        precondition(rows.count == header.scoredPerChunk * header.rowWidth && chunksRead < header.chunks)
        let chunk = chunksRead
        let n = try source.readFull(into: UnsafeMutableRawBufferPointer(rows))
        guard n == rows.count * 2 else {
            throw PerplexityError.malformedBase(path: path, reason: "ends inside the log-probabilities of chunk \(chunk + 1): truncated")
        }
        #if !_endian(little)
        for i in rows.indices { rows[i] = UInt16(littleEndian: rows[i]) }
        #endif
        let width = header.rowWidth
        for r in 0..<header.scoredPerChunk {
            let row = UnsafePointer(rows.baseAddress! + r * width)
            let scale = KLDivergenceBase.loadFloat(at: row), minimum = KLDivergenceBase.loadFloat(at: row + 2)
            guard scale.isFinite, scale >= 0, minimum.isFinite else {
                throw PerplexityError.malformedBase(path: path, reason: "position \(r + 1) of chunk \(chunk + 1) has scale \(scale) and "
                    + "minimum log-probability \(minimum): corrupt")
            }
        }
        chunksRead += 1
        if chunksRead == header.chunks, let size = source.inputSize, source.inputPosition != size {
            throw PerplexityError.malformedBase(path: path, reason: "has bytes after its last chunk: corrupt")
        }
    }
}
