import ModelFiles

/// IQ3_S: 256 weights in 110 bytes, `d: fp16 | qs[64] | qh[8] | signs[32] | scales[4]`.
/// Each 32-weight group ib has eight 9-bit grid indices into `iq3s_grid` (four magnitudes each): low bits
/// `qs[8ib + k]`, ninth bit bit k of `qh[ib]`; `signs[4ib ..< 4ib + 4]` hold one sign bit per element; the 4-bit
/// scale s of group ib is nibble ib % 2 of `scales[ib / 2]`; weight = d · (1 + 2s) · magnitude · sign.
enum BlockIQ3_S: IQSuperBlockQuantizer {
    /// ggml `quantize_row_iq3_s_ref` = `quantize_iq3_s(…, NULL)` is `quantizeUnweighted`: each weight's importance
    /// is its square.
    static let format = BlockFormat(type: .iq3_S, reference: quantizeUnweighted, weighted: quantizeWeighted,
                                    dequantize: dequantize)
    static let bytes = 110
    static let dOffset = 0, qsOffset = 2, qhOffset = 66, signsOffset = 74, scalesOffset = 106

    static func withScratch(_ body: (IQ3GroupScratch) -> Void) { withIQ3GroupScratch(body) }

    /// One super-block.
    ///
    /// A ggml quirk kept here: the cursors into `qs` and `signs` advance only at the end of a group's loop body,
    /// and a group of zeros leaves it early (`continue`), so the groups after an all-zero group write their
    /// indices and signs one group's slot earlier (and the last slots stay zero), while `qh` and the scales are
    /// indexed by the group itself. The dequantizer reads every group from its own slot, so such super-blocks
    /// decode shifted; ggml's files hold these bytes, and so do ours.
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ qw: UnsafePointer<Float>?, _ s: IQ3GroupScratch
    ) {
        let index = IQ3GridIndex.s
        let blockSigns = s.blockSigns
        let (weight, xval, waux, L, scales) = (s.weight, s.xval, s.waux, s.L, s.scales)
        y.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var qs = qsOffset
        var signs = signsOffset

        var maxScale: Float = 0

        var sumx2: Float = 0
        for i in 0..<QK_K { sumx2 += xbl[i] * xbl[i] }
        let sigma2 = 2 * sumx2 / Float(QK_K)

        for ib in 0..<QK_K / 32 {
            let xb = xbl + 32 * ib
            if let qw {
                for i in 0..<32 { weight[i] = qw[32 * ib + i] * (sigma2 + xb[i] * xb[i]).squareRoot() }
            } else {
                for i in 0..<32 { weight[i] = xb[i] * xb[i] }
            }
            for i in 0..<32 { waux[i] = weight[i].squareRoot() }
            for k in 0..<4 {
                var signs: UInt8 = 0
                for i in 0..<8 {
                    if xb[8 * k + i] >= 0 {
                        xval[8 * k + i] = xb[8 * k + i]
                    } else {
                        xval[8 * k + i] = -xb[8 * k + i]
                        signs |= 1 << i
                    }
                }
                blockSigns[k] = signs
            }
            var max = xval[0]
            for i in 1..<32 { max = macroMax(max, xval[i]) }
            for i in 0..<32 { L[i] = 0 }
            if max == 0 {
                scales[ib] = 0
                continue  // before the cursors advance (see above)
            }
            var scale = index.searchGroupScale(max: max, steps: 9, initiallyOnGrid: false, requantizeOnGrid: true, s)
            if scale < 0 {
                // ggml: "should never happen"; a positive scale with every sign flipped
                scale = -scale
                for k in 0..<4 { blockSigns[k] = ~blockSigns[k] }
            }
            for k in 0..<8 {
                let gridIndex = index.gridIndex(of: L + 4 * k)
                storeByte(UInt8(truncatingIfNeeded: gridIndex & 255), y, qs + k)
                let high = UInt8(truncatingIfNeeded: (gridIndex >> 8) << k)
                storeByte(loadByte(y, qhOffset + ib) | high, y, qhOffset + ib)
            }
            qs += 8
            for k in 0..<4 { storeByte(blockSigns[k], y, signs + k) }
            signs += 4
            scales[ib] = scale
            maxScale = macroMax(maxScale, scale)
        }

        if maxScale == 0 { return }

        let d = maxScale / 31
        storeHalf(d * 1.033, y, dOffset)
        let id = 1 / d
        for ib in stride(from: 0, to: QK_K / 32, by: 2) {
            let l1 = clamp(nearestInt(0.5 * (id * scales[ib] - 1)), 0, 15)
            let l2 = clamp(nearestInt(0.5 * (id * scales[ib + 1] - 1)), 0, 15)
            storeByte(UInt8(l1 | l2 << 4), y, scalesOffset + ib / 2)
        }
    }

    /// ggml `dequantize_row_iq3_s`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        IQTables.iq3sGrid.withUnsafeBufferPointer { grid in
            var out = x
            for i in 0..<blocks {
                let yb = y + i * bytes
                let d = loadHalf(yb, dOffset)
                for ib32 in 0..<QK_K / 32 {
                    let scaleByte = loadByte(yb, scalesOffset + ib32 / 2)
                    let db = d * Float(1 + 2 * Int(ib32 % 2 == 0 ? scaleByte & 0xF : scaleByte >> 4))
                    let qh = Int(loadByte(yb, qhOffset + ib32))
                    let qs = qsOffset + 8 * ib32
                    for l in 0..<4 {
                        let signs = loadByte(yb, signsOffset + 4 * ib32 + l)
                        let grid1 = grid[Int(loadByte(yb, qs + 2 * l)) | ((qh << (8 - 2 * l)) & 256)]
                        let grid2 = grid[Int(loadByte(yb, qs + 2 * l + 1)) | ((qh << (7 - 2 * l)) & 256)]
                        for j in 0..<4 {
                            let g1 = Float((grid1 >> (8 * UInt32(j))) & 0xFF)
                            let g2 = Float((grid2 >> (8 * UInt32(j))) & 0xFF)
                            out[j] = db * g1 * (signs & (1 << j) != 0 ? -1 : 1)
                            out[j + 4] = db * g2 * (signs & (1 << (j + 4)) != 0 ? -1 : 1)
                        }
                        out += 8
                    }
                }
            }
        }
    }
}
