// The merge rules of a byte-level BPE, keyed by the ids of the two symbols they join.
//
// Open addressing with linear probing over one flat array of (key, value) pairs: a lookup is one
// multiply, one shift and usually one cache line. The value packs the merge's rank (its line in
// merges.txt, lower merges first) in the high 32 bits and the id of the merged token in the low 32,
// so the smallest packed value is also the highest-priority merge.
//
// In front of the table sits a Bloom filter of the pairs that merge (256 KB, two bits in one word, so it
// stays in L2 where the 4 MB table does not; about 2% false positives for Qwen2's 151k merges): the merge
// loops mostly ask about pairs that do not merge, and the filter answers those. It took the CJK corpus
// from 0.82 to 0.63 s of CPU and the mixed one from 0.53 to 0.48 (min of 7 alternating runs); 128 or
// 512 KB measured the same. The compact format stores it beside the slots.

public struct MergeTable: Sendable {
    /// Returned by `lookup` when the pair has no merge. Larger than every packed value.
    public static let none: UInt64 = .max
    /// Ranks are below this (the quadratic merge keeps a rank and a 6-bit position in 32 bits); a tokenizer with
    /// more merges is refused at load. Qwen2 has 151,387.
    public static let rankLimit: UInt32 = 1 << 26 - 1

    /// 2 * capacity words: key, value, key, value, ... (stored as they are in the compact format).
    let slots: StoredTable<UInt64>
    private let shift: UInt64
    private let mask: Int
    public let count: Int
    /// A Bloom filter of the pairs that merge (2^21 bits, two probes in one 64-bit word): most pairs
    /// the merge loops ask about do not merge, and the filter (256 KB, L2-resident) answers those
    /// without touching the 4 MB table.
    let bloom: StoredTable<UInt64>

    /// `merges[rank] = (left, right, result)`.
    public init(merges: [(left: UInt32, right: UInt32, result: UInt32)]) {
        self.init(ranked: merges.enumerated().map { (UInt32($0.offset), $0.element.left, $0.element.right, $0.element.result) })
    }

    /// Merges with explicit ranks (the compact format keeps them, since duplicates are dropped).
    public init(ranked merges: [(rank: UInt32, left: UInt32, right: UInt32, result: UInt32)]) {
        // Load factor at most 0.6: linear probing stays short, and the table stays half the size of
        // a 2x table (a compiled tokenizer stores it, and a file's is checked at load, so its size is load time).
        var capacity = 16
        while capacity * 3 < merges.count * 5 { capacity <<= 1 }
        var slots = [UInt64](repeating: MergeTable.none, count: capacity * 2)
        let bits = UInt64(capacity.trailingZeroBitCount)
        let shift = 64 - bits
        let mask = capacity - 1
        var count = 0
        for m in merges {
            let rank = m.rank
            let key = UInt64(m.left) << 32 | UInt64(m.right)
            var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while slots[2 * i] != MergeTable.none && slots[2 * i] != key { i = (i + 1) & mask }
            // A pair listed twice keeps its first (lowest) rank, as HF does when building its map.
            if slots[2 * i] == key { continue }
            slots[2 * i] = key
            slots[2 * i + 1] = UInt64(rank) << 32 | UInt64(m.result)
            count += 1
        }
        self.slots = StoredTable(slots)
        self.shift = shift
        self.mask = mask
        self.count = count
        self.bloom = StoredTable(MergeTable.makeBloom(self.slots))
    }

    /// The filter has 2^bloomWordBits words of 64 bits.
    static let bloomWordBits: UInt64 = 15

    /// Words in the filter.
    static var bloomWords: Int { 1 << Int(bloomWordBits) }

    private static func makeBloom(_ slots: StoredTable<UInt64>) -> [UInt64] {
        var bloom = [UInt64](repeating: 0, count: bloomWords)
        slots.withUnsafeBufferPointer { s in
            for i in stride(from: 0, to: s.count, by: 2) where s[i] != MergeTable.none {
                let (word, bits) = bloomProbe(s[i])
                bloom[word] |= bits
            }
        }
        return bloom
    }

