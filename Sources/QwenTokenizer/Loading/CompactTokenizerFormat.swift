// A compact binary form of a built tokenizer, so that loading reads no JSON, resolves no merges and builds no hash
// table. The default Qwen2 tokenizer is embedded in the binary in this form (Sources/CQwenKitData), uncompressed, and
// used where it lies: its tables are views of the binary's read-only data, paged in only where an input touches them
// (start-up 40 -> 15 ms: decompressing 7 MB took 15 and copying it into arrays and deriving the filter, the byte pairs
// and the whole-piece entries 18). `qwenkit tokenizer compile` writes it for any tokenizer, and a test checks the
// embedded copy against the source files.
//
// Layout (little-endian), version 6: a header that names the format and vouches for the rest, then the contents. The
// hash tables are stored as built, so the hash functions in MergeTable and TokenTable are part of the format: changing
// either means a new version. Every table of 32- or 64-bit values starts at a multiple of 8 bytes from the start of
// the contents (zero bytes pad to it, "pad" below), so that it can be used in place. (Version 3 was a layout withdrawn
// in November 2026; 4 skips it so that no file of it is taken for this one. Version 5 added the character tables,
// which every process with CJK input otherwise built from the vocabulary: 7-10 ms. Version 6 aligned the tables and
// added the filter, the byte pairs and the whole-piece entries, which every process derived.)
//   header    "QTOK"  u32 version  u64 contentLength  u64 XXH64(contents, seed 0)
//   contents  u32 flags (bit 0: NFC)  u32 patternLength  pattern bytes
//             u32 idCount  u32 modelTokenCount  pad  u32 offsets[idCount + 1]  token bytes[offsets[idCount]]
//             u8 pure[idCount] (1: the token's text was all byte-level characters)
//             pad  u32 byteTokens[256]
//             u32 mergeSlotWords  u32 mergeCount  pad  u64 mergeSlots[mergeSlotWords]  u64 bloom[32768]
//                                                      (MergeTable.slots and .bloom)
//             u64 bytePairs[65536]                     (BPEModel.bytePairs)
//             u32 wholeEntryCount  pad  u64 wholeEntries[wholeEntryCount]   (BPEModel.wholePieces.entries)
//             u32 addedCount  (u32 id, u8 flags (special, lstrip, rstrip, normalized), u32 length, bytes)[addedCount]
//             u32 startCount  pad  u32 codePoints[startCount]  pad  u64 entries[startCount]   (CharacterStarts.stored)
//             u32 pairCount  pad  u64 pairs[pairCount]  u64 risky[1024]  u64 startsAfter[4160]
//             u32 characterTokenCount  pad  u64 (code point << 32 | id)[characterTokenCount]   (CharacterSplits.stored)
// The header's fields are each checked exactly, and the checksum before anything in the contents is read, so a
// damaged file (a flipped bit, a truncated copy, bytes appended) is refused as such wherever the damage is; then every
// table is checked against the others (the derived ones rebuilt and compared), so a file written by a faulty build is
// refused too. Only the embedded tokenizer, which a test compares with its source files, is trusted without them.

import QwenKitIO

enum CompactTokenizerFormat {
    static let magic: [UInt8] = Array("QTOK".utf8)
    static let version: UInt32 = 6
    /// Magic, version, content length, checksum.
    static let headerSize = 4 + 4 + 8 + 8
    /// Tables start at multiples of this from the start of the contents.
    static let alignment = 8

