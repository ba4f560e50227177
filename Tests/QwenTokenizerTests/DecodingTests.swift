// The fast decode path (IDReader + TextDecoder) against the slow, obvious one (`Tokenizer.decode`, then
// `UTF8Validation.replacingInvalid`, which GoldenTests checks against HF), on HF's golden id sequences
// (Fixtures/tokenizer-golden/decode.jsonl) in every input format, on long lines that cross every internal
// batch and block boundary, and on inputs delivered a few bytes per read. Also `TokenEncoder.count`.

import CTextKernels
import Foundation
import QwenKitIO
import Testing
import TestSupport
@testable import QwenTokenizer

/// A byte output that keeps what it is given.
final class MemoryOutput: ByteOutput {
    var name: String { "<memory>" }
    var bytes: [UInt8] = []
    func write(_ data: UnsafeRawBufferPointer) throws(IOError) { bytes.append(contentsOf: data) }
    func flush() throws(IOError) {}
    func commit() throws(IOError) {}
    func abandon() {}
}

/// A source that returns at most `chunk` bytes per read (a pipe written in small pieces).
final class ChoppySource: ByteSource {
    let name = "<choppy>"
    let bytes: [UInt8]
    let chunk: Int
    var position = 0
    init(_ bytes: [UInt8], chunk: Int) {
        self.bytes = bytes
        self.chunk = chunk
    }
    var inputPosition: Int64 { Int64(position) }
    var inputSize: Int64? { Int64(bytes.count) }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        let n = min(buffer.count, chunk, bytes.count - position)
        if n > 0 { bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) } }
        position += n
        return n
    }
}

@Suite struct DecodingTests {
    static let tokenizer = GoldenTests.tokenizer
    static let cases: [(name: String, ids: [UInt32], text: String, skipped: String)] =
        Golden.lines("tokenizer-golden/decode.jsonl").map {
            ($0["name"] as! String, ($0["ids"] as! [NSNumber]).map { $0.uint32Value }, $0["text"] as! String,
             $0["text_skip_special"] as! String)
        }

    /// Runs `decode` as the CLI does over `input`: documents end with a newline except in u32.
    /// `streamingThreshold`: JSONL lines from this length on are decoded as they arrive (see IDReader).
    static func decode(_ input: [UInt8], format: IDInputFormat, skipSpecial: Bool = false, stream: Bool = false,
                       chunk: Int? = nil, streamingThreshold: Int? = nil) throws -> [UInt8] {
        let output = MemoryOutput()
        let sink = ByteSink(output: output)
        let decoder = TextDecoder(tokenizer: tokenizer, sink: sink, skipSpecial: skipSpecial)
        let source: any ByteSource = chunk.map { ChoppySource(input, chunk: $0) } ?? MemorySource(input)
        let reader = IDReader(format: format, stream: stream)
        if let streamingThreshold { reader.jsonlStreamingThreshold = streamingThreshold }
        try reader.read(source) { event in
            switch event {
            case .ids(let run): try decoder.append(run, newline: format != .u32)
            case .endDocument: try decoder.endDocument(newline: format != .u32)
            case .flush:
                try decoder.emit(final: false)
                try sink.flush()
            }
        }
        try decoder.emit(final: true)
        try sink.close()
        return output.bytes
    }

    static func textLine(_ ids: [UInt32]) -> String { ids.map(String.init).joined(separator: " ") + "\n" }
    static func jsonLine(_ ids: [UInt32]) -> String { "{\"ids\":[" + ids.map(String.init).joined(separator: ",") + "]}\n" }
    static func u32(_ ids: [UInt32]) -> [UInt8] { ids.flatMap { id in (0..<4).map { UInt8(truncatingIfNeeded: id >> (8 * $0)) } } }

