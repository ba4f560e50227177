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
        /// The importance matrix entry used for this tensor (`dims[0]` weights per matrix), nil without one.
        public let importance: [Float]?

        public var elementCount: Int { source.elementCount }
        public var byteCount: Int { (try? type.byteCount(elements: elementCount)) ?? 0 }
    }

    public let input: QuantizeInput
    public let type: QuantizeType
    public let options: QuantizeOptions
    public let facts: QuantizeModelFacts
    public let metadata: [GGUFKeyValue]
    public let tensors: [Tensor]
    /// The importance matrix given, if any.
    public let importance: ImportanceWeights?
    /// Tensors quantized to a type that uses importance, but for which the matrix has no entry (llama-quantize's
    /// "did not find weights"): quantized without.
    public let tensorsWithoutImportance: [String]

    public var inputTensorBytes: Int { tensors.reduce(0) { $0 + $1.source.byteCount } }
    public var outputTensorBytes: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Plans the quantization of the GGUF file at `path`.
    public init(path: String, type: QuantizeType, options: QuantizeOptions, importance: ImportanceWeights? = nil) throws(QuantizeError) {
        try self.init(input: try QuantizeInput(path: path), type: type, options: options, importance: importance)
    }

    public init(file: GGUFFile, type: QuantizeType, options: QuantizeOptions, importance: ImportanceWeights? = nil) throws(QuantizeError) {
        try self.init(input: QuantizeInput(file: file), type: type, options: options, importance: importance)
    }

    /// Plans the quantization of the HF checkpoint directory at `path` in one pass: the result is what
    /// `convert --outtype f32` followed by quantizing that file gives, byte for byte (`QuantizeInput(checkpoint:)`).
    public init(checkpoint path: String, type: QuantizeType, options: QuantizeOptions, importance: ImportanceWeights? = nil) throws(QuantizeError) {
        try self.init(input: try QuantizeInput(checkpoint: path), type: type, options: options, importance: importance)
    }

    public init(input: QuantizeInput, type: QuantizeType, options: QuantizeOptions, importance: ImportanceWeights? = nil) throws(QuantizeError) {
        self.input = input
        self.type = type
        let importance = importance.flatMap { $0.entries.isEmpty ? nil : $0 }
        var options = options
        options.hasImportance = importance != nil
        self.options = options
        self.importance = importance
        facts = try Self.facts(of: input)

        // Layers removed by --prune-layers, and the new number of each kept one (llama-quantize's remap_layer).
        let ordered = input.tensors.sorted { Self.loaderOrder($0.name, $1.name) }
        let renaming = try LayerPruning(layers: options.pruneLayers, layerCount: facts.layerCount, path: input.path)
        let kept = ordered.compactMap { t in renaming.newName(t.name).map { (name: $0, info: t) } }

        // KVs in input order; quantization_version and file_type removed and re-appended (gguf's set_val), then each
        // --override-kv and the importance matrix's keys the same way, then the pruned block count.
        var kvs = input.metadata
        func set(_ key: String, _ value: GGUFValue) {
            kvs.removeAll { $0.key == key }
            kvs.append(GGUFKeyValue(key, value))
        }
        set(GGUFKeys.generalQuantizationVersion, .uint32(2))
        set(GGUFKeys.generalFileType, .uint32(type.fileType.rawValue))
        for kv in options.metadataOverrides { set(kv.key, kv.value) }
        if let importance {
            for kv in importance.metadata { set(kv.key, kv.value) }
        }
        if !options.pruneLayers.isEmpty {
            set(GGUFKeys.Architecture.blockCount.key(facts.architecture), .uint32(UInt32(renaming.keptLayers)))
        }
        metadata = kvs

        var policy = TensorTypePolicy(type: type, facts: facts, options: options, tensorNames: kept.map(\.name))
        var planned: [Tensor] = []
        var unmatched: [String] = []
        for (name, info) in kept {
            var dims = info.dims
            while dims.count > 1, dims.last == 1 { dims.removeLast() }
            let (chosen, reasons): (GGMLType, [TypeReason])
            do { (chosen, reasons) = try policy.decide(name: name, dims: dims, sourceType: info.type) } catch {
                // The policy knows tensors, not files: name the file here.
                switch error {
                case .layer(let tensor, let reason): throw .input(path: input.path, reason: "\(tensor): \(reason)")
                case .noFallback: throw .input(path: input.path, reason: error.description)
                default: throw error
                }
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
            // The importance entry is looked up under the tensor's name in the input (before pruning renamed it), for
            // every tensor that is re-encoded; a wrong size stops the run (but for the token embedding, which
            // llama-quantize then quantizes without).
            var weights: [Float]?
            if chosen != info.type, let importance {
                let matrices = dims.count > 2 ? dims[2] : 1
                if let entry = importance.entries[info.name] {
                    if entry.count == dims[0] * matrices {
                        weights = entry
                    } else if TensorCategory(name: info.name) != .tokenEmbedding {
                        throw .importanceMismatch(path: importance.file, tensor: info.name, have: entry.count,
                                                  want: dims[0] * matrices)
                    }
                } else if QuantizationFormats.format(for: chosen)?.usesImportance == true {
                    unmatched.append(name)
                }
            }
            if chosen != info.type, weights == nil, policy.requiresImportance(name: name, type: chosen) {
                throw .importanceRequired(tensor: name, type: chosen.name, have: importance != nil)
            }
            planned.append(Tensor(name: name, dims: dims, source: info, type: chosen, nominalType: nominal,
                                  reasons: chosen == nominal ? [] : reasons, importance: weights))
        }
        // A --tensor-type pattern that matches no weight matrix is a mistake (a typo, another architecture's name).
        for override in options.tensorTypes
        where !planned.contains(where: { TensorTypePolicy.ineligibility(name: $0.name, dims: $0.dims) == nil && override.matches($0.name) }) {
            throw .patternUnmatched(flag: "--tensor-type", pattern: override.pattern)
        }
        if let importance, !planned.contains(where: { $0.importance != nil }), !unmatched.isEmpty {
            throw .importanceUnmatched(path: importance.file, example: unmatched[0])
        }
        tensors = planned
        tensorsWithoutImportance = unmatched
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
