import ModelFiles

/// Q4_K: 256 weights in 144 bytes, `d: fp16 | dmin: fp16 | scales[12] | qs[128]`.
/// Eight sub-blocks of 32 with 6-bit scales and mins (packed as `scaleMinK4` reads them);
/// weight = d · scale · q − dmin · min with q in 0...15. For each 64-element chunk c, byte `32c + l` of `qs`
/// holds element `64c + l` in its low nibble and `64c + 32 + l` in its high nibble.
enum BlockQ4_K: LaneWeightedQuantizer {
    static let format = BlockFormat(
        type: .q4_K, quantize: quantizeFast, reference: quantizeReference, weighted: quantizeWeightedFast,
        dequantize: dequantize)
    static let bytes = 144
    static let dOffset = 0, dminOffset = 2, scalesOffset = 4, qsOffset = 16

    /// ggml `quantize_row_q4_K_ref`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        withKQuantScratch { scratch in
            for i in 0..<blocks {
                quantizeBlock(x + i * QK_K, y + i * bytes, scratch)
            }
        }
    }

    private static func quantizeBlock(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ s: KQuantScratch) {
        let (L, Laux, weights, mins, scales) = (s.L, s.Laux, s.weights, s.mins, s.scales)

        var maxScale: Float = 0  // as we are deducting the min, scales are always positive
        var maxMin: Float = 0
        for j in 0..<QK_K / 32 {
            var sumX2: Float = 0
            for l in 0..<32 { sumX2 += x[32 * j + l] * x[32 * j + l] }
            let avX = (sumX2 / 32).squareRoot()
            for l in 0..<32 { weights[l] = avX + abs(x[32 * j + l]) }
            scales[j] = makeQKX2Quants(
                32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                rmin: -1, rdelta: 0.1, nstep: 20, useMAD: false)
            let scale = scales[j]
            if scale > maxScale { maxScale = scale }
            let min = mins[j]
            if min > maxMin { maxMin = min }
        }
        requantizeAndPack(x, y, L, mins, scales, maxScale: maxScale, maxMin: maxMin)
    }

    /// ggml `quantize_q4_K` with an importance vector (`quantize_row_q4_K_impl` per row; see
    /// `quantizeWeightedEightGroupRows`). The 6-bit codes are packed as `makeQPQuants` left them: ggml caps them
    /// at 63 for Q5_K only (they exceed it only where `makeQPQuants` wrapped a negative code).
    ///
    /// With `lanes`: each super-block's eight searches side by side in SIMD lanes. Same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / QK_K) }
        quantizeWeightedEightGroupRows(x, y, rows, rowLength, importance, bytes: bytes, nmax: 15, lanes: lanes) {
            x, y, L, Ls, Lm, dBlock, mBlock in
            for j in 0..<QK_K / 32 { packScaleMinK4(j, scale: Ls[j], min: Lm[j], y + scalesOffset) }
            storeHalf(dBlock, y, dOffset)
            storeHalf(mBlock, y, dminOffset)
            requantizeAndPackIndices(x, y, L)
        }
    }

    /// `quantizeReference` with the eight `makeQKX2Quants` searches of a block run side by side in SIMD lanes
    /// (`makeQKX2QuantsLanes`, weights computed per lane in the same order); the rest is the reference's code.
    /// Same bytes (see KQuantSearchLanes.swift).
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        quantizeQKX2SuperBlocks(x, y, blocks, bytes: bytes, nmax: 15, rmin: -1, nstep: 20, reference: quantizeReference) {
            requantizeAndPack($0, $1, $2, $3, $4, maxScale: $5, maxMin: $6)
        }
    }

    /// The reference from the searched scales and mins on: the 6-bit sub-block scales and mins, the block scales,
    /// the indices recomputed from the fp16-rounded scales, and the packing.
    private static func requantizeAndPack(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>,
        _ mins: UnsafeMutablePointer<Float>, _ scales: UnsafeMutablePointer<Float>, maxScale: Float, maxMin: Float
    ) {
        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        for j in 0..<QK_K / 32 {
            let ls = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[j])))
            let lm = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[j])))
            packScaleMinK4(j, scale: ls, min: lm, y + scalesOffset)
        }
        storeHalf(maxScale / 63, y, dOffset)
        storeHalf(maxMin / 63, y, dminOffset)
        requantizeAndPackIndices(x, y, L)
    }

    /// The indices recomputed from the stored (fp16-rounded) scales and 6-bit codes, where a group's scale is not
    /// zero, then packed.
    private static func requantizeAndPackIndices(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>
    ) {
        for j in 0..<QK_K / 32 {
            let (sc, m) = scaleMinK4(j, y + scalesOffset)
            let d = loadHalf(y, dOffset) * Float(sc)
            if d == 0 { continue }  // keep the search's indices
            let dm = loadHalf(y, dminOffset) * Float(m)
            for ii in 0..<32 {
                let l = nearestInt((x[32 * j + ii] + dm) / d)
                L[32 * j + ii] = UInt8(truncatingIfNeeded: clamp(l, 0, 15))
            }
        }

        for (chunk, j) in stride(from: 0, to: QK_K, by: 64).enumerated() {
            for l in 0..<32 {
                storeByte(L[j + l] | (L[j + l + 32] << 4), y, qsOffset + 32 * chunk + l)
            }
        }
    }

    /// ggml `dequantize_row_q4_K`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            let min = loadHalf(yb, dminOffset)
            var q = qsOffset
            var scaleIndex = 0
            for _ in stride(from: 0, to: QK_K, by: 64) {
                let (sc1, m1) = scaleMinK4(scaleIndex, yb + scalesOffset)
                let d1 = d * Float(sc1)
                let min1 = min * Float(m1)
                let (sc2, m2) = scaleMinK4(scaleIndex + 1, yb + scalesOffset)
                let d2 = d * Float(sc2)
                let min2 = min * Float(m2)
                for l in 0..<32 { out[l] = d1 * Float(loadByte(yb, q + l) & 0xF) - min1 }
                for l in 0..<32 { out[32 + l] = d2 * Float(loadByte(yb, q + l) >> 4) - min2 }
                out += 64
                q += 32
                scaleIndex += 2
            }
        }
    }
}

