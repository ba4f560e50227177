// The only user of PCRE2. A compiled pattern (shared, immutable) and a per-thread matcher that owns
// its match data and JIT stack, so matching allocates nothing.

import CPCRE2

public final class PCRE2Regex: @unchecked Sendable {  // the compiled code is read-only after init
    let code: OpaquePointer
    public let pattern: String
    public let isJIT: Bool

    /// Compiles `pattern` with UTF and UCP (Unicode properties for \s, \w, \d and case folding),
    /// as Oniguruma treats the patterns of tokenizer.json, and JIT-compiles it where available.
    public init(_ pattern: String) throws(TokenizerError) {
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let compiled: OpaquePointer? = pattern.withCString { p in
            pcre2_compile_8(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), pattern.utf8.count,
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
            if start > emitted { body(emitted, start) }
            if end > start {
                body(start, end)
                emitted = end
                position = end
            } else {
                // An empty match yields nothing; step over one character.
                position = end + 1
                while position < length && base[position] & 0xC0 == 0x80 { position += 1 }
            }
        }
        if emitted < length { body(emitted, length) }
    }
}
