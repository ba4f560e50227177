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

    @Option(name: .long, help: ArgumentHelp("Read JSONL and tokenize the string field FIELD of each record (a dotted path such as meta.text reaches into nested objects).", valueName: "field"))
    var jsonl: String?

    @Option(name: .long, help: ArgumentHelp("Read parquet files and tokenize the string column COLUMN of each row (a null is a bad record).", valueName: "column"))
    var parquet: String?

    @Option(name: .long, help: ArgumentHelp("What to do with special-token text in the input: parse (into its id), text (tokenize as text) or reject (fail).", valueName: "mode"))
    var special: SpecialTokenPolicy = .parse

    @Option(name: .long, help: ArgumentHelp("Invalid UTF-8 in the input: error (fail, naming the byte offset) or replace (U+FFFD, as Python's errors=\"replace\").", valueName: "mode"))
    var invalid: InvalidUTF8Policy = .error

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Threads to encode with (default: all cores).", valueName: "n"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("A record that cannot be read (not a JSON object, no such field, a non-string or null one, not UTF-8 under --invalid error): fail (the run stops, naming it) or skip (listed on stderr, the first ten and a count).", valueName: "mode"))
    var badRecords: BadRecordMode = .fail

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --bad-records skip, fail once more than N records were skipped.", valueName: "n"))
    var maxBadRecords: Int?

    func validate() throws {
        if [lines, jsonl != nil, parquet != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--lines, --jsonl and --parquet cannot be used together")
        }
        if let parquet, parquet.isEmpty { throw ValidationError("--parquet needs a column name") }
        try validateThreads(threads)
        if let jsonl, jsonl.isEmpty || jsonl.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            throw ValidationError(jsonl.isEmpty ? "--jsonl needs a field name" : "--jsonl \(jsonl): a dotted path needs a name between every two dots")
        }
        if let maxBadRecords {
            if maxBadRecords < 0 { throw ValidationError("--max-bad-records must be 0 or more") }
            if badRecords != .skip { throw ValidationError("--max-bad-records needs --bad-records skip") }
        }
        if badRecords == .skip && !lines && jsonl == nil && parquet == nil {
            throw ValidationError("--bad-records skip needs records: --lines, --jsonl or --parquet (a whole file is one document)")
        }
    }

    var framing: DocumentFraming {
        if lines { return .lines }
        if let jsonl { return .jsonl(field: jsonl) }
        if parquet != nil { return .records }
        return .whole
    }

    func encodingOptions() -> CorpusEncodingOptions {
        var o = CorpusEncodingOptions()
        o.framing = framing
        o.special = special
        o.invalid = invalid
        o.threads = threadCount(threads)
        o.badRecords = badRecords == .skip ? .skip(limit: maxBadRecords) : .fail
        return o
    }
}

/// `--bad-records`.
enum BadRecordMode: String, ExpressibleByArgument, CaseIterable {
    case fail, skip
}

extension SpecialTokenPolicy: ExpressibleByArgument {}
extension InvalidUTF8Policy: ExpressibleByArgument {}
extension TokenOutputFormat: ExpressibleByArgument {}
extension PackMode: ExpressibleByArgument {}
