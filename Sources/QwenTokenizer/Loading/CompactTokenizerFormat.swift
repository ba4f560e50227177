// A compact binary form of a built tokenizer, so that loading skips JSON parsing, merge resolution and
// the whole-piece check. The default Qwen2 tokenizer is embedded in the binary in this form, zstd-
// compressed (Sources/CQwenKitData); `qwenkit tokenizer compile` writes it for any tokenizer.
//
// Layout (little-endian), version 1:
//   "QTOK"  u32 version  u32 flags (bit 0: NFC)  u32 patternLength  pattern bytes
//   u32 idCount  u32 modelTokenCount  u32 offsets[idCount + 1]  token bytes[offsets[idCount]]
//   u8 idFlags[idCount] (bit 0: byte-level pure, bit 1: BPE of its bytes gives itself)
//   u32 mergeCount  (u32 rank, u32 left, u32 right, u32 result)[mergeCount]
//   u32 addedCount  (u32 id, u8 flags (special, lstrip, rstrip, normalized), u32 length, bytes)[addedCount]

import QwenKitIO

enum CompactTokenizerFormat {
    static let magic: [UInt8] = Array("QTOK".utf8)
    static let version: UInt32 = 1

    static func encode(_ tokenizer: Tokenizer) -> [UInt8] {
        var out: [UInt8] = magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u32(_ v: Int) { u32(UInt32(v)) }
        u32(version)
        u32(tokenizer.normalizesNFC ? 1 : 0)
        let pattern = Array(tokenizer.regex.pattern.utf8)
        u32(pattern.count)
        out.append(contentsOf: pattern)
        let model = tokenizer.model
        let tokens = model.tokens
        u32(tokens.count)
        u32(model.modelTokenCount)
        for o in tokens.offsets { u32(o) }
        out.append(contentsOf: tokens.bytes)
        let selfMerging = model.selfMergingFlags
        for id in 0..<tokens.count {
            let pure = id < model.byteLevelPure.count && model.byteLevelPure[id]
            out.append((pure ? 1 : 0) | (selfMerging[id] ? 2 : 0))
        }
        let merges = model.merges.entries()
        u32(merges.count)
        for m in merges { u32(m.rank); u32(m.left); u32(m.right); u32(m.result) }
        u32(tokenizer.addedTokens.count)
        for t in tokenizer.addedTokens {
            u32(t.id)
            out.append((t.special ? 1 : 0) | (t.lstrip ? 2 : 0) | (t.rstrip ? 4 : 0) | (t.normalized ? 8 : 0))
            u32(t.content.count)
            out.append(contentsOf: t.content)
        }
        return out
    }

    static func decode(_ data: UnsafeRawBufferPointer, name: String) throws(TokenizerError) -> Tokenizer {
        var r = BoundedReader(data: data, name: name)
        guard try r.bytes(4).elementsEqual(magic) else { throw TokenizerError.unreadable(path: name, reason: "not a compact tokenizer (bad magic)") }
        let v = try r.u32()
        guard v == version else { throw TokenizerError.unreadable(path: name, reason: "compact tokenizer version \(v) is not supported (expected \(version))") }
        let flags = try r.u32()
        let pattern = String(decoding: try r.bytes(Int(try r.u32())), as: UTF8.self)
        let idCount = Int(try r.u32())
        let modelTokenCount = Int(try r.u32())
        guard idCount <= 1 << 24, modelTokenCount <= idCount else { throw r.corrupt("id count \(idCount)") }
        let offsets = try r.u32Array(idCount + 1)
        for i in 0..<idCount where offsets[i] > offsets[i + 1] { throw r.corrupt("token offsets decrease at id \(i)") }
        guard offsets[0] == 0 else { throw r.corrupt("first token offset") }
        let bytes = Array(try r.bytes(Int(offsets[idCount])))
        let idFlags = try r.bytes(idCount)
        var pure = [Bool](repeating: false, count: idCount)
        var selfMerging = [Bool](repeating: false, count: idCount)
        for i in 0..<idCount {
            pure[i] = idFlags[i] & 1 != 0
            selfMerging[i] = idFlags[i] & 2 != 0
        }
        let mergeCount = Int(try r.u32())
        let raw = try r.u32Array(mergeCount * 4)
        var merges: [(rank: UInt32, left: UInt32, right: UInt32, result: UInt32)] = []
        merges.reserveCapacity(mergeCount)
        for i in 0..<mergeCount {
            let m = (raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3])
            guard Int(m.1) < idCount, Int(m.2) < idCount, Int(m.3) < idCount else { throw r.corrupt("merge \(i) names an id out of range") }
            merges.append(m)
        }
        let addedCount = Int(try r.u32())
        guard addedCount <= idCount else { throw r.corrupt("added token count") }
        var added: [AddedToken] = []
        for _ in 0..<addedCount {
            let id = try r.u32()
            let f = try r.bytes(1)[0]
            let content = Array(try r.bytes(Int(try r.u32())))
            guard Int(id) < idCount else { throw r.corrupt("added token id \(id)") }
            added.append(AddedToken(id: id, content: content, special: f & 1 != 0, lstrip: f & 2 != 0, rstrip: f & 4 != 0, normalized: f & 8 != 0))
        }
        let model = try BPEModel(tokenBytes: bytes, offsets: offsets, modelTokenCount: modelTokenCount,
                                 byteLevelPure: pure, rankedMerges: merges, selfMerging: selfMerging)
        return try Tokenizer(model: model, addedTokens: added, normalizesNFC: flags & 1 != 0, pattern: pattern)
    }
}

/// Reads little-endian values from untrusted bytes; every read is bounds-checked and throws.
struct BoundedReader {
    let data: UnsafeRawBufferPointer
    let name: String
    var offset = 0

    init(data: UnsafeRawBufferPointer, name: String) {
        self.data = data
        self.name = name
    }

    func corrupt(_ what: String) -> TokenizerError {
        .unreadable(path: name, reason: "corrupt compact tokenizer (\(what))")
    }

    mutating func bytes(_ n: Int) throws(TokenizerError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= data.count - offset else {
            throw TokenizerError.unreadable(path: name, reason: "truncated compact tokenizer (needs \(n) bytes at offset \(offset), has \(data.count - offset))")
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: data[offset..<(offset + n)])
    }

    mutating func u32() throws(TokenizerError) -> UInt32 {
        let b = try bytes(4)
        return UInt32(littleEndian: b.loadUnaligned(as: UInt32.self))
    }

    mutating func u32Array(_ n: Int) throws(TokenizerError) -> [UInt32] {
        guard n <= (data.count - offset) / 4 else { throw corrupt("array of \(n) values runs past the end") }
        let b = try bytes(n * 4)
        return [UInt32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            count = n
        }
    }
}
