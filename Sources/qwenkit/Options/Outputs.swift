// Which options of each command name files it writes: the root command claims them before the command runs.

/// A command that writes files: the root command claims `outputPaths` with `OutputGuard` before the command runs, so
/// an output that is the same file as an input is refused before anything is read or written.
protocol WritesOutputs {
    /// The output paths named on the command line (`-` and nil-valued options left out).
    var outputPaths: [String] { get }
}

extension QuantizeCommand: WritesOutputs {
    var outputPaths: [String] { outputPath.map { [$0] } ?? [] }
}

extension ConvertCommand: WritesOutputs {
    var outputPaths: [String] { [output] }
}

extension EditCommand: WritesOutputs {
    var outputPaths: [String] { output.map { [$0] } ?? [] }
}

extension RunCommand: WritesOutputs {
    var outputPaths: [String] { logits.map { [$0] } ?? [] }
}

extension TokenizerCommand.Compile: WritesOutputs {
    var outputPaths: [String] { [output] }
}

extension EncodeCommand: WritesOutputs {
    var outputPaths: [String] { [output] }
}

extension DecodeCommand: WritesOutputs {
    var outputPaths: [String] { [output] }
}

extension ImatrixCommand: WritesOutputs {
    // --show-statistics writes nothing (and may read the default output's name: --in-file imatrix.gguf).
    var outputPaths: [String] { showStatistics ? [] : [outputPath] }
}

extension PerplexityCommand: WritesOutputs {
    // --kl-divergence reads the base file; without it the base file is written.
    var outputPaths: [String] { klDivergence ? [] : klDivergenceBase.map { [$0] } ?? [] }
}
