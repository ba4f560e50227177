// Sliding-window attention and long contexts against transformers (Fixtures/scripts/make_long_context_fixtures.py):
// q2-swa (window 8 in layers 0 and 2, stated by `layer_types`) on prompts of 60 and 160 tokens, from its HF directory
// and from the GGUF `convert` writes, in steps of every size (the ring buffer's wrap-around); q2-yarn-long (YaRN ×8 from
// 256) on 2,000 positions; and every way a window's description can be wrong.

import Conversion
import Foundation
import ModelFiles
import QwenKitIO
import Qwen2Runtime
import Testing
import TestSupport
import Verification

/// Each golden through one session of `model` with steps of `maxBatch` tokens and `capacity` positions.
private func comparisons(_ model: Qwen2Model, _ goldenPaths: [String], maxBatch: Int, capacity: Int? = nil) throws -> [GoldenComparison] {
    let goldens = try goldenPaths.map { try GoldenLogits(path: $0) }
    let session = try InferenceSession(model: model, capacity: capacity ?? goldens.map(\.count).max()!, threads: 2, maxBatch: maxBatch)
    return try goldens.map { golden in
        session.reset()
        var comparator = LogitComparator(golden: golden)
        try session.evaluate(golden.tokens, logits: .all) { position, row in try comparator.add(position: position, ours: row) }
        return try comparator.finish()
    }
}

@Suite struct SlidingWindowTests {
    static let goldens = ["long", "yarn"].map { Fixture.path("Fixtures/logit-golden/q2-swa.\($0).safetensors") }

    /// Measured maxima: 2.1e-5 to 3.5e-5 by step size (HF directory and F32 GGUF alike).
    static func expectMatches(_ results: [GoldenComparison], _ what: String) {
        #expect(results.count == 2)
        for c in results {
            #expect(c.metrics.maxAbsError <= GoldenVerificationTests.float32Tolerance, "\(what) on \(c.path): \(c.metrics.maxAbsError)")
            #expect(c.metrics.top1Agreement == 1, "\(what) on \(c.path)")
        }
    }

    @Test func hfDirectoryMatchesTransformers() throws {
        let model = try Qwen2Model(path: Fixture.checkpoint("q2-swa"))
        #expect(model.shape.slidingWindow == SlidingWindow(size: 8, layers: [true, false, true]))
        // 1: one token per step; 3 and 5 wrap the ring (8 + B − 1 slots) mid-step; 64: the whole prompt at once.
        for batch in [1, 3, 5, 64] {
            Self.expectMatches(try comparisons(model, Self.goldens, maxBatch: batch), "q2-swa, steps of \(batch)")
        }
    }

    /// `convert` writes gguf-py's two keys (llama.cpp's converter writes neither), and the GGUF runs the window too.
    @Test func convertedGGUFCarriesTheWindow() throws {
        try withTemporaryDirectory { dir in
            let out = dir + "/q2-swa.f32.gguf"
            _ = try Converter.write(try ConversionPlan(path: Fixture.checkpoint("q2-swa"), outputType: .f32), to: out)
            let file = try GGUFFile(path: out)
            #expect(file["qwen2.attention.sliding_window"] == .uint32(8))
            #expect(file["qwen2.attention.sliding_window_pattern"] == .array(GGUFArray(bool: [true, false, true])))
            let model = try Qwen2Model(path: out)
            #expect(model.shape.slidingWindow == SlidingWindow(size: 8, layers: [true, false, true]))
            for batch in [1, 7, 64] { Self.expectMatches(try comparisons(model, Self.goldens, maxBatch: batch), "GGUF, steps of \(batch)") }
        }
    }

    /// The windowed layers' caches hold window + step − 1 positions, not the context.
    @Test func windowedLayersKeepARing() throws {
        let model = try Qwen2Model(path: Fixture.checkpoint("q2-swa"))
        let kvWidth = model.shape.headCountKV * model.shape.headDim
        let session = try InferenceSession(model: model, capacity: 512, threads: 1, maxBatch: 4)
        // Layer 1 full (512 slots), layers 0 and 2 windowed (8 + 4 − 1 = 11 slots); keys and values, float32.
        #expect(session.cacheBytes == (512 + 2 * 11) * 2 * kvWidth * 4)
    }

    // MARK: Reading the window

