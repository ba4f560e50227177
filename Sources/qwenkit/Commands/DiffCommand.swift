#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import ModelComparison
import ModelInspection
import QwenKitIO

struct DiffCommand: ParsableCommand, AnswersWithExitStatus {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two models tensor by tensor, across formats, and two GGUF files' metadata.",
        discussion: """
            Tensors are matched by name. An HF checkpoint (directory, safetensors file or index) against a \
            GGUF file is matched through the names convert writes, a layer's experts stacked as GGUF stacks \
            them (tensors convert leaves out, such as rotary caches, are left out here too). Reports tensors only in one model, shape and type changes, and, after dequantizing both to \
            float32, the max abs error, RMSE and cosine similarity of each pair, worst first (by max abs \
            error). Shapes are outermost first (GGUF ne reversed). For two GGUF files it also lists the \
            metadata keys added, removed and changed; those never fail the comparison.

            Without --tolerance any difference in value fails; a changed type alone does not (an F32 \
            conversion of a BF16 checkpoint is equal to it). NaN equals NaN and an infinity itself; a \
            NaN or infinity against anything else exceeds every tolerance.

            Exit status (as cmp's): 0 when every tensor is in both models with the same shape and within \
            the tolerance; 1 when one is missing, misshapen, not comparable or over the tolerance; 2 when \
            an input cannot be read, or for a usage error.

            Examples:
              qwenkit diff ./Qwen2-0.5B qwen2-0.5b-f32.gguf
              qwenkit diff --tolerance 0.01 ./Qwen2-0.5B qwen2-0.5b-q8_0.gguf
              qwenkit diff --tensor 'blk.0.*' old.gguf new.gguf
              qwenkit diff --json a.gguf b.gguf | jq '.tensors[0]'
            """
    )

    @Argument(help: ArgumentHelp("The first model: a .gguf or .safetensors file, a model.safetensors.index.json, or an HF model directory.",
                                 valueName: "a"),
              completion: .file())
    var a: String

    @Argument(help: ArgumentHelp("The second model, in any of the same forms.", valueName: "b"), completion: .file())
    var b: String

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The largest max abs error a tensor may have and pass (default 0: values must be equal).",
                                            valueName: "x"))
    var tolerance: Double?

    @Option(name: .long, help: ArgumentHelp("Only tensors whose name (either model's) matches this glob (repeatable).",
                                            valueName: "glob"))
    var tensor: [String] = []

    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Threads to compare with (default: all cores).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let tolerance, !tolerance.isFinite || tolerance < 0 { throw ValidationError("--tolerance must be a number, 0 or more") }
        try validateThreads(threads)
    }

    func run() throws {
        let modelA = try InspectedModel(path: a)
        let modelB = try InspectedModel(path: b)
        let plan = ModelDiff.Plan(modelA, modelB, tolerance: tolerance ?? 0, patterns: tensor)
        if plan.pairs.isEmpty && !tensor.isEmpty {
            throw CLIError("no tensor matches \(tensor.map { "'\($0)'" }.joined(separator: " or ")) (of \(plan.unfilteredCount))")
        }
        let progress = ProgressReporter(total: Int64(plan.bytesToRead), label: "diff")
        let diff = ModelDiff(plan, threads: threadCount(threads), progress: progress)
        progress.finish()

        let out = ByteSink.standardOutput()
        try out.write(json ? diff.json().rendered() + "\n" : diff.text())
        try out.close()
        if !diff.passed { throw ExitStatus.failure.exitCode }
    }
}
