import ModelFiles

/// Q3_K: 256 weights in 110 bytes, `hmask[32] | qs[64] | scales[12] | d: fp16`.
/// Sixteen sub-blocks of 16 with 6-bit signed scales (stored + 32): the low nibble of scale j is in
/// `scales[j]` (j < 8) or the high nibble of `scales[j − 8]`, its top 2 bits at bit `2·(j/4)` of `scales[8 + j%4]`.
/// weight = d · (scale − 32) · (q − 4) with q in 0...7: its low 2 bits packed as in Q2_K, its high bit at bit
/// `e/32` of `hmask[e % 32]`.
enum BlockQ3_K: LaneWeightedQuantizer {
    static let format = BlockFormat(
        type: .q3_K, quantize: quantizeFast, reference: quantizeReference, weighted: quantizeWeightedFast,
        dequantize: dequantize)
    static let bytes = 110
    static let hmaskOffset = 0, qsOffset = 32, scalesOffset = 96, dOffset = 108

    /// ggml `quantize_row_q3_K_ref`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: QK_K) { L in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: QK_K / 16) { scales in
                for i in 0..<blocks {
                    quantizeBlock(x + i * QK_K, y + i * bytes, L.baseAddress!, scales.baseAddress!)
                }
            }
        }
    }

    private static func quantizeBlock(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<Int8>,
        _ scales: UnsafeMutablePointer<Float>
    ) {
        var maxScale: Float = 0
        var amax: Float = 0
        for j in 0..<QK_K / 16 {
            scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j, doRMSE: true)
            let scale = abs(scales[j])
            if scale > amax {
                amax = scale
                maxScale = scales[j]
            }
        }
        requantizeAndPack(x, y, L, scales, maxScale: maxScale)
    }

    /// ggml `quantize_q3_K` with an importance vector (`quantize_row_q3_K_impl` per row). Each element is weighted
    /// by `qw · sqrt(σ² + x²)`, σ² twice the super-block's mean square; each group's scale is `makeQXQuants`
    /// (nmax 4) on those weights, and the sixteen scales' 6-bit codes (biased by 32) and the block scale are
    /// `makeQXQuants` (nmax 32) on the scales, weighted by each group's total weight.
    ///
    /// With `lanes`: each super-block's sixteen group searches run as two groups of eight SIMD
    /// lanes (`makeQXQuantsLanes` with the weights computed per lane in the same order), except where the
    /// super-block or its importance holds a NaN (see KQuantSearchLanes.swift). Same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / QK_K) }
        let blocksPerRow = rowLength / QK_K
        withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 32) { floatLanes in
            withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 16) { Lt in
                withUnsafeTemporaryAllocation(of: Int8.self, capacity: QK_K + QK_K / 16) { indices in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 + 2 * (QK_K / 16)) { floats in
                        let L = indices.baseAddress!        // [256] indices
                        let Ls = L + QK_K                   // [16] scale codes
                        let weight = floats.baseAddress!    // [16]
                        let scales = weight + 16            // [16] per group scale
                        let sw = scales + QK_K / 16         // [16] per group total weight
                        let (xt, wt, Lt) = (floatLanes.baseAddress!, floatLanes.baseAddress! + 16, Lt.baseAddress!)
                        for row in 0..<rows {
                            for i in 0..<blocksPerRow {
                                let b = row * blocksPerRow + i
                                let (xb, yb, qwb) = (x + b * QK_K, y + b * bytes, importance + QK_K * i)
                                var sumX2: Float = 0
                                for j in 0..<QK_K { sumX2 += xb[j] * xb[j] }
                                let sigma2 = 2 * sumX2 / Float(QK_K)
                                if !lanes || superBlockHasNaN(xb) || superBlockHasNaN(qwb) {
                                    for j in 0..<QK_K / 16 {
                                        let qw = qwb + 16 * j
                                        for l in 0..<16 {
                                            weight[l] = qw[l] * (sigma2 + xb[16 * j + l] * xb[16 * j + l]).squareRoot()
                                        }
                                        var sumW: Float = 0
                                        for l in 0..<16 { sumW += weight[l] }
                                        sw[j] = sumW
                                        scales[j] = makeQXQuants(
                                            16, 4, xb + 16 * j, L + 16 * j, rmseType: 1, weights: weight)
                                    }
                                } else {
                                    for g in 0..<2 {
                                        gatherLanes(xb + 128 * g, stride: 16, count: 16, into: xt)
                                        gatherLanes(qwb + 128 * g, stride: 16, count: 16, into: wt)
                                        var sumW = FloatLanes()
                                        for l in 0..<16 {
                                            wt[l] = wt[l] * squareRootLanes(FloatLanes(repeating: sigma2) + xt[l] * xt[l])
                                            sumW += wt[l]
                                        }
                                        let s = makeQXQuantsLanes(16, 4, xt, Lt, weights: wt)
                                        for k in 0..<8 {
                                            sw[8 * g + k] = sumW[k]
                                            scales[8 * g + k] = s[k]
                                            extractLane(k, of: Lt, count: 16, into: L + 128 * g + 16 * k)
                                        }
                                    }
                                }
                                for k in 0..<12 { storeByte(0, yb, scalesOffset + k) }
                                let dBlock = makeQXQuants(QK_K / 16, 32, scales, Ls, rmseType: 1, weights: sw)
                                for j in 0..<QK_K / 16 { packScale(j, Ls[j], yb) }
                                storeHalf(dBlock, yb, dOffset)
                                requantizeAndPackIndices(xb, yb, L)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `quantizeReference` with the sixteen `makeQ3Quants` searches of a block run as two groups of eight SIMD lanes
    /// (`makeQ3QuantsLanes`); the rest is the reference's code. Same bytes (see KQuantSearchLanes.swift).
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        quantizeSixteenGroupSuperBlocks(x, y, blocks, bytes: bytes, search: { makeQ3QuantsLanes(16, 4, $0, $1) },
                                        reference: quantizeReference) { x, y, L, scales, maxScale, _ in
            requantizeAndPack(x, y, L, scales, maxScale: maxScale)
        }
    }

    /// The reference from the searched scales on: the 6-bit sub-block scales and the block scale, the indices
    /// recomputed from the fp16-rounded scales, and the packing.
    private static func requantizeAndPack(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<Int8>,
        _ scales: UnsafeMutablePointer<Float>, maxScale: Float
    ) {
        for k in 0..<12 { storeByte(0, y, scalesOffset + k) }
        if maxScale != 0 {
            let iscale = -32 / maxScale
            for j in 0..<QK_K / 16 {
                let l = Int8(truncatingIfNeeded: nearestInt(iscale * scales[j]))
                packScale(j, Int8(truncatingIfNeeded: clamp(Int(l), -32, 31) + 32), y)
            }
            storeHalf(1 / iscale, y, dOffset)
        } else {
            storeHalf(0, y, dOffset)
        }
        requantizeAndPackIndices(x, y, L)
    }

    /// Ors group `j`'s 6-bit scale code `l` (biased by 32) into the zeroed scale bytes: its low nibble into
    /// `scales[j]` (j < 8) or the high nibble of `scales[j − 8]`, its top 2 bits at bit `2·(j/4)` of `scales[8 + j%4]`.
    @inline(__always)
    private static func packScale(_ j: Int, _ l: Int8, _ y: UnsafeMutableRawPointer) {
        if j < 8 {
            storeByte(UInt8(bitPattern: l) & 0xF, y, scalesOffset + j)
        } else {
            let low = UInt8(truncatingIfNeeded: (Int(l) & 0xF) << 4)
            storeByte(loadByte(y, scalesOffset + j - 8) | low, y, scalesOffset + j - 8)
        }
        let top = UInt8(truncatingIfNeeded: Int(l >> 4) << (2 * (j / 4)))
        storeByte(loadByte(y, scalesOffset + 8 + j % 4) | top, y, scalesOffset + 8 + j % 4)
    }

    /// The indices recomputed from the stored (fp16-rounded) scales, where a group's scale is not zero, then packed
    /// (the high bits into `hmask`).
    private static func requantizeAndPackIndices(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<Int8>
    ) {
        for j in 0..<QK_K / 16 {
            let sc = Int(scale(j, y + scalesOffset)) - 32
            let d = loadHalf(y, dOffset) * Float(sc)
            if d == 0 { continue }  // keep the search's indices
            for ii in 0..<16 {
                let l = clamp(nearestInt(x[16 * j + ii] / d), -4, 3)
                L[16 * j + ii] = Int8(truncatingIfNeeded: l + 4)
            }
        }

        for k in 0..<QK_K / 8 { storeByte(0, y, hmaskOffset + k) }
        // The high bit of the first 32 quants goes to bit 0, of the next 32 to bit 1, and so on.
        var m = 0
        var hm: UInt8 = 1
        for j in 0..<QK_K {
            if L[j] > 3 {
                storeByte(loadByte(y, hmaskOffset + m) | hm, y, hmaskOffset + m)
                L[j] -= 4
            }
            m += 1
            if m == QK_K / 8 {
                m = 0
                hm <<= 1
            }
        }
        for j in stride(from: 0, to: QK_K, by: 128) {
            for l in 0..<32 {
                let packed = Int(L[j + l]) | (Int(L[j + l + 32]) << 2) | (Int(L[j + l + 64]) << 4)
                    | (Int(L[j + l + 96]) << 6)
                storeByte(UInt8(truncatingIfNeeded: packed), y, qsOffset + j / 4 + l)
            }
        }
    }

    /// Sub-block `j`'s 6-bit scale (still biased by 32) from the 12 scale bytes at `s`.
    @inline(__always)
    static func scale(_ j: Int, _ s: UnsafeRawPointer) -> UInt8 {
        let low = j < 8 ? loadByte(s, j) & 0xF : loadByte(s, j - 8) >> 4
        return low | (((loadByte(s, 8 + j % 4) >> UInt8(2 * (j / 4))) & 3) << 4)
    }

    /// ggml `dequantize_row_q3_K` (ggml unpacks the sixteen scales with 32-bit masks; `scale(_:_:)` reads the
    /// same bits one scale at a time).
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let dAll = loadHalf(yb, dOffset)
            var q = qsOffset
            var m: UInt8 = 1
            var scaleIndex = 0
            for _ in stride(from: 0, to: QK_K, by: 128) {
                var shift: UInt8 = 0
                for _ in 0..<4 {
                    for half in 0..<2 {  // bytes l and l + 16 of this 32-byte run, each with its own scale
                        let dl = dAll * Float(Int(scale(scaleIndex, yb + scalesOffset)) - 32)
                        scaleIndex += 1
                        for l in 0..<16 {
                            let low = Int((loadByte(yb, q + 16 * half + l) >> shift) & 3)
                            let high = loadByte(yb, hmaskOffset + 16 * half + l) & m != 0 ? 0 : 4
                            out[l] = dl * Float(low - high)
                        }
                        out += 16
                    }
                    shift += 2
                    m <<= 1
                }
                q += 32
            }
        }
    }
}
