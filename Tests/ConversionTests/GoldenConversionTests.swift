// convert against llama.cpp's convert_hf_to_gguf.py: every committed reference output (Fixtures/convert-golden,
// made by Fixtures/scripts/make_convert_fixtures.py from Fixtures/checkpoints) must come out byte for byte.

import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Conversion

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

@Suite struct TensorNameMapTests {
    @Test func bothDirections() {
        #expect(TensorNameMap.destination(ofHF: "model.layers.12.self_attn.k_proj.bias") == .tensor("blk.12.attn_k.bias"))
        #expect(TensorNameMap.destination(ofHF: "lm_head.weight") == .tensor("output.weight"))
        #expect(TensorNameMap.destination(ofHF: "model.layers.3.mlp.experts.7.down_proj.weight")
            == .expert(stacked: "blk.3.ffn_down_exps.weight", expert: 7))
        #expect(TensorNameMap.destination(ofHF: "model.layers.0.self_attn.rotary_emb.inv_freq") == .skipped)
        #expect(TensorNameMap.destination(ofHF: "layers.0.mlp.up_proj.weight") == .tensor("blk.0.ffn_up.weight"))  // Qwen2Model
        #expect(TensorNameMap.destination(ofHF: "model.layers.01.mlp.up_proj.weight") == nil)
        #expect(TensorNameMap.destination(ofHF: "model.vision_tower.weight") == nil)
        #expect(TensorNameMap.hfNames(ofGGUF: "blk.1.ffn_gate_inp_shexp.weight") == ["model.layers.1.mlp.shared_expert_gate.weight"])
        #expect(TensorNameMap.hfNames(ofGGUF: "blk.0.ffn_up_exps.weight", expertCount: 2)
            == ["model.layers.0.mlp.experts.0.up_proj.weight", "model.layers.0.mlp.experts.1.up_proj.weight"])
    }
}
