// Ids back to text, for `qwenkit decode`. The bytes of each document are emitted as they arrive,
// except for a trailing incomplete UTF-8 sequence, which waits for the next ids: a character split
// across tokens is never split in the output, and invalid sequences become U+FFFD exactly as HF's
// decoder (String::from_utf8_lossy) renders them. Memory stays bounded for documents of any length.
//
// Performance notes (decode must write >= 500 MB/s of text per thread; measured with
// Fixtures/bench/bench_decode.py):
// - Ids come in runs (`IDRun`), not one call per id: the per-id work is one table load, a bounds and
//   flags test and a copy, with no allocation, retain or closure (the first version built a closure
//   per id to describe its position for an error message; that, and `Array.append(contentsOf:)` per
//   id, was most of the time).
// - `DecodingTable` keeps each token of up to 14 bytes (nearly all) inline in a 16-byte slot with its
//   length and flags: one cache line per id, copied with one 16-byte load and store (the output buffer
//   keeps 16 bytes of slack for it). Tables of offsets and bytes cost two dependent cache misses per
//   rare token, which was most of the copy loop's time; longer tokens still take that path.
// - UTF-8 is checked once per byte of output, in runs, not per token. A token that is well-formed UTF-8
//   by itself is flagged in the table; a run made only of such tokens (most English and code, and CJK
//   text whose characters are whole tokens) is well-formed and skips the check. Otherwise the run up to
//   its last complete character is validated with `UTF8Validation` and, only if invalid, rewritten with
//   U+FFFD. The validated text is written to the sink in blocks of ~1 MiB, which bypass its buffer.
// - Finished documents (and the newline after each) stay in the buffer until it fills or `emit` is
//   called, so a file of short lines costs no sink call per line. With newlines between documents, a run's
//   documents go through one copy loop and are checked together with their newlines (no UTF-8 sequence
//   spans a newline, so the replacements are those of checking each document alone).
// - The copy loop itself is C (`qwenkit_copy_tokens`, Sources/CTextKernels): in Swift its pointers and
//   counters lived on the stack, a dozen loads and stores per id around the copy.

import CTextKernels
import QwenKitIO

/// Each id's bytes in one padded buffer and one packed entry per id, as the decoder's inner loop reads them.
struct DecodingTable {
    /// Bit layout of an entry: offset into `bytes` (bits 0-31), length (bits 32-55), flags (56-63).
    static let lengthShift: UInt64 = 32
    static let lengthMask: UInt64 = 0xFF_FFFF
    /// The id needs the slow path: it has no token, is skipped (a special token under --skip-special),
    /// or its length does not fit the entry.
    static let slowFlag: UInt64 = 1 << 56
    /// The token is well-formed UTF-8 by itself (so a run of such tokens is too).
    static let wellFormedFlag: UInt64 = 1 << 57
    /// Bytes readable after the last token's bytes, for the 16-byte copies.
    static let padding = 16

    /// The token's bytes inline when it has at most 14: 16 bytes per id, bytes 0-13 the token's bytes, 14 its
    /// length, 15 the flags (the same bits as `entries`, shifted down by 56). One cache line per id.
    static let inlineMax = 14
    /// The token is longer than `inlineMax`: its bytes are at `entries[id]`'s offset.
    static let longFlag: UInt64 = 1 << 58
    let inline: UnsafeMutableRawPointer
    let entries: UnsafeMutablePointer<UInt64>
    let count: Int
    let bytes: UnsafeMutablePointer<UInt8>
    /// The longest token the fast path copies.
    let maxLength: Int

    init(tokenizer: Tokenizer, skipSpecial: Bool) {
        let tokens = tokenizer.model.tokens
        let count = tokens.count
        let entries = UnsafeMutablePointer<UInt64>.allocate(capacity: max(count, 1))
        let total = tokens.bytes.count
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: total + DecodingTable.padding)
        bytes.initialize(repeating: 0, count: total + DecodingTable.padding)
        if total > 0 { tokens.bytes.withUnsafeBufferPointer { bytes.update(from: $0.baseAddress!, count: total) } }
        let inline = UnsafeMutableRawPointer.allocate(byteCount: 16 * max(count, 1), alignment: 64)
        inline.initializeMemory(as: UInt8.self, repeating: 0, count: 16 * max(count, 1))
        var longest = 0
        for id in 0..<count {
            let start = Int(tokens.offsets[id]), end = Int(tokens.offsets[id + 1])
            let length = end - start
            var entry = UInt64(start) | UInt64(min(length, Int(DecodingTable.lengthMask))) << DecodingTable.lengthShift
            let usable = tokenizer.hasToken(UInt32(id)) && !(skipSpecial && tokenizer.isSpecial[id])
                && UInt64(length) < DecodingTable.lengthMask
            if usable {
                longest = max(longest, length)
                if UTF8Validation.isValid(UnsafeRawBufferPointer(start: bytes + start, count: length)) {
                    entry |= DecodingTable.wellFormedFlag
                }
            } else {
                entry |= DecodingTable.slowFlag
            }
            entries[id] = entry
            let slot = inline + 16 * id
            if length <= DecodingTable.inlineMax {
                slot.copyMemory(from: bytes + start, byteCount: length)
            } else {
                entry |= DecodingTable.longFlag
            }
            slot.storeBytes(of: UInt8(truncatingIfNeeded: min(length, DecodingTable.inlineMax + 1)), toByteOffset: 14, as: UInt8.self)
            slot.storeBytes(of: UInt8(truncatingIfNeeded: entry >> 56), toByteOffset: 15, as: UInt8.self)
        }
        self.count = count
        self.inline = inline
        self.entries = entries
        self.bytes = bytes
        self.maxLength = longest
    }

    /// The same table for the C copy loop.
    var cTable: qwenkit_token_table {
        qwenkit_token_table(slots: UnsafeRawPointer(inline).assumingMemoryBound(to: UInt8.self), entries: entries, bytes: bytes,
                            count: UInt32(truncatingIfNeeded: count), slow: UInt8(truncatingIfNeeded: DecodingTable.slowFlag >> 56),
                            long_token: UInt8(truncatingIfNeeded: DecodingTable.longFlag >> 56))
    }

    func deallocate() {
        inline.deallocate()
        entries.deallocate()
        bytes.deallocate()
    }
}

