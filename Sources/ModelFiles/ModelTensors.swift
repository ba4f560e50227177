// A model's tensors by their GGUF names, whichever file holds them: a GGUF file directly, an HF directory through
// the name table (`TensorNameMap`). What the runtime loads its weights through; the files stay mapped as long as
// the owner the caller keeps (the GGUFFile or HFModelDirectory) lives.

/// One stored tensor: its name in the file, its type, its shape in GGUF order (innermost first) and its bytes.
public struct TensorView {
    /// The name the file stores it under (the HF name in an HF directory).
    public let name: String
    /// Nil for a safetensors dtype ggml has no type for (`dtypeName` names it).
    public let type: GGMLType?
    /// The type as the file spells it (`F16`, `Q4_K`, a safetensors dtype such as `I8`).
    public let dtypeName: String
    public let dims: [Int]
    public let data: UnsafeRawBufferPointer
}

/// Looks tensors up by GGUF name in a GGUF file or an HF directory.
public struct ModelTensors {
    private enum Storage {
        case gguf(GGUFFile)
        case hf(HFModelDirectory)
    }
    private let storage: Storage

    public init(gguf file: GGUFFile) { storage = .gguf(file) }
    public init(hf directory: HFModelDirectory) { storage = .hf(directory) }

    /// The tensor `ggufName` names, nil when the model has none (a stacked expert tensor of an HF directory is
    /// `expertParts`).
    public func tensor(_ ggufName: String) -> TensorView? {
        switch storage {
        case .gguf(let file):
            guard let info = file.tensor(named: ggufName) else { return nil }
            return TensorView(name: ggufName, type: info.type, dtypeName: info.type.name, dims: info.dims, data: file.data(of: info))
        case .hf(let dir):
            guard let names = TensorNameMap.hfNames(ofGGUF: ggufName), names.count == 1 else { return nil }
            if let t = Self.stored(names[0], in: dir) { return t }
            // Checkpoints saved from `Qwen2Model` have no `model.` prefix.
            if names[0].hasPrefix("model.") { return Self.stored(String(names[0].dropFirst(6)), in: dir) }
            return nil
        }
    }

    /// The per-expert tensors of a stacked GGUF name, as an HF directory keeps them apart (nil entries for those
    /// missing, with their HF names); nil when the source stacks them (a GGUF file).
    public func expertParts(_ ggufName: String, count: Int) -> [(hfName: String, tensor: TensorView?)]? {
        guard case .hf(let dir) = storage,
              let names = TensorNameMap.hfNames(ofGGUF: ggufName, expertCount: count), names.count == count else { return nil }
        return names.map { ($0, Self.stored($0, in: dir)) }
    }

    private static func stored(_ hfName: String, in dir: HFModelDirectory) -> TensorView? {
        guard let file = dir.weights.file(holding: hfName), let info = file[hfName] else { return nil }
        return TensorView(name: hfName, type: info.dtype.ggmlType, dtypeName: info.dtype.rawValue, dims: info.shape.reversed(),
                          data: file.data(of: info))
    }
}
