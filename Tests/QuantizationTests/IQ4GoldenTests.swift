// Bit-exactness against ggml for IQ4_NL and IQ4_XS: every input kind of Fixtures/quant-golden quantized as ggml's
// `ggml_quantize_chunk` does, with and without the importance vector (Fixtures/quant-golden/imatrix, made by
// make_imatrix_quant_goldens.py), one row per call and as one 8 × 512 matrix; and dequantized to the same float
// bits as ggml's `dequantize_row_iq4_nl` / `_iq4_xs`.
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

/// Fixtures/quant-golden/imatrix as these tests read it.
enum IQ4Golden {
    static let types: [GGMLType] = [.iq4_NL, .iq4_XS]

    static func file(_ name: String) -> String { "imatrix/" + name }

    /// One weight per element of inputs.f32, laid out as the cases.
    static let importance: [Float] = (try? Golden.floats(file("importance.f32"))) ?? []

    static func importance(_ c: Golden.Case) -> [Float] { Array(importance[c.offset..<(c.offset + c.count)]) }

    /// The cases and variants ggml aborted on (none for these types, but the file is the authority).
    static let skipped: Set<String> = {
        let text = String(decoding: (try? Golden.bytes(file("skipped.tsv"))) ?? [], as: UTF8.self)
        return Set(text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: "\t")
            return f.count >= 4 && f[3] == "ggml aborted" ? "\(f[0])/\(f[1])/\(f[2])" : nil
        })
    }()

    /// `rows` quantized as ggml_quantize_chunk(type, rows, ..., nrows, rowLength, importance).
    static func quantize(_ format: BlockFormat, _ rows: [Float], rowLength: Int, importance: [Float]?) throws -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: try format.rowByteCount(elements: rows.count))  // not pre-zeroed
        try rows.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                if let importance {
                    try importance.withUnsafeBufferPointer { imp in
                        try format.quantizeRows(src, rowLength: rowLength, importance: imp, into: dst)
                    }
                } else {
                    try format.quantizeRows(src, rowLength: rowLength, importance: nil, into: dst)
                }
            }
        }
        return out
    }
}

@Suite struct IQ4GoldenTests {
    @Test func fixturesLoad() {
        #expect(IQ4Golden.importance.count == Golden.inputs.count)
        #expect(IQ4Golden.skipped.allSatisfy { !$0.hasPrefix("IQ4_") })
    }

    /// Each case as its own row, with (`.imatrix.quant`) and without (`.quant`) its importance; a failure names
    /// the input kind, the block and the byte.
    @Test(arguments: IQ4Golden.types, [true, false])
    func quantizedCasesEqualGolden(type: GGMLType, withImportance: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let golden = try Golden.bytes(IQ4Golden.file("\(type.name)\(withImportance ? ".imatrix" : "").quant"))
        var offset = 0
        for c in Golden.cases(for: type) {
            let size = try format.rowByteCount(elements: c.count)
            let want = Array(golden[offset..<(offset + size)])
            offset += size
            if IQ4Golden.skipped.contains("\(type.name)/\(withImportance ? "imatrix" : "plain")/\(c.name)") { continue }
            let got = try IQ4Golden.quantize(
                format, Array(Golden.row(c)), rowLength: c.count, importance: withImportance ? IQ4Golden.importance(c) : nil)
            if let diff = firstByteDifference(got, want, typeSize: format.typeSize) {
                Issue.record("\(type) \(withImportance ? "imatrix" : "plain") \(c.name): \(diff)")
            }
        }
        #expect(offset == golden.count, "the golden holds more cases than cases.tsv lists for \(type)")
    }

