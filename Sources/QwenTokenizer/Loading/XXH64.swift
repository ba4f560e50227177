// XXH64 (seed 0), Yann Collet's 64-bit xxHash, written out from its specification
// (github.com/Cyan4973/xxHash, doc/xxhash_spec.md): the checksum of a compiled tokenizer's contents.
// It runs at several GB/s (four independent lanes of 8-byte words), so checking a 9 MB .qtok file costs
// about a millisecond of its load, and any one changed byte always changes the result (each round
// is a bijection of its lane). It is zstd's content checksum too (the frame keeps its low 32 bits),
// which is how the tests check this copy without another library.

public enum XXH64 {
    static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always)
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always)
    static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 { rotl(acc &+ input &* prime2, 31) &* prime1 }

    @inline(__always)
    static func merge(_ acc: UInt64, _ lane: UInt64) -> UInt64 { (acc ^ round(0, lane)) &* prime1 &+ prime4 }

    public static func hash(_ data: UnsafeRawBufferPointer) -> UInt64 {
        let count = data.count
        guard let base = data.baseAddress else { return avalanche(prime5) }
        @inline(__always) func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        @inline(__always) func u32(_ at: Int) -> UInt64 { UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        var p = 0
        var h: UInt64
        if count >= 32 {
            var v1 = prime1 &+ prime2, v2 = prime2, v3: UInt64 = 0, v4 = 0 &- prime1
            while p + 32 <= count {
                v1 = round(v1, u64(p))
                v2 = round(v2, u64(p + 8))
                v3 = round(v3, u64(p + 16))
                v4 = round(v4, u64(p + 24))
                p += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(merge(merge(merge(h, v1), v2), v3), v4)
        } else {
            h = prime5
        }
        h &+= UInt64(count)
        while p + 8 <= count {
            h = rotl(h ^ round(0, u64(p)), 27) &* prime1 &+ prime4
            p += 8
        }
        if p + 4 <= count {
            h = rotl(h ^ (u32(p) &* prime1), 23) &* prime2 &+ prime3
            p += 4
        }
        while p < count {
            h = rotl(h ^ (UInt64(base.load(fromByteOffset: p, as: UInt8.self)) &* prime5), 11) &* prime1
            p += 1
        }
        return avalanche(h)
    }

    @inline(__always)
    static func avalanche(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h &*= prime2
        h ^= h >> 29
        h &*= prime3
        h ^= h >> 32
        return h
    }
}
