// The Hugging Face golden set through `qwenkit encode`, in every output format.

import Foundation
import Testing
import TestSupport

@Suite struct EncodeGoldenTests {
    /// `--format text`: one line per JSONL record, its ids separated by single spaces, in input order
    /// across the two input files.
    @Test func textFormatMatchesGoldens() throws {
        let run = try GoldenRuns.text.get()
        #expect(run.status == 0 && !run.signaled, "\(run)")
        #expect(run.stderr.isEmpty, "\(run.stderrText)")
        let lines = outputLines(run.stdout)
        #expect(run.stdout.last == 0x0A)
        var documents: [[UInt32]] = []
        for (i, line) in lines.enumerated() {
            guard let ids = parseTextLine(line) else {
                Issue.record("line \(i + 1) is not space-separated ids: \(line.prefix(80).debugDescription)")
                return
            }
            #expect(textFormatLine(ids) == line, "line \(i + 1) is not in canonical form")
            documents.append(ids)
        }
        expectDocuments(documents, match: Golden.all, "encode --format text")
    }

    /// `--format jsonl`: `{"ids":[...]}` first, then the record's other members carried through as
    /// written (here `name` and `nfc`); the tokenized field itself is not repeated.
    @Test func jsonlFormatMatchesGoldensAndCarriesFields() throws {
        let run = try GoldenRuns.jsonl.get()
        #expect(run.status == 0 && !run.signaled, "\(run)")
        #expect(run.stderr.isEmpty, "\(run.stderrText)")
        let lines = outputLines(run.stdout)
        #expect(lines.count == Golden.all.count)
        var documents: [[UInt32]] = []
        var badRecords = 0
        for (i, line) in lines.enumerated() where i < Golden.all.count {
            let golden = Golden.all[i]
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let ids = object["ids"] as? [NSNumber] else {
                Issue.record("line \(i + 1) is not a JSON object with ids: \(line.prefix(120).debugDescription)")
                return
            }
            documents.append(ids.map(\.uint32Value))
            let prefix = "{\"ids\":[" + ids.map(\.stringValue).joined(separator: ",") + "],\"name\":"
            let ok = Set(object.keys) == ["ids", "name", "nfc"]
                && object["name"] as? String == golden.name
                && object["nfc"] as? String == golden.nfc
                && line.hasPrefix(prefix)
            if !ok {
                badRecords += 1
                if badRecords <= 5 { Issue.record("line \(i + 1) (\(golden.name)): \(line.prefix(200).debugDescription)") }
            }
        }
        #expect(badRecords == 0, "\(badRecords) records do not have the form {\"ids\":[...],\"name\":...,\"nfc\":...} with the golden name and nfc")
        expectDocuments(documents, match: Golden.all, "encode --format jsonl")
    }

    /// `--format u32 --eod 151643`: each document's ids as little-endian uint32, then the separator.
    /// Read from stdin (the two golden files concatenated).
    @Test func u32FormatWithEODMatchesGoldens() throws {
        let input = try readFile(Golden.casesPath) + readFile(Golden.randomPath)
        let run = try CLI.run(["encode", "--jsonl", "text", "--format", "u32", "--eod", "151643"], stdin: .bytes(input))
        #expect(run.status == 0 && !run.signaled, "\(run)")
        #expect(run.stderr.isEmpty, "\(run.stderrText)")
        #expect(run.stdout.count % 4 == 0, "u32 output of \(run.stdout.count) bytes")
        guard run.stdout.count % 4 == 0 else { return }
        let words = idsFromLittleEndian(run.stdout)
        let expectedWords = Golden.all.reduce(0) { $0 + $1.ids.count + 1 }
        #expect(words.count == expectedWords)
        #expect(littleEndianBytes(words) == run.stdout)
        // Walk the stream by the goldens' lengths: ids, then exactly one 151643.
        var documents: [[UInt32]] = []
        var p = 0
        for c in Golden.all {
            guard p + c.ids.count < words.count else { break }
            documents.append(Array(words[p..<(p + c.ids.count)]))
            p += c.ids.count
            if words[p] != 151643 {
                Issue.record("no --eod 151643 after \(c.name) at word \(p): found \(words[p])")
                return
            }
            p += 1
        }
        expectDocuments(documents, match: Golden.all, "encode --format u32 --eod 151643")
    }

