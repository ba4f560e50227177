// The scale search IQ4_NL and IQ4_XS share, ggml's `quantize_row_iq4_nl_impl` from ggml-quants.c: each 32-element
// sub-block is mapped onto the 16 non-linear values of `kvalues_iq4nl` (nearest value by `best_index_int8`) with a
// scale chosen among 2·ntry + 2 candidates by weighted least squares. IQ4_NL stores that scale as the block's fp16;
// IQ4_XS stores one fp16 super-block scale and a 6-bit signed multiple of it per sub-block, and maps every value
// again through the rounded sub-block scale. Loops and float32 operation order are ggml's.

/// ggml `quantize_row_iq4_nl_impl` and its helpers, for both 4-bit non-linear types.
enum IQ4Search {
    /// `kvalues_iq4nl` as floats (exact: small integers), the form every comparison and product in the search
    /// uses them in (C promotes the int8 to float there). Built once; a pointer, so lookups are unchecked.
    nonisolated(unsafe) static let values: UnsafePointer<Float> = {
        let t = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        for (i, v) in IQTables.kvaluesIQ4NL.enumerated() { t[i] = Float(v) }
        return UnsafePointer(t)
    }()

    /// The scale candidates tried each side of the first guess: `quantize_iq4_nl` and `quantize_iq4_xs` pass
    /// ntry = 7 with and without importance. (Only `quantize_row_iq4_nl_ref`, which ggml uses for activations and
    /// llama-quantize never calls, passes −1: no search, and no requantization with the final scale.)
    static let ntry = 7

    /// Elements per sub-block (ggml's `block_size`), each with its own scale in the search.
    static let subBlock = 32

    /// ggml `best_index_int8(16, kvalues_iq4nl, x)`: the index of the value nearest `x` (the upper of two at a
    /// tie), by bisection. NaN compares false everywhere and lands on 15, as in C.
    @inline(__always)
    static func bestIndex(_ x: Float) -> UInt8 {
        let val = values
        if x <= val[0] { return 0 }
        if x >= val[15] { return 15 }
        var ml = 0, mu = 15
        while mu - ml > 1 {
            let mav = (ml + mu) / 2
            if x < val[mav] { mu = mav } else { ml = mav }
        }
        return x - val[mu - 1] < val[mu] - x ? UInt8(mu - 1) : UInt8(mu)
    }

    /// Where a block type keeps what `quantizeSuperBlock` writes: the fp16 scale, the 4-bit indices, and (for more
    /// than one sub-block) the 16-bit field of the sub-block scales' high bit pairs and their low nibbles.
    struct Layout {
        let superBlock: Int
        let dOffset: Int
        let qsOffset: Int
        let scalesHOffset: Int
        let scalesLOffset: Int
    }

    /// ggml `quantize_row_iq4_nl_impl(layout.superBlock, 32, x, ..., kvalues_iq4nl, importance, 7)`: one super-block
    /// of `x` into the block at `y`. `importance` is the super-block's slice of the column weights, or nil.
    static func quantizeSuperBlock(
        _ layout: Layout, _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer,
        _ importance: UnsafePointer<Float>?, _ s: IQ4Scratch
    ) {
        let n = layout.superBlock
        var sigma2: Float = 0
        for j in 0..<n { sigma2 += x[j] * x[j] }
        sigma2 *= 2 / Float(n)
        for ib in 0..<n / subBlock {
            s.scales[ib] = searchScale(x + ib * subBlock, importance.map { $0 + ib * subBlock }, sigma2, s.weight)
        }
        requantizeAndPack(layout, x, y, s, lanes: false)
    }

