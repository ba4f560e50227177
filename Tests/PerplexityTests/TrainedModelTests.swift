// `qwenkit perplexity` on the trained checkpoint (Fixtures/trained, the real tokenizer: numbers that mean something)
// against llama-perplexity (Fixtures/perplexity/qwen2-s256.*, made by make_trained_fixtures.py): the perplexity of
// the HF directory and of its F32 conversion, the base file, and the KL divergence of eight quantized models.

import Foundation
import Perplexity
import Quantize
import Qwen2Runtime
import QwenTokenizer
import Testing
import TestSupport

@Suite struct TrainedModelTests {
    static let name = TrainedModel.name

    /// The held-out text tokenized as llama-perplexity does (special tokens as text, the last newline dropped).
    static func tokens(_ checkpoint: String) throws -> [UInt32] {
        var text = try readFile(TrainedModel.evalTextPath)
        if text.last == 0x0A { text.removeLast() }
        var ids: [UInt32] = []
        try text.withUnsafeBufferPointer { try Tokenizer.load(path: checkpoint).makeEncoder().encode($0, special: .text, into: &ids) }
        return ids
    }

    /// The checkpoint itself (bf16 weights, read as float32) and its F32 GGUF give llama-perplexity's perplexity of
    /// that GGUF; the base file holds its values.
    @Test func perplexityAndBaseFileEqualLlama() throws {
        try withTemporaryDirectory { dir in
            let checkpoint = try TrainedModel.checkpoint(in: dir)
            let ids = try Self.tokens(checkpoint)
            let f32 = try TrainedModel.f32GGUF(checkpoint, in: dir)
            let golden = dir + "/golden.kld-base"
            try writeFile(golden, try TrainedModel.decompressed(fixturePath("perplexity/\(Self.name).c128.kld-base.zst")))
            let llama = try LlamaOutput(file: "\(Self.name).c128.kld-base.txt")
            let run = try PerplexityRun(tokens: ids, options: GoldenPerplexityTests.options(128, 2))
            try GoldenPerplexityTests.expectClose(try run.run(model: try Qwen2Model(path: checkpoint)), llama, "HF directory")
            let writer = try KLDivergenceBaseWriter(path: dir + "/base", header: run.baseHeader(vocabulary: 151_936), tokens: run.baseTokens)
            try GoldenPerplexityTests.expectClose(try run.run(model: try Qwen2Model(path: f32), base: writer), llama, "F32 GGUF")
            try GoldenPerplexityTests.expectSameValues(dir + "/base", golden, "\(Self.name) base")
        }
    }

    /// The quantized models llama-perplexity ran (made here by qwenkit's quantizer, byte-identical to llama-quantize's)
    /// and our KL divergence of each against its base file: every figure as it printed them. Q4_K_M requantized to F32
    /// runs quantized weights on the float32 path of both, so only float rounding separates the two; on the quantized
    /// files llama.cpp rounds activations to 8 bits first (Tolerance.kldQuantized).
    @Test func klDivergenceEqualsLlama() throws {
        try withTemporaryDirectory { dir in
            let checkpoint = try TrainedModel.checkpoint(in: dir)
            let f32 = try TrainedModel.f32GGUF(checkpoint, in: dir)
            let base = dir + "/base"
            try writeFile(base, try TrainedModel.decompressed(fixturePath("perplexity/\(Self.name).c128.kld-base.zst")))
            let lines = String(decoding: try readFile(fixturePath("perplexity/\(Self.name).quantized.sha256")), as: UTF8.self)
                .split(separator: "\n")
            #expect(lines.count == 9)
            for line in lines {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                let file = String(parts[1]), variant = file.dropFirst(Self.name.count + 1).dropLast(".gguf".count)
                let path = dir + "/" + file
                var options = QuantizeOptions()
                if variant.hasSuffix("-f32") {
                    options.allowRequantize = true
                    let input = dir + "/\(Self.name).\(variant.dropLast(4)).gguf"
                    _ = try Quantizer.write(try QuantizePlan(path: input, type: .f32, options: options), to: path)
                } else {
                    let type = try #require(QuantizeType(rawValue: variant.uppercased()), "\(variant)")
                    _ = try Quantizer.write(try QuantizePlan(path: f32, type: type, options: options), to: path)
                }
                if let hash = try Fixture.sha256(path) { #expect(hash == String(parts[0]), "\(file)") }
                try GoldenPerplexityTests.expectKLDAgrees(
                    model: path, base: base, golden: "\(Self.name).\(variant).c128.kld.txt",
                    tolerance: variant.hasSuffix("-f32") ? Tolerance.kldFloat : Tolerance.kldQuantized, againstItself: false)
            }
        }
    }
}
