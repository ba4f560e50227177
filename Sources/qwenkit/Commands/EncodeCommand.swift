import ArgumentParser
import QwenKitIO
import QwenTokenizer
import TrainingData

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Turn text into Qwen2 token ids.",
        discussion: """
            Each input file (or stdin) is one document unless --lines, --jsonl or --parquet says otherwise; output \
            keeps the input order whatever the thread count. Inputs ending in .zst or .gz are decompressed, \
            and -o FILE.zst or FILE.gz compresses.

            Examples:
              echo 'Hello, world!' | qwenkit encode
              qwenkit encode --lines --format jsonl corpus.txt.zst -o ids.jsonl
              qwenkit encode --jsonl text --format u32 --eod 151643 data.jsonl -o train.u32
              qwenkit encode --max-tokens 512 --chunk --format jsonl book.txt
              qwenkit encode --jsonl text --format megatron --eod 151643 data.jsonl -o train_text_document
              qwenkit encode --parquet text --format npy --pack 4096 --eod 151643 train-*.parquet -o train.npy
              qwenkit encode --shard 3/64 --skip-existing --jsonl text --format megatron data/*.jsonl.gz -o out/shard-0003
            """
    )

    @OptionGroup var tokenizerOptions: TokenizerOptions
    @OptionGroup var framingOptions: FramingOptions

    @Option(name: .long, help: ArgumentHelp("Output format: text (ids per line), jsonl ({\"ids\":[...]}), u32 (little-endian uint32 stream), npy (a numpy array of uint32), pieces (token texts) or megatron (PREFIX.bin and PREFIX.idx, a Megatron indexed dataset; -o names the prefix).", valueName: "format"))
    var format: TokenOutputFormat = .text

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Append this id after each document (for example 151643, <|endoftext|>).", valueName: "id"))
    var eod: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --format u32 or npy: pack the documents (each with its --eod) into rows of N tokens, and write their boundaries beside the output (FILE.cu_seqlens.jsonl, a line per row).", valueName: "n"))
    var pack: Int?

    @Option(name: .long, help: ArgumentHelp("How --pack fills rows: concat (back to back, cut at row ends) or bfd (best-fit decreasing: whole documents, rows padded).", valueName: "mode"))
    var packMode: PackMode?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The id that pads packed rows (default: the --eod id).", valueName: "id"))
    var padId: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Limit documents to N tokens (with --truncate or --chunk; --eod counts).", valueName: "n"))
    var maxTokens: Int?

    @Flag(name: .long, help: "Cut each document to --max-tokens, report it on stderr and exit with status 3.")
    var truncate = false

    @Flag(name: .long, help: "Split each document into records of at most --max-tokens tokens, each with its document index.")
    var chunk = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE instead of stdout (FILE.zst or FILE.gz is compressed); with --format megatron, the prefix of the two files.", valueName: "file"), completion: .file())
    var output: String = "-"

    @Option(name: .long, help: ArgumentHelp("Encode only part K of N (0-based) of the inputs: their bytes split into N ranges at line boundaries (a compressed file, or a file that is one document, goes whole to one shard), so that N tasks cover every record once; `qwenkit merge` joins their outputs.", valueName: "k/n"))
    var shard: ShardSpec?

    @Flag(name: .long, help: "Do nothing (status 0) if the output is already there: outputs appear only when complete, so a re-run resumes a job.")
    var skipExisting = false

    @Argument(help: ArgumentHelp("Input files (- for stdin; default: stdin).", valueName: "file"), completion: .file())
    var files: [String] = []

    func validate() throws {
        if truncate && chunk { throw ValidationError("--truncate and --chunk cannot be used together") }
        if (truncate || chunk) && maxTokens == nil { throw ValidationError("--truncate and --chunk need --max-tokens") }
        if let maxTokens {
            if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
            if !truncate && !chunk { throw ValidationError("--max-tokens needs --truncate or --chunk") }
        }
        if chunk && (format == .u32 || format == .npy) {
            throw ValidationError("--chunk needs --format text, jsonl, pieces or megatron (\(format) has no records)")
        }
        if let pack {
            if format != .u32 && format != .npy { throw ValidationError("--pack needs --format u32 or npy") }
            if pack < 1 { throw ValidationError("--pack must be at least 1") }
            if chunk { throw ValidationError("--pack and --chunk cannot be used together") }
            if output == "-" { throw ValidationError("--pack needs -o FILE (the row boundaries go beside it)") }
            if eod == nil && padId == nil { throw ValidationError("--pack needs --pad-id or --eod (the id that pads rows)") }
        } else if packMode != nil || padId != nil {
            throw ValidationError("--pack-mode and --pad-id need --pack")
        }
        if format == .npy && (output == "-" || output.hasSuffix(".zst")) {
            throw ValidationError("--format npy needs -o FILE, uncompressed (its shape goes into the header at the end)")
        }
        if let shard {
            if files.isEmpty || files.contains("-") { throw ValidationError("--shard \(shard) needs input files (stdin cannot be split)") }
            if chunk && !format.writesPrefix {
                throw ValidationError("--shard with --chunk needs --format megatron (chunk records carry document numbers, which a shard does not know)")
            }
        }
        if skipExisting && output == "-" { throw ValidationError("--skip-existing needs -o") }
        if format.writesPrefix && (output == "-" || output.hasSuffix(".zst")) {
            throw ValidationError("--format \(format) writes PREFIX.bin and PREFIX.idx: give -o PREFIX (uncompressed)")
        }
    }

    func run() throws {
        if skipExisting, let existing = existingOutput() {
            printError("\(existing) exists; skipped (--skip-existing)")
            return
        }
        let tokenizer = try tokenizerOptions.load()
        let eod = try tokenID(self.eod, flag: "--eod", tokenizer)
        var options = framingOptions.encodingOptions()
        options.keepOtherFields = format == .jsonl
        let limit: LengthLimit = truncate ? .truncate(maxTokens!) : chunk ? .chunk(maxTokens!) : .none
        let inputs = files.isEmpty ? ["-"] : files
        let records: any TokenRecordWriter
        if format == .npy || pack != nil {
            let pad = try tokenID(padId, flag: "--pad-id", tokenizer) ?? eod
            records = try TokenArrayWriter(path: output, npy: format == .npy,
                                           packing: pack.map { Packing(rowLength: $0, mode: packMode ?? .concat, pad: pad!) })
        } else if format == .megatron {
            records = try MegatronDatasetWriter(prefix: output, dtype: .optimal(vocabularySize: tokenizer.vocabularySize))
        } else {
            records = StreamRecordWriter(sink: try openOutput(path: output), format: format, tokenizer: tokenizer,
                                         multipleInputs: inputs.count > 1)
        }
        let writer = TokenOutputWriter(records: records, limit: limit, eod: eod)
        let opened = try openCorpusInputs(inputs, framing: framingOptions, keepOtherFields: options.keepOtherFields, shard: shard)
        try runCorpus(inputs: opened, tokenizer: tokenizer, options: options, consumer: writer, label: "encode")
        try writer.finish()
        if writer.truncatedDocuments > 0 {
            printError("truncated \(writer.truncatedDocuments) of \(writer.documents) documents to \(maxTokens!) tokens")
            throw ExitStatus.truncated.exitCode
        }
    }

    /// --eod or --pad-id as an id: decimal digits are an id, anything else the text of one of the tokenizer's added
    /// tokens. Known only once the tokenizer is loaded; main() reports a bad one like the other flag errors.
    func tokenID(_ text: String?, flag: String, _ tokenizer: Tokenizer) throws -> UInt32? {
        guard let eod = text else { return nil }
        if !eod.isEmpty && eod.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            guard let id = UInt32(eod), Int(id) < tokenizer.vocabularySize else {
                throw ValidationError("\(flag) \(eod) is not a token id (the vocabulary has ids 0...\(tokenizer.vocabularySize - 1))")
            }
            return id
        }
        if let id = tokenizer.addedTokenID(eod) { return id }
        let known = tokenizer.addedTokens.prefix(5).map { String(decoding: $0.content, as: UTF8.self) }
        let more = tokenizer.addedTokens.count > known.count ? ", …" : ""
        throw ValidationError("\(flag) \(eod) is neither a token id nor an added token of this tokenizer ("
            + (known.isEmpty ? "it has no added tokens" : "its added tokens are " + known.joined(separator: ", ") + more) + ")")
    }
}

