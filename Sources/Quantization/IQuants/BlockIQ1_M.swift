import ModelFiles

/// IQ1_M: 256 weights in 56 bytes, `qs[32] | qh[16] | scales[4 × uint16]`, no separate super-block scale: its
/// fp16 bits are spread over the top nibbles of the four scale words (bits 0–3 in word 0, … 12–15 in word 3).
/// Sixteen sub-blocks of 16, each two 8-groups on ggml's ternary grid (`IQ1Grid`). For sub-block ib, byte `qh[ib]`
/// holds group 0's index bits 8–10 (bits 0–2) and shift sign (bit 3), group 1's in bits 4–6 and 7; its 3-bit scale
/// s is bits 3·(ib % 4) of scale word ib / 4. Weight = d · (2s + 1) · (value ± IQ1M_DELTA).
enum BlockIQ1_M {
    static let bytes = 56
    static let qsOffset = 0, qhOffset = 32, scalesOffset = 48

    /// The super-block scale gathered from the four scale words (ggml's `iq1m_scale_t`).
    @inline(__always)
    static func superScale(_ yb: UnsafeRawPointer) -> Float {
        let sc0 = loadUInt16(yb, scalesOffset), sc1 = loadUInt16(yb, scalesOffset + 2)
        let sc2 = loadUInt16(yb, scalesOffset + 4), sc3 = loadUInt16(yb, scalesOffset + 6)
        let bits = (sc0 >> 12) | ((sc1 >> 8) & 0x00F0) | ((sc2 >> 4) & 0x0F00) | (sc3 & 0xF000)
        return HalfFloat.float(fromBits: bits)
    }

    /// ggml `dequantize_row_iq1_m`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = superScale(yb)
            for ib in 0..<QK_K / 32 {
                let sc = loadUInt16(yb, scalesOffset + 2 * (ib / 2))
                let dl1 = d * Float(2 * Int((sc >> (6 * UInt16(ib % 2) + 0)) & 7) + 1)
                let dl2 = d * Float(2 * Int((sc >> (6 * UInt16(ib % 2) + 3)) & 7) + 1)
                let qh0 = Int(loadByte(yb, qhOffset + 2 * ib)), qh1 = Int(loadByte(yb, qhOffset + 2 * ib + 1))
                @inline(__always) func group(_ l: Int, _ index: Int, _ minus: Bool, _ dl: Float) {
                    let delta = minus ? -iq1Delta : iq1Delta
                    let point = Int(loadByte(yb, qsOffset + 4 * ib + l)) | index
                    for j in 0..<8 {
                        out[j] = dl * (Float(IQ1Grid.value(point, j)) + delta)
                    }
                    out += 8
                }
                group(0, (qh0 << 8) & 0x700, qh0 & 0x08 != 0, dl1)
                group(1, (qh0 << 4) & 0x700, qh0 & 0x80 != 0, dl1)
                group(2, (qh1 << 8) & 0x700, qh1 & 0x08 != 0, dl2)
                group(3, (qh1 << 4) & 0x700, qh1 & 0x80 != 0, dl2)
            }
        }
    }
}

extension BlockIQ1_M: IQSuperBlockQuantizer {
    /// ggml `quantize_iq1_m` without weights is `quantizeUnweighted` (each value weighted by its square).
    static let format = BlockFormat(
        type: .iq1_M, reference: quantizeUnweighted, weighted: quantizeWeighted, dequantize: dequantize)

    /// ggml's `GROUP_MAX_EPS_IQ1_M`: a sub-block whose largest magnitude is below this is left at zero.
    static let groupMaxEpsilon: Float = 1e-7
    static let blockSize = 16  // IQ1M_BLOCK_SIZE

    static func withScratch(_ body: (IQ1Scratch) -> Void) { withIQ1Scratch(body) }

