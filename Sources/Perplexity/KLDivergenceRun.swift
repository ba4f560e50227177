#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Qwen2Runtime

/// `qwenkit perplexity MODEL --kl-divergence-base FILE --kl-divergence`: llama-perplexity's `kl_divergence()`. The
/// chunks and tokens are the base file's; each chunk's rows are read as it is scored (the file is never held whole).
public struct KLDivergenceRun {
    public let base: KLDivergenceBaseReader
    public let options: PerplexityOptions

    /// llama-perplexity's line per chunk: the running figures after it.
    public struct ChunkLine: Sendable, Equatable {
        public var chunk: Int
        public var perplexity: Double, perplexityError: Double
        public var logRatio: Double, logRatioError: Double
        public var kld: Double, kldError: Double
        public var rmsDeltaP: Double, rmsDeltaPError: Double
        public var sameTop: Double, sameTopError: Double
    }

    public struct Result: Sendable {
        public var header: KLDivergenceBase.Header
        public var lines: [ChunkLine]
        public var sums: KLDivergenceSums
        /// Every position's KL divergence and Δp, sorted ascending (as llama-perplexity sorts them for its percentiles).
        public var kldValues: [Float]
        public var deltaPValues: [Float]
        public var summary: KLDivergenceSummary { KLDivergenceSummary(sums: sums, kldValues: kldValues, deltaPValues: deltaPValues) }
    }

    /// Checks the base file against the model (vocabulary, context length), against `context` when one was asked
    /// for (`-c`), and against `textTokens` when a text was given (its tokens must begin with the base file's).
    public init(base: KLDivergenceBaseReader, model: Qwen2Model, context: Int?, textTokens: [UInt32]?,
                options: PerplexityOptions) throws(PerplexityError) {
        let h = base.header
        func fail(_ reason: String) -> PerplexityError { .mismatchedBase(path: base.path, reason: reason) }
        guard h.vocabulary == model.shape.vocabSize else {
            throw fail("holds log-probabilities over a vocabulary of \(h.vocabulary) tokens, the model's has "
                + "\(model.shape.vocabSize) (a base file of another model?)")
        }
        if let context, context != h.context {
            throw fail("was computed with a context of \(h.context) tokens, not \(context) (-c): give -c \(h.context) or leave it out")
        }
        if let textTokens {
            if let at = zip(textTokens, base.tokens).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                throw fail("its tokens differ from the text's at token \(at) (\(base.tokens[at]) in the base file, "
                    + "\(textTokens[at]) from the text): another text, or another tokenizer")
            }
            if textTokens.count < base.tokens.count {
                throw fail("holds \(base.tokens.count) tokens, the text only \(textTokens.count): another text")
            }
        }
        self.base = base
        var options = options
        options.context = h.context
        options.chunkLimit = h.chunks
        self.options = options
    }

    /// Runs every chunk of the base file, calling `afterChunk` with its line.
    public func run(model: Qwen2Model, afterChunk: (PerplexityProgress, ChunkLine) throws -> Void = { _, _ in }) throws -> Result {
        let h = base.header
        let n = h.context, V = h.vocabulary, width = h.rowWidth
        let evaluator = try ChunkEvaluator(model: model, options: options, context: n)
        let first = evaluator.first, scored = evaluator.scored
        var rows = [UInt16](repeating: 0, count: scored * width)
        var positions = [PositionScoring.Divergence](repeating: .init(nll: 0, nllBase: 0, kld: 0, pDiff: 0, sameTop: false), count: scored)
        var sums = KLDivergenceSums()
        var kldValues: [Float] = [], deltaPValues: [Float] = []
        kldValues.reserveCapacity(scored * h.chunks)
        deltaPValues.reserveCapacity(scored * h.chunks)
        var lines: [ChunkLine] = []
        let tokens = base.tokens
        for chunk in 0..<h.chunks {
            let start = chunk * n
            try evaluator.evaluate(tokens[start..<(start + n)])
            try rows.withUnsafeMutableBufferPointer { try base.readChunk(into: $0) }
            let targetBase = start + first + 1
            rows.withUnsafeBufferPointer { rowBuffer in
                positions.withUnsafeMutableBufferPointer { out in
                    let rowBase = rowBuffer.baseAddress!
                    evaluator.forEachPosition { i in
                        out[i] = PositionScoring.divergence(evaluator.row(i), vocabulary: V, base: rowBase + i * width,
                                                            token: Int(tokens[targetBase + i]))
                    }
                }
            }
            for d in positions {
                sums.add(d)
                kldValues.append(Float(d.kld))
                deltaPValues.append(d.pDiff)
            }
            let line = Self.line(chunk: chunk + 1, sums)
            lines.append(line)
            try afterChunk(PerplexityProgress(chunksDone: chunk + 1, chunkCount: h.chunks, context: n), line)
        }
        kldValues.sort()
        deltaPValues.sort()
        return Result(header: h, lines: lines, sums: sums, kldValues: kldValues, deltaPValues: deltaPValues)
    }

    /// The running figures after a chunk, as its loop computes them.
    static func line(chunk: Int, _ k: KLDivergenceSums) -> ChunkLine {
        typealias S = PerplexityStatistics
        let logPPL = S.meanAndUncertainty(k.sumNLL, k.sumNLL2, k.count)
        let ppl = exp(logPPL.mean)
        let logBase = S.meanAndUncertainty(k.sumNLLBase, k.sumNLLBase2, k.count)
        let cov = S.covariance(k.sumNLL, k.sumNLLBase, k.sumNLLNLLBase, k.count)
        let kl = S.meanAndUncertainty(k.sumKLD, k.sumKLD2, k.count)
        let mse = S.meanAndUncertainty(k.sumPDiff2, k.sumPDiff4, k.count)
        let rms = mse.mean.squareRoot()
        let top = 1.0 * Double(k.sameTop) / Double(k.count)
        return ChunkLine(chunk: chunk, perplexity: ppl, perplexityError: ppl * logPPL.error,
                         logRatio: logPPL.mean - logBase.mean,
                         logRatioError: (logPPL.error * logPPL.error + logBase.error * logBase.error - 2.0 * cov).squareRoot(),
                         kld: kl.mean, kldError: kl.error, rmsDeltaP: rms, rmsDeltaPError: 0.5 / rms * mse.error,
                         sameTop: top, sameTopError: (top * (1 - top) / Double(k.count - 1)).squareRoot())
    }
}

