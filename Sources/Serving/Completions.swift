import ChatTemplate
import Hummingbird
import Qwen2Runtime
import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One token's log-probability and the most likely alternatives at its position (OpenAI's `logprobs`).
struct TokenLogprob: Sendable {
    let id: UInt32
    /// nil for the first prompt token, which nothing predicts.
    let logprob: Double?
    let top: [(UInt32, Double)]
}

/// log-softmax of `row` at `id`, and its `n` most likely tokens with theirs (highest first, lower id on ties).
func tokenLogprob(_ row: UnsafeBufferPointer<Float>, id: UInt32, top n: Int) -> TokenLogprob {
    var m = -Float.infinity
    for x in row where x > m { m = x }
    var sum = 0.0
    for x in row { sum += exp(Double(x - m)) }
    let lse = Double(m) + log(sum)
    var best: [(UInt32, Float)] = []
    if n > 0 {
        for (i, x) in row.enumerated() where best.count < n || x > best[best.count - 1].1 {
            var j = best.count
            while j > 0 && x > best[j - 1].1 { j -= 1 }
            best.insert((UInt32(i), x), at: j)
            if best.count > n { best.removeLast() }
        }
    }
    return TokenLogprob(id: id, logprob: Double(row[Int(id)]) - lse, top: best.map { ($0.0, Double($0.1) - lse) })
}

/// What one generation produced.
struct Completion: Sendable {
    var text: [UInt8] = []
    var tokens: [UInt32] = []
    var finishReason = FinishReason.length
    var promptLogprobs: [TokenLogprob] = []
    var logprobs: [TokenLogprob] = []
}

extension Server {
    /// Runs one generation on `slot` (on the scheduler's thread, batched with the other slots' steps). The slot's
    /// cache keeps what the last request left: the prompt's longest prefix it already holds is not evaluated again
    /// (lm-eval's requests share their contexts, a chat client resends the conversation), except when the prompt's
    /// own log-probabilities are wanted, which need every position's logits. `stream` gets text as it becomes final;
    /// `cancel` stops it.
    func generate(on slot: Slot, prompt: [UInt32], maxTokens: Int, stop: [String], sampling: SamplingOptions, logprobs n: Int?,
                  echoLogprobs: Bool, ignoreEOS: Bool = false, cancel: CancelFlag?, stream: (@Sendable ([UInt8]) -> Void)?) async throws -> Completion {
        try await withCheckedThrowingContinuation { done in
            scheduler.submit(GenerationJob(slot: slot, server: self, prompt: prompt, maxTokens: maxTokens, stop: stop, sampling: sampling,
                                           logprobs: n, echoLogprobs: echoLogprobs, ignoreEOS: ignoreEOS, cancel: cancel, stream: stream,
                                           done: done))
        }
    }

    /// The prompts of a completions request: a string, a list of strings, a list of ids, or a list of id lists.
    func prompts(_ value: Value?) throws(APIError) -> [[UInt32]] {
        guard let value else { throw .invalid("'prompt' is required", param: "prompt") }
        func text(_ s: String) throws(APIError) -> [UInt32] {
            do { return try encode(s) } catch { throw .invalid("the prompt cannot be tokenized: \(error)", param: "prompt") }
        }
        switch value {
        case .string(let s): return [try text(s)]
        case .list(let items, _):
            if items.isEmpty { throw .invalid("'prompt' is empty", param: "prompt") }
            if let ids = try tokenIDs(value, param: "prompt") { return [ids] }
            var out: [[UInt32]] = []
            for item in items {
                switch item {
                case .string(let s): out.append(try text(s))
                case .list:
                    guard let ids = try tokenIDs(item, param: "prompt") else {
                        throw .invalid("'prompt' must be a string, a list of strings, a list of token ids or a list of such lists", param: "prompt")
                    }
                    out.append(ids)
                default: throw .invalid("'prompt' must be a string, a list of strings, a list of token ids or a list of such lists", param: "prompt")
                }
            }
            return out
        default: throw .invalid("'prompt' must be a string, a list of strings, a list of token ids or a list of such lists", param: "prompt")
        }
    }

    func checkLength(_ prompt: [UInt32]) throws(APIError) {
        if prompt.isEmpty { throw .invalid("the prompt has no tokens", param: "prompt") }
        if prompt.count > capacity {
            throw APIError(status: .badRequest, message: "the prompt has \(prompt.count) tokens, past the context of \(capacity)",
                           param: "prompt", code: "context_length_exceeded")
        }
    }