    /// The search of one 32-element sub-block (the body of ggml's `for (int ib ...)` loop): its weights, then the
    /// scale among `−max / values[0]` refined by least squares and the candidates `(itry + values[0]) / max` that
    /// lowers the weighted error. An all but zero sub-block gets 0.
    static func searchScale(
        _ xb: UnsafePointer<Float>, _ qw: UnsafePointer<Float>?, _ sigma2: Float, _ weight: UnsafeMutablePointer<Float>
    ) -> Float {
        let values = self.values
        if let qw {
            for j in 0..<subBlock { weight[j] = qw[j] * (sigma2 + xb[j] * xb[j]).squareRoot() }
        } else {
            for j in 0..<subBlock { weight[j] = xb[j] * xb[j] }
        }
        var amax: Float = 0
        var max: Float = 0
        for j in 0..<subBlock {
            let ax = abs(xb[j])
            if ax > amax {
                amax = ax
                max = xb[j]
            }
        }
        if amax < groupMaxEpsilon { return 0 }
        // ggml also keeps these first indices; they are never read, as every index is recomputed at the end
        var d = -max / values[0]
        var id = 1 / d
        var sumqx: Float = 0
        var sumq2: Float = 0
        for j in 0..<subBlock {
            let al = id * xb[j]
            let q = values[Int(bestIndex(al))]
            let w = weight[j]
            sumqx += w * q * xb[j]
            sumq2 += w * q * q
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0
        var best = d * sumqx
        for itry in -ntry...ntry {
            id = (Float(itry) + values[0]) / max  // (itry + values[0]) is an int in C: exact either way
            sumqx = 0
            sumq2 = 0
            for j in 0..<subBlock {
                let al = id * xb[j]
                let q = values[Int(bestIndex(al))]
                let w = weight[j]
                sumqx += w * q * xb[j]
                sumq2 += w * q * q
            }
            if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
                d = sumqx / sumq2
                best = d * sumqx
            }
        }
        return d
    }

    /// The rest of ggml's `quantize_row_iq4_nl_impl` from the searched sub-block scales in `s.scales` on: for
    /// IQ4_XS the super-block scale (from the scale of largest magnitude, the first on ties), the 6-bit sub-block
    /// scales and the indices recomputed through them; for IQ4_NL the scale itself and the indices through it; then
    /// the nibbles. `lanes` finds the indices eight at a time with `bestIndexLanes` (the same indices).
    static func requantizeAndPack(
        _ layout: Layout, _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ s: IQ4Scratch, lanes: Bool
    ) {
        let n = layout.superBlock
        let (L, scales) = (s.L, s.scales)
        @inline(__always) func indices(_ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>, _ id: Float) {
            if lanes {
                for j in stride(from: 0, to: subBlock, by: 8) {
                    let xj = UnsafeRawPointer(x + j).loadUnaligned(as: FloatLanes.self)
                    let l = SIMD8<UInt8>(truncatingIfNeeded: bestIndexLanes(FloatLanes(repeating: id) * xj))
                    UnsafeMutableRawPointer(L + j).storeBytes(of: l, as: SIMD8<UInt8>.self)
                }
            } else {
                for j in 0..<subBlock { L[j] = bestIndex(id * x[j]) }
            }
        }

        if n / subBlock > 1 {
            var maxScale: Float = 0
            var amaxScale: Float = 0
            for ib in 0..<n / subBlock {
                let absD = abs(scales[ib])
                if absD > amaxScale {
                    amaxScale = absD
                    maxScale = scales[ib]
                }
            }
            storeUInt16(0, y, layout.scalesHOffset)  // ((nb + 7) / 8) fields: one for 8 sub-blocks
            let d = -maxScale / 32
            storeHalf(d, y, layout.dOffset)
            let id: Float = d != 0 ? 1 / d : 0
            for ib in 0..<n / subBlock {
                var l = clamp(nearestInt(id * scales[ib]), -32, 31)
                let dl = d * Float(l)
                let idl: Float = dl != 0 ? 1 / dl : 0
                indices(x + ib * subBlock, L + ib * subBlock, idl)
                l += 32
                let lLow = UInt8(l & 0xF)
                let lHigh = UInt16(l >> 4)
                let lowOffset = layout.scalesLOffset + ib / 2
                storeByte(ib % 2 == 0 ? lLow : loadByte(y, lowOffset) | (lLow << 4), y, lowOffset)
                let highOffset = layout.scalesHOffset + 2 * (ib / 8)
                storeUInt16(loadUInt16(y, highOffset) | (lHigh << (2 * (ib % 8))), y, highOffset)
            }
        } else {
            storeHalf(scales[0], y, layout.dOffset)
            let id: Float = scales[0] != 0 ? 1 / scales[0] : 0
            indices(x, L, id)
        }

        for i in 0..<n / 32 {
            for j in 0..<16 {
                storeByte(L[32 * i + j] | (L[32 * i + 16 + j] << 4), y, layout.qsOffset + 16 * i + j)
            }
        }
    }

