// GGUF metadata keys, spelled verbatim as in gguf-py's constants.Keys: the one table of them. Keys that start with
// the architecture (`qwen2.block_count`) are functions of it.

/// Well-known GGUF metadata keys.
public enum GGUFKeys {
    public static let generalArchitecture = "general.architecture"
    public static let generalType = "general.type"
    /// An importance matrix file (llama-imatrix's GGUF output): `general.type` is "imatrix".
    public static let imatrixDatasets = "imatrix.datasets"
    public static let imatrixChunkCount = "imatrix.chunk_count"
    public static let imatrixChunkSize = "imatrix.chunk_size"
    /// What llama-quantize records about the importance matrix it used.
    public static let quantizeImatrixFile = "quantize.imatrix.file"
    public static let quantizeImatrixDataset = "quantize.imatrix.dataset"
    public static let quantizeImatrixEntriesCount = "quantize.imatrix.entries_count"
    public static let quantizeImatrixChunksCount = "quantize.imatrix.chunks_count"
    public static let generalAlignment = "general.alignment"
    public static let generalName = "general.name"
    public static let generalBasename = "general.basename"
    public static let generalFinetune = "general.finetune"
    public static let generalSizeLabel = "general.size_label"
    public static let generalFileType = "general.file_type"
    public static let generalQuantizationVersion = "general.quantization_version"
    /// A model's recommended sampling (gguf-py's names), which llama.cpp's tools take as their defaults.
    public enum Sampling {
        public static let temperature = "general.sampling.temp"
        public static let topK = "general.sampling.top_k"
        public static let topP = "general.sampling.top_p"
        public static let minP = "general.sampling.min_p"
        public static let repeatLastN = "general.sampling.penalty_last_n"
        public static let repeatPenalty = "general.sampling.penalty_repeat"
    }

    public static let tokenizerModel = "tokenizer.ggml.model"
    public static let tokenizerPre = "tokenizer.ggml.pre"
    public static let tokenizerTokens = "tokenizer.ggml.tokens"
    public static let tokenizerTokenType = "tokenizer.ggml.token_type"
    public static let tokenizerScores = "tokenizer.ggml.scores"
    public static let tokenizerMerges = "tokenizer.ggml.merges"
    public static let tokenizerBOS = "tokenizer.ggml.bos_token_id"
    public static let tokenizerEOS = "tokenizer.ggml.eos_token_id"
    public static let tokenizerEOT = "tokenizer.ggml.eot_token_id"
    public static let tokenizerUnknown = "tokenizer.ggml.unknown_token_id"
    public static let tokenizerPadding = "tokenizer.ggml.padding_token_id"
    public static let tokenizerAddBOS = "tokenizer.ggml.add_bos_token"
    public static let tokenizerAddEOS = "tokenizer.ggml.add_eos_token"
    public static let tokenizerChatTemplate = "tokenizer.chat_template"

    /// Whether `key` holds a token id (`tokenizer.ggml.bos_token_id`, `eos`, `eot`, `padding`, `unknown`,
    /// `seperator`, `fim_pre`, ...: every key of the `tokenizer.ggml.*_token_id` family), which must be below the
    /// number of tokens in `tokenizer.ggml.tokens`.
    public static func isTokenID(_ key: String) -> Bool {
        key.hasPrefix(tokenizerIDPrefix) && key.hasSuffix(tokenizerIDSuffix) && key.utf8.count > tokenizerIDPrefix.utf8.count + tokenizerIDSuffix.utf8.count
    }
    static let tokenizerIDPrefix = "tokenizer.ggml."
    static let tokenizerIDSuffix = "_token_id"

    /// Keys under the architecture's prefix (`{arch}.` + suffix).
    public enum Architecture: String, CaseIterable, Sendable {
        case blockCount = "block_count"
        case contextLength = "context_length"
        case embeddingLength = "embedding_length"
        case feedForwardLength = "feed_forward_length"
        case headCount = "attention.head_count"
        case headCountKV = "attention.head_count_kv"
        case keyLength = "attention.key_length"
        case valueLength = "attention.value_length"
        case rmsNormEpsilon = "attention.layer_norm_rms_epsilon"
        case slidingWindow = "attention.sliding_window"
        /// One bool per layer: whether it attends through the sliding window (gguf-py's `add_sliding_window_pattern`).
        case slidingWindowPattern = "attention.sliding_window_pattern"
        case ropeFreqBase = "rope.freq_base"
        case ropeDimensionCount = "rope.dimension_count"
        case ropeScalingType = "rope.scaling.type"
        case ropeScalingFactor = "rope.scaling.factor"
        case ropeScalingOriginalContextLength = "rope.scaling.original_context_length"
        case ropeYarnExtFactor = "rope.scaling.yarn_ext_factor"
        case ropeYarnAttnFactor = "rope.scaling.yarn_attn_factor"
        case ropeYarnBetaFast = "rope.scaling.yarn_beta_fast"
        case ropeYarnBetaSlow = "rope.scaling.yarn_beta_slow"
        case expertCount = "expert_count"
        case expertUsedCount = "expert_used_count"
        case expertFeedForwardLength = "expert_feed_forward_length"
        case expertSharedFeedForwardLength = "expert_shared_feed_forward_length"
        case vocabSize = "vocab_size"

        /// The full key for `architecture`, e.g. `qwen2.attention.head_count_kv`.
        public func key(_ architecture: String) -> String { architecture + "." + rawValue }
    }

    /// Every key this table knows for `architecture` (so a summary can list the ones it does not know).
    public static func known(architecture: String?) -> Set<String> {
        var keys: Set<String> = [
            generalArchitecture, generalType, generalAlignment, generalName, generalBasename, generalFinetune,
            generalSizeLabel, generalFileType, generalQuantizationVersion,
            tokenizerModel, tokenizerPre, tokenizerTokens, tokenizerTokenType, tokenizerScores, tokenizerMerges,
            tokenizerBOS, tokenizerEOS, tokenizerEOT, tokenizerUnknown, tokenizerPadding, tokenizerAddBOS,
            tokenizerAddEOS, tokenizerChatTemplate,
            imatrixDatasets, imatrixChunkCount, imatrixChunkSize, quantizeImatrixFile, quantizeImatrixDataset,
            quantizeImatrixEntriesCount, quantizeImatrixChunksCount,
        ]
        if let architecture { for k in Architecture.allCases { keys.insert(k.key(architecture)) } }
        return keys
    }

    /// Prefixes of keys written by gguf-py's naming and sampling metadata (`general.author`, `general.tags`,
    /// `general.sampling.top_k`, ...): descriptive, never needed to run a model, so not listed as unknown.
    public static let descriptivePrefixes = ["general."]
}
