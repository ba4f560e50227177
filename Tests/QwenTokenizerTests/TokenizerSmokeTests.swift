import Testing
import TestSupport
@testable import QwenTokenizer

/// A handful of cases with ids from HF tokenizers 0.23.3 on Qwen2's tokenizer.json; the full golden
/// set is in GoldenTests.
@Suite struct TokenizerSmokeTests {
    static let tokenizer = try! Tokenizer.embeddedQwen2()

    func encode(_ s: String, _ special: SpecialTokenPolicy = .parse) throws -> [UInt32] {
        let encoder = Self.tokenizer.makeEncoder()
        var ids: [UInt32] = []
        var bytes = Array(s.utf8)
        try bytes.withUnsafeMutableBufferPointer { b in try encoder.encode(UnsafeBufferPointer(b), special: special, into: &ids) }
        return ids
    }

    @Test(arguments: [
        ("Hello, world! I'm here.", [9707, 11, 1879, 0, 358, 2776, 1588, 13] as [UInt32]),
        ("hi<|im_start|>there", [6023, 151644, 18532]),
        ("中文测试，很好。", [104811, 81705, 3837, 101243, 1773]),
        ("e\u{301} cafe\u{301}", [963, 51950]),
        ("a  b\n\n c  ", [64, 220, 293, 271, 272, 256]),
        ("12345 ²½", [16, 17, 18, 19, 20, 220, 29456, 26062]),
        ("", []),
    ])
    func knownIDs(text: String, ids: [UInt32]) throws {
        #expect(try encode(text) == ids)
    }

    @Test func specialTokenPolicies() throws {
        #expect(try encode("<|endoftext|>", .parse) == [151643])
        #expect(try encode("<|endoftext|>", .text).count > 1)
        #expect(throws: TokenizerError.specialTokenInText(token: "<|im_end|>", offset: 2)) {
            try encode("ab<|im_end|>", .reject)
        }
    }

    @Test func sizes() {
        #expect(Self.tokenizer.vocabularySize == 151646)
        #expect(Self.tokenizer.model.modelTokenCount == 151643)
        #expect(Self.tokenizer.model.merges.count == 151387)
        #expect(Self.tokenizer.addedTokens.map(\.id) == [151643, 151644, 151645])
    }
}
