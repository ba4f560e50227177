import Testing
import TestSupport
import QwenKitIO

/// `terminalSafe`: C0, DEL and C1 as `\u{..}`, everything else (backslashes, U+00A0 and above) as it is.
@Suite struct TerminalTextTests {
    static let cases: [(String, String)] = [
        ("", ""),
        ("blk.0.attn_q.weight", "blk.0.attn_q.weight"),
        ("\u{1b}[2J", #"\u{1b}[2J"#),
        ("a\nb\tc\r\u{0}", #"a\u{a}b\u{9}c\u{d}\u{0}"#),
        ("\u{7f}\u{80}\u{9b}\u{9f}", #"\u{7f}\u{80}\u{9b}\u{9f}"#),
        ("\u{a0}é中文😀\u{2028}", "\u{a0}é中文😀\u{2028}"),
        (#"back\slash \u{1b}"#, #"back\slash \u{1b}"#),
    ]

    @Test func escapesControlCharacters() {
        for (input, expected) in Self.cases {
            #expect(terminalSafe(input) == expected, "\(Array(input.unicodeScalars))")
            #expect(terminalSafe(terminalSafe(input)) == expected, "escaping twice changes nothing")
        }
        // Every scalar below U+00A0 but the printable ASCII ones is escaped; nothing else is.
        for value in UInt32(0)..<0x200 {
            let scalar = Unicode.Scalar(value)!
            let escaped = terminalSafe(String(Character(scalar)))
            let control = value < 0x20 || (0x7F...0x9F).contains(value)
            #expect(escaped == (control ? "\\u{\(String(value, radix: 16))}" : String(Character(scalar))))
        }
    }
}
