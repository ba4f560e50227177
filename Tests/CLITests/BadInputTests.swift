// Bad input and bad flags: each ends with a definite status and one line on stderr that names the
// input and the place (byte offset, line, position), and never leaves a partial output file.

import Foundation
import Testing
import TestSupport

@Suite struct BadInputTests {
    /// One stderr line, exactly `message`, status 1, and no crash.
    static func expectFailure(_ run: RunResult, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1 && !run.signaled, "\(run)", sourceLocation: sourceLocation)
        #expect(run.stderrText == "qwenkit: " + message + "\n", sourceLocation: sourceLocation)
    }

    // MARK: Invalid UTF-8

    @Test func invalidUTF8NamesTheByteOffset() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/bad.txt"
            try writeFile(path, [0x61, 0x62, 0xFF, 0x63, 0x64])  // "ab\xffcd"
            let run = try CLI.run(["encode", path])
            Self.expectFailure(run, "\(path): invalid UTF-8 at byte 2; use --invalid replace to substitute U+FFFD")
            #expect(run.stdout.isEmpty)
        }
        // Offsets count from the start of the input, and name the line with --lines and --jsonl.
        let lines = try CLI.run(["encode", "--lines"], stdin: .bytes(Array("ok\nab".utf8) + [0xFF] + Array("cd\n".utf8)))
        Self.expectFailure(lines, "<stdin>: invalid UTF-8 at byte 5 (line 2); use --invalid replace to substitute U+FFFD")
        let jsonl = try CLI.run(["encode", "--jsonl", "text"],
                                stdin: .bytes(Array(#"{"text":"ok"}"#.utf8) + [0x0A] + Array(#"{"text":"ab"#.utf8) + [0xFF] + Array(#"cd"}"#.utf8) + [0x0A]))
        Self.expectFailure(jsonl, "<stdin>: invalid UTF-8 at byte 25 (line 2); use --invalid replace to substitute U+FFFD")
    }

    /// `--invalid replace` encodes the text Python's `bytes.decode('utf-8', 'replace')` gives (one
    /// U+FFFD per maximal invalid subpart). Expected ids from HF tokenizers 0.23.3:
    ///     t.encode(b.decode('utf-8', 'replace'), add_special_tokens=False).ids
    static let replaceCases: [(input: [UInt8], expected: [UInt32])] = [
        ([0x61, 0x62, 0xFF, 0x63, 0x64], [370, 5691, 4385]),                              // b'ab\xffcd' -> 'ab\ufffdcd'
        ([0x63, 0x61, 0x66, 0xC3, 0x20, 0x6F, 0x6B], [68796, 5691, 5394]),                // b'caf\xc3 ok' -> 'caf\ufffd ok'
        ([0xE4, 0xBD, 0x78], [5691, 87]),                                                // truncated 3-byte sequence: one U+FFFD
        ([0x68, 0x69, 0x20, 0xED, 0xA0, 0x80, 0x20, 0xF0, 0x9F, 0x98, 0x21], [6023, 220, 57332, 29333, 0]),  // b'hi \xed\xa0\x80 \xf0\x9f\x98!': surrogate = three
        ([0xC0, 0xAF, 0xF5], [57332]),                                                   // three U+FFFD
    ]

    @Test(arguments: replaceCases)
    func invalidReplaceMatchesPythonReplace(input: [UInt8], expected: [UInt32]) throws {
        let whole = try CLI.run(["encode", "--invalid", "replace"], stdin: .bytes(input))
        #expect(whole.status == 0 && whole.stderr.isEmpty, "\(whole)")
        #expect(whole.stdoutText == textFormatLine(expected) + "\n")
        // The same bytes inside a JSON string (raw, not escaped) and as a line.
        let jsonl = try CLI.run(["encode", "--invalid", "replace", "--jsonl", "text"],
                                stdin: .bytes(Array(#"{"text":""#.utf8) + input + Array(#""}"#.utf8) + [0x0A]))
        #expect(jsonl.status == 0 && jsonl.stdoutText == textFormatLine(expected) + "\n", "\(jsonl)")
        let lines = try CLI.run(["encode", "--invalid", "replace", "--lines"], stdin: .bytes(Array("ok\n".utf8) + input + [0x0A]))
        #expect(lines.status == 0 && lines.stdoutText == "562\n" + textFormatLine(expected) + "\n", "\(lines)")  // "ok" = 562
    }

    /// A lone surrogate escape in JSONL is an error naming line and byte, or U+FFFD with replace.
    @Test func loneSurrogateEscapeInJSONL() throws {
        let input = #"{"text":"a\ud800b"}"# + "\n"
        Self.expectFailure(try CLI.run(["encode", "--jsonl", "text"], stdin: .text(input)),
                           #"<stdin>: line 1: invalid JSON at byte 16: lone surrogate \ud800 in string"#)
        let replaced = try CLI.run(["encode", "--jsonl", "text", "--invalid", "replace"], stdin: .text(input))
        #expect(replaced.stdoutText == "64 5691 65\n", "\(replaced)")  // 'a\ufffdb'
    }

    // MARK: Files and records

    @Test func missingInputFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/no-such-file.txt"
            Self.expectFailure(try CLI.run(["encode", path]), "\(path): cannot open: No such file or directory")
            Self.expectFailure(try CLI.run(["decode", path]), "\(path): cannot open: No such file or directory")
            Self.expectFailure(try CLI.run(["count", path]), "\(path): cannot open: No such file or directory")
        }
    }

    @Test func jsonlRecordWithoutTheField() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/records.jsonl"
            try writeFile(path, #"{"text":"a"}"# + "\n" + #"{"body":"b"}"# + "\n")
            Self.expectFailure(try CLI.run(["encode", "--jsonl", "text", path]), "\(path): line 2: no field \"text\"")
            Self.expectFailure(try CLI.run(["encode", "--jsonl", "body", path]), "\(path): line 1: no field \"body\"")
        }
        Self.expectFailure(try CLI.run(["encode", "--jsonl", "text"], stdin: .text(#"{"text":5}"# + "\n")),
                           #"<stdin>: line 1: field "text" is not a string"#)
        Self.expectFailure(try CLI.run(["encode", "--jsonl", "text"], stdin: .text(#"{"text":null}"# + "\n")),
                           #"<stdin>: line 1: field "text" is null"#)
    }

    @Test func nonJSONLine() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/records.jsonl"
            try writeFile(path, #"{"text":"a"}"# + "\nhello\n")
            Self.expectFailure(try CLI.run(["encode", "--jsonl", "text", path]), "\(path): line 2: invalid JSON at byte 0: expected '{', found 'h'")
            try writeFile(path, #"{"text":"a"} x"# + "\n")
            let trailing = try CLI.run(["encode", "--jsonl", "text", path])
            #expect(trailing.status == 1 && trailing.stderrLines.count == 1, "\(trailing)")
            #expect(trailing.stderrText.hasPrefix("qwenkit: \(path): line 1: invalid JSON at byte "), "\(trailing.stderrText)")
        }
    }

    // MARK: Special tokens

    @Test func specialRejectNamesTokenAndOffset() throws {
        Self.expectFailure(try CLI.run(["encode", "--special", "reject"], stdin: .text("abc<|endoftext|>")),
                           "<stdin>: special token <|endoftext|> at byte 3; use --special parse or --special text to allow it")
        Self.expectFailure(try CLI.run(["encode", "--special", "reject", "--lines"], stdin: .text("x\nabc<|im_end|>\n")),
                           "<stdin>: special token <|im_end|> at byte 5 (line 2); use --special parse or --special text to allow it")
        // Without special-token text, reject changes nothing.
        let clean = try CLI.run(["encode", "--special", "reject"], stdin: .text("abc<|endoftext|"))
        #expect(clean.status == 0 && clean.stdoutText == "13683 27 91 8691 723 427 91\n", "\(clean)")
    }

    /// parse (the default) gives the special id; text tokenizes the characters. HF:
    /// `t.encode_special_tokens = True; t.encode('abc<|endoftext|>').ids`.
    @Test func specialParseAndText() throws {
        let parse = try CLI.run(["encode"], stdin: .text("abc<|endoftext|>"))
        #expect(parse.stdoutText == "13683 151643\n", "\(parse)")
        let text = try CLI.run(["encode", "--special", "text"], stdin: .text("abc<|endoftext|>"))
        #expect(text.stdoutText == "13683 27 91 8691 723 427 91 29\n", "\(text)")
    }

    // MARK: Decode input

    @Test func decodeNonNumericID() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ids.txt"
            try writeFile(path, "9707 11\n9707 x 11\n")
            Self.expectFailure(try CLI.run(["decode", path]),
                               "\(path): line 2: 'x' is not part of a token id (expected decimal ids separated by spaces or commas)")
        }
        Self.expectFailure(try CLI.run(["decode", "--format", "jsonl"], stdin: .text(#"{"ids":[1,"a"]}"# + "\n")),
                           "<stdin>: line 1: invalid JSON at byte 10: expected an integer")
        Self.expectFailure(try CLI.run(["decode", "--format", "jsonl"], stdin: .text(#"{"ids":[1,-3]}"# + "\n")),
                           "<stdin>: line 1: invalid JSON at byte 12: -3 is not a token id")
        Self.expectFailure(try CLI.run(["decode", "--format", "jsonl"], stdin: .text(#"{"tokens":[1]}"# + "\n")),
                           #"<stdin>: line 1: no "ids" field"#)
    }

    @Test func decodeOutOfRangeID() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ids.txt"
            try writeFile(path, "9707 11\n9707 151646 11\n")
            Self.expectFailure(try CLI.run(["decode", path]),
                               "id 151646 at position 1 of line 2 of \(path) is out of range (the vocabulary has ids 0...151645)")
        }
        Self.expectFailure(try CLI.run(["decode", "--format", "jsonl"], stdin: .text(#"{"ids":[1,200000]}"# + "\n")),
                           "id 200000 at position 1 of line 1 of <stdin> is out of range (the vocabulary has ids 0...151645)")
        Self.expectFailure(try CLI.run(["decode", "--format", "u32"], stdin: .bytes(littleEndianBytes([1, 2, 200000]))),
                           "id 200000 at position 2 of <stdin> is out of range (the vocabulary has ids 0...151645)")
        Self.expectFailure(try CLI.run(["decode"], stdin: .text("1 2\n3 4294967296\n")),
                           "<stdin>: line 2: 4294967296 is not a token id (too large)")
        // The last id of the vocabulary is fine.
        let last = try CLI.run(["decode"], stdin: .text("151645\n"))
        #expect(last.status == 0 && last.stdoutText == "<|im_end|>\n", "\(last)")
    }

    @Test func u32InputWithStrayBytes() throws {
        Self.expectFailure(try CLI.run(["decode", "--format", "u32"], stdin: .bytes(littleEndianBytes([9707]) + [0x0B])),
                           "<stdin>: ends with 1 stray byte (a u32 stream is a multiple of 4 bytes long)")
        Self.expectFailure(try CLI.run(["decode", "--format", "u32"], stdin: .bytes(littleEndianBytes([9707]) + [0x0B, 0, 0])),
                           "<stdin>: ends with 3 stray bytes (a u32 stream is a multiple of 4 bytes long)")
    }

    // MARK: Output

    /// `qwenkit encode big | head -c 10`: qwenkit stops at the closed pipe with status 0 and says nothing.
    @Test func closedStdoutEndsQuietly() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/big.txt", ParallelEncodingTests.newlineDocument)
            let run = try CLI.shell(#""$QWENKIT" encode --lines big.txt 2>err.txt | head -c 10 >head.txt; echo "${PIPESTATUS[0]}""#, in: dir)
            #expect(run.stdoutText == "0\n", "qwenkit's status with stdout closed: \(run)")
            let stderr = try readFile(dir + "/err.txt")
            #expect(stderr.isEmpty, "stderr: \(String(decoding: stderr, as: UTF8.self))")
            #expect(try readFile(dir + "/head.txt").count == 10)
        }
    }

    @Test func outputIntoMissingDirectory() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/missing/ids.txt"
            let run = try CLI.run(["encode", "-o", path], stdin: .text("Hello, world!"))
            #expect(run.status == 1 && !run.signaled, "\(run)")
            #expect(run.stderrLines.count == 1, "\(run.stderrText)")
            #expect(run.stderrText.hasPrefix("qwenkit: \(path): cannot create"), "\(run.stderrText)")
            #expect(run.stderrText.hasSuffix(": No such file or directory\n"), "\(run.stderrText)")
            #expect(try directoryEntries(dir) == [], "something was created")
        }
    }

    /// A failing run leaves an existing output file as it was and no temporary file beside it.
    @Test func failedRunKeepsTheOldOutput() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ids.txt"
            try writeFile(path, "old\n")
            let run = try CLI.run(["encode", "--lines", "-o", path], stdin: .bytes(Array("ok\n".utf8) + [0xFF, 0x0A]))
            Self.expectFailure(run, "<stdin>: invalid UTF-8 at byte 3 (line 2); use --invalid replace to substitute U+FFFD")
            #expect(try readFile(path) == Array("old\n".utf8))
            #expect(try directoryEntries(dir) == ["ids.txt"])
        }
    }

    // MARK: Flags

    struct UsageCase: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    /// Flag errors are usage errors: status 2 (ExitStatus.usage, in every command),
    /// "Error: …" and the subcommand's usage on stderr, nothing on stdout.
    @Test(arguments: [
        UsageCase(arguments: ["encode", "--max-tokens", "3"], message: "--max-tokens needs --truncate or --chunk"),
        UsageCase(arguments: ["encode", "--truncate"], message: "--truncate and --chunk need --max-tokens"),
        UsageCase(arguments: ["encode", "--max-tokens", "3", "--truncate", "--chunk"], message: "--truncate and --chunk cannot be used together"),
        UsageCase(arguments: ["encode", "--max-tokens", "0", "--truncate"], message: "--max-tokens must be at least 1"),
        UsageCase(arguments: ["encode", "--max-tokens", "3", "--chunk", "--format", "u32"], message: "--chunk needs --format text, jsonl, pieces or megatron (u32 has no records)"),
        UsageCase(arguments: ["encode", "--lines", "--jsonl", "text"], message: "--lines, --jsonl and --parquet cannot be used together"),
        UsageCase(arguments: ["encode", "--threads", "0"], message: "--threads must be between 1 and 1024"),
        UsageCase(arguments: ["encode", "--format", "xml"], message: "The value 'xml' is invalid for '--format <format>'. Please provide one of the following:"),
        UsageCase(arguments: ["encode", "--bogus"], message: "Unknown option '--bogus'"),
        UsageCase(arguments: ["count", "--jsonl", ""], message: "--jsonl needs a field name"),
        UsageCase(arguments: ["decode", "--format", "pieces"], message: "The value 'pieces' is invalid for '--format <format>'. Please provide one of 'text', 'jsonl', 'u32', 'npy' or 'megatron'."),
    ])
    func usageErrors(_ usage: UsageCase) throws {
        let run = try CLI.run(usage.arguments)
        #expect(run.status == 2 && !run.signaled, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.first == "Error: " + usage.message, "\(run.stderrText)")
        #expect(run.stderrLines.contains { $0.hasPrefix("Usage: qwenkit \(usage.arguments[0]) ") }, "\(run.stderrText)")
    }

    /// An --eod that is not a token id is a usage error of encode, found in run() (it needs the
    /// tokenizer) and reported like the flag errors validate() finds.
    @Test func eodOutOfRange() throws {
        let run = try CLI.run(["encode", "--eod", "151646"], stdin: .text("hi"))
        #expect(run.status == 2 && run.stdout.isEmpty, "\(run)")
        #expect(run.stderrLines.first == "Error: --eod 151646 is not a token id (the vocabulary has ids 0...151645)")
        #expect(run.stderrLines.contains { $0.hasPrefix("Usage: qwenkit encode ") }, "\(run.stderrText)")
    }

    /// An --eod that is neither a number nor an added token's text is named, with the added tokens
    /// there are; no output.
    @Test func eodUnknownTokenName() throws {
        for (eod, shown) in [("<|eot_id|>", "<|eot_id|>"), ("endoftext", "endoftext"), ("1e3", "1e3"), ("", "")] {
            let run = try CLI.run(["encode", "--eod", eod], stdin: .text("hi"))
            #expect(run.status == 2 && run.stdout.isEmpty && !run.signaled, "\(run)")
            #expect(run.stderrLines.first == "Error: --eod \(shown) is neither a token id nor an added token of this tokenizer "
                    + "(its added tokens are <|endoftext|>, <|im_start|>, <|im_end|>)", "\(run.stderrText)")
        }
        let huge = try CLI.run(["encode", "--eod", "99999999999"], stdin: .text("hi"))
        #expect(huge.status == 2 && huge.stderrLines.first == "Error: --eod 99999999999 is not a token id (the vocabulary has ids 0...151645)", "\(huge)")
    }
}
