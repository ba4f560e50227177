import ModelFiles

/// IQ2_S: 256 weights in 82 bytes, `d: fp16 | qs[32] | signs[32] | qh[8] | scales[8]`. Sixteen sub-blocks of 16,
/// each two 8-groups; group i8 = 2·ib + k takes `iq2s_grid` index `qs[i8] | ((qh[i8 / 4] >> 2(i8 % 4)) & 3) << 8`
/// and its eight sign bits from `signs[i8]` (all eight stored: no parity trick); nibble ib % 2 of `scales[ib / 2]`
/// is the 4-bit scale s. weight = d · (0.5 + s) · 0.25 · grid value · sign.
enum BlockIQ2_S: IQSuperBlockQuantizer {
    /// Without importance, ggml `quantize_iq2_s` (`quantize_row_iq2_s_ref`) is `quantizeUnweighted`.
    static let format = BlockFormat(
        type: .iq2_S, reference: quantizeUnweighted, weighted: quantizeWeighted, dequantize: dequantize)
    static let bytes = 82
    static let dOffset = 0, qsOffset = 2, signsOffset = 34, qhOffset = 66, scalesOffset = 74

    static func withScratch(_ body: (IQ2Scratch) -> Void) { withIQ2Scratch(body) }

    /// ggml's GROUP_MAX_EPS_IQ2_S: a sub-block whose largest magnitude is below this is stored as zeros.
    static let groupMaxEpsilonIQ2S: Float = 1e-8

    /// One super-block of `quantize_row_iq2_s_impl`. `qw` is the importance of its 256 columns; without it each
    /// weight is σ²/4 + x² (σ² twice the block's mean square).
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ qw: UnsafePointer<Float>?, _ s: IQ2Scratch
    ) {
        let index = IQ2GridIndex.iq2s
        let (scales, weight, xval, waux, L, Laux) = (s.scales, s.weight, s.xval, s.waux, s.L, s.Laux)

        y.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)

        var maxScale: Float = 0

        var sumx2: Float = 0
        for i in 0..<QK_K { sumx2 += xbl[i] * xbl[i] }
        let sigma2 = 2 * sumx2 / Float(QK_K)

        for ib in 0..<QK_K / 16 {
            let xb = xbl + 16 * ib
            if let qw {
                for i in 0..<16 { weight[i] = qw[16 * ib + i] * (sigma2 + xb[i] * xb[i]).squareRoot() }
            } else {
                for i in 0..<16 { weight[i] = 0.25 * sigma2 + xb[i] * xb[i] }
            }
            for i in 0..<16 { waux[i] = weight[i].squareRoot() }
            var blockSigns: (UInt8, UInt8) = (0, 0)
            for k in 0..<2 {
                var sign: UInt8 = 0
                for i in 0..<8 {
                    if xb[8 * k + i] >= 0 {
                        xval[8 * k + i] = xb[8 * k + i]
                    } else {
                        xval[8 * k + i] = -xb[8 * k + i]
                        sign |= 1 << UInt8(i)
                    }
                }
                if k == 0 { blockSigns.0 = sign } else { blockSigns.1 = sign }
            }
            var max = xval[0]
            for i in 1..<16 { max = max > xval[i] ? max : xval[i] }
            for i in 0..<16 { L[i] = 0 }
            if max < groupMaxEpsilonIQ2S {
                scales[ib] = 0
                continue
            }
            var scale = iq2SearchPairScale(index, max: max, xval, weight, waux, L, Laux)
            if scale < 0 {
                scale = -scale
                blockSigns = (~blockSigns.0, ~blockSigns.1)
            }
            for k in 0..<2 {
                let gridIndex = iq2GridIndexOfIndices(index, L + 8 * k)
                let i8 = 2 * ib + k
                storeByte(UInt8(truncatingIfNeeded: gridIndex), y, qsOffset + i8)
                let qh = loadByte(y, qhOffset + i8 / 4) | UInt8(truncatingIfNeeded: (gridIndex >> 8) << (2 * (i8 % 4)))
                storeByte(qh, y, qhOffset + i8 / 4)
                storeByte(k == 0 ? blockSigns.0 : blockSigns.1, y, signsOffset + i8)
            }
            scales[ib] = scale  // ggml asserts scale >= 0 here; NaN (from inf inputs) passes on
            maxScale = maxScale > scale ? maxScale : scale
        }

        if maxScale == 0 { return }

        let d = maxScale / 31
        storeHalf(d * 0.9875, y, dOffset)
        let id = 1 / d
        for ib in 0..<QK_K / 16 {
            let l = UInt8(Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib] - 1)))))
            if ib % 2 == 0 {
                storeByte(l, y, scalesOffset + ib / 2)
            } else {
                storeByte(loadByte(y, scalesOffset + ib / 2) | l << 4, y, scalesOffset + ib / 2)
            }
        }
    }

    /// ggml `dequantize_row_iq2_s`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            for ib32 in 0..<QK_K / 32 {
                let sc = loadByte(yb, scalesOffset + ib32)
                let db0 = d * (0.5 + Float(sc & 0xF)) * 0.25
                let db1 = d * (0.5 + Float(sc >> 4)) * 0.25
                let qh = Int(loadByte(yb, qhOffset + ib32))
                for l in 0..<4 {
                    let dl = l < 2 ? db0 : db1
                    let gridIndex = Int(loadByte(yb, qsOffset + 4 * ib32 + l)) | (qh << (8 - 2 * l) & 0x300)
                    let grid = IQTables.iq2sGrid[gridIndex]
                    let signs = loadByte(yb, signsOffset + 4 * ib32 + l)
                    for j in 0..<8 {
                        let g = Float(UInt8(truncatingIfNeeded: grid >> (8 * UInt64(j))))
                        out[j] = dl * g * (signs & IQTables.kmaskIQ2XS[j] != 0 ? -1 : 1)
                    }
                    out += 8
                }
            }
        }
    }
}
