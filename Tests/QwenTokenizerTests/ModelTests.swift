import Foundation
import QwenKitIO
import Testing
import TestSupport
@testable import QwenTokenizer

@Suite struct ModelTests {
    static let tokenizer = try! Tokenizer.embeddedQwen2()

    /// Qwen2.5's added tokens: Qwen2's three, then the 19 Qwen2.5 adds (TestSupport's `qwen25ExtraAddedTokens`).
    static let qwen25AddedTokens: [AddedToken] =
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"].enumerated().map { AddedToken(id: UInt32(151_643 + $0.offset), content: Array($0.element.utf8), special: true) }
        + qwen25ExtraAddedTokens.enumerated().map { AddedToken(id: UInt32(151_646 + $0.offset), content: Array($0.element.content.utf8), special: $0.element.special) }

    /// A tokenizer that is Qwen2's but for its added tokens (Qwen2.5's) reuses the embedded tables with a new decoding
    /// table: the same compiled form as building it from its spec, and the same ids.
    @Test func otherAddedTokensReuseTheEmbeddedTables() throws {
        var spec = try TokenizerSpec.load(path: Golden.url("tokenizers/qwen2/tokenizer.json.zst").path)
        spec.addedTokens = Self.qwen25AddedTokens
        let built = try spec.build()
        let reused = try #require(try Tokenizer.embeddedQwen2(addedTokens: spec.addedTokens))
        #expect(reused.compactForm() == built.compactForm())
        #expect(reused.vocabularySize == 151_665 && reused.isSpecialToken(151_656) && !reused.isSpecialToken(151_657))
        let text = Array("<|im_start|>user\n<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>你好".utf8)
        func ids(_ t: Tokenizer) throws -> [UInt32] {
            var out: [UInt32] = []
            try text.withUnsafeBufferPointer { try t.makeEncoder().encode($0, into: &out) }
            return out
        }
        #expect(try ids(reused) == ids(built))
        #expect(try ids(reused).prefix(5) == [151_644, 872, 198, 151_659, 750])
        var decoded: [UInt8] = []
        try reused.decode([151_659, 151_664] as [UInt32], into: &decoded)
        #expect(decoded == Array("<|fim_prefix|><|file_sep|>".utf8))
        // The loaders take this way (the spec's path would give the same, slower).
        #expect(try spec.buildReusingEmbedded().compactForm() == built.compactForm())
        // Refused, so built from the spec instead: an added token that replaces a model token, or of 3 bytes or fewer.
        #expect(try Tokenizer.embeddedQwen2(addedTokens: [AddedToken(id: 100, content: Array("<|x|>".utf8), special: true)]) == nil)
        #expect(try Tokenizer.embeddedQwen2(addedTokens: [AddedToken(id: 151_650, content: Array("你".utf8), special: true)]) == nil)
    }

    /// The embedded compact tokenizer is exactly what compiling the committed tokenizer.json gives, byte for byte (it
    /// is used in place without the checks a .qtok file gets, so this test is what vouches for it), and
    /// vocab.json + merges.txt + tokenizer_config.json compile to the same. (Built from the specs: `Tokenizer.load`
    /// of these files restores the embedded copy instead, which the second test checks.)
    @Test func embeddedTokenizerMatchesSourceFiles() throws {
        let fromJSON = try TokenizerSpec.load(path: Golden.url("tokenizers/qwen2/tokenizer.json.zst").path).build()
        // The directory's tokenizer.json comes first when it loads; the pair is read on its own here.
        let dir = Golden.url("tokenizers/qwen2").path
        let fromPair = try Tokenizer.loadVocabAndMergesSpec(vocab: dir + "/vocab.json.zst", merges: dir + "/merges.txt.zst",
                                                           config: dir + "/tokenizer_config.json").spec.build()
        let embedded = Self.tokenizer.compactForm()
        #expect(Array(Tokenizer.embeddedQwen2Data) == embedded)
        #expect(fromJSON.compactForm() == embedded)
        #expect(fromPair.compactForm() == embedded)
    }

