/// `s` safe to print on a terminal: every control character — C0 (U+0000–U+001F: ESC, newline, tab, ...),
/// DEL (U+007F) and C1 (U+0080–U+009F, where U+009B is a one-character CSI) — written as Swift writes a scalar
/// escape, `\u{1b}`, `\u{7f}`, `\u{9b}` (lowercase hex), everything else unchanged.
///
/// The one escaping for text output built from strings read from files (metadata keys and string values, tensor
/// names, file names of a checkpoint): such a string could otherwise clear the screen, move the cursor or set the
/// window title of whoever runs `inspect` or `diff` on a hostile file. Backslashes are left as they are, so the
/// result reads naturally and escaping twice changes nothing; JSON output keeps JSON's own escaping instead.
public func terminalSafe(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: isTerminalControl) else { return s }
    var out = String.UnicodeScalarView()
    for scalar in s.unicodeScalars {
        if isTerminalControl(scalar) {
            out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
        } else {
            out.append(scalar)
        }
    }
    return String(out)
}

/// C0, DEL and C1: the scalars `terminalSafe` escapes.
@inline(__always)
func isTerminalControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
}
