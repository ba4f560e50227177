import ModelFiles
import QwenKitIO

/// The GGUF metadata of a converted checkpoint, key for key and in the order llama.cpp's converter writes it
/// (shared/SPEC-FACTS.md §2.6-2.8): architecture, type, sampling defaults from generation_config.json, naming,
/// hyperparameters from config.json (only the keys config.json states), file type, quantization version, tokenizer.
enum MetadataBuilder {
    /// generation_config.json key(s) → `general.sampling.*` key and GGUF type, in the reference's order.
    static let sampling: [(sources: [String], key: String, type: GGUFValueType)] = [
        (["sequence"], "general.sampling.sequence", .string),
        (["top_k"], "general.sampling.top_k", .int32),
        (["top_p"], "general.sampling.top_p", .float32),
        (["min_p"], "general.sampling.min_p", .float32),
        (["xtc_probability"], "general.sampling.xtc_probability", .float32),
        (["xtc_threshold"], "general.sampling.xtc_threshold", .float32),
        (["temperature"], "general.sampling.temp", .float32),
        (["penalty_last_n"], "general.sampling.penalty_last_n", .int32),
        (["penalty_repeat", "repetition_penalty"], "general.sampling.penalty_repeat", .float32),
        (["mirostat"], "general.sampling.mirostat", .int32),
        (["mirostat_tau"], "general.sampling.mirostat_tau", .float32),
        (["mirostat_eta"], "general.sampling.mirostat_eta", .float32),
    ]

    static func entries(directory: HFModelDirectory, hyperparameters h: Qwen2Hyperparameters, fileType: LlamaFileType,
                        naming: ModelNaming, tokenizer: TokenizerConversion) throws(ConversionError) -> [GGUFKeyValue] {
        let arch = h.architecture.rawValue
        var out: [GGUFKeyValue] = [
            GGUFKeyValue(GGUFKeys.generalArchitecture, .string(arch)),
            GGUFKeyValue(GGUFKeys.generalType, .string("model")),
        ]
        // Sampling defaults (a generation_config.json that does not parse is ignored, as the reference does).
        if directory.has(HFModelDirectory.generationConfigName),
           let generation = try? readJSONFile(directory.file(HFModelDirectory.generationConfigName)) {
            for s in sampling {
                guard let value = s.sources.lazy.compactMap({ generation[$0] }).first(where: { !$0.isNull }) else { continue }
                switch (s.type, value) {
                case (.string, .string(let v)): out.append(GGUFKeyValue(s.key, .string(v)))
                case (.int32, .number(let n)) where n == n.rounded() && abs(n) < 2_147_483_648:
                    out.append(GGUFKeyValue(s.key, .int32(Int32(n))))
                case (.float32, .number(let n)): out.append(GGUFKeyValue(s.key, .float32(Float(n))))
                default: break
                }
            }
        }
        // Naming, in gguf-py's set_gguf_meta_model order.
        let names: [(String, String?)] = [
            (GGUFKeys.generalName, naming.name), ("general.version", naming.version),
            ("general.organization", naming.organization), (GGUFKeys.generalFinetune, naming.finetune),
            (GGUFKeys.generalBasename, naming.basename), (GGUFKeys.generalSizeLabel, naming.sizeLabel),
        ]
        for (key, value) in names { if let value, !value.isEmpty { out.append(GGUFKeyValue(key, .string(value))) } }

        // Hyperparameters: what config.json states, as the reference's TextModel.set_gguf_parameters writes it.
        typealias K = GGUFKeys.Architecture
        let config = directory.config
        func u32(_ k: K, _ v: Int) { out.append(GGUFKeyValue(k.key(arch), .uint32(UInt32(truncatingIfNeeded: v)))) }
        func f32(_ k: K, _ v: Double) { out.append(GGUFKeyValue(k.key(arch), .float32(Float(v)))) }
        func number(_ key: String) -> Double? { config[key]?.number }
        u32(.blockCount, h.blockCount)
        if let v = number("max_position_embeddings") { u32(.contextLength, Int(v)) }
        u32(.embeddingLength, h.embeddingLength)
        if let v = number("intermediate_size") { u32(.feedForwardLength, Int(v)) }
        u32(.headCount, h.headCount)
        if let v = number("num_key_value_heads") { u32(.headCountKV, Int(v)) }
        if let s = h.ropeScaling, s.type == "linear" || s.type == "yarn" {
            out.append(GGUFKeyValue(K.ropeScalingType.key(arch), .string(s.type)))
            f32(.ropeScalingFactor, s.factor)
            if s.type == "yarn" {
                guard let original = s.originalContextLength else {
                    throw .model(.invalidConfig(path: directory.file(HFModelDirectory.configName),
                                                key: "original_max_position_embeddings", reason: "missing; YaRN scaling needs it"))
                }
                u32(.ropeScalingOriginalContextLength, original)
                if let v = s.extrapolationFactor { f32(.ropeYarnExtFactor, v) }
                if let v = s.attentionFactor { f32(.ropeYarnAttnFactor, v) }
                if let v = s.betaFast { f32(.ropeYarnBetaFast, v) }
                if let v = s.betaSlow { f32(.ropeYarnBetaSlow, v) }
            }
        }
        let statesTheta = number("rope_theta") != nil || config["rope_parameters"]?["rope_theta"]?.number != nil
            || config["rope_scaling"]?["rope_theta"]?.number != nil
        if statesTheta { f32(.ropeFreqBase, h.ropeFreqBase) }
        f32(.rmsNormEpsilon, h.rmsNormEpsilon)
        if let m = h.moe {
            u32(.expertCount, m.expertCount)
            u32(.expertUsedCount, m.expertUsedCount)
        }
        if let headDim = number("head_dim") {
            u32(.keyLength, Int(headDim))
            u32(.valueLength, Int(headDim))
        }
        // Sliding-window attention: llama.cpp's converter writes nothing for qwen2 (its GGUF then runs every layer
        // over the whole context); qwenkit writes gguf-py's two keys when the checkpoint enables the window, so that
        // the GGUF computes what the checkpoint does. Files without it stay byte-identical with the reference's.
        if let w = h.slidingWindow {
            u32(.slidingWindow, w.size)
            out.append(GGUFKeyValue(K.slidingWindowPattern.key(arch), .array(GGUFArray(bool: w.layers))))
        }
        out.append(GGUFKeyValue(GGUFKeys.generalFileType, .uint32(fileType.rawValue)))
        if let m = h.moe {
            if number("moe_intermediate_size") != nil { u32(.expertFeedForwardLength, m.expertFeedForwardLength) }
            if number("shared_expert_intermediate_size") != nil { u32(.expertSharedFeedForwardLength, m.sharedExpertFeedForwardLength) }
        }
        out.append(GGUFKeyValue(GGUFKeys.generalQuantizationVersion, .uint32(2)))
        out += tokenizer.entries()
        return out
    }
}
