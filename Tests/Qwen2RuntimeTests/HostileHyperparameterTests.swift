// Hyperparameters edited to lie or to be extreme, in copies of the committed fixtures (GGUFEditor on the GGUF,
// config.json rewritten in a checkpoint copy): a context length of 2^32 − 1 still runs (the KV cache is sized by
// what the session needs, not by the context), a Qwen2-MoE that does not size its shared expert still uses it, and
// a layer count beyond the tensors is refused by name before anything is sized from it.

import Foundation
import ModelFiles
import Qwen2Runtime
import Testing
import TestSupport

@Suite struct HostileHyperparameterTests {
    static let tokens: [UInt32] = [12, 250, 7, 99, 3, 180, 41, 8]

    /// The logits of every position of `tokens`, in a session sized for them.
    static func logits(_ path: String) throws -> [[Float]] {
        let model = try Qwen2Model(path: path)
        let session = try InferenceSession(model: model, capacity: tokens.count, threads: 1)
        var rows: [[Float]] = []
        try session.evaluate(tokens, logits: .all) { _, row in rows.append(Array(row)) }
        return rows
    }

    /// A copy of the GGUF at `source` with `edits` applied, as `dir/name`.
    static func editedGGUF(_ source: String, _ edits: [GGUFMetadataEdit], in dir: String, name: String = "edited.gguf") throws -> String {
        let out = dir + "/" + name
        try GGUFEdit(input: try GGUFFile(path: source), edits: edits).write(to: out)
        return out
    }

