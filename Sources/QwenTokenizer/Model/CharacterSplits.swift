// Cutting a piece between two characters that no token spans: the piece's BPE is then the BPE of each part.
//
// Why it is the same. Every symbol BPE ever makes is a token. If no token can cover the bytes on both sides of a
// cut, no merge joins a symbol left of it with one right of it, so the merges that happen are those of each part
// on its own; and the order among a part's merges (lowest rank, then leftmost) is the order it would have alone.
//
// When no token can span the cut between characters a and b (each of 2 or 3 bytes). A token spanning it,
// placed on the text, has a left part ending at the cut and a right part starting there. Either its left part
// holds all of a: then the token contains a whole character a followed by b whole, or by a cut-off start of b
// at the token's end; or its left part is a proper suffix of a: then the token starts with continuation bytes.
// So the cut is safe when (a, b) is not a pair of adjacent characters inside any token (`pairs`), and a is not
// `risky` (followed inside some token by anything but a whole character of 2-3 bytes), and no token starts with
// a's last byte, or its last two, followed by b's first (`startsAfter`). All are read from the vocabulary once.
//
// What it buys. A CJK phrase is a single pretokenized piece ("的首都是北京"), rarely a token and rarely seen twice,
// so it went through the merge loop; its words, cut apart, mostly are tokens or repeat (the piece cache). On
// the CJK corpus 52% of the cuts between characters of the pieces that are not one token are safe, and 73% of
// the parts they make are one token. The encoder tries cuts only between characters of three bytes (in the scripts
// of two, nearly every pair of letters is inside some token); a 64-bit signature per left character answers most
// pairs before the pair table is probed (CJK corpus 13.2 -> 12.5 ns per byte in the merge stage). CharacterSplitsTests compare the cut encoding with
// the uncut one on 20,000 random phrases and at every safe cut among 60,000 pairs of the commonest ideographs, in
// context; the golden corpora check it against Hugging Face.

final class CharacterSplits: @unchecked Sendable {
    /// Adjacent characters inside some token, a << 32 | b (0: an empty slot; a is never 0), open addressing.
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    /// Per left character below 0x10000, a bit per right character's hash (`signatureBit`) of its pairs: a clear bit
    /// answers most cuts without probing the pair table (1 MB, which misses cache; the signatures of the CJK block
    /// are 170 KB).
    private let signatures: UnsafeMutablePointer<UInt64>
    /// A bit per code point below 0x10000: a cut after this character is never safe.
    private let risky: UnsafeMutablePointer<UInt64>
    /// For the continuation bytes a token starts with, the lead bytes that follow them in some token (bit b - 0xC0):
    /// one continuation byte at `startsAfter[b & 0x3F]`, two at `startsAfter[64 + (b1 & 0x3F) << 6 | b2 & 0x3F]`.
    private let startsAfter: UnsafeMutablePointer<UInt64>
    /// For each code point below 0x10000, the token its character is by itself, when BPE over its bytes gives that
    /// token (.max otherwise): a part of one character needs no hash lookup.
    private let characterTokens: UnsafeMutablePointer<UInt32>
    let pairCount: Int

    /// The tables by pointer, for the encoder's scratch (no reference counting per piece).
    struct Probe {
        fileprivate let slots: UnsafePointer<UInt64>
        fileprivate let mask: Int
        fileprivate let signatures: UnsafePointer<UInt64>
        fileprivate let risky: UnsafePointer<UInt64>
        fileprivate let startsAfter: UnsafePointer<UInt64>
        let characterTokens: UnsafePointer<UInt32>

