import ModelFiles
import QwenKitIO

/// Sampling as llama.cpp names it. The order is transformers': repetition, presence and frequency penalties on the
/// raw logits over the last `repeatLastN` tokens of the sequence (prompt included, as both count it), then
/// temperature, top-k, top-p, min-p, and the draw (`Sampler`). Temperature 0 is greedy over the penalized logits.
public struct SamplingOptions: Sendable, Equatable {
    public var temperature: Float = 0
    public var topK = 0
    public var topP: Float = 1
    /// Keep tokens whose probability is at least minP × the most likely one's (0: all).
    public var minP: Float = 0
    /// > 1 discourages repeats: a repeated token's positive logit is divided by it, a negative one multiplied.
    public var repeatPenalty: Float = 1
    /// Tokens the penalties look back over (0: none, -1: the whole sequence).
    public var repeatLastN = 64
    /// OpenAI's penalties: logit − presence × [count > 0] − frequency × count.
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    public var seed: UInt64 = 0

    public init() {}

    /// The defaults a GGUF recommends (`general.sampling.*`), over the built-in ones; keys of another type are ignored.
    public init(gguf file: GGUFFile?) {
        self.init()
        guard let file else { return }
        typealias K = GGUFKeys.Sampling
        if let v = file[K.temperature]?.doubleValue, v >= 0, v.isFinite { temperature = Float(v) }
        if let v = file[K.topK]?.intValue, v >= 0 { topK = v }
        if let v = file[K.topP]?.doubleValue, v > 0, v <= 1 { topP = Float(v) }
        if let v = file[K.minP]?.doubleValue, v >= 0, v <= 1 { minP = Float(v) }
        if let v = file[K.repeatLastN]?.intValue, v >= -1 { repeatLastN = v }
        if let v = file[K.repeatPenalty]?.doubleValue, v > 0, v.isFinite { repeatPenalty = Float(v) }
    }

    var penalizes: Bool { repeatLastN != 0 && (repeatPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0) }
}

/// Why a generation ended.
public enum FinishReason: String, Sendable {
    /// The token budget ran out.
    case length
    /// A stop string appeared (it is not part of the text) or an end token was sampled.
    case stop
    /// The session's context is full.
    case contextFull = "context_full"
}

/// The generation loop shared by run, chat and serve: samples token after token from a session, applies penalties,
/// stops at end tokens, at a stop string, at the budget or when the context is full, and streams the text without
/// splitting a character or showing a stop string (text that may begin one is held back until it cannot).
public final class Generator {
    public let session: InferenceSession
    public var options: SamplingOptions {
        didSet { sampler = Sampler(temperature: options.temperature, topK: options.topK, topP: options.topP, minP: options.minP, seed: options.seed) }
    }
    private var sampler: Sampler
    /// Every token in the session, in order (what the penalties look at).
    public private(set) var history: [UInt32] = []
    private var counts: [UInt32: Int] = [:]
    private var saved: [(Int, Float)] = []

    public init(session: InferenceSession, options: SamplingOptions = SamplingOptions()) {
        self.session = session
        self.options = options
        sampler = Sampler(temperature: options.temperature, topK: options.topK, topP: options.topP, minP: options.minP, seed: options.seed)
    }

    /// Forgets the history (with `session.reset`, for a new conversation).
    public func resetHistory() {
        history.removeAll()
    }

    /// Moves the session back to `position` (`InferenceSession.rewind`: there, or to 0 when a sliding-window ring no
    /// longer holds what follows) and the history with it, so that the penalties see what the cache holds. Returns
    /// the position the session is now at.
    @discardableResult
    public func rewind(to position: Int) -> Int {
        let now = session.rewind(to: position)
        if history.count > now { history.removeSubrange(now...) }
        return now
    }

    /// The next token after `row` (a position's logits), with the penalties over the history applied.
    public func sample(_ row: UnsafeBufferPointer<Float>) -> UInt32 {
        guard options.penalizes, !history.isEmpty else { return sampler.sample(row) }
        let window = options.repeatLastN < 0 ? history[...] : history.suffix(options.repeatLastN)
        counts.removeAll(keepingCapacity: true)
        for id in window where Int(id) < row.count { counts[id, default: 0] += 1 }
        let logits = UnsafeMutablePointer(mutating: row.baseAddress!)
        saved.removeAll(keepingCapacity: true)
        for (id, count) in counts {
            let i = Int(id)
            saved.append((i, logits[i]))
            var x = logits[i]
            if options.repeatPenalty != 1 { x = x > 0 ? x / options.repeatPenalty : x * options.repeatPenalty }
            x -= options.presencePenalty + options.frequencyPenalty * Float(count)
            logits[i] = x
        }
        let id = sampler.sample(row)
        for (i, x) in saved { logits[i] = x }
        return id
    }