    static func encode(_ tokenizer: Tokenizer) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u32(_ v: Int) { u32(UInt32(v)) }
        func pad() { while out.count % alignment != 0 { out.append(0) } }
        func values<C: Collection>(_ a: C) where C.Element: FixedWidthInteger {
            pad()
            for v in a { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        }
        u32(tokenizer.normalizesNFC ? 1 : 0)
        let pattern = Array(tokenizer.pattern.utf8)
        u32(pattern.count)
        out.append(contentsOf: pattern)
        let model = tokenizer.model
        let tokens = model.tokens
        u32(tokens.count)
        u32(model.modelTokenCount)
        values(tokens.offsets)
        out.append(contentsOf: tokens.bytes)
        for id in 0..<tokens.count { out.append(id < model.byteLevelPure.count && model.byteLevelPure[id] ? 1 : 0) }
        values(model.byteTokens)
        u32(model.merges.slots.count)
        u32(model.merges.count)
        values(model.merges.slots)
        values(model.merges.bloom)
        values(model.bytePairs)
        u32(model.wholePieces.entries.count)
        values(model.wholePieces.entries)
        u32(tokenizer.addedTokens.count)
        for t in tokenizer.addedTokens {
            u32(t.id)
            out.append((t.special ? 1 : 0) | (t.lstrip ? 2 : 0) | (t.rstrip ? 4 : 0) | (t.normalized ? 8 : 0))
            u32(t.content.count)
            out.append(contentsOf: t.content)
        }
        // A model without the tables (none that can be compiled today) stores tables that start every character as
        // bytes and make no cut: every character risky.
        let tables = model.characterTables ?? CharacterTables(startCodePoints: [], starts: [],
            splits: .init(pairs: [], risky: .init(repeating: ~0, count: CharacterSplits.riskyWords),
                          startsAfter: .init(repeating: 0, count: CharacterSplits.startsAfterWords), characterTokens: []))
        u32(tables.startCodePoints.count)
        values(tables.startCodePoints)
        values(tables.starts)
        u32(tables.splits.pairs.count)
        values(tables.splits.pairs)
        values(tables.splits.risky)
        values(tables.splits.startsAfter)
        u32(tables.splits.characterTokens.count)
        values(tables.splits.characterTokens)
        var file = magic
        file.reserveCapacity(headerSize + out.count)
        withUnsafeBytes(of: version.littleEndian) { file.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(out.count).littleEndian) { file.append(contentsOf: $0) }
        withUnsafeBytes(of: out.withUnsafeBytes { XXH64.hash($0) }.littleEndian) { file.append(contentsOf: $0) }
        return file + out
    }