        /// Whether no token can span the cut between characters `a` and `b` (code points of 2 or 3 UTF-8 bytes;
        /// `lead` is b's first byte).
        @inline(__always)
        func safeCut(_ a: UInt32, _ b: UInt32, lead: UInt8) -> Bool {
            if risky[Int(a >> 6)] & (1 << UInt64(a & 63)) != 0 { return false }
            // A token that starts inside a (its last byte, or its last two for three bytes) and goes on with b's lead.
            let leads = startsAfter[Int(a & 0x3F)] | (a >= 0x800 ? startsAfter[64 + Int(a & 0xFFF)] : 0)
            if leads & (1 << UInt64(lead & 0x3F)) != 0 { return false }
            if a < 0x10000 && signatures[Int(a)] & CharacterSplits.signatureBit(b) == 0 { return true }
            let key = UInt64(a) << 32 | UInt64(b)
            var i = CharacterSplits.slot(key, mask)
            while true {
                let s = slots[i]
                if s == key { return false }
                if s == 0 { return true }
                i = (i &+ 1) & mask
            }
        }
    }

    var probe: Probe {
        Probe(slots: slots, mask: mask, signatures: signatures, risky: risky, startsAfter: startsAfter, characterTokens: characterTokens)
    }

    @inline(__always)
    fileprivate static func signatureBit(_ b: UInt32) -> UInt64 { 1 << ((UInt64(b) &* 0x9E37_79B9_7F4A_7C15) >> 58) }

    deinit {
        signatures.deallocate()
        slots.deallocate()
        risky.deallocate()
        startsAfter.deallocate()
        characterTokens.deallocate()
    }

    @inline(__always)
    fileprivate static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    convenience init(model: BPEModel) {
        let tokens = model.tokens
        var pairs: [UInt64] = []
        let startsAfter = UnsafeMutablePointer<UInt64>.allocate(capacity: CharacterSplits.startsAfterWords)
        startsAfter.initialize(repeating: 0, count: CharacterSplits.startsAfterWords)
        let risky = UnsafeMutablePointer<UInt64>.allocate(capacity: CharacterSplits.riskyWords)
        risky.initialize(repeating: 0, count: CharacterSplits.riskyWords)
        @inline(__always) func markRisky(_ cp: UInt32) {
            if cp < 0x10000 { risky[Int(cp >> 6)] |= 1 << UInt64(cp & 63) }
        }
        let characterTokens = UnsafeMutablePointer<UInt32>.allocate(capacity: 0x10000)
        characterTokens.initialize(repeating: .max, count: 0x10000)
        // One pass over the tokens (about 3 ms for Qwen2's; most are ASCII and leave at their first 8 bytes).
        tokens.bytes.withUnsafeBufferPointer { all in
            tokens.offsets.withUnsafeBufferPointer { offsets in
                for id in 0..<min(model.modelTokenCount, tokens.count) {
                    let start = Int(offsets[id]), n = Int(offsets[id + 1]) - start
                    if n < 2 { continue }
                    let p = all.baseAddress! + start
                    if n <= 8 {
                        var high = false
                        for k in 0..<n { high = high || p[k] >= 0x80 }
                        if !high { continue }
                    }
                    if n <= 3, let (cp, length) = UTF8Scalar.decode(p, n), length == n,
                       model.wholePieces.id(for: UnsafeBufferPointer(start: p, count: n)) == UInt32(id) {
                        characterTokens[Int(cp)] = UInt32(id)
                    }
                    var i = 0
                    while i < n && p[i] & 0xC0 == 0x80 { i += 1 }
                    if i > 0 && i < n && i <= 2 && p[i] >= 0xC0 {
                        let bit: UInt64 = 1 << UInt64(p[i] & 0x3F)
                        if i == 1 { startsAfter[Int(p[0] & 0x3F)] |= bit } else { startsAfter[64 + Int(p[0] & 0x3F) << 6 | Int(p[1] & 0x3F)] |= bit }
                    }
                    var previous: UInt32 = 0  // the character just before i, when it has 2 or 3 bytes
                    while i < n {
                        guard p[i] >= 0x80 else {
                            previous = 0
                            i += 1
                            continue
                        }
                        guard let (cp, length) = UTF8Scalar.decode(p + i, n - i) else {
                            // Not a whole character (cut off by the token's end, or stray bytes) after `previous`.
                            if previous != 0 { markRisky(previous) }
                            previous = 0
                            i += 1
                            continue
                        }
                        let ordinary = length == 2 || length == 3
                        if previous != 0 {
                            if ordinary { pairs.append(UInt64(previous) << 32 | UInt64(cp)) } else { markRisky(previous) }
                        }
                        previous = ordinary ? cp : 0
                        i += length
                    }
                }
            }
        }
        self.init(pairs: pairs, risky: risky, startsAfter: startsAfter, characterTokens: characterTokens)
    }

