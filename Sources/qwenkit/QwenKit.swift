import ArgumentParser

@main
struct QwenKit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qwenkit",
        abstract: "Tokenize, convert, quantize, inspect and verify Qwen2 models.",
        version: qwenkitVersion,
        subcommands: [TokenizerCommand.self]
    )
}

let qwenkitVersion = "0.1.0"
