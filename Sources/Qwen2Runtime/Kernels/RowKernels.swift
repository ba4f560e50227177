import CPrefetch
import CRuntimeKernels
import ModelFiles
import Quantization

// Dot products of one stored weight row with a float32 vector, on the stored bytes directly: each block's values
// are rebuilt in SIMD registers exactly as ggml's `dequantize_row_*` computes them (scale × quant, minus the
// block minimum) and multiplied into float32 accumulators; nothing is dequantized to memory. Types without a fused
// kernel here decode the row with the Quantization library's dequantizer into a per-thread scratch row first.
//
// Performance notes (Qwen2-0.5B shapes, 2 threads, `-target-cpu haswell`): generation reads every weight once per
// token, so these loops are bound by how many bytes per weight they stream; the fused kernels keep Q8_0 at ~1.06
// bytes per weight instead of the 4 a decoded float row would take, and the conversions (vpmovsxbd, vcvtdq2ps,
// vcvtph2ps) ride alongside the loads. The reference for each kernel is "dequantize the row, then VectorMath.dot";
// RuntimeKernelTests checks every fused kernel against it.

/// How far ahead of the bytes being multiplied the kernels prefetch (see CPrefetch's header for the measurements).
@inline(__always)
func prefetchAhead(_ p: UnsafeRawPointer) { qwenkit_prefetch(p + 2048) }

