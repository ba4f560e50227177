import Foundation
import Testing
import TestSupport
@testable import Qwen2Runtime

/// Batched decoding: sessions of a group stepped one token each in one pass give each session the logits it gets
/// stepped alone, up to the rounding of the batched matrix kernels (which sum a batch of rows in another order than
/// one row), and the same greedy tokens.
@Suite struct SessionGroupTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path
    /// Three prompts of different lengths (so the sessions sit at different positions) and the tokens each is fed
    /// after it, one per step.
    static let prompts: [[UInt32]] = [[12, 250, 7, 99, 3], [180, 41, 41, 8, 300, 15, 77, 2, 64], [5, 190, 33, 260, 71, 9, 1, 2, 3, 4, 5, 6, 7, 8]]
    static let fed: [[UInt32]] = [[44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57],
                                  [101, 7, 7, 7, 300, 299, 2, 3, 4, 5, 6, 7, 8, 9],
                                  [60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73]]
    /// Which sessions take part in each step: all three, then session 1 leaves for two steps and rejoins, session 0
    /// sits out the last steps (a slot that finished, one whose prompt is being evaluated).
    static func members(step: Int) -> [Int] {
        switch step {
        case 4, 5: return [0, 2]
        case 10...: return [2, 1]
        default: return [0, 1, 2]
        }
    }
    /// The largest |batched − alone| over every logit of every step, on both kernel choices, measured 3.5e-6 to
    /// 6.8e-6 for the four GGUFs and 1.8e-5 for q2-swa, whose logits reach 7.5 in magnitude (about 40 float32 ulps
    /// there): the rounding of another summation order, carried through the layers. A wrong position, cache slot or
    /// ring would move the logits by tenths.
    static let tolerance: Float = 5e-5

    static let models = ["convert-golden/q2-untied.f32.gguf", "convert-golden/q2-tied.q8_0.gguf", "convert-golden/q2-yarn.f16.gguf",
                         "convert-golden/q2moe.bf16.gguf", "checkpoints/q2-swa"]

    @Test(arguments: models)
    func batchedStepsEqualLoneSessions(file: String) throws {
        let model = try Qwen2Model(path: "\(Self.fixtures)/\(file)")
        for kernels in KernelChoice.avx512Usable ? [KernelChoice.best, .portable] : [.portable] {
            // maxBatch 4: the sliding-window rings of q2-swa (window 8) are 11 slots, which the 14-token prompt and
            // the steps after it wrap several times.
            let group = try SessionGroup(model: model, count: 3, capacity: 40, threads: 2, maxBatch: 4, kernels: kernels)
            let alone = try (0..<3).map { _ in try InferenceSession(model: model, capacity: 40, threads: 2, maxBatch: 4, kernels: kernels) }
            for i in 0..<3 {
                try group.sessions[i].evaluate(Self.prompts[i], logits: .none)
                try alone[i].evaluate(Self.prompts[i], logits: .none)
            }
            var next = [0, 0, 0]
            for step in 0..<14 {
                let members = Self.members(step: step)
                let tokens = members.map { Self.fed[$0][next[$0]] }
                var batched: [[Float]] = Array(repeating: [], count: members.count)
                try group.decode(members.map { group.sessions[$0] }, tokens: tokens) { i, row in batched[i] = Array(row) }
                for (i, m) in members.enumerated() {
                    var single: [Float] = []
                    try alone[m].evaluate([tokens[i]], logits: .last) { _, row in single = Array(row) }
                    let difference = zip(batched[i], single).map { abs($0 - $1) }.max()!
                    #expect(difference <= Self.tolerance, "\(file) \(kernels) step \(step) session \(m): \(difference)")
                    #expect(argmax(batched[i]) == argmax(single), "\(file) \(kernels) step \(step) session \(m)")
                    #expect(group.sessions[m].position == alone[m].position)
                    next[m] += 1
                }
            }
        }
    }

    func argmax(_ row: [Float]) -> Int { row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! }

    /// What `decode` refuses, each as one error, leaving every session where it was.
    @Test func decodeRefusesWhatItCannotStep() throws {
        let model = try Qwen2Model(path: "\(Self.fixtures)/convert-golden/q2-untied.f32.gguf")
        let group = try SessionGroup(model: model, count: 2, capacity: 4, threads: 1)
        let other = try InferenceSession(model: model, capacity: 4)
        let (a, b) = (group.sessions[0], group.sessions[1])
        #expect(throws: RuntimeError.batch(reason: "session 1 is not one of this group's")) { try group.decode([a, other], tokens: [1, 2]) { _, _ in } }
        #expect(throws: RuntimeError.batch(reason: "sessions 0 and 1 are the same")) { try group.decode([a, a], tokens: [1, 2]) { _, _ in } }
        #expect(throws: RuntimeError.batch(reason: "2 sessions but 1 tokens")) { try group.decode([a, b], tokens: [1]) { _, _ in } }
        #expect(throws: RuntimeError.tokenOutOfRange(token: 999, position: 0, vocabSize: 320)) { try group.decode([a, b], tokens: [1, 999]) { _, _ in } }
        try a.evaluate([1, 2, 3, 4], logits: .none)
        #expect(throws: RuntimeError.contextExceeded(needed: 5, limit: 4, what: "the session")) { try group.decode([b, a], tokens: [1, 2]) { _, _ in } }
        #expect(a.position == 4 && b.position == 0)
        #expect(RuntimeError.batch(reason: "sessions 0 and 1 are the same").description
                == "cannot decode these sessions in one step: sessions 0 and 1 are the same")
    }
}