    static func config(_ change: (inout [String: Any]) -> Void) throws -> JSONValue {
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixture.checkpoint("q2-swa") + "/config.json")))
            as! [String: Any]
        change(&config)
        let data = try JSONSerialization.data(withJSONObject: config)
        return try data.withUnsafeBytes { try JSONScanner.parse($0.bindMemory(to: UInt8.self)) }
    }

    static func window(_ change: (inout [String: Any]) -> Void) throws -> SlidingWindow? {
        try Qwen2Hyperparameters(hfConfig: try config(change), path: "config.json").slidingWindow
    }

    /// transformers 5's rules: the window only with use_sliding_window; without layer_types, layers from
    /// max_window_layers on (default 28); a stated list wins.
    @Test func configRules() throws {
        #expect(try Self.window { _ in } == SlidingWindow(size: 8, layers: [true, false, true]))
        #expect(try Self.window { $0["use_sliding_window"] = false; $0["layer_types"] = nil } == nil)
        #expect(try Self.window { $0["layer_types"] = nil; $0["max_window_layers"] = 1 } == SlidingWindow(size: 8, layers: [false, true, true]))
        #expect(try Self.window { $0["layer_types"] = nil } == nil)  // max_window_layers 28 ≥ 3 layers
        // Qwen2.5's released configs: use_sliding_window false with a window and max_window_layers stated.
        #expect(try Self.window { $0["use_sliding_window"] = false; $0["sliding_window"] = 131072; $0["layer_types"] = nil } == nil)
    }

    @Test func badWindowsAreRefused() throws {
        func message(_ change: (inout [String: Any]) -> Void) -> String? {
            do { _ = try Self.window(change); return nil } catch { return "\(error)" }
        }
        #expect(message { $0["layer_types"] = ["full_attention", "sliding_attention"] }
            == "config.json: \"layer_types\": has 2 entries but the model has 3 layers (num_hidden_layers)")
        #expect(message { $0["layer_types"] = ["full_attention", "chunked_attention", "full_attention"] }
            == "config.json: \"layer_types\": entry 1 is \"chunked_attention\"; expected \"full_attention\" or \"sliding_attention\"")
        #expect(message { $0["use_sliding_window"] = false }
            == "config.json: \"layer_types\": lists sliding_attention layers but there is no window (use_sliding_window is not true or sliding_window is null)")
        // Not stated: transformers' default of 4096, past this model's context.
        #expect(message { $0["sliding_window"] = nil }
            == "config.json: \"sliding_window\": is 4096, larger than the context (max_position_embeddings 512)")
        #expect(message { $0["sliding_window"] = 0 } == "config.json: \"sliding_window\": is 0; it must be positive")
        #expect(message { $0["sliding_window"] = 1000 } == "config.json: \"sliding_window\": is 1000, larger than the context (max_position_embeddings 512)")
        #expect(message { $0["layer_types"] = "sliding_attention" }
            == "config.json: \"layer_types\": is \"sliding_attention\", expected a list of layer types")
    }

    @Test func badGGUFPatternsAreRefused() throws {
        try withTemporaryDirectory { dir in
            let out = dir + "/q2-swa.gguf"
            _ = try Converter.write(try ConversionPlan(path: Fixture.checkpoint("q2-swa"), outputType: .f16), to: out)
            func message(_ edits: [GGUFMetadataEdit]) throws -> String? {
                let edited = dir + "/edited.gguf"
                try? FileManager.default.removeItem(atPath: edited)
                try GGUFEdit(input: try GGUFFile(path: out), edits: edits).write(to: edited)
                do { _ = try Qwen2Model(path: edited); return nil } catch { return "\(error)" }
            }
            let pattern = "qwen2.attention.sliding_window_pattern", window = "qwen2.attention.sliding_window"
            let p = dir + "/edited.gguf"
            #expect(try message([.set(key: pattern, value: .array(GGUFArray(bool: [true, false])))])
                == "\(p): \"qwen2.attention.sliding_window_pattern\": has 2 entries but the model has 3 layers (qwen2.block_count)")
            #expect(try message([.set(key: pattern, value: .uint32(2))])
                == "\(p): \"qwen2.attention.sliding_window_pattern\": has type UINT32; qwenkit reads the per-layer form, an array of bools")
            #expect(try message([.set(key: pattern, value: .array(GGUFArray(uint32: [1, 0, 1])))])
                == "\(p): \"qwen2.attention.sliding_window_pattern\": is an array of UINT32, expected an array of bools")
            #expect(try message([.delete(key: pattern)])
                == "\(p): \"qwen2.attention.sliding_window_pattern\": missing; qwen2.attention.sliding_window needs it (one bool per layer)")
            #expect(try message([.set(key: window, value: .uint32(600))])
                == "\(p): \"qwen2.attention.sliding_window\": is 600, larger than the context (qwen2.context_length 512)")
            // Without the window key the pattern means nothing: the model runs every layer over the whole context.
            #expect(try message([.delete(key: window)]) == nil)
        }
    }
}

@Suite struct LongContextTests {
    /// YaRN ×8 from 256 positions: the model runs to 2,048 (max_position_embeddings stays at 256, as in Qwen2.5's
    /// configs), and its logits 1,744 positions past the original context match transformers'. Measured: max abs
    /// error 1.7e-5 over the 8 golden ids of each position.
    @Test func yarnPastTheOriginalContext() throws {
        let model = try Qwen2Model(path: Fixture.checkpoint("q2-yarn-long"))
        #expect(model.shape.contextLength == 2048)
        let golden = Fixture.path("Fixtures/logit-golden/q2-yarn-long.long.top8.safetensors")
        let results = try comparisons(model, [golden], maxBatch: 64)
        let c = try #require(results.first)
        #expect(c.metrics.positions == 2000)
        #expect(c.metrics.maxAbsError <= GoldenVerificationTests.float32Tolerance, "\(c.metrics.maxAbsError)")
        #expect(c.metrics.top1Agreement == 1)
        #expect(throws: RuntimeError.contextExceeded(needed: 2049, limit: 2048, what: "the model's context length")) {
            try InferenceSession(model: model, capacity: 2049)
        }
    }
}
