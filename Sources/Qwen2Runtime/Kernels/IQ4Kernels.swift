import Quantization

// IQ4_NL and IQ4_XS rows, fused as the other block types in RowKernels.swift: each 4-bit index q stands for
// kvalues_iq4nl[q], one of 16 irregular int8 values, so decoding is a table lookup per lane. Swift exposes no byte
// shuffle (pshufb), and its SIMD subscripts by an index vector compile to a store of the table and one scalar load
// and insert per lane; so the 16 values live in registers as four 32-bit words of four bytes each (`IQ4Lookup`):
// each lane picks its word with masks made from bits 2 and 3 of q and its byte with a variable shift (vpsllvd),
// then sign-extends it, about 15 vector instructions per eight weights and no memory access. The value is then
// d · q exactly as the dequantizer computes it (the int8 converted to float, one multiply): IQ4KernelTests checks
// the decode against it bit for bit.
//
// Performance notes (a standalone copy of these loops, haswell, one thread, a 896 × 4864 matrix in cache): IQ4_NL
// and IQ4_XS 1.4–1.5 G weights/s, Q4_0 3.9, Q4_K 3.9: the lookup, not memory, bounds them. Tried and dropped:
// SIMDMask selects (`replacing(with:where:)`), whose generic bodies made the loop large enough that the lookup was
// left as a call; nibbles by a broadcast and variable right shifts, which LLVM rewrote into compares and packs;
// RowKernel.bytes8's `SIMD8<Int32>(truncatingIfNeeded:)`, left as a call here (the zero-extending byte shuffle of
// `nibbles8` compiles to vpmovzxbd). The standard library's int-to-float conversion was inlined in the standalone
// copy but is outlined in some callers, so `exactFloats` does it with an add and a subtract.

/// `kvalues_iq4nl` held in registers and looked up per lane.
struct IQ4Lookup {
    /// `IQ4PackedValues.words`, each in all lanes: word k holds values 4k ..< 4k + 4, value 4k + j in byte 3 − j.
    let w0, w1, w2, w3: SIMD8<Int32>

    @inline(__always)
    init() {
        let w = IQ4PackedValues.words
        @inline(__always) func splat(_ v: UInt32) -> SIMD8<Int32> { SIMD8(repeating: Int32(bitPattern: v)) }
        (w0, w1, w2, w3) = (splat(w[0]), splat(w[1]), splat(w[2]), splat(w[3]))
    }

    /// kvalues_iq4nl[q & 15] for each lane, as floats (bits of q above the fourth are ignored).
    @inline(__always)
    func values(_ q: SIMD8<Int32>) -> SIMD8<Float> {
        let bit2 = (q &<< 29) &>> 31, bit3 = (q &<< 28) &>> 31  // all ones where bit 2 (bit 3) of q is set
        let low = w0 ^ ((w0 ^ w1) & bit2), high = w2 ^ ((w2 ^ w3) & bit2)  // word 0 or 1, word 2 or 3
        let word = low ^ ((low ^ high) & bit3)
        let shift = (q &<< 3) & 24  // 8 · (q % 4): value q to the top byte
        return Self.exactFloats((word &<< shift) &>> 24)
    }

    /// The floats of integer lanes |v| < 2^22, exactly: v added to the bits of 1.5·2^23 is the float 1.5·2^23 + v,
    /// and subtracting 1.5·2^23 is exact.
    @inline(__always)
    static func exactFloats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
        unsafeBitCast(v &+ 0x4B40_0000, to: SIMD8<Float>.self) - SIMD8<Float>(repeating: 12582912)
    }

    /// The nibbles of the eight bytes at `offset`: lane i of `low` holds byte i's low nibble in its bits 0–3, of
    /// `high` its high nibble (the bits above are not cleared: `values` ignores them). The bytes are widened by a
    /// constant byte shuffle (vpmovzxbd).
    @inline(__always)
    static func nibbles8(_ p: UnsafeRawPointer, _ offset: Int) -> (low: SIMD8<Int32>, high: SIMD8<Int32>) {
        let b = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt8>.self), z: UInt8 = 0
        let bytes = unsafeBitCast(SIMD32<UInt8>(
            b[0], z, z, z, b[1], z, z, z, b[2], z, z, z, b[3], z, z, z,
            b[4], z, z, z, b[5], z, z, z, b[6], z, z, z, b[7], z, z, z), to: SIMD8<Int32>.self)
        return (bytes, bytes &>> 4)
    }
}

extension RowKernel {
    /// IQ4_NL: d (f16), 16 bytes; element j = d · kvalues_iq4nl[low nibble of byte j], element j + 16 the same with
    /// the high nibble.
    @inline(__always)
    static func visitIQ4_NL(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let table = IQ4Lookup()
        for i in 0..<(n / 32) {
            let b = row + 18 * i
            prefetchAhead(b)
            let d = SIMD8<Float>(repeating: half(b, 0))
            let q0 = IQ4Lookup.nibbles8(b, 2), q1 = IQ4Lookup.nibbles8(b, 10)
            body(32 * i, 8, d * table.values(q0.low), d * table.values(q1.low),
                 d * table.values(q0.high), d * table.values(q1.high))
        }
    }

    /// IQ4_XS: d (f16), scales_h (16 bits: bits 2k, 2k + 1 are the high bits of sub-block k's scale), scales_l[4]
    /// (the low nibbles, sub-block 2k's first), 128 bytes; sub-block k of 32 has the scale dl = d · (ls − 32) and
    /// 16 bytes laid out as an IQ4_NL block.
    @inline(__always)
    static func visitIQ4_XS(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let table = IQ4Lookup()
        for i in 0..<(n / 256) {
            let b = row + 136 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            prefetchAhead(b + 128)
            let d = half(b, 0)
            let scalesH = UInt32(b.loadUnaligned(fromByteOffset: 2, as: UInt16.self).littleEndian)
            let scalesL = b.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
            for k in 0..<8 {
                let ls = ((scalesL >> (4 * UInt32(k))) & 0xF) | (((scalesH >> (2 * UInt32(k))) & 3) << 4)
                let dl = SIMD8<Float>(repeating: d * Float(Int32(ls) - 32))
                let q0 = IQ4Lookup.nibbles8(b, 8 + 16 * k), q1 = IQ4Lookup.nibbles8(b, 16 + 16 * k)
                body(256 * i + 32 * k, 8, dl * table.values(q0.low), dl * table.values(q1.low),
                     dl * table.values(q0.high), dl * table.values(q1.high))
            }
        }
    }

    static let dotIQ4_NL: Dot = { row, x, n in
        visitDot(x) { visitIQ4_NL(row, n, $0) }
    }

    static let dotIQ4_XS: Dot = { row, x, n in
        visitDot(x) { visitIQ4_XS(row, n, $0) }
    }
}
