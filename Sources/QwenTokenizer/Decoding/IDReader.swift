// Parses token ids in the formats `qwenkit encode` writes, streaming: text (decimal ids separated by
// spaces, commas or brackets, so a pasted Python list works; one document per line), JSONL (an "ids"
// array per line) or u32 (little-endian, one document). The chunk records of `encode --max-tokens N
// --chunk` (text lines `[input<TAB>]document<TAB>ids`, JSONL records with "doc" and "chunk") are joined
// back into their documents; u32 has no records (encode refuses --chunk there).

import CTextKernels
import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The formats `decode` reads (encode's outputs, less the one for people).
public enum IDInputFormat: String, Sendable, CaseIterable {
    case text, jsonl, u32
}

/// A run of consecutive ids (text and JSONL: from one or more lines; u32: from the stream), valid during
/// the callback that receives it. Documents that end inside it are in `documentEnds`.
public struct IDRun {
    public let ids: UnsafeBufferPointer<UInt32>
    /// For each document that ends in the run, in order, how many of `ids` come before its end (equal
    /// values for empty documents). Whole-document lines of the text format end here, not by
    /// `Event.endDocument`, so a file of short lines costs no event per line.
    public let documentEnds: UnsafeBufferPointer<Int32>
    /// The line of the first id or document end (from 1), or 0 for a u32 stream.
    let line: Int
    /// The position of the first id within its line (or within the u32 stream).
    let firstPosition: Int64
    /// The input's name, kept alive by the reader while the run is handed on; not reference-counted
    /// (a retain and release per run was a tenth of the time on short lines).
    unowned(unsafe) let source: SourceName

    /// An input's name, for messages.
    final class SourceName {
        let name: String
        init(_ name: String) { self.name = name }
    }

    init(ids: UnsafeBufferPointer<UInt32>, documentEnds: UnsafeBufferPointer<Int32> = UnsafeBufferPointer(start: nil, count: 0),
         line: Int, firstPosition: Int64, source: SourceName) {
        self.ids = ids
        self.documentEnds = documentEnds
        self.line = line
        self.firstPosition = firstPosition
        self.source = source
    }

    /// Names `ids[k]` in an error message.
    public func describePosition(_ k: Int) -> String {
        // Each document end at or before k is a line ended before ids[k] (text and JSONL: a line per document).
        var lines = 0, lineStart = -1
        for e in documentEnds where Int(e) <= k {
            lines += 1
            lineStart = Int(e)
        }
        let position = lines == 0 ? firstPosition + Int64(k) : Int64(k - lineStart)
        let name = source.name
        return line == 0 ? "position \(position) of \(name)" : "position \(position) of line \(line + lines) of \(name)"
    }
}

/// Ids parsed but not yet handed on (at most `capacity`), and the documents that end among them.
private struct IDBatch {
    static let capacity = 4096
    static let endCapacity = 1024
    let ids = UnsafeMutablePointer<UInt32>.allocate(capacity: IDBatch.capacity)
    let ends = UnsafeMutablePointer<Int32>.allocate(capacity: IDBatch.endCapacity)
    var count = 0
    var endCount = 0
    /// The line of the first id or end, and the position of the first id in its line.
    var line = 0
    var firstPosition: Int64 = 0
    /// The position within its line of the id after the last one.
    var nextPosition: Int64 = 0
    let source: IDRun.SourceName

    init(source: IDRun.SourceName) { self.source = source }

    func deallocate() {
        ids.deallocate()
        ends.deallocate()
    }

    /// Call before adding ids or an end on `line`: an empty batch starts there.
    @inline(__always)
    mutating func begin(line: Int) {
        guard count == 0 && endCount == 0 else { return }
        self.line = line
        firstPosition = nextPosition
    }

    /// Hands the ids (and document ends) on. Every other event, and every error, is preceded by this, so
    /// events and errors come in input order (an id out of range is reported before a syntax error after it).
    @inline(__always)
    mutating func flush(_ handle: (IDReader.Event) throws -> Void) throws {
        guard count > 0 || endCount > 0 else { return }
        let run = IDRun(ids: UnsafeBufferPointer(start: ids, count: count), documentEnds: UnsafeBufferPointer(start: ends, count: endCount),
                        line: line, firstPosition: firstPosition, source: source)
        count = 0
        endCount = 0
        try handle(.ids(run))
    }

    @inline(__always)
    mutating func append(_ id: UInt32, line: Int, _ handle: (IDReader.Event) throws -> Void) throws {
        if count == IDBatch.capacity { try flush(handle) }
        begin(line: line)
        ids[count] = id
        count += 1
        nextPosition += 1
    }

    /// Counts the ids written to `ids` up to `k` (on `line`) as the batch's.
    @inline(__always)
    mutating func commit(_ k: Int, line: Int) {
        begin(line: line)
        nextPosition += Int64(k - count)
        count = k
    }

    /// The kernel's ids and line ends from `p` (`qwenkit_separated_ids` with document ends: newlines for text, record
    /// breaks for JSONL), after the `k` - `count` ids already in `ids` for `line` are counted. Counts what it took,
    /// advances `line` past the lines it ended and sets `k` to the batch's count; returns the bytes taken and the
    /// number of lines ended.
    @inline(__always)
    mutating func takeLines(_ p: UnsafePointer<UInt8>, readable: Int, separator: UInt8, jsonl: Bool, line: inout Int,
                            k: inout Int, _ handle: (IDReader.Event) throws -> Void) throws -> (taken: Int, lines: Int) {
        commit(k, line: line)
        if endCount + 32 > IDBatch.endCapacity {
            try flush(handle)
            k = 0
            begin(line: line)
        }
        let before = endCount
        var out = qwenkit_id_output(ids: ids, capacity: IDBatch.capacity, count: k, ends: ends,
                                    end_capacity: IDBatch.endCapacity, end_count: before, jsonl: jsonl ? 1 : 0)
        let taken = qwenkit_separated_ids(p, readable, separator, &out)
        let lines = out.end_count - before
        if lines > 0 {
            line += lines
            nextPosition = Int64(out.count - Int(ends[out.end_count - 1]))
        } else {
            nextPosition += Int64(out.count - k)
        }
        endCount = out.end_count
        count = out.count
        k = out.count
        return (taken, lines)
    }

    /// The document on `line` ends after the ids so far.
    @inline(__always)
    mutating func endDocument(line: Int, _ handle: (IDReader.Event) throws -> Void) throws {
        begin(line: line)
        ends[endCount] = Int32(truncatingIfNeeded: count)
        endCount += 1
        if endCount == IDBatch.endCapacity { try flush(handle) }
    }
}

public final class IDReader {
    public enum Event {
        /// Ids in input order; a document's ids may come in several runs.
        case ids(IDRun)
        case endDocument
        /// The input paused (a read returned); in stream mode the caller flushes.
        case flush
    }

    let format: IDInputFormat
    let stream: Bool
    /// A JSONL line this long and still incomplete, if it starts as encode writes it (`{"ids":[`), is
    /// decoded as it arrives instead of being read whole (tests lower it to exercise the path).
    var jsonlStreamingThreshold = 1 << 18

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

    /// Bytes after the data in a read buffer that the 8-byte loads of `DecimalDigits` may touch, zeroed.
    private static let slack = 16

    private func readU32(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let name = IDRun.SourceName(source.name)
        defer { withExtendedLifetime(name) {} }
        var carry = 0
        var position: Int64 = 0
        while true {
            let n = try nextBlock(source, UnsafeMutableRawBufferPointer(rebasing: buffer[carry...]))
            if n == 0 { break }
            let total = carry + n
            let whole = total / 4
            // The block starts at an id (the carried bytes were moved to its start): the ids are read in place.
            let ids = buffer.baseAddress!.bindMemory(to: UInt32.self, capacity: whole)
            #if !_endian(little)
            for k in 0..<whole { ids[k] = UInt32(littleEndian: ids[k]) }
            #endif
            if whole > 0 {
                try handle(.ids(IDRun(ids: UnsafeBufferPointer(start: ids, count: whole), line: 0, firstPosition: position,
                                      source: name)))
            }
            position += Int64(whole)
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
        let blockSize = 1 << 20
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize + IDReader.slack, alignment: 16)
        defer { raw.deallocate() }
        let buffer = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let name = IDRun.SourceName(source.name)
        var batch = IDBatch(source: name)
        defer { withExtendedLifetime(name) {} }
        defer { batch.deallocate() }
        var value: UInt64 = 0
        var digits = 0
        var line = 1
        var lineHasContent = false
        // A chunk record's index fields, each ended by a tab before the first id: the document, or the
        // input and the document. `settled`: the line's record has been placed (at its first id or its end).
        var fields = 0
        var first: UInt64 = 0, second: UInt64 = 0
        var settled = false
        var records = ChunkRecords(source: source.name)
        func fail(_ message: String) throws -> Never {
            try batch.flush(handle)
            throw CorpusError("\(source.name): line \(line): " + message)
        }
        func settle() throws {
            settled = true
            // A chunk record may end the open document by an event: the ids before it go first.
            if fields > 0 || !records.isIdle { try batch.flush(handle) }
            switch fields {
            case 0: try records.wholeDocument(handle)
            case 1: try records.textRecord(line: line, ChunkRecords.Key(input: nil, document: first), handle)
            default: try records.textRecord(line: line, ChunkRecords.Key(input: first, document: second), handle)
            }
        }
        func endNumber() throws {
            guard digits > 0 else { return }
            guard value <= UInt64(UInt32.max) else { try fail("\(value) is not a token id (too large)") }
            if !settled { try settle() }
            try batch.append(UInt32(value), line: line, handle)
            value = 0
            digits = 0
        }
        while true {
            let n = try nextBlock(source, UnsafeMutableRawBufferPointer(start: buffer, count: blockSize))
            if n == 0 { break }
            (buffer + n).initialize(repeating: 0, count: IDReader.slack)
            var i = 0
            while i < n {
                // The fast path: a whole id of at most 7 digits, and its terminator, inside this block
                // (the zeroed slack stops a number at the block's end, which is then left to the slow path).
                if digits == 0 {
                    if settled {
                        // Ids each followed by one space, in locals (the state the nested functions share
                        // lives in memory).
                        var k = batch.count
                        let ids = batch.ids
                        // 64 bytes at a time: the spaces' positions come first, so each id's bytes are
                        // found without waiting for the previous id's digits to be counted (that chain of
                        // load, count and add was the limit). A window ends at its last whole id.
                        windows: while true {
                            var lineEnded = false
                            if fields == 0 && records.isIdle {
                                // Whole-document lines: the kernel ends them too (a newline ends an id and a
                                // document), so a file of short lines runs through it, not a call per line.
                                let (taken, lines) = try batch.takeLines(buffer + i, readable: n + IDReader.slack - i, separator: 0x20,
                                                                         jsonl: false, line: &line, k: &k, handle)
                                i += taken
                                lineEnded = lines > 0 && buffer[i - 1] == 0x0A
                            } else {
                                i += IDReader.separatedIDs(buffer + i, readable: n + IDReader.slack - i, separator: 0x20, into: ids, at: &k)
                            }
                            while !lineEnded && k < IDBatch.capacity {
                                let word = DecimalDigits.load(buffer + i)
                                let count = DecimalDigits.leadingDigits(word)
                                guard count > 0 && count < 8 && i + count < n else { break windows }
                                let after = buffer[i + count]
                                if after == 0x20 {
                                    ids[k] = DecimalDigits.value(word, count: count)
                                    k += 1
                                    i += count + 1
                                    continue
                                }
                                // The last id of a whole-document line: the document ends here, and the next line
                                // goes on in this loop when it is one too (settling such a line does nothing), so
                                // a file of short lines is not decoded id by id in the general path below.
                                guard after == 0x0A && fields == 0 && records.isIdle else { break windows }
                                ids[k] = DecimalDigits.value(word, count: count)
                                k += 1
                                i += count + 1
                                batch.commit(k, line: line)
                                try batch.endDocument(line: line, handle)
                                line += 1
                                batch.nextPosition = 0
                                lineEnded = true
                            }
                            guard lineEnded else { break }
                            // At the start of the line after a whole-document line. Empty lines are empty documents.
                            while i < n && buffer[i] == 0x0A {
                                try batch.endDocument(line: line, handle)
                                line += 1
                                i += 1
                            }
                            k = batch.count
                            settled = false
                            lineHasContent = false
                            guard i < n else { break windows }
                            let next = DecimalDigits.leadingDigits(DecimalDigits.load(buffer + i))
                            guard next > 0 && next < 8 && i + next < n && (buffer[i + next] == 0x20 || buffer[i + next] == 0x0A) else { break windows }
                            settled = true
                            lineHasContent = true
                        }
                        batch.commit(k, line: line)
                        if k == IDBatch.capacity { try batch.flush(handle) }
                        if i >= n { break }
                    }
                    let word = DecimalDigits.load(buffer + i)
                    let count = DecimalDigits.leadingDigits(word)
                    if count > 0 && count < 8 && i + count < n {
                        value = UInt64(DecimalDigits.value(word, count: count))
                        i += count
                        digits = count
                        lineHasContent = true
                    }
                }
                let b = buffer[i]
                switch b {
                case 0x30...0x39:
                    value = value &* 10 &+ UInt64(b - 0x30)
                    digits += 1
                    lineHasContent = true
                    if digits > 12 { try fail("a number of more than 12 digits is not a token id") }
                case 0x20, 0x0D, 0x2C, 0x5B, 0x5D:  // also "[1, 2, 3]" as Python prints a list
                    try endNumber()
                case 0x09:  // ends an index field of a chunk record; a tab is nothing else
                    guard digits > 0, batch.nextPosition == 0, fields < 2 else {
                        try fail("a tab that does not end a document index "
                            + "(text ids are separated by spaces; a chunk record of encode --chunk is [input<TAB>]document<TAB>ids)")
                    }
                    if fields == 0 { first = value } else { second = value }
                    fields += 1
                    value = 0
                    digits = 0
                case 0x0A:
                    try endNumber()
                    if fields == 0 && records.isIdle {
                        // A whole-document line (settling it would do nothing): its end goes with the ids.
                        settled = true
                        try batch.endDocument(line: line, handle)
                    } else {
                        try batch.flush(handle)
                        if !settled { try settle() }
                        if fields == 0 { try handle(.endDocument) }  // a chunk record's document may go on
                    }
                    line += 1
                    batch.nextPosition = 0
                    lineHasContent = false
                    fields = 0
                    settled = false
                default:
                    var shown = String(UnicodeScalar(b))
                    if b < 0x20 || b >= 0x7F { shown = "byte 0x" + String(b, radix: 16, uppercase: true) }
                    try fail("'\(shown)' is not part of a token id (expected decimal ids separated by spaces or commas)")
                }
                i += 1
            }
            if stream {
                try batch.flush(handle)
                try handle(.flush)
            }
        }
        try endNumber()
        try batch.flush(handle)
        if lineHasContent || fields > 0 {
            if !settled { try settle() }
            if fields == 0 { try handle(.endDocument) }
        }
        try records.finish(handle)
    }

    /// Ids each followed by `separator` from `p` (the first byte of an id) on, 64 bytes at a time while a window fits
    /// in `readable` (`qwenkit_separated_ids`): appended to `ids` at `k`; returns how many bytes they took (up to the
    /// first id not taken).
    @inline(__always)
    static func separatedIDs(_ p: UnsafePointer<UInt8>, readable: Int, separator: UInt8,
                             into ids: UnsafeMutablePointer<UInt32>, at k: inout Int) -> Int {
        var out = qwenkit_id_output(ids: ids, capacity: IDBatch.capacity, count: k, ends: nil, end_capacity: 0, end_count: 0, jsonl: 0)
        let taken = qwenkit_separated_ids(p, readable, separator, &out)
        k = out.count
        return taken
    }

    /// JSONL's ids 64 bytes at a time: the ids between the commas from the comma at `p`, each with a comma after
    /// it (`separatedIDs`). Returns the offset of the comma before the first id not taken.
    @inline(__always)
    private static func commaSeparatedIDs(_ bytes: UnsafePointer<UInt8>, from p: Int, limit: Int,
                                          into ids: UnsafeMutablePointer<UInt32>, at k: inout Int) -> Int {
        guard p < limit && bytes[p] == 0x2C else { return p }
        return p + separatedIDs(bytes + p + 1, readable: limit - p - 1, separator: 0x2C, into: ids, at: &k)
    }

    /// The offset of the last '\n' in `bytes[from..<to]`, searched from the end eight bytes at a time.
    static func lastNewline(_ bytes: UnsafePointer<UInt8>, from: Int, to: Int) -> Int? {
        var end = to
        while end - from >= 8 {
            let found = DecimalDigits.positions(of: 0x0A, in: DecimalDigits.load(bytes + end - 8))
            if found != 0 { return end - 8 + 63 - found.leadingZeroBitCount }
            end -= 8
        }
        while end > from {
            end -= 1
            if bytes[end] == 0x0A { return end }
        }
        return nil
    }

    private func readJSONL(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        // Lines are parsed in place in `buffer`; an incomplete line is moved to its start before the next
        // read, and the buffer doubles when a line does not fit (a record is parsed whole). Except a long
        // line that starts as encode writes it, `{"ids":[`: its ids are decoded as they arrive and their
        // bytes dropped (`streamed` of them so far), so memory stays bounded whatever the line's length.
        var streamed = 0
        var capacity = 1 << 20
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + IDReader.slack)
        defer { buffer.deallocate() }
        var filled = 0
        var line = 0
        var key: [UInt8] = []
        var records = ChunkRecords(source: source.name)
        let name = IDRun.SourceName(source.name)
        var batch = IDBatch(source: name)
        defer { withExtendedLifetime(name) {} }
        defer { batch.deallocate() }
        let idsKey = Array("ids".utf8)
        let idsPrefix = Array("{\"ids\":[".utf8)
        /// The "ids" array, at `s.offset`; its ids are handed on before this returns.
        /// `readable`: bytes readable from the line's start (the line, the lines after it in the buffer and the slack).
        /// With `continuing`, the scanner is inside the array after an element (a streamed line's rest).
        func readIDs(_ s: inout JSONScanner, readable: Int, continuing: Bool = false) throws {
            let bytes = s.bytes.baseAddress!
            let length = s.bytes.count
            if !continuing { try s.beginArray() }
            var firstID = !continuing
            while true {
                // The fast path: `digits` or `,digits` followed by neither a digit nor a fraction or
                // exponent (the byte after the line is '\r', '\n' or the zeroed slack, never a digit).
                var p = s.offset
                var k = batch.count
                let ids = batch.ids
                // 64 bytes at a time, as in the text format: ids between commas, from the comma at `p`. The
                // window may reach past the line (short lines): an id is taken only with a comma after it,
                // and the '\n' ending the line stops that, so every id taken is inside the line.
                if !firstID { p = IDReader.commaSeparatedIDs(bytes, from: p, limit: readable, into: ids, at: &k) }
                while k < IDBatch.capacity {
                    var q = p
                    if !firstID {
                        guard q < length && bytes[q] == 0x2C else { break }
                        q += 1
                    }
                    let word = DecimalDigits.load(bytes + q)
                    let count = DecimalDigits.leadingDigits(word)
                    guard count > 0 && count < 8 else { break }
                    let after = bytes[q + count]
                    guard after != 0x2E && after != 0x65 && after != 0x45 else { break }
                    ids[k] = DecimalDigits.value(word, count: count)
                    k += 1
                    p = q + count
                    firstID = false
                }
                batch.commit(k, line: line)
                s.offset = p
                if k == IDBatch.capacity {
                    try batch.flush(handle)
                    continue
                }
                guard try s.nextElement(first: &firstID) else { break }
                let v = try s.readInteger()
                guard v >= 0 && v <= Int64(UInt32.max) else { throw s.error("\(v) is not a token id") }
                try batch.append(UInt32(v), line: line, handle)
            }
        }
        /// `continuedAfter`: bytes of the line already streamed (its ids array goes on at `start`).
        func parseLine(_ start: Int, _ end: Int, continuedAfter: Int = 0) throws {
            if continuedAfter == 0 { line += 1 }
            var length = end - start
            let bytes = buffer + start
            if length > 0 && bytes[length - 1] == 0x0D { length -= 1 }
            var blank = continuedAfter == 0
            for k in 0..<length where blank && bytes[k] != 0x20 && bytes[k] != 0x09 {
                blank = false
                break
            }
            if blank { return }
            var s = JSONScanner(UnsafeBufferPointer(start: bytes, count: length))
            var found = false
            // A chunk record's members, which encode writes before "ids" (the input record's own
            // members, which may have any names, come after it).
            var input: Int64?, document: Int64?, chunk: Int64?
            if continuedAfter == 0 { batch.nextPosition = 0 }
            do {
                var first = true
                if continuedAfter > 0 {
                    first = false
                    found = true
                    try readIDs(&s, readable: filled + IDReader.slack - start, continuing: true)
                } else if length >= 8 && memcmp(bytes, idsPrefix, 8) == 0 {
                    // What encode writes: "ids" first. The same steps as the loop below takes for it.
                    s.offset = 7
                    first = false
                    found = true
                    if !records.isIdle { try batch.flush(handle) }  // ending the open document is an event
                    try records.wholeDocument(handle)
                    try readIDs(&s, readable: filled + IDReader.slack - start)
                } else {
                    try s.beginObject()
                }
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
                    guard !found && key == idsKey else { try s.skipValue(); continue }
                    found = true
                    if !records.isIdle || chunk != nil { try batch.flush(handle) }  // events may follow
                    if let chunk {
                        guard let document else { throw CorpusError("\(source.name): line \(line): a \"chunk\" member without \"doc\"") }
                        try records.jsonRecord(line: line, ChunkRecords.Key(input: input.map(UInt64.init), document: UInt64(document)),
                                               chunk: chunk, handle)
                    } else {
                        try records.wholeDocument(handle)
                    }
                    try readIDs(&s, readable: filled + IDReader.slack - start)
                }
                guard s.atEnd() else { throw s.error("unexpected data after the JSON object") }
            } catch let error as JSONError {
                try batch.flush(handle)
                let shifted = JSONError(offset: error.offset + continuedAfter, message: error.message)
                throw CorpusError("\(source.name): line \(line): \(shifted)")
            } catch {
                try batch.flush(handle)
                throw error
            }
            guard found else {
                try batch.flush(handle)
                throw CorpusError("\(source.name): line \(line): no \"ids\" field")
            }
            // The document ends with the ids; a chunk record's document may go on (its lines are not
            // documents, so its ids are handed on with the line).
            if chunk == nil { try batch.endDocument(line: line, handle) } else { try batch.flush(handle) }
        }
        /// Ids of the form `,digits` from the comma at `p` while each has a comma after it before `end` (so
        /// none is cut off by the end of the data so far); returns where it stopped.
        func streamIDs(from p: Int, end: Int) throws -> Int {
            var p = p
            while true {
                var k = batch.count
                let ids = batch.ids
                p = IDReader.commaSeparatedIDs(buffer, from: p, limit: end, into: ids, at: &k)
                while k < IDBatch.capacity && p < end && buffer[p] == 0x2C {
                    let word = DecimalDigits.load(buffer + p + 1)
                    let count = DecimalDigits.leadingDigits(word)
                    guard count > 0 && count < 8 && p + 1 + count < end && buffer[p + 1 + count] == 0x2C else { break }
                    ids[k] = DecimalDigits.value(word, count: count)
                    k += 1
                    p += 1 + count
                }
                batch.commit(k, line: line)
                if k < IDBatch.capacity { return p }
                try batch.flush(handle)
            }
        }
        /// Decodes what has arrived of the long incomplete line at `start`; returns where its undecoded rest
        /// starts (`start` when the line is not one to stream).
        func streamLine(_ start: Int) throws -> Int {
            var p = start
            if streamed == 0 {
                // The first id, right after `{"ids":[`, must be whole digits followed by a comma.
                guard memcmp(buffer + start, idsPrefix, 8) == 0 else { return start }
                let word = DecimalDigits.load(buffer + start + 8)
                let count = DecimalDigits.leadingDigits(word)
                guard count > 0 && count < 8 && start + 8 + count < filled && buffer[start + 8 + count] == 0x2C else { return start }
                line += 1
                batch.nextPosition = 0
                if !records.isIdle { try batch.flush(handle) }  // ending the open document is an event
                try records.wholeDocument(handle)
                try batch.append(DecimalDigits.value(word, count: count), line: line, handle)
                p = start + 8 + count
            }
            p = try streamIDs(from: p, end: filled)
            streamed += p - start
            return p
        }
        /// The complete lines in `[start, limit)` (`limit` is just after a newline). Lines as encode writes them,
        /// `{"ids":[` ids `]}`, are decoded in one loop without finding each line's end first; a line that
        /// starts so but goes on otherwise is finished by `parseLine` from where the loop stopped, and any
        /// other line goes to `parseLine` whole. Returns `limit`.
        func completeLines(_ start: Int, _ limit: Int) throws -> Int {
            var p = start
            let prefix = DecimalDigits.load(idsPrefix)
            while p < limit {
                fast: do {
                    guard records.isIdle && DecimalDigits.load(buffer + p) == prefix else { break fast }
                    if buffer[p + 8] == 0x5D && buffer[p + 9] == 0x7D && buffer[p + 10] == 0x0A {
                        // {"ids":[]}: an empty document.
                        line += 1
                        batch.nextPosition = 0
                        try batch.endDocument(line: line, handle)
                        p += 11
                        continue
                    }
                    // The first id: whole digits followed by ',' or ']' (else the line is left to the general path).
                    var pos = p + 8
                    let word = DecimalDigits.load(buffer + pos)
                    let count = DecimalDigits.leadingDigits(word)
                    guard count > 0 && count < 8 && (buffer[pos + count] == 0x2C || buffer[pos + count] == 0x5D) else { break fast }
                    line += 1
                    batch.nextPosition = 0
                    if batch.count == IDBatch.capacity { try batch.flush(handle) }
                    var k = batch.count
                    let ids = batch.ids
                    ids[k] = DecimalDigits.value(word, count: count)
                    k += 1
                    pos += count
                    while true {
                        if buffer[pos] == 0x2C {
                            // The kernel, which also goes on across record breaks (]}\n{"ids":[) into the next lines,
                            // ending their documents, while they are as encode writes them; its windows stay before
                            // `limit`, in the complete lines.
                            let (taken, lines) = try batch.takeLines(buffer + pos + 1, readable: limit - pos - 1, separator: 0x2C,
                                                                     jsonl: true, line: &line, k: &k, handle)
                            pos += taken
                            if lines > 0 { p = IDReader.lastNewline(buffer, from: p, to: pos)! + 1 }  // the line it stopped in
                        }
                        // Id by id, after a comma.
                        while k < IDBatch.capacity && buffer[pos] == 0x2C {
                            let word = DecimalDigits.load(buffer + pos + 1)
                            let count = DecimalDigits.leadingDigits(word)
                            guard count > 0 && count < 8 else { break }
                            let after = buffer[pos + 1 + count]
                            guard after == 0x2C || after == 0x5D else { break }
                            ids[k] = DecimalDigits.value(word, count: count)
                            k += 1
                            pos += 1 + count
                        }
                        batch.commit(k, line: line)
                        guard k == IDBatch.capacity else { break }
                        try batch.flush(handle)
                        k = 0
                    }
                    if pos == p + 7 {
                        // The kernel stopped at the '[' of a line it went on to: that line again from its start, by
                        // the loop (which counts it again), like any other line.
                        line -= 1
                    } else if buffer[pos] == 0x5D && buffer[pos + 1] == 0x7D && buffer[pos + 2] == 0x0A {
                        try batch.endDocument(line: line, handle)
                        p = pos + 3
                    } else {
                        // The rest of the line, from inside the ids array.
                        let nl = buffer.distance(to: memchr(buffer + pos, 0x0A, limit - pos)!.assumingMemoryBound(to: UInt8.self))
                        try parseLine(pos, nl, continuedAfter: pos - p)
                        p = nl + 1
                    }
                    continue
                }
                let nl = buffer.distance(to: memchr(buffer + p, 0x0A, limit - p)!.assumingMemoryBound(to: UInt8.self))
                try parseLine(p, nl)
                p = nl + 1
            }
            return p
        }
        var scanned = 0  // bytes of `buffer` known to hold no newline
        while true {
            if capacity - filled < capacity / 4 {
                capacity *= 2
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + IDReader.slack)
                grown.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = grown
            }
            let n = try nextBlock(source, UnsafeMutableRawBufferPointer(start: buffer + filled, count: capacity - filled))
            if n == 0 { break }
            filled += n
            (buffer + filled).initialize(repeating: 0, count: IDReader.slack)
            var start = 0
            if streamed > 0, scanned < filled, let found = memchr(buffer + scanned, 0x0A, filled - scanned) {
                // The rest of a streamed line.
                let nl = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                try parseLine(start, nl, continuedAfter: streamed)
                streamed = 0
                start = nl + 1
                scanned = start
            }
            if streamed == 0, scanned < filled, let last = IDReader.lastNewline(buffer, from: scanned, to: filled) {
                start = try completeLines(start, last + 1)
                scanned = start
            }
            scanned = filled
            if filled - start >= jsonlStreamingThreshold && filled - start >= 8 {
                start = try streamLine(start)
            }
            if start > 0 {
                filled -= start
                scanned -= start
                if filled > 0 { buffer.update(from: buffer + start, count: filled) }
            }
            if stream {
                try batch.flush(handle)
                try handle(.flush)
            }
        }
        if filled > 0 || streamed > 0 {
            (buffer + filled).initialize(repeating: 0, count: IDReader.slack)
            try parseLine(0, filled, continuedAfter: streamed)
        }
        try batch.flush(handle)
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

        /// Compares bytes: a String made per record was a large part of decoding short JSONL records.
        init?(_ key: [UInt8]) {
            switch key.count {
            case 3 where key[0] == 0x64 && key[1] == 0x6F && key[2] == 0x63: self = .doc
            case 5 where key.elementsEqual("input".utf8): self = .input
            case 5 where key.elementsEqual("chunk".utf8): self = .chunk
            default: return nil
            }
        }
    }

    let source: String
    /// The document whose chunk records are being decoded; it ends when another record starts or the input ends.
    private var open: Key?
    /// No document is open: a whole-document record changes nothing.
    var isIdle: Bool { open == nil }
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
