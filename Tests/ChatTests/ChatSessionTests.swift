// ChatSession against fresh sessions: a turn that reuses the KV cache of the turns before it generates exactly what a
// new session generates from the whole conversation rendered at once (turns 1..n−1 with their replies as assistant
// messages), and evaluates only the tokens the cache lacks. The tiny test models (Fixtures/convert-golden/q2-tied,
// Fixtures/checkpoints/q2-swa) produce noise, which is what makes this a good test: their replies include U+FFFD
// and bytes that re-tokenize differently from the tokens sampled, so the common prefix ends inside a reply.

import Chat
import ChatTemplate
import Conversion
import ModelFiles
import Qwen2Runtime
import QwenTokenizer
import Testing
import TestSupport

struct ChatFixture {
    let model: Qwen2Model
    let tokenizer: Tokenizer
    let template: ModelChatTemplate
    let endTokens: Set<UInt32>
    var options: SamplingOptions

    /// q2-tied (F32 GGUF: ChatML with a default system message) or q2-swa (HF directory, window 8), greedy unless
    /// `repeatPenalty` says otherwise (the GGUF's general.sampling.* keys ask for sampling).
    init(_ path: String, templateOverride: String? = nil, repeatPenalty: Float = 1) throws {
        model = try Qwen2Model(path: path)
        let tokenizer = try model.gguf.map { try TokenizerSpec(gguf: $0).build() } ?? Tokenizer.load(path: path)
        self.tokenizer = tokenizer
        template = try #require(try ModelChatTemplate.load(path, templateOverride: templateOverride))
        endTokens = Set(["<|im_end|>", "<|endoftext|>"].compactMap { tokenizer.addedTokenID($0) })
        options = SamplingOptions(gguf: model.gguf)
        options.temperature = 0
        options.repeatPenalty = repeatPenalty
    }

    func chat(capacity: Int = 512, maxBatch: Int = InferenceSession.defaultBatchSize, system: String? = nil) throws -> ChatSession {
        let session = try InferenceSession(model: model, capacity: capacity, threads: 2, maxBatch: maxBatch)
        return ChatSession(generator: Generator(session: session, options: options), tokenizer: tokenizer, template: template.template,
                           variables: template.variables, templateOrigin: template.origin, endTokens: endTokens, system: system)
    }

    /// `messages` rendered at once with the generation prompt and tokenized, independently of ChatSession.
    func promptIDs(_ messages: [(String, String)]) throws -> [UInt32] {
        let values = messages.map { Value.dict(Value.Dictionary([("role", .string($0.0)), ("content", .string($0.1))])) }
        let text = try template.template.apply(messages: values, addGenerationPrompt: true, variables: template.variables)
        var ids: [UInt32] = []
        try Array(text.utf8).withUnsafeBufferPointer { try tokenizer.makeEncoder().encode($0, special: .parse, into: &ids) }
        return ids
    }

    /// What a new session generates after `prompt`.
    func fresh(_ prompt: [UInt32], maxTokens: Int, maxBatch: Int = InferenceSession.defaultBatchSize) throws -> (tokens: [UInt32], text: String) {
        let session = try InferenceSession(model: model, capacity: 512, threads: 2, maxBatch: maxBatch)
        var text: [UInt8] = []
        let result = try Generator(session: session, options: options).generate(
            prompt: prompt, maxTokens: maxTokens, endTokens: endTokens,
            tokenBytes: { tokenizer.hasToken($0) ? tokenizer.bytes(of: $0) : UnsafeBufferPointer(start: nil, count: 0) },
            output: { text.append(contentsOf: $0); return true })
        return (result.tokens, String(decoding: text, as: UTF8.self))
    }
}

/// The length of the common prefix of two token lists.
func commonPrefix(_ a: [UInt32], _ b: [UInt32]) -> Int {
    zip(a, b).prefix { $0 == $1 }.count
}

@Suite struct ChatSessionTests {
    static let tied = fixturePath("convert-golden/q2-tied.f32.gguf")

    func say(_ chat: ChatSession, _ text: String, maxTokens: Int = 12) throws -> ChatSession.Result {
        var streamed: [UInt8] = []
        let result = try chat.reply(to: text, maxTokens: maxTokens) { streamed.append(contentsOf: $0); return true }
        #expect(String(decoding: streamed, as: UTF8.self) == result.text)
        return result
    }

