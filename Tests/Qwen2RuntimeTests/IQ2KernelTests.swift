import Foundation
import ModelFiles
import Quantization
import Testing
@testable import Qwen2Runtime

/// The IQ2 row kernels' decoded values against ggml's dequantizer (the Quantization library's, bit-exact to ggml
/// on the goldens): bit for bit, on the imatrix goldens' blocks and on blocks of random bytes (every grid index,
/// sign index and scale nibble, and fp16 scales of every kind, NaN and inf included).
@Suite struct IQ2KernelTests {
    static let types: [GGMLType] = [.iq2_XXS, .iq2_XS, .iq2_S]

    static func goldenBytes(_ type: GGMLType) throws -> [UInt8] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/quant-golden/imatrix")
        return [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(type.name).imatrix.quant")))
    }

    @Test(arguments: types)
    func decodeEqualsDequantizer(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type))
        #expect(kernel.dot != nil)
        var z: UInt64 = 0x9E37_79B9_7F4A_7C15
        var blocks = try Self.goldenBytes(type)
        for _ in 0..<(64 * type.typeSize) {
            z = z &* 6364136223846793005 &+ 1442695040888963407
            blocks.append(UInt8(truncatingIfNeeded: z >> 33))
        }
        let n = blocks.count / type.typeSize * type.blockSize
        var want = [Float](repeating: 0, count: n), got = [Float](repeating: 1, count: n)
        try blocks.withUnsafeBytes { src in
            try want.withUnsafeMutableBufferPointer { try format.dequantizeRow(src, into: $0) }
            got.withUnsafeMutableBufferPointer { kernel.decode(src.baseAddress!, $0.baseAddress!, n) }
        }
        let differing = (0..<n).filter {
            got[$0].bitPattern != want[$0].bitPattern && !(got[$0].isNaN && want[$0].isNaN)
        }
        #expect(differing.isEmpty, "\(type.name): \(differing.count) values differ, first at \(differing.first ?? -1)")
    }
}