    /// The reference: concatenated token bytes, then U+FFFD substitution.
    static func reference(_ ids: [UInt32], skipSpecial: Bool = false) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try tokenizer.decode(ids, skipSpecial: skipSpecial, into: &bytes)
        var lossy: [UInt8] = []
        bytes.withUnsafeBytes { UTF8Validation.replacingInvalid($0, into: &lossy) }
        return lossy
    }

    static func expectSame(_ got: [UInt8], _ expected: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard got != expected else { return }
        let at = zip(got, expected).prefix { $0 == $1 }.count
        Issue.record("\(what): \(got.count) bytes, expected \(expected.count); first difference at byte \(at)", sourceLocation: sourceLocation)
    }

    /// Every golden case as one document, in each format, against HF's texts.
    @Test(arguments: [IDInputFormat.text, .jsonl])
    func goldenCasesOnePerLine(format: IDInputFormat) throws {
        let input = Array(Self.cases.map { format == .text ? Self.textLine($0.ids) : Self.jsonLine($0.ids) }.joined().utf8)
        for skip in [false, true] {
            let expected = Array(Self.cases.map { (skip ? $0.skipped : $0.text) + "\n" }.joined().utf8)
            Self.expectSame(try Self.decode(input, format: format, skipSpecial: skip), expected, "\(format) skipSpecial \(skip)")
            Self.expectSame(try Self.decode(input, format: format, skipSpecial: skip, stream: true, chunk: 5), expected,
                            "\(format) skipSpecial \(skip), stream, 5-byte reads")
            Self.expectSame(try Self.decode(input, format: format, skipSpecial: skip, stream: true, chunk: 23, streamingThreshold: 9), expected,
                            "\(format) skipSpecial \(skip), lines decoded as they arrive")
        }
    }

    /// u32 is one document: each golden case alone, against HF's texts.
    @Test func goldenCasesAsU32() throws {
        for c in Self.cases {
            #expect(try Self.decode(Self.u32(c.ids), format: .u32) == Array(c.text.utf8), "\(c.name)")
            #expect(try Self.decode(Self.u32(c.ids), format: .u32, skipSpecial: true) == Array(c.skipped.utf8), "\(c.name)")
        }
    }

    /// All golden cases, 60 times over, in one document of ~350k ids: past the id batches (4096), the 1 MiB
    /// read blocks and the 1 MiB output blocks. A single-byte token (" |", id 91 "|") between cases makes
    /// HF's texts joined by "|" the expected output: U+FFFD substitution never reaches across an ASCII byte.
    @Test(arguments: [IDInputFormat.text, .jsonl, .u32])
    func longDocument(format: IDInputFormat) throws {
        let separator: UInt32 = 91
        #expect(Self.tokenizer.bytes(of: separator).elementsEqual("|".utf8))
        var ids: [UInt32] = []
        var texts: [String] = [], skipped: [String] = []
        for round in 0..<60 {
            for (k, c) in Self.cases.enumerated() {
                if round > 0 || k > 0 { ids.append(separator) }
                ids += c.ids
                texts.append(c.text)
                skipped.append(c.skipped)
            }
        }
        let input: [UInt8]
        switch format {
        case .text: input = Array(Self.textLine(ids).utf8)
        case .jsonl: input = Array(Self.jsonLine(ids).utf8)
        case .u32: input = Self.u32(ids)
        }
        let newline = format == .u32 ? "" : "\n"
        let expected = Array((texts.joined(separator: "|") + newline).utf8)
        let expectedSkipped = Array((skipped.joined(separator: "|") + newline).utf8)
        Self.expectSame(try Self.decode(input, format: format), expected, "\(format)")
        Self.expectSame(try Self.decode(input, format: format, skipSpecial: true), expectedSkipped, "\(format) --skip-special")
        Self.expectSame(try Self.decode(input, format: format, stream: true, chunk: 65_537), expected, "\(format) stream")
        Self.expectSame(try Self.decode(input, format: format, stream: true, chunk: 3), try Self.reference(ids) + Array(newline.utf8),
                        "\(format) stream, 3-byte reads")
        Self.expectSame(try Self.decode(input, format: format, stream: true, chunk: 4099, streamingThreshold: 64), expected,
                        "\(format) decoded as it arrives")
    }

    /// Random id sequences (valid ids, many of them bytes of split characters) against the reference, with
    /// numbers of every width and separators the text format allows.
    @Test func randomSequencesMatchTheReference() throws {
        var rng = SplitMix64(seed: 15)
        let n = UInt64(Self.tokenizer.vocabularySize)
        for round in 0..<40 {
            var ids: [UInt32] = []
            for _ in 0..<Int(rng.next() % 3000) {
                let r = rng.next()
                // Mostly the byte tokens (0...255 by rank order), where invalid UTF-8 comes from.
                var id = r % 4 == 0 ? UInt32((r >> 8) % n) : UInt32((r >> 8) % 256)
                while !Self.tokenizer.hasToken(id) { id = (id + 1) % UInt32(n) }
                ids.append(id)
            }
            let expected = try Self.reference(ids)
            let text = "[" + ids.map { String(repeating: "0", count: Int(rng.next() % 3)) + String($0) }.joined(separator: ", ") + "]\n"
            Self.expectSame(try Self.decode(Array(text.utf8), format: .text, chunk: round % 2 == 0 ? nil : 1 + Int(rng.next() % 20)),
                            expected + [0x0A], "round \(round) text")
            let json = "{\"other\": [1, {\"x\": \"]\"}], \"ids\": [ " + ids.map(String.init).joined(separator: " , ") + " ] }\n"
            Self.expectSame(try Self.decode(Array(json.utf8), format: .jsonl), expected + [0x0A], "round \(round) jsonl")
            Self.expectSame(try Self.decode(Self.u32(ids), format: .u32), expected, "round \(round) u32")
        }
    }

    /// Files of many short documents (empty ones, one id, a dozen; byte tokens that split characters across
    /// documents' ends), in text and JSONL lines as encode writes them: the id kernel ends the lines itself there;
    /// read whole, streamed and in small reads.
    @Test func manyShortDocumentsMatchTheReference() throws {
        var rng = SplitMix64(seed: 16)
        let n = UInt64(Self.tokenizer.vocabularySize)
        for round in 0..<6 {
            var documents: [[UInt32]] = []
            for _ in 0..<3000 {
                let length = rng.next() % 5 == 0 ? 0 : Int(rng.next() % 16)
                documents.append((0..<length).map { _ in
                    let r = rng.next()
                    var id = r % 3 == 0 ? UInt32((r >> 8) % 256) : UInt32((r >> 8) % n)
                    while !Self.tokenizer.hasToken(id) { id = (id + 1) % UInt32(n) }
                    return id
                })
            }
            var expected: [UInt8] = []
            for d in documents { expected += try Self.reference(d) + [0x0A] }
            let text = Array(documents.map { $0.map(String.init).joined(separator: " ") + "\n" }.joined().utf8)
            let json = Array(documents.map { "{\"ids\":[" + $0.map(String.init).joined(separator: ",") + "]}\n" }.joined().utf8)
            for (input, format) in [(text, IDInputFormat.text), (json, .jsonl)] {
                let chunk = round < 2 ? nil : 1 + Int(rng.next() % 5000)
                Self.expectSame(try Self.decode(input, format: format, stream: round % 2 == 1, chunk: chunk), expected,
                                "round \(round) \(format)")
            }
        }
    }

    /// Errors name the first bad id by its position, also past the first batch of a line, and an id out of
    /// range is reported before a syntax error after it on the same line.
    @Test func errorsNameTheFirstProblem() throws {
        func message(_ input: String, _ format: IDInputFormat) -> String {
            var messages: [String] = []
            // The same whole, and read in small pieces with JSONL lines decoded as they arrive.
            for (chunk, threshold) in [(nil, nil), (1000, 64)] as [(Int?, Int?)] {
                do {
                    _ = try Self.decode(Array(input.utf8), format: format, stream: chunk != nil, chunk: chunk, streamingThreshold: threshold)
                    messages.append("no error")
                } catch {
                    messages.append("\(error)".replacingOccurrences(of: "<choppy>", with: "<memory>"))
                }
            }
            #expect(messages[0] == messages[1], "read whole and streamed")
            return messages[0]
        }
        let many = Array(repeating: "9707", count: 5000)
        let text = (many + ["200000"] + many + ["x"]).joined(separator: " ") + "\n"
        #expect(message(text, .text).hasPrefix("id 200000 at position 5000 of line 1 of <memory> is out of range"), "\(message(text, .text))")
        let json = "{\"ids\":[" + (many + ["200000"] + many).joined(separator: ",") + ",1.5]}\n"
        #expect(message(json, .jsonl).hasPrefix("id 200000 at position 5000 of line 1 of <memory> is out of range"), "\(message(json, .jsonl))")
        let fraction = "{\"ids\":[" + many.joined(separator: ",") + ",1.5]}\n"
        #expect(message(fraction, .jsonl) == "<memory>: line 1: invalid JSON at byte 25008: expected an integer, found a fractional number")
        // Lines that end inside one run of ids (an empty one too) still count.
        #expect(message("1 2\n\n3 200000\n", .text).hasPrefix("id 200000 at position 1 of line 3 of <memory> is out of range"),
                "\(message("1 2\n\n3 200000\n", .text))")
        // Deep in a file of short lines (which the id kernel ends itself), with empty lines among them.
        var lines = (1...3000).map { n in [String](repeating: String(n % 151_000), count: 1 + n % 13).joined(separator: " ") }
        lines[1000] = ""
        lines[1001] = ""
        var bad = lines
        bad[2344] = "7 8 200000 9"
        #expect(message(bad.joined(separator: "\n") + "\n", .text).hasPrefix("id 200000 at position 2 of line 2345 of <memory> is out of range"),
                "\(message(bad.joined(separator: "\n") + "\n", .text))")
        let jsonLines = bad.map { "{\"ids\":[" + $0.split(separator: " ").joined(separator: ",") + "]}" }
        #expect(message(jsonLines.joined(separator: "\n") + "\n", .jsonl).hasPrefix("id 200000 at position 2 of line 2345 of <memory> is out of range"),
                "\(message(jsonLines.joined(separator: "\n") + "\n", .jsonl))")
        var syntax = lines
        syntax[2344] = "7 8 x 9"
        #expect(message(syntax.joined(separator: "\n") + "\n", .text)
            == "<memory>: line 2345: 'x' is not part of a token id (expected decimal ids separated by spaces or commas)")
        var jsonSyntax = lines.map { "{\"ids\":[" + $0.split(separator: " ").joined(separator: ",") + "]}" }
        jsonSyntax[2344] = "{\"ids\":[7,8,1.5,9]}"
        #expect(message(jsonSyntax.joined(separator: "\n") + "\n", .jsonl)
            == "<memory>: line 2345: invalid JSON at byte 12: expected an integer, found a fractional number")
        #expect(message("1 2\n3 99999999999\n", .text) == "<memory>: line 2: 99999999999 is not a token id (too large)")
        #expect(message("1 2\n3 9999999999999\n", .text) == "<memory>: line 2: a number of more than 12 digits is not a token id")
    }

    /// The SWAR digit count and value against the obvious loops, on words of digits and separators.
    @Test func decimalDigitsMatchTheReference() {
        var rng = SplitMix64(seed: 7)
        let alphabet: [UInt8] = Array("0123456789 ,[]\n\t/:\u{7F}".utf8) + [0x00, 0x80, 0xFF, 0xB0, 0xB9]
        for _ in 0..<200_000 {
            let digitsFirst = Int(rng.next() % 9)
            let bytes: [UInt8] = (0..<8).map { k in
                k < digitsFirst ? UInt8(0x30 + rng.next() % 10) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let count = DecimalDigits.leadingDigits(UInt64(littleEndian: word))
            #expect(count == DecimalDigits.referenceLeadingDigits(bytes))
            for byte: UInt8 in [0x20, 0x2C] {
                #expect(DecimalDigits.positions(of: byte, in: UInt64(littleEndian: word)) == DecimalDigits.referencePositions(of: byte, in: bytes))
            }
            if count > 0 {
                #expect(DecimalDigits.value(UInt64(littleEndian: word), count: count) == DecimalDigits.referenceValue(bytes, count: count))
            }
        }
    }

    /// The 64-byte-window id kernel (`qwenkit_separated_ids`), portable, AVX2 and AVX-512, with and without newlines ending
    /// documents, on random runs of ids with faults (long or empty fields, empty lines, other bytes): both paths take
    /// the same ids and ends and stop at the same field, every id taken is its field's value, every end counts the
    /// ids before its newline, the stop is just after a separator, and a run without faults is taken to within a
    /// window of its end.
    @Test func separatedIDKernelsMatchTheReference() {
        var rng = SplitMix64(seed: 11)
        let paths = [0] + (qwenkit_text_avx2_usable() == 1 ? [1] : []) + (qwenkit_text_avx512_usable() == 1 ? [2] : [])
        for round in 0..<20_000 {
            // Rounds by four: text lines (separator ' '), JSONL records (','), then the two without lines.
            let separator: UInt8 = round % 2 == 0 ? 0x20 : 0x2C
            let lines = round % 4 < 2
            let jsonl = lines && separator == 0x2C
            let recordBreak = Array("]}\n{\"ids\":[".utf8)
            var bytes: [UInt8] = []
            let fields = Int(rng.next() % 120)
            var faulty = false
            for _ in 0..<fields {
                let length = rng.next() % 50 == 0 ? Int(rng.next() % 12) : 1 + Int(rng.next() % 7)
                faulty = faulty || length == 0 || length > 7
                for _ in 0..<length { bytes.append(UInt8(0x30 + rng.next() % 10)) }
                if rng.next() % 200 == 0 {
                    bytes.append([0x0A, 0x5D, 0x2E, 0x2D, 0x80][Int(rng.next() % 5)])
                    faulty = true
                }
                if lines && rng.next() % 8 == 0 {
                    bytes += jsonl ? recordBreak : [0x0A]
                } else {
                    bytes.append(separator)
                }
            }
            let readable = bytes.count
            bytes += [UInt8](repeating: 0, count: 16)
            let capacity = 32 + Int(rng.next() % 400)
            let endCapacity = 32 + Int(rng.next() % 40)
            var results: [(Int, [UInt32], [Int32])] = []
            for path in paths {
                var ids = [UInt32](repeating: 0, count: capacity)
                var ends = [Int32](repeating: 0, count: endCapacity)
                let taken = bytes.withUnsafeBufferPointer { b in
                    ids.withUnsafeMutableBufferPointer { out in
                        ends.withUnsafeMutableBufferPointer { e in
                            var o = qwenkit_id_output(ids: out.baseAddress!, capacity: capacity, count: 0, ends: lines ? e.baseAddress! : nil,
                                                      end_capacity: endCapacity, end_count: 0, jsonl: jsonl ? 1 : 0)
                            let kernel = [qwenkit_separated_ids_portable, qwenkit_separated_ids_avx2, qwenkit_separated_ids_avx512][path]
                            let taken = kernel(b.baseAddress!, readable, separator, &o)
                            return (taken, o.count, o.end_count)
                        }
                    }
                }
                results.append((taken.0, Array(ids[0..<taken.1]), Array(ends[0..<taken.2])))
            }
            for other in results.dropFirst() {
                #expect(results[0].0 == other.0 && results[0].1 == other.1 && results[0].2 == other.2, "round \(round)")
            }
            let (taken, ids, ends) = results[0]
            // JSONL's record breaks become newlines, so that one reference serves both kinds of lines.
            var prefix = Array(bytes[0..<taken])
            if jsonl {
                var joined: [UInt8] = []
                var i = 0
                while i < prefix.count {
                    if prefix[i] == 0x5D && Array(prefix[i..<min(i + 11, prefix.count)]) == recordBreak {
                        joined.append(0x0A)
                        i += 11
                    } else {
                        joined.append(prefix[i])
                        i += 1
                    }
                }
                prefix = joined
            }
            let isEnd = { (b: UInt8) in b == separator || (lines && b == 0x0A) }
            let expected = prefix.split(omittingEmptySubsequences: false, whereSeparator: isEnd).dropLast()
                .map { $0.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - 0x30) } }
            var expectedEnds: [Int32] = []
            var before: Int32 = 0
            for b in prefix where isEnd(b) {
                before += 1
                if b == 0x0A { expectedEnds.append(before) }
            }
            #expect(ids == Array(expected) && ends == expectedEnds, "round \(round)")
            #expect(taken == 0 || isEnd(bytes[taken - 1]) || (jsonl && bytes[taken - 1] == 0x5B), "round \(round)")
            if !faulty && capacity >= 32 * (readable / 64 + 1) && endCapacity >= 32 * (readable / 64 + 1) {
                #expect(taken + 80 + 64 > readable, "round \(round): stopped at \(taken) of \(readable)")
            }
            if ids != Array(expected) || ends != expectedEnds { return }
        }
    }

    /// `count` gives as many tokens as `encode`, on every golden string, whole and with special tokens as text.
    @Test func countEqualsEncode() throws {
        let encoder = Self.tokenizer.makeEncoder()
        for c in Golden.handWritten + Golden.random {
            try Array(c.text.utf8).withUnsafeBufferPointer { text in
                for special in [SpecialTokenPolicy.parse, .text] {
                    var ids: [UInt32] = []
                    try encoder.encode(text, special: special, into: &ids)
                    #expect(try encoder.count(text, special: special) == ids.count, "\(c.name)")
                }
            }
        }
        // Long pieces (the heap merge) and cached ones (the same piece twice).
        let long = Array((String(repeating: "a", count: 5000) + " " + String(repeating: "ab", count: 300) + " xyzzy xyzzy").utf8)
        try long.withUnsafeBufferPointer { text in
            var ids: [UInt32] = []
            try encoder.encode(text, into: &ids)
            #expect(try encoder.count(text) == ids.count)
        }
    }
}
