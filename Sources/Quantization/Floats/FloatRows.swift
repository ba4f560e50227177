import ModelFiles

/// The plain float types as row codecs ("blocks" of one element), matching ggml_quantize_chunk: F32 is a copy, F16
/// goes through `ggml_fp32_to_fp16_row` (`HalfFloat`), BF16 through `ggml_fp32_to_bf16_row_ref` (`BrainFloat`).
enum FloatRows {
    static let f32 = BlockFormat(type: .f32, reference: quantizeF32, dequantize: dequantizeF32)
    static let f16 = BlockFormat(type: .f16, quantize: quantizeF16Fast, reference: quantizeF16, dequantize: dequantizeF16Fast)
    static let bf16 = BlockFormat(type: .bf16, reference: quantizeBF16, dequantize: dequantizeBF16)

    static func quantizeF32(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ n: Int) {
        for i in 0..<n { storeUInt32(x[i].bitPattern, y, 4 * i) }
    }

    static func dequantizeF32(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { x[i] = Float(bitPattern: loadUInt32(y, 4 * i)) }
    }

    static func quantizeF16(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ n: Int) {
        for i in 0..<n { storeUInt16(HalfFloat.bits(from: x[i]), y, 2 * i) }
    }

    /// `quantizeF16` eight at a time through the hardware conversion (vcvtps2ph with `-target-cpu haswell`), which
    /// rounds to nearest even exactly as ggml's bit manipulation does for every non-NaN input (subnormals and
    /// overflow to infinity included); a group holding a NaN goes through the reference, since ggml drops NaN
    /// payloads and the hardware keeps their top bits. Converting 1 GB of BF16 weights to F16 is 3x faster.
    static func quantizeF16Fast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ n: Int) {
        #if arch(x86_64) || arch(arm64)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            if (v .!= v) == SIMDMask(repeating: false) {
                let h = SIMD8<Float16>(v)
                (y + 2 * i).storeBytes(of: unsafeBitCast(h, to: SIMD8<UInt16>.self).littleEndianLanes, as: SIMD8<UInt16>.self)
            } else {
                quantizeF16(x + i, y + 2 * i, 8)
            }
            i += 8
        }
        if i < n { quantizeF16(x + i, y + 2 * i, n - i) }
        #else
        quantizeF16(x, y, n)
        #endif
    }

    static func dequantizeF16(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { x[i] = HalfFloat.float(fromBits: loadUInt16(y, 2 * i)) }
    }

    /// `dequantizeF16` eight at a time through the hardware conversion (vcvtph2ps with `-target-cpu haswell`). Widening
    /// is exact, so every value agrees; NaNs agree too (both keep the payload and set the quiet bit), which
    /// `FloatConversionTests` checks on all 65,536 halves. Every F16 model goes through this when quantized; the
    /// reference's bit manipulation per element is several times slower (`perf`: this path is ~5% of a Q6_K run).
    static func dequantizeF16Fast(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        #if arch(x86_64) || arch(arm64)
        var i = 0
        while i + 8 <= n {
            let h = (y + 2 * i).loadUnaligned(as: SIMD8<UInt16>.self).littleEndianLanes
            UnsafeMutableRawPointer(x + i).storeBytes(of: SIMD8<Float>(unsafeBitCast(h, to: SIMD8<Float16>.self)), as: SIMD8<Float>.self)
            i += 8
        }
        if i < n { dequantizeF16(y + 2 * i, x + i, n - i) }
        #else
        dequantizeF16(y, x, n)
        #endif
    }

    static func quantizeBF16(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ n: Int) {
        for i in 0..<n { storeUInt16(BrainFloat.bits(from: x[i]), y, 2 * i) }
    }

    static func dequantizeBF16(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { x[i] = BrainFloat.float(fromBits: loadUInt16(y, 2 * i)) }
    }
}

extension SIMD8 where Scalar == UInt16 {
    /// The lanes in little-endian byte order (a no-op on little-endian machines).
    var littleEndianLanes: SIMD8<UInt16> {
        #if _endian(little)
        return self
        #else
        var out = self
        for i in 0..<8 { out[i] = self[i].littleEndian }
        return out
        #endif
    }
}
