import ArgumentParser
import Conversion
import ModelFiles
import QwenKitIO

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a Hugging Face Qwen2 or Qwen2-MoE checkpoint to GGUF for llama.cpp.",
        discussion: """
            Writes what llama.cpp's convert_hf_to_gguf.py writes for the same checkpoint and --outtype: \
            the same metadata, tokenizer, tensor names, shapes, types and bytes. Norms, biases and MoE \
            routers stay F32; with q8_0 a tensor whose rows are not a multiple of 32 is written as F16 \
            (listed on stderr). Tensors are converted one at a time from the memory-mapped checkpoint.

            Examples:
              qwenkit convert ./Qwen2-0.5B-Instruct -o qwen2-0.5b-instruct-f16.gguf
              qwenkit convert ./Qwen2-7B --outtype q8_0 -o qwen2-7b-q8_0.gguf
              qwenkit convert ./Qwen2-0.5B --vocab-only -o vocab.gguf
            """
    )

    @Argument(help: ArgumentHelp("The HF model directory (config.json, safetensors, tokenizer files).", valueName: "model-dir"),
              completion: .directory)
    var model: String

    @Option(name: [.short, .long], help: ArgumentHelp("The GGUF file to write.", valueName: "file"), completion: .file())
    var output: String

    @Option(name: .long, help: ArgumentHelp("Type of the weight matrices: f32, f16, bf16, q8_0, or auto (the checkpoint's F16 or BF16).",
                                            valueName: "type"))
    var outtype: ConversionOutputType = .auto

    @Flag(name: .long, help: "Write only the tokenizer and hyperparameters, no tensors.")
    var vocabOnly = false

    @Flag(name: [.short, .long], help: "No summary on stderr.")
    var quiet = false

    func run() throws {
        let plan = try ConversionPlan(path: model, outputType: outtype, vocabOnly: vocabOnly)
        if !quiet {
            for t in plan.tensors {
                if case .rowNotWholeBlocks(let row, let block) = t.reason {
                    printError(raw: "note: \(t.name): rows of \(row) are not a multiple of \(block), written as \(t.type.name)\n")
                }
            }
        }
        let progress = ProgressReporter(total: Int64(plan.tensorBytes), label: "convert")
        let written = try Converter.write(plan, to: output, progress: progress)
        if !quiet {
            let arch = plan.hyperparameters.architecture.rawValue
            printError(raw: "\(output): \(arch), \(plan.outputType.fileType.name), \(plan.tensors.count) tensors, "
                + "\(ProgressReporter.formatBytes(Int64(written))) of tensor data, \(plan.metadata.count) metadata keys\n")
        }
    }
}

extension ConversionOutputType: ExpressibleByArgument {}
