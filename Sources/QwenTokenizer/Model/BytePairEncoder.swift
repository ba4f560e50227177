#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Byte-pair encoding of one pretokenized piece, by merge rank: repeatedly join the adjacent pair with
// the lowest rank, leftmost first on ties. That is what HF's `Word::merge_all` computes with its
// (rank, position) heap; `ReferenceBPE` below is the obvious version, and tests check they agree.
//
// Performance notes (measured on Qwen2's vocabulary; see README for numbers):
// - Most pieces are a whole vocabulary token ("Ġthe", "ing", "中国"). For those the answer is the token
//   itself *if* merging its bytes reaches it, which the tokenizer compiler checks once per token at
//   build time (`BPEModel.selfMerging`). A hash lookup then replaces the whole merge loop.
// - Short pieces (< 64 symbols) use the tiktoken-style quadratic scan: one table lookup per new pair,
//   and the lowest rank is a SIMD min over at most 8 vectors of pair ranks. The first round of
//   lookups (byte with byte) reads a 64K-entry table instead of the hash table. Merged-away symbols
//   stay in place (rank .max, linked past), which saved the three shifts per merge: 7% on CJK text,
//   2% on mixed. Tried and dropped since: a merge table of 8-byte slots (2 MB instead of 4, so it
//   fits L2; no gain measurable), a 64 KB front cache for pieces of up to 8 bytes (1-2%), the pair
//   ranks of pieces up to 17 bytes in SIMD16 registers (slower), a key array beside the whole-piece
//   slots so a short piece's hit is one miss instead of three dependent ones (slower with its build),
//   and a Bloom filter in front of the whole-piece slots (no gain). What did pay: the Bloom filter in
//   front of the merge table (MergeTable.swift).
// - What remains is bound by cache misses in the 4 MB merge table and the token tables (perf shows the
//   probe loads as the hot instructions). Tried and dropped, for no gain measurable here in A/B runs:
//   a direct-mapped cache of recent pair lookups, and whole-piece slots that carry the token's first
//   8 bytes (one probe instead of three dependent loads; it also cost 9 ms of start-up to build), and a
//   pipeline that prefetched each piece's whole-piece slot (and then its offset and bytes) 4-12 pieces
//   ahead of its lookup (mixed corpus 0.31 -> 0.36 s: the ring's bookkeeping cost more than the misses).
// - Long pieces (CJK runs without punctuation, long identifiers, runs of one emoji) use a binary heap
//   of (rank, position) over a doubly linked symbol list, O(n log n), because the quadratic scan turns
//   a 20 KB piece into seconds. From 1 KB on, the piece is merged in windows of 56 bytes whose joints the
//   linear encoder's pairwise test checks (`encodeInWindows`), or by the linear encoder itself (LinearBPE.swift)
//   where tokens are long: a 10 MB run of spaces took 2.9 s and 240 MB by heap, 0.12 s and 40 MB this way; a
//   run of random letters 87 ns per byte by the linear encoder, 31 in windows. Neither is used below 1 KB: on
//   ordinary CJK text the linear encoder measured slower than the quadratic scan with the piece cache, and its
//   tables (55 ms, 20 MB to build) are then never needed.
// - Pieces with characters of 2 or 3 bytes start from those characters' tokens where that provably gives
//   the same ids (CharacterStarts.swift): a CJK phrase then has a third of the symbols and of the merges.
//   CJK corpus 0.63 -> 0.39 s of CPU, mixed 0.32 -> 0.30 (15 MB each, min of 7 alternating runs). The
//   table is built on first use: about 4 ms, paid only by inputs with such characters.
// - Pieces with characters of three bytes are cut where no token spans two of them (CharacterSplits.swift),
//   and each part is encoded as a piece: a CJK phrase becomes words that are mostly one token (a part of
//   one character is looked up by its code point) or in the piece cache. CJK corpus 23.6 -> 22.6 ns per byte
//   (min of 3 alternating runs, `qwenkit tokenizer profile`), mixed unchanged; a run of CJK without
//   punctuation 40 -> 13.5 ns per byte, as the corpus splitter now cuts such runs there too.
//   Tried and dropped first: running the merge loops of several pieces interleaved (one merge of each in
//   turn, the table slots of the next pairs prefetched): slower (CJK 14.5 -> 19.7 ns per byte in the merge
//   stage, and 18.1 run one piece at a time): the loops are not waiting on the merge table.
// - Pieces that are not one token (identifiers, rare words, CJK phrases) repeat too: a direct-mapped
//   cache of 4096 recent pieces (up to 32 bytes, up to 8 ids) answers repeats without merging, as HF's
//   word cache does. It is keyed by the same hash the whole-piece lookup computed.
// All scratch memory lives in the encoder and is reused: no allocation per piece.

