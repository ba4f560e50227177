// Bit-exactness of IQ3_XXS and IQ3_S against ggml (Fixtures/quant-golden/imatrix, made by
// Fixtures/scripts/make_imatrix_quant_goldens.py): every input kind quantized with and without importance, the
// 8 × 512 matrix in one call, and ggml's dequantization of the importance-quantized bytes.
import Foundation
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

/// The imatrix golden directory's files as the IQ3 tests read them.
enum IQ3Golden {
    static let types: [GGMLType] = [.iq3_XXS, .iq3_S]

    static func file(_ name: String) -> String { "imatrix/\(name)" }

    /// One weight per element of inputs.f32, laid out as the cases.
    static let importance: [Float] = (try? Golden.floats(file("importance.f32"))) ?? []

    /// skipped.tsv's (type, variant, case) triples where ggml aborted: "imatrix" or "plain".
    static let aborted: Set<String> = {
        let text = String(decoding: (try? Golden.bytes(file("skipped.tsv"))) ?? [], as: UTF8.self)
        return Set(text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, f[3].contains("aborted") else { return nil }
            return "\(f[0])/\(f[1])/\(f[2])"
        })
    }()

    static func isAborted(_ type: GGMLType, weighted: Bool, _ c: Golden.Case) -> Bool {
        aborted.contains("\(type.name)/\(weighted ? "imatrix" : "plain")/\(c.name)")
    }

    static func importance(_ c: Golden.Case) -> [Float] { Array(importance[c.offset..<(c.offset + c.count)]) }

    /// `row` quantized as ggml_quantize_chunk does: one call of `rows` rows, with or without column weights.
    static func quantizeRows(_ format: BlockFormat, _ row: [Float], rowLength: Int, importance: [Float]?) throws -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: try format.rowByteCount(elements: row.count))
        try row.withUnsafeBufferPointer { src in
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

@Suite struct IQ3GoldenTests {
    @Test func goldenFilesLoad() {
        #expect(IQ3Golden.importance.count == Golden.inputs.count)
        #expect(IQ3Golden.aborted.contains("IQ3_S/imatrix/huge"))
        #expect(IQ3Golden.aborted.contains("IQ3_XXS/plain/huge"))
    }

    /// The search grids built from ggml's `kgrid_256` / `kgrid_512` are the dequantization grids: IQ3_S's points
    /// are `iq3s_grid`'s bytes, and IQ3_XXS's levels are `iq3xxs_grid`'s eight byte values in order.
    @Test func searchGridsAreTheDecodeGrids() {
        let xxsValues: [UInt32] = [4, 12, 20, 28, 36, 44, 52, 62]
        for (index, decode, value) in [(IQ3GridIndex.xxs, IQTables.iq3xxsGrid, { (p: UInt8) in xxsValues[Int(p) / 2] }),
                                       (IQ3GridIndex.s, IQTables.iq3sGrid, { (p: UInt8) in UInt32(p) })] {
            #expect(index.gridSize == decode.count)
            for k in 0..<index.gridSize {
                let p = index.point(k)
                let packed = (0..<4).reduce(UInt32(0)) { $0 | value(p[$1]) << (8 * UInt32($1)) }
                #expect(packed == decode[k], "grid \(index.gridSize) point \(k)")
            }
        }
    }

    /// Every level combination maps to its grid point or to its neighbour list, and each list is what ggml's
    /// loop makes: all (distance, index) pairs sorted as `qsort` with `iq3_compare_func` leaves them, cut after the
    /// `nwant` smallest distinct distances (checked on every third off-grid point, to keep the debug build quick).
    @Test(arguments: [(256, 2), (512, 3)])
    func neighbourListsAreGGMLsSortedPrefix(gridSize: Int, nwant: Int) {
        let index = gridSize == 256 ? IQ3GridIndex.xxs : IQ3GridIndex.s
        #expect(index.gridSize == gridSize)
        var onGrid = 0
        for u in 0..<IQ3GridIndex.mapSize {
            if index.map[u] >= 0 {
                onGrid += 1
                #expect(index.gridIndex(of: (0..<4).map { Int8((u >> (3 * $0)) & 7) }) == Int(index.map[u]))
                continue
            }
            if u % 3 != 0 { continue }
            let pairs = (0..<gridSize).map { j -> (Int, Int) in
                let p = index.point(j)
                let d2 = (0..<4).reduce(0) { s, k in
                    let d = Int(p[k]) - (2 * ((u >> (3 * k)) & 7) + 1)
                    return s + d * d
                }
                return (d2, j)
            }.sorted { $0 < $1 }
            var want: [UInt16] = []
            var d2 = pairs[0].0, nhave = 1
            for (distance, j) in pairs {
                if distance > d2 {
                    if nhave == nwant { break }
                    d2 = distance
                    nhave += 1
                }
                want.append(UInt16(j))
            }
            let list = index.neighbourList(u)
            let got = (0..<Int(list[0])).map { list[1 + $0] }
            #expect(got == want, "grid \(gridSize) point \(u)")
        }
        #expect(onGrid == gridSize)
    }

    /// Each case with and without importance, separately, so a failure names the input kind and the block. The
    /// cases where ggml aborted (`huge`) are quantized too, to show ours returns, and not compared.
    @Test(arguments: IQ3Golden.types, [false, true])
    func quantizedBytesEqualGolden(type: GGMLType, weighted: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let golden = try Golden.bytes(IQ3Golden.file("\(type.name).\(weighted ? "imatrix." : "")quant"))
        var offset = 0
        var compared = 0
        for c in Golden.cases(for: type) {
            let size = try format.rowByteCount(elements: c.count)
            let want = Array(golden[offset..<(offset + size)])
            offset += size
            let row = Array(Golden.row(c))
            let got = weighted
                ? try IQ3Golden.quantizeRows(format, row, rowLength: c.count, importance: IQ3Golden.importance(c))
                : try format.quantize(row, reference: true)
            #expect(got.count == size)
            if IQ3Golden.isAborted(type, weighted: weighted, c) { continue }
            compared += 1
            if let diff = firstByteDifference(got, want, typeSize: format.typeSize) {
                Issue.record("\(type) \(weighted ? "imatrix" : "plain") \(c.name): \(diff)")
            }
        }
        #expect(offset == golden.count, "the golden holds more cases than cases.tsv lists for \(type)")
        #expect(compared >= 16)
    }

    /// The 8 × 512 matrix in one call (rows of two super-blocks), with and without its column weights.
    @Test(arguments: IQ3Golden.types, [false, true])
    func matrixEqualsGolden(type: GGMLType, weighted: Bool) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let matrix = try Golden.floats(IQ3Golden.file("matrix.f32"))
        let importance = try Golden.floats(IQ3Golden.file("matrix.importance.f32"))
        #expect(matrix.count == 8 * 512 && importance.count == 512)
        let got = try IQ3Golden.quantizeRows(format, matrix, rowLength: 512, importance: weighted ? importance : nil)
        let want = try Golden.bytes(IQ3Golden.file("\(type.name).matrix.\(weighted ? "imatrix." : "")quant"))
        let diff = firstByteDifference(got, want, typeSize: format.typeSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    @Test(arguments: IQ3Golden.types)
    func dequantizedGoldenEqualsGolden(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let got = try format.dequantize(try Golden.bytes(IQ3Golden.file("\(type.name).imatrix.quant")))
        let want = try Golden.floats(IQ3Golden.file("\(type.name).dequant.f32.zst"))
        #expect(!want.isEmpty)
        let diff = firstFloatDifference(got, want, blockSize: format.blockSize)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// ggml's IQ3_S quirk, kept: after an all-zero group the next groups' indices and signs land one slot early
    /// (the cursors into qs and signs skip their advance), while qh stays indexed by the group. Without importance
    /// each group's search depends on that group alone, so zeroing group 0 shifts the other groups' bytes.
    @Test func iq3SZeroGroupShiftsLaterGroups() throws {
        let format = try #require(QuantizationFormats.format(for: .iq3_S))
        var z: UInt64 = 1
        let row: [Float] = (0..<256).map { _ in
            z = z &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(z >> 40) - (1 << 23)) / Float(1 << 23)
        }
        var zeroed = row
        for i in 0..<32 { zeroed[i] = 0 }
        let a = try format.quantize(row, reference: true), b = try format.quantize(zeroed, reference: true)
        let (qs, qh, signs) = (2, 66, 74)
        for g in 1..<8 {
            #expect(b[(qs + 8 * (g - 1))..<(qs + 8 * g)] == a[(qs + 8 * g)..<(qs + 8 * g + 8)], "qs of group \(g)")
            #expect(b[(signs + 4 * (g - 1))..<(signs + 4 * g)] == a[(signs + 4 * g)..<(signs + 4 * g + 4)], "signs of group \(g)")
            #expect(b[qh + g] == a[qh + g], "qh of group \(g)")
        }
        #expect(b[(qs + 56)..<(qs + 64)].allSatisfy { $0 == 0 } && b[(signs + 28)..<(signs + 32)].allSatisfy { $0 == 0 })
        #expect(b[qh] == 0)
    }

    /// Inputs ggml aborts on or that overflow every sum (1e30, ±inf, NaN, the largest floats): ours returns
    /// bytes of the right size without trapping, with and without importance.
    @Test(arguments: IQ3Golden.types)
    func degenerateInputsDoNotTrap(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kinds: [[Float]] = [
            (0..<256).map { Float($0 % 7) * 1e30 - 3e30 },
            (0..<256).map { $0 % 3 == 0 ? .infinity : -Float($0) },
            (0..<256).map { $0 % 5 == 0 ? .nan : Float($0) },
            (0..<256).map { $0 % 2 == 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude },
            [Float](repeating: .leastNonzeroMagnitude, count: 256),
            (0..<256).map { Float(bitPattern: UInt32(truncatingIfNeeded: ($0 &* 2654435761) ^ ($0 << 23))) },  // any bits
        ]
        for row in kinds {
            let plain = try format.quantize(row, reference: true)
            #expect(plain.count == format.typeSize)
            let weights = (0..<256).map { Float($0 % 4) }
            let weighted = try IQ3Golden.quantizeRows(format, row, rowLength: 256, importance: weights)
            #expect(weighted.count == format.typeSize)
            _ = try format.dequantize(plain)
        }
    }
}
