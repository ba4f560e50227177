// `qwenkit decode` against HF's decode of the golden id sequences (Fixtures/tokenizer-golden/decode.jsonl,
// 382 of which are not valid UTF-8 and decode with U+FFFD), in each input format, and the round trip.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct DecodeTests {
    /// decode.jsonl's id sequences as `--format text` input: one line each.
    static let idLines: [UInt8] = Array(Golden.decodeCases.map { textFormatLine($0.ids) + "\n" }.joined().utf8)

    /// Compares the output of decoding many documents with the expected texts, naming the first
    /// document whose text differs.
    static func expectTexts(_ output: [UInt8], _ expected: [(name: String, text: String)], separator: String = "\n",
                            _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let whole = Array(expected.map { $0.text + separator }.joined().utf8)
        if output == whole { return }
        var offset = 0
        for e in expected {
            let bytes = Array((e.text + separator).utf8)
            if offset + bytes.count > output.count || Array(output[offset..<(offset + bytes.count)]) != bytes {
                let got = String(decoding: output[min(offset, output.count)..<min(output.count, offset + bytes.count + 20)], as: UTF8.self)
                Issue.record("\(what): first differing document is \(e.name): expected \((e.text + separator).debugDescription), got \(got.debugDescription)…",
                             sourceLocation: sourceLocation)
                return
            }
            offset += bytes.count
        }
        Issue.record("\(what): \(output.count - offset) bytes after the last document", sourceLocation: sourceLocation)
    }

    @Test func textInputMatchesHF() throws {
        let run = try CLI.run(["decode"], stdin: .bytes(Self.idLines))
        #expect(run.status == 0 && !run.signaled && run.stderr.isEmpty, "\(run)")
        Self.expectTexts(run.stdout, Golden.decodeCases.map { ($0.name, $0.text) }, "decode")
    }

    @Test func skipSpecialMatchesHF() throws {
        let run = try CLI.run(["decode", "--skip-special"], stdin: .bytes(Self.idLines))
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        Self.expectTexts(run.stdout, Golden.decodeCases.map { ($0.name, $0.text_skip_special) }, "decode --skip-special")
    }

    /// `--format jsonl` reads the "ids" member of each record and ignores the others (decode.jsonl itself).
    @Test func jsonlInputMatchesHF() throws {
        let run = try CLI.run(["decode", "--format", "jsonl", Golden.decodePath])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        Self.expectTexts(run.stdout, Golden.decodeCases.map { ($0.name, $0.text) }, "decode --format jsonl")
    }

    /// A Python list pasted as it prints ("[9707, 11, 1879, 0]") is read as ids.
    @Test func pastedPythonList() throws {
        let run = try CLI.run(["decode"], stdin: .text("[9707, 11, 1879, 0]\n[]\n"))
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        #expect(run.stdoutText == "Hello, world!\n\n")
    }

    /// Lines of every shape the text reader's line-at-a-time path meets, one after another: empty lines between
    /// documents, CRLF, double spaces, a last line without a newline, chunk records after whole-document lines
    /// (placed as such), and an id out of range several lines into a run (named by its own line and position).
    @Test func textLinesOfEveryShape() throws {
        let plain = try CLI.run(["decode"], stdin: .text("9707 11 1879\n\n\n9707\n1879 0\r\n13 14\n\n9707  11\n 1879\n11 1879"))
        #expect(plain.status == 0 && plain.stdoutText == "Hello, world\n\n\nHello\n world!\n./\n\nHello,\n world\n, world\n", "\(plain)")
        let records = try CLI.run(["decode"], stdin: .text("9707 11\n0\t1879 0\n0\t13\n"))
        #expect(records.status == 0 && records.stdoutText == "Hello,\n world!.\n", "\(records)")
        let bad = try CLI.run(["decode"], stdin: .text("9707 11\n\n1879 0\n13 999999 5\n"))
        #expect(bad.status == 1 && bad.stderrText == "qwenkit: id 999999 at position 1 of line 4 of <stdin> is out of range (the vocabulary has ids 0...151645)\n", "\(bad)")
    }

    /// `--no-newline`: each document decoded on its own (U+FFFD stays per document), nothing between.
    @Test func noNewline() throws {
        let run = try CLI.run(["decode", "--no-newline"], stdin: .bytes(Self.idLines))
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        Self.expectTexts(run.stdout, Golden.decodeCases.map { ($0.name, $0.text) }, separator: "", "decode --no-newline")
    }

    /// `--format u32` is one document with no newline after it: all golden ids back to back decode to
    /// all NFC texts back to back (each is complete UTF-8 on its own).
    @Test func u32InputIsOneDocument() throws {
        let cases = Golden.clean
        let run = try CLI.run(["decode", "--format", "u32"], stdin: .bytes(littleEndianBytes(cases.flatMap(\.ids))))
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        Self.expectTexts(run.stdout, cases.map { ($0.name, $0.nfc) }, separator: "", "decode --format u32")
    }

    /// `--stream` with stdin a pipe writes the same bytes as without it, also when the pipe delivers
    /// the ids in 7-byte writes (numbers and characters split across reads).
    @Test func streamOnAPipeGivesTheSameBytes() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/ids.txt", Self.idLines)
            let plain = try CLI.run(["decode", dir + "/ids.txt"])
            let streamed = try CLI.shell(#"dd if=ids.txt bs=7 status=none | "$QWENKIT" decode --stream"#, in: dir)
            #expect(streamed.status == 0 && streamed.stderr.isEmpty, "\(streamed)")
            #expect(streamed.stdout == plain.stdout, "\(describeFirstDifference(expected: plain.stdout, actual: streamed.stdout))")
            // u32 on a pipe: 9707 11 127 (half of "é" at the end) gives "Hello," and, at the end of
            // the input, U+FFFD for the held-back byte (HF's decode of these ids).
            let u32 = try CLI.shell(#"printf '\xeb\x25\x00\x00\x0b\x00\x00\x00\x7f\x00\x00\x00' | "$QWENKIT" decode --stream --format u32"#, in: dir)
            #expect(u32.status == 0 && u32.stdoutText == "Hello,\u{FFFD}", "\(u32)")
        }
    }

    /// `--stream` really streams: text appears while stdin is still open, and half a character is
    /// held back until its other half arrives.
    @Test func streamWritesAsIDsArrive() throws {
        signal(SIGPIPE, SIG_IGN)  // a dead child must fail the test, not kill the test process
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CLI.binary())
        process.arguments = ["decode", "--stream"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let inFD = input.fileHandleForWriting.fileDescriptor
        let outFD = output.fileHandleForReading.fileDescriptor
        func send(_ text: String) {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBytes { write(inFD, $0.baseAddress, $0.count) } == bytes.count)
        }
        send("9707 11 ")                                      // "Hello" ","
        #expect(readAvailable(outFD, atLeast: 6, timeout: 30) == Array("Hello,".utf8))
        send("127 ")                                          // the first byte of "é" (C3)
        #expect(readAvailable(outFD, atLeast: 1, timeout: 0.3) == [], "half a character was written")
        send("102 1879\n")                                    // its second byte (A9), " world", end of document
        #expect(readAvailable(outFD, atLeast: 9, timeout: 30) == Array("é world\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(readAvailable(outFD, atLeast: 1, timeout: 1) == [])
        let whole = try CLI.run(["decode"], stdin: .text("9707 11 127 102 1879\n"))
        #expect(whole.stdoutText == "Hello,é world\n")
    }

    /// decode(encode(x)) == NFC(x) for every clean golden, through JSONL: encode's records (with their
    /// name and nfc members) are decode's input.
    @Test func roundTripGivesNFC() throws {
        let encoded = try GoldenRuns.jsonl.get()
        #expect(encoded.status == 0, "\(encoded)")
        let lines = outputLines(encoded.stdout)
        #expect(lines.count == Golden.all.count)
        guard lines.count == Golden.all.count else { return }
        var input: [UInt8] = []
        for (line, c) in zip(lines, Golden.all) where !KnownIssues.goldenMismatches.contains(c.name) {
            input += Array(line.utf8) + [0x0A]
        }
        let run = try CLI.run(["decode", "--format", "jsonl"], stdin: .bytes(input))
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        Self.expectTexts(run.stdout, Golden.clean.map { ($0.name, $0.nfc) }, "decode(encode(text))")
    }

    /// One long document in every format: all of decode.jsonl's id sequences, 40 times over (~230k ids),
    /// with id 91 ("|", one ASCII byte) between them, is HF's texts joined by "|" (U+FFFD substitution
    /// never reaches across an ASCII byte). Long enough to cross decode's id batches and 1 MiB blocks.
    @Test(arguments: ["text", "jsonl", "u32"])
    func longDocumentInEveryFormat(format: String) throws {
        var ids: [UInt32] = []
        var texts: [String] = [], skipped: [String] = []
        for round in 0..<40 {
            for (k, c) in Golden.decodeCases.enumerated() {
                if round > 0 || k > 0 { ids.append(91) }
                ids += c.ids
                texts.append(c.text)
                skipped.append(c.text_skip_special)
            }
        }
        let input: [UInt8]
        switch format {
        case "text": input = Array((textFormatLine(ids) + "\n").utf8)
        case "jsonl": input = Array(("{\"ids\":[" + ids.map(String.init).joined(separator: ",") + "]}\n").utf8)
        default: input = littleEndianBytes(ids)
        }
        let end = format == "u32" ? "" : "\n"
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/ids", input)
            for (flags, expected) in [([String](), texts), (["--skip-special"], skipped), (["--stream"], texts)] {
                let run = try CLI.run(["decode", "--format", format] + flags + [dir + "/ids"])
                #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
                let want = Array((expected.joined(separator: "|") + end).utf8)
                #expect(run.stdout == want, "decode --format \(format) \(flags): \(describeFirstDifference(expected: want, actual: run.stdout))")
            }
        }
    }
}

