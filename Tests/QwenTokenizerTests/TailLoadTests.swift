#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import QwenTokenizer

/// `TokenTable.hash` and `bytesEqual` read a key's last 1-7 bytes with one 8-byte load when that stays in the
/// page: a key that ends right before an unreadable page is still read byte by byte (no fault), and every
/// length at every offset gives the hash of the byte-by-byte definition and the right equality.
@Suite struct TailLoadTests {
    /// The hash as defined: 8-byte little-endian words, then the tail's bytes, each step as in `TokenTable.hash`.
    static func referenceHash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(bytes.count)
        var i = 0
        func word(_ k: Int, _ count: Int) -> UInt64 {
            var w: UInt64 = 0
            for j in 0..<count { w |= UInt64(bytes[k + j]) << (8 * UInt64(j)) }
            return w
        }
        while i + 8 <= bytes.count {
            h = (h ^ word(i, 8)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        if i < bytes.count { h = (h ^ word(i, bytes.count - i)) &* 0x9E37_79B9_7F4A_7C15 }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return h
    }

    @Test func keysAtThePageEndBeforeAnUnreadablePage() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let raw = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        let base = try #require(raw == MAP_FAILED ? nil : raw).assumingMemoryBound(to: UInt8.self)
        defer { munmap(base, 2 * page) }
        #expect(mprotect(base + page, page, PROT_NONE) == 0)
        for k in 0..<page { base[k] = UInt8(truncatingIfNeeded: k &* 131 &+ 7) }
        var other = [UInt8](repeating: 0, count: 64)
        for length in 1...40 {
            for end in [page, page - 1, page - 3, page - 8, page - 9, page / 2] {
                let start = end - length
                let key = UnsafeBufferPointer(start: base + start, count: length)
                #expect(TokenTable.hash(key) == Self.referenceHash(Array(key)), "length \(length), end \(end)")
                // Equal to a copy elsewhere; unequal when any one byte differs.
                for k in 0..<length { other[k] = key[k] }
                other.withUnsafeBufferPointer { #expect(bytesEqual(key.baseAddress!, $0.baseAddress!, length)) }
                for flip in [0, length / 2, length - 1] {
                    other[flip] ^= 1
                    other.withUnsafeBufferPointer { #expect(!bytesEqual(key.baseAddress!, $0.baseAddress!, length)) }
                    other[flip] ^= 1
                }
            }
        }
    }
}
