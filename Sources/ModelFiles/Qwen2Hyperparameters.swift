import QwenKitIO

// A Qwen2 / Qwen2-MoE model's shape and constants as Swift values, read from either source and nowhere else:
// GGUF metadata (`qwen2.block_count`, ... — the keys in GGUFKeys.Architecture) or an HF `config.json` (both the
// 2024 layout with top-level `rope_theta` and `rope_scaling`, and transformers 5's `rope_parameters`; see
// shared/SPEC-NOTES.md). The two mappings below are the only places these names are spelled.

/// The model families qwenkit knows. Raw values are GGUF's `general.architecture`.
public enum ModelArchitecture: String, CaseIterable, Sendable {
    case qwen2
    case qwen2moe

    /// HF `config.json` `model_type` values.
    public init?(hfModelType: String) {
        switch hfModelType {
        case "qwen2": self = .qwen2
        case "qwen2_moe": self = .qwen2moe
        default: return nil
        }
    }
}

/// RoPE context scaling (absent for plain RoPE).
public struct RopeScaling: Sendable, Equatable {
    /// "yarn" or "linear" (GGUF `rope.scaling.type`; HF `rope_type`/`type`).
    public var type: String
    public var factor: Double
    /// The context the model was trained with (YaRN).
    public var originalContextLength: Int?
    /// YaRN's optional parameters, when the source states them.
    public var extrapolationFactor: Double?
    public var attentionFactor: Double?
    public var betaFast: Double?
    public var betaSlow: Double?

    public init(type: String, factor: Double, originalContextLength: Int? = nil, extrapolationFactor: Double? = nil,
                attentionFactor: Double? = nil, betaFast: Double? = nil, betaSlow: Double? = nil) {
        self.type = type
        self.factor = factor
        self.originalContextLength = originalContextLength
        self.extrapolationFactor = extrapolationFactor
        self.attentionFactor = attentionFactor
        self.betaFast = betaFast
        self.betaSlow = betaSlow
    }
}

/// Sliding-window attention (Qwen2's `use_sliding_window`): in the layers it names, the query at position p attends to
/// positions p − size + 1 … p only (transformers' `sliding_window_causal_mask_function`, llama.cpp's standard SWA).
public struct SlidingWindow: Sendable, Equatable {
    /// Positions a query sees, itself included.
    public var size: Int
    /// One entry per layer: whether it uses the window (at least one does).
    public var layers: [Bool]

    public init(size: Int, layers: [Bool]) {
        self.size = size
        self.layers = layers
    }
}

/// The mixture-of-experts part of a Qwen2-MoE model.
public struct MoEHyperparameters: Sendable, Equatable {
    public var expertCount: Int
    /// Experts chosen per token (top-k).
    public var expertUsedCount: Int
    /// Rows of each routed expert's FFN (`moe_intermediate_size`).
    public var expertFeedForwardLength: Int
    /// Rows of the shared expert's FFN (`shared_expert_intermediate_size`); 0 when there is none.
    public var sharedExpertFeedForwardLength: Int
    /// Whether the top-k router weights are renormalized to sum to 1 (HF `norm_topk_prob`; GGUF does not store it,
    /// and llama.cpp's qwen2moe does not renormalize, so a GGUF gives false).
    public var normalizeTopK: Bool

    public init(expertCount: Int, expertUsedCount: Int, expertFeedForwardLength: Int,
                sharedExpertFeedForwardLength: Int, normalizeTopK: Bool) {
        self.expertCount = expertCount
        self.expertUsedCount = expertUsedCount
        self.expertFeedForwardLength = expertFeedForwardLength
        self.sharedExpertFeedForwardLength = sharedExpertFeedForwardLength
        self.normalizeTopK = normalizeTopK
    }
}

/// The hyperparameters a message can name, each spelled as its source spells it: the one table of `config.json`
/// names (the GGUF names are `GGUFKeys.Architecture`). Errors name the key of the file the value came from, never a
/// quantity derived from it.
public enum Qwen2Hyperparameter: CaseIterable, Sendable {
    case blockCount, contextLength, embeddingLength, feedForwardLength, headCount, headCountKV, keyLength, valueLength
    case rmsNormEpsilon, ropeFreqBase, ropeScalingFactor, slidingWindow, slidingWindowPattern
    case expertCount, expertUsedCount, expertFeedForwardLength, sharedExpertFeedForwardLength, vocabSize

