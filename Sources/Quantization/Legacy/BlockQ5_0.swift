import ModelFiles

/// Q5_0: 32 weights in 22 bytes, `d: fp16 | qh[4] | qs[16]`; weight = (q − 16) · d with q in 0...31.
/// The low nibbles are packed as in Q4_0; bit 4 of element j is bit j of the little-endian u32 `qh`.
enum BlockQ5_0: LegacyScaleBlock {
    static let format = BlockFormat(type: .q5_0, reference: quantizeReference, weighted: quantizeWeightedFast, dequantize: dequantize)
    static let qk = 32
    static let bytes = 22
    /// ggml `quantize_q5_0` with an importance vector: `LegacyScaleBlock`'s, with nmax 16.
    static let nmax: Int32 = 16

    /// ggml `quantize_row_q5_0_ref`: as Q4_0 with `d = max/−16` and truncation of `v + 16.5`, capped at 31.
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

            let d = max / -16
            let id: Float = d != 0 ? 1.0 / d : 0.0

            storeHalf(d, yb, 0)

            var qh: UInt32 = 0
            for j in 0..<qk / 2 {
                let x0 = xb[j] * id
                let x1 = xb[qk / 2 + j] * id

                let xi0 = UInt8(truncatingIfNeeded: Swift.min(31, cInt8(x0 + 16.5)))
                let xi1 = UInt8(truncatingIfNeeded: Swift.min(31, cInt8(x1 + 16.5)))

                storeByte((xi0 & 0x0F) | ((xi1 & 0x0F) << 4), yb, 6 + j)

                // the fifth bit of each index, at its element's position in qh
                qh |= (UInt32(xi0 & 0x10) >> 4) << UInt32(j)
                qh |= (UInt32(xi1 & 0x10) >> 4) << UInt32(j + qk / 2)
            }
            storeUInt32(qh, yb, 2)
        }
    }

    /// A block from its scale and biased indices (0...31).
    @inline(__always)
    static func pack(_ d: Float, _ L: UnsafePointer<Int8>, _ yb: UnsafeMutableRawPointer) {
        storeHalf(d, yb, 0)
        var qh: UInt32 = 0
        for j in 0..<qk / 2 {
            let xi0 = UInt8(bitPattern: L[j])
            let xi1 = UInt8(bitPattern: L[j + qk / 2])
            storeByte((xi0 & 0x0F) | ((xi1 & 0x0F) << 4), yb, 6 + j)
            qh |= (UInt32(xi0 & 0x10) >> 4) << UInt32(j)
            qh |= (UInt32(xi1 & 0x10) >> 4) << UInt32(j + qk / 2)
        }
        storeUInt32(qh, yb, 2)
    }

    /// ggml `dequantize_row_q5_0`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            let qh = loadUInt32(yb, 2)
            for j in 0..<qk / 2 {
                let xh0 = UInt8(truncatingIfNeeded: (qh >> UInt32(j)) << 4) & 0x10
                let xh1 = UInt8(truncatingIfNeeded: qh >> UInt32(j + 12)) & 0x10
                let q = loadByte(yb, 6 + j)
                let x0 = Int32((q & 0x0F) | xh0) - 16
                let x1 = Int32((q >> 4) | xh1) - 16
                xb[j] = Float(x0) * d
                xb[j + qk / 2] = Float(x1) * d
            }
        }
    }
}