    /// `--eod` also takes an added token's text, as its help says: `<|endoftext|>` is 151643 and
    /// `<|im_end|>` 151645, in every format (u32 is where it matters most).
    @Test func eodByAddedTokenName() throws {
        let twoLines = "Hello, world!\nHello, world!\n"
        let byName = try CLI.run(["encode", "--lines", "--eod", "<|endoftext|>"], stdin: .text(twoLines))
        #expect(byName.status == 0 && byName.stderr.isEmpty, "\(byName)")
        #expect(byName.stdoutText == "9707 11 1879 0 151643\n9707 11 1879 0 151643\n")
        let u32 = try CLI.run(["encode", "--lines", "--format", "u32", "--eod", "<|im_end|>"], stdin: .text(twoLines))
        #expect(u32.status == 0 && u32.stderr.isEmpty, "\(u32)")
        #expect(u32.stdout == littleEndianBytes([9707, 11, 1879, 0, 151645, 9707, 11, 1879, 0, 151645]))
        let byNumber = try CLI.run(["encode", "--lines", "--eod", "151643"], stdin: .text(twoLines))
        #expect(byNumber.stdout == byName.stdout, "\(byNumber)")
    }

    /// `--lines` on a plain text file of the goldens that have no line break inside (U+2028, U+0085
    /// and other separators stay inside their line), with an empty line among them.
    @Test func linesMatchGoldens() throws {
        let cases = Golden.all.filter { !$0.text.utf8.contains(0x0A) && !$0.text.utf8.contains(0x0D) }
        #expect(cases.count > 2000)
        #expect(cases.contains { $0.text.isEmpty })
        #expect(cases.contains { $0.text.unicodeScalars.contains("\u{2028}") })
        var file: [UInt8] = []
        for c in cases { file += Array(c.text.utf8) + [0x0A] }
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/lines.txt", file)
            let run = try CLI.run(["encode", "--lines", dir + "/lines.txt"])
            #expect(run.status == 0 && !run.signaled, "\(run)")
            #expect(run.stderr.isEmpty, "\(run.stderrText)")
            expectDocuments(outputLines(run.stdout).map { parseTextLine($0) ?? [] }, match: cases, "encode --lines")
        }
    }

    /// `--lines` takes `\r\n` line ends (the `\r` goes) and a last line without a newline.
    @Test func linesWithCRLFAndNoFinalNewline() throws {
        // "ab" = 370, "cd" = 4385, " x" = 856 (HF ids, as in the goldens' 'caf\xc3 ok' and 'x' cases).
        let run = try CLI.run(["encode", "--lines"], stdin: .text("ab\r\n\r\ncd\r\n x"))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutText == "370\n\n4385\n856\n")
    }

    /// `--format pieces`: each token's bytes for people, `|` between tokens, escapes for `\n`, `\t`,
    /// `\\`, `\|`, ASCII controls as `\u{XX}` and bytes that are not UTF-8 as `\xNN`. Expected lines
    /// are written from the goldens' ids and the token bytes in tokenizer.json.
    @Test func piecesFormat() throws {
        let expected: [(name: String, pieces: String)] = [
            ("english/hello world", #"Hello|,| world|!"#),                            // 9707 11 1879 0
            ("whitespace/tabs before words", #"\t|\t|foo|\tbar"#),                    // 197 197 7975 90709
            ("special/chat turn", #"<\|im_start\|>|user|\n|hi|<\|im_end\|>"#),       // 151644 872 198 6023 151645
            ("special/bar prefix", #"\||<\|endoftext\|>|\|"#),                         // 91 151643 91
            ("single/ascii U+005C", #"\\"#),                                           // 59
            ("control/DEL", #"a|\u{7F}|b"#),                                           // 64 221 65
            ("control/ANSI escape", #"\u{1B}[|3|1|m|red|\u{1B}[|0|m"#),               // 90435 = ESC '['
            ("combining/special token then mark", #"<\|im_end\|>|\xCC|\xB8"#),       // U+0338 split in two byte tokens
            ("special/cjk around", "你|<\\|im_end\\|>|好"),
            ("emoji/emoji with newline", #"💩|\n|💩|\n"#),
        ]
        let byName = Dictionary(uniqueKeysWithValues: Golden.handWritten.map { ($0.name, $0) })
        var input: [UInt8] = []
        for e in expected {
            let c = try #require(byName[e.name], "no golden case \(e.name)")
            input += Array(try JSONSerialization.data(withJSONObject: ["text": c.text])) + [0x0A]
        }
        let run = try CLI.run(["encode", "--jsonl", "text", "--format", "pieces"], stdin: .bytes(input))
        #expect(run.status == 0, "\(run)")
        let lines = outputLines(run.stdout)
        #expect(lines.count == expected.count)
        for (line, e) in zip(lines, expected) {
            #expect(line == e.pieces, "\(e.name)")
        }
    }

    /// The piece format promises "other control characters as \u{XX}": C1 controls (U+0080…U+009F) are
    /// control characters too, and written raw they can drive a terminal (U+009B is CSI).
    @Test func piecesEscapeC1Controls() throws {
        // "control/C1 controls": ids 42476 223 126 253 = bytes [C2 80 C2] [81] [C2] [9F].
        let run = try CLI.run(["encode", "--format", "pieces"], stdin: .text("\u{80}\u{81}\u{9F}"))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutText == #"\u{80}\xC2|\x81|\xC2|\x9F"# + "\n")
    }
}
