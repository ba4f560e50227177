import Foundation

/// llama.cpp's perplexity estimate, shared by llama-perplexity and llama-imatrix: Σ −log p and Σ (−log p)² over the
/// scored positions, the running estimate exp(mean) after each chunk, and the final estimate with its error (the
/// standard error of the mean −log p, times the perplexity).
public struct PerplexityEstimate: Sendable {
    public private(set) var count = 0
    private var nll = 0.0, nll2 = 0.0
    /// exp(mean −log p) after each chunk (its `[1]…,[2]…`).
    public private(set) var running: [Double] = []

    public init() {}

    /// One scored position's −log p.
    @inline(__always) public mutating func add(_ negativeLogLikelihood: Double) {
        nll += negativeLogLikelihood
        nll2 += negativeLogLikelihood * negativeLogLikelihood
        count += 1
    }

    /// Closes a chunk: appends the running estimate and returns it.
    @discardableResult public mutating func endChunk() -> Double {
        running.append(exp(nll / Double(count)))
        return running.last!
    }

    /// exp(mean −log p), and its error: nil when the variance of −log p is not positive (llama.cpp then prints
    /// "Unexpected negative standard deviation of log(prob)").
    public var final: (perplexity: Double, error: Double?) {
        let mean = nll / Double(count), ppl = exp(mean)
        let variance = nll2 / Double(count) - mean * mean
        return (ppl, variance > 0 ? (variance / Double(count - 1)).squareRoot() * ppl : nil)
    }
}