extension SIMD8 where Scalar == Float {
    /// self·a + b with one rounding (a fused multiply-add).
    @inline(__always)
    func addingProduct_(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { b.addingProduct(self, a) }
}

/// How rows of one storage type are multiplied and decoded.
struct RowKernel: Sendable {
    typealias Dot = @Sendable (_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float
    typealias Decode = @Sendable (_ row: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ n: Int) -> Void
    /// y[r] = row r · x for r < count, row r at base + r × rowBytes.
    typealias Rows = @Sendable (_ base: UnsafeRawPointer, _ rowBytes: Int, _ count: Int, _ x: UnsafePointer<Float>, _ n: Int,
                                _ y: UnsafeMutablePointer<Float>) -> Void

    /// A fused dot product of a row's bytes with x over `n` elements; nil when the row is decoded first.
    let dot: Dot?
    /// Writes a row's `n` values as floats.
    let decode: Decode
    /// The AVX-512 dot product of one row (CRuntimeKernels), for the types that have one: what `wideRows` gives row by
    /// row (WideKernelTests compare them bit for bit); every type with it has `wideRows`, which generation calls.
    var wideDot: Dot? = nil
    /// The AVX-512 kernel for a range of rows, the same floats as wideDot row by row (generation's matrix products, in
    /// sessions that choose the AVX-512 kernels: it adds the rows' partial sums 16 rows at a time, see dot_avx512.c).
    var wideRows: Rows? = nil
    /// The AVX-512 decoder, for the types whose portable decoder is a lookup per weight (the IQ4 tables) or eight
    /// lanes of unpacking (Q6_K).
    var wideDecode: Decode? = nil
    /// The AVX2 kernel for a range of rows (dot_avx2.c), for the types whose portable dot product is far from the read
    /// speed on AVX2 CPUs: generation's matrix products in sessions that choose the AVX2 kernels.
    var avx2Rows: Rows? = nil

    /// The kernels for `type`, or nil when the runtime cannot read that type. Each is its own small function: one
    /// function switching over the types' inlined decoders got its SIMD conversions outlined (a call per eight
    /// values, a fifth of the prompt's time).
    static func forType(_ type: GGMLType) -> RowKernel? {
        switch type {
        case .f32: return RowKernel(dot: dotF32, decode: decodeF32)
        case .f16: return RowKernel(dot: dotF16, decode: decodeF16, wideDot: { row, x, n in qwenkit_dot_f16_avx512(row, x, n) },
                                    wideRows: { qwenkit_rows_f16_avx512($0, $1, $2, $3, $4, $5) })
        case .bf16: return RowKernel(dot: dotBF16, decode: decodeBF16, wideDot: { row, x, n in qwenkit_dot_bf16_avx512(row, x, n) },
                                     wideRows: { qwenkit_rows_bf16_avx512($0, $1, $2, $3, $4, $5) })
        case .q8_0: return RowKernel(dot: dotQ8_0, decode: { row, out, n in visitDecode(out) { visitQ8_0(row, n, $0) } },
                                     wideDot: { row, x, n in qwenkit_dot_q8_0_avx512(row, x, n) },
                                     wideRows: { qwenkit_rows_q8_0_avx512($0, $1, $2, $3, $4, $5) })
        case .q4_0: return RowKernel(dot: dotQ4_0, decode: { row, out, n in visitDecode(out) { visitQ4_0(row, n, $0) } },
                                     wideDot: { row, x, n in qwenkit_dot_q4_0_avx512(row, x, n) },
                                     wideRows: { qwenkit_rows_q4_0_avx512($0, $1, $2, $3, $4, $5) })
        case .q5_0: return RowKernel(dot: dotQ5_0, decode: { row, out, n in visitDecode(out) { visitQ5_0(row, n, $0) } },
                                     wideDot: { row, x, n in qwenkit_dot_q5_0_avx512(row, x, n) },
                                     wideRows: { qwenkit_rows_q5_0_avx512($0, $1, $2, $3, $4, $5) },
                                     avx2Rows: { qwenkit_rows_q5_0_avx2($0, $1, $2, $3, $4, $5) })
        case .q4_K: return RowKernel(dot: dotQ4_K, decode: { row, out, n in visitDecode(out) { visitQ4_K(row, n, $0) } },
                                     wideDot: { row, x, n in qwenkit_dot_q4_K_avx512(row, x, n) },
                                     wideRows: { qwenkit_rows_q4_K_avx512($0, $1, $2, $3, $4, $5) },
                                     avx2Rows: { qwenkit_rows_q4_K_avx2($0, $1, $2, $3, $4, $5) })
        case .q6_K: return RowKernel(dot: dotQ6_K, decode: { row, out, n in visitDecode(out) { visitQ6_K(row, n, $0) } },
                                     wideDot: { row, x, n in qwenkit_dot_q6_K_avx512(row, x, n) },
                                     wideRows: { qwenkit_rows_q6_K_avx512($0, $1, $2, $3, $4, $5) },
                                     wideDecode: { row, out, n in qwenkit_decode_q6_K_avx512(row, out, n) },
                                     avx2Rows: { qwenkit_rows_q6_K_avx2($0, $1, $2, $3, $4, $5) })
        case .iq1_S: return RowKernel(dot: dotIQ1_S, decode: { row, out, n in visitDecode(out) { visitIQ1_S(row, n, $0) } })
        case .iq1_M: return RowKernel(dot: dotIQ1_M, decode: { row, out, n in visitDecode(out) { visitIQ1_M(row, n, $0) } })
        case .tq1_0: return RowKernel(dot: dotTQ1_0, decode: { row, out, n in visitDecode(out) { visitTQ1_0(row, n, $0) } })
        case .tq2_0: return RowKernel(dot: dotTQ2_0, decode: { row, out, n in visitDecode(out) { visitTQ2_0(row, n, $0) } })
        case .iq3_S: return RowKernel(dot: dotIQ3_S, decode: { row, out, n in visitDecode(out) { visitIQ3_S(row, n, $0) } })
        case .iq3_XXS: return RowKernel(dot: dotIQ3_XXS, decode: { row, out, n in visitDecode(out) { visitIQ3_XXS(row, n, $0) } })
        case .iq2_XXS: return RowKernel(dot: dotIQ2_XXS, decode: decodeIQ2_XXS)
        case .iq2_XS: return RowKernel(dot: dotIQ2_XS, decode: decodeIQ2_XS)
        case .iq2_S: return RowKernel(dot: dotIQ2_S, decode: decodeIQ2_S)
        case .iq4_NL:
            let (lo, hi) = IQ4PackedValues.littleEndianHalves
            return RowKernel(dot: dotIQ4_NL, decode: { row, out, n in visitDecode(out) { visitIQ4_NL(row, n, $0) } },
                             wideDot: { row, x, n in qwenkit_dot_iq4_nl_avx512(row, x, n, lo, hi) },
                             wideRows: { qwenkit_rows_iq4_nl_avx512($0, $1, $2, $3, $4, $5, lo, hi) },
                             wideDecode: { row, out, n in qwenkit_decode_iq4_nl_avx512(row, out, n, lo, hi) },
                             avx2Rows: { qwenkit_rows_iq4_nl_avx2($0, $1, $2, $3, $4, $5, lo, hi) })
        case .iq4_XS:
            let (lo, hi) = IQ4PackedValues.littleEndianHalves
            return RowKernel(dot: dotIQ4_XS, decode: { row, out, n in visitDecode(out) { visitIQ4_XS(row, n, $0) } },
                             wideDot: { row, x, n in qwenkit_dot_iq4_xs_avx512(row, x, n, lo, hi) },
                             wideRows: { qwenkit_rows_iq4_xs_avx512($0, $1, $2, $3, $4, $5, lo, hi) },
                             wideDecode: { row, out, n in qwenkit_decode_iq4_xs_avx512(row, out, n, lo, hi) },
                             avx2Rows: { qwenkit_rows_iq4_xs_avx2($0, $1, $2, $3, $4, $5, lo, hi) })
        // No portable fused kernel: the portable path decodes these rows, then multiplies.
        case .q5_1: return decoded(type, wideDot: { row, x, n in qwenkit_dot_q5_1_avx512(row, x, n) },
                                   wideRows: { qwenkit_rows_q5_1_avx512($0, $1, $2, $3, $4, $5) })
        case .q5_K: return decoded(type, wideDot: { row, x, n in qwenkit_dot_q5_K_avx512(row, x, n) },
                                   wideRows: { qwenkit_rows_q5_K_avx512($0, $1, $2, $3, $4, $5) })
        default: return decoded(type)
        }
    }

    /// A type's rows decoded by the Quantization library's dequantizer (nil when it has none), with an AVX-512 dot
    /// product where there is one.
    private static func decoded(_ type: GGMLType, wideDot: Dot? = nil, wideRows: Rows? = nil) -> RowKernel? {
        guard let format = QuantizationFormats.format(for: type) else { return nil }
        let dequantize = format.uncheckedDequantizer, blockSize = type.blockSize
        return RowKernel(dot: nil, decode: { row, out, n in dequantize(row, out, n / blockSize) }, wideDot: wideDot, wideRows: wideRows)
    }

    static let decodeF32: Decode = { row, out, n in
        out.update(from: row.assumingMemoryBound(to: Float.self), count: n)
    }

    static let decodeF16: Decode = { row, out, n in decodeHalves(row, out, n, brain: false) }
    static let decodeBF16: Decode = { row, out, n in decodeHalves(row, out, n, brain: true) }

    /// Eight 16-bit floats at byte `offset` as floats: BF16 (`brain`) moved into the top half of a float's bits,
    /// F16 through vcvtph2ps.
    @inline(__always)
    static func widen8(_ p: UnsafeRawPointer, _ offset: Int, brain: Bool) -> SIMD8<Float> {
        let h = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt16>.self)
        return brain ? unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD8<Float>.self)
            : SIMD8<Float>(unsafeBitCast(h, to: SIMD8<Float16>.self))
    }

