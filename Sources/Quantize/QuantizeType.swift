import ModelFiles

/// What `qwenkit quantize` can write: a `llama_ftype` (the value of `general.file_type`) by llama-quantize's name for
/// it. The default type of its weight matrices is `defaultType` (shared/SPEC-FACTS.md §4.2); the k-quant mixes then
/// move some tensors up or down (`TensorTypePolicy`).
public enum QuantizeType: String, CaseIterable, Sendable {
    case q8_0 = "Q8_0", q4_0 = "Q4_0", q4_1 = "Q4_1", q5_0 = "Q5_0", q5_1 = "Q5_1"
    case q2_K = "Q2_K", q3_K_S = "Q3_K_S", q3_K_M = "Q3_K_M", q3_K_L = "Q3_K_L"
    case q4_K_S = "Q4_K_S", q4_K_M = "Q4_K_M", q5_K_S = "Q5_K_S", q5_K_M = "Q5_K_M", q6_K = "Q6_K"
    case f16 = "F16", bf16 = "BF16", f32 = "F32"

    /// Case-insensitive (`q4_k_m` is `Q4_K_M`).
    public init?(name: String) {
        guard let t = QuantizeType.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else { return nil }
        self = t
    }

    public var name: String { rawValue }

    /// The `general.file_type` written.
    public var fileType: LlamaFileType {
        switch self {
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q5_0: return .q5_0
        case .q5_1: return .q5_1
        case .q2_K: return .q2_K
        case .q3_K_S: return .q3_K_S
        case .q3_K_M: return .q3_K_M
        case .q3_K_L: return .q3_K_L
        case .q4_K_S: return .q4_K_S
        case .q4_K_M: return .q4_K_M
        case .q5_K_S: return .q5_K_S
        case .q5_K_M: return .q5_K_M
        case .q6_K: return .q6_K
        case .f16: return .mostlyF16
        case .bf16: return .mostlyBF16
        case .f32: return .allF32
        }
    }

    /// llama.cpp's `llama_ftype_get_default_type`.
    public var defaultType: GGMLType {
        switch self {
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q5_0: return .q5_0
        case .q5_1: return .q5_1
        case .q2_K: return .q2_K
        case .q3_K_S, .q3_K_M, .q3_K_L: return .q3_K
        case .q4_K_S, .q4_K_M: return .q4_K
        case .q5_K_S, .q5_K_M: return .q5_K
        case .q6_K: return .q6_K
        case .f16: return .f16
        case .bf16: return .bf16
        case .f32: return .f32
        }
    }

    /// Whether the default type is a block quantization (the mixture rules and fallbacks apply only then).
    public var isQuantized: Bool { defaultType.blockSize > 1 }
}
