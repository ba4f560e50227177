// Thresholds (defaults table, evaluation) and the report's text and JSON.

import Foundation
import ModelFiles
import QwenKitIO
import Testing
import TestSupport
@testable import Verification

@Test func defaultThresholdsByWeightType() {
    let f32 = VerificationThresholds.defaults(for: .f32)
    #expect(f32.maxAbsError == 1e-4)
    #expect(f32.minTop1Agreement == 1)
    #expect(VerificationThresholds.defaults(for: .bf16).maxAbsError! > VerificationThresholds.defaults(for: .f16).maxAbsError!)
    for q in [GGMLType.q8_0, .q6_K, .q5_K, .q4_K, .q4_0, .q3_K, .q2_K] {
        let t = VerificationThresholds.defaults(for: q)
        #expect(t.maxAbsError == nil)
        #expect(t.maxMeanKL != nil)
        #expect(t.minTop1Agreement != nil)
    }
    // Fewer bits, looser limits.
    let order: [GGMLType] = [.q8_0, .q6_K, .q5_K, .q4_K, .q3_K, .q2_K]
    let kl = order.map { VerificationThresholds.defaults(for: $0).maxMeanKL! }
    #expect(kl == kl.sorted())
    #expect(VerificationThresholds.defaults(for: .iq2_XXS) == VerificationThresholds.otherQuantized)
    // Every type appears in at most one row.
    let listed = VerificationThresholds.table.flatMap(\.types)
    #expect(Set(listed).count == listed.count)
}

@Test func thresholdEvaluation() {
    var m = LogitMetrics()
    var r = PositionComparison()
    r.kl = 0.02; r.maxAbsError = 0.3; r.compared = 1; r.sumSquaredError = 0.09; r.dot = 1; r.goldenSquares = 1; r.oursSquares = 1
    r.goldenTop1 = 1; r.oursTop1 = 2
    m.add(r, top5: (shared: 4, slots: 5))
    let t = VerificationThresholds(maxAbsError: 0.1, minCosine: 0.5, minTop1Agreement: 0.9, minTop5Overlap: 0.8,
                                   maxMeanKL: 0.01, maxKL: 0.05)
    let failures = t.evaluate(m)
    #expect(failures.map(\.metric) == [.maxAbsError, .top1Agreement, .meanKL])
    #expect(failures.map(\.description) == ["max abs error 0.3 > 0.1", "top-1 agreement 0 < 0.9", "mean KL 0.02 > 0.01"])
    var loose = t
    loose.maxAbsError = nil
    loose.minTop1Agreement = 0
    loose.maxMeanKL = 0.02
    #expect(loose.evaluate(m).isEmpty)
    // Unchecked where there is nothing to check: no top 5 in a compact golden with K < 5.
    var noTop5 = LogitMetrics()
    noTop5.add(PositionComparison(), top5: nil)
    #expect(VerificationThresholds(minTop5Overlap: 1).evaluate(noTop5).isEmpty)
}

func sampleReport() throws -> VerificationReport {
    let a = try GoldenLogits(path: goldenPath("q2-tied.short.safetensors"))
    let b = try GoldenLogits(path: goldenPath("q2-tied.chat.top8.safetensors"))
    var rows = try fullRows(GoldenLogits(path: goldenPath("q2-tied.chat.safetensors")))
    rows[4] = rows[4].map { $0 * 2 }
    return VerificationReport(model: "q2-tied.f32.gguf", weightType: "F32", thresholds: .defaults(for: .f32),
                              comparisons: [try compare(a, fullRows(a)), try compare(b, rows)], worstCount: 2)
}

@Test func reportTotalsAndVerdict() throws {
    let report = try sampleReport()
    #expect(report.files.map(\.passed) == [true, false])
    #expect(report.total.positions == 26)
    #expect(report.total.comparedLogits == 5 * 320 + 21 * 8)
    #expect(report.total.maxKL == report.files[1].comparison.metrics.maxKL)
    #expect(!report.passed)
    #expect(report.worst.count == 2)
    #expect(report.worst[0].position == 4)
    #expect(report.worst[0].file.hasSuffix("q2-tied.chat.top8.safetensors"))
    #expect(report.summaryLine() == "2 goldens, 26 positions: 1 of 2 goldens fails; the model differs from the reference")
    let ok = VerificationReport(model: "m", weightType: "F32", thresholds: .defaults(for: .f32),
                                comparisons: [report.files[0].comparison])
    #expect(ok.passed)
    #expect(ok.summaryLine() == "1 golden, 5 positions: all within the F32 thresholds")
}

@Test func reportText() throws {
    let text = try sampleReport().text()
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0].hasPrefix("model: q2-tied.f32.gguf  (F32; thresholds: max abs err ≤ 0.0001, cosine ≥ 0.999999, top-1 ≥ 1,"))
    #expect(lines[2].hasPrefix("status  golden"))
    #expect(lines[2].hasSuffix("form      tokens max abs err        rmse       cosine    top-1    top-5     mean KL      max KL"))
    #expect(lines[3].hasPrefix("pass    "))
    #expect(lines[3].contains("q2-tied.short.safetensors"))
    #expect(lines[3].contains(" full "))
    #expect(lines[3].contains("100.0%"))
    #expect(lines[4].hasPrefix("FAIL    "))
    #expect(lines[4].contains(" top-8 "))
    #expect(lines[4].contains("mean KL "))
    #expect(lines[5].hasPrefix("FAIL    total"))
    #expect(lines[7] == "worst positions (by KL):")
    #expect(lines.last == "")
    #expect(lines[lines.count - 2] == "2 goldens, 26 positions: 1 of 2 goldens fails; the model differs from the reference")
}

@Test func reportJSONShape() throws {
    let report = try sampleReport()
    guard case .object(let top) = report.json() else { Issue.record("not an object"); return }
    #expect(top.map(\.0) == ["model", "weight_type", "passed", "thresholds", "files", "total"])
    #expect(top[0].1 == .string("q2-tied.f32.gguf"))
    #expect(top[2].1 == .bool(false))
    guard case .array(let files) = top[4].1, case .object(let file) = files[1] else { Issue.record("no files"); return }
    #expect(file.map(\.0) == ["path", "form", "top_k", "vocab_size", "passed", "failures", "metrics", "worst"])
    #expect(file[1].1 == .string("compact"))
    #expect(file[2].1 == .int(8))
    #expect(file[3].1 == .int(320))
    guard case .object(let metrics) = file[6].1 else { Issue.record("no metrics"); return }
    #expect(metrics.map(\.0) == ["positions", "compared_logits", "max_abs_error", "rmse", "cosine", "top1_agreement",
                                 "top5_overlap", "mean_kl", "max_kl", "nonfinite_positions"])
    #expect(metrics[0].1 == .int(21))
    guard case .object(let total) = top[5].1 else { Issue.record("no total"); return }
    #expect(total.map(\.0) == ["passed", "failures", "metrics", "worst"])
    guard case .array(let failures) = file[5].1, case .object(let failure) = failures.first else { Issue.record("no failure"); return }
    #expect(failure.map(\.0) == ["metric", "actual", "limit", "kind", "message"])
    // Renders as JSON a parser reads back.
    let parsed = try JSONSerialization.jsonObject(with: Data(report.json().rendered().utf8)) as? [String: Any]
    #expect(parsed?["weight_type"] as? String == "F32")
}
