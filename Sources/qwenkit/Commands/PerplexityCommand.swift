import ArgumentParser
import Perplexity
import QwenKitIO
import QwenTokenizer
import Qwen2Runtime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a model on a text, and KL divergence from a base model, as llama-perplexity computes them.",
        discussion: """
            Tokenizes TEXT with the model's tokenizer (special tokens as text, no BOS for Qwen2, one trailing \
            newline dropped as llama.cpp's -f drops it), cuts it into \
            chunks of --ctx-size tokens (the text must hold two) and runs each chunk from an empty cache \
            through the float32 forward pass; the second half of each chunk is scored (the first half is \
            context). Prints llama-perplexity's running estimate after each chunk ([1]…,[2]…,) and its final \
            line, "Final estimate: PPL = X +/- Y".

            With --kl-divergence-base FILE it also writes llama-perplexity's base file: the chunks' tokens and, \
            per scored position, the log-probabilities of every token quantized to 16 bits. With \
            --kl-divergence it reads such a file instead (made by qwenkit or by llama-perplexity), runs MODEL \
            on its tokens and prints llama-perplexity's table per chunk and its statistics: PPL(Q) and \
            PPL(base), their correlation, ratio and difference, the KL divergence (mean, percentiles), the \
            change of the probability of the right token (Δp) and how often the most likely token is the same. \
            -f is optional then; given, the text must tokenize to the base file's tokens.

            Examples:
              qwenkit perplexity model-f16.gguf -f wiki.test.raw
              qwenkit perplexity ./Qwen2-0.5B -f test.txt --kl-divergence-base base.kld
              qwenkit perplexity q4_k_m.gguf --kl-divergence-base base.kld --kl-divergence
            """
    )

    @Argument(help: ArgumentHelp("A GGUF file or an HF model directory.", valueName: "model"), completion: .file())
    var model: String

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("The text to score.", valueName: "text"),
            completion: .file())
    var file: String?

    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional,
            help: ArgumentHelp("Tokens per chunk (default: 512; with --kl-divergence: the base file's).", valueName: "n"))
    var ctxSize: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Score at most N chunks (default: all).", valueName: "n"))
    var chunks: Int?

    @Option(name: [.customShort("b"), .customLong("batch-size")], parsing: .unconditional,
            help: ArgumentHelp("Tokens per forward step (default: 64): the speed, and the numbers in float rounding only.", valueName: "n"))
    var batchSize: Int?

    @Option(name: .customLong("kl-divergence-base"),
            help: ArgumentHelp("The base file of log-probabilities: written, or read with --kl-divergence.", valueName: "file"),
            completion: .file())
    var klDivergenceBase: String?

    @Flag(name: .customLong("kl-divergence"), help: "Compare MODEL with the --kl-divergence-base file.")
    var klDivergence = false

    @Flag(name: .long, help: "The figures as one JSON document instead of llama-perplexity's text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Tokenizer to use instead of the model's own.", valueName: "path"), completion: .file())
    var tokenizer: String?

    @Option(name: [.customShort("t"), .long], parsing: .unconditional, help: ArgumentHelp("Threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @OptionGroup var memory: ModelMemoryFlags

    func validate() throws {
        if let ctxSize, ctxSize < 3 {
            throw ValidationError("-c/--ctx-size must be at least 3 (half of each chunk is context, and its last token predicts nothing)")
        }
        if let chunks, chunks < 1 { throw ValidationError("--chunks must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("-b/--batch-size must be at least 1") }
        if klDivergence {
            if klDivergenceBase == nil { throw ValidationError("--kl-divergence reads a base file: give --kl-divergence-base FILE") }
            if chunks != nil { throw ValidationError("--kl-divergence scores the base file's chunks: drop --chunks") }
        } else if file == nil {
            throw ValidationError("give the text to score: -f TEXT")
        } else if klDivergenceBase == "-" {
            // The text output goes to stdout.
            throw ValidationError("--kl-divergence-base writes a file (or a FIFO), not the standard output")
        }
        try validateThreads(threads)
    }

    var options: PerplexityOptions {
        var options = PerplexityOptions()
        options.context = ctxSize ?? 512
        options.chunkLimit = chunks
        options.batchSize = batchSize
        options.threads = threadCount(threads)
        return options
    }

    func run() throws {
        let loaded = try Qwen2Model(path: model, residency: memory.residency)
        var ids: [UInt32]?
        if let file {
            let tok = try loadModelTokenizer(loaded, override: tokenizer)
            var text = try openInput(path: file).readToEnd()
            // llama.cpp's -f drops one trailing newline (common/arg.cpp), which can change the last token.
            if text.last == 0x0A { text.removeLast() }
            var tokens: [UInt32] = []
            try text.withUnsafeBufferPointer { try tok.makeEncoder().encode($0, special: .text, into: &tokens) }
            ids = tokens
        }
        let out = ByteSink.standardOutput()
        // Progress on a terminal, unless stdout is that terminal too (then the running estimates are the progress).
        let progress = Progress(enabled: isatty(2) != 0 && (json || isatty(1) == 0))
        if klDivergence, let path = klDivergenceBase {
            let base = try KLDivergenceBaseReader(path: path)
            let run = try KLDivergenceRun(base: base, model: loaded, context: ctxSize, textTokens: ids, options: options)
            let result = try run.run(model: loaded) { step, line in
                progress.show(step)
                guard !json else { return }
                if step.chunksDone == 1 { try out.write(PerplexityReport.chunkTableTitle) }
                try out.write(PerplexityReport.chunkLine(line))
                try out.flush()
            }
            progress.end()
            try out.write(json ? PerplexityReport.json(result, model: model, base: path).rendered() + "\n"
                : PerplexityReport.summary(result.summary))
        } else {
            let run: PerplexityRun
            do { run = try PerplexityRun(tokens: ids ?? [], options: options) } catch {
                throw CLIError("\(file ?? ""): \(error.description)")
            }
            let writer = try klDivergenceBase.map {
                try KLDivergenceBaseWriter(path: $0, header: run.baseHeader(vocabulary: loaded.shape.vocabSize), tokens: run.baseTokens)
            }
            let result = try run.run(model: loaded, base: writer) { step, estimate in
                progress.show(step)
                guard !json else { return }
                try out.write(PerplexityReport.runningEstimate(chunk: step.chunksDone, estimate))
                try out.flush()
            }
            progress.end()
            try out.write(json ? PerplexityReport.json(result, model: model, text: file ?? "", base: klDivergenceBase).rendered() + "\n"
                : "\n" + PerplexityReport.finalEstimate(result))
        }
        try out.close()
    }

    /// Chunks done, tokens/s and the time left, on stderr.
    final class Progress {
        let enabled: Bool
        init(enabled: Bool) { self.enabled = enabled }
        let started = monotonicNanoseconds()
        var shown = false

        func show(_ step: PerplexityProgress) {
            guard enabled else { return }
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            let rate = Double(step.chunksDone * step.context) / max(seconds, 1e-9)
            let eta = Double((step.chunkCount - step.chunksDone) * step.context) / max(rate, 1e-9)
            printError(raw: "\r\u{1b}[Kchunk \(step.chunksDone)/\(step.chunkCount)  \(ProgressReporter.fixed(rate, decimals: 1)) tokens/s  "
                + "\(ProgressReporter.formatDuration(seconds))  ETA \(ProgressReporter.formatDuration(eta))")
            shown = true
        }

        func end() { if shown { printError(raw: "\n") } }
    }
}
