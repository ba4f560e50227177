import ModelFiles

/// Q4_0: 32 weights in 18 bytes, `d: fp16 | qs[16]`; weight = (q − 8) · d with q in 0...15.
/// Byte j of `qs` holds element j in its low nibble and element j + 16 in its high nibble.
enum BlockQ4_0 {
    static let format = BlockFormat(type: .q4_0, reference: quantizeReference, weighted: quantizeWeighted, dequantize: dequantize)
    static let qk = 32
    static let bytes = 18

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

    /// ggml `quantize_q4_0` with an importance vector (`quantize_row_q4_0_impl` per row): each block's scale is
    /// `makeQXQuants` (nmax 8) on the weights of `forEachWeightedLegacyBlock`; indices are its biased `L`.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / qk) }
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: qk) { L in
            let L = L.baseAddress!
            forEachWeightedLegacyBlock(x, y, rows, rowLength, importance, bytes: bytes) { xb, weight, yb in
                let d = makeQXQuants(qk, 8, xb, L, rmseType: 1, weights: weight)
                storeHalf(d, yb, 0)
                for j in 0..<qk / 2 {
                    storeByte(UInt8(bitPattern: L[j]) | (UInt8(bitPattern: L[j + qk / 2]) << 4), yb, 2 + j)
                }
            }
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

/// The row loop of ggml's importance-weighted legacy quantizers (`quantize_row_q4_0_impl`, `_q4_1_impl`,
/// `_q5_0_impl`, `_q5_1_impl`): for each 32-element block of each row, `weight[j] = qw[j] · sqrt(σ² + x[j]²)` with
/// `qw` the block's columns of `importance` and σ² the mean square of the whole row (not of the block, as in the
/// K-quants), then `block(xb, weight, yb)`.
@inline(__always)
func forEachWeightedLegacyBlock(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
    _ importance: UnsafePointer<Float>, bytes: Int,
    _ block: (_ xb: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ yb: UnsafeMutableRawPointer) -> Void
) {
    let qk = 32
    let blocksPerRow = rowLength / qk
    withUnsafeTemporaryAllocation(of: Float.self, capacity: qk) { weight in
        let weight = weight.baseAddress!
        for row in 0..<rows {
            let xr = x + row * rowLength
            var sumX2: Float = 0
            for j in 0..<rowLength { sumX2 += xr[j] * xr[j] }
            let sigma2 = sumX2 / Float(rowLength)
            for ib in 0..<blocksPerRow {
                let xb = xr + qk * ib
                let qw = importance + qk * ib
                for j in 0..<qk { weight[j] = qw[j] * (sigma2 + xb[j] * xb[j]).squareRoot() }
                block(xb, weight, y + (row * blocksPerRow + ib) * bytes)
            }
        }
    }
}
