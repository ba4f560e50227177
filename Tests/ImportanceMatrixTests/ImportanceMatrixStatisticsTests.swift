// `qwenkit imatrix --show-statistics` against llama-imatrix's: the same matrices must give the same two tables, byte
// for byte (float32 arithmetic in llama-imatrix's order, its printf formats). Goldens: Fixtures/imatrix/*.statistics.txt,
// made by Fixtures/scripts/make_imatrix_statistics_fixtures.py from the matrices make_imatrix_fixtures.py made.

@testable import ImportanceMatrix
import Testing
import TestSupport

@Suite struct ImportanceMatrixStatisticsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let golden: String
        let matrix: String
        var chunkSize = 512
        var testDescription: String { golden }
    }

    static let cases = [
        Case(golden: "q2-tied.c64", matrix: "q2-tied.c64.imatrix.gguf"),
        Case(golden: "q2moe.c64", matrix: "q2moe.c64.imatrix.gguf"),
        Case(golden: "q2moe.c64.output", matrix: "q2moe.c64.output.imatrix.gguf"),
        Case(golden: "q2-tied.c64.dat", matrix: "q2-tied.c64.imatrix.dat", chunkSize: 64),
        Case(golden: "q2moe.c64.dat", matrix: "q2moe.c64.imatrix.dat", chunkSize: 64),
    ]

    @Test(arguments: cases)
    func equalsLlamaImatrix(_ c: Case) throws {
        let matrix = try ImportanceMatrixFile.read(fixturePath("imatrix/" + c.matrix), chunkSize: c.chunkSize)
        let statistics = try #require(ImportanceMatrixStatistics(matrix))
        // llama-imatrix printed the path as given on its command line, from the repository root.
        let ours = statistics.rendered(path: "Fixtures/imatrix/" + c.matrix)
        let golden = String(decoding: try readFile(fixturePath("imatrix/\(c.golden).statistics.txt")), as: UTF8.self)
        let a = ours.split(separator: "\n", omittingEmptySubsequences: false)
        let b = golden.split(separator: "\n", omittingEmptySubsequences: false)
        let differing = zip(a, b).enumerated().filter { $1.0 != $1.1 }.prefix(3)
            .map { "line \($0 + 1):\n  ours:  \($1.0)\n  llama: \($1.1)" }
        #expect(ours == golden, "\(a.count) vs \(b.count) lines\n\(differing.joined(separator: "\n"))")
        #expect(statistics.skipped.isEmpty)
    }

    /// An expert without tokens is left out of its weight's activations; a weight without any is left out, by name.
    @Test func zeroCountsAreSkipped() throws {
        var matrix = ImportanceMatrix(chunkSize: 4)
        matrix.entries["blk.0.ffn_up_exps.weight"] = .init(columns: 2, sums: [4, 8, 100, 100, 2, 2], counts: [2, 0, 1])
        matrix.entries["blk.0.attn_q.weight"] = .init(columns: 2, sums: [0, 0], counts: [0])
        let statistics = try #require(ImportanceMatrixStatistics(matrix))
        #expect(statistics.skipped == ["blk.0.attn_q.weight"])
        let t = try #require(statistics.tensors.first)
        #expect(statistics.tensors.count == 1 && t.elements == 4 && t.total == 10 && t.minimum == 2 && t.maximum == 4
            && t.mean == 2.5 && t.layer == "0" && t.shortName == "ffn_up_exps")
        #expect(statistics.layers.map(\.index) == [0] && statistics.layers[0].meanTotal == 10)

        var empty = ImportanceMatrix(chunkSize: 4)
        empty.entries["blk.0.attn_q.weight"] = .init(columns: 2, sums: [0, 0], counts: [0])
        #expect(ImportanceMatrixStatistics(empty) == nil)
    }

    /// llama-imatrix's name handling: process_tensor_name, compute_cossim's `blk\.(\d+)\.` and std::stoi.
    @Test func names() {
        #expect(ImportanceMatrixStatistics.splitName("blk.12.attn_q.weight") == ("12", "attn_q"))
        #expect(ImportanceMatrixStatistics.splitName("output.weight") == ("-", "output"))
        #expect(ImportanceMatrixStatistics.splitName("token_embd") == ("-", "token_embd"))
        #expect(ImportanceMatrixStatistics.splitName("blk.") == ("-", "blk."))
        #expect(ImportanceMatrixStatistics.previousLayerName("blk.10.ffn_down.weight") == "blk.9.ffn_down.weight")
        #expect(ImportanceMatrixStatistics.previousLayerName("blk.007.x.weight") == "blk.6.x.weight")
        #expect(ImportanceMatrixStatistics.previousLayerName("blk.0.x.weight") == "blk.-1.x.weight")
        #expect(ImportanceMatrixStatistics.previousLayerName("output.weight") == nil)
        #expect(ImportanceMatrixStatistics.previousLayerName("blk.x.blk.3.y") == "blk.x.blk.2.y")
        #expect(ImportanceMatrixStatistics.stoi("3") == 3 && ImportanceMatrixStatistics.stoi(" +4x") == 4)
        #expect(ImportanceMatrixStatistics.stoi("-") == nil && ImportanceMatrixStatistics.stoi("99999999999") == nil)
    }
}
