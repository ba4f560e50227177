// quantize with an HF checkpoint as input: the one-pass output must be the very file that `convert --outtype f32`
// followed by `quantize` on that file gives, both done here in-process by the existing code (Converter, then
// QuantizePlan(path:) and Quantizer).
//
// The committed checkpoints (Fixtures/checkpoints) have rows of 32 to 96 elements, so every k-quant there falls back
// to a 32-block type or F16; a "wide" checkpoint built here (rows of 256 and 512, F16 or BF16) puts real k-quant
// blocks through the comparison too.

import Conversion
import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Quantize

func checkpoint(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Fixtures/checkpoints").appendingPathComponent(name).path
}

/// The reference: convert to a float32 GGUF, then quantize that file.
func convertThenQuantize(_ directory: String, _ type: QuantizeType, options: QuantizeOptions, in dir: String) throws -> Data {
    let f32 = dir + "/reference-f32.gguf"
    try Converter.write(try ConversionPlan(path: directory, outputType: .f32), to: f32)
    let out = dir + "/reference.gguf"
    try Quantizer.write(try QuantizePlan(path: f32, type: type, options: options), to: out)
    return try Data(contentsOf: URL(fileURLWithPath: out))
}

/// The one-pass path, as the CLI runs it for a directory.
func quantizeCheckpoint(_ directory: String, _ type: QuantizeType, options: QuantizeOptions, in dir: String) throws -> Data {
    let out = dir + "/one-pass.gguf"
    try Quantizer.write(try QuantizePlan(checkpoint: directory, type: type, options: options), to: out)
    return try Data(contentsOf: URL(fileURLWithPath: out))
}

/// Writes a dense, untied Qwen2 checkpoint whose weight rows are 256 (hidden) and 512 (intermediate) elements, with
/// the tiny fixture tokenizer, as `dtype` (f16 or bf16) filled from a fixed pseudo-random sequence. `nan` puts
/// NaNs with payloads (signaling and quiet) into token_embd.
func writeWideCheckpoint(at path: String, dtype: SafetensorsDType, nan: Bool = false) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
    for name in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
        try fm.copyItem(atPath: checkpoint("q2-tied") + "/" + name, toPath: path + "/" + name)
    }
    let hidden = 256, ff = 512, layers = 2, heads = 2, kvHeads = 1, vocab = 320
    let headDim = hidden / heads
    let config = """
        {"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 296, "eos_token_id": 296, "hidden_act": "silu",
         "hidden_size": \(hidden), "intermediate_size": \(ff), "max_position_embeddings": 512, "model_type": "qwen2",
         "num_attention_heads": \(heads), "num_hidden_layers": \(layers), "num_key_value_heads": \(kvHeads),
         "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": false,
         "torch_dtype": "\(dtype == .bf16 ? "bfloat16" : "float16")", "vocab_size": \(vocab)}
        """
    try config.write(toFile: path + "/config.json", atomically: true, encoding: .utf8)

    var shapes: [(String, [Int])] = [("model.embed_tokens.weight", [vocab, hidden]), ("lm_head.weight", [vocab, hidden]),
                                     ("model.norm.weight", [hidden])]
    for l in 0..<layers {
        let p = "model.layers.\(l)."
        shapes += [(p + "input_layernorm.weight", [hidden]), (p + "post_attention_layernorm.weight", [hidden]),
                   (p + "self_attn.q_proj.weight", [heads * headDim, hidden]), (p + "self_attn.q_proj.bias", [heads * headDim]),
                   (p + "self_attn.k_proj.weight", [kvHeads * headDim, hidden]), (p + "self_attn.k_proj.bias", [kvHeads * headDim]),
                   (p + "self_attn.v_proj.weight", [kvHeads * headDim, hidden]), (p + "self_attn.v_proj.bias", [kvHeads * headDim]),
                   (p + "self_attn.o_proj.weight", [hidden, heads * headDim]),
                   (p + "mlp.gate_proj.weight", [ff, hidden]), (p + "mlp.up_proj.weight", [ff, hidden]),
                   (p + "mlp.down_proj.weight", [hidden, ff])]
    }
    let writer = SafetensorsWriter(path: path + "/model.safetensors", metadata: ["format": "pt"])
    for (name, shape) in shapes { try writer.addTensor(name: name, dtype: dtype, shape: shape) }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    try writer.write { sink in
        var bits: [UInt16] = []
        for i in 0..<sink.info.shape.reduce(1, *) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Mostly small weights, with a larger one now and then so that block scales vary.
            var x = Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000 * 0.05
            if state >> 60 == 0 { x *= 20 }
            var b = dtype == .bf16 ? UInt16(truncatingIfNeeded: x.bitPattern >> 16) : Float16(x).bitPattern
            if nan, sink.info.name == "model.embed_tokens.weight", i % 97 == 5 {
                b = dtype == .bf16 ? [0x7F81, 0xFFC1, 0x7FA5][i % 3] : [0x7C01, 0xFE07, 0x7D55][i % 3]
            }
            bits.append(b.littleEndian)
        }
        try bits.withUnsafeBytes { try sink.write($0) }
    }
}