/// llama-perplexity's closing statistics of a KL-divergence run (it prints them from 100 scored positions on).
public struct KLDivergenceSummary: Sendable {
    public struct Estimate: Sendable, Equatable {
        public var value: Double
        public var error: Double
    }

    public var perplexity: Estimate
    public var basePerplexity: Estimate
    /// Cor(ln PPL(Q), ln PPL(base)), a fraction.
    public var correlation: Double
    public var logRatio: Estimate
    public var ratio: Estimate
    public var difference: Estimate
    public var kld: Estimate
    public var kldMaximum: Float, kldMedian: Float, kldMinimum: Float
    /// The KLD at 99.9, 99, 95, 90, 10, 5, 1 and 0.1 %.
    public var kldPercentiles: [(label: String, value: Float)]
    public var deltaP: Estimate
    public var deltaPMaximum: Float, deltaPMedian: Float, deltaPMinimum: Float
    /// Δp at 99.9, 99, 95, 90, 75, 25, 10, 5, 1 and 0.1 %.
    public var deltaPPercentiles: [(label: String, value: Float)]
    public var rmsDeltaP: Estimate
    public var sameTop: Estimate
    public var count: Int

    /// Whether llama-perplexity prints these (it returns before them below 100 scored positions).
    public var isPrinted: Bool { count >= 100 }

    static let kldFractions: [(String, Float)] = [("99.9", 0.999), ("99.0", 0.990), ("95.0", 0.950), ("90.0", 0.900),
                                                  ("10.0", 0.100), ("5.0", 0.050), ("1.0", 0.010), ("0.1", 0.001)]
    static let deltaPFractions: [(String, Float)] = [("99.9", 0.999), ("99.0", 0.990), ("95.0", 0.950), ("90.0", 0.900),
                                                     ("75.0", 0.750), ("25.0", 0.250), ("10.0", 0.100), ("5.0", 0.050),
                                                     ("1.0", 0.010), ("0.1", 0.001)]

    init(sums k: KLDivergenceSums, kldValues: [Float], deltaPValues: [Float]) {
        typealias S = PerplexityStatistics
        count = k.count
        let logPPL = S.meanAndUncertainty(k.sumNLL, k.sumNLL2, k.count)
        let ppl = exp(logPPL.mean), pplError = ppl * logPPL.error
        perplexity = Estimate(value: ppl, error: pplError)
        let logBase = S.meanAndUncertainty(k.sumNLLBase, k.sumNLLBase2, k.count)
        let base = exp(logBase.mean), baseError = base * logBase.error
        basePerplexity = Estimate(value: base, error: baseError)
        let cov = S.covariance(k.sumNLL, k.sumNLLBase, k.sumNLLNLLBase, k.count)
        correlation = cov / (logPPL.error * logBase.error)
        let logRatioValue = logPPL.mean - logBase.mean
        let logRatioError = (logPPL.error * logPPL.error + logBase.error * logBase.error - 2.0 * cov).squareRoot()
        logRatio = Estimate(value: logRatioValue, error: logRatioError)
        let ratioValue = exp(logRatioValue)
        ratio = Estimate(value: ratioValue, error: ratioValue * logRatioError)
        let pplCov = ppl * base * cov
        difference = Estimate(value: ppl - base, error: (pplError * pplError + baseError * baseError - 2.0 * pplCov).squareRoot())

        let kl = S.meanAndUncertainty(k.sumKLD, k.sumKLD2, k.count)
        kld = Estimate(value: kl.mean, error: kl.error)
        kldMaximum = kldValues.last ?? 0
        kldMinimum = kldValues.first ?? 0
        kldMedian = kldValues.isEmpty ? 0 : S.median(kldValues)
        kldPercentiles = kldValues.isEmpty ? [] : Self.kldFractions.map { ($0.0, S.percentile(kldValues, $0.1)) }

        let dp = S.meanAndUncertainty(k.sumPDiff, k.sumPDiff2, k.count)
        deltaP = Estimate(value: dp.mean, error: dp.error)
        deltaPMaximum = deltaPValues.last ?? 0
        deltaPMinimum = deltaPValues.first ?? 0
        deltaPMedian = deltaPValues.isEmpty ? 0 : S.median(deltaPValues)
        deltaPPercentiles = deltaPValues.isEmpty ? [] : Self.deltaPFractions.map { ($0.0, S.percentile(deltaPValues, $0.1)) }

        let mse = S.meanAndUncertainty(k.sumPDiff2, k.sumPDiff4, k.count)
        let rms = mse.mean.squareRoot()
        rmsDeltaP = Estimate(value: rms, error: 0.5 / rms * mse.error)
        let top = 1.0 * Double(k.sameTop) / Double(k.count)
        sameTop = Estimate(value: top, error: (top * (1.0 - top) / Double(k.count - 1)).squareRoot())
    }
}
