import ModelFiles

/// IQ2_XS: 256 weights in 74 bytes, `d: fp16 | qs[32 × uint16] | scales[8]`. Sixteen sub-blocks of 16, each two
/// 8-groups: little-endian `qs[2·ib + k]` holds group k's `iq2xs_grid` index in bits 0–8 and its `ksigns_iq2xs`
/// index (seven sign bits, the eighth by parity) in bits 9–15; nibble ib % 2 of `scales[ib / 2]` is the 4-bit
/// scale s. weight = d · (0.5 + s) · 0.25 · grid value · sign.
enum BlockIQ2_XS: IQSuperBlockQuantizer {
    /// Without importance (never reached through `BlockFormat`: IQ2_XS requires importance, so the row quantizers
    /// throw first; ggml's `quantize_iq2_xs` without weights aborts), `quantizeUnweighted` uses unit importance.
    static let format = BlockFormat(
        type: .iq2_XS, reference: quantizeUnweighted, weighted: quantizeWeighted, requiresImportance: true,
        dequantize: dequantize)
    static let bytes = 74
    static let dOffset = 0, qsOffset = 2, scalesOffset = 66

    static func withScratch(_ body: (IQ2Scratch) -> Void) { withIQ2Scratch(body) }

    /// One super-block of `quantize_row_iq2_xs_impl`. `qw` is the importance of its 256 columns (nil: all 1).
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ qw: UnsafePointer<Float>?, _ s: IQ2Scratch
    ) {
        let index = IQ2GridIndex.iq2xs
        let (scales, weight, xval, waux, L, Laux) = (s.scales, s.weight, s.xval, s.waux, s.L, s.Laux)
        let q2 = UnsafeMutableRawPointer(s.q2)  // 32 × uint16, the words of qs before they are stored

        storeHalf(0, y, dOffset)
        for j in 0..<16 { s.q2[j] = 0 }
        for j in 0..<QK_K / 32 { storeByte(0, y, scalesOffset + j) }

        var maxScale: Float = 0

        var sumx2: Float = 0
        for i in 0..<QK_K { sumx2 += xbl[i] * xbl[i] }
        let sigma2 = sumx2 / Float(QK_K)

        for ib in 0..<QK_K / 16 {
            let xb = xbl + 16 * ib
            for i in 0..<16 {
                let w = qw.map { $0[16 * ib + i] } ?? 1
                weight[i] = w * (sigma2 + xb[i] * xb[i]).squareRoot()
            }
            for i in 0..<16 { waux[i] = weight[i].squareRoot() }
            var blockSigns: (UInt16, UInt16) = (0, 0)
            blockSigns.0 = UInt16(iq2EvenSigns(xb, weight, xval) & 127)
            blockSigns.1 = UInt16(iq2EvenSigns(xb + 8, weight + 8, xval + 8) & 127)
            var max = xval[0]
            for i in 1..<16 { max = max > xval[i] ? max : xval[i] }
            for i in 0..<16 { L[i] = 0 }
            if max < groupMaxEpsilon {
                scales[ib] = 0
                continue
            }
            var scale = iq2SearchPairScale(index, max: max, xval, weight, waux, L, Laux)
            if scale < 0 {
                scale = -scale
                blockSigns = (~blockSigns.0 & 127, ~blockSigns.1 & 127)
            }
            let q0 = UInt16(iq2GridIndexOfIndices(index, L)) | blockSigns.0 << 9
            let q1 = UInt16(iq2GridIndexOfIndices(index, L + 8)) | blockSigns.1 << 9
            storeUInt16(q0, q2, 4 * ib)
            storeUInt16(q1, q2, 4 * ib + 2)
            scales[ib] = scale  // ggml asserts scale >= 0 here; NaN (from inf inputs) passes on
            maxScale = maxScale > scale ? maxScale : scale
        }

        if maxScale == 0 {
            for j in 0..<16 { storeUInt32(0, y, qsOffset + 4 * j) }
            return
        }

        let d = maxScale / 31
        storeHalf(d, y, dOffset)
        let id = 1 / d
        for ib in 0..<QK_K / 16 {
            let l = UInt8(Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib] - 1)))))
            if ib % 2 == 0 {
                storeByte(l, y, scalesOffset + ib / 2)
            } else {
                storeByte(loadByte(y, scalesOffset + ib / 2) | l << 4, y, scalesOffset + ib / 2)
            }
        }
        y.advanced(by: qsOffset).copyMemory(from: q2, byteCount: QK_K / 4)
    }

    /// ggml `dequantize_row_iq2_xs`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            for ib32 in 0..<QK_K / 32 {
                let sc = loadByte(yb, scalesOffset + ib32)
                let db0 = d * (0.5 + Float(sc & 0xF)) * 0.25
                let db1 = d * (0.5 + Float(sc >> 4)) * 0.25
                for l in 0..<4 {
                    let q = loadUInt16(yb, qsOffset + 2 * (4 * ib32 + l))
                    let grid = IQTables.iq2xsGrid[Int(q & 511)]
                    let signs = IQTables.ksignsIQ2XS[Int(q >> 9)]
                    let db = l < 2 ? db0 : db1
                    for j in 0..<8 {
                        let g = Float(UInt8(truncatingIfNeeded: grid >> (8 * UInt64(j))))
                        out[j] = db * g * (signs & IQTables.kmaskIQ2XS[j] != 0 ? -1 : 1)
                    }
                    out += 8
                }
            }
        }
    }
}

