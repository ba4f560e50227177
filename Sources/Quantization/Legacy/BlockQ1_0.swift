import ModelFiles

/// Q1_0: 128 weights in 18 bytes, `d: fp16 | qs[16]`; weight = +d where bit j of `qs` (byte j / 8, bit j % 8) is
/// set, −d where it is clear.
///
/// ggml's `quantize_q1_0` with an importance vector runs `quantize_row_q1_0_ref` row by row and never reads the
/// weights: the bytes are the unweighted ones, so there is no weighted quantizer here.
enum BlockQ1_0 {
    static let format = BlockFormat(type: .q1_0, reference: quantizeReference, dequantize: dequantize)
    static let qk = 128
    static let bytes = 18

    /// ggml `quantize_row_q1_0_ref`. `d` is the mean magnitude (a sequential float sum over 128); the bit is the
    /// sign with `x >= 0` (so −0.0 and +0.0 set it, NaN does not).
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = x + i * qk
            let yb = y + i * bytes
            var sumAbs: Float = 0
            for j in 0..<qk { sumAbs += abs(xb[j]) }
            let d = sumAbs / Float(qk)

            storeHalf(d, yb, 0)

            for byte in 0..<qk / 8 {
                var bits: UInt8 = 0
                for bit in 0..<8 where xb[8 * byte + bit] >= 0 {
                    bits |= 1 << bit
                }
                storeByte(bits, yb, 2 + byte)
            }
        }
    }

    /// ggml `dequantize_row_q1_0`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            let negD = -d
            for j in 0..<qk {
                let bit = (loadByte(yb, 2 + j / 8) >> (j % 8)) & 1
                xb[j] = bit != 0 ? d : negD
            }
        }
    }
}
