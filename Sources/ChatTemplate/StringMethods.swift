// The methods of Python's str that chat templates call, on code points as Python counts them.

enum StringMethods {
    typealias Method = @Sendable (String, Arguments) throws(TemplateError) -> Value

    static func method(_ name: String) -> Method? { table[name] }

    private static func text(_ v: Value?, _ function: String) throws(TemplateError) -> String? {
        guard let v, !v.isNone else { return nil }
        guard case .string(let s) = v else {
            if case .undefined(let u) = v { throw u.fail() }
            throw TemplateError(.type, "\(function) arg must be None or str")
        }
        return s
    }

    private static func requireText(_ v: Value?, _ message: String) throws(TemplateError) -> [Unicode.Scalar] {
        guard case .string(let s)? = v else {
            if case .undefined(let u)? = v { throw u.fail() }
            throw TemplateError(.type, message)
        }
        return Array(s.unicodeScalars)
    }

    static func strip(_ s: [Unicode.Scalar], _ chars: [Unicode.Scalar]?, leading: Bool, trailing: Bool) -> [Unicode.Scalar] {
        let remove: (Unicode.Scalar) -> Bool = chars.map { set in { set.contains($0) } } ?? Lexer.isSpace
        var lo = 0, hi = s.count
        if leading { while lo < hi, remove(s[lo]) { lo += 1 } }
        if trailing { while hi > lo, remove(s[hi - 1]) { hi -= 1 } }
        return Array(s[lo..<hi])
    }

    private static func stripMethod(leading: Bool, trailing: Bool, _ name: String) -> Method {
        { (s: String, a: Arguments) throws(TemplateError) -> Value in
            try a.check(name, atMost: 1)
            let chars = try text(a.value(0, "chars"), name).map { Array($0.unicodeScalars) }
            return .string(Value.string(strip(Array(s.unicodeScalars), chars, leading: leading, trailing: trailing)))
        }
    }

    static func find(_ s: [Unicode.Scalar], _ sub: [Unicode.Scalar], from: Int = 0) -> Int? {
        if sub.isEmpty { return from <= s.count ? from : nil }
        guard s.count >= sub.count, from <= s.count - sub.count else { return nil }
        for i in from...(s.count - sub.count) where s[i] == sub[0] {
            if s[i..<(i + sub.count)].elementsEqual(sub) { return i }
        }
        return nil
    }

    static func split(_ s: [Unicode.Scalar], _ sep: [Unicode.Scalar]?, maxSplit: Int) throws(TemplateError) -> [String] {
        var parts: [String] = []
        guard let sep else {
            // Runs of whitespace, none at the ends.
            var i = 0
            var splits = 0
            while i < s.count {
                while i < s.count, Lexer.isSpace(s[i]) { i += 1 }
                guard i < s.count else { break }
                if maxSplit >= 0 && splits == maxSplit {
                    var end = s.count
                    while end > i, Lexer.isSpace(s[end - 1]) { end -= 1 }
                    parts.append(Value.string(s[i..<end]))
                    return parts
                }
                let start = i
                while i < s.count, !Lexer.isSpace(s[i]) { i += 1 }
                parts.append(Value.string(s[start..<i]))
                splits += 1
            }
            return parts
        }
        guard !sep.isEmpty else { throw TemplateError(.value, "empty separator") }
        var start = 0
        while maxSplit < 0 || parts.count < maxSplit, let i = find(s, sep, from: start) {
            parts.append(Value.string(s[start..<i]))
            start = i + sep.count
        }
        parts.append(Value.string(s[start...]))
        return parts
    }

