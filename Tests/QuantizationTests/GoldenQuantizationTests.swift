// Bit-exactness against ggml: every block type quantizes every input kind of Fixtures/quant-golden to the same
// bytes as ggml's quantize_row_*_ref (legacy types also as gguf-py), and dequantizes to the same float bits as
// ggml's dequantize_row_* (and gguf-py).
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

@Suite struct GoldenQuantizationTests {
    @Test func goldenFilesLoad() throws {
        #expect(Golden.cases.count >= 19)
        #expect(Golden.inputs.count == Golden.cases.map(\.count).reduce(0, +))
        #expect(Golden.cases.contains { $0.name == "weights_4864" })
    }

    /// Each case separately, so a failure names the input kind, the block and the byte.
    @Test(arguments: Golden.blockTypes)
    func quantizedBytesEqualGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let golden = try Golden.bytes("\(type.name).quant")
        var offset = 0
        for c in Golden.cases(for: type) {
            let size = try format.rowByteCount(elements: c.count)
            let want = Array(golden[offset..<(offset + size)])
            offset += size
            let got = try format.quantize(Golden.row(c), reference: true)
            if let diff = firstByteDifference(got, want, typeSize: format.typeSize) {
                Issue.record("\(type) \(c.name): \(diff)")
            }
        }
        #expect(offset == golden.count, "the golden holds more cases than cases.tsv lists for \(type)")
    }

    /// The registry's quantizer (a fast path where there is one) gives the golden bytes too, on the whole
    /// golden at once (rows laid end to end).
    @Test(arguments: Golden.blockTypes)
    func registryQuantizerEqualsGoldenOnAllCases(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let rows = Golden.cases(for: type).flatMap { Golden.row($0) }
        let got = try format.quantize(rows)
        let diff = firstByteDifference(got, try Golden.bytes("\(type.name).quant"), typeSize: format.typeSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    @Test(arguments: Golden.blockTypes)
    func dequantizedGoldenEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let got = try format.dequantize(try Golden.bytes("\(type.name).quant"))
        let want = try Golden.floats("\(type.name).dequant.f32.zst")
        let diff = firstFloatDifference(got, want, blockSize: format.blockSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// Random bytes with finite scales: every index pattern, sign and scale bit combination.
    @Test(arguments: Golden.blockTypes)
    func dequantizedRandomBlocksEqualGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let got = try format.dequantize(try Golden.bytes("\(type.name).random.quant"))
        let want = try Golden.floats("\(type.name).random.dequant.f32.zst")
        #expect(!want.isEmpty)
        let diff = firstFloatDifference(got, want, blockSize: format.blockSize)
        #expect(diff == nil, "\(diff ?? "")")
    }
}
