import Foundation
import Testing
import TestSupport
@testable import QwenTokenizer

/// Qwen2Scanner must split exactly as PCRE2 does with Tokenizer.qwen2Pattern (the reference).
@Suite struct ScannerTests {
    static let regex = try! PCRE2Regex(Tokenizer.qwen2Pattern)

    /// Piece end offsets (the starts follow: pieces are consecutive).
    static func scannerEnds(_ bytes: [UInt8], _ scanner: Qwen2Scanner) -> [Int] {
        var ends: [Int] = []
        var expectedStart = 0
        bytes.withUnsafeBufferPointer { buffer in
            scanner.forEachPiece(buffer) { start, end in
                // A gap or an overlap would show up as a start that is not the previous end.
                ends.append(start == expectedStart && end > start ? end : -1)
                expectedStart = end
            }
        }
        return ends
    }

    static func pcre2Ends(_ bytes: [UInt8], _ matcher: PCRE2Matcher) throws -> [Int] {
        var ends: [Int] = []
        try bytes.withUnsafeBufferPointer { buffer in
            try matcher.forEachPiece(buffer) { _, end in ends.append(end) }
        }
        return ends
    }

    static func describe(_ bytes: [UInt8], _ ends: [Int]) -> String {
        var start = 0
        var pieces: [String] = []
        for end in ends {
            guard end >= start, end <= bytes.count else { pieces.append("<bad \(end)>"); continue }
            pieces.append(String(decoding: bytes[start..<end], as: UTF8.self).debugDescription)
            start = end
        }
        return "[" + pieces.joined(separator: ", ") + "]"
    }

    /// Compares scanner and PCRE2 on `bytes`; records an issue (up to a limit) when they differ.
    static func check(_ bytes: [UInt8], _ scanner: Qwen2Scanner, _ matcher: PCRE2Matcher, failures: inout Int,
                      quiet: Bool = false, _ label: @autoclosure () -> String = "") throws {
        let mine = scannerEnds(bytes, scanner)
        let reference = try pcre2Ends(bytes, matcher)
        if mine != reference {
            failures += 1
            if failures <= 10 && !quiet {
                let text = String(decoding: bytes, as: UTF8.self).debugDescription
                Issue.record("\(label()) \(text.prefix(300)): scanner \(describe(bytes, mine).prefix(600)) != PCRE2 \(describe(bytes, reference).prefix(600))")
            }
        }
    }

    /// Code points where UnicodeClasses deliberately follows HF's newer Unicode instead of PCRE2's
    /// (none unless the tables were generated with --hf-unicode): not compared with PCRE2.
    static let hfOnly = Set(UnicodeClasses.hfOnlyRanges.flatMap { Array($0) })

    static func isHFOnly(_ scalar: UInt32) -> Bool { !hfOnly.isEmpty && hfOnly.contains(scalar) }