    static func replace(_ s: [Unicode.Scalar], _ old: [Unicode.Scalar], _ new: [Unicode.Scalar], count: Int) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var done = 0
        if old.isEmpty {
            for c in s {
                if count < 0 || done < count {
                    out.append(contentsOf: new)
                    done += 1
                }
                out.append(c)
            }
            if count < 0 || done < count { out.append(contentsOf: new) }
            return out
        }
        var i = 0
        while i < s.count {
            if (count < 0 || done < count), i + old.count <= s.count, s[i..<(i + old.count)].elementsEqual(old) {
                out.append(contentsOf: new)
                i += old.count
                done += 1
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    private static func affix(_ name: String, prefix: Bool) -> Method {
        { (s: String, a: Arguments) throws(TemplateError) -> Value in
            let scalars = Array(s.unicodeScalars)
            var candidates: [[Unicode.Scalar]] = []
            switch a.value(0, "prefix") {
            case .string(let p)?: candidates = [Array(p.unicodeScalars)]
            case .list(let items, .tuple)?:
                for item in items {
                    guard case .string(let p) = item else {
                        throw TemplateError(.type, "tuple for \(name) must only contain str, not \(item.typeName)")
                    }
                    candidates.append(Array(p.unicodeScalars))
                }
            case .undefined(let u)?: throw u.fail()
            case let other?: throw TemplateError(.type, "\(name) first arg must be str or a tuple of str, not \(other.typeName)")
            case nil: throw TemplateError(.type, "\(name)() takes at least 1 argument (0 given)")
            }
            return .bool(candidates.contains { c in
                prefix ? scalars.starts(with: c) : scalars.count >= c.count && scalars[(scalars.count - c.count)...].elementsEqual(c)
            })
        }
    }

    private static func intArgument(_ v: Value?, default d: Int) throws(TemplateError) -> Int {
        guard let v, !v.isNone else { return d }
        guard let i = v.index else { throw TemplateError(.type, "'\(v.typeName)' object cannot be interpreted as an integer") }
        return i
    }

    static func upper(_ s: String) -> String { s.uppercased() }
    static func lower(_ s: String) -> String { s.lowercased() }

    /// Python's `str.title`: a letter after a non-letter is upper-cased, the others lower-cased.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            let ch = String(c)
            out += previousCased ? ch.lowercased() : ch.uppercased()
            previousCased = c.properties.isCased || c.properties.isCaseIgnorable && previousCased && c.properties.isAlphabetic
        }
        return out
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + Value.string(s.unicodeScalars.dropFirst()).lowercased()
    }

    /// `'…{}…{0}…{name}…'.format(...)` without format specs beyond the field name.
    static func format(_ s: String, _ a: Arguments) throws(TemplateError) -> String {
        let c = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var auto = 0
        while i < c.count {
            if c[i] == "{" {
                if i + 1 < c.count && c[i + 1] == "{" {
                    out.append("{")
                    i += 2
                    continue
                }
                guard let close = c[i...].firstIndex(of: "}") else { throw TemplateError(.value, "Single '{' encountered in format string") }
                let field = Value.string(c[(i + 1)..<close])
                guard !field.contains(":") && !field.contains("!") else {
                    throw TemplateError(.value, "format specs are not supported in templates here: {\(field)}")
                }
                let value: Value?
                if field.isEmpty {
                    value = auto < a.positional.count ? a.positional[auto] : nil
                    auto += 1
                } else if let n = Int(field) {
                    value = n < a.positional.count ? a.positional[n] : nil
                } else {
                    value = a.keywords.first { $0.0 == field }?.1
                }
                guard let value else {
                    if field.isEmpty || Int(field) != nil {
                        throw TemplateError(.index, "Replacement index \(field.isEmpty ? auto - 1 : Int(field)!) out of range for positional args tuple")
                    }
                    throw TemplateError(.key, "'\(field)'")
                }
                out.append(contentsOf: value.str.unicodeScalars)
                i = close + 1
            } else if c[i] == "}" {
                guard i + 1 < c.count && c[i + 1] == "}" else { throw TemplateError(.value, "Single '}' encountered in format string") }
                out.append("}")
                i += 2
            } else {
                out.append(c[i])
                i += 1
            }
        }
        return String(out)
    }

