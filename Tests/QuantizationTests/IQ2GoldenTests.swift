// Bit-exactness against ggml for IQ2_XXS, IQ2_XS and IQ2_S (Fixtures/quant-golden/imatrix, made by
// Fixtures/scripts/make_imatrix_quant_goldens.py with ggml 0.25.3): every case quantized with its importance
// vector, IQ2_S also without one, the 8×512 matrix in one call, and ggml's dequantization of the golden bytes.
// Cases ggml aborted on (skipped.tsv: the `huge` case hits GGML_ASSERT in the grid searches) are quantized too,
// to show that this code returns instead of trapping, but their bytes are not compared.
import Foundation
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

/// The imatrix goldens as the IQ2 tests read them.
enum IQ2Golden {
    static let directory = "imatrix/"

    /// One importance weight per element of inputs.f32, laid out as the cases are.
    static let importance: [Float] = (try? Golden.floats(directory + "importance.f32")) ?? []

    static func importance(_ c: Golden.Case) -> [Float] { Array(importance[c.offset..<(c.offset + c.count)]) }

    /// skipped.tsv's (type, variant, case) triples where ggml aborted.
    static let aborted: Set<String> = {
        let text = String(decoding: (try? Golden.bytes(directory + "skipped.tsv")) ?? [], as: UTF8.self)
        return Set(text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return f.count >= 4 && f[3] == "ggml aborted" ? "\(f[0])/\(f[1])/\(f[2])" : nil
        })
    }()

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

    /// Every case of `type` against TYPE.<variant>.quant (cases one row per call, concatenated in case order).
    static func checkCases(_ type: GGMLType, weighted: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let variant = weighted ? "imatrix" : "plain"
        let golden = try Golden.bytes(directory + "\(type.name).\(weighted ? "imatrix." : "")quant")
        var offset = 0
        var compared = 0
        for c in Golden.cases(for: type) {
            let size = c.count / type.blockSize * type.typeSize
            let want = Array(golden[offset..<(offset + size)])
            offset += size
            let got = try quantize(format, Array(Golden.row(c)), rowLength: c.count,
                                   importance: weighted ? importance(c) : nil)
            if aborted.contains("\(type.name)/\(variant)/\(c.name)") { continue }  // ran without a trap
            let diff = firstByteDifference(got, want, typeSize: type.typeSize)
            #expect(diff == nil, "\(type.name) \(variant) \(c.name): \(diff ?? "")")
            compared += 1
        }
        #expect(offset == golden.count)
        #expect(compared > 10)
    }
}

@Suite struct IQ2GoldenTests {
    static let types: [GGMLType] = [.iq2_XXS, .iq2_XS, .iq2_S]

    @Test func goldenFilesLoad() {
        #expect(IQ2Golden.importance.count == Golden.inputs.count)
        #expect(IQ2Golden.aborted.contains("IQ2_S/plain/huge"))
    }

    @Test(arguments: types)
    func casesWithImportanceEqualGolden(type: GGMLType) throws {
        try IQ2Golden.checkCases(type, weighted: true)
    }

    @Test func iq2SCasesWithoutImportanceEqualGolden() throws {
        try IQ2Golden.checkCases(.iq2_S, weighted: false)
    }

    /// The 8×512 matrix in one call, with its column importance (and IQ2_S without).
    @Test(arguments: [(GGMLType.iq2_XXS, true), (.iq2_XS, true), (.iq2_S, true), (.iq2_S, false)])
    func matrixEqualsGolden(type: GGMLType, weighted: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let matrix = try Golden.floats(IQ2Golden.directory + "matrix.f32")
        let importance = try Golden.floats(IQ2Golden.directory + "matrix.importance.f32")
        #expect(matrix.count == 8 * 512 && importance.count == 512)
        let want = try Golden.bytes(IQ2Golden.directory + "\(type.name).matrix.\(weighted ? "imatrix." : "")quant")
        let got = try IQ2Golden.quantize(format, matrix, rowLength: 512, importance: weighted ? importance : nil)
        let diff = firstByteDifference(got, want, typeSize: type.typeSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// IQ2_XXS and IQ2_XS cannot be made without importance, as in ggml.
    @Test(arguments: [GGMLType.iq2_XXS, .iq2_XS])
    func requiresImportance(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        #expect(format.requiresImportance)
        #expect(throws: QuantizationError.needsImportance(type: type.name)) {
            _ = try format.quantize([Float](repeating: 1, count: 256))
        }
        #expect(QuantizationFormats.format(for: .iq2_S)?.requiresImportance == false)
    }

    /// ggml's dequantization of the imatrix golden, float bits equal.
    @Test(arguments: types)
    func dequantizedGoldenEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let golden = try Golden.bytes(IQ2Golden.directory + "\(type.name).imatrix.quant")
        let want = try Golden.floats(IQ2Golden.directory + "\(type.name).dequant.f32.zst")
        #expect(want.count == golden.count / type.typeSize * type.blockSize)
        let got = try format.dequantize(golden)
        let diff = firstFloatDifference(got, want, blockSize: type.blockSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// Rows of extreme values (the cases ggml aborts on and worse) quantize without a trap.
    @Test(arguments: types)
    func extremeRowsDoNotTrap(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let rows: [[Float]] = [
            [Float](repeating: .greatestFiniteMagnitude, count: 256),
            (0..<256).map { $0 % 2 == 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude },
            (0..<256).map { $0 % 3 == 0 ? Float.infinity : Float($0) },
            (0..<256).map { $0 % 5 == 0 ? Float.nan : -Float($0) * 1e30 },
            [Float](repeating: .leastNonzeroMagnitude, count: 256),
        ]
        for row in rows {
            for importance in [[Float](repeating: 1, count: 256), [Float](repeating: .infinity, count: 256),
                               [Float](repeating: 0, count: 256)] {
                let bytes = try IQ2Golden.quantize(format, row, rowLength: 256, importance: importance)
                #expect(bytes.count == type.typeSize)
            }
        }
    }
}
