// A tokenizer's parts as its files state them (byte-level token strings, merges as string pairs, added tokens), as
// arrays: what conversion writes into a GGUF and tests change entry by entry. Loading reads files into the flat form
// (FlatTokenizerSpec), which builds the runtime form; `build` here goes through it.

public struct TokenizerSpec: Sendable {
    /// Model vocabulary: byte-level token text (UTF-8) -> id.
    public var vocab: [(token: [UInt8], id: UInt32)] = []
    /// Merges by rank, as byte-level token texts.
    public var merges: [(left: [UInt8], right: [UInt8])] = []
    public var addedTokens: [AddedToken] = []
    public var normalizesNFC = true
    public var pattern = Tokenizer.qwen2Pattern

    public init() {}

    /// The tokenizer's tables built from the spec (`FlatTokenizerSpec.buildTables`, which holds the building).
    public func build() throws(TokenizerError) -> Tokenizer { try FlatTokenizerSpec(self).buildTables() }
}

extension TokenizerSpec {
    /// XXH64 of the spec in a canonical form: the NFC flag, the pretokenizer pattern, the vocabulary by id, the merges in
    /// rank order, and the added tokens by id with their flags. Two specs with the same fingerprint build the same
    /// tokenizer (up to XXH64 collisions, which only a file crafted for one could reach, and whose only effect would be
    /// the embedded Qwen2 tokenizer in place of the file's).
    public var fingerprint: UInt64 { FlatTokenizerSpec(self).fingerprint }

    /// `build()`, except that a spec with the embedded Qwen2 tokenizer's fingerprint (`Tokenizer.embeddedQwen2Fingerprint`)
    /// gives the embedded tokenizer, which is the same tokenizer compiled: its tables are used where they lie in the
    /// binary (a few milliseconds) instead of built from the vocabulary (`qwenkit run` on the 0.5B-shaped Qwen2 GGUF
    /// starts ~0.1 s sooner, README); and one that differs only in its added tokens gets the embedded tables with them
    /// where `Tokenizer.embeddedQwen2(addedTokens:)` allows (`FlatTokenizerSpec.build`).
    public func buildReusingEmbedded() throws(TokenizerError) -> Tokenizer {
        try FlatTokenizerSpec(self).build(reusingEmbedded: true)
    }
}

extension AddedToken {
    /// The bytes the decoder gives for this token: HF runs the ByteLevel decoder over added tokens too.
    var decodedBytes: [UInt8] {
        var out: [UInt8] = []
        content.withUnsafeBufferPointer { _ = ByteLevelAlphabet.decode($0, into: &out) }
        return out
    }
}

extension Tokenizer {
    /// `FlatTokenizerSpec.fingerprints.model` of the spec the embedded tokenizer is compiled from: the fingerprint
    /// without the added tokens. TokenizerFingerprintTests checks it.
    public static let embeddedQwen2ModelFingerprint: UInt64 = 0x5285_1444_2ECF_415B

    /// The embedded tokenizer's model with `addedTokens` in place of its three, for a spec whose model (vocabulary,
    /// merges, normalizer, pattern) is Qwen2's (`embeddedQwen2ModelFingerprint`): Qwen2.5's tokenizer, which adds 19
    /// tokens, or a fine-tune's. Only the decoding table is made anew (the model tokens' bytes and the added tokens'); the
    /// merge, whole-piece and character tables are the embedded ones, which is what building from the spec gives when
    /// every added token has an id past the model's tokens (so it neither replaces one nor enters the merges) and decodes
    /// to more than 3 bytes (`CharacterStarts` looks at every token of 1-3 bytes, added ones too). nil otherwise: the
    /// caller builds from the spec. ModelTests compares the result with building Qwen2.5's tokenizer from its spec.
    static func embeddedQwen2(addedTokens: [AddedToken]) throws(TokenizerError) -> Tokenizer? {
        let embedded = try embeddedQwen2()
        let model = embedded.model
        let n = model.modelTokenCount
        var idCount = n
        var decoded: [Int: [UInt8]] = [:]
        for token in addedTokens {
            let bytes = token.decodedBytes
            guard Int(token.id) >= n, bytes.count > 3 else { return nil }
            decoded[Int(token.id)] = bytes  // a later entry for the same id wins, as in `build`
            idCount = max(idCount, Int(token.id) + 1)
        }
        guard idCount <= 1 << 24 else { return nil }
        let modelBytes = Int(model.tokens.offsets[n])
        var bytes = model.tokens.bytes.withUnsafeBufferPointer { Array(UnsafeBufferPointer(rebasing: $0[..<modelBytes])) }
        var offsets = model.tokens.offsets.withUnsafeBufferPointer { Array(UnsafeBufferPointer(rebasing: $0[..<(n + 1)])) }
        offsets.reserveCapacity(idCount + 1)
        for id in n..<idCount {
            if let b = decoded[id] { bytes.append(contentsOf: b) }
            offsets.append(UInt32(bytes.count))
        }
        let pure = Array(model.byteLevelPure.prefix(n)) + [Bool](repeating: false, count: idCount - n)
        let withAdded = BPEModel(tokens: TokenTable(bytes: StoredTable(bytes), offsets: StoredTable(offsets)), wholePieces: model.wholePieces,
                                 merges: model.merges, byteTokens: model.byteTokens, bytePairs: model.bytePairs, modelTokenCount: n,
                                 byteLevelPure: pure, characterTables: model.storedCharacterTables)
        return try Tokenizer(model: withAdded, addedTokens: addedTokens, normalizesNFC: embedded.normalizesNFC, pattern: embedded.pattern)
    }
}
