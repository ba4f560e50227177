import ModelFiles
import QwenKitIO

/// Everything the runtime refuses. `description` is one line naming the input and the broken invariant.
public enum RuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Reading the model (file, directory, metadata) failed.
    case model(ModelFileError)
    /// The model is readable but the runtime cannot run it (architecture, tensor type, shapes).
    case unsupported(path: String, reason: String)
    /// A tensor the architecture needs is missing or has the wrong shape.
    case badTensor(path: String, tensor: String, reason: String)
    /// A token id is not below the vocabulary size.
    case tokenOutOfRange(token: UInt32, position: Int, vocabSize: Int)
    /// The sequence would run past the context the model allows (or the session was sized for).
    case contextExceeded(needed: Int, limit: Int, what: String)
    /// A NaN or infinity appeared in the activations.
    case nonFinite(layer: String, position: Int)
    /// An output file could not be written.
    case output(path: String, reason: String)
    /// A session buffer sized by the caller's request (positions, threads, batch) does not fit in memory (or in
    /// `Int`, when `bytes` is nil).
    case cannotAllocate(what: String, bytes: Int?)
    /// A session buffer larger than the machine's physical memory (malloc would overcommit and fail page by page).
    case exceedsMemory(what: String, bytes: Int, physical: Int)
    /// Sessions that `SessionGroup.decode` cannot step together (not of the group, repeated, more than it holds).
    case batch(reason: String)

    /// One line, safe for a terminal: names and values from files keep their control characters as
    /// `terminalSafe` escapes (C1 and DEL too, which JSON quoting leaves as they are).
    public var description: String { terminalSafe(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .model(let e): return e.description
        case .unsupported(let path, let reason): return "\(path): \(reason)"
        case .badTensor(let path, let tensor, let reason): return "\(path): tensor \(tensor): \(reason)"
        case .tokenOutOfRange(let token, let position, let vocab):
            return "token \(token) at position \(position) is out of range: the model's vocabulary has \(vocab) tokens (ids 0..<\(vocab))"
        case .contextExceeded(let needed, let limit, let what):
            return "\(needed) positions needed but \(what) allows \(limit)"
        case .nonFinite(let layer, let position):
            return "non-finite activations (NaN or infinity) after \(layer) at position \(position)"
        case .output(let path, let reason): return "\(path): \(reason)"
        case .cannotAllocate(let what, let bytes):
            return "cannot allocate \(what)" + (bytes.map { ": \($0) bytes are not available" } ?? ": the size does not fit in Int")
                + "; ask for fewer positions"
        case .exceedsMemory(let what, let bytes, let physical):
            func gb(_ b: Int) -> String { ProgressReporter.fixed(Double(b) / 1e9, decimals: 1) + " GB" }
            return "cannot allocate \(what): it needs \(gb(bytes)) (\(bytes) bytes), more than this machine's \(gb(physical)) of memory;"
                + " ask for fewer positions (-c) or a smaller batch (-b)"
        case .batch(let reason):
            return "cannot decode these sessions in one step: \(reason)"
        }
    }
}
