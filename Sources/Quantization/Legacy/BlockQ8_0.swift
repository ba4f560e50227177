import ModelFiles

/// Q8_0: 32 weights in 34 bytes, `d: fp16 | qs[32] int8`; weight = q · d.
enum BlockQ8_0 {
    static let format = BlockFormat(
        type: .q8_0, quantize: quantizeFast, reference: quantizeReference, dequantize: dequantize)
    static let qk = 32
    static let bytes = 34

    /// ggml `quantize_row_q8_0_ref`: `d = max|x|/127`, `q = roundf(x · (1/d))` (half away from zero), with `1/d`
    /// from the unrounded float32 `d`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = x + i * qk
            let yb = y + i * bytes
            var amax: Float = 0  // absolute max
            for j in 0..<qk {
                let v = abs(xb[j])
                amax = amax > v ? amax : v  // ggml's MAX(amax, fabsf(v))
            }

            let d = amax / 127
            let id: Float = d != 0 ? 1.0 / d : 0.0

            storeHalf(d, yb, 0)

            for j in 0..<qk {
                let x0 = xb[j] * id
                storeByte(UInt8(bitPattern: cInt8(x0.rounded())), yb, 2 + j)
            }
        }
    }

    // Performance note: the reference spends its time in the scalar roundf and the per-element byte stores. The
    // fast path does the same float32 operations on four SIMD8 lanes (one AVX register each): the max is exact
    // (order does not matter for it), x · id is the same product, and roundf is computed as LLVM lowers it,
    // trunc(v + copysign(0.5 − 2^-25, v)), which is exact. The rounded value (|r| ≤ 128) becomes its int8 by adding
    // 1.5 × 2^23 and keeping the low byte, which is exact for integers and cannot trap. Blocks the vector path
    // cannot mirror (a NaN anywhere, an inf max, an inf 1/d from a subnormal max) go through the reference.
    // The standard library's `pointwiseMax`, `max()` and `rounded(.toNearestOrAwayFromZero)` on SIMD types carry
    // NaN rules or a rounding-rule switch and compiled to scalar code, three times slower than the reference;
    // compare-and-select and `.towardZero` compile to vector code. Measured (release, haswell, one thread, a
    // 4864 × 896 row set): reference 510 M elements/s, this path 720–800 M elements/s. `QuantizationTests` checks
    // both give the same bytes.
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        typealias V = SIMD8<Float>
        for i in 0..<blocks {
            let xb = UnsafeRawPointer(x + i * qk)
            let yb = y + i * bytes
            let v = (xb.loadUnaligned(as: V.self), xb.loadUnaligned(fromByteOffset: 32, as: V.self),
                     xb.loadUnaligned(fromByteOffset: 64, as: V.self), xb.loadUnaligned(fromByteOffset: 96, as: V.self))
            let m01 = larger(magnitude(v.0), magnitude(v.1))
            let m23 = larger(magnitude(v.2), magnitude(v.3))
            let m = larger(m01, m23)
            let m4 = larger(m.lowHalf, m.highHalf)
            let m2 = larger(m4.lowHalf, m4.highHalf)
            let amax = m2[0] > m2[1] ? m2[0] : m2[1]
            let d = amax / 127
            let id: Float = d != 0 ? 1.0 / d : 0.0
            let hasNaN = any((v.0 .!= v.0) .| (v.1 .!= v.1) .| (v.2 .!= v.2) .| (v.3 .!= v.3))
            guard amax.isFinite, id.isFinite, !hasNaN else {
                quantizeReference(x + i * qk, yb, 1)
                continue
            }
            storeHalf(d, yb, 0)
            (yb + 2).storeBytes(of: int8Lanes(v.0 * id), as: SIMD8<UInt8>.self)
            (yb + 10).storeBytes(of: int8Lanes(v.1 * id), as: SIMD8<UInt8>.self)
            (yb + 18).storeBytes(of: int8Lanes(v.2 * id), as: SIMD8<UInt8>.self)
            (yb + 26).storeBytes(of: int8Lanes(v.3 * id), as: SIMD8<UInt8>.self)
        }
    }

    @inline(__always)
    private static func magnitude(_ v: SIMD8<Float>) -> SIMD8<Float> {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    }

    // Concrete overloads: through a generic `SIMD` the comparison compiles to a scalar loop.
    @inline(__always)
    private static func larger(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }

    @inline(__always)
    private static func larger(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> { a.replacing(with: b, where: b .> a) }

    @inline(__always)
    private static func larger(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> SIMD2<Float> { a.replacing(with: b, where: b .> a) }

    /// roundf of each lane, as its int8 bit pattern (lanes must be finite and within ±128).
    @inline(__always)
    private static func int8Lanes(_ v: SIMD8<Float>) -> SIMD8<UInt8> {
        let signs = unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x8000_0000
        let half = unsafeBitCast(signs | Float(0.49999997).bitPattern, to: SIMD8<Float>.self)
        let rounded = (v + half).rounded(.towardZero)
        let bits = unsafeBitCast(rounded + SIMD8<Float>(repeating: 12582912.0), to: SIMD8<UInt32>.self)
        return SIMD8<UInt8>(truncatingIfNeeded: bits)
    }

    /// ggml `dequantize_row_q8_0`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            for j in 0..<qk {
                xb[j] = Float(Int8(bitPattern: loadByte(yb, 2 + j))) * d
            }
        }
    }
}