    /// (a) Turn 2 reuses turn 1 (its prompt and the reply tokens the cache holds, as far as the re-rendered reply
    /// tokenizes the same) and generates what a fresh session does from the two-turn conversation. With the repetition
    /// penalty too: the penalties see the same history either way.
    @Test(arguments: [Float(1), 1.3])
    func secondTurnEqualsAFreshSession(repeatPenalty: Float) throws {
        let f = try ChatFixture(Self.tied, repeatPenalty: repeatPenalty)
        let chat = try f.chat()
        let first = try say(chat, "Hello")
        let ids1 = try f.promptIDs([("user", "Hello")])
        #expect(first.reused == 0 && first.evaluated == ids1.count)
        #expect(first.tokens == (try f.fresh(ids1, maxTokens: 12)).tokens)
        #expect(chat.messages == [ChatMessage(role: "user", content: "Hello"), ChatMessage(role: "assistant", content: first.text)])
        // The budget ran out, so the last token was evaluated too: the cache holds the prompt and the whole reply.
        #expect(first.finishReason == .length)
        #expect(chat.cachedTokens == ids1 + first.tokens)

        let second = try say(chat, "What is 2+2?")
        let ids2 = try f.promptIDs([("user", "Hello"), ("assistant", first.text), ("user", "What is 2+2?")])
        let expected = try f.fresh(ids2, maxTokens: 12)
        #expect(second.tokens == expected.tokens)
        #expect(second.text == expected.text)
        let reused = commonPrefix(ids1 + first.tokens, ids2)
        #expect(second.reused == reused && second.evaluated == ids2.count - reused)
        #expect(reused > ids1.count, "the reply's first tokens re-tokenize as sampled")
        #expect(chat.generator.history == chat.cachedTokens)
    }

    /// Exact figures for q2-tied, greedy: the first prompt is 62 tokens (the template's default system message
    /// included; this tokenizer has 40 merges, so about a token per byte). Of the 12-token reply only the first token
    /// ("x") re-tokenizes as sampled (the second is part of a character, which the text has as U+FFFD), so turn 2
    /// reuses 62 + 1 tokens and evaluates the other 49 of its 112.
    @Test func turnCounts() throws {
        let f = try ChatFixture(Self.tied)
        let chat = try f.chat()
        let first = try say(chat, "Hello")
        let second = try say(chat, "What is 2+2?")
        #expect([first.reused, first.evaluated, first.tokens.count, first.steps] == [0, 62, 12, 12])
        #expect(first.text.hasPrefix("x\u{FFFD}"))
        #expect([second.reused, second.evaluated, second.tokens.count] == [63, 49, 12])
    }