@usableFromInline
final class BPEScratch {
    var capacity: Int = 0
    var idCapacity: Int = 0
    var ids: UnsafeMutablePointer<UInt32>
    /// The linear encoder's bit per position (`LinearBPE.encode`).
    var deadEnds: UnsafeMutablePointer<UInt64>
    var deadEndWords = 0
    /// The linear encoder's cache of pair answers (`LinearBPE.isCompatible(_:_:cache:)`); ids are
    /// below 2^24 (the trie's limit), so an empty entry (all ones) never matches a key.
    static let compatibleCacheBits: UInt64 = 16
    /// Allocated by `reserveLinear`, so encoders that never meet a long piece do not pay for it.
    private(set) var compatibleCache: UnsafeMutablePointer<UInt64>?
    /// The linear encoder's tables, once looked up (per thread, so no lock per piece).
    var linear: LinearBPE?
    var linearModel: ObjectIdentifier?
    /// The model's `CharacterStarts`, once looked up, and its entries.
    var characterStarts: CharacterStarts?
    var characterEntries: UnsafePointer<UInt64>?
    var characterModel: ObjectIdentifier?
    /// Every piece starts as bytes (for tests, which compare the two starts).
    var startsFromBytes = false
    /// The model's `CharacterSplits`, once looked up, and its tables.
    var characterSplits: CharacterSplits?
    var splitsProbe: CharacterSplits.Probe?
    var splitsModel: ObjectIdentifier?
    /// Pieces are never cut between characters (for tests, which compare cut and uncut).
    var neverCuts = false
    /// Pieces merged so far (the piece cache's misses; `StageProfile` reads it).
    var mergedPieces = 0
    /// Pieces cut between characters, and the parts they were cut into (`StageProfile` reads them).
    var cutPieces = 0, parts = 0
    var pairs: UnsafeMutablePointer<UInt64>
    var prev: UnsafeMutablePointer<Int32>
    var next: UnsafeMutablePointer<Int32>
    var heap: UnsafeMutablePointer<UInt64>
    /// Pieces shorter than this take the quadratic path (128 measured no better on CJK text).
    static let shortLimit = 64
    /// Pieces this long or longer take the linear encoder. Below it the heap merge is as fast, and
    /// ordinary text never pays for building the linear tables (55 ms, 20 MB for Qwen2).
    static let linearLimit = 1024
    /// Ranks of adjacent pairs for the short path, plus SIMD padding.
    let ranks = UnsafeMutablePointer<UInt32>.allocate(capacity: shortLimit + 8)

