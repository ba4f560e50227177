import ModelFiles

/// Q2_0: 64 weights in 18 bytes, `d: fp16 | qs[16]`; weight = (q − 1) · d with q in 0...3 (−d, 0, d, 2d).
/// Element j is bits 2(j % 4) ..< 2(j % 4) + 2 of byte j / 4.
///
/// ggml's `quantize_q2_0` with an importance vector runs `quantize_row_q2_0_ref` row by row and never reads the
/// weights: the bytes are the unweighted ones, so there is no weighted quantizer here.
enum BlockQ2_0 {
    static let format = BlockFormat(type: .q2_0, reference: quantizeReference, dequantize: dequantize)
    static let qk = 64
    static let bytes = 18

    /// ggml `quantize_row_q2_0_ref`. `d` is the largest magnitude itself, so q = 3 (2d) is only reached by
    /// rounding an input above 1.5·d, which cannot happen: the indices in use are 0...2. They are `roundf(x/d)`
    /// through C's int conversion, plus one, clamped to 0...3; a product that is not finite (an infinite input, or
    /// `1/d` = inf for a subnormal `d`) converts to INT_MIN and clamps to 0, as ggml's x86-64 build does.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = x + i * qk
            let yb = y + i * bytes
            var amax: Float = 0
            for j in 0..<qk {
                let a = abs(xb[j])
                if a > amax { amax = a }
            }
            let d = amax
            let id: Float = d > 0 ? 1 / d : 0

            storeHalf(d, yb, 0)

            for byte in 0..<qk / 4 {
                var packed: UInt8 = 0
                for k in 0..<4 {
                    let q = clamp(Int(cInt32((xb[4 * byte + k] * id).rounded()) &+ 1), 0, 3)
                    packed |= UInt8(q) << (2 * k)
                }
                storeByte(packed, yb, 2 + byte)
            }
        }
    }

    /// ggml `dequantize_row_q2_0`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            for j in 0..<qk {
                let q = (loadByte(yb, 2 + j / 4) >> (2 * (j % 4))) & 0x03
                xb[j] = Float(Int(q) - 1) * d
            }
        }
    }
}
