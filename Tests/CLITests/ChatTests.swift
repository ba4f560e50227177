// `qwenkit chat` from a pipe: one reply line per input line, equal to `run` on the ids of the whole conversation
// rendered at once (`template`, then `encode`), so keeping the conversation in the KV cache changes nothing; /reset,
// /system and /exit; a template that renders earlier turns differently; bad input, and a turn the context cannot
// hold, which is refused while the chat goes on. The model is q2-tied (ChatML with a default system message), greedy.

import ChatTemplate
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct ChatCLITests {
    static let model = fixturePath("convert-golden/q2-tied.f32.gguf")
    static let greedy = ["--temp", "0", "--repeat-penalty", "1"]

    /// stdout's lines (each reply ends with a newline; the replies of this model contain none).
    static func lines(_ run: RunResult) -> [String] {
        var lines = run.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.last == "", "stdout does not end with a newline: \(run)")
        lines.removeLast()
        return lines
    }

    /// What `run` generates after the conversation `messages` (role, content) rendered with the generation prompt by
    /// `template` (the model's, or a template file given with `--chat-template` to chat).
    static func runAfter(_ messages: [(String, String)], template: String = model, n: Int = 12) throws -> String {
        try withTemporaryDirectory { dir in
            let list = Value.list(messages.map { .dict(Value.Dictionary([("role", .string($0.0)), ("content", .string($0.1))])) })
            try writeFile(dir + "/m.json", list.jsonText)
            let rendered = try CLI.run(["template", template, "--messages", dir + "/m.json", "--add-generation-prompt"])
            #expect(rendered.status == 0, "\(rendered)")
            let encoded = try CLI.run(["encode", "--tokenizer", fixturePath("checkpoints/q2-tied")], stdin: .bytes(rendered.stdout))
            #expect(encoded.status == 0, "\(encoded)")
            let ids = encoded.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: ",")
            let run = try CLI.run(["run", model, "--tokens", ids, "-n", "\(n)", "-q"] + greedy)
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            return String(run.stdoutText.dropLast())
        }
    }

    /// (b) Two turns from a pipe: nothing but the two replies on stdout, the second equal to run's on the two-turn
    /// conversation (turn 1's reply as the assistant message).
    @Test func pipedTurnsEqualRunOnTheWholeConversation() throws {
        let chat = try CLI.run(["chat", Self.model, "-n", "12"] + Self.greedy, stdin: .text("Hello\nWhat is 2+2?\n"))
        #expect(chat.status == 0 && chat.stderr.isEmpty, "\(chat)")
        let replies = Self.lines(chat)
        try #require(replies.count == 2, "\(chat)")
        #expect(replies[0] == (try Self.runAfter([("user", "Hello")])))
        #expect(replies[1] == (try Self.runAfter([("user", "Hello"), ("assistant", replies[0]), ("user", "What is 2+2?")])))
        #expect(!replies[1].isEmpty)
    }

    /// -v prints each turn's figures on stderr: turn 2 reuses the first prompt (62 tokens, the default system message
    /// included) and the one reply token that its text re-tokenizes to (the second is part of a character, U+FFFD in
    /// the text), and evaluates the other 49 tokens of its prompt.
    @Test func verboseCountsReusedAndEvaluatedTokens() throws {
        let chat = try CLI.run(["chat", Self.model, "-n", "12", "-v"] + Self.greedy, stdin: .text("Hello\nWhat is 2+2?\n"))
        #expect(chat.status == 0 && Self.lines(chat).count == 2, "\(chat)")
        let figures = chat.stderrLines.map { $0.replacing(/, [0-9.]+ tokens\/s\]$/, with: ", R tokens/s]") }
        #expect(figures == ["[0 tokens reused, 62 evaluated, 12 generated, R tokens/s]",
                            "[63 tokens reused, 49 evaluated, 12 generated, R tokens/s]"], "\(chat)")
    }

    /// (c) /reset starts over (the same greedy reply again), /system TEXT starts over with a system message (run
    /// --chat --system's reply), empty lines are skipped, /exit ends with status 0 before the lines after it.
    @Test func resetSystemAndExit() throws {
        let chat = try CLI.run(["chat", Self.model, "-n", "12"] + Self.greedy,
                               stdin: .text("Hello\n\n/reset\nHello\n/system Be brief.\nHello\n/system\nHi\n/exit\nNever answered\n"))
        #expect(chat.status == 0 && chat.stderr.isEmpty, "\(chat)")
        let replies = Self.lines(chat)
        try #require(replies.count == 4, "\(chat)")
        let hello = try CLI.run(["run", Self.model, "--chat", "-p", "Hello", "-n", "12", "-q"] + Self.greedy)
        #expect(replies[0] + "\n" == hello.stdoutText && replies[1] == replies[0])
        let brief = try CLI.run(["run", Self.model, "--chat", "--system", "Be brief.", "-p", "Hello", "-n", "12", "-q"] + Self.greedy)
        #expect(replies[2] + "\n" == brief.stdoutText)
        let hi = try CLI.run(["run", Self.model, "--chat", "-p", "Hi", "-n", "12", "-q"] + Self.greedy)
        #expect(replies[3] + "\n" == hi.stdoutText)
        // --system is the first conversation's system message; end of input without a newline is a last line.
        let given = try CLI.run(["chat", Self.model, "-n", "12", "--system", "Be brief."] + Self.greedy, stdin: .text("Hello"))
        #expect(given.status == 0 && given.stdoutText == brief.stdoutText, "\(given)")
    }

    /// (d) A template that renders an earlier reply as a placeholder once it is no longer the last: turn 3 cuts the
    /// cache back into turn 1's reply and still answers as run does on the conversation rendered at once.
    @Test func changedRenderingOfEarlierTurns() throws {
        try withTemporaryDirectory { dir in
            let template = dir + "/shrinking.jinja"
            try writeFile(template, "{% for m in messages %}<|im_start|>{{ m.role }}{{ '\\n' }}"
                + "{% if m.role == 'assistant' and loop.index0 < messages|length - 2 %}(earlier reply){% else %}{{ m.content }}{% endif %}"
                + "<|im_end|>{{ '\\n' }}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant{{ '\\n' }}{% endif %}")
            let chat = try CLI.run(["chat", Self.model, "-n", "12", "--chat-template", template, "-v"] + Self.greedy,
                                   stdin: .text("Hello\nWhat is 2+2?\nAnd 3+3?\n"))
            #expect(chat.status == 0, "\(chat)")
            let replies = Self.lines(chat)
            try #require(replies.count == 3, "\(chat)")
            #expect(replies[2] == (try Self.runAfter([("user", "Hello"), ("assistant", replies[0]), ("user", "What is 2+2?"),
                                                      ("assistant", replies[1]), ("user", "And 3+3?")], template: template)))
            #expect(chat.stderrLines.count == 3)
        }
    }

    /// (e) A missing model, values out of range; a turn the context cannot hold is refused in one line and the chat
    /// goes on (from a pipe the status is then 1); a reply that fills the context stops there and says so; input that
    /// is not UTF-8 is skipped.
    @Test func badInput() throws {
        let missing = try CLI.run(["chat", "/nonexistent/model.gguf"], stdin: .text("Hello\n"))
        #expect(missing.status == 1 && missing.stdout.isEmpty && missing.stderrLines.count == 1
            && missing.stderrText.hasPrefix("qwenkit: /nonexistent/model.gguf"), "\(missing)")
        for (args, message) in [(["-n", "0"], "-n must be at least 1"), (["-c", "0"], "-c/--ctx-size must be at least 1"),
                                (["--stop", ""], "--stop needs a non-empty string"), (["-t", "0"], "--threads must be between 1 and 1024"),
                                (["--temp", "-1"], "--temp must be a number of at least 0")] {
            let run = try CLI.run(["chat", Self.model] + args, stdin: .text("Hello\n"))
            #expect(run.status == 2 && run.stdout.isEmpty && run.stderrLines.first == "Error: " + message, "\(run)")
        }
        let tooLarge = try CLI.run(["chat", Self.model, "-c", "513"], stdin: .text("Hello\n"))
        #expect(tooLarge.status == 1 && tooLarge.stderrText == "qwenkit: -c/--ctx-size 513 is past the model's context of 512 positions\n",
                "\(tooLarge)")

        // 62 prompt tokens and a 12-token reply fit in 80; the long message does not, then /reset makes room again.
        let long = String(repeating: "many words ", count: 10)
        let needed = try Self.promptLength([("user", "Hello"), ("assistant", Self.runAfter([("user", "Hello")])), ("user", long)]) + 1
        let chat = try CLI.run(["chat", Self.model, "-n", "12", "-c", "80"] + Self.greedy, stdin: .text("Hello\n\(long)\n/reset\nHello\n"))
        #expect(chat.status == 1, "\(chat)")
        let replies = Self.lines(chat)
        #expect(replies.count == 2 && replies.first == replies.last, "\(chat)")
        #expect(chat.stderrText == "qwenkit: this turn needs \(needed) tokens (the conversation with this message, and one for the reply) "
            + "but the context holds 80; /reset starts a new conversation (-c sets the context size)\n", "\(chat)")

        let full = try CLI.run(["chat", Self.model, "-n", "12", "-c", "66"] + Self.greedy, stdin: .text("Hello\n"))
        #expect(full.status == 0 && Self.lines(full).count == 1, "\(full)")
        #expect(full.stderrText == "qwenkit: the context is full (66 tokens): the reply stopped there; /reset starts a new conversation\n")

        let notText = try CLI.run(["chat", Self.model, "-n", "12"] + Self.greedy, stdin: .bytes([0xFF, 0x0A] + Array("Hello\n".utf8)))
        #expect(notText.status == 1 && Self.lines(notText).count == 1, "\(notText)")
        #expect(notText.stderrText == "qwenkit: input line 1: not UTF-8 text; skipped\n")
    }

    /// The number of tokens of `messages` rendered by the model's template with the generation prompt.
    static func promptLength(_ messages: [(String, String)]) throws -> Int {
        try withTemporaryDirectory { dir in
            let list = Value.list(messages.map { .dict(Value.Dictionary([("role", .string($0.0)), ("content", .string($0.1))])) })
            try writeFile(dir + "/m.json", list.jsonText)
            let rendered = try CLI.run(["template", model, "--messages", dir + "/m.json", "--add-generation-prompt"])
            let encoded = try CLI.run(["encode", "--tokenizer", fixturePath("checkpoints/q2-tied")], stdin: .bytes(rendered.stdout))
            return encoded.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).count
        }
    }

    /// Ctrl-C at the prompt (waiting for input) ends the program as an interrupt does everywhere: status 130.
    @Test func interruptWhileWaitingForInputExits() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CLI.binary())
        process.arguments = ["chat", Self.model, "-n", "12"] + Self.greedy
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("Hello\n".utf8))
        // The reply's line means the turn is over and the chat waits for the next line.
        var received = Data()
        while !received.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
        }
        kill(process.processIdentifier, SIGINT)
        // Were the chat still generating, the signal would only stop the reply; end of input then ends it (status 0).
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130)
    }
}