/// The scale search IQ2_XS and IQ2_S run on a sub-block of 16 (two 8-groups; `quantize_row_iq2_xs_impl` and
/// `quantize_row_iq2_s_impl` from `float best = 0` to the refit after the off-grid groups): the 19 scales
/// (5 + 0.1·is)/max, is = −9...9, each rounding the values to coordinates 0...2 (a group off the grid moves to its
/// best neighbour) and kept when its weighted least-squares fit is better; then the groups that were off the grid
/// under the kept scale are rounded again at the fitted scale and the scale refit. Fills `L` (zeroed by the caller)
/// and returns the scale, which may be negative (a flipped-sign group can make it so).
func iq2SearchPairScale(
    _ index: IQ2GridIndex, max: Float, _ xval: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ waux: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>, _ Laux: UnsafeMutablePointer<Int8>
) -> Float {
    let kMaxQ = 3
    var best: Float = 0
    var scale = max / Float(2 * kMaxQ - 1)
    var isOnGrid = (true, true)
    for step in -9...9 {
        let id = (Float(2 * kMaxQ - 1) + Float(step) * 0.1) / max
        let thisScale = 1 / id
        var isOnGridAux = (true, true)
        for k in 0..<2 {
            for i in 0..<8 {
                let l = nearestInt(0.5 * (id * xval[8 * k + i] - 1))
                Laux[8 * k + i] = Int8(Swift.max(0, Swift.min(kMaxQ - 1, l)))
            }
            let u = iq2Key(Laux + 8 * k)
            if index.map[u] < 0 {
                if k == 0 { isOnGridAux.0 = false } else { isOnGridAux.1 = false }
                _ = index.findBestNeighbour(
                    index.neighbourList(key: u), xval + 8 * k, waux + 8 * k, thisScale, Laux + 8 * k)
            }
        }
        var sumqx: Float = 0, sumq2: Float = 0
        for i in 0..<16 {
            let w = weight[i]
            let q = Float(2 * Int(Laux[i]) + 1)
            sumqx += w * xval[i] * q
            sumq2 += w * q * q
        }
        if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
            scale = sumqx / sumq2
            best = scale * sumqx
            for i in 0..<16 { L[i] = Laux[i] }
            isOnGrid = isOnGridAux
        }
    }
    if (!isOnGrid.0 || !isOnGrid.1) && scale > 0 {
        let id = 1 / scale
        for k in 0..<2 {
            if k == 0 ? isOnGrid.0 : isOnGrid.1 { continue }
            var u = 0
            for i in 0..<8 {
                let l = Swift.max(0, Swift.min(kMaxQ - 1, nearestInt(0.5 * (id * xval[8 * k + i] - 1))))
                u |= l << (2 * i)
                L[8 * k + i] = Int8(l)
            }
            if index.map[u] < 0 {
                _ = index.findBestNeighbour(index.neighbourList(key: u), xval + 8 * k, waux + 8 * k, scale, L + 8 * k)
            }
        }
        var sumqx: Float = 0, sumq2: Float = 0
        for i in 0..<16 {
            let w = weight[i]
            let q = Float(2 * Int(L[i]) + 1)
            sumqx += w * xval[i] * q
            sumq2 += w * q * q
        }
        if sumq2 > 0 { scale = sumqx / sumq2 }
    }
    return scale
}
