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
    // fast path does the same float32 operations on two SIMD16 halves: the max is exact (order does not matter for
    // it), x · id is the same product, and `.toNearestOrAwayFromZero` is roundf. The rounded value (|r| ≤ 128) is
    // turned into its int8 by adding 1.5 × 2^23 and keeping the low mantissa bits, which is exact for integers and
    // cannot trap. Blocks the vector path cannot mirror (a NaN anywhere, an inf max, an inf 1/d from a subnormal
    // max) go through the reference. `QuantizationTests` checks both give the same bytes.
    static func quantizeFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = UnsafeRawPointer(x + i * qk)
            let yb = y + i * bytes
            let lo = xb.loadUnaligned(as: SIMD16<Float>.self)
            let hi = xb.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            let absLo = unsafeBitCast(unsafeBitCast(lo, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
            let absHi = unsafeBitCast(unsafeBitCast(hi, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
            let amax = pointwiseMax(absLo, absHi).max()
            let d = amax / 127
            let id: Float = d != 0 ? 1.0 / d : 0.0
            guard amax.isFinite, id.isFinite, !any(lo .!= lo), !any(hi .!= hi) else {
                quantizeReference(x + i * qk, yb, 1)
                continue
            }
            storeHalf(d, yb, 0)
            let magic = SIMD16<Float>(repeating: 12582912.0)
            let qLo = unsafeBitCast((lo * id).rounded(.toNearestOrAwayFromZero) + magic, to: SIMD16<UInt32>.self)
            let qHi = unsafeBitCast((hi * id).rounded(.toNearestOrAwayFromZero) + magic, to: SIMD16<UInt32>.self)
            (yb + 2).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: qLo), as: SIMD16<UInt8>.self)
            (yb + 18).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: qHi), as: SIMD16<UInt8>.self)
        }
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