@Suite struct CheckpointQuantizeTests {
    /// Every type but Q1_0: these checkpoints' rows (32 to 96 wide) fit none of its 128-element blocks, and
    /// llama-quantize has no fallback for it (both paths refuse; ImatrixQuantizeGoldenTests holds the refusal).
    static let fixtureTypes: [QuantizeType] = QuantizeType.allCases.filter { $0 != .q1_0 }
    static let cases: [(String, QuantizeType)] = ["q2-tied", "q2-untied", "q2-yarn", "q2moe"].flatMap { c in fixtureTypes.map { (c, $0) } }

    /// Every TYPE on every committed checkpoint (dense tied and untied, YaRN, MoE in three bf16 shards).
    @Test(arguments: cases)
    func fixtureEqualsConvertThenQuantize(checkpoint name: String, type: QuantizeType) throws {
        try withTemporaryDirectory { dir in
            var options = QuantizeOptions()
            options.threads = 2
            let expected = try convertThenQuantize(checkpoint(name), type, options: options, in: dir)
            let actual = try quantizeCheckpoint(checkpoint(name), type, options: options, in: dir)
            #expect(actual.count == expected.count)
            #expect(actual == expected, "\(name) \(type.name): bytes differ")
        }
    }

    static let wideTypes: [QuantizeType] = [.q8_0, .q4_0, .q5_1, .q2_K, .q3_K_M, .q4_K_M, .q5_K_S, .q6_K, .f16, .bf16, .f32]

    /// Rows of 256 and 512: the k-quant blocks themselves, the attn_v and ffn_down mixes with a KV head shared by two.
    @Test(arguments: wideTypes)
    func wideCheckpointEqualsConvertThenQuantize(type: QuantizeType) throws {
        try withTemporaryDirectory { dir in
            let model = dir + "/wide"
            try writeWideCheckpoint(at: model, dtype: .f16)
            var options = QuantizeOptions()
            options.threads = 2
            let expected = try convertThenQuantize(model, type, options: options, in: dir)
            let actual = try quantizeCheckpoint(model, type, options: options, in: dir)
            #expect(actual == expected, "\(type.name): bytes differ")
            if type == .q4_K_M {
                let plan = try QuantizePlan(checkpoint: model, type: type, options: options)
                let types = Dictionary(uniqueKeysWithValues: plan.tensors.map { ($0.name, $0.type) })
                #expect(types["blk.0.attn_q.weight"] == .q4_K)
                #expect(types["blk.0.ffn_down.weight"] == .q4_K)  // use_more_bits(0, 2) is false,
                #expect(types["blk.1.ffn_down.weight"] == .q6_K)  // use_more_bits(1, 2) true
                #expect(types["output.weight"] == .q6_K)
                #expect(types["output_norm.weight"] == .f32)
            }
        }
    }

    /// NaNs with payloads in an F16 (BF16) checkpoint written as F16 (BF16): the float32 file in between would have
    /// dropped the payloads (made them quiet), so the one-pass path must not copy those bytes through unchanged.
    @Test(arguments: [(SafetensorsDType.f16, QuantizeType.f16), (.bf16, .bf16)])
    func nanPayloadsGoThroughFloat32(dtype: SafetensorsDType, type: QuantizeType) throws {
        try withTemporaryDirectory { dir in
            let model = dir + "/nan"
            try writeWideCheckpoint(at: model, dtype: dtype, nan: true)
            let expected = try convertThenQuantize(model, type, options: QuantizeOptions(), in: dir)
            let actual = try quantizeCheckpoint(model, type, options: QuantizeOptions(), in: dir)
            #expect(actual == expected)
            // token_embd is written as it was stored; a copy of the source bytes would keep the payloads.
            let file = try GGUFFile(path: dir + "/one-pass.gguf")
            let embd = try file.data(of: "token_embd.weight")
            let element5 = UInt16(embd[10]) | UInt16(embd[11]) << 8
            #expect(element5 == (dtype == .f16 ? 0x7E00 : 0x7FE5), "signaling 0x7D55 / 0x7FA5 made quiet")
        }
    }

