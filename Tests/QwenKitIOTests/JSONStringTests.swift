import Testing
import TestSupport
import QwenKitIO

private func escaped(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    bytes.withUnsafeBufferPointer { JSONString.appendEscaped($0, to: &out) }
    return out
}

@Suite("JSON string escaping")
struct JSONStringTests {
    /// Expected bodies from CPython 3.11's `json.dumps(s, ensure_ascii=False)[1:-1]`.
    static let cases: [(String, String)] = [
        ("", ""),
        ("plain text", "plain text"),
        ("\u{0}\u{1}\u{1F}\u{7F}\u{2028}\u{2029}", #"\u0000\u0001\u001f"# + "\u{7F}\u{2028}\u{2029}"),
        (#"a"b\c"#, #"a\"b\\c"#),
        ("\u{8}\u{C}\n\r\t", #"\b\f\n\r\t"#),
        ("\u{B}\u{1B}", #"\u000b\u001b"#),
        ("中文 😀", "中文 😀"),
        ("a long run of text without anything to escape, then \"one\" at the end\n",
         #"a long run of text without anything to escape, then \"one\" at the end\n"#),
    ]

    @Test("matches Python's json.dumps(ensure_ascii=False)")
    func table() {
        for (input, expected) in JSONStringTests.cases {
            #expect(escaped(Array(input.utf8)) == Array(expected.utf8), "\(input.debugDescription)")
        }
    }

    @Test("matches Python on every golden case (the escaped errors='replace' output)")
    func golden() {
        for c in goldenCases {
            #expect(escaped(c.replaced) == c.json, "\(c.name)")
        }
    }

    @Test("every single byte below 0x80, at every position in a word")
    func everyASCIIByte() {
        for byte in UInt8(0)..<0x80 {
            let expected: [UInt8]
            switch byte {
            case 0x22: expected = Array(#"\""#.utf8)
            case 0x5C: expected = Array(#"\\"#.utf8)
            case 0x08: expected = Array(#"\b"#.utf8)
            case 0x09: expected = Array(#"\t"#.utf8)
            case 0x0A: expected = Array(#"\n"#.utf8)
            case 0x0C: expected = Array(#"\f"#.utf8)
            case 0x0D: expected = Array(#"\r"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                expected = Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: expected = [byte]
            }
            for position in 0..<17 {
                let input = [UInt8](repeating: 0x78, count: position) + [byte] + [UInt8](repeating: 0x79, count: 9)
                let output = [UInt8](repeating: 0x78, count: position) + expected + [UInt8](repeating: 0x79, count: 9)
                #expect(escaped(input) == output, "byte \(byte) at \(position)")
            }
        }
        var quoted: [UInt8] = []
        Array("x".utf8).withUnsafeBufferPointer { JSONString.appendQuoted($0, to: &quoted) }
        #expect(quoted == Array(#""x""#.utf8))
    }

    /// `JSONValue.text` goes into one-line error messages, so strings and keys are escaped like everything else.
    @Test("JSONValue.text escapes strings and keys")
    func valueTextIsEscaped() {
        let value = JSONValue.object([("a\nb", .array([.string("\u{1}\"\\"), .number(2), .null]))])
        #expect(value.text == #"{"a\nb":["\u0001\"\\",2,null]}"#)
    }
}
