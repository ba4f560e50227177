// Qwen2Hyperparameters from config.json (both layouts) and from GGUF metadata, and the errors for configs the
// model cannot use. Config texts are written here in the shapes transformers 4.x and 5 save.

import Foundation
import ModelFiles
import QwenKitIO
import Testing
import TestSupport

private func config(_ text: String) throws -> JSONValue {
    var bytes = Array(text.utf8)
    return try bytes.withUnsafeMutableBufferPointer { try JSONScanner.parse(UnsafeBufferPointer($0)) }
}

private func hyperparameters(_ text: String) throws -> Qwen2Hyperparameters {
    try Qwen2Hyperparameters(hfConfig: try config(text), path: "config.json")
}

private func failure(_ text: String) throws -> String {
    do {
        _ = try hyperparameters(text)
        return "no error"
    } catch {
        return (error as? ModelFileError)?.description ?? "\(error)"
    }
}

private let qwen05B = """
    {"architectures":["Qwen2ForCausalLM"],"bos_token_id":151643,"eos_token_id":151643,"hidden_size":896,
     "intermediate_size":4864,"max_position_embeddings":32768,"model_type":"qwen2","num_attention_heads":14,
     "num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,
     "tie_word_embeddings":true,"torch_dtype":"bfloat16","vocab_size":151936}
    """

