import Foundation
import Testing
import TestSupport
@testable import Qwen2Runtime

/// The KV cache and batching: the logits of a position do not depend on how the tokens before it were fed (one
/// batch, batches of 3, one token at a time, any thread count), up to float32 summation order.
@Suite struct SessionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let ids: [UInt32] = [12, 250, 7, 99, 3, 180, 41, 41, 8, 300, 15, 77, 2, 64]

    static func logits(_ model: Qwen2Model, batch: Int, threads: Int, split: Int) throws -> [[Float]] {
        let session = try InferenceSession(model: model, capacity: ids.count, threads: threads, maxBatch: batch)
        var rows: [[Float]] = []
        var start = 0
        while start < ids.count {
            let end = min(ids.count, start + split)
            try session.evaluate(Array(ids[start..<end]), logits: .all) { _, row in rows.append(Array(row)) }
            start = end
        }
        return rows
    }

    @Test(arguments: ["q2-untied.f32.gguf", "q2-tied.q8_0.gguf", "q2-yarn.f16.gguf", "q2moe.bf16.gguf"])
    func feedingOrderDoesNotChangeLogits(file: String) throws {
        let model = try Qwen2Model(path: "\(Self.fixtures)/convert-golden/\(file)")
        let reference = try Self.logits(model, batch: 32, threads: 1, split: Self.ids.count)
        #expect(reference.count == Self.ids.count)
        for (batch, threads, split) in [(3, 2, 100), (1, 1, 1), (32, 3, 5), (4, 2, 1)] {
            let other = try Self.logits(model, batch: batch, threads: threads, split: split)
            let worst = zip(reference, other).map { a, b in zip(a, b).map { abs($0 - $1) }.max()! }.max()!
            #expect(worst <= 2e-5, "\(file) batch \(batch) threads \(threads) split \(split): \(worst)")
        }
    }

    /// The largest difference between two lists of logit rows.
    static func worst(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).map { x, y in zip(x, y).map { abs($0 - $1) }.max()! }.max()!
    }

    /// A rewound session continues as a fresh one fed the kept prefix and the new tokens (a chat whose rendering
    /// changed near its end): over the whole context, and in a sliding-window model (q2-swa: window 8 in layers 0 and
    /// 2) as far back as its rings (8 + 4 − 1 = 11 slots at steps of 4) still hold what the new positions attend
    /// to. Further back it resets and says so (position 0).
    @Test func rewindContinuesAsAFreshSession() throws {
        let tail: [UInt32] = [5, 190, 33, 260, 71, 9]
        for (model, target) in [(try Qwen2Model(path: "\(Self.fixtures)/convert-golden/q2-untied.f32.gguf"), 6),
                                (try Qwen2Model(path: "\(Self.fixtures)/checkpoints/q2-swa"), 20)] {
            let long = Self.ids + Self.ids.prefix(10)  // 24 tokens
            let session = try InferenceSession(model: model, capacity: 64, threads: 2, maxBatch: 4)
            try session.evaluate(long, logits: .none)
            #expect(session.rewind(to: target) == target)
            #expect(session.position == target)
            var rewound: [[Float]] = []
            try session.evaluate(tail, logits: .all) { _, row in rewound.append(Array(row)) }

            let fresh = try InferenceSession(model: model, capacity: 64, threads: 2, maxBatch: 4)
            try fresh.evaluate(Array(long.prefix(target)), logits: .none)
            var expected: [[Float]] = []
            try fresh.evaluate(tail, logits: .all) { _, row in expected.append(Array(row)) }
            #expect(rewound.count == tail.count)
            #expect(Self.worst(rewound, expected) <= 2e-5, "\(model.path) rewound to \(target)")
        }
        // q2-swa after 24 positions: slot p % 11 last held a position of 13…23, so a rewind to 20 (attending back to
        // 13) keeps the cache and one to 19 (back to 12, whose slot position 23 took) cannot, even after the first
        // rewind lowered the position: the slots remember the furthest position written, not the current one.
        let swa = try Qwen2Model(path: "\(Self.fixtures)/checkpoints/q2-swa")
        let session = try InferenceSession(model: swa, capacity: 64, threads: 1, maxBatch: 4)
        try session.evaluate(Self.ids + Self.ids.prefix(10), logits: .none)
        #expect(session.rewind(to: 20) == 20)
        #expect(session.rewind(to: 19) == 0)
        #expect(session.position == 0)
        // Moving forward is not a rewind, and a reset forgets the furthest position.
        try session.evaluate(Array(Self.ids.prefix(3)), logits: .none)
        #expect(session.rewind(to: 10) == 3)
        #expect(session.rewind(to: 1) == 1)
    }

    /// A prompt generated from after what a session already holds (a chat's next turn) continues as the whole
    /// sequence given at once does: the first token is sampled at the prompt's last position, wherever it is.
    @Test func generateContinuesAfterWhatTheSessionHolds() throws {
        let model = try Qwen2Model(path: "\(Self.fixtures)/convert-golden/q2-untied.f32.gguf")
        /// The tokens generated, and the tokens whose logits were recorded.
        func generate(_ session: InferenceSession, _ prompt: [UInt32]) throws -> ([UInt32], [UInt32]) {
            var recorded: [UInt32] = []
            let tokens = try Generator(session: session).generate(
                prompt: prompt, maxTokens: 8, endTokens: [], tokenBytes: { _ in UnsafeBufferPointer(start: nil, count: 0) },
                output: { _ in true }, record: { token, _ in recorded.append(token) }).tokens
            return (tokens, recorded)
        }
        let whole = try generate(try InferenceSession(model: model, capacity: 64), Self.ids)
        let session = try InferenceSession(model: model, capacity: 64)
        try session.evaluate(Array(Self.ids.prefix(9)), logits: .none)
        let split = try generate(session, Array(Self.ids.dropFirst(9)))
        #expect(whole.0.count == 8 && split.0 == whole.0)
        #expect(split.1 == Array(whole.1.dropFirst(9)))
    }

    @Test func contextAndTokenLimits() throws {
        let model = try Qwen2Model(path: "\(Self.fixtures)/convert-golden/q2-untied.f32.gguf")
        let session = try InferenceSession(model: model, capacity: 4, threads: 1)
        #expect(throws: RuntimeError.contextExceeded(needed: 5, limit: 4, what: "the session")) {
            try session.evaluate([1, 2, 3, 4, 5])
        }
        #expect(throws: RuntimeError.tokenOutOfRange(token: 320, position: 1, vocabSize: 320)) {
            try session.evaluate([1, 320])
        }
        #expect(throws: RuntimeError.contextExceeded(needed: 513, limit: 512, what: "the model's context length")) {
            _ = try InferenceSession(model: model, capacity: 513)
        }
        #expect(session.position == 0)
    }

    @Test func nonFiniteActivationsNameTheLayer() throws {
        // A copy of the F32 model whose blk.1.ffn_down.weight row 0 holds an infinity.
        let source = "\(Self.fixtures)/convert-golden/q2-untied.f32.gguf"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source)))
        let file = try Qwen2ModelTestSupport.tensorOffset(path: source, name: "blk.1.ffn_down.weight")
        withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian) { bytes.replaceSubrange(file..<(file + 4), with: $0) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inf-\(getpid()).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try Qwen2Model(path: path)
        let session = try InferenceSession(model: model, capacity: 4, threads: 1)
        #expect(throws: RuntimeError.nonFinite(layer: "layer 1 feed-forward", position: 0)) {
            try session.evaluate([5, 6])
        }
    }
}

