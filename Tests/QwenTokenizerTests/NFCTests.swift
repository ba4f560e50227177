import Foundation
import Testing
import TestSupport
@testable import QwenTokenizer

/// NFC against golden data from Hugging Face `tokenizers` (Fixtures/nfc-golden, see its README).
@Suite struct NFCTests {
    struct Line {
        let number: Int
        let input: [UInt8]
        let nfc: [UInt8]
    }

    /// Fixtures/nfc-golden/nfc.jsonl, found from this file: Tests/QwenTokenizerTests/NFCTests.swift.
    static let golden: [Line] = {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("Fixtures/nfc-golden/nfc.jsonl")
        guard let data = try? Data(contentsOf: url) else { return [] }
        var lines: [Line] = []
        for (number, raw) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(raw)) as? [String: String],
                  let input = object["in"], let nfc = object["nfc"] else {
                lines.append(Line(number: number + 1, input: [], nfc: [0xFF])) // reported as a failure
                continue
            }
            // Compare bytes: String == is canonical equivalence, which would hide every difference.
            lines.append(Line(number: number + 1, input: Array(input.utf8), nfc: Array(nfc.utf8)))
        }
        return lines
    }()

    static func hex(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).unicodeScalars
            .map { String($0.value, radix: 16, uppercase: true) }.joined(separator: " ")
    }

    func normalized(_ bytes: [UInt8], _ normalizer: NFCNormalizer = NFCNormalizer()) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBufferPointer { normalizer.normalize($0, into: &out) }
        return out
    }

    func unstableOffset(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { NFCNormalizer().firstUnstableOffset($0) }
    }

    @Test func goldenFileIsThere() {
        #expect(Self.golden.count > 3000, "Fixtures/nfc-golden/nfc.jsonl missing or short")
    }

    @Test func matchesHuggingFaceOnEveryGoldenLine() {
        let normalizer = NFCNormalizer()
        var failures: [String] = []
        for line in Self.golden {
            let out = normalized(line.input, normalizer)
            if out != line.nfc {
                failures.append("line \(line.number): in [\(Self.hex(line.input))] got [\(Self.hex(out))] want [\(Self.hex(line.nfc))]")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches:\n\(failures.prefix(20).joined(separator: "\n"))")
    }

    @Test func quickCheckNeverClearsTextThatChanges() {
        var failures: [Int] = []
        var provedNFC = 0
        for line in Self.golden {
            if let offset = unstableOffset(line.input) {
                // The bytes before the scalar preceding the offset (which may compose with the
                // unstable one) are unchanged by NFC: they are a prefix of the output.
                var before = max(offset - 1, 0)
                while before > 0 && line.input[before] & 0xC0 == 0x80 { before -= 1 }
                if !line.nfc.starts(with: line.input[..<before]) { failures.append(line.number) }
                // ... and the offset is at a scalar boundary.
                if offset < line.input.count && line.input[offset] & 0xC0 == 0x80 { failures.append(line.number) }
            } else {
                provedNFC += 1
                if line.input != line.nfc { failures.append(line.number) }
            }
        }
        #expect(failures.isEmpty, "lines \(failures.prefix(20))")
        #expect(provedNFC > 100)
    }

    /// The quick check's shortcuts: no scalar with lead byte E4-E9 or EB-ED (U+4000...U+9FFF, U+B000...U+D7FF; D800 on
    /// are surrogates, not in UTF-8) needs attention by the table, the
    /// eight-byte lead test equals the obvious one, and on text of such runs with a scalar that needs attention at
    /// every offset (and every end) the scan finds the same offset as a scalar-by-scalar walk.
    @Test func quickCheckShortcutsAgreeWithTheTable() {
        let table = nfcQuickCheckTable
        for scalar in Array(UInt32(0x4000)...0x9FFF) + Array(UInt32(0xB000)...0xD7FF) {
            let bytes = Array(String(UnicodeScalar(scalar)!).utf8)
            #expect(!bytes.withUnsafeBufferPointer { table.needsAttention($0.baseAddress!, available: 3) }, "U+\(String(scalar, radix: 16))")
        }
        var rng = SplitMix64(seed: 21)
        for _ in 0..<100_000 {
            let bytes = (0..<8).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            var expected: UInt64 = 0
            for (k, b) in bytes.enumerated() where b >= 0xC0 && !(0xE4...0xE9).contains(b) && !(0xEB...0xED).contains(b) {
                expected |= 0x80 << UInt64(8 * k)
            }
            #expect(NFCQuickCheckTable.otherLeads(UInt64(littleEndian: word)) == expected)
        }
        let pieces = ["中", "文", "字", "한", "국", "a", " ", "，", "。", "é", "\u{A000}"].map { Array($0.utf8) }
        let attention = [Array("e\u{301}".utf8).suffix(2), Array("\u{F900}".utf8)[...], Array("\u{3099}".utf8)[...]]
        for length in [0, 1, 7, 8, 9, 23, 64, 100] {
            var base: [UInt8] = []
            while base.count < length { base += pieces[Int(rng.next() % UInt64(pieces.count))] }
            for mark in attention {
                var cut = 0
                while cut <= base.count {
                    let bytes = Array(base[..<cut]) + Array(mark) + Array(base[cut...])
                    var walk = 0
                    while walk < bytes.count && !bytes.withUnsafeBufferPointer({ table.needsAttention($0.baseAddress! + walk, available: bytes.count - walk) }) {
                        walk += bytes[walk] < 0x80 ? 1 : bytes[walk] < 0xE0 ? 2 : bytes[walk] < 0xF0 ? 3 : 4
                    }
                    let scanned = bytes.withUnsafeBufferPointer { table.scan($0.baseAddress!, from: 0, end: bytes.count) }
                    #expect(scanned == min(walk, bytes.count), "\(bytes)")
                    cut += 1
                    while cut < base.count && base[cut] & 0xC0 == 0x80 { cut += 1 }
                }
            }
        }
    }

    @Test func outputIsStable() {
        // NFC is idempotent, and normalize appends without touching what is already in `output`.
        var failures: [Int] = []
        for line in Self.golden where normalized(line.nfc) != line.nfc { failures.append(line.number) }
        #expect(failures.isEmpty, "lines \(failures.prefix(20))")
        var out: [UInt8] = Array("prefix|".utf8)
        Array("e\u{301}".utf8).withUnsafeBufferPointer { NFCNormalizer().normalize($0, into: &out) }
        #expect(out == Array("prefix|\u{E9}".utf8))
    }

    @Test func splittingAtStableBoundariesCommutesWithNFC() {
        let normalizer = NFCNormalizer()
        var failures: [String] = []
        var boundaries = 0
        for line in Self.golden where line.input.count < 400 {
            line.input.withUnsafeBufferPointer { text in
                for offset in 0...text.count where offset == text.count || text[offset] & 0xC0 != 0x80 {
                    guard normalizer.isStableBoundary(text, at: offset) else { continue }
                    boundaries += 1
                    var out: [UInt8] = []
                    normalizer.normalize(UnsafeBufferPointer(rebasing: text[..<offset]), into: &out)
                    normalizer.normalize(UnsafeBufferPointer(rebasing: text[offset...]), into: &out)
                    if out != line.nfc { failures.append("line \(line.number) at \(offset)") }
                }
            }
        }
        #expect(boundaries > 10_000)
        #expect(failures.isEmpty, "\(failures.prefix(20))")
    }

    @Test func boundaryClassification() {
        let normalizer = NFCNormalizer()
        func stable(_ s: String) -> Bool {
            Array(s.utf8).withUnsafeBufferPointer { normalizer.isStableBoundary($0, at: 0) }
        }
        for s in ["a", " ", "\u{E9}", "\u{4E2D}", "\u{AC00}", "\u{1100}", "\u{1F600}", "\u{20000}", "\u{1DF6}"] {
            #expect(stable(s), "U+\(String(s.unicodeScalars.first!.value, radix: 16))")
        }
        // Non-starters, QC=Maybe (composes backward, Hangul V/T), QC=No (singletons, exclusions).
        for s in ["\u{301}", "\u{327}", "\u{1161}", "\u{11A8}", "\u{3099}", "\u{CD5}", "\u{212B}", "\u{2126}",
                  "\u{958}", "\u{344}", "\u{F73}", "\u{1D15E}", "\u{2F800}", "\u{1E94A}"] {
            #expect(!stable(s), "U+\(String(s.unicodeScalars.first!.value, radix: 16))")
        }
        Array("ab".utf8).withUnsafeBufferPointer { #expect(!normalizer.isStableBoundary($0, at: 2)) }
    }

    @Test func knownCases() {
        let cases: [(String, String)] = [
            ("\u{212B}", "\u{C5}"), ("\u{2126}", "\u{3A9}"), ("\u{958}", "\u{915}\u{93C}"),
            ("\u{344}", "\u{308}\u{301}"), ("\u{F73}", "\u{F71}\u{F72}"), ("\u{F75}", "\u{F71}\u{F74}"),
            ("\u{F81}", "\u{F71}\u{F80}"), ("\u{1D15E}", "\u{1D157}\u{1D165}"),
            ("\u{1100}\u{1161}\u{11A8}", "\u{AC01}"), ("\u{AC00}\u{11A7}", "\u{AC00}\u{11A7}"),
            ("a\u{328}\u{301}\u{323}", "\u{105}\u{323}\u{301}"), ("e\u{323}\u{302}", "\u{1EC7}"),
            // HF's Unicode 9.0 data: U+1DF6 (10.0) is a starter there, U+11938 (13.0) never composes.
            ("a\u{1DF6}\u{301}", "a\u{1DF6}\u{301}"), ("\u{11935}\u{11930}", "\u{11935}\u{11930}"),
            ("", ""), ("plain ascii", "plain ascii"),
        ]
        for (input, expected) in cases {
            #expect(normalized(Array(input.utf8)) == Array(expected.utf8), "\(Self.hex(Array(input.utf8)))")
        }
    }

    @Test func longRunsOfMarks() {
        // Spans past the stack scratch (heap path) and runs past the insertion sort (counting sort).
        var input = Array("x".utf8)
        var expected = Array("x".utf8)
        let marks: [UInt32] = [0x301, 0x323, 0x334, 0x345, 0x300, 0x327]
        var sorted: [(UInt32, Int, UInt32)] = []
        let ccc: [UInt32: UInt32] = [0x301: 230, 0x323: 220, 0x334: 1, 0x345: 240, 0x300: 230, 0x327: 202]
        for i in 0..<3000 {
            let m = marks[(i * 7 + i / 5) % marks.count]
            input += Array(String(UnicodeScalar(m)!).utf8)
            sorted.append((ccc[m]!, i, m))
        }
        sorted.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        for (_, _, m) in sorted { expected += Array(String(UnicodeScalar(m)!).utf8) }
        input += Array("y".utf8)
        expected += Array("y".utf8)
        #expect(normalized(input) == expected)
    }

    @Test func tablesAreBuiltFast() {
        let clock = ContinuousClock()
        var quick: NFCQuickCheckTable?
        var slow: NFCSlowTables?
        let elapsed = clock.measure {
            quick = NFCQuickCheckTable()
            slow = NFCSlowTables()
        }
        quick?.deallocate()
        slow?.deallocate()
        #expect(elapsed < .milliseconds(50)) // ~0.1-0.2 ms in release, a few ms in debug; generous for loaded CI
    }
}
