#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What llama-perplexity computes at one scored position from the model's logits there (its three `log_softmax`
/// functions), in its types and order: float where it uses float, double where it accumulates, `expf` and `log` of
/// the C library, every sum in vocabulary order. perplexity.cpp is compiled without FMA contraction (no -march for
/// the tool itself: its process_logits lambdas hold no fused multiply-add), so neither do we.
public enum PositionScoring {
    /// `std::max(a, b)`: `b` only when `a < b` (on ±0 Swift's `max` may pick the other one).
    @inline(__always) static func cMax(_ a: Float, _ b: Float) -> Float { a < b ? b : a }
    /// `std::min(a, b)`: `b` only when `b < a`.
    @inline(__always) static func cMin(_ a: Float, _ b: Float) -> Float { b < a ? b : a }

    /// Σ expf(logit − maxLogit) in double, in vocabulary order.
    @inline(__always)
    static func sumOfExponentials(_ logits: UnsafePointer<Float>, _ n: Int, maxLogit: Float) -> Double {
        var sum = 0.0
        for i in 0..<n { sum += Double(expf(logits[i] - maxLogit)) }
        return sum
    }

    /// −log p(token) as perplexity mode computes it (`log_softmax(n_vocab, logits, tok)`): the logit minus the maximum
    /// in float, minus log Σ in double.
    public static func negativeLogLikelihood(_ logits: UnsafePointer<Float>, vocabulary n: Int, token: Int) -> Double {
        var maxLogit = logits[0]
        for i in 1..<n { maxLogit = cMax(maxLogit, logits[i]) }
        let sumExp = sumOfExponentials(logits, n, maxLogit: maxLogit)
        return -(Double(logits[token] - maxLogit) - log(sumExp))
    }

    /// ggml's `nearest_int`: round to nearest (ties to even) by adding 1.5 × 2²³ and reading the mantissa.
    @inline(__always) static func nearestInt(_ x: Float) -> Int32 {
        let bits = Int32(bitPattern: (x + 12582912).bitPattern)
        return (bits & 0x007f_ffff) - 0x0040_0000
    }

    /// One row of a base file, as `--kl-divergence-base` writes it (`log_softmax(n_vocab, logits, log_prob, tok)`):
    /// the scale and the minimum log-probability as two floats (four uint16, low half first), then per token
    /// round((logit − min) / scale) as uint16 (0 at or below the minimum), where min is the smallest logit but at
    /// most 16 below the largest and scale spans max − min in 65535 steps. `row` holds `KLDivergenceBase.rowWidth`
    /// values; the padding value (odd vocabularies) is left as it is. Returns −log p(token) (float arithmetic).
    public static func quantizeLogProbabilities(_ logits: UnsafePointer<Float>, vocabulary n: Int, token: Int,
                                                into row: UnsafeMutablePointer<UInt16>) -> Double {
        var maxLogit = logits[0], minLogit = logits[0]
        for i in 1..<n {
            maxLogit = cMax(maxLogit, logits[i])
            minLogit = cMin(minLogit, logits[i])
        }
        minLogit = cMax(minLogit, maxLogit - 16)
        let sumExp = sumOfExponentials(logits, n, maxLogit: maxLogit)
        let logSumExp = Float(log(sumExp))
        let minLogProb: Float = minLogit - maxLogit - logSumExp
        let scale: Float = (maxLogit - minLogit) / 65535
        KLDivergenceBase.storeFloat(scale, at: row)
        KLDivergenceBase.storeFloat(minLogProb, at: row + 2)
        let q = row + 4
        if scale != 0 {
            let inverseScale: Float = 1 / scale
            for i in 0..<n {
                q[i] = logits[i] > minLogit ? UInt16(truncatingIfNeeded: nearestInt(inverseScale * (logits[i] - minLogit))) : 0
            }
        } else {
            for i in 0..<n { q[i] = 0 }
        }
        let nll: Float = maxLogit + logSumExp - logits[token]
        return Double(nll)
    }

    /// One position of a KL-divergence run (`log_softmax(n_vocab, logits, base_log_prob, tok, kld)`).
    public struct Divergence: Sendable, Equatable {
        /// −log p(token) under the model, float.
        public var nll: Float
        /// −log p(token) under the base (from its quantized row), float.
        public var nllBase: Float
        /// Σ p_base · (log p_base − log p) over the tokens whose base log-probability is above −16, in double.
        public var kld: Double
        /// p(token) − p_base(token).
        public var pDiff: Float
        /// Whether the most likely token is the same (the first maximum of each, as llama-perplexity finds it).
        public var sameTop: Bool
    }

