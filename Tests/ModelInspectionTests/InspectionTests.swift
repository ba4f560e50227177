// The summary, tensor list and statistics of the tiny model fixtures, against the numbers the fixture script
// computed with numpy (Fixtures/models/expected.json, made by Fixtures/scripts/make_inspect_fixtures.py).

import Foundation
import ModelFiles
import Quantization
import QwenKitIO
import Testing
import TestSupport
@testable import ModelInspection

func modelPath(_ relative: String) -> String {
    repositoryRoot.appendingPathComponent("Fixtures/models").appendingPathComponent(relative).path
}

/// Fixtures/models/expected.json.
nonisolated(unsafe) let expected: [String: Any] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: modelPath("expected.json")))
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
}()

/// Statistics agree with numpy's float64 figures: min and max exactly (they are stored values), counts exactly,
/// mean and std to 1e-6 of the data's scale (the float32 block sums are the only rounding).
func expectStatistics(_ s: TensorStatistics?, _ e: [String: Any], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let s else { Issue.record("\(name): no statistics", sourceLocation: sourceLocation); return }
    #expect(s.count == e["count"] as! Int, "\(name) count", sourceLocation: sourceLocation)
    #expect(s.nanCount == e["nan"] as! Int, "\(name) nan", sourceLocation: sourceLocation)
    #expect(s.infCount == e["inf"] as! Int, "\(name) inf", sourceLocation: sourceLocation)
    guard s.count > 0 else { return }
    let min = e["min"] as! Double, max = e["max"] as! Double, mean = e["mean"] as! Double, std = e["std"] as! Double
    // Stored float32 values; compared as float32 because Foundation's JSON parser rounds the last digit of doubles.
    #expect(Float(s.min) == Float(min) && Float(s.max) == Float(max), "\(name): min/max \(s.min) \(s.max) vs \(min) \(max)", sourceLocation: sourceLocation)
    let scale = Swift.max(abs(mean), std, 1e-30)
    #expect(abs(s.mean - mean) <= 1e-6 * scale, "\(name): mean \(s.mean) vs \(mean)", sourceLocation: sourceLocation)
    #expect(abs(s.std - std) <= 1e-6 * scale, "\(name): std \(s.std) vs \(std)", sourceLocation: sourceLocation)
}

@Suite struct StatisticsTests {
    @Test(arguments: [1, 3])
    func statsFixtureMatchesNumpy(threads: Int) throws {
        let model = try InspectedModel(path: modelPath("stats.safetensors"))
        let want = expected["stats.safetensors"] as! [String: [String: Any]]
        #expect(model.tensors.count == want.count)
        // Small units make every tensor several slices, so the merging is exercised too.
        let stats = TensorStatisticsCalculator.compute(model.tensors, threads: threads, unitElements: 1000)
        for (t, s) in zip(model.tensors, stats) { expectStatistics(s, want[t.name]!, t.name) }
    }

    @Test func resultDoesNotDependOnThreadCount() throws {
        let model = try InspectedModel(path: modelPath("stats.safetensors"))
        let one = TensorStatisticsCalculator.compute(model.tensors, threads: 1, unitElements: 4096)
        let four = TensorStatisticsCalculator.compute(model.tensors, threads: 4, unitElements: 4096)
        #expect(one == four)
    }

