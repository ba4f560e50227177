#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import QwenKitIO

/// What `convert` will write, decided before anything is written: every output tensor (GGUF name, ne dims, type,
/// the HF tensors it comes from, in the reference converter's order) and every metadata entry. Building the plan
/// reads only headers and side files, and checks the checkpoint against its config.json: an architecture we do
/// not convert, a tensor missing, extra or misshapen, an unsupported dtype or a tokenizer that does not fit are
/// all refused here, naming the file and tensor.
public struct ConversionPlan: @unchecked Sendable {
    /// One output tensor.
    public struct Tensor: @unchecked Sendable {
        public let name: String
        /// ggml order (innermost first).
        public let dims: [Int]
        public let type: GGMLType
        public let reason: TensorTypeReason
        /// The HF tensors whose bytes, converted and concatenated in this order, make the output (one, or the
        /// experts of a stacked tensor).
        public let sources: [(file: SafetensorsFile, info: SafetensorsTensorInfo)]

        public var elementCount: Int { dims.reduce(1, *) }
    }

    public let directory: HFModelDirectory
    public let hyperparameters: Qwen2Hyperparameters
    public let outputType: ConversionOutputType
    public let tensors: [Tensor]
    public let metadata: [GGUFKeyValue]

    public static let supportedArchitectures = ["Qwen2ForCausalLM", "Qwen2Model", "Qwen2MoeForCausalLM"]

    /// Plans the conversion of the checkpoint at `path`. `vocabOnly` plans no tensors (the tokenizer and
    /// hyperparameters only, as the reference's `--vocab-only`).
    public init(path: String, outputType requested: ConversionOutputType, vocabOnly: Bool = false) throws(ConversionError) {
        let directory: HFModelDirectory
        do { directory = try HFModelDirectory(path: path) } catch { throw .model(error) }
        self.directory = directory
        let configPath = directory.file(HFModelDirectory.configName)
        let architectures = directory.config["architectures"]?.array?.compactMap(\.string) ?? []
        guard let architecture = architectures.first, Self.supportedArchitectures.contains(architecture) else {
            throw .unsupportedArchitecture(path: configPath, architectures: architectures)
        }
        // The layer count, sizes and experts are checked against the tensors present before anything is planned
        // from them (a num_hidden_layers of 2·10⁹ would otherwise plan 2·10⁹ layers).
        let h: Qwen2Hyperparameters
        do {
            h = try directory.hyperparameters().reconciled(with: TensorNameMap.inventory(of: directory.weights),
                                                           path: configPath, source: .hfConfig)
        } catch { throw .model(error) }
        guard (h.architecture == .qwen2moe) == (architecture == "Qwen2MoeForCausalLM") else {
            throw .unsupportedArchitecture(path: configPath, architectures: architectures + ["model_type \(h.architecture.rawValue)"])
        }
        self.hyperparameters = h

        // Tensors in the reference's order: files sorted by name, names sorted by their UTF-8 bytes within a file;
        // a layer's experts become three stacked tensors (down, gate, up) where its last expert tensor is.
        let files = directory.weights.files.sorted { lastPathComponent($0.path).utf8.lexicographicallyPrecedes(lastPathComponent($1.path).utf8) }
        var ordered: [(file: SafetensorsFile, info: SafetensorsTensorInfo)] = []
        for f in files {
            ordered += f.tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map { (f, $0) }
        }
        let resolved = requested.resolved(sourceTypes: ordered.map { ($0.info.dtype, $0.info.shape.count) })
        self.outputType = resolved

        let expected = ExpectedShapes(h)
        var planned: [Tensor] = []
        var experts: [Int: [String: [Int: (SafetensorsFile, SafetensorsTensorInfo)]]] = [:]  // layer -> proj -> expert
        var seen: Set<String> = []
        for (file, info) in ordered {
            guard [.f32, .f16, .bf16].contains(info.dtype) else {
                throw .tensor(path: file.path, tensor: info.name, reason: "dtype \(info.dtype.rawValue) is not supported (F32, F16 or BF16)")
            }
            guard let destination = TensorNameMap.destination(ofHF: info.name) else {
                throw .tensor(path: file.path, tensor: info.name, reason: "is not part of a \(architecture) model (no GGUF name for it)")
            }
            switch destination {
            case .skipped:
                continue
            case .tensor(let name):
                guard let want = expected.shape(of: name) else {
                    throw .tensor(path: file.path, tensor: info.name, reason: "does not belong in this model (\(name) is not expected with this config.json)")
                }
                guard info.shape == want else {
                    throw .tensor(path: file.path, tensor: info.name, reason: "has shape \(info.shape) but config.json implies \(want)")
                }
                let dims = Array(info.shape.reversed())
                let (type, reason) = TensorTypeRule.type(name: name, dims: dims, hfDimensions: info.shape.count, output: resolved)
                planned.append(Tensor(name: name, dims: dims, type: type, reason: reason, sources: [(file, info)]))
                seen.insert(name)
            case .expert(let stacked, let expert):
                guard let moe = h.moe, expert < moe.expertCount, let want = expected.expertShape(of: stacked) else {
                    throw .tensor(path: file.path, tensor: info.name, reason: "is an expert this config.json does not have")
                }
                guard info.shape == want else {
                    throw .tensor(path: file.path, tensor: info.name, reason: "has shape \(info.shape) but config.json implies \(want)")
                }
                let layer = Int(stacked.dropFirst(4).prefix { $0 != "." })!
                experts[layer, default: [:]][stacked, default: [:]][expert] = (file, info)
                let group = experts[layer]!
                let complete = group.count == TensorNameMap.expertProjections.count
                    && group.values.allSatisfy { $0.count == moe.expertCount }
                if complete {
                    for p in TensorNameMap.expertProjections {
                        let name = "blk.\(layer).\(p.gguf).weight"
                        let members = (0..<moe.expertCount).map { group[name]![$0]! }
                        let dims = Array(expected.expertShape(of: name)!.reversed()) + [moe.expertCount]
                        let (type, reason) = TensorTypeRule.type(name: name, dims: dims, hfDimensions: 3, output: resolved)
                        planned.append(Tensor(name: name, dims: dims, type: type, reason: reason,
                                              sources: members.map { (file: $0.0, info: $0.1) }))
                        seen.insert(name)
                    }
                    experts[layer] = nil
                }
            }
        }
        for (layer, group) in experts.sorted(by: { $0.key < $1.key }) {
            let have = group.values.reduce(0) { $0 + $1.count }
            throw .tensor(path: path, tensor: "model.layers.\(layer).mlp.experts",
                          reason: "has \(have) of the \(TensorNameMap.expertProjections.count * (h.moe?.expertCount ?? 0)) expert tensors config.json implies")
        }
        for name in expected.required where !seen.contains(name) {
            let hf = TensorNameMap.hfNames(ofGGUF: name, expertCount: h.moe?.expertCount ?? 0)?.first ?? name
            throw .tensor(path: path, tensor: hf, reason: "is missing (config.json implies it)")
        }
        self.tensors = vocabOnly ? [] : planned

        // Metadata.
        let tokenizer = try TokenizerConversion(directory: directory, vocabularySize: h.vocabSize ?? 0)
        let counts = ModelNaming.ParameterCounts(tensors: self.tensors.map { ($0.name, $0.dims) })
        let naming = ModelNaming.derive(nameOrPath: directory.config["_name_or_path"]?.string,
                                        directoryName: directoryName(path), parameters: counts)
        self.metadata = try MetadataBuilder.entries(directory: directory, hyperparameters: h, fileType: resolved.fileType,
                                                    naming: naming, tokenizer: tokenizer)
    }

