import ArgumentParser
import QwenTokenizer
import TrainingData

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--tokenizer`, shared by every command that tokenizes.
struct TokenizerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "tokenizer.json, a compact .qtok, or a model directory (default: the embedded Qwen2 tokenizer).",
        valueName: "path"), completion: .file())
    var tokenizer: String?

    func load() throws -> Tokenizer {
        if let tokenizer { return try Tokenizer.load(path: tokenizer) }
        return try Tokenizer.embeddedQwen2()
    }
}

/// How input streams become documents, shared by encode and count.
struct FramingOptions: ParsableArguments {
    @Flag(name: .long, help: "Treat each line as a document (a trailing \\r is removed).")
    var lines = false

    @Option(name: .long, help: ArgumentHelp("Read JSONL and tokenize the string field FIELD of each record.", valueName: "field"))
    var jsonl: String?

    @Option(name: .long, help: ArgumentHelp("What to do with special-token text in the input: parse (into its id), text (tokenize as text) or reject (fail).", valueName: "mode"))
    var special: SpecialTokenPolicy = .parse

    @Option(name: .long, help: ArgumentHelp("Invalid UTF-8 in the input: error (fail, naming the byte offset) or replace (U+FFFD, as Python's errors=\"replace\").", valueName: "mode"))
    var invalid: InvalidUTF8Policy = .error

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Threads to encode with (default: all cores).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if lines && jsonl != nil { throw ValidationError("--lines and --jsonl cannot be used together") }
        try validateThreads(threads)
        if let jsonl, jsonl.isEmpty { throw ValidationError("--jsonl needs a field name") }
    }

    var framing: DocumentFraming {
        if lines { return .lines }
        if let jsonl { return .jsonl(field: jsonl) }
        return .whole
    }

    func encodingOptions() -> CorpusEncodingOptions {
        var o = CorpusEncodingOptions()
        o.framing = framing
        o.special = special
        o.invalid = invalid
        o.threads = threadCount(threads)
        return o
    }
}

extension SpecialTokenPolicy: ExpressibleByArgument {}
extension InvalidUTF8Policy: ExpressibleByArgument {}
extension TokenOutputFormat: ExpressibleByArgument {}
extension IDInputFormat: ExpressibleByArgument {}