public final class TextDecoder {
    let tokenizer: Tokenizer
    let sink: ByteSink
    let skipSpecial: Bool
    private let table: DecodingTable
    /// `table` as the C copy loop takes it.
    private let cTable: qwenkit_token_table

    /// Output bytes: `[0, checked)` is final text (well-formed, U+FFFD substituted); `[checked, count)`
    /// are token bytes not yet checked. `capacity` leaves `DecodingTable.padding` bytes of slack after it.
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var checked = 0
    /// Every token in `[checked, count)` is well-formed UTF-8 by itself.
    private var uncheckedWellFormed = true
    private var lossy: [UInt8] = []
    /// Ids copied without a capacity check: below `blockSize`, the buffer has room for this many of the longest.
    private let idsPerBatch: Int
    /// When `count` reaches this, the text is written to the sink.
    private static let blockSize = 1 << 20

    public init(tokenizer: Tokenizer, sink: ByteSink, skipSpecial: Bool) {
        self.tokenizer = tokenizer
        self.sink = sink
        self.skipSpecial = skipSpecial
        self.table = DecodingTable(tokenizer: tokenizer, skipSpecial: skipSpecial)
        self.cTable = table.cTable
        // Room for a block plus a full batch of the longest tokens (see `append(_: IDRun)`).
        self.capacity = 2 * TextDecoder.blockSize + 64 * table.maxLength
        self.buffer = .allocate(capacity: capacity + DecodingTable.padding)
        self.idsPerBatch = (capacity - TextDecoder.blockSize - TextDecoder.newlinesPerBatch) / max(table.maxLength, 1)
    }

    deinit {
        buffer.deallocate()
        table.deallocate()
    }

    /// Decodes one id; `describePosition` names it in an error.
    public func append(_ id: UInt32, describePosition: () -> String) throws {
        var one = id
        try withUnsafeMutablePointer(to: &one) { p in
            try appendIDs(UnsafeBufferPointer(start: p, count: 1)) { _ in describePosition() }
        }
    }

    /// Decodes ids of the current document read some other way (a dataset file); `describePosition(k)` names `ids[k]`
    /// in an error.
    public func append(_ ids: UnsafeBufferPointer<UInt32>, describePosition: (Int) -> String) throws {
        try appendIDs(ids, describePosition)
    }

    /// Decodes a run of ids from `IDReader`, ending the documents that end in it (`endDocument(newline:)`).
    public func append(_ run: IDRun, newline: Bool) throws {
        if newline {
            // One loop for the whole run, a newline written where each document ends. The newlines go in unchecked:
            // no UTF-8 sequence spans one, so checking documents and newlines together later (at the next drain or
            // emit) replaces exactly what checking each document as final would (a sequence cut off at a document's
            // end is cut off by the newline). A call and a check per document were a fifth of the time on short lines.
            try appendIDs(run.ids, newlinesBefore: run.documentEnds) { run.describePosition($0) }
            return
        }
        var from = 0
        for end in run.documentEnds {
            let e = Int(end)
            if e > from { try appendIDs(UnsafeBufferPointer(rebasing: run.ids[from..<e])) { [from] in run.describePosition(from + $0) } }
            try endDocument(newline: false)
            from = e
        }
        if from < run.ids.count {
            try appendIDs(UnsafeBufferPointer(rebasing: run.ids[from...])) { [from] in run.describePosition(from + $0) }
        }
    }

    /// Newlines the copy loop writes before a batch ends (they are not in `idsPerBatch`'s room).
    private static let newlinesPerBatch = 4096