    /// The SIMD block path against the scalar double-precision reference on random blocks of every length class.
    @Test func fastBlockPathAgreesWithReference() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1000 + 0.25
        }
        for n in [1, 7, 16, 17, 100, 4095, 4096] {
            let x = (0..<n).map { _ in next() }
            x.withUnsafeBufferPointer { b in
                let fast = TensorStatisticsCalculator.blockStatistics(b)
                let exact = TensorStatisticsCalculator.exactStatistics(b)
                #expect(fast.count == exact.count && fast.min == exact.min && fast.max == exact.max, "n=\(n)")
                let scale = max(abs(exact.mean), exact.std, 1)
                #expect(abs(fast.mean - exact.mean) <= 1e-6 * scale, "n=\(n) mean \(fast.mean) vs \(exact.mean)")
                #expect(abs(fast.std - exact.std) <= 1e-6 * scale, "n=\(n) std \(fast.std) vs \(exact.std)")
            }
        }
    }

    /// Quantized tensors are dequantized block by block; the figures equal those of the whole tensor dequantized
    /// at once (Quantization's reference dequantizer) and summed in double.
    @Test func quantizedTensors() throws {
        let model = try InspectedModel(path: repositoryRoot.appendingPathComponent("Fixtures/convert-golden/q2moe.q8_0.gguf").path)
        let quantized = model.tensors.filter { $0.type == .ggml(.q8_0) }
        #expect(quantized.count == 20)
        let stats = TensorStatisticsCalculator.compute(quantized, threads: 2, unitElements: 512)
        for (t, s) in zip(quantized, stats) {
            var floats = [Float](repeating: 0, count: t.elementCount)
            try floats.withUnsafeMutableBufferPointer { try QuantizationFormats.format(for: .q8_0)!.dequantizeRow(t.data, into: $0) }
            let exact = floats.withUnsafeBufferPointer { TensorStatisticsCalculator.exactStatistics($0) }
            let s = try #require(s)
            #expect(s.count == exact.count && s.min == exact.min && s.max == exact.max, "\(t.name)")
            let scale = max(abs(exact.mean), exact.std)
            #expect(abs(s.mean - exact.mean) <= 1e-6 * scale && abs(s.std - exact.std) <= 1e-6 * scale, "\(t.name)")
        }
        #expect(TensorStatisticsCalculator.builtinDecoder(for: .ggml(.q8_1)) == nil)
        #expect(TensorStatisticsCalculator.builtinDecoder(for: .safetensors(.i32)) == nil)
    }
}

