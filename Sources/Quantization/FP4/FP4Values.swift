#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What MXFP4 and NVFP4 share: the E2M1 values (ggml's `kvalues_mxfp4`, stored doubled so they are integers:
// 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives as 0, 1, 2, 3, 4, 6, 8, 12), the search for the nearest one,
// and the scale encodings of ggml-impl.h (E8M0 for MXFP4, UE4M3 for NVFP4), both returning half the scale so that
// the doubled values come out right.

enum FP4 {
    /// `kvalues_mxfp4` as floats (the int8 → float conversion in ggml's `kvalues_mxfp4[i]*e` is exact), loaded once
    /// per call into a register-sized vector rather than read through a static in the element loop.
    static var values: SIMD16<Float> {
        var v = SIMD16<Float>()
        for i in 0..<16 { v[i] = Float(IQTables.kvaluesFP4[i]) }
        return v
    }

    /// ggml `best_index_mxfp4`: the index of the value nearest `x` at scale `e`, the first one on ties
    /// (|values[i]·e − x| compared with a strict `<`, in index order).
    @inline(__always)
    static func bestIndex(_ x: Float, _ e: Float, _ values: SIMD16<Float>) -> UInt8 {
        var bestIndex: UInt8 = 0
        var bestError = abs(values[0] * e - x)
        for i in 1..<16 {
            let error = abs(values[i] * e - x)
            if error < bestError {
                bestIndex = UInt8(i)
                bestError = error
            }
        }
        return bestIndex
    }

    /// ggml `ggml_e8m0_to_fp32_half`: 2^(x − 128), built from bits (x = 0 and 1 give the subnormals 2^−128 and
    /// 2^−127; 255 gives 2^127, not NaN).
    @inline(__always)
    static func e8m0HalfToFloat(_ x: UInt8) -> Float {
        if x < 2 { return Float(bitPattern: UInt32(0x0020_0000) << UInt32(x)) }
        return Float(bitPattern: UInt32(x - 1) << 23)
    }

    /// The E8M0 exponent `quantize_row_mxfp4_ref` picks for a block whose largest magnitude is `amax`:
    /// `(uint8_t)(floorf(log2f(amax)) - 2 + 127)`, 0 when `amax` is 0. libm's `log2f` (glibc's, as ggml's Linux
    /// build calls it), not the float's exponent field: just below a power of two log2f rounds up to the integer
    /// (log2f(255.99998) is 8), and ggml keeps that.
    /// Subnormal maxima give negative values that the byte conversion wraps, infinity gives 0 (`cUInt8`).
    @inline(__always)
    static func e8m0Exponent(amax: Float) -> UInt8 {
        amax > 0 ? cUInt8(floorf(log2f(amax)) - 2 + 127) : 0
    }

    /// ggml `ggml_ue4m3_to_fp32`: UE4M3 (4 exponent bits biased by 7, 3 mantissa bits, no sign: bit 7 is ignored)
    /// times 0.5. 0 and 0x7F (the NaN pattern) give 0. Every step is exact, as ldexpf's are.
    @inline(__always)
    static func ue4m3ToFloat(_ x: UInt8) -> Float {
        if x == 0 || x == 0x7F { return 0 }
        let exponent = Int((x >> 3) & 0xF)
        let mantissa = Float(x & 0x7)
        let raw: Float = exponent == 0
            ? mantissa * 0x1p-9
            : Float(sign: .plus, exponent: exponent - 7, significand: 1 + mantissa / 8)
        return raw * 0.5
    }

    /// ggml `ggml_fp32_to_ue4m3`: non-positive and NaN give 0, values above 448 are clamped to it; normal results
    /// round the mantissa on the first dropped bit alone (half up, not to even), carrying into the exponent; an
    /// exponent of 15 or more gives 0x7E (448), so every value from 256 up encodes as 448 and the codes 0x78...0x7D
    /// are never written (a sub-block whose largest magnitude reaches 1536 gets the scale 448); below the normal
    /// range `(int)(x * 512 + 0.5)` clamped to 7, and 0 when that is under 1.
    static func ue4m3(from value: Float) -> UInt8 {
        guard value > 0 else { return 0 }
        let x: Float = value > 448 ? 448 : value
        let bits = x.bitPattern
        let fp32Exponent = Int((bits >> 23) & 0xFF) - 127
        let fp32Mantissa = Int((bits >> 20) & 0x7)
        var exponent = fp32Exponent + 7
        if exponent <= 0 {
            let mantissa = min(7, Int(cInt32(x * 512 + 0.5)))
            if mantissa < 1 { return 0 }
            return UInt8(mantissa)
        }
        if exponent >= 15 { return 0x7E }
        let roundBit = Int((bits >> 19) & 1)
        var mantissa = fp32Mantissa + roundBit
        if mantissa > 7 {
            mantissa = 0
            exponent += 1
            if exponent >= 15 { return 0x7E }
        }
        return UInt8((exponent << 3) | mantissa)
    }
}
