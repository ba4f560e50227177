// A compact binary form of a built tokenizer, so that loading is a zstd decompression and a few
// memcpys: no JSON, no merge resolution, no hash-table building. The default Qwen2 tokenizer is
// embedded in the binary in this form, zstd-compressed (Sources/CQwenKitData); `qwenkit tokenizer
// compile` writes it for any tokenizer, and a test checks the embedded copy against the source files.
//
// Layout (little-endian), version 2. The hash tables are stored as built, so the hash functions in
// MergeTable and TokenTable are part of the format: changing either means a new version.
//   "QTOK"  u32 version  u32 flags (bit 0: NFC)  u32 patternLength  pattern bytes
//   u32 idCount  u32 modelTokenCount  u32 offsets[idCount + 1]  token bytes[offsets[idCount]]
//   u8 pure[idCount] (1: the token's text was all byte-level characters)
//   u32 byteTokens[256]
//   u32 mergeSlotWords  u64 mergeSlots[mergeSlotWords]      (MergeTable.slots)
//   u32 wholeSlotCount  u32 wholeSlots[wholeSlotCount]      (BPEModel.wholePieces.slots)
//   u32 addedCount  (u32 id, u8 flags (special, lstrip, rstrip, normalized), u32 length, bytes)[addedCount]

import QwenKitIO

enum CompactTokenizerFormat {
    static let magic: [UInt8] = Array("QTOK".utf8)
    static let version: UInt32 = 2

    static func encode(_ tokenizer: Tokenizer) -> [UInt8] {
        var out: [UInt8] = magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u32(_ v: Int) { u32(UInt32(v)) }
        func words<T: FixedWidthInteger>(_ a: [T]) {
            u32(a.count)
            for v in a { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        }
        u32(version)
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
        return out
    }

    /// Decodes a compact tokenizer held in memory (uncompressed).
    static func decode(_ data: UnsafeRawBufferPointer, name: String) throws(TokenizerError) -> Tokenizer {
        try decode(UnownedMemorySource(data, name: name), name: name)
    }

    /// Decodes a compact tokenizer from a stream: each array is read straight into its final storage
    /// (for the embedded copy, straight out of the zstd decoder), so loading touches each byte once.
    static func decode(_ source: any ByteSource, name: String) throws(TokenizerError) -> Tokenizer {
        var r = SectionReader(source: source, name: name)
        guard try r.bytes(4) == magic else { throw TokenizerError.unreadable(path: name, reason: "not a compact tokenizer (bad magic)") }
        let v = try r.u32()
        guard v == version else {
            throw TokenizerError.unreadable(path: name, reason: "compact tokenizer version \(v) is not supported (expected \(version)); compile it again from tokenizer.json")
        }
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
        let model = BPEModel(tokens: tokens, wholePieces: whole, merges: merges, byteTokens: byteTokens,
                             modelTokenCount: modelTokenCount, byteLevelPure: pure)
        return try Tokenizer(model: model, addedTokens: added, normalizesNFC: flags & 1 != 0, pattern: pattern)
    }
}

/// Reads little-endian values from an untrusted stream. Every read is checked, and the total size is
/// capped, so a corrupt length can neither overrun nor make us allocate without bound.
struct SectionReader {
    let source: any ByteSource
    let name: String
    var offset = 0
    /// No compact tokenizer comes near this (Qwen2's is 7 MB).
    static let maximumSize = 1 << 30

    init(source: any ByteSource, name: String) {
        self.source = source
        self.name = name
    }

    func corrupt(_ what: String) -> TokenizerError {
        .unreadable(path: name, reason: "corrupt compact tokenizer (\(what))")
    }

    /// Fills `buffer` completely or throws.
    private mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(TokenizerError) {
        guard buffer.count <= SectionReader.maximumSize - offset else { throw corrupt("a section of \(buffer.count) bytes at offset \(offset)") }
        let n: Int
        do { n = try source.readFull(into: buffer) } catch {
            throw TokenizerError.unreadable(path: name, reason: error.reasonWithoutPath)
        }
        guard n == buffer.count else {
            throw TokenizerError.unreadable(path: name, reason: "truncated compact tokenizer (needs \(buffer.count) bytes at offset \(offset), has \(n))")
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
