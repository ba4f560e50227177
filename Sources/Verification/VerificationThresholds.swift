import ModelFiles

// The pass/fail limits of `verify`, per weight type. The numbers below are first guesses, meant to be tuned from
// measurements (the runtime against goldens of converted and quantized models): float types are held to the
// float32 reference's rounding, quantized types to a KL budget and top-1 agreement.

/// A metric a threshold limits; the raw value is the report's JSON key.
public enum VerificationMetric: String, Sendable, CaseIterable {
    case maxAbsError = "max_abs_error"
    case cosine = "cosine"
    case top1Agreement = "top1_agreement"
    case top5Overlap = "top5_overlap"
    case meanKL = "mean_kl"
    case maxKL = "max_kl"
    case nonFinite = "nonfinite_positions"

    /// How a person reads it.
    public var label: String {
        switch self {
        case .maxAbsError: return "max abs error"
        case .cosine: return "cosine"
        case .top1Agreement: return "top-1 agreement"
        case .top5Overlap: return "top-5 overlap"
        case .meanKL: return "mean KL"
        case .maxKL: return "max KL"
        case .nonFinite: return "positions with NaN/inf logits"
        }
    }
}

/// One broken limit: `actual` is above a maximum or below a minimum.
public struct ThresholdFailure: Sendable, Equatable, CustomStringConvertible {
    public let metric: VerificationMetric
    public let actual: Double
    public let limit: Double
    /// True when `limit` is a minimum (cosine, agreement), false when a maximum.
    public let isMinimum: Bool

    /// `mean KL 0.0123 > 0.01` (cosine with the digits its limits need: `cosine 0.9831612 < 0.999999`).
    public var description: String {
        let digits = metric == .cosine ? 7 : 4
        return "\(metric.label) \(formatG(actual, digits: digits)) \(isMinimum ? "<" : ">") \(formatG(limit, digits: digits))"
    }
}

/// Limits on the metrics; nil means unchecked. Positions with NaN or infinite logits always fail.
public struct VerificationThresholds: Sendable, Equatable {
    public var maxAbsError: Double?
    public var minCosine: Double?
    public var minTop1Agreement: Double?
    /// Checked only where a top-5 comparison exists (not in compact goldens with K < 5).
    public var minTop5Overlap: Double?
    public var maxMeanKL: Double?
    public var maxKL: Double?

    public init(maxAbsError: Double? = nil, minCosine: Double? = nil, minTop1Agreement: Double? = nil,
                minTop5Overlap: Double? = nil, maxMeanKL: Double? = nil, maxKL: Double? = nil) {
        self.maxAbsError = maxAbsError
        self.minCosine = minCosine
        self.minTop1Agreement = minTop1Agreement
        self.minTop5Overlap = minTop5Overlap
        self.maxMeanKL = maxMeanKL
        self.maxKL = maxKL
    }

    /// The defaults, in one place: weight types and their limits. A type not listed (IQ, TQ, MXFP4 ...) gets
    /// `otherQuantized`.
    public static let table: [(types: [GGMLType], thresholds: VerificationThresholds)] = [
        ([.f32], .init(maxAbsError: 1e-4, minCosine: 0.999_999, minTop1Agreement: 1, minTop5Overlap: 0.99,
                       maxMeanKL: 1e-7, maxKL: 1e-6)),
        ([.f16], .init(maxAbsError: 1e-2, minCosine: 0.9999, minTop1Agreement: 0.98, minTop5Overlap: 0.95,
                       maxMeanKL: 1e-4, maxKL: 1e-3)),
        ([.bf16], .init(maxAbsError: 5e-2, minCosine: 0.999, minTop1Agreement: 0.95, minTop5Overlap: 0.9,
                        maxMeanKL: 5e-4, maxKL: 5e-3)),
        ([.q8_0, .q8_1, .q8_K], .init(minTop1Agreement: 0.9, minTop5Overlap: 0.85, maxMeanKL: 2e-3, maxKL: 5e-2)),
        ([.q6_K], .init(minTop1Agreement: 0.85, minTop5Overlap: 0.8, maxMeanKL: 5e-3, maxKL: 0.1)),
        ([.q5_0, .q5_1, .q5_K], .init(minTop1Agreement: 0.8, minTop5Overlap: 0.75, maxMeanKL: 1e-2, maxKL: 0.2)),
        ([.q4_0, .q4_1, .q4_K], .init(minTop1Agreement: 0.75, minTop5Overlap: 0.7, maxMeanKL: 3e-2, maxKL: 0.5)),
        ([.q3_K], .init(minTop1Agreement: 0.6, minTop5Overlap: 0.6, maxMeanKL: 0.1, maxKL: 1)),
        ([.q2_K], .init(minTop1Agreement: 0.5, minTop5Overlap: 0.5, maxMeanKL: 0.25, maxKL: 2)),
    ]

    /// For weight types without a row of their own.
    public static let otherQuantized = VerificationThresholds(minTop1Agreement: 0.5, maxMeanKL: 0.25, maxKL: 2)

    /// The default limits for a model whose weights are mostly `type` (a GGUF's file type, a checkpoint's dtype).
    public static func defaults(for type: GGMLType) -> VerificationThresholds {
        table.first { $0.types.contains(type) }?.thresholds ?? otherQuantized
    }

    /// The limits `m` breaks, in `VerificationMetric` order; empty when it passes.
    public func evaluate(_ m: LogitMetrics) -> [ThresholdFailure] {
        var out: [ThresholdFailure] = []
        func above(_ metric: VerificationMetric, _ actual: Double, _ limit: Double?) {
            if let limit, !(actual <= limit) { out.append(ThresholdFailure(metric: metric, actual: actual, limit: limit, isMinimum: false)) }
        }
        func below(_ metric: VerificationMetric, _ actual: Double?, _ limit: Double?) {
            if let limit, let actual, !(actual >= limit) {
                out.append(ThresholdFailure(metric: metric, actual: actual, limit: limit, isMinimum: true))
            }
        }
        above(.maxAbsError, m.maxAbsError, maxAbsError)
        below(.cosine, m.cosineSimilarity, minCosine)
        below(.top1Agreement, m.top1Agreement, minTop1Agreement)
        below(.top5Overlap, m.top5Overlap, minTop5Overlap)
        above(.meanKL, m.meanKL, maxMeanKL)
        above(.maxKL, m.maxKL, maxKL)
        if m.nonFinitePositions > 0 {
            out.append(ThresholdFailure(metric: .nonFinite, actual: Double(m.nonFinitePositions), limit: 0, isMinimum: false))
        }
        return out
    }
}
