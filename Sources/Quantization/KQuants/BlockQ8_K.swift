import ModelFiles

/// Q8_K: 256 values in 292 bytes, `d: float32 | qs[256] int8 | bsums[16] int16`; value = d · q. ggml uses it
/// for activations in K-quant dot products, never in model files; `bsums` holds the sum of each 16 quants.
enum BlockQ8_K {
    static let format = BlockFormat(type: .q8_K, reference: quantizeReference, dequantize: dequantize)
    static let bytes = 292
    static let dOffset = 0, qsOffset = 4, bsumsOffset = 260

    /// ggml `quantize_row_q8_K_ref`: `iscale = −127/max` with `max` the signed element of largest magnitude,
    /// `q = min(127, nearest_int(iscale · x))`, `d = 1/iscale`. An all-zero block gets d = 0 and zero quants;
    /// ggml leaves its `bsums` unwritten there, and this writes zeros.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = x + i * QK_K
            let yb = y + i * bytes
            var max: Float = 0
            var amax: Float = 0
            for j in 0..<QK_K {
                let ax = abs(xb[j])
                if ax > amax {
                    amax = ax
                    max = xb[j]
                }
            }
            if amax == 0 {
                storeUInt32(Float(0).bitPattern, yb, dOffset)
                for k in qsOffset..<bytes { storeByte(0, yb, k) }
                continue
            }
            let iscale = -127 / max
            for j in 0..<QK_K {
                let v = nearestInt(iscale * xb[j])
                storeByte(UInt8(truncatingIfNeeded: Swift.min(127, v)), yb, qsOffset + j)
            }
            for j in 0..<QK_K / 16 {
                var sum = 0
                for ii in 0..<16 { sum += Int(Int8(bitPattern: loadByte(yb, qsOffset + 16 * j + ii))) }
                storeUInt16(UInt16(truncatingIfNeeded: sum), yb, bsumsOffset + 2 * j)
            }
            storeUInt32((1 / iscale).bitPattern, yb, dOffset)
        }
    }

    /// ggml `dequantize_row_q8_K`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = Float(bitPattern: loadUInt32(yb, dOffset))
            for j in 0..<QK_K {
                x[i * QK_K + j] = d * Float(Int8(bitPattern: loadByte(yb, qsOffset + j)))
            }
        }
    }
}