    /// Decodes a compiled tokenizer. `trusted` (the embedded tokenizer only, which lives as long as the program): its
    /// tables are used where they lie, without the checksum or the checks of one table against another. Otherwise the
    /// bytes are copied into one buffer of the tokenizer's own, and everything is checked.
    static func decode(_ data: UnsafeRawBufferPointer, name: String, trusted: Bool = false) throws(TokenizerError) -> Tokenizer {
        func refuse(_ reason: String) -> TokenizerError { .unreadable(path: name, reason: reason) }
        func field<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            T(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard data.count >= magic.count, data.prefix(magic.count).elementsEqual(magic) else {
            throw refuse("not a compiled tokenizer (bad magic)")
        }
        guard data.count >= headerSize else {
            throw refuse("truncated compiled tokenizer (\(data.count) bytes, less than its \(headerSize)-byte header)")
        }
        let v = field(4, UInt32.self)
        guard v == version else {
            throw refuse("compiled tokenizer version \(v) is not supported (this qwenkit reads version \(version)); compile it again with `qwenkit tokenizer compile`")
        }
        let declared = field(8, UInt64.self)
        let contents = UnsafeRawBufferPointer(rebasing: data[headerSize...])
        let actual = UInt64(contents.count)
        guard declared <= actual else {
            throw refuse("truncated compiled tokenizer (\(actual) bytes of contents, the header says \(declared))")
        }
        guard declared == actual else {
            throw refuse("corrupt compiled tokenizer (\(actual - declared) byte\(actual - declared == 1 ? "" : "s") after the \(declared) bytes of contents the header declares)")
        }
        let inPlace = trusted && Int(bitPattern: contents.baseAddress) % alignment == 0
        if !trusted {
            guard XXH64.hash(contents) == field(16, UInt64.self) else { throw refuse("corrupt compiled tokenizer (checksum mismatch)") }
        }
        do {
            if inPlace { return try decodeContents(SectionReader(contents, owner: nil, name: name), trusted: true) }
            let storage = TableStorage(bytes: contents.count)
            if let base = contents.baseAddress { storage.pointer.copyMemory(from: base, byteCount: contents.count) }
            let copy = UnsafeRawBufferPointer(start: storage.pointer, count: contents.count)
            return try decodeContents(SectionReader(copy, owner: storage, name: name), trusted: trusted)
        } catch {
            // The checksum held, so the file is as it was written: a tokenizer this build cannot use.
            if case .invalidTokenizer(let why) = error { throw refuse(why) }
            throw error
        }
    }

    /// Reads the contents that follow the header (their checksum already checked, or trusted), every length still
    /// bounded: a file written by a faulty build is refused, not trusted.
    private static func decodeContents(_ source: SectionReader, trusted: Bool) throws(TokenizerError) -> Tokenizer {
        var r = source
        let flags = try r.u32()
        let patternLength = Int(try r.u32())
        guard patternLength <= 1 << 16 else { throw r.corrupt("pattern length \(patternLength)") }
        let pattern = String(decoding: try r.bytes(patternLength), as: UTF8.self)
        let idCount = Int(try r.u32())
        let modelTokenCount = Int(try r.u32())
        guard idCount <= 1 << 24, modelTokenCount <= idCount else { throw r.corrupt("id count \(idCount)") }
        let offsets: StoredTable<UInt32> = try r.table(idCount + 1)
        if !trusted {
            for i in 0..<idCount where offsets[i] > offsets[i + 1] { throw r.corrupt("token offsets decrease at id \(i)") }
            guard offsets[0] == 0 else { throw r.corrupt("first token offset") }
        }
        let bytes: StoredTable<UInt8> = try r.table(Int(offsets[idCount]), aligned: false)
        let pure = try r.bytes(idCount).map { $0 != 0 }
        let byteTokens: [UInt32] = Array(try r.table(256) as StoredTable<UInt32>)
        guard byteTokens.allSatisfy({ Int($0) < idCount }) else { throw r.corrupt("byte tokens") }
        let mergeSlotWords = Int(try r.u32()), mergeCount = Int(try r.u32())
        let mergeSlots: StoredTable<UInt64> = try r.table(mergeSlotWords)
        let bloom: StoredTable<UInt64> = try r.table(MergeTable.bloomWords)
        guard let merges = MergeTable(slots: mergeSlots, count: mergeCount, bloom: bloom, idCount: idCount, trusted: trusted) else { throw r.corrupt("merge table") }
        let bytePairs: StoredTable<UInt64> = try r.table(65536)
        if !trusted && !bytePairs.elementsEqual(BPEModel.makeBytePairs(merges, byteTokens)) { throw r.corrupt("byte pairs") }
        let wholeEntries: StoredTable<UInt64> = try r.table(Int(try r.u32()))
        let tokens = TokenTable(bytes: bytes, offsets: offsets)
        guard let whole = TokenTable(bytes: bytes, offsets: offsets, entries: wholeEntries, trusted: trusted) else { throw r.corrupt("token table") }
        let addedCount = Int(try r.u32())
        guard addedCount <= idCount else { throw r.corrupt("added token count") }
        var added: [AddedToken] = []
        for _ in 0..<addedCount {
            let id = try r.u32()
            let f = try r.bytes(1)[0]
            let length = Int(try r.u32())
            guard length <= 1 << 16 else { throw r.corrupt("added token length \(length)") }
            let content = try r.bytes(length)
            guard Int(id) < idCount else { throw r.corrupt("added token id \(id)") }
            added.append(AddedToken(id: id, content: content, special: f & 1 != 0, lstrip: f & 2 != 0, rstrip: f & 4 != 0, normalized: f & 8 != 0))
        }
        let tables = try readCharacterTables(&r, idCount: idCount)
        guard r.offset == r.data.count else { throw r.corrupt("\(r.data.count - r.offset) bytes left after the character tables") }
        let model = BPEModel(tokens: tokens, wholePieces: whole, merges: merges, byteTokens: byteTokens, bytePairs: bytePairs,
                             modelTokenCount: modelTokenCount, byteLevelPure: pure, characterTables: tables)
        return try Tokenizer(model: model, addedTokens: added, normalizesNFC: flags & 1 != 0, pattern: pattern)
    }

    fileprivate static func readCharacterTables(_ r: inout SectionReader, idCount: Int) throws(TokenizerError) -> CharacterTables {
        let startCount = Int(try r.u32())
        guard startCount <= 0x10000 else { throw r.corrupt("character start count \(startCount)") }
        let codePoints = Array(try r.table(startCount) as StoredTable<UInt32>)
        let starts = Array(try r.table(startCount) as StoredTable<UInt64>)
        for (cp, e) in zip(codePoints, starts) where cp >= 0x10000 || e == CharacterStarts.none || Int(CharacterStarts.token(e)) >= idCount {
            throw r.corrupt("character start of U+\(String(cp, radix: 16, uppercase: true))")
        }
        let pairs = Array(try r.table(Int(try r.u32())) as StoredTable<UInt64>)
        let risky = Array(try r.table(CharacterSplits.riskyWords) as StoredTable<UInt64>)
        let startsAfter = Array(try r.table(CharacterSplits.startsAfterWords) as StoredTable<UInt64>)
        let tokenCount = Int(try r.u32())
        guard tokenCount <= 0x10000 else { throw r.corrupt("character token count \(tokenCount)") }
        let tokens = Array(try r.table(tokenCount) as StoredTable<UInt64>)
        for e in tokens where e >> 32 >= 0x10000 || Int(UInt32(truncatingIfNeeded: e)) >= idCount {
            throw r.corrupt("character token of U+\(String(e >> 32, radix: 16, uppercase: true))")
        }
        return CharacterTables(startCodePoints: codePoints, starts: starts,
                               splits: .init(pairs: pairs, risky: risky, startsAfter: startsAfter, characterTokens: tokens))
    }
}

/// Reads little-endian values from the contents of a compiled tokenizer in memory. Every read is checked against
/// the contents' end, so a corrupt length can neither overrun nor make us allocate without bound.
struct SectionReader {
    let data: UnsafeRawBufferPointer
    /// What keeps `data` alive (nil: the embedded tokenizer's, which lives as long as the program).
    let owner: AnyObject?
    let name: String
    var offset = 0

