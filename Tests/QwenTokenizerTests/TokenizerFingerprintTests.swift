// The spec fingerprint that lets a model's tokenizer be the embedded one (TokenizerSpec.buildReusingEmbedded): Qwen2's
// tokenizer.json has the embedded tokenizer's fingerprint (CompactFormatTests check that the embedded tokenizer is
// that file compiled), and a spec that differs anywhere does not. The GGUF side is in ConversionTests.

import Testing
import TestSupport
@testable import QwenTokenizer

@Suite struct TokenizerFingerprintTests {
    static let spec = try! TokenizerSpec.load(path: fixturePath("tokenizers/qwen2/tokenizer.json.zst"))

    @Test func qwen2sTokenizerJSONHasTheEmbeddedFingerprint() {
        #expect(Self.spec.fingerprint == Tokenizer.embeddedQwen2Fingerprint)
    }

    @Test func anyDifferenceChangesIt() {
        var changed: [TokenizerSpec] = []
        var s = Self.spec
        s.vocab[1000].token.append(0x61)
        changed.append(s)
        s = Self.spec
        s.merges.swapAt(10, 11)
        changed.append(s)
        s = Self.spec
        s.merges.removeLast()
        changed.append(s)
        s = Self.spec
        let first = s.addedTokens[0]
        s.addedTokens[0] = AddedToken(id: first.id, content: first.content, special: first.special, lstrip: true)
        changed.append(s)
        s = Self.spec
        s.normalizesNFC = false
        changed.append(s)
        s = Self.spec
        s.pattern += "|x"
        changed.append(s)
        for c in changed { #expect(c.fingerprint != Tokenizer.embeddedQwen2Fingerprint) }
    }

    /// Without its added tokens the fingerprint is the model fingerprint, which the added tokens do not change.
    @Test func modelFingerprintLeavesOutTheAddedTokens() {
        #expect(FlatTokenizerSpec(Self.spec).fingerprints.model == Tokenizer.embeddedQwen2ModelFingerprint)
        var s = Self.spec
        s.addedTokens = []
        #expect(s.fingerprint == Tokenizer.embeddedQwen2ModelFingerprint)
        s = Self.spec
        s.addedTokens.append(AddedToken(id: 151_646, content: Array("<|object_ref_start|>".utf8), special: true))
        #expect(FlatTokenizerSpec(s).fingerprints == (s.fingerprint, Tokenizer.embeddedQwen2ModelFingerprint))
        #expect(s.fingerprint != Tokenizer.embeddedQwen2Fingerprint)
        s.merges.removeLast()
        #expect(FlatTokenizerSpec(s).fingerprints.model != Tokenizer.embeddedQwen2ModelFingerprint)
    }

    /// The order of the vocabulary and of the added tokens in the file does not matter; the merges' order does (above).
    @Test func vocabularyOrderDoesNotMatter() {
        var s = Self.spec
        s.vocab.reverse()
        s.addedTokens.reverse()
        #expect(s.fingerprint == Tokenizer.embeddedQwen2Fingerprint)
    }
}
