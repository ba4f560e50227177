// A byte-level BPE model: the token table, the merge rules, and the byte -> initial symbol map.
// Immutable once built; one instance serves every thread.

import Synchronization

public final class BPEModel: Sendable {
    /// Every id's bytes (model tokens decoded from byte-level characters; added tokens as written).
    public let tokens: TokenTable
    /// Whole-piece shortcut: the model tokens that BPE over their own bytes turns into themselves.
    let wholePieces: TokenTable
    public let merges: MergeTable
    /// The model token of each single byte.
    let byteTokens: [UInt32]
    /// `bytePairs[a << 8 | b]`: the merge of the single-byte tokens of a and b (MergeTable.lookup's
    /// packed value). Every piece starts as bytes, so its first round of lookups skips the hash table
    /// (512 KB, L2-resident; stored in the compact format).
    let bytePairs: StoredTable<UInt64>
    /// Number of ids that belong to the BPE model itself (added tokens may follow).
    public let modelTokenCount: Int
    /// `byteLevelPure[id]`: the token's text was all byte-level characters (only those can be merged).
    let byteLevelPure: [Bool]
    /// The linear-time encoder's tables (nil for the probe model that computes `wholePieces`, which the
    /// tables are derived from): 55 ms and 20 MB for Qwen2, so built on the first piece of 1 KB.
    let linearTables: BuiltOnce<LinearBPE>?
    /// The characters that may start the merge as their token (`CharacterStarts`; nil for the probe
    /// model), made on the first piece with such a character: restored from a compiled tokenizer's stored
    /// form (~0.2 ms), or built from the vocabulary (about 4 ms for Qwen2).
    let characterStarts: BuiltOnce<CharacterStarts>?
    /// Where a piece may be cut between characters (`CharacterSplits`; nil for the probe model), made on the
    /// first piece with two such characters: restored (under a millisecond) or built (about 3 ms).
    let characterSplits: BuiltOnce<CharacterSplits>?

    /// Both character tables as a compiled tokenizer stored them (nil: built from the vocabulary instead).
    let storedCharacterTables: CharacterTables?

    /// The model's `CharacterSplits`, restored or built by the first caller (nil for the probe model).
    var splits: CharacterSplits? {
        characterSplits?.value { storedCharacterTables.map { CharacterSplits(stored: $0.splits) } ?? CharacterSplits(model: self) }
    }

    /// The model's `CharacterStarts`, restored or built by the first caller (nil for the probe model).
    var starts: CharacterStarts? {
        characterStarts?.value {
            storedCharacterTables.map { CharacterStarts(codePoints: $0.startCodePoints, entries: $0.starts) } ?? CharacterStarts(model: self)
        }
    }

    /// Both character tables in the form the compact format stores (nil for the probe model).
    var characterTables: CharacterTables? {
        if let storedCharacterTables { return storedCharacterTables }
        guard let starts, let splits else { return nil }
        let s = starts.stored
        return CharacterTables(startCodePoints: s.codePoints, starts: s.entries, splits: splits.stored)
    }

    /// - Parameters:
    ///   - tokenBytes/offsets: bytes of ids 0 ..< offsets.count - 1.
    ///   - modelTokenCount: ids below this (that have bytes) are model tokens.
    ///   - merges: (left, right, result) by rank.
    ///   - selfMerging: for each model id, whether BPE over its bytes yields exactly that id; nil to
    ///     compute it here (a few tens of milliseconds for a 150k vocabulary).
    convenience init(tokenBytes: [UInt8], offsets: [UInt32], modelTokenCount: Int, byteLevelPure: [Bool],
                     merges: [(left: UInt32, right: UInt32, result: UInt32)], selfMerging: [Bool]?) throws(TokenizerError) {
        try self.init(tokenBytes: tokenBytes, offsets: offsets, modelTokenCount: modelTokenCount, byteLevelPure: byteLevelPure,
                      rankedMerges: merges.enumerated().map { (UInt32($0.offset), $0.element.left, $0.element.right, $0.element.result) },
                      selfMerging: selfMerging)
    }

    init(tokenBytes: [UInt8], offsets: [UInt32], modelTokenCount: Int, byteLevelPure: [Bool],
         rankedMerges: [(rank: UInt32, left: UInt32, right: UInt32, result: UInt32)], selfMerging: [Bool]?) throws(TokenizerError) {
        if let last = rankedMerges.last(where: { $0.rank >= MergeTable.rankLimit }) {
            throw TokenizerError.invalidTokenizer("merge rank \(last.rank) is past the \(MergeTable.rankLimit) merges qwenkit supports")
        }
        let table = TokenTable(bytes: tokenBytes, offsets: offsets, indexed: nil)
        var byteTokens = [UInt32](repeating: .max, count: 256)
        for id in 0..<min(modelTokenCount, offsets.count - 1) where byteLevelPure[id] && offsets[id + 1] - offsets[id] == 1 {
            let b = Int(tokenBytes[Int(offsets[id])])
            if byteTokens[b] == .max { byteTokens[b] = UInt32(id) }
        }
        if let missing = byteTokens.firstIndex(of: .max) {
            throw TokenizerError.invalidTokenizer("the vocabulary has no token for byte 0x\(String(missing, radix: 16, uppercase: true)) (byte-level BPE needs all 256)")
        }
        self.tokens = table
        self.merges = MergeTable(ranked: rankedMerges)
        self.byteTokens = byteTokens
        self.bytePairs = StoredTable(BPEModel.makeBytePairs(self.merges, byteTokens))
        self.modelTokenCount = modelTokenCount
        self.byteLevelPure = byteLevelPure
        self.linearTables = BuiltOnce()
        self.characterStarts = BuiltOnce()
        self.characterSplits = BuiltOnce()
        self.storedCharacterTables = nil
        let flags: [Bool]
        if let selfMerging {
            flags = selfMerging
        } else {
            flags = BPEModel.computeSelfMerging(tokens: table, merges: self.merges, byteTokens: byteTokens,
                                                modelTokenCount: modelTokenCount, byteLevelPure: byteLevelPure)
        }
        self.wholePieces = TokenTable(bytes: tokenBytes, offsets: offsets) { id in id < modelTokenCount && byteLevelPure[id] && flags[id] }
    }