    // Piece cache: entry e holds key bytes at cacheKeys[e * 32], its length (0 = empty) in
    // cacheLengths[e], the id count in cacheCounts[e], and the ids at cacheIDs[e * 8].
    static let cacheEntries = 4096
    static let cacheMaxBytes = 32
    static let cacheMaxIDs = 8
    let cacheKeys = UnsafeMutablePointer<UInt8>.allocate(capacity: cacheEntries * cacheMaxBytes)
    let cacheLengths: UnsafeMutablePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: cacheEntries)
        p.initialize(repeating: 0, count: cacheEntries)
        return p
    }()
    let cacheCounts = UnsafeMutablePointer<UInt8>.allocate(capacity: cacheEntries)
    let cacheIDs = UnsafeMutablePointer<UInt32>.allocate(capacity: cacheEntries * cacheMaxIDs)

    /// Empties the piece cache (`StageProfile` starts each pass cold).
    func clearPieceCache() { cacheLengths.update(repeating: 0, count: BPEScratch.cacheEntries) }

    init() {
        capacity = 256
        idCapacity = 256
        deadEndWords = 16
        deadEnds = .allocate(capacity: deadEndWords)
        ids = .allocate(capacity: capacity)
        pairs = .allocate(capacity: capacity)
        prev = .allocate(capacity: capacity)
        next = .allocate(capacity: capacity)
        heap = .allocate(capacity: capacity * 2)
    }

    func reserve(_ n: Int) {
        reserveIDs(n)
        guard n > capacity else { return }
        var c = capacity
        while c < n { c *= 2 }
        pairs.deallocate(); prev.deallocate(); next.deallocate(); heap.deallocate()
        capacity = c
        pairs = .allocate(capacity: c)
        prev = .allocate(capacity: c)
        next = .allocate(capacity: c)
        heap = .allocate(capacity: c * 2)
    }

    private func reserveIDs(_ n: Int) {
        guard n > idCapacity else { return }
        var c = idCapacity
        while c < n { c *= 2 }
        ids.deallocate()
        idCapacity = c
        ids = .allocate(capacity: c)
    }

    /// The windowed encoder's ids (`BPEModel.encodeInWindows`), apart from `ids`, which each window's merge uses.
    var windowIDs: UnsafeMutablePointer<UInt32>?
    var windowCapacity = 0
    /// Pieces `encodeInWindows` handed to the linear encoder, and pieces it encoded in windows (for tests).
    var windowFallbacks = 0, windowedPieces = 0

    /// Room for `BPEModel.encodeInWindows` of an n-byte piece: n ids in `windowIDs`, and what `LinearBPE.encode` needs.
    func reserveWindows(_ n: Int) {
        reserveLinear(n)
        guard n > windowCapacity else { return }
        windowIDs?.deallocate()
        windowCapacity = max(n, 2 * windowCapacity)
        windowIDs = .allocate(capacity: windowCapacity)
    }

    /// Room for `LinearBPE.encode` of an n-byte piece: n ids and n + 1 bits.
    func reserveLinear(_ n: Int) {
        reserveIDs(n)
        if compatibleCache == nil {
            let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 1 << Int(BPEScratch.compatibleCacheBits))
            p.initialize(repeating: .max, count: 1 << Int(BPEScratch.compatibleCacheBits))
            compatibleCache = p
        }
        let words = (n + 1 + 63) >> 6
        guard words > deadEndWords else { return }
        deadEnds.deallocate()
        deadEndWords = max(words, deadEndWords * 2)
        deadEnds = .allocate(capacity: deadEndWords)
    }

    /// The linear encoder of `model` (nil when it has none), cached for this scratch.
    @inline(__always)
    func linearTables(_ model: BPEModel) -> LinearBPE? {
        let key = ObjectIdentifier(model)
        if linearModel != key {
            linear = model.linearTables?.value { LinearBPE(model: model) }
            linearModel = key
        }
        return linear
    }

    /// The entries of `model`'s `CharacterStarts` (nil when it has none), cached for this scratch.
    @inline(__always)
    func characterTable(_ model: BPEModel) -> UnsafePointer<UInt64>? {
        if startsFromBytes { return nil }
        let key = ObjectIdentifier(model)
        if characterModel != key {
            characterStarts = model.starts
            characterEntries = characterStarts.map { UnsafePointer($0.entries) }
            characterModel = key
        }
        return characterEntries
    }

    /// The model's `CharacterSplits` (nil when it has none), cached for this scratch.
    @inline(__always)
    func splitTable(_ model: BPEModel) -> CharacterSplits.Probe? {
        let key = ObjectIdentifier(model)
        if splitsModel != key {
            characterSplits = neverCuts ? nil : model.splits
            splitsProbe = characterSplits?.probe
            splitsModel = key
        }
        return splitsProbe
    }

    deinit {
        deadEnds.deallocate()
        compatibleCache?.deallocate()
        windowIDs?.deallocate()
        ids.deallocate(); pairs.deallocate(); prev.deallocate(); next.deallocate(); heap.deallocate()
        cacheKeys.deallocate(); cacheLengths.deallocate(); cacheCounts.deallocate(); cacheIDs.deallocate()
        ranks.deallocate()
    }
}

