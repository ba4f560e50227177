import ArgumentParser
import QwenKitIO
import QwenTokenizer
import TrainingData

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Turn Qwen2 token ids back into text.",
        discussion: """
            Input is what `qwenkit encode` writes: --format text (one document per line of \
            space-separated ids), jsonl (an "ids" array per record), u32 (a little-endian uint32 \
            stream, one document), npy (a uint32 array, read as u32) or megatron (a dataset named by \
            its prefix, .bin or .idx: one document per line). The records of encode --max-tokens N --chunk are joined back into \
            their documents: text lines "[input<TAB>]document<TAB>ids" with the same index, JSONL \
            records with "doc" and "chunk" (chunk 0, 1, 2, ...); records out of order are refused. \
            Each text or JSONL document is followed by a newline unless --no-newline. Bytes that are \
            not valid UTF-8 become U+FFFD, as Hugging Face decodes them.

            Examples:
              echo '9707 11 1879 0' | qwenkit decode
              qwenkit decode --format u32 train.u32 | head
              qwenkit decode --format megatron train_text_document | head -3
              my-generator | qwenkit decode --stream
            """
    )

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(name: .long, help: ArgumentHelp("Input format: text, jsonl, u32, npy or megatron.", valueName: "format"))
    var format: DecodeFormat = .text

    @Flag(name: .long, help: "Leave out special tokens (<|endoftext|>, <|im_start|>, <|im_end|>).")
    var skipSpecial = false

    @Flag(name: .long, help: "Write each document's text with no newline after it.")
    var noNewline = false

    @Flag(name: .long, help: "Write text as ids arrive (flush after every read), never splitting a character.")
    var stream = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE instead of stdout (FILE.zst or FILE.gz is compressed).", valueName: "file"), completion: .file())
    var output: String = "-"

    @Argument(help: ArgumentHelp("Input files (- for stdin; default: stdin).", valueName: "file"), completion: .file())
    var files: [String] = []

    func run() throws {
        let tokenizer = try tokenizerOptions.load()
        let sink = try openOutput(path: output)
        let decoder = TextDecoder(tokenizer: tokenizer, sink: sink, skipSpecial: skipSpecial)
        let paths = files.isEmpty ? ["-"] : files
        if format == .megatron {
            for path in paths {
                if path == "-" { throw ValidationError("--format megatron reads a dataset by its prefix, not stdin") }
                let dataset = try MegatronDataset(prefix: path)
                try dataset.forEachDocument { ids, first in
                    try decoder.append(ids) { "token \(first + $0) of \(dataset.binPath)" }
                    try decoder.endDocument(newline: !noNewline)
                }
            }
            try decoder.emit(final: true)
            try sink.close()
            return
        }
        let reader = IDReader(format: format.idInputFormat, stream: stream)
        // Read once: a property wrapper's getter costs a generic metadata lookup, too much once per document.
        let newline = !noNewline && format != .u32 && format != .npy
        for path in paths {
            if format == .npy && path == "-" { throw ValidationError("--format npy reads files, not stdin") }
            let source = try openInput(path: path)
            if format == .npy {
                let header = try NpyHeader(path: path)
                let skip = UnsafeMutableRawBufferPointer.allocate(byteCount: header.dataOffset, alignment: 8)
                defer { skip.deallocate() }
                _ = try source.readFull(into: skip)
            }
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

/// `decode --format`: the id formats the decoder parses (IDInputFormat), and the files encode writes beside them.
enum DecodeFormat: String, ExpressibleByArgument, CaseIterable {
    case text, jsonl, u32, npy, megatron

    /// The parser for the formats read as a stream of ids (npy after its header).
    var idInputFormat: IDInputFormat {
        switch self {
        case .text: .text
        case .jsonl: .jsonl
        case .u32, .npy, .megatron: .u32
        }
    }
}
