import ModelFiles
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

    /// Runs every chunk, calling `afterChunk(done)` after each (for progress and periodic saves).
    public func run(model: Qwen2Model, collector: ImportanceMatrixCollector,
                    afterChunk: (Int) throws -> Void = { _ in }) throws {
        let n = options.chunkSize
        let session = try InferenceSession(model: model, capacity: n, threads: options.threads)
        session.observer = collector
        for chunk in 0..<chunkCount {
            session.reset()
            try session.evaluate(Array(tokens[(chunk * n)..<((chunk + 1) * n)]), logits: options.includeOutput ? .all : .none)
            if let mismatch = collector.mismatch { throw mismatch }
            collector.finishChunk()
            try afterChunk(chunk + 1)
        }
        withExtendedLifetime(collector) {}
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
