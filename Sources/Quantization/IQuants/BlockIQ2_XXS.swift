import ModelFiles

/// IQ2_XXS: 256 weights in 66 bytes, `d: fp16 | qs[32 × uint16]`, read as eight pairs of little-endian uint32
/// (a₀, a₁), one pair per sub-block of 32. Byte k of a₀ is the `iq2xxs_grid` index of the sub-block's 8-group k;
/// bits 7k..<7k + 7 of a₁ index `ksigns_iq2xs` (seven sign bits; the eighth makes the count of minus signs even);
/// bits 28–31 of a₁ are the 4-bit scale s. weight = d · (0.5 + s) · 0.25 · grid value · sign.
enum BlockIQ2_XXS: IQSuperBlockQuantizer {
    /// Without importance (never reached through `BlockFormat`: IQ2_XXS requires importance, so the row quantizers
    /// throw first; ggml's `quantize_iq2_xxs` without weights aborts), `quantizeUnweighted` uses unit importance.
    static let format = BlockFormat(
        type: .iq2_XXS, reference: quantizeUnweighted, weighted: quantizeWeighted, requiresImportance: true,
        dequantize: dequantize)
    static let bytes = 66
    static let dOffset = 0, qsOffset = 2

    static func withScratch(_ body: (IQ2Scratch) -> Void) { withIQ2Scratch(body) }

    /// One super-block of `quantize_row_iq2_xxs_impl`. `qw` is the importance of its 256 columns (nil: all 1).
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ qw: UnsafePointer<Float>?, _ s: IQ2Scratch
    ) {
        let index = IQ2GridIndex.iq2xxs
        let kMaxQ = 3
        let (scales, weight, xval, waux, L, Laux, q2) = (s.scales, s.weight, s.xval, s.waux, s.L, s.Laux, s.q2)
        var blockSigns: UInt32 = 0  // byte k: the seven stored sign bits of 8-group k

        storeHalf(0, y, dOffset)
        for j in 0..<16 { q2[j] = 0 }

        var maxScale: Float = 0

        var sumx2: Float = 0
        for i in 0..<QK_K { sumx2 += xbl[i] * xbl[i] }
        let sigma2 = sumx2 / Float(QK_K)

        for ib in 0..<QK_K / 32 {
            let xb = xbl + 32 * ib
            for i in 0..<32 {
                let w = qw.map { $0[32 * ib + i] } ?? 1
                weight[i] = w * (sigma2 + xb[i] * xb[i]).squareRoot()
            }
            for i in 0..<32 { waux[i] = weight[i].squareRoot() }
            blockSigns = 0
            for k in 0..<4 {
                let sign = iq2EvenSigns(xb + 8 * k, weight + 8 * k, xval + 8 * k)
                blockSigns |= UInt32(sign & 127) << (8 * k)
            }
            var max = xval[0]
            for i in 1..<32 { max = max > xval[i] ? max : xval[i] }
            if max < groupMaxEpsilon {
                scales[ib] = 0
                for i in 0..<32 { L[i] = 0 }
                continue
            }
            var scale = makeQPQuants(32, kMaxQ + 1, xval, UnsafeMutableRawPointer(L).assumingMemoryBound(to: UInt8.self), weight)
            let effMax = scale * Float(kMaxQ)
            if effMax <= 0 {
                scales[ib] = 0
                for i in 0..<32 { L[i] = 0 }
                continue
            }
            var best: Float = 0
            for step in -6...6 {
                let id = (Float(2 * kMaxQ - 1) + Float(step) * 0.1) / effMax
                let thisScale = 1 / id
                for k in 0..<4 {
                    for i in 0..<8 {
                        let l = nearestInt(0.5 * (id * xval[8 * k + i] - 1))
                        Laux[8 * k + i] = Int8(Swift.max(0, Swift.min(kMaxQ - 1, l)))
                    }
                    let u = iq2Key(Laux + 8 * k)
                    if index.map[u] < 0 {
                        _ = index.findBestNeighbour(
                            index.neighbourList(key: u), xval + 8 * k, waux + 8 * k, thisScale, Laux + 8 * k)
                    }
                }
                var sumqx: Float = 0, sumq2: Float = 0
                for i in 0..<32 {
                    let w = weight[i]
                    let q = Float(2 * Int(Laux[i]) + 1)
                    sumqx += w * xval[i] * q
                    sumq2 += w * q * q
                }
                if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
                    scale = sumqx / sumq2
                    best = scale * sumqx
                    for i in 0..<32 { L[i] = Laux[i] }
                }
            }
            if scale > 0 {
                let id = 1 / scale
                for k in 0..<4 {
                    var u = 0
                    for i in 0..<8 {
                        let l = Swift.max(0, Swift.min(kMaxQ - 1, nearestInt(0.5 * (id * xval[8 * k + i] - 1))))
                        u |= l << (2 * i)
                    }
                    var gridIndex = Int(index.map[u])
                    if gridIndex < 0 {
                        gridIndex = index.findBestNeighbour(
                            index.neighbourList(key: u), xval + 8 * k, waux + 8 * k, scale, L + 8 * k)
                    }
                    let pg = index.point(gridIndex)
                    for i in 0..<8 { L[8 * k + i] = (pg[i] - 1) / 2 }
                }
                var sumqx: Float = 0, sumq2: Float = 0
                for i in 0..<32 {
                    let w = weight[i]
                    let q = Float(2 * Int(L[i]) + 1)
                    sumqx += w * xval[i] * q
                    sumq2 += w * q * q
                }
                if sumq2 > 0 { scale = sumqx / sumq2 }
            }
            if scale < 0 {
                // ggml: "should never happen": a positive scale with every sign flipped
                scale = -scale
                blockSigns = ~blockSigns & 0x7F7F_7F7F
            }
            for k in 0..<4 {
                let gridIndex = iq2GridIndexOfIndices(index, L + 8 * k)
                q2[2 * ib] |= UInt32(gridIndex) << (8 * k)
                q2[2 * ib + 1] |= ((blockSigns >> (8 * k)) & 0xFF) << (7 * k)
            }
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
        for ib in 0..<QK_K / 32 {
            let l = Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib] - 1))))
            q2[2 * ib + 1] |= UInt32(l) << 28
        }
        for j in 0..<16 { storeUInt32(q2[j], y, qsOffset + 4 * j) }
    }

    /// ggml `dequantize_row_iq2_xxs`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            for ib32 in 0..<QK_K / 32 {
                let aux0 = loadUInt32(yb, qsOffset + 8 * ib32)
                let aux1 = loadUInt32(yb, qsOffset + 8 * ib32 + 4)
                let db = d * (0.5 + Float(aux1 >> 28)) * 0.25
                for l in 0..<4 {
                    let grid = IQTables.iq2xxsGrid[Int((aux0 >> (8 * UInt32(l))) & 0xFF)]
                    let signs = IQTables.ksignsIQ2XS[Int((aux1 >> (7 * UInt32(l))) & 127)]
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

// MARK: - What the three IQ2 quantizers share

/// The per-call scratch of the IQ2 quantizers (`quantize_row_iq2_*_impl`'s locals), on the stack for the whole
/// call: nothing is allocated per block.
struct IQ2Scratch {
    let scales: UnsafeMutablePointer<Float>  // [16] per sub-block scale
    let weight: UnsafeMutablePointer<Float>  // [32] per-element weight of a sub-block
    let xval: UnsafeMutablePointer<Float>    // [32] |x|, with one sign flipped back where ggml keeps parity
    let waux: UnsafeMutablePointer<Float>    // [32] √weight, the neighbour search's weights
    let L: UnsafeMutablePointer<Int8>        // [32] chosen coordinates 0...2
    let Laux: UnsafeMutablePointer<Int8>     // [32] the scale search's candidate coordinates
    let q2: UnsafeMutablePointer<UInt32>     // [16] IQ2_XXS's packed words before the scales go in
}

func withIQ2Scratch(_ body: (IQ2Scratch) -> Void) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 + 3 * 32) { floats in
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 64) { indices in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { words in
                let f = floats.baseAddress!, l = indices.baseAddress!
                body(IQ2Scratch(
                    scales: f, weight: f + 16, xval: f + 48, waux: f + 80, L: l, Laux: l + 32, q2: words.baseAddress!))
            }
        }
    }
}

