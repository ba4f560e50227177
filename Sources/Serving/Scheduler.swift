import Dispatch
import Qwen2Runtime
import Synchronization

/// One generation a request asked for, on the slot it holds: the prompt's longest prefix the slot's cache already
/// has is kept, the rest evaluated, then token after token through the slot's `Generator` (sampling, penalties, stop
/// strings, log-probabilities and streaming per request, as `run` does). Touched only by the scheduler's thread
/// once submitted.
final class GenerationJob: @unchecked Sendable {
    let slot: Slot
    private let server: Server
    private let prompt: [UInt32]
    private let maxTokens: Int
    private let stop: [[UInt8]]
    private let sampling: SamplingOptions
    /// The top alternatives wanted per token (OpenAI's `logprobs`), or nil.
    private let logprobs: Int?
    /// Every prompt position's log-probability is wanted (echo with logprobs): the whole prompt is evaluated.
    private let recording: Bool
    private let ignoreEOS: Bool
    private let cancel: CancelFlag?
    private let stream: (@Sendable ([UInt8]) -> Void)?
    private let done: CheckedContinuation<Completion, any Error>

    private var state: Generator.State?
    private var completion = Completion()
    /// Prompt positions recorded so far, and the sampled tokens' log-probabilities.
    private var position = 0
    private var sampled: [TokenLogprob] = []

    init(slot: Slot, server: Server, prompt: [UInt32], maxTokens: Int, stop: [String], sampling: SamplingOptions, logprobs: Int?,
         echoLogprobs: Bool, ignoreEOS: Bool, cancel: CancelFlag?, stream: (@Sendable ([UInt8]) -> Void)?,
         done: CheckedContinuation<Completion, any Error>) {
        self.slot = slot
        self.server = server
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.stop = stop.map { Array($0.utf8) }
        self.sampling = sampling
        self.logprobs = logprobs
        recording = echoLogprobs && logprobs != nil
        self.ignoreEOS = ignoreEOS
        self.cancel = cancel
        self.stream = stream
        self.done = done
    }

    var isCancelled: Bool { cancel?.isCancelled ?? false }

    /// Rewinds the slot to the longest prefix of the prompt it holds (at least one token is evaluated, for its
    /// logits; nothing is kept when the prompt's own log-probabilities are wanted) and starts the generation.
    func start() {
        var keep = 0
        if !recording {
            let held = slot.generator.history
            let limit = min(held.count, prompt.count - 1)
            while keep < limit && held[keep] == prompt[keep] { keep += 1 }
        }
        let start = slot.generator.rewind(to: keep)
        slot.generator.options = sampling
        state = slot.generator.begin(prompt: Array(prompt[start...]), maxTokens: maxTokens,
                                     endTokens: ignoreEOS ? [] : server.served.endTokens, stop: stop, recording: recording)
    }

    private func record(_ token: UInt32, _ row: UnsafeBufferPointer<Float>) {
        // Row `position` predicts prompt token position + 1; the first prompt token has no prediction.
        if position == 0 { completion.promptLogprobs.append(TokenLogprob(id: token, logprob: nil, top: [])) }
        if position + 1 < prompt.count, let n = logprobs {
            completion.promptLogprobs.append(tokenLogprob(row, id: prompt[position + 1], top: n))
        }
        position += 1
    }

    private func onSample(_ token: UInt32, _ row: UnsafeBufferPointer<Float>) {
        if let n = logprobs { sampled.append(tokenLogprob(row, id: token, top: n)) }
    }

    /// Evaluates at most `limit` more prompt tokens; true once the prompt is in (and the first token sampled).
    func evaluatePrompt(upTo limit: Int) throws -> Bool {
        try slot.generator.evaluatePrompt(&state!, upTo: limit, record: recording ? { self.record($0, $1) } : nil,
                                          onSample: logprobs == nil ? nil : { self.onSample($0, $1) })
    }

    /// Takes the sampled token (its text to the client): the token to evaluate next, or nil when the generation
    /// ended (a stop, the budget, a full context, a client gone).
    func advance() throws -> UInt32? {
        try slot.generator.advance(&state!, tokenBytes: { server.tokenBytes($0) }, output: { text in
            completion.text.append(contentsOf: text)
            stream?(text)
            return !isCancelled
        })
    }

    /// The logits after the token `advance` returned.
    func accept(_ row: UnsafeBufferPointer<Float>) throws {
        try slot.generator.accept(&state!, logits: row, record: recording ? { self.record($0, $1) } : nil,
                                  onSample: logprobs == nil ? nil : { self.onSample($0, $1) })
    }

