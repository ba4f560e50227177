import ModelFiles

// llama-quantize's choice of a type for each tensor (llama.cpp src/llama-quant.cpp; shared/SPEC-FACTS.md §4), for the
// k-quant, legacy and float file types. The IQ, TQ and MXFP4 rules are left out with those types. Decisions are made
// in the output tensor order, which matters: the attn_v counter and (for dense models) the ffn_down layer counter
// advance as tensors are met.

/// The model facts the policy reads: all from the metadata, none from tensor shapes (llama-quantize checks none).
public struct QuantizeModelFacts: Sendable, Equatable {
    public var architecture: String
    /// `<arch>.block_count`.
    public var layerCount: Int
    /// `<arch>.attention.head_count` and `head_count_kv` (of layer 0 when per-layer arrays).
    public var headCount: Int
    public var headCountKV: Int
    /// `<arch>.expert_count`, 0 for dense models.
    public var expertCount: Int

    public init(architecture: String, layerCount: Int, headCount: Int, headCountKV: Int, expertCount: Int) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.headCount = headCount
        self.headCountKV = headCountKV
        self.expertCount = expertCount
    }

    /// llama.cpp's `n_gqa()`: query heads per KV head (0 without KV heads).
    public var queryGroupSize: Int { headCountKV == 0 ? 0 : headCount / headCountKV }

    /// llama.cpp types an 80-layer Qwen2 as 70B, which moves attn_v from Q3_K/Q4_K to Q5_K.
    public var is70B: Bool { architecture == "qwen2" && layerCount == 80 }
}

/// Options that change the policy (llama-quantize's flags of the same names).
public struct QuantizeOptions: Sendable {
    /// `--pure`: every eligible tensor gets the default type (only the row-size fallbacks still apply).
    public var pure = false
    /// `--output-tensor-type`: the type of output.weight (and of a tied token_embd.weight).
    public var outputTensorType: GGMLType?
    /// `--token-embedding-type`: the type of token_embd.weight.
    public var tokenEmbeddingType: GGMLType?
    /// `--allow-requantize`: quantized input tensors are dequantized first instead of refused.
    public var allowRequantize = false
    /// `--no-fallback`: a tensor whose rows do not fit its type is refused instead of given another type.
    public var noFallback = false
    /// Worker threads for encoding.
    public var threads = 1
    /// An importance matrix is used (llama.cpp's `has_imatrix`: some mixes then choose other types).
    public var hasImportance = false
    /// `--tensor-type PATTERN=TYPE`, in the order given: the first pattern found in a tensor's name sets its type.
    public var tensorTypes: [TensorTypeOverride] = []
    /// `--override-kv`: keys set in the output (after general.file_type, in order), as llama-quantize sets them.
    public var metadataOverrides: [GGUFKeyValue] = []
    /// `--prune-layers`: layers left out of the output (the rest renumbered).
    public var pruneLayers: [Int] = []

    public init() {}
}

/// One `--tensor-type PATTERN=TYPE`: a regular expression searched for in tensor names (std::regex_search, as
/// llama-quantize does), and the type of the tensors it matches.
public struct TensorTypeOverride: @unchecked Sendable, Equatable {
    public let pattern: String
    public let type: GGMLType
    private let regex: Regex<AnyRegexOutput>

    /// Nil when `pattern` is not a valid regular expression.
    public init?(pattern: String, type: GGMLType) {
        guard let regex = try? Regex(pattern) else { return nil }
        self.pattern = pattern
        self.type = type
        self.regex = regex
    }

    func matches(_ name: String) -> Bool { (try? regex.firstMatch(in: name)) != nil }

    public static func == (a: Self, b: Self) -> Bool { a.pattern == b.pattern && a.type == b.type }
}

/// Why a tensor's type differs from the file type's default.
public enum TypeReason: Sendable, Equatable, CustomStringConvertible {
    /// Not a weight matrix llama-quantize changes (1-D, bias, norm, router, ...): copied as it is.
    case notQuantized(String)
    /// `--output-tensor-type` or `--token-embedding-type`.
    case option(String)
    /// The output tensor, or the token embedding when it is tied to the output.
    case outputTensor
    /// A mixture rule of the file type.
    case mixture(String)
    /// Rows of `rowLength` are not whole blocks of `from`.
    case fallback(from: GGMLType, rowLength: Int)
    /// No fallback fits the rows either.
    case f16Fallback(from: GGMLType, rowLength: Int)