    /// (d) A template that renders earlier turns differently as the conversation grows (an earlier reply becomes a
    /// placeholder, as Qwen3's drops an earlier turn's reasoning): turn 3 rewinds into turn 1's reply and still
    /// generates what a fresh session does.
    @Test func changedRenderingRewinds() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/t.jinja"
            try writeFile(path, Self.shrinkingTemplate)
            let f = try ChatFixture(Self.tied, templateOverride: path)
            let chat = try f.chat()
            let first = try say(chat, "Hello")
            let second = try say(chat, "What is 2+2?")
            let cachedBefore = chat.cachedTokens
            let third = try say(chat, "And 3+3?")
            let ids3 = try f.promptIDs([("user", "Hello"), ("assistant", first.text), ("user", "What is 2+2?"),
                                        ("assistant", second.text), ("user", "And 3+3?")])
            #expect(third.tokens == (try f.fresh(ids3, maxTokens: 12)).tokens)
            let reused = commonPrefix(cachedBefore, ids3)
            #expect(reused < (try f.promptIDs([("user", "Hello")])).count + 3, "turn 1's reply is no longer rendered")
            #expect(third.reused == reused && third.evaluated == ids3.count - reused)
        }
    }

    /// An earlier assistant reply (not the last one) is rendered as "(earlier reply)".
    static let shrinkingTemplate = "{% for m in messages %}<|im_start|>{{ m.role }}{{ '\\n' }}"
        + "{% if m.role == 'assistant' and loop.index0 < messages|length - 2 %}(earlier reply){% else %}{{ m.content }}{% endif %}"
        + "<|im_end|>{{ '\\n' }}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant{{ '\\n' }}{% endif %}"

    /// (c) reset starts over with the system message kept; setSystem changes the conversation's start, so the next
    /// turn evaluates from there (nothing of the old one is reused past the template's first differing token).
    @Test func resetAndSystem() throws {
        let f = try ChatFixture(Self.tied)
        let chat = try f.chat()
        _ = try say(chat, "Hello")
        chat.reset()
        #expect(chat.messages.isEmpty && chat.cachedTokens.isEmpty && chat.generator.session.position == 0)
        let again = try say(chat, "Hello")
        let ids1 = try f.promptIDs([("user", "Hello")])
        #expect(again.reused == 0 && again.evaluated == ids1.count)
        #expect(again.tokens == (try f.fresh(ids1, maxTokens: 12)).tokens)

        chat.setSystem("Be brief.")
        let next = try say(chat, "Hi")
        let ids = try f.promptIDs([("system", "Be brief."), ("user", "Hello"), ("assistant", again.text), ("user", "Hi")])
        #expect(next.tokens == (try f.fresh(ids, maxTokens: 12)).tokens)
        // "<|im_start|>system\n" (8 tokens) is shared, the text after it is not.
        #expect(next.reused == commonPrefix(ids1 + again.tokens, ids) && next.reused == 8)
        #expect(next.reused + next.evaluated == ids.count)
        chat.reset()
        #expect(chat.system == "Be brief.")
        let afterReset = try say(chat, "Hi")
        #expect(afterReset.tokens == (try f.fresh(try f.promptIDs([("system", "Be brief."), ("user", "Hi")]), maxTokens: 12)).tokens)
    }

    /// (e) A turn the context cannot hold is refused with the figures, and the session carries on as before.
    @Test func contextTooSmallIsRefusedAndTheSessionStaysUsable() throws {
        let f = try ChatFixture(Self.tied)
        let ids1 = try f.promptIDs([("user", "Hello")])
        let chat = try f.chat(capacity: ids1.count + 14)
        let first = try say(chat, "Hello")
        #expect(first.tokens.count == 12)
        let cached = chat.cachedTokens
        let long = String(repeating: "many words ", count: 10)
        let needed = try f.promptIDs([("user", "Hello"), ("assistant", first.text), ("user", long)]).count + 1
        #expect(throws: ChatError.self) { try chat.reply(to: long, maxTokens: 4) { _ in true } }
        do {
            _ = try chat.reply(to: long, maxTokens: 4) { _ in true }
        } catch let error as ChatError {
            #expect(error.description == "this turn needs \(needed) tokens (the conversation with this message, and one for the reply) "
                + "but the context holds \(ids1.count + 14)")
        }
        #expect(chat.messages.count == 2 && chat.cachedTokens == cached)
        chat.reset()
        let after = try say(chat, "Hello")
        #expect(after.tokens == first.tokens)
    }

    /// A reply stopped by `output` (chat's Ctrl-C) is kept as far as it went, and the next turn still equals a fresh
    /// session given that partial reply.
    @Test func cancelledReplyIsKept() throws {
        let f = try ChatFixture(Self.tied)
        let chat = try f.chat()
        var chunks = 0
        let first = try chat.reply(to: "Hello", maxTokens: 12) { _ in
            chunks += 1
            return chunks < 3
        }
        #expect(first.cancelled && first.finishReason == .stop && first.tokens.count < 12)
        #expect(chat.messages.last == ChatMessage(role: "assistant", content: first.text))
        let second = try say(chat, "Go on")
        let ids = try f.promptIDs([("user", "Hello"), ("assistant", first.text), ("user", "Go on")])
        #expect(second.tokens == (try f.fresh(ids, maxTokens: 12)).tokens)
    }

    /// A sliding-window model (q2-swa: window 8 in layers 0 and 2; steps of 4, so rings of 11 slots): a rewind keeps
    /// the cache only while the positions from its target on can still see their window, here at most 4 positions
    /// back from the furthest one written. A new system message changes the conversation near its start, so that turn
    /// starts over from position 0; a turn after a 4-token reply rewinds to the reply's start (its text re-tokenizes
    /// differently from the tokens sampled) and keeps the rest. Both equal a fresh session.
    @Test func slidingWindowRewindsWithinItsRings() throws {
        let f = try ChatFixture(fixturePath("checkpoints/q2-swa"))
        let chat = try f.chat(maxBatch: 4)
        let first = try say(chat, "Hello")
        chat.setSystem("Be brief.")
        let second = try say(chat, "Hi", maxTokens: 4)
        let ids2 = try f.promptIDs([("system", "Be brief."), ("user", "Hello"), ("assistant", first.text), ("user", "Hi")])
        #expect(second.reused == 0 && second.evaluated == ids2.count)
        #expect(second.tokens == (try f.fresh(ids2, maxTokens: 4, maxBatch: 4)).tokens)
        #expect(chat.cachedTokens == ids2 + second.tokens)

        let third = try say(chat, "Ok")
        let ids3 = try f.promptIDs([("system", "Be brief."), ("user", "Hello"), ("assistant", first.text), ("user", "Hi"),
                                    ("assistant", second.text), ("user", "Ok")])
        #expect(third.tokens == (try f.fresh(ids3, maxTokens: 12, maxBatch: 4)).tokens)
        #expect(commonPrefix(ids2 + second.tokens, ids3) == ids2.count)
        #expect(third.reused == ids2.count && third.evaluated == ids3.count - ids2.count)
        #expect([ids2.count, ids3.count] == [85, 114])

        // One more reply token and the rewind reaches past the rings: the turn starts over, with the same reply.
        let longer = try f.chat(maxBatch: 4)
        _ = try say(longer, "Hello")
        longer.setSystem("Be brief.")
        let five = try say(longer, "Hi", maxTokens: 5)
        #expect(Array(five.tokens.prefix(4)) == second.tokens)
        let ids3b = try f.promptIDs([("system", "Be brief."), ("user", "Hello"), ("assistant", first.text), ("user", "Hi"),
                                     ("assistant", five.text), ("user", "Ok")])
        #expect(commonPrefix(ids2 + five.tokens, ids3b) == ids2.count)
        let restarted = try say(longer, "Ok")
        #expect(restarted.reused == 0 && restarted.evaluated == ids3b.count)
        #expect(restarted.tokens == (try f.fresh(ids3b, maxTokens: 12, maxBatch: 4)).tokens)
    }
}