    /// Without importance, `quantizeRow` (the reference, all cases laid end to end as one run of blocks) gives
    /// the same bytes: the quantizer depends on nothing outside a block.
    @Test(arguments: IQ4Golden.types)
    func referenceOnAllCasesEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let rows = Golden.cases(for: type).flatMap { Golden.row($0) }
        let golden = try Golden.bytes(IQ4Golden.file("\(type.name).quant"))
        for reference in [true, false] {
            let diff = firstByteDifference(try format.quantize(rows, reference: reference), golden, typeSize: format.typeSize)
            #expect(diff == nil, "\(diff ?? "")")
        }
    }

    /// The 8 × 512 matrix in one call, with and without its column importance.
    @Test(arguments: IQ4Golden.types, [true, false])
    func quantizedMatrixEqualsGolden(type: GGMLType, withImportance: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let matrix = try Golden.floats(IQ4Golden.file("matrix.f32"))
        let importance = try Golden.floats(IQ4Golden.file("matrix.importance.f32"))
        #expect(matrix.count == 8 * 512 && importance.count == 512)
        let got = try IQ4Golden.quantize(format, matrix, rowLength: 512, importance: withImportance ? importance : nil)
        let want = try Golden.bytes(IQ4Golden.file("\(type.name).matrix\(withImportance ? ".imatrix" : "").quant"))
        let diff = firstByteDifference(got, want, typeSize: format.typeSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    @Test(arguments: IQ4Golden.types)
    func dequantizedGoldenEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let got = try format.dequantize(try Golden.bytes(IQ4Golden.file("\(type.name).imatrix.quant")))
        let want = try Golden.floats(IQ4Golden.file("\(type.name).dequant.f32.zst"))
        let diff = firstFloatDifference(got, want, blockSize: format.blockSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// Rows no golden holds (NaN, ±inf, any bit pattern, values near Float.greatestFiniteMagnitude, subnormals,
    /// all-zero blocks, ties on the value midpoints; NaN and zero importance) and the goldens' own rows: the
    /// quantizers finish without trapping, and the lane searches give the reference's bytes, with and without
    /// importance.
    @Test(arguments: IQ4Golden.types)
    func fastEqualsReference(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let weightedReference = type == .iq4_NL ? BlockIQ4_NL.quantizeWeightedReference : BlockIQ4_XS.quantizeWeightedReference
        var rng = SplitMix64(seed: 4)
        let n = 3 * 256
        var rows: [(String, [Float], [Float])] = []
        for kind in 0..<10 {
            let row: [Float] = (0..<n).map { i in
                let u = Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1
                switch kind {
                case 0: return i % 97 == 5 ? .nan : u
                case 1: return i % 64 == 9 ? (i % 128 == 9 ? .infinity : -.infinity) : u
                case 2: return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
                case 3: return u * .greatestFiniteMagnitude
                case 4: return i < 256 ? 0 : u * Float(bitPattern: 0x0000_0100)
                case 5: return i % 32 == 0 ? 127 : Float(Int(u * 120)) + 0.5  // ties
                case 6: return u * u * u * 3
                case 7: return i % 256 < 32 ? 0 : u * 1e-20
                case 8: return i % 32 == 3 ? 50 * u : 0.01 * u
                default: return .nan
                }
            }
            let importance: [Float] = (0..<n).map { i in
                kind == 4 ? 0 : kind == 0 && i % 7 == 0 ? .nan : Float(rng.next() >> 40) / Float(1 << 24) + Float(i % 3)
            }
            rows.append(("kind \(kind)", row, importance))
        }
        for c in Golden.cases(for: type) { rows.append((c.name, Array(Golden.row(c)), IQ4Golden.importance(c))) }
        for (name, row, importance) in rows {
            #expect(try format.quantize(row) == format.quantize(row, reference: true), "\(type) \(name) plain")
            let fast = try IQ4Golden.quantize(format, row, rowLength: row.count, importance: importance)
            var reference = [UInt8](repeating: 0x55, count: fast.count)
            row.withUnsafeBufferPointer { x in
                importance.withUnsafeBufferPointer { imp in
                    reference.withUnsafeMutableBytes { y in
                        weightedReference(x.baseAddress!, y.baseAddress!, 1, row.count, imp.baseAddress!)
                    }
                }
            }
            let diff = firstByteDifference(fast, reference, typeSize: format.typeSize)
            #expect(diff == nil, "\(type) \(name) with importance: \(diff ?? "")")
            #expect(try format.dequantize(fast).count == row.count)
        }
    }

    /// `best_index_int8` on the values themselves, the midpoints between neighbours (a tie goes to the upper
    /// value: the test is `x − val[mu−1] < val[mu] − x`), just below them, the ends and NaN.
    @Test func bestIndexMatchesGGML() {
        let v = IQTables.kvaluesIQ4NL.map(Float.init)
        for i in 0..<16 {
            #expect(IQ4Search.bestIndex(v[i]) == UInt8(i))
            if i < 15 {
                let mid = (v[i] + v[i + 1]) / 2
                #expect(IQ4Search.bestIndex(mid) == UInt8(i + 1))
                #expect(IQ4Search.bestIndex(mid.nextDown) == UInt8(i))
            }
        }
        #expect(IQ4Search.bestIndex(-1000) == 0)
        #expect(IQ4Search.bestIndex(.infinity) == 15)
        #expect(IQ4Search.bestIndex(.nan) == 15)
        // the lanes' count of midpoints, on those values and their neighbours
        var probes: [Float] = [-1000, .infinity, -.infinity, .nan, 0, -0.0, Float.leastNonzeroMagnitude, 1e-30]
        for i in 0..<16 {
            probes += [v[i], v[i].nextUp, v[i].nextDown]
            if i < 15 {
                let mid = (v[i] + v[i + 1]) / 2
                probes += [mid, mid.nextUp, mid.nextDown, mid.nextUp.nextUp, mid.nextDown.nextDown]
            }
        }
        let top = FloatLanes(repeating: v[15])
        for x in probes {
            let l = IQ4Search.bestIndex(x)
            #expect(IQ4Search.bestIndexLanes(FloatLanes(repeating: x)) == IndexLanes(repeating: Int32(l)), "\(x)")
            let q = IQ4Search.nearestValueLanes(FloatLanes(repeating: x), IQ4Search.midpointsAndGaps, top: top)
            #expect(q == FloatLanes(repeating: v[Int(l)]), "\(x)")
        }
    }
}
