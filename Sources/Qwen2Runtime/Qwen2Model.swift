import ModelFiles
import QwenKitIO

/// The shape of a Qwen2 or Qwen2-MoE model as the forward pass needs it.
public struct ModelShape: Sendable, Equatable {
    public let architecture: ModelArchitecture
    public let layerCount: Int
    /// Hidden size.
    public let embeddingLength: Int
    public let headCount: Int
    public let headCountKV: Int
    public let headDim: Int
    /// Dense MLP width (Qwen2; 0 for an all-MoE model).
    public let feedForwardLength: Int
    public let vocabSize: Int
    /// Longest sequence the model runs (`context_length` / `max_position_embeddings`, or with RoPE scaling the
    /// original context times the factor when longer: `Qwen2Hyperparameters.usableContextLength`).
    public let contextLength: Int
    public let rmsNormEpsilon: Float
    public let moe: MoEHyperparameters?
    /// The layers that attend through a sliding window, and its size; nil when none does.
    public let slidingWindow: SlidingWindow?
}

/// A loaded model: its shape and weight views into memory-mapped files (a GGUF of any type the Quantization library
/// reads, or an HF safetensors directory in F32, F16 or BF16). Nothing is dequantized at load time except the 1-D
/// norm and bias vectors; the files stay mapped as long as the model lives.
public final class Qwen2Model: @unchecked Sendable {
    public let path: String
    public let shape: ModelShape
    /// Elements stored per ggml type (matrices and vectors), for reports and default thresholds.
    public let elementsByType: [GGMLType: Int]
    /// `general.file_type` of a GGUF, if set.
    public let fileType: LlamaFileType?
    /// The GGUF the weights are read from (nil for an HF directory), for its other metadata (tokenizer, end ids).
    public let gguf: GGUFFile?
    let rope: RotaryEmbedding
    let tokenEmbedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: [Float]
    let layers: [LayerWeights]
    /// Keeps the mapped files alive.
    private let owner: AnyObject

    /// Opens a GGUF file or an HF model directory. The hyperparameters are checked against the tensors present
    /// (`Qwen2Hyperparameters.reconciled`) before any loop or buffer is sized from them.
    /// `residency`: the weights' files mapped (the default) or read into memory (`FileResidency.loaded`, `--no-mmap`).
    public convenience init(path: String, residency: FileResidency = .mapped) throws(RuntimeError) {
        if HFModelDirectory.isDirectory(path) {
            let dir: HFModelDirectory
            let hp: Qwen2Hyperparameters
            do {
                dir = try HFModelDirectory(path: path, residency: residency)
                hp = try dir.hyperparameters().reconciled(with: TensorNameMap.inventory(of: dir.weights),
                                                          path: dir.file(HFModelDirectory.configName), source: .hfConfig)
            } catch { throw .model(error) }
            try self.init(path: path, hyperparameters: hp, source: TensorSource(hf: dir), gguf: nil, owner: dir,
                          keys: .hfConfig, configPath: dir.file(HFModelDirectory.configName))
        } else {
            let file: GGUFFile
            let hp: Qwen2Hyperparameters
            do {
                file = try GGUFFile(path: path, residency: residency)
                let stated = try Qwen2Hyperparameters(gguf: file)
                let architecture = stated.architecture.rawValue
                hp = try stated.reconciled(with: TensorInventory(gguf: file), path: path, source: .gguf(architecture: architecture),
                                           vocabularyStated: file[GGUFKeys.Architecture.vocabSize.key(architecture)] != nil)
            } catch { throw .model(error) }
            try self.init(path: path, hyperparameters: hp, source: TensorSource(gguf: file), gguf: file, owner: file,
                          keys: .gguf(architecture: hp.architecture.rawValue), configPath: path)
        }
    }

