import ArgumentParser
import QwenKitIO
import TrainingData

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join encode outputs (shards) in the order given.",
        discussion: """
            Megatron datasets (each named by its prefix, or its .bin or .idx) are joined into -o PREFIX: \
            the .bin files concatenated and the index rebuilt, as Megatron-LM's merge_datasets.py does. \
            Other outputs (text, jsonl, u32) are concatenated; .zst and .gz inputs are decompressed, and \
            -o FILE.zst or FILE.gz compresses. Memory does not depend on the inputs' size.

            Examples:
              qwenkit merge -o train_text_document shard-0 shard-1 shard-2
              qwenkit merge -o ids.jsonl.zst shard-*.jsonl.zst
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("The merged output (a prefix for Megatron datasets; - for stdout otherwise).", valueName: "file"),
            completion: .file())
    var output: String

    @Argument(help: ArgumentHelp("The outputs to join, in order.", valueName: "input"), completion: .file())
    var inputs: [String]

    func run() throws {
        if let prefixes = try DatasetMerge.megatronPrefixes(inputs) {
            if output == "-" || output.hasSuffix(".zst") {
                throw ValidationError("Megatron datasets merge into PREFIX.bin and PREFIX.idx: give -o PREFIX (uncompressed)")
            }
            let progress = ProgressReporter(total: totalSize(prefixes.map { MegatronLayout.paths(prefix: $0).bin }), label: "merge")
            defer { progress.finish() }
            _ = try DatasetMerge.mergeMegatron(prefixes: prefixes, output: output, progress: progress)
        } else {
            let progress = ProgressReporter(total: nil, label: "merge")
            defer { progress.finish() }
            _ = try DatasetMerge.concatenate(inputs: inputs, output: output, progress: progress)
        }
    }

    private func totalSize(_ paths: [String]) -> Int64? {
        var total: Int64 = 0
        for path in paths {
            guard let size = try? FileDescriptorSource(path: path).inputSize else { return nil }
            total += size
        }
        return total
    }
}