    /// A copy of checkpoint `name` in `dir` with its config.json changed by `change`.
    static func editedCheckpoint(_ name: String, in dir: String, _ change: (inout [String: Any]) -> Void) throws -> String {
        let model = dir + "/" + name
        try FileManager.default.copyItem(atPath: Fixture.checkpoint(name), toPath: model)
        let configPath = model + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as! [String: Any]
        change(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        return model
    }

    // MARK: Context length

    /// `context_length` / `max_position_embeddings` of 2^32 − 1: the model loads, the session holds only what it is
    /// asked for, and the logits are those of the original value, bit for bit (q2-yarn states its original context,
    /// so YaRN does not depend on it either).
    @Test(arguments: ["q2-tied", "q2-yarn", "q2moe"])
    func hugeContextLengthRunsAsBefore(_ name: String) throws {
        try withTemporaryDirectory { dir in
            let original = Fixture.path("Fixtures/convert-golden/\(name).f32.gguf")
            let architecture = try #require(try GGUFFile(path: original)[GGUFKeys.generalArchitecture]?.stringValue)
            let gguf = try Self.editedGGUF(original, [.set(key: GGUFKeys.Architecture.contextLength.key(architecture),
                                                           value: .uint32(UInt32.max))], in: dir)
            #expect(try Qwen2Model(path: gguf).shape.contextLength == 4_294_967_295)
            #expect(try Self.logits(gguf) == Self.logits(original))

            let checkpoint = try Self.editedCheckpoint(name, in: dir) { $0["max_position_embeddings"] = 4_294_967_295 }
            #expect(try Qwen2Model(path: checkpoint).shape.contextLength == 4_294_967_295)
            #expect(try Self.logits(checkpoint) == Self.logits(Fixture.checkpoint(name)))
        }
    }

    /// A Qwen2-MoE has no dense MLP: its `feed_forward_length` sizes nothing (a 2^40 one made the session allocate
    /// 64 × 2^40 floats and trap).
    @Test func moeFeedForwardLengthSizesNothing() throws {
        try withTemporaryDirectory { dir in
            let original = Fixture.path("Fixtures/convert-golden/q2moe.f32.gguf")
            let gguf = try Self.editedGGUF(original, [.set(key: "qwen2moe.feed_forward_length", value: .uint64(1 << 40))], in: dir)
            #expect(try Qwen2Model(path: gguf).shape.feedForwardLength == 0)
            #expect(try Self.logits(gguf) == Self.logits(original))
        }
    }

    /// What a caller asks of a session (positions, batch) is overflow-checked and allocated so that a size the
    /// machine cannot hold is an error, not a trap: with a context of 2^32 − 1 a caller can ask for all of it.
    @Test func sessionSizesAreRefusedNotTrapped() throws {
        let model = try Qwen2Model(path: Fixture.path("Fixtures/convert-golden/q2-tied.f32.gguf"))
        #expect(throws: RuntimeError.cannotAllocate(what: "buffers for 4 positions (1 threads, batch \(Int.max))", bytes: nil)) {
            try InferenceSession(model: model, capacity: 4, threads: 1, maxBatch: Int.max)
        }
        // 2^32 − 1 positions: a 2.2 TB KV cache, more than any machine that runs the tests has, refused before malloc
        // (which overcommits) is asked.
        try withTemporaryDirectory { dir in
            let gguf = try Self.editedGGUF(Fixture.path("Fixtures/convert-golden/q2-tied.f32.gguf"),
                                           [.set(key: "qwen2.context_length", value: .uint32(UInt32.max))], in: dir)
            let huge = try Qwen2Model(path: gguf)
            let physical = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
            #expect(throws: RuntimeError.exceedsMemory(what: "the KV cache for 4294967295 positions", bytes: 2_199_023_255_040, physical: physical)) {
                try InferenceSession(model: huge, capacity: 4_294_967_295, threads: 1)
            }
        }
    }

    // MARK: The shared expert

    /// A Qwen2-MoE GGUF without `qwen2moe.expert_shared_feed_forward_length` (llama.cpp reads it as optional) takes
    /// the shared expert's size from its tensors: the logits are the unedited file's, and still transformers'.
    @Test func sharedExpertSizeFromTheTensors() throws {
        try withTemporaryDirectory { dir in
            let original = Fixture.path("Fixtures/convert-golden/q2moe.f32.gguf")
            let gguf = try Self.editedGGUF(original, [.delete(key: "qwen2moe.expert_shared_feed_forward_length")], in: dir)
            #expect(try GGUFFile(path: gguf)["qwen2moe.expert_shared_feed_forward_length"] == nil)
            #expect(try Qwen2Hyperparameters(gguf: GGUFFile(path: gguf)).moe?.sharedExpertFeedForwardLength == 0)
            #expect(try Qwen2Model(path: gguf).shape.moe?.sharedExpertFeedForwardLength == 64)
            #expect(try Self.logits(gguf) == Self.logits(original))
            for c in try compare(gguf, Fixture.fullGoldens("q2moe")).comparisons {
                #expect(c.metrics.maxAbsError <= GoldenVerificationTests.float32Tolerance, "\(c.path): \(c.metrics.maxAbsError)")
            }
            // Stated as 0: the same.
            let zero = try Self.editedGGUF(original, [.set(key: "qwen2moe.expert_shared_feed_forward_length", value: .uint32(0))],
                                           in: dir, name: "zero.gguf")
            #expect(try Self.logits(zero) == Self.logits(original))
        }
    }

    /// The same for a checkpoint whose config.json lacks `shared_expert_intermediate_size` or states 0.
    @Test(arguments: [nil, 0] as [Int?])
    func sharedExpertSizeFromTheCheckpoint(_ stated: Int?) throws {
        try withTemporaryDirectory { dir in
            let checkpoint = try Self.editedCheckpoint("q2moe", in: dir) { $0["shared_expert_intermediate_size"] = stated }
            #expect(try Qwen2Model(path: checkpoint).shape.moe?.sharedExpertFeedForwardLength == 64)
            #expect(try Self.logits(checkpoint) == Self.logits(Fixture.checkpoint("q2moe")))
        }
    }

    // MARK: Counts beyond the tensors

    @Test func layerCountBeyondTheTensorsIsRefused() throws {
        try withTemporaryDirectory { dir in
            let original = Fixture.path("Fixtures/convert-golden/q2-tied.f32.gguf")
            let gguf = try Self.editedGGUF(original, [.set(key: "qwen2.block_count", value: .uint64(1 << 62))], in: dir)
            #expect(throws: RuntimeError.model(.invalidConfig(path: gguf, key: "qwen2.block_count",
                                                              reason: "is 4611686018427387904 but the tensors hold 2 layers (24 tensors in layers 0 to 1)"))) {
                try Qwen2Model(path: gguf)
            }
            let vocabulary = try Self.editedGGUF(original, [.set(key: "qwen2.vocab_size", value: .uint32(3))], in: dir, name: "vocab.gguf")
            #expect(throws: RuntimeError.model(.invalidConfig(path: vocabulary, key: "qwen2.vocab_size",
                                                              reason: "is 3 but tensor \"token_embd.weight\" has 320 rows"))) {
                try Qwen2Model(path: vocabulary)
            }
            let values = try Self.editedGGUF(original, [.set(key: "qwen2.attention.value_length", value: .uint32(32))], in: dir, name: "values.gguf")
            #expect(throws: RuntimeError.model(.invalidConfig(path: values, key: "qwen2.attention.value_length",
                                                              reason: "is 32 but the key size is 16; the runtime needs equal key and value sizes"))) {
                try Qwen2Model(path: values)
            }
            let checkpoint = try Self.editedCheckpoint("q2moe", in: dir) { $0["num_experts"] = 2_000_000_000 }
            #expect(throws: RuntimeError.model(.invalidConfig(path: checkpoint + "/config.json", key: "num_experts",
                                                              reason: "is 2000000000 but the expert tensors hold 4 experts"))) {
                try Qwen2Model(path: checkpoint)
            }
        }
    }
}
