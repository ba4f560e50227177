// The importance-weighted quantizers of Q4_0, Q5_0 (a scale: weight = (q − nmax) · d) and Q4_1, Q5_1 (a scale and
// a minimum: weight = q · d + m). Within each pair ggml's `quantize_row_*_impl` differ only in nmax and in how a
// block is packed, so each pair's formats state those (`LegacyScaleBlock`, `LegacyScaleMinBlock`) and share the
// driver here; the row loop both pairs share is `forEachWeightedLegacyBlock`. The drivers are generic over the
// format and specialize per format (static requirements, no per-block dynamic dispatch).

/// Q4_0 and Q5_0: what their importance-weighted quantizer needs from the format.
protocol LegacyScaleBlock: LaneWeightedQuantizer {
    /// Elements per block (32).
    static var qk: Int { get }
    static var bytes: Int { get }
    /// The search's nmax: `makeQXQuants` indices in −nmax..<nmax, stored biased by nmax.
    static var nmax: Int32 { get }
    /// ggml `quantize_row_*_ref`: what the weighted quantizer does without importance.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int)
    /// A block from its scale and biased indices (0..<2·nmax).
    static func pack(_ d: Float, _ L: UnsafePointer<Int8>, _ yb: UnsafeMutableRawPointer)
}

extension LegacyScaleBlock {
    /// ggml `quantize_<type>` with an importance vector (`quantize_row_<type>_impl` per row): each block's scale is
    /// `makeQXQuants` (rmseType 1, `nmax`) on the weights of `forEachWeightedLegacyBlock`; indices are its biased `L`.
    ///
    /// With `lanes`: eight blocks' searches side by side (`makeQXQuantsLanes`). Same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / qk) }
        withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: qk) { Lt in
            withUnsafeTemporaryAllocation(of: Int8.self, capacity: qk) { L in
                let (Lt, L) = (Lt.baseAddress!, L.baseAddress!)
                let octet = { (xt: UnsafePointer<FloatLanes>, wt: UnsafePointer<FloatLanes>, yb: UnsafePointer<UnsafeMutableRawPointer>, count: Int) in
                    let d = makeQXQuantsLanes(qk, nmax, xt, Lt, weights: wt)
                    for k in 0..<count {
                        extractLane(k, of: Lt, count: qk, into: L)
                        pack(d[k], L, yb[k])
                    }
                }
                forEachWeightedLegacyBlock(x, y, rows, rowLength, importance, bytes: bytes, octet: lanes ? octet : nil) {
                    xb, weight, yb in
                    pack(makeQXQuants(qk, Int(nmax), xb, L, rmseType: 1, weights: weight), L, yb)
                }
            }
        }
    }
}

/// Q4_1 and Q5_1: what their importance-weighted quantizer needs from the format.
protocol LegacyScaleMinBlock: LaneWeightedQuantizer {
    /// Elements per block (32).
    static var qk: Int { get }
    static var bytes: Int { get }
    /// The search's nmax: `makeQKX2Quants` indices in 0...nmax.
    static var nmax: Int32 { get }
    /// ggml `quantize_row_*_ref`: what the weighted quantizer does without importance.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int)
    /// A block from its scale, negated minimum and indices (0...nmax).
    static func pack(_ d: Float, _ theMin: Float, _ L: UnsafePointer<UInt8>, _ yb: UnsafeMutableRawPointer)
}

extension LegacyScaleMinBlock {
    /// ggml `quantize_<type>` with an importance vector (`quantize_row_<type>_impl` per row): each block's scale and
    /// minimum are ggml's `make_qkx3_quants` (`makeQKX2Quants`, `nmax`, rmin −0.9, rdelta 0.05, nstep 36) on the
    /// weights of `forEachWeightedLegacyBlock`; `m` is the negated minimum it returns.
    ///
    /// With `lanes`: eight blocks' searches side by side (`makeQKX2QuantsLanes`). Same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / qk) }
        withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 2 * qk) { indexLanes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * qk) { indices in
                let (Lt, Lauxt) = (indexLanes.baseAddress!, indexLanes.baseAddress! + qk)
                let (L, Laux) = (indices.baseAddress!, indices.baseAddress! + qk)
                let octet = { (xt: UnsafePointer<FloatLanes>, wt: UnsafePointer<FloatLanes>, yb: UnsafePointer<UnsafeMutableRawPointer>, count: Int) in
                    let (d, theMin) = makeQKX2QuantsLanes(
                        qk, nmax, xt, wt, Lt, Lauxt, rmin: -0.9, rdelta: 0.05, nstep: 36, useMAD: false)
                    for k in 0..<count {
                        extractLane(k, of: Lt, count: qk, into: L)
                        pack(d[k], theMin[k], L, yb[k])
                    }
                }
                forEachWeightedLegacyBlock(x, y, rows, rowLength, importance, bytes: bytes, octet: lanes ? octet : nil) {
                    xb, weight, yb in
                    var theMin: Float = 0
                    let d = makeQKX2Quants(
                        qk, Int(nmax), xb, weight, L, &theMin, Laux, rmin: -0.9, rdelta: 0.05, nstep: 36, useMAD: false)
                    pack(d, theMin, L, yb)
                }
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
func blockHasNaN(_ x: UnsafePointer<Float>) -> Bool { hasNaN(x, count: 32) }

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
