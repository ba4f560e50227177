import ModelFiles
import QwenKitIO

/// Every failure of `quantize`, as one sentence naming the file or tensor.
public enum QuantizeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input could not be read as a GGUF file.
    case input(path: String, reason: String)
    /// A hyperparameter the policy needs is missing or malformed.
    case metadata(path: String, key: String, reason: String)
    /// A tensor is already quantized and `--allow-requantize` was not given.
    case requantize(path: String, tensor: String, type: String)
    /// `--no-fallback` and a tensor's rows do not fit its type.
    case fallbackRefused(path: String, tensor: String, reason: String, fallback: String)
    /// An expert tensor's layer could not be read from its name.
    case layer(tensor: String, reason: String)
    /// A tensor's type cannot be decoded or encoded here.
    case unsupportedType(path: String, tensor: String, type: String)
    /// Writing the output failed; nothing was left at the path.
    case output(path: String, reason: String)

    /// One line, safe for a terminal: names and values from files keep their control characters as
    /// `terminalSafe` escapes (C1 and DEL too, which JSON quoting leaves as they are).
    public var description: String { terminalSafe(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .input(let path, let reason), .output(let path, let reason):
            // The readers' and writer's messages usually name the file already.
            return reason.contains(path) ? reason : "\(path): \(reason)"
        case .metadata(let path, let key, let reason): return "\(path): \(key) \(reason)"
        case .requantize(let path, let tensor, let type):
            return "\(path): \(tensor) is already quantized (\(type)); requantizing loses precision, pass --allow-requantize to do it anyway"
        case .fallbackRefused(let path, let tensor, let reason, let fallback):
            return "\(path): \(tensor): \(reason); it would fall back to \(fallback), refused by --no-fallback"
        case .layer(let tensor, let reason): return "\(tensor): \(reason)"
        case .unsupportedType(let path, let tensor, let type): return "\(path): \(tensor): type \(type) cannot be converted here"
        }
    }
}