@Suite struct HyperparametersTests {
    @Test func qwen2HalfBillionConfig() throws {
        let h = try hyperparameters(qwen05B)
        #expect(h == Qwen2Hyperparameters(architecture: .qwen2, blockCount: 24, contextLength: 32768, embeddingLength: 896,
                                          feedForwardLength: 4864, headCount: 14, headCountKV: 2, keyLength: 64,
                                          valueLength: 64, ropeFreqBase: 1e6, rmsNormEpsilon: 1e-6,
                                          vocabSize: 151_936, tiedEmbeddings: true))
    }

    /// The 2024 layout (`rope_scaling` with the legacy `type`) and transformers 5's `rope_parameters` give the same.
    @Test func yarnInBothLayouts() throws {
        let old = try hyperparameters("""
            {"model_type":"qwen2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,
             "max_position_embeddings":4096,"rms_norm_eps":1e-6,"intermediate_size":96,"rope_theta":10000.0,
             "rope_scaling":{"type":"yarn","factor":4.0,"original_max_position_embeddings":1024}}
            """)
        let new = try hyperparameters("""
            {"model_type":"qwen2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,
             "max_position_embeddings":4096,"rms_norm_eps":1e-6,"intermediate_size":96,
             "rope_parameters":{"rope_type":"yarn","rope_theta":10000.0,"factor":4.0,"original_max_position_embeddings":1024}}
            """)
        #expect(old == new)
        #expect(old.ropeScaling == RopeScaling(type: "yarn", factor: 4, originalContextLength: 1024))
        #expect(old.tiedEmbeddings == false && old.headCountKV == 1 && old.keyLength == 16)
        // rope_type "default" is plain RoPE; its theta still counts.
        let plain = try hyperparameters("""
            {"model_type":"qwen2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
             "max_position_embeddings":4096,"rms_norm_eps":1e-6,"rope_parameters":{"rope_type":"default","rope_theta":5e5}}
            """)
        #expect(plain.ropeScaling == nil && plain.ropeFreqBase == 5e5 && plain.headCountKV == 4)
    }

    @Test func moeConfig() throws {
        let h = try hyperparameters("""
            {"model_type":"qwen2_moe","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
             "max_position_embeddings":4096,"rms_norm_eps":1e-6,"intermediate_size":128,"num_experts":4,
             "num_experts_per_tok":2,"moe_intermediate_size":32,"shared_expert_intermediate_size":64,
             "norm_topk_prob":true,"decoder_sparse_step":1,"mlp_only_layers":[]}
            """)
        #expect(h.architecture == .qwen2moe)
        #expect(h.moe == MoEHyperparameters(expertCount: 4, expertUsedCount: 2, expertFeedForwardLength: 32,
                                            sharedExpertFeedForwardLength: 64, normalizeTopK: true))
    }

    @Test func unusableConfigsNameTheKey() throws {
        #expect(try failure(#"{"model_type":"llama"}"#)
            == #"config.json: "model_type": "llama" is not supported (supported: qwen2, qwen2_moe)"#)
        #expect(try failure(#"{"model_type":"qwen2","hidden_size":64}"#)
            == #"config.json: "num_attention_heads": missing; a qwen2 config needs it"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""num_key_value_heads":2"#, with: #""num_key_value_heads":3"#))
            == #"config.json: "num_key_value_heads": 3 does not divide num_attention_heads 14"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""hidden_size":896"#, with: #""hidden_size":"896""#))
            == #"config.json: "hidden_size": is "896", expected an integer"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""num_hidden_layers":24"#, with: #""num_hidden_layers":2.5"#))
            == #"config.json: "num_hidden_layers": is 2.5, expected an integer"#)
        #expect(try failure("""
            {"model_type":"qwen2_moe","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
             "max_position_embeddings":4096,"rms_norm_eps":1e-6,"num_experts":4,"num_experts_per_tok":2,
             "moe_intermediate_size":32,"mlp_only_layers":[1]}
            """) == #"config.json: "mlp_only_layers": lists dense layers; Qwen2-MoE with dense layers is not supported (nor by llama.cpp)"#)
        #expect(try failure("""
            {"model_type":"qwen2_moe","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
             "max_position_embeddings":4096,"rms_norm_eps":1e-6,"num_experts":4,"num_experts_per_tok":5,
             "moe_intermediate_size":32}
            """) == #"config.json: "num_experts_per_tok": is 5; it must be between 1 and num_experts 4"#)
    }

    /// A zero hidden size is reported as the key the file states (not as the head size derived from it); an integer
    /// too large to read exactly is not called "not an integer".
    @Test func messagesNameTheStatedKey() throws {
        #expect(try failure(qwen05B.replacingOccurrences(of: #""hidden_size":896"#, with: #""hidden_size":0"#))
            == #"config.json: "hidden_size": is 0; it must be positive"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""hidden_size":896"#, with: #""hidden_size":4611686018427387904"#))
            == #"config.json: "hidden_size": is 4.611686018427388e+18, above the largest integer read exactly (9e15)"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""num_attention_heads":14"#, with: #""num_attention_heads":1024"#))
            == #"config.json: "hidden_size": 896 / num_attention_heads 1024 gives a head size of 0 (head_dim is not stated); it must be positive"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""hidden_size":896"#, with: #""hidden_size":42"#))
            == #"config.json: "hidden_size": 42 / num_attention_heads 14 gives a head size of 3 (head_dim is not stated), which is odd; RoPE rotates pairs of dimensions"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""hidden_size":896"#, with: #""hidden_size":896,"head_dim":3"#))
            == #"config.json: "head_dim": is 3, which is odd; RoPE rotates pairs of dimensions"#)
        #expect(try failure(qwen05B.replacingOccurrences(of: #""intermediate_size":4864"#, with: #""intermediate_size":-1"#))
            == #"config.json: "intermediate_size": is -1; it must not be negative"#)
        // head_dim × heads past Int is refused before anyone multiplies them.
        #expect(try failure(qwen05B.replacingOccurrences(of: #""num_key_value_heads":2"#, with: #""num_key_value_heads":2,"head_dim":4503599627370496"#)
            .replacingOccurrences(of: #""num_attention_heads":14"#, with: #""num_attention_heads":4096"#))
            == #"config.json: "num_attention_heads": is 4096; 4096 heads of 4503599627370496 values do not fit in Int"#)
        // The same fact read from a GGUF is named by its GGUF key.
        let h = try hyperparameters(qwen05B)
        var zero = h
        zero.embeddingLength = 0
        #expect(throws: ModelFileError.invalidConfig(path: "m.gguf", key: "qwen2.embedding_length", reason: "is 0; it must be positive")) {
            try zero.validate(path: "m.gguf", source: .gguf(architecture: "qwen2"))
        }
    }

    /// A config.json that does not parse says so, with the byte where it stops (not "header", which is
    /// safetensors' word).
    @Test func configThatIsNotJSON() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/config.json"
            try writeFile(path, Array(#"{"model_type": "qwen2", oops}"#.utf8))
            #expect(throws: ModelFileError.invalidJSONFile(path: path, offset: 24, message: "expected '\"', found 'o'")) {
                try Qwen2Hyperparameters(hfConfigFile: path)
            }
            do { _ = try Qwen2Hyperparameters(hfConfigFile: path) } catch {
                #expect((error as? ModelFileError)?.description == "\(path): not valid JSON: at byte 24: expected '\"', found 'o'")
            }
        }
    }

    /// The layer count, hidden size, vocabulary and experts are checked against the tensors present before
    /// anything is sized from them; a 2·10⁹-layer header is refused by counting the layers there are.
    @Test func hyperparametersAgreeWithTheTensors() throws {
        var inventory = TensorInventory()
        inventory.add(name: "token_embd.weight", storedName: "model.embed_tokens.weight", dims: [896, 151_936], expert: nil)
        for layer in 0..<24 {
            inventory.add(name: "blk.\(layer).attn_norm.weight", storedName: "n", dims: [896], expert: nil)
        }
        let h = try hyperparameters(qwen05B)
        #expect(try h.reconciled(with: inventory, path: "config.json", source: .hfConfig) == h)
        func failure(_ change: (inout Qwen2Hyperparameters) -> Void, source: HyperparameterSource = .hfConfig) -> String {
            var bad = h
            change(&bad)
            do { _ = try bad.reconciled(with: inventory, path: "config.json", source: source); return "no error" } catch {
                return error.description
            }
        }
        #expect(failure { $0.blockCount = 2_000_000_000 }
            == #"config.json: "num_hidden_layers": is 2000000000 but the tensors hold 24 layers (24 tensors in layers 0 to 23)"#)
        #expect(failure({ $0.blockCount = 1 << 62 }, source: .gguf(architecture: "qwen2"))
            == #"config.json: "qwen2.block_count": is 4611686018427387904 but the tensors hold 24 layers (24 tensors in layers 0 to 23)"#)
        #expect(failure { $0.embeddingLength = 1 << 40 }
            == #"config.json: "hidden_size": is 1099511627776 but tensor "model.embed_tokens.weight" has rows of 896 values"#)
        #expect(failure { $0.vocabSize = 2_000_000_000 }
            == #"config.json: "vocab_size": is 2000000000 but tensor "model.embed_tokens.weight" has 151936 rows"#)
        // A layer far past the others does not make the count trustworthy: every layer must hold tensors.
        inventory.add(name: "blk.999999999.attn_norm.weight", storedName: "n", dims: [896], expert: nil)
        #expect(failure { $0.blockCount = 1_000_000_000 }
            == #"config.json: "num_hidden_layers": is 1000000000 but layer 24 has no tensors (the tensors hold 25 of layers 0 to 999999999)"#)
    }

    /// Qwen2-MoE: the expert count must be the experts present, and a shared expert the source does not size
    /// (missing key, or 0) takes its size from its tensors instead of being dropped.
    @Test func expertsAgreeWithTheTensors() throws {
        let moe = try hyperparameters("""
            {"model_type":"qwen2_moe","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,
             "max_position_embeddings":4096,"rms_norm_eps":1e-6,"intermediate_size":128,"num_experts":4,
             "num_experts_per_tok":2,"moe_intermediate_size":32}
            """)
        #expect(moe.moe?.sharedExpertFeedForwardLength == 0)
        var inventory = TensorInventory()
        inventory.add(name: "blk.0.ffn_gate_exps.weight", storedName: "model.layers.0.mlp.experts.3.gate_proj.weight",
                      dims: [64, 32], expert: 3)
        inventory.add(name: "blk.0.ffn_gate_shexp.weight", storedName: "model.layers.0.mlp.shared_expert.gate_proj.weight",
                      dims: [64, 96], expert: nil)
        let filled = try moe.reconciled(with: inventory, path: "config.json", source: .hfConfig)
        #expect(filled.moe?.sharedExpertFeedForwardLength == 96)
        var more = moe
        more.moe?.expertCount = 1 << 40
        #expect(throws: ModelFileError.invalidConfig(path: "config.json", key: "num_experts",
                                                     reason: "is 1099511627776 but the expert tensors hold 4 experts")) {
            try more.reconciled(with: inventory, path: "config.json", source: .hfConfig)
        }
    }

    @Test func fromGGUFMetadata() throws {
        let file = try GGUFFile(path: fixturePath("models/tiny-qwen2.gguf"))
        let h = try Qwen2Hyperparameters(gguf: file)
        #expect(h.blockCount == 2 && h.embeddingLength == 64 && h.headCount == 4 && h.headCountKV == 2)
        #expect(h.ropeFreqBase == 1e6 && h.rmsNormEpsilon == Double(Float(1e-6)))
        #expect(h.ropeScaling == RopeScaling(type: "yarn", factor: 4, originalContextLength: 1024))
        #expect(h.vocabSize == 320 && h.tiedEmbeddings == false)
        let tokenizer = try GGUFTokenizerMetadata(gguf: file)
        #expect(tokenizer.model == "gpt2" && tokenizer.pre == "qwen2" && tokenizer.vocabularySize == 320)
        #expect(tokenizer.tokens?.string(at: 297) == "<|im_start|>" && tokenizer.merges?.string(at: 0) == "t h")
        #expect(tokenizer.eosID == 298 && tokenizer.bosID == 297 && tokenizer.paddingID == 296)
        #expect(tokenizer.tokenTypeCounts().map(\.count) == [296, 3, 21])
        // The GGUF test fixture has no hyperparameters: the first missing key is named.
        let small = try GGUFFile(path: fixturePath("gguf/small.gguf"))
        #expect(throws: ModelFileError.invalidConfig(path: small.path, key: "qwen2.attention.layer_norm_rms_epsilon",
                                                     reason: "missing; qwen2 needs it")) {
            try Qwen2Hyperparameters(gguf: small)
        }
    }
}
