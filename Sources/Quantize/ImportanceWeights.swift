import ModelFiles

/// An importance matrix as llama-quantize uses it: for each weight tensor, the mean squared activation of each input
/// column (`ne[0]` floats per matrix, one matrix per expert of a stacked tensor), and what the output records about
/// the file in its `quantize.imatrix.*` keys. The caller reads the file (llama-imatrix's GGUF or legacy layout) and
/// applies --include-weights/--exclude-weights; the plan only looks entries up by tensor name.
public struct ImportanceWeights: Sendable {
    /// Weights per tensor name.
    public var entries: [String: [Float]]
    /// The file as the user named it (`quantize.imatrix.file`; llama-quantize keeps at most 127 bytes).
    public var file: String
    /// The first dataset the matrix was computed on (`quantize.imatrix.dataset`), if the file names any.
    public var dataset: String?
    /// The chunks it was computed on (`quantize.imatrix.chunks_count`, written when positive).
    public var chunkCount: Int

    public init(entries: [String: [Float]], file: String, dataset: String?, chunkCount: Int) {
        self.entries = entries
        self.file = file
        self.dataset = dataset
        self.chunkCount = chunkCount
    }

    /// The keys llama-quantize adds, in its order.
    var metadata: [GGUFKeyValue] {
        var kvs = [GGUFKeyValue(GGUFKeys.quantizeImatrixFile, .string(Self.cString(file)))]
        if let dataset { kvs.append(GGUFKeyValue(GGUFKeys.quantizeImatrixDataset, .string(Self.cString(dataset)))) }
        kvs.append(GGUFKeyValue(GGUFKeys.quantizeImatrixEntriesCount, .uint32(UInt32(truncatingIfNeeded: entries.count))))
        if chunkCount > 0 {
            kvs.append(GGUFKeyValue(GGUFKeys.quantizeImatrixChunksCount, .uint32(UInt32(truncatingIfNeeded: chunkCount))))
        }
        return kvs
    }

    /// A string as llama-quantize's 128-byte override buffer holds it: at most 127 bytes (cut where the bytes end,
    /// as strncpy does; a cut UTF-8 sequence is dropped whole so the value stays valid text).
    static func cString(_ s: String) -> String {
        var bytes = Array(s.utf8.prefix(127))
        while let last = bytes.last, String(validating: bytes, as: UTF8.self) == nil, last & 0x80 != 0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// `--prune-layers`: llama-quantize's `remap_layer`. Pruned layers' tensors are dropped; the layers after the first
/// pruned one are renumbered down in order.
struct LayerPruning {
    private var newNumber: [Int: Int] = [:]
    private var pruned: Set<Int> = []
    /// The layers the output has (its `block_count`).
    private(set) var keptLayers = 0

    init(layers: [Int], layerCount: Int, path: String) throws(QuantizeError) {
        let sorted = Array(Set(layers)).sorted()
        guard let first = sorted.first else {
            keptLayers = layerCount
            return
        }
        if let bad = sorted.first(where: { $0 >= layerCount }) {
            throw .input(path: path, reason: "--prune-layers \(bad): the model has layers 0 to \(layerCount - 1)")
        }
        pruned = Set(sorted)
        var next = 0
        for layer in 0..<layerCount where !pruned.contains(layer) {
            newNumber[layer] = layer < first ? layer : next
            next = (layer < first ? layer : next) + 1
        }
        keptLayers = next
    }

    /// The tensor's name in the output, nil when its layer is pruned.
    func newName(_ name: String) -> String? {
        guard !pruned.isEmpty, let layer = TensorTypePolicy.blockNumber(name), layer >= 0 else { return name }
        if pruned.contains(layer) { return nil }
        guard let n = newNumber[layer], n != layer else { return name }
        let prefix = "blk.\(layer)."
        guard name.hasPrefix(prefix) else { return name }
        return "blk.\(n)." + name.dropFirst(prefix.count)
    }
}
