import ModelFiles
import Quantization
import Testing
import TestSupport
@testable import Qwen2Runtime

/// Every fused dot product against its reference: dequantize the row with the Quantization library (ggml's
/// `dequantize_row_*`), then a float dot product. Sums are taken in a different order, so the check is relative.
@Suite struct RowKernelTests {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_NL, .iq4_XS]

    /// Deterministic pseudo-random floats in [-scale, scale).
    static func values(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var z = seed
        return (0..<n).map { _ in
            z = z &* 6364136223846793005 &+ 1442695040888963407
            return (Float(z >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    @Test(arguments: types)
    func fusedDotMatchesDequantizeThenDot(type: GGMLType) throws {
        let columns = 512, rows = 7
        let format = try #require(QuantizationFormats.format(for: type))
        let weights = Self.values(columns * rows, seed: 7, scale: 0.8)
        let x = Self.values(columns, seed: 11, scale: 2)
        let rowBytes = try format.rowByteCount(elements: columns)
        var stored = [UInt8](repeating: 0, count: rowBytes * rows)
        try weights.withUnsafeBufferPointer { w in
            try stored.withUnsafeMutableBytes { out in try format.quantizeRow(w, into: out) }
        }
        try stored.withUnsafeBytes { bytes in
            let m = try WeightMatrix(name: "w", type: type, rows: rows, columns: columns, base: bytes.baseAddress!, path: "test")
            var fused = [Float](repeating: 0, count: rows)
            var batched = [Float](repeating: 0, count: 2 * rows)
            var scratch = [Float](repeating: 0, count: WeightMatrix.rowGroup * columns)
            let xx = x + x  // a batch of two equal vectors takes the decode-then-dot path
            x.withUnsafeBufferPointer { xp in
                fused.withUnsafeMutableBufferPointer { y in
                    scratch.withUnsafeMutableBufferPointer { s in
                        m.multiply(xp.baseAddress!, batch: 1, rowRange: 0..<rows, into: y.baseAddress!, yStride: rows, scratch: s.baseAddress!)
                    }
                }
            }
            xx.withUnsafeBufferPointer { xp in
                batched.withUnsafeMutableBufferPointer { y in
                    scratch.withUnsafeMutableBufferPointer { s in
                        m.multiply(xp.baseAddress!, batch: 2, rowRange: 0..<rows, into: y.baseAddress!, yStride: rows, scratch: s.baseAddress!)
                    }
                }
            }
            for r in 0..<rows {
                var decoded = [Float](repeating: 0, count: columns)
                try decoded.withUnsafeMutableBufferPointer { d in
                    try format.dequantizeRow(UnsafeRawBufferPointer(rebasing: bytes[(r * rowBytes)..<((r + 1) * rowBytes)]), into: d)
                }
                let reference = zip(decoded, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let magnitude = zip(decoded, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                #expect(abs(Double(fused[r]) - reference) <= 1e-5 * magnitude, "\(type.name) row \(r): fused \(fused[r]) vs \(reference)")
                #expect(abs(Double(batched[r]) - reference) <= 1e-5 * magnitude, "\(type.name) row \(r): batched \(batched[r]) vs \(reference)")
                #expect(batched[rows + r] == batched[r])
            }
        }
    }
}

@Suite struct HalfScaleTests {
    /// The kernels' scale decoding equals the hardware conversion for every one of the 65,536 halves (NaNs: both
    /// are NaN with the same sign and payload bits).
    @Test func everyHalfDecodesExactly() {
        for bits in 0...UInt16.max {
            let value = withUnsafeBytes(of: bits.littleEndian) { RowKernel.half($0.baseAddress!, 0) }
            let expected = Float(Float16(bitPattern: bits))
            if expected.isNaN {
                #expect(value.isNaN && value.sign == expected.sign, "0x\(String(bits, radix: 16))")
            } else {
                #expect(value.bitPattern == expected.bitPattern, "0x\(String(bits, radix: 16)): \(value) vs \(expected)")
            }
        }
    }
}