/// `encode --max-tokens N --chunk` and back: decode joins each document's chunk records (a character
/// split between two records comes out whole) and gives back the exact input, in every format encode
/// writes records in; what it cannot place it refuses by name.
@Suite struct ChunkedDecodeTests {
    // "👍" is split across two tokens (F0 9F 91 | 8D), so with small N records end inside a character.
    static let documentA = "Hello, world! naïve 👍🏽 中文字符\n\tsecond line, with <|endoftext|> in it\n\n"
    static let documentB = "Another input: ünïcödé 🎉 and more words than one record holds."
    static let lines = ["first line 👍🏽", "", "中文字符 and naïve text", "<|im_start|>user", "last"]

    /// Encodes `input` (a file in `dir`) with `options`, then decodes the output with `decodeOptions`.
    static func roundTrip(_ encodeOptions: [String], _ files: [String], decode decodeOptions: [String],
                          stream: Bool = false) throws -> (encoded: RunResult, decoded: RunResult) {
        let encoded = try CLI.run(["encode"] + encodeOptions + files)
        let decoded = try CLI.run(["decode"] + decodeOptions + (stream ? ["--stream"] : []), stdin: .bytes(encoded.stdout))
        return (encoded, decoded)
    }

    @Test func everyFormatRoundTrips() throws {
        try withTemporaryDirectory { dir in
            let a = dir + "/a.txt", b = dir + "/b.txt", l = dir + "/lines.txt", j = dir + "/records.jsonl"
            try writeFile(a, Self.documentA)
            try writeFile(b, Self.documentB)
            try writeFile(l, Self.lines.map { $0 + "\n" }.joined())
            let records = Self.lines.map { text -> String in
                let data = try! JSONSerialization.data(withJSONObject: ["text": text, "id": text.count], options: [.sortedKeys])
                return String(decoding: data, as: UTF8.self) + "\n"
            }
            try writeFile(j, records.joined())
            var checked = 0
            for n in ["1", "2", "3", "7", "1000"] {
                for format in ["text", "jsonl"] {
                    let chunk = ["--max-tokens", n, "--chunk", "--format", format]
                    // One whole document, and two inputs (each a document): the exact bytes back.
                    for (files, expected) in [([a], Self.documentA), ([a, b], Self.documentA + Self.documentB)] {
                        for stream in [false, true] {
                            let (encoded, decoded) = try Self.roundTrip(chunk, files, decode: ["--format", format, "--no-newline"], stream: stream)
                            #expect(encoded.status == 0 && encoded.stderr.isEmpty, "\(encoded)")
                            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(decoded)")
                            #expect(decoded.stdoutText == expected, "N \(n) \(format) \(files.count) inputs stream \(stream): \(describeFirstDifference(expected: Array(expected.utf8), actual: decoded.stdout))")
                            checked += 1
                        }
                    }
                    // --lines (several inputs too) and --jsonl: a document per line, each followed by a newline.
                    let perLine = Self.lines.map { $0 + "\n" }.joined()
                    for (framing, files, expected) in [(["--lines"], [l], perLine), (["--lines"], [l, l], perLine + perLine),
                                                       (["--jsonl", "text"], [j], perLine)] {
                        let (encoded, decoded) = try Self.roundTrip(framing + chunk, files, decode: ["--format", format])
                        #expect(encoded.status == 0 && decoded.status == 0 && decoded.stderr.isEmpty, "\(encoded)\n\(decoded)")
                        #expect(decoded.stdoutText == expected, "N \(n) \(format) \(framing) \(files.count) inputs: \(describeFirstDifference(expected: Array(expected.utf8), actual: decoded.stdout))")
                        checked += 1
                    }
                    // --eod closes each document's last record; --skip-special leaves it (and the text's own
                    // special tokens) out.
                    let (encoded, decoded) = try Self.roundTrip(["--lines", "--eod", "<|endoftext|>"] + chunk, [l], decode: ["--format", format])
                    #expect(encoded.status == 0 && decoded.status == 0, "\(encoded)\n\(decoded)")
                    #expect(decoded.stdoutText == Self.lines.map { $0 + "<|endoftext|>\n" }.joined(), "N \(n) \(format) --eod")
                    checked += 1
                }
            }
            #expect(checked == 5 * 2 * 8)
            // u32 has no records: encode refuses --chunk there (BadInputTests has the message), and
            // pieces, for people, is not something decode reads; both say so by name.
            let u32 = try CLI.run(["encode", "--max-tokens", "3", "--chunk", "--format", "u32", a])
            #expect(u32.status == 2 && u32.stdout.isEmpty && u32.stderrLines.first == "Error: --chunk needs --format text, jsonl, pieces or megatron (u32 has no records)", "\(u32)")
            let pieces = try Self.roundTrip(["--max-tokens", "3", "--chunk", "--format", "pieces"], [a], decode: ["--format", "pieces"]).decoded
            #expect(pieces.status == 2 && pieces.stdout.isEmpty, "\(pieces)")
            #expect(pieces.stderrLines.first == "Error: The value 'pieces' is invalid for '--format <format>'. Please provide one of 'text', 'jsonl', 'u32', 'npy' or 'megatron'.", "\(pieces)")
        }
    }

