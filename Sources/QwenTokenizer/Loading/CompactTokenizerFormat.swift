// A compact binary form of a built tokenizer, so that loading is a zstd decompression and a few
// memcpys: no JSON, no merge resolution, no hash-table building. The default Qwen2 tokenizer is
// embedded in the binary in this form, zstd-compressed (Sources/CQwenKitData); `qwenkit tokenizer
// compile` writes it for any tokenizer, and a test checks the embedded copy against the source files.
//
// Layout (little-endian), version 5: a header that names the format and vouches for the rest, then the
// contents. The hash tables are stored as built, so the hash functions in MergeTable and TokenTable are
// part of the format: changing either means a new version. (Version 3 was a layout withdrawn in
// November 2026; 4 skips it so that no file of it is taken for this one. Version 5 added the character
// tables, which every process with CJK input otherwise built from the vocabulary: 7-10 ms.)
//   header    "QTOK"  u32 version  u64 contentLength  u64 XXH64(contents, seed 0)
//   contents  u32 flags (bit 0: NFC)  u32 patternLength  pattern bytes
//             u32 idCount  u32 modelTokenCount  u32 offsets[idCount + 1]  token bytes[offsets[idCount]]
//             u8 pure[idCount] (1: the token's text was all byte-level characters)
//             u32 byteTokens[256]
//             u32 mergeSlotWords  u64 mergeSlots[mergeSlotWords]      (MergeTable.slots)
//             u32 wholeSlotCount  u32 wholeSlots[wholeSlotCount]      (BPEModel.wholePieces.slots)
//             u32 addedCount  (u32 id, u8 flags (special, lstrip, rstrip, normalized), u32 length, bytes)[addedCount]
//             u32 startCount  u32 codePoints[startCount]  u64 entries[startCount]   (CharacterStarts.stored)
//             u32 pairCount  u64 pairs[pairCount]  u64 risky[1024]  u64 startsAfter[4160]
//             u32 characterTokenCount  u64 (code point << 32 | id)[characterTokenCount]   (CharacterSplits.stored)
// The header's fields are each checked exactly, and the checksum before anything in the contents is
// read, so a damaged file (a flipped bit, a truncated copy, bytes appended) is refused as such wherever
// the damage is. A .qtok may be stored uncompressed, so zstd's own checksum would not be enough.

import QwenKitIO

enum CompactTokenizerFormat {
    static let magic: [UInt8] = Array("QTOK".utf8)
    static let version: UInt32 = 5
    /// Magic, version, content length, checksum.
    static let headerSize = 4 + 4 + 8 + 8

