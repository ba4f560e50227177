import ModelFiles

/// Q4_1: 32 weights in 20 bytes, `d: fp16 | m: fp16 | qs[16]`; weight = q · d + m with q in 0...15.
/// Nibbles are packed as in Q4_0.
enum BlockQ4_1 {
    static let format = BlockFormat(type: .q4_1, reference: quantizeReference, weighted: quantizeWeightedFast, dequantize: dequantize)
    static let qk = 32
    static let bytes = 20

    /// ggml `quantize_row_q4_1_ref`: `d = (max − min)/15`, `m = min`; indices truncate `(x − min)/d + 0.5` with
    /// `1/d` from the unrounded float32 `d`.
    static func quantizeReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        for i in 0..<blocks {
            let xb = x + i * qk
            let yb = y + i * bytes
            var min = Float.greatestFiniteMagnitude
            var max = -Float.greatestFiniteMagnitude
            for j in 0..<qk {
                let v = xb[j]
                if v < min { min = v }
                if v > max { max = v }
            }

            let d = (max - min) / 15
            let id: Float = d != 0 ? 1.0 / d : 0.0

            storeHalf(d, yb, 0)
            storeHalf(min, yb, 2)

            for j in 0..<qk / 2 {
                let x0 = (xb[j] - min) * id
                let x1 = (xb[qk / 2 + j] - min) * id

                let xi0 = UInt8(truncatingIfNeeded: Swift.min(15, cInt8(x0 + 0.5)))
                let xi1 = UInt8(truncatingIfNeeded: Swift.min(15, cInt8(x1 + 0.5)))

                storeByte(xi0 | (xi1 << 4), yb, 4 + j)
            }
        }
    }

    /// ggml `quantize_q4_1` with an importance vector (`quantize_row_q4_1_impl` per row): each block's scale and
    /// minimum are ggml's `make_qkx3_quants` (`makeQKX2Quants`, nmax 15, rmin −0.9, rdelta 0.05, nstep 36) on the
    /// weights of `forEachWeightedLegacyBlock`; `m` is the negated minimum it returns.
    static func quantizeWeightedReference(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?
    ) {
        quantizeWeighted(x, y, rows, rowLength, importance, lanes: false)
    }

    /// `quantizeWeightedReference` with eight blocks' searches side by side (`makeQKX2QuantsLanes`). Same bytes.
    static func quantizeWeightedFast(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?
    ) {
        quantizeWeighted(x, y, rows, rowLength, importance, lanes: true)
    }

    private static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?, lanes: Bool
    ) {
        guard let importance else { return quantizeReference(x, y, rows * rowLength / qk) }
        withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 2 * qk) { indexLanes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * qk) { indices in
                let (Lt, Lauxt) = (indexLanes.baseAddress!, indexLanes.baseAddress! + qk)
                let (L, Laux) = (indices.baseAddress!, indices.baseAddress! + qk)
                let octet = { (xt: UnsafePointer<FloatLanes>, wt: UnsafePointer<FloatLanes>, yb: UnsafePointer<UnsafeMutableRawPointer>, count: Int) in
                    let (d, theMin) = makeQKX2QuantsLanes(
                        qk, 15, xt, wt, Lt, Lauxt, rmin: -0.9, rdelta: 0.05, nstep: 36, useMAD: false)
                    for k in 0..<count {
                        for j in 0..<qk { L[j] = UInt8(truncatingIfNeeded: Lt[j][k]) }
                        pack(d[k], theMin[k], L, yb[k])
                    }
                }
                forEachWeightedLegacyBlock(x, y, rows, rowLength, importance, bytes: bytes, octet: lanes ? octet : nil) {
                    xb, weight, yb in
                    var theMin: Float = 0
                    let d = makeQKX2Quants(
                        qk, 15, xb, weight, L, &theMin, Laux, rmin: -0.9, rdelta: 0.05, nstep: 36, useMAD: false)
                    pack(d, theMin, L, yb)
                }
            }
        }
    }

    /// A block from its scale, negated minimum and indices (0...15).
    @inline(__always)
    private static func pack(_ d: Float, _ theMin: Float, _ L: UnsafePointer<UInt8>, _ yb: UnsafeMutableRawPointer) {
        storeHalf(d, yb, 0)
        storeHalf(-theMin, yb, 2)
        for j in 0..<qk / 2 { storeByte(L[j] | (L[j + qk / 2] << 4), yb, 4 + j) }
    }

    /// ggml `dequantize_row_q4_1`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            let yb = y + i * bytes
            let xb = x + i * qk
            let d = loadHalf(yb, 0)
            let m = loadHalf(yb, 2)
            for j in 0..<qk / 2 {
                let q = loadByte(yb, 4 + j)
                xb[j] = Float(q & 0x0F) * d + m
                xb[j + qk / 2] = Float(q >> 4) * d + m
            }
        }
    }
}