    /// Takes the three tables (allocated as the fields say) and hashes the pairs (no 0; any number).
    private init(pairs: [UInt64], risky: UnsafeMutablePointer<UInt64>, startsAfter: UnsafeMutablePointer<UInt64>,
                 characterTokens: UnsafeMutablePointer<UInt32>) {
        var capacity = 1024
        while capacity < 2 * pairs.count { capacity <<= 1 }
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        let mask = capacity - 1
        var count = 0
        let signatures = UnsafeMutablePointer<UInt64>.allocate(capacity: 0x10000)
        signatures.initialize(repeating: 0, count: 0x10000)
        for key in pairs {
            let a = Int(key >> 32)
            if a < 0x10000 { signatures[a] |= CharacterSplits.signatureBit(UInt32(truncatingIfNeeded: key)) }
            var i = CharacterSplits.slot(key, mask)
            while slots[i] != 0 && slots[i] != key { i = (i + 1) & mask }
            if slots[i] == 0 {
                slots[i] = key
                count += 1
            }
        }
        self.slots = slots
        self.mask = mask
        self.signatures = signatures
        self.risky = risky
        self.startsAfter = startsAfter
        self.characterTokens = characterTokens
        self.pairCount = count
    }

    static let riskyWords = 0x10000 / 64
    static let startsAfterWords = 64 + 4096

    /// The tables as the compact format stores them: the pairs (ascending), the two bit tables whole, and the
    /// characters that are a token of their own as code point << 32 | token. Restoring them (`init(stored:)`)
    /// costs a fraction of a millisecond against the ~3 ms the build from the vocabulary takes.
    struct Stored: Sendable, Equatable {
        var pairs: [UInt64]
        var risky: [UInt64]
        var startsAfter: [UInt64]
        var characterTokens: [UInt64]
    }

    var stored: Stored {
        var pairs: [UInt64] = []
        pairs.reserveCapacity(pairCount)
        for i in 0...mask where slots[i] != 0 { pairs.append(slots[i]) }
        pairs.sort()  // the same bytes however the table was filled
        var tokens: [UInt64] = []
        for cp in 0..<0x10000 where characterTokens[cp] != .max { tokens.append(UInt64(cp) << 32 | UInt64(characterTokens[cp])) }
        return Stored(pairs: pairs, risky: Array(UnsafeBufferPointer(start: risky, count: CharacterSplits.riskyWords)),
                      startsAfter: Array(UnsafeBufferPointer(start: startsAfter, count: CharacterSplits.startsAfterWords)),
                      characterTokens: tokens)
    }

    /// Restores the tables from `stored` (its sizes, pairs and code points checked by the reader).
    convenience init(stored: Stored) {
        let startsAfter = UnsafeMutablePointer<UInt64>.allocate(capacity: CharacterSplits.startsAfterWords)
        startsAfter.initialize(from: stored.startsAfter, count: CharacterSplits.startsAfterWords)
        let risky = UnsafeMutablePointer<UInt64>.allocate(capacity: CharacterSplits.riskyWords)
        risky.initialize(from: stored.risky, count: CharacterSplits.riskyWords)
        let characterTokens = UnsafeMutablePointer<UInt32>.allocate(capacity: 0x10000)
        characterTokens.initialize(repeating: .max, count: 0x10000)
        for e in stored.characterTokens { characterTokens[Int(e >> 32)] = UInt32(truncatingIfNeeded: e) }
        self.init(pairs: stored.pairs, risky: risky, startsAfter: startsAfter, characterTokens: characterTokens)
    }
}
