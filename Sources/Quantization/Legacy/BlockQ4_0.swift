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
                let octet = { (xt: UnsafePointer<FloatLanes>, wt: UnsafePointer<FloatLanes>, yb: UnsafePointer<UnsafeMutableRawPointer>, count: Int) in
                    let d = makeQXQuantsLanes(qk, 8, xt, Lt, weights: wt)
                    for k in 0..<count {
                        for j in 0..<qk { L[j] = Int8(truncatingIfNeeded: Lt[j][k]) }
                        pack(d[k], L, yb[k])
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
/// With `octet`, blocks go to it eight at a time instead, side by side in SIMD lanes (lane k of `xt[j]` is element
/// j of the k-th block, of `wt[j]` its weight, computed per lane in the same order), with the `count` blocks' output
/// addresses: the format's search runs in lanes (KQuantSearchLanes.swift). The eight are the next eight blocks in
/// order, across row ends; the last `count` < 8 fill the idle lanes with copies of their first block. A block
/// holding a NaN in its values or importance goes to `block`. Each block's search is independent of its lane
/// neighbours, so the bytes are the reference's.
///
/// Performance notes (rows of 896 = 28 blocks, most of a 0.5B model's matrices): sending each row's last four
/// blocks to the scalar search cost more than its 24 blocks in lanes (the scalar search is ~8× slower per block);
/// packing octets across rows removed that. σ² of eight rows is summed in lanes (each lane the row's own sequential
/// float sum), not as eight latency-bound scalar chains. Blocks are transposed into lanes by a three-round
/// shuffle of eight-float loads (`transposeBlocks`), not element by element.
@inline(__always)
func forEachWeightedLegacyBlock(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
    _ importance: UnsafePointer<Float>, bytes: Int,
    octet: ((_ xt: UnsafePointer<FloatLanes>, _ wt: UnsafePointer<FloatLanes>,
             _ yb: UnsafePointer<UnsafeMutableRawPointer>, _ count: Int) -> Void)? = nil,
    _ block: (_ xb: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ yb: UnsafeMutableRawPointer) -> Void
) {
    let qk = 32
    let blocksPerRow = rowLength / qk
    withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 2 * qk) { lanes in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: qk + 16) { weight in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 16) { sources in
                withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: 8) { outputs in
                    let (weight, sigma2s, pendingSigma2) = (weight.baseAddress!, weight.baseAddress! + qk, weight.baseAddress! + qk + 8)
                    let (xt, wt) = (lanes.baseAddress!, lanes.baseAddress! + qk)
                    let (pendingX, pendingW) = (sources.baseAddress!, sources.baseAddress! + 8)
                    let outputs = outputs.baseAddress!
                    var pending = 0
                    let flush = { (count: Int) in
                        guard let octet else { return }
                        for k in count..<8 {
                            pendingX[k] = pendingX[0]
                            pendingW[k] = pendingW[0]
                            pendingSigma2[k] = pendingSigma2[0]
                        }
                        for c in 0..<qk / 8 {
                            transposeBlocks(pendingX, offset: 8 * c, into: xt + 8 * c)
                            transposeBlocks(pendingW, offset: 8 * c, into: wt + 8 * c)
                        }
                        let sigma2 = UnsafeRawPointer(pendingSigma2).loadUnaligned(as: FloatLanes.self)
                        for j in 0..<qk { wt[j] = wt[j] * squareRootLanes(sigma2 + xt[j] * xt[j]) }
                        octet(xt, wt, outputs, count)
                    }
                    for firstRow in stride(from: 0, to: rows, by: 8) {
                        let chunk = Swift.min(8, rows - firstRow)
                        rowMeanSquares(x + firstRow * rowLength, rows: chunk, rowLength, into: sigma2s)
                        for r in 0..<chunk {
                            let row = firstRow + r
                            let xr = x + row * rowLength
                            let yr = y + row * blocksPerRow * bytes
                            let sigma2 = sigma2s[r]
                            for ib in 0..<blocksPerRow {
                                let xb = xr + qk * ib
                                let qw = importance + qk * ib
                                if octet != nil, !blockHasNaN(xb), !blockHasNaN(qw) {
                                    pendingX[pending] = xb
                                    pendingW[pending] = qw
                                    pendingSigma2[pending] = sigma2
                                    outputs[pending] = yr + ib * bytes
                                    pending += 1
                                    if pending == 8 {
                                        flush(8)
                                        pending = 0
                                    }
                                } else {
                                    for j in 0..<qk { weight[j] = qw[j] * (sigma2 + xb[j] * xb[j]).squareRoot() }
                                    block(xb, weight, yr + ib * bytes)
                                }
                            }
                        }
                    }
                    if pending > 0 { flush(pending) }
                }
            }
        }
    }
}