/// The per-row scratch of the Q4_K and Q5_K quantizers, on the stack for the whole row (nothing per block).
struct KQuantScratch {
    let L: UnsafeMutablePointer<UInt8>        // [256] indices
    let Laux: UnsafeMutablePointer<UInt8>     // [32] the search's candidate indices
    let weights: UnsafeMutablePointer<Float>  // [32] per-element weights of one sub-block
    let mins: UnsafeMutablePointer<Float>     // [8] per sub-block (negated) minimum
    let scales: UnsafeMutablePointer<Float>   // [8] per sub-block scale
}

func withKQuantScratch(_ body: (KQuantScratch) -> Void) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: QK_K + 32) { indices in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32 + 2 * (QK_K / 32)) { floats in
            let L = indices.baseAddress!
            let weights = floats.baseAddress!
            body(KQuantScratch(
                L: L, Laux: L + QK_K, weights: weights, mins: weights + 32, scales: weights + 32 + QK_K / 32))
        }
    }
}

/// The search of ggml's importance-weighted Q4_K and Q5_K (`quantize_row_q4_K_impl`, `quantize_row_q5_K_impl`),
/// row by row and super-block by super-block: each element weighted by `qw · sqrt(σ² + x²)`, `qw` its column's
/// importance and σ² twice the super-block's mean square; each 32-element group's scale and min from ggml's
/// `make_qkx3_quants` (`makeQKX2Quants` with `nmax`, rmin −0.9, rdelta 0.05, nstep 36, squared error); the 6-bit
/// codes of the scales and of the mins and the two block scales from `makeQPQuants` (nmax 63) weighted by each
/// group's total weight. The indices, codes and block scales go to the format's `pack`.
/// With `lanes`: the eight searches of a super-block run side by side (`makeQKX2QuantsLanes`, the weights computed
/// per lane in the same order), except where the super-block or its importance holds a NaN (see
/// KQuantSearchLanes.swift).
@inline(__always)
func quantizeWeightedEightGroupRows(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
    _ importance: UnsafePointer<Float>, bytes: Int, nmax: Int, lanes: Bool,
    pack: (_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>,
           _ Ls: UnsafePointer<UInt8>, _ Lm: UnsafePointer<UInt8>, _ dBlock: Float, _ mBlock: Float) -> Void
) {
    let blocksPerRow = rowLength / QK_K
    withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 64) { floatLanes in
        withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 64) { indexLanes in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: QK_K / 32) { sw in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * (QK_K / 32)) { codes in
                    withKQuantScratch { s in
                        let (L, Laux, weights, mins, scales) = (s.L, s.Laux, s.weights, s.mins, s.scales)
                        let sw = sw.baseAddress!  // [8] per group total weight
                        let (Ls, Lm) = (codes.baseAddress!, codes.baseAddress! + QK_K / 32)  // [8] each, 6-bit codes
                        let (xt, wt) = (floatLanes.baseAddress!, floatLanes.baseAddress! + 32)
                        let (Lt, Lauxt) = (indexLanes.baseAddress!, indexLanes.baseAddress! + 32)
                        for row in 0..<rows {
                            for i in 0..<blocksPerRow {
                                let b = row * blocksPerRow + i
                                let (xb, qwb) = (x + b * QK_K, importance + QK_K * i)
                                var sumX2: Float = 0
                                for l in 0..<QK_K { sumX2 += xb[l] * xb[l] }
                                let sigma2 = 2 * sumX2 / Float(QK_K)
                                if !lanes || superBlockHasNaN(xb) || superBlockHasNaN(qwb) {
                                    for j in 0..<QK_K / 32 {
                                        let qw = qwb + 32 * j
                                        for l in 0..<32 {
                                            weights[l] = qw[l] * (sigma2 + xb[32 * j + l] * xb[32 * j + l]).squareRoot()
                                        }
                                        var sumW: Float = 0
                                        for l in 0..<32 { sumW += weights[l] }
                                        sw[j] = sumW
                                        scales[j] = makeQKX2Quants(
                                            32, nmax, xb + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                            rmin: -0.9, rdelta: 0.05, nstep: 36, useMAD: false)
                                    }
                                } else {
                                    gatherLanes(xb, stride: 32, count: 32, into: xt)
                                    gatherLanes(qwb, stride: 32, count: 32, into: wt)
                                    var sumW = FloatLanes()
                                    for l in 0..<32 {
                                        wt[l] = wt[l] * squareRootLanes(FloatLanes(repeating: sigma2) + xt[l] * xt[l])
                                        sumW += wt[l]
                                    }
                                    let (s, m) = makeQKX2QuantsLanes(
                                        32, Int32(nmax), xt, wt, Lt, Lauxt, rmin: -0.9, rdelta: 0.05, nstep: 36,
                                        useMAD: false)
                                    for j in 0..<QK_K / 32 {
                                        sw[j] = sumW[j]
                                        scales[j] = s[j]
                                        mins[j] = m[j]
                                        extractLane(j, of: Lt, count: 32, into: L + 32 * j)
                                    }
                                }
                                let dBlock = makeQPQuants(QK_K / 32, 63, scales, Ls, sw)
                                let mBlock = makeQPQuants(QK_K / 32, 63, mins, Lm, sw)
                                pack(xb, y + b * bytes, L, Ls, Lm, dBlock, mBlock)
                            }
                        }
                    }
                }
            }
        }
    }
}
