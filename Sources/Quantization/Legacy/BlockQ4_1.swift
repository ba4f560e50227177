import ModelFiles

/// Q4_1: 32 weights in 20 bytes, `d: fp16 | m: fp16 | qs[16]`; weight = q · d + m with q in 0...15.
/// Nibbles are packed as in Q4_0.
enum BlockQ4_1: LegacyScaleMinBlock {
    static let format = BlockFormat(type: .q4_1, reference: quantizeReference, weighted: quantizeWeightedFast, dequantize: dequantize)
    static let qk = 32
    static let bytes = 20
    /// ggml `quantize_q4_1` with an importance vector: `LegacyScaleMinBlock`'s, with nmax 15.
    static let nmax: Int32 = 15

    /// ggml `quantize_row_q4_1_ref`: `d = (max − min)/15`, `m = min`; indices truncate `(x − min)/d + 0.5` with
    /// `1/d` from the unrounded float32 `d`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = x + i * qk
            let yb = y + i * bytes
            var min = Float.greatestFiniteMagnitude
            var max = -Float.greatestFiniteMagnitude
            for j in 0..<qk {
                let v = xb[j]
                if v < min { min = v }
                if v > max { max = v }
            }

            let d = (max - min) / 15
            let id: Float = d != 0 ? 1.0 / d : 0.0

            storeHalf(d, yb, 0)
            storeHalf(min, yb, 2)

            for j in 0..<qk / 2 {
                let x0 = (xb[j] - min) * id
                let x1 = (xb[qk / 2 + j] - min) * id

                let xi0 = UInt8(truncatingIfNeeded: Swift.min(15, cInt8(x0 + 0.5)))
                let xi1 = UInt8(truncatingIfNeeded: Swift.min(15, cInt8(x1 + 0.5)))

                storeByte(xi0 | (xi1 << 4), yb, 4 + j)
            }
        }
    }

    /// A block from its scale, negated minimum and indices (0...15).
    @inline(__always)
    static func pack(_ d: Float, _ theMin: Float, _ L: UnsafePointer<UInt8>, _ yb: UnsafeMutableRawPointer) {
        storeHalf(d, yb, 0)
        storeHalf(-theMin, yb, 2)
        for j in 0..<qk / 2 { storeByte(L[j] | (L[j + qk / 2] << 4), yb, 4 + j) }
    }

    /// ggml `dequantize_row_q4_1`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            let m = loadHalf(yb, 2)
            for j in 0..<qk / 2 {
                let q = loadByte(yb, 4 + j)
                xb[j] = Float(q & 0x0F) * d + m
                xb[j + qk / 2] = Float(q >> 4) * d + m
            }
        }
    }
}