    public var description: String {
        switch self {
        case .notQuantized(let why): return "kept: \(why)"
        case .option(let flag): return "set by \(flag)"
        case .outputTensor: return "output tensor rule"
        case .mixture(let rule): return rule
        case .fallback(let from, let row): return "rows of \(row) are not a multiple of \(from.blockSize) for \(from.name)"
        case .f16Fallback(let from, let row):
            return "rows of \(row) are not a multiple of \(from.blockSize) for \(from.name) nor of 32 for its fallback"
        }
    }

    var isFallback: Bool {
        switch self {
        case .fallback, .f16Fallback: return true
        default: return false
        }
    }
}

/// The role of a tensor as llama-quantize groups them (`tensor_get_category`): by substrings of the name.
enum TensorCategory {
    case tokenEmbedding, attentionQ, attentionV, attentionK, attentionQKV, attentionKVB, attentionOutput
    case ffnUp, ffnGate, ffnDown, output, other

    init(name: String) {
        if name == "output.weight" { self = .output }
        else if name == "token_embd.weight" || name == "per_layer_token_embd.weight" { self = .tokenEmbedding }
        else if name.contains("attn_qkv.weight") { self = .attentionQKV }
        else if name.contains("attn_kv_b.weight") { self = .attentionKVB }
        else if name.contains("attn_v.weight") { self = .attentionV }
        else if name.contains("attn_k.weight") { self = .attentionK }
        else if name.contains("attn_q.weight") { self = .attentionQ }
        else if name.contains("attn_output.weight") { self = .attentionOutput }
        else if name.contains("ffn_up") { self = .ffnUp }
        else if name.contains("ffn_gate") { self = .ffnGate }
        else if name.contains("ffn_down") { self = .ffnDown }
        else { self = .other }
    }

    /// attn_v and the tensors llama.cpp treats like it.
    var isAttentionV: Bool { self == .attentionV || self == .attentionQKV || self == .attentionKVB }
}

/// The policy's state over one file: counters advance as `decide` is called in tensor order.
public struct TensorTypePolicy {
    public let type: QuantizeType
    public let facts: QuantizeModelFacts
    public let options: QuantizeOptions
    let hasTiedEmbeddings: Bool
    let attentionVCount: Int
    var attentionVIndex = 0
    var ffnDownIndex = 0
    var ffnGateIndex = 0
    var ffnUpIndex = 0

    /// `tensorNames` is every tensor of the file (the attn_v count and tied embeddings are read from it).
    public init(type: QuantizeType, facts: QuantizeModelFacts, options: QuantizeOptions, tensorNames: [String]) {
        self.type = type
        self.facts = facts
        self.options = options
        hasTiedEmbeddings = !tensorNames.contains("output.weight")
        attentionVCount = tensorNames.filter { TensorCategory(name: $0).isAttentionV }.count
    }

    /// llama.cpp's `tensor_allows_quantization` for the tensors a Qwen2 file has; nil when eligible, else why not.
    public static func ineligibility(name: String, dims: [Int]) -> String? {
        if dims.count < 2 { return "one-dimensional" }
        if !name.hasSuffix("weight") { return "not a weight" }
        if name.contains("_norm.weight") { return "a norm" }
        if name.contains("ffn_gate_inp.weight") { return "an expert router" }
        let excluded = ["ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
                        "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight", "time_mix_first.weight",
                        "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
                        "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight",
                        "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
                        "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd",
                        "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger",
                        "a.rvq.codebook", "mm.a.code_embd"]
        if name == "position_embd.weight" || name == "token_types.weight" || excluded.contains(where: { name.contains($0) }) {
            return "excluded by name"
        }
        return nil
    }