    init(_ data: UnsafeRawBufferPointer, owner: AnyObject?, name: String) {
        self.data = data
        self.owner = owner
        self.name = name
    }

    func corrupt(_ what: String) -> TokenizerError {
        .unreadable(path: name, reason: "corrupt compiled tokenizer (\(what))")
    }

    /// The next `n` bytes, or a truncation error.
    private mutating func take(_ n: Int) throws(TokenizerError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= data.count - offset else {
            throw TokenizerError.unreadable(path: name, reason: "truncated compiled tokenizer (needs \(n) bytes at offset \(offset), has \(data.count - offset))")
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: data[offset..<(offset + n)])
    }

    mutating func bytes(_ n: Int) throws(TokenizerError) -> [UInt8] { Array(try take(n)) }

    mutating func u32() throws(TokenizerError) -> UInt32 {
        UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self))
    }

    /// `n` little-endian integers where they lie (after the zero bytes that align them, unless `aligned` is false);
    /// on a big-endian host, a byte-swapped copy.
    mutating func table<T: FixedWidthInteger>(_ n: Int, aligned: Bool = true) throws(TokenizerError) -> StoredTable<T> {
        if aligned {
            let padding = (CompactTokenizerFormat.alignment - offset % CompactTokenizerFormat.alignment) % CompactTokenizerFormat.alignment
            guard try take(padding).allSatisfy({ $0 == 0 }) else { throw corrupt("padding at offset \(offset - padding)") }
        }
        let size = MemoryLayout<T>.size
        guard n >= 0, n <= (data.count - offset) / size else {
            throw TokenizerError.unreadable(path: name, reason: "truncated compiled tokenizer (needs \(n) values of \(size) bytes at offset \(offset), has \(data.count - offset) bytes)")
        }
        let raw = try take(n * size)
        #if _endian(big)
        return StoredTable((0..<n).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) })
        #else
        return StoredTable(base: raw.baseAddress ?? UnsafeRawPointer(bitPattern: MemoryLayout<T>.alignment)!, count: n, owner: owner)
        #endif
    }
}
