import ArgumentParser
import ChatTemplate
import ModelFiles
import QwenKitIO
import QwenTokenizer
import Qwen2Runtime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Generate text with a model on the CPU (the reference forward pass).",
        discussion: """
            MODEL is a GGUF file of any type qwenkit quantizes to, or a Hugging Face Qwen2 / Qwen2-MoE directory \
            (safetensors, F32/F16/BF16). Weights stay memory-mapped; activations and the KV cache are float32. \
            Generated text streams to stdout; a timing summary (prompt and generation tokens/s) goes to stderr.

            Greedy decoding unless --temp is above 0; the same --seed gives the same output. Sampling options \
            default to the GGUF's general.sampling.* values when it has them. Penalties (--repeat-penalty, \
            --presence-penalty, --frequency-penalty over the last --repeat-last-n tokens, prompt included) apply \
            first, then temperature, top-k, top-p and min-p. Generation stops at -n tokens, at the model's end \
            tokens (its eos ids, <|im_end|>, <|endoftext|>) or at a --stop string, which is not printed.

            --chat renders the prompt as a user turn (after --system's, if given) through the model's own chat template (GGUF tokenizer.chat_template, or the HF directory's), as transformers' apply_chat_template does, with the generation prompt; ChatML when the model has none; --chat-template FILE replaces it.

            Examples:
              qwenkit run qwen2-0.5b-q8_0.gguf --chat --prompt 'Name three primes.'
              qwenkit run ./Qwen2-0.5B --prompt 'The capital of France is' -n 16
              qwenkit run model.gguf --tokens 785,6722,315 -n 8 --logits out.safetensors
            """
    )

    @Argument(help: ArgumentHelp("A GGUF file or an HF model directory.", valueName: "model"), completion: .file())
    var model: String

    @Option(name: [.customShort("p"), .long], help: ArgumentHelp("The prompt text.", valueName: "text"))
    var prompt: String?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("The prompt as token ids (comma- or space-separated), instead of --prompt.", valueName: "ids"))
    var tokens: String?

    @Option(name: [.customShort("f"), .customLong("file")],
            help: ArgumentHelp("The prompt text from FILE (UTF-8; - for stdin), instead of --prompt: for prompts longer than a command line holds.",
                               valueName: "file"), completion: .file())
    var file: String?

    @Flag(name: .long, help: "Render the prompt as a user turn through the model's chat template, then the assistant's turn.")
    var chat = false

    @Option(name: .long, help: ArgumentHelp("System message for --chat (default: none, or the template's own).", valueName: "text"))
    var system: String?

    @Option(name: .long, help: ArgumentHelp("Chat template file for --chat instead of the model's.", valueName: "file"),
            completion: .file(extensions: ["jinja"]))
    var chatTemplate: String?

    // Numeric options parse their value unconditionally, so that `-n -5` is reported as a value out of range
    // rather than as a missing value followed by an unknown flag.
    @Option(name: .short, parsing: .unconditional,
            help: ArgumentHelp("Tokens to generate at most (capped at what the context leaves).", valueName: "n"))
    var n = 128

    @OptionGroup var sampling: SamplingFlags

    @Option(name: .customLong("stop"), help: ArgumentHelp("Stop when the text contains STRING (repeatable; not printed).", valueName: "string"))
    var stop: [String] = []

    @Option(name: .long, help: ArgumentHelp("Write the logits of every position to FILE (safetensors: tokens I32 [n], logits F32 [n, vocab]).", valueName: "file"),
            completion: .file(extensions: ["safetensors"]))
    var logits: String?

    @Option(name: .long, help: ArgumentHelp("Tokenizer to use instead of the model's own.", valueName: "path"), completion: .file())
    var tokenizer: String?

    @Option(name: [.customShort("t"), .long], parsing: .unconditional, help: ArgumentHelp("Threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @OptionGroup var memory: ModelMemoryFlags

    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional,
            help: ArgumentHelp("Positions the KV cache holds (default 0: the prompt and -n, up to the model's context).", valueName: "n"))
    var ctxSize = 0

    @Option(name: [.customShort("b"), .customLong("batch-size")], parsing: .unconditional,
            help: ArgumentHelp("Prompt tokens per forward step (default: 64); activation memory grows with it, not with the prompt.",
                               valueName: "n"))
    var batchSize = InferenceSession.defaultBatchSize

    @Flag(name: [.short, .long], help: "No timing summary on stderr.")
    var quiet = false

    func validate() throws {
        let given = [prompt != nil, tokens != nil, file != nil].filter { $0 }.count
        if given == 0 { throw ValidationError("give a prompt: --prompt TEXT, -f/--file FILE or --tokens IDS") }
        if given > 1 { throw ValidationError("--prompt, -f/--file and --tokens cannot be used together") }
        if chat && tokens != nil { throw ValidationError("--chat needs --prompt or -f/--file (--tokens are used as given)") }
        if !chat && (system != nil || chatTemplate != nil) { throw ValidationError("--system and --chat-template need --chat") }
        if n < 0 { throw ValidationError("-n must be at least 0") }
        if ctxSize < 0 { throw ValidationError("-c/--ctx-size must be at least 0 (0: as the prompt and -n need)") }
        if batchSize < 1 { throw ValidationError("-b/--batch-size must be at least 1") }
        try sampling.validate()
        if stop.contains("") { throw ValidationError("--stop needs a non-empty string") }
        try validateThreads(threads)
        if let tokens { _ = try Self.parseIDs(tokens) }
    }

    /// The ids of --tokens; a field that is not an id says which and why.
    static func parseIDs(_ text: String) throws(ValidationError) -> [UInt32] {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" })
        var ids: [UInt32] = []
        for (position, p) in parts.enumerated() {
            guard let id = UInt32(p) else {
                let integer = p.first == "-" ? p.dropFirst() : p[...]
                if !integer.isEmpty && integer.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    throw ValidationError("--tokens: id \(p) at position \(position) is out of range (ids are 0...\(UInt32.max))")
                }
                throw ValidationError("--tokens: \(p.debugDescription) at position \(position) is not a token id "
                    + "(expected non-negative integers separated by commas or spaces)")
            }
            ids.append(id)
        }
        if ids.isEmpty { throw ValidationError("--tokens: no ids given") }
        return ids
    }

    /// The largest prompt file read (a whole 128k-token context is well under 10 MB of text).
    static let maxPromptFileBytes = 1 << 30

    /// The text of a -f/--file prompt, checked for size and UTF-8.
    static func readPrompt(_ path: String) throws -> String {
        path == "-" ? try readStandardInputText(limit: maxPromptFileBytes)
            : try readTextFile(path, limit: maxPromptFileBytes, what: "prompt files")
    }

    /// The --chat prompt: the user turn (after the system turn, if given) through the model's template.
    func chatPrompt(user: String) throws -> String {
        let template = try ModelChatTemplate.load(model, templateOverride: chatTemplate) ?? .chatML
        var messages: [Value] = []
        if let system { messages.append(.dict(.init([("role", .string("system")), ("content", .string(system))]))) }
        messages.append(.dict(.init([("role", .string("user")), ("content", .string(user))])))
        do {
            return try template.template.apply(messages: messages, addGenerationPrompt: true, variables: template.variables)
        } catch {
            throw CLIError("\(template.origin): \(error)")
        }
    }

    func run() throws {
        let started = monotonicSeconds()
        let model = try Qwen2Model(path: self.model, residency: memory.residency)
        let tok = try loadModelTokenizer(model, override: tokenizer)
        var promptIDs: [UInt32]
        if let tokens {
            promptIDs = try Self.parseIDs(tokens)  // ids past the vocabulary: the session's first evaluate says so
        } else {
            let user = try file.map(Self.readPrompt) ?? prompt!
            let text = chat ? try chatPrompt(user: user) : user
            promptIDs = []
            let encoder = tok.makeEncoder()
            try Array(text.utf8).withUnsafeBufferPointer { try encoder.encode($0, special: .parse, into: &promptIDs) }
            guard !promptIDs.isEmpty else { throw ValidationError("\(file ?? "--prompt"): the prompt encodes to no tokens") }
        }
        let ends = endTokenIDs(model, tokenizer: tok)
        // A prompt longer than the context is refused by the session's first evaluate (capacity is then the context).
        // -n is capped at the context first, so that no sum can overflow.
        let n = min(self.n, model.shape.contextLength)
        if ctxSize > model.shape.contextLength {
            throw CLIError("-c/--ctx-size \(ctxSize) is past the model's context of \(model.shape.contextLength) positions")
        }
        let capacity = ctxSize > 0 ? ctxSize : min(promptIDs.count + n + 1, model.shape.contextLength)
        let workers = threadCount(threads)
        let session = try InferenceSession(model: model, capacity: capacity, threads: workers, maxBatch: batchSize)
        let generator = Generator(session: session, options: sampling.options(defaults: SamplingOptions(gguf: model.gguf)))
        let logitsFile = try logits.map { try LogitsRecorder(path: $0, vocabSize: model.shape.vocabSize) }
        let out = ByteSink.standardOutput(bufferCapacity: 1 << 12)
        let loaded = monotonicSeconds()
        // Ids past the tokenizer (the padding rows of an embedding matrix) have no text.
        let none = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        let result = try generator.generate(
            prompt: promptIDs, maxTokens: n, endTokens: ends, stop: stop.map { Array($0.utf8) },
            tokenBytes: { tok.hasToken($0) ? tok.bytes(of: $0) : none },
            output: { text in
                try out.write(text)
                try out.flush()
                return true
            },
            record: logitsFile.map { file in { token, row in try file.append(token: token, logits: row) } })
        let generated = result.tokens.count, steps = result.steps
        if generated > 0 { try out.write(Array("\n".utf8)) }
        try out.flush()
        let promptDone = loaded + Double(result.promptNanoseconds) * 1e-9
        let finished = monotonicSeconds()
        try logitsFile?.finish()
        if !quiet {
            let promptSeconds = promptDone - loaded, genSeconds = finished - promptDone
            func rate(_ count: Int, _ seconds: Double) -> String {
                seconds > 0 ? ProgressReporter.fixed(Double(count) / seconds, decimals: 1) : "-"
            }
            printError(raw: "prompt: \(promptIDs.count) tokens in \(ProgressReporter.fixed(promptSeconds * 1000, decimals: 1)) ms (\(rate(promptIDs.count, promptSeconds)) tokens/s); "
                + "generation: \(generated) tokens, \(steps) steps in \(ProgressReporter.fixed(genSeconds * 1000, decimals: 1)) ms (\(rate(steps, genSeconds)) tokens/s); "
                + "load \(ProgressReporter.fixed((loaded - started) * 1000, decimals: 1)) ms; \(workers) thread\(workers == 1 ? "" : "s")\n")
        }
    }
}
