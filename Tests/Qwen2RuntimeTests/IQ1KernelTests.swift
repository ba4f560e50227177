import ModelFiles
import Quantization
import Testing
import TestSupport
@testable import Qwen2Runtime

/// The IQ1 kernels' decoded values are the dequantizer's, bit for bit, on random bytes: every grid index, shift
/// sign and block scale, with the fp16 scales kept finite.
@Suite struct IQ1KernelTests {
    @Test(arguments: [GGMLType.iq1_S, .iq1_M])
    func decodeEqualsDequantizer(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type))
        let blocks = 64
        var z: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = (0..<(blocks * type.typeSize)).map { _ -> UInt8 in
            z = z &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: z >> 33)
        }
        for b in 0..<blocks {
            // a finite fp16 scale (exponent below 31): IQ1_S's d in bytes 0-1; IQ1_M's top nibble of word 3 holds
            // the scale's bits 12-15 (sign and exponent's top bits)
            if type == .iq1_S { bytes[b * 50 + 1] &= 0xBB } else { bytes[b * 56 + 55] &= 0xBB }
        }
        var want = [Float](repeating: .nan, count: blocks * type.blockSize)
        try bytes.withUnsafeBytes { src in try want.withUnsafeMutableBufferPointer { try format.dequantizeRow(src, into: $0) } }
        var got = [Float](repeating: .nan, count: want.count)
        bytes.withUnsafeBytes { src in
            got.withUnsafeMutableBufferPointer { kernel.decode(src.baseAddress!, $0.baseAddress!, want.count) }
        }
        let differing = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(want.count) values differ")
    }
}
