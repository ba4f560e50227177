// jinja2's built-in filters and tests that chat templates use, transformers' `tojson`, and the globals of its
// environment (`raise_exception`, `strftime_now`, `namespace`, `dict`, `range`), with jinja2's argument names
// and defaults.

typealias Filter = @Sendable (Value, Arguments, Renderer) throws(TemplateError) -> Value
typealias Test = @Sendable (Value, Arguments, Renderer) throws(TemplateError) -> Bool

enum Builtins {
    // MARK: Helpers

    /// jinja2's attribute getter for `attribute=` arguments: dotted paths, integer parts as indexes.
    static func attributeGetter(_ path: Value) -> (Value) throws(TemplateError) -> Value {
        guard case .string(let p) = path else {
            return { (v: Value) throws(TemplateError) -> Value in try v.item(path) }
        }
        let parts: [Value] = p.split(separator: ".", omittingEmptySubsequences: false).map { part in
            Int(part).map(Value.int) ?? .string(String(part))
        }
        return { (v: Value) throws(TemplateError) -> Value in
            var x = v
            for part in parts {
                if case .undefined = x { return x }
                x = try x.item(part)
            }
            return x
        }
    }

    private static func lowercasedIfString(_ v: Value, _ caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    private static func sortValues(_ items: [Value], key: (Value) throws(TemplateError) -> Value, reverse: Bool) throws(TemplateError) -> [Value] {
        var keyed: [(Value, Value)] = []
        for item in items { keyed.append((try key(item), item)) }
        // A stable merge sort: Python's sort is stable and raises on unorderable pairs.
        var failure: TemplateError?
        let sorted = mergeSort(keyed) { a, b in
            do throws(TemplateError) {
                guard let o = try Operators.ordering(a.0, b.0) else {
                    throw TemplateError(.type, "'<' not supported between instances of '\(a.0.typeName)' and '\(b.0.typeName)'")
                }
                return reverse ? o > 0 : o < 0
            } catch {
                failure = failure ?? error
                return false
            }
        }
        if let failure { throw failure }
        return sorted.map(\.1)
    }

    private static func mergeSort<T>(_ a: [T], _ less: (T, T) -> Bool) -> [T] {
        guard a.count > 1 else { return a }
        let mid = a.count / 2
        let l = mergeSort(Array(a[..<mid]), less), r = mergeSort(Array(a[mid...]), less)
        var out: [T] = []
        out.reserveCapacity(a.count)
        var i = 0, j = 0
        while i < l.count && j < r.count {
            if less(r[j], l[i]) { out.append(r[j]); j += 1 } else { out.append(l[i]); i += 1 }
        }
        out.append(contentsOf: l[i...])
        out.append(contentsOf: r[j...])
        return out
    }

    private static func bool(_ v: Value?, _ d: Bool) -> Bool { v.map(\.truthy) ?? d }

    /// jinja2's select/reject family yields nothing for a false value (None included) without looking at it.
    private static func selectOrReject(_ value: Value, _ a: Arguments, _ r: Renderer, select: Bool, attribute: Bool) throws(TemplateError) -> Value {
        guard value.truthy else { return .generator([]) }
        var args = a.positional
        var getter: (Value) throws(TemplateError) -> Value = { (v: Value) throws(TemplateError) -> Value in v }
        if attribute {
            guard !args.isEmpty else { throw TemplateError(.runtime, "Missing parameter for attribute name") }
            getter = attributeGetter(args.removeFirst())
        }
        var test: ((Value) throws(TemplateError) -> Bool) = { (v: Value) throws(TemplateError) -> Bool in v.truthy }
        if !args.isEmpty {
            guard case .string(let name) = args.removeFirst() else { throw TemplateError(.runtime, "test name must be a string") }
            guard let t = tests[name] else { throw TemplateError(.runtime, "No test named '\(name)' found.") }
            let rest = Arguments(args, keywords: a.keywords)
            test = { (v: Value) throws(TemplateError) -> Bool in try t(v, rest, r) }
        }
        var out: [Value] = []
        for item in try value.iterated() where try test(try getter(item)) == select { out.append(item) }
        return .generator(out)
    }

    // MARK: Filters

    static let filters: [String: Filter] = [
        "tojson": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            try a.check("tojson", atMost: 4, names: ["ensure_ascii", "indent", "separators", "sort_keys"])
            var o = PythonText.JSONOptions(itemSeparator: ", ", keySeparator: ": ")
            o.ensureASCII = bool(a.value(0, "ensure_ascii"), false)
            switch a.value(1, "indent") {
            case nil, .none?: break
            case .int(let n)?: o.indent = String(repeating: " ", count: max(0, n))
            case .string(let s)?: o.indent = s
            case let other?: throw TemplateError(.type, "indent must be an int or a string, not \(other.typeName)")
            }
            if o.indent != nil { o.itemSeparator = "," }
            if let sep = a.value(2, "separators"), !sep.isNone {
                let parts = try sep.iterated()
                guard parts.count == 2, case .string(let item) = parts[0], case .string(let key) = parts[1] else {
                    throw TemplateError(.value, "separators must be a pair of strings")
                }
                o.itemSeparator = item
                o.keySeparator = key
            }
            o.sortKeys = bool(a.value(3, "sort_keys"), false)
            return .string(try PythonText.json(v, o))
        },
        "length": length, "count": length,
        "string": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in .string(v.str) },
        "trim": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            var chars: [Unicode.Scalar]?
            if case .string(let c)? = a.value(0, "chars") { chars = Array(c.unicodeScalars) }
            return .string(Value.string(StringMethods.strip(Array(v.str.unicodeScalars), chars, leading: true, trailing: true)))
        },
        "default": defaultFilter, "d": defaultFilter,
        "join": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            let separator = a.value(0, "d")?.str ?? ""
            var items = try v.iterated()
            if let attribute = a.value(1, "attribute"), !attribute.isNone {
                let get = attributeGetter(attribute)
                var mapped: [Value] = []
                for item in items { mapped.append(try get(item)) }
                items = mapped
            }
            return .string(items.map(\.str).joined(separator: separator))
        },
        "items": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
            switch v {
            case .undefined: return .generator([])
            case .dict(let d): return .generator(d.entries.map { .tuple([$0.key, $0.value]) })
            default: throw TemplateError(.type, "Can only get item pairs from a mapping.")
            }
        },
        "list": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in .list(try v.iterated()) },
        "safe": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in .markup(v.str) },
        "upper": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in .string(StringMethods.upper(v.str)) },
        "lower": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in .string(StringMethods.lower(v.str)) },
        "capitalize": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in .string(StringMethods.capitalize(v.str)) },
        "title": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in .string(StringMethods.title(v.str)) },
        "replace": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            guard let old = a.value(0, "old"), let new = a.value(1, "new") else {
                throw TemplateError(.type, "do_replace() missing required arguments 'old' and 'new'")
            }
            var count = -1
            if let c = a.value(2, "count"), !c.isNone { count = c.integer ?? -1 }
            return .string(Value.string(StringMethods.replace(Array(v.str.unicodeScalars), Array(old.str.unicodeScalars),
                                                              Array(new.str.unicodeScalars), count: count)))
        },
        "selectattr": { (v: Value, a: Arguments, r: Renderer) throws(TemplateError) -> Value in
            try selectOrReject(v, a, r, select: true, attribute: true)
        },
        "rejectattr": { (v: Value, a: Arguments, r: Renderer) throws(TemplateError) -> Value in
            try selectOrReject(v, a, r, select: false, attribute: true)
        },
        "select": { (v: Value, a: Arguments, r: Renderer) throws(TemplateError) -> Value in
            try selectOrReject(v, a, r, select: true, attribute: false)
        },
        "reject": { (v: Value, a: Arguments, r: Renderer) throws(TemplateError) -> Value in
            try selectOrReject(v, a, r, select: false, attribute: false)
        },
        "map": { (v: Value, a: Arguments, r: Renderer) throws(TemplateError) -> Value in
            guard v.truthy else { return .generator([]) }
            let items = try v.iterated()
            var out: [Value] = []
            if let attribute = a.keywords.first(where: { $0.0 == "attribute" })?.1 {
                let get = attributeGetter(attribute)
                let fallback = a.keywords.first { $0.0 == "default" }?.1
                for item in items {
                    let x = try get(item)
                    if let fallback, x.isUndefined { out.append(fallback) } else { out.append(x) }
                }
                return .generator(out)
            }
            guard case .string(let name)? = a.positional.first else { return .generator(items) }
            guard let f = filters[name] else { throw TemplateError(.runtime, "No filter named '\(name)' found.") }
            let rest = Arguments(Array(a.positional.dropFirst()), keywords: a.keywords)
            for item in items { out.append(try f(item, rest, r)) }
            return .generator(out)
        },
        "first": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
            try v.iterated().first ?? .undefined(Value.Undefined(message: "No first item, sequence was empty."))
        },
        "last": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
            if case .list(_, .generator) = v { throw TemplateError(.type, "'generator' object is not reversible") }
            return try v.iterated().last ?? .undefined(Value.Undefined(message: "No last item, sequence was empty."))
        },
        "reverse": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
            if case .string(let s) = v { return .string(Value.string(s.unicodeScalars.reversed())) }
            return .generator(try v.iterated().reversed())
        },
        "unique": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            let caseSensitive = bool(a.value(0, "case_sensitive"), false)
            let get = a.value(1, "attribute").flatMap { $0.isNone ? nil : attributeGetter($0) }
            var seen: [Value] = []
            var out: [Value] = []
            for item in try v.iterated() {
                let key = lowercasedIfString(try get?(item) ?? item, caseSensitive)
                if !seen.contains(where: { $0.pythonEquals(key) }) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .generator(out)
        },
        "sort": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            let reverse = bool(a.value(0, "reverse"), false)
            let caseSensitive = bool(a.value(1, "case_sensitive"), false)
            let get = a.value(2, "attribute").flatMap { $0.isNone ? nil : attributeGetter($0) }
            return .list(try sortValues(try v.iterated(), key: { (x: Value) throws(TemplateError) -> Value in
                lowercasedIfString(try get?(x) ?? x, caseSensitive)
            }, reverse: reverse))
        },
        "dictsort": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            guard case .dict(let d) = v else { throw TemplateError(.type, "dictsort requires a mapping") }
            let caseSensitive = bool(a.value(0, "case_sensitive"), false)
            let byValue: Bool
            switch a.value(1, "by") {
            case nil, .string("key")?: byValue = false
            case .string("value")?: byValue = true
            default: throw TemplateError(.runtime, "You can only sort by either \"key\" or \"value\"")
            }
            let reverse = bool(a.value(2, "reverse"), false)
            let pairs: [Value] = d.entries.map { .tuple([$0.key, $0.value]) }
            return .list(try sortValues(pairs, key: { (p: Value) throws(TemplateError) -> Value in
                guard case .list(let kv, _) = p else { return p }
                return lowercasedIfString(kv[byValue ? 1 : 0], caseSensitive)
            }, reverse: reverse))
        },
        "min": minMax(isMax: false), "max": minMax(isMax: true),
        "sum": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            var total = a.value(1, "start") ?? .int(0)
            let get = a.value(0, "attribute").flatMap { $0.isNone ? nil : attributeGetter($0) }
            for item in try v.iterated() { total = try Operators.binary("+", total, try get?(item) ?? item) }
            return total
        },
        "int": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            let fallback = a.value(0, "default") ?? .int(0)
            switch v {
            case .int, .bool: return .int(v.integer!)
            case .float(let d): return d.isFinite ? .int(Int(d.rounded(.towardZero))) : fallback
            case .string(let s):
                let t = s.trimmingSpaces
                if let i = Int(t) { return .int(i) }
                if let d = pythonFloat(t), d.isFinite { return .int(Int(d.rounded(.towardZero))) }
                return fallback
            default: return fallback
            }
        },
        "float": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            let fallback = a.value(0, "default") ?? .float(0)
            switch v {
            case .int, .bool: return .float(Double(v.integer!))
            case .float: return v
            case .string(let s): return pythonFloat(s.trimmingSpaces).map(Value.float) ?? fallback
            default: return fallback
            }
        },
        "abs": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
            switch v {
            case .int, .bool: return .int(abs(v.integer!))
            case .float(let d): return .float(abs(d))
            case .undefined(let u): throw u.fail()
            default: throw TemplateError(.type, "bad operand type for abs(): '\(v.typeName)'")
            }
        },
        "indent": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            var width = "    "
            switch a.value(0, "width") {
            case .int(let n)?: width = String(repeating: " ", count: max(0, n))
            case .string(let s)?: width = s
            default: break
            }
            let first = bool(a.value(1, "first"), false), blank = bool(a.value(2, "blank"), false)
            var text = v.str
            let newline = "\n"
            text += newline
            var lines = text.components(separatedByNewline: true)
            lines.removeLast()
            var out = ""
            for (i, line) in lines.enumerated() {
                if i > 0 { out += newline }
                if i == 0 && !first { out += line; continue }
                if blank || !line.unicodeScalars.allSatisfy(Lexer.isSpace) || line.isEmpty && blank { out += width + line } else { out += line }
            }
            return .string(out)
        },
        "wordcount": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
            .int(v.str.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).count)
        },
        "center": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            let s = v.str, width = a.value(0, "width")?.integer ?? 80
            let n = s.unicodeScalars.count
            guard width > n else { return .string(s) }
            let total = width - n, left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
        },
        "escape": escape, "e": escape, "forceescape": escape,
        "batch": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            guard let n = a.value(0, "linecount")?.integer, n > 0 else { throw TemplateError(.value, "batch size must be positive") }
            let fill = a.value(1, "fill_with")
            var out: [Value] = [], row: [Value] = []
            for item in try v.iterated() {
                row.append(item)
                if row.count == n { out.append(.list(row)); row = [] }
            }
            if !row.isEmpty {
                if let fill, !fill.isNone { while row.count < n { row.append(fill) } }
                out.append(.list(row))
            }
            return .generator(out)
        },
    ]

    /// Python's `float(text)`: decimal notation, inf and nan; not Swift's hexadecimal floats.
    static func pythonFloat(_ text: String) -> Double? {
        guard !text.contains(where: { $0 == "x" || $0 == "X" || $0 == "p" || $0 == "P" }) else { return nil }
        return Double(text)
    }

    private static let length: Filter = { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
        guard let n = v.length else { throw TemplateError(.type, "object of type '\(v.typeName)' has no len()") }
        return .int(n)
    }

    private static let defaultFilter: Filter = { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
        let fallback = a.value(0, "default_value") ?? .string("")
        if v.isUndefined || (bool(a.value(1, "boolean"), false) && !v.truthy) { return fallback }
        return v
    }

    private static let escape: Filter = { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Value in
        if case .markup = v { return v }
        return .markup(Operators.escape(v.str))
    }

    private static func minMax(isMax: Bool) -> Filter {
        { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Value in
            let caseSensitive = bool(a.value(0, "case_sensitive"), false)
            let get = a.value(1, "attribute").flatMap { $0.isNone ? nil : attributeGetter($0) }
            var best: (Value, Value)?
            for item in try v.iterated() {
                let key = lowercasedIfString(try get?(item) ?? item, caseSensitive)
                if let (k, _) = best {
                    guard let o = try Operators.ordering(key, k) else {
                        throw TemplateError(.type, "'<' not supported between instances of '\(key.typeName)' and '\(k.typeName)'")
                    }
                    if isMax ? o > 0 : o < 0 { best = (key, item) }
                } else {
                    best = (key, item)
                }
            }
            return best?.1 ?? .undefined(Value.Undefined(message: "No aggregated item, sequence was empty."))
        }
    }

    // MARK: Tests

    static let tests: [String: Test] = [
        "defined": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in !v.isUndefined },
        "undefined": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in v.isUndefined },
        "none": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in v.isNone },
        "string": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in v.isStringValue },
        "number": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in v.numeric != nil },
        "integer": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in if case .int = v { return true }; return false },
        "float": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in if case .float = v { return true }; return false },
        "boolean": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in if case .bool = v { return true }; return false },
        "true": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in if case .bool(true) = v { return true }; return false },
        "false": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in if case .bool(false) = v { return true }; return false },
        "mapping": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in if case .dict = v { return true }; return false },
        "sequence": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            switch v {
            case .string, .dict, .undefined: return v.isUndefined ? false : true
            case .list(_, let kind): return kind != .generator
            default: return false
            }
        },
        "iterable": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            switch v {
            case .string, .list, .dict, .undefined: return true
            default: return false
            }
        },
        "callable": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in if case .callable = v { return true }; return false },
        "odd": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in try integerTest(v) { $0 % 2 != 0 } },
        "even": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in try integerTest(v) { $0 % 2 == 0 } },
        "divisibleby": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            guard let n = a.value(0, "num") else { throw TemplateError(.type, "test_divisibleby() missing 1 required positional argument: 'num'") }
            return try Operators.binary("%", v, n).pythonEquals(.int(0))
        },
        "eq": compareTest("=="), "equalto": compareTest("=="), "==": compareTest("=="),
        "ne": compareTest("!="), "!=": compareTest("!="),
        "lt": compareTest("<"), "lessthan": compareTest("<"), "<": compareTest("<"),
        "le": compareTest("<="), "<=": compareTest("<="),
        "gt": compareTest(">"), "greaterthan": compareTest(">"), ">": compareTest(">"),
        "ge": compareTest(">="), ">=": compareTest(">="),
        "in": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            try Operators.contains(a.value(0, "seq") ?? .missing, v)
        },
        "sameas": { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            let other = a.value(0, "other") ?? .missing
            switch (v, other) {
            case (.none, .none): return true
            case let (.bool(x), .bool(y)): return x == y
            case let (.namespace(x), .namespace(y)): return x === y
            default: return false
            }
        },
        "lower": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            let s = v.str
            return s.lowercased() == s
        },
        "upper": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            let s = v.str
            return s.uppercased() == s
        },
        "filter": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            if case .string(let s) = v { return filters[s] != nil }
            return false
        },
        "test": { (v: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            if case .string(let s) = v { return tests[s] != nil }
            return false
        },
        "escaped": { (_: Value, _: Arguments, _: Renderer) throws(TemplateError) -> Bool in false },
    ]

    private static func integerTest(_ v: Value, _ f: (Int) -> Bool) throws(TemplateError) -> Bool {
        guard let i = v.integer else {
            if case .undefined(let u) = v { throw u.fail() }
            throw TemplateError(.type, "not all arguments converted during string formatting")
        }
        return f(i)
    }

    private static func compareTest(_ op: String) -> Test {
        { (v: Value, a: Arguments, _: Renderer) throws(TemplateError) -> Bool in
            try Operators.compare(op, v, a.value(0, "other") ?? .missing)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        Value.string(StringMethods.strip(Array(unicodeScalars), nil, leading: true, trailing: true))
    }

    /// Lines split at "\n" (`keepingEmpty` keeps a last empty line).
    func components(separatedByNewline keepingEmpty: Bool) -> [String] {
        split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
