import ModelFiles
import QwenKitIO

/// Every failure of `convert`: one line naming the file (and tensor) and what is wrong.
public enum ConversionError: Error, Sendable, CustomStringConvertible {
    /// Reading the checkpoint failed (its error names the file).
    case model(ModelFileError)
    /// The architecture in config.json is not one qwenkit converts.
    case unsupportedArchitecture(path: String, architectures: [String])
    /// The tokenizer is missing, unreadable, or not Qwen2's kind.
    case tokenizer(path: String, reason: String)
    /// A tensor the model needs is missing, or one it cannot place is present, or its shape or dtype is wrong.
    case tensor(path: String, tensor: String, reason: String)
    /// Writing the output failed.
    case output(path: String, reason: String)

    /// One line, safe for a terminal: names and values from files keep their control characters as
    /// `terminalSafe` escapes (C1 and DEL too, which JSON quoting leaves as they are).
    public var description: String { terminalSafe(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .model(let e): return e.description
        case .unsupportedArchitecture(let path, let names):
            return "\(path): architecture \(names.isEmpty ? "(none given)" : names.joined(separator: ", ")) is not supported"
                + " (supported: Qwen2ForCausalLM, Qwen2Model, Qwen2MoeForCausalLM)"
        case .tokenizer(let path, let reason): return "\(path): tokenizer: \(reason)"
        case .tensor(let path, let tensor, let reason): return "\(path): tensor \(JSONString.quoted(tensor)): \(reason)"
        case .output(let path, let reason): return "\(path): \(reason)"
        }
    }
}
