import ModelFiles
import Quantization
import Testing
@testable import Qwen2Runtime

/// The IQ3 visitors decode to the dequantizer's exact bits (RowKernelTests checks the fused dots, relatively).
@Suite struct IQ3KernelTests {
    @Test(arguments: [GGMLType.iq3_XXS, .iq3_S])
    func decodeEqualsDequantizerBitForBit(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type))
        let columns = 1024
        let weights = RowKernelTests.values(columns, seed: 3, scale: 1.5)
        var stored = [UInt8](repeating: 0, count: try format.rowByteCount(elements: columns))
        try weights.withUnsafeBufferPointer { w in
            try stored.withUnsafeMutableBytes { try format.quantizeRow(w, into: $0) }
        }
        // Random bytes too: every scale, sign and index pattern (the fp16 scale kept finite).
        var random = RowKernelTests.values(columns, seed: 5, scale: 1).map { UInt8(truncatingIfNeeded: Int(($0 + 1) * 1000)) }
        for block in 0..<(columns / 256) { random[block * type.typeSize + 1] &= 0x3B }
        for bytes in [stored, Array(random.prefix(stored.count))] {
            var want = [Float](repeating: 0, count: columns), got = [Float](repeating: 0, count: columns)
            try bytes.withUnsafeBytes { b in
                try want.withUnsafeMutableBufferPointer { try format.dequantizeRow(b, into: $0) }
                got.withUnsafeMutableBufferPointer { kernel.decode(b.baseAddress!, $0.baseAddress!, columns) }
            }
            #expect(got.map(\.bitPattern) == want.map(\.bitPattern))
        }
    }
}