    @Test func tableDecodesToTheGeneratedBytes() {
        let t = UnicodeClasses.table
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        for i in 0..<UnicodeClasses.stage1Count { mix(t[UnicodeClasses.stage1Offset + i]) }
        for i in 0..<UnicodeClasses.stage2Count { mix(t[UnicodeClasses.stage2Offset + i]) }
        #expect(h == UnicodeClasses.checksum)
        let f = { (c: UInt32) in UnicodeClasses.flags(c, t) }
        #expect(f(0x61) == UnicodeClasses.letter)
        #expect(f(0x53) == UnicodeClasses.letter | UnicodeClasses.foldS << UnicodeClasses.foldShift)
        #expect(f(0x17F) == UnicodeClasses.letter | UnicodeClasses.foldS << UnicodeClasses.foldShift)
        #expect(f(0x4E2D) == UnicodeClasses.letter)
        #expect(f(0x31) == UnicodeClasses.number)
        #expect(f(0xBD) == UnicodeClasses.number)  // ½ (No)
        #expect(f(0x0A) == UnicodeClasses.space | UnicodeClasses.newline)
        #expect(f(0x3000) == UnicodeClasses.space)
        #expect(f(0x180E) == 0 && f(0x200B) == 0 && f(0xFEFF) == 0 && f(0x1C) == 0)
        #expect(f(0x301) == 0)  // combining acute (Mn)
        #expect(f(0x1F600) == 0)
        #expect(f(0x1FFFFF) == 0)  // beyond Unicode, reachable from invalid UTF-8: still in bounds
        for b in 0..<256 { #expect(t[b] == (b < 128 ? f(UInt32(b)) : 0)) }
    }

    @Test func knownSplits() throws {
        let scanner = Qwen2Scanner()
        let cases: [(String, [String])] = [
            ("a  b", ["a", " ", " b"]),
            ("ab  ", ["ab", "  "]),
            ("foo!!\n\n\nbar", ["foo", "!!\n\n\n", "bar"]),
            ("a   \n\n b", ["a", "   \n\n", " b"]),
            ("IT'S it's 'ſ 're 'RE 'rx", ["IT", "'S", " it", "'s", " '", "ſ", " '", "re", " '", "RE", " '", "rx"]),
            ("'sa''s", ["'s", "a", "''", "s"]),
            ("x\u{2028}y", ["x", "\u{2028}y"]),
            ("\t\tfoo", ["\t", "\tfoo"]),
            ("12345", ["1", "2", "3", "4", "5"]),
            ("$x \u{3000}中文。", ["$x", " ", "\u{3000}中文", "。"]),
            (" !\n x\n", [" !\n", " x", "\n"]),
            ("e\u{301}", ["e", "\u{301}"]),
        ]
        for (text, expected) in cases {
            let bytes = Array(text.utf8)
            let ends = Self.scannerEnds(bytes, scanner)
            var start = 0
            let pieces = ends.map { end -> String in
                defer { start = end }
                return end > start ? String(decoding: bytes[start..<end], as: UTF8.self) : "<bad>"
            }
            #expect(pieces == expected, "\(text.debugDescription)")
        }
    }

    @Test func goldenTextsMatchPCRE2() throws {
        let scanner = Qwen2Scanner()
        let matcher = PCRE2Matcher(Self.regex)
        var failures = 0
        var count = 0
        for c in Golden.handWritten + Golden.random {
            for text in [c.text, c.nfc] {
                try Self.check(Array(text.utf8), scanner, matcher, failures: &failures, c.name)
                count += 1
            }
        }
        // The Unicode edge cases too (new code points, marks, NFC traps).
        for (n, line) in Golden.lines("tokenizer-golden/unicode-edge.jsonl").enumerated() {
            for key in ["text", "nfc"] {
                guard let text = line[key] as? String else { continue }
                try Self.check(Array(text.utf8), scanner, matcher, failures: &failures, "unicode-edge line \(n + 1)")
                count += 1
            }
        }
        #expect(count > 8000)
        #expect(failures == 0, "\(failures) of \(count) golden texts split differently")
    }

    /// SplitMix64: deterministic across platforms and Swift versions.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Units the fuzz strings are made of, by kind; each kind is drawn with its weight.
    static let fuzzAlphabet: [(weight: Int, units: [String])] = {
        func s(_ scalars: [UInt32]) -> [String] { scalars.map { String(Character(UnicodeScalar($0)!)) } }
        func range(_ r: ClosedRange<UInt32>) -> [String] { s(Array(r)) }
        let asciiLetters: [String] = range(0x61...0x7A) + range(0x41...0x5A)
        let digits: [String] = range(0x30...0x39)
        let punctuation: [String] = range(0x21...0x2F) + range(0x3A...0x40) + range(0x5B...0x60) + range(0x7B...0x7E)
        let contractions: [String] = ["'s", "'S", "'t", "'T", "'re", "'RE", "'rE", "'Re", "'ve", "'VE", "'m", "'M",
                                      "'ll", "'LL", "'lL", "'d", "'D", "'\u{17F}", "'r", "'v", "'l", "'", "''",
                                      "'\u{17F}s", "'K", "'\u{212A}"]
        let spaces: [String] = [" ", " ", " ", "  ", "\n", "\n", "\r\n", "\r", "\t"]
        let white: [String] = s([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002,
                                 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029,
                                 0x202F, 0x205F, 0x3000, 0x180E, 0x200B, 0xFEFF, 0x1C, 0x1D, 0x1E, 0x1F])
        let letters: [String] = s([0xE9, 0xDF, 0x3A9, 0x436, 0x5D0, 0x639, 0x939, 0xE01, 0xAC00, 0x3072, 0x30AB,
                                   0x4E2D, 0x6587, 0x20000, 0x1D49C, 0x1C5, 0x2B0, 0x17F, 0x212A, 0x10D0, 0x13A0,
                                   0x1200, 0xAA, 0xBA, 0x2C65])
        let marks: [String] = s([0x301, 0x308, 0x93F, 0xE31, 0x200D, 0xFE0F, 0x20DD, 0x1F3FD, 0x5B4, 0x64B, 0x3099])
        let numbers: [String] = s([0xB2, 0xBD, 0x216B, 0x663, 0x2460, 0x1D7D8, 0x3007, 0x10107, 0xFF11, 0x96F6,
                                   0x1D7CE])
        let emoji: [String] = ["\u{1F600}", "\u{1F44D}\u{1F3FD}", "\u{1F1FA}\u{1F1F8}", "\u{2713}",
                               "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", "\u{1F642}", "\u{2764}\u{FE0F}"]
        let cjkPunctuation: [String] = s([0x3000, 0xA0, 0x3001, 0x3002, 0x300C, 0x300D, 0xFF01, 0xFF0C, 0x2014,
                                          0x2026, 0x201C, 0xAB])
        let odd: [String] = s([0x00, 0x01, 0x7F, 0x85, 0xAD, 0xE000, 0x378, 0xFFFF, 0x10FFFF, 0xFFFD, 0x2060, 0x61C])
        var kinds: [(weight: Int, units: [String])] = []
        kinds.append((30, asciiLetters))
        kinds.append((6, digits))
        kinds.append((10, punctuation))
        kinds.append((8, contractions))
        kinds.append((14, spaces))
        kinds.append((8, white))
        kinds.append((8, letters))
        kinds.append((5, marks))
        kinds.append((4, numbers))
        kinds.append((4, emoji))
        kinds.append((4, cjkPunctuation))
        kinds.append((2, odd))
        return kinds.map { kind in
            (kind.weight, kind.units.filter { unit in !unit.unicodeScalars.contains { isHFOnly($0.value) } })
        }
    }()

    @Test func randomStringsMatchPCRE2() throws {
        let scanner = Qwen2Scanner()
        let matcher = PCRE2Matcher(Self.regex)
        let alphabet = Self.fuzzAlphabet.map { $0.units.map { Array($0.utf8) } }
        let totalWeight = Self.fuzzAlphabet.reduce(0) { $0 + $1.weight }
        var kindOf: [Int] = []
        for (k, entry) in Self.fuzzAlphabet.enumerated() { kindOf += Array(repeating: k, count: entry.weight) }
        var random = Random(state: 0x5157_454E_4B49_5432)  // fixed seed
        var failures = 0
        var bytes: [UInt8] = []
        let count = 200_000
        for _ in 0..<count {
            bytes.removeAll(keepingCapacity: true)
            // Mostly one "mood" per string (a few kinds dominate), so long runs of one kind occur too.
            let favourite = kindOf[random.below(totalWeight)]
            for _ in 0..<random.below(41) {
                let kind = random.below(3) == 0 ? favourite : kindOf[random.below(totalWeight)]
                let units = alphabet[kind]
                bytes += units[random.below(units.count)]
            }
            try Self.check(bytes, scanner, matcher, failures: &failures)
        }
        #expect(failures == 0, "\(failures) of \(count) random strings split differently")
    }

    /// Every scalar value c, in contexts that reveal its class to the pattern: letter or not (after "a"),
    /// whitespace or other (after " "), number (before "1"), case folding in a contraction ("'c", "'rc",
    /// "'vc", "'lc"), next to CR/LF.
    @Test func everyScalarMatchesPCRE2() throws {
        let scanner = Qwen2Scanner()
        let matcher = PCRE2Matcher(Self.regex)
        var failures = 0
        var bytes: [UInt8] = []
        bytes.reserveCapacity(80 * 512)
        func probe(_ c: UInt32, into bytes: inout [UInt8]) {
            // UTF-8 of c, appended without temporaries (this runs 1.1 million times in debug builds).
            func put(_ c: UInt32, _ bytes: inout [UInt8]) {
                if c < 0x80 {
                    bytes.append(UInt8(c))
                } else if c < 0x800 {
                    bytes.append(UInt8(0xC0 | c >> 6)); bytes.append(UInt8(0x80 | c & 0x3F))
                } else if c < 0x10000 {
                    bytes.append(UInt8(0xE0 | c >> 12)); bytes.append(UInt8(0x80 | c >> 6 & 0x3F))
                    bytes.append(UInt8(0x80 | c & 0x3F))
                } else {
                    bytes.append(UInt8(0xF0 | c >> 18)); bytes.append(UInt8(0x80 | c >> 12 & 0x3F))
                    bytes.append(UInt8(0x80 | c >> 6 & 0x3F)); bytes.append(UInt8(0x80 | c & 0x3F))
                }
            }
            // "a" + c + " " + c + "'s" + c + "\n" + c + "1", then "'" + c + "x", "'r" + c + "x",
            // "'v" + c + "x", "'l" + c + "x", " " + c + c + "!".
            let template: [UInt32] = [0x61, c, 0x20, c, 0x27, 0x73, c, 0x0A, c, 0x31, 0x27, c, 0x78, 0x27, 0x72, c, 0x78,
                                      0x27, 0x76, c, 0x78, 0x27, 0x6C, c, 0x78, 0x20, c, c, 0x21]
            for unit in template { put(unit, &bytes) }
        }
        var chunk: [UInt32] = []
        func flush() throws {
            bytes.removeAll(keepingCapacity: true)
            for c in chunk { probe(c, into: &bytes) }
            var chunkFailures = 0
            try Self.check(bytes, scanner, matcher, failures: &chunkFailures, quiet: true)
            if chunkFailures > 0 {
                // Narrow down to the scalar values.
                for c in chunk {
                    bytes.removeAll(keepingCapacity: true)
                    probe(c, into: &bytes)
                    try Self.check(bytes, scanner, matcher, failures: &failures, String(format: "U+%04X", c))
                }
            }
            chunk.removeAll(keepingCapacity: true)
        }
        var tested = 0
        for c: UInt32 in 0...0x10FFFF where !(0xD800...0xDFFF).contains(c) && !Self.isHFOnly(c) {
            chunk.append(c)
            tested += 1
            if chunk.count == 512 { try flush() }
        }
        try flush()
        #expect(tested >= 0x10F800 - 10_000)
        #expect(failures == 0, "\(failures) scalar values split differently")
    }

    /// Invalid UTF-8 gives some split, never a crash, an overlap or a gap.
    @Test func invalidUTF8StaysInBounds() {
        let scanner = Qwen2Scanner()
        var random = Random(state: 42)
        let pieces: [[UInt8]] = [[0x80], [0xBF], [0xC2], [0xE4, 0xB8], [0xF0, 0x9F, 0x98], [0xF7, 0xBF, 0xBF, 0xBF],
                                 [0xFF], [0x27], [0x20], [0x61], [0x0A], [0xC5, 0xBF], [0xE3, 0x80, 0x80]]
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<random.below(12) { bytes += pieces[random.below(pieces.count)] }
            let ends = Self.scannerEnds(bytes, scanner)
            #expect(!ends.contains(-1) && (ends.last ?? 0) == bytes.count)
        }
    }
}
