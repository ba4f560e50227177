// GGUF metadata keys, spelled verbatim as in gguf-py's constants.Keys: the one table of them.

/// Well-known GGUF metadata keys.
public enum GGUFKeys {
    public static let generalArchitecture = "general.architecture"
    public static let generalAlignment = "general.alignment"
    public static let generalName = "general.name"
    public static let generalFileType = "general.file_type"
    public static let generalQuantizationVersion = "general.quantization_version"
    public static let tokenizerModel = "tokenizer.ggml.model"
    public static let tokenizerPre = "tokenizer.ggml.pre"
    public static let tokenizerTokens = "tokenizer.ggml.tokens"
    public static let tokenizerTokenType = "tokenizer.ggml.token_type"
    public static let tokenizerMerges = "tokenizer.ggml.merges"
    public static let tokenizerChatTemplate = "tokenizer.chat_template"
}
