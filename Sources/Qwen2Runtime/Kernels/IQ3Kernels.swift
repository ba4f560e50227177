import Quantization

// Fused kernels for the 3-bit IQ types, in the visitor style of RowKernels.swift. Each eight weights come from two
// grid entries (four byte magnitudes each) and one byte of signs: the entries' bytes widened to float lanes, times
// the group scale, with the sign bits XORed into the products' sign bits (ggml's dequantizer multiplies by ±1,
// which is the same for every non-NaN value). The grids are read through IQ3DecodeGrids' process-lifetime
// pointers, loaded once per row (a static read in the loop would go through swift_once every time).

extension RowKernel {
    /// Eight weights: `db` × the bytes of grid entries `g1` (elements 0...3) and `g2` (4...7), negated where bit j
    /// of `signs` is set. `shifts` is (0, 8, 16, 24, 0, 8, 16, 24), `lanes` (0, 1, ..., 7). The bytes become
    /// floats without SIMD conversions (which LLVM outlined here, a call per eight weights): a byte b placed in the
    /// low mantissa bits of 2^23 is the float 2^23 + b, and subtracting 2^23 leaves b exactly.
    @inline(__always)
    static func iq3Eight(_ g1: UInt32, _ g2: UInt32, _ signs: UInt8, _ db: SIMD8<Float>,
                         _ shifts: SIMD8<UInt32>, _ lanes: SIMD8<UInt32>) -> SIMD8<Float> {
        let words = SIMD8<UInt32>(lowHalf: SIMD4(repeating: g1), highHalf: SIMD4(repeating: g2))
        let magnitudes = unsafeBitCast(((words &>> shifts) & 0xFF) | 0x4B00_0000, to: SIMD8<Float>.self) - 0x1p23
        let values = db * magnitudes
        let signBits = ((SIMD8<UInt32>(repeating: UInt32(signs)) &>> lanes) & 1) &<< 31
        return unsafeBitCast(unsafeBitCast(values, to: SIMD8<UInt32>.self) ^ signBits, to: SIMD8<Float>.self)
    }

    /// IQ3_S: d (f16), qs[64], qh[8], signs[32], scales[4]; group ib of 32 has scale d · (1 + 2 · nibble ib % 2
    /// of scales[ib / 2]), grid indices qs[8ib + k] | (bit k of qh[ib]) << 8 into `iq3s_grid`, and sign bytes
    /// signs[4ib ..< 4ib + 4] (as ggml's `dequantize_row_iq3_s`).
    @inline(__always)
    static func visitIQ3_S(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let grid = IQ3DecodeGrids.s
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7), shifts = SIMD8<UInt32>(0, 8, 16, 24, 0, 8, 16, 24)
        for i in 0..<(n / 256) {
            let b = row + 110 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            let d = half(b, 0)
            for ib in 0..<8 {
                let scaleByte = b.load(fromByteOffset: 106 + ib / 2, as: UInt8.self)
                let nibble = ib % 2 == 0 ? scaleByte & 0xF : scaleByte >> 4
                let db = SIMD8<Float>(repeating: d * Float(1 + 2 * Int32(nibble)))
                let qh = Int(b.load(fromByteOffset: 66 + ib, as: UInt8.self))
                let qs = b + 2 + 8 * ib, signs = b + 74 + 4 * ib
                @inline(__always) func eight(_ l: Int) -> SIMD8<Float> {
                    let i1 = Int(qs.load(fromByteOffset: 2 * l, as: UInt8.self)) | ((qh << (8 - 2 * l)) & 256)
                    let i2 = Int(qs.load(fromByteOffset: 2 * l + 1, as: UInt8.self)) | ((qh << (7 - 2 * l)) & 256)
                    return iq3Eight(grid[i1], grid[i2], signs.load(fromByteOffset: l, as: UInt8.self), db, shifts, lanes)
                }
                body(256 * i + 32 * ib, 8, eight(0), eight(1), eight(2), eight(3))
            }
        }
    }

    /// IQ3_XXS: d (f16), qs[64], then per group ib a little-endian uint32 whose top four bits s give the scale
    /// d · (0.5 + s) · 0.5 and whose 7-bit fields give the signs of eight weights each, the eighth sign the parity of
    /// the seven (ggml's `ksigns_iq2xs`); grid indices qs[8ib + k] into `iq3xxs_grid`.
    @inline(__always)
    static func visitIQ3_XXS(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let grid = IQ3DecodeGrids.xxs
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7), shifts = SIMD8<UInt32>(0, 8, 16, 24, 0, 8, 16, 24)
        for i in 0..<(n / 256) {
            let b = row + 98 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            let d = half(b, 0)
            for ib in 0..<8 {
                let aux32 = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 66 + 4 * ib, as: UInt32.self))
                let db = SIMD8<Float>(repeating: d * (0.5 + Float(aux32 >> 28)) * 0.5)
                let qs = b + 2 + 8 * ib
                @inline(__always) func eight(_ l: Int) -> SIMD8<Float> {
                    let seven = UInt8(truncatingIfNeeded: (aux32 >> UInt32(7 * l)) & 127)
                    let signs = seven | UInt8(seven.nonzeroBitCount & 1) << 7
                    let g1 = grid[Int(qs.load(fromByteOffset: 2 * l, as: UInt8.self))]
                    let g2 = grid[Int(qs.load(fromByteOffset: 2 * l + 1, as: UInt8.self))]
                    return iq3Eight(g1, g2, signs, db, shifts, lanes)
                }
                body(256 * i + 32 * ib, 8, eight(0), eight(1), eight(2), eight(3))
            }
        }
    }

    static let dotIQ3_S: Dot = { row, x, n in
        visitDot(x) { visitIQ3_S(row, n, $0) }
    }

    static let dotIQ3_XXS: Dot = { row, x, n in
        visitDot(x) { visitIQ3_XXS(row, n, $0) }
    }
}
