// `qwenkit perplexity` against llama-perplexity (Fixtures/perplexity, made by make_perplexity_fixtures.py): the same
// text, context and chunks on the F32 fixture models give the same perplexities within float rounding, base files
// that hold the same values, and the same KL-divergence figures from the same base file.

import Foundation
import Perplexity
import Qwen2Runtime
import Testing
import TestSupport

/// The measured agreement, with room: the two forward passes differ in float rounding only.
enum Tolerance {
    /// Perplexity and its error, relative (the issue asks for 1e-4; measured: 3.7e-7 at most, the printed 4-5 decimals
    /// included).
    static let perplexity = 1e-5
    /// A base file row: its scale and minimum log-probability, relative (measured 9.5e-7) …
    static let baseFloats = 1e-5
    /// … and its 16-bit values, in steps of scale (measured: at most 1 step, 0.7-0.9% of the values differ at all).
    static let baseSteps = 4
    /// A printed KL-divergence figure where both runs are float32 (F32 weights, also quantized ones requantized to
    /// F32): one unit of its last printed digit plus this, relative to the figure's scale (float noise; measured 2.0e-7).
    static let kldFloat = 1e-5
    /// The same where llama.cpp rounds the activations of Q8_0 and Q4_0 weights to 8 bits and we do not: no longer
    /// float noise but another computation (measured 3.2e-2 for both types on the dense model, where a few tokens
    /// change their top token; 1.0e-1 for Q8_0 on the MoE model, where 8-bit activations change some routing, at the
    /// 99th KLD percentile of 124 positions).
    static let kldQuantized = 0.2
}