    /// `keys` and `configPath` name the hyperparameters in errors as the file that states them does.
    private init(path: String, hyperparameters hp: Qwen2Hyperparameters, source: TensorSource,
                 gguf: GGUFFile?, owner: AnyObject, keys: HyperparameterSource, configPath: String) throws(RuntimeError) {
        self.path = path
        self.owner = owner
        self.gguf = gguf
        fileType = gguf?[GGUFKeys.generalFileType]?.intValue.flatMap { LlamaFileType(rawValue: UInt32(truncatingIfNeeded: $0)) }
        let hidden = hp.embeddingLength
        let headDim = hp.keyLength
        // Heads, KV heads and an even head size are checked by Qwen2Hyperparameters.validate; the runtime also needs
        // values as wide as keys.
        guard hp.valueLength == headDim else {
            throw .model(.invalidConfig(path: configPath, key: keys.key(.valueLength), reason:
                "is \(hp.valueLength) but the key size is \(headDim); the runtime needs equal key and value sizes"))
        }
        var loader = WeightLoader(source: source, path: path)
        let embedding = try loader.matrix("token_embd.weight", columns: hidden, rows: nil)
        let vocab = embedding.rows
        if let v = hp.vocabSize, v != vocab {
            throw .badTensor(path: path, tensor: "token_embd.weight", reason: "has \(vocab) rows but the model's vocabulary has \(v) tokens")
        }
        tokenEmbedding = embedding
        output = try loader.optionalMatrix("output.weight", columns: hidden, rows: vocab) ?? embedding
        outputNorm = try loader.vector("output_norm.weight", count: hidden)
        let qWidth = hp.headCount * headDim, kvWidth = hp.headCountKV * headDim
        var layers: [LayerWeights] = []
        for i in 0..<hp.blockCount {
            func n(_ s: String) -> String { "blk.\(i).\(s)" }
            let attention = AttentionWeights(
                norm: try loader.vector(n("attn_norm.weight"), count: hidden),
                q: try loader.matrix(n("attn_q.weight"), columns: hidden, rows: qWidth),
                k: try loader.matrix(n("attn_k.weight"), columns: hidden, rows: kvWidth),
                v: try loader.matrix(n("attn_v.weight"), columns: hidden, rows: kvWidth),
                o: try loader.matrix(n("attn_output.weight"), columns: qWidth, rows: hidden),
                qBias: try loader.optionalVector(n("attn_q.bias"), count: qWidth),
                kBias: try loader.optionalVector(n("attn_k.bias"), count: kvWidth),
                vBias: try loader.optionalVector(n("attn_v.bias"), count: kvWidth))
            let ffnNorm = try loader.vector(n("ffn_norm.weight"), count: hidden)
            let mlp: FeedForwardWeights
            if let moe = hp.moe {
                let e = moe.expertCount, f = moe.expertFeedForwardLength
                guard moe.expertUsedCount >= 1, moe.expertUsedCount <= e else {
                    throw .unsupported(path: path, reason: "\(moe.expertUsedCount) experts used per token out of \(e)")
                }
                var shared: DenseFeedForward?
                if moe.sharedExpertFeedForwardLength > 0 {
                    let s = moe.sharedExpertFeedForwardLength
                    shared = DenseFeedForward(gate: try loader.matrix(n("ffn_gate_shexp.weight"), columns: hidden, rows: s),
                                              up: try loader.matrix(n("ffn_up_shexp.weight"), columns: hidden, rows: s),
                                              down: try loader.matrix(n("ffn_down_shexp.weight"), columns: s, rows: hidden))
                }
                mlp = .mixture(MixtureWeights(
                    router: try loader.matrix(n("ffn_gate_inp.weight"), columns: hidden, rows: e),
                    gate: try loader.experts(n("ffn_gate_exps.weight"), count: e, columns: hidden, rows: f),
                    up: try loader.experts(n("ffn_up_exps.weight"), count: e, columns: hidden, rows: f),
                    down: try loader.experts(n("ffn_down_exps.weight"), count: e, columns: f, rows: hidden),
                    shared: shared,
                    sharedGate: shared == nil ? nil : try loader.vector(n("ffn_gate_inp_shexp.weight"), count: hidden),
                    sharedGateName: n("ffn_gate_inp_shexp.weight"),
                    usedCount: moe.expertUsedCount, normalizeTopK: moe.normalizeTopK))
            } else {
                let f = hp.feedForwardLength
                mlp = .dense(DenseFeedForward(gate: try loader.matrix(n("ffn_gate.weight"), columns: hidden, rows: f),
                                              up: try loader.matrix(n("ffn_up.weight"), columns: hidden, rows: f),
                                              down: try loader.matrix(n("ffn_down.weight"), columns: f, rows: hidden)))
            }
            layers.append(LayerWeights(attention: attention, ffnNorm: ffnNorm, feedForward: mlp))
        }
        self.layers = layers
        elementsByType = loader.elementsByType
        shape = ModelShape(architecture: hp.architecture, layerCount: hp.blockCount, embeddingLength: hidden,
                           headCount: hp.headCount, headCountKV: hp.headCountKV, headDim: headDim,
                           // A MoE model has no dense MLP: its feed_forward_length sizes nothing and no tensor checks it.
                           feedForwardLength: hp.moe == nil ? hp.feedForwardLength : 0, vocabSize: vocab,
                           contextLength: hp.usableContextLength,
                           rmsNormEpsilon: Float(hp.rmsNormEpsilon), moe: hp.moe, slidingWindow: hp.slidingWindow)
        rope = try RotaryEmbedding(headDim: headDim, base: hp.ropeFreqBase, scaling: hp.ropeScaling,
                                   contextLength: hp.contextLength, path: path)
    }

