import ModelFiles

/// Q4_0: 32 weights in 18 bytes, `d: fp16 | qs[16]`; weight = (q − 8) · d with q in 0...15.
/// Byte j of `qs` holds element j in its low nibble and element j + 16 in its high nibble.
enum BlockQ4_0: LegacyScaleBlock {
    static let format = BlockFormat(type: .q4_0, reference: quantizeReference, weighted: quantizeWeightedFast, dequantize: dequantize)
    static let qk = 32
    static let bytes = 18
    /// ggml `quantize_q4_0` with an importance vector: `LegacyScaleBlock`'s, with nmax 8.
    static let nmax: Int32 = 8

    /// ggml `quantize_row_q4_0_ref`. `d` is the signed element of largest magnitude (its first occurrence)
    /// divided by −8; indices use `1/d` from the unrounded float32 `d` and truncate `v + 8.5`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = x + i * qk
            let yb = y + i * bytes
            var amax: Float = 0  // absolute max
            var max: Float = 0
            for j in 0..<qk {
                let v = xb[j]
                if amax < abs(v) {
                    amax = abs(v)
                    max = v
                }
            }

            let d = max / -8
            let id: Float = d != 0 ? 1.0 / d : 0.0

            storeHalf(d, yb, 0)

            for j in 0..<qk / 2 {
                let x0 = xb[j] * id
                let x1 = xb[qk / 2 + j] * id

                let xi0 = UInt8(truncatingIfNeeded: Swift.min(15, cInt8(x0 + 8.5)))
                let xi1 = UInt8(truncatingIfNeeded: Swift.min(15, cInt8(x1 + 8.5)))

                storeByte(xi0 | (xi1 << 4), yb, 2 + j)
            }
        }
    }

    /// A block from its scale and biased indices (0...15).
    @inline(__always)
    static func pack(_ d: Float, _ L: UnsafePointer<Int8>, _ yb: UnsafeMutableRawPointer) {
        storeHalf(d, yb, 0)
        for j in 0..<qk / 2 {
            storeByte(UInt8(bitPattern: L[j]) | (UInt8(bitPattern: L[j + qk / 2]) << 4), yb, 2 + j)
        }
    }

    /// ggml `dequantize_row_q4_0`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            for j in 0..<qk / 2 {
                let q = loadByte(yb, 2 + j)
                let x0 = Int32(q & 0x0F) - 8
                let x1 = Int32(q >> 4) - 8
                xb[j] = Float(x0) * d
                xb[j + qk / 2] = Float(x1) * d
            }
        }
    }
}