    func acquireSlot() async throws -> Slot {
        guard let slot = await pool.acquire() else { throw APIError.busy() }
        return slot
    }

    func tokenString(_ id: UInt32) -> String { String(decoding: tokenBytes(id), as: UTF8.self) }

    func logprobsValue(_ entries: [TokenLogprob], textStart: Int) -> Value {
        var tokens: [Value] = [], values: [Value] = [], tops: [Value] = [], offsets: [Value] = []
        var offset = textStart
        for (i, e) in entries.enumerated() {
            let s = tokenString(e.id)
            tokens.append(.string(s))
            values.append(e.logprob.map(Value.float) ?? .none)
            if e.logprob == nil && i == 0 {
                tops.append(.none)
            } else {
                var d = Value.Dictionary()
                for (id, lp) in e.top { d[.string(tokenString(id))] = .float(lp) }
                tops.append(.dict(d))
            }
            offsets.append(.int(offset))
            offset += s.unicodeScalars.count
        }
        return .dict(Value.Dictionary([("tokens", .list(tokens)), ("token_logprobs", .list(values)), ("top_logprobs", .list(tops)),
                                       ("text_offset", .list(offsets))]))
    }

    func usage(prompt: Int, completion: Int) -> Value {
        .dict(Value.Dictionary([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)),
                                ("total_tokens", .int(prompt + completion))]))
    }

    /// `stream_options.include_usage`: a last chunk with the usage (empty choices), and `"usage": null` in the others.
    func includeUsage(_ f: RequestFields, stream: Bool) throws(APIError) -> Bool {
        guard let options = f["stream_options"] else { return false }
        guard stream else { throw .invalid("'stream_options' is only allowed when 'stream' is true", param: "stream_options") }
        guard case .dict(let d) = options else { throw .invalid("'stream_options' must be an object", param: "stream_options") }
        guard let include = d["include_usage"], !include.isNullValue else { return false }
        guard case .bool(let b) = include else { throw .invalid("'stream_options.include_usage' must be a boolean", param: "stream_options") }
        return b
    }

    // MARK: /v1/completions

    func completions(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let f = try await body(request)
        let prompts = try self.prompts(f["prompt"])
        for p in prompts { try checkLength(p) }
        let maxTokens = try f.int("max_tokens", in: 0...Int(Int32.max)) ?? 16
        let n = try f.int("logprobs", in: 0...20)
        let echo = try f.bool("echo") ?? false
        let stop = try f.strings("stop", max: 16)
        let sampling = try self.sampling(f)
        let ignoreEOS = try f.bool("ignore_eos") ?? false
        let stream = try f.bool("stream") ?? false
        let includeUsage = try self.includeUsage(f, stream: stream)
        if stream && n != nil { throw APIError.invalid("'logprobs' is not supported with 'stream'", param: "logprobs") }
        let slot = try await acquireSlot()
        if stream {
            return streamCompletions(on: slot, prompts: prompts, maxTokens: maxTokens, stop: stop, sampling: sampling, echo: echo,
                                     ignoreEOS: ignoreEOS, includeUsage: includeUsage)
        }
        var choices: [Value] = []
        var promptTokens = 0, completionTokens = 0
        do {
            for (index, prompt) in prompts.enumerated() {
                let c = try await generate(on: slot, prompt: prompt, maxTokens: maxTokens, stop: stop, sampling: sampling, logprobs: n,
                                           echoLogprobs: echo, ignoreEOS: ignoreEOS, cancel: nil, stream: nil)
                var promptText: [UInt8] = []
                if echo { for id in prompt { promptText.append(contentsOf: tokenBytes(id)) } }
                let text = String(decoding: promptText + c.text, as: UTF8.self)
                var logprobs = Value.none
                if n != nil {
                    logprobs = logprobsValue((echo ? c.promptLogprobs : []) + c.logprobs, textStart: 0)
                }
                choices.append(.dict(Value.Dictionary([("text", .string(text)), ("index", .int(index)), ("logprobs", logprobs),
                                                       ("finish_reason", .string(c.finishReason == .contextFull ? "length" : c.finishReason.rawValue))])))
                promptTokens += prompt.count
                completionTokens += c.tokens.count
            }
        } catch {
            await pool.release(slot)
            throw error
        }
        await pool.release(slot)
        return jsonResponse(.dict(Value.Dictionary([
            ("id", .string(nextID("cmpl"))), ("object", .string("text_completion")), ("created", .int(Int(time(nil)))),
            ("model", .string(served.name)), ("choices", .list(choices)), ("usage", usage(prompt: promptTokens, completion: completionTokens)),
        ])))
    }

    /// Completions as server-sent events, OpenAI's `text_completion` chunks: per prompt (choice `index`) the echoed
    /// prompt if asked, the text in pieces, a chunk with the finish reason; then the usage if asked, then [DONE].
    func streamCompletions(on slot: Slot, prompts: [[UInt32]], maxTokens: Int, stop: [String], sampling: SamplingOptions, echo: Bool,
                           ignoreEOS: Bool, includeUsage: Bool) -> Response {
        let id = nextID("cmpl"), created = Int(time(nil)), name = served.name
        @Sendable func chunk(_ choices: [Value], usage: Value? = nil) -> Value {
            var fields: [(String, Value)] = [("id", .string(id)), ("object", .string("text_completion")), ("created", .int(created)),
                                             ("model", .string(name)), ("choices", .list(choices))]
            if includeUsage { fields.append(("usage", usage ?? .none)) }
            return .dict(Value.Dictionary(fields))
        }
        @Sendable func choice(_ text: String, index: Int, finish: Value = .none) -> Value {
            .dict(Value.Dictionary([("text", .string(text)), ("index", .int(index)), ("logprobs", .none), ("finish_reason", finish)]))
        }
        let (events, response) = EventStream.make()
        let pool = self.pool
        Task {
            var promptTokens = 0, completionTokens = 0
            for (index, prompt) in prompts.enumerated() where !events.cancel.isCancelled {
                if echo {
                    var text: [UInt8] = []
                    for id in prompt { text.append(contentsOf: tokenBytes(id)) }
                    events.send(chunk([choice(String(decoding: text, as: UTF8.self), index: index)]))
                }
                var finish = "stop"
                do {
                    let c = try await generate(on: slot, prompt: prompt, maxTokens: maxTokens, stop: stop, sampling: sampling, logprobs: nil,
                                               echoLogprobs: false, ignoreEOS: ignoreEOS, cancel: events.cancel, stream: { text in
                        events.send(chunk([choice(String(decoding: text, as: UTF8.self), index: index)]))
                    })
                    finish = c.finishReason == .contextFull ? "length" : c.finishReason.rawValue
                    completionTokens += c.tokens.count
                } catch {
                    finish = "error"
                }
                promptTokens += prompt.count
                events.send(chunk([choice("", index: index, finish: .string(finish))]))
            }
            await pool.release(slot)
            if includeUsage { events.send(chunk([], usage: usage(prompt: promptTokens, completion: completionTokens))) }
            events.finish()
        }
        return response
    }

    // MARK: /v1/chat/completions

    func chatCompletions(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let f = try await body(request)
        guard case .list(let messages, _)? = f["messages"], !messages.isEmpty else {
            throw APIError.invalid("'messages' must be a non-empty list", param: "messages")
        }
        for (i, m) in messages.enumerated() {
            guard case .dict(let d) = m, case .string? = d["role"] else {
                throw APIError.invalid("messages[\(i)] must be an object with a string 'role'", param: "messages")
            }
        }
        let tools = f["tools"]
        if let tools, case .list = tools {} else if tools != nil { throw APIError.invalid("'tools' must be a list", param: "tools") }
        let maxTokens = try f.int("max_tokens", in: 0...Int(Int32.max)) ?? (try f.int("max_completion_tokens", in: 0...Int(Int32.max))) ?? Int(Int32.max)
        let stop = try f.strings("stop", max: 16)
        let sampling = try self.sampling(f)
        let stream = try f.bool("stream") ?? false
        let includeUsage = try self.includeUsage(f, stream: stream)
        var variables = served.template?.variables ?? [:]
        if case .dict(let extra)? = f["chat_template_kwargs"] {
            for (k, v) in extra.entries { if case .string(let name) = k { variables[name] = v } }
        }
        let text: String
        if let template = served.template {
            do {
                text = try template.template.apply(messages: messages, tools: tools, addGenerationPrompt: true, variables: variables)
            } catch {
                throw APIError.invalid("the chat template refused the messages: \(error)", param: "messages")
            }
        } else {
            var s = ""
            for m in messages {
                guard case .dict(let d) = m else { continue }
                func text(_ v: Value?) -> String { if case .string(let s)? = v { return s }; return "" }
                s += "<|im_start|>\(text(d["role"]))\n\(text(d["content"]))<|im_end|>\n"
            }
            text = s + "<|im_start|>assistant\n"
        }
        let prompt: [UInt32]
        do { prompt = try encode(text) } catch { throw APIError.invalid("the prompt cannot be tokenized: \(error)", param: "messages") }
        try checkLength(prompt)
        let id = nextID("chatcmpl"), created = Int(time(nil)), name = served.name
        let slot = try await acquireSlot()
        if !stream {
            let c: Completion
            do {
                c = try await generate(on: slot, prompt: prompt, maxTokens: maxTokens, stop: stop, sampling: sampling, logprobs: nil,
                                       echoLogprobs: false, cancel: nil, stream: nil)
            } catch {
                await pool.release(slot)
                throw error
            }
            await pool.release(slot)
            let message = Value.dict(Value.Dictionary([("role", .string("assistant")), ("content", .string(String(decoding: c.text, as: UTF8.self)))]))
            return jsonResponse(.dict(Value.Dictionary([
                ("id", .string(id)), ("object", .string("chat.completion")), ("created", .int(created)), ("model", .string(name)),
                ("choices", .list([.dict(Value.Dictionary([("index", .int(0)), ("message", message),
                                                           ("finish_reason", .string(c.finishReason == .contextFull ? "length" : c.finishReason.rawValue))]))])),
                ("usage", usage(prompt: prompt.count, completion: c.tokens.count)),
            ])))
        }
        // Server-sent events: a chunk per piece of text, the finish reason, the usage if asked, then [DONE].
        @Sendable func chunk(_ delta: Value, finish: Value) -> Value {
            var fields: [(String, Value)] = [
                ("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .int(created)), ("model", .string(name)),
                ("choices", .list([.dict(Value.Dictionary([("index", .int(0)), ("delta", delta), ("finish_reason", finish)]))])),
            ]
            if includeUsage { fields.append(("usage", .none)) }
            return .dict(Value.Dictionary(fields))
        }
        let (events, response) = EventStream.make()
        events.send(chunk(.dict(Value.Dictionary([("role", .string("assistant")), ("content", .string(""))])), finish: .none))
        let pool = self.pool
        Task {
            var finish = "stop", completionTokens = 0
            do {
                let c = try await generate(on: slot, prompt: prompt, maxTokens: maxTokens, stop: stop, sampling: sampling, logprobs: nil,
                                           echoLogprobs: false, cancel: events.cancel, stream: { text in
                    events.send(chunk(.dict(Value.Dictionary([("content", .string(String(decoding: text, as: UTF8.self)))])), finish: .none))
                })
                finish = c.finishReason == .contextFull ? "length" : c.finishReason.rawValue
                completionTokens = c.tokens.count
            } catch {
                finish = "error"
            }
            await pool.release(slot)
            events.send(chunk(.dict(Value.Dictionary()), finish: .string(finish)))
            if includeUsage {
                events.send(.dict(Value.Dictionary([
                    ("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .int(created)), ("model", .string(name)),
                    ("choices", .list([])), ("usage", usage(prompt: prompt.count, completion: completionTokens)),
                ])))
            }
            events.finish()
        }
        return response
    }
}

/// A response of server-sent events (`data: JSON` each, `data: [DONE]` at the end); `cancel` is set when the client
/// goes away.
struct EventStream: Sendable {
    let continuation: AsyncStream<ByteBuffer>.Continuation
    let cancel: CancelFlag

    static func make() -> (EventStream, Response) {
        let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let cancel = CancelFlag()
        continuation.onTermination = { reason in if case .cancelled = reason { cancel.cancel() } }
        let response = Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                                body: ResponseBody(asyncSequence: events))
        return (EventStream(continuation: continuation, cancel: cancel), response)
    }

    func send(_ value: Value) {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        buffer.writeString("data: \(value.jsonText)\n\n")
        continuation.yield(buffer)
    }

    /// [DONE], and the end of the response.
    func finish() {
        var done = ByteBufferAllocator().buffer(capacity: 16)
        done.writeString("data: [DONE]\n\n")
        continuation.yield(done)
        continuation.finish()
    }
}
