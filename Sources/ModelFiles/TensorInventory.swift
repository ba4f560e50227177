// What a model's tensors say about its shape, checked against the hyperparameters before anything is sized or
// looped by them: a `config.json` or GGUF header is a few bytes anyone can edit, the tensors are what is there.
// A `num_hidden_layers` of 2·10⁹ must be refused by looking at the layers present, not by planning 2·10⁹ of them.

/// A census of a model's tensors in GGUF names and ggml dims (innermost first), whatever the file stores them as.
public struct TensorInventory: Sendable {
    /// 1 + the largest N of the `blk.N.` tensors (0 when there are none).
    public private(set) var layerCount = 0
    /// Tensors inside layers.
    public private(set) var layerTensorCount = 0
    /// The distinct N of the `blk.N.` tensors (at most one per tensor, so a huge N cannot make a loop long).
    public private(set) var layers: Set<Int> = []
    /// `token_embd.weight` (its stored name and ggml dims, [hidden, vocab]).
    public private(set) var embedding: (name: String, dims: [Int])?
    /// A shared expert's gate (`blk.N.ffn_gate_shexp.weight`, ggml dims [hidden, rows]) of the first layer that has one.
    public private(set) var sharedExpertGate: (name: String, layer: Int, dims: [Int])?
    /// Routed experts per layer: the largest count seen (a stacked tensor's ne[2], or 1 + a per-expert index).
    public private(set) var expertCount: Int?

    public init() {}

    /// Every tensor of a GGUF file.
    public init(gguf file: GGUFFile) {
        for t in file.tensors { add(name: t.name, storedName: t.name, dims: t.dims, expert: nil) }
    }

    /// Counts one tensor. `name` is its GGUF name (the stacked name for one expert of an HF checkpoint, with
    /// `expert` its index), `storedName` the name in the file, for messages.
    public mutating func add(name: String, storedName: String, dims: [Int], expert: Int?) {
        guard let (layer, suffix) = Self.layer(of: name) else {
            if name == Self.tokenEmbedding { embedding = (storedName, dims) }
            return
        }
        layerCount = max(layerCount, layer + 1)
        layerTensorCount += 1
        layers.insert(layer)
        if suffix == Self.sharedExpertGate, sharedExpertGate.map({ layer < $0.layer }) ?? true {
            sharedExpertGate = (storedName, layer, dims)
        }
        if Self.stackedExperts.contains(String(suffix)) {
            let count = expert.map { $0 + 1 } ?? (dims.count == 3 ? dims[2] : 0)
            expertCount = max(expertCount ?? 0, count)
        }
    }

    /// Why a model said to have `count` layers does not fit these tensors (nil when it does): every layer from 0 to
    /// `count - 1` must hold tensors and none beyond. The reason reads after the key, e.g. `is 3 but the tensors
    /// hold 2 layers (24 tensors in layers 0 to 1)`.
    public func layerCountProblem(_ count: Int) -> String? {
        guard count == layerCount else {
            let held = layerCount == 0
                ? "no tensor of the model is in a layer"
                : "the tensors hold \(layerCount) layer\(layerCount == 1 ? "" : "s")"
                    + " (\(layerTensorCount) tensors in layers 0 to \(layerCount - 1))"
            return "is \(count) but \(held)"
        }
        guard layers.count == count else {
            let missing = (0..<count).first { !layers.contains($0) }!
            return "is \(count) but layer \(missing) has no tensors (the tensors hold \(layers.count) of layers 0 to \(count - 1))"
        }
        return nil
    }

    static let tokenEmbedding = "token_embd.weight"
    static let sharedExpertGate = "ffn_gate_shexp.weight"
    static let stackedExperts: Set<String> = ["ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"]

    /// `blk.N.rest` → (N, rest), for a decimal N of at most 9 digits.
    static func layer(of name: String) -> (Int, Substring)? {
        guard name.hasPrefix("blk.") else { return nil }
        let rest = name.utf8.dropFirst(4)
        let digits = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard (1...9).contains(digits.count), digits.endIndex < rest.endIndex, rest[digits.endIndex] == UInt8(ascii: ".") else {
            return nil
        }
        let n = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return (n, Substring(name.utf8[name.utf8.index(after: digits.endIndex)...]))
    }
}

extension Qwen2Hyperparameters {
    /// Checks the counts and sizes later stages loop over or allocate by against the tensors present: the layer
    /// count, the hidden size and vocabulary (against the token embedding), the number of experts. A Qwen2-MoE
    /// source that does not state its shared expert's size (or states 0) while shared-expert tensors exist gets the
    /// size from their shape, instead of silently losing the shared expert. Errors name the key as `source` spells it
    /// and what the tensors hold. `vocabularyStated` says whether `vocabSize` is the source's vocabulary key (a GGUF
    /// without `{arch}.vocab_size` gives the token list's length instead, checked by the runtime against the same
    /// tensor).
    public func reconciled(with tensors: TensorInventory, path: String, source: HyperparameterSource,
                           vocabularyStated: Bool = true) throws(ModelFileError) -> Qwen2Hyperparameters {
        func fail(_ p: Qwen2Hyperparameter, _ reason: String) -> ModelFileError {
            .invalidConfig(path: path, key: source.key(p), reason: reason)
        }
        if let problem = tensors.layerCountProblem(blockCount) { throw fail(.blockCount, problem) }
        if let e = tensors.embedding, e.dims.count == 2 {
            guard embeddingLength == e.dims[0] else {
                throw fail(.embeddingLength, "is \(embeddingLength) but tensor \(quoted(e.name)) has rows of \(e.dims[0]) values")
            }
            if vocabularyStated, let v = vocabSize, v != e.dims[1] {
                throw fail(.vocabSize, "is \(v) but tensor \(quoted(e.name)) has \(e.dims[1]) rows")
            }
        }
        var h = self
        if let moe {
            guard let present = tensors.expertCount else {
                throw fail(.expertCount, "is \(moe.expertCount) but there are no routed expert tensors")
            }
            guard moe.expertCount == present else {
                throw fail(.expertCount, "is \(moe.expertCount) but the expert tensors hold \(present) experts")
            }
            if moe.sharedExpertFeedForwardLength <= 0, let gate = tensors.sharedExpertGate {
                guard gate.dims.count == 2, gate.dims[1] > 0 else {
                    throw fail(.sharedExpertFeedForwardLength, "is missing or \(moe.sharedExpertFeedForwardLength), and tensor"
                        + " \(quoted(gate.name)) has shape \(gate.dims) (GGUF order), so the shared expert's size is unknown")
                }
                h.moe?.sharedExpertFeedForwardLength = gate.dims[1]
            }
        }
        return h
    }
}
