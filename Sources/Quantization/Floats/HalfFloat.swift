/// IEEE binary16 conversions exactly as ggml computes them (`ggml_compute_fp32_to_fp16` and
/// `ggml_compute_fp16_to_fp32` in ggml-impl.h, after Maratyszcza/FP16): bit manipulation plus two float
/// multiplications that let the hardware do the rounding.
///
/// - fp32 → fp16 rounds to nearest even, produces fp16 subnormals correctly, overflows to ±inf, and turns every
///   NaN into 0x7E00 with its sign (payloads are dropped; numpy keeps the top payload bits, so it differs there).
/// - fp16 → fp32 is exact; a signaling NaN comes back quiet (the multiplication sets the quiet bit), where numpy
///   keeps it signaling.
public enum HalfFloat {
    /// The fp16 bits of `f`.
    public static func bits(from f: Float) -> UInt16 {
        let scaleToInf: Float = 0x1.0p+112
        let scaleToZero: Float = 0x1.0p-110
        // Scaling by 2^112 then 2^-110 leaves the value in the fp32 range where adding `bias` below rounds the
        // mantissa to 10 bits (or fewer for fp16 subnormals) in the hardware's round-to-nearest-even.
        var base = (abs(f) * scaleToInf) * scaleToZero

        let w = f.bitPattern
        let shl1W = w &+ w
        let sign = w & 0x8000_0000
        var bias = shl1W & 0xFF00_0000
        if bias < 0x7100_0000 {
            bias = 0x7100_0000
        }

        base = Float(bitPattern: (bias >> 1) &+ 0x0780_0000) + base
        let bits = base.bitPattern
        let expBits = (bits >> 13) & 0x0000_7C00
        let mantissaBits = bits & 0x0000_0FFF
        let nonsign = expBits &+ mantissaBits
        return UInt16(truncatingIfNeeded: (sign >> 16) | (shl1W > 0xFF00_0000 ? 0x7E00 : nonsign))
    }

    /// The float value of fp16 bits `h`.
    public static func float(fromBits h: UInt16) -> Float {
        let w = UInt32(h) << 16
        let sign = w & 0x8000_0000
        let twoW = w &+ w

        let expOffset: UInt32 = 0xE0 << 23
        let expScale: Float = 0x1.0p-112
        let normalized = Float(bitPattern: (twoW >> 4) &+ expOffset) * expScale

        let magicMask: UInt32 = 126 << 23
        let magicBias: Float = 0.5
        let denormalized = Float(bitPattern: (twoW >> 17) | magicMask) - magicBias

        let denormalizedCutoff: UInt32 = 1 << 27
        let result = sign | (twoW < denormalizedCutoff ? denormalized.bitPattern : normalized.bitPattern)
        return Float(bitPattern: result)
    }
}
