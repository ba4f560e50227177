// Where a long text can be cut so that tokenizing the two parts separately gives exactly the ids of
// tokenizing it whole. A cut at p is safe when (1) some pretokenizer match ends at p whatever follows,
// (2) the text after p starts a fresh match whatever precedes, (3) NFC cannot combine across p, and
// (4) no added token's text spans p. Three patterns have all four properties for Qwen2's regex:
//
//   letter | ' ' letter        "word word": the letter run `\p{L}+` ends at the space (not a letter); the
//                              space then starts `[^\r\n\p{L}\p{N}]?\p{L}+`. (ASCII letters only.)
//   '\n' | letter              every alternative that can take a newline (`[\r\n]*`, `\s*[\r\n]+`) is
//                              greedy over newlines and stops at the letter, and the letter's own match
//                              cannot take a preceding newline (its optional prefix excludes \r and \n).
//   CJK | CJK-punct CJK        "中文，中文": as the first rule, with full-width punctuation as the prefix.
//
// None of these characters takes part in canonical composition with what precedes it. The rules are
// tied to the Qwen2 pattern; for any other pattern no cut is made (the document is encoded whole).
// A test encodes the golden corpus cut at every safe place and compares with encoding it whole.

struct SafeSplitFinder: Sendable {
    let enabled: Bool
    let addedTokens: [[UInt8]]

    init(tokenizer: Tokenizer) {
        enabled = tokenizer.usesQwen2Scanner
        addedTokens = tokenizer.addedTokens.map(\.content).filter { $0.count > 1 }
    }

    /// The largest safe cut p with `notBefore <= p <= text.count - 4`, or nil.
    func lastSafeCut(in text: UnsafeBufferPointer<UInt8>, notBefore: Int) -> Int? {
        guard enabled, text.count >= 8 else { return nil }
        var p = text.count - 4
        let low = max(notBefore, 3)
        while p >= low {
            if isSafeCut(text, p) && !insideAddedToken(text, p) { return p }
            p -= 1
        }
        return nil
    }

    @inline(__always)
    func isSafeCut(_ t: UnsafeBufferPointer<UInt8>, _ p: Int) -> Bool {
        let b = t[p]
        if b == 0x20 {
            return isASCIILetter(t[p - 1]) && isASCIILetter(t[p + 1])
        }
        if isASCIILetter(b) {
            return t[p - 1] == 0x0A
        }
        // Full-width punctuation between two CJK ideographs or Hangul syllables (3 bytes each).
        if b >= 0xE3 && b <= 0xEF && p >= 3 && p + 6 <= t.count {
            return isCJKPunctuation(scalar3(t, p)) && isCJKLetter(scalar3(t, p - 3)) && isCJKLetter(scalar3(t, p + 3))
        }
        return false
    }

    @inline(__always) private func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    @inline(__always) private func scalar3(_ t: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        let a = t[i], b = t[i + 1], c = t[i + 2]
        guard a & 0xF0 == 0xE0, b & 0xC0 == 0x80, c & 0xC0 == 0x80 else { return 0 }
        return UInt32(a & 0x0F) << 12 | UInt32(b & 0x3F) << 6 | UInt32(c & 0x3F)
    }

    @inline(__always) private func isCJKLetter(_ s: UInt32) -> Bool {
        (s >= 0x4E00 && s <= 0x9FFF) || (s >= 0xAC00 && s <= 0xD7A3)
    }

    @inline(__always) private func isCJKPunctuation(_ s: UInt32) -> Bool {
        switch s {
        case 0x3001, 0x3002, 0xFF0C, 0xFF01, 0xFF1F, 0xFF1A, 0xFF1B: return true
        default: return false
        }
    }

    private func insideAddedToken(_ t: UnsafeBufferPointer<UInt8>, _ p: Int) -> Bool {
        for token in addedTokens {
            let lowStart = max(0, p - token.count + 1)
            var s = lowStart
            while s < p {
                if s + token.count <= t.count {
                    var equal = true
                    for k in 0..<token.count where t[s + k] != token[k] { equal = false; break }
                    if equal { return true }
                }
                s += 1
            }
        }
        return false
    }
}