/// The output that --skip-existing finds complete: the file, or a Megatron dataset's index (written last).
extension EncodeCommand {
    func existingOutput() -> String? {
        let path = format.writesPrefix ? MegatronLayout.paths(prefix: output).idx : output
        guard isRegularFile(path), !format.writesPrefix || isRegularFile(MegatronLayout.paths(prefix: output).bin) else { return nil }
        return format.writesPrefix ? MegatronLayout.stripExtension(output) : output
    }
}

/// `--shard K/N`.
struct ShardSpec: ExpressibleByArgument, CustomStringConvertible {
    let index: Int
    let count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 1_000_000, k >= 0, k < n else { return nil }
        index = k
        count = n
    }

    var description: String { "\(index)/\(count)" }
    static var defaultCompletionKind: CompletionKind { .default }
}

/// The inputs as the corpus encoder takes them: streams (decompressed by name), or with --parquet the rows of parquet
/// files; with --shard only the shard's part of them (`InputShards`).
func openCorpusInputs(_ paths: [String], framing: FramingOptions, keepOtherFields: Bool, shard: ShardSpec? = nil) throws -> [CorpusInput] {
    func open(_ path: String, byteRange: Range<Int>?) throws -> CorpusInput {
        if let column = framing.parquet {
            return .records(try ParquetRecordSource(path: path, column: column, carryOthers: keepOtherFields, byteRange: byteRange,
                                                    label: shard.map { "shard \($0)" }))
        }
        if let byteRange, let shard {
            return .stream(try RecordRangeSource(path: path, begin: Int64(byteRange.lowerBound), end: Int64(byteRange.upperBound),
                                                 label: "shard \(shard)"))
        }
        return .stream(try openInput(path: path))
    }
    guard let shard else {
        if framing.parquet != nil, paths.contains("-") { throw ValidationError("--parquet needs files (a parquet file is read from its end)") }
        return try paths.map { try open($0, byteRange: nil) }
    }
    var planned: [InputShards.Input] = []
    for path in paths {
        let probe = try FileDescriptorSource(path: path)
        guard let size = probe.inputSize else { throw ValidationError("--shard needs regular files; \(path) is a pipe or device") }
        let compressed = framing.parquet == nil && (path.hasSuffix(".zst") || path.hasSuffix(".gz"))
        planned.append(InputShards.Input(path: path, size: size, splittable: framing.framing != .whole && !compressed))
    }
    return try InputShards.plan(planned, shard: shard.index, of: shard.count).map { input, part in
        switch part {
        case .whole: return try open(paths[input], byteRange: nil)
        case .records(let begin, let end): return try open(paths[input], byteRange: Int(begin)..<Int(end))
        }
    }
}