/// σ² of each of `rows` (≤ 8) rows: `sum_x2 += x[j]·x[j]` over the row in order, divided by its length, as the
/// references compute it; eight rows side by side in lanes.
@inline(__always)
func rowMeanSquares(_ x: UnsafePointer<Float>, rows: Int, _ rowLength: Int, into sigma2: UnsafeMutablePointer<Float>) {
    if rows == 8 {
        var sum = FloatLanes()
        for j in 0..<rowLength {
            let v = FloatLanes(
                x[j], x[rowLength + j], x[2 * rowLength + j], x[3 * rowLength + j],
                x[4 * rowLength + j], x[5 * rowLength + j], x[6 * rowLength + j], x[7 * rowLength + j])
            sum += v * v
        }
        let mean = sum / FloatLanes(repeating: Float(rowLength))
        for r in 0..<8 { sigma2[r] = mean[r] }
        return
    }
    for r in 0..<rows {
        let xr = x + r * rowLength
        var sumX2: Float = 0
        for j in 0..<rowLength { sumX2 += xr[j] * xr[j] }
        sigma2[r] = sumX2 / Float(rowLength)
    }
}

/// Whether any of the 32 floats of a block at `x` is a NaN.
@inline(__always)
func blockHasNaN(_ x: UnsafePointer<Float>) -> Bool {
    var nan = SIMDMask<IndexLanes>(repeating: false)
    for i in stride(from: 0, to: 32, by: 8) {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: FloatLanes.self)
        nan .|= v .!= v
    }
    return any(nan)
}

/// Lane k of `xt[c]` = `blocks[k][offset + c]` for c in 0..<8: an 8×8 transpose of eight-float loads in three
/// rounds of even/odd interleaving. Each round moves the lowest element-index bit into a vector-index bit; loading
/// the rows in bit-reversed order makes the result come out in order.
@inline(__always)
func transposeBlocks(_ blocks: UnsafePointer<UnsafePointer<Float>>, offset: Int, into xt: UnsafeMutablePointer<FloatLanes>) {
    @inline(__always)
    func interleave(_ a: FloatLanes, _ b: FloatLanes) -> (FloatLanes, FloatLanes) {
        (FloatLanes(lowHalf: a.evenHalf, highHalf: b.evenHalf), FloatLanes(lowHalf: a.oddHalf, highHalf: b.oddHalf))
    }
    @inline(__always)
    func load(_ k: Int) -> FloatLanes { UnsafeRawPointer(blocks[k] + offset).loadUnaligned(as: FloatLanes.self) }
    var (a0, a1, a2, a3, a4, a5, a6, a7) = (load(0), load(4), load(2), load(6), load(1), load(5), load(3), load(7))
    (a0, a4) = interleave(a0, a4); (a1, a5) = interleave(a1, a5); (a2, a6) = interleave(a2, a6); (a3, a7) = interleave(a3, a7)
    (a0, a2) = interleave(a0, a2); (a1, a3) = interleave(a1, a3); (a4, a6) = interleave(a4, a6); (a5, a7) = interleave(a5, a7)
    (a0, a1) = interleave(a0, a1); (a2, a3) = interleave(a2, a3); (a4, a5) = interleave(a4, a5); (a6, a7) = interleave(a6, a7)
    (xt[0], xt[4], xt[2], xt[6], xt[1], xt[5], xt[3], xt[7]) = (a0, a1, a2, a3, a4, a5, a6, a7)
}
