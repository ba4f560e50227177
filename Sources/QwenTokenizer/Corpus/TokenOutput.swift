// Writes encoded documents in the formats of `qwenkit encode`, applying --eod and --max-tokens
// (truncate or chunk) per document as its parts arrive.

import QwenKitIO

public enum TokenOutputFormat: String, Sendable, CaseIterable {
    /// One line of space-separated ids per document.
    case text
    /// `{"ids":[...]}` per document, with the other fields of a JSONL input record carried through.
    case jsonl
    /// Little-endian uint32 ids, back to back (numpy.fromfile(path, dtype='<u4')).
    case u32
    /// Each token's text, `|`-separated, one line per document (for people).
    case pieces
}

public enum LengthLimit: Sendable, Equatable {
    case none
    /// Keep the first N tokens of each document.
    case truncate(Int)
    /// Split each document into consecutive records of at most N tokens.
    case chunk(Int)
}

public final class TokenOutputWriter: CorpusConsumer {
    let sink: ByteSink
    let format: TokenOutputFormat
    let limit: LengthLimit
    let eod: UInt32?
    let tokenizer: Tokenizer
    let multipleInputs: Bool

    /// Documents that `.truncate` cut.
    public private(set) var truncatedDocuments = 0
    public private(set) var documents = 0
    public private(set) var tokens = 0

    // State of the document being written.
    private var inDocument = 0        // tokens of the current document seen so far (before the limit)
    private var inRecord = 0          // tokens written to the current record
    private var recordOpen = false
    private var chunkIndex = 0
    private var wasTruncated = false
    private var scratch: [UInt8] = []
    /// The current document's other JSONL members, written into each of its records.
    private var extra: [UInt8] = []

    public init(sink: ByteSink, format: TokenOutputFormat, limit: LengthLimit, eod: UInt32?, tokenizer: Tokenizer, multipleInputs: Bool) {
        self.sink = sink
        self.format = format
        self.limit = limit
        self.eod = eod
        self.tokenizer = tokenizer
        self.multipleInputs = multipleInputs
    }

    public func consume(input: Int, document: Int, ids: UnsafeBufferPointer<UInt32>, extraFields: UnsafeBufferPointer<UInt8>,
                        continued: Bool, continues: Bool) throws {
        if !continued {
            inDocument = 0
            chunkIndex = 0
            wasTruncated = false
            documents += 1
            extra.removeAll(keepingCapacity: true)
            extra.append(contentsOf: extraFields)  // JSONL records are never split across parts
            try openRecord(input: input, document: document)
        }
        for id in ids { try emit(id, input: input, document: document) }
        if !continues {
            if let eod { try emit(eod, input: input, document: document, isEOD: true) }
            try closeRecord()
            if wasTruncated { truncatedDocuments += 1 }
        }
    }

    public func endInput(_ input: Int, bytes: Int64, characters: Int64) throws {}

    /// Flushes and commits the output.
    public func finish() throws { try sink.close() }

    /// Writes one id under the length limit. With --truncate, the document's own ids stop one short
    /// of the limit when --eod is set, so that a cut document still ends with its separator.
    @inline(__always)
    private func emit(_ id: UInt32, input: Int, document: Int, isEOD: Bool = false) throws {
        switch limit {
        case .none:
            break
        case .truncate(let n):
            if !isEOD && inDocument >= (eod == nil ? n : n - 1) {
                wasTruncated = true
                return
            }
        case .chunk(let n):
            if inRecord >= n {
                try closeRecord()
                chunkIndex += 1
                try openRecord(input: input, document: document)
            }
        }
        inDocument += 1
        tokens += 1
        try writeID(id)
    }

    private func openRecord(input: Int, document: Int) throws {
        recordOpen = true
        inRecord = 0
        guard case .chunk = limit else {
            if format == .jsonl { try sink.write("{\"ids\":[") }
            return
        }
        switch format {
        case .jsonl:
            try sink.write("{")
            if multipleInputs { try sink.write("\"input\":\(input),") }
            try sink.write("\"doc\":\(document),\"chunk\":\(chunkIndex),\"ids\":[")
        case .text, .pieces:
            if multipleInputs { try sink.write("\(input)\t") }
            try sink.write("\(document)\t")
        case .u32:
            break
        }
    }

