/// llama.cpp's `llama_ftype`: the value of `general.file_type`, naming a file's main weight type and mix
/// (shared/SPEC-FACTS.md §1.7). Not ggml's `ggml_ftype`, which numbers some types differently. Raw values are the
/// stored numbers; the gaps (removed types) are kept.
public enum LlamaFileType: UInt32, CaseIterable, Sendable {
    case allF32 = 0
    case mostlyF16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 7
    case q5_0 = 8
    case q5_1 = 9
    case q2_K = 10
    case q3_K_S = 11
    case q3_K_M = 12
    case q3_K_L = 13
    case q4_K_S = 14
    case q4_K_M = 15
    case q5_K_S = 16
    case q5_K_M = 17
    case q6_K = 18
    case iq2_XXS = 19
    case iq2_XS = 20
    case q2_K_S = 21
    case iq3_XS = 22
    case iq3_XXS = 23
    case iq1_S = 24
    case iq4_NL = 25
    case iq3_S = 26
    case iq3_M = 27
    case iq2_S = 28
    case iq2_M = 29
    case iq4_XS = 30
    case iq1_M = 31
    case mostlyBF16 = 32
    case tq1_0 = 36
    case tq2_0 = 37
    case mxfp4MoE = 38
    case nvfp4 = 39
    case q1_0 = 40
    case q2_0 = 41

    /// The name llama-quantize and gguf-py use (`Q4_K_M`, `MOSTLY_F16`).
    public var name: String {
        switch self {
        case .allF32: return "ALL_F32"
        case .mostlyF16: return "MOSTLY_F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q8_0: return "Q8_0"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q2_K: return "Q2_K"
        case .q3_K_S: return "Q3_K_S"
        case .q3_K_M: return "Q3_K_M"
        case .q3_K_L: return "Q3_K_L"
        case .q4_K_S: return "Q4_K_S"
        case .q4_K_M: return "Q4_K_M"
        case .q5_K_S: return "Q5_K_S"
        case .q5_K_M: return "Q5_K_M"
        case .q6_K: return "Q6_K"
        case .iq2_XXS: return "IQ2_XXS"
        case .iq2_XS: return "IQ2_XS"
        case .q2_K_S: return "Q2_K_S"
        case .iq3_XS: return "IQ3_XS"
        case .iq3_XXS: return "IQ3_XXS"
        case .iq1_S: return "IQ1_S"
        case .iq4_NL: return "IQ4_NL"
        case .iq3_S: return "IQ3_S"
        case .iq3_M: return "IQ3_M"
        case .iq2_S: return "IQ2_S"
        case .iq2_M: return "IQ2_M"
        case .iq4_XS: return "IQ4_XS"
        case .iq1_M: return "IQ1_M"
        case .mostlyBF16: return "MOSTLY_BF16"
        case .tq1_0: return "TQ1_0"
        case .tq2_0: return "TQ2_0"
        case .mxfp4MoE: return "MXFP4_MOE"
        case .nvfp4: return "NVFP4"
        case .q1_0: return "Q1_0"
        case .q2_0: return "Q2_0"
        }
    }
}