    /// Before, the document index in front of a text chunk record was read as an id ("0<TAB>9707" gave
    /// "!Hello"); and records joined, a document's text is whole again.
    @Test func textChunkRecordIndexIsNotAnID() throws {
        let run = try CLI.run(["decode"], stdin: .text("0\t9707 11\n0\t1879 0\n1\t\n2\t9707\n"))
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        #expect(run.stdoutText == "Hello, world!\n\nHello\n")
        let inputs = try CLI.run(["decode"], stdin: .text("0\t0\t9707\n0\t0\t11\n0\t1\t1879\n1\t0\t0\n"))
        #expect(inputs.status == 0 && inputs.stdoutText == "Hello,\n world\n!\n", "\(inputs)")
    }

    /// Records that cannot be placed are refused, naming the line: text records out of document order,
    /// a JSONL chunk that does not follow the one before, a tab anywhere but after an index.
    @Test func unplaceableRecordsAreRefused() throws {
        let cases: [(format: String, input: String, message: String)] = [
            ("text", "0\t9707\n1\t11\n0\t1879\n",
             "qwenkit: <stdin>: line 3: a record of document 0 after one of document 1 (chunk records are in document order; decode the outputs of separate encode runs as separate files)"),
            ("text", "1\t0\t9707\n0\t3\t11\n",
             "qwenkit: <stdin>: line 2: a record of document 3 of input 0 after one of document 0 of input 1 (chunk records are in document order; decode the outputs of separate encode runs as separate files)"),
            ("text", "9707\t11\n0\t1\t2\t3\n",
             "qwenkit: <stdin>: line 2: a tab that does not end a document index (text ids are separated by spaces; a chunk record of encode --chunk is [input<TAB>]document<TAB>ids)"),
            ("text", "9707 \t11\n",
             "qwenkit: <stdin>: line 1: a tab that does not end a document index (text ids are separated by spaces; a chunk record of encode --chunk is [input<TAB>]document<TAB>ids)"),
            ("jsonl", #"{"doc":0,"chunk":0,"ids":[9707]}"# + "\n" + #"{"doc":0,"chunk":2,"ids":[11]}"# + "\n",
             "qwenkit: <stdin>: line 2: chunk 2 of document 0 does not follow chunk 1 of it (records missing or out of order)"),
            ("jsonl", #"{"doc":0,"chunk":0,"ids":[9707]}"# + "\n" + #"{"doc":1,"chunk":1,"ids":[11]}"# + "\n",
             "qwenkit: <stdin>: line 2: chunk 1 of document 1 does not follow chunk 0 of it (records missing or out of order)"),
            ("jsonl", #"{"ids":[9707]}"# + "\n" + #"{"input":1,"doc":0,"chunk":1,"ids":[11]}"# + "\n",
             "qwenkit: <stdin>: line 2: chunk 1 of document 0 of input 1 does not follow chunk 0 of it (records missing or out of order)"),
            ("jsonl", #"{"chunk":0,"ids":[9707]}"# + "\n",
             "qwenkit: <stdin>: line 1: a \"chunk\" member without \"doc\""),
        ]
        for c in cases {
            let run = try CLI.run(["decode", "--format", c.format], stdin: .text(c.input))
            #expect(run.status == 1 && !run.signaled && run.stderrText == c.message + "\n", "\(run)")
        }
        // Members after "ids" are the input record's own, not an index: a record is a document.
        let own = try CLI.run(["decode", "--format", "jsonl"], stdin: .text(#"{"ids":[9707],"doc":5,"chunk":3}"# + "\n" + #"{"doc":"x","ids":[11]}"# + "\n"))
        #expect(own.status == 0 && own.stdoutText == "Hello\n,\n", "\(own)")
    }
}

/// Reads from `fd` until `atLeast` bytes have arrived, end of file, or `timeout` seconds.
func readAvailable(_ fd: Int32, atLeast: Int, timeout: Double) -> [UInt8] {
    var got: [UInt8] = []
    let deadline = Date().addingTimeInterval(timeout)
    var buffer = [UInt8](repeating: 0, count: 65536)
    while got.count < atLeast {
        let remaining = deadline.timeIntervalSinceNow
        if remaining <= 0 { break }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, Int32(max(1, remaining * 1000)))
        if ready < 0 && errno == EINTR { continue }
        if ready <= 0 { break }
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        got += buffer[0..<n]
    }
    return got
}