    /// One pass over the merge table picks out the merges of two single-byte tokens (65,536 random
    /// lookups would cost a millisecond of cache misses).
    static func makeBytePairs(_ merges: MergeTable, _ byteTokens: [UInt32]) -> [UInt64] {
        let limit = Int(byteTokens.max() ?? 0) + 1
        var byteOf = [Int16](repeating: -1, count: limit)
        for (b, id) in byteTokens.enumerated() { byteOf[Int(id)] = Int16(b) }
        var table = [UInt64](repeating: MergeTable.none, count: 65536)
        merges.forEachMerge { left, right, value in
            guard Int(left) < limit, Int(right) < limit else { return }
            let a = byteOf[Int(left)], b = byteOf[Int(right)]
            if a >= 0 && b >= 0 { table[Int(a) << 8 | Int(b)] = value }
        }
        return table
    }

    /// Restores a model from the parts the compact format stores (`bytePairs` as `makeBytePairs` makes them: the
    /// caller has checked, or trusts them).
    init(tokens: TokenTable, wholePieces: TokenTable, merges: MergeTable, byteTokens: [UInt32], bytePairs: StoredTable<UInt64>,
         modelTokenCount: Int, byteLevelPure: [Bool], characterTables: CharacterTables?) {
        self.tokens = tokens
        self.wholePieces = wholePieces
        self.merges = merges
        self.byteTokens = byteTokens
        self.bytePairs = bytePairs
        self.modelTokenCount = modelTokenCount
        self.byteLevelPure = byteLevelPure
        self.linearTables = BuiltOnce()
        self.characterStarts = BuiltOnce()
        self.characterSplits = BuiltOnce()
        self.storedCharacterTables = characterTables
    }

    /// For each model token: does merging its bytes give back exactly that token? (Almost always;
    /// a token the merges cannot reach must not be taken as a shortcut.)
    static func computeSelfMerging(tokens: TokenTable, merges: MergeTable, byteTokens: [UInt32],
                                   modelTokenCount: Int, byteLevelPure: [Bool]) -> [Bool] {
        // A model with an empty shortcut table does the real merge for every piece.
        let probe = BPEModel(tokens: tokens, merges: merges, byteTokens: byteTokens, modelTokenCount: modelTokenCount)
        let scratch = BPEScratch()
        var out: [UInt32] = []
        var flags = [Bool](repeating: false, count: tokens.count)
        for id in 0..<min(modelTokenCount, tokens.count) where byteLevelPure[id] {
            let piece = tokens.tokenBytes(id)
            if piece.isEmpty { continue }
            out.removeAll(keepingCapacity: true)
            probe.encodePiece(piece, scratch: scratch, into: &out)
            flags[id] = out.count == 1 && out[0] == UInt32(id)
        }
        return flags
    }

    /// A model without the whole-piece shortcut (used to compute it).
    private init(tokens: TokenTable, merges: MergeTable, byteTokens: [UInt32], modelTokenCount: Int) {
        self.tokens = tokens
        self.wholePieces = TokenTable(bytes: [], offsets: [0], indexed: nil)
        self.merges = merges
        self.byteTokens = byteTokens
        self.bytePairs = StoredTable(BPEModel.makeBytePairs(merges, byteTokens))
        self.modelTokenCount = modelTokenCount
        self.byteLevelPure = []
        self.linearTables = nil
        self.characterStarts = nil
        self.characterSplits = nil
        self.storedCharacterTables = nil
    }

    /// The self-merging flags as used (for the compact format).
    var selfMergingFlags: [Bool] {
        (0..<tokens.count).map { id in
            let p = tokens.tokenBytes(id)
            return !p.isEmpty && id < modelTokenCount && wholePieces.id(for: p) == UInt32(id)
        }
    }
}

/// `CharacterStarts` and `CharacterSplits` as a compiled tokenizer stores them.
struct CharacterTables: Sendable, Equatable {
    /// `CharacterStarts.stored`: the code points whose entry is not `none`, and their entries.
    var startCodePoints: [UInt32]
    var starts: [UInt64]
    var splits: CharacterSplits.Stored
}

/// Tables derived from a model, built on first use by whichever thread gets there first.
final class BuiltOnce<Value: Sendable>: Sendable {
    private let state = Mutex<(built: Bool, value: Value?)>((false, nil))

    /// The value, built by `build` (nil: the model has none) the first time.
    func value(_ build: () -> Value?) -> Value? {
        state.withLock { s in
            if !s.built {
                s.value = build()
                s.built = true
            }
            return s.value
        }
    }
}
