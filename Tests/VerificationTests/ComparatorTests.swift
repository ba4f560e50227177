// The comparator's metrics: exact values on a 4-token vocabulary computed by hand (and in Python, float64),
// self-comparison of every committed golden, full against compact on committed pairs, bookkeeping errors.

import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Verification

// Golden [0, 1, 2, 3] against ours [0.5, 1, 3, 2]: with Z = 1 + e + e² + e³ and p = e^g / Z,
//   KL = Σ p_i (g_i − o_i) − lse(g) + lse(o) = 0.4115859307536756 (numpy float64);
//   the compact form with K = 2 (ids 3, 2) and tail {0, 1}: 0.40844563320909894 (with the float32-rounded
//   lse(g) = 3.4401895999908447 as stored), below the full KL as the data processing inequality says.
let handGolden: [Float] = [0, 1, 2, 3]
let handOurs: [Float] = [0.5, 1, 3, 2]

@Test func handCheckedFullMetrics() throws {
    try withTemporaryDirectory { dir in
        try writeFullGolden(dir + "/g.safetensors", tokens: [3], logits: [handGolden])
        let g = try GoldenLogits(path: dir + "/g.safetensors")
        let c = try compare(g, [handOurs])
        let m = c.metrics
        #expect(m.positions == 1)
        #expect(m.comparedLogits == 4)
        #expect(m.maxAbsError == 1)
        #expect(m.rmse == 0.75)
        #expect(abs(m.cosineSimilarity - 0.9203900230262253) < 1e-15)
        #expect(abs(m.meanKL - 0.4115859307536756) < 1e-14)
        #expect(m.maxKL == m.meanKL)
        #expect(m.top1Agreement == 0)
        #expect(m.top5Overlap == 1)  // a 4-id vocabulary: all 4 in both lists
        #expect(c.worst == [PositionResult(file: dir + "/g.safetensors", position: 0, token: 3, kl: m.maxKL, maxAbsError: 1,
                                           goldenTop1: 3, oursTop1: 2)])
    }
}

@Test func handCheckedCompactMetrics() throws {
    try withTemporaryDirectory { dir in
        try writeCompactGolden(dir + "/g.safetensors", tokens: [3], logits: [handGolden], k: 2)
        let g = try GoldenLogits(path: dir + "/g.safetensors")
        #expect(g.logSumExp(at: 0) == 3.4401895999908447)
        let m = try compare(g, [handOurs]).metrics
        #expect(m.comparedLogits == 2)
        #expect(m.maxAbsError == 1)
        #expect(m.rmse == 1)
        #expect(abs(m.meanKL - 0.40844563320909894) < 1e-14)
        #expect(m.meanKL < 0.4115859307536756)
        #expect(m.top1Agreement == 0)
        #expect(m.top5Overlap == nil)  // K = 2 < 5
    }
}

@Test func identicalLogitsGiveZero() throws {
    try withTemporaryDirectory { dir in
        let rows: [[Float]] = [handGolden, [5, -1, 5, 0], [-100, 100, 0, 1]]
        try writeFullGolden(dir + "/f.safetensors", tokens: [0, 1, 2], logits: rows)
        let m = try compare(try GoldenLogits(path: dir + "/f.safetensors"), rows).metrics
        #expect(m.maxAbsError == 0)
        #expect(m.rmse == 0)
        #expect(m.meanKL == 0)
        #expect(m.maxKL == 0)
        #expect(m.top1Agreement == 1)
        #expect(m.top5Overlap == 1)
        #expect(abs(m.cosineSimilarity - 1) < 1e-15)
        // Tied logits: the lower id is the top-1 (id 0 of [5, -1, 5, 0]) on both sides.
        #expect(try GoldenLogits(path: dir + "/f.safetensors").top1(at: 1) == 0)
    }
}

@Test(arguments: goldenCheckpoints)
func everyCommittedGoldenMatchesItself(checkpoint: String) throws {
    let names = ["short", "chat", "long"] + (checkpoint == "q2-yarn" ? ["yarn"] : [])
    for name in names {
        let g = try GoldenLogits(path: goldenPath("\(checkpoint).\(name).safetensors"))
        let m = try compare(g, fullRows(g)).metrics
        #expect(m.maxAbsError == 0)
        #expect(m.meanKL == 0)
        #expect(m.maxKL == 0)
        #expect(m.top1Agreement == 1)
        #expect(m.top5Overlap == 1)
        #expect(m.comparedLogits == g.count * 320)
        #expect(VerificationThresholds.defaults(for: .f32).evaluate(m).isEmpty)
    }
}