    /// One super-block of ggml `quantize_row_iq1_m_impl` (`quantWeights`: the importance of its 256 columns, or nil for
    /// each value weighted by its square). As IQ1_S's search, on sub-blocks of 16 whose two 8-groups may each take the
    /// +delta or −delta shift: the split search keeps prefix sums per half so that all four sign combinations are
    /// scored for every split. The sub-block scales become 3-bit multiples (2s + 1) of `max_scale / 15`; the
    /// super-block scale is then refitted to the chosen grid points over the whole block, times the fudge factor
    /// 1.1125, and its fp16 bits spread over the scale words' top nibbles.
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ yb: UnsafeMutableRawPointer, _ quantWeights: UnsafePointer<Float>?,
        _ s: IQ1Scratch
    ) {
        let tables = IQ2GridIndex.iq1s
        let (scales, weight, L, index, shifts) = (s.scales, s.weight, s.L, s.index, s.shifts)
        let (xP, xM) = (iq1LevelsPlus, iq1LevelsMinus)
        let masks: (UInt8, UInt8, UInt8, UInt8) = (0x00, 0x80, 0x08, 0x88)
        // The half of shift k used by group 0 (k < 2: +) and group 1 (k even: +), k = 0: (+, +), 1: (+, −),
        // 2: (−, +), 3: (−, −).
        @inline(__always) func levels(_ shift: Int, group k: Int) -> (Float, Float, Float) {
            k == 0 ? (shift < 2 ? xP : xM) : (shift % 2 == 0 ? xP : xM)
        }
        // Per half h of the sub-block: prefix sums of weight·x (px) and weight (pw) over the sorted values, counting
        // only the values of that half: sumx holds px, sumw pw, 17 floats per half.
        let px0 = s.sumx, px1 = s.sumx + 17, pw0 = s.sumw, pw1 = s.sumw + 17

        yb.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)

        var maxScale: Float = 0

        var sumx2: Float = 0
        for i in 0..<QK_K { sumx2 += xbl[i] * xbl[i] }
        let sigma2 = 2 * sumx2 / Float(QK_K)

        // The weights of sub-block ib, for its search and again (as ggml) for the super-block refit.
        @inline(__always) func computeWeights(_ ib: Int) {
            let xb = xbl + blockSize * ib
            if let quantWeights {
                let qw = quantWeights + blockSize * ib
                for i in 0..<blockSize { weight[i] = qw[i] * (sigma2 + xb[i] * xb[i]).squareRoot() }
            } else {
                for i in 0..<blockSize { weight[i] = xb[i] * xb[i] }
            }
        }

        for ib in 0..<QK_K / blockSize {
            let xb = xbl + blockSize * ib
            computeWeights(ib)
            var max = abs(xb[0])
            for i in 1..<blockSize { max = cMax(max, abs(xb[i])) }
            if max < groupMaxEpsilon {
                scales[ib] = 0
                shifts[ib] = 0
                L.initialize(repeating: 1, count: blockSize)
                continue
            }
            for j in 0..<blockSize {
                s.values[j] = xb[j]
                s.order[j] = Int32(j)
            }
            iq1MergeSort(s.values, s.order, blockSize, s.tmpValues, s.tmpOrder)
            var bestScore = -Float.greatestFiniteMagnitude
            var scale = max
            var besti1 = -1, besti2 = -1, bestK = -1
            px0[0] = 0
            px1[0] = 0
            pw0[0] = 0
            pw1[0] = 0
            for j in 0..<blockSize {
                let i = Int(s.order[j])
                if i < blockSize / 2 {
                    px0[j + 1] = px0[j] + weight[i] * xb[i]
                    px1[j + 1] = px1[j]
                    pw0[j + 1] = pw0[j] + weight[i]
                    pw1[j + 1] = pw1[j]
                } else {
                    px1[j + 1] = px1[j] + weight[i] * xb[i]
                    px0[j + 1] = px0[j]
                    pw1[j + 1] = pw1[j] + weight[i]
                    pw0[j + 1] = pw0[j]
                }
            }
            // Since v0 − v1 = v1 − v2 = −1 for both level sets, a split's Σ w·x·v over a half collapses to
            // T·v2 − px[i1] − px[i2]; Σ w·v² likewise takes the constant differences of the squares.
            let txs0 = px0[blockSize], txs1 = px1[blockSize]
            let tws0 = pw0[blockSize], tws1 = pw1[blockSize]
            let p2 = xP.2, m2 = xM.2
            let cp1 = xP.0 * xP.0 - xP.1 * xP.1
            let cp2 = xP.1 * xP.1 - xP.2 * xP.2
            let cm1 = xM.0 * xM.0 - xM.1 * xM.1
            let cm2 = xM.1 * xM.1 - xM.2 * xM.2
            for i1 in 0...blockSize {
                for i2 in i1...blockSize {
                    let sx0 = px0[i1] + px0[i2], sx1 = px1[i1] + px1[i2]
                    let qxP0 = txs0 * p2 - sx0, qxP1 = txs1 * p2 - sx1
                    let qxM0 = txs0 * m2 - sx0, qxM1 = txs1 * m2 - sx1
                    let q2P0 = tws0 * p2 * p2 + pw0[i1] * cp1 + pw0[i2] * cp2
                    let q2P1 = tws1 * p2 * p2 + pw1[i1] * cp1 + pw1[i2] * cp2
                    let q2M0 = tws0 * m2 * m2 + pw0[i1] * cm1 + pw0[i2] * cm2
                    let q2M1 = tws1 * m2 * m2 + pw1[i1] * cm1 + pw1[i2] * cm2
                    @inline(__always) func consider(_ sumqx: Float, _ sumq2: Float, _ k: Int) {
                        if sumq2 > 0 && sumqx * sumqx > bestScore * sumq2 {
                            scale = sumqx / sumq2
                            bestScore = scale * sumqx
                            besti1 = i1
                            besti2 = i2
                            bestK = k
                        }
                    }
                    consider(qxP0 + qxP1, q2P0 + q2P1, 0)
                    consider(qxP0 + qxM1, q2P0 + q2M1, 1)
                    consider(qxM0 + qxP1, q2M0 + q2P1, 2)
                    consider(qxM0 + qxM1, q2M0 + q2M1, 3)
                }
            }
            if besti1 < 0 || besti2 < 0 || bestK < 0 {
                scales[ib] = 0
                shifts[ib] = 0
                L.initialize(repeating: 1, count: blockSize)
                continue
            }
            for j in 0..<besti1 { L[Int(s.order[j])] = 0 }
            for j in besti1..<besti2 { L[Int(s.order[j])] = 1 }
            for j in besti2..<blockSize { L[Int(s.order[j])] = 2 }
            if scale < 0 {
                for j in 0..<blockSize { L[j] = 2 - L[j] }
                scale = -scale
                bestK = 3 - bestK  // both groups' shifts flip: 0 ↔ 3, 1 ↔ 2
            }
            var allOnGrid = true
            for k in 0..<blockSize / 8 {
                let xx = levels(bestK, group: k)
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
                scale = iq1RefitScale(scale, blockSize: blockSize, index: index, weight: weight, xb) { levels(bestK, group: $0) }
            }
            storeByte(UInt8(truncatingIfNeeded: index[0]), yb, qsOffset + 2 * ib)
            storeByte(UInt8(truncatingIfNeeded: index[1]), yb, qsOffset + 2 * ib + 1)
            storeByte(UInt8(truncatingIfNeeded: (index[0] >> 8) | ((index[1] >> 8) << 4)), yb, qhOffset + ib)
            // ggml asserts scale >= 0 here (a NaN scale from non-finite sums aborts it).
            scales[ib] = scale
            shifts[ib] = Int8(bestK)
            maxScale = cMax(maxScale, scale)
        }

        if maxScale == 0 { return }

        var d = maxScale / 15
        let id = 1 / d
        var sumqx: Float = 0, sumq2: Float = 0
        for ib in 0..<QK_K / blockSize {
            let l = clamp(nearestInt(0.5 * (id * scales[ib + 0] - 1)), 0, 7)
            let word = scalesOffset + 2 * (ib / 4)
            storeUInt16(loadUInt16(yb, word) | UInt16(l << (3 * (ib % 4))), yb, word)
            let shift = Int(shifts[ib])
            let mask = shift == 0 ? masks.0 : shift == 1 ? masks.1 : shift == 2 ? masks.2 : masks.3
            let qh = loadByte(yb, qhOffset + ib) | mask
            storeByte(qh, yb, qhOffset + ib)
            let xb = xbl + blockSize * ib
            computeWeights(ib)
            for k in 0..<blockSize / 8 {
                let xx = levels(shift, group: k)
                let point = Int(loadByte(yb, qsOffset + 2 * ib + k)) + ((Int(qh) << (8 - 4 * k)) & 0x700)
                let pg = tables.point(point)
                for j in 0..<8 {
                    let w = weight[8 * k + j]
                    let q = iq1Level(xx, Int(pg[j] - 1) / 2) * Float(2 * l + 1)
                    sumqx += w * q * xb[8 * k + j]
                    sumq2 += w * q * q
                }
            }
        }
        if sumq2 > 0 { d = sumqx / sumq2 }
        let bits = HalfFloat.bits(from: d * 1.1125)  // 1.1125: ggml's second fudge factor
        @inline(__always) func merge(_ word: Int, _ part: UInt16) {
            storeUInt16(loadUInt16(yb, scalesOffset + 2 * word) | part, yb, scalesOffset + 2 * word)
        }
        merge(0, (bits & 0x000F) << 12)
        merge(1, (bits & 0x00F0) << 8)
        merge(2, (bits & 0x0F00) << 4)
        merge(3, bits & 0xF000)
    }
}