    /// Loading Qwen2's tokenizer files gives the embedded tokenizer (its stored character tables, which a build from
    /// the vocabulary does not have); another vocabulary is built from its files.
    @Test func loadingQwen2FilesRestoresTheEmbeddedTokenizer() throws {
        let dir = Golden.url("tokenizers/qwen2").path
        let pair = try Tokenizer.loadVocabAndMerges(vocab: dir + "/vocab.json.zst", merges: dir + "/merges.txt.zst",
                                                    config: dir + "/tokenizer_config.json")
        for (name, loaded) in [("tokenizer.json", try Tokenizer.load(path: dir + "/tokenizer.json.zst")),
                               ("directory", try Tokenizer.load(path: dir)), ("vocab.json + merges.txt", pair)] {
            #expect(loaded.model.storedCharacterTables != nil, "\(name)")
            #expect(loaded.compactForm() == Self.tokenizer.compactForm(), "\(name)")
        }
        let tiny = try Tokenizer.load(path: fixturePath("checkpoints/q2-tied/tokenizer.json"))
        #expect(tiny.model.storedCharacterTables == nil)
        #expect(tiny.model.modelTokenCount < 10_000)
    }

    /// The fast BPE (with its whole-piece shortcut, quadratic and heap paths) agrees with the obvious one.
    @Test func fastBPEMatchesReference() throws {
        let model = Self.tokenizer.model
        var vocab: [[UInt8]: UInt32] = [:]
        for id in 0..<model.modelTokenCount { vocab[Array(model.tokens.tokenBytes(id))] = UInt32(id) }
        let merges = model.merges.entries().map { (Array(model.tokens.tokenBytes(Int($0.left))), Array(model.tokens.tokenBytes(Int($0.right)))) }
        let reference = ReferenceBPE(merges: merges, vocab: vocab)
        let scratch = BPEScratch()
        var pieces: [[UInt8]] = []
        for c in Golden.handWritten + Golden.random.prefix(500) {
            let encoder = Self.tokenizer.makeEncoder()
            try Array(c.text.utf8).withUnsafeBufferPointer { b in
                try encoder.forEachPiece(b) { pieces.append(Array($0)) }
            }
        }
        // Long pieces take the heap path.
        pieces.append(Array(String(repeating: "中文", count: 200).utf8))
        pieces.append(Array(String(repeating: "ab", count: 300).utf8))
        pieces.append(Array(String(repeating: "👍🏽", count: 40).utf8))
        var checked = 0
        for piece in pieces where piece.count <= 600 {
            var fast: [UInt32] = []
            piece.withUnsafeBufferPointer { model.encodePiece($0, scratch: scratch, into: &fast) }
            #expect(fast == reference.encode(piece), "\(String(decoding: piece, as: UTF8.self))")
            checked += 1
        }
        #expect(checked > 10_000)
    }

    /// Every model token that its own merges reach is a whole-piece shortcut; count them.
    @Test func wholePieceShortcutCoversTheVocabulary() {
        let flags = Self.tokenizer.model.selfMergingFlags
        let reachable = flags.filter { $0 }.count
        // Measured: all but the tokens that BPE cannot rebuild from their bytes.
        #expect(reachable > 150_000)
    }

    @Test func malformedCompactFormIsRejected() throws {
        var data = Self.tokenizer.compactForm()
        for cut in [0, 3, 8, 100, data.count / 2, data.count - 1] {
            let truncated = Array(data.prefix(cut))
            #expect(throws: TokenizerError.self) {
                try truncated.withUnsafeBytes { try CompactTokenizerFormat.decode($0, name: "t") }
            }
        }
        data[4] = 99  // version
        #expect(throws: TokenizerError.self) {
            try data.withUnsafeBytes { try CompactTokenizerFormat.decode($0, name: "t") }
        }
    }
}

/// Merge ranks beyond what the quadratic merge's 32-bit keys hold (`MergeTable.rankLimit`) are refused by name.
@Test func mergeRanksPastTheLimitAreRefused() throws {
    let bytes = (0..<256).map { UInt8($0) }
    let offsets = (0...256).map { UInt32($0) }
    let merge = (rank: MergeTable.rankLimit, left: UInt32(97), right: UInt32(98), result: UInt32(0))
    #expect(throws: TokenizerError.invalidTokenizer("merge rank 67108863 is past the 67108863 merges qwenkit supports")) {
        _ = try BPEModel(tokenBytes: bytes, offsets: offsets, modelTokenCount: 256, byteLevelPure: Array(repeating: true, count: 256),
                         rankedMerges: [merge], selfMerging: nil)
    }
    var below = merge
    below.rank -= 1
    let model = try BPEModel(tokenBytes: bytes, offsets: offsets, modelTokenCount: 256, byteLevelPure: Array(repeating: true, count: 256),
                             rankedMerges: [below], selfMerging: nil)
    #expect(model.merges.lookup(97, 98) == UInt64(below.rank) << 32)
}