@Test(arguments: goldenCheckpoints.map { "\($0).chat" } + ["q2-yarn.yarn"])
func compactAgreesWithFull(stem: String) throws {
    let full = try GoldenLogits(path: goldenPath("\(stem).safetensors"))
    let compact = try GoldenLogits(path: goldenPath("\(stem).top8.safetensors"))
    #expect(compact.tokens == full.tokens)
    let rows = fullRows(full)
    // The same model run: the golden's own logits against its compact form.
    let same = try compare(compact, rows).metrics
    #expect(same.top1Agreement == 1)
    #expect(same.top5Overlap == 1)
    #expect(same.maxAbsError == 0)
    #expect(same.maxKL < 1e-12)
    // Perturbed logits: the compact KL is a lower bound of the full one (up to the float32 log-sum-exp) and the
    // top-1 agreement is the same.
    var rng = SplitMix64(seed: 42)
    let noisy = rows.map { $0.map { $0 + Float(rng.nextGaussian() * 0.3) } }
    let f = try compare(full, noisy).metrics
    let c = try compare(compact, noisy).metrics
    #expect(f.meanKL > 1e-3)
    #expect(c.meanKL <= f.meanKL + 1e-6)
    #expect(c.meanKL > 0.1 * f.meanKL)
    #expect(c.top1Matches == f.top1Matches)
    #expect(c.top5Shared == f.top5Shared)
    #expect(c.maxAbsError <= f.maxAbsError)
}

@Test func perturbationRaisesKLAndIsWorstFirst() throws {
    let g = try GoldenLogits(path: goldenPath("q2-tied.chat.safetensors"))
    var rows = fullRows(g)
    rows[3] = rows[3].map { $0 * 1.5 }  // a sharper distribution at one position
    rows[7][0] += 0.5
    let c = try compare(g, rows, worstCount: 3)
    #expect(c.metrics.maxKL > 0)
    #expect(c.worst.map(\.position).prefix(2) == [3, 7])
    #expect(c.worst.count == 3)
    #expect(c.worst[0].token == g.tokens[3])
    #expect(c.worst[2].kl == 0)
    #expect(c.metrics.maxAbsError > 0.5)
}

@Test func nonFiniteLogitsFail() throws {
    let g = try GoldenLogits(path: goldenPath("q2-tied.short.safetensors"))
    var rows = fullRows(g)
    rows[2][10] = .nan
    let c = try compare(g, rows)
    #expect(c.metrics.nonFinitePositions == 1)
    #expect(c.metrics.maxKL == .infinity)
    #expect(c.metrics.top1Matches == 4)
    #expect(c.worst[0].position == 2)
    #expect(c.worst[0].oursTop1 == -1)
    let failures = VerificationThresholds(maxMeanKL: 1).evaluate(c.metrics)
    #expect(failures.map(\.metric) == [.meanKL, .nonFinite])
}

@Test func comparatorBookkeepingErrors() throws {
    let g = try GoldenLogits(path: goldenPath("q2-tied.short.safetensors"))
    var c = LogitComparator(golden: g)
    let row = g.logits(at: 0)
    #expect(throws: VerificationError.logitCountMismatch(path: g.path, position: 0, count: 319, expected: 320)) {
        try c.add(position: 0, ours: Array(row.dropLast()))
    }
    try c.add(position: 0, ours: row)
    #expect(throws: VerificationError.invalidPosition(path: g.path, position: 0, count: 5, repeated: true)) {
        try c.add(position: 0, ours: row)
    }
    #expect(throws: VerificationError.invalidPosition(path: g.path, position: 5, count: 5, repeated: false)) {
        try c.add(position: 5, ours: row)
    }
    #expect(throws: VerificationError.positionsMissing(path: g.path, compared: 1, count: 5, first: 1)) {
        try c.finish()
    }
    #expect(VerificationError.positionsMissing(path: "g", compared: 1, count: 5, first: 1).description
        == "g: only 1 of 5 positions were compared (first missing: 1)")
}

/// A small seeded generator (SplitMix64) with Box–Muller normals, so the perturbations are the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func nextGaussian() -> Double {
        let u = max(nextUnit(), 1e-300), v = nextUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
