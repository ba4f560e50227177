// Starting the merge loop from whole characters instead of bytes, where that provably gives the same ids.
//
// Byte-level BPE spends most of its merges on CJK text putting characters back together: a 3-byte
// character is two merges before any merge between characters can happen. For most characters those
// merges cannot interact with the characters around them, so the piece may start with the character's
// token instead of its bytes, and the merge loop has a third of the symbols and of the merges.
//
// When it is the same. Let c be a character of 2 or 3 bytes whose own bytes merge into one token T(c),
// by merges of ranks up to M(c); its partial edges are the tokens at its left (right) end before that
// (the first (last) byte, and a two-byte prefix (suffix) when the first merge makes one). Then:
//   (T) every merge with T(c) as an operand has a rank above M(c), and
//   (R) every merge of a right partial edge of c with a token that can follow c in the piece has a rank
//       above M(c), and (L) the same for a left partial edge with a token that can precede c.
// While c is incomplete, the lowest rank among its own pending merges is at most M(c), so no merge across
// its edges can be the lowest in the piece: c completes as if alone. And a merge that uses T(c) cannot
// come earlier than the character-level start allows, since by (T) it ranks above all of c's own merges.
// By induction over the merges that are not inside a started character, the byte-level merge order and
// the character-level one make the same merges in the same order, so the same ids.
//
// What "can follow" means is decided per character from the table and the piece: a token that follows c
// starts with the piece's next character, so (R) is computed for every possible next character and the
// character is marked unsafe unless at most one next character breaks it (stored, and checked in the
// piece); the same for the previous character and (L). Neighbours the table does not cover start the
// character as bytes instead: an ASCII byte that is not a letter (merges such as " " with a CJK lead
// byte are early), a stray continuation byte after c or a lead byte before it (invalid UTF-8). A token
// whose first (last) character is cut off matches only such invalid text, and is counted as breaking
// every next (previous) character. On Qwen2's vocabulary this starts 78% of the CJK corpus's multi-byte
// characters as tokens, and 71% of the mixed corpus's.
//
// Tests compare the two starts on every marked character beside its stored neighbours and on random
// pieces, and the golden corpora against HF.

/// For each code point below 0x10000, the token its character may start as, and the one previous and
/// one next character that forbid it (`entries`); `none` when it always starts as bytes.
final class CharacterStarts: @unchecked Sendable {
    /// Bits 0-21: the token; 22-42: the next character that forbids it (0: none); 43-63: the previous one.
    static let idBits: UInt64 = 22
    static let none: UInt64 = .max
    static let codePointMask: UInt64 = 0x1F_FFFF
    let entries: UnsafeMutablePointer<UInt64>

    deinit { entries.deallocate() }

    /// The entries that are not `none`, by code point: what the compact format stores (a few hundred KB for
    /// Qwen2 instead of the ~4 ms the build takes at the first such character of every process).
    var stored: (codePoints: [UInt32], entries: [UInt64]) {
        var codePoints: [UInt32] = [], values: [UInt64] = []
        for cp in 0..<0x10000 where entries[cp] != CharacterStarts.none {
            codePoints.append(UInt32(cp))
            values.append(entries[cp])
        }
        return (codePoints, values)
    }

    /// Restores the table from `stored` (code points below 0x10000, checked by the reader).
    init(codePoints: [UInt32], entries stored: [UInt64]) {
        entries = .allocate(capacity: 0x10000)
        entries.initialize(repeating: CharacterStarts.none, count: 0x10000)
        for (cp, e) in zip(codePoints, stored) { entries[Int(cp)] = e }
    }

