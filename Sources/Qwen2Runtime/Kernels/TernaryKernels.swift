// The ternary types' visitors (see RowKernels.swift): TQ2_0's two-bit fields and TQ1_0's base-3 bytes decoded in
// 8-lane integer vectors, each value (t − 1) · d as `dequantize_row_tq*_0` computes it: t − 1 first (exact), then
// the product. Not t · d + (−d) as one fused multiply-add, which rounds the same product but gives +0 where
// ggml's 0 · d is −0 (a negative d).
//
// Performance note: these kernels widen bytes and convert integers with lane operators only, not with
// RowKernels.swift's `bytes8` and `SIMD8<Float>(_:)`. Those are the standard library's generic conversions; the
// release build (whole-module, one object file per source file) emits each specialization once, in
// RowKernels.swift's object file, where LLVM inlines it. From this file it stayed a call per eight values (seen
// with objdump: 16 calls in the TQ1_0 block loop, 10 in TQ2_0's). Shifts, masks, an integer multiply and the
// float subtraction below compile inline to AVX2 everywhere.

extension RowKernel {
    /// Eight bytes at `offset` in 32-bit lanes: two 32-bit loads broadcast over four lanes each, shifted and masked.
    @inline(__always)
    static func ternaryBytes8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<UInt32> {
        let lo = p.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
        let hi = p.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
        return (SIMD8<UInt32>(lo, lo, lo, lo, hi, hi, hi, hi) &>> SIMD8<UInt32>(0, 8, 16, 24, 0, 8, 16, 24)) & 0xFF
    }

    /// (t − 1) · d for lanes t in 0...3, exactly as `(float)(t - 1) * d`: t in the mantissa of 2^23 is 2^23 + t
    /// exactly, minus 2^23 + 1 is t − 1 exactly.
    @inline(__always)
    static func ternaryValue(_ t: SIMD8<UInt32>, _ d: SIMD8<Float>) -> SIMD8<Float> {
        (unsafeBitCast(t | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_609) * d
    }

    /// TQ2_0: 64 bytes of two-bit fields, d (f16) at byte 64. Byte 32h + m holds elements 128h + 32l + m in bits
    /// 2l, 2l + 1, so eight bytes give four vectors 32 elements apart.
    @inline(__always)
    static func visitTQ2_0(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        for i in 0..<(n / 256) {
            let b = row + 66 * i
            prefetchAhead(b)
            let d = SIMD8<Float>(repeating: half(b, 64))
            for h in 0..<2 {
                for c in 0..<4 {
                    let q = ternaryBytes8(b, 32 * h + 8 * c)
                    body(256 * i + 128 * h + 8 * c, 32,
                         ternaryValue(q & 3, d), ternaryValue((q &>> 2) & 3, d),
                         ternaryValue((q &>> 4) & 3, d), ternaryValue(q &>> 6, d))
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
    /// with the `qh` elements 240..<256, so every call is four vectors eight apart.
    @inline(__always)
    static func visitTQ1_0(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        @inline(__always) func trits(_ bytes: SIMD8<UInt32>, _ powers: SIMD8<UInt32>) -> SIMD8<UInt32> {
            (((bytes &* powers) & 0xFF) &* 3) &>> 8
        }
        for i in 0..<(n / 256) {
            let b = row + 54 * i
            prefetchAhead(b)
            let d = SIMD8<Float>(repeating: half(b, 52))
            @inline(__always) func value(_ bytes: SIMD8<UInt32>, _ power: UInt32) -> SIMD8<Float> {
                ternaryValue(trits(bytes, SIMD8(repeating: power)), d)
            }
            let base = 256 * i
            // elements 0..<160: trit k of bytes 8c ..< 8c + 8 is elements 32k + 8c ..< 32k + 8c + 8
            let q0 = ternaryBytes8(b, 0), q1 = ternaryBytes8(b, 8), q2 = ternaryBytes8(b, 16), q3 = ternaryBytes8(b, 24)
            var power: UInt32 = 1
            for k in 0..<5 {
                body(base + 32 * k, 8, value(q0, power), value(q1, power), value(q2, power), value(q3, power))
                power &*= 3
            }
            // elements 160..<224: trits 0...3 of bytes 32..<48, two trits per call
            let r0 = ternaryBytes8(b, 32), r1 = ternaryBytes8(b, 40)
            body(base + 160, 8, value(r0, 1), value(r1, 1), value(r0, 3), value(r1, 3))
            body(base + 192, 8, value(r0, 9), value(r1, 9), value(r0, 27), value(r1, 27))
            // elements 224..<240 (trit 4 of bytes 32..<48) and 240..<256: lane 4k' + j of the two qh vectors is
            // trit k' (0, 1 in the first, 2, 3 in the second) of qh byte j
            let h = b.loadUnaligned(fromByteOffset: 48, as: UInt32.self).littleEndian
            let qh = (SIMD8<UInt32>(repeating: h) &>> SIMD8<UInt32>(0, 8, 16, 24, 0, 8, 16, 24)) & 0xFF
            body(base + 224, 8, value(r0, 81), value(r1, 81),
                 ternaryValue(trits(qh, SIMD8<UInt32>(1, 1, 1, 1, 3, 3, 3, 3)), d),
                 ternaryValue(trits(qh, SIMD8<UInt32>(9, 9, 9, 9, 27, 27, 27, 27)), d))
        }
    }

    static let dotTQ1_0: Dot = { row, x, n in
        visitDot(x) { visitTQ1_0(row, n, $0) }
    }
}