extension BPEModel {
    /// Hands the ids of `piece` (raw bytes, not byte-level characters) to `sink`.
    @inline(__always)
    func encodePiece<Sink: IDSink>(_ piece: UnsafeBufferPointer<UInt8>, scratch: BPEScratch, into sink: inout Sink) {
        let n = piece.count
        if n == 1 {
            sink.addToken(byteTokens[Int(piece[0])])
            return
        }
        if n == 0 { return }
        let hash = TokenTable.hash(piece)
        if let id = wholePieces.id(for: piece, hash: hash) {
            sink.addToken(id)
            return
        }
        if n >= 6 && encodeParts(piece, scratch: scratch, into: &sink) { return }
        mergePiece(piece, hash: hash, scratch: scratch, into: &sink)
    }

    /// A piece that is not one token: from the piece cache, or merged.
    @inline(__always)
    private func mergePiece<Sink: IDSink>(_ piece: UnsafeBufferPointer<UInt8>, hash: UInt64, scratch: BPEScratch, into sink: inout Sink) {
        let n = piece.count
        guard n <= BPEScratch.cacheMaxBytes else {
            let m = n < BPEScratch.shortLimit ? mergeShort(piece, scratch: scratch) : mergeLong(piece, scratch: scratch)
            sink.addIDs(scratch.ids, m)
            return
        }
        let (ids, count) = cachedMerge(piece, hash: hash, scratch: scratch)
        sink.addIDs(ids, count)
    }

    /// Cuts `piece` where no token can span two of its characters (`CharacterSplits`) and encodes each part as a
    /// piece of its own; false (nothing handed on) when it has no such cut.
    @inline(__always)
    private func encodeParts<Sink: IDSink>(_ piece: UnsafeBufferPointer<UInt8>, scratch: BPEScratch, into sink: inout Sink) -> Bool {
        let p = piece.baseAddress!, n = piece.count
        // Only cuts between characters of three bytes are tried (CJK, kana, Hangul, Thai...): in the scripts of two
        // (Cyrillic, Greek, Arabic...) nearly every pair of letters is inside some token, and trying cost time.
        var i = 0
        while i < n && p[i] < 0xE0 { i &+= 1 }
        if n &- i < 6 { return false }
        guard let splits = scratch.splitTable(self) else { return false }
        var start = 0
        var previous: UInt32 = 0  // the character ending at i, when it has 2 or 3 bytes
        var previousStart = -1  // where it starts
        while i < n {
            guard p[i] >= 0xC2, let (cp, length) = UTF8Scalar.decode(p + i, n &- i) else {
                previous = 0
                i &+= 1
                continue
            }
            if length == 3 {
                if previous != 0 && splits.safeCut(previous, cp, lead: p[i]) {
                    // A part that is one character is usually its token, found without hashing.
                    let one = previousStart == start ? splits.characterTokens[Int(previous)] : .max
                    if one != .max {
                        sink.addToken(one)
                    } else {
                        encodePart(UnsafeBufferPointer(start: p + start, count: i &- start), scratch: scratch, into: &sink)
                    }
                    start = i
                    scratch.parts &+= 1
                }
                previous = cp
                previousStart = i
            } else {
                previous = 0
            }
            i &+= length
        }
        if start == 0 { return false }
        scratch.cutPieces &+= 1
        let one = previousStart == start && previous != 0 && i == n && previousStart &+ 3 == n
            ? splits.characterTokens[Int(previous)] : .max
        if one != .max {
            sink.addToken(one)
        } else {
            encodePart(UnsafeBufferPointer(start: p + start, count: n &- start), scratch: scratch, into: &sink)
        }
        scratch.parts &+= 1
        return true
    }