    /// The hot loop: ids are copied in batches sized so that the batch cannot overflow the buffer (the copy itself is
    /// `qwenkit_copy_tokens`, C). With `newlinesBefore` (ascending indexes into `ids`, at most `ids.count`), a newline
    /// is written before each id it names (and after the last id for `ids.count`).
    private func appendIDs(_ ids: UnsafeBufferPointer<UInt32>, newlinesBefore ends: UnsafeBufferPointer<Int32> = .init(start: nil, count: 0),
                           _ describe: (Int) -> String) throws {
        precondition(ends.isEmpty || Int(ends[ends.count - 1]) <= ids.count, "a newline past the ids")
        let idBase = ids.baseAddress ?? UnsafePointer(bitPattern: 8)!  // read only when ids.count > 0
        let endBase = ends.baseAddress ?? UnsafePointer(bitPattern: 8)!
        var k = 0, e = 0
        try withUnsafePointer(to: cTable) { table in
            while k < ids.count || e < ends.count {
                if count >= TextDecoder.blockSize { try drain() }
                let endsStop = min(ends.count, e + TextDecoder.newlinesPerBatch)
                // Not past a newline this batch has no room for.
                let end = min(ids.count, k + idsPerBatch, endsStop < ends.count ? Int(ends[endsStop]) : Int.max)
                var written = count
                var flags = UInt8(truncatingIfNeeded: DecodingTable.wellFormedFlag >> 56)
                qwenkit_copy_tokens(idBase, &k, end, endBase, &e, endsStop, table, buffer, &written, &flags)
                count = written
                if flags & UInt8(truncatingIfNeeded: DecodingTable.wellFormedFlag >> 56) == 0 { uncheckedWellFormed = false }
                if k < end {
                    // An id the table marks slow: copies nothing, or a token not classified (and may grow the buffer).
                    try appendSlow(idBase[k]) { describe(k) }
                    k += 1
                }
            }
        }
    }

    /// An id the table marks slow: an error if it has no token, nothing if skipped, else its bytes.
    private func appendSlow(_ id: UInt32, describePosition: () -> String) throws {
        guard tokenizer.hasToken(id) else {
            throw CorpusError("id \(id) at \(describePosition()) is out of range (the vocabulary has ids 0...\(tokenizer.vocabularySize - 1))")
        }
        if skipSpecial && tokenizer.isSpecial[Int(id)] { return }
        let bytes = tokenizer.bytes(of: id)
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        (buffer + count).update(from: bytes.baseAddress!, count: bytes.count)
        count += bytes.count
        uncheckedWellFormed = false
    }

    /// Makes room for `extra` more bytes after `count`.
    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let newCapacity = max(2 * capacity, count + extra)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity + DecodingTable.padding)
        grown.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = grown
        capacity = newCapacity
    }

    /// Checks the unchecked bytes: all of them if `final` (end of a document), else all but an
    /// incomplete trailing sequence, which stays unchecked.
    private func check(final: Bool) {
        guard count > checked else { return }
        if uncheckedWellFormed {
            checked = count
            return
        }
        let unchecked = UnsafeRawBufferPointer(start: buffer + checked, count: count - checked)
        let keep = final ? 0 : UTF8Validation.incompleteSuffixLength(unchecked)
        let cut = unchecked.count - keep
        let head = UnsafeRawBufferPointer(rebasing: unchecked[0..<cut])
        if UTF8Validation.firstInvalidOffset(head) == nil {
            checked += cut
        } else {
            lossy.removeAll(keepingCapacity: true)
            UTF8Validation.replacingInvalid(head, into: &lossy)
            var tail: (UInt8, UInt8, UInt8) = (0, 0, 0)
            withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: unchecked[cut...])) }
            count = checked
            reserve(lossy.count + keep)
            lossy.withUnsafeBufferPointer { (buffer + checked).update(from: $0.baseAddress!, count: $0.count) }
            checked += lossy.count
            withUnsafeBytes(of: &tail) { (buffer + checked).update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: keep) }
            count = checked + keep
        }
        // What is left unchecked is a held-back prefix of a character, not a well-formed token.
        uncheckedWellFormed = count == checked
    }

    /// Writes the final text to the sink and keeps only the unchecked bytes.
    private func drain() throws {
        check(final: false)
        try sink.write(UnsafeRawBufferPointer(start: buffer, count: checked))
        let keep = count - checked
        if keep > 0 { buffer.update(from: buffer + checked, count: keep) }
        count = keep
        checked = 0
    }

    /// Ends a document: its text is final, followed by a newline if `newline`. It is written to the sink
    /// when the buffer fills, or at the next `emit`.
    public func endDocument(newline: Bool) throws {
        check(final: true)
        if newline {
            reserve(1)
            buffer[count] = 0x0A
            count += 1
            checked = count
        }
        if count >= TextDecoder.blockSize { try drain() }
    }

    /// Writes what can be written: everything if `final` (end of a document), else all but an
    /// incomplete trailing sequence.
    public func emit(final: Bool) throws {
        check(final: final)
        try drain()
    }
}
