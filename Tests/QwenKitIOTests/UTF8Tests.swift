import Foundation
import Testing
import TestSupport
@testable import QwenKitIO

/// One case of Fixtures/utf8-golden/replace.jsonl (made by Fixtures/scripts/make_utf8_golden.py from CPython).
struct GoldenCase: CustomTestStringConvertible, Sendable {
    let name: String
    let input: [UInt8]
    let replaced: [UInt8]
    let firstInvalid: Int?
    let json: [UInt8]
    var testDescription: String { name }
}

let goldenCases: [GoldenCase] = {
    let path = fixturePath("utf8-golden/replace.jsonl")
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let name = object["name"] as? String else { return nil }  // the _meta line
        return GoldenCase(
            name: name,
            input: hexBytes(object["in"] as! String),
            replaced: hexBytes(object["out"] as! String),
            firstInvalid: object["first_invalid"] as? Int,
            json: hexBytes(object["json"] as! String))
    }
}()

private func firstInvalid(_ bytes: [UInt8]) -> Int? {
    bytes.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0) }
}

private func replaced(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    bytes.withUnsafeBytes { UTF8Validation.replacingInvalid($0, into: &out) }
    return out
}

@Suite("UTF-8 validation and replacement")
struct UTF8Tests {
    /// Expected offsets from CPython 3.11: `UnicodeDecodeError.start` of `data.decode('utf-8')`.
    static let tricky: [(String, [UInt8], Int?)] = [
        ("empty", [], nil),
        ("nul and controls", [0x61, 0x00, 0x62, 0x01, 0x1F, 0x7F], nil),
        ("2-byte min U+0080", [0xC2, 0x80], nil),
        ("2-byte max U+07FF", [0xDF, 0xBF], nil),
        ("3-byte min U+0800", [0xE0, 0xA0, 0x80], nil),
        ("3-byte U+FFFF", [0xEF, 0xBF, 0xBF], nil),
        ("4-byte min U+10000", [0xF0, 0x90, 0x80, 0x80], nil),
        ("4-byte max U+10FFFF", [0xF4, 0x8F, 0xBF, 0xBF], nil),
        ("U+D7FF before surrogates", [0xED, 0x9F, 0xBF], nil),
        ("U+E000 after surrogates", [0xEE, 0x80, 0x80], nil),
        ("U+2028 U+2029", [0x78, 0xE2, 0x80, 0xA8, 0x79, 0xE2, 0x80, 0xA9, 0x7A], nil),
        ("BOM", [0xEF, 0xBB, 0xBF, 0x61, 0x62, 0x63], nil),
        ("overlong C0 80 (NUL)", [0xC0, 0x80], 0),
        ("overlong C1 BF", [0xC1, 0xBF], 0),
        ("overlong E0 80 80", [0xE0, 0x80, 0x80], 0),
        ("overlong E0 9F BF", [0xE0, 0x9F, 0xBF], 0),
        ("overlong F0 80 80 80", [0xF0, 0x80, 0x80, 0x80], 0),
        ("overlong F0 8F BF BF", [0xF0, 0x8F, 0xBF, 0xBF], 0),
        ("surrogate U+D800", [0xED, 0xA0, 0x80], 0),
        ("surrogate U+DFFF", [0xED, 0xBF, 0xBF], 0),
        ("surrogate pair as CESU-8", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80], 0),
        ("above U+10FFFF: F4 90", [0xF4, 0x90, 0x80, 0x80], 0),
        ("F5 lead", [0xF5, 0x80, 0x80, 0x80], 0),
        ("FF byte", [0x61, 0xFF, 0x62], 1),
        ("FE FF", [0xFE, 0xFF], 0),
        ("stray continuation", [0x61, 0x80, 0x62], 1),
        ("stray continuations x3", [0x80, 0xBF, 0x80], 0),
        ("truncated 2-byte at end", [0x61, 0x62, 0xC3], 2),
        ("truncated 3-byte at end (1 of 3)", [0x61, 0x62, 0xE4], 2),
        ("truncated 3-byte at end (2 of 3)", [0x61, 0x62, 0xE4, 0xB8], 2),
        ("truncated 4-byte at end (3 of 4)", [0x61, 0x62, 0xF0, 0x9F, 0x98], 2),
        ("truncated 3-byte then ASCII", [0xE4, 0xB8, 0x41], 0),
        ("truncated 4-byte then ASCII", [0xF0, 0x9F, 0x98, 0x41], 0),
        ("truncated 4-byte then new lead", [0xF0, 0x9F, 0xE4, 0xB8, 0xAD], 0),
        ("lead then lead", [0xC3, 0xC3, 0xA9], 0),
        ("E0 then invalid second byte", [0xE0, 0x80], 0),
        ("ED then A0 at end", [0xED, 0xA0], 0),
        ("F0 then 80 at end", [0xF0, 0x80], 0),
        ("F4 then 90 at end", [0xF4, 0x90], 0),
        ("Unicode 5.22 example", [0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64], 1),
        // Long ones cross the 32-byte ASCII skip and the 64-byte DFA blocks.
        ("invalid after 100 ASCII", [UInt8](repeating: 0x61, count: 100) + [0xFF, 0x62], 100),
        ("invalid after 50 CJK", Array(String(repeating: "中", count: 50).utf8) + [0xFF], 150),
        ("truncated after 50 CJK", Array(String(repeating: "中", count: 50).utf8) + [0xE4, 0xB8], 150),
        ("4-byte across a block edge, then a surrogate",
         [UInt8](repeating: 0x61, count: 62) + [0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0x80], 66),
        ("stray continuation right after a 4-byte at a block edge",
         [UInt8](repeating: 0x61, count: 60) + [0xF0, 0x9F, 0x98, 0x80, 0x80], 64),
    ]

    @Test("tricky cases: the offset Python reports")
    func trickyTable() {
        for (name, bytes, expected) in UTF8Tests.tricky {
            #expect(firstInvalid(bytes) == expected, "\(name)")
            #expect(bytes.withUnsafeBytes { UTF8Reference.firstInvalidOffset($0) } == expected, "\(name) (reference)")
        }
    }

    @Test("golden file exists and is not empty")
    func goldenLoaded() {
        #expect(goldenCases.count >= 400)
    }

    @Test("golden cases from CPython: first invalid offset, errors='replace', reference agrees")
    func golden() {
        for c in goldenCases {
            #expect(firstInvalid(c.input) == c.firstInvalid, "\(c.name)")
            #expect(replaced(c.input) == c.replaced, "\(c.name)")
            #expect(c.input.withUnsafeBytes { UTF8Reference.replacingInvalid($0) } == c.replaced, "\(c.name) (reference)")
        }
    }

    @Test("replacement chunk by chunk at every cut point equals replacement of the whole")
    func chunkedReplacement() {
        for c in goldenCases where c.input.count <= 120 {
            for cut in 0...c.input.count {
                var out: [UInt8] = []
                var carry: [UInt8] = []
                for part in [Array(c.input[..<cut]), Array(c.input[cut...])] {
                    let buffer = carry + part
                    let keep = part.isEmpty ? buffer.count  // end of stream: flush everything
                        : buffer.withUnsafeBytes { UTF8Validation.lastCompleteBoundary($0) }
                    buffer.withUnsafeBytes {
                        UTF8Validation.replacingInvalid(UnsafeRawBufferPointer(rebasing: $0[..<keep]), into: &out)
                    }
                    carry = Array(buffer[keep...])
                }
                out += replaced(carry)
                #expect(out == c.replaced, "\(c.name) cut at \(cut)")
            }
        }
    }

    @Test("incompleteSuffixLength holds back exactly valid proper prefixes")
    func incompleteSuffix() {
        let cases: [([UInt8], Int)] = [
            ([], 0), ([0x61], 0), ([0xC3], 1), ([0xC3, 0xA9], 0), ([0xE4], 1), ([0xE4, 0xB8], 2),
            ([0xE4, 0xB8, 0xAD], 0), ([0xF0, 0x9F, 0x98], 3), ([0xF0, 0x9F, 0x98, 0x80], 0),
            ([0xE0, 0x80], 0), ([0xED, 0xA0], 0), ([0xF4, 0x90], 0), ([0xC0], 0), ([0xF5], 0), ([0x80], 0),
            ([0x80, 0x80, 0x80], 0), ([0x61, 0xF0, 0x90], 2), ([0xE0, 0xA0], 2), ([0xED, 0x9F], 2),
        ]
        for (bytes, expected) in cases {
            #expect(bytes.withUnsafeBytes { UTF8Validation.incompleteSuffixLength($0) } == expected, "\(bytes)")
        }
    }

    @Test("fast validator agrees with the reference on 20,000 random mostly-valid strings")
    func randomAgainstReference() {
        var rng = SplitMix64(seed: 30)
        let pieces: [[UInt8]] = ["a", "hello world ", "é", "中文", "😀", "\u{10FFFF}", "\u{7FF}", "\u{800}", "\u{FFFF}"]
            .map { Array($0.utf8) }
        let broken: [[UInt8]] = [[0x80], [0xC0, 0x80], [0xE0, 0x9F], [0xED, 0xA0, 0x80], [0xF4, 0x90], [0xFF],
                                 [0xE4, 0xB8], [0xF0, 0x9F, 0x98], [0xC3]]
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            let count = Int(rng.next() % 80)
            for _ in 0..<count {
                if rng.next() % 6 == 0 {
                    bytes += [UInt8](repeating: 0x20, count: Int(rng.next() % 70))  // long ASCII runs
                } else {
                    bytes += pieces[Int(rng.next() % UInt64(pieces.count))]
                }
            }
            if rng.next() % 2 == 0, !bytes.isEmpty {
                let at = Int(rng.next() % UInt64(bytes.count + 1))
                bytes.insert(contentsOf: broken[Int(rng.next() % UInt64(broken.count))], at: at)
            }
            let reference = bytes.withUnsafeBytes { UTF8Reference.firstInvalidOffset($0) }
            // Both paths: AVX2 blocks then the DFA (where the CPU has AVX2), and the DFA alone.
            let vector = bytes.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0, vectorPrefix: true) }
            let dfa = bytes.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0, vectorPrefix: false) }
            #expect(vector == reference && dfa == reference, "\(bytes)")
            if vector != reference || dfa != reference { return }
        }
    }

    @Test("an error next to a 64-byte block boundary is found at its exact offset on both paths")
    func errorsAtBlockBoundaries() {
        let valid = Array(String(repeating: "中a文é😀", count: 30).utf8)
        let broken: [[UInt8]] = [[0x80], [0xC0, 0x80], [0xE0, 0x9F, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                                 [0xF5], [0xFF], [0xE4, 0xB8], [0xF0, 0x9F, 0x98], [0xC3], [0xC2, 0xC2]]
        for at in Array(56...72) + Array(120...136) + [valid.count - 3, valid.count] {
            for b in broken {
                var bytes = valid
                bytes.insert(contentsOf: b, at: min(at, bytes.count))
                let reference = bytes.withUnsafeBytes { UTF8Reference.firstInvalidOffset($0) }
                let vector = bytes.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0, vectorPrefix: true) }
                #expect(vector == reference, "\(b) at \(at)")
            }
        }
        #expect(valid.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0, vectorPrefix: true) } == nil)
    }

    @Test("scalarCount equals Swift's scalar count on valid golden inputs")
    func scalarCount() {
        for c in goldenCases where c.firstInvalid == nil {
            let expected = String(decoding: c.input, as: UTF8.self).unicodeScalars.count
            #expect(c.input.withUnsafeBytes { UTF8Validation.scalarCount($0) } == expected, "\(c.name)")
        }
        let long = Array(String(repeating: "a中😀é", count: 1000).utf8)
        #expect(long.withUnsafeBytes { UTF8Validation.scalarCount($0) } == 4000)
    }
}