    /// One part of a cut piece (at least one character of 2-3 bytes): one token, or from the cache, or merged.
    @inline(__always)
    private func encodePart<Sink: IDSink>(_ part: UnsafeBufferPointer<UInt8>, scratch: BPEScratch, into sink: inout Sink) {
        let hash = TokenTable.hash(part)
        if let id = wholePieces.id(for: part, hash: hash) {
            sink.addToken(id)
            return
        }
        mergePiece(part, hash: hash, scratch: scratch, into: &sink)
    }

    /// The ids of a piece short enough for the cache: from the cache, or merged (and then cached when
    /// they fit). The result stays valid until the scratch is used again.
    @inline(__always)
    private func cachedMerge(_ piece: UnsafeBufferPointer<UInt8>, hash: UInt64, scratch: BPEScratch) -> (UnsafePointer<UInt32>, count: Int) {
        let n = piece.count
        let entry = Int(truncatingIfNeeded: hash >> 40) & (BPEScratch.cacheEntries - 1)
        let key = scratch.cacheKeys + entry * BPEScratch.cacheMaxBytes
        let ids = scratch.cacheIDs + entry * BPEScratch.cacheMaxIDs
        if Int(scratch.cacheLengths[entry]) == n && bytesEqual(key, piece.baseAddress!, n) {
            return (UnsafePointer(ids), Int(scratch.cacheCounts[entry]))
        }
        let produced = mergeShort(piece, scratch: scratch)
        if produced <= BPEScratch.cacheMaxIDs {
            key.update(from: piece.baseAddress!, count: n)
            scratch.cacheLengths[entry] = UInt8(n)
            scratch.cacheCounts[entry] = UInt8(produced)
            ids.update(from: scratch.ids, count: produced)
        }
        return (UnsafePointer(scratch.ids), produced)
    }

    /// The piece's first symbols in `scratch.ids` and the merges of adjacent ones in `scratch.pairs` (as
    /// `MergeTable.lookup` packs them); returns how many. One per byte, except that a character the
    /// model's `CharacterStarts` marks starts as its token when its neighbours in the piece allow it.
    @inline(__always)
    func startSymbols(_ piece: UnsafeBufferPointer<UInt8>, scratch: BPEScratch) -> Int {
        let p = piece.baseAddress!, n = piece.count
        let ids = scratch.ids, pairs = scratch.pairs
        var multibyte = false
        for i in 0..<n where p[i] >= 0xC2 {
            multibyte = true
            break
        }
        guard multibyte, let table = scratch.characterTable(self) else {
            byteTokens.withUnsafeBufferPointer { bt in
                for i in 0..<n { ids[i] = bt[Int(p[i])] }
            }
            bytePairs.withUnsafeBufferPointer { bp in
                for i in 0..<(n - 1) { pairs[i] = bp[Int(p[i]) << 8 | Int(p[i + 1])] }
            }
            return n
        }
        return byteTokens.withUnsafeBufferPointer { bt in
            bytePairs.withUnsafeBufferPointer { bp in
                var m = 0
                var lastByte = -1  // the byte of symbol m - 1, or -1 when it is a character's token
                @inline(__always) func byte(_ b: UInt8) {
                    let id = bt[Int(b)]
                    if m > 0 { pairs[m &- 1] = lastByte >= 0 ? bp[lastByte << 8 | Int(b)] : merges.lookup(ids[m &- 1], id) }
                    ids[m] = id
                    m &+= 1
                    lastByte = Int(b)
                }
                // The character that ends at i: a code point, or `CharacterStarts.cutOff` after bytes that
                // do not end one (then no token ending there has a whole last character).
                var before: UInt32 = 0
                var i = 0
                while i < n {
                    let b = p[i]
                    guard b >= 0xC2, let (cp, length) = UTF8Scalar.decode(p + i, n &- i) else {
                        byte(b)
                        before = b < 0x80 ? UInt32(b) : CharacterStarts.cutOff
                        i &+= 1
                        continue
                    }
                    if cp < 0x10000 {
                        let e = table[Int(cp)]
                        if e != CharacterStarts.none && CharacterStarts.allows(e, p, i, length, n, before: before) {
                            let id = CharacterStarts.token(e)
                            if m > 0 { pairs[m &- 1] = merges.lookup(ids[m &- 1], id) }
                            ids[m] = id
                            m &+= 1
                            lastByte = -1
                            before = cp
                            i &+= length
                            continue
                        }
                    }
                    for k in 0..<length { byte(p[i &+ k]) }
                    before = cp
                    i &+= length
                }
                return m
            }
        }
    }