    /// The type holding most of the weights (by element count), e.g. Q4_K in a Q4_K_M file.
    public var dominantWeightType: GGMLType {
        elementsByType.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }?.key ?? .f32
    }
}

/// One layer's attention weights. Shapes: q [heads·headDim × hidden], k and v [kvHeads·headDim × hidden],
/// o [hidden × heads·headDim]; biases as their rows.
struct AttentionWeights: Sendable {
    let norm: [Float]
    let q, k, v, o: WeightMatrix
    let qBias, kBias, vBias: [Float]?
}

/// SwiGLU MLP: down(silu(gate·x) ⊙ up·x). gate and up [ffn × hidden], down [hidden × ffn].
struct DenseFeedForward: Sendable {
    let gate, up, down: WeightMatrix
}

/// Qwen2-MoE's sparse block: router [experts × hidden], per-expert SwiGLU MLPs, an optional shared expert scaled by
/// sigmoid(sharedGate · x).
struct MixtureWeights: Sendable {
    let router: WeightMatrix
    let gate, up, down: [WeightMatrix]
    let shared: DenseFeedForward?
    let sharedGate: [Float]?
    /// The GGUF name of `sharedGate` (a [hidden, 1] matrix in the file), for `ActivationObserver`.
    let sharedGateName: String
    let usedCount: Int
    let normalizeTopK: Bool
}

enum FeedForwardWeights: Sendable {
    case dense(DenseFeedForward)
    case mixture(MixtureWeights)
}

struct LayerWeights: Sendable {
    let attention: AttentionWeights
    let ffnNorm: [Float]
    let feedForward: FeedForwardWeights
}

// MARK: - Finding tensors

/// One stored tensor as the runtime sees it: GGUF dims order (innermost first) and its bytes.
struct StoredTensor {
    let name: String
    let type: GGMLType
    let dims: [Int]
    let data: UnsafeRawBufferPointer
}

/// The model's tensors by GGUF name (`ModelTensors`), in the types the runtime reads: any ggml type from a GGUF,
/// F32, F16 and BF16 from safetensors.
struct TensorSource {
    let tensors: ModelTensors
    let path: String
    /// Whether the tensors are safetensors (limited to the float types).
    let isHF: Bool

    init(gguf file: GGUFFile) {
        tensors = ModelTensors(gguf: file)
        path = file.path
        isHF = false
    }

    init(hf dir: HFModelDirectory) {
        tensors = ModelTensors(hf: dir)
        path = dir.path
        isHF = true
    }

    private func typed(_ t: TensorView) throws(RuntimeError) -> StoredTensor {
        guard let type = t.type, !isHF || [.f32, .f16, .bf16].contains(type) else {
            throw .unsupported(path: path, reason: "tensor \(t.name) has dtype \(t.dtypeName); the runtime reads F32, F16 and BF16 safetensors")
        }
        return StoredTensor(name: t.name, type: type, dims: t.dims, data: t.data)
    }

    func lookup(_ name: String) throws(RuntimeError) -> StoredTensor? {
        guard let t = tensors.tensor(name) else { return nil }
        return try typed(t)
    }

    /// Per-expert tensors of a stacked GGUF name (HF keeps them apart); nil when the source stacks them.
    func expertParts(_ name: String, _ count: Int) throws(RuntimeError) -> [StoredTensor]? {
        guard let parts = tensors.expertParts(name, count: count) else { return nil }
        var out: [StoredTensor] = []
        for (hfName, view) in parts {
            guard let view else { throw .badTensor(path: path, tensor: hfName, reason: "missing (the model has \(count) experts)") }
            out.append(try typed(view))
        }
        return out
    }
}

/// Builds weight views, checking every shape against the hyperparameters.
struct WeightLoader {
    let source: TensorSource
    let path: String
    var elementsByType: [GGMLType: Int] = [:]

    init(source: TensorSource, path: String) {
        self.source = source
        self.path = path
    }

    private mutating func count(_ t: StoredTensor) {
        elementsByType[t.type, default: 0] += t.dims.reduce(1, *)
    }

