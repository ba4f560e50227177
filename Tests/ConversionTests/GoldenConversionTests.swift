// convert against llama.cpp's convert_hf_to_gguf.py: every committed reference output (Fixtures/convert-golden,
// made by Fixtures/scripts/make_convert_fixtures.py from Fixtures/checkpoints) must come out byte for byte.

import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Conversion
import QwenTokenizer

func fixture(_ relative: String) -> String {
    repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
}

/// The first differing byte and what lies there, for a failure message.
func firstDifference(_ a: Data, _ b: Data) -> String {
    let n = min(a.count, b.count)
    for i in 0..<n where a[i] != b[i] { return "first difference at byte \(i) of \(a.count) vs \(b.count)" }
    return a.count == b.count ? "equal" : "one is a prefix of the other (\(a.count) vs \(b.count) bytes)"
}

@Suite struct GoldenConversionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let model: String
        let outtype: ConversionOutputType
        let vocabOnly: Bool
        var golden: String { "convert-golden/\(model).\(vocabOnly ? "vocab" : outtype.rawValue).gguf" }
        var testDescription: String { "\(model) \(vocabOnly ? "--vocab-only" : outtype.rawValue)" }
    }

    static let cases: [Case] = ["q2-tied", "q2-untied", "q2-yarn", "q2moe"].flatMap { model in
        [ConversionOutputType.f32, .f16, .bf16, .q8_0].map { Case(model: model, outtype: $0, vocabOnly: false) }
            + [Case(model: model, outtype: .f16, vocabOnly: true)]
    }

    @Test(arguments: cases)
    func byteIdenticalToReference(_ c: Case) throws {
        try withTemporaryDirectory { dir in
            let plan = try ConversionPlan(path: fixture("checkpoints/\(c.model)"), outputType: c.outtype, vocabOnly: c.vocabOnly)
            let out = dir + "/out.gguf"
            try Converter.write(plan, to: out)
            let ours = try Data(contentsOf: URL(fileURLWithPath: out))
            let reference = try Data(contentsOf: URL(fileURLWithPath: fixture(c.golden)))
            #expect(ours == reference, "\(c.golden): \(firstDifference(ours, reference))")
        }
    }

    /// `auto` picks the checkpoint's half type (BF16 for q2-tied and q2moe, F16 for q2-yarn) and F16 for an F32 one.
    @Test func autoOutputType() throws {
        let picks = try ["q2-tied", "q2-untied", "q2-yarn", "q2moe"].map {
            try ConversionPlan(path: fixture("checkpoints/\($0)"), outputType: .auto).outputType
        }
        #expect(picks == [.bf16, .f16, .f16, .bf16])
    }

    /// The q8_0 fallbacks are reported with their reason.
    @Test func fallbacksAreNamed() throws {
        let plan = try ConversionPlan(path: fixture("checkpoints/q2moe"), outputType: .q8_0)
        let fallbacks = plan.tensors.filter { if case .rowNotWholeBlocks = $0.reason { return true } else { return false } }
        #expect(fallbacks.map(\.name) == ["blk.0.ffn_down_exps.weight", "blk.1.ffn_down_exps.weight"])
        #expect(fallbacks.allSatisfy { $0.type == .f16 && $0.reason == .rowNotWholeBlocks(row: 48, blockSize: 32) })
    }
}

/// A GGUF of the tokenizer metadata `convert` writes for a model directory in `dir` (tiny-qwen2's weights, Qwen2's
/// tokenizer_config.json, and the tokenizer.json that `tokenizerJSON` writes into the directory it is given), padded to
/// Qwen2's 151,936 ids.
private func tokenizerGGUF(in dir: String, tokenizerJSON: (String) throws -> Void) throws -> GGUFFile {
    let model = dir + "/hf"
    try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: false)
    for name in ["config.json", "model.safetensors"] {
        try FileManager.default.copyItem(atPath: fixturePath("models/tiny-qwen2/" + name), toPath: model + "/" + name)
    }
    try FileManager.default.copyItem(atPath: fixturePath("tokenizers/qwen2/tokenizer_config.json"), toPath: model + "/tokenizer_config.json")
    try tokenizerJSON(model)
    let conversion = try TokenizerConversion(directory: try HFModelDirectory(path: model), vocabularySize: 151_936)
    let path = dir + "/tokenizer.gguf"
    let writer = GGUFWriter(path: path)
    for kv in conversion.entries() { try writer.add(kv.key, kv.value) }
    try writer.write { _ in }
    return try GGUFFile(path: path)
}

/// Qwen2's tokenizer as `convert` writes it into a GGUF (the same metadata as llama.cpp's converter, which the golden
/// tests compare), read back the way `run` reads it, has the embedded tokenizer's fingerprint: `run`, `chat`, `serve`,
/// `perplexity` and `imatrix` on a Qwen2 GGUF restore the compiled tokenizer instead of building it from the vocabulary.
@Test func qwen2TokenizerReadFromAGGUFIsTheEmbeddedOne() throws {
    try withTemporaryDirectory { dir in
        let file = try tokenizerGGUF(in: dir) { model in
            try FileManager.default.copyItem(atPath: fixturePath("tokenizers/qwen2/tokenizer.json.zst"), toPath: model + "/tokenizer.json.zst")
        }
        let spec = try TokenizerSpec(gguf: file)
        #expect(spec.fingerprint == Tokenizer.embeddedQwen2Fingerprint)
        // Its raw tokenizer metadata hashes to the constant that lets a GGUF skip the spec, and the tokenizer that gives
        // is the embedded one.
        let hash = TokenizerSpec.ggufTokenizerHash(try GGUFTokenizerMetadata(gguf: file))
        #expect(hash == TokenizerSpec.embeddedQwen2GGUFHash, "0x\(String(hash, radix: 16))")
        #expect(try TokenizerSpec.tokenizer(gguf: file).compactForm() == Tokenizer.embeddedQwen2().compactForm())
    }
}

/// Qwen2.5's tokenizer (Qwen2's with 19 more added tokens) through a GGUF, as `run` reads it: into flat storage, then
/// the embedded tables with a decoding table of its own, the same compiled form as building it from the spec.
@Test func qwen25TokenizerReadFromAGGUFReusesTheEmbeddedTables() throws {
    try withTemporaryDirectory { dir in
        let file = try tokenizerGGUF(in: dir) { model in
            let more = qwen25ExtraAddedTokens.enumerated().map { k, token in
                "{\"id\": \(151_646 + k), \"content\": \"\(token.content)\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": \(token.special)}"
            }
            let json = String(decoding: try TrainedModel.decompressed(fixturePath("tokenizers/qwen2/tokenizer.json.zst")), as: UTF8.self)
            let end = try #require(json.range(of: "\n  ],\n  \"normalizer\""))
            try writeFile(model + "/tokenizer.json", json.replacingCharacters(in: end.lowerBound..<end.lowerBound, with: ",\n" + more.joined(separator: ",\n")))
        }
        let flat = try FlatTokenizerSpec(gguf: file)
        #expect(flat.addedTokens.count == 22 && flat.vocabCount == 151_643 && flat.mergeCount == 151_387)
        #expect(flat.fingerprint == (try TokenizerSpec(gguf: file)).fingerprint && flat.fingerprint != Tokenizer.embeddedQwen2Fingerprint)
        let tokenizer = try TokenizerSpec.tokenizer(gguf: file)
        #expect(tokenizer.vocabularySize == 151_665 && tokenizer.addedTokenID("<|fim_prefix|>") == 151_659)
        #expect(try tokenizer.compactForm() == TokenizerSpec(gguf: file).build().compactForm())
    }
}