    /// The quadratic merge for pieces under 64 bytes. The ranks of adjacent pairs (with their positions,
    /// `scanKey`) live in their own array, padded with UInt32.max to a multiple of 8, so finding the
    /// lowest is a SIMD min over at most 8 vectors, and it names the merge's position.
    /// Returns the number of ids, which are left in `scratch.ids`.
    func mergeShort(_ piece: UnsafeBufferPointer<UInt8>, scratch: BPEScratch) -> Int {
        scratch.mergedPieces &+= 1
        return scanMerge(startSymbols(piece, scratch: scratch), scratch: scratch)
    }

    /// A pair's key in the quadratic merge: its rank above its position (6 bits: positions are below
    /// `BPEScratch.shortLimit`), so the lowest key is the lowest rank, leftmost on ties, and says where it is without
    /// a search (the search's exit mispredicted: a fifth of the merge's time on windows of random letters). .max for
    /// no merge; ranks are below `MergeTable.rankLimit`, so no merge's key is .max.
    @inline(__always)
    private static func scanKey(_ packed: UInt64, _ position: Int) -> UInt32 {
        packed == MergeTable.none ? .max : UInt32(truncatingIfNeeded: packed >> 32) &<< 6 | UInt32(truncatingIfNeeded: position)
    }

    /// The quadratic merge of the `m` (< `BPEScratch.shortLimit`) symbols `startSymbols` left in the scratch.
    private func scanMerge(_ m: Int, scratch: BPEScratch) -> Int {
        let ids = scratch.ids
        let pairs = scratch.pairs
        let ranks = scratch.ranks
        if m < 2 { return m }
        for i in 0..<(m - 1) { ranks[i] = BPEModel.scanKey(pairs[i], i) }
        for i in (m - 1)..<((m + 6) & ~7) { ranks[i] = .max }
        // Merged-away symbols stay in place as tombstones (their pair rank .max), linked past by
        // next/prev: no shifting, and the leftmost of equal ranks is still the lowest index.
        let next = scratch.next, prev = scratch.prev
        for i in 0..<m {
            next[i] = Int32(truncatingIfNeeded: i &+ 1)
            prev[i] = Int32(truncatingIfNeeded: i &- 1)
        }
        let raw = UnsafeRawPointer(ranks)
        let scan = m - 1
        var alive = m
        while alive > 1 {
            var low = SIMD8<UInt32>(repeating: .max)
            var i = 0
            while i < scan {
                low = pointwiseMin(low, raw.loadUnaligned(fromByteOffset: 4 &* i, as: SIMD8<UInt32>.self))
                i &+= 8
            }
            let best = low.min()
            if best == .max { break }
            let at = Int(best & 63)
            ids[at] = UInt32(truncatingIfNeeded: pairs[at])
            let right = Int(next[at])
            ranks[right] = .max  // harmless past the last pair: the padding is .max already
            let after = Int(next[right])
            next[at] = Int32(truncatingIfNeeded: after)
            alive &-= 1
            if after < m {
                prev[after] = Int32(truncatingIfNeeded: at)
                let p = merges.lookup(ids[at], ids[after])
                pairs[at] = p
                ranks[at] = BPEModel.scanKey(p, at)
            } else {
                ranks[at] = .max
            }
            let before = Int(prev[at])
            if before >= 0 {
                let p = merges.lookup(ids[before], ids[at])
                pairs[before] = p
                ranks[before] = BPEModel.scanKey(p, before)
            }
        }
        // Gather the survivors (the list runs forward, so writes never pass reads).
        var count = 0
        var k = 0
        while k < m {
            ids[count] = ids[k]
            count &+= 1
            k = Int(next[k])
        }
        return count
    }

