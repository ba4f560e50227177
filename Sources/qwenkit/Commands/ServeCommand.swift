import ArgumentParser
import ChatTemplate
import Dispatch
import QwenKitIO
import Qwen2Runtime
import Serving

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over an OpenAI-compatible HTTP API.",
        discussion: """
            Endpoints: GET /health, GET /v1/models and /v1/models/{id}, POST /v1/completions (prompt as text or \
            token ids, max_tokens (0 allowed), temperature, top_p, seed, stop, logprobs with echo, as lm-eval's \
            local-completions sends), POST /v1/chat/completions (messages through the model's chat template), both \
            with stream: true as server-sent events (stream_options.include_usage adds the usage at the end), POST \
            /tokenize and /detokenize as llama-server has them. Each of --parallel slots generates one sequence at a \
            time with its own KV cache, and the slots that are generating take their next tokens together, in one \
            batched forward step (the weights read once for all); requests beyond the slots wait, up to --queue, then \
            get 503. Bad requests get 400 with OpenAI's error object. One line per request goes to stderr. SIGINT or \
            SIGTERM stops accepting, lets running requests finish, and exits 0. Sampling flags set the defaults of \
            requests that \
            leave a field out (over the GGUF's general.sampling.*).

            Examples:
              qwenkit serve qwen2.5-0.5b-instruct-q8_0.gguf
              qwenkit serve model.gguf --port 9000 --parallel 2 -c 8192
            """
    )

    @Argument(help: ArgumentHelp("A GGUF file or an HF model directory.", valueName: "model"), completion: .file())
    var model: String

    @Option(name: .long, help: ArgumentHelp("Address to listen on (default: 127.0.0.1, this machine only).", valueName: "address"))
    var host = "127.0.0.1"

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Port to listen on (0: any free port; default 8080).", valueName: "n"))
    var port = 8080

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sequences generated at once, each with its own KV cache (default 1).", valueName: "n"))
    var parallel = 1

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Requests that may wait for a slot before 503 (default 64).", valueName: "n"))
    var queue = 64

    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional,
            help: ArgumentHelp("Positions each slot's KV cache holds (default: the model's context, at most 4096).", valueName: "n"))
    var ctxSize = 0

    @Option(name: [.customShort("t"), .long], parsing: .unconditional,
            help: ArgumentHelp("Threads of every forward step, a prompt's or the slots' batched one (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @OptionGroup var memory: ModelMemoryFlags

    @Option(name: .long, help: ArgumentHelp("The model name clients see (default: the file or directory name).", valueName: "name"))
    var alias: String?

    @Option(name: .long, help: ArgumentHelp("Chat template file instead of the model's.", valueName: "file"), completion: .file(extensions: ["jinja"]))
    var chatTemplate: String?

    @Option(name: .long, help: ArgumentHelp("Tokenizer to use instead of the model's own.", valueName: "path"), completion: .file())
    var tokenizer: String?

    @OptionGroup var sampling: SamplingFlags

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if parallel < 1 || parallel > 64 { throw ValidationError("--parallel must be between 1 and 64") }
        if queue < 0 { throw ValidationError("--queue must be at least 0") }
        if ctxSize < 0 { throw ValidationError("-c/--ctx-size must be at least 0 (0: the model's context, at most 4096)") }
        try validateThreads(threads)
        try sampling.validate()
    }

    func run() throws {
        let model = try Qwen2Model(path: self.model, residency: memory.residency)
        let tok = try loadModelTokenizer(model, override: tokenizer)
        let template = try ModelChatTemplate.load(self.model, templateOverride: chatTemplate)
        if ctxSize > model.shape.contextLength {
            throw CLIError("-c/--ctx-size \(ctxSize) is past the model's context of \(model.shape.contextLength) positions")
        }
        var configuration = ServerConfiguration(contextSize: ctxSize > 0 ? ctxSize : min(model.shape.contextLength, 4096))
        configuration.host = host
        configuration.port = port
        configuration.parallel = parallel
        configuration.queueLimit = queue
        configuration.threads = threadCount(threads)
        let name = alias ?? String(self.model.split(separator: "/").last(where: { !$0.isEmpty }) ?? Substring(self.model))
        let served = ServedModel(model: model, tokenizer: tok, template: template, endTokens: endTokenIDs(model, tokenizer: tok),
                                 name: name, defaults: sampling.options(defaults: SamplingOptions(gguf: model.gguf)))
        let server = try Server(model: served, configuration: configuration)
        let slots = "\(parallel) slot\(parallel == 1 ? "" : "s") of \(configuration.contextSize) positions"
        // The server's graceful shutdown takes SIGINT and SIGTERM (no temporary files to remove here).
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do {
                try await server.run(listening: { address, port in
                    printError(raw: "qwenkit: serving \(name) on http://\(address):\(port) (\(slots))\n")
                }, log: { line in printError(raw: line + "\n") })
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = failure.get() { throw CLIError("serve: \(error)") }
    }
}

/// The server task's error, handed to the waiting main thread.
private final class FailureBox: @unchecked Sendable {
    private var error: (any Error)?
    private let lock = DispatchSemaphore(value: 1)
    func set(_ e: any Error) { lock.wait(); error = e; lock.signal() }
    func get() -> (any Error)? { lock.wait(); defer { lock.signal() }; return error }
}
