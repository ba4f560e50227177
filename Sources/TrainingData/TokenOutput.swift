// What `qwenkit encode` writes: documents' ids in a format (text, JSONL, u32, pieces, a Megatron dataset), with --eod
// and --max-tokens (truncate or chunk) applied per document as its parts arrive.
//
// TokenOutputWriter owns the per-document rules and hands each record's ids, in slices, to a TokenRecordWriter that
// knows one file format.

import QwenKitIO
import QwenTokenizer

public enum TokenOutputFormat: String, Sendable, CaseIterable {
    /// One line of space-separated ids per document.
    case text
    /// `{"ids":[...]}` per document, with the other fields of a JSONL input record carried through.
    case jsonl
    /// Little-endian uint32 ids, back to back (numpy.fromfile(path, dtype='<u4')).
    case u32
    /// Each token's text, `|`-separated, one line per document (for people).
    case pieces
    /// megatron-core's indexed dataset: PREFIX.bin and PREFIX.idx (MegatronDatasetWriter).
    case megatron
    /// A numpy .npy array of uint32 ids: shape [n], or [rows, SEQ_LEN] when packed (TokenArrayWriter).
    case npy

    /// Whether the output is a pair of files named from a prefix rather than one file or stdout.
    public var writesPrefix: Bool { self == .megatron }
}

public enum LengthLimit: Sendable, Equatable {
    case none
    /// Keep the first N tokens of each document.
    case truncate(Int)
    /// Split each document into consecutive records of at most N tokens.
    case chunk(Int)
}

/// One output format: receives records (a document, or with --chunk a piece of one) as slices of ids.
public protocol TokenRecordWriter: AnyObject {
    /// False for formats that leave an empty document empty under --eod (Megatron's preprocess_data.py appends its
    /// end-of-document id only to documents with tokens).
    var appendsEODToEmptyDocuments: Bool { get }
    /// Starts a record; `chunk` is its index within the document when documents are chunked, else nil.
    func openRecord(input: Int, document: Int, chunk: Int?) throws
    /// The record's next ids (any number of calls per record).
    func write(_ ids: UnsafeBufferPointer<UInt32>) throws
    /// Ends the record: `extraFields` are the document's other JSONL members; `endsDocument` is false for a chunk that
    /// its document goes on after.
    func closeRecord(extraFields: UnsafeBufferPointer<UInt8>, endsDocument: Bool) throws
    /// Completes the output (commits files). Dropping a writer without it abandons the output.
    func finish() throws
}

public final class TokenOutputWriter: CorpusConsumer {
    let records: any TokenRecordWriter
    let limit: LengthLimit
    let eod: UInt32?

    /// Documents that `.truncate` cut.
    public private(set) var truncatedDocuments = 0
    public private(set) var documents = 0
    public private(set) var tokens = 0

    // State of the document being written.
    private var inDocument = 0        // ids of the current document written so far (its --eod included)
    private var inRecord = 0          // ids written to the current record
    private var recordOpen = false
    private var chunkIndex = 0
    private var wasTruncated = false
    private var hadIDs = false        // the document had ids before any limit
    private var input = 0
    private var document = 0
    /// The current document's other JSONL members, written into each of its records.
    private var extra: [UInt8] = []

    public init(records: any TokenRecordWriter, limit: LengthLimit, eod: UInt32?) {
        self.records = records
        self.limit = limit
        self.eod = eod
    }

    public func consume(input: Int, document: Int, ids: UnsafeBufferPointer<UInt32>, extraFields: UnsafeBufferPointer<UInt8>,
                        continued: Bool, continues: Bool) throws {
        if !continued {
            self.input = input
            self.document = document
            inDocument = 0
            chunkIndex = 0
            wasTruncated = false
            hadIDs = false
            documents += 1
            extra.removeAll(keepingCapacity: true)
            extra.append(contentsOf: extraFields)  // JSONL records are never split across parts
            try openRecord()
        }
        if !ids.isEmpty {
            hadIDs = true
            try emit(ids, isEOD: false)
        }
        if !continues {
            if var eod, hadIDs || records.appendsEODToEmptyDocuments {
                try withUnsafePointer(to: &eod) { try emit(UnsafeBufferPointer(start: $0, count: 1), isEOD: true) }
            }
            try closeRecord(endsDocument: true)
            if wasTruncated { truncatedDocuments += 1 }
        }
    }

    public func endInput(_ input: Int, bytes: Int64, characters: Int64) throws {}

    /// Completes the output.
    public func finish() throws { try records.finish() }