    /// Long pieces: the heap merge, or from `linearLimit` bytes on in windows (`encodeInWindows`).
    /// Returns the number of ids, which are left in `scratch.ids`.
    @inline(__always)
    func mergeLong(_ piece: UnsafeBufferPointer<UInt8>, scratch: BPEScratch) -> Int {
        scratch.mergedPieces &+= 1
        if piece.count >= BPEScratch.linearLimit, let linear = scratch.linearTables(self) {
            return encodeInWindows(piece, linear: linear, scratch: scratch)
        }
        return mergeByHeap(piece, scratch: scratch)
    }

    /// Bytes per window of `encodeInWindows` (under `BPEScratch.shortLimit`, so each is one quadratic scan).
    static let windowBytes = 56

    /// A long piece's ids, exactly, in linear time: merged in windows of `windowBytes`, each started where the one
    /// before put a token boundary a few tokens before its end (its last two tokens might change with what follows),
    /// and each joint checked: the ids are BPE's exactly when every adjacent pair is compatible (`LinearBPE`'s
    /// pairwise property), and inside a window they are. A joint that is not compatible is retried one token further
    /// back; after too many retries the piece goes to `LinearBPE.encode`, whose per-token trie walk and compatibility
    /// checks cost 4-5 times a merge over short windows on text like random letters. Returns the number of ids,
    /// which are left in `scratch.ids`.
    func encodeInWindows(_ piece: UnsafeBufferPointer<UInt8>, linear: LinearBPE, scratch: BPEScratch) -> Int {
        let n = piece.count
        scratch.reserveWindows(n)
        let p = piece.baseAddress!, out = scratch.windowIDs!, cache = scratch.compatibleCache!
        var count = 0, pos = 0
        var retries = 0
        while pos < n {
            var end = min(n, pos &+ BPEModel.windowBytes)
            // End on a character boundary, so a character never starts as bytes for want of its tail.
            if end < n {
                var e = end
                while e > pos &+ 1 && e > end &- 3 && p[e] & 0xC0 == 0x80 { e &-= 1 }
                if p[e] & 0xC0 != 0x80 { end = e }
            }
            let m = scanMerge(startSymbols(UnsafeBufferPointer(start: p + pos, count: end &- pos), scratch: scratch), scratch: scratch)
            let ids = scratch.ids
            // Long tokens (a run of spaces or of one letter): the linear encoder's cost is per token, a window's per
            // merge, and here the linear one is 2-4 times faster.
            if pos == 0 && end &- pos >= 4 &* m {
                scratch.windowFallbacks &+= 1
                return linear.encode(piece, scratch: scratch)
            }
            if count > 0 && !linear.isCompatible(out[count &- 1], ids[0], cache: cache) {
                // Rare on text whose tokens are short (random letters: one joint in 180); many mean long-range effects.
                retries &+= 1
                if retries > 8 &+ count >> 6 {
                    scratch.windowFallbacks &+= 1
                    return linear.encode(piece, scratch: scratch)
                }
                count &-= 1
                pos &-= Int(linear.length[Int(out[count])])
                continue
            }
            let keep = end == n ? m : Swift.max(1, m &- 2)
            for k in 0..<keep {
                let id = ids[k]
                out[count &+ k] = id
                pos &+= Int(linear.length[Int(id)])
            }
            count &+= keep
        }
        scratch.windowedPieces &+= 1
        scratch.ids.update(from: out, count: count)
        return count
    }

