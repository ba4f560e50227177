// Token ids and their bytes, both ways.
//
// Every id's bytes are stored once, back to back, with an offset table (id -> bytes, for decoding).
// The reverse map (bytes -> id, for the whole-piece shortcut of BPE) is an open-addressing table of
// ids hashed by their bytes; collisions compare against the stored bytes, so no key is duplicated.

public struct TokenTable: Sendable {
    /// Bytes of every id, concatenated. An id with no token has an empty range.
    public let bytes: StoredTable<UInt8>
    /// `offsets[id] ..< offsets[id + 1]` are the bytes of `id`.
    public let offsets: StoredTable<UInt32>
    public var count: Int { offsets.count - 1 }

    private let mask: Int
    /// Ids by hash of their bytes, each with its bytes' place beside it: offset << 32 | min(length, 255) << 24 | id (ids
    /// are below 2^24), .max for an empty slot. A lookup then reads the slot and the token's bytes, not the offset table
    /// between them (on CJK text these dependent misses were a fifth of the time).
    let entries: StoredTable<UInt64>

    private static func entry(_ id: UInt32, _ offsets: StoredTable<UInt32>) -> UInt64 {
        let start = offsets[Int(id)], length = offsets[Int(id) + 1] - start
        return UInt64(start) << 32 | UInt64(min(length, 255)) << 24 | UInt64(id)
    }

    /// `indexed` says which ids the reverse map may return (others are only decoded); nil builds
    /// no reverse map at all.
    public init(bytes: [UInt8], offsets: [UInt32], indexed: ((Int) -> Bool)?) {
        self.bytes = StoredTable(bytes)
        self.offsets = StoredTable(offsets)
        guard let indexed else {
            entries = StoredTable([.max])
            mask = 0
            return
        }
        let n = offsets.count - 1
        var capacity = 16
        while capacity * 3 < n * 5 { capacity <<= 1 }  // load factor at most 0.6
        var slots = [UInt32](repeating: .max, count: capacity)
        let mask = capacity - 1
        bytes.withUnsafeBufferPointer { all in
            for id in 0..<n where indexed(id) {
                let start = Int(offsets[id]), end = Int(offsets[id + 1])
                guard end > start else { continue }
                let piece = UnsafeBufferPointer(rebasing: all[start..<end])
                var i = Int(truncatingIfNeeded: TokenTable.hash(piece)) & mask
                var duplicate = false
                while slots[i] != .max {
                    let other = Int(slots[i])
                    let os = Int(offsets[other]), oe = Int(offsets[other + 1])
                    if oe - os == piece.count && memcmp(all.baseAddress! + os, piece.baseAddress!, piece.count) == 0 {
                        duplicate = true  // the lower id keeps the bytes, as a vocabulary map would
                        break
                    }
                    i = (i + 1) & mask
                }
                if !duplicate { slots[i] = UInt32(id) }
            }
        }
        let stored = self.offsets
        self.entries = StoredTable(slots.map { $0 == .max ? .max : TokenTable.entry($0, stored) })
        self.mask = mask
    }

    /// A table without a reverse map over stored bytes and offsets (`offsets` non-decreasing from 0, its last within
    /// `bytes`: the caller has checked).
    init(bytes: StoredTable<UInt8>, offsets: StoredTable<UInt32>) {
        self.bytes = bytes
        self.offsets = offsets
        self.entries = StoredTable([.max])
        self.mask = 0
    }

