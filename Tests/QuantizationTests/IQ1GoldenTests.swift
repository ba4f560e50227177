// Bit-exactness against ggml for IQ1_S and IQ1_M (Fixtures/quant-golden/imatrix, made by
// Fixtures/scripts/make_imatrix_quant_goldens.py with ggml 0.25.3): every case quantized with its importance
// vector, IQ1_M also without one, the 8×512 matrix in one call, and ggml's dequantization of the golden bytes.
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

/// The imatrix goldens as the IQ1 tests read them.
enum IQ1Golden {
    static let directory = "imatrix/"

    /// One importance weight per element of inputs.f32, laid out as the cases are.
    static let importance: [Float] = (try? Golden.floats(directory + "importance.f32")) ?? []

    static func importance(_ c: Golden.Case) -> [Float] { Array(importance[c.offset..<(c.offset + c.count)]) }

    /// Quantizes `row` as rows of `rowLength` with `importance` (nil: without), through `quantizeRows`.
    static func quantize(
        _ format: BlockFormat, _ row: [Float], rowLength: Int, importance: [Float]?
    ) throws -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: try format.rowByteCount(elements: row.count))  // not pre-zeroed
        try row.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                if let importance {
                    try importance.withUnsafeBufferPointer {
                        try format.quantizeRows(src, rowLength: rowLength, importance: $0, into: dst)
                    }
                } else {
                    try format.quantizeRows(src, rowLength: rowLength, importance: nil, into: dst)
                }
            }
        }
        return out
    }
}

@Suite struct IQ1GoldenTests {
    static let types: [GGMLType] = [.iq1_S, .iq1_M]

    @Test func goldenFilesLoad() {
        #expect(IQ1Golden.importance.count == Golden.inputs.count)
    }

    /// ggml's dequantization of the imatrix golden, float bits equal.
    @Test(arguments: types)
    func dequantizedGoldenEqualsGolden(type: GGMLType) throws {
        let golden = try Golden.bytes("imatrix/\(type.name).imatrix.quant")
        let want = try Golden.floats("imatrix/\(type.name).dequant.f32.zst")
        #expect(want.count == golden.count / type.typeSize * type.blockSize)
        var got = [Float](repeating: .nan, count: want.count)
        golden.withUnsafeBytes { src in
            got.withUnsafeMutableBufferPointer { dst in
                let dequantize = type == .iq1_S ? BlockIQ1_S.dequantize : BlockIQ1_M.dequantize
                dequantize(src.baseAddress!, dst.baseAddress!, want.count / type.blockSize)
            }
        }
        let diff = firstFloatDifference(got, want, blockSize: type.blockSize)
        #expect(diff == nil, "\(diff ?? "")")
    }
}