    /// Writes ids under the length limit. With --truncate, the document's own ids stop one short of the limit when
    /// --eod is set, so that a cut document still ends with its separator.
    private func emit(_ ids: UnsafeBufferPointer<UInt32>, isEOD: Bool) throws {
        switch limit {
        case .none:
            try write(ids)
        case .truncate(let n):
            let room = isEOD ? ids.count : max(0, (eod == nil ? n : n - 1) - inDocument)
            if ids.count > room { wasTruncated = true }
            try write(UnsafeBufferPointer(rebasing: ids[..<min(room, ids.count)]))
        case .chunk(let n):
            var start = 0
            while start < ids.count {
                if inRecord >= n {
                    try closeRecord(endsDocument: false)
                    chunkIndex += 1
                    try openRecord()
                }
                let end = min(ids.count, start + n - inRecord)
                try write(UnsafeBufferPointer(rebasing: ids[start..<end]))
                start = end
            }
        }
    }

    private func write(_ ids: UnsafeBufferPointer<UInt32>) throws {
        guard !ids.isEmpty else { return }
        inDocument += ids.count
        inRecord += ids.count
        tokens += ids.count
        try records.write(ids)
    }

    private func openRecord() throws {
        recordOpen = true
        inRecord = 0
        var chunk: Int? = nil
        if case .chunk = limit { chunk = chunkIndex }
        try records.openRecord(input: input, document: document, chunk: chunk)
    }

    private func closeRecord(endsDocument: Bool) throws {
        guard recordOpen else { return }
        recordOpen = false
        try extra.withUnsafeBufferPointer { try records.closeRecord(extraFields: $0, endsDocument: endsDocument) }
    }
}

/// The formats written as one stream (a file or stdout): text, JSONL, u32, pieces.
public final class StreamRecordWriter: TokenRecordWriter {
    let sink: ByteSink
    let format: TokenOutputFormat
    let tokenizer: Tokenizer
    let multipleInputs: Bool
    private var inRecord = 0
    private var scratch: [UInt8] = []

    public var appendsEODToEmptyDocuments: Bool { true }

    /// With several inputs a chunk record names its input too, whatever the framing: each input's documents count
    /// from 0, so without it two inputs' records would run together when decoded.
    public init(sink: ByteSink, format: TokenOutputFormat, tokenizer: Tokenizer, multipleInputs: Bool) {
        precondition(!format.writesPrefix && format != .npy, "\(format) is not a stream format")
        self.sink = sink
        self.format = format
        self.tokenizer = tokenizer
        self.multipleInputs = multipleInputs
    }

    public func openRecord(input: Int, document: Int, chunk: Int?) throws {
        inRecord = 0
        guard let chunk else {
            if format == .jsonl { try sink.write("{\"ids\":[") }
            return
        }
        switch format {
        case .jsonl:
            try sink.write("{")
            if multipleInputs { try sink.write("\"input\":\(input),") }
            try sink.write("\"doc\":\(document),\"chunk\":\(chunk),\"ids\":[")
        case .text, .pieces:
            if multipleInputs { try sink.write("\(input)\t") }
            try sink.write("\(document)\t")
        case .u32, .megatron, .npy:
            break
        }
    }

    public func write(_ ids: UnsafeBufferPointer<UInt32>) throws {
        switch format {
        case .u32:
            // Ids are stored little-endian on every platform Swift runs on here; the sink copies them as they are.
            #if _endian(little)
            try sink.write(UnsafeRawBufferPointer(ids))
            #else
            for id in ids { try sink.writeLittleEndian(id) }
            #endif
        case .text, .jsonl:
            try sink.writeDecimals(ids, separator: format == .text ? 0x20 : 0x2C, separatorFirst: inRecord > 0)
        case .pieces:
            for id in ids {
                if inRecord > 0 { try sink.write(UInt8(ascii: "|")) }
                scratch.removeAll(keepingCapacity: true)
                StreamRecordWriter.appendReadablePiece(tokenizer.bytes(of: id), to: &scratch)
                try scratch.withUnsafeBytes { try sink.write($0) }
                inRecord += 1
            }
            return
        case .megatron, .npy:
            break
        }
        inRecord += ids.count
    }

    public func closeRecord(extraFields: UnsafeBufferPointer<UInt8>, endsDocument: Bool) throws {
        switch format {
        case .text, .pieces:
            try sink.write(0x0A)
        case .jsonl:
            try sink.write("]")
            if !extraFields.isEmpty {
                try sink.write(0x2C)
                try sink.write(UnsafeRawBufferPointer(extraFields))
            }
            try sink.write("}\n")
        case .u32, .megatron, .npy:
            break
        }
    }

    public func finish() throws { try sink.close() }

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