    /// ggml `quantize_iq4_nl` / `quantize_iq4_xs`: `rows` rows of `rowLength` floats, super-block by super-block,
    /// with the importance slice of each super-block's columns (or none). `lanes` runs the searches eight
    /// sub-blocks at a time (IQ4SearchLanes.swift; the same bytes).
    static func quantizeRows(
        _ layout: Layout, bytes: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, rows: Int,
        rowLength: Int, importance: UnsafePointer<Float>?, lanes: Bool = false
    ) {
        let blocksPerRow = rowLength / layout.superBlock
        withIQ4Scratch { scratch in
            for row in 0..<rows {
                var ibl = 0
                if lanes {
                    let step = QK_K / layout.superBlock  // blocks per lane search: 8 IQ4_NL blocks, 1 IQ4_XS
                    while ibl + step <= blocksPerRow {
                        let block = row * blocksPerRow + ibl
                        quantizeLanes(
                            layout, bytes: bytes, x + block * layout.superBlock, y + block * bytes,
                            importance.map { $0 + ibl * layout.superBlock }, scratch)
                        ibl += step
                    }
                }
                while ibl < blocksPerRow {
                    let block = row * blocksPerRow + ibl
                    quantizeSuperBlock(
                        layout, x + block * layout.superBlock, y + block * bytes,
                        importance.map { $0 + ibl * layout.superBlock }, scratch)
                    ibl += 1
                }
            }
        }
    }
}

/// The search's scratch, on the stack for a whole call (nothing per block).
struct IQ4Scratch {
    let L: UnsafeMutablePointer<UInt8>        // [256] indices of the super-block
    let weight: UnsafeMutablePointer<Float>   // [32] weights of one sub-block
    let scales: UnsafeMutablePointer<Float>   // [8] the searched scale of each sub-block
    let xt: UnsafeMutablePointer<FloatLanes>  // [32] the lane searches' values: lane k of xt[j] is element j of group k
    let wt: UnsafeMutablePointer<FloatLanes>  // [32] and their weights
}

func withIQ4Scratch(_ body: (IQ4Scratch) -> Void) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: QK_K) { indices in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: IQ4Search.subBlock + QK_K / IQ4Search.subBlock) { floats in
            withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 2 * IQ4Search.subBlock) { lanes in
                let weight = floats.baseAddress!
                body(IQ4Scratch(
                    L: indices.baseAddress!, weight: weight, scales: weight + IQ4Search.subBlock,
                    xt: lanes.baseAddress!, wt: lanes.baseAddress! + IQ4Search.subBlock))
            }
        }
    }
}

/// `kvalues_iq4nl` for the runtime's fused IQ4_NL and IQ4_XS kernels, which look values up in registers: packed
/// four to a word, value 4k + j (as its int8 bits) in byte 3 − j of word k, so that shifting word k left by 8·j
/// brings value 4k + j to the top byte.
public enum IQ4PackedValues {
    /// `kvalues_iq4nl` as two little-endian words of bytes: value i in byte i % 8 of word i / 8 (for a byte-shuffle
    /// lookup).
    public static let littleEndianHalves: (UInt64, UInt64) = {
        var h: (UInt64, UInt64) = (0, 0)
        for (i, v) in IQTables.kvaluesIQ4NL.enumerated() {
            let byte = UInt64(UInt8(bitPattern: v)) << (8 * UInt64(i % 8))
            if i < 8 { h.0 |= byte } else { h.1 |= byte }
        }
        return h
    }()

    public static let words: SIMD4<UInt32> = {
        var w = SIMD4<UInt32>()
        for (i, v) in IQTables.kvaluesIQ4NL.enumerated() {
            w[i / 4] |= UInt32(UInt8(bitPattern: v)) << (8 * (3 - i % 4))
        }
        return w
    }()
}
