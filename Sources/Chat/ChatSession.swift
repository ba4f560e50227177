import ChatTemplate
import Qwen2Runtime
import QwenKitIO
import QwenTokenizer

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// The message as templates see it: a dict with `role` and `content`.
    var templateValue: Value { .dict(Value.Dictionary([("role", .string(role)), ("content", .string(content))])) }
}

/// A multi-turn conversation whose tokens stay in the KV cache between turns.
///
/// Each turn renders the whole conversation through the model's template (so the prompt is exactly what a fresh run of
/// the same messages would see) and tokenizes it, then evaluates only what follows the longest common prefix with the
/// tokens already in the cache: the previous turns, including the reply's generated tokens. Usually that is the new
/// user message and the generation prompt, plus whatever closes the previous reply (`<|im_end|>`, which ended it
/// without being evaluated). When the rendering changed earlier text (a template that drops a past turn's reasoning,
/// a reply whose text re-tokenizes differently from the tokens sampled, a new system message), the session rewinds to
/// where the two differ and evaluates from there; a sliding-window ring that no longer holds that far back makes it
/// start over from position 0. Either way the turn computes the same logits as a fresh session given the whole
/// conversation, up to float32 summation order.
public final class ChatSession {
    public let generator: Generator
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    /// The template's variables (`bos_token`, `eos_token`, …).
    public let variables: [String: Value]
    /// Where the template came from, for its errors.
    public let templateOrigin: String
    public let endTokens: Set<UInt32>
    /// The system message of every turn from the next one on (nil: none, or the template's default).
    public private(set) var system: String?
    /// The turns so far, user and assistant alternating (the system message is not among them).
    public private(set) var messages: [ChatMessage] = []
    /// The tokens in the session's cache, in order (its first `session.position` tokens).
    public private(set) var cachedTokens: [UInt32] = []

    private let encoder: TokenEncoder
    private var session: InferenceSession { generator.session }

    public init(generator: Generator, tokenizer: Tokenizer, template: ChatTemplate, variables: [String: Value] = [:],
                templateOrigin: String = "chat template", endTokens: Set<UInt32>, system: String? = nil) {
        self.generator = generator
        self.tokenizer = tokenizer
        self.template = template
        self.variables = variables
        self.templateOrigin = templateOrigin
        self.endTokens = endTokens
        self.system = system
        encoder = tokenizer.makeEncoder()
    }

    /// Positions the cache holds: the longest conversation, prompt and replies together.
    public var contextSize: Int { session.capacity }

    /// What a turn did.
    public struct Result: Sendable {
        /// The reply as it was output (stop strings excluded): the assistant message kept.
        public var text: String
        public var tokens: [UInt32]
        public var finishReason: FinishReason
        /// The reply was cut short because `output` returned false (it is kept as far as it went).
        public var cancelled: Bool
        /// Prompt tokens found in the cache from earlier turns.
        public var reused: Int
        /// Prompt tokens evaluated for this turn (the rendered conversation has reused + evaluated tokens).
        public var evaluated: Int
        /// Forward steps run for generated tokens.
        public var steps: Int
        /// Time to evaluate the prompt and sample the first token, and the whole turn.
        public var promptNanoseconds: UInt64
        public var totalNanoseconds: UInt64
    }

