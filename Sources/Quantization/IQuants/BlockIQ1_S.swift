import ModelFiles

/// IQ1_S: 256 weights in 50 bytes, `d: fp16 | qs[32] | qh[8 × uint16]`. Eight sub-blocks of 32, each four
/// 8-groups on ggml's 2048-point ternary grid (`IQ1Grid`): group k of sub-block ib takes grid point
/// `qs[4·ib + k] | ((qh[ib] >> 3k) & 7) << 8`. Bits 12–14 of `qh[ib]` are the sub-block's 3-bit scale s and bit 15
/// its shift's sign; weight = d · (2s + 1) · (value ± IQ1S_DELTA).
enum BlockIQ1_S {
    static let bytes = 50
    static let dOffset = 0, qsOffset = 2, qhOffset = 34

    /// ggml `dequantize_row_iq1_s`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            for ib in 0..<QK_K / 32 {
                let qh = loadUInt16(yb, qhOffset + 2 * ib)
                let dl = d * Float(2 * Int((qh >> 12) & 7) + 1)
                let delta = qh & 0x8000 != 0 ? -iq1Delta : iq1Delta
                for l in 0..<4 {
                    let index = Int(loadByte(yb, qsOffset + 4 * ib + l)) | Int((qh >> (3 * UInt16(l))) & 7) << 8
                    for j in 0..<8 {
                        out[j] = dl * (Float(IQ1Grid.value(index, j)) + delta)
                    }
                    out += 8
                }
            }
        }
    }
}
