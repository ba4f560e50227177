import ArgumentParser
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

            Greedy decoding unless --temp is above 0; the same --seed gives the same output. Generation stops at \
            -n tokens or at the model's end tokens (its eos ids, <|im_end|>, <|endoftext|>).

            Examples:
              qwenkit run qwen2-0.5b-q8_0.gguf --chat --prompt 'Name three primes.'
              qwenkit run ./Qwen2-0.5B --prompt 'The capital of France is' -n 16
              qwenkit run model.gguf --tokens 785,6722,315 -n 8 --logits out.safetensors
            """
    )

    @Argument(help: ArgumentHelp("A GGUF file or an HF model directory.", valueName: "model"), completion: .file())
    var model: String

    @Option(name: .long, help: ArgumentHelp("The prompt text.", valueName: "text"))
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp("The prompt as token ids (comma- or space-separated), instead of --prompt.", valueName: "ids"))
    var tokens: String?

    @Flag(name: .long, help: "Wrap the prompt in the ChatML template (system and user turns, then the assistant's turn).")
    var chat = false

    @Option(name: .long, help: ArgumentHelp("System message for --chat.", valueName: "text"))
    var system = "You are a helpful assistant."

    @Option(name: .short, help: ArgumentHelp("Tokens to generate at most.", valueName: "n"))
    var n = 128

    @Option(name: .long, help: ArgumentHelp("Sampling temperature; 0 is greedy.", valueName: "t"))
    var temp: Float = 0

    @Option(name: .long, help: ArgumentHelp("Sample from the k most likely tokens only (0: all).", valueName: "k"))
    var topK = 0

    @Option(name: .long, help: ArgumentHelp("Sample from the smallest set of tokens whose probability reaches p (1: all).", valueName: "p"))
    var topP: Float = 1

    @Option(name: .long, help: ArgumentHelp("Random seed for sampling.", valueName: "n"))
    var seed: UInt64 = 0

    @Option(name: .long, help: ArgumentHelp("Write the logits of every position to FILE (safetensors: tokens I32 [n], logits F32 [n, vocab]).", valueName: "file"),
            completion: .file(extensions: ["safetensors"]))
    var logits: String?

    @Option(name: .long, help: ArgumentHelp("Tokenizer to use instead of the model's own.", valueName: "path"), completion: .file())
    var tokenizer: String?

    @Option(name: .long, help: ArgumentHelp("Threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @Flag(name: [.short, .long], help: "No timing summary on stderr.")
    var quiet = false

    func validate() throws {
        if prompt == nil && tokens == nil { throw ValidationError("give a prompt: --prompt TEXT or --tokens IDS") }
        if prompt != nil && tokens != nil { throw ValidationError("--prompt and --tokens cannot be used together") }
        if chat && tokens != nil { throw ValidationError("--chat needs --prompt (--tokens are used as given)") }
        if n < 0 { throw ValidationError("-n must be at least 0") }
        if !(temp >= 0) || !temp.isFinite { throw ValidationError("--temp must be a number of at least 0") }
        if topK < 0 { throw ValidationError("--top-k must be at least 0") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be between 1 and 1024") }
        if let tokens, Self.parseIDs(tokens) == nil {
            throw ValidationError("--tokens: expected non-negative integers separated by commas or spaces")
        }
    }

    static func parseIDs(_ text: String) -> [UInt32]? {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" })
        var ids: [UInt32] = []
        for p in parts {
            guard let id = UInt32(p) else { return nil }
            ids.append(id)
        }
        return ids.isEmpty ? nil : ids
    }

    /// ChatML as Qwen2's chat template renders one system and one user turn with the generation prompt.
    static func chatML(system: String, user: String) -> String {
        "<|im_start|>system\n\(system)<|im_end|>\n<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
    }

    func run() throws {
        let started = monotonicSeconds()
        let model = try Qwen2Model(path: self.model)
        let tok = try loadModelTokenizer(model, override: tokenizer)
        var promptIDs: [UInt32]
        if let tokens {
            promptIDs = Self.parseIDs(tokens)!
        } else {
            let text = chat ? Self.chatML(system: system, user: prompt!) : prompt!
            promptIDs = []
            let encoder = tok.makeEncoder()
            try Array(text.utf8).withUnsafeBufferPointer { try encoder.encode($0, special: .parse, into: &promptIDs) }
            guard !promptIDs.isEmpty else { throw ValidationError("--prompt: the prompt encodes to no tokens") }
        }
        let ends = endTokenIDs(model, tokenizer: tok)
        // A prompt longer than the context is refused by the session's first evaluate (capacity is then the context).
        // -n may be up to Int.max: the sum saturates instead of overflowing (the context caps it anyway).
        let (wanted, overflow) = (promptIDs.count + 1).addingReportingOverflow(n)
        let capacity = min(overflow ? Int.max : wanted, model.shape.contextLength)
        let workers = threadCount(threads)
        let session = try InferenceSession(model: model, capacity: capacity, threads: workers)
        var sampler = Sampler(temperature: temp, topK: topK, topP: topP, seed: seed)
        let logitsFile = try logits.map { try LogitsRecorder(path: $0, vocabSize: model.shape.vocabSize) }
        let out = ByteSink.standardOutput(bufferCapacity: 1 << 12)
        let decoder = TextDecoder(tokenizer: tok, sink: out, skipSpecial: false)
        let loaded = monotonicSeconds()

        var next: UInt32 = 0
        try session.evaluate(promptIDs, logits: logitsFile == nil ? .last : .all) { position, row in
            try logitsFile?.append(token: promptIDs[position], logits: row)
            if position == promptIDs.count - 1 { next = sampler.sample(row) }
        }
        let promptDone = monotonicSeconds()
        var generated = 0, steps = 0
        while generated < n && !ends.contains(next) {
            // Ids past the tokenizer (the padding rows of an embedding matrix) have no text.
            if tok.hasToken(next) { try decoder.append(next) { "generated token \(generated)" } }
            try decoder.emit(final: false)
            try out.flush()
            generated += 1
            // The last token is run only to record its logits.
            if (generated == n && logitsFile == nil) || session.position >= capacity { break }
            let token = next
            try session.evaluate([token], logits: .last) { _, row in
                try logitsFile?.append(token: token, logits: row)
                next = sampler.sample(row)
            }
            steps += 1
        }
        try decoder.emit(final: true)
        if generated > 0 { try out.write(Array("\n".utf8)) }
        try out.flush()
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