    mutating func optionalMatrix(_ name: String, columns: Int, rows: Int?) throws(RuntimeError) -> WeightMatrix? {
        guard let t = try source.lookup(name) else { return nil }
        let r = t.dims.count == 2 ? t.dims[1] : -1
        guard t.dims.count == 2, t.dims[0] == columns, rows == nil || r == rows! else {
            throw .badTensor(path: path, tensor: name, reason: "has shape \(t.dims) (GGUF order), expected [\(columns), \(rows.map(String.init) ?? "n")]")
        }
        guard r > 0 else { throw .badTensor(path: path, tensor: name, reason: "has no rows") }
        let m = try WeightMatrix(name: name, type: t.type, rows: r, columns: columns, base: t.data.baseAddress!, path: path)
        guard m.rowBytes * r == t.data.count else {
            throw .badTensor(path: path, tensor: name, reason: "holds \(t.data.count) bytes, expected \(m.rowBytes * r)")
        }
        count(t)
        return m.packingRows()
    }

    mutating func matrix(_ name: String, columns: Int, rows: Int?) throws(RuntimeError) -> WeightMatrix {
        guard let m = try optionalMatrix(name, columns: columns, rows: rows) else {
            throw .badTensor(path: path, tensor: name, reason: "missing")
        }
        return m
    }

    /// A stacked expert tensor [columns, rows, count] (GGUF) or `count` separate [columns, rows] ones (HF).
    mutating func experts(_ name: String, count n: Int, columns: Int, rows: Int) throws(RuntimeError) -> [WeightMatrix] {
        if let parts = try source.expertParts(name, n) {
            var out: [WeightMatrix] = []
            for (e, p) in parts.enumerated() {
                guard p.dims == [columns, rows] else {
                    throw .badTensor(path: path, tensor: p.name, reason: "has shape \(p.dims) (GGUF order), expected [\(columns), \(rows)]")
                }
                let m = try WeightMatrix(name: p.name, ggufName: name, expert: (e, n), type: p.type, rows: rows, columns: columns,
                                         base: p.data.baseAddress!, path: path)
                guard m.rowBytes * rows == p.data.count else {
                    throw .badTensor(path: path, tensor: p.name, reason: "holds \(p.data.count) bytes, expected \(m.rowBytes * rows)")
                }
                count(p)
                out.append(m.packingRows())
            }
            return out
        }
        guard let t = try source.lookup(name) else { throw .badTensor(path: path, tensor: name, reason: "missing") }
        guard t.dims == [columns, rows, n] else {
            throw .badTensor(path: path, tensor: name, reason: "has shape \(t.dims), expected [\(columns), \(rows), \(n)]")
        }
        let first = try WeightMatrix(name: name, type: t.type, rows: rows, columns: columns, base: t.data.baseAddress!, path: path)
        let expertBytes = first.rowBytes * rows
        guard expertBytes * n == t.data.count else {
            throw .badTensor(path: path, tensor: name, reason: "holds \(t.data.count) bytes, expected \(expertBytes * n)")
        }
        count(t)
        var out: [WeightMatrix] = []
        for e in 0..<n {
            out.append(try WeightMatrix(name: "\(name)[\(e)]", ggufName: name, expert: (e, n), type: t.type, rows: rows, columns: columns,
                                        base: t.data.baseAddress! + e * expertBytes, path: path).packingRows())
        }
        return out
    }

    mutating func optionalVector(_ name: String, count n: Int) throws(RuntimeError) -> [Float]? {
        guard let t = try source.lookup(name) else { return nil }
        // The router of the shared expert is stored as {hidden, 1} by some converters.
        guard t.dims.reduce(1, *) == n, t.dims.first == n else {
            throw .badTensor(path: path, tensor: name, reason: "has shape \(t.dims), expected [\(n)]")
        }
        let m = try WeightMatrix(name: name, type: t.type, rows: 1, columns: n, base: t.data.baseAddress!, path: path)
        guard m.rowBytes == t.data.count else {
            throw .badTensor(path: path, tensor: name, reason: "holds \(t.data.count) bytes, expected \(m.rowBytes)")
        }
        count(t)
        var v = [Float](repeating: 0, count: n)
        v.withUnsafeMutableBufferPointer { m.decodeRow(0, into: $0.baseAddress!) }
        return v
    }

    mutating func vector(_ name: String, count n: Int) throws(RuntimeError) -> [Float] {
        guard let v = try optionalVector(name, count: n) else { throw .badTensor(path: path, tensor: name, reason: "missing") }
        return v
    }
}
