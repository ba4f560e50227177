import ModelFiles

/// MXFP4 (OCP microscaling FP4): 32 weights in 17 bytes, `e: E8M0 | qs[16]`; weight = kvalues_mxfp4[q] · 2^(e − 128)
/// (the doubled E2M1 values times half the block scale 2^(e − 127)). Byte j of `qs` holds element j in its low
/// nibble and element j + 16 in its high nibble, as Q4_0.
///
/// ggml's `quantize_mxfp4` ignores an importance vector (GGML_UNUSED), so there is no weighted quantizer here.
enum BlockMXFP4 {
    static let format = BlockFormat(type: .mxfp4, reference: quantizeReference, dequantize: dequantize)
    static let qk = 32
    static let bytes = 17

    /// ggml `quantize_row_mxfp4_ref`. The exponent (`FP4.e8m0Exponent`) makes the largest magnitude 8 to 16 times
    /// half the scale, so it may lie beyond the largest doubled value (12), which the search then picks; each
    /// element takes the nearest value, the first on ties.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        let values = FP4.values
        for i in 0..<blocks {
            let xb = x + i * qk
            let yb = y + i * bytes
            var amax: Float = 0  // absolute max
            for j in 0..<qk where amax < abs(xb[j]) {
                amax = abs(xb[j])
            }

            let e = FP4.e8m0Exponent(amax: amax)
            let d = FP4.e8m0HalfToFloat(e)
            storeByte(e, yb, 0)

            for j in 0..<qk / 2 {
                let x0 = FP4.bestIndex(xb[j], d, values)
                let x1 = FP4.bestIndex(xb[qk / 2 + j], d, values)
                storeByte(x0 | (x1 << 4), yb, 1 + j)
            }
        }
    }

    /// ggml `dequantize_row_mxfp4`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        let values = FP4.values
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = FP4.e8m0HalfToFloat(loadByte(yb, 0))
            for j in 0..<qk / 2 {
                let q = loadByte(yb, 1 + j)
                xb[j] = values[Int(q & 0x0F)] * d
                xb[j + qk / 2] = values[Int(q >> 4)] * d
            }
        }
    }
}
