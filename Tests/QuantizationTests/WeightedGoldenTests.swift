// Bit-exactness of the importance-weighted quantizers of the legacy and K types (ggml's `quantize_<type>` with an
// importance vector: `quantize_row_q4_0_impl` … `quantize_row_q6_K_impl`) against Fixtures/quant-golden/imatrix,
// made by Fixtures/scripts/make_imatrix_quant_goldens.py with ggml 0.25.3 through `ggml_quantize_chunk`.
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

/// The imatrix goldens of the types with a weighted quantizer here.
private enum WeightedGolden {
    static let directory = "imatrix/"

    /// The types whose quantizer uses the importance vector (Q8_0 ignores it).
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    /// One weight per element of inputs.f32, laid out as the cases are.
    static let importance: [Float] = (try? Golden.floats(directory + "importance.f32")) ?? []

    static func importance(_ c: Golden.Case) -> [Float] { Array(importance[c.offset..<(c.offset + c.count)]) }

    static let matrixRows = 8
    static let matrixColumns = 512

    /// Each type's scalar weighted quantizer, ggml's `_impl` step by step (the registry holds the lanes version).
    static func reference(_ type: GGMLType) -> BlockFormat.QuantizeRows? {
        switch type {
        case .q4_0: return BlockQ4_0.quantizeWeightedReference
        case .q4_1: return BlockQ4_1.quantizeWeightedReference
        case .q5_0: return BlockQ5_0.quantizeWeightedReference
        case .q5_1: return BlockQ5_1.quantizeWeightedReference
        case .q2_K: return BlockQ2_K.quantizeWeightedReference
        case .q3_K: return BlockQ3_K.quantizeWeightedReference
        case .q4_K: return BlockQ4_K.quantizeWeightedReference
        case .q5_K: return BlockQ5_K.quantizeWeightedReference
        case .q6_K: return BlockQ6_K.quantizeWeightedReference
        default: return nil
        }
    }
}

/// `quantize(source, rows, rowLength, importance)` into a fresh buffer of `format`'s size (not pre-zeroed).
private func runRows(
    _ quantize: BlockFormat.QuantizeRows, _ format: BlockFormat, _ source: [Float], rowLength: Int, importance: [Float]
) throws -> [UInt8] {
    var out = [UInt8](repeating: 0xAA, count: try format.rowByteCount(elements: source.count))
    source.withUnsafeBufferPointer { src in
        importance.withUnsafeBufferPointer { qw in
            out.withUnsafeMutableBytes { dst in
                quantize(src.baseAddress!, dst.baseAddress!, source.count / rowLength, rowLength, qw.baseAddress!)
            }
        }
    }
    return out
}

extension BlockFormat {
    /// `quantizeRows` on arrays: `source` as rows of `rowLength` with `importance` (or none).
    fileprivate func quantizeWeightedRows(_ source: [Float], rowLength: Int, importance: [Float]?) throws -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: try rowByteCount(elements: source.count))  // not pre-zeroed
        try source.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                if let importance {
                    try importance.withUnsafeBufferPointer { try quantizeRows(src, rowLength: rowLength, importance: $0, into: dst) }
                } else {
                    try quantizeRows(src, rowLength: rowLength, importance: nil, into: dst)
                }
            }
        }
        return out
    }
}

@Suite struct WeightedGoldenTests {
    @Test func goldenFilesLoad() throws {
        #expect(WeightedGolden.importance.count == Golden.inputs.count)
    }

