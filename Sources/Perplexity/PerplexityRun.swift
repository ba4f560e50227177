#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Qwen2Runtime
import QwenKitIO

/// Options of both runs (llama-perplexity's flags).
public struct PerplexityOptions: Sendable {
    /// Tokens per chunk (`-c`, default 512).
    public var context = 512
    /// At most this many chunks (`--chunks`; nil: every whole chunk).
    public var chunkLimit: Int?
    /// Tokens per forward step (`-b`; nil: the session's default). Only speed depends on it.
    public var batchSize: Int?
    public var threads = 1

    public init() {}
}

public enum PerplexityError: Error, Equatable, CustomStringConvertible {
    case badOption(String)
    /// The text is shorter than two chunks (llama-perplexity's "you need at least … tokens").
    case tooFewTokens(have: Int, context: Int)
    /// A base file that cannot be read as one.
    case malformedBase(path: String, reason: String)
    /// A base file that does not go with this model, context or text.
    case mismatchedBase(path: String, reason: String)

    public var description: String {
        switch self {
        case .badOption(let reason): return reason
        case .tooFewTokens(let have, let context):
            return "you need at least \(2 * context) tokens to evaluate perplexity with a context of \(context); "
                + "the text tokenizes to only \(have) tokens"
        case .malformedBase(let path, let reason), .mismatchedBase(let path, let reason): return "\(path): \(reason)"
        }
    }
}

/// The progress a run reports after each chunk.
public struct PerplexityProgress: Sendable {
    public var chunksDone: Int
    public var chunkCount: Int
    public var context: Int
}

/// Runs a model over chunks of tokens as llama-perplexity does: each chunk from an empty cache, the logits of
/// positions n_ctx/2 … n_ctx−2 kept (the last position predicts nothing inside the chunk, so it is not run at all),
/// then scored on `threads` workers. Memory: the model's session and one chunk's logits.
final class ChunkEvaluator {
    let session: InferenceSession
    let context: Int
    let vocabulary: Int
    let first: Int
    let scored: Int
    let threads: Int
    /// [scored × vocabulary] logits of the current chunk.
    let logits: UnsafeMutablePointer<Float>

    init(model: Qwen2Model, options: PerplexityOptions, context: Int) throws {
        self.context = context
        vocabulary = model.shape.vocabSize
        first = context / 2
        scored = KLDivergenceBase.scoredPerChunk(context: context)
        threads = options.threads
        let batch = min(options.batchSize ?? InferenceSession.defaultBatchSize, context)
        session = try InferenceSession(model: model, capacity: context, threads: options.threads, maxBatch: max(batch, 1))
        logits = .allocate(capacity: scored * vocabulary)
    }

    deinit { logits.deallocate() }

    /// Runs `tokens` (one chunk) and keeps the logits of its scored positions.
    func evaluate(_ tokens: ArraySlice<UInt32>) throws {
        precondition(tokens.count == context)
        session.reset()
        let start = tokens.startIndex
        try session.evaluate(Array(tokens[start..<(start + first)]), logits: .none)
        let V = vocabulary, first = first, out = logits
        try session.evaluate(Array(tokens[(start + first)..<(start + context - 1)]), logits: .all) { position, row in
            (out + (position - first) * V).update(from: row.baseAddress!, count: V)
        }
    }

    /// The logits row of scored position `i` (predicting the chunk's token first + i + 1).
    func row(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(logits + i * vocabulary) }

    /// `body(i)` for every scored position, spread over the workers (each writes only its own positions' results).
    func forEachPosition(_ body: (Int) -> Void) {
        let n = scored, workers = max(1, min(threads, n))
        if workers == 1 {
            for i in 0..<n { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < n {
                    work(i)
                    i += workers
                }
            }
        }
    }
}

/// `qwenkit perplexity MODEL -f TEXT`: llama-perplexity's `perplexity()`.
public struct PerplexityRun {
    public let options: PerplexityOptions
    public let tokens: [UInt32]
    public let chunkCount: Int

