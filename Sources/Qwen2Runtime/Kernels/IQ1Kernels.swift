import Quantization

// IQ1_S and IQ1_M rows multiplied on their blocks: each 8-group's grid point (ggml's `iq1s_grid`, eight int8 values
// in {−1, 0, 1} packed in a UInt64) is read as one 64-bit load from the grid table and widened in SIMD lanes
// (vpmovsxbd, vcvtdq2ps); value = dl · (grid + delta), the dequantizer's two roundings in its order, so the decoded
// values are bit-equal to `dequantize_row_iq1_s`/`_iq1_m`.

extension RowKernel {
    /// Eight grid values of point `index` as floats plus `delta`, times `dl`.
    @inline(__always)
    static func iq1Group(_ grid: UnsafePointer<UInt64>, _ index: Int, _ dl: SIMD8<Float>, _ delta: SIMD8<Float>) -> SIMD8<Float> {
        let values = unsafeBitCast(grid[index].littleEndian, to: SIMD8<Int8>.self)
        return dl * (SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: values)) + delta)
    }

    /// IQ1_S: d (f16), qs[32], qh[8 × u16]; sub-block ib of 32 has scale d·(2·qh[ib] bits 12–14 + 1), shift −delta
    /// when bit 15 is set, and four groups whose grid index is qs[4ib + l] with bits 8–10 from qh[ib] bits 3l…3l+2.
    @inline(__always)
    static func visitIQ1_S(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let grid = IQ1Grid.points  // once per row: a static is read through swift_once
        for i in 0..<(n / 256) {
            let b = row + 50 * i
            prefetchAhead(b)
            let d = half(b, 0)
            for ib in 0..<8 {
                let qh = Int(b.loadUnaligned(fromByteOffset: 34 + 2 * ib, as: UInt16.self).littleEndian)
                let dl = SIMD8<Float>(repeating: d * Float(2 * ((qh >> 12) & 7) + 1))
                let delta = SIMD8<Float>(repeating: qh & 0x8000 != 0 ? -0.125 : 0.125)
                let qs = b + 2 + 4 * ib
                @inline(__always) func group(_ l: Int) -> SIMD8<Float> {
                    let index = Int(qs.load(fromByteOffset: l, as: UInt8.self)) | ((qh >> (3 * l)) & 7) << 8
                    return iq1Group(grid, index, dl, delta)
                }
                body(256 * i + 32 * ib, 8, group(0), group(1), group(2), group(3))
            }
        }
    }

    /// IQ1_M: qs[32], qh[16], scales[4 × u16] whose top nibbles hold the fp16 super-scale d; sub-block pair ib
    /// (32 values) has scales d·(2s + 1) from bits 6(ib % 2)… and 6(ib % 2) + 3… of word ib/2, and four groups
    /// whose index bits 8–10 and shift sign come from qh[2ib] (groups 0, 1) and qh[2ib + 1] (groups 2, 3).
    @inline(__always)
    static func visitIQ1_M(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let grid = IQ1Grid.points
        for i in 0..<(n / 256) {
            let b = row + 56 * i
            prefetchAhead(b)
            @inline(__always) func word(_ k: Int) -> Int { Int(b.loadUnaligned(fromByteOffset: 48 + 2 * k, as: UInt16.self).littleEndian) }
            let bits = UInt16(truncatingIfNeeded: (word(0) >> 12) | ((word(1) >> 8) & 0x00F0) | ((word(2) >> 4) & 0x0F00) | (word(3) & 0xF000))
            let d = withUnsafeBytes(of: bits.littleEndian) { half($0.baseAddress!, 0) }
            for ib in 0..<8 {
                let sc = word(ib / 2)
                let dl1 = SIMD8<Float>(repeating: d * Float(2 * ((sc >> (6 * (ib % 2))) & 7) + 1))
                let dl2 = SIMD8<Float>(repeating: d * Float(2 * ((sc >> (6 * (ib % 2) + 3)) & 7) + 1))
                let qh0 = Int(b.load(fromByteOffset: 32 + 2 * ib, as: UInt8.self))
                let qh1 = Int(b.load(fromByteOffset: 33 + 2 * ib, as: UInt8.self))
                let qs = b + 4 * ib
                @inline(__always) func group(_ l: Int, _ high: Int, _ minus: Bool, _ dl: SIMD8<Float>) -> SIMD8<Float> {
                    let index = Int(qs.load(fromByteOffset: l, as: UInt8.self)) | high
                    return iq1Group(grid, index, dl, SIMD8<Float>(repeating: minus ? -0.125 : 0.125))
                }
                body(256 * i + 32 * ib, 8,
                     group(0, (qh0 << 8) & 0x700, qh0 & 0x08 != 0, dl1), group(1, (qh0 << 4) & 0x700, qh0 & 0x80 != 0, dl1),
                     group(2, (qh1 << 8) & 0x700, qh1 & 0x08 != 0, dl2), group(3, (qh1 << 4) & 0x700, qh1 & 0x80 != 0, dl2))
            }
        }
    }

    static let dotIQ1_S: Dot = { row, x, n in
        visitDot(x) { visitIQ1_S(row, n, $0) }
    }

    static let dotIQ1_M: Dot = { row, x, n in
        visitDot(x) { visitIQ1_M(row, n, $0) }
    }
}