    /// The token an entry starts its character as.
    @inline(__always)
    static func token(_ e: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: e & (1 << idBits - 1)) }

    /// A code point that stands for "a character cut off by the token's end": never equal to a real one.
    static let cutOff: UInt32 = 0x20_0000

    /// Whether the character of `length` bytes at `p + i` (a piece of `n` bytes) may start as the token of
    /// its entry `e`, given the character that ends before it (`before`, as `startSymbols` tracks it).
    @inline(__always)
    static func allows(_ e: UInt64, _ p: UnsafePointer<UInt8>, _ i: Int, _ length: Int, _ n: Int, before: UInt32) -> Bool {
        if i > 0 {
            let forbidden = UInt32(truncatingIfNeeded: e >> (2 * idBits - 1))
            if before < 0x80 {
                guard isASCIILetter(UInt8(truncatingIfNeeded: before)) else { return false }
            } else if before == cutOff {
                guard p[i &- 1] < 0xC0 else { return false }  // a cut-off character's lead byte
            }
            if forbidden != 0 && forbidden == before { return false }
        }
        let j = i &+ length
        guard j < n else { return true }
        let forbidden = UInt32(truncatingIfNeeded: (e >> idBits) & codePointMask)
        let b = p[j]
        if b < 0x80 { return isASCIILetter(b) && UInt32(b) != forbidden }
        if b < 0xC0 { return false }  // a stray continuation byte
        guard forbidden != 0, let (cp, _) = UTF8Scalar.decode(p + j, n &- j) else { return true }
        return cp != forbidden
    }

    init(model: BPEModel) {
        entries = .allocate(capacity: 0x10000)
        entries.initialize(repeating: CharacterStarts.none, count: 0x10000)
        let count = model.tokens.count
        guard count < (1 << Int(CharacterStarts.idBits)) - 1 else { return }
        // Only three kinds of token matter below: a character's possible right partial edges (one or two
        // continuation bytes), its left ones (a lead byte, alone or with one continuation byte) and whole
        // characters of 2-3 bytes. One pass over the tokens marks them and gives them a dense index, so
        // the arrays below are small and the pass over the merges skips all others by one load from an
        // array of a byte per token.
        let rightPartial: UInt8 = 1, leftPartial: UInt8 = 2, wholeCharacter: UInt8 = 4
        let kinds = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: count)
        let dense = UnsafeMutableBufferPointer<Int32>.allocate(capacity: count)
        defer { kinds.deallocate(); dense.deallocate() }
        var denseCount = 0
        // The characters some token is exactly: only they can merge into one token by themselves.
        var characters: [UInt32] = []
        model.tokens.bytes.withUnsafeBufferPointer { all in
            model.tokens.offsets.withUnsafeBufferPointer { offsets in
                for id in 0..<count {
                    let start = Int(offsets[id]), n = Int(offsets[id + 1]) - start
                    var kind: UInt8 = 0
                    if n >= 1 && n <= 3 {
                        let p = all.baseAddress! + start
                        let tail = n == 1 || p[1] & 0xC0 == 0x80
                        if n <= 2 && p[0] & 0xC0 == 0x80 && tail { kind |= rightPartial }
                        if n <= 2 && p[0] >= 0xC0 && tail { kind |= leftPartial }
                        if n >= 2, let (cp, length) = UTF8Scalar.decode(p, n), length == n {
                            kind |= wholeCharacter
                            characters.append(cp)
                        }
                    }
                    kinds[id] = kind
                    dense[id] = kind == 0 ? -1 : Int32(denseCount)
                    if kind != 0 { denseCount += 1 }
                }
            }
        }
        // For each partial edge, the merges it makes with a token after it (`asLeft`) or before it
        // (`asRight`) that can border a character: the lowest rank, its neighbouring character, and the
        // lowest rank with any other neighbouring character. `lowestUse`: the lowest rank of a merge with
        // a whole character's token as either operand.
        let asLeft = UnsafeMutableBufferPointer<Danger>.allocate(capacity: denseCount)
        let asRight = UnsafeMutableBufferPointer<Danger>.allocate(capacity: denseCount)
        let lowestUse = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: denseCount)
        defer { asLeft.deallocate(); asRight.deallocate(); lowestUse.deallocate() }
        asLeft.initialize(repeating: Danger())
        asRight.initialize(repeating: Danger())
        lowestUse.initialize(repeating: .max)
        model.tokens.bytes.withUnsafeBufferPointer { all in
            model.tokens.offsets.withUnsafeBufferPointer { offsets in
                let base = all.baseAddress!
                model.merges.forEachMerge { left, right, value in
                    let l = Int(left), r = Int(right)
                    guard l < count, r < count else { return }
                    let kl = kinds[l], kr = kinds[r]
                    guard kl | kr != 0 else { return }
                    let rank = UInt32(truncatingIfNeeded: value >> 32)
                    if kl & wholeCharacter != 0 { lowestUse[Int(dense[l])] = min(lowestUse[Int(dense[l])], rank) }
                    if kr & wholeCharacter != 0 { lowestUse[Int(dense[r])] = min(lowestUse[Int(dense[r])], rank) }
                    if kl & rightPartial != 0 {
                        let rs = Int(offsets[r]), rn = Int(offsets[r + 1]) - rs
                        if rn > 0 && CharacterStarts.canBorder(start: base[rs]) {
                            asLeft[Int(dense[l])].add(rank, CharacterStarts.firstCharacter(UnsafeBufferPointer(start: base + rs, count: rn)))
                        }
                    }
                    if kr & leftPartial != 0 {
                        let ls = Int(offsets[l]), ln = Int(offsets[l + 1]) - ls
                        if ln > 0 && CharacterStarts.canBorder(end: base[ls + ln - 1]) {
                            asRight[Int(dense[r])].add(rank, CharacterStarts.lastCharacter(UnsafeBufferPointer(start: base + ls, count: ln)))
                        }
                    }
                }
            }
        }
        for cp in characters {
            guard let alone = CharacterStarts.mergeAlone(cp, model) else { continue }
            // The edges are partial edges and the token a whole character by construction; a vocabulary
            // where a token's bytes say otherwise (a duplicate) is left to bytes.
            let t = dense[Int(alone.token)], l0 = dense[Int(alone.leftEdges.0)], r0 = dense[Int(alone.rightEdges.0)]
            let l1 = alone.leftEdges.1 == .max ? -1 : dense[Int(alone.leftEdges.1)]
            let r1 = alone.rightEdges.1 == .max ? -1 : dense[Int(alone.rightEdges.1)]
            guard t >= 0, l0 >= 0, r0 >= 0, l1 >= 0 || alone.leftEdges.1 == .max, r1 >= 0 || alone.rightEdges.1 == .max else { continue }
            let limit = alone.highestRank
            guard lowestUse[Int(t)] > limit else { continue }  // (T)
            var next = Neighbour(), previous = Neighbour()
            next.add(asLeft[Int(r0)], below: limit)  // (R)
            if r1 >= 0 { next.add(asLeft[Int(r1)], below: limit) }
            previous.add(asRight[Int(l0)], below: limit)  // (L)
            if l1 >= 0 { previous.add(asRight[Int(l1)], below: limit) }
            guard next.safe, previous.safe else { continue }
            entries[Int(cp)] = UInt64(alone.token) | UInt64(next.character) << CharacterStarts.idBits
                | UInt64(previous.character) << (2 * CharacterStarts.idBits - 1)
        }
    }

    /// The merges of one partial edge with the tokens that may border it, as (R) and (L) need them.
    struct Danger {
        var lowest: UInt32 = .max
        var character: UInt32 = 0
        /// The lowest rank with a character other than `character`.
        var lowestOther: UInt32 = .max

        mutating func add(_ rank: UInt32, _ c: UInt32) {
            if rank < lowest {
                if c != character { lowestOther = lowest }
                lowest = rank
                character = c
            } else if c != character {
                lowestOther = min(lowestOther, rank)
            }
        }
    }

    /// The one neighbouring character that forbids a start (0 for none), gathered over the edges.
    struct Neighbour {
        var character: UInt32 = 0
        var safe = true

        mutating func add(_ d: Danger, below limit: UInt32) {
            if d.lowestOther <= limit { safe = false }
            guard d.lowest <= limit else { return }
            if d.character == CharacterStarts.cutOff || d.character > 0x10_FFFF || (character != 0 && character != d.character) {
                safe = false
            }
            character = d.character
        }
    }

    /// The character `cp` (0x80 ..< 0x10000, not a surrogate) merged by itself: its one token, the highest
    /// rank used, and its partial edges (the second .max where there is one); nil when it does not become
    /// one token. The first merges are byte pairs (from `bytePairs`, not the merge table).
    static func mergeAlone(_ cp: UInt32, _ model: BPEModel)
        -> (token: UInt32, highestRank: UInt32, leftEdges: (UInt32, UInt32), rightEdges: (UInt32, UInt32))? {
        let bt = model.byteTokens, bp = model.bytePairs
        if cp < 0x800 {
            let b0 = Int(0xC0 | cp >> 6), b1 = Int(0x80 | cp & 0x3F)
            let p = bp[b0 << 8 | b1]
            guard p != MergeTable.none else { return nil }
            return (UInt32(truncatingIfNeeded: p), UInt32(truncatingIfNeeded: p >> 32), (bt[b0], .max), (bt[b1], .max))
        }
        let (b0, b1, b2) = UTF8Scalar.bytes3(Int(cp))
        let p01 = bp[b0 << 8 | b1], p12 = bp[b1 << 8 | b2]
        guard min(p01, p12) != MergeTable.none else { return nil }
        // The lower of the two byte pairs merges first (ranks are in the high bits of the packed values).
        let first = min(p01, p12), made = UInt32(truncatingIfNeeded: first)
        let last = p01 < p12 ? model.merges.lookup(made, bt[b2]) : model.merges.lookup(bt[b0], made)
        guard last != MergeTable.none else { return nil }
        let highest = UInt32(truncatingIfNeeded: max(first, last) >> 32)
        return p01 < p12
            ? (UInt32(truncatingIfNeeded: last), highest, (bt[b0], made), (bt[b2], .max))
            : (UInt32(truncatingIfNeeded: last), highest, (bt[b0], .max), (bt[b2], made))
    }

    /// Whether a token starting with `byte` can follow a started character in a piece: a lead byte or an
    /// ASCII letter (the piece starts the character as bytes before anything else).
    @inline(__always)
    static func canBorder(start byte: UInt8) -> Bool { byte >= 0xC0 || isASCIILetter(byte) }

    /// Whether a token ending with `byte` can precede a started character: a continuation byte or an
    /// ASCII letter.
    @inline(__always)
    static func canBorder(end byte: UInt8) -> Bool { (byte >= 0x80 && byte < 0xC0) || isASCIILetter(byte) }

    @inline(__always)
    static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }

    /// The first character of a token, or `cutOff` when its bytes do not start with a whole one.
    static func firstCharacter(_ t: UnsafeBufferPointer<UInt8>) -> UInt32 {
        UTF8Scalar.decode(t.baseAddress!, t.count)?.0 ?? cutOff
    }

    /// The last character of a token, or `cutOff` when its bytes do not end with a whole one.
    static func lastCharacter(_ t: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var i = t.count - 1
        while i > 0 && t[i] & 0xC0 == 0x80 && t.count - i < 4 { i -= 1 }
        guard let (cp, length) = UTF8Scalar.decode(t.baseAddress! + i, t.count - i), length == t.count - i else { return cutOff }
        return cp
    }
}
