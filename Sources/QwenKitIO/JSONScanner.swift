// A pull parser for JSON over a byte buffer: no Foundation, no value tree, no allocation except the
// caller's string buffer. Used to read tokenizer.json (11 MB, ~450k strings) in a few milliseconds and
// to pull one field out of each JSONL record on the encode hot path.
//
// The scanner never recurses: skipping a nested value counts brackets, so hostile nesting depth
// costs nothing but time. Every error carries the byte offset where the input stopped making sense.

public struct JSONError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let message: String
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

/// The kinds of JSON values, as told by their first byte.
public enum JSONValueKind: Sendable, Equatable {
    case object, array, string, number, bool, null
}

public struct JSONScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next unread byte.
    public var offset: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    @inline(__always)
    public mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    public func error(_ message: String) -> JSONError { JSONError(offset: offset, message: message) }

    /// The kind of the next value, after whitespace.
    public mutating func peekKind() throws(JSONError) -> JSONValueKind {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw error("unexpected character \(printable(bytes[offset]))")
        }
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8) throws(JSONError) {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input, expected '\(Character(Unicode.Scalar(byte)))'") }
        guard bytes[offset] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))', found \(printable(bytes[offset]))")
        }
        offset += 1
    }

    // MARK: Objects and arrays

    /// Consumes `{`. Follow with `nextKey` until it returns false.
    public mutating func beginObject() throws(JSONError) { try expect(UInt8(ascii: "{")) }

    /// Reads the next member's key into `key` (cleared first) and consumes the `:`; returns false
    /// after consuming the closing `}`. `first` must be true for the first call after `beginObject`.
    public mutating func nextKey(_ key: inout [UInt8], first: inout Bool) throws(JSONError) -> Bool {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input inside an object") }
        if bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return false
        }
        if !first { try expect(UInt8(ascii: ",")) }
        first = false
        key.removeAll(keepingCapacity: true)
        try readString(into: &key)
        try expect(UInt8(ascii: ":"))
        return true
    }

    /// Consumes `[`. Follow with `nextElement` until it returns false.
    public mutating func beginArray() throws(JSONError) { try expect(UInt8(ascii: "[")) }

    /// True when another element follows (positioned at it); false after consuming the closing `]`.
    public mutating func nextElement(first: inout Bool) throws(JSONError) -> Bool {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input inside an array") }
        if bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return false
        }
        if !first { try expect(UInt8(ascii: ",")) }
        first = false
        return true
    }

    // MARK: Scalars

    /// Reads a string value, appending its UTF-8 bytes (escapes decoded) to `output`.
    /// A `\u` escape holding a lone surrogate becomes U+FFFD when `replaceLoneSurrogates`, else an error.
    public mutating func readString(into output: inout [UInt8], replaceLoneSurrogates: Bool = false) throws(JSONError) {
        try expect(UInt8(ascii: "\""))
        while true {
            // Copy the run up to the next quote, backslash or control byte in one go.
            let runStart = offset
            offset = JSONScanner.plainRunEnd(bytes, from: offset)
            if offset > runStart {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<offset]))
            }
            guard offset < bytes.count else { throw error("unterminated string") }
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                offset += 1
                return
            }
            if b < 0x20 { throw error("control character \(printable(b)) inside a string") }
            // Escape sequence.
            offset += 1
            guard offset < bytes.count else { throw error("unterminated escape sequence") }
            let e = bytes[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "\""): output.append(0x22)
            case UInt8(ascii: "\\"): output.append(0x5C)
            case UInt8(ascii: "/"): output.append(0x2F)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // High surrogate: a low surrogate escape must follow.
                    if offset + 6 <= bytes.count && bytes[offset] == UInt8(ascii: "\\") && bytes[offset + 1] == UInt8(ascii: "u") {
                        let save = offset
                        offset += 2
                        let low = try readHex4()
                        if low >= 0xDC00 && low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            offset = save
                            guard replaceLoneSurrogates else { throw error("lone surrogate \\u\(hex4(scalar)) in string") }
                            scalar = 0xFFFD
                        }
                    } else {
                        guard replaceLoneSurrogates else { throw error("lone surrogate \\u\(hex4(scalar)) in string") }
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    guard replaceLoneSurrogates else { throw error("lone surrogate \\u\(hex4(scalar)) in string") }
                    scalar = 0xFFFD
                }
                appendUTF8(scalar, to: &output)
            default:
                offset -= 1
                throw error("invalid escape '\\\(printable(e))'")
            }
        }
    }

    /// Where the run of string bytes that need no attention (not a quote, a backslash or a control byte) starting at
    /// `start` ends: eight bytes at a time (a record's text is mostly such a run; a byte loop was 4% of encoding JSONL).
    /// In each word, a byte below 0x20 is one whose subtraction of 0x20 sets its top bit while its own top bit is clear,
    /// and a quote or backslash is a byte that XOR makes zero (the same test with 1). A borrow only runs upward from a
    /// flagged byte, so the lowest flag of each test is exact, and the lowest of all is all that is read.
    @inline(__always)
    static func plainRunEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        let n = bytes.count
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
            while i + 8 <= n {
                let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let quote = w ^ (0x22 &* ones), backslash = w ^ (0x5C &* ones)
                let control = (w &- 0x20 &* ones) & ~w
                let flags = (control | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & high
                if flags != 0 { return i + flags.trailingZeroBitCount >> 3 }
                i += 8
            }
        }
        while i < n {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
            i += 1
        }
        return i
    }

    /// Reads a string and returns it as a Swift `String` (for keys and short values off the hot path).
    public mutating func readString() throws(JSONError) -> String {
        var buffer: [UInt8] = []
        try readString(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Reads an integer number (no fraction or exponent) that fits in Int64.
    public mutating func readInteger() throws(JSONError) -> Int64 {
        skipWhitespace()
        let start = offset
        var negative = false
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        var value: Int64 = 0
        var digits = 0
        while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 {
            let d = Int64(bytes[offset] - 0x30)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { offset = start; throw error("integer out of range") }
            value = s
            digits += 1
            offset += 1
        }
        if digits == 0 { offset = start; throw error("expected an integer") }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") || bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset = start
            throw error("expected an integer, found a fractional number")
        }
        return negative ? -value : value
    }

    /// Reads `true`, `false` (returns the value).
    public mutating func readBool() throws(JSONError) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw error("expected true or false")
    }

    /// Consumes `null` if it is next; returns whether it did.
    public mutating func readNullIfPresent() -> Bool {
        skipWhitespace()
        return matchLiteral("null")
    }

    // MARK: Skipping

    /// Skips one complete value of any kind, validating its syntax, without recursion.
    public mutating func skipValue() throws(JSONError) {
        var depth = 0
        // Stack of container kinds packed as bits would bound depth; instead validate bracket pairing
        // with a small growable stack (one byte per level, never deeper than the input is long).
        var stack: [UInt8] = []
        repeat {
            let kind = try peekKind()
            switch kind {
            case .string:
                try skipString()
            case .number:
                try skipNumber()
            case .bool:
                _ = try readBool()
            case .null:
                guard matchLiteral("null") else { throw error("expected null") }
            case .object, .array:
                stack.append(bytes[offset])
                offset += 1
                depth += 1
                skipWhitespace()
                let close: UInt8 = kind == .object ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if offset < bytes.count && bytes[offset] == close {
                    offset += 1
                    stack.removeLast()
                    depth -= 1
                } else {
                    if kind == .object {
                        try skipString()
                        try expect(UInt8(ascii: ":"))
                    }
                    continue
                }
            }
            // After a value: close containers or move to the next member.
            while depth > 0 {
                skipWhitespace()
                guard offset < bytes.count else { throw error("unexpected end of input inside a container") }
                let b = bytes[offset]
                let open = stack[stack.count - 1]
                if b == UInt8(ascii: ",") {
                    offset += 1
                    if open == UInt8(ascii: "{") {
                        try skipString()
                        try expect(UInt8(ascii: ":"))
                    }
                    break
                }
                let close: UInt8 = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard b == close else { throw error("expected ',' or '\(Character(Unicode.Scalar(close)))', found \(printable(b))") }
                offset += 1
                stack.removeLast()
                depth -= 1
            }
        } while depth > 0
    }

    /// Skips a string value without decoding it (escapes are validated only for their shape).
    public mutating func skipString() throws(JSONError) {
        try expect(UInt8(ascii: "\""))
        while offset < bytes.count {
            offset = JSONScanner.plainRunEnd(bytes, from: offset)
            guard offset < bytes.count else { break }
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") { offset += 1; return }
            if b == UInt8(ascii: "\\") {
                offset += 2
                continue
            }
            if b < 0x20 { throw error("control character \(printable(b)) inside a string") }
            offset += 1
        }
        throw error("unterminated string")
    }

    public mutating func skipNumber() throws(JSONError) {
        let start = offset
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        var sawDigit = false
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
            default:
                if !sawDigit { offset = start; throw error("malformed number") }
                return
            }
            offset += 1
        }
        if !sawDigit { offset = start; throw error("malformed number") }
    }

    /// True when only whitespace remains.
    public mutating func atEnd() -> Bool {
        skipWhitespace()
        return offset >= bytes.count
    }

    // MARK: Helpers

    @inline(__always)
    mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard offset + n <= bytes.count else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[offset + i] != p[i] { return false }
        offset += n
        return true
    }

    mutating func readHex4() throws(JSONError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 0x41 + 10)
            default: throw error("invalid hex digit \(printable(c)) in \\u escape")
            }
            v = v << 4 | d
            offset += 1
        }
        return v
    }

    func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: false)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    func printable(_ b: UInt8) -> String {
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
    }
}

/// Appends the UTF-8 encoding of a Unicode scalar value (assumed valid) to `output`.
@inline(__always)
public func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        output.append(UInt8(scalar))
    case 0x80..<0x800:
        output.append(UInt8(0xC0 | (scalar >> 6)))
        output.append(UInt8(0x80 | (scalar & 0x3F)))
    case 0x800..<0x10000:
        output.append(UInt8(0xE0 | (scalar >> 12)))
        output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        output.append(UInt8(0x80 | (scalar & 0x3F)))
    default:
        output.append(UInt8(0xF0 | (scalar >> 18)))
        output.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
        output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        output.append(UInt8(0x80 | (scalar & 0x3F)))
    }
}