    /// Bytes of tensor data the output will hold.
    public var tensorBytes: Int { tensors.reduce(0) { $0 + ((try? $1.type.byteCount(elements: $1.elementCount)) ?? 0) } }
}

/// The HF shape each GGUF tensor must have under a config.
struct ExpectedShapes {
    private var shapes: [String: [Int]] = [:]
    private var expertShapes: [String: [Int]] = [:]
    /// Every tensor the model must have (output.weight only when the embeddings are not tied).
    private(set) var required: [String] = []

    init(_ h: Qwen2Hyperparameters) {
        let hidden = h.embeddingLength, vocab = h.vocabSize ?? 0
        let q = h.headCount * h.keyLength, kv = h.headCountKV * h.keyLength, v = h.headCountKV * h.valueLength
        func add(_ name: String, _ shape: [Int], required: Bool = true) {
            shapes[name] = shape
            if required { self.required.append(name) }
        }
        add("token_embd.weight", [vocab, hidden])
        add("output.weight", [vocab, hidden], required: h.tiedEmbeddings != true)
        add("output_norm.weight", [hidden])
        for i in 0..<h.blockCount {
            let b = "blk.\(i)."
            add(b + "attn_norm.weight", [hidden])
            add(b + "ffn_norm.weight", [hidden])
            add(b + "attn_q.weight", [q, hidden])
            add(b + "attn_q.bias", [q])
            add(b + "attn_k.weight", [kv, hidden])
            add(b + "attn_k.bias", [kv])
            add(b + "attn_v.weight", [v, hidden])
            add(b + "attn_v.bias", [v])
            add(b + "attn_output.weight", [hidden, h.headCount * h.valueLength])
            if let m = h.moe {
                add(b + "ffn_gate_inp.weight", [m.expertCount, hidden])
                expertShapes[b + "ffn_gate_exps.weight"] = [m.expertFeedForwardLength, hidden]
                expertShapes[b + "ffn_up_exps.weight"] = [m.expertFeedForwardLength, hidden]
                expertShapes[b + "ffn_down_exps.weight"] = [hidden, m.expertFeedForwardLength]
                required += [b + "ffn_down_exps.weight", b + "ffn_gate_exps.weight", b + "ffn_up_exps.weight"]
                if m.sharedExpertFeedForwardLength > 0 {
                    add(b + "ffn_gate_shexp.weight", [m.sharedExpertFeedForwardLength, hidden])
                    add(b + "ffn_up_shexp.weight", [m.sharedExpertFeedForwardLength, hidden])
                    add(b + "ffn_down_shexp.weight", [hidden, m.sharedExpertFeedForwardLength])
                    add(b + "ffn_gate_inp_shexp.weight", [1, hidden])
                }
            } else {
                add(b + "ffn_gate.weight", [h.feedForwardLength, hidden])
                add(b + "ffn_up.weight", [h.feedForwardLength, hidden])
                add(b + "ffn_down.weight", [hidden, h.feedForwardLength])
            }
        }
    }

    func shape(of name: String) -> [Int]? { shapes[name] }
    func expertShape(of name: String) -> [Int]? { expertShapes[name] }
}

/// The directory's name as given (as the reference takes it), except that `.` and `..` are resolved, so that
/// `convert .` names the model after the directory (the reference would use an empty name there).
func directoryName(_ path: String) -> String {
    let given = lastPathComponent(path)
    guard given == "." || given == "..", let resolved = realpath(path, nil) else { return given }
    defer { free(resolved) }
    return lastPathComponent(String(cString: resolved))
}

