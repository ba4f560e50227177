import ModelFiles

/// TQ1_0 (ternary, 1.6875 bits per weight): 256 weights in 54 bytes, `qs[48] | qh[4] | d: fp16`; weight = (t − 1) · d
/// with the trit t in 0...2. Each byte holds five trits (four in `qh`) as a base-3 fraction scaled to 0...255, so
/// that multiplying the byte by 3^n (mod 256) brings trit n into the top: trit = (byte · 3^n mod 256) · 3 >> 8.
/// Byte m of `qs[0..<32]` holds elements m, m + 32, ..., m + 128 (first trit most significant); byte m of
/// `qs[32..<48]` holds 160 + m, 176 + m, ..., 224 + m; byte j of `qh` holds 240 + j, 244 + j, 248 + j, 252 + j.
///
/// ggml's `quantize_tq1_0` ignores an importance vector, so there is no weighted quantizer here.
enum BlockTQ1_0 {
    static let format = BlockFormat(type: .tq1_0, reference: quantizeReference, dequantize: dequantize)
    static let bytes = 54
    static let qsOffset = 0, qhOffset = 48, dOffset = 52

    /// ggml `quantize_row_tq1_0_ref`. `d` is the largest magnitude (ggml's `MAX`, so a NaN is kept only if it is
    /// the last element); trits are `lroundf(x / d) + 1` (`ternaryTrit`). Five trits t0...t4 make
    /// q = t0·81 + t1·27 + t2·9 + t3·3 + t4 (four in `qh`, times 3 to fill the same five places), stored as
    /// ⌈q · 256 / 243⌉, all in uint8_t arithmetic as ggml does it.
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

            // 5 elements per byte, along 32 bytes, then along 16
            @inline(__always) func packFives(_ span: Int, _ xs: UnsafePointer<Float>, _ qs: UnsafeMutableRawPointer) {
                for m in 0..<span {
                    var q: UInt8 = 0
                    for n in 0..<5 {
                        q = q &* 3 &+ UInt8(truncatingIfNeeded: ternaryTrit(xs[m + n * span] * id))
                    }
                    storeByte(ceilingDivision243(q), qs, m)
                }
            }
            packFives(32, xb, yb + qsOffset)
            xb += 5 * 32
            packFives(16, xb, yb + qsOffset + 32)
            xb += 5 * 16
            // 4 elements per byte
            for j in 0..<4 {
                var q: UInt8 = 0
                for m in 0..<4 {
                    q = q &* 3 &+ UInt8(truncatingIfNeeded: ternaryTrit(xb[j + m * 4] * id))
                }
                q = q &* 3  // the first trit to the most significant place
                storeByte(ceilingDivision243(q), yb, qhOffset + j)
            }
        }
    }

    /// `(uint8_t)(((uint16_t)q * 256 + (243 - 1)) / 243)`: q / 243 as a fraction of 256, rounded up.
    @inline(__always)
    private static func ceilingDivision243(_ q: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (Int(q) * 256 + 242) / 243)
    }

    /// 3^n for n in 0..<5, ggml's `pow3` (read from the bytes of one constant: no table in the loop).
    @inline(__always)
    static func pow3(_ n: Int) -> UInt8 { UInt8(truncatingIfNeeded: UInt64(0x51_1B_09_03_01) >> (8 * n)) }

    /// ggml `dequantize_row_tq1_0`: trit n of a byte is `(uint16_t)(byte · 3^n mod 256) · 3 >> 8`.
    static func dequantize(_ y: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ blocks: Int) {
        var out = x
        for i in 0..<blocks {
            let yb = y + i * bytes
            let d = loadHalf(yb, dOffset)
            @inline(__always) func value(_ byte: UInt8, _ power: UInt8) -> Float {
                let q = byte &* power
                let xi = Int16((UInt16(q) * 3) >> 8)
                return Float(xi - 1) * d
            }
            @inline(__always) func unpackFives(_ span: Int, _ qs: UnsafeRawPointer) {
                for n in 0..<5 {
                    let power = pow3(n)
                    for m in 0..<span {
                        out.pointee = value(loadByte(qs, m), power)
                        out += 1
                    }
                }
            }
            unpackFives(32, yb + qsOffset)
            unpackFives(16, yb + qsOffset + 32)
            for n in 0..<4 {
                let power = pow3(n)
                for j in 0..<4 {
                    out.pointee = value(loadByte(yb, qhOffset + j), power)
                    out += 1
                }
            }
        }
    }
}
