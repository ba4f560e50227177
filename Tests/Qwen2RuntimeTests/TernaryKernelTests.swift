import ModelFiles
import Quantization
import Testing
import TestSupport
@testable import Qwen2Runtime

/// The ternary visitors decode every byte pattern (TQ1_0 bytes above 242 and TQ2_0's field 3 included, which ggml's
/// quantizers never write) to the same float bits as ggml's `dequantize_row_tq*_0`.
@Suite struct TernaryKernelTests {
    @Test(arguments: [GGMLType.tq1_0, .tq2_0])
    func decodeEqualsDequantizerOnRandomBytes(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type))
        let blocks = 64, n = blocks * type.blockSize
        var z: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = (0..<(blocks * type.typeSize)).map { _ -> UInt8 in
            z = z &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: z >> 56)
        }
        // finite scales of every size: the fp16 exponent field kept below 31
        let dOffset = type == .tq1_0 ? 52 : 64
        for block in 0..<blocks {
            let p = block * type.typeSize + dOffset
            bytes[p + 1] = (bytes[p + 1] & 0x83) | UInt8((block % 30) << 2)
        }
        var want = [Float](repeating: .nan, count: n), got = [Float](repeating: .nan, count: n)
        try bytes.withUnsafeBytes { raw in
            try want.withUnsafeMutableBufferPointer { try format.dequantizeRow(raw, into: $0) }
            got.withUnsafeMutableBufferPointer { kernel.decode(raw.baseAddress!, $0.baseAddress!, n) }
        }
        let differing = (0..<n).filter { got[$0].bitPattern != want[$0].bitPattern }
        if let first = differing.first {
            Issue.record("\(type.name): \(differing.count) of \(n) values differ; first at \(first): \(got[first]) vs \(want[first])")
        }
    }
}
