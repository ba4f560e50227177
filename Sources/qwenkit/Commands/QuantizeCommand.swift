import ArgumentParser
import ModelFiles
import Quantize
import QwenKitIO

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a GGUF model or an HF checkpoint as llama-quantize does.",
        discussion: """
            Writes what llama.cpp's llama-quantize writes for the same input and TYPE: the same per-tensor types \
            (the k-quant mixes, the output-tensor rule, the 8-expert rules, the row-size fallbacks), metadata, \
            tensor order and bytes (ggml's reference quantizers; no importance matrix). Norms, biases and routers \
            are copied. Tensors are streamed from the memory-mapped input; a summary goes to stderr.

            An HF model directory (Qwen2 or Qwen2-MoE, as `convert` reads it) is converted and quantized in one \
            pass: the output is the same file as `convert DIR --outtype f32` then `quantize` on that file, without \
            writing the float32 file.

            TYPE: \(QuantizeType.allCases.map(\.name).joined(separator: ", ")) (case-insensitive).

            Examples:
              qwenkit quantize qwen2-0.5b-f16.gguf qwen2-0.5b-q4_k_m.gguf Q4_K_M
              qwenkit quantize model-f16.gguf model-q8_0.gguf q8_0 --threads 8
              qwenkit quantize ./Qwen2-0.5B-Instruct qwen2-0.5b-instruct-q4_k_m.gguf Q4_K_M
              qwenkit quantize model-q8_0.gguf model-q4_0.gguf Q4_0 --allow-requantize
            """
    )

    @Argument(help: ArgumentHelp("The GGUF file, or HF model directory, to read.", valueName: "input"), completion: .file())
    var input: String

    @Argument(help: ArgumentHelp("The GGUF file to write.", valueName: "output"), completion: .file(extensions: ["gguf"]))
    var output: String

    @Argument(help: ArgumentHelp("The file type (Q4_K_M, Q8_0, F16, ...).", valueName: "type"))
    var type: String

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Encoding threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @Flag(name: .long, help: "Give every weight matrix the type's default type (no k-quant mix).")
    var pure = false

    @Option(name: .long, help: ArgumentHelp("Type of output.weight (and of a tied token_embd.weight).", valueName: "ggml-type"))
    var outputTensorType: String?

    @Option(name: .long, help: ArgumentHelp("Type of token_embd.weight.", valueName: "ggml-type"))
    var tokenEmbeddingType: String?

    @Flag(name: .long, help: "Dequantize tensors that are already quantized instead of refusing them.")
    var allowRequantize = false

    @Flag(name: .long, help: "Refuse a tensor whose rows do not fit its type instead of giving it another type.")
    var noFallback = false

    @Flag(name: [.short, .long], help: "No summary on stderr.")
    var quiet = false

    func validate() throws {
        guard QuantizeType(name: type) != nil else {
            throw ValidationError("unknown type '\(type)'; valid types: \(QuantizeType.allCases.map(\.name).joined(separator: ", "))")
        }
        try validateThreads(threads)
        for (flag, value) in [("--output-tensor-type", outputTensorType), ("--token-embedding-type", tokenEmbeddingType)] {
            if let value, Self.ggmlType(value) == nil {
                throw ValidationError("unknown \(flag) '\(value)'; valid: \(Self.tensorTypes.map(\.name).joined(separator: ", "))")
            }
        }
    }

    /// The ggml types a tensor can be written as here.
    static let tensorTypes: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    static func ggmlType(_ name: String) -> GGMLType? {
        tensorTypes.first { $0.name.lowercased() == name.lowercased() }
    }

    func run() throws {
        let quantizeType = QuantizeType(name: type)!
        var options = QuantizeOptions()
        options.pure = pure
        options.allowRequantize = allowRequantize
        options.noFallback = noFallback
        options.outputTensorType = outputTensorType.flatMap(Self.ggmlType)
        options.tokenEmbeddingType = tokenEmbeddingType.flatMap(Self.ggmlType)
        options.threads = threadCount(threads)
        let plan = HFModelDirectory.isDirectory(input)
            ? try QuantizePlan(checkpoint: input, type: quantizeType, options: options)
            : try QuantizePlan(path: input, type: quantizeType, options: options)
        let progress = ProgressReporter(total: Int64(plan.inputTensorBytes), label: "quantize")
        let written = try Quantizer.write(plan, to: output, progress: progress)
        if !quiet { printError(raw: QuantizeSummary.render(plan, outputPath: output, written: written)) }
    }
}