    /// The type of one tensor (`dims` without trailing 1s) stored as `sourceType`, and why it differs from the
    /// default type. Call in output order. Throws `QuantizeError.layer` when an expert tensor's layer is unreadable,
    /// `.noFallback` when its rows fit neither its type nor any fallback llama-quantize defines.
    public mutating func decide(name: String, dims: [Int], sourceType: GGMLType) throws(QuantizeError) -> (GGMLType, [TypeReason]) {
        if let why = Self.ineligibility(name: name, dims: dims) { return (sourceType, [.notQuantized(why)]) }
        let category = TensorCategory(name: name)
        if let t = options.tokenEmbeddingType, category == .tokenEmbedding { return (t, [.option("--token-embedding-type")]) }
        if let t = options.outputTensorType, category == .output { return (t, [.option("--output-tensor-type")]) }
        var newType = type.defaultType
        var reasons: [TypeReason] = []
        guard type.isQuantized else { return (newType, reasons) }
        // --tensor-type: the first pattern found in the name decides, and the mixture rules are skipped.
        if let override = options.tensorTypes.first(where: { $0.matches(name) }) {
            if override.type != newType { reasons.append(.option("--tensor-type \(override.pattern)=\(override.type.name)")) }
            newType = override.type
        } else if !options.pure {
            let chosen = try mixture(name: name, dims: dims, category: category, defaultType: newType)
            if chosen.0 != newType || chosen.1 != nil { reasons.append(chosen.1 ?? .mixture("mixture rule")) }
            newType = chosen.0
        }
        // tensor_type_fallback: rows must be whole blocks.
        let row = dims[0]
        if row % newType.blockSize != 0 {
            var fallback: GGMLType
            switch newType {
            case .iq1_S, .iq1_M, .iq2_XXS, .iq2_XS, .iq2_S, .iq3_XXS, .iq3_S, .iq4_XS: fallback = .iq4_NL
            case .q2_0, .q2_K, .q3_K, .tq1_0, .tq2_0: fallback = .q4_0
            case .q4_K: fallback = .q5_0
            case .q5_K: fallback = .q5_1
            case .q6_K: fallback = .q8_0
            default:
                guard newType.blockSize <= 32 else { throw .noFallback(tensor: name, type: newType.name, rowLength: row) }
                fallback = newType
            }
            if row % fallback.blockSize != 0 {
                reasons.append(.f16Fallback(from: newType, rowLength: row))
                fallback = .f16
            } else {
                reasons.append(.fallback(from: newType, rowLength: row))
            }
            newType = fallback
        }
        return (newType, reasons)
    }

    /// llama.cpp's `tensor_requires_imatrix`: writing `type` into this tensor needs an importance matrix (the
    /// embeddings and the output never do).
    public func requiresImportance(name: String, type: GGMLType) -> Bool {
        let category = TensorCategory(name: name)
        if category == .tokenEmbedding || category == .output { return false }
        switch type {
        case .iq3_XXS, .iq2_XXS, .iq2_XS, .iq2_S, .iq1_M, .iq1_S: return true
        case .q2_K: return self.type == .q2_K_S
        default: return false
        }
    }

