// Parses token ids in the formats `qwenkit encode` writes, streaming: text (decimal ids separated by
// spaces, commas or brackets, so a pasted Python list works; one document per line), JSONL (an "ids"
// array per line) or u32 (little-endian, one document). The chunk records of `encode --max-tokens N
// --chunk` (text lines `[input<TAB>]document<TAB>ids`, JSONL records with "doc" and "chunk") are joined
// back into their documents; u32 has no records (encode refuses --chunk there).

import QwenKitIO

/// The formats `decode` reads (encode's outputs, less the one for people).
public enum IDInputFormat: String, Sendable, CaseIterable {
    case text, jsonl, u32
}

public final class IDReader {
    public enum Event {
        case id(UInt32, describe: () -> String)
        case endDocument
        /// The input paused (a read returned); in stream mode the caller flushes.
        case flush
    }

    let format: IDInputFormat
    let stream: Bool

    public init(format: IDInputFormat, stream: Bool) {
        self.format = format
        self.stream = stream
    }

    public func read(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        switch format {
        case .u32: try readU32(source, handle)
        case .jsonl: try readJSONL(source, handle)
        case .text: try readText(source, handle)
        }
    }

    private func nextBlock(_ source: any ByteSource, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        stream ? try source.read(into: buffer) : try source.readFull(into: buffer)
    }

    private func readU32(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var carry = 0
        var position: Int64 = 0
        while true {
            let n = try nextBlock(source, UnsafeMutableRawBufferPointer(rebasing: buffer[carry...]))
            if n == 0 { break }
            let total = carry + n
            let whole = total / 4
            for k in 0..<whole {
                let id = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))
                let at = position
                try handle(.id(id, describe: { "position \(at) of \(source.name)" }))
                position += 1
            }
            carry = total - whole * 4
            if carry > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[(whole * 4)..<total])) }
            if stream { try handle(.flush) }
        }
        if carry != 0 {
            throw CorpusError("\(source.name): ends with \(carry) stray byte\(carry == 1 ? "" : "s") (a u32 stream is a multiple of 4 bytes long)")
        }
        try handle(.endDocument)
    }

    private func readText(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var value: UInt64 = 0
        var digits = 0
        var line = 1
        var position = 0  // index of the id within its line
        var lineHasContent = false
        // A chunk record's index fields, each ended by a tab before the first id: the document, or the
        // input and the document. `settled`: the line's record has been placed (at its first id or its end).
        var fields = 0
        var first: UInt64 = 0, second: UInt64 = 0
        var settled = false
        var records = ChunkRecords(source: source.name)
        func settle() throws {
            settled = true
            switch fields {
            case 0: try records.wholeDocument(handle)
            case 1: try records.textRecord(line: line, ChunkRecords.Key(input: nil, document: first), handle)
            default: try records.textRecord(line: line, ChunkRecords.Key(input: first, document: second), handle)
            }
        }
        func endNumber() throws {
            guard digits > 0 else { return }
            guard value <= UInt64(UInt32.max) else {
                throw CorpusError("\(source.name): line \(line): \(value) is not a token id (too large)")
            }
            if !settled { try settle() }
            let l = line, p = position
            try handle(.id(UInt32(value), describe: { "position \(p) of line \(l) of \(source.name)" }))
            position += 1
            value = 0
            digits = 0
        }
        while true {
            let n = try nextBlock(source, buffer)
            if n == 0 { break }
            for i in 0..<n {
                let b = buffer[i]
                switch b {
                case 0x30...0x39:
                    value = value &* 10 &+ UInt64(b - 0x30)
                    digits += 1
                    lineHasContent = true
                    if digits > 12 { throw CorpusError("\(source.name): line \(line): a number of more than 12 digits is not a token id") }
                case 0x20, 0x0D, 0x2C, 0x5B, 0x5D:  // also "[1, 2, 3]" as Python prints a list
                    try endNumber()
                case 0x09:  // ends an index field of a chunk record; a tab is nothing else
                    guard digits > 0, position == 0, fields < 2 else {
                        throw CorpusError("\(source.name): line \(line): a tab that does not end a document index "
                            + "(text ids are separated by spaces; a chunk record of encode --chunk is [input<TAB>]document<TAB>ids)")
                    }
                    if fields == 0 { first = value } else { second = value }
                    fields += 1
                    value = 0
                    digits = 0
                case 0x0A:
                    try endNumber()
                    if !settled { try settle() }
                    if fields == 0 { try handle(.endDocument) }  // a chunk record's document may go on
                    line += 1
                    position = 0
                    lineHasContent = false
                    fields = 0
                    settled = false
                default:
                    var shown = String(UnicodeScalar(b))
                    if b < 0x20 || b >= 0x7F { shown = "byte 0x" + String(b, radix: 16, uppercase: true) }
                    throw CorpusError("\(source.name): line \(line): '\(shown)' is not part of a token id (expected decimal ids separated by spaces or commas)")
                }
            }
            if stream { try handle(.flush) }
        }
        try endNumber()
        if lineHasContent || fields > 0 {
            if !settled { try settle() }
            if fields == 0 { try handle(.endDocument) }
        }
        try records.finish(handle)
    }

    private func readJSONL(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        var pending: [UInt8] = []
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        var line = 0
        var key: [UInt8] = []
        var records = ChunkRecords(source: source.name)
        func parseLine(_ bytes: ArraySlice<UInt8>) throws {
            line += 1
            var text = bytes
            if text.last == 0x0D { text = text.dropLast() }
            if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            try Array(text).withUnsafeBufferPointer { b in
                var s = JSONScanner(b)
                var found = false
                // A chunk record's members, which encode writes before "ids" (the input record's own
                // members, which may have any names, come after it).
                var input: Int64?, document: Int64?, chunk: Int64?
                do {
                    try s.beginObject()
                    var first = true
                    while try s.nextKey(&key, first: &first) {
                        if !found, let index = ChunkRecords.Member(key), try s.peekKind() == .number {
                            let v = try s.readInteger()
                            guard v >= 0 else { throw s.error("\"\(index.rawValue)\" \(v) is negative") }
                            switch index {
                            case .input: input = v
                            case .doc: document = v
                            case .chunk: chunk = v
                            }
                            continue
                        }
                        guard !found && key == Array("ids".utf8) else { try s.skipValue(); continue }
                        found = true
                        if let chunk {
                            guard let document else { throw CorpusError("\(source.name): line \(line): a \"chunk\" member without \"doc\"") }
                            try records.jsonRecord(line: line, ChunkRecords.Key(input: input.map(UInt64.init), document: UInt64(document)),
                                                   chunk: chunk, handle)
                        } else {
                            try records.wholeDocument(handle)
                        }
                        try s.beginArray()
                        var firstID = true
                        var position = 0
                        while try s.nextElement(first: &firstID) {
                            let v = try s.readInteger()
                            guard v >= 0 && v <= Int64(UInt32.max) else { throw s.error("\(v) is not a token id") }
                            let l = line, p = position
                            try handle(.id(UInt32(v), describe: { "position \(p) of line \(l) of \(source.name)" }))
                            position += 1
                        }
                    }
                    guard s.atEnd() else { throw s.error("unexpected data after the JSON object") }
                } catch let error as JSONError {
                    throw CorpusError("\(source.name): line \(line): \(error)")
                }
                guard found else { throw CorpusError("\(source.name): line \(line): no \"ids\" field") }
                if chunk == nil { try handle(.endDocument) }  // a chunk record's document may go on
            }
        }
        while true {
            let n = try nextBlock(source, block)
            if n == 0 { break }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[0..<n]))
            var start = pending.startIndex
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                try parseLine(pending[start..<nl])
                start = nl + 1
            }
            pending.removeFirst(start)
            if stream { try handle(.flush) }
        }
        if !pending.isEmpty { try parseLine(pending[...]) }
        try records.finish(handle)
    }
}

