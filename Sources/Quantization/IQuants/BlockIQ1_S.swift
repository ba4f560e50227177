import ModelFiles

/// IQ1_S: 256 weights in 50 bytes, `d: fp16 | qs[32] | qh[8 × uint16]`. Eight sub-blocks of 32, each four
/// 8-groups on ggml's 2048-point ternary grid (`IQ1Grid`): group k of sub-block ib takes grid point
/// `qs[4·ib + k] | ((qh[ib] >> 3k) & 7) << 8`. Bits 12–14 of `qh[ib]` are the sub-block's 3-bit scale s and bit 15
/// its shift's sign; weight = d · (2s + 1) · (value ± IQ1S_DELTA).
enum BlockIQ1_S {
    static let bytes = 50
    static let dOffset = 0, qsOffset = 2, qhOffset = 34

    /// ggml `dequantize_row_iq1_s`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            for ib in 0..<QK_K / 32 {
                let qh = loadUInt16(yb, qhOffset + 2 * ib)
                let dl = d * Float(2 * Int((qh >> 12) & 7) + 1)
                let delta = qh & 0x8000 != 0 ? -iq1Delta : iq1Delta
                for l in 0..<4 {
                    let index = Int(loadByte(yb, qsOffset + 4 * ib + l)) | Int((qh >> (3 * UInt16(l))) & 7) << 8
                    for j in 0..<8 {
                        out[j] = dl * (Float(IQ1Grid.value(index, j)) + delta)
                    }
                    out += 8
                }
            }
        }
    }
}

extension BlockIQ1_S: IQSuperBlockQuantizer {
    /// ggml asserts without weights (the type requires an importance matrix, and `BlockFormat` throws
    /// `needsImportance` before getting here); `quantizeUnweighted` quantizes with every importance weight 1.
    static let format = BlockFormat(
        type: .iq1_S, reference: quantizeUnweighted, weighted: quantizeWeighted, requiresImportance: true,
        dequantize: dequantize)

    /// ggml's `GROUP_MAX_EPS_IQ1_S`: a sub-block whose largest magnitude is below this is left at zero.
    static let groupMaxEpsilon: Float = 1e-12
    static let blockSize = 32  // IQ1S_BLOCK_SIZE

    static func withScratch(_ body: (IQ1Scratch) -> Void) { withIQ1Scratch(body) }