import ModelFiles

enum Qwen2ModelTestSupport {
    /// The absolute file offset of a GGUF tensor's data.
    static func tensorOffset(path: String, name: String) throws -> Int {
        let f = try GGUFFile(path: path)
        let info = try #require(f.tensor(named: name))
        return f.dataStart + info.offset
    }
}

@Suite struct SamplingTests {
    static let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 2.9, 0.0]

    func draws(_ sampler: inout Sampler, _ n: Int) -> [UInt32] {
        (0..<n).map { _ in Self.logits.withUnsafeBufferPointer { sampler.sample($0) } }
    }

    @Test func sameSeedSameDraws() {
        var a = Sampler(temperature: 0.8, seed: 42), b = Sampler(temperature: 0.8, seed: 42), c = Sampler(temperature: 0.8, seed: 43)
        let x = draws(&a, 50), y = draws(&b, 50), z = draws(&c, 50)
        #expect(x == y)
        #expect(x != z)
    }

    @Test func topKAndTopPRestrictTheCandidates() {
        var k1 = Sampler(temperature: 5, topK: 1, seed: 1)
        #expect(Set(draws(&k1, 40)) == [1])
        var k2 = Sampler(temperature: 5, topK: 2, seed: 1)
        #expect(Set(draws(&k2, 200)) == [1, 4])
        // At temperature 1 the top two tokens (3.0 and 2.9) hold about 0.58 of the mass: top-p 0.5 keeps both.
        var p = Sampler(temperature: 1, topP: 0.5, seed: 1)
        #expect(Set(draws(&p, 200)) == [1, 4])
        var all = Sampler(temperature: 1, seed: 1)
        #expect(Set(draws(&all, 2000)).isSuperset(of: [0, 1, 2, 4, 5]))
    }

    @Test func xoshiroFirstOutputs() {
        // SplitMix64(0) seeds xoshiro256**: these are the reference implementation's first outputs (prng.di.unimi.it),
        // pinned so a seed means the same draws in every release.
        var s = Sampler(seed: 0)
        let first = [s.next(), s.next(), s.next()]
        #expect(first == [11091344671253066420, 13793997310169335082, 1900383378846508768])
    }
}
