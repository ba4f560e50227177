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

    /// Each case with its importance, one row per call (a failure names the case, the block and the byte).
    @Test(arguments: types)
    func imatrixBytesEqualGolden(type: GGMLType) throws {
        try expectCasesEqualGolden(type, golden: "\(type.name).imatrix.quant", weighted: true)
    }

    /// IQ1_M without importance (IQ1_S requires it).
    @Test func plainIQ1_MBytesEqualGolden() throws {
        try expectCasesEqualGolden(.iq1_M, golden: "IQ1_M.quant", weighted: false)
    }

    func expectCasesEqualGolden(_ type: GGMLType, golden name: String, weighted: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let golden = try Golden.bytes(IQ1Golden.directory + name)
        var offset = 0
        for c in Golden.cases(for: type) {
            let size = try format.rowByteCount(elements: c.count)
            let want = Array(golden[offset..<(offset + size)])
            offset += size
            let got = try IQ1Golden.quantize(
                format, Array(Golden.row(c)), rowLength: c.count, importance: weighted ? IQ1Golden.importance(c) : nil)
            if let diff = firstByteDifference(got, want, typeSize: format.typeSize) {
                Issue.record("\(type) \(c.name): \(diff)")
            }
        }
        #expect(offset == golden.count, "the golden holds more cases than cases.tsv lists for \(type)")
    }

    /// The 8×512 matrix in one call: rows share the importance vector.
    @Test(arguments: [(GGMLType.iq1_S, true), (.iq1_M, true), (.iq1_M, false)])
    func matrixBytesEqualGolden(type: GGMLType, weighted: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let matrix = try Golden.floats(IQ1Golden.directory + "matrix.f32")
        let importance = try Golden.floats(IQ1Golden.directory + "matrix.importance.f32")
        let got = try IQ1Golden.quantize(format, matrix, rowLength: 512, importance: weighted ? importance : nil)
        let want = try Golden.bytes(IQ1Golden.directory + "\(type.name).matrix\(weighted ? ".imatrix" : "").quant")
        let diff = firstByteDifference(got, want, typeSize: format.typeSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// IQ1_S cannot be made without an importance vector, as ggml_quantize_requires_imatrix says.
    @Test func iq1SRequiresImportance() throws {
        let format = try #require(QuantizationFormats.format(for: .iq1_S))
        #expect(format.requiresImportance)
        #expect(QuantizationFormats.format(for: .iq1_M)?.requiresImportance == false)
        #expect(throws: QuantizationError.needsImportance(type: "IQ1_S")) {
            _ = try format.quantize([Float](repeating: 1, count: 256))
        }
    }

    /// Rows ggml cannot quantize sensibly (values near the float limit, infinities, NaN) give bytes, not a trap.
    @Test(arguments: types)
    func nonFiniteRowsDoNotTrap(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        var row = (0..<256).map { Float($0) / 128 - 1 }
        for (i, special) in [Float.infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude].enumerated() {
            row[37 * i + 3] = special
        }
        let huge = row.map { $0 * 1e38 }
        for r in [row, huge, [Float](repeating: .nan, count: 256), [Float](repeating: .infinity, count: 256)] {
            for importance in [[Float](repeating: 1, count: 256), [Float](repeating: .infinity, count: 256)] {
                _ = try IQ1Golden.quantize(format, r, rowLength: 256, importance: importance)
            }
        }
    }
}

/// The sort before the split search: on values with ties (an ordering without NaN) glibc's merge sort is stable,
/// so it must agree with any stable sort, here an insertion sort; −0 and +0 compare equal and keep their order.
@Suite struct IQ1MergeSortTests {
    @Test(arguments: [16, 32])
    func equalsAStableSort(count: Int) {
        var z: UInt64 = 12345
        for _ in 0..<200 {
            let values: [Float] = (0..<count).map { _ in
                z = z &* 6364136223846793005 &+ 1442695040888963407
                let v = Float(Int(z >> 61)) - 3  // -3...4: many ties
                return v == 0 && z & 0x100 != 0 ? -0.0 : v
            }
            var expected = Array(values.indices)
            for i in 1..<count {  // insertion sort, stable
                var j = i
                while j > 0 && values[expected[j - 1]] > values[expected[j]] {
                    expected.swapAt(j - 1, j)
                    j -= 1
                }
            }
            var sorted = values
            var order = (0..<count).map(Int32.init)
            var tmpValues = [Float](repeating: 0, count: count), tmpOrder = [Int32](repeating: 0, count: count)
            sorted.withUnsafeMutableBufferPointer { v in
                order.withUnsafeMutableBufferPointer { o in
                    tmpValues.withUnsafeMutableBufferPointer { tv in
                        tmpOrder.withUnsafeMutableBufferPointer { to in
                            iq1MergeSort(v.baseAddress!, o.baseAddress!, count, tv.baseAddress!, to.baseAddress!)
                        }
                    }
                }
            }
            #expect(order.map(Int.init) == expected)
            #expect(sorted.map(\.bitPattern) == expected.map { values[$0].bitPattern })
        }
    }
}