    /// The GGUF key suffix (after `{arch}.`).
    public var gguf: GGUFKeys.Architecture {
        switch self {
        case .blockCount: return .blockCount
        case .contextLength: return .contextLength
        case .embeddingLength: return .embeddingLength
        case .feedForwardLength: return .feedForwardLength
        case .headCount: return .headCount
        case .headCountKV: return .headCountKV
        case .keyLength: return .keyLength
        case .valueLength: return .valueLength
        case .rmsNormEpsilon: return .rmsNormEpsilon
        case .ropeFreqBase: return .ropeFreqBase
        case .ropeScalingFactor: return .ropeScalingFactor
        case .slidingWindow: return .slidingWindow
        case .slidingWindowPattern: return .slidingWindowPattern
        case .expertCount: return .expertCount
        case .expertUsedCount: return .expertUsedCount
        case .expertFeedForwardLength: return .expertFeedForwardLength
        case .sharedExpertFeedForwardLength: return .expertSharedFeedForwardLength
        case .vocabSize: return .vocabSize
        }
    }

    /// The transformers `config.json` key (`head_dim` stands for both key and value sizes).
    public var hf: String {
        switch self {
        case .blockCount: return "num_hidden_layers"
        case .contextLength: return "max_position_embeddings"
        case .embeddingLength: return "hidden_size"
        case .feedForwardLength: return "intermediate_size"
        case .headCount: return "num_attention_heads"
        case .headCountKV: return "num_key_value_heads"
        case .keyLength, .valueLength: return "head_dim"
        case .rmsNormEpsilon: return "rms_norm_eps"
        case .ropeFreqBase: return "rope_theta"
        case .ropeScalingFactor: return "rope_scaling.factor"
        case .slidingWindow: return "sliding_window"
        case .slidingWindowPattern: return "layer_types"
        case .expertCount: return "num_experts"
        case .expertUsedCount: return "num_experts_per_tok"
        case .expertFeedForwardLength: return "moe_intermediate_size"
        case .sharedExpertFeedForwardLength: return "shared_expert_intermediate_size"
        case .vocabSize: return "vocab_size"
        }
    }
}

/// Where hyperparameters were read from, so that a message names the key as that file spells it.
public enum HyperparameterSource: Sendable, Equatable {
    /// GGUF metadata of this `general.architecture`.
    case gguf(architecture: String)
    /// A transformers `config.json`.
    case hfConfig

    /// `qwen2.block_count` or `num_hidden_layers`.
    public func key(_ p: Qwen2Hyperparameter) -> String {
        switch self {
        case .gguf(let architecture): return p.gguf.key(architecture)
        case .hfConfig: return p.hf
        }
    }
}

/// A Qwen2-family model's hyperparameters.
public struct Qwen2Hyperparameters: Sendable, Equatable {
    public var architecture: ModelArchitecture
    /// Transformer layers.
    public var blockCount: Int
    /// Longest context the model is made for (`max_position_embeddings`).
    public var contextLength: Int
    /// Hidden size.
    public var embeddingLength: Int
    /// Rows of the dense FFN (`intermediate_size`; in a MoE model, unused by the routed layers).
    public var feedForwardLength: Int
    public var headCount: Int
    public var headCountKV: Int
    /// Per-head size of queries/keys and values (`head_dim`; by default hidden / heads).
    public var keyLength: Int
    public var valueLength: Int
    public var ropeFreqBase: Double
    public var rmsNormEpsilon: Double
    public var ropeScaling: RopeScaling?
    public var moe: MoEHyperparameters?
    /// Rows of the embedding, when the source says (HF `vocab_size`; GGUF: the token list or `token_embd`).
    public var vocabSize: Int?
    /// Whether the output projection is the token embedding (HF `tie_word_embeddings`; GGUF: no `output.weight`).
    public var tiedEmbeddings: Bool?
    /// Nil when every layer attends to the whole context (Qwen2's default: `use_sliding_window` false).
    public var slidingWindow: SlidingWindow?

