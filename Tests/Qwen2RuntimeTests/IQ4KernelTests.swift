import ModelFiles
import Quantization
import Testing
import TestSupport
@testable import Qwen2Runtime

/// The fused IQ4 kernels' register lookup rebuilds exactly the dequantizer's values: random blocks (every index,
/// every 6-bit sub-block scale, finite fp16 scales of both signs) decoded by the kernel equal ggml's
/// `dequantize_row_iq4_nl` / `_iq4_xs` bit for bit.
@Suite struct IQ4KernelTests {
    @Test(arguments: [GGMLType.iq4_NL, .iq4_XS])
    func decodeEqualsDequantizerBitForBit(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type))
        #expect(kernel.dot != nil)
        let blocks = 64, n = blocks * type.blockSize
        var rng = SplitMix64(seed: 20)
        var bytes = (0..<(blocks * type.typeSize)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for b in 0..<blocks {  // a finite fp16 d: exponent field below 31
            bytes[b * type.typeSize + 1] = bytes[b * type.typeSize + 1] & 0xBF
        }
        var want = [Float](repeating: 0, count: n), got = [Float](repeating: .nan, count: n)
        try bytes.withUnsafeBytes { src in
            try want.withUnsafeMutableBufferPointer { try format.dequantizeRow(src, into: $0) }
            got.withUnsafeMutableBufferPointer { kernel.decode(src.baseAddress!, $0.baseAddress!, n) }
        }
        let differing = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(type.name): \(differing) of \(n) values differ")
    }
}
