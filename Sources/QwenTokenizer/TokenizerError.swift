/// Everything the tokenizer can report. Each description is one line a user can act on.
public enum TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The tokenizer files are malformed or describe a pipeline we do not implement.
    case invalidTokenizer(String)
    /// A tokenizer file could not be read or parsed; `path` names it.
    case unreadable(path: String, reason: String)
    /// `--special reject` met the text of a special token.
    case specialTokenInText(token: String, offset: Int)
    /// An id that has no token.
    case idOutOfRange(id: UInt32, position: Int, vocabularySize: Int)
    /// PCRE2 failed while matching (for example its JIT stack ran out).
    case regexFailure(code: Int32, offset: Int)

    public var description: String {
        switch self {
        case .invalidTokenizer(let why): return "invalid tokenizer: \(why)"
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .specialTokenInText(let token, let offset):
            return "special token \(token) found in the text at byte \(offset) (use --special parse or --special text to allow it)"
        case .idOutOfRange(let id, let position, let size):
            return "id \(id) at position \(position) is out of range (the vocabulary has ids 0...\(size - 1))"
        case .regexFailure(let code, let offset):
            return "pretokenizer regex failed with PCRE2 error \(code) at byte \(offset)"
        }
    }
}

/// What to do with the text of a special token found in the input.
public enum SpecialTokenPolicy: String, Sendable, CaseIterable {
    /// Turn it into its id, as Hugging Face tokenizers do by default.
    case parse
    /// Tokenize it as ordinary text (HF's `split_special_tokens=True`).
    case text
    /// Fail, as tiktoken does by default.
    case reject
}