    /// RoPE's default base when a source does not state one (transformers and llama.cpp agree).
    public static let defaultRopeFreqBase = 10_000.0

    public init(architecture: ModelArchitecture, blockCount: Int, contextLength: Int, embeddingLength: Int,
                feedForwardLength: Int, headCount: Int, headCountKV: Int, keyLength: Int? = nil,
                valueLength: Int? = nil, ropeFreqBase: Double = Self.defaultRopeFreqBase, rmsNormEpsilon: Double,
                ropeScaling: RopeScaling? = nil, moe: MoEHyperparameters? = nil, vocabSize: Int? = nil,
                tiedEmbeddings: Bool? = nil, slidingWindow: SlidingWindow? = nil) {
        self.architecture = architecture
        self.blockCount = blockCount
        self.contextLength = contextLength
        self.embeddingLength = embeddingLength
        self.feedForwardLength = feedForwardLength
        self.headCount = headCount
        self.headCountKV = headCountKV
        self.keyLength = keyLength ?? (headCount > 0 ? embeddingLength / headCount : 0)
        self.valueLength = valueLength ?? self.keyLength
        self.ropeFreqBase = ropeFreqBase
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeScaling = ropeScaling
        self.moe = moe
        self.vocabSize = vocabSize
        self.tiedEmbeddings = tiedEmbeddings
        self.slidingWindow = slidingWindow
    }

    /// The longest sequence the model runs: its context length, or with RoPE scaling of factor f above 1 the
    /// original context times f when that is longer (Qwen2.5's YaRN configs keep `max_position_embeddings` at the
    /// original 32,768 and state factor 4 for 131,072 tokens).
    public var usableContextLength: Int {
        guard let s = ropeScaling, s.type != "none", s.type != "default", s.factor > 1 else { return contextLength }
        let scaled = Double(s.originalContextLength ?? contextLength) * s.factor
        return scaled < Double(Int32.max) ? max(contextLength, Int(scaled)) : max(contextLength, Int(Int32.max))
    }

