// jinja2's lexer with transformers' settings (trim_blocks, lstrip_blocks, keep_trailing_newline off): the source
// is split into text and the tokens of `{{ … }}` and `{% … %}` tags; comments vanish. Whitespace control follows
// jinja2 3.1's rules exactly, since a chat template's output is compared byte for byte.

struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case end
    }
    let kind: Kind
    let line: Int
}

struct Lexer {
    private let source: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var lineStarting = true
    private(set) var tokens: [Token] = []

    static func tokenize(_ text: String) throws(TemplateError) -> [Token] {
        var lexer = Lexer(source: normalizedScalars(text))
        try lexer.run()
        lexer.emit(.end)
        return lexer.tokens
    }

    private init(source: [Unicode.Scalar]) { self.source = source }

    /// Newlines as "\n" (jinja2 treats \r\n, \r and \n as line breaks), one trailing newline dropped.
    private static func normalizedScalars(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.unicodeScalars.count)
        var previousCR = false
        for s in text.unicodeScalars {
            if s == "\r" {
                out.append("\n")
                previousCR = true
                continue
            }
            if s == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            out.append(s)
        }
        if out.last == "\n" { out.removeLast() }
        return out
    }

    /// Python's `str.isspace` (and `\s` in a unicode regex).
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
        default: return s.value > 0x7F && s.properties.isWhitespace
        }
    }

    private func at(_ i: Int) -> Unicode.Scalar? { i < source.count ? source[i] : nil }

    private func matches(_ text: String, at i: Int) -> Bool {
        var j = i
        for s in text.unicodeScalars {
            guard at(j) == s else { return false }
            j += 1
        }
        return true
    }

    private func string(_ range: Range<Int>) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: source[range])
        return String(s)
    }

    private mutating func emit(_ kind: Token.Kind) { tokens.append(Token(kind: kind, line: line)) }

    private mutating func advanceLines(_ range: Range<Int>) {
        for i in range where source[i] == "\n" { line += 1 }
    }

    private enum TagKind { case variable, block, comment }

    private mutating func run() throws(TemplateError) {
        while pos < source.count {
            // The next tag opener.
            var i = pos
            var kind: TagKind?
            while i + 1 < source.count {
                if source[i] == "{" {
                    switch source[i + 1] {
                    case "{": kind = .variable
                    case "%": kind = .block
                    case "#": kind = .comment
                    default: break
                    }
                    if kind != nil { break }
                }
                i += 1
            }
            guard let kind else {
                emitText(pos..<source.count)
                pos = source.count
                return
            }
            var after = i + 2
            let sign = at(after).flatMap { $0 == "-" || $0 == "+" ? $0 : nil }
            if sign != nil { after += 1 }
            // The text before the tag, with whitespace control applied.
            var textEnd = i
            if sign == "-" {
                while textEnd > pos, Self.isSpace(source[textEnd - 1]) { textEnd -= 1 }
            } else if sign != "+" && kind != .variable {
                var lineStart = i
                while lineStart > pos, source[lineStart - 1] != "\n" { lineStart -= 1 }
                if (lineStart > pos || lineStarting) && lineStart < i && (lineStart..<i).allSatisfy({ Self.isSpace(source[$0]) }) {
                    textEnd = lineStart
                }
            }
            // jinja2 counts the lines of stripped whitespace as passed.
            emitText(pos..<textEnd)
            advanceLines(textEnd..<i)
            pos = after
            lineStarting = false
            switch kind {
            case .comment: try skipComment()
            case .block:
                if try rawBlock() { continue }
                emit(.blockBegin)
                try tagTokens(block: true)
            case .variable:
                emit(.variableBegin)
                try tagTokens(block: false)
            }
        }
    }

    private mutating func emitText(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        emit(.text(string(range)))
        advanceLines(range)
    }

    /// After `{#`: to `#}` (with `-#}` eating whitespace after it, `#}` one newline).
    private mutating func skipComment() throws(TemplateError) {
        var i = pos
        while i + 1 < source.count {
            if source[i] == "#" && source[i + 1] == "}" {
                let minus = i > pos && source[i - 1] == "-", plus = i > pos && source[i - 1] == "+"
                advanceLines(pos..<i)
                pos = i + 2
                endTagWhitespace(strip: minus, plus: plus)
                return
            }
            i += 1
        }
        throw TemplateError(.syntax, "Missing end of comment tag", line: line)
    }

    /// After a tag's end: `-` strips all whitespace that follows, otherwise (trim_blocks) one newline goes.
    private mutating func endTagWhitespace(strip: Bool, plus: Bool, trimNewline: Bool = true) {
        let start = pos
        if strip {
            while let s = at(pos), Self.isSpace(s) { pos += 1 }
        } else if !plus && trimNewline && at(pos) == "\n" {
            pos += 1
        }
        advanceLines(start..<pos)
        // jinja2 marks the next text as starting a line when this match ended with a newline.
        lineStarting = pos > start && source[pos - 1] == "\n"
    }

    /// `{% raw %}…{% endraw %}` as text. Returns false when the block tag is not `raw`.
    private mutating func rawBlock() throws(TemplateError) -> Bool {
        var i = pos
        while let s = at(i), Self.isSpace(s) { i += 1 }
        guard matches("raw", at: i) else { return false }
        i += 3
        while let s = at(i), Self.isSpace(s) { i += 1 }
        if matches("-%}", at: i) {
            i += 3
            while let s = at(i), Self.isSpace(s) { i += 1 }
        } else if matches("%}", at: i) {
            i += 2
        } else {
            return false
        }
        advanceLines(pos..<i)
        pos = i
        // The body up to `{%[-+]? endraw [-+]?%}`.
        var j = pos
        while j + 1 < source.count {
            if source[j] == "{" && source[j + 1] == "%" {
                var k = j + 2
                let sign = at(k).flatMap { $0 == "-" || $0 == "+" ? $0 : nil }
                if sign != nil { k += 1 }
                while let s = at(k), Self.isSpace(s) { k += 1 }
                if matches("endraw", at: k) {
                    k += 6
                    while let s = at(k), Self.isSpace(s) { k += 1 }
                    let closeSign = at(k).flatMap { $0 == "-" || $0 == "+" ? $0 : nil }
                    if closeSign != nil { k += 1 }
                    if matches("%}", at: k) {
                        var textEnd = j
                        if sign == "-" {
                            while textEnd > pos, Self.isSpace(source[textEnd - 1]) { textEnd -= 1 }
                        } else if sign != "+" {
                            var lineStart = j
                            while lineStart > pos, source[lineStart - 1] != "\n" { lineStart -= 1 }
                            if lineStart > pos && lineStart < j && (lineStart..<j).allSatisfy({ Self.isSpace(source[$0]) }) {
                                textEnd = lineStart
                            }
                        }
                        emitText(pos..<textEnd)
                        advanceLines(textEnd..<k)
                        pos = k + 2
                        endTagWhitespace(strip: closeSign == "-", plus: closeSign == "+")
                        return true
                    }
                }
            }
            j += 1
        }
        throw TemplateError(.syntax, "Missing end of raw directive", line: line)
    }

    /// The tokens of an expression up to the tag's end.
    private mutating func tagTokens(block: Bool) throws(TemplateError) {
        var balance: [Unicode.Scalar] = []
        while true {
            guard let c = at(pos) else {
                throw TemplateError(.syntax, "unexpected end of template, expected '\(block ? "end of statement block" : "end of print statement")'.", line: line)
            }
            if balance.isEmpty {
                if block {
                    if matches("+%}", at: pos) || matches("-%}", at: pos) || matches("%}", at: pos) {
                        let sign = c == "%" ? nil : c
                        pos += sign == nil ? 2 : 3
                        emit(.blockEnd)
                        endTagWhitespace(strip: sign == "-", plus: sign == "+")
                        return
                    }
                } else if matches("-}}", at: pos) || matches("}}", at: pos) {
                    let minus = c == "-"
                    pos += minus ? 3 : 2
                    emit(.variableEnd)
                    endTagWhitespace(strip: minus, plus: false, trimNewline: false)
                    return
                }
            }
            if Self.isSpace(c) {
                if c == "\n" { line += 1 }
                pos += 1
                continue
            }
            if let number = try number() {
                emit(number)
                continue
            }
            if c == "_" || c.properties.isXIDStart {
                let start = pos
                pos += 1
                while let d = at(pos), d == "_" || d.properties.isXIDContinue { pos += 1 }
                emit(.name(string(start..<pos)))
                continue
            }
            if c == "'" || c == "\"" {
                emit(.string(try stringLiteral(quote: c)))
                continue
            }
            let op = Self.operators.first { matches($0, at: pos) }
            guard let op else { throw TemplateError(.syntax, "unexpected char '\(Character(c))' at \(pos)", line: line) }
            switch op {
            case "{": balance.append("}")
            case "(": balance.append(")")
            case "[": balance.append("]")
            case "}", ")", "]":
                guard let expected = balance.popLast() else { throw TemplateError(.syntax, "unexpected '\(op)'", line: line) }
                guard String(expected) == op else {
                    throw TemplateError(.syntax, "unexpected '\(op)', expected '\(Character(expected))'", line: line)
                }
            default: break
            }
            pos += op.unicodeScalars.count
            emit(.op(op))
        }
    }

    static let operators = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
                            "<", ">", "=", ".", ":", "|", ",", ";"]

    private func isDigit(_ s: Unicode.Scalar?) -> Bool { s.map { $0.value >= 0x30 && $0.value <= 0x39 } ?? false }

    /// Digits with single underscores between them, from `i`; the end, or nil when none.
    private func digitRun(_ i: Int) -> Int? {
        guard isDigit(at(i)) else { return nil }
        var j = i + 1
        while true {
            if isDigit(at(j)) { j += 1 } else if at(j) == "_" && isDigit(at(j + 1)) { j += 2 } else { break }
        }
        return j
    }

    /// jinja2's float and integer rules (a float needs a fraction or an exponent; integers may be 0b, 0o, 0x).
    private mutating func number() throws(TemplateError) -> Token.Kind? {
        guard isDigit(at(pos)) else { return nil }
        let start = pos
        if !(pos > 0 && source[pos - 1] == "."), let intEnd = digitRun(pos) {
            var end = intEnd
            var isFloat = false
            if at(end) == ".", let fracEnd = digitRun(end + 1) {
                end = fracEnd
                isFloat = true
            }
            if at(end) == "e" || at(end) == "E" {
                var k = end + 1
                if at(k) == "+" || at(k) == "-" { k += 1 }
                if let expEnd = digitRun(k) {
                    end = expEnd
                    isFloat = true
                }
            }
            if isFloat {
                let text = string(start..<end).replacingUnderscores()
                pos = end
                return .float(Double(text) ?? .infinity)
            }
        }
        // Integers.
        if at(pos) == "0", let p = at(pos + 1), "bBoOxX".unicodeScalars.contains(p) {
            let radix = p == "b" || p == "B" ? 2 : p == "o" || p == "O" ? 8 : 16
            var j = pos + 2
            var digits = ""
            while let d = at(j) {
                if d == "_", let n = at(j + 1), Int(String(n), radix: radix) != nil { j += 1; continue }
                guard Int(String(d), radix: radix) != nil else { break }
                digits.unicodeScalars.append(d)
                j += 1
            }
            if !digits.isEmpty {
                pos = j
                guard let v = Int(digits, radix: radix) else { throw TemplateError(.syntax, "integer too large", line: line) }
                return .integer(v)
            }
        }
        guard let end = digitRun(pos) else { return nil }
        let text = string(pos..<end).replacingUnderscores()
        // jinja2 takes a leading-zero literal as its digits up to the first non-zero ("0(_?0)*"), then a new token.
        if text.hasPrefix("0") && text.count > 1 {
            var j = pos + 1
            while at(j) == "0" || (at(j) == "_" && at(j + 1) == "0") { j += at(j) == "_" ? 2 : 1 }
            pos = j
            return .integer(0)
        }
        pos = end
        guard let v = Int(text) else { throw TemplateError(.syntax, "integer too large", line: line) }
        return .integer(v)
    }

    /// A quoted string with Python's escapes (jinja2 decodes them with `unicode-escape`).
    private mutating func stringLiteral(quote: Unicode.Scalar) throws(TemplateError) -> String {
        let startLine = line
        pos += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = at(pos) else { throw TemplateError(.syntax, "unexpected char '\(Character(quote))' at \(pos)", line: startLine) }
            pos += 1
            if c == quote { break }
            if c == "\n" { line += 1 }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard let e = at(pos) else { throw TemplateError(.syntax, "unterminated string", line: startLine) }
            pos += 1
            switch e {
            case "\n": line += 1
            case "\\", "'", "\"": out.append(e)
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var v = e.value - 0x30
                var n = 1
                while n < 3, let d = at(pos), d.value >= 0x30 && d.value <= 0x37 {
                    v = v * 8 + d.value - 0x30
                    pos += 1
                    n += 1
                }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            case "x", "u", "U":
                let count = e == "x" ? 2 : e == "u" ? 4 : 8
                var v: UInt32 = 0
                for _ in 0..<count {
                    guard let d = at(pos), let h = UInt32(String(d), radix: 16) else {
                        throw TemplateError(.syntax, "(unicode error) 'unicodeescape' codec can't decode bytes: truncated \\\(Character(e))XXXX escape", line: startLine)
                    }
                    v = v * 16 + h
                    pos += 1
                }
                guard let scalar = Unicode.Scalar(v) else {
                    throw TemplateError(.syntax, "(unicode error) 'unicodeescape' codec can't decode bytes: illegal Unicode character", line: startLine)
                }
                out.append(scalar)
            default:
                out.append("\\")
                out.append(e)
            }
        }
        return String(out)
    }
}

private extension String {
    func replacingUnderscores() -> String { String(unicodeScalars.filter { $0 != "_" }.map(Character.init)) }
}
