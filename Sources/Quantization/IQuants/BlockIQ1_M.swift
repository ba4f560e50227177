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
