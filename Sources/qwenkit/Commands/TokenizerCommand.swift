import ArgumentParser
import QwenKitIO
import QwenTokenizer

struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizer files: compile one to the compact form qwenkit embeds.",
        discussion: """
            Example:
              qwenkit tokenizer compile path/to/model-dir -o model.qtok.zst
              qwenkit encode --tokenizer model.qtok.zst corpus.txt
            """,
        subcommands: [Compile.self]
    )

    struct Compile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compile a tokenizer (tokenizer.json or a model directory) to qwenkit's compact form.",
            discussion: """
                Reads tokenizer.json, or vocab.json + merges.txt + tokenizer_config.json from a directory, \
                and writes the compact form, which loads in milliseconds (--tokenizer accepts it).

                Example:
                  qwenkit tokenizer compile Fixtures/tokenizers/qwen2 -o qwen2.qtok.zst
                """
        )
        @Argument(help: "tokenizer.json (optionally .zst) or a model directory.")
        var input: String
        @Option(name: .shortAndLong, help: "Output file; a name ending in .zst is compressed.")
        var output: String

        func run() throws {
            let tokenizer = try Tokenizer.load(path: input)
            var data = tokenizer.compactForm()
            if output.hasSuffix(".zst") {
                data = try data.withUnsafeBytes { try ZstdFrame.compress($0, level: 19) }
            }
            try writeFileAtomically(output, data)
        }
    }
}
