#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QwenKitIO

// The report of `verify`: every golden file's metrics and the total over all their positions, each checked against
// the thresholds; a text table for people (as `diff` prints) and one JSON document for scripts.

public struct VerificationReport: Sendable {
    /// One golden file's line of the report.
    public struct FileResult: Sendable, Equatable {
        public let comparison: GoldenComparison
        public let failures: [ThresholdFailure]
        public var passed: Bool { failures.isEmpty }
    }

    /// The model as the user named it.
    public let model: String
    /// Its weight type as shown (`Q8_0`, `BF16`), which chose the default thresholds.
    public let weightType: String
    public let thresholds: VerificationThresholds
    public let files: [FileResult]
    /// All positions of all files together.
    public let total: LogitMetrics
    public let totalFailures: [ThresholdFailure]
    /// The worst positions over all files, worst first.
    public let worst: [PositionResult]

    /// Passes when every file and the total stay within the thresholds.
    public var passed: Bool { totalFailures.isEmpty && files.allSatisfy(\.passed) }

    public init(model: String, weightType: String, thresholds: VerificationThresholds, comparisons: [GoldenComparison],
                worstCount: Int = 5) {
        self.model = model
        self.weightType = weightType
        self.thresholds = thresholds
        files = comparisons.map { FileResult(comparison: $0, failures: thresholds.evaluate($0.metrics)) }
        var total = LogitMetrics()
        for c in comparisons { total.merge(c.metrics) }
        self.total = total
        totalFailures = thresholds.evaluate(total)
        worst = Array(comparisons.flatMap(\.worst).sorted(by: PositionResult.worse).prefix(max(0, worstCount)))
    }

    // MARK: Text

    static func formLabel(_ c: GoldenComparison) -> String { c.topK.map { "top-\($0)" } ?? "full" }