    static func encode(_ tokenizer: Tokenizer) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u32(_ v: Int) { u32(UInt32(v)) }
        func words<T: FixedWidthInteger>(_ a: [T]) {
            u32(a.count)
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
        for o in tokens.offsets { u32(o) }
        out.append(contentsOf: tokens.bytes)
        for id in 0..<tokens.count { out.append(id < model.byteLevelPure.count && model.byteLevelPure[id] ? 1 : 0) }
        for b in model.byteTokens { u32(b) }
        words(model.merges.slots)
        words(model.wholePieces.slots)
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
        words(tables.startCodePoints)
        for v in tables.starts { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        words(tables.splits.pairs)
        for v in tables.splits.risky + tables.splits.startsAfter { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        words(tables.splits.characterTokens)
        var file = magic
        file.reserveCapacity(headerSize + out.count)
        withUnsafeBytes(of: version.littleEndian) { file.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(out.count).littleEndian) { file.append(contentsOf: $0) }
        withUnsafeBytes(of: out.withUnsafeBytes { XXH64.hash($0) }.littleEndian) { file.append(contentsOf: $0) }
        return file + out
    }

    /// Decodes a compiled tokenizer held in memory (uncompressed): the header, the checksum of the
    /// contents, then the contents, each array read straight into its final storage.
    static func decode(_ data: UnsafeRawBufferPointer, name: String) throws(TokenizerError) -> Tokenizer {
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
        guard XXH64.hash(contents) == field(16, UInt64.self) else { throw refuse("corrupt compiled tokenizer (checksum mismatch)") }
        do {
            return try decodeContents(UnownedMemorySource(contents, name: name), name: name)
        } catch {
            // The checksum held, so the file is as it was written: a tokenizer this build cannot use.
            if case .invalidTokenizer(let why) = error { throw refuse(why) }
            throw error
        }
    }

    /// Reads the contents that follow the header (their checksum already checked), every length still
    /// bounded: a file written by a faulty build is refused, not trusted.
    private static func decodeContents(_ source: UnownedMemorySource, name: String) throws(TokenizerError) -> Tokenizer {
        var r = SectionReader(source: source, name: name)
        let flags = try r.u32()
        let patternLength = Int(try r.u32())
        guard patternLength <= 1 << 16 else { throw r.corrupt("pattern length \(patternLength)") }
        let pattern = String(decoding: try r.bytes(patternLength), as: UTF8.self)
        let idCount = Int(try r.u32())
        let modelTokenCount = Int(try r.u32())
        guard idCount <= 1 << 24, modelTokenCount <= idCount else { throw r.corrupt("id count \(idCount)") }
        let offsets: [UInt32] = try r.array(idCount + 1)
        for i in 0..<idCount where offsets[i] > offsets[i + 1] { throw r.corrupt("token offsets decrease at id \(i)") }
        guard offsets[0] == 0 else { throw r.corrupt("first token offset") }
        let bytes: [UInt8] = try r.array(Int(offsets[idCount]))
        let pure = try r.bytes(idCount).map { $0 != 0 }
        let byteTokens: [UInt32] = try r.array(256)
        guard byteTokens.allSatisfy({ Int($0) < idCount }) else { throw r.corrupt("byte tokens") }
        let mergeSlots: [UInt64] = try r.array(Int(try r.u32()))
        let wholeSlots: [UInt32] = try r.array(Int(try r.u32()))
        guard let merges = MergeTable(slots: mergeSlots) else { throw r.corrupt("merge table") }
        let tokens = TokenTable(bytes: bytes, offsets: offsets, indexed: nil)
        guard let whole = TokenTable(bytes: bytes, offsets: offsets, slots: wholeSlots) else { throw r.corrupt("token table") }
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
        guard Int64(r.offset) == source.inputSize else { throw r.corrupt("\(source.inputSize! - Int64(r.offset)) bytes left after the character tables") }
        let model = BPEModel(tokens: tokens, wholePieces: whole, merges: merges, byteTokens: byteTokens,
                             modelTokenCount: modelTokenCount, byteLevelPure: pure, characterTables: tables)
        return try Tokenizer(model: model, addedTokens: added, normalizesNFC: flags & 1 != 0, pattern: pattern)
    }
}

extension CompactTokenizerFormat {
    /// The character tables, each code point and token id checked: the encoder indexes tables by them and emits the ids.
    fileprivate static func readCharacterTables(_ r: inout SectionReader, idCount: Int) throws(TokenizerError) -> CharacterTables {
        let startCount = Int(try r.u32())
        guard startCount <= 0x10000 else { throw r.corrupt("character start count \(startCount)") }
        let codePoints: [UInt32] = try r.array(startCount)
        let starts: [UInt64] = try r.array(startCount)
        for (cp, e) in zip(codePoints, starts) where cp >= 0x10000 || e == CharacterStarts.none || Int(CharacterStarts.token(e)) >= idCount {
            throw r.corrupt("character start of U+\(String(cp, radix: 16, uppercase: true))")
        }
        let pairs: [UInt64] = try r.array(Int(try r.u32()))
        let risky: [UInt64] = try r.array(CharacterSplits.riskyWords)
        let startsAfter: [UInt64] = try r.array(CharacterSplits.startsAfterWords)
        let tokenCount = Int(try r.u32())
        guard tokenCount <= 0x10000 else { throw r.corrupt("character token count \(tokenCount)") }
        let tokens: [UInt64] = try r.array(tokenCount)
        for e in tokens where e >> 32 >= 0x10000 || Int(UInt32(truncatingIfNeeded: e)) >= idCount {
            throw r.corrupt("character token of U+\(String(e >> 32, radix: 16, uppercase: true))")
        }
        return CharacterTables(startCodePoints: codePoints, starts: starts,
                               splits: .init(pairs: pairs, risky: risky, startsAfter: startsAfter, characterTokens: tokens))
    }
}

/// Reads little-endian values from an untrusted stream. Every read is checked, and the total size is
/// capped, so a corrupt length can neither overrun nor make us allocate without bound.
struct SectionReader {
    let source: any ByteSource
    let name: String
    var offset = 0
    /// No compiled tokenizer comes near this (Qwen2's is 7 MB).
    static let maximumSize = 1 << 30

    init(source: any ByteSource, name: String) {
        self.source = source
        self.name = name
    }

    func corrupt(_ what: String) -> TokenizerError {
        .unreadable(path: name, reason: "corrupt compiled tokenizer (\(what))")
    }

    /// Fills `buffer` completely or throws.
    private mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(TokenizerError) {
        guard buffer.count <= SectionReader.maximumSize - offset else { throw corrupt("a section of \(buffer.count) bytes at offset \(offset)") }
        let n: Int
        do { n = try source.readFull(into: buffer) } catch {
            throw TokenizerError.unreadable(path: name, reason: error.reasonWithoutPath)
        }
        guard n == buffer.count else {
            throw TokenizerError.unreadable(path: name, reason: "truncated compiled tokenizer (needs \(buffer.count) bytes at offset \(offset), has \(n))")
        }
        offset += n
    }

    mutating func bytes(_ n: Int) throws(TokenizerError) -> [UInt8] { try array(n) }

    mutating func u32() throws(TokenizerError) -> UInt32 {
        var v: UInt32 = 0
        try withUnsafeMutableBytes(of: &v) { (b) throws(TokenizerError) in try fill(b) }
        return UInt32(littleEndian: v)
    }

    /// `n` little-endian integers (byte-swapped on a big-endian host).
    mutating func array<T: FixedWidthInteger>(_ n: Int) throws(TokenizerError) -> [T] {
        let size = MemoryLayout<T>.size
        guard n >= 0, n <= (SectionReader.maximumSize - offset) / size else { throw corrupt("array of \(n) values at offset \(offset)") }
        var failure: TokenizerError?
        let result = [T](unsafeUninitializedCapacity: n) { buffer, count in
            do throws(TokenizerError) { try fill(UnsafeMutableRawBufferPointer(buffer)) } catch {
                failure = error
                buffer.initialize(repeating: 0)
            }
            #if _endian(big)
            for i in 0..<n { buffer[i] = T(littleEndian: buffer[i]) }
            #endif
            count = n
        }
        if let failure { throw failure }
        return result
    }
}

/// A ByteSource over memory it does not own (the embedded tokenizer, which lives as long as the program).
final class UnownedMemorySource: ByteSource {
    let name: String
    private let data: UnsafeRawBufferPointer
    private var position = 0

    init(_ data: UnsafeRawBufferPointer, name: String) {
        self.data = data
        self.name = name
    }

    var inputPosition: Int64 { Int64(position) }
    var inputSize: Int64? { Int64(data.count) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        let n = min(buffer.count, data.count - position)
        if n > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: data[position..<(position + n)])) }
        position += n
        return n
    }
}
