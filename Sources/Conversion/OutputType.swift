import ModelFiles

/// `convert --outtype`: the type of the weight matrices in the output, as llama.cpp's converter names them.
public enum ConversionOutputType: String, CaseIterable, Sendable {
    case f32, f16, bf16, q8_0, auto

    /// The concrete type `auto` stands for, given the checkpoint's tensors in conversion order: the dtype of the
    /// first tensor of two or more dimensions that is F16 or BF16 (F32 ones are skipped), else F16; as the
    /// reference converter decides.
    public func resolved(sourceTypes: [(dtype: SafetensorsDType, dimensions: Int)]) -> ConversionOutputType {
        guard self == .auto else { return self }
        for t in sourceTypes where t.dimensions >= 2 {
            if t.dtype == .bf16 { return .bf16 }
            if t.dtype == .f16 { return .f16 }
        }
        return .f16
    }

    /// The ggml type of a weight matrix of this output type (not `auto`: resolve it first).
    var ggmlType: GGMLType {
        switch self {
        case .f32: return .f32
        case .f16, .auto: return .f16
        case .bf16: return .bf16
        case .q8_0: return .q8_0
        }
    }

    /// `general.file_type`.
    public var fileType: LlamaFileType {
        switch self {
        case .f32: return .allF32
        case .f16, .auto: return .mostlyF16
        case .bf16: return .mostlyBF16
        case .q8_0: return .q8_0
        }
    }
}

/// Why a tensor gets the type it gets (shown by `convert` when it differs from the output type).
public enum TensorTypeReason: Sendable, Equatable {
    /// The output type.
    case outputType
    /// Norms, biases, 1-D tensors and the MoE routers stay F32, as the reference converter keeps them.
    case keptF32
    /// The row (ne0) is not a multiple of the quantized type's block: F16 instead, as the reference falls back.
    case rowNotWholeBlocks(row: Int, blockSize: Int)
}

enum TensorTypeRule {
    /// The reference converter's per-tensor choice (shared/SPEC-FACTS.md §2.3) for GGUF tensor `name` with GGUF
    /// dims `dims` (ne order) and HF rank `hfDimensions`.
    static func type(name: String, dims: [Int], hfDimensions: Int, output: ConversionOutputType) -> (GGMLType, TensorTypeReason) {
        let forcedF32 = hfDimensions <= 1 || name.hasSuffix("_norm.weight") || !name.hasSuffix(".weight")
            || name.hasSuffix(".ffn_gate_inp.weight") || name.hasSuffix(".ffn_gate_inp_shexp.weight")
        if forcedF32 { return (.f32, .keptF32) }
        let type = output.ggmlType
        if type.blockSize > 1, dims[0] % type.blockSize != 0 {
            return (.f16, .rowNotWholeBlocks(row: dims[0], blockSize: type.blockSize))
        }
        return (type, .outputType)
    }
}
