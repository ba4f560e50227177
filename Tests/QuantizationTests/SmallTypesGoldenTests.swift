// Bit-exactness against ggml for the small block types (TQ1_0, TQ2_0, Q1_0, Q2_0, MXFP4, NVFP4), on the goldens of
// Fixtures/quant-golden/imatrix (make_imatrix_quant_goldens.py): each case quantized without and with its importance
// vector (which all six ignore, so both goldens must come out of the same bytes), the 8 × 512 matrix in one call,
// and the ggml dequantization of the importance goldens.
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

/// The imatrix golden directory as these tests read it.
enum SmallTypesGolden {
    static let types: [GGMLType] = [.tq1_0, .tq2_0, .q1_0, .q2_0, .mxfp4, .nvfp4]

    /// importance.f32: a weight per element of inputs.f32, in the same layout.
    static let importance: [Float] = (try? Golden.floats("imatrix/importance.f32")) ?? []

    /// (type, variant, case) of every case skipped.tsv lists, variant "imatrix" or "plain".
    static let skipped: Set<String> = {
        let text = String(decoding: (try? Golden.bytes("imatrix/skipped.tsv")) ?? [], as: UTF8.self)
        return Set(text.split(separator: "\n").dropFirst().map { line in
            line.split(separator: "\t", omittingEmptySubsequences: false).prefix(3).joined(separator: "\t")
        })
    }()

    static func isSkipped(_ type: GGMLType, _ variant: String, _ c: Golden.Case) -> Bool {
        skipped.contains("\(type.name)\t\(variant)\t\(c.name)")
    }

    /// `rows` quantized as `ggml_quantize_chunk` does, rows of `rowLength`, with or without `importance`.
    static func quantize(_ format: BlockFormat, _ rows: [Float], rowLength: Int, importance: [Float]?) throws -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: try format.rowByteCount(elements: rows.count))  // not pre-zeroed
        try rows.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                if let importance {
                    try importance.withUnsafeBufferPointer { w in
                        try format.quantizeRows(src, rowLength: rowLength, importance: w, into: dst)
                    }
                } else {
                    try format.quantizeRows(src, rowLength: rowLength, importance: nil, into: dst)
                }
            }
        }
        return out
    }
}

@Suite struct SmallTypesGoldenTests {
    @Test func goldenFilesLoad() {
        #expect(SmallTypesGolden.importance.count == Golden.inputs.count)
        #expect(!SmallTypesGolden.skipped.isEmpty)
    }

    @Test(arguments: SmallTypesGolden.types)
    func registered(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        #expect(format.type == type)
        #expect(!format.requiresImportance)
        #expect(format.quantizeRowsWithImportance == nil, "ggml's quantize_\(type.name.lowercased()) ignores the weights")
    }