    /// The filter word and the two bits of a key, from one multiply: the top bits pick the word, the
    /// next two groups of 6 the bits.
    @inline(__always)
    private static func bloomProbe(_ key: UInt64) -> (Int, UInt64) {
        let h = key &* 0xD6E8_FEB8_6659_FD93
        let below = 64 - bloomWordBits
        return (Int(truncatingIfNeeded: h >> below), (1 as UInt64) << ((h >> (below - 6)) & 63) | (1 as UInt64) << ((h >> (below - 12)) & 63))
    }

    /// Restores a table as the compact format stores it: `slots`, the number of merges in them, and the filter. Unless
    /// `trusted` (the embedded tokenizer, which a test compares with its source), the slots are checked (ranks below
    /// the limit, ids below `idCount`) and the filter rebuilt and compared; nil when any of it is malformed. Trusted,
    /// nothing is read here: a process pages in only the slots its input asks about.
    init?(slots: StoredTable<UInt64>, count: Int, bloom: StoredTable<UInt64>, idCount: Int, trusted: Bool) {
        let capacity = slots.count / 2
        guard capacity >= 16, capacity & (capacity - 1) == 0, slots.count == capacity * 2, count < capacity,
              bloom.count == MergeTable.bloomWords else { return nil }  // a full table would make lookups loop forever
        if !trusted {
            var found = 0
            for i in stride(from: 0, to: slots.count, by: 2) where slots[i] != MergeTable.none {
                let key = slots[i], value = slots[i + 1]
                guard UInt32(value >> 32) < MergeTable.rankLimit, value & 0xFFFF_FFFF < idCount,
                      key >> 32 < idCount, key & 0xFFFF_FFFF < idCount else { return nil }
                found += 1
            }
            guard found == count, bloom.elementsEqual(MergeTable.makeBloom(slots)) else { return nil }
        }
        self.slots = slots
        self.shift = 64 - UInt64(capacity.trailingZeroBitCount)
        self.mask = capacity - 1
        self.count = count
        self.bloom = bloom
    }

    /// The packed (rank << 32 | result) of merging `left` then `right`, or `MergeTable.none`.
    @inline(__always)
    public func lookup(_ left: UInt32, _ right: UInt32) -> UInt64 {
        let key = UInt64(left) << 32 | UInt64(right)
        let (word, bits) = MergeTable.bloomProbe(key)
        if bloom.base[word] & bits != bits { return MergeTable.none }
        return slots.withUnsafeBufferPointer { s in
            var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let k = s[2 &* i]
                if k == key { return s[2 &* i &+ 1] }
                if k == MergeTable.none { return MergeTable.none }
                i = (i &+ 1) & mask
            }
        }
    }

    /// Calls `body(left, right, packed value)` for every merge, in table order (fast: one pass).
    func forEachMerge(_ body: (UInt32, UInt32, UInt64) -> Void) {
        slots.withUnsafeBufferPointer { s in
            for i in stride(from: 0, to: s.count, by: 2) where s[i] != MergeTable.none {
                body(UInt32(s[i] >> 32), UInt32(truncatingIfNeeded: s[i]), s[i + 1])
            }
        }
    }

    /// Every merge as (rank, left, right, result), in rank order.
    public func entries() -> [(rank: UInt32, left: UInt32, right: UInt32, result: UInt32)] {
        var out: [(rank: UInt32, left: UInt32, right: UInt32, result: UInt32)] = []
        out.reserveCapacity(count)
        for i in stride(from: 0, to: slots.count, by: 2) where slots[i] != MergeTable.none {
            let k = slots[i], v = slots[i + 1]
            out.append((UInt32(v >> 32), UInt32(k >> 32), UInt32(truncatingIfNeeded: k), UInt32(truncatingIfNeeded: v)))
        }
        out.sort { $0.rank < $1.rank }
        return out
    }
}
