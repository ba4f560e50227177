import ModelFiles

/// IQ4_NL: 32 weights in 18 bytes, `d: fp16 | qs[16]`; weight = d · kvalues_iq4nl[q] with q in 0...15, the 16
/// non-linear values (−127 ... 113) denser near zero. Byte j of `qs` holds element j in its low nibble and element
/// j + 16 in its high nibble, as Q4_0. llama-quantize also uses it for any IQ tensor whose rows are not whole
/// 256-element super-blocks.
enum BlockIQ4_NL: LaneWeightedQuantizer {
    static let format = BlockFormat(
        type: .iq4_NL, quantize: quantizeFast, reference: quantizeReference, weighted: quantizeWeightedFast,
        dequantize: dequantize)
    static let qk = 32
    static let bytes = 18
    static let layout = IQ4Search.Layout(superBlock: qk, dOffset: 0, qsOffset: 2, scalesHOffset: 0, scalesLOffset: 0)

    /// ggml `quantize_iq4_nl(src, dst, nrow, n_per_row, NULL)`: the search with x² weights. Each block stands
    /// alone, so `blocks` blocks are one run.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        IQ4Search.quantizeRows(layout, bytes: bytes, x, y, rows: 1, rowLength: blocks * qk, importance: nil)
    }

    /// `quantizeReference` with the searches in SIMD lanes (IQ4SearchLanes.swift): the same bytes.
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        IQ4Search.quantizeRows(layout, bytes: bytes, x, y, rows: 1, rowLength: blocks * qk, importance: nil, lanes: true)
    }

    /// ggml `quantize_iq4_nl(src, dst, nrow, n_per_row, quant_weights)`, step by step; with `lanes`, the searches in
    /// SIMD lanes (IQ4SearchLanes.swift): the same bytes.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        IQ4Search.quantizeRows(
            layout, bytes: bytes, x, y, rows: rows, rowLength: rowLength, importance: importance, lanes: lanes)
    }

    /// ggml `dequantize_row_iq4_nl`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        let values = IQ4Search.values
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            for j in 0..<qk / 2 {
                let q = loadByte(yb, 2 + j)
                xb[j] = d * values[Int(q & 0xF)]
                xb[j + qk / 2] = d * values[Int(q >> 4)]
            }
        }
    }
}
