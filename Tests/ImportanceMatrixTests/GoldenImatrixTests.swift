// `qwenkit imatrix` against llama-imatrix: the same calibration text, context and chunks on F32 fixture models must
// give the same weights, counts exactly and sums of squares within 1e-4 relative (the two forward passes differ
// in float rounding only). Goldens: Fixtures/imatrix, made by Fixtures/scripts/make_imatrix_fixtures.py.

import Conversion
import Foundation
import ImportanceMatrix
import ModelFiles
import Perplexity
import Qwen2Runtime
import QwenTokenizer
import Testing
import TestSupport

@Suite struct GoldenImatrixTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let model: String
        let variant: String
        var chunks = 4
        var firstChunk = 0
        var includeOutput = false
        var testDescription: String { "\(model).\(variant)" }
    }

    static let cases = [
        Case(model: "q2-tied", variant: "c64"),
        Case(model: "q2-tied", variant: "c64.output", includeOutput: true),
        Case(model: "q2-tied", variant: "c64.from1", chunks: 2, firstChunk: 1),
        Case(model: "q2moe", variant: "c64"),
        Case(model: "q2moe", variant: "c64.output", includeOutput: true),
        Case(model: "q2moe", variant: "c64.from1", chunks: 2, firstChunk: 1),
    ]

    /// Ours, computed as `qwenkit imatrix MODEL -f calibration.txt -c 64 …` does, with its running perplexity.
    static func compute(_ c: Case) throws -> ImportanceMatrix { try computeWithPerplexity(c).matrix }

    static func computeWithPerplexity(_ c: Case) throws -> (matrix: ImportanceMatrix, perplexity: PerplexityEstimate) {
        let model = try Qwen2Model(path: fixturePath("convert-golden/\(c.model).f32.gguf"))
        let tokenizer = try TokenizerSpec(gguf: try GGUFFile(path: fixturePath("convert-golden/\(c.model).f32.gguf"))).build()
        let text = try readFile(fixturePath("imatrix/calibration.txt"))
        var ids: [UInt32] = []
        try text.withUnsafeBufferPointer { try tokenizer.makeEncoder().encode($0, special: .text, into: &ids) }
        var options = ImportanceMatrixRun.Options()
        options.chunkSize = 64
        options.chunkLimit = c.chunks
        options.firstChunk = c.firstChunk
        options.includeOutput = c.includeOutput
        options.computePerplexity = true
        let run = try ImportanceMatrixRun(tokens: ids, options: options)
        let collector = ImportanceMatrixCollector(chunkSize: 64, includeOutput: c.includeOutput)
        collector.addDataset("Fixtures/imatrix/calibration.txt")
        let estimate = try #require(try run.run(model: model, collector: collector))
        return (collector.matrix, estimate)
    }

    /// llama-imatrix's running perplexity and final estimate, as its log printed them.
    static func loggedPerplexity(_ c: Case) throws -> (running: [Double], final: Double, error: Double) {
        let log = String(decoding: try readFile(fixturePath("imatrix/\(c.model).\(c.variant).log")), as: UTF8.self)
        let lines = log.split(separator: "\n").map(String.init)
        let running = try #require(lines.first { $0.hasPrefix("[1]") }).split(separator: ",").map { Double($0.split(separator: "]")[1])! }
        let final = try #require(lines.first { $0.hasPrefix("Final estimate: PPL = ") }).dropFirst("Final estimate: PPL = ".count)
            .components(separatedBy: " +/- ").map { Double($0)! }
        return (running, final[0], final[1])
    }

    static func expectClose(_ ours: ImportanceMatrix, _ golden: ImportanceMatrix, _ what: String) {
        #expect(ours.chunkCount == golden.chunkCount && ours.chunkSize == golden.chunkSize, "\(what)")
        #expect(ours.entries.keys.sorted() == golden.entries.keys.sorted(), "\(what): weights differ")
        var worst = 0.0, at = ""
        for (name, g) in golden.entries {
            guard let o = ours.entries[name] else { continue }
            #expect(o.columns == g.columns && o.counts == g.counts, "\(what) \(name): counts \(o.counts) vs \(g.counts)")
            guard o.sums.count == g.sums.count else { continue }
            for (a, b) in zip(o.sums, g.sums) {
                let relative = Double(abs(a - b)) / max(Double(abs(b)), 1e-6)
                if relative > worst { (worst, at) = (relative, name) }
            }
        }
        #expect(worst <= 1e-4, "\(what): worst relative difference \(worst) in \(at)")
    }

    @Test(arguments: cases)
    func equalsLlamaImatrix(_ c: Case) throws {
        let golden = try ImportanceMatrixFile.readGGUF(fixturePath("imatrix/\(c.model).\(c.variant).imatrix.gguf"))
        let (ours, estimate) = try Self.computeWithPerplexity(c)
        Self.expectClose(ours, golden, c.testDescription)
        // The running perplexity it printed, as printed (4 and 5 decimals; measured within 1.3e-7 relative).
        let logged = try Self.loggedPerplexity(c)
        let (ppl, error) = estimate.final
        #expect(estimate.running.count == logged.running.count, "\(c.testDescription)")
        for (a, b) in zip(estimate.running + [ppl, error ?? .nan], logged.running + [logged.final, logged.error]) {
            #expect(abs(a - b) <= 1e-5 * b, "\(c.testDescription): perplexity \(a) vs \(b)")
        }
        // Written and read back, our file holds the same.
        try withTemporaryDirectory { dir in
            try ImportanceMatrixFile.write(ours, to: dir + "/ours.gguf", format: .gguf)
            #expect(try ImportanceMatrixFile.readGGUF(dir + "/ours.gguf") == ours)
        }
    }

    /// The legacy layout: llama-imatrix's .dat and ours decode to the same (value × chunk size, ncall × chunk size).
    @Test(arguments: ["q2-tied", "q2moe"])
    func legacyLayoutEqualsLlamaImatrix(_ model: String) throws {
        let golden = try ImportanceMatrixFile.readDat(fixturePath("imatrix/\(model).c64.imatrix.dat"), chunkSize: 64)
        let ours = try Self.compute(Case(model: model, variant: "c64"))
        try withTemporaryDirectory { dir in
            try ImportanceMatrixFile.write(ours, to: dir + "/ours.dat", format: .dat)
            let back = try ImportanceMatrixFile.readDat(dir + "/ours.dat", chunkSize: 64)
            Self.expectClose(back, golden, "\(model) dat")
            #expect(back.datasets == golden.datasets)
        }
    }

    /// --in-file without a text: the matrices added up exactly as llama-imatrix adds them (a dat file scaled by the
    /// chunk size), datasets appended, the chunk count from the largest count.
    @Test(arguments: [("q2moe.combined", "q2moe.c64.imatrix.gguf"), ("q2moe.combined-dat", "q2moe.c64.imatrix.dat")])
    func combiningEqualsLlamaImatrix(_ golden: String, _ first: String) throws {
        var combined = ImportanceMatrix(chunkSize: 64)
        for name in [first, "q2moe.c64.from1.imatrix.gguf"] {
            try combined.add(try ImportanceMatrixFile.read(fixturePath("imatrix/" + name), chunkSize: 64), from: name)
        }
        let expected = try ImportanceMatrixFile.readGGUF(fixturePath("imatrix/\(golden).imatrix.gguf"))
        #expect(combined.entries.keys.sorted() == expected.entries.keys.sorted())
        for (name, entry) in expected.entries {
            #expect(combined.entries[name]?.sums == entry.sums && combined.entries[name]?.counts == entry.counts, "\(name)")
        }
        #expect(combined.datasets == expected.datasets && combined.chunkCount == expected.chunkCount
            && combined.chunkSize == expected.chunkSize, "\(combined.datasets) \(combined.chunkCount)")
    }

    /// A matrix of another model is refused by name.
    @Test func combiningAnotherModelIsRefused() throws {
        var matrix = try ImportanceMatrixFile.readGGUF(fixturePath("imatrix/q2moe.c64.imatrix.gguf"))
        var other = try ImportanceMatrixFile.readGGUF(fixturePath("imatrix/q2-tied.c64.imatrix.gguf"))
        other.entries = other.entries.filter { $0.key == "blk.0.ffn_down.weight" }
        other.entries["blk.0.attn_q.weight"] = ImportanceMatrix.Entry(columns: 48, matrices: 1)
        #expect(throws: ImportanceMatrixError.mismatched(path: "other.gguf", weight: "blk.0.attn_q.weight", reason: "48 sums, not 32")) {
            try matrix.add(other, from: "other.gguf")
        }
    }
}