/// Joins the records `encode --max-tokens N --chunk` cuts a document into back into that document (so a
/// character split between two records comes out whole), and refuses records it cannot place rather
/// than guess where a document ends. Text records carry `[input<TAB>]document<TAB>` and no chunk number:
/// consecutive records with the same index are one document, and an index lower than the one before
/// (records shuffled, or two outputs concatenated) is refused. JSONL records carry "doc" and "chunk" (and
/// "input" with several inputs): chunk 0 starts a document, and chunk k must follow chunk k - 1 of it.
struct ChunkRecords {
    /// A record's index: the input (only with several inputs) and the document within it.
    struct Key: Equatable, CustomStringConvertible {
        var input: UInt64?
        var document: UInt64

        var description: String { input.map { "document \(document) of input \($0)" } ?? "document \(document)" }

        /// Whether `self` comes before `other` in encode's order (both with or both without an input).
        func precedes(_ other: Key) -> Bool {
            guard (input == nil) == (other.input == nil) else { return false }
            return (input ?? 0, document) < (other.input ?? 0, other.document)
        }
    }

    /// The members encode writes before "ids" in a JSONL chunk record.
    enum Member: String {
        case input, doc, chunk

        init?(_ key: [UInt8]) {
            guard let member = Member(rawValue: String(decoding: key, as: UTF8.self)) else { return nil }
            self = member
        }
    }

    let source: String
    /// The document whose chunk records are being decoded; it ends when another record starts or the input ends.
    private var open: Key?
    private var nextChunk: Int64 = 0

    init(source: String) { self.source = source }

    /// A record that is a whole document (no index): ends the open one.
    mutating func wholeDocument(_ handle: (IDReader.Event) throws -> Void) throws {
        try finish(handle)
    }

    mutating func textRecord(line: Int, _ key: Key, _ handle: (IDReader.Event) throws -> Void) throws {
        if let open {
            if key == open { return }
            if key.precedes(open) {
                throw CorpusError("\(source): line \(line): a record of \(key) after one of \(open) (chunk records are in document "
                    + "order; decode the outputs of separate encode runs as separate files)")
            }
            try handle(.endDocument)
        }
        open = key
    }

    mutating func jsonRecord(line: Int, _ key: Key, chunk: Int64, _ handle: (IDReader.Event) throws -> Void) throws {
        if chunk == 0 {
            try finish(handle)
            open = key
            nextChunk = 1
            return
        }
        guard key == open, chunk == nextChunk else {
            throw CorpusError("\(source): line \(line): chunk \(chunk) of \(key) does not follow chunk \(chunk - 1) of it (records missing or out of order)")
        }
        nextChunk += 1
    }

    /// Ends the open document, if any (at the end of the input, or before a whole-document record).
    mutating func finish(_ handle: (IDReader.Event) throws -> Void) throws {
        guard open != nil else { return }
        open = nil
        try handle(.endDocument)
    }
}
