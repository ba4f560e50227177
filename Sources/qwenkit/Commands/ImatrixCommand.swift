import ArgumentParser
import ImportanceMatrix
import Perplexity
import QwenKitIO
import QwenTokenizer
import Qwen2Runtime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ImatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imatrix",
        abstract: "Compute an importance matrix for quantization, as llama-imatrix does.",
        discussion: """
            Tokenizes TEXT with the model's tokenizer (special tokens as text, no BOS for Qwen2), cuts it \
            into chunks of --ctx-size tokens and runs each chunk from an empty cache through the float32 \
            forward pass, summing for every weight matrix of the layers (and output.weight with \
            --process-output) the squares of each input column over the tokens that reach it, and counting \
            those tokens; a MoE expert counts only the tokens routed to it. The output is llama-imatrix's \
            GGUF layout (or its legacy binary layout with --output-format dat), which `llama-quantize \
            --imatrix` reads. The text must hold at least two chunks.

            With --show-statistics it reads one matrix (--in-file; a dat file's values are scaled by -c, \
            as llama-imatrix loads them) and prints llama-imatrix's statistics tables: per weight Σ(Act²), \
            min, max, μ and σ of its mean squared activations, the share above 1e-5, their count, entropy, \
            the share more than one σ above μ (ZD) and the cosine similarity with the same weight one layer \
            down; then those averaged per layer. No model is read.

            Examples:
              qwenkit imatrix model-f16.gguf -f calibration.txt -o imatrix.gguf
              qwenkit imatrix ./Qwen2-0.5B -f text.txt -c 256 --chunks 100 -o imatrix.gguf
              qwenkit imatrix --in-file a.gguf --in-file b.dat -o combined.gguf
              qwenkit imatrix --show-statistics --in-file imatrix.gguf
            """
    )

    @Argument(help: ArgumentHelp("A GGUF file or an HF model directory (not needed to only combine --in-file matrices).",
                                 valueName: "model"), completion: .file())
    var model: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("The calibration text.", valueName: "text"),
            completion: .file())
    var file: String?

    @Option(name: .customLong("in-file"), help: ArgumentHelp("An earlier importance matrix (GGUF or dat) to add to (repeatable).",
                                                             valueName: "file"), completion: .file())
    var inFiles: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("The importance matrix to write (default: imatrix.gguf).", valueName: "file"),
            completion: .file())
    var output: String?

    /// The matrix to write: -o, or llama-imatrix's default.
    var outputPath: String { output ?? "imatrix.gguf" }

    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional,
            help: ArgumentHelp("Tokens per chunk.", valueName: "n"))
    var ctxSize = 512

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Process at most N chunks (default: all).", valueName: "n"))
    var chunks: Int?

    @Option(name: [.customLong("chunk"), .customLong("from-chunk")], parsing: .unconditional,
            help: ArgumentHelp("Skip the first N chunks.", valueName: "n"))
    var chunk = 0

    @Flag(name: .long, help: "Collect output.weight too.")
    var processOutput = false

    @Flag(name: .long, help: "Do not compute the running perplexity (printed on stdout otherwise, as llama-imatrix prints it).")
    var noPpl = false

    @Option(name: .long, help: ArgumentHelp("gguf (default) or dat (llama-imatrix's legacy layout).", valueName: "format"))
    var outputFormat: ImportanceMatrixFile.Format = .gguf

    @Option(name: [.customLong("output-frequency"), .customLong("ofreq", withSingleDash: true)], parsing: .unconditional,
            help: ArgumentHelp("Write the output every N chunks.", valueName: "n"))
    var outputFrequency = 10

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Also save a copy OUTPUT.at_N every N chunks (0: never).", valueName: "n"))
    var saveFrequency = 0

    @Flag(name: .long, help: "Print the statistics of the one --in-file matrix instead (llama-imatrix's tables).")
    var showStatistics = false

    @Flag(name: .long, help: "With --show-statistics: the figures as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Tokenizer to use instead of the model's own.", valueName: "path"), completion: .file())
    var tokenizer: String?

    @Option(name: [.customShort("t"), .long], parsing: .unconditional, help: ArgumentHelp("Threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @OptionGroup var memory: ModelMemoryFlags

    func validate() throws {
        if showStatistics {
            if inFiles.count != 1 { throw ValidationError("--show-statistics reads exactly one --in-file FILE (given \(inFiles.count))") }
            if file != nil { throw ValidationError("--show-statistics reads a matrix, not a text: drop -f") }
            if output != nil { throw ValidationError("--show-statistics prints to the standard output: drop -o") }
        } else if json {
            throw ValidationError("--json goes with --show-statistics")
        }
        if file == nil && inFiles.isEmpty {
            throw ValidationError("give a calibration text (-f TEXT), or importance matrices to combine (--in-file FILE)")
        }
        if file != nil && model == nil { throw ValidationError("-f needs the model to run: give MODEL") }
        if ctxSize < 1 { throw ValidationError("-c/--ctx-size must be at least 1") }
        if let chunks, chunks < 1 { throw ValidationError("--chunks must be at least 1") }
        if chunk < 0 { throw ValidationError("--chunk must be at least 0") }
        if outputFrequency < 1 { throw ValidationError("--output-frequency must be at least 1") }
        if saveFrequency < 0 { throw ValidationError("--save-frequency must be at least 0") }
        try validateThreads(threads)
    }

    func run() throws {
        if showStatistics { return try printStatistics(inFiles[0]) }
        let output = outputPath
        // Earlier matrices first, as llama-imatrix loads them; without a text, their sum is the output.
        var start = ImportanceMatrix(chunkSize: ctxSize)
        for path in inFiles { try start.add(try ImportanceMatrixFile.read(path, chunkSize: ctxSize), from: path) }
        guard let file, let model else {
            try ImportanceMatrixFile.write(start, to: output, format: outputFormat)
            return
        }
        let loaded = try Qwen2Model(path: model, residency: memory.residency)
        let tok = try loadModelTokenizer(loaded, override: tokenizer)
        let text = try openInput(path: file).readToEnd()
        var ids: [UInt32] = []
        try text.withUnsafeBufferPointer { try tok.makeEncoder().encode($0, special: .text, into: &ids) }

        var options = ImportanceMatrixRun.Options()
        options.chunkSize = ctxSize
        options.chunkLimit = chunks
        options.firstChunk = chunk
        options.includeOutput = processOutput
        options.computePerplexity = !noPpl
        options.threads = threadCount(threads)
        let run: ImportanceMatrixRun
        do { run = try ImportanceMatrixRun(tokens: ids, options: options) } catch {
            throw CLIError("\(file): \(error.description)")
        }
        let collector = ImportanceMatrixCollector(continuing: start, includeOutput: processOutput)
        collector.addDataset(file)
        let showProgress = isatty(2) != 0
        let started = monotonicNanoseconds()
        let out = ByteSink.standardOutput()
        let estimate = try run.run(model: loaded, collector: collector) { done, running in
            // Periodic writes count every chunk in the matrix, the loaded ones too (llama-imatrix's m_last_chunk).
            let total = collector.matrix.chunkCount
            if total % outputFrequency == 0 || done == run.chunkCount {
                try ImportanceMatrixFile.write(collector.matrix, to: output, format: outputFormat)
            }
            if saveFrequency > 0 && total % saveFrequency == 0 {
                try ImportanceMatrixFile.write(collector.matrix, to: output + ".at_\(total)", format: outputFormat)
            }
            if let running {
                if showProgress { printError(raw: "\r\u{1b}[K") }
                try out.write(PerplexityReport.runningEstimate(chunk: done, running))
                try out.flush()
            }
            if showProgress {
                let seconds = Double(monotonicNanoseconds() - started) / 1e9
                let rate = Double(done * ctxSize) / max(seconds, 1e-9)
                let eta = Double((run.chunkCount - done) * ctxSize) / max(rate, 1e-9)
                printError(raw: "\r\u{1b}[Kchunk \(done)/\(run.chunkCount)  \(ProgressReporter.fixed(rate, decimals: 1)) tokens/s  "
                    + "\(ProgressReporter.formatDuration(seconds))  ETA \(ProgressReporter.formatDuration(eta))")
            }
        }
        if showProgress { printError(raw: "\n") }
        if let estimate {
            let (ppl, error) = estimate.final
            try out.write("\n" + PerplexityReport.finalEstimate(perplexity: ppl, error: error))
        }
        try out.close()
    }

    /// llama-imatrix --show-statistics: the matrix loaded as it loads one (a dat file scaled by -c), its tables on
    /// stdout, a note on stderr for each weight without tokens (as llama-imatrix logs them).
    func printStatistics(_ path: String) throws {
        let matrix = try ImportanceMatrixFile.read(path, chunkSize: ctxSize)
        guard let statistics = ImportanceMatrixStatistics(matrix) else {
            throw CLIError("\(path): no weight has any tokens: cannot compute statistics")
        }
        for name in statistics.skipped { printError(terminalSafe("\(path): \(name): all counts are zero, no statistics")) }
        let out = ByteSink.standardOutput()
        try out.write(json ? statistics.json(path: path).rendered() + "\n" : statistics.rendered(path: path))
        try out.close()
    }
}

extension ImportanceMatrixFile.Format: ExpressibleByArgument {}