@Suite struct GoldenPerplexityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let model: String
        let context: Int
        let chunks: Int?
        var golden: String { "\(model).c\(context).ppl.txt" }
        var testDescription: String { golden }
    }

    static let cases = [
        Case(model: "q2-tied", context: 64, chunks: 4), Case(model: "q2-tied", context: 128, chunks: 8),
        Case(model: "q2-tied", context: 512, chunks: nil),
        Case(model: "q2moe", context: 64, chunks: 4), Case(model: "q2moe", context: 128, chunks: 8),
    ]

    static func options(_ context: Int, _ chunks: Int?) -> PerplexityOptions {
        var options = PerplexityOptions()
        options.context = context
        options.chunkLimit = chunks
        options.threads = 2
        return options
    }

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }

    static func expectClose(_ ours: PerplexityRun.Result, _ golden: LlamaOutput, _ what: String) throws {
        let final = try #require(golden.final, "\(what): no final estimate")
        #expect(ours.runningPerplexity.count == golden.running.count, "\(what)")
        var worst = 0.0
        for (a, b) in zip(ours.runningPerplexity, golden.running) { worst = max(worst, relative(a, b)) }
        worst = max(worst, relative(ours.perplexity, final.ppl), relative(ours.perplexityError ?? .nan, final.error))
        #expect(worst <= Tolerance.perplexity, "\(what): worst relative difference \(worst)")
        print("\(what): perplexity \(ours.perplexity) vs \(final.ppl), worst relative difference \(worst)")
    }

    @Test(arguments: cases)
    func perplexityEqualsLlama(_ c: Case) throws {
        let run = try PerplexityRun(tokens: try Fixture.tokens(c.model), options: Self.options(c.context, c.chunks))
        let ours = try run.run(model: try Qwen2Model(path: Fixture.modelPath(c.model)))
        try Self.expectClose(ours, try LlamaOutput(file: c.golden), c.golden)
    }

    /// Writing a base file: the perplexity from that path (float arithmetic) as llama-perplexity printed it, and a file
    /// with its header and tokens to the byte and its rows value for value (not byte for byte: the logits differ in
    /// their last bits, so a 16-bit value on a rounding boundary may differ by a step).
    @Test(arguments: [("q2-tied", 64, 4), ("q2-tied", 128, 3), ("q2moe", 64, 4), ("q2moe", 128, 3)])
    func baseFileEqualsLlama(_ model: String, _ context: Int, _ chunks: Int) throws {
        let name = "\(model).c\(context).kld-base"
        let run = try PerplexityRun(tokens: try Fixture.tokens(model), options: Self.options(context, chunks))
        try withTemporaryDirectory { dir in
            let writer = try KLDivergenceBaseWriter(path: dir + "/base", header: run.baseHeader(vocabulary: 320), tokens: run.baseTokens)
            let ours = try run.run(model: try Qwen2Model(path: Fixture.modelPath(model)), base: writer)
            try Self.expectClose(ours, try LlamaOutput(file: name + ".txt"), name + ".txt")
            try Self.expectSameValues(dir + "/base", fixturePath("perplexity/" + name), name)
            if context == 64 {
                // The base file qwenkit wrote when the goldens were made (llama-perplexity read it: KLD tests below).
                try Self.expectSameValues(dir + "/base", fixturePath("perplexity/\(model).c64.qwenkit.kld-base"), "\(model) qwenkit base")
            }
        }
    }

    static func expectSameValues(_ path: String, _ goldenPath: String, _ what: String) throws {
        let ours = try KLDivergenceBaseReader(path: path), golden = try KLDivergenceBaseReader(path: goldenPath)
        #expect(ours.header == golden.header && ours.tokens == golden.tokens, "\(what): header or tokens differ")
        let h = golden.header, count = h.scoredPerChunk * h.rowWidth
        var a = [UInt16](repeating: 0, count: count), b = a
        var worstFloat = 0.0, worstSteps = 0, differing = 0
        for _ in 0..<h.chunks {
            try a.withUnsafeMutableBufferPointer { try ours.readChunk(into: $0) }
            try b.withUnsafeMutableBufferPointer { try golden.readChunk(into: $0) }
            for r in 0..<h.scoredPerChunk {
                let o = r * h.rowWidth
                for k in [0, 2] {
                    let x = Float(bitPattern: UInt32(a[o + k]) | UInt32(a[o + k + 1]) << 16)
                    let y = Float(bitPattern: UInt32(b[o + k]) | UInt32(b[o + k + 1]) << 16)
                    worstFloat = max(worstFloat, relative(Double(x), Double(y)))
                }
                for i in (o + 4)..<(o + h.rowWidth) where a[i] != b[i] {
                    differing += 1
                    worstSteps = max(worstSteps, abs(Int(a[i]) - Int(b[i])))
                }
            }
        }
        #expect(worstFloat <= Tolerance.baseFloats && worstSteps <= Tolerance.baseSteps,
                "\(what): scale/minimum within \(worstFloat) relative, values within \(worstSteps) steps")
        print("\(what): scale/minimum within \(worstFloat) relative; \(differing) of \(h.chunks * h.scoredPerChunk * h.vocabulary) "
            + "values differ, by at most \(worstSteps) steps")
    }

    struct KLDCase: Sendable, CustomTestStringConvertible {
        let model: String
        let variant: String
        var base = "c64.kld-base"
        var golden: String { "\(model).\(variant).\(base == "c64.qwenkit.kld-base" ? "c64.qwenkit-base" : base.replacingOccurrences(of: ".kld-base", with: "")).kld.txt" }
        var testDescription: String { golden }
        /// Relative tolerance past the last printed digit.
        var tolerance: Double {
            variant == "q8_0" || variant == "q4_0" ? Tolerance.kldQuantized : Tolerance.kldFloat
        }
    }

    static let kldCases: [KLDCase] = ["q2-tied", "q2moe"].flatMap { m in
        ["f32", "q4_0-f32", "q8_0", "q4_0"].map { KLDCase(model: m, variant: $0) }
            + [KLDCase(model: m, variant: "q4_0", base: "c128.kld-base"),
               KLDCase(model: m, variant: "q4_0-f32", base: "c64.qwenkit.kld-base"),
               KLDCase(model: m, variant: "q4_0", base: "c64.qwenkit.kld-base")]
    }

    /// Our KL divergence of a model against a base file and llama-perplexity's on the same file: every figure it
    /// prints, per chunk and at the end, as printed (so also the labels and formats). The base files are llama's and,
    /// for the other direction, ours as llama-perplexity read it.
    @Test(arguments: kldCases)
    func klDivergenceEqualsLlama(_ c: KLDCase) throws {
        try withTemporaryDirectory { dir in
            try Self.expectKLDAgrees(model: try Fixture.model(c.model, c.variant, in: dir), base: fixturePath("perplexity/\(c.model).\(c.base)"),
                                     golden: c.golden, tolerance: c.tolerance, againstItself: c.variant == "f32")
        }
    }

    /// Our KL divergence of `model` against `base` and llama-perplexity's in `golden`: every figure it prints, per
    /// chunk and at the end, as printed (so also the labels and formats), within `tolerance` past the printed digit.
    static func expectKLDAgrees(model path: String, base basePath: String, golden goldenName: String, tolerance: Double,
                                againstItself: Bool) throws {
        let model = try Qwen2Model(path: path)
        let base = try KLDivergenceBaseReader(path: basePath)
        var options = PerplexityOptions()
        options.threads = 2
        let run = try KLDivergenceRun(base: base, model: model, context: nil, textTokens: nil, options: options)
        let result = try run.run(model: model)
        let text = PerplexityReport.chunkTableTitle + result.lines.map(PerplexityReport.chunkLine).joined()
            + PerplexityReport.summary(result.summary)
        let ours = LlamaOutput(text: text), golden = try LlamaOutput(file: goldenName)
        #expect(ours.statisticLabels == golden.statisticLabels, "\(goldenName): labels differ")
        #expect(ours.table.count == golden.table.count, "\(goldenName)")
        // Each figure against its scale: perplexities (and their differences and errors) against the base's
        // perplexity, percentages against 100 %, the rest (logs, KLD in nats) against max(|figure|, 1).
        let basePPL = golden.statistics["Mean PPL(base)"]?.first?.value ?? 1
        var pairs: [(String, LlamaOutput.Figure, LlamaOutput.Figure, Double)] = []
        for (i, (a, b)) in zip(ours.table, golden.table).enumerated() {
            for (j, (x, y)) in zip(a, b).enumerated() where !(againstItself && j == 3) {
                pairs.append(("chunk \(i + 1) column \(j + 1)", x, y, j < 2 ? basePPL : j >= 6 ? 100 : 1))
            }
        }
        for label in golden.statisticLabels {
            for (k, (x, y)) in zip(ours.statistics[label] ?? [], golden.statistics[label]!).enumerated() {
                // A model against its own base: the errors of the ratio and the difference are the square root of
                // a difference of nearly equal sums, rounding noise only (llama-perplexity's own run prints -nan).
                if againstItself, k == 1, ["Mean ln(PPL(Q)/PPL(base))", "Mean PPL(Q)/PPL(base)", "Mean PPL(Q)-PPL(base)"].contains(label) {
                    continue
                }
                let percent = label.contains("Δp") || label.hasPrefix("Same top") || label.hasPrefix("Cor(")
                let perplexity = !label.contains("/") && (label.contains("PPL(Q)") || label.contains("PPL(base)"))
                pairs.append((label, x, y, perplexity ? basePPL : percent ? 100 : 1))
            }
        }
        var worst = 0.0, at = ""
        for (label, x, y, scale) in pairs where !(x.value.isNaN && y.value.isNaN) {
            // Past one unit of the last printed digit, relative to the figure's scale.
            let excess = max(0, abs(x.value - y.value) - y.unit) / max(abs(y.value), scale)
            if !(excess <= worst) { (worst, at) = (excess, "\(label): \(x.value) vs \(y.value)") }
        }
        #expect(worst <= tolerance, "\(goldenName): worst \(worst) at \(at)")
        print("\(goldenName): worst relative difference past the printed digit \(worst) (\(at))")
    }

    /// The models the KL-divergence goldens ran are the ones the tests make in-process (qwenkit's quantizer writes
    /// llama-quantize's bytes).
    @Test func quantizedModelsAreLlamasOnes() throws {
        let lines = String(decoding: try readFile(fixturePath("perplexity/quantized.sha256")), as: UTF8.self).split(separator: "\n")
        try withTemporaryDirectory { dir in
            for line in lines {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                let name = String(parts[1]).replacingOccurrences(of: ".gguf", with: "")
                let dot = name.firstIndex(of: ".")!
                let path = try Fixture.model(String(name[..<dot]), String(name[name.index(after: dot)...]), in: dir)
                guard let hash = try Fixture.sha256(path) else { return }
                #expect(hash == String(parts[0]), "\(name)")
            }
        }
    }
}
