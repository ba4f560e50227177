import ArgumentParser
import Chat
import ChatTemplate
import QwenKitIO
import QwenTokenizer
import Qwen2Runtime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model, the conversation kept in the KV cache between turns.",
        discussion: """
            Each line of input is a user turn; the reply streams to stdout. On a terminal there is a prompt ("> ") \
            and a banner on stderr; from a pipe, each input line gets its reply and a newline on stdout and nothing \
            else is printed there. Empty lines are skipped.

            Every turn renders the whole conversation through the model's chat template (as `run --chat` does; \
            ChatML when the model has none, --chat-template FILE to use another) and evaluates only the tokens the \
            KV cache does not already hold from earlier turns: usually just the new message. When the template \
            renders earlier turns differently as the conversation grows, the cache is cut back to where the two \
            differ. A turn that does not fit the context is refused with an error and the conversation goes on; \
            /reset starts over.

            Commands: /reset (a new conversation), /system TEXT (a new conversation with this system message; \
            /system alone removes it), /exit. Ctrl-D ends the chat; Ctrl-C stops the reply being generated (what \
            was said is kept) and, at the prompt, ends the program (status 130). From a pipe the exit status is 1 \
            when a turn was refused, after the other lines are answered.

            Sampling flags are run's, with the GGUF's general.sampling.* as defaults; --temp 0 is greedy.

            Examples:
              qwenkit chat qwen2-0.5b-instruct-q8_0.gguf
              qwenkit chat ./Qwen2.5-0.5B-Instruct --system 'Answer briefly.' -n 128
              printf 'Hello\\nWhat is 2+2?\\n' | qwenkit chat model.gguf --temp 0
            """
    )

    /// Positions the cache holds unless -c says otherwise (capped at the model's context): llama.cpp's chat default.
    static let defaultContext = 4096
    /// The longest input line taken: far more text than any context holds (4 bytes per token or so).
    static let maxLineBytes = 1 << 20

    @Argument(help: ArgumentHelp("A GGUF file or an HF model directory.", valueName: "model"), completion: .file())
    var model: String

    @Option(name: .long, help: ArgumentHelp("System message (default: none, or the template's own).", valueName: "text"))
    var system: String?

    @Option(name: .long, help: ArgumentHelp("Chat template file instead of the model's.", valueName: "file"),
            completion: .file(extensions: ["jinja"]))
    var chatTemplate: String?

    @Option(name: .short, parsing: .unconditional, help: ArgumentHelp("Tokens per reply at most.", valueName: "n"))
    var n = 512

    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional,
            help: ArgumentHelp("Positions the KV cache holds: the whole conversation (default: the model's context, at most 4096).",
                               valueName: "n"))
    var ctxSize: Int?

    @Option(name: [.customShort("t"), .long], parsing: .unconditional, help: ArgumentHelp("Threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @OptionGroup var memory: ModelMemoryFlags

    @OptionGroup var sampling: SamplingFlags

    @Option(name: .customLong("stop"), help: ArgumentHelp("End a reply when it contains STRING (repeatable; not printed).", valueName: "string"))
    var stop: [String] = []

    @Option(name: .long, help: ArgumentHelp("Tokenizer to use instead of the model's own.", valueName: "path"), completion: .file())
    var tokenizer: String?

    @Flag(name: [.short, .long], help: "After each reply, print on stderr the tokens reused from the cache, evaluated and generated, and the rate.")
    var verbose = false

    func validate() throws {
        if n < 1 { throw ValidationError("-n must be at least 1") }
        if let ctxSize, ctxSize < 1 { throw ValidationError("-c/--ctx-size must be at least 1") }
        try sampling.validate()
        if stop.contains("") { throw ValidationError("--stop needs a non-empty string") }
        try validateThreads(threads)
    }

    func run() throws {
        let model = try Qwen2Model(path: self.model, residency: memory.residency)
        let tok = try loadModelTokenizer(model, override: tokenizer)
        let contextLength = model.shape.contextLength
        if let ctxSize, ctxSize > contextLength {
            throw CLIError("-c/--ctx-size \(ctxSize) is past the model's context of \(contextLength) positions")
        }
        let capacity = ctxSize ?? min(contextLength, Self.defaultContext)
        let template = try ModelChatTemplate.load(self.model, templateOverride: chatTemplate)
            ?? .chatML
        let session = try InferenceSession(model: model, capacity: capacity, threads: threadCount(threads))
        let generator = Generator(session: session, options: sampling.options(defaults: SamplingOptions(gguf: model.gguf)))
        let chat = ChatSession(generator: generator, tokenizer: tok, template: template.template, variables: template.variables,
                               templateOrigin: template.origin, endTokens: endTokenIDs(model, tokenizer: tok), system: system)

        let interactive = isatty(0) != 0
        if interactive {
            printError(raw: "qwenkit chat: \(terminalSafe(self.model)), context \(capacity) tokens, replies up to \(n).\n"
                + "/reset starts over, /system TEXT sets the system message, /exit or Ctrl-D quits; Ctrl-C stops a reply.\n")
        }
        let input = LineReader(source: try FileDescriptorSource.standardInput(), maxLineBytes: Self.maxLineBytes)
        let out = ByteSink.standardOutput(bufferCapacity: 1 << 12)
        let stops = stop
        var refused = false
        var lineNumber = 0
        while true {
            if interactive { printError(raw: "> ") }
            guard let line = try input.next() else {
                if interactive { printError(raw: "\n") }
                break
            }
            lineNumber += 1
            var bytes: [UInt8]
            switch line {
            case .overlong(let count):
                printError("input line \(lineNumber): \(count) bytes; lines above \(Self.maxLineBytes) bytes are skipped")
                refused = true
                continue
            case .text(let b):
                bytes = b
            }
            if bytes.last == 0x0D { bytes.removeLast() }  // CRLF input
            guard let text = String(validating: bytes, as: UTF8.self) else {
                printError("input line \(lineNumber): not UTF-8 text; skipped")
                refused = true
                continue
            }
            if text.isEmpty { continue }
            if text == "/exit" { break }
            if text == "/reset" {
                chat.reset()
                if interactive { printError(raw: "(a new conversation)\n") }
                continue
            }
            if text == "/system" || text.hasPrefix("/system ") {
                let message = text.dropFirst("/system".count).drop { $0 == " " }
                chat.setSystem(message.isEmpty ? nil : String(message))
                chat.reset()
                if interactive { printError(raw: message.isEmpty ? "(a new conversation, no system message)\n" : "(a new conversation with this system message)\n") }
                continue
            }

            let result: ChatSession.Result
            do {
                result = try InterruptRequest.catching {
                    try chat.reply(to: text, maxTokens: n, stop: stops) { chunk in
                        try out.write(chunk)
                        try out.flush()
                        return !InterruptRequest.requested
                    }
                }
            } catch let error as IOError {
                throw error  // stdout is gone (a closed pipe ends the program quietly)
            } catch let error as ChatError {
                if case .contextFull = error {
                    printError("\(error); /reset starts a new conversation (-c sets the context size)")
                } else {
                    printError(error.description)
                }
                refused = true
                continue
            } catch {
                printError("\(error)")
                refused = true
                continue
            }
            try out.write(Array("\n".utf8))
            try out.flush()
            if verbose {
                let generationSeconds = Double(result.totalNanoseconds - result.promptNanoseconds) * 1e-9
                let rate = generationSeconds > 0 && result.steps > 0
                    ? ProgressReporter.fixed(Double(result.steps) / generationSeconds, decimals: 1) : "-"
                printError(raw: "[\(result.reused) tokens reused, \(result.evaluated) evaluated, \(result.tokens.count) generated, \(rate) tokens/s]\n")
            }
            if result.finishReason == .contextFull {
                printError("the context is full (\(capacity) tokens): the reply stopped there; /reset starts a new conversation")
            }
        }
        if refused && !interactive { throw ExitStatus.failure.exitCode }
    }
}