    /// The result: llama-perplexity's running estimates and final estimate.
    public struct Result: Sendable {
        public var context: Int
        public var vocabulary: Int
        public var chunkCount: Int
        /// Scored tokens (chunks × (n_ctx − 1 − n_ctx/2)).
        public var count: Int
        /// exp(mean −log p) after each chunk (its `[1]…,[2]…`).
        public var runningPerplexity: [Double]
        public var perplexity: Double
        /// The standard error of the perplexity: nil when the variance of −log p is not positive (llama-perplexity
        /// then prints "Unexpected negative standard deviation of log(prob)").
        public var perplexityError: Double?
    }

    /// Checks that `tokens` hold two chunks, as llama-perplexity requires.
    public init(tokens: [UInt32], options: PerplexityOptions) throws(PerplexityError) {
        let n = options.context
        guard n >= 3 else { throw .badOption("the context must be at least 3 tokens (half of each chunk is context, and its last token predicts nothing)") }
        guard tokens.count / 2 >= n else { throw .tooFewTokens(have: tokens.count, context: n) }
        self.options = options
        self.tokens = tokens
        chunkCount = min(options.chunkLimit ?? Int.max, tokens.count / n)
    }

    /// The header of the base file this run writes with `--kl-divergence-base`.
    public func baseHeader(vocabulary: Int) -> KLDivergenceBase.Header {
        KLDivergenceBase.Header(context: options.context, vocabulary: vocabulary, chunks: chunkCount)
    }

    /// The tokens the base file records (the chunks run).
    public var baseTokens: ArraySlice<UInt32> { tokens[0..<(chunkCount * options.context)] }

    /// Runs every chunk; with `base`, writes each chunk's quantized log-probabilities there (and then, as
    /// llama-perplexity does, −log p comes from that float computation). `afterChunk` gets the running estimate.
    public func run(model: Qwen2Model, base: KLDivergenceBaseWriter? = nil,
                    afterChunk: (PerplexityProgress, Double) throws -> Void = { _, _ in }) throws -> Result {
        let n = options.context
        let evaluator = try ChunkEvaluator(model: model, options: options, context: n)
        let V = evaluator.vocabulary, first = evaluator.first, scored = evaluator.scored
        let width = KLDivergenceBase.rowWidth(vocabulary: V)
        if let base { precondition(base.header == baseHeader(vocabulary: V)) }
        var rows = [UInt16](repeating: 0, count: base == nil ? 0 : scored * width)
        var values = [Double](repeating: 0, count: scored)
        var estimate = PerplexityEstimate()
        for chunk in 0..<chunkCount {
            let start = chunk * n
            try evaluator.evaluate(tokens[start..<(start + n)])
            let targets = tokens, targetBase = start + first + 1
            values.withUnsafeMutableBufferPointer { out in
                if base != nil {
                    rows.withUnsafeMutableBufferPointer { rowBuffer in
                        let rowBase = rowBuffer.baseAddress!
                        evaluator.forEachPosition { i in
                            out[i] = PositionScoring.quantizeLogProbabilities(evaluator.row(i), vocabulary: V,
                                                                              token: Int(targets[targetBase + i]), into: rowBase + i * width)
                        }
                    }
                } else {
                    evaluator.forEachPosition { i in
                        out[i] = PositionScoring.negativeLogLikelihood(evaluator.row(i), vocabulary: V, token: Int(targets[targetBase + i]))
                    }
                }
            }
            if let base { try rows.withUnsafeBufferPointer { try base.writeChunk($0) } }
            for v in values { estimate.add(v) }
            let running = estimate.endChunk()
            try afterChunk(PerplexityProgress(chunksDone: chunk + 1, chunkCount: chunkCount, context: n), running)
        }
        try base?.finish()
        let (ppl, error) = estimate.final
        return Result(context: n, vocabulary: V, chunkCount: chunkCount, count: estimate.count, runningPerplexity: estimate.running,
                      perplexity: ppl, perplexityError: error)
    }
}
