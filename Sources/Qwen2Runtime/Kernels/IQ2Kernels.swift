import Quantization

// Fused row kernels for IQ2_XXS, IQ2_XS and IQ2_S, in RowKernels.swift's visitor style: each 32-element sub-block
// becomes four SIMD8 vectors of ggml's dequantized values. An 8-group's values are its grid point's eight values
// (one 32-byte load from IQ2KernelTables' float grids: loading the 8-byte grid word and widening it compiled to
// two calls per group, the generic SIMD conversions not inlined) times the group scale, with the sign bits xored
// into the products: ggml multiplies by ±1, which changes only the sign, so the values are the dequantizer's bit
// for bit (NaN scales aside, whose sign the multiplication keeps).
// The sign byte of IQ2_XXS and IQ2_XS is ksigns_iq2xs of a 7-bit index (the index plus an even-parity top bit),
// read from the table as ggml does.

extension RowKernel {
    /// `scale ·` grid point `index` (eight floats from IQ2KernelTables) with lane i negated where bit i of `signs` is
    /// set (ggml's `grid[j] * (signs & kmask[j] ? -1 : 1)`).
    @inline(__always)
    static func signedGroup(
        _ scale: SIMD8<Float>, _ grid: UnsafePointer<Float>, _ index: Int, _ signs: UInt8, _ toSignBit: SIMD8<UInt32>
    ) -> SIMD8<Float> {
        let product = scale * load8(grid, 8 * index)
        let flip = (SIMD8<UInt32>(repeating: UInt32(signs)) &<< toSignBit) & 0x8000_0000
        return unsafeBitCast(unsafeBitCast(product, to: SIMD8<UInt32>.self) ^ flip, to: SIMD8<Float>.self)
    }

    /// Shift counts that move bit i of a byte to bit 31, lane i. A local in each visitor: a static constant is
    /// read through swift_once on every use.
    @inline(__always)
    static func signShifts() -> SIMD8<UInt32> { SIMD8<UInt32>(31, 30, 29, 28, 27, 26, 25, 24) }

    /// IQ2_XXS: d (f16), then per sub-block of 32 two uint32 words: four grid indices (bytes of the first), four
    /// 7-bit sign indices and the 4-bit scale s (the second); value = d·(0.5 + s)·0.25 · grid · sign.
    @inline(__always)
    static func visitIQ2_XXS(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let grid = IQ2KernelTables.iq2xxsGrid, ksigns = IQ2KernelTables.ksignsIQ2XS, shifts = signShifts()
        for i in 0..<(n / 256) {
            let b = row + 66 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            let d = half(b, 0)
            for ib in 0..<8 {
                let aux0 = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2 + 8 * ib, as: UInt32.self))
                let aux1 = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 6 + 8 * ib, as: UInt32.self))
                let db = SIMD8<Float>(repeating: d * (0.5 + Float(aux1 >> 28)) * 0.25)
                @inline(__always) func group(_ l: UInt32) -> SIMD8<Float> {
                    signedGroup(db, grid, Int((aux0 >> (8 * l)) & 0xFF), ksigns[Int((aux1 >> (7 * l)) & 127)], shifts)
                }
                body(256 * i + 32 * ib, 8, group(0), group(1), group(2), group(3))
            }
        }
    }

    /// IQ2_XS: d (f16), 32 uint16 (9-bit grid index, 7-bit sign index), 8 bytes of two 4-bit scales; groups 0–1 of
    /// a sub-block of 32 take the low nibble's scale, groups 2–3 the high one's.
    @inline(__always)
    static func visitIQ2_XS(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let grid = IQ2KernelTables.iq2xsGrid, ksigns = IQ2KernelTables.ksignsIQ2XS, shifts = signShifts()
        for i in 0..<(n / 256) {
            let b = row + 74 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            let d = half(b, 0)
            for ib in 0..<8 {
                let sc = b.load(fromByteOffset: 66 + ib, as: UInt8.self)
                let db0 = SIMD8<Float>(repeating: d * (0.5 + Float(sc & 0xF)) * 0.25)
                let db1 = SIMD8<Float>(repeating: d * (0.5 + Float(sc >> 4)) * 0.25)
                @inline(__always) func group(_ l: Int, _ db: SIMD8<Float>) -> SIMD8<Float> {
                    let q = UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2 + 8 * ib + 2 * l, as: UInt16.self))
                    return signedGroup(db, grid, Int(q & 511), ksigns[Int(q >> 9)], shifts)
                }
                body(256 * i + 32 * ib, 8, group(0, db0), group(1, db0), group(2, db1), group(3, db1))
            }
        }
    }

    /// IQ2_S: d (f16), 32 low grid-index bytes, 32 sign bytes, 8 bytes of high index bits (two per group), 8 bytes
    /// of two 4-bit scales, as IQ2_XS's.
    @inline(__always)
    static func visitIQ2_S(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let grid = IQ2KernelTables.iq2sGrid, shifts = signShifts()
        for i in 0..<(n / 256) {
            let b = row + 82 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            let d = half(b, 0)
            for ib in 0..<8 {
                let sc = b.load(fromByteOffset: 74 + ib, as: UInt8.self)
                let qh = Int(b.load(fromByteOffset: 66 + ib, as: UInt8.self))
                let db0 = SIMD8<Float>(repeating: d * (0.5 + Float(sc & 0xF)) * 0.25)
                let db1 = SIMD8<Float>(repeating: d * (0.5 + Float(sc >> 4)) * 0.25)
                @inline(__always) func group(_ l: Int, _ db: SIMD8<Float>) -> SIMD8<Float> {
                    let index = Int(b.load(fromByteOffset: 2 + 4 * ib + l, as: UInt8.self)) | (qh << (8 - 2 * l) & 0x300)
                    return signedGroup(db, grid, index, b.load(fromByteOffset: 34 + 4 * ib + l, as: UInt8.self), shifts)
                }
                body(256 * i + 32 * ib, 8, group(0, db0), group(1, db0), group(2, db1), group(3, db1))
            }
        }
    }

    static let dotIQ2_XXS: Dot = { row, x, n in visitDot(x) { visitIQ2_XXS(row, n, $0) } }
    static let dotIQ2_XS: Dot = { row, x, n in visitDot(x) { visitIQ2_XS(row, n, $0) } }
    static let dotIQ2_S: Dot = { row, x, n in visitDot(x) { visitIQ2_S(row, n, $0) } }
    static let decodeIQ2_XXS: Decode = { row, out, n in visitDecode(out) { visitIQ2_XXS(row, n, $0) } }
    static let decodeIQ2_XS: Decode = { row, out, n in visitDecode(out) { visitIQ2_XS(row, n, $0) } }
    static let decodeIQ2_S: Decode = { row, out, n in visitDecode(out) { visitIQ2_S(row, n, $0) } }
}