    /// The heap merge, O(n log n) time and 36 bytes of scratch per byte: for models without linear
    /// tables, and as the second implementation tests compare the linear encoder with.
    func mergeByHeap(_ piece: UnsafeBufferPointer<UInt8>, scratch: BPEScratch) -> Int {
        scratch.reserve(piece.count)
        let n = startSymbols(piece, scratch: scratch)
        // Started from characters, a piece may be short enough for the quadratic scan.
        if n < BPEScratch.shortLimit { return scanMerge(n, scratch: scratch) }
        let ids = scratch.ids, prev = scratch.prev, next = scratch.next, heap = scratch.heap, pairs = scratch.pairs
        for i in 0..<n {
            prev[i] = Int32(i - 1)
            next[i] = i + 1 < n ? Int32(i + 1) : -1
        }
        // Min-heap of rank << 32 | position (the left symbol's original index): lowest rank first,
        // then leftmost. Entries go stale when a symbol is merged away; they are checked on pop.
        var heapCount = 0
        func push(_ v: UInt64) {
            var i = heapCount
            heapCount += 1
            heap[i] = v
            while i > 0 {
                let parent = (i - 1) >> 1
                if heap[parent] <= v { break }
                heap[i] = heap[parent]
                i = parent
            }
            heap[i] = v
        }
        func pop() -> UInt64 {
            let top = heap[0]
            heapCount -= 1
            if heapCount > 0 {
                let v = heap[heapCount]
                var i = 0
                while true {
                    let l = 2 * i + 1
                    if l >= heapCount { break }
                    var c = l
                    if l + 1 < heapCount && heap[l + 1] < heap[l] { c = l + 1 }
                    if heap[c] >= v { break }
                    heap[i] = heap[c]
                    i = c
                }
                heap[i] = v
            }
            return top
        }
        for i in 0..<(n - 1) where pairs[i] != MergeTable.none { push((pairs[i] >> 32) << 32 | UInt64(i)) }
        while heapCount > 0 {
            let top = pop()
            let rank = top >> 32
            let at = Int(top & 0xFFFF_FFFF)
            let right = next[at]
            // Stale: the left symbol was merged into its left neighbour, or the pair changed.
            if ids[at] == UInt32.max || right < 0 { continue }
            let p = merges.lookup(ids[at], ids[Int(right)])
            if p == MergeTable.none || p >> 32 != rank { continue }
            ids[at] = UInt32(truncatingIfNeeded: p)
            ids[Int(right)] = UInt32.max
            let after = next[Int(right)]
            next[at] = after
            if after >= 0 { prev[Int(after)] = Int32(at) }
            let before = prev[at]
            if before >= 0 {
                let q = merges.lookup(ids[Int(before)], ids[at])
                if q != MergeTable.none { push((q >> 32) << 32 | UInt64(before)) }
            }
            if after >= 0 {
                let q = merges.lookup(ids[at], ids[Int(after)])
                if q != MergeTable.none { push((q >> 32) << 32 | UInt64(at)) }
            }
        }
        // Compact the list in place (it runs forward, so writes never pass reads).
        var count = 0
        var i: Int32 = 0
        while i >= 0 {
            ids[count] = ids[Int(i)]
            count += 1
            i = next[Int(i)]
        }
        return count
    }
}

/// The obvious BPE, for tests: a list of byte strings, merged by looking up each adjacent pair's
/// rank in a dictionary keyed by the pair's bytes, lowest rank and leftmost first, until none merges.
public struct ReferenceBPE {
    let ranks: [[UInt8]: Int]
    let vocab: [[UInt8]: UInt32]

    /// `merges` as byte strings in rank order; `vocab` maps token bytes to ids.
    public init(merges: [([UInt8], [UInt8])], vocab: [[UInt8]: UInt32]) {
        var ranks: [[UInt8]: Int] = [:]
        for (rank, m) in merges.enumerated() {
            let key = m.0 + [0xFF, 0xFE, 0xFD] + m.1  // a separator no token pair can fake in practice
            if ranks[key] == nil { ranks[key] = rank }
        }
        self.ranks = ranks
        self.vocab = vocab
    }

    public func encode(_ piece: [UInt8]) -> [UInt32] {
        var parts = piece.map { [$0] }
        while parts.count > 1 {
            var best = Int.max
            var at = -1
            for i in 0..<(parts.count - 1) {
                if let r = ranks[parts[i] + [0xFF, 0xFE, 0xFD] + parts[i + 1]], r < best {
                    best = r
                    at = i
                }
            }
            if at < 0 { break }
            parts[at] += parts[at + 1]
            parts.remove(at: at + 1)
        }
        return parts.map { vocab[$0] ?? .max }
    }
}