    /// The options change both paths alike.
    @Test func optionsEqualConvertThenQuantize() throws {
        try withTemporaryDirectory { dir in
            let model = dir + "/wide"
            try writeWideCheckpoint(at: model, dtype: .bf16)
            var options = QuantizeOptions()
            options.pure = true
            options.outputTensorType = .q8_0
            options.tokenEmbeddingType = .q4_1
            options.threads = 3
            let expected = try convertThenQuantize(model, .q3_K_S, options: options, in: dir)
            let actual = try quantizeCheckpoint(model, .q3_K_S, options: options, in: dir)
            #expect(actual == expected)
        }
    }

    /// Where llama-quantize would fall back, --no-fallback refuses the checkpoint as it refuses the float32 file,
    /// naming the directory; nothing is written.
    @Test func noFallbackRefusesAsForTheFloatFile() throws {
        try withTemporaryDirectory { dir in
            var strict = QuantizeOptions()
            strict.noFallback = true
            let f32 = dir + "/f32.gguf"
            try Converter.write(try ConversionPlan(path: checkpoint("q2-untied"), outputType: .f32), to: f32)
            // Q4_K_M's output rule picks Q8_0 for a row that is not whole Q4_K blocks; 48 is not whole Q8_0 blocks either.
            let reason = "rows of 48 are not a multiple of 32 for Q8_0 nor of 32 for its fallback"
            #expect(throws: QuantizeError.fallbackRefused(path: f32, tensor: "output.weight", reason: reason, fallback: "F16")) {
                _ = try QuantizePlan(path: f32, type: .q4_K_M, options: strict)
            }
            #expect(throws: QuantizeError.fallbackRefused(path: checkpoint("q2-untied"), tensor: "output.weight", reason: reason,
                                                          fallback: "F16")) {
                _ = try QuantizePlan(checkpoint: checkpoint("q2-untied"), type: .q4_K_M, options: strict)
            }
        }
    }

    /// What the summary counts: the checkpoint's own bytes in, and the same plan as for the float32 file otherwise.
    @Test func planMatchesTheFloatFilePlan() throws {
        try withTemporaryDirectory { dir in
            let f32 = dir + "/f32.gguf"
            try Converter.write(try ConversionPlan(path: checkpoint("q2moe"), outputType: .f32), to: f32)
            let viaFile = try QuantizePlan(path: f32, type: .q4_K_M, options: QuantizeOptions())
            let direct = try QuantizePlan(checkpoint: checkpoint("q2moe"), type: .q4_K_M, options: QuantizeOptions())
            #expect(direct.tensors.map(\.name) == viaFile.tensors.map(\.name))
            #expect(direct.tensors.map(\.dims) == viaFile.tensors.map(\.dims))
            #expect(direct.tensors.map(\.type) == viaFile.tensors.map(\.type))
            #expect(direct.tensors.map(\.reasons) == viaFile.tensors.map(\.reasons))
            #expect(direct.metadata.map(\.key) == viaFile.metadata.map(\.key))
            #expect(direct.facts == viaFile.facts)
            // bf16 in, so half the float32 file's bytes; 4 experts stacked from 4 pieces.
            #expect(direct.inputTensorBytes * 2 == viaFile.inputTensorBytes)
            #expect(direct.tensors.first { $0.name == "blk.0.ffn_up_exps.weight" }?.source.pieces.count == 4)
        }
    }

    @Test func notACheckpoint() throws {
        try withTemporaryDirectory { dir in
            let error = #expect(throws: QuantizeError.self) {
                _ = try QuantizePlan(checkpoint: dir, type: .q8_0, options: QuantizeOptions())
            }
            #expect(error?.description.hasPrefix(dir) == true, "\(String(describing: error))")
        }
    }
}
