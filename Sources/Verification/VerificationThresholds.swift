import ModelFiles
import QwenKitIO

// The pass/fail limits of `verify`, per weight type, set from measurements (README, "Verifying logits";
// Fixtures/scripts/measure_verify.py): the runtime on every quantize type of the five fixture checkpoints against their
// goldens, and on three perturbations of each (one weight changed, a wrong rope theta, swapped attention tensors).
// Float types are held to the float32 reference's rounding; quantized types to a mean-KL budget between the worst
// faithful golden of the type and the mildest perturbation (both noted per row), with top-1/top-5 floors and a max KL
// under which every faithful file stays. The fixtures are tiny random-weight models, noisier under quantization than trained ones: on a
// real model these limits are loose, and the flags tighten them.

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

    /// The defaults, in one place: weight types and their limits. A type not listed (TQ1_0, TQ2_0, Q1_0, Q2_0, MXFP4,
    /// NVFP4 ...) gets `otherQuantized`.
    public static let table: [(types: [GGMLType], thresholds: VerificationThresholds)] = [
        // Measured worst faithful: max abs error 2.0e-5, max KL 1.4e-11, top-1 100%.
        ([.f32], .init(maxAbsError: 1e-4, minCosine: 0.999_999, minTop1Agreement: 1, minTop5Overlap: 0.99,
                       maxMeanKL: 1e-7, maxKL: 1e-6)),
        // 0.024, mean KL 4.2e-6, max KL 2.1e-5, top-1 100%, top-5 99.8%.
        ([.f16], .init(maxAbsError: 0.1, minCosine: 0.9999, minTop1Agreement: 0.98, minTop5Overlap: 0.95,
                       maxMeanKL: 5e-5, maxKL: 5e-4)),
        // 0.25, mean KL 2.6e-4, max KL 2.7e-3, top-1 97.6%, top-5 97.0%, cosine 0.99992.
        ([.bf16], .init(maxAbsError: 0.5, minCosine: 0.999, minTop1Agreement: 0.9, minTop5Overlap: 0.9,
                        maxMeanKL: 1e-3, maxKL: 1e-2)),
        // The rest: the worst faithful file's worst golden (limits apply per golden): mean KL, top-1, top-5; then max KL.
        // Q8_0: 0.0035, 80% (one miss in 5 tokens), 93.7%; 0.032.
        ([.q8_0, .q8_1, .q8_K], .init(minTop1Agreement: 0.6, minTop5Overlap: 0.8, maxMeanKL: 0.01, maxKL: 0.1)),
        // Q6_K: 0.0067, 80%, 88.6%; 0.032.
        ([.q6_K], .init(minTop1Agreement: 0.6, minTop5Overlap: 0.75, maxMeanKL: 0.02, maxKL: 0.1)),
        // Q5_0, Q5_1, Q5_K_S/M: 0.21, 42.9%, 54.3%; 1.32 (the closest perturbation: 0.547).
        ([.q5_0, .q5_1, .q5_K], .init(minTop1Agreement: 0.25, minTop5Overlap: 0.4, maxMeanKL: 0.35, maxKL: 2.5)),
        // Q4_K_S/M: 0.15, 38.1%, 66.7%; 1.25 (perturbed: 0.545). IQ4_NL/IQ4_XS, measured on the trained checkpoint only
        // (README): 0.0044, 92%, 97%; 0.21.
        ([.q4_K, .iq4_NL, .iq4_XS], .init(minTop1Agreement: 0.25, minTop5Overlap: 0.5, maxMeanKL: 0.35, maxKL: 2.5)),
        // Q4_0, Q4_1: 0.50, 20%, 36.2%; 2.0 (perturbed: 0.624).
        ([.q4_0, .q4_1], .init(minTop1Agreement: 0.1, minTop5Overlap: 0.25, maxMeanKL: 0.56, maxKL: 3)),
        // Q3_K_S/M/L: 0.50, 23.8%, 36.2%; 2.0 (perturbed: 0.63). IQ3_XXS/XS/S/M on the trained checkpoint: 0.013, 89%, 92%; 0.23.
        ([.q3_K, .iq3_XXS, .iq3_S], .init(minTop1Agreement: 0.1, minTop5Overlap: 0.25, maxMeanKL: 0.56, maxKL: 3)),
        // Q2_K: 0.60, 14.3%, 26.7%; 2.0 (perturbed: 0.624 for q2moe's rope theta, which passes; the others 0.77 and up).
        // IQ2_XXS/XS/S/M, IQ1_S/M on the trained checkpoint: 0.066, 80%, 79%; 2.1.
        ([.q2_K, .iq2_XXS, .iq2_XS, .iq2_S, .iq1_S, .iq1_M], .init(minTop1Agreement: 0.05, minTop5Overlap: 0.15, maxMeanKL: 0.7, maxKL: 3)),
    ]

    /// For weight types without a row of their own.
    public static let otherQuantized = VerificationThresholds(minTop1Agreement: 0.05, minTop5Overlap: 0.15, maxMeanKL: 0.7, maxKL: 3)

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
