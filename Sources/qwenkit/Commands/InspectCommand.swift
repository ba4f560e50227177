#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import ModelFiles
import ModelInspection
import QwenKitIO

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what is inside a GGUF file, a safetensors file or an HF model directory.",
        discussion: """
            The summary (format, architecture, hyperparameters, tokenizer, parameter count, bytes by \
            tensor type, every metadata key) reads headers only. With --tensors, --tensor or --stats, \
            text output shows the first line of the summary and the tables; --json always has it all. GGUF shapes are ggml's dims, innermost \
            first; safetensors shapes are PyTorch's, outermost first. Offsets are byte offsets in the file.

            Examples:
              qwenkit inspect model.gguf
              qwenkit inspect --tensor 'blk.0.*' model.gguf
              qwenkit inspect --stats --tensor '*norm*' ./Qwen2-0.5B
              qwenkit inspect --json model.safetensors.index.json | jq .parameter_count
            """
    )

    @Argument(help: ArgumentHelp("A .gguf or .safetensors file, a model.safetensors.index.json, or an HF model directory.",
                                 valueName: "file|dir"),
              completion: .file())
    var path: String

    @Flag(name: .long, help: "List every tensor: name, type, shape, bytes, offset.")
    var tensors = false

    @Option(name: .long, help: ArgumentHelp("Only tensors whose name matches this glob (repeatable); implies --tensors unless --stats.",
                                            valueName: "glob"))
    var tensor: [String] = []

    @Flag(name: .long, help: "Per-tensor min, max, mean, std, NaN and Inf counts (reads all the data).")
    var stats = false

    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false

    @Flag(name: .long, help: "Show long metadata arrays (tokens, merges) whole instead of their first items.")
    var full = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Threads for --stats (default: all cores).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        try validateThreads(threads)
    }

    func run() throws {
        let model = try InspectedModel(path: path)
        let summary = ModelSummary(model, full: full)
        var selected = model.tensors
        if !tensor.isEmpty {
            selected = selected.filter { t in tensor.contains { globMatches($0, t.name) } }
            guard !selected.isEmpty else {
                throw CLIError("\(path): no tensor matches \(tensor.map { "'\($0)'" }.joined(separator: " or ")) (of \(model.tensors.count))")
            }
        }
        let showTable = tensors || (!tensor.isEmpty && !stats)
        var statistics: [TensorStatistics?] = []
        if stats {
            let total = selected.reduce(0) { $0 + $1.byteCount }
            let progress = ProgressReporter(total: Int64(total), label: "stats")
            statistics = TensorStatisticsCalculator.compute(
                selected, threads: threadCount(threads), progress: progress)
            progress.finish()
        }

        let out = ByteSink.standardOutput()
        if json {
            var document = summary.json()
            if showTable { document.append(("tensors", TensorTable.json(selected))) }
            if stats { document.append(("statistics", StatisticsTable.json(selected, statistics))) }
            try out.write(JSONOutput.object(document).rendered() + "\n")
        } else {
            // The summary alone by default; with a table asked for, its headline and the table(s).
            try out.write(showTable || stats ? summary.headline() + "\n" : summary.text())
            let order = summary.format == "GGUF" ? "(ne)" : ""
            if showTable { try out.write("\n" + TensorTable.text(selected, shapeOrder: order)) }
            if stats { try out.write("\n" + StatisticsTable.text(selected, statistics)) }
        }
        try out.close()
    }
}
