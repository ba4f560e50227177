import ModelFiles

/// What `qwenkit quantize` can write: a `llama_ftype` (the value of `general.file_type`) by llama-quantize's name for
/// it, in llama-quantize's list order. The default type of its weight matrices is `defaultType` (shared/SPEC-FACTS.md
/// §4.2); the mixes then move some tensors up or down (`TensorTypePolicy`).
public enum QuantizeType: String, CaseIterable, Sendable {
    case q1_0 = "Q1_0", q2_0 = "Q2_0", q4_0 = "Q4_0", q4_1 = "Q4_1", mxfp4MoE = "MXFP4_MOE", q5_0 = "Q5_0", q5_1 = "Q5_1"
    case iq2_XXS = "IQ2_XXS", iq2_XS = "IQ2_XS", iq2_S = "IQ2_S", iq2_M = "IQ2_M", iq1_S = "IQ1_S", iq1_M = "IQ1_M"
    case tq1_0 = "TQ1_0", tq2_0 = "TQ2_0", q2_K = "Q2_K", q2_K_S = "Q2_K_S"
    case iq3_XXS = "IQ3_XXS", iq3_S = "IQ3_S", iq3_M = "IQ3_M", iq3_XS = "IQ3_XS"
    case q3_K_S = "Q3_K_S", q3_K_M = "Q3_K_M", q3_K_L = "Q3_K_L", iq4_NL = "IQ4_NL", iq4_XS = "IQ4_XS"
    case q4_K_S = "Q4_K_S", q4_K_M = "Q4_K_M", q5_K_S = "Q5_K_S", q5_K_M = "Q5_K_M", q6_K = "Q6_K", q8_0 = "Q8_0"
    case f16 = "F16", bf16 = "BF16", f32 = "F32"

    /// llama-quantize's short names for a k-quant mix.
    static let aliases: [String: QuantizeType] = ["Q3_K": .q3_K_M, "Q4_K": .q4_K_M, "Q5_K": .q5_K_M]

    /// A name, case-insensitive (`q4_k_m` is `Q4_K_M`), one of llama-quantize's aliases (`Q4_K` is `Q4_K_M`), or the
    /// `general.file_type` number (`15` is `Q4_K_M`), as llama-quantize accepts them.
    public init?(name: String) {
        let upper = name.uppercased()
        if let t = QuantizeType(rawValue: upper) ?? Self.aliases[upper] {
            self = t
        } else if let n = UInt32(name), let t = QuantizeType.allCases.first(where: { $0.fileType.rawValue == n }) {
            self = t
        } else {
            return nil
        }
    }

    public var name: String { rawValue }

    /// The one table: the `general.file_type` written and llama.cpp's `llama_ftype_get_default_type`.
    private var row: (fileType: LlamaFileType, defaultType: GGMLType) {
        switch self {
        case .q1_0: return (.q1_0, .q1_0)
        case .q2_0: return (.q2_0, .q2_0)
        case .q4_0: return (.q4_0, .q4_0)
        case .q4_1: return (.q4_1, .q4_1)
        case .mxfp4MoE: return (.mxfp4MoE, .mxfp4)
        case .q5_0: return (.q5_0, .q5_0)
        case .q5_1: return (.q5_1, .q5_1)
        case .iq2_XXS: return (.iq2_XXS, .iq2_XXS)
        case .iq2_XS: return (.iq2_XS, .iq2_XS)
        case .iq2_S: return (.iq2_S, .iq2_XS)
        case .iq2_M: return (.iq2_M, .iq2_S)
        case .iq1_S: return (.iq1_S, .iq1_S)
        case .iq1_M: return (.iq1_M, .iq1_M)
        case .tq1_0: return (.tq1_0, .tq1_0)
        case .tq2_0: return (.tq2_0, .tq2_0)
        case .q2_K: return (.q2_K, .q2_K)
        case .q2_K_S: return (.q2_K_S, .q2_K)
        case .iq3_XXS: return (.iq3_XXS, .iq3_XXS)
        case .iq3_S: return (.iq3_S, .iq3_S)
        case .iq3_M: return (.iq3_M, .iq3_S)
        case .iq3_XS: return (.iq3_XS, .iq3_S)
        case .q3_K_S: return (.q3_K_S, .q3_K)
        case .q3_K_M: return (.q3_K_M, .q3_K)
        case .q3_K_L: return (.q3_K_L, .q3_K)
        case .iq4_NL: return (.iq4_NL, .iq4_NL)
        case .iq4_XS: return (.iq4_XS, .iq4_XS)
        case .q4_K_S: return (.q4_K_S, .q4_K)
        case .q4_K_M: return (.q4_K_M, .q4_K)
        case .q5_K_S: return (.q5_K_S, .q5_K)
        case .q5_K_M: return (.q5_K_M, .q5_K)
        case .q6_K: return (.q6_K, .q6_K)
        case .q8_0: return (.q8_0, .q8_0)
        case .f16: return (.mostlyF16, .f16)
        case .bf16: return (.mostlyBF16, .bf16)
        case .f32: return (.allF32, .f32)
        }
    }

    /// The `general.file_type` written.
    public var fileType: LlamaFileType { row.fileType }

    /// llama.cpp's `llama_ftype_get_default_type`.
    public var defaultType: GGMLType { row.defaultType }

    /// Whether the default type is a block quantization (the mixture rules and fallbacks apply only then).
    public var isQuantized: Bool { defaultType.blockSize > 1 }

    /// The IQ1/IQ2 file types, which share one branch of llama.cpp's mixture rules.
    var isVeryLowBit: Bool { [.iq2_XXS, .iq2_XS, .iq1_S, .iq2_S, .iq2_M, .iq1_M].contains(self) }
}