    /// The divergence of the model's logits at one position from a base row (`KLDivergenceBase.rowWidth` values).
    public static func divergence(_ logits: UnsafePointer<Float>, vocabulary n: Int, base row: UnsafePointer<UInt16>,
                                  token: Int) -> Divergence {
        var maxLogit = logits[0]
        var top = 0
        for i in 1..<n where logits[i] > maxLogit {
            maxLogit = logits[i]
            top = i
        }
        let sumExp = sumOfExponentials(logits, n, maxLogit: maxLogit)
        let logSumExp = Float(log(sumExp))
        let scale = KLDivergenceBase.loadFloat(at: row)
        let minLogProb = KLDivergenceBase.loadFloat(at: row + 2)
        let q = row + 4

        let nll: Float = maxLogit + logSumExp - logits[token]
        let nllBase: Float = -(scale * Float(q[token]) + minLogProb)

        let shift: Float = maxLogit + logSumExp
        var sum = 0.0
        var topBase = -1
        var maxLogBase: Float = 0
        for i in 0..<n {
            let logBase: Float = scale * Float(q[i]) + minLogProb
            if i == 0 || logBase > maxLogBase {
                maxLogBase = logBase
                topBase = i
            }
            if logBase > -16 {
                let pBase = expf(logBase)
                sum += Double(pBase * (logBase - logits[i] + shift))
            }
        }
        let pBase = expf(-nllBase)
        let p = expf(-nll)
        return Divergence(nll: nll, nllBase: nllBase, kld: sum, pDiff: p - pBase, sameTop: top == topBase)
    }
}

/// llama-perplexity's `kl_divergence_result`: the running sums of a KL-divergence run, added to as it adds to them.
public struct KLDivergenceSums: Sendable, Equatable {
    public var sumNLL = 0.0
    public var sumNLL2 = 0.0
    public var sumNLLBase = 0.0
    public var sumNLLBase2 = 0.0
    public var sumNLLNLLBase = 0.0
    public var sumKLD = 0.0
    public var sumKLD2 = 0.0
    public var sumPDiff = 0.0
    public var sumPDiff2 = 0.0
    public var sumPDiff4 = 0.0
    public var maxPDiff: Float = 0
    public var sameTop = 0
    public var count = 0

    public init() {}

    /// Products in float (as `nll*nll` is), sums in double.
    public mutating func add(_ d: PositionScoring.Divergence) {
        sumNLL += Double(d.nll)
        sumNLL2 += Double(d.nll * d.nll)
        sumNLLBase += Double(d.nllBase)
        sumNLLBase2 += Double(d.nllBase * d.nllBase)
        sumNLLNLLBase += Double(d.nll * d.nllBase)
        sumKLD += d.kld
        sumKLD2 += d.kld * d.kld
        count += 1
        if d.sameTop { sameTop += 1 }
        sumPDiff += Double(d.pDiff)
        let pDiff2 = Double(d.pDiff * d.pDiff)
        sumPDiff2 += pDiff2
        sumPDiff4 += pDiff2 * pDiff2
        maxPDiff = PositionScoring.cMax(maxPDiff, abs(d.pDiff))
    }
}

/// llama-perplexity's small statistics helpers, in double as it writes them.
public enum PerplexityStatistics {
    /// `mean_and_uncertainty`: the mean and its standard error (0 with 10 values or fewer).
    public static func meanAndUncertainty(_ sum: Double, _ sum2: Double, _ count: Int) -> (mean: Double, error: Double) {
        if count < 1 { return (0, 0) }
        let n = Double(count)
        let f = sum / n
        var df = sum2 / n - f * f
        df = df > 0 && count > 10 ? (df / Double(count - 1)).squareRoot() : 0
        return (f, df)
    }

    /// `covariance` (0 below 10 values).
    public static func covariance(_ sumA: Double, _ sumB: Double, _ sumAB: Double, _ count: Int) -> Double {
        if count < 10 { return 0 }
        let n = Double(count)
        var v = sumAB / n - (sumA / n) * (sumB / n)
        v /= Double(count - 1)
        return v
    }

    /// Its `percentile` of sorted `values`: linear between the two nearest ranks, in float.
    public static func percentile(_ values: [Float], _ fraction: Float) -> Float {
        if fraction <= 0 { return values[0] }
        if fraction >= 1 { return values[values.count - 1] }
        var p = fraction * Float(values.count - 1)
        let ip = Int(p)
        p -= Float(ip)
        return (1 - p) * values[ip] + p * values[min(ip + 1, values.count - 1)]
    }

    /// Its median of sorted `values` (the mean of the middle two in float for an even count).
    public static func median(_ values: [Float]) -> Float {
        let n = values.count
        return n % 2 == 0 ? 0.5 * (values[n / 2] + values[n / 2 - 1]) : values[n / 2]
    }
}
