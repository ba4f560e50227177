/// JSON string escaping with exactly the output of Python's `json.dumps(s, ensure_ascii=False)` (without the
/// surrounding quotes): `"` and `\` backslash-escaped; `\n \r \t \b \f` by name; the other C0 controls
/// (U+0000...U+001F) as `\u00xx` with lowercase hex; everything else, DEL and U+2028/U+2029 included, raw.
public enum JSONString {
    /// Appends the escaped body of the string whose UTF-8 is `bytes`. Bytes ≥ 0x80 are copied unchanged, so
    /// the output is valid UTF-8 exactly when the input is (validate or `replacingInvalid` first).
    public static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let n = bytes.count
        output.reserveCapacity(output.count + n + 2)
        let raw = UnsafeRawPointer(base)
        var runStart = 0
        var i = 0
        while i < n {
            // Skip 8 bytes at a time while none needs escaping: no byte < 0x20, no '"' (0x22), no '\' (0x5C).
            while i + 8 <= n && !needsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                i += 8
            }
            if i >= n { break }
            let byte = base[i]
            guard let escape = escapeSequence(byte) else {
                i += 1
                continue
            }
            if i > runStart { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            escape.withUnsafeBufferPointer { output.append(contentsOf: $0) }
            i += 1
            runStart = i
        }
        if n > runStart { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<n])) }
    }

    /// `s` as a JSON string literal, quotes included (control characters escaped, so a name read from a corrupt
    /// file keeps a message on one line).
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal, quotes included.
    public static func appendQuoted(_ s: String, to output: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendQuoted($0, to: &output) }
    }

    /// Appends `"` + escaped body + `"`.
    public static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        output.append(0x22)
        appendEscaped(bytes, to: &output)
        output.append(0x22)
    }

    /// True if any of the 8 bytes in `word` is < 0x20, '"' or '\'. Bit Twiddling Hacks' `hasless(word, 0x20)`
    /// and `haszero` (on `word` XOR the repeated quote or backslash): exact as a yes/no answer; the byte
    /// that triggered it is then found one byte at a time.
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        return (control | zeroQuote | zeroBackslash) & high != 0
    }

    /// The escape for one byte, or nil if it is written as is.
    @inline(__always)
    static func escapeSequence(_ byte: UInt8) -> [UInt8]? {
        if byte >= 0x20 && byte != 0x22 && byte != 0x5C { return nil }
        return escapeTable[Int(byte == 0x22 ? 32 : byte == 0x5C ? 33 : byte)]
    }

    /// Escapes for bytes 0...31, then '"' and '\'.
    private static let escapeTable: [[UInt8]] = (0..<34).map { index in
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        switch index {
        case 0x08: return Array(#"\b"#.utf8)
        case 0x09: return Array(#"\t"#.utf8)
        case 0x0A: return Array(#"\n"#.utf8)
        case 0x0C: return Array(#"\f"#.utf8)
        case 0x0D: return Array(#"\r"#.utf8)
        case 32: return Array(#"\""#.utf8)
        case 33: return Array(#"\\"#.utf8)
        default: return Array(#"\u00"#.utf8) + [hex[index >> 4], hex[index & 15]]
        }
    }
}
