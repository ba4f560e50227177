import ArgumentParser
import ModelFiles
import Quantize
import QwenKitIO
import Qwen2Runtime
import Verification

struct VerifyCommand: ParsableCommand, AnswersWithExitStatus {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a model's logits against golden ones (transformers' float32 forward pass).",
        discussion: """
            Runs each GOLDEN's tokens through MODEL (the reference forward pass, float32 activations) and \
            compares the logits position by position: max abs error, RMSE, cosine similarity, top-1 agreement, \
            top-5 overlap, mean and max KL(golden || ours), per golden and in total, and the worst positions. \
            Goldens are made by Fixtures/scripts/make_logit_goldens.py (full logits, or with --compact K the top \
            K and the log-sum-exp; KL is then a lower bound).

            Thresholds default by the model's weight type: a GGUF's general.file_type names it (Q4_K_M checks \
            against Q4_K, the type of most of its matrices), otherwise the type holding most weights (an HF \
            directory's dtype). F32, F16 and BF16 are held to rounding; quantized types to KL budgets and top-1 \
            agreement. --type uses another type's thresholds; the --max-*/--min-* flags override one limit.

            Exit status: 0 when every golden and the total are within the thresholds; 1 when one is not; 2 when \
            an input cannot be used (unreadable model or golden, vocabulary sizes that differ, a token out of \
            range, a golden longer than the model's context, NaN or infinity in the activations, an unsupported \
            architecture or weight type) or for a usage error.

            Examples:
              qwenkit verify qwen2-0.5b-q4_k_m.gguf paris.safetensors chat.safetensors
              qwenkit verify ./Qwen2-0.5B goldens/*.safetensors --max-abs-error 1e-4
              qwenkit verify model.gguf goldens/*.safetensors --json | jq .total
            """
    )

    @Argument(help: ArgumentHelp("A GGUF file or an HF model directory.", valueName: "model"), completion: .file())
    var model: String

    @Argument(help: ArgumentHelp("Golden logits files (safetensors, full or compact form).", valueName: "golden"),
              completion: .file(extensions: ["safetensors"]))
    var goldens: [String]

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @OptionGroup var memory: ModelMemoryFlags

    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Use the default thresholds of this weight type (Q4_K, Q4_K_M, F16, ...).", valueName: "type"))
    var type: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Largest |golden − ours| over all logits.", valueName: "x"))
    var maxAbsError: Double?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Smallest cosine similarity of all logits.", valueName: "x"))
    var minCosine: Double?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Smallest fraction of positions whose top-1 ids agree.", valueName: "x"))
    var minTop1: Double?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Smallest mean top-5 overlap (fraction).", valueName: "x"))
    var minTop5: Double?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Largest mean KL(golden || ours) per position, in nats.", valueName: "x"))
    var maxMeanKl: Double?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Largest KL at any position, in nats.", valueName: "x"))
    var maxKl: Double?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Worst positions to list.", valueName: "n"))
    var worst = 5

    func validate() throws {
        if goldens.isEmpty { throw ValidationError("give at least one golden logits file") }
        try validateThreads(threads)
        if worst < 0 { throw ValidationError("--worst must be at least 0") }
        if let type, Self.thresholdType(named: type) == nil {
            throw ValidationError("unknown weight type '\(type)'; give a ggml type (F32, F16, BF16, Q8_0, Q4_K, ...) or a quantize type (Q4_K_M, ...)")
        }
        for (flag, value) in [("--max-abs-error", maxAbsError), ("--max-mean-kl", maxMeanKl), ("--max-kl", maxKl)] {
            if let value, !(value.isFinite && value >= 0) { throw ValidationError("\(flag) must be a number, 0 or more") }
        }
        for (flag, value, low) in [("--min-cosine", minCosine, -1.0), ("--min-top1", minTop1, 0), ("--min-top5", minTop5, 0)] {
            if let value, !(value >= low && value <= 1) { throw ValidationError("\(flag) must be a number from \(Int(low)) to 1") }
        }
    }

    /// A ggml type name (`Q4_K`, `BF16`) or a quantize type name (`Q4_K_M`: its default type), case-insensitive.
    static func thresholdType(named name: String) -> GGMLType? {
        if let t = GGMLType.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) { return t }
        return QuantizeType(name: name)?.defaultType
    }

    /// The weight type whose thresholds apply, and the name the report shows (the file type's, e.g. Q4_K_M). A GGUF's `general.file_type`, when it is
    /// one qwenkit writes, gives its nominal type (llama.cpp's default type for the file type: Q4_K for Q4_K_M, as
    /// `quantize` uses it); otherwise (an HF directory, a GGUF without the key or with another file type) the type
    /// holding most of the weights by element count.
    static func weightType(of model: Qwen2Model) -> (type: GGMLType, label: String) {
        if let fileType = model.fileType, let q = QuantizeType.allCases.first(where: { $0.fileType == fileType }) {
            return (q.defaultType, q.name)
        }
        let dominant = model.dominantWeightType
        return (dominant, dominant.name)
    }

    func run() throws {
        let model = try Qwen2Model(path: self.model, residency: memory.residency)
        let shape = model.shape
        // Every golden is read and checked before any is run, so bad input fails fast and whole.
        let goldenFiles = try goldens.map { path throws -> GoldenLogits in
            let golden = try GoldenLogits(path: path)
            try golden.checkCompatible(modelVocabSize: shape.vocabSize)
            if golden.count > shape.contextLength {
                throw CLIError("\(path): \(golden.count) tokens, longer than the model's context length (\(shape.contextLength))")
            }
            return golden
        }
        let (type, label) = Self.weightType(of: model)
        var thresholds = VerificationThresholds.defaults(for: self.type.flatMap(Self.thresholdType(named:)) ?? type)
        if let maxAbsError { thresholds.maxAbsError = maxAbsError }
        if let minCosine { thresholds.minCosine = minCosine }
        if let minTop1 { thresholds.minTop1Agreement = minTop1 }
        if let minTop5 { thresholds.minTop5Overlap = minTop5 }
        if let maxMeanKl { thresholds.maxMeanKL = maxMeanKl }
        if let maxKl { thresholds.maxKL = maxKl }

        // One session sized to the longest golden, reset between goldens.
        let session = try InferenceSession(model: model, capacity: goldenFiles.map(\.count).max()!,
                                           threads: threadCount(threads))
        var comparisons: [GoldenComparison] = []
        for golden in goldenFiles {
            session.reset()
            var comparator = LogitComparator(golden: golden, worstCount: worst)
            try session.evaluate(golden.tokens, logits: .all) { position, row in
                try comparator.add(position: position, ours: row)
            }
            comparisons.append(try comparator.finish())
        }
        let report = VerificationReport(model: self.model, weightType: self.type?.uppercased() ?? label, thresholds: thresholds,
                                        comparisons: comparisons, worstCount: worst)
        let out = ByteSink.standardOutput()
        try out.write(json ? report.json().rendered() + "\n" : report.text())
        try out.close()
        if !report.passed { throw ExitStatus.failure.exitCode }
    }
}
