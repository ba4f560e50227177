// --bad-records, --max-bad-records and --jsonl's dotted paths: what a corpus with broken records gives.

import Foundation
import Testing
import TestSupport

@Suite struct BadRecordTests {
    static let good = [#"{"text":"Hello"}"#, #"{"text":"world","n":1}"#, #"{"text":"你好"}"#]
    /// Bad records, each with the reason encode gives for it.
    static let bad: [(String, String)] = [
        (#"{"text":"a""#, "unexpected end of input"),
        (#"{"body":"b"}"#, #"no field "text""#),
        (#"{"text":null}"#, #"field "text" is null"#),
        (#"{"text":["x"]}"#, #"field "text" is not a string"#),
        ("not json", "expected '{'"),
    ]

    /// good[0], bad[0], good[1], bad[1], ... good[2], bad[4]: lines 1-8.
    static func mixed() -> String {
        var lines: [String] = []
        for k in 0..<max(good.count, bad.count) {
            if k < good.count { lines.append(good[k]) }
            if k < bad.count { lines.append(bad[k].0) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func failByDefaultSkipOnRequest() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/mixed.jsonl", Self.mixed())
            try writeFile(dir + "/good.jsonl", Self.good.joined(separator: "\n") + "\n")
            let fail = try CLI.run(["encode", "--jsonl", "text", dir + "/mixed.jsonl", "-o", dir + "/out"])
            #expect(fail.status == 1 && fail.stderrText.hasPrefix("qwenkit: \(dir)/mixed.jsonl: line 2: "), "\(fail)")
            #expect(try directoryEntries(dir).sorted() == ["good.jsonl", "mixed.jsonl"])

            let expected = try CLI.run(["encode", "--jsonl", "text", "--format", "jsonl", dir + "/good.jsonl"])
            for threads in ["1", "2"] {
                let skip = try CLI.run(["encode", "--jsonl", "text", "--format", "jsonl", "--bad-records", "skip", "--threads", threads,
                                        dir + "/mixed.jsonl"])
                #expect(skip.status == 0 && skip.stdout == expected.stdout, "\(skip)")
                let lines = skip.stderrLines
                #expect(lines.count == 6 && lines.last == "qwenkit: skipped 5 bad records", "\(skip)")
                for (k, (_, reason)) in Self.bad.enumerated() {
                    let line = k < Self.good.count ? 2 * k + 2 : Self.good.count + k + 1
                    #expect(lines[k].hasPrefix("qwenkit: skipped \(dir)/mixed.jsonl: line \(line): ") && lines[k].contains(reason), "\(lines[k])")
                }
            }
            let limited = try CLI.run(["encode", "--jsonl", "text", "--bad-records", "skip", "--max-bad-records", "2", dir + "/mixed.jsonl",
                                       "-o", dir + "/out"])
            #expect(limited.status == 1 && limited.stderrText == "qwenkit: more than 2 bad records (--max-bad-records 2); the last: "
                + "\(dir)/mixed.jsonl: line 6: field \"text\" is null\n", "\(limited)")
            #expect(try directoryEntries(dir).sorted() == ["good.jsonl", "mixed.jsonl"])
            let enough = try CLI.run(["encode", "--jsonl", "text", "--bad-records", "skip", "--max-bad-records", "5", dir + "/mixed.jsonl",
                                      "-o", dir + "/out"])
            #expect(enough.status == 0 && enough.stderrLines.last == "qwenkit: skipped 5 bad records", "\(enough)")
        }
    }

    /// Over ten: the first ten are listed, then the count; in input order with two threads across many work units.
    @Test func manyBadRecordsAcrossUnits() throws {
        try withTemporaryDirectory { dir in
            var text = ""
            for k in 0..<40_000 { text += k % 1000 == 999 ? "{\"body\":\(k)}\n" : "{\"text\":\"record \(k) " + String(repeating: "ab ", count: 10) + "\"}\n" }
            try writeFile(dir + "/big.jsonl", text)
            let run = try CLI.run(["count", "--json", "--jsonl", "text", "--bad-records", "skip", "--threads", "2", dir + "/big.jsonl"])
            #expect(run.status == 0, "\(run)")
            let lines = run.stderrLines
            #expect(lines.count == 11)
            #expect(lines.prefix(10) == (0..<10).map { "qwenkit: skipped \(dir)/big.jsonl: line \(1000 * $0 + 1000): no field \"text\"" }[...])
            #expect(lines.last == "qwenkit: skipped 40 bad records (the first 10 listed)")
            #expect(run.stdoutText.contains("\"documents\":39960"), "\(run.stdoutText)")
        }
    }

    @Test func linesThatAreNotUTF8() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/l.txt", Array("ok\n".utf8) + [0x61, 0xFF, 0x0A] + Array("fine\n".utf8))
            let run = try CLI.run(["encode", "--lines", "--bad-records", "skip", dir + "/l.txt"])
            #expect(run.status == 0 && run.stdoutText == "562\n62057\n", "\(run)")
            #expect(run.stderrText == "qwenkit: skipped \(dir)/l.txt: invalid UTF-8 at byte 4 (line 2); use --invalid replace to substitute U+FFFD\n"
                + "qwenkit: skipped 1 bad record\n")
        }
    }

    @Test func dottedPathsReachNestedFields() throws {
        let input = #"{"id":1,"meta":{"lang":"en","text":"Hello"},"x":[1]}"# + "\n" + #"{"meta":{"text":"world"}}"# + "\n"
        let run = try CLI.run(["encode", "--jsonl", "meta.text", "--format", "jsonl"], stdin: .text(input))
        #expect(run.status == 0 && run.stdoutText == #"{"ids":[9707],"id":1,"meta":{"lang":"en","text":"Hello"},"x":[1]}"# + "\n"
            + #"{"ids":[14615],"meta":{"text":"world"}}"# + "\n", "\(run)")
        for (record, message) in [
            (#"{"meta":{"txt":"a"}}"#, #"no field "meta.text""#),
            (#"{"meta":null}"#, #"no field "meta.text""#),
            (#"{"meta":"a"}"#, #"field "meta" is not an object"#),
            (#"{"meta":{"text":3}}"#, #"field "meta.text" is not a string"#),
        ] {
            let bad = try CLI.run(["encode", "--jsonl", "meta.text"], stdin: .text(record + "\n"))
            #expect(bad.status == 1 && bad.stderrText == "qwenkit: <stdin>: line 1: \(message)\n", "\(bad)")
        }
    }

    @Test func usage() throws {
        for (arguments, message) in [
            (["--max-bad-records", "3", "--jsonl", "t"], "--max-bad-records needs --bad-records skip"),
            (["--bad-records", "skip", "--max-bad-records", "-1", "--jsonl", "t"], "--max-bad-records must be 0 or more"),
            (["--bad-records", "skip"], "--bad-records skip needs records: --lines, --jsonl or --parquet (a whole file is one document)"),
            (["--jsonl", "meta..text"], "--jsonl meta..text: a dotted path needs a name between every two dots"),
        ] {
            let run = try CLI.run(["encode"] + arguments, stdin: .text(""))
            #expect(run.status == 2 && run.stderrLines.first == "Error: " + message, "\(run)")
        }
    }
}