    /// Each case separately, one row per call, without (TYPE.quant) and with (TYPE.imatrix.quant) its importance,
    /// through the reference and the registry's quantizer; a failure names the case, the block and the byte.
    @Test(arguments: SmallTypesGolden.types)
    func casesEqualGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        for (variant, file) in [("plain", "\(type.name).quant"), ("imatrix", "\(type.name).imatrix.quant")] {
            let golden = try Golden.bytes("imatrix/\(file)")
            var offset = 0
            for c in Golden.cases(for: type) {
                let size = try format.rowByteCount(elements: c.count)
                let want = Array(golden[offset..<(offset + size)])
                offset += size
                let row = Array(Golden.row(c))
                let importance = variant == "imatrix"
                    ? Array(SmallTypesGolden.importance[c.offset..<(c.offset + c.count)]) : nil
                let got = try SmallTypesGolden.quantize(format, row, rowLength: c.count, importance: importance)
                let reference = try format.quantize(row, reference: true)
                if SmallTypesGolden.isSkipped(type, variant, c) { continue }  // any bytes, as long as there is no trap
                if let diff = firstByteDifference(got, want, typeSize: format.typeSize) {
                    Issue.record("\(type) \(variant) \(c.name): \(diff)")
                }
                if let diff = firstByteDifference(reference, want, typeSize: format.typeSize) {
                    Issue.record("\(type) \(variant) \(c.name) (reference): \(diff)")
                }
            }
            #expect(offset == golden.count, "\(file) holds more cases than cases.tsv lists for \(type)")
        }
    }

    /// The 8 × 512 matrix in one call, without and with its column importance.
    @Test(arguments: SmallTypesGolden.types)
    func matrixEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let matrix = try Golden.floats("imatrix/matrix.f32")
        let importance = try Golden.floats("imatrix/matrix.importance.f32")
        #expect(matrix.count == 8 * 512 && importance.count == 512)
        for (weights, file) in [(nil, "\(type.name).matrix.quant"), (importance, "\(type.name).matrix.imatrix.quant")] {
            let got = try SmallTypesGolden.quantize(format, matrix, rowLength: 512, importance: weights)
            let diff = firstByteDifference(got, try Golden.bytes("imatrix/\(file)"), typeSize: format.typeSize)
            #expect(diff == nil, "\(file): \(diff ?? "")")
        }
    }

    /// TYPE.imatrix.quant dequantized equals ggml's dequantize_row_* bit for bit.
    @Test(arguments: SmallTypesGolden.types)
    func dequantizedGoldenEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let got = try format.dequantize(try Golden.bytes("imatrix/\(type.name).imatrix.quant"))
        let want = try Golden.floats("imatrix/\(type.name).dequant.f32.zst")
        #expect(!want.isEmpty)
        let diff = firstFloatDifference(got, want, blockSize: format.blockSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// Values no golden holds (NaN, infinities, the float extremes, subnormals, signed zeros, mixed in every block)
    /// quantize and dequantize without a trap, with and without importance, and every byte pattern dequantizes.
    @Test(arguments: SmallTypesGolden.types)
    func hostileValuesDoNotTrap(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let specials: [Float] = [.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                 .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, 0, -0.0,
                                 1e30, -1e-30, 0x1p-130, 3, -7, 448, 449, 1e7]
        let n = 4 * 256
        var rows: [[Float]] = [(0..<n).map { specials[$0 % specials.count] }]
        for special in specials {
            rows.append([Float](repeating: special, count: n))
            rows.append((0..<n).map { $0 % 7 == 0 ? special : Float($0 % 5) - 2 })
        }
        let importance = (0..<n).map { Float($0 % 3) }
        for row in rows {
            let plain = try format.quantize(row, reference: true)
            let weighted = try SmallTypesGolden.quantize(format, row, rowLength: n, importance: importance)
            #expect(plain == weighted)
            _ = try format.dequantize(plain)
        }
        let bytes = (0..<(n / type.blockSize * type.typeSize)).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) }
        _ = try format.dequantize(bytes)
    }
}

/// ggml-impl.h's scale conversions of MXFP4 and NVFP4, on every code.
@Suite struct FP4ScaleTests {
    /// `ggml_e8m0_to_fp32_half(x)` is 2^(x − 128) for every byte.
    @Test func e8m0HalfIsAPowerOfTwo() {
        for x in 0...255 {
            let want = Float(sign: .plus, exponent: x - 128, significand: 1)
            #expect(FP4.e8m0HalfToFloat(UInt8(x)).bitPattern == want.bitPattern, "e8m0 \(x)")
        }
    }

    /// Every UE4M3 code below the top binade encodes back to itself from twice its decoded value (the decoder
    /// halves). ggml's encoder sends every exponent of 15 to 0x7E, so 256...416 (codes 0x78...0x7D) come back as
    /// 448: it never writes those codes.
    @Test func ue4m3RoundTrips() {
        for code in UInt8(1)...0x7E {
            let value = 2 * FP4.ue4m3ToFloat(code)
            #expect(FP4.ue4m3(from: value) == (code < 0x78 ? code : 0x7E), "ue4m3 0x\(String(code, radix: 16)) = \(value)")
        }
        #expect(2 * FP4.ue4m3ToFloat(0x7E) == 448)
        #expect(FP4.ue4m3(from: .infinity) == 0x7E)
        #expect(FP4.ue4m3(from: .nan) == 0 && FP4.ue4m3(from: -1) == 0 && FP4.ue4m3(from: 0x1p-11) == 0)
    }
}
