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

@Suite("JSON string reading")
struct JSONStringReadingTests {
    /// A string's bytes read back from its escaped form, for random bytes that are mostly plain but hold quotes,
    /// backslashes, control bytes and bytes of 0x80 and up at every position of an 8-byte word (the run scan takes eight
    /// at a time): what `readString` returns is the input, and the scanner stops just after the closing quote.
    @Test("readString gives back what escaping wrote, whatever sits where in a word")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 13)
        let special: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x20, 0x21, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF]
        for length in 0..<200 {
            var text: [UInt8] = []
            for _ in 0..<length {
                let r = rng.next()
                text.append(r % 7 == 0 ? special[Int(r >> 8) % special.count] : UInt8(0x41 + (r >> 16) % 26))
            }
            let valid = String(decoding: text, as: UTF8.self)  // ill-formed bytes become U+FFFD
            var json: [UInt8] = [0x22]
            Array(valid.utf8).withUnsafeBufferPointer { JSONString.appendEscaped($0, to: &json) }
            json += [0x22, 0x2C]
            var read: [UInt8] = []
            var end = 0, skippedTo = 0
            try json.withUnsafeBufferPointer { b throws(JSONError) in
                var scanner = JSONScanner(b)
                try scanner.readString(into: &read)
                end = scanner.offset
                var skipper = JSONScanner(b)
                try skipper.skipString()
                skippedTo = skipper.offset
            }
            #expect(read == Array(valid.utf8), "length \(length)")
            #expect(end == json.count - 1 && skippedTo == end, "length \(length)")
        }
    }

    @Test("a control byte or an unterminated string is an error at its offset, wherever it falls in a word")
    func errors() {
        for position in 0..<20 {
            var json: [UInt8] = [0x22] + [UInt8](repeating: 0x61, count: position) + [0x0A] + [UInt8](repeating: 0x61, count: 9) + [0x22]
            json.withUnsafeBufferPointer { b in
                var scanner = JSONScanner(b)
                var read: [UInt8] = []
                do throws(JSONError) {
                    try scanner.readString(into: &read)
                    Issue.record("no error at \(position)")
                } catch {
                    #expect(error.offset == 1 + position && error.message == "control character byte 0x0A inside a string", "\(error)")
                }
                var skipper = JSONScanner(b)
                do throws(JSONError) {
                    try skipper.skipString()
                    Issue.record("no error at \(position)")
                } catch {
                    #expect(error.offset == 1 + position, "\(error)")
                }
            }
            json = [0x22] + [UInt8](repeating: 0x61, count: position)
            json.withUnsafeBufferPointer { b in
                var scanner = JSONScanner(b)
                var read: [UInt8] = []
                #expect(throws: JSONError.self) { try scanner.readString(into: &read) }
            }
        }
    }
}
