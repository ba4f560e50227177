import ModelFiles
import QwenKitIO

/// Every failure of golden loading and of the comparison's bookkeeping. Each case names the golden file (`path`, as
/// the caller gave it); `description` is one line naming the broken invariant, e.g.
/// `cat.safetensors: tensor "logits": dtype F16, expected F32`. `qwenkit verify` exits 2 on any of them.
public enum VerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read as safetensors at all (the reader's own error, which names the file).
    case unreadable(ModelFileError)
    /// `__metadata__` says another format, or a metadata value is unusable (`vocab_size` not a number, ...).
    case badMetadata(path: String, key: String, reason: String)
    /// A tensor the form needs is absent (`form` is nil when neither form's main tensor is present).
    case missingTensor(path: String, tensor: String, form: GoldenForm?)
    /// The file holds both `logits` and `top_ids`.
    case ambiguousForm(path: String)
    /// A tensor has the wrong dtype.
    case wrongDType(path: String, tensor: String, dtype: String, expected: String)
    /// A tensor has the wrong shape (`expected` spells it, e.g. `[n, vocab] = [5, 320]`).
    case wrongShape(path: String, tensor: String, shape: [Int], expected: String)
    /// `tokens` is empty.
    case noTokens(path: String)
    /// The compact form keeps more ids per position than the vocabulary has (or none).
    case invalidTopK(path: String, k: Int, vocabSize: Int)
    /// A float is NaN or infinite (`index` is the element within the position's row).
    case nonFinite(path: String, tensor: String, position: Int, index: Int)
    /// An input token is not an id of the vocabulary.
    case tokenOutOfRange(path: String, position: Int, token: Int, vocabSize: Int)
    /// A compact `top_ids` entry is not an id of the vocabulary.
    case topIDOutOfRange(path: String, position: Int, rank: Int, id: Int, vocabSize: Int)
    /// A compact row names the same id twice.
    case duplicateTopID(path: String, position: Int, id: Int)
    /// A compact row's `top_logits` increase at `rank` (they must be in descending order).
    case topLogitsNotDescending(path: String, position: Int, rank: Int)
    /// A compact row's `logsumexp` is below its largest logit, or its top-k probabilities add up to more than 1.
    case inconsistentLogSumExp(path: String, position: Int, reason: String)
    /// The golden and the model disagree on the vocabulary size.
    case vocabMismatch(path: String, golden: Int, model: Int)
    /// The comparator was given a row of the wrong length.
    case logitCountMismatch(path: String, position: Int, count: Int, expected: Int)
    /// The comparator was given a position outside the golden, or one it already had.
    case invalidPosition(path: String, position: Int, count: Int, repeated: Bool)
    /// The comparison was finished before every position was compared.
    case positionsMissing(path: String, compared: Int, count: Int, first: Int)

    public var description: String {
        switch self {
        case .unreadable(let error):
            return error.description
        case .badMetadata(let path, let key, let reason):
            return "\(path): metadata \(JSONString.quoted(key)): \(reason)"
        case .missingTensor(let path, let tensor, let form):
            if let form { return "\(path): no tensor \(JSONString.quoted(tensor)), which the \(form.rawValue) form needs" }
            return "\(path): not a golden logits file: no tensor \"logits\" (full form) or \"top_ids\" (compact form)"
        case .ambiguousForm(let path):
            return "\(path): holds both \"logits\" (full form) and \"top_ids\" (compact form); keep one"
        case .wrongDType(let path, let tensor, let dtype, let expected):
            return "\(path): tensor \(JSONString.quoted(tensor)): dtype \(dtype), expected \(expected)"
        case .wrongShape(let path, let tensor, let shape, let expected):
            return "\(path): tensor \(JSONString.quoted(tensor)): shape \(list(shape)), expected \(expected)"
        case .noTokens(let path):
            return "\(path): no tokens (tensor \"tokens\" is empty)"
        case .invalidTopK(let path, let k, let vocab):
            return "\(path): compact form keeps \(k) ids per position; it must be between 1 and the vocabulary size \(vocab)"
        case .nonFinite(let path, let tensor, let position, let index):
            return "\(path): tensor \(JSONString.quoted(tensor)): NaN or infinity at position \(position), element \(index)"
        case .tokenOutOfRange(let path, let position, let token, let vocab):
            return "\(path): token \(token) at position \(position) is out of range for a vocabulary of \(vocab)"
        case .topIDOutOfRange(let path, let position, let rank, let id, let vocab):
            return "\(path): top_ids[\(position)][\(rank)] = \(id) is out of range for a vocabulary of \(vocab)"
        case .duplicateTopID(let path, let position, let id):
            return "\(path): top_ids[\(position)] names id \(id) twice"
        case .topLogitsNotDescending(let path, let position, let rank):
            return "\(path): top_logits[\(position)] is not in descending order at rank \(rank)"
        case .inconsistentLogSumExp(let path, let position, let reason):
            return "\(path): logsumexp[\(position)] \(reason)"
        case .vocabMismatch(let path, let golden, let model):
            return "\(path): the golden's vocabulary has \(golden) ids but the model's has \(model)"
                + " (made from another model?)"
        case .logitCountMismatch(let path, let position, let count, let expected):
            return "\(path): position \(position): got \(count) logits, expected \(expected) (the vocabulary size)"
        case .invalidPosition(let path, let position, let count, let repeated):
            return repeated ? "\(path): position \(position) was compared twice"
                : "\(path): position \(position) is outside the golden's \(count) positions"
        case .positionsMissing(let path, let compared, let count, let first):
            return "\(path): only \(compared) of \(count) positions were compared (first missing: \(first))"
        }
    }

    /// The golden file the error is about.
    public var path: String? {
        switch self {
        case .unreadable(let e): return e.path
        case .badMetadata(let p, _, _), .missingTensor(let p, _, _), .ambiguousForm(let p), .wrongDType(let p, _, _, _),
             .wrongShape(let p, _, _, _), .noTokens(let p), .invalidTopK(let p, _, _), .nonFinite(let p, _, _, _),
             .tokenOutOfRange(let p, _, _, _), .topIDOutOfRange(let p, _, _, _, _), .duplicateTopID(let p, _, _),
             .topLogitsNotDescending(let p, _, _), .inconsistentLogSumExp(let p, _, _), .vocabMismatch(let p, _, _),
             .logitCountMismatch(let p, _, _, _), .invalidPosition(let p, _, _, _), .positionsMissing(let p, _, _, _):
            return p
        }
    }
}

private func list(_ a: [Int]) -> String { "[" + a.map(String.init).joined(separator: ", ") + "]" }
