// `encode --parquet`: the rows of a parquet file written by pyarrow, against Hugging Face's ids for each row
// (Fixtures/scripts/make_parquet_corpus_fixtures.py).

import Foundation
import Testing
import TestSupport

@Suite struct ParquetInputTests {
    static let corpus = CLI.repositoryPath("Fixtures/parquet-corpus/corpus.parquet")
    static func expected() throws -> [UInt8] { try readFile(CLI.repositoryPath("Fixtures/parquet-corpus/expected.jsonl")) }

    /// Ids and carried columns (id, score, lang; blob is binary and stays out), null texts skipped, 1 and 2 threads.
    @Test func rowsMatchHF() throws {
        let nulls = String(decoding: try readFile(CLI.repositoryPath("Fixtures/parquet-corpus/nulls.txt")), as: UTF8.self)
            .split(separator: "\n").map { Int($0)! }
        for threads in ["1", "2"] {
            let run = try CLI.run(["encode", "--parquet", "text", "--format", "jsonl", "--bad-records", "skip", "--threads", threads, Self.corpus])
            let expected = try Self.expected()
            #expect(run.status == 0 && run.stdout == expected, "\(run.stderrText)")
            #expect(run.stderrLines == nulls.prefix(10).map { "qwenkit: skipped \(Self.corpus): row \($0): column \"text\" is null" }
                + ["qwenkit: skipped \(nulls.count) bad records"])
        }
    }

    @Test func firstNullFailsByDefault() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["encode", "--parquet", "text", Self.corpus, "-o", dir + "/ids.txt"])
            #expect(run.status == 1 && run.stderrText == "qwenkit: \(Self.corpus): row 5: column \"text\" is null\n", "\(run)")
            #expect(try directoryEntries(dir).isEmpty)
        }
    }

    /// Shards split the file at row groups (8 of 40 rows); merged, they equal one run.
    @Test func shardsAtRowGroups() throws {
        try withTemporaryDirectory { dir in
            let base = ["encode", "--parquet", "text", "--bad-records", "skip", "--format", "megatron", "--eod", "151643", Self.corpus]
            #expect(try CLI.run(base + ["-o", dir + "/whole"]).status == 0)
            var shards: [String] = []
            for k in 0..<3 {
                let run = try CLI.run(base + ["--shard", "\(k)/3", "-o", dir + "/s\(k)"])
                #expect(run.status == 0, "\(run)")
                shards.append(dir + "/s\(k)")
            }
            #expect(try CLI.run(["merge", "-o", dir + "/merged"] + shards).status == 0)
            for suffix in [".bin", ".idx"] {
                let merged = try readFile(dir + "/merged" + suffix), whole = try readFile(dir + "/whole" + suffix)
                #expect(merged == whole)
            }
            // A shard's messages name it and its first row group.
            let strict = try CLI.run(["encode", "--parquet", "text", "--shard", "1/3", Self.corpus, "-o", dir + "/x"])
            #expect(strict.status == 1 && strict.stderrText
                == "qwenkit: \(Self.corpus) (shard 1/3, row group 4 on): row 190: column \"text\" is null\n", "\(strict)")
        }
    }

    @Test func countsRows() throws {
        let run = try CLI.run(["count", "--json", "--parquet", "text", "--bad-records", "skip", Self.corpus])
        #expect(run.status == 0 && run.stdoutText.contains("\"documents\":292"), "\(run)")
    }

    @Test func badInputsOneLineEach() throws {
        let missing = try CLI.run(["encode", "--parquet", "txt", Self.corpus])
        #expect(missing.status == 1 && missing.stderrText
            == "qwenkit: \(Self.corpus): no column named \"txt\" (top-level columns: \"text\", \"id\", \"score\", \"lang\", \"blob\")\n", "\(missing)")
        let notParquet = try CLI.run(["encode", "--parquet", "text", CLI.repositoryPath("README.md")])
        #expect(notParquet.status == 1 && notParquet.stderrText
            == "qwenkit: \(CLI.repositoryPath("README.md")): not a parquet file: the last 4 bytes are not PAR1\n", "\(notParquet)")
        let binary = try CLI.run(["encode", "--parquet", "blob", Self.corpus])
        #expect(binary.status == 1 && binary.stderrText
            == "qwenkit: \(Self.corpus): invalid UTF-8 at row 0, byte 1 of its text; use --invalid replace to substitute U+FFFD\n", "\(binary)")
        let stdin = try CLI.run(["encode", "--parquet", "text"], stdin: .text(""))
        #expect(stdin.status == 2 && stdin.stderrLines.first == "Error: --parquet needs files (a parquet file is read from its end)", "\(stdin)")
        let both = try CLI.run(["encode", "--parquet", "text", "--lines", Self.corpus])
        #expect(both.status == 2 && both.stderrLines.first == "Error: --lines, --jsonl and --parquet cannot be used together", "\(both)")
    }

    /// Files Spark wrote (parquet-mr: another writer's choices of pages and encodings), in three codecs: their texts
    /// tokenize exactly as the same texts given as lines (Fixtures/scripts/make_spark_parquet_fixtures.py).
    @Test(arguments: ["snappy", "gzip", "zstd"])
    func sparkWrittenFiles(codec: String) throws {
        let lines = try CLI.run(["encode", "--lines", CLI.repositoryPath("Fixtures/parquet-spark/texts.txt.zst")])
        let rows = try CLI.run(["encode", "--parquet", "text", "--bad-records", "skip", CLI.repositoryPath("Fixtures/parquet-spark/\(codec).parquet")])
        #expect(lines.status == 0 && rows.status == 0 && rows.stdout == lines.stdout && rows.stdout.count > 100_000, "\(rows.stderrText)")
        #expect(rows.stderrLines.last == "qwenkit: skipped 154 bad records (the first 10 listed)")
    }
}
