import ArgumentParser
import ImportanceMatrix
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

            Examples:
              qwenkit imatrix model-f16.gguf -f calibration.txt -o imatrix.gguf
              qwenkit imatrix ./Qwen2-0.5B -f text.txt -c 256 --chunks 100 -o imatrix.gguf
              qwenkit imatrix --in-file a.gguf --in-file b.dat -o combined.gguf
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

    @Option(name: [.short, .long], help: ArgumentHelp("The importance matrix to write.", valueName: "file"), completion: .file())
    var output = "imatrix.gguf"

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

    @Flag(name: .long, help: "Do not compute perplexity (qwenkit never does here; accepted for llama-imatrix's command lines).")
    var noPpl = false

    @Option(name: .long, help: ArgumentHelp("gguf (default) or dat (llama-imatrix's legacy layout).", valueName: "format"))
    var outputFormat: ImportanceMatrixFile.Format = .gguf

    @Option(name: [.customLong("output-frequency"), .customLong("ofreq", withSingleDash: true)], parsing: .unconditional,
            help: ArgumentHelp("Write the output every N chunks.", valueName: "n"))
    var outputFrequency = 10

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Also save a copy OUTPUT.at_N every N chunks (0: never).", valueName: "n"))
    var saveFrequency = 0

    @Option(name: .long, help: ArgumentHelp("Tokenizer to use instead of the model's own.", valueName: "path"), completion: .file())
    var tokenizer: String?

    @Option(name: [.customShort("t"), .long], parsing: .unconditional, help: ArgumentHelp("Threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    func validate() throws {
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
        // Earlier matrices first, as llama-imatrix loads them; without a text, their sum is the output.
        var start = ImportanceMatrix(chunkSize: ctxSize)
        for path in inFiles { try start.add(try ImportanceMatrixFile.read(path, chunkSize: ctxSize), from: path) }
        guard let file, let model else {
            try ImportanceMatrixFile.write(start, to: output, format: outputFormat)
            return
        }
        let loaded = try Qwen2Model(path: model)
        let tok = try loadModelTokenizer(loaded, override: tokenizer)
        let text = try openInput(path: file).readToEnd()
        var ids: [UInt32] = []
        try text.withUnsafeBufferPointer { try tok.makeEncoder().encode($0, special: .text, into: &ids) }

        var options = ImportanceMatrixRun.Options()
        options.chunkSize = ctxSize
        options.chunkLimit = chunks
        options.firstChunk = chunk
        options.includeOutput = processOutput
        options.threads = threadCount(threads)
        let run: ImportanceMatrixRun
        do { run = try ImportanceMatrixRun(tokens: ids, options: options) } catch {
            throw CLIError("\(file): \(error.description)")
        }
        let collector = ImportanceMatrixCollector(continuing: start, includeOutput: processOutput)
        collector.addDataset(file)
        let showProgress = isatty(2) != 0
        let started = monotonicNanoseconds()
        try run.run(model: loaded, collector: collector) { done in
            // Periodic writes count every chunk in the matrix, the loaded ones too (llama-imatrix's m_last_chunk).
            let total = collector.matrix.chunkCount
            if total % outputFrequency == 0 || done == run.chunkCount {
                try ImportanceMatrixFile.write(collector.matrix, to: output, format: outputFormat)
            }
            if saveFrequency > 0 && total % saveFrequency == 0 {
                try ImportanceMatrixFile.write(collector.matrix, to: output + ".at_\(total)", format: outputFormat)
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
    }
}

extension ImportanceMatrixFile.Format: ExpressibleByArgument {}
