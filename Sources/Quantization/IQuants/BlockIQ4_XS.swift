import ModelFiles

/// IQ4_XS: 256 weights in 136 bytes, `d: fp16 | scales_h: uint16 | scales_l[4] | qs[128]`. Eight sub-blocks of 32,
/// each with a 6-bit scale ls (low nibble in `scales_l[ib / 2]`, low nibble first; high bit pair at bits 2·ib of
/// `scales_h`); weight = d · (ls − 32) · kvalues_iq4nl[q]. Each sub-block's 16 bytes of `qs` hold its elements
/// j and j + 16 in the low and high nibble of byte j, as IQ4_NL.
enum BlockIQ4_XS: LaneWeightedQuantizer {
    static let format = BlockFormat(
        type: .iq4_XS, quantize: quantizeFast, reference: quantizeReference, weighted: quantizeWeightedFast,
        dequantize: dequantize)
    static let bytes = 136
    static let dOffset = 0, scalesHOffset = 2, scalesLOffset = 4, qsOffset = 8
    static let layout = IQ4Search.Layout(
        superBlock: QK_K, dOffset: dOffset, qsOffset: qsOffset, scalesHOffset: scalesHOffset, scalesLOffset: scalesLOffset)

    /// ggml `quantize_iq4_xs(src, dst, nrow, n_per_row, NULL)` (also `quantize_row_iq4_xs_ref`): the search with
    /// x² weights. Each super-block stands alone, so `blocks` blocks are one run.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        IQ4Search.quantizeRows(layout, bytes: bytes, x, y, rows: 1, rowLength: blocks * QK_K, importance: nil)
    }

    /// `quantizeReference` with the searches in SIMD lanes (IQ4SearchLanes.swift): the same bytes.
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        IQ4Search.quantizeRows(layout, bytes: bytes, x, y, rows: 1, rowLength: blocks * QK_K, importance: nil, lanes: true)
    }

    /// ggml `quantize_iq4_xs(src, dst, nrow, n_per_row, quant_weights)`, step by step; with `lanes`, the searches in
    /// SIMD lanes (IQ4SearchLanes.swift): the same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        IQ4Search.quantizeRows(
            layout, bytes: bytes, x, y, rows: rows, rowLength: rowLength, importance: importance, lanes: lanes)
    }

    /// Sub-block `ib`'s 6-bit scale, 0...63 (the stored value is ls − 32).
    @inline(__always)
    static func subBlockScale(_ ib: Int, _ yb: UnsafeRawPointer) -> Int {
        let low = Int(loadByte(yb, scalesLOffset + ib / 2) >> (4 * (ib % 2))) & 0xF
        let high = Int(loadUInt16(yb, scalesHOffset) >> (2 * ib)) & 3
        return low | (high << 4)
    }

    /// ggml `dequantize_row_iq4_xs`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        let values = IQ4Search.values
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            for ib in 0..<QK_K / 32 {
                let dl = d * Float(subBlockScale(ib, yb) - 32)
                let qs = qsOffset + 16 * ib
                for j in 0..<16 {
                    let q = loadByte(yb, qs + j)
                    out[j] = dl * values[Int(q & 0xF)]
                    out[j + 16] = dl * values[Int(q >> 4)]
                }
                out += 32
            }
        }
    }
}