    public struct Result: Sendable {
        public var tokens: [UInt32] = []
        public var finishReason: FinishReason = .length
        /// Forward steps run for generated tokens (the last sampled token is not run unless it is needed).
        public var steps = 0
        /// Time to evaluate the prompt and sample the first token.
        public var promptNanoseconds: UInt64 = 0
    }

    /// Evaluates `prompt` after what the session holds, then generates at most `maxTokens` tokens. `tokenBytes` gives
    /// a token's text (empty for ids without one); `output` receives text as it becomes final and returns false to
    /// stop (a cancelled request); `record` sees every evaluated position's logits (for --logits). The last sampled
    /// token is left unevaluated unless `evaluateLast` (a chat keeps its turn in the cache). `onSample` sees each
    /// sampled token with the logits it was drawn from (before penalties), for log-probabilities.
    ///
    /// The loop is `begin`, `evaluatePrompt`, then `advance` and one step of the session per token with `accept`:
    /// a caller that runs the steps itself (serve, which steps several sessions in one pass) uses those.
    public func generate(prompt: [UInt32], maxTokens: Int, endTokens: Set<UInt32>, stop: [[UInt8]] = [],
                         evaluateLast: Bool = false,
                         tokenBytes: (UInt32) -> UnsafeBufferPointer<UInt8>,
                         output: ([UInt8]) throws -> Bool,
                         record: ((_ token: UInt32, _ logits: UnsafeBufferPointer<Float>) throws -> Void)? = nil,
                         onSample: ((_ token: UInt32, _ logits: UnsafeBufferPointer<Float>) -> Void)? = nil) throws -> Result {
        var state = begin(prompt: prompt, maxTokens: maxTokens, endTokens: endTokens, stop: stop, evaluateLast: evaluateLast,
                          recording: record != nil)
        _ = try evaluatePrompt(&state, record: record, onSample: onSample)
        var token: [UInt32] = [0]
        while let next = try advance(&state, tokenBytes: tokenBytes, output: output) {
            token[0] = next
            try session.evaluate(token, logits: .last) { _, row in try accept(&state, logits: row, record: record, onSample: onSample) }
        }
        return state.result
    }

    /// A generation in progress: what `generate` keeps between its steps.
    public struct State {
        /// The tokens so far, why it ended (once `advance` returns nil), the steps and the prompt's time.
        public internal(set) var result = Result()
        /// The prompt tokens still to evaluate are `prompt[evaluated...]`.
        let prompt: [UInt32]
        var evaluated = 0
        let maxTokens: Int
        let endTokens: Set<UInt32>
        let evaluateLast: Bool
        let recording: Bool
        let started: UInt64
        /// The sampled token not yet taken by `advance`.
        var next: UInt32 = 0
        var text: StopText
        var stopped = false
        /// `advance` returned nil.
        public internal(set) var finished = false
        /// The prompt is evaluated (and the first token sampled).
        public var promptDone: Bool { evaluated == prompt.count }
    }

    /// Starts a generation (`generate`'s arguments; `recording`: a `record` closure will be passed, so every
    /// prompt position's logits are computed and the last sampled token is evaluated too).
    public func begin(prompt: [UInt32], maxTokens: Int, endTokens: Set<UInt32>, stop: [[UInt8]] = [], evaluateLast: Bool = false,
                      recording: Bool = false) -> State {
        State(prompt: prompt, maxTokens: maxTokens, endTokens: endTokens, evaluateLast: evaluateLast, recording: recording,
              started: monotonicNanoseconds(), text: StopText(stop: stop))
    }

    /// Evaluates at most `limit` more prompt tokens (all by default; in multiples of the session's `maxBatch` the
    /// steps are those of one call), sampling the first token after the last. Returns whether the prompt is done.
    public func evaluatePrompt(_ state: inout State, upTo limit: Int = .max,
                               record: ((_ token: UInt32, _ logits: UnsafeBufferPointer<Float>) throws -> Void)? = nil,
                               onSample: ((_ token: UInt32, _ logits: UnsafeBufferPointer<Float>) -> Void)? = nil) throws -> Bool {
        let prompt = state.prompt
        if state.evaluated < prompt.count {
            let end = prompt.count - state.evaluated <= limit ? prompt.count : state.evaluated + max(limit, 1)
            // `evaluate` reports session positions; the chunk starts after what the session already holds.
            let start = session.position, offset = state.evaluated
            var next = state.next
            try session.evaluate(Array(prompt[offset..<end]), logits: record != nil ? .all : end == prompt.count ? .last : .none) { position, row in
                let i = offset + position - start
                try record?(prompt[i], row)
                if i == prompt.count - 1 {
                    history.append(contentsOf: prompt)
                    next = sample(row)
                    onSample?(next, row)
                }
            }
            state.next = next
            state.evaluated = end
        }
        if state.promptDone { state.result.promptNanoseconds = monotonicNanoseconds() - state.started }
        return state.promptDone
    }

