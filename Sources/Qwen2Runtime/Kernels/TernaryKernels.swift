// The ternary types' visitors (see RowKernels.swift): TQ2_0's two-bit fields and TQ1_0's base-3 bytes decoded in
// 8-lane integer vectors, each value (t − 1) · d as `dequantize_row_tq*_0` computes it: t − 1 first (exact), then
// the product. Not t · d + (−d) as one fused multiply-add, which rounds the same product but gives +0 where
// ggml's 0 · d is −0 (a negative d).

extension RowKernel {
    /// TQ2_0: 64 bytes of two-bit fields, d (f16) at byte 64. Byte 32h + m holds elements 128h + 32l + m in bits
    /// 2l, 2l + 1, so eight bytes give four vectors 32 elements apart.
    @inline(__always)
    static func visitTQ2_0(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        for i in 0..<(n / 256) {
            let b = row + 66 * i
            prefetchAhead(b)
            let d = SIMD8<Float>(repeating: half(b, 64))
            @inline(__always) func value(_ q: SIMD8<Int32>) -> SIMD8<Float> { SIMD8<Float>(q &- 1) * d }
            for h in 0..<2 {
                for c in 0..<4 {
                    let q = bytes8(b, 32 * h + 8 * c)
                    body(256 * i + 128 * h + 8 * c, 32,
                         value(q & 3), value((q &>> 2) & 3), value((q &>> 4) & 3), value(q &>> 6))
                }
            }
        }
    }

    static let dotTQ2_0: Dot = { row, x, n in
        visitDot(x) { visitTQ2_0(row, n, $0) }
    }

    /// TQ1_0: 48 bytes of five trits, 4 bytes of four, d (f16) at byte 52. Trit k of a byte is
    /// ((byte · 3^k) mod 256) · 3 >> 8. Bytes 0..<32 give elements 32k + m, bytes 32..<48 give 160 + 16k + m, and
    /// the four `qh` bytes give 240 + 4k + j; the last call pairs trit 4 of bytes 32..<48 (elements 224..<240)
    /// with the `qh` elements 240..<256, so every call is four vectors eight apart or 32 apart.
    @inline(__always)
    static func visitTQ1_0(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        @inline(__always) func trits(_ bytes: SIMD8<Int32>, _ power: Int32) -> SIMD8<Int32> {
            (((bytes &* power) & 0xFF) &* 3) &>> 8
        }
        for i in 0..<(n / 256) {
            let b = row + 54 * i
            prefetchAhead(b)
            let d = SIMD8<Float>(repeating: half(b, 52))
            @inline(__always) func value(_ t: SIMD8<Int32>) -> SIMD8<Float> { SIMD8<Float>(t &- 1) * d }
            let base = 256 * i
            // elements 0..<160: vectors 8c ..< 8c + 8 of byte chunk c, trit k, at 32k + 8c
            let q0 = bytes8(b, 0), q1 = bytes8(b, 8), q2 = bytes8(b, 16), q3 = bytes8(b, 24)
            var power: Int32 = 1
            for k in 0..<5 {
                body(base + 32 * k, 8, value(trits(q0, power)), value(trits(q1, power)),
                     value(trits(q2, power)), value(trits(q3, power)))
                power &*= 3
            }
            // elements 160..<224: trits 0...3 of bytes 32..<48, two trits per call
            let r0 = bytes8(b, 32), r1 = bytes8(b, 40)
            body(base + 160, 8, value(trits(r0, 1)), value(trits(r1, 1)), value(trits(r0, 3)), value(trits(r1, 3)))
            body(base + 192, 8, value(trits(r0, 9)), value(trits(r1, 9)), value(trits(r0, 27)), value(trits(r1, 27)))
            // elements 224..<240 (trit 4 of bytes 32..<48) and 240..<256: lane 4k' + j of the qh vectors is trit
            // k' (0, 1 for the first vector, 2, 3 for the second) of qh byte j
            let qh = SIMD8<Int32>(truncatingIfNeeded: SIMD8<UInt8>(
                lowHalf: b.loadUnaligned(fromByteOffset: 48, as: SIMD4<UInt8>.self),
                highHalf: b.loadUnaligned(fromByteOffset: 48, as: SIMD4<UInt8>.self)))
            let powers01 = SIMD8<Int32>(1, 1, 1, 1, 3, 3, 3, 3), powers23 = SIMD8<Int32>(9, 9, 9, 9, 27, 27, 27, 27)
            body(base + 224, 8, value(trits(r0, 81)), value(trits(r1, 81)),
                 value((((qh &* powers01) & 0xFF) &* 3) &>> 8), value((((qh &* powers23) & 0xFF) &* 3) &>> 8))
        }
    }

    static let dotTQ1_0: Dot = { row, x, n in
        visitDot(x) { visitTQ1_0(row, n, $0) }
    }
}
