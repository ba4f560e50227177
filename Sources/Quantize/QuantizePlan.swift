import ModelFiles
import Quantization

/// What `quantize` will write for one input file: the metadata as llama-quantize writes it, and every tensor in its
/// output order with the type chosen for it and why.
public struct QuantizePlan {
    public struct Tensor {
        public let name: String
        /// ne[0], ne[1], ... without trailing 1s (`ggml_n_dims`).
        public let dims: [Int]
        public let source: QuantizeInput.Tensor
        public let type: GGMLType
        /// The file type's default for eligible tensors, the source type for the others.
        public let nominalType: GGMLType
        /// Empty when `type == nominalType`.
        public let reasons: [TypeReason]

        public var elementCount: Int { source.elementCount }
        public var byteCount: Int { (try? type.byteCount(elements: elementCount)) ?? 0 }
    }

    public let input: QuantizeInput
    public let type: QuantizeType
    public let options: QuantizeOptions
    public let facts: QuantizeModelFacts
    public let metadata: [GGUFKeyValue]
    public let tensors: [Tensor]

    public var inputTensorBytes: Int { tensors.reduce(0) { $0 + $1.source.byteCount } }
    public var outputTensorBytes: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Plans the quantization of the GGUF file at `path`.
    public init(path: String, type: QuantizeType, options: QuantizeOptions) throws(QuantizeError) {
        try self.init(input: try QuantizeInput(path: path), type: type, options: options)
    }

    public init(file: GGUFFile, type: QuantizeType, options: QuantizeOptions) throws(QuantizeError) {
        try self.init(input: QuantizeInput(file: file), type: type, options: options)
    }

    /// Plans the quantization of the HF checkpoint directory at `path` in one pass: the result is what
    /// `convert --outtype f32` followed by quantizing that file gives, byte for byte (`QuantizeInput(checkpoint:)`).
    public init(checkpoint path: String, type: QuantizeType, options: QuantizeOptions) throws(QuantizeError) {
        try self.init(input: try QuantizeInput(checkpoint: path), type: type, options: options)
    }

    public init(input: QuantizeInput, type: QuantizeType, options: QuantizeOptions) throws(QuantizeError) {
        self.input = input
        self.type = type
        self.options = options
        facts = try Self.facts(of: input)

        // KVs in input order; quantization_version and file_type removed and re-appended (gguf's set_val).
        var kvs = input.metadata.filter {
            $0.key != GGUFKeys.generalQuantizationVersion && $0.key != GGUFKeys.generalFileType
        }
        kvs.append(GGUFKeyValue(GGUFKeys.generalQuantizationVersion, .uint32(2)))
        kvs.append(GGUFKeyValue(GGUFKeys.generalFileType, .uint32(type.fileType.rawValue)))
        metadata = kvs

        let ordered = input.tensors.sorted { Self.loaderOrder($0.name, $1.name) }
        var policy = TensorTypePolicy(type: type, facts: facts, options: options, tensorNames: ordered.map(\.name))
        var planned: [Tensor] = []
        for info in ordered {
            var dims = info.dims
            while dims.count > 1, dims.last == 1 { dims.removeLast() }
            let (chosen, reasons): (GGMLType, [TypeReason])
            do { (chosen, reasons) = try policy.decide(name: info.name, dims: dims, sourceType: info.type) } catch {
                // The policy knows tensors, not files: name the file here.
                if case .layer(let tensor, let reason) = error { throw .input(path: input.path, reason: "\(tensor): \(reason)") }
                throw error
            }
            let eligible = TensorTypePolicy.ineligibility(name: info.name, dims: dims) == nil
            let nominal = eligible ? type.defaultType : info.type
            if options.noFallback, let r = reasons.first(where: \.isFallback) {
                throw .fallbackRefused(path: input.path, tensor: info.name, reason: r.description, fallback: chosen.name)
            }
            if chosen != info.type {
                if info.type.blockSize > 1, !options.allowRequantize { throw .requantize(path: input.path, tensor: info.name, type: info.type.name) }
                guard QuantizationFormats.format(for: info.type) != nil else {
                    throw .unsupportedType(path: input.path, tensor: info.name, type: info.type.name)
                }
                guard QuantizationFormats.format(for: chosen) != nil else { throw .unsupportedType(path: input.path, tensor: info.name, type: chosen.name) }
            }
            planned.append(Tensor(name: info.name, dims: dims, source: info, type: chosen, nominalType: nominal,
                                  reasons: chosen == nominal ? [] : reasons))
        }
        tensors = planned
    }

    /// llama.cpp's loader order (`weight_name_comparer`): tensors outside blocks first, then by block number, then by
    /// name as bytes.
    static func loaderOrder(_ a: String, _ b: String) -> Bool {
        let la = TensorTypePolicy.blockNumber(a) ?? -1
        let lb = TensorTypePolicy.blockNumber(b) ?? -1
        if la != lb { return la < lb }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func facts(of input: QuantizeInput) throws(QuantizeError) -> QuantizeModelFacts {
        guard let arch = input[GGUFKeys.generalArchitecture]?.stringValue else {
            throw .metadata(path: input.path, key: GGUFKeys.generalArchitecture, reason: "is missing")
        }
        func integer(_ suffix: String, required: Bool) throws(QuantizeError) -> Int {
            let key = arch + "." + suffix
            guard let value = input[key] else {
                if required { throw .metadata(path: input.path, key: key, reason: "is missing") }
                return 0
            }
            // Per-layer arrays (head_count_kv of some models): llama.cpp's n_gqa() reads layer 0.
            if let a = value.arrayValue, a.count > 0, let v = a.value(at: 0).intValue, v >= 0 { return v }
            guard let v = value.intValue, v >= 0 else {
                throw .metadata(path: input.path, key: key, reason: "is \(value.type.name), expected a non-negative integer")
            }
            return v
        }
        // The layer count drives the mixture rules: it must be the layers the tensors hold (llama-quantize asserts
        // as much), checked before anything is sized from it.
        let layerCount = try integer(GGUFKeys.Architecture.blockCount.rawValue, required: true)
        var inventory = TensorInventory()
        for t in input.tensors { inventory.add(name: t.name, storedName: t.name, dims: t.dims, expert: nil) }
        if let problem = inventory.layerCountProblem(layerCount) {
            throw .metadata(path: input.path, key: GGUFKeys.Architecture.blockCount.key(arch), reason: problem)
        }
        return QuantizeModelFacts(architecture: arch, layerCount: layerCount,
                                  headCount: try integer("attention.head_count", required: false),
                                  headCountKV: try integer("attention.head_count_kv", required: false),
                                  expertCount: try integer("expert_count", required: false))
    }
}
