// The IQ4 scale search of IQ4Search.swift on eight sub-blocks at once, one per SIMD lane, as KQuantSearchLanes.swift
// does for the K-quants (same reasoning: lane k follows sub-block k's reference computation operation for
// operation, float32 ops in the same order, compare-and-select where the reference branches; input NaNs, whose
// payloads could come out differently, send the block through the reference).
//
// Performance notes. The reference spends nearly all its time in the 16 candidate scales × 32 elements of
// `best_index_int8`, a bisection whose branches the CPU cannot predict: 3.3 M weights/s per thread for both types, with
// or without importance (a standalone release build of these files, haswell), so minutes for a 0.5B model; this version
// makes 46–53 M weights/s. Here the nearest value is found without branches: the index is the number of midpoints
// between neighbouring values that x is not below, and the value itself is values[15] minus the gaps above x, both by
// 15 compares per eight lanes. That count equals `best_index_int8` for every float (checked over all 2^32 bit patterns,
// index and value, when this was written; IQ4GoldenTests checks the edge values): the reference's tie test `x −
// val[mu−1] < val[mu] − x` is `x < midpoint` exactly, because near a midpoint both differences are exact in float32 (x
// is at least as large in magnitude as each of them, or, between −10 and 1, in the same binade), and far from it
// rounding cannot make them compare the other way; a tie goes to the upper value in both; NaN is below no midpoint and
// lands on 15 in both. IQ4_XS searches its eight sub-blocks in lanes, IQ4_NL eight consecutive blocks; the
// requantization and packing are the reference's code with the indices found eight at a time.

extension IQ4Search {
    /// For k in 0..<15: the midpoint of values k and k + 1, and the gap between them, each in all eight lanes.
    nonisolated(unsafe) static let midpointsAndGaps: UnsafePointer<FloatLanes> = {
        let t = UnsafeMutablePointer<FloatLanes>.allocate(capacity: 30)
        for k in 0..<15 {
            t[k] = FloatLanes(repeating: (values[k] + values[k + 1]) / 2)  // exact: half-integers
            t[15 + k] = FloatLanes(repeating: values[k + 1] - values[k])
        }
        return UnsafePointer(t)
    }()

    /// `bestIndex` of each lane: 15 less the number of midpoints above x.
    @inline(__always)
    static func bestIndexLanes(_ x: FloatLanes) -> IndexLanes {
        let mid = midpointsAndGaps
        var l = IndexLanes(repeating: 15)
        for k in 0..<15 { l &+= unsafeBitCast(x .< mid[k], to: IndexLanes.self) }  // a true lane is −1
        return l
    }

    /// `values[bestIndex(x)]` of each lane: values[15] less the gaps above x (sums of small integers: exact).
    @inline(__always)
    static func nearestValueLanes(_ x: FloatLanes, _ mid: UnsafePointer<FloatLanes>, top: FloatLanes) -> FloatLanes {
        var q = top
        for k in 0..<15 {
            let below = unsafeBitCast(x .< mid[k], to: SIMD8<UInt32>.self)
            q -= unsafeBitCast(unsafeBitCast(mid[15 + k], to: SIMD8<UInt32>.self) & below, to: FloatLanes.self)
        }
        return q
    }

    /// `searchScale` for eight sub-blocks: lane k of `xt[j]` and `wt[j]` is element j of sub-block k and its weight.
    @inline(__always)
    static func searchScaleLanes(_ xt: UnsafePointer<FloatLanes>, _ wt: UnsafePointer<FloatLanes>) -> FloatLanes {
        let mid = midpointsAndGaps, top = FloatLanes(repeating: values[15]), v0 = values[0]
        let (max, allZero) = signedMaxLanes(subBlock, xt)
        var d = -max / FloatLanes(repeating: v0)
        var id = 1 / d
        var sumqx = FloatLanes()
        var sumq2 = FloatLanes()
        for j in 0..<subBlock {
            let q = nearestValueLanes(id * xt[j], mid, top: top)
            let w = wt[j]
            sumqx += w * q * xt[j]
            sumq2 += w * q * q
        }
        d = (sumqx / sumq2).replacing(with: 0, where: .!(sumq2 .> 0))
        var best = d * sumqx
        for itry in -ntry...ntry {
            id = FloatLanes(repeating: Float(itry) + v0) / max
            sumqx = FloatLanes()
            sumq2 = FloatLanes()
            for j in 0..<subBlock {
                let q = nearestValueLanes(id * xt[j], mid, top: top)
                let w = wt[j]
                sumqx += w * q * xt[j]
                sumq2 += w * q * q
            }
            let better = (sumq2 .> 0) .& (sumqx * sumqx .> best * sumq2)
            let newD = sumqx / sumq2
            d.replace(with: newD, where: better)
            best.replace(with: newD * sumqx, where: better)
        }
        return d.replacing(with: 0, where: allZero)
    }

    /// 256 floats at `x` (one IQ4_XS super-block or eight IQ4_NL blocks) into their blocks at `y`, the searches in
    /// lanes; `importance` is their columns' weights or nil. The same bytes as `quantizeSuperBlock` on each block.
    static func quantizeLanes(
        _ layout: Layout, bytes: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer,
        _ importance: UnsafePointer<Float>?, _ s: IQ4Scratch
    ) {
        let blocks = QK_K / layout.superBlock
        if superBlockHasNaN(x) || importance.map(superBlockHasNaN) == true {
            for b in 0..<blocks {
                quantizeSuperBlock(
                    layout, x + b * layout.superBlock, y + b * bytes,
                    importance.map { $0 + b * layout.superBlock }, s)
            }
            return
        }
        let (xt, wt) = (s.xt, s.wt)
        gatherLanes(x, stride: subBlock, count: subBlock, into: xt)
        if let importance {
            gatherLanes(importance, stride: subBlock, count: subBlock, into: wt)
            var sigma2: FloatLanes
            if blocks == 1 {  // IQ4_XS: one sigma² of the super-block, summed in element order as the reference
                var sum: Float = 0
                for j in 0..<QK_K { sum += x[j] * x[j] }
                sigma2 = FloatLanes(repeating: sum * (2 / Float(QK_K)))
            } else {          // IQ4_NL: each block's own
                sigma2 = FloatLanes()
                for j in 0..<subBlock { sigma2 += xt[j] * xt[j] }
                sigma2 *= FloatLanes(repeating: 2 / Float(subBlock))
            }
            for j in 0..<subBlock { wt[j] = wt[j] * squareRootLanes(sigma2 + xt[j] * xt[j]) }
        } else {
            for j in 0..<subBlock { wt[j] = xt[j] * xt[j] }
        }
        let scales = searchScaleLanes(xt, wt)
        if blocks == 1 {
            for k in 0..<8 { s.scales[k] = scales[k] }
            requantizeAndPack(layout, x, y, s, lanes: true)
        } else {
            for k in 0..<8 {
                s.scales[0] = scales[k]
                requantizeAndPack(layout, x + k * subBlock, y + k * bytes, s, lanes: true)
            }
        }
    }
}