    /// Each case as one row with its importance, as the golden was made; a failure names the case, block and byte.
    @Test(arguments: WeightedGolden.types)
    func weightedBytesEqualGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let golden = try Golden.bytes(WeightedGolden.directory + "\(type.name).imatrix.quant")
        var offset = 0
        for c in Golden.cases(for: type) {
            let size = try format.rowByteCount(elements: c.count)
            let want = Array(golden[offset..<(offset + size)])
            offset += size
            let got = try format.quantizeWeightedRows(
                Array(Golden.row(c)), rowLength: c.count, importance: WeightedGolden.importance(c))
            if let diff = firstByteDifference(got, want, typeSize: format.typeSize) {
                Issue.record("\(type) \(c.name): \(diff)")
            }
        }
        #expect(offset == golden.count, "the golden holds more cases than cases.tsv lists for \(type)")
    }

    /// The 8 × 512 matrix in one call: the legacy types' σ² is per row, so rows must not run together.
    @Test(arguments: WeightedGolden.types + [.q8_0])
    func weightedMatrixEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let matrix = try Golden.floats(WeightedGolden.directory + "matrix.f32")
        let importance = try Golden.floats(WeightedGolden.directory + "matrix.importance.f32")
        #expect(matrix.count == WeightedGolden.matrixRows * WeightedGolden.matrixColumns)
        #expect(importance.count == WeightedGolden.matrixColumns)
        let want = try Golden.bytes(WeightedGolden.directory + "\(type.name).matrix.imatrix.quant")
        let got = try format.quantizeWeightedRows(matrix, rowLength: WeightedGolden.matrixColumns, importance: importance)
        let diff = firstByteDifference(got, want, typeSize: format.typeSize)
        #expect(diff == nil, "\(type) matrix: \(diff ?? "")")
    }

    /// Q8_0 ignores the importance vector, as ggml's `quantize_q8_0` does: its imatrix golden is its reference.
    @Test func q8_0IgnoresImportance() throws {
        let format = try #require(QuantizationFormats.format(for: .q8_0))
        #expect(format.quantizeRowsWithImportance == nil)
        let golden = try Golden.bytes(WeightedGolden.directory + "Q8_0.imatrix.quant")
        let rows = Golden.cases(for: .q8_0).flatMap { Golden.row($0) }
        #expect(try format.quantize(rows, reference: true) == golden)
    }

    /// Without importance, `quantizeRows` is the reference (ggml's `quantize_<type>` with a null imatrix).
    @Test(arguments: WeightedGolden.types)
    func rowsWithoutImportanceAreReference(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let c = try #require(Golden.cases.first { $0.name == "normal" })
        let row = Array(Golden.row(c))
        let got = try format.quantizeWeightedRows(row, rowLength: QK_K, importance: nil)
        #expect(got == (try format.quantize(row, reference: true)))
    }

    /// The scalar references give the golden bytes too (the tests above run the registry's lanes versions).
    @Test(arguments: WeightedGolden.types)
    func referenceEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let reference = try #require(WeightedGolden.reference(type))
        let golden = try Golden.bytes(WeightedGolden.directory + "\(type.name).imatrix.quant")
        var offset = 0
        for c in Golden.cases(for: type) {
            let size = try format.rowByteCount(elements: c.count)
            let got = try runRows(reference, format, Array(Golden.row(c)), rowLength: c.count,
                                  importance: WeightedGolden.importance(c))
            if let diff = firstByteDifference(got, Array(golden[offset..<(offset + size)]), typeSize: format.typeSize) {
                Issue.record("\(type) \(c.name): \(diff)")
            }
            offset += size
        }
        let matrix = try Golden.floats(WeightedGolden.directory + "matrix.f32")
        let importance = try Golden.floats(WeightedGolden.directory + "matrix.importance.f32")
        let got = try runRows(reference, format, matrix, rowLength: WeightedGolden.matrixColumns, importance: importance)
        let diff = firstByteDifference(got, try Golden.bytes(WeightedGolden.directory + "\(type.name).matrix.imatrix.quant"),
                                       typeSize: format.typeSize)
        #expect(diff == nil, "\(type) matrix: \(diff ?? "")")
    }

    /// Importance vectors of several kinds for `n` columns: log-normal-ish, with zero columns, flat, spanning many
    /// magnitudes, and with NaNs (which send a block to the scalar search).
    static func importance(kind: Int, n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { i -> Float in
            let u = Float(rng.next() >> 40) / Float(1 << 24)
            switch kind {
            case 0: return u * u * 4 + 0.01
            case 1: return i % 7 == 3 ? 0 : u
            case 2: return 1
            case 3: return Float(sign: .plus, exponent: Int(u * 50) - 25, significand: 1)
            default: return i % 300 == 11 ? .nan : u
            }
        }
    }

    /// The registry's lanes versions against the scalar references, byte for byte, on the rows the K-quant fast
    /// path tests use (every distribution and edge case, NaN and inf included) with two kinds of importance each (every kind in turn), in
    /// rows of 1536 (six super-blocks, or six octets of legacy blocks) and, for the legacy types, of 352 (an octet
    /// and three blocks left over) and 96 (three blocks: octets span rows, the last one partly filled).
    @Test(arguments: WeightedGolden.types)
    func lanesEqualReference(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let fast = try #require(format.quantizeRowsWithImportance)
        let reference = try #require(WeightedGolden.reference(type))
        let rowLengths = type.blockSize == 32 ? [1536, 352, 96] : [1536]
        for kind in 0..<KQuantFastPathTests.kinds {
            let row = KQuantFastPathTests.row(kind: kind, seed: 7000 + UInt64(kind))
            for rowLength in rowLengths {
                let source = Array(row[0..<(row.count / rowLength / 2 * rowLength)])
                for importanceKind in [kind % 5, (kind + 2) % 5] {
                    let qw = Self.importance(kind: importanceKind, n: rowLength, seed: UInt64(31 * kind + importanceKind))
                    let got = try runRows(fast, format, source, rowLength: rowLength, importance: qw)
                    let want = try runRows(reference, format, source, rowLength: rowLength, importance: qw)
                    if let diff = firstByteDifference(got, want, typeSize: format.typeSize) {
                        Issue.record("\(type) kind \(kind), importance \(importanceKind), rows of \(rowLength): \(diff)")
                    }
                }
            }
        }
    }
}
