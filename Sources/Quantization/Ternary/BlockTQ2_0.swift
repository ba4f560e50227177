import ModelFiles

/// TQ2_0 (ternary in 2 bits, 2.0625 bits per weight): 256 weights in 66 bytes, `qs[64] | d: fp16`;
/// weight = (q − 1) · d with q in 0...2 (3 decodes to 2d, never written). For each 128-element half h, byte
/// `32h + m` holds elements `128h + m + 32n` in bits 2n, 2n + 1 (n = 0...3).
///
/// ggml's `quantize_tq2_0` ignores an importance vector, so there is no weighted quantizer here.
enum BlockTQ2_0 {
    static let format = BlockFormat(type: .tq2_0, reference: quantizeReference, dequantize: dequantize)
    static let bytes = 66
    static let qsOffset = 0, dOffset = 64

    /// ggml `quantize_row_tq2_0_ref`: `d` and the trits as TQ1_0's (`ternaryTrit`), each kept to its low two bits.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            var xb = x + i * QK_K
            let yb = y + i * bytes
            var amax: Float = 0  // absolute max
            for j in 0..<QK_K {
                let a = abs(xb[j])
                amax = amax > a ? amax : a
            }
            let d = amax
            let id: Float = d != 0 ? 1 / d : 0

            storeHalf(d, yb, dOffset)

            for j in stride(from: 0, to: QK_K / 4, by: 32) {
                for m in 0..<32 {
                    var q: UInt8 = 0
                    for n in 0..<4 {
                        let xi = ternaryTrit(xb[m + n * 32] * id)
                        q = q &+ (UInt8(truncatingIfNeeded: xi & 3) << (2 * n))
                    }
                    storeByte(q, yb, qsOffset + j + m)
                }
                xb += 4 * 32
            }
        }
    }

    /// ggml `dequantize_row_tq2_0`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            for j in stride(from: 0, to: QK_K / 4, by: 32) {
                for l in 0..<4 {
                    for m in 0..<32 {
                        let q = Int8((loadByte(yb, qsOffset + j + m) >> (2 * l)) & 3)
                        out.pointee = Float(q - 1) * d
                        out += 1
                    }
                }
            }
        }
    }
}