    private func closeRecord() throws {
        guard recordOpen else { return }
        recordOpen = false
        switch format {
        case .text, .pieces:
            try sink.write(0x0A)
        case .jsonl:
            try sink.write("]")
            if !extra.isEmpty {
                try sink.write(0x2C)
                try sink.write(extra)
            }
            try sink.write("}\n")
        case .u32:
            break
        }
    }

    @inline(__always)
    private func writeID(_ id: UInt32) throws {
        defer { inRecord += 1 }
        switch format {
        case .u32:
            try sink.writeLittleEndian(id)
        case .text:
            if inRecord > 0 { try sink.write(0x20) }
            try sink.writeDecimal(id)
        case .jsonl:
            if inRecord > 0 { try sink.write(0x2C) }
            try sink.writeDecimal(id)
        case .pieces:
            if inRecord > 0 { try sink.write(UInt8(ascii: "|")) }
            scratch.removeAll(keepingCapacity: true)
            TokenOutputWriter.appendReadablePiece(tokenizer.bytes(of: id), to: &scratch)
            try scratch.withUnsafeBytes { try sink.write($0) }
        }
    }

    /// A token's bytes for people: valid UTF-8 as it is, with `\n`, `\r`, `\t`, `\\` and `\|` escaped,
    /// other C0 and C1 control characters as `\u{XX}`, and bytes that are not valid UTF-8 as `\xNN`.
    public static func appendReadablePiece(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var i = 0
        let raw = UnsafeRawBufferPointer(bytes)
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                switch b {
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case UInt8(ascii: "|"): out.append(contentsOf: [0x5C, UInt8(ascii: "|")])
                case 0..<0x20, 0x7F: out.append(contentsOf: Array("\\u{\(String(b, radix: 16, uppercase: true))}".utf8))
                default: out.append(b)
                }
                i += 1
                continue
            }
            let seq = UTF8Reference.sequence(at: i, in: raw)
            if seq.valid && b == 0xC2 && bytes[i + 1] < 0xA0 {
                // C1 control characters (U+0080-U+009F), escaped like C0 ones.
                out.append(contentsOf: Array("\\u{\(String(bytes[i + 1], radix: 16, uppercase: true))}".utf8))
                i += 2
            } else if seq.valid {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<(i + seq.length)]))
                i += seq.length
            } else {
                let hex = String(b, radix: 16, uppercase: true)
                out.append(contentsOf: Array(("\\x" + (hex.count < 2 ? "0" : "") + hex).utf8))
                i += 1
            }
        }
    }
}

/// Counts tokens, bytes and characters per input, for `qwenkit count`. As a counting consumer it makes
/// the encoder count tokens without storing their ids.
public final class TokenCounter: CorpusCountingConsumer {
    public struct Counts: Sendable {
        public var tokens: Int64 = 0
        public var bytes: Int64 = 0
        public var characters: Int64 = 0
        public var documents: Int64 = 0
        public init() {}
    }

    public private(set) var perInput: [Counts]
    private var current = Counts()

    public init(inputs: Int) { perInput = [Counts](repeating: Counts(), count: inputs) }

    public func consume(input: Int, document: Int, ids: UnsafeBufferPointer<UInt32>, extraFields: UnsafeBufferPointer<UInt8>,
                        continued: Bool, continues: Bool) throws {
        try consume(input: input, document: document, tokenCount: ids.count, continued: continued, continues: continues)
    }

    public func consume(input: Int, document: Int, tokenCount: Int, continued: Bool, continues: Bool) throws {
        current.tokens += Int64(tokenCount)
        if !continued { current.documents += 1 }
    }

    public func endInput(_ input: Int, bytes: Int64, characters: Int64) throws {
        current.bytes = bytes
        current.characters = characters
        perInput[input] = current
        current = Counts()
    }
}
