import ModelFiles

/// IQ3_XXS: 256 weights in 98 bytes, `d: fp16 | qs[64] | scales_and_signs[8 × uint32]`.
/// Each 32-weight group ib has eight grid indices `qs[8ib ..< 8ib + 8]` (into `iq3xxs_grid`, four magnitudes each)
/// and one little-endian uint32: bits 7j ..< 7j + 7 index `ksigns_iq2xs` for the signs of elements 8j ..< 8j + 8
/// (the eighth sign is the parity of the seven), bits 28...31 the group scale s; weight = d · (0.5 + s) · 0.5 ·
/// magnitude · sign.
enum BlockIQ3_XXS: IQSuperBlockQuantizer {
    /// ggml `quantize_row_iq3_xxs_ref` = `quantize_row_iq3_xxs_impl(256, …, NULL)` is `quantizeUnweighted`: each
    /// weight's importance is its square.
    static let format = BlockFormat(type: .iq3_XXS, reference: quantizeUnweighted, weighted: quantizeWeighted,
                                    dequantize: dequantize)
    static let bytes = 98
    static let dOffset = 0, qsOffset = 2, scalesAndSignsOffset = 66

    static func withScratch(_ body: (IQ3GroupScratch) -> Void) { withIQ3GroupScratch(body) }

    /// One super-block. ggml builds the 96 bytes after `d` in a local array (`q3`) and copies them in at the end;
    /// here they are built in place, which leaves the same bytes.
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ qw: UnsafePointer<Float>?, _ s: IQ3GroupScratch
    ) {
        let index = IQ3GridIndex.xxs
        let blockSigns = s.blockSigns
        let (weight, xval, waux, L, scales) = (s.weight, s.xval, s.waux, s.L, s.scales)
        storeHalf(0, y, dOffset)
        (y + qsOffset).initializeMemory(as: UInt8.self, repeating: 0, count: bytes - qsOffset)

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
            // Magnitudes and signs; an odd number of negatives in eight gets the least important element's sign
            // flipped (the stored seven signs imply the eighth by parity).
            for k in 0..<4 {
                var nflip = 0
                var signs: UInt8 = 0
                for i in 0..<8 {
                    if xb[8 * k + i] >= 0 {
                        xval[8 * k + i] = xb[8 * k + i]
                    } else {
                        xval[8 * k + i] = -xb[8 * k + i]
                        nflip += 1
                        signs |= 1 << i
                    }
                }
                if nflip % 2 != 0 {
                    var imin = 0
                    var min = weight[8 * k] * xb[8 * k] * xb[8 * k]
                    for i in 1..<8 {
                        let ax = weight[8 * k + i] * xb[8 * k + i] * xb[8 * k + i]
                        if ax < min {
                            min = ax
                            imin = i
                        }
                    }
                    xval[8 * k + imin] = -xval[8 * k + imin]
                    signs ^= 1 << imin
                }
                blockSigns[k] = signs & 127
            }
            var max = xval[0]
            for i in 1..<32 { max = macroMax(max, xval[i]) }
            for i in 0..<32 { L[i] = 0 }
            if max < 1e-8 {  // GROUP_MAX_EPS_IQ3_XXS
                scales[ib] = 0
                continue
            }
            var scale = index.searchGroupScale(max: max, steps: 15, initiallyOnGrid: true, requantizeOnGrid: false, s)
            if scale < 0 {
                // ggml: "should never happen"; a positive scale with every sign flipped
                scale = -scale
                for k in 0..<4 { blockSigns[k] = ~blockSigns[k] & 127 }
            }
            for k in 0..<8 {
                storeByte(UInt8(truncatingIfNeeded: index.gridIndex(of: L + 4 * k)), y, qsOffset + 8 * ib + k)
            }
            let signWord = UInt32(blockSigns[0]) | UInt32(blockSigns[1]) << 7 | UInt32(blockSigns[2]) << 14
                | UInt32(blockSigns[3]) << 21
            storeUInt32(signWord, y, scalesAndSignsOffset + 4 * ib)
            scales[ib] = scale
            maxScale = macroMax(maxScale, scale)
        }

        if maxScale == 0 {
            (y + qsOffset).initializeMemory(as: UInt8.self, repeating: 0, count: bytes - qsOffset)
            return
        }

        let d = maxScale / 31
        storeHalf(d * 1.0125, y, dOffset)  // ggml: "small improvement via this fudge factor"
        let id = 1 / d
        for ib in 0..<QK_K / 32 {
            let l = clamp(nearestInt(0.5 * (id * scales[ib] - 1)), 0, 15)
            let offset = scalesAndSignsOffset + 4 * ib
            storeUInt32(loadUInt32(y, offset) | UInt32(l) << 28, y, offset)
        }
    }

    /// ggml `dequantize_row_iq3_xxs`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        IQTables.iq3xxsGrid.withUnsafeBufferPointer { grid in
            IQTables.ksignsIQ2XS.withUnsafeBufferPointer { ksigns in
                var out = x
                for i in 0..<blocks {
                    let yb = y + i * bytes
                    let d = loadHalf(yb, dOffset)
                    for ib32 in 0..<QK_K / 32 {
                        let aux32 = loadUInt32(yb, scalesAndSignsOffset + 4 * ib32)
                        let db = d * (0.5 + Float(aux32 >> 28)) * 0.5
                        let qs = qsOffset + 8 * ib32
                        for l in 0..<4 {
                            let signs = ksigns[Int((aux32 >> (7 * UInt32(l))) & 127)]
                            let grid1 = grid[Int(loadByte(yb, qs + 2 * l))]
                            let grid2 = grid[Int(loadByte(yb, qs + 2 * l + 1))]
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
}
