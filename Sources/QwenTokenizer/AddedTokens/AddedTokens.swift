// Added tokens (control tokens like <|im_end|>) are split out of the raw text before anything else,
// by exact match: at the leftmost position where any token's text starts, the longest one wins —
// what HF's Aho-Corasick (leftmost-longest) split does. Tokens are few, so a table of possible first
// bytes plus a memchr-style scan finds candidates; then each candidate is compared in full.

public struct AddedToken: Sendable, Equatable {
    public let id: UInt32
    /// The exact text (UTF-8).
    public let content: [UInt8]
    /// Control tokens (special) can be refused or treated as text; other added tokens always split.
    public let special: Bool
    public let lstrip: Bool
    public let rstrip: Bool
    public let normalized: Bool

    public init(id: UInt32, content: [UInt8], special: Bool, lstrip: Bool = false, rstrip: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
    }

    public var text: String { String(decoding: content, as: UTF8.self) }
}

struct AddedTokenMatcher: Sendable {
    struct Match {
        var start: Int  // where the token's match starts (after lstrip extension)
        var end: Int
        var token: Int  // index into tokens
    }

    let tokens: [AddedToken]
    /// Indexes of tokens by first byte, longest first.
    let byFirstByte: [[Int]]
    let isFirst: [Bool]
    /// When every token starts with the same byte, memchr finds candidates.
    let onlyFirstByte: Int32?

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        var by = [[Int]](repeating: [], count: 256)
        for (i, t) in tokens.enumerated() where !t.content.isEmpty {
            by[Int(t.content[0])].append(i)
        }
        for b in 0..<256 { by[b].sort { tokens[$0].content.count > tokens[$1].content.count } }
        byFirstByte = by
        isFirst = by.map { !$0.isEmpty }
        let firsts = (0..<256).filter { !by[$0].isEmpty }
        onlyFirstByte = firsts.count == 1 ? Int32(firsts[0]) : nil
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// The leftmost-longest match at or after `from` among tokens accepted by `include`.
    @inline(__always)
    func nextMatch(in text: UnsafeBufferPointer<UInt8>, from: Int, include: (AddedToken) -> Bool) -> Match? {
        var i = from
        let n = text.count
        while i < n {
            if let only = onlyFirstByte {
                guard let p = memchr(text.baseAddress! + i, only, n - i) else { return nil }
                i = UnsafePointer<UInt8>(p.assumingMemoryBound(to: UInt8.self)) - text.baseAddress!
            }
            if isFirst[Int(text[i])] {
                for t in byFirstByte[Int(text[i])] {
                    let c = tokens[t].content
                    if c.count <= n - i && include(tokens[t]) && c.withUnsafeBufferPointer({ memcmp($0.baseAddress!, text.baseAddress! + i, c.count) == 0 }) {
                        var start = i, end = i + c.count
                        if tokens[t].lstrip { while start > from && isASCIISpace(text[start - 1]) { start -= 1 } }
                        if tokens[t].rstrip { while end < n && isASCIISpace(text[end]) { end += 1 } }
                        return Match(start: start, end: end, token: t)
                    }
                }
            }
            i += 1
        }
        return nil
    }

    @inline(__always) private func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
