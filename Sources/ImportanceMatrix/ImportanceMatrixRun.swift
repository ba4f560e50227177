import ModelFiles
import Perplexity
import Qwen2Runtime

/// llama-imatrix's procedure over a tokenized text: the tokens cut into chunks of `chunkSize`, each chunk run from an
/// empty cache through the float32 forward pass with a collector watching every matrix multiplication.
public struct ImportanceMatrixRun {
    public struct Options: Sendable {
        /// Tokens per chunk (`-c`, llama-imatrix's default 512).
        public var chunkSize = 512
        /// At most this many chunks (`--chunks`; nil: all whole chunks).
        public var chunkLimit: Int?
        /// Chunks skipped at the start (`--chunk`).
        public var firstChunk = 0
        /// Collect `output.weight` too (`--process-output`).
        public var includeOutput = false
        /// Score the second half of each chunk as llama-imatrix does unless `--no-ppl` (its running perplexity).
        public var computePerplexity = false
        public var threads = 1

        public init() {}
    }

    public let options: Options
    /// The token ids the chunks are cut from (after `firstChunk` chunks are dropped).
    public let tokens: [UInt32]
    /// Whole chunks to run.
    public let chunkCount: Int

    /// Checks that `tokens` give at least two chunks after the skipped ones, as llama-imatrix requires.
    public init(tokens all: [UInt32], options: Options) throws(ImportanceMatrixRunError) {
        let n = options.chunkSize
        guard n >= 1 else { throw .badOption("the chunk size must be at least 1") }
        if options.firstChunk > 0 {
            let (skip, overflow) = options.firstChunk.multipliedReportingOverflow(by: n)
            guard !overflow, skip + 2 * n < all.count else {
                throw .tooFewTokens(have: all.count, need: nil, reason: "there are not enough tokens left after skipping \(options.firstChunk) chunks")
            }
        }
        let tokens = Array(all.dropFirst(options.firstChunk * n))
        guard tokens.count >= 2 * n else {
            throw .tooFewTokens(have: tokens.count, need: 2 * n, reason: "a context of \(n) tokens needs at least \(2 * n)")
        }
        self.options = options
        self.tokens = tokens
        chunkCount = min(options.chunkLimit ?? Int.max, tokens.count / n)
    }

    /// Runs every chunk, calling `afterChunk(done, running)` after each (for progress, periodic saves and, with
    /// `computePerplexity`, the running perplexity). Returns the perplexity estimate when computed: llama-imatrix's,
    /// positions n/2 … n−2 of each chunk predicting the next token (the model computes every position's logits then, as
    /// llama-imatrix's does; each row is scored as it comes, none is kept).
    @discardableResult
    public func run(model: Qwen2Model, collector: ImportanceMatrixCollector,
                    afterChunk: (Int, Double?) throws -> Void = { _, _ in }) throws -> PerplexityEstimate? {
        let n = options.chunkSize
        let session = try InferenceSession(model: model, capacity: n, threads: options.threads)
        session.observer = collector
        let scoring = options.computePerplexity, vocabulary = model.shape.vocabSize
        var estimate = PerplexityEstimate()
        for chunk in 0..<chunkCount {
            session.reset()
            let start = chunk * n, first = n / 2
            try session.evaluate(Array(tokens[start..<(start + n)]), logits: options.includeOutput || scoring ? .all : .none) { position, row in
                guard scoring, position >= first, position < n - 1 else { return }
                estimate.add(PositionScoring.negativeLogLikelihood(row.baseAddress!, vocabulary: vocabulary,
                                                                   token: Int(tokens[start + position + 1])))
            }
            if let mismatch = collector.mismatch { throw mismatch }
            collector.finishChunk()
            try afterChunk(chunk + 1, scoring ? estimate.endChunk() : nil)
        }
        withExtendedLifetime(collector) {}
        return scoring ? estimate : nil
    }
}

public enum ImportanceMatrixRunError: Error, Equatable, CustomStringConvertible {
    case badOption(String)
    case tooFewTokens(have: Int, need: Int?, reason: String)

    public var description: String {
        switch self {
        case .badOption(let reason): return reason
        case .tooFewTokens(let have, _, let reason): return "the text has \(have) tokens: \(reason)"
        }
    }
}
