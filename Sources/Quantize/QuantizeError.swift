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
    /// A tensor's rows fit neither its type nor a fallback (llama-quantize defines none for 64- and 128-blocks).
    case noFallback(tensor: String, type: String, rowLength: Int)
    /// The importance matrix's entry for a tensor does not have one weight per column (per expert).
    case importanceMismatch(path: String, tensor: String, have: Int, want: Int)
    /// The importance matrix has an entry for none of the tensors quantized: it is for another model.
    case importanceUnmatched(path: String, example: String)
    /// A tensor's type cannot be made without an importance matrix, and there is none (for it).
    case importanceRequired(tensor: String, type: String, have: Bool)
    /// A name pattern of an option matches nothing it could apply to.
    case patternUnmatched(flag: String, pattern: String)
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
        case .importanceMismatch(let path, let tensor, let have, let want):
            return "\(path): the entry for \(tensor) has \(have) values, but the tensor needs \(want) (one per column and expert): the importance matrix is for another model"
        case .importanceUnmatched(let path, let example):
            return "\(path): no entry matches a tensor of the model (\(example) has none): the importance matrix is for another model"
        case .importanceRequired(let tensor, let type, let have):
            return have
                ? "\(tensor): the importance matrix has no entry for it, and \(type) cannot be made without one"
                : "\(tensor): \(type) needs an importance matrix; make one with `qwenkit imatrix` and pass it with --imatrix"
        case .patternUnmatched(let flag, let pattern):
            return "\(flag) \(pattern): matches no weight matrix of the model"
        case .noFallback(let tensor, let type, let row):
            return "\(tensor): rows of \(row) are not a multiple of \(type)'s block and llama-quantize has no fallback type for \(type)"
        case .unsupportedType(let path, let tensor, let type): return "\(path): \(tensor): type \(type) cannot be converted here"
        }
    }
}
