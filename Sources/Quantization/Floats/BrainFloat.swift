/// bfloat16 conversions exactly as ggml computes them (`ggml_compute_fp32_to_bf16`, `ggml_compute_bf16_to_fp32`).
public enum BrainFloat {
    /// The bf16 bits of `f`: the top 16 bits rounded to nearest even (so the largest finite floats round to ±inf);
    /// a NaN keeps its top bits and gets the quiet bit (0x40) forced on instead of being rounded.
    public static func bits(from f: Float) -> UInt16 {
        let u = f.bitPattern
        if (u & 0x7FFF_FFFF) > 0x7F80_0000 {  // NaN
            return UInt16(truncatingIfNeeded: (u >> 16) | 64)
        }
        return UInt16(truncatingIfNeeded: (u &+ (0x7FFF &+ ((u >> 16) & 1))) >> 16)
    }

    /// The float value of bf16 bits `b`: exact, the bits shifted into the top half.
    public static func float(fromBits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