@Suite struct SummaryTests {
    @Test func ggufSummary() throws {
        let model = try InspectedModel(path: modelPath("tiny-qwen2.gguf"))
        let s = ModelSummary(model)
        let want = expected["tiny-qwen2.gguf"] as! [String: Any]
        #expect(s.format == "GGUF" && s.formatVersion == 3 && s.alignment == 32)
        #expect(s.architecture == "qwen2" && s.name == "Tiny Qwen2")
        #expect(s.fileType?.name == "MOSTLY_F16" && s.fileType?.value == 1)
        #expect(s.parameterCount == want["parameter_count"] as! Int)
        #expect(s.tensorCount == want["tensor_count"] as! Int)
        #expect(s.warnings.isEmpty, "\(s.warnings)")
        #expect(s.unknownKeys.isEmpty)
        #expect(s.typeTotals.map(\.type) == ["F16", "F32"])
        #expect(s.typeTotals.map(\.bytes) == [229_376, 2_304])

        let h = try #require(s.hyperparameters)
        #expect(h == Qwen2Hyperparameters(architecture: .qwen2, blockCount: 2, contextLength: 4096, embeddingLength: 64,
                                          feedForwardLength: 128, headCount: 4, headCountKV: 2, ropeFreqBase: 1_000_000,
                                          rmsNormEpsilon: Double(Float(1e-6)),
                                          ropeScaling: RopeScaling(type: "yarn", factor: 4, originalContextLength: 1024),
                                          vocabSize: 320, tiedEmbeddings: false))

        let t = try #require(s.tokenizer)
        #expect(t.model == "gpt2" && t.pre == "qwen2")
        #expect(t.vocabularySize == want["vocabulary_size"] as! Int)
        #expect(t.mergeCount == want["merge_count"] as! Int)
        #expect(t.chatTemplateBytes == want["chat_template_bytes"] as! Int)
        let types = want["token_types"] as! [String: Int]
        #expect(t.tokenTypes.map(\.name) == ["normal", "control", "unused"])
        #expect(t.tokenTypes.map(\.count) == [types["normal"]!, types["control"]!, types["unused"]!])
        #expect(t.specialIDs.map(\.name) == ["bos", "eos", "padding"] && t.specialIDs.map(\.id) == [297, 298, 296])
        #expect(t.addBOS == false && t.addEOS == false)
    }

    @Test func ggufStatisticsMatchNumpy() throws {
        let model = try InspectedModel(path: modelPath("tiny-qwen2.gguf"))
        let want = (expected["tiny-qwen2.gguf"] as! [String: Any])["stats"] as! [String: [String: Any]]
        let stats = TensorStatisticsCalculator.compute(model.tensors, threads: 2)
        for (t, s) in zip(model.tensors, stats) { expectStatistics(s, want[t.name]!, t.name) }
    }

    /// The single-file and sharded HF directories hold the same tensors; both match numpy.
    @Test(arguments: ["tiny-qwen2", "tiny-qwen2-sharded"])
    func hfDirectory(name: String) throws {
        let model = try InspectedModel(path: modelPath(name))
        let s = ModelSummary(model)
        let want = expected["tiny-qwen2"] as! [String: Any]
        #expect(s.format == "HF model directory")
        #expect(s.shardCount == (name.hasSuffix("sharded") ? 2 : nil))
        #expect(s.parameterCount == want["parameter_count"] as! Int)
        #expect(s.tensorCount == want["tensor_count"] as! Int)
        #expect(s.declaredDType == "bfloat16")
        #expect(s.warnings.isEmpty, "\(s.warnings)")
        let bytes = want["bytes_by_type"] as! [String: Int]
        #expect(s.typeTotals.map(\.type) == ["BF16", "F32"])
        #expect(s.typeTotals.map(\.bytes) == [bytes["BF16"]!, bytes["F32"]!])
        #expect(s.hyperparameters?.ropeScaling == RopeScaling(type: "yarn", factor: 4, originalContextLength: 1024))
        #expect(s.hyperparameters?.rmsNormEpsilon == 1e-6)
        #expect(s.tokenizer?.chatTemplateBytes == (name.hasSuffix("sharded") ? nil : 199))
        #expect(model.tensors.allSatisfy { ($0.shard != nil) == name.hasSuffix("sharded") })

        let stats = TensorStatisticsCalculator.compute(model.tensors, threads: 2)
        let wantStats = want["stats"] as! [String: [String: Any]]
        for (t, st) in zip(model.tensors, stats) { expectStatistics(st, wantStats[t.name]!, t.name) }
    }

    @Test func indexFileOpensAsShardedModel() throws {
        let model = try InspectedModel(path: modelPath("tiny-qwen2-sharded/model.safetensors.index.json"))
        #expect(ModelSummary(model).format == "safetensors (sharded)")
        #expect(Set(model.tensors.compactMap(\.shard)) == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    }

    /// The JSON rendering parses and carries the same numbers.
    @Test func jsonDocument() throws {
        let model = try InspectedModel(path: modelPath("tiny-qwen2.gguf"))
        let text = JSONOutput.object(ModelSummary(model).json() + [("tensors", TensorTable.json(model.tensors))]).rendered()
        let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(doc["parameter_count"] as? Int == 115_264)
        #expect((doc["hyperparameters"] as? [String: Any])?["head_count_kv"] as? Int == 2)
        #expect((doc["tensors"] as? [Any])?.count == 27)
        let metadata = doc["metadata"] as! [String: Any]
        let eps = metadata["qwen2.attention.layer_norm_rms_epsilon"] as! [String: Any]
        #expect(eps["type"] as? String == "FLOAT32" && "\(eps["value"]!)" == "1e-06")
        let tokens = metadata["tokenizer.ggml.tokens"] as! [String: Any]
        #expect(tokens["count"] as? Int == 320 && (tokens["first"] as? [String])?.count == ModelSummary.arrayPreviewCount)
        let full = JSONOutput.object(ModelSummary(model, full: true).json()).rendered(indent: nil)
        let fullDoc = try JSONSerialization.jsonObject(with: Data(full.utf8)) as! [String: Any]
        let fullTokens = (fullDoc["metadata"] as! [String: Any])["tokenizer.ggml.tokens"] as! [String: Any]
        #expect((fullTokens["value"] as? [String])?.count == 320)
    }

    @Test func globs() {
        #expect(globMatches("blk.0.*", "blk.0.attn_q.weight"))
        #expect(!globMatches("blk.0.*", "blk.10.attn_q.weight"))
        #expect(globMatches("*norm*", "output_norm.weight"))
        #expect(globMatches("blk.[01].ffn_?p.weight", "blk.1.ffn_up.weight"))
    }

    @Test func formatting() {
        #expect(grouped(0) == "0" && grouped(1_234_567) == "1,234,567" && grouped(-1000) == "-1,000")
        #expect(compactCount(115_264) == "115K" && compactCount(494_032_768) == "494M" && compactCount(1_540_000_000) == "1.5B")
        #expect(compactCount(999) == "999" && compactCount(82_628) == "82.6K")
        #expect(formatG(1e-6) == "1e-06" && formatG(0.5) == "0.5" && formatG(1_000_000) == "1e+06")
        #expect(JSONOutput.float(Float(1e-6)).rendered() == "1e-06")
        #expect(JSONOutput.double(3).rendered() == "3" && JSONOutput.double(.nan).rendered() == "null")
        #expect(JSONOutput.object([("a\"b", .array([.int(1), .string("é\n")]))]).rendered(indent: nil) == #"{"a\"b":[1,"é\n"]}"#)
    }
}