    private static let table: [String: Method] = [
        "strip": stripMethod(leading: true, trailing: true, "strip"),
        "lstrip": stripMethod(leading: true, trailing: false, "lstrip"),
        "rstrip": stripMethod(leading: false, trailing: true, "rstrip"),
        "split": { (s: String, a: Arguments) throws(TemplateError) -> Value in
            try a.check("split", atMost: 2, names: ["sep", "maxsplit"])
            let sep = try text(a.value(0, "sep"), "split").map { Array($0.unicodeScalars) }
            return .list(try split(Array(s.unicodeScalars), sep, maxSplit: try intArgument(a.value(1, "maxsplit"), default: -1)).map { .string($0) })
        },
        "rsplit": { (s: String, a: Arguments) throws(TemplateError) -> Value in
            try a.check("rsplit", atMost: 2, names: ["sep", "maxsplit"])
            let sep = try text(a.value(0, "sep"), "rsplit").map { Array($0.unicodeScalars.reversed()) }
            let parts = try split(Array(s.unicodeScalars.reversed()), sep, maxSplit: try intArgument(a.value(1, "maxsplit"), default: -1))
            return .list(parts.reversed().map { .string(Value.string($0.unicodeScalars.reversed())) })
        },
        "startswith": affix("startswith", prefix: true),
        "endswith": affix("endswith", prefix: false),
        "replace": { (s: String, a: Arguments) throws(TemplateError) -> Value in
            let old = try requireText(a.value(0, "old"), "replace() argument 1 must be str")
            let new = try requireText(a.value(1, "new"), "replace() argument 2 must be str")
            return .string(Value.string(replace(Array(s.unicodeScalars), old, new, count: try intArgument(a.value(2, "count"), default: -1))))
        },
        "upper": { (s: String, _: Arguments) throws(TemplateError) -> Value in .string(upper(s)) },
        "lower": { (s: String, _: Arguments) throws(TemplateError) -> Value in .string(lower(s)) },
        "title": { (s: String, _: Arguments) throws(TemplateError) -> Value in .string(title(s)) },
        "capitalize": { (s: String, _: Arguments) throws(TemplateError) -> Value in .string(capitalize(s)) },
        "find": { (s: String, a: Arguments) throws(TemplateError) -> Value in
            let sub = try requireText(a.value(0, "sub"), "must be str")
            return .int(find(Array(s.unicodeScalars), sub, from: max(0, try intArgument(a.value(1, "start"), default: 0))) ?? -1)
        },
        "count": { (s: String, a: Arguments) throws(TemplateError) -> Value in
            let sub = try requireText(a.value(0, "sub"), "must be str")
            let scalars = Array(s.unicodeScalars)
            if sub.isEmpty { return .int(scalars.count + 1) }
            var n = 0, from = 0
            while let i = find(scalars, sub, from: from) {
                n += 1
                from = i + sub.count
            }
            return .int(n)
        },
        "join": { (s: String, a: Arguments) throws(TemplateError) -> Value in
            var parts: [String] = []
            for item in try (a.value(0, "iterable") ?? .list([])).iterated() {
                guard case .string(let p) = item else {
                    throw TemplateError(.type, "sequence item \(parts.count): expected str instance, \(item.typeName) found")
                }
                parts.append(p)
            }
            return .string(parts.joined(separator: s))
        },
        "format": { (s: String, a: Arguments) throws(TemplateError) -> Value in .string(try format(s, a)) },
        "splitlines": { (s: String, a: Arguments) throws(TemplateError) -> Value in
            let keep = a.value(0, "keepends")?.truthy ?? false
            var lines: [Value] = []
            var current = String.UnicodeScalarView()
            let c = Array(s.unicodeScalars)
            var i = 0
            while i < c.count {
                let ch = c[i]
                let isBreak = ["\n", "\r", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1D}", "\u{1E}", "\u{85}", "\u{2028}", "\u{2029}"].contains(ch)
                if isBreak {
                    var end: [Unicode.Scalar] = [ch]
                    if ch == "\r" && i + 1 < c.count && c[i + 1] == "\n" {
                        end.append("\n")
                        i += 1
                    }
                    if keep { current.append(contentsOf: end) }
                    lines.append(.string(String(current)))
                    current = String.UnicodeScalarView()
                } else {
                    current.append(ch)
                }
                i += 1
            }
            if !current.isEmpty { lines.append(.string(String(current))) }
            return .list(lines)
        },
        "isdigit": { (s: String, _: Arguments) throws(TemplateError) -> Value in
            .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
        },
        "isalpha": { (s: String, _: Arguments) throws(TemplateError) -> Value in
            .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        },
        "isspace": { (s: String, _: Arguments) throws(TemplateError) -> Value in
            .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(Lexer.isSpace))
        },
        "isupper": { (s: String, _: Arguments) throws(TemplateError) -> Value in
            .bool(s.unicodeScalars.contains { $0.properties.isCased } && s.uppercased() == s)
        },
        "islower": { (s: String, _: Arguments) throws(TemplateError) -> Value in
            .bool(s.unicodeScalars.contains { $0.properties.isCased } && s.lowercased() == s)
        },
    ]
}
