import ArgumentParser
import QwenKitIO
import QwenTokenizer

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Turn Qwen2 token ids back into text.",
        discussion: """
            Input is what `qwenkit encode` writes: --format text (one document per line of \
            space-separated ids), jsonl (an "ids" array per record) or u32 (a little-endian uint32 \
            stream, one document). The records of encode --max-tokens N --chunk are joined back into \
            their documents: text lines "[input<TAB>]document<TAB>ids" with the same index, JSONL \
            records with "doc" and "chunk" (chunk 0, 1, 2, ...); records out of order are refused. \
            Each text or JSONL document is followed by a newline unless --no-newline. Bytes that are \
            not valid UTF-8 become U+FFFD, as Hugging Face decodes them.

            Examples:
              echo '9707 11 1879 0' | qwenkit decode
              qwenkit decode --format u32 train.u32 | head
              my-generator | qwenkit decode --stream
            """
    )

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(name: .long, help: ArgumentHelp("Input format: text, jsonl or u32.", valueName: "format"))
    var format: IDInputFormat = .text

    @Flag(name: .long, help: "Leave out special tokens (<|endoftext|>, <|im_start|>, <|im_end|>).")
    var skipSpecial = false

    @Flag(name: .long, help: "Write each document's text with no newline after it.")
    var noNewline = false

    @Flag(name: .long, help: "Write text as ids arrive (flush after every read), never splitting a character.")
    var stream = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE instead of stdout (FILE.zst is compressed).", valueName: "file"), completion: .file())
    var output: String = "-"

    @Argument(help: ArgumentHelp("Input files (- for stdin; default: stdin).", valueName: "file"), completion: .file())
    var files: [String] = []

    func run() throws {
        let tokenizer = try tokenizerOptions.load()
        let sink = try openOutput(path: output)
        let decoder = TextDecoder(tokenizer: tokenizer, sink: sink, skipSpecial: skipSpecial)
        let reader = IDReader(format: format, stream: stream)
        // Read once: a property wrapper's getter costs a generic metadata lookup, too much once per document.
        let newline = !noNewline && format != .u32
        for path in files.isEmpty ? ["-"] : files {
            let source = try openInput(path: path)
            try reader.read(source) { event in
                switch event {
                case .ids(let run):
                    try decoder.append(run, newline: newline)
                case .endDocument:
                    try decoder.endDocument(newline: newline)
                case .flush:
                    try decoder.emit(final: false)
                    try sink.flush()
                }
            }
        }
        try decoder.emit(final: true)
        try sink.close()
    }
}