    /// Checks what every later stage relies on: positive sizes, heads dividing evenly, KV heads dividing heads,
    /// an even head size (RoPE rotates pairs), a top-k within the experts, head widths that fit in `Int`. `path`
    /// names the source in errors and `source` how it spells the keys (a `config.json`'s `hidden_size`, a GGUF's
    /// `qwen2.embedding_length`). When the source does not state the head size (`headSizeStated` false), a head
    /// size that cannot work is reported on the hidden size it was derived from, the key the file does have.
    public func validate(path: String, source: HyperparameterSource, headSizeStated: Bool = true) throws(ModelFileError) {
        typealias P = Qwen2Hyperparameter
        func fail(_ p: P, _ reason: String) -> ModelFileError { .invalidConfig(path: path, key: source.key(p), reason: reason) }
        func name(_ p: P) -> String { source.key(p) }
        func headSizeFail(_ p: P, _ value: Int, _ problem: String) -> ModelFileError {
            guard headSizeStated else {
                return fail(.embeddingLength, "\(embeddingLength) / \(name(.headCount)) \(headCount) gives a head size of \(value)"
                    + " (\(name(.keyLength)) is not stated)\(problem)")
            }
            return fail(p, "is \(value)\(problem)")
        }
        // The stated sizes first, so that a zero hidden size is reported as itself rather than as the head size
        // derived from it.
        let sizes: [(P, Int)] = [(.blockCount, blockCount), (.contextLength, contextLength),
                                 (.embeddingLength, embeddingLength), (.headCount, headCount),
                                 (.headCountKV, headCountKV), (.keyLength, keyLength), (.valueLength, valueLength)]
        for (p, value) in sizes where value <= 0 {
            if p == .keyLength || p == .valueLength { throw headSizeFail(p, value, "; it must be positive") }
            throw fail(p, "is \(value); it must be positive")
        }
        guard feedForwardLength >= 0 else { throw fail(.feedForwardLength, "is \(feedForwardLength); it must not be negative") }
        guard headCount % headCountKV == 0 else {
            throw fail(.headCountKV, "\(headCountKV) does not divide \(name(.headCount)) \(headCount)")
        }
        guard keyLength % 2 == 0 else { throw headSizeFail(.keyLength, keyLength, ", which is odd; RoPE rotates pairs of dimensions") }
        for (p, heads, size) in [(P.headCount, headCount, keyLength), (.headCount, headCount, valueLength)] {
            guard !heads.multipliedReportingOverflow(by: size).overflow else {
                throw fail(p, "is \(heads); \(heads) heads of \(size) values do not fit in Int")
            }
        }
        guard rmsNormEpsilon.isFinite, rmsNormEpsilon >= 0 else { throw fail(.rmsNormEpsilon, "is \(rmsNormEpsilon)") }
        guard ropeFreqBase.isFinite, ropeFreqBase > 0 else { throw fail(.ropeFreqBase, "is \(ropeFreqBase); it must be positive") }
        if let s = ropeScaling {
            guard s.factor.isFinite, s.factor > 0 else { throw fail(.ropeScalingFactor, "is \(s.factor); it must be positive") }
        }
        if let moe {
            guard moe.expertCount > 0 else { throw fail(.expertCount, "is \(moe.expertCount); it must be positive") }
            guard (1...moe.expertCount).contains(moe.expertUsedCount) else {
                throw fail(.expertUsedCount, "is \(moe.expertUsedCount); it must be between 1 and \(name(.expertCount)) \(moe.expertCount)")
            }
            guard moe.expertFeedForwardLength > 0 else {
                throw fail(.expertFeedForwardLength, "is \(moe.expertFeedForwardLength); it must be positive")
            }
        }
        if let v = vocabSize, v <= 0 { throw fail(.vocabSize, "is \(v); it must be positive") }
        if let w = slidingWindow {
            guard w.size > 0 else { throw fail(.slidingWindow, "is \(w.size); it must be positive") }
            guard w.size <= usableContextLength else {
                throw fail(.slidingWindow, "is \(w.size), larger than the context (\(name(.contextLength)) \(contextLength)"
                    + (usableContextLength > contextLength ? ", \(usableContextLength) with RoPE scaling" : "") + ")")
            }
            guard w.layers.count == blockCount else {
                throw fail(.slidingWindowPattern, "has \(w.layers.count) entries but the model has \(blockCount) layers (\(name(.blockCount)))")
            }
        }
    }
}

// MARK: - From GGUF metadata