/// Opens every input, runs the corpus encoder over them with progress on a terminal.
func runCorpus(inputs: [String], framing: FramingOptions, options: CorpusEncodingOptions, tokenizer: Tokenizer, consumer: CorpusConsumer,
               label: String) throws {
    let opened = try openCorpusInputs(inputs, framing: framing, keepOtherFields: options.keepOtherFields)
    try runCorpus(inputs: opened, tokenizer: tokenizer, options: options, consumer: consumer, label: label)
}

/// Runs the corpus encoder over `inputs` with progress on a terminal.
func runCorpus(inputs: [CorpusInput], tokenizer: Tokenizer, options: CorpusEncodingOptions, consumer: CorpusConsumer, label: String) throws {
    var total: Int64? = 0
    for input in inputs {
        let size: Int64?
        switch input {
        case .stream(let s): size = s.inputSize
        case .records(let r): size = r.inputSize
        }
        if let size, let t = total { total = t + size } else { total = nil }
    }
    let progress = ProgressReporter(total: total, label: label)
    defer { progress.finish() }
    let encoder = CorpusEncoder(tokenizer: tokenizer, options: options)
    try encoder.run(inputs: inputs, progress: progress, consumer: consumer)
    let report = encoder.badRecordReport
    if report.count > 0 {
        progress.finish()
        for message in report.first { printError("skipped \(message)") }
        printError("skipped \(report.count) bad record\(report.count == 1 ? "" : "s")"
                   + (report.count > report.first.count ? " (the first \(report.first.count) listed)" : ""))
    }
}