    /// Restores a table with a reverse map as the compact format stores it (`offsets` checked by the caller). Unless
    /// `trusted`, every entry is checked against the offsets and one must be empty; nil when malformed.
    init?(bytes: StoredTable<UInt8>, offsets: StoredTable<UInt32>, entries: StoredTable<UInt64>, trusted: Bool) {
        let n = offsets.count - 1
        guard entries.count >= 1, entries.count & (entries.count - 1) == 0 else { return nil }
        if !trusted {
            var empty = 0
            for e in entries {
                if e == .max { empty += 1; continue }
                let id = UInt32(truncatingIfNeeded: e & 0xFF_FFFF)
                guard Int(id) < n, e == TokenTable.entry(id, offsets) else { return nil }
            }
            guard empty > 0 else { return nil }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.entries = entries
        self.mask = entries.count - 1
    }

    @inline(__always)
    public func tokenBytes(_ id: Int) -> UnsafeBufferPointer<UInt8> {
        bytes.withUnsafeBufferPointer { all in
            UnsafeBufferPointer(rebasing: all[Int(offsets[id])..<Int(offsets[id + 1])])
        }
    }

    /// The id whose bytes equal `piece`, among the indexed ids.
    @inline(__always)
    public func id(for piece: UnsafeBufferPointer<UInt8>) -> UInt32? {
        id(for: piece, hash: TokenTable.hash(piece))
    }

    /// As `id(for:)`, with the piece's `TokenTable.hash` already computed.
    @inline(__always)
    func id(for piece: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt32? {
        bytes.withUnsafeBufferPointer { all in
            entries.withUnsafeBufferPointer { e in
                var i = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let entry = e[i]
                    if entry == .max { return nil }
                    let id = UInt32(truncatingIfNeeded: entry & 0xFF_FFFF)
                    let length = Int(truncatingIfNeeded: (entry >> 24) & 0xFF), start = Int(truncatingIfNeeded: entry >> 32)
                    if (length == piece.count || (length == 255 && tokenBytes(Int(id)).count == piece.count))
                        && bytesEqual(all.baseAddress! + start, piece.baseAddress!, piece.count) {
                        return id
                    }
                    i = (i &+ 1) & mask
                }
            }
        }
    }

    /// A fast 64-bit hash over 8-byte words (unaligned loads), finished with a multiply-xorshift.
    @inline(__always)
    static func hash(_ piece: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let raw = UnsafeRawPointer(piece.baseAddress!)
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(piece.count)
        var i = 0
        let n = piece.count
        while i + 8 <= n {
            h = (h ^ unalignedWord(raw, i)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        if i < n {
            // The last 1-7 bytes by one load when it stays inside their page (reading past the piece there is
            // harmless), masked: a byte loop's exit, whose trip count follows the piece lengths, mispredicted.
            let tail: UInt64
            if UInt(bitPattern: raw + i) & 4095 <= 4088 {
                tail = unalignedWord(raw, i) & (~0 >> (64 &- 8 &* UInt64(n &- i)))
            } else {
                var t: UInt64 = 0
                var shift: UInt64 = 0
                while i < n {
                    t |= UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) << shift
                    shift += 8
                    i += 1
                }
                tail = t
            }
            h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
        }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return h
    }
}

/// Byte equality for short keys, inlined: 8-byte words, then the tail (memcmp's call and dispatch cost
/// more than the compare for the 2-16 byte pieces that dominate).
@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var i = 0
    while i + 8 <= n {
        if unalignedWord(ra, i) != unalignedWord(rb, i) { return false }
        i += 8
    }
    if i == n { return true }
    // The last 1-7 bytes of both by one load each when neither crosses into the next page (as in `hash`).
    if UInt(bitPattern: ra + i) & 4095 <= 4088 && UInt(bitPattern: rb + i) & 4095 <= 4088 {
        let mask: UInt64 = ~0 >> (64 &- 8 &* UInt64(n &- i))
        return (unalignedWord(ra, i) ^ unalignedWord(rb, i)) & mask == 0
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 8 bytes at `p + offset`, any alignment, in host order. The standard library's `loadUnaligned` was left as
/// a call in the largest inlined encoder paths (perf: 2.4% of the CJK corpus in the call); an 8-byte memcpy is
/// always a single load.
@inline(__always)
func unalignedWord(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
    var v: UInt64 = 0
    memcpy(&v, p + offset, 8)
    return v
}
