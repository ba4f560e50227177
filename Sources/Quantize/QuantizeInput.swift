import Conversion
import ModelFiles

/// The model `quantize` reads, in GGUF terms: the metadata in file order and every tensor with its name, dims and
/// stored type, each with the bytes it is read from. A GGUF file gives these directly. An HF checkpoint gives them
/// through its conversion plan: exactly the float32 GGUF `convert --outtype f32` would write (metadata, names, dims,
/// the converter's expert stacking), with each tensor's bytes still in the memory-mapped safetensors, widened to
/// float32 as they are read; that file is never written.
public struct QuantizeInput {
    public struct Tensor {
        public let name: String
        /// ne[0], ne[1], ... as stored (trailing 1s kept).
        public let dims: [Int]
        /// The type as stored in the GGUF (F32 for every tensor of a checkpoint).
        public let type: GGMLType
        /// Where the bytes come from, concatenated in this order: one piece, or a layer's experts.
        let pieces: [Piece]

        public var elementCount: Int { dims.reduce(1, *) }
        /// Bytes read from the input (the checkpoint's own dtype for a checkpoint).
        public var byteCount: Int { pieces.reduce(0) { $0 + $1.byteCount } }
    }

    /// Whole rows of one tensor in a mapped file.
    struct Piece {
        enum Storage {
            case gguf(GGUFFile, GGUFTensorInfo)
            case safetensors(SafetensorsFile, SafetensorsTensorInfo)
        }

        let storage: Storage
        /// The type of these bytes.
        let type: GGMLType

        var byteCount: Int {
            switch storage {
            case .gguf(_, let info): return info.byteCount
            case .safetensors(_, let info): return info.dataOffsets.count
            }
        }

        /// The mapped bytes, valid inside `body` (the file is kept alive across it).
        func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch storage {
            case .gguf(let file, let info):
                defer { withExtendedLifetime(file) {} }
                return try body(file.data(of: info))
            case .safetensors(let file, let info):
                defer { withExtendedLifetime(file) {} }
                return try body(file.data(of: info))
            }
        }
    }

    /// The GGUF file, or the checkpoint directory: what error messages name.
    public let path: String
    public let metadata: [GGUFKeyValue]
    public let tensors: [Tensor]
    /// True for a checkpoint: every piece goes through float32, even one whose type the output keeps (an F16 weight
    /// of an F16 checkpoint written as F16), since the float32 file it stands for would have been read that way.
    let widensToFloat32: Bool

    /// A GGUF file as it is.
    public init(file: GGUFFile) {
        path = file.path
        metadata = file.metadata
        tensors = file.tensors.map {
            Tensor(name: $0.name, dims: $0.dims, type: $0.type, pieces: [Piece(storage: .gguf(file, $0), type: $0.type)])
        }
        widensToFloat32 = false
    }

    /// The GGUF file at `path`.
    public init(path: String) throws(QuantizeError) {
        do { self.init(file: try GGUFFile(path: path)) } catch { throw .input(path: path, reason: error.description) }
    }

    /// The float32 GGUF that `plan` (planned with `--outtype f32`) would write. Another output type is refused: its
    /// rounding would have to be applied before quantizing, which this input does not do.
    public init(conversion plan: ConversionPlan, path: String) throws(QuantizeError) {
        guard plan.outputType == .f32 else {
            throw .input(path: path, reason: "the conversion plan writes \(plan.outputType.rawValue), not f32")
        }
        var tensors: [Tensor] = []
        for t in plan.tensors {
            var pieces: [Piece] = []
            for (file, info) in t.sources {
                guard let type = info.dtype.ggmlType else {
                    throw .unsupportedType(path: file.path, tensor: info.name, type: info.dtype.rawValue)
                }
                pieces.append(Piece(storage: .safetensors(file, info), type: type))
            }
            tensors.append(Tensor(name: t.name, dims: t.dims, type: t.type, pieces: pieces))
        }
        self.path = path
        metadata = plan.metadata
        self.tensors = tensors
        widensToFloat32 = true
    }

    /// The HF checkpoint directory at `path` (config.json, safetensors, tokenizer files), planned as
    /// `convert --outtype f32` plans it: the same checks, the same refusals.
    public init(checkpoint path: String) throws(QuantizeError) {
        let plan: ConversionPlan
        do { plan = try ConversionPlan(path: path, outputType: .f32) } catch { throw .input(path: path, reason: error.description) }
        try self.init(conversion: plan, path: path)
    }

    /// The value of metadata key `key`.
    public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }
}
