import ModelFiles

/// Q6_K: 256 weights in 210 bytes, `ql[128] | qh[64] | scales[16] int8 | d: fp16`.
/// Sixteen sub-blocks of 16 with signed 8-bit scales; weight = d · scale · (q − 32) with q in 0...63.
/// For each 128-element half h and l in 0..<32: `ql[64h + l]` holds the low nibbles of elements `128h + l`
/// (low) and `+ 64` (high), `ql[64h + 32 + l]` those of `+ 32` and `+ 96`, and `qh[32h + l]` the top 2 bits of
/// `+ 0, + 32, + 64, + 96` at bits 0, 2, 4, 6.
enum BlockQ6_K: LaneWeightedQuantizer {
    static let format = BlockFormat(
        type: .q6_K, quantize: quantizeFast, reference: quantizeReference, weighted: quantizeWeightedFast,
        dequantize: dequantize)
    static let bytes = 210
    static let qlOffset = 0, qhOffset = 128, scalesOffset = 192, dOffset = 208

    /// ggml `quantize_row_q6_K_ref`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: QK_K) { L in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: QK_K / 16) { scales in
                for i in 0..<blocks {
                    quantizeBlock(x + i * QK_K, y + i * bytes, L.baseAddress!, scales.baseAddress!, importance: nil)
                }
            }
        }
    }

    /// ggml `quantize_q6_K` with an importance vector (`quantize_row_q6_K_impl` per row): the reference with each
    /// group's `makeQXQuants` weighted by the importance of its columns as they are (ggml computes no σ² here;
    /// its code for one is commented out).
    ///
    /// With `lanes`: each super-block's sixteen searches run as two groups of eight SIMD lanes
    /// (`makeQXQuantsLanes` with the importance as weights), except where the super-block or its importance holds
    /// a NaN (see KQuantSearchLanes.swift). Same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / QK_K) }
        let blocksPerRow = rowLength / QK_K
        withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 32) { floatLanes in
            withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 16) { Lt in
                withUnsafeTemporaryAllocation(of: Int8.self, capacity: QK_K) { L in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: QK_K / 16) { scales in
                        let (L, scales) = (L.baseAddress!, scales.baseAddress!)
                        let (xt, qt, Lt) = (floatLanes.baseAddress!, floatLanes.baseAddress! + 16, Lt.baseAddress!)
                        for row in 0..<rows {
                            for i in 0..<blocksPerRow {
                                let b = row * blocksPerRow + i
                                let (xb, yb, qwb) = (x + b * QK_K, y + b * bytes, importance + QK_K * i)
                                if !lanes || superBlockHasNaN(xb) || superBlockHasNaN(qwb) {
                                    quantizeBlock(xb, yb, L, scales, importance: qwb)
                                    continue
                                }
                                for g in 0..<2 {
                                    gatherLanes(xb + 128 * g, stride: 16, count: 16, into: xt)
                                    gatherLanes(qwb + 128 * g, stride: 16, count: 16, into: qt)
                                    let s = makeQXQuantsLanes(16, 32, xt, Lt, weights: qt)
                                    for k in 0..<8 {
                                        scales[8 * g + k] = s[k]
                                        extractLane(k, of: Lt, count: 16, into: L + 128 * g + 16 * k)
                                    }
                                }
                                var maxScale: Float = 0
                                var maxAbsScale: Float = 0
                                for j in 0..<QK_K / 16 {
                                    let absScale = abs(scales[j])
                                    if absScale > maxAbsScale {
                                        maxAbsScale = absScale
                                        maxScale = scales[j]
                                    }
                                }
                                requantizeAndPack(xb, yb, L, scales, maxScale: maxScale, maxAbsScale: maxAbsScale)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One super-block, its groups' `makeQXQuants` weighted by `qw` (the block's 256 importance weights) or, with
    /// nil, by x² as the reference weights them.
    private static func quantizeBlock(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<Int8>,
        _ scales: UnsafeMutablePointer<Float>, importance qw: UnsafePointer<Float>?
    ) {
        var maxScale: Float = 0
        var maxAbsScale: Float = 0
        for ib in 0..<QK_K / 16 {
            let scale = makeQXQuants(16, 32, x + 16 * ib, L + 16 * ib, rmseType: 1, weights: qw.map { $0 + 16 * ib })
            scales[ib] = scale
            let absScale = abs(scale)
            if absScale > maxAbsScale {
                maxAbsScale = absScale
                maxScale = scale
            }
        }
        requantizeAndPack(x, y, L, scales, maxScale: maxScale, maxAbsScale: maxAbsScale)
    }

    /// The reference from the searched scales on: the block scale, the 8-bit sub-block scales, the indices
    /// recomputed from the fp16-rounded scales, and the packing.
    private static func requantizeAndPack(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<Int8>,
        _ scales: UnsafeMutablePointer<Float>, maxScale: Float, maxAbsScale: Float
    ) {
        if maxAbsScale < groupMaxEpsilon {  // the whole block is zero bytes
            for k in 0..<bytes { storeByte(0, y, k) }
            storeHalf(0, y, dOffset)
            return
        }

        let iscale = -128 / maxScale
        storeHalf(1 / iscale, y, dOffset)
        for ib in 0..<QK_K / 16 {
            let s = Swift.min(127, nearestInt(iscale * scales[ib]))
            storeByte(UInt8(truncatingIfNeeded: s), y, scalesOffset + ib)
        }

        for j in 0..<QK_K / 16 {
            let sc = Int8(bitPattern: loadByte(y, scalesOffset + j))
            let d = loadHalf(y, dOffset) * Float(sc)
            if d == 0 { continue }  // keep the search's indices
            for ii in 0..<16 {
                let l = clamp(nearestInt(x[16 * j + ii] / d), -32, 31)
                L[16 * j + ii] = Int8(truncatingIfNeeded: l + 32)
            }
        }

        var ql = qlOffset
        var qh = qhOffset
        for j in stride(from: 0, to: QK_K, by: 128) {
            for l in 0..<32 {
                let q1 = UInt8(bitPattern: L[j + l]) & 0xF
                let q2 = UInt8(bitPattern: L[j + l + 32]) & 0xF
                let q3 = UInt8(bitPattern: L[j + l + 64]) & 0xF
                let q4 = UInt8(bitPattern: L[j + l + 96]) & 0xF
                storeByte(q1 | (q3 << 4), y, ql + l)
                storeByte(q2 | (q4 << 4), y, ql + l + 32)
                let high = (Int(L[j + l]) >> 4) | ((Int(L[j + l + 32]) >> 4) << 2)
                    | ((Int(L[j + l + 64]) >> 4) << 4) | ((Int(L[j + l + 96]) >> 4) << 6)
                storeByte(UInt8(truncatingIfNeeded: high), y, qh + l)
            }
            ql += 64
            qh += 32
        }
    }

    /// `quantizeReference` with the sixteen `makeQXQuants` searches of a block run as two groups of eight SIMD lanes
    /// (`makeQXQuantsLanes`); the rest is the reference's code. Same bytes (see KQuantSearchLanes.swift).
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        quantizeSixteenGroupSuperBlocks(x, y, blocks, bytes: bytes, search: { makeQXQuantsLanes(16, 32, $0, $1) },
                                        reference: quantizeReference) { x, y, L, scales, maxScale, maxAbsScale in
            requantizeAndPack(x, y, L, scales, maxScale: maxScale, maxAbsScale: maxAbsScale)
        }
    }

    /// ggml `dequantize_row_q6_K`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            var ql = qlOffset
            var qh = qhOffset
            var sc = scalesOffset
            for _ in stride(from: 0, to: QK_K, by: 128) {
                for l in 0..<32 {
                    let scaleIndex = l / 16
                    let low0 = loadByte(yb, ql + l), low32 = loadByte(yb, ql + l + 32), high = loadByte(yb, qh + l)
                    let q1 = Int8(bitPattern: (low0 & 0xF) | (((high >> 0) & 3) << 4)) - 32
                    let q2 = Int8(bitPattern: (low32 & 0xF) | (((high >> 2) & 3) << 4)) - 32
                    let q3 = Int8(bitPattern: (low0 >> 4) | (((high >> 4) & 3) << 4)) - 32
                    let q4 = Int8(bitPattern: (low32 >> 4) | (((high >> 6) & 3) << 4)) - 32
                    out[l] = d * Float(Int8(bitPattern: loadByte(yb, sc + scaleIndex))) * Float(q1)
                    out[l + 32] = d * Float(Int8(bitPattern: loadByte(yb, sc + scaleIndex + 2))) * Float(q2)
                    out[l + 64] = d * Float(Int8(bitPattern: loadByte(yb, sc + scaleIndex + 4))) * Float(q3)
                    out[l + 96] = d * Float(Int8(bitPattern: loadByte(yb, sc + scaleIndex + 6))) * Float(q4)
                }
                out += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    }
}
