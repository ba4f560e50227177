import ModelFiles

/// Q5_K: 256 weights in 176 bytes, `d: fp16 | dmin: fp16 | scales[12] | qh[32] | qs[128]`.
/// As Q4_K with q in 0...31: the low 4 bits packed as in Q4_K, and for chunk c the high bit of element
/// `64c + l` at bit 2c of `qh[l]`, of element `64c + 32 + l` at bit 2c + 1.
enum BlockQ5_K: LaneWeightedQuantizer {
    static let format = BlockFormat(
        type: .q5_K, quantize: quantizeFast, reference: quantizeReference, weighted: quantizeWeightedFast,
        dequantize: dequantize)
    static let bytes = 176
    static let dOffset = 0, dminOffset = 2, scalesOffset = 4, qhOffset = 16, qsOffset = 48

    /// ggml `quantize_row_q5_K_ref`.
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
                32, 31, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                rmin: -0.5, rdelta: 0.1, nstep: 15, useMAD: false)
            let scale = scales[j]
            if scale > maxScale { maxScale = scale }
            let min = mins[j]
            if min > maxMin { maxMin = min }
        }
        requantizeAndPack(x, y, L, mins, scales, maxScale: maxScale, maxMin: maxMin)
    }

    /// ggml `quantize_q5_K` with an importance vector (`quantize_row_q5_K_impl` per row; see
    /// `quantizeWeightedEightGroupRows`), the 6-bit codes capped at 63 as ggml caps them here.
    ///
    /// With `lanes`: each super-block's eight searches side by side in SIMD lanes. Same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / QK_K) }
        quantizeWeightedEightGroupRows(x, y, rows, rowLength, importance, bytes: bytes, nmax: 31, lanes: lanes) {
            x, y, L, Ls, Lm, dBlock, mBlock in
            for j in 0..<QK_K / 32 {
                packScaleMinK4(j, scale: Swift.min(63, Ls[j]), min: Swift.min(63, Lm[j]), y + scalesOffset)
            }
            storeHalf(dBlock, y, dOffset)
            storeHalf(mBlock, y, dminOffset)
            requantizeAndPackIndices(x, y, L)
        }
    }

    /// `quantizeReference` with the eight `makeQKX2Quants` searches of a block run side by side in SIMD lanes
    /// (`makeQKX2QuantsLanes`, weights computed per lane in the same order); the rest is the reference's code.
    /// Same bytes (see KQuantSearchLanes.swift).
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        quantizeQKX2SuperBlocks(x, y, blocks, bytes: bytes, nmax: 31, rmin: -0.5, nstep: 15, reference: quantizeReference) {
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
                L[32 * j + ii] = UInt8(truncatingIfNeeded: clamp(l, 0, 31))
            }
        }

        for k in 0..<QK_K / 8 { storeByte(0, y, qhOffset + k) }
        var m1: UInt8 = 1
        var m2: UInt8 = 2
        var ql = qsOffset
        for n in stride(from: 0, to: QK_K, by: 64) {
            for j in 0..<32 {
                var l1 = L[n + j]
                if l1 > 15 {
                    l1 -= 16
                    storeByte(loadByte(y, qhOffset + j) | m1, y, qhOffset + j)
                }
                var l2 = L[n + j + 32]
                if l2 > 15 {
                    l2 -= 16
                    storeByte(loadByte(y, qhOffset + j) | m2, y, qhOffset + j)
                }
                storeByte(l1 | (l2 << 4), y, ql + j)
            }
            m1 <<= 2
            m2 <<= 2
            ql += 32
        }
    }

    /// ggml `dequantize_row_q5_K`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            let min = loadHalf(yb, dminOffset)
            var ql = qsOffset
            var scaleIndex = 0
            var u1: UInt8 = 1
            var u2: UInt8 = 2
            for _ in stride(from: 0, to: QK_K, by: 64) {
                let (sc1, m1) = scaleMinK4(scaleIndex, yb + scalesOffset)
                let d1 = d * Float(sc1)
                let min1 = min * Float(m1)
                let (sc2, m2) = scaleMinK4(scaleIndex + 1, yb + scalesOffset)
                let d2 = d * Float(sc2)
                let min2 = min * Float(m2)
                for l in 0..<32 {
                    let q = Int(loadByte(yb, ql + l) & 0xF) + (loadByte(yb, qhOffset + l) & u1 != 0 ? 16 : 0)
                    out[l] = d1 * Float(q) - min1
                }
                for l in 0..<32 {
                    let q = Int(loadByte(yb, ql + l) >> 4) + (loadByte(yb, qhOffset + l) & u2 != 0 ? 16 : 0)
                    out[32 + l] = d2 * Float(q) - min2
                }
                out += 64
                ql += 32
                scaleIndex += 2
                u1 <<= 2
                u2 <<= 2
            }
        }
    }
}
