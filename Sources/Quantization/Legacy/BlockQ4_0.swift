import ModelFiles

/// Q4_0: 32 weights in 18 bytes, `d: fp16 | qs[16]`; weight = (q − 8) · d with q in 0...15.
/// Byte j of `qs` holds element j in its low nibble and element j + 16 in its high nibble.
enum BlockQ4_0 {
    static let format = BlockFormat(type: .q4_0, reference: quantizeReference, weighted: quantizeWeightedFast, dequantize: dequantize)
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
    static func quantizeWeightedReference(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?
    ) {
        quantizeWeighted(x, y, rows, rowLength, importance, lanes: false)
    }

    /// `quantizeWeightedReference` with eight blocks' searches side by side (`makeQXQuantsLanes`). Same bytes.
    static func quantizeWeightedFast(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?
    ) {
        quantizeWeighted(x, y, rows, rowLength, importance, lanes: true)
    }

    private static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / qk) }
        withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: qk) { Lt in
            withUnsafeTemporaryAllocation(of: Int8.self, capacity: qk) { L in
                let (Lt, L) = (Lt.baseAddress!, L.baseAddress!)
                let octet = { (xt: UnsafePointer<FloatLanes>, wt: UnsafePointer<FloatLanes>, yb: UnsafeMutableRawPointer) in
                    let d = makeQXQuantsLanes(qk, 8, xt, Lt, weights: wt)
                    for k in 0..<8 {
                        for j in 0..<qk { L[j] = Int8(truncatingIfNeeded: Lt[j][k]) }
                        pack(d[k], L, yb + k * bytes)
                    }
                }
                forEachWeightedLegacyBlock(x, y, rows, rowLength, importance, bytes: bytes, octet: lanes ? octet : nil) {
                    xb, weight, yb in
                    pack(makeQXQuants(qk, 8, xb, L, rmseType: 1, weights: weight), L, yb)
                }
            }
        }
    }

    /// A block from its scale and biased indices (0...15).
    @inline(__always)
    private static func pack(_ d: Float, _ L: UnsafePointer<Int8>, _ yb: UnsafeMutableRawPointer) {
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

/// The row loop of ggml's importance-weighted legacy quantizers (`quantize_row_q4_0_impl`, `_q4_1_impl`,
/// `_q5_0_impl`, `_q5_1_impl`): for each 32-element block of each row, `weight[j] = qw[j] · sqrt(σ² + x[j]²)` with
/// `qw` the block's columns of `importance` and σ² the mean square of the whole row (not of the block, as in the
/// K-quants), then `block(xb, weight, yb)`.
///
/// With `octet`, eight blocks at a time go to it instead, side by side in SIMD lanes (lane k of `xt[j]` is element
/// j of block k, of `wt[j]` its weight, computed per lane in the same order), with the first block's bytes: the
/// format's search runs in lanes (KQuantSearchLanes.swift). Blocks left over at a row's end, and eight holding a
/// NaN in the row or its importance, go to `block`.
@inline(__always)
func forEachWeightedLegacyBlock(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
    _ importance: UnsafePointer<Float>, bytes: Int,
    octet: ((_ xt: UnsafePointer<FloatLanes>, _ wt: UnsafePointer<FloatLanes>, _ yb: UnsafeMutableRawPointer) -> Void)? = nil,
    _ block: (_ xb: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ yb: UnsafeMutableRawPointer) -> Void
) {
    let qk = 32
    let blocksPerRow = rowLength / qk
    withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 2 * qk) { lanes in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: qk) { weight in
            let weight = weight.baseAddress!
            let (xt, wt) = (lanes.baseAddress!, lanes.baseAddress! + qk)
            for row in 0..<rows {
                let xr = x + row * rowLength
                let yr = y + row * blocksPerRow * bytes
                var sumX2: Float = 0
                for j in 0..<rowLength { sumX2 += xr[j] * xr[j] }
                let sigma2 = sumX2 / Float(rowLength)
                var ib = 0
                while ib < blocksPerRow {
                    let xb = xr + qk * ib
                    let qw = importance + qk * ib
                    if let octet, ib + 8 <= blocksPerRow, !superBlockHasNaN(xb), !superBlockHasNaN(qw) {
                        gatherLanes(xb, stride: qk, count: qk, into: xt)
                        gatherLanes(qw, stride: qk, count: qk, into: wt)
                        for j in 0..<qk { wt[j] = wt[j] * (FloatLanes(repeating: sigma2) + xt[j] * xt[j]).squareRoot() }
                        octet(xt, wt, yr + ib * bytes)
                        ib += 8
                    } else {
                        for j in 0..<qk { weight[j] = qw[j] * (sigma2 + xb[j] * xb[j]).squareRoot() }
                        block(xb, weight, yr + ib * bytes)
                        ib += 1
                    }
                }
            }
        }
    }
}