    /// One super-block of ggml `quantize_row_iq1_s_impl` (`quantWeights`: the importance of its 256 columns, or nil for
    /// all 1). Per sub-block of 32: the values are sorted, and every split of the sorted values into three runs (levels
    /// −1, 0, 1, shifted by +delta or −delta) is scored by its weighted least-squares fit, using prefix sums; the best
    /// split's 8-groups are looked up on the grid (off-grid groups take their nearest neighbour, and the scale is
    /// refitted). The sub-block scales become 3-bit multiples (2s + 1) of `max_scale / 15`, and d is that times the
    /// fudge factor 1.125.
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ yb: UnsafeMutableRawPointer, _ quantWeights: UnsafePointer<Float>?,
        _ s: IQ1Scratch
    ) {
        let tables = IQ2GridIndex.iq1s
        let (scales, weight, sumx, sumw, L, index, shifts) = (s.scales, s.weight, s.sumx, s.sumw, s.L, s.index, s.shifts)
        let (xP, xM) = (iq1LevelsPlus, iq1LevelsMinus)

        storeHalf(0, yb, dOffset)
        (yb + qsOffset).initializeMemory(as: UInt8.self, repeating: 0, count: bytes - qsOffset)

        var maxScale: Float = 0

        var sumx2: Float = 0
        for i in 0..<QK_K { sumx2 += xbl[i] * xbl[i] }
        let sigma2 = 2 * sumx2 / Float(QK_K)

        for ib in 0..<QK_K / blockSize {
            let xb = xbl + blockSize * ib
            if let quantWeights {
                let qw = quantWeights + blockSize * ib
                for i in 0..<blockSize { weight[i] = qw[i] * (sigma2 + xb[i] * xb[i]).squareRoot() }
            } else {
                for i in 0..<blockSize { weight[i] = (sigma2 + xb[i] * xb[i]).squareRoot() }
            }
            var max = abs(xb[0])
            for i in 1..<blockSize { max = cMax(max, abs(xb[i])) }
            if max < groupMaxEpsilon {
                scales[ib] = 0
                shifts[ib] = 1
                L.initialize(repeating: 1, count: blockSize)
                continue
            }
            // The exact weighted least-squares search of ggml: with three levels, the values sorted ascending
            // split into three runs at i1 ≤ i2; the prefix sums give each split's best scale and score.
            for j in 0..<blockSize {
                s.values[j] = xb[j]
                s.order[j] = Int32(j)
            }
            iq1MergeSort(s.values, s.order, blockSize, s.tmpValues, s.tmpOrder)
            sumx[0] = 0
            sumw[0] = 0
            for j in 0..<blockSize {
                let i = Int(s.order[j])
                sumx[j + 1] = sumx[j] + weight[i] * xb[i]
                sumw[j + 1] = sumw[j] + weight[i]
            }
            var bestScore = -Float.greatestFiniteMagnitude
            var scale = max
            var besti1 = -1, besti2 = -1, bestShift = 0
            // The reference's step for one split (i1, i2) and one set of levels.
            @inline(__always)
            func consider(_ i1: Int, _ i2: Int, _ x: (Float, Float, Float), shift: Int) {
                let sumqx = (sumx[i1] - sumx[0]) * x.0 + (sumx[i2] - sumx[i1]) * x.1 + (sumx[blockSize] - sumx[i2]) * x.2
                let sumq2 = (sumw[i1] - sumw[0]) * x.0 * x.0 + (sumw[i2] - sumw[i1]) * x.1 * x.1
                    + (sumw[blockSize] - sumw[i2]) * x.2 * x.2
                if sumq2 > 0 && sumqx * sumqx > bestScore * sumq2 {
                    scale = sumqx / sumq2
                    bestScore = scale * sumqx
                    besti1 = i1
                    besti2 = i2
                    bestShift = shift
                }
            }
            // The +delta candidate, then the −delta one.
            @inline(__always)
            func consider(_ i1: Int, _ i2: Int) {
                consider(i1, i2, xP, shift: 1)
                consider(i1, i2, xM, shift: -1)
            }
            // Eight i2 at a time, the two candidates' sums are first computed in lanes (the same float
            // operations in the same order) and tested against the current best; only when some lane would be
            // accepted are the eight stepped through in the reference's order. While nothing is accepted the
            // best does not change, so a chunk with no accepting lane is one the reference passes over.
            let (sumx0, sumxN, sumw0, sumwN) = (sumx[0], sumx[blockSize], sumw[0], sumw[blockSize])
            for i1 in 0...blockSize {
                var i2 = i1
                while i2 + 8 <= blockSize + 1 {
                    let sx2 = UnsafeRawPointer(sumx + i2).loadUnaligned(as: FloatLanes.self)
                    let sw2 = UnsafeRawPointer(sumw + i2).loadUnaligned(as: FloatLanes.self)
                    let (sx1, sw1) = (FloatLanes(repeating: sumx[i1]), FloatLanes(repeating: sumw[i1]))
                    let (sxN, swN) = (FloatLanes(repeating: sumxN), FloatLanes(repeating: sumwN))
                    let (ax, aw) = (sumx[i1] - sumx0, sumw[i1] - sumw0)
                    let best = FloatLanes(repeating: bestScore)
                    let qxP = FloatLanes(repeating: ax * xP.0) + (sx2 - sx1) * xP.1 + (sxN - sx2) * xP.2
                    let q2P = FloatLanes(repeating: aw * xP.0 * xP.0) + (sw2 - sw1) * xP.1 * xP.1
                        + (swN - sw2) * xP.2 * xP.2
                    let qxM = FloatLanes(repeating: ax * xM.0) + (sx2 - sx1) * xM.1 + (sxN - sx2) * xM.2
                    let q2M = FloatLanes(repeating: aw * xM.0 * xM.0) + (sw2 - sw1) * xM.1 * xM.1
                        + (swN - sw2) * xM.2 * xM.2
                    let acceptP = (q2P .> FloatLanes()) .& (qxP * qxP .> best * q2P)
                    let acceptM = (q2M .> FloatLanes()) .& (qxM * qxM .> best * q2M)
                    if any(acceptP .| acceptM) {
                        for _ in 0..<8 {
                            consider(i1, i2)
                            i2 += 1
                        }
                    } else {
                        i2 += 8
                    }
                }
                while i2 <= blockSize {
                    consider(i1, i2)
                    i2 += 1
                }
            }
            if besti1 < 0 || besti2 < 0 || bestShift == 0 {
                scales[ib] = 0
                shifts[ib] = 1
                L.initialize(repeating: 1, count: blockSize)
                continue
            }
            for j in 0..<besti1 { L[Int(s.order[j])] = 0 }
            for j in besti1..<besti2 { L[Int(s.order[j])] = 1 }
            for j in besti2..<blockSize { L[Int(s.order[j])] = 2 }
            if scale < 0 {
                for j in 0..<blockSize { L[j] = 2 - L[j] }
                scale = -scale
                bestShift = -bestShift
            }
            var allOnGrid = true
            let xx = bestShift == 1 ? xP : xM
            for k in 0..<blockSize / 8 {
                var u = 0
                for j in 0..<8 { u |= Int(L[8 * k + j]) << (2 * j) }
                var gridIndex = Int(tables.map[u])
                if gridIndex < 0 {
                    allOnGrid = false
                    gridIndex = iq1FindBestNeighbour2(
                        tables, tables.neighbourList(key: u), xb + 8 * k, weight + 8 * k, scale, xx, L + 8 * k)
                }
                index[k] = Int32(gridIndex)
            }
            if !allOnGrid {
                scale = iq1RefitScale(scale, blockSize: blockSize, index: index, weight: weight, xb) { _ in xx }
            }
            var h: UInt16 = 0
            for k in 0..<blockSize / 8 {
                storeByte(UInt8(truncatingIfNeeded: index[k]), yb, qsOffset + (blockSize / 8) * ib + k)
                h |= UInt16(truncatingIfNeeded: index[k] >> 8) << (3 * UInt16(k))
            }
            storeUInt16(h, yb, qhOffset + 2 * ib)
            // ggml asserts scale >= 0 here (a NaN scale from non-finite sums aborts it).
            scales[ib] = scale
            shifts[ib] = Int8(bestShift)
            maxScale = cMax(maxScale, scale)
        }

        if maxScale == 0 { return }

        let d = maxScale / 15
        storeHalf(d * 1.125, yb, dOffset)  // 1.125: ggml's second fudge factor
        let id = 1 / d
        for ib in 0..<QK_K / blockSize {
            var l = UInt16(truncatingIfNeeded: clamp(nearestInt(0.5 * (id * scales[ib] - 1)), 0, 7))
            if shifts[ib] == -1 { l |= 8 }
            storeUInt16(loadUInt16(yb, qhOffset + 2 * ib) | (l << 12), yb, qhOffset + 2 * ib)
        }
    }
}