    /// `llama_tensor_get_type_impl` for a Qwen2 or Qwen2-MoE file (no Falcon, GLM or Bailing rules); the reason is
    /// nil when no rule applied.
    mutating func mixture(name: String, dims: [Int], category: TensorCategory, defaultType: GGMLType)
        throws(QuantizeError) -> (GGMLType, TypeReason?) {
        let ftype = type
        let rowLength = dims[0]
        let nExpert = facts.expertCount
        let gqa = facts.queryGroupSize
        let hasImportance = options.hasImportance
        if category == .output || (hasTiedEmbeddings && category == .tokenEmbedding) {
            if let t = options.outputTensorType { return (t, .option("--output-tensor-type")) }
            if ftype == .mxfp4MoE { return (.q8_0, .outputTensor) }
            if rowLength % defaultType.blockSize != 0 { return (.q8_0, .outputTensor) }
            if ftype.isVeryLowBit || ftype == .iq3_XXS { return (.q5_K, .outputTensor) }
            if defaultType != .q8_0 { return (.q6_K, .outputTensor) }
            return (defaultType, nil)
        }
        if ftype == .mxfp4MoE {
            if dims.count > 2, dims[2] > 1 { return (.mxfp4, nil) }
            return (.q8_0, .mixture("MXFP4_MOE: not an expert tensor"))
        }
        if category == .tokenEmbedding {
            if let t = options.tokenEmbeddingType { return (t, .option("--token-embedding-type")) }
            switch ftype {
            case .iq2_XXS, .iq2_XS, .iq1_S, .iq1_M: return (.q2_K, .mixture("\(ftype.name): token_embd"))
            case .iq2_S, .iq2_M, .iq3_XXS: return (.iq3_S, .mixture("\(ftype.name): token_embd"))
            case .tq1_0, .tq2_0, .q2_0: return (.q4_K, .mixture("\(ftype.name): token_embd"))
            default: return (defaultType, nil)
            }
        }
        if ftype.isVeryLowBit {
            let iq2SM = ftype == .iq2_S || ftype == .iq2_M
            if category.isAttentionV {
                attentionVIndex += 1
                if gqa >= 4 || nExpert >= 4 { return (.q4_K, .mixture("\(ftype.name): attn_v with \(gqa) query heads per KV head, \(nExpert) experts")) }
                return (iq2SM ? .iq3_S : .q2_K, .mixture("\(ftype.name): attn_v"))
            }
            if nExpert == 8 && category == .attentionK { return (.q4_K, .mixture("8 experts: attn_k")) }
            if category == .ffnDown {
                defer { ffnDownIndex += 1 }
                if ffnDownIndex < facts.layerCount / 8 {
                    return (iq2SM ? .iq3_S : .q2_K, .mixture("\(ftype.name): ffn_down \(ffnDownIndex), first 1/8"))
                }
                return (defaultType, nil)
            }
            if category == .attentionOutput {
                if nExpert == 8 { return (.q5_K, .mixture("8 experts: attn_output")) }
                if ftype == .iq1_S || ftype == .iq1_M { return (.iq2_XXS, .mixture("\(ftype.name): attn_output")) }
                if iq2SM { return (.iq3_S, .mixture("\(ftype.name): attn_output")) }
            }
            return (defaultType, nil)
        }
        if category.isAttentionV {
            defer { attentionVIndex += 1 }
            let i = attentionVIndex, n = attentionVCount
            var t = defaultType
            var rule: String?
            switch ftype {
            case .q2_K:
                t = gqa >= 4 ? .q4_K : .q3_K
                rule = "Q2_K: attn_v with \(gqa) query heads per KV head"
            case .q2_K_S where gqa >= 4:
                t = .q4_K
                rule = "Q2_K_S: attn_v with \(gqa) query heads per KV head"
            case .iq3_XXS:
                t = gqa >= 4 ? .q4_K : !hasImportance ? .iq3_S : .iq3_XXS
                rule = "IQ3_XXS: attn_v"
            case .iq3_XS where gqa >= 4, .iq3_S where gqa >= 4:
                t = .q4_K
                rule = "\(ftype.name): attn_v with \(gqa) query heads per KV head"
            case .iq3_M:
                t = .q4_K
                rule = "IQ3_M: attn_v"
            case .q3_K_M:
                t = i < 2 ? .q5_K : .q4_K
                rule = "Q3_K_M: attn_v \(i) of \(n)"
            case .q3_K_L:
                t = .q5_K
                rule = "Q3_K_L: attn_v"
            case .iq4_NL where gqa >= 4, .iq4_XS where gqa >= 4:
                t = .q5_K
                rule = "\(ftype.name): attn_v with \(gqa) query heads per KV head"
            case .q4_K_M, .q5_K_M:
                if Self.useMoreBits(i, n) { t = .q6_K; rule = "\(ftype.name): attn_v \(i) of \(n) gets more bits" }
            case .q4_K_S:
                if i < 4 { t = .q5_K; rule = "Q4_K_S: attn_v \(i) of the first 4" }
            default: break
            }
            if facts.is70B, t == .q3_K || t == .q4_K { t = .q5_K; rule = "70B: attn_v" }
            if nExpert == 8 { t = .q8_0; rule = "8 experts: attn_v" }
            return (t, rule.map { .mixture($0) })
        }
        switch category {
        case .attentionK:
            if nExpert == 8 { return (.q8_0, .mixture("8 experts: attn_k")) }
            if ftype == .iq3_XS { return (.iq3_XXS, .mixture("IQ3_XS: attn_k")) }
            if ftype == .iq3_XXS { return (.iq2_S, .mixture("IQ3_XXS: attn_k")) }
        case .attentionQ:
            if ftype == .iq3_XS { return (.iq3_XXS, .mixture("IQ3_XS: attn_q")) }
            if ftype == .iq3_XXS { return (.iq2_S, .mixture("IQ3_XXS: attn_q")) }
        case .ffnDown:
            var layer = ffnDownIndex
            let n = facts.layerCount
            if nExpert > 1 { layer = try Self.layer(of: name, layerCount: n) }
            ffnDownIndex += 1
            let where_ = "ffn_down in layer \(layer) of \(n)"
            switch ftype {
            case .q2_K: return (.q3_K, .mixture("Q2_K: ffn_down"))
            case .q2_K_S:
                if layer < n / 8 { return (.q4_K, .mixture("Q2_K_S: \(where_), first 1/8")) }
            case .iq3_XXS where !hasImportance:
                return layer < n / 8 ? (.q4_K, .mixture("IQ3_XXS without an imatrix: \(where_), first 1/8"))
                    : (.q3_K, .mixture("IQ3_XXS without an imatrix: ffn_down"))
            case .q3_K_M:
                return layer < n / 16 ? (.q5_K, .mixture("Q3_K_M: \(where_), first 1/16"))
                    : (.q4_K, .mixture("Q3_K_M: ffn_down"))
            case .iq3_M:
                if layer < n / 8 || (nExpert == 8 && Self.useMoreBits(layer, n)) {
                    return (.q4_K, .mixture("IQ3_M: \(where_)"))
                }
            case .q3_K_L: return (.q5_K, .mixture("Q3_K_L: ffn_down"))
            case .q4_K_M:
                if Self.useMoreBits(layer, n) { return (.q6_K, .mixture("Q4_K_M: \(where_) gets more bits")) }
            case .iq4_NL where !hasImportance && layer < n / 8, .iq4_XS where !hasImportance && layer < n / 8:
                return (.q5_K, .mixture("\(ftype.name) without an imatrix: \(where_), first 1/8"))
            case .q5_K_M:
                if Self.useMoreBits(layer, n) { return (.q6_K, .mixture("Q5_K_M: \(where_) gets more bits")) }
            case .q4_K_S:
                if layer < n / 8 { return (.q5_K, .mixture("Q4_K_S: \(where_), first 1/8")) }
            case .q4_0 where hasImportance && layer < n / 8:
                return (.q4_1, .mixture("Q4_0 with an imatrix: \(where_), first 1/8"))
            case .q5_0 where hasImportance && layer < n / 8:
                return (.q5_1, .mixture("Q5_0 with an imatrix: \(where_), first 1/8"))
            default: break
            }
        case .attentionOutput:
            if nExpert == 8 {
                if [.q2_K, .iq3_XS, .iq3_XXS, .q3_K_S, .q3_K_M, .iq4_NL, .q4_K_S, .q4_K_M, .iq3_S, .iq3_M, .iq4_XS].contains(ftype) {
                    return (.q5_K, .mixture("8 experts: attn_output"))
                }
            } else {
                switch ftype {
                case .q2_K: return (.q3_K, .mixture("Q2_K: attn_output"))
                case .iq3_XXS: return (.iq3_S, .mixture("IQ3_XXS: attn_output"))
                case .q3_K_M: return (.q4_K, .mixture("Q3_K_M: attn_output"))
                case .q3_K_L: return (.q5_K, .mixture("Q3_K_L: attn_output"))
                case .iq3_M: return (.q4_K, .mixture("IQ3_M: attn_output"))
                default: break
                }
            }
        case .attentionQKV:
            switch ftype {
            case .q3_K_M, .q3_K_L, .iq3_M: return (.q4_K, .mixture("\(ftype.name): attn_qkv"))
            case .q4_K_M: return (.q5_K, .mixture("Q4_K_M: attn_qkv"))
            case .q5_K_M: return (.q6_K, .mixture("Q5_K_M: attn_qkv"))
            default: break
            }
        case .ffnGate, .ffnUp:
            // Only IQ3_XS changes these: the middle three quarters of the layers get IQ3_XXS. The counters run per
            // tensor of each kind; MoE files read the layer from the name (and check it) as llama.cpp does.
            let n = facts.layerCount
            var layer = category == .ffnGate ? ffnGateIndex : ffnUpIndex
            if nExpert > 1 { layer = try Self.layer(of: name, layerCount: n) }
            if category == .ffnGate { ffnGateIndex += 1 } else { ffnUpIndex += 1 }
            if ftype == .iq3_XS && layer >= n / 8 && layer < 7 * n / 8 {
                return (.iq3_XXS, .mixture("IQ3_XS: \(category == .ffnGate ? "ffn_gate" : "ffn_up") in layer \(layer) of \(n)"))
            }
        default: break
        }
        return (defaultType, nil)
    }