    /// One 16-bit float at byte `offset`, as `widen8`.
    @inline(__always)
    static func widen1(_ p: UnsafeRawPointer, _ offset: Int, brain: Bool) -> Float {
        let h = p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return brain ? Float(bitPattern: UInt32(h) << 16) : Float(Float16(bitPattern: h))
    }

    @inline(__always)
    static func decodeHalves(_ row: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ n: Int, brain: Bool) {
        var i = 0
        while i + 8 <= n {
            store8(widen8(row, 2 * i, brain: brain), out, i)
            i += 8
        }
        while i < n {
            out[i] = widen1(row, 2 * i, brain: brain)
            i += 1
        }
    }

    // MARK: float types

    static let dotF32: Dot = { row, x, n in
        let w = row.assumingMemoryBound(to: Float.self)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            prefetchAhead(row + 4 * i)
            s0 = s0.addingProduct(load8(w, i), load8(x, i))
            s1 = s1.addingProduct(load8(w, i + 8), load8(x, i + 8))
            i += 16
        }
        var s = (s0 + s1).sum()
        while i < n {
            s += w[i] * x[i]
            i += 1
        }
        return s
    }

    static let dotF16: Dot = { row, x, n in dotHalves(row, x, n, brain: false) }
    static let dotBF16: Dot = { row, x, n in dotHalves(row, x, n, brain: true) }

    @inline(__always)
    static func dotHalves(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int, brain: Bool) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            if i & 16 == 0 { prefetchAhead(row + 2 * i) }
            s0 = s0.addingProduct(widen8(row, 2 * i, brain: brain), load8(x, i))
            s1 = s1.addingProduct(widen8(row, 2 * i + 16, brain: brain), load8(x, i + 8))
            i += 16
        }
        var s = (s0 + s1).sum()
        while i < n {
            s += widen1(row, 2 * i, brain: brain) * x[i]
            i += 1
        }
        return s
    }

    // MARK: 32-element blocks

    /// The fp16 scale at `offset` as a float, in integer and float arithmetic. `Float(Float16(bitPattern:))`
    /// compiles to vpinsrw + vcvtph2ps, and vpinsrw merges into a register LLVM picks, which here was the
    /// accumulator: every block's scale then waited for the previous block's sum, a loop-carried chain of ~15
    /// cycles per block that capped the Q8_0 kernel at under 2 weights per cycle. Exact for every input: the 15
    /// magnitude bits placed in a float's exponent and mantissa, scaled by 2^112, give the same value for normal and
    /// subnormal halves; the all-ones exponent (infinity, NaN) is mapped to float's.
    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        let h = UInt32(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
        let sign = (h & 0x8000) << 16
        let magnitude = (h & 0x7FFF) << 13
        if magnitude >= 0x0F80_0000 { return Float(bitPattern: sign | 0x7F80_0000 | magnitude) }
        return Float(bitPattern: sign | (Float(bitPattern: magnitude) * 0x1p112).bitPattern)
    }

    /// Eight int8 at `offset` as floats (vpmovsxbd, vcvtdq2ps). Kernels stay at eight lanes: with the haswell
    /// target, conversions of SIMD16 vectors were not inlined (a call per sixteen weights).
    @inline(__always)
    static func signed8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Float> {
        SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int8>.self)))
    }

    /// Eight bytes at `offset`, widened to 32-bit lanes (vpmovzxbd). Nibble masks and shifts are done on these
    /// lanes: on SIMD16/SIMD32 of UInt8 Swift's `&` and `&>>` with a scalar compile to a byte-at-a-time loop.
    @inline(__always)
    static func bytes8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Int32> {
        SIMD8<Int32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt8>.self))
    }

    /// Q8_0: d (f16), 32 × int8; value = d · q. Two blocks per iteration, in separate accumulators.
    static let dotQ8_0: Dot = { row, x, n in
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var b = row, xb = x
        @inline(__always) func block(_ b: UnsafeRawPointer, _ xb: UnsafePointer<Float>) -> SIMD8<Float> {
            let s0 = (signed8(b, 2) * load8(xb, 0)).addingProduct(signed8(b, 10), load8(xb, 8))
            let s1 = (signed8(b, 18) * load8(xb, 16)).addingProduct(signed8(b, 26), load8(xb, 24))
            return s0 + s1
        }
        let blocks = n / 32
        var i = 0
        while i + 2 <= blocks {
            prefetchAhead(b)
            acc0 = acc0.addingProduct(block(b, xb), SIMD8<Float>(repeating: half(b, 0)))
            acc1 = acc1.addingProduct(block(b + 34, xb + 32), SIMD8<Float>(repeating: half(b, 34)))
            b += 68
            xb += 64
            i += 2
        }
        if i < blocks { acc0 = acc0.addingProduct(block(b, xb), SIMD8<Float>(repeating: half(b, 0))) }
        return (acc0 + acc1).sum()
    }

    // Block formats other than Q8_0 go through one "visitor" per type that rebuilds the row's values, 32 at a time
    // as four 8-lane vectors (vector i holds elements base + i·stride ..< base + i·stride + 8), exactly as ggml's
    // dequantize_row_* computes them. The dot product consumes them into four independent accumulators (one
    // accumulator would chain every FMA on the previous one's latency); the batch path stores them as a decoded
    // row. Both inline the visitor, so the values live in registers.

    /// Σ row · x over a visitor's vectors.
    @inline(__always)
    static func visitDot(_ x: UnsafePointer<Float>,
                         _ visit: ((Int, Int, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) -> Void) -> Void) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        visit { base, stride, w0, w1, w2, w3 in
            a0 = a0.addingProduct(w0, load8(x, base))
            a1 = a1.addingProduct(w1, load8(x, base + stride))
            a2 = a2.addingProduct(w2, load8(x, base + 2 * stride))
            a3 = a3.addingProduct(w3, load8(x, base + 3 * stride))
        }
        return ((a0 + a1) + (a2 + a3)).sum()
    }

    /// Writes a visitor's vectors to `out`.
    @inline(__always)
    static func visitDecode(_ out: UnsafeMutablePointer<Float>,
                            _ visit: ((Int, Int, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) -> Void) -> Void) {
        visit { base, stride, w0, w1, w2, w3 in
            store8(w0, out, base)
            store8(w1, out, base + stride)
            store8(w2, out, base + 2 * stride)
            store8(w3, out, base + 3 * stride)
        }
    }

    typealias Visit = (Int, Int, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) -> Void

    /// Q8_0: d (f16), 32 × int8; value = d · q.
    @inline(__always)
    static func visitQ8_0(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        for i in 0..<(n / 32) {
            let b = row + 34 * i
            prefetchAhead(b)
            let d = SIMD8<Float>(repeating: half(b, 0))
            body(32 * i, 8, d * signed8(b, 2), d * signed8(b, 10), d * signed8(b, 18), d * signed8(b, 26))
        }
    }

    /// Q4_0: d (f16), 16 bytes; element j = d · ((low nibble of byte j) − 8), element j + 16 = d · ((high nibble) − 8).
    @inline(__always)
    static func visitQ4_0(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        let eight = SIMD8<Float>(repeating: 8)
        for i in 0..<(n / 32) {
            let b = row + 18 * i
            prefetchAhead(b)
            let d = SIMD8<Float>(repeating: half(b, 0))
            let q0 = bytes8(b, 2), q1 = bytes8(b, 10)
            body(32 * i, 8, d * (SIMD8<Float>(q0 & 0xF) - eight), d * (SIMD8<Float>(q1 & 0xF) - eight),
                 d * (SIMD8<Float>(q0 &>> 4) - eight), d * (SIMD8<Float>(q1 &>> 4) - eight))
        }
    }

    /// Q5_0: d (f16), qh (32 bits, bit j is the fifth bit of element j), 16 bytes of nibbles as Q4_0; value =
    /// d · (q − 16).
    @inline(__always)
    static func visitQ5_0(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        // Shift counts as locals: a static constant is read through swift_once on every block.
        let shift0 = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7), shift8 = shift0 &+ 8, shift16 = shift0 &+ 16, shift24 = shift0 &+ 24
        @inline(__always) func fifth(_ qh: SIMD8<UInt32>, _ shifts: SIMD8<UInt32>) -> SIMD8<Int32> {
            SIMD8<Int32>(truncatingIfNeeded: ((qh &>> shifts) & 1) &<< 4)
        }
        for i in 0..<(n / 32) {
            let b = row + 22 * i
            prefetchAhead(b)
            // d·(q − 16) as one fused multiply-add, q·d + (−16·d): −16·d is exact, and the FMA rounds the exact
            // d·(q − 16) once, so the value is the dequantizer's.
            let d = SIMD8<Float>(repeating: half(b, 0)), bias = -16 * d
            let qh = SIMD8<UInt32>(repeating: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian)
            let q0 = bytes8(b, 6), q1 = bytes8(b, 14)
            body(32 * i, 8,
                 SIMD8<Float>((q0 & 0xF) | fifth(qh, shift0)).addingProduct_(d, bias),
                 SIMD8<Float>((q1 & 0xF) | fifth(qh, shift8)).addingProduct_(d, bias),
                 SIMD8<Float>((q0 &>> 4) | fifth(qh, shift16)).addingProduct_(d, bias),
                 SIMD8<Float>((q1 &>> 4) | fifth(qh, shift24)).addingProduct_(d, bias))
        }
    }

    static let dotQ4_0: Dot = { row, x, n in
        visitDot(x) { visitQ4_0(row, n, $0) }
    }

    static let dotQ5_0: Dot = { row, x, n in
        visitDot(x) { visitQ5_0(row, n, $0) }
    }

    // MARK: 256-element K-quant blocks

    @inline(__always)
    static func scaleMin(_ j: Int, _ q: UnsafeRawPointer) -> (Float, Float) {
        @inline(__always) func byte(_ i: Int) -> UInt8 { q.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (Float(byte(j) & 63), Float(byte(j + 4) & 63)) }
        let scale = (byte(j + 4) & 0xF) | ((byte(j - 4) >> 6) << 4)
        let min = (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4)
        return (Float(scale), Float(min))
    }

    /// Q4_K: d, dmin (f16), 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; sub-block k of 32 has value
    /// d·scale_k · q − dmin·min_k (ggml's get_scale_min_k4 packing); sub-blocks 2j and 2j+1 share 32 bytes, low
    /// and high nibbles.
    @inline(__always)
    static func visitQ4_K(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        for i in 0..<(n / 256) {
            let b = row + 144 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            prefetchAhead(b + 128)
            let d = half(b, 0), dmin = half(b, 2)
            let scales = b + 4
            for j in 0..<4 {
                let (sc1, m1) = scaleMin(2 * j, scales)
                let (sc2, m2) = scaleMin(2 * j + 1, scales)
                let d1 = SIMD8<Float>(repeating: d * sc1), min1 = SIMD8<Float>(repeating: dmin * m1)
                let d2 = SIMD8<Float>(repeating: d * sc2), min2 = SIMD8<Float>(repeating: dmin * m2)
                let q0 = bytes8(b, 16 + 32 * j), q1 = bytes8(b, 24 + 32 * j)
                let q2 = bytes8(b, 32 + 32 * j), q3 = bytes8(b, 40 + 32 * j)
                let base = 256 * i + 64 * j
                body(base, 8, d1 * SIMD8<Float>(q0 & 0xF) - min1, d1 * SIMD8<Float>(q1 & 0xF) - min1,
                     d1 * SIMD8<Float>(q2 & 0xF) - min1, d1 * SIMD8<Float>(q3 & 0xF) - min1)
                body(base + 32, 8, d2 * SIMD8<Float>(q0 &>> 4) - min2, d2 * SIMD8<Float>(q1 &>> 4) - min2,
                     d2 * SIMD8<Float>(q2 &>> 4) - min2, d2 * SIMD8<Float>(q3 &>> 4) - min2)
            }
        }
    }

    /// Q6_K: 128 bytes of low nibbles (ql), 64 bytes of high bit pairs (qh), 16 int8 scales, d (f16); each half of
    /// 128 elements takes 64 ql, 32 qh and 8 scales; value = d · scale · (q − 32). Elements l, l+32, l+64, l+96
    /// of a half come from the same ql/qh bytes.
    @inline(__always)
    static func visitQ6_K(_ row: UnsafeRawPointer, _ n: Int, _ body: Visit) {
        for i in 0..<(n / 256) {
            let b = row + 210 * i
            prefetchAhead(b)
            prefetchAhead(b + 64)
            prefetchAhead(b + 128)
            prefetchAhead(b + 192)
            let d = half(b, 208)
            for h in 0..<2 {
                let ql = b + 64 * h, qh = b + 128 + 32 * h, sc = b + 192 + 8 * h
                for si in 0..<2 {
                    // Scales of the four 32-element groups for l in 16·si ..< 16·si + 16, and d·scale·(q − 32) as
                    // q·(d·scale) + (−32·d·scale), one rounding as in the dequantizer (−32·x is exact).
                    @inline(__always) func scale(_ k: Int) -> SIMD8<Float> {
                        SIMD8<Float>(repeating: d * Float(sc.load(fromByteOffset: si + 2 * k, as: Int8.self)))
                    }
                    let s1 = scale(0), s2 = scale(1), s3 = scale(2), s4 = scale(3)
                    let m1 = -32 * s1, m2 = -32 * s2, m3 = -32 * s3, m4 = -32 * s4
                    for l in stride(from: 16 * si, to: 16 * si + 16, by: 8) {
                        let low0 = bytes8(ql, l), low32 = bytes8(ql, l + 32), high = bytes8(qh, l)
                        // the two high bits of each value, already in place (bits 4 and 5)
                        let q1 = (low0 & 0xF) | ((high &<< 4) & 0x30)
                        let q2 = (low32 & 0xF) | ((high &<< 2) & 0x30)
                        let q3 = (low0 &>> 4) | (high & 0x30)
                        let q4 = (low32 &>> 4) | ((high &>> 2) & 0x30)
                        body(256 * i + 128 * h + l, 32, SIMD8<Float>(q1).addingProduct_(s1, m1), SIMD8<Float>(q2).addingProduct_(s2, m2),
                             SIMD8<Float>(q3).addingProduct_(s3, m3), SIMD8<Float>(q4).addingProduct_(s4, m4))
                    }
                }
            }
        }
    }

    static let dotQ4_K: Dot = { row, x, n in
        visitDot(x) { visitQ4_K(row, n, $0) }
    }

    static let dotQ6_K: Dot = { row, x, n in
        visitDot(x) { visitQ6_K(row, n, $0) }
    }

}
