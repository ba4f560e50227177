import Quantization

// IQ4_NL and IQ4_XS rows, fused as the other block types in RowKernels.swift: each 4-bit index q stands for
// kvalues_iq4nl[q], one of 16 irregular int8 values, so decoding is a table lookup per lane. Swift exposes no byte
// shuffle (pshufb), and its SIMD subscripts by an index vector compile to a store of the table and one scalar load
// and insert per lane; so the 16 values live in registers as four 32-bit words of four bytes each (`IQ4Lookup`),
// and each lane picks its word with two masks made from bits 2 and 3 of q and its byte with a variable shift
// (vpsllvd), then sign-extends it: about 15 vector instructions per eight weights, no memory access. The value
// is then d · q exactly as the dequantizer computes it (the int8 converted to float, one multiply).

/// `kvalues_iq4nl` held in registers and looked up per lane.
struct IQ4Lookup {
    /// Words 0 and 2 of the packed table, and the differences (xor) of words 0 and 1 and of words 2 and 3.
    let w0, w01, w2, w23: SIMD8<Int32>

    @inline(__always)
    init() {
        let w = IQ4PackedValues.words
        @inline(__always) func splat(_ v: UInt32) -> SIMD8<Int32> { SIMD8(repeating: Int32(bitPattern: v)) }
        (w0, w01, w2, w23) = (splat(w[0]), splat(w[0] ^ w[1]), splat(w[2]), splat(w[2] ^ w[3]))
    }

    /// kvalues_iq4nl[q] for each lane's q in 0...15, as floats.
    @inline(__always)
    func values(_ q: SIMD8<Int32>) -> SIMD8<Float> {
        let bit2 = (q &<< 29) &>> 31, bit3 = (q &<< 28) &>> 31  // all ones where the bit is set
        let low = w0 ^ (w01 & bit2), high = w2 ^ (w23 & bit2)   // word 0 or 1, word 2 or 3, by bit 2
        let word = low ^ ((low ^ high) & bit3)                  // word q / 4
        return SIMD8<Float>((word &<< ((~q & 3) &<< 3)) &>> 24) // byte q % 4 to the top, then sign-extended down
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
            let q0 = bytes8(b, 2), q1 = bytes8(b, 10)
            body(32 * i, 8, d * table.values(q0 & 0xF), d * table.values(q1 & 0xF),
                 d * table.values(q0 &>> 4), d * table.values(q1 &>> 4))
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
                let q0 = bytes8(b, 8 + 16 * k), q1 = bytes8(b, 16 + 16 * k)
                body(256 * i + 32 * k, 8, dl * table.values(q0 & 0xF), dl * table.values(q1 & 0xF),
                     dl * table.values(q0 &>> 4), dl * table.values(q1 &>> 4))
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
