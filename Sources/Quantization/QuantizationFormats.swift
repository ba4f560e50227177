import ModelFiles

/// The registry: every ggml type this library can quantize and dequantize, keyed by `GGMLType`.
public enum QuantizationFormats {
    /// The codec for `type`, or nil for types without one here (Q8_1, the integers, F64).
    public static func format(for type: GGMLType) -> BlockFormat? {
        switch type {
        case .f32: return FloatRows.f32
        case .f16: return FloatRows.f16
        case .bf16: return FloatRows.bf16
        case .q4_0: return BlockQ4_0.format
        case .q4_1: return BlockQ4_1.format
        case .q5_0: return BlockQ5_0.format
        case .q5_1: return BlockQ5_1.format
        case .q8_0: return BlockQ8_0.format
        case .q2_K: return BlockQ2_K.format
        case .q3_K: return BlockQ3_K.format
        case .q4_K: return BlockQ4_K.format
        case .q5_K: return BlockQ5_K.format
        case .q6_K: return BlockQ6_K.format
        case .q8_K: return BlockQ8_K.format
        case .iq1_S: return BlockIQ1_S.format
        case .iq1_M: return BlockIQ1_M.format
        case .tq1_0: return BlockTQ1_0.format
        case .tq2_0: return BlockTQ2_0.format
        case .mxfp4: return BlockMXFP4.format
        case .nvfp4: return BlockNVFP4.format
        case .q1_0: return BlockQ1_0.format
        case .q2_0: return BlockQ2_0.format
        case .iq3_XXS: return BlockIQ3_XXS.format
        case .iq3_S: return BlockIQ3_S.format
        case .iq2_XXS: return BlockIQ2_XXS.format
        case .iq2_XS: return BlockIQ2_XS.format
        case .iq2_S: return BlockIQ2_S.format
        case .iq4_NL: return BlockIQ4_NL.format
        case .iq4_XS: return BlockIQ4_XS.format
        default: return nil
        }
    }

    /// The types `format(for:)` knows, in id order.
    public static var supportedTypes: [GGMLType] { GGMLType.allCases.filter { format(for: $0) != nil } }
}