    static func thresholdsText(_ t: VerificationThresholds) -> String {
        var parts: [String] = []
        if let v = t.maxAbsError { parts.append("max abs err ≤ \(formatG(v, digits: 3))") }
        if let v = t.minCosine { parts.append("cosine ≥ \(formatG(v, digits: 7))") }
        if let v = t.minTop1Agreement { parts.append("top-1 ≥ \(formatG(v, digits: 3))") }
        if let v = t.minTop5Overlap { parts.append("top-5 ≥ \(formatG(v, digits: 3))") }
        if let v = t.maxMeanKL { parts.append("mean KL ≤ \(formatG(v, digits: 3))") }
        if let v = t.maxKL { parts.append("max KL ≤ \(formatG(v, digits: 3))") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    static func percent(_ x: Double) -> String { formatFixed(100 * x, decimals: 1) + "%" }

    public func text() -> String {
        var lines = ["model: \(model)  (\(weightType); thresholds: \(Self.thresholdsText(thresholds)))"]
        let names = files.map(\.comparison.path) + ["total"]
        let nameWidth = max(6, names.map(\.count).max()!) + 2
        func row(_ status: String, _ name: String, _ form: String, _ m: LogitMetrics, _ failures: [ThresholdFailure]) -> String {
            var line = pad(status, 8) + pad(name, nameWidth) + pad(form, 8) + pad(grouped(m.positions), 8, right: true)
                + pad(formatG(m.maxAbsError, digits: 3), 12, right: true) + pad(formatG(m.rmse, digits: 3), 12, right: true)
                + pad(formatG(m.cosineSimilarity, digits: 8), 13, right: true) + pad(Self.percent(m.top1Agreement), 9, right: true)
                + pad(m.top5Overlap.map(Self.percent) ?? "-", 9, right: true)
                + pad(formatG(m.meanKL, digits: 3), 12, right: true) + pad(formatG(m.maxKL, digits: 3), 12, right: true)
            if !failures.isEmpty { line += "  " + failures.map(\.description).joined(separator: ", ") }
            while line.last == " " { line.removeLast() }
            return line
        }
        lines.append("")
        lines.append(pad("status", 8) + pad("golden", nameWidth) + pad("form", 8) + pad("tokens", 8, right: true)
            + pad("max abs err", 12, right: true) + pad("rmse", 12, right: true) + pad("cosine", 13, right: true)
            + pad("top-1", 9, right: true) + pad("top-5", 9, right: true) + pad("mean KL", 12, right: true)
            + pad("max KL", 12, right: true))
        for f in files {
            lines.append(row(f.passed ? "pass" : "FAIL", f.comparison.path, Self.formLabel(f.comparison), f.comparison.metrics, f.failures))
        }
        if files.count > 1 {
            lines.append(row(totalFailures.isEmpty ? "pass" : "FAIL", "total", "", total, totalFailures))
        }
        if !worst.isEmpty {
            lines.append("")
            lines.append("worst positions (by KL):")
            let fileWidth = max(6, worst.map(\.file.count).max()!) + 2
            lines.append("  " + pad("golden", fileWidth) + pad("position", 10, right: true) + pad("token", 8, right: true)
                + pad("KL", 12, right: true) + pad("max abs err", 12, right: true) + pad("golden top-1", 14, right: true)
                + pad("our top-1", 11, right: true))
            for p in worst {
                var line = "  " + pad(p.file, fileWidth) + pad(String(p.position), 10, right: true) + pad(String(p.token), 8, right: true)
                    + pad(formatG(p.kl, digits: 3), 12, right: true) + pad(formatG(p.maxAbsError, digits: 3), 12, right: true)
                    + pad(String(p.goldenTop1), 14, right: true) + pad(p.oursTop1 < 0 ? "-" : String(p.oursTop1), 11, right: true)
                if p.goldenTop1 != p.oursTop1 { line += "  top-1 differs" }
                lines.append(line)
            }
        }
        lines.append("")
        lines.append(summaryLine())
        return lines.joined(separator: "\n") + "\n"
    }

    /// `3 goldens, 86 positions: all within the Q8_0 thresholds` or `...: 1 of 3 goldens fails; the model differs`.
    public func summaryLine() -> String {
        let failing = files.filter { !$0.passed }.count
        let head = "\(grouped(files.count)) golden\(files.count == 1 ? "" : "s"), \(grouped(total.positions)) positions: "
        if passed { return head + "all within the \(weightType) thresholds" }
        let what = failing > 0 ? "\(failing) of \(files.count) golden\(files.count == 1 ? "" : "s") fail\(failing == 1 ? "s" : "")"
            : "the total fails (" + totalFailures.map(\.description).joined(separator: ", ") + ")"
        return head + what + "; the model differs from the reference"
    }

    // MARK: JSON

    public func json() -> JSONOutput {
        .object([
            ("model", .string(model)),
            ("weight_type", .string(weightType)),
            ("passed", .bool(passed)),
            ("thresholds", Self.json(thresholds)),
            ("files", .array(files.map { f in
                .object([
                    ("path", .string(f.comparison.path)),
                    ("form", .string(f.comparison.form.rawValue)),
                    ("top_k", f.comparison.topK.map { .integer($0) } ?? .null),
                    ("vocab_size", .integer(f.comparison.vocabSize)),
                    ("passed", .bool(f.passed)),
                    ("failures", .array(f.failures.map(Self.json))),
                    ("metrics", Self.json(f.comparison.metrics)),
                    ("worst", .array(f.comparison.worst.map(Self.json))),
                ])
            })),
            ("total", .object([("passed", .bool(totalFailures.isEmpty)), ("failures", .array(totalFailures.map(Self.json))),
                               ("metrics", Self.json(total)), ("worst", .array(worst.map(Self.json)))])),
        ])
    }

    static func json(_ m: LogitMetrics) -> JSONOutput {
        .object([
            ("positions", .integer(m.positions)),
            ("compared_logits", .integer(m.comparedLogits)),
            (VerificationMetric.maxAbsError.rawValue, .double(m.maxAbsError)),
            ("rmse", .double(m.rmse)),
            (VerificationMetric.cosine.rawValue, .double(m.cosineSimilarity)),
            (VerificationMetric.top1Agreement.rawValue, .double(m.top1Agreement)),
            (VerificationMetric.top5Overlap.rawValue, m.top5Overlap.map(JSONOutput.double) ?? .null),
            (VerificationMetric.meanKL.rawValue, .double(m.meanKL)),
            (VerificationMetric.maxKL.rawValue, .double(m.maxKL)),
            (VerificationMetric.nonFinite.rawValue, .integer(m.nonFinitePositions)),
        ])
    }

    static func json(_ t: VerificationThresholds) -> JSONOutput {
        func v(_ x: Double?) -> JSONOutput { x.map(JSONOutput.double) ?? .null }
        return .object([
            ("max_abs_error", v(t.maxAbsError)), ("min_cosine", v(t.minCosine)),
            ("min_top1_agreement", v(t.minTop1Agreement)), ("min_top5_overlap", v(t.minTop5Overlap)),
            ("max_mean_kl", v(t.maxMeanKL)), ("max_kl", v(t.maxKL)),
        ])
    }

    static func json(_ f: ThresholdFailure) -> JSONOutput {
        .object([("metric", .string(f.metric.rawValue)), ("actual", .double(f.actual)), ("limit", .double(f.limit)),
                 ("kind", .string(f.isMinimum ? "min" : "max")), ("message", .string(f.description))])
    }

    static func json(_ p: PositionResult) -> JSONOutput {
        .object([("file", .string(p.file)), ("position", .integer(p.position)), ("token", .integer(p.token)),
                 ("kl", .double(p.kl)), ("max_abs_error", .double(p.maxAbsError)), ("golden_top1", .integer(p.goldenTop1)),
                 ("our_top1", p.oursTop1 < 0 ? .null : .integer(p.oursTop1))])
    }
}
