import ModelFiles

/// NVFP4: 64 weights in 36 bytes, `d[4]: UE4M3 | qs[32]`; four sub-blocks of 16, each with its own scale;
/// weight = kvalues_mxfp4[q] · ue4m3(d[s]) / 2. Within sub-block s, byte `8s + j` of `qs` holds its element j in the
/// low nibble and element j + 8 in the high nibble.
///
/// ggml's `quantize_nvfp4` ignores an importance vector (GGML_UNUSED), so there is no weighted quantizer here.
enum BlockNVFP4 {
    static let format = BlockFormat(type: .nvfp4, reference: quantizeReference, dequantize: dequantize)
    static let qk = 64
    static let qkSub = 16
    static let bytes = 36
    static let qsOffset = 4

    /// ggml `quantize_row_nvfp4_ref`. Each sub-block's scale is its largest magnitude over 6 (the largest E2M1
    /// value) in UE4M3 (`FP4.ue4m3(from:)`); the elements are searched against the decoded scale.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        let values = FP4.values
        for i in 0..<blocks {
            let yb = y + i * bytes
            for s in 0..<qk / qkSub {
                let xb = x + i * qk + s * qkSub

                var amax: Float = 0
                for j in 0..<qkSub where amax < abs(xb[j]) {
                    amax = abs(xb[j])
                }

                let ue = FP4.ue4m3(from: amax / 6)
                storeByte(ue, yb, s)
                let d = FP4.ue4m3ToFloat(ue)

                for j in 0..<qkSub / 2 {
                    let x0 = FP4.bestIndex(xb[j], d, values)
                    let x1 = FP4.bestIndex(xb[qkSub / 2 + j], d, values)
                    storeByte(x0 | (x1 << 4), yb, qsOffset + s * (qkSub / 2) + j)
                }
            }
        }
    }

    /// ggml `dequantize_row_nvfp4`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        let values = FP4.values
        for i in 0..<blocks {
            let yb = y + i * bytes
            for s in 0..<qk / qkSub {
                let d = FP4.ue4m3ToFloat(loadByte(yb, s))
                let xb = x + i * qk + s * qkSub
                for j in 0..<qkSub / 2 {
                    let q = loadByte(yb, qsOffset + s * (qkSub / 2) + j)
                    xb[j] = values[Int(q & 0x0F)] * d
                    xb[j + qkSub / 2] = values[Int(q >> 4)] * d
                }
            }
        }
    }
}