/// The sign step of IQ2_XXS and IQ2_XS: `xval` = |x| for eight values, and the mask of the negative ones; when
/// that count is odd, the value of least weighted square (the first of equals) keeps its sign (xval negative, its
/// bit cleared) so that the stored seven bits determine the eighth by parity. `x >= 0` decides, as in ggml (NaN
/// counts as negative).
@inline(__always)
func iq2EvenSigns(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ xval: UnsafeMutablePointer<Float>) -> UInt8 {
    var nflip = 0
    var s: UInt8 = 0
    for i in 0..<8 {
        if x[i] >= 0 {
            xval[i] = x[i]
        } else {
            xval[i] = -x[i]
            nflip += 1
            s |= 1 << UInt8(i)
        }
    }
    if nflip % 2 != 0 {
        var imin = 0
        var min = weight[0] * x[0] * x[0]
        for i in 1..<8 {
            let ax = weight[i] * x[i] * x[i]
            if ax < min {
                min = ax
                imin = i
            }
        }
        xval[imin] = -xval[imin]
        s ^= 1 << UInt8(imin)
    }
    return s
}

/// The map key of eight coordinates in 0...2 (`u |= L[i] << 2i`).
@inline(__always)
func iq2Key(_ L: UnsafePointer<Int8>) -> Int {
    var u = 0
    for i in 0..<8 { u |= Int(L[i]) << (2 * i) }
    return u
}

/// The grid index of the chosen coordinates, as ggml's final packing loop looks it up (`uint16_t u`, then
/// `kmap_q2xs[u]`). ggml aborts ("Oops: found point not on grid") when they are not a grid point, which only
/// happens when inf or NaN inputs left the make_qp_quants indices in place; grid point 0 is stored then.
@inline(__always)
func iq2GridIndexOfIndices(_ index: IQ2GridIndex, _ L: UnsafePointer<Int8>) -> Int {
    var u: UInt16 = 0
    for i in 0..<8 { u |= UInt16(truncatingIfNeeded: Int(L[i]) << (2 * i)) }
    guard Int(u) < IQ2GridIndex.mapSize else { return 0 }
    let gridIndex = Int(index.map[Int(u)])
    return gridIndex >= 0 ? gridIndex : 0
}