extension Qwen2Hyperparameters {
    /// Reads `{arch}.*` from a GGUF file whose `general.architecture` is qwen2 or qwen2moe. Missing required keys,
    /// values of the wrong kind and inconsistent values throw, naming the key.
    public init(gguf file: GGUFFile) throws(ModelFileError) {
        let path = file.path
        guard let archName = file[GGUFKeys.generalArchitecture]?.stringValue else {
            throw .invalidConfig(path: path, key: GGUFKeys.generalArchitecture, reason: "missing, or not a string")
        }
        guard let arch = ModelArchitecture(rawValue: archName) else {
            throw .invalidConfig(path: path, key: GGUFKeys.generalArchitecture, reason:
                "architecture \(quoted(archName)) is not supported (supported: \(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        typealias K = GGUFKeys.Architecture
        func value(_ k: K) -> GGUFValue? { file[k.key(archName)] }
        func int(_ k: K) throws(ModelFileError) -> Int? {
            guard let v = value(k) else { return nil }
            guard let i = v.intValue else {
                throw .invalidConfig(path: path, key: k.key(archName), reason: "has type \(v.type.name), expected an integer")
            }
            return i
        }
        func required(_ k: K) throws(ModelFileError) -> Int {
            guard let i = try int(k) else { throw .invalidConfig(path: path, key: k.key(archName), reason: "missing; \(archName) needs it") }
            return i
        }
        func double(_ k: K) throws(ModelFileError) -> Double? {
            switch value(k) {
            case nil: return nil
            case .float32(let f)?: return Double(f)
            case .float64(let d)?: return d
            case let v?: throw .invalidConfig(path: path, key: k.key(archName), reason: "has type \(v.type.name), expected a float")
            }
        }

        var scaling: RopeScaling?
        if let typeValue = value(.ropeScalingType) {
            guard let type = typeValue.stringValue else {
                throw .invalidConfig(path: path, key: K.ropeScalingType.key(archName), reason: "has type \(typeValue.type.name), expected a string")
            }
            if type != "none" {
                guard let factor = try double(.ropeScalingFactor) else {
                    throw .invalidConfig(path: path, key: K.ropeScalingFactor.key(archName), reason: "missing; rope scaling \(quoted(type)) needs it")
                }
                scaling = RopeScaling(type: type, factor: factor,
                                      originalContextLength: try int(.ropeScalingOriginalContextLength),
                                      extrapolationFactor: try double(.ropeYarnExtFactor),
                                      attentionFactor: try double(.ropeYarnAttnFactor),
                                      betaFast: try double(.ropeYarnBetaFast), betaSlow: try double(.ropeYarnBetaSlow))
            }
        }
        var moe: MoEHyperparameters?
        if arch == .qwen2moe {
            moe = MoEHyperparameters(expertCount: try required(.expertCount),
                                     expertUsedCount: try required(.expertUsedCount),
                                     expertFeedForwardLength: try required(.expertFeedForwardLength),
                                     sharedExpertFeedForwardLength: try int(.expertSharedFeedForwardLength) ?? 0,
                                     normalizeTopK: false)
        }
        guard let eps = try double(.rmsNormEpsilon) else {
            throw .invalidConfig(path: path, key: K.rmsNormEpsilon.key(archName), reason: "missing; \(archName) needs it")
        }
        let vocab = try int(.vocabSize)
            ?? file[GGUFKeys.tokenizerTokens]?.arrayValue?.count
            ?? file.tensor(named: "token_embd.weight").flatMap { $0.dims.count == 2 ? $0.dims[1] : nil }
        var window: SlidingWindow?
        if let size = try int(.slidingWindow) {
            let patternKey = K.slidingWindowPattern.key(archName)
            guard let pattern = value(.slidingWindowPattern) else {
                throw .invalidConfig(path: path, key: patternKey, reason: "missing; \(K.slidingWindow.key(archName)) needs it (one bool per layer)")
            }
            guard let entries = pattern.arrayValue else {
                throw .invalidConfig(path: path, key: patternKey, reason: "has type \(pattern.type.name); qwenkit reads the per-layer form, an array of bools")
            }
            guard entries.elementType == .bool else {
                throw .invalidConfig(path: path, key: patternKey, reason: "is an array of \(entries.elementType.name), expected an array of bools")
            }
            let layers = entries.values.map { if case .bool(let b) = $0 { b } else { false } }
            if layers.contains(true) { window = SlidingWindow(size: size, layers: layers) }
        }
        let headCount = try required(.headCount)
        let headCountKV = try int(.headCountKV) ?? headCount
        let keyLength = try int(.keyLength)
        self.init(architecture: arch,
                  blockCount: try required(.blockCount),
                  contextLength: try required(.contextLength),
                  embeddingLength: try required(.embeddingLength),
                  feedForwardLength: try int(.feedForwardLength) ?? 0,
                  headCount: headCount,
                  headCountKV: headCountKV,
                  keyLength: keyLength,
                  valueLength: try int(.valueLength),
                  ropeFreqBase: try double(.ropeFreqBase) ?? Self.defaultRopeFreqBase,
                  rmsNormEpsilon: eps,
                  ropeScaling: scaling,
                  moe: moe,
                  vocabSize: vocab,
                  tiedEmbeddings: file.tensor(named: "output.weight") == nil,
                  slidingWindow: window)
        try validate(path: path, source: .gguf(architecture: archName), headSizeStated: keyLength != nil)
    }
}

// MARK: - From an HF config.json

extension Qwen2Hyperparameters {
    /// Reads a transformers `config.json` (`model_type` qwen2 or qwen2_moe). Defaults are transformers' own
    /// (`num_key_value_heads` = heads, `rope_theta` 10000, `tie_word_embeddings` false, `norm_topk_prob` false).
    public init(hfConfig config: JSONValue, path: String) throws(ModelFileError) {
        typealias P = Qwen2Hyperparameter
        func fail(_ key: String, _ reason: String) -> ModelFileError { .invalidConfig(path: path, key: key, reason: reason) }
        guard case .object = config else { throw fail("config", "is not a JSON object") }
        guard let modelType = config["model_type"]?.string else { throw fail("model_type", "missing, or not a string") }
        guard let arch = ModelArchitecture(hfModelType: modelType) else {
            throw fail("model_type", "\(quoted(modelType)) is not supported (supported: qwen2, qwen2_moe)")
        }
        func int(_ key: String, in object: JSONValue? = nil) throws(ModelFileError) -> Int? {
            guard let v = (object ?? config)[key], !v.isNull else { return nil }
            guard let d = v.number, d == d.rounded() else { throw fail(key, "is \(v.text), expected an integer") }
            // Above 2^53 a JSON number is no longer read exactly (and no model has such a size).
            guard abs(d) < 9e15 else { throw fail(key, "is \(v.text), above the largest integer read exactly (9e15)") }
            return Int(d)
        }
        func required(_ key: String) throws(ModelFileError) -> Int {
            guard let i = try int(key) else { throw fail(key, "missing; a \(modelType) config needs it") }
            return i
        }
        func double(_ key: String, in object: JSONValue? = nil) throws(ModelFileError) -> Double? {
            guard let v = (object ?? config)[key], !v.isNull else { return nil }
            guard let d = v.number else { throw fail(key, "is \(v.text), expected a number") }
            return d
        }
        func bool(_ key: String) throws(ModelFileError) -> Bool? {
            guard let v = config[key], !v.isNull else { return nil }
            guard let b = v.bool else { throw fail(key, "is \(v.text), expected true or false") }
            return b
        }

        // RoPE: transformers 5 keeps everything in `rope_parameters`; older configs have a top-level `rope_theta`
        // and an optional `rope_scaling` whose kind is `rope_type` or the legacy `type`.
        let ropeObject = [config["rope_parameters"], config["rope_scaling"]].lazy.compactMap { $0 }.first { !$0.isNull }
        if let ropeObject, case .object = ropeObject {} else if let ropeObject {
            throw fail("rope_scaling", "is \(ropeObject.text), expected an object")
        }
        let topTheta = try double(P.ropeFreqBase.hf)
        let nestedTheta = ropeObject == nil ? nil : try double(P.ropeFreqBase.hf, in: ropeObject)
        let theta = topTheta ?? nestedTheta
        var scaling: RopeScaling?
        if let r = ropeObject {
            let kind = r["rope_type"]?.string ?? r["type"]?.string ?? "default"
            if kind != "default", let factor = try double("factor", in: r) {
                let nestedOriginal = try int("original_max_position_embeddings", in: r)
                let topOriginal = try int("original_max_position_embeddings")
                let attentionFactor = try double("attention_factor", in: r)
                let attnFactor = try double("attn_factor", in: r)
                scaling = RopeScaling(type: kind, factor: factor,
                                      originalContextLength: nestedOriginal ?? topOriginal,
                                      extrapolationFactor: try double("extrapolation_factor", in: r),
                                      attentionFactor: attentionFactor ?? attnFactor,
                                      betaFast: try double("beta_fast", in: r), betaSlow: try double("beta_slow", in: r))
            }
        }
        var moe: MoEHyperparameters?
        if arch == .qwen2moe {
            if let layers = config["mlp_only_layers"]?.array, !layers.isEmpty {
                throw fail("mlp_only_layers", "lists dense layers; Qwen2-MoE with dense layers is not supported (nor by llama.cpp)")
            }
            if let step = try int("decoder_sparse_step"), step > 1 {
                throw fail("decoder_sparse_step", "is \(step); Qwen2-MoE with dense layers is not supported (nor by llama.cpp)")
            }
            let experts = try int(P.expertCount.hf)
            let localExperts = try int("num_local_experts")
            guard let expertCount = experts ?? localExperts else {
                throw fail(P.expertCount.hf, "missing; a \(modelType) config needs it")
            }
            moe = MoEHyperparameters(expertCount: expertCount,
                                     expertUsedCount: try required(P.expertUsedCount.hf),
                                     expertFeedForwardLength: try required(P.expertFeedForwardLength.hf),
                                     sharedExpertFeedForwardLength: try int(P.sharedExpertFeedForwardLength.hf) ?? 0,
                                     normalizeTopK: try bool("norm_topk_prob") ?? false)
        }
        let heads = try required(P.headCount.hf)
        let headDim = try int(P.keyLength.hf)
        guard let eps = try double(P.rmsNormEpsilon.hf) else { throw fail(P.rmsNormEpsilon.hf, "missing; a \(modelType) config needs it") }
        // Sliding window, as transformers 5's Qwen2Config: the window only with `use_sliding_window` (default 4096),
        // `layer_types` as stated or else sliding from `max_window_layers` (default 28) on.
        let blocks = try required(P.blockCount.hf)
        var window: SlidingWindow?
        let windowSize = try bool("use_sliding_window") == true ? (config[P.slidingWindow.hf] == nil ? 4096 : try int(P.slidingWindow.hf)) : nil
        var slidingLayers: [Bool]
        if let types = config[P.slidingWindowPattern.hf], !types.isNull {
            guard let list = types.array else { throw fail(P.slidingWindowPattern.hf, "is \(types.text), expected a list of layer types") }
            slidingLayers = []
            for (i, t) in list.enumerated() {
                switch t.string {
                case "full_attention": slidingLayers.append(false)
                case "sliding_attention": slidingLayers.append(true)
                default: throw fail(P.slidingWindowPattern.hf, "entry \(i) is \(t.text); expected \"full_attention\" or \"sliding_attention\"")
                }
            }
            if windowSize == nil, slidingLayers.contains(true) {
                throw fail(P.slidingWindowPattern.hf, "lists sliding_attention layers but there is no window (use_sliding_window is not true"
                    + " or sliding_window is null)")
            }
        } else {
            let firstWindowed = try int("max_window_layers") ?? 28
            slidingLayers = (0..<max(blocks, 0)).map { windowSize != nil && $0 >= firstWindowed }
        }
        // A list without sliding layers changes nothing (its length is checked only when it does, in validate).
        if let size = windowSize, slidingLayers.contains(true) { window = SlidingWindow(size: size, layers: slidingLayers) }
        self.init(architecture: arch,
                  blockCount: blocks,
                  contextLength: try required(P.contextLength.hf),
                  embeddingLength: try required(P.embeddingLength.hf),
                  feedForwardLength: try int(P.feedForwardLength.hf) ?? 0,
                  headCount: heads,
                  headCountKV: try int(P.headCountKV.hf) ?? heads,
                  keyLength: headDim,
                  valueLength: headDim,
                  ropeFreqBase: theta ?? Self.defaultRopeFreqBase,
                  rmsNormEpsilon: eps,
                  ropeScaling: scaling,
                  moe: moe,
                  vocabSize: try int(P.vocabSize.hf),
                  tiedEmbeddings: try bool("tie_word_embeddings") ?? false,
                  slidingWindow: window)
        try validate(path: path, source: .hfConfig, headSizeStated: headDim != nil)
    }

    /// Reads and parses `path` (a `config.json`, at most `maxConfigLength` bytes).
    public init(hfConfigFile path: String) throws(ModelFileError) {
        try self.init(hfConfig: try readJSONFile(path), path: path)
    }
}

/// The largest JSON side file read whole (config.json, tokenizer_config.json, an index).
public let maxConfigLength = 100_000_000

/// Parses the JSON file at `path`, with errors naming it.
public func readJSONFile(_ path: String) throws(ModelFileError) -> JSONValue {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .io(error) }
    guard file.count <= maxConfigLength else {
        throw .invalidConfig(path: path, key: "", reason: "file is \(file.count) bytes, above the limit of \(maxConfigLength)")
    }
    do {
        return try file.withUnsafeBytes { (raw) throws(JSONError) -> JSONValue in
            try JSONScanner.parse(raw.bindMemory(to: UInt8.self))
        }
    } catch {
        throw .invalidJSONFile(path: path, offset: error.offset, message: error.message)
    }
}
