import ModelFiles

/// The plain float types as row codecs ("blocks" of one element), matching ggml_quantize_chunk: F32 is a copy, F16
/// goes through `ggml_fp32_to_fp16_row` (`HalfFloat`), BF16 through `ggml_fp32_to_bf16_row_ref` (`BrainFloat`).
enum FloatRows {
    static let f32 = BlockFormat(type: .f32, reference: quantizeF32, dequantize: dequantizeF32)
    static let f16 = BlockFormat(type: .f16, reference: quantizeF16, dequantize: dequantizeF16)
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

    static func dequantizeF16(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { x[i] = HalfFloat.float(fromBits: loadUInt16(y, 2 * i)) }
    }

    static func quantizeBF16(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ n: Int) {
        for i in 0..<n { storeUInt16(BrainFloat.bits(from: x[i]), y, 2 * i) }
    }

    static func dequantizeBF16(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { x[i] = BrainFloat.float(fromBits: loadUInt16(y, 2 * i)) }
    }
}
