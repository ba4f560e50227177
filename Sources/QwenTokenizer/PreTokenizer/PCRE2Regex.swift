// The only user of PCRE2. A compiled pattern (shared, immutable) and a per-thread matcher that owns
// its match data and JIT stack, so matching allocates nothing.

import CPCRE2

public final class PCRE2Regex: @unchecked Sendable {  // the compiled code is read-only after init
    let code: OpaquePointer
    public let pattern: String
    public let isJIT: Bool
    /// PCRE2_INFO_MATCHEMPTY: some match could be empty. Conservative (true for any pattern with a
    /// path that consumes nothing, lookarounds included, and for some PCRE2 cannot analyse, such as
    /// back references), never false for a pattern that can match empty. (PCRE2_INFO_MINLENGTH would
    /// not do: it bounds the subject, so `(?=x)` has minimum length 1 yet matches empty.)
    public let canMatchEmpty: Bool

    /// Compiles `pattern` (Oniguruma dialect, as tokenizer.json holds it) with UTF and UCP (Unicode
    /// properties and case folding), and JIT-compiles it where available.
    public init(_ pattern: String) throws(TokenizerError) {
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let translated = OnigurumaDialect.translate(pattern)
        let compiled: OpaquePointer? = translated.withCString { p in
            pcre2_compile_8(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), translated.utf8.count,
                            UInt32(PCRE2_UTF | PCRE2_UCP), &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            var buffer = [UInt8](repeating: 0, count: 256)
            _ = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
            let message = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
            throw TokenizerError.invalidTokenizer("pretokenizer regex does not compile at offset \(errorOffset): \(message)")
        }
        code = compiled
        self.pattern = pattern
        isJIT = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        var matchEmpty: UInt32 = 1
        canMatchEmpty = pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_MATCHEMPTY), &matchEmpty) != 0 || matchEmpty != 0
    }

    deinit { pcre2_code_free_8(code) }
}

/// Finds successive matches of a `PCRE2Regex`. Not thread-safe: one per thread.
public final class PCRE2Matcher {
    let regex: PCRE2Regex
    let matchData: OpaquePointer
    let context: OpaquePointer?
    let jitStack: OpaquePointer?

    public init(_ regex: PCRE2Regex) {
        self.regex = regex
        matchData = pcre2_match_data_create_from_pattern_8(regex.code, nil)
        if regex.isJIT {
            // Long runs (a 1 MB word) can exceed the default 32 KiB JIT stack.
            jitStack = pcre2_jit_stack_create_8(64 * 1024, 64 * 1024 * 1024, nil)
            context = pcre2_match_context_create_8(nil)
            pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack))
        } else {
            jitStack = nil
            context = nil
        }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        if let context { pcre2_match_context_free_8(context) }
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// Calls `body(start, end)` for each piece of `text` (valid UTF-8) in order, as HF's `Split`
    /// with behavior `Isolated` produces them: every match, and any unmatched gap between matches.
    @inline(__always)
    public func forEachPiece(_ text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) throws(TokenizerError) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        let length = text.count
        var position = 0
        var emitted = 0
        while position < length {
            let rc: Int32
            if regex.isJIT {
                rc = pcre2_jit_match_8(regex.code, base, length, position, 0, matchData, context)
            } else {
                rc = pcre2_match_8(regex.code, base, length, position, UInt32(PCRE2_NO_UTF_CHECK), matchData, nil)
            }
            if rc == PCRE2_ERROR_NOMATCH { break }
            if rc < 0 { throw TokenizerError.regexFailure(code: rc, offset: position) }
            let start = ovector[0], end = ovector[1]
            if start > emitted {
                body(emitted, start)
                emitted = start
            }
            if end > start {
                body(start, end)
                emitted = end
                position = end
            } else {
                // Not reached through Tokenizer, which refuses patterns that can match the empty string
                // (HF's pieces around an empty match are not something we reproduce). Should one match
                // empty, it yields nothing and the search steps over one character; no byte is emitted twice.
                position = end + 1
                while position < length && base[position] & 0xC0 == 0x80 { position += 1 }
            }
        }
        if emitted < length { body(emitted, length) }
    }
}

/// Pattern translation from the Oniguruma dialect of tokenizer.json to PCRE2.
enum OnigurumaDialect {
    /// Oniguruma's `\s`: Unicode White_Space (25 code points). PCRE2's `\s` also matches U+180E
    /// (MONGOLIAN VOWEL SEPARATOR, a space before Unicode 6.3), which changes how HF splits text
    /// around it, so `\s` and `\S` are spelled out.
    static let whitespace = #"\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"#

    /// Rewrites `\s` and `\S` (inside and outside character classes) as explicit sets.
    static func translate(_ pattern: String) -> String {
        var out = ""
        var inClass = false
        var chars = Array(pattern)
        var i = 0
        chars.append("\0")
        while i < chars.count - 1 {
            let c = chars[i]
            if c == "\\" {
                let next = chars[i + 1]
                if next == "s" {
                    out += inClass ? whitespace : "[" + whitespace + "]"
                } else if next == "S" && !inClass {
                    out += "[^" + whitespace + "]"
                } else {
                    out.append(c)
                    out.append(next)
                }
                i += 2
                continue
            }
            if c == "[" && !inClass { inClass = true } else if c == "]" && inClass { inClass = false }
            out.append(c)
            i += 1
        }
        return out
    }
}