    /// llama.cpp's `use_more_bits`: the first and last eighth of the layers and every third one between.
    static func useMoreBits(_ i: Int, _ n: Int) -> Bool {
        i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
    }

    /// The N of `blk.N.` (sscanf "blk.%d."), which must be a layer of the model.
    static func layer(of name: String, layerCount: Int) throws(QuantizeError) -> Int {
        guard let n = blockNumber(name) else { throw .layer(tensor: name, reason: "has no blk.N. prefix") }
        guard n >= 0, n < layerCount else { throw .layer(tensor: name, reason: "layer \(n) is not in [0, \(layerCount))") }
        return n
    }

    /// sscanf("blk.%d.")'s number: optional sign and digits after "blk.".
    static func blockNumber(_ name: String) -> Int? {
        let u = Array(name.utf8)
        guard u.count > 4, u[0] == 0x62, u[1] == 0x6C, u[2] == 0x6B, u[3] == 0x2E else { return nil }
        var i = 4
        var sign = 1
        if i < u.count, u[i] == 0x2D || u[i] == 0x2B { sign = u[i] == 0x2D ? -1 : 1; i += 1 }
        var value = 0
        var digits = 0
        while i < u.count, u[i] >= 0x30, u[i] <= 0x39, value < Int(Int32.max) {
            value = value * 10 + Int(u[i] - 0x30)
            i += 1
            digits += 1
        }
        return digits > 0 ? sign * value : nil
    }
}
