import ArgumentParser
import QwenKitIO
import QwenTokenizer

struct CountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count tokens, bytes and characters, and bytes per token (compression).",
        discussion: """
            Counts each input and, with several, the total. Characters are Unicode scalars of the \
            input as given; bytes are its UTF-8 bytes (after .zst or .gz decompression).

            Examples:
              qwenkit count README.md
              qwenkit count --json --jsonl text shard-*.jsonl.zst
            """
    )

    @OptionGroup var tokenizerOptions: TokenizerOptions
    @OptionGroup var framingOptions: FramingOptions

    @Flag(name: .long, help: "Print one JSON document instead of a table.")
    var json = false

    @Argument(help: ArgumentHelp("Input files (- for stdin; default: stdin).", valueName: "file"), completion: .file())
    var files: [String] = []

    func run() throws {
        let tokenizer = try tokenizerOptions.load()
        let inputs = files.isEmpty ? ["-"] : files
        let counter = TokenCounter(inputs: inputs.count)
        try runCorpus(inputs: inputs, framing: framingOptions, options: framingOptions.encodingOptions(), tokenizer: tokenizer, consumer: counter,
                      label: "count")
        var total = TokenCounter.Counts()
        for c in counter.perInput {
            total.tokens += c.tokens
            total.bytes += c.bytes
            total.characters += c.characters
            total.documents += c.documents
        }
        let names = inputs.map { $0 == "-" ? "<stdin>" : $0 }
        let out = ByteSink.standardOutput()
        if json {
            func object(_ c: TokenCounter.Counts) -> String {
                let ratio = c.tokens > 0 ? formatRatio(Double(c.bytes) / Double(c.tokens)) : "null"
                return "\"tokens\":\(c.tokens),\"bytes\":\(c.bytes),\"characters\":\(c.characters),\"documents\":\(c.documents),\"bytes_per_token\":\(ratio)"
            }
            var text = "{\"inputs\":["
            for (i, c) in counter.perInput.enumerated() {
                var name: [UInt8] = []
                Array(names[i].utf8).withUnsafeBufferPointer { JSONString.appendQuoted($0, to: &name) }
                text += (i > 0 ? "," : "") + "{\"name\":" + String(decoding: name, as: UTF8.self) + "," + object(c) + "}"
            }
            text += "],\"total\":{" + object(total) + "}}\n"
            try out.write(text)
        } else {
            var rows = [["tokens", "bytes", "chars", "bytes/token", "input"]]
            func row(_ c: TokenCounter.Counts, _ name: String) -> [String] {
                [String(c.tokens), String(c.bytes), String(c.characters),
                 c.tokens > 0 ? formatRatio(Double(c.bytes) / Double(c.tokens)) : "-", name]
            }
            for (i, c) in counter.perInput.enumerated() { rows.append(row(c, names[i])) }
            if inputs.count > 1 { rows.append(row(total, "total")) }
            let widths = (0..<4).map { col in rows.map { $0[col].count }.max()! }
            for r in rows {
                var line = ""
                for col in 0..<4 { line += String(repeating: " ", count: widths[col] - r[col].count) + r[col] + "  " }
                try out.write(line + r[4] + "\n")
            }
        }
        try out.close()
    }
}

func formatRatio(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return String(scaled)
}
