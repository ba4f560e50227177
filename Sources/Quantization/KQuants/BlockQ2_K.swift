import ModelFiles

/// Q2_K: 256 weights in 84 bytes, `scales[16] | qs[64] | d: fp16 | dmin: fp16`.
/// Sixteen sub-blocks of 16; `scales[j]` holds sub-block j's 4-bit scale (low nibble) and 4-bit min (high
/// nibble); weight = d · scale · q − dmin · min with q in 0...3. In each 128-element half h, byte `32h + l` of
/// `qs` holds elements `128h + l + 32k` at bits 2k (k = 0...3).
enum BlockQ2_K: LaneWeightedQuantizer {
    static let format = BlockFormat(
        type: .q2_K, quantize: quantizeFast, reference: quantizeReference, weighted: quantizeWeightedFast,
        dequantize: dequantize)
    static let bytes = 84
    static let scalesOffset = 0, qsOffset = 16, dOffset = 80, dminOffset = 82

    /// ggml `quantize_row_q2_K_ref`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: QK_K + 16) { indices in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 + 2 * (QK_K / 16)) { floats in
                let L = indices.baseAddress!             // [256] indices
                let Laux = L + QK_K                    // [16] scratch for the search
                let weights = floats.baseAddress!      // [16]
                let mins = weights + 16                // [16] per sub-block (negated) minimum
                let scales = mins + QK_K / 16          // [16] per sub-block scale
                for i in 0..<blocks {
                    quantizeBlock(x + i * QK_K, y + i * bytes, L, Laux, weights, mins, scales)
                }
            }
        }
    }

    private static func quantizeBlock(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>,
        _ Laux: UnsafeMutablePointer<UInt8>, _ weights: UnsafeMutablePointer<Float>,
        _ mins: UnsafeMutablePointer<Float>, _ scales: UnsafeMutablePointer<Float>
    ) {
        var maxScale: Float = 0  // as we are deducting the min, scales are always positive
        var maxMin: Float = 0
        for j in 0..<QK_K / 16 {
            for l in 0..<16 { weights[l] = abs(x[16 * j + l]) }
            scales[j] = makeQKX2Quants(
                16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                rmin: -0.5, rdelta: 0.1, nstep: 15, useMAD: true)
            let scale = scales[j]
            if scale > maxScale { maxScale = scale }
            let min = mins[j]
            if min > maxMin { maxMin = min }
        }
        requantizeAndPack(x, y, L, mins, scales, maxScale: maxScale, maxMin: maxMin)
    }

    /// ggml `quantize_q2_K` with an importance vector (`quantize_row_q2_K_impl` per row). Each element is weighted
    /// by `qw · sqrt(σ² + x²)`, σ² the super-block's mean square; the groups' scales and mins come from ggml's
    /// `make_qkx3_quants` (`makeQKX2Quants`, rmin −0.9, rdelta 0.05, nstep 36, squared error), and their 4-bit
    /// codes and the block scales from `makeQPQuants` weighted by each group's total weight.
    ///
    /// With `lanes`: each super-block's sixteen searches run as two groups of eight SIMD lanes
    /// (`makeQKX2QuantsLanes`, the weights computed per lane in the same order), except where the super-block or its
    /// importance holds a NaN (see KQuantSearchLanes.swift). Same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / QK_K) }
        let blocksPerRow = rowLength / QK_K
        withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 32) { floatLanes in
            withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 32) { indexLanes in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: QK_K + 16 + 2 * (QK_K / 16)) { indices in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 + 3 * (QK_K / 16)) { floats in
                        let L = indices.baseAddress!             // [256] indices
                        let Laux = L + QK_K                    // [16] scratch for the search
                        let Ls = Laux + 16                     // [16] 4-bit scale codes
                        let Lm = Ls + QK_K / 16                // [16] 4-bit min codes
                        let weight = floats.baseAddress!       // [16]
                        let mins = weight + 16                 // [16] per sub-block (negated) minimum
                        let scales = mins + QK_K / 16          // [16] per sub-block scale
                        let sw = scales + QK_K / 16            // [16] per sub-block total weight
                        let (xt, wt) = (floatLanes.baseAddress!, floatLanes.baseAddress! + 16)
                        let (Lt, Lauxt) = (indexLanes.baseAddress!, indexLanes.baseAddress! + 16)
                        for row in 0..<rows {
                            for i in 0..<blocksPerRow {
                                let b = row * blocksPerRow + i
                                let (xb, yb, qwb) = (x + b * QK_K, y + b * bytes, importance + QK_K * i)
                                var sumX2: Float = 0
                                for j in 0..<QK_K { sumX2 += xb[j] * xb[j] }
                                let sigma2 = sumX2 / Float(QK_K)
                                if !lanes || superBlockHasNaN(xb) || superBlockHasNaN(qwb) {
                                    for j in 0..<QK_K / 16 {
                                        let qw = qwb + 16 * j
                                        for l in 0..<16 {
                                            weight[l] = qw[l] * (sigma2 + xb[16 * j + l] * xb[16 * j + l]).squareRoot()
                                        }
                                        sw[j] = 0
                                        for l in 0..<16 { sw[j] += weight[l] }
                                        scales[j] = makeQKX2Quants(
                                            16, 3, xb + 16 * j, weight, L + 16 * j, &mins[j], Laux,
                                            rmin: -0.9, rdelta: 0.05, nstep: 36, useMAD: false)
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
                                        let (s, m) = makeQKX2QuantsLanes(
                                            16, 3, xt, wt, Lt, Lauxt, rmin: -0.9, rdelta: 0.05, nstep: 36, useMAD: false)
                                        for k in 0..<8 {
                                            sw[8 * g + k] = sumW[k]
                                            scales[8 * g + k] = s[k]
                                            mins[8 * g + k] = m[k]
                                            extractLane(k, of: Lt, count: 16, into: L + 128 * g + 16 * k)
                                        }
                                    }
                                }
                                let dm = makeQPQuants(QK_K / 16, 15, scales, Ls, sw)
                                let mm = makeQPQuants(QK_K / 16, 15, mins, Lm, sw)
                                storeHalf(dm, yb, dOffset)
                                storeHalf(mm, yb, dminOffset)
                                for j in 0..<QK_K / 16 { storeByte(Ls[j] | (Lm[j] << 4), yb, scalesOffset + j) }
                                requantizeAndPackIndices(xb, yb, L)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `quantizeReference` with the sixteen `makeQKX2Quants` searches of a block run as two groups of eight SIMD
    /// lanes (`makeQKX2QuantsLanes`); the rest is the reference's code. Same bytes (see KQuantSearchLanes.swift).
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 32) { floatLanes in
            withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 32) { indexLanes in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: QK_K) { L in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * (QK_K / 16)) { floats in
                        let (xt, wt) = (floatLanes.baseAddress!, floatLanes.baseAddress! + 16)
                        let (Lt, Lauxt) = (indexLanes.baseAddress!, indexLanes.baseAddress! + 16)
                        let (L, mins, scales) = (L.baseAddress!, floats.baseAddress!, floats.baseAddress! + QK_K / 16)
                        for i in 0..<blocks {
                            let xb = x + i * QK_K
                            if superBlockHasNaN(xb) {  // see KQuantSearchLanes.swift
                                quantizeReference(xb, y + i * bytes, 1)
                                continue
                            }
                            for g in 0..<2 {
                                gatherLanes(xb + 128 * g, stride: 16, count: 16, into: xt)
                                for l in 0..<16 { wt[l] = magnitudeLanes(xt[l]) }
                                let (s, m) = makeQKX2QuantsLanes(
                                    16, 3, xt, wt, Lt, Lauxt, rmin: -0.5, rdelta: 0.1, nstep: 15, useMAD: true)
                                for k in 0..<8 {
                                    scales[8 * g + k] = s[k]
                                    mins[8 * g + k] = m[k]
                                    extractLane(k, of: Lt, count: 16, into: L + 128 * g + 16 * k)
                                }
                            }
                            var maxScale: Float = 0
                            var maxMin: Float = 0
                            for j in 0..<QK_K / 16 {
                                if scales[j] > maxScale { maxScale = scales[j] }
                                if mins[j] > maxMin { maxMin = mins[j] }
                            }
                            requantizeAndPack(xb, y + i * bytes, L, mins, scales, maxScale: maxScale, maxMin: maxMin)
                        }
                    }
                }
            }
        }
    }

    /// The reference from the searched scales and mins on: the 4-bit sub-block scales and mins, the block scales,
    /// the indices recomputed from the fp16-rounded scales, and the packing.
    private static func requantizeAndPack(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>,
        _ mins: UnsafeMutablePointer<Float>, _ scales: UnsafeMutablePointer<Float>, maxScale: Float, maxMin: Float
    ) {
        let q4scale: Float = 15
        if maxScale > 0 {
            let iscale = q4scale / maxScale
            for j in 0..<QK_K / 16 {
                let l = nearestInt(iscale * scales[j])
                storeByte(UInt8(truncatingIfNeeded: l), y, scalesOffset + j)
            }
            storeHalf(maxScale / q4scale, y, dOffset)
        } else {
            for j in 0..<QK_K / 16 { storeByte(0, y, scalesOffset + j) }
            storeHalf(0, y, dOffset)
        }
        if maxMin > 0 {
            let iscale = q4scale / maxMin
            for j in 0..<QK_K / 16 {
                let l = nearestInt(iscale * mins[j])
                storeByte(loadByte(y, scalesOffset + j) | UInt8(truncatingIfNeeded: l << 4), y, scalesOffset + j)
            }
            storeHalf(maxMin / q4scale, y, dminOffset)
        } else {
            storeHalf(0, y, dminOffset)
        }
        requantizeAndPackIndices(x, y, L)
    }

    /// The indices recomputed from the stored (fp16-rounded) scales and 4-bit codes, where a group's scale is not
    /// zero, then packed.
    private static func requantizeAndPackIndices(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>
    ) {
        for j in 0..<QK_K / 16 {
            let sc = loadByte(y, scalesOffset + j)
            let d = loadHalf(y, dOffset) * Float(sc & 0xF)
            if d == 0 { continue }  // keep the search's indices
            let dm = loadHalf(y, dminOffset) * Float(sc >> 4)
            for ii in 0..<16 {
                let l = nearestInt((x[16 * j + ii] + dm) / d)
                L[16 * j + ii] = UInt8(truncatingIfNeeded: clamp(l, 0, 3))
            }
        }

        for j in stride(from: 0, to: QK_K, by: 128) {
            for l in 0..<32 {
                let packed = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6)
                storeByte(packed, y, qsOffset + j / 4 + l)
            }
        }
    }

    /// ggml `dequantize_row_q2_K`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            let min = loadHalf(yb, dminOffset)
            var q = qsOffset
            var scaleIndex = 0
            for _ in stride(from: 0, to: QK_K, by: 128) {
                var shift: UInt8 = 0
                for _ in 0..<4 {
                    for half in 0..<2 {  // elements l and l + 16 of this 32-byte run, each with its own scale
                        let sc = loadByte(yb, scalesOffset + scaleIndex)
                        scaleIndex += 1
                        let dl = d * Float(sc & 0xF)
                        let ml = min * Float(sc >> 4)
                        for l in 0..<16 {
                            let v = (loadByte(yb, q + 16 * half + l) >> shift) & 3
                            out[l] = dl * Float(v) - ml
                        }
                        out += 16
                    }
                    shift += 2
                }
                q += 32
            }
        }
    }
}