    /// Answers the request with what was generated.
    func complete() {
        if let state {
            completion.tokens = state.result.tokens
            completion.finishReason = state.finished ? state.result.finishReason : .stop  // cancelled before its prompt was in
            completion.logprobs = Array(sampled.prefix(state.result.tokens.count))
        }
        done.resume(returning: completion)
    }

    func fail(_ error: any Error) { done.resume(throwing: error) }
}

/// The model work of every slot, on one thread: the slots' sessions form one `SessionGroup` (one set of buffers and
/// worker threads, a KV cache each), and each round the scheduler takes the next token of every generating slot
/// through one batched forward step, reading the weights once for all of them instead of once per slot.
///
/// Prompts go first: while any slot has prompt tokens left, one step of them (the session's `maxBatch`, 64 tokens)
/// runs per round, and the generating slots wait. A prompt step is already a batch, so interleaving decode rows into
/// it would save little, and finishing prompts first lets a newcomer join the batched steps at once (its first token
/// comes within its prompt's time); the cost is that running streams pause for a new prompt, as long as that prompt
/// takes. Between rounds the scheduler takes new jobs, so requests that arrive together are all in before decoding
/// starts. A slot whose generation ends leaves the batch in the round it ends; a job whose client went away ends at
/// its next token (or before its next prompt step).
final class Scheduler: @unchecked Sendable {
    private let group: SessionGroup
    private let inbox = Mutex<[GenerationJob]>([])
    private let wake = DispatchSemaphore(value: 0)
    // The scheduler thread's own: jobs evaluating their prompts (first come first), jobs generating, and one
    // round's batch (reused, sized for every slot).
    private var prompting: [GenerationJob] = []
    private var generating: [GenerationJob] = []
    private var arrived: [GenerationJob] = []
    private var members: [InferenceSession] = []
    private var tokens: [UInt32] = []
    private var stepping: [GenerationJob] = []

    init(group: SessionGroup) {
        self.group = group
        let slots = group.sessions.count
        for list in [\Scheduler.prompting, \.generating, \.arrived, \.stepping] { self[keyPath: list].reserveCapacity(slots) }
        members.reserveCapacity(slots)
        tokens.reserveCapacity(slots)
        DispatchQueue(label: "qwenkit.scheduler", qos: .userInitiated).async { self.loop() }
    }

    /// Hands `job` to the scheduler's thread.
    func submit(_ job: GenerationJob) {
        inbox.withLock { $0.append(job) }
        wake.signal()
    }

    private func loop() {
        while true {
            inbox.withLock { swap(&$0, &arrived) }
            for job in arrived {
                job.start()
                prompting.append(job)
            }
            arrived.removeAll(keepingCapacity: true)
            if prompting.isEmpty && generating.isEmpty {
                wake.wait()
                continue
            }
            if let job = prompting.first {
                promptStep(job)
                continue
            }
            decodeStep()
        }
    }

    private func promptStep(_ job: GenerationJob) {
        do {
            if job.isCancelled {
                prompting.removeFirst()
                job.complete()
            } else if try job.evaluatePrompt(upTo: job.slot.session.maxBatch) {
                prompting.removeFirst()
                generating.append(job)
            }
        } catch {
            prompting.removeFirst()
            job.fail(error)
        }
    }

    /// Every generating job takes its sampled token; those that go on are stepped together.
    private func decodeStep() {
        members.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        stepping.removeAll(keepingCapacity: true)
        var i = 0
        while i < generating.count {
            let job = generating[i]
            do {
                if let token = try job.advance() {
                    members.append(job.slot.session)
                    tokens.append(token)
                    stepping.append(job)
                    i += 1
                    continue
                }
                job.complete()
            } catch {
                job.fail(error)
            }
            generating.remove(at: i)
        }
        guard !members.isEmpty else { return }
        do {
            try group.decode(members, tokens: tokens) { i, row in try stepping[i].accept(row) }
        } catch {
            // A non-finite row fails the whole step before any job saw logits: step each alone, so that only the
            // sequence it belongs to fails.
            for (job, token) in zip(stepping, tokens) {
                do {
                    try job.slot.session.evaluate([token], logits: .last) { _, row in try job.accept(row) }
                } catch {
                    job.fail(error)
                    generating.removeAll { $0 === job }
                }
            }
        }
    }
}