    /// Answers `userText`: appends it as a user message, renders the conversation with the generation prompt,
    /// evaluates what the cache lacks, generates at most `maxTokens` tokens (fewer when the context fills), streams
    /// the text to `output` (false stops the reply there) and appends the reply as the assistant's message.
    ///
    /// A conversation that no longer fits (the rendered prompt and one reply token) is refused with
    /// `ChatError.contextFull` before anything changes. Any other error leaves the messages as they were and empties
    /// the cache (the next turn evaluates everything), so the session stays usable.
    public func reply(to userText: String, maxTokens: Int, stop: [String] = [],
                      output: ([UInt8]) throws -> Bool) throws -> Result {
        let started = monotonicNanoseconds()
        let turn = messages + [ChatMessage(role: "user", content: userText)]
        let ids = try promptTokens(turn)
        guard !ids.isEmpty else { throw ChatError.emptyPrompt(origin: templateOrigin) }
        let needed = ids.count + 1
        guard needed <= session.capacity else { throw ChatError.contextFull(needed: needed, context: session.capacity) }

        // Keep the longest common prefix; at least the last prompt token is evaluated, for its logits.
        var kept = 0
        let limit = min(cachedTokens.count, ids.count - 1)
        while kept < limit && cachedTokens[kept] == ids[kept] { kept += 1 }
        if kept < cachedTokens.count {
            kept = generator.rewind(to: kept)
            cachedTokens.removeSubrange(kept...)
        }
        let prompt = Array(ids[kept...])

        var text: [UInt8] = []
        var cancelled = false
        let generated: Generator.Result
        do {
            generated = try generator.generate(
                prompt: prompt, maxTokens: maxTokens, endTokens: endTokens, stop: stop.map { Array($0.utf8) },
                evaluateLast: true, tokenBytes: tokenBytes,
                output: { chunk in
                    text.append(contentsOf: chunk)
                    let keepGoing = try output(chunk)
                    if !keepGoing { cancelled = true }
                    return keepGoing
                })
        } catch {
            // Where the cache stands after a failed step is not worth reconstructing: start over next turn.
            clearCache()
            throw error
        }
        // The cache holds the prompt and the generated tokens that were evaluated (all but the last sampled one
        // unless the budget ran out, and never the end token).
        let evaluatedReply = session.position - ids.count
        cachedTokens = ids + generated.tokens.prefix(max(0, evaluatedReply))
        let reply = String(decoding: text, as: UTF8.self)
        messages = turn + [ChatMessage(role: "assistant", content: reply)]
        return Result(text: reply, tokens: generated.tokens, finishReason: generated.finishReason, cancelled: cancelled,
                      reused: kept, evaluated: prompt.count, steps: generated.steps,
                      promptNanoseconds: generated.promptNanoseconds, totalNanoseconds: monotonicNanoseconds() - started)
    }

    /// Starts a new conversation (the system message stays).
    public func reset() {
        messages.removeAll()
        clearCache()
    }

    /// Sets (or with nil removes) the system message, from the next turn on. The conversation is kept: its rendering
    /// changes from the start, so the next turn re-evaluates from where it first differs.
    public func setSystem(_ text: String?) {
        system = text
    }

    /// The token ids of `turns` (after the system message) rendered with the generation prompt, special tokens parsed
    /// as the model's own: what a fresh session would be given.
    public func promptTokens(_ turns: [ChatMessage]) throws -> [UInt32] {
        var values: [Value] = []
        values.reserveCapacity(turns.count + 1)
        if let system { values.append(ChatMessage(role: "system", content: system).templateValue) }
        for m in turns { values.append(m.templateValue) }
        let rendered: String
        do {
            rendered = try template.apply(messages: values, addGenerationPrompt: true, variables: variables)
        } catch {
            throw ChatError.template(origin: templateOrigin, error)
        }
        var ids: [UInt32] = []
        try Array(rendered.utf8).withUnsafeBufferPointer { try encoder.encode($0, special: .parse, into: &ids) }
        return ids
    }

    private func clearCache() {
        session.reset()
        generator.resetHistory()
        cachedTokens.removeAll()
    }

    /// A token's text; ids past the tokenizer (the padding rows of an embedding matrix) have none.
    private func tokenBytes(_ id: UInt32) -> UnsafeBufferPointer<UInt8> {
        tokenizer.hasToken(id) ? tokenizer.bytes(of: id) : UnsafeBufferPointer(start: nil, count: 0)
    }
}

/// What a chat turn refuses. The session is unchanged and usable after each.
public enum ChatError: Error, CustomStringConvertible {
    /// The conversation with this turn's message, plus one reply token, is longer than the context.
    case contextFull(needed: Int, context: Int)
    /// The template failed on this conversation (a role it refuses, a `raise_exception`).
    case template(origin: String, TemplateError)
    /// The template rendered nothing to evaluate.
    case emptyPrompt(origin: String)

    public var description: String {
        switch self {
        case .contextFull(let needed, let context):
            return "this turn needs \(needed) tokens (the conversation with this message, and one for the reply) "
                + "but the context holds \(context)"
        case .template(let origin, let error): return "\(origin): \(error)"
        case .emptyPrompt(let origin): return "\(origin): the conversation renders to no tokens"
        }
    }
}
