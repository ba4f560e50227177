import ModelFiles

/// Q5_1: 32 weights in 24 bytes, `d: fp16 | m: fp16 | qh[4] | qs[16]`; weight = q · d + m with q in 0...31.
/// Packed as Q5_0.
enum BlockQ5_1: LegacyScaleMinBlock {
    static let format = BlockFormat(type: .q5_1, reference: quantizeReference, weighted: quantizeWeightedFast, dequantize: dequantize)
    static let qk = 32
    static let bytes = 24
    /// ggml `quantize_q5_1` with an importance vector: `LegacyScaleMinBlock`'s, with nmax 31.
    static let nmax: Int32 = 31

    /// ggml `quantize_row_q5_1_ref`: as Q4_1 with `d = (max − min)/31`. The index is `(uint8_t)(v + 0.5)` with
    /// no cap (unlike the other three legacy types).
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

            let d = (max - min) / 31
            let id: Float = d != 0 ? 1.0 / d : 0.0

            storeHalf(d, yb, 0)
            storeHalf(min, yb, 2)

            var qh: UInt32 = 0
            for j in 0..<qk / 2 {
                let x0 = (xb[j] - min) * id
                let x1 = (xb[qk / 2 + j] - min) * id

                let xi0 = cUInt8(x0 + 0.5)
                let xi1 = cUInt8(x1 + 0.5)

                storeByte((xi0 & 0x0F) | ((xi1 & 0x0F) << 4), yb, 8 + j)

                qh |= (UInt32(xi0 & 0x10) >> 4) << UInt32(j)
                qh |= (UInt32(xi1 & 0x10) >> 4) << UInt32(j + qk / 2)
            }
            storeUInt32(qh, yb, 4)
        }
    }

    /// A block from its scale, negated minimum and indices (0...31).
    @inline(__always)
    static func pack(_ d: Float, _ theMin: Float, _ L: UnsafePointer<UInt8>, _ yb: UnsafeMutableRawPointer) {
        storeHalf(d, yb, 0)
        storeHalf(-theMin, yb, 2)
        var qh: UInt32 = 0
        for j in 0..<qk / 2 {
            let xi0 = L[j]
            let xi1 = L[j + qk / 2]
            storeByte((xi0 & 0x0F) | ((xi1 & 0x0F) << 4), yb, 8 + j)
            qh |= (UInt32(xi0 & 0x10) >> 4) << UInt32(j)
            qh |= (UInt32(xi1 & 0x10) >> 4) << UInt32(j + qk / 2)
        }
        storeUInt32(qh, yb, 4)
    }

    /// ggml `dequantize_row_q5_1`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            let m = loadHalf(yb, 2)
            let qh = loadUInt32(yb, 4)
            for j in 0..<qk / 2 {
                let xh0 = UInt8(truncatingIfNeeded: (qh >> UInt32(j)) << 4) & 0x10
                let xh1 = UInt8(truncatingIfNeeded: qh >> UInt32(j + 12)) & 0x10
                let q = loadByte(yb, 8 + j)
                let x0 = (q & 0x0F) | xh0
                let x1 = (q >> 4) | xh1
                xb[j] = Float(x0) * d + m
                xb[j + qk / 2] = Float(x1) * d + m
            }
        }
    }
}