    /// Takes the sampled token: ends the generation at an end token, a stop string, the budget, a full context or
    /// when `output` returns false (nil; `state.result` is then final), or returns the token to evaluate next, whose
    /// logits go to `accept`.
    public func advance(_ state: inout State, tokenBytes: (UInt32) -> UnsafeBufferPointer<UInt8>,
                        output: ([UInt8]) throws -> Bool) throws -> UInt32? {
        guard !state.finished else { return nil }
        func finish(_ reason: FinishReason) throws -> UInt32? {
            state.result.finishReason = reason
            state.finished = true
            if !state.stopped {
                state.text.finish()
                if !state.text.ready.isEmpty { _ = try output(state.text.ready) }
            }
            return nil
        }
        guard state.result.tokens.count < state.maxTokens else { return try finish(state.result.finishReason) }
        let next = state.next
        if state.endTokens.contains(next) { return try finish(.stop) }
        state.result.tokens.append(next)
        if state.text.append(tokenBytes(next)) { state.stopped = true }
        if !state.text.ready.isEmpty {
            let keepGoing = try output(state.text.ready)
            state.text.ready.removeAll(keepingCapacity: true)
            if !keepGoing {
                // A cancelled request: nothing more is written.
                state.result.finishReason = .stop
                state.finished = true
                return nil
            }
        }
        if state.stopped { return try finish(.stop) }
        let isLast = state.result.tokens.count == state.maxTokens
        if isLast && !state.evaluateLast && !state.recording { return try finish(.length) }
        if session.position >= session.capacity { return try finish(.contextFull) }
        return next
    }

    /// The logits after the token `advance` returned was evaluated: records them, adds the token to the history and
    /// samples the next one.
    public func accept(_ state: inout State, logits row: UnsafeBufferPointer<Float>,
                       record: ((_ token: UInt32, _ logits: UnsafeBufferPointer<Float>) throws -> Void)? = nil,
                       onSample: ((_ token: UInt32, _ logits: UnsafeBufferPointer<Float>) -> Void)? = nil) throws {
        let token = state.next
        try record?(token, row)
        history.append(token)
        state.next = sample(row)
        onSample?(state.next, row)
        state.result.steps += 1
    }
}

/// Generated bytes on their way out: whole characters only (invalid sequences become U+FFFD, as Python's
/// errors="replace" decodes), and nothing that could be the start of a stop string until it cannot be.
struct StopText {
    let stop: [[UInt8]]
    /// Token bytes not yet a whole character.
    private var raw: [UInt8] = []
    /// Text held back: it may begin a stop string.
    private var held: [UInt8] = []
    /// Final text for the caller to take.
    var ready: [UInt8] = []

    init(stop: [[UInt8]]) { self.stop = stop.filter { !$0.isEmpty } }

    /// Adds a token's bytes; true when a stop string is complete (`ready` then ends before it).
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        raw.append(contentsOf: bytes)
        let complete = raw.withUnsafeBytes { raw.count - UTF8Validation.incompleteSuffixLength($0) }
        guard complete > 0 else { return false }
        var fixed: [UInt8] = []
        raw.withUnsafeBytes { UTF8Validation.replacingInvalid(UnsafeRawBufferPointer(rebasing: $0[..<complete]), into: &fixed) }
        raw.removeFirst(complete)
        return release(fixed, final: false)
    }

    /// The end of the stream: what is left, an incomplete character as U+FFFD.
    mutating func finish() {
        var fixed: [UInt8] = []
        raw.withUnsafeBytes { UTF8Validation.replacingInvalid($0, into: &fixed) }
        raw.removeAll()
        _ = release(fixed, final: true)
    }

    private mutating func release(_ text: [UInt8], final: Bool) -> Bool {
        held.append(contentsOf: text)
        guard !stop.isEmpty else {
            ready.append(contentsOf: held)
            held.removeAll(keepingCapacity: true)
            return false
        }
        // The earliest complete stop string ends the text.
        var first: Int?
        for s in stop where held.count >= s.count {
            for i in 0...(held.count - s.count) where held[i] == s[0] && held[i..<(i + s.count)].elementsEqual(s) {
                if first.map({ i < $0 }) ?? true { first = i }
                break
            }
        }
        if let first {
            ready.append(contentsOf: held[..<first])
            held.removeAll()
            return true
        }
        // Hold the longest tail that is a proper prefix of a stop string.
        var keep = 0
        if !final {
            for s in stop {
                for length in stride(from: min(s.count - 1, held.count), to: keep, by: -1)
                where held[(held.count - length)...].elementsEqual(s[..<length]) {
                    keep = length
                    break
                }
            }
        }
        ready.append(contentsOf: held[..<(held.count - keep)])
        held.removeFirst(held.count - keep)
        return false
    }
}
