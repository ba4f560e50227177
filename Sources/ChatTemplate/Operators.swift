// Python's arithmetic, concatenation and comparison operators on template values, with Python's TypeError
// messages; jinja2's Undefined fails every one of them but == and !=.

enum Operators {
    static let maxStringScalars = 64 << 20

    static func negate(_ v: Value) throws(TemplateError) -> Value {
        switch v {
        case .undefined(let u): throw u.fail()
        case .bool(let b): return .int(b ? -1 : 0)
        case .int(let i):
            guard i != .min else { throw TemplateError(.value, "integer overflow") }
            return .int(-i)
        case .float(let d): return .float(-d)
        default: throw TemplateError(.type, "bad operand type for unary -: '\(v.typeName)'")
        }
    }

    private static func unsupported(_ op: String, _ a: Value, _ b: Value) -> TemplateError {
        TemplateError(.type, "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    private static func overflow() -> TemplateError { TemplateError(.value, "integer overflow (past 64 bits)") }

    static func binary(_ op: String, _ a: Value, _ b: Value) throws(TemplateError) -> Value {
        if op == "~" {
            let s = a.str + b.str
            guard s.utf8.count <= maxStringScalars else { throw TemplateError(.limit, "a string past 64 MiB") }
            return .string(s)
        }
        if case .undefined(let u) = a { throw u.fail() }
        if case .undefined(let u) = b { throw u.fail() }
        switch (op, a, b) {
        case let ("+", .markup(x), .markup(y)):
            return .markup(x + y)
        case let ("+", .markup(x), .string(y)):
            return .markup(x + escape(y))
        case let ("+", .string(x), .markup(y)):
            return .markup(escape(x) + y)
        case let ("+", .string(x), .string(y)):
            guard x.utf8.count + y.utf8.count <= maxStringScalars else { throw TemplateError(.limit, "a string past 64 MiB") }
            return .string(x + y)
        case ("+", .string, _): throw TemplateError(.type, "can only concatenate str (not \"\(b.typeName)\") to str")
        case let ("+", .list(x, k1), .list(y, k2)) where k1 == k2 && k1 != .generator:
            return .list(x + y, kind: k1)
        case ("+", .list(_, let k), _) where k != .generator:
            throw TemplateError(.type, "can only concatenate \(a.typeName) (not \"\(b.typeName)\") to \(a.typeName)")
        case let ("*", .string(s), _), let ("*", _, .string(s)):
            guard let n = (a.isStringValue ? b : a).integer else { throw TemplateError(.type, "can't multiply sequence by non-int of type '\((a.isStringValue ? b : a).typeName)'") }
            guard n <= 0 || s.utf8.count <= maxStringScalars / max(n, 1) else { throw TemplateError(.limit, "a string past 64 MiB") }
            return .string(n <= 0 ? "" : String(repeating: s, count: n))
        case let ("*", .list(items, k), _) where k != .generator:
            guard let n = b.integer else { throw TemplateError(.type, "can't multiply sequence by non-int of type '\(b.typeName)'") }
            guard n <= 0 || items.count <= (1 << 20) / max(n, 1) else { throw TemplateError(.limit, "a list past 2^20 items") }
            return .list(n <= 0 ? [] : Array(repeating: items, count: n).flatMap { $0 }, kind: k)
        case let ("%", .string(s), _):
            return .string(try percentFormat(s, b))
        default: break
        }
        guard let x = a.numeric, let y = b.numeric else { throw unsupported(op, a, b) }
        switch (x, y) {
        case let (.int(i), .int(j)):
            switch op {
            case "+": let (r, o) = i.addingReportingOverflow(j); if o { throw overflow() }; return .int(r)
            case "-": let (r, o) = i.subtractingReportingOverflow(j); if o { throw overflow() }; return .int(r)
            case "*": let (r, o) = i.multipliedReportingOverflow(by: j); if o { throw overflow() }; return .int(r)
            case "/":
                guard j != 0 else { throw TemplateError(.zeroDivision, "division by zero") }
                return .float(Double(i) / Double(j))
            case "//":
                guard j != 0 else { throw TemplateError(.zeroDivision, "integer division or modulo by zero") }
                let q = i / j
                return .int((i % j != 0) && ((i < 0) != (j < 0)) ? q - 1 : q)
            case "%":
                guard j != 0 else { throw TemplateError(.zeroDivision, "integer modulo by zero") }
                let r = i % j
                return .int(r != 0 && ((r < 0) != (j < 0)) ? r + j : r)
            case "**":
                if j < 0 { return .float(pow(Double(i), Double(j))) }
                var result = 1, base = i, e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b2, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        base = b2
                    }
                }
                return .int(result)
            default: throw unsupported(op, a, b)
            }
        default:
            let p = x.double, q = y.double
            switch op {
            case "+": return .float(p + q)
            case "-": return .float(p - q)
            case "*": return .float(p * q)
            case "/":
                guard q != 0 else { throw TemplateError(.zeroDivision, "float division by zero") }
                return .float(p / q)
            case "//":
                guard q != 0 else { throw TemplateError(.zeroDivision, "float floor division by zero") }
                return .float((p / q).rounded(.down))
            case "%":
                guard q != 0 else { throw TemplateError(.zeroDivision, "float modulo") }
                let r = p.truncatingRemainder(dividingBy: q)
                return .float(r != 0 && ((r < 0) != (q < 0)) ? r + q : r)
            case "**": return .float(pow(p, q))
            default: throw unsupported(op, a, b)
            }
        }
    }

    /// markupsafe's escape of what is added to a Markup.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `format % value` for `%s`, `%d`, `%r`, `%%` (a tuple gives several values).
    static func percentFormat(_ format: String, _ value: Value) throws(TemplateError) -> String {
        var values: [Value]
        if case .list(let items, .tuple) = value { values = items } else { values = [value] }
        var out = ""
        var it = format.unicodeScalars.makeIterator()
        while let c = it.next() {
            guard c == "%" else {
                out.unicodeScalars.append(c)
                continue
            }
            guard let spec = it.next() else { throw TemplateError(.value, "incomplete format") }
            if spec == "%" {
                out += "%"
                continue
            }
            guard !values.isEmpty else { throw TemplateError(.type, "not enough arguments for format string") }
            let v = values.removeFirst()
            switch spec {
            case "s": out += v.str
            case "r": out += v.repr
            case "d", "i":
                guard let n = v.numeric else { throw TemplateError(.type, "%d format: a real number is required, not \(v.typeName)") }
                switch n {
                case .int(let i): out += String(i)
                case .float(let d): out += String(Int(d.rounded(.towardZero)))
                }
            default: throw TemplateError(.value, "unsupported format character '\(Character(spec))'")
            }
        }
        guard values.isEmpty else { throw TemplateError(.type, "not all arguments converted during string formatting") }
        return out
    }

    /// `a op b` for ==, !=, <, <=, >, >=, in, not in.
    static func compare(_ op: String, _ a: Value, _ b: Value) throws(TemplateError) -> Bool {
        switch op {
        case "==": return a.pythonEquals(b)
        case "!=": return !a.pythonEquals(b)
        case "in": return try contains(b, a)
        case "notin": return !(try contains(b, a))
        default: break
        }
        if case .undefined(let u) = a { throw u.fail() }
        if case .undefined(let u) = b { throw u.fail() }
        guard let order = try ordering(a, b) else {
            throw TemplateError(.type, "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
        if order == 2 { return false }
        switch op {
        case "<": return order < 0
        case "<=": return order <= 0
        case ">": return order > 0
        default: return order >= 0
        }
    }

    /// -1, 0, 1, or nil when Python cannot order the two.
    static func ordering(_ a: Value, _ b: Value) throws(TemplateError) -> Int? {
        if let x = a.numeric, let y = b.numeric {
            switch (x, y) {
            case let (.int(i), .int(j)): return i < j ? -1 : i == j ? 0 : 1
            default:
                let p = x.double, q = y.double
                if p.isNaN || q.isNaN { return 2 } // every comparison false but !=
                return p < q ? -1 : p == q ? 0 : 1
            }
        }
        switch (a, b) {
        case let (.string(x), .string(y)), let (.markup(x), .markup(y)), let (.string(x), .markup(y)), let (.markup(x), .string(y)):
            if x.unicodeScalars.elementsEqual(y.unicodeScalars) { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : 1
        case let (.list(x, k1), .list(y, k2)) where k1 == k2 && k1 != .generator:
            for (p, q) in zip(x, y) where !p.pythonEquals(q) {
                return try ordering(p, q)
            }
            return x.count < y.count ? -1 : x.count == y.count ? 0 : 1
        default: return nil
        }
    }

    /// `needle in container`.
    static func contains(_ container: Value, _ needle: Value) throws(TemplateError) -> Bool {
        switch container {
        case .undefined: return false
        case .string(let s), .markup(let s):
            guard needle.isStringValue, case let n = needle.str else {
                if case .undefined(let u) = needle { throw u.fail() }
                throw TemplateError(.type, "'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return StringMethods.find(Array(s.unicodeScalars), Array(n.unicodeScalars)) != nil
        case .list(let items, _): return items.contains { $0.pythonEquals(needle) }
        case .dict(let d):
            try needle.requireHashable()
            return d[needle] != nil
        case .namespace(let ns): return ns.attributes[needle] != nil
        default: throw TemplateError(.type, "argument of type '\(container.typeName)' is not iterable")
        }
    }
}

extension Value {
    var isStringValue: Bool {
        switch self {
        case .string, .markup: return true
        default: return false
        }
    }
    /// An int or bool as Python's `int` (not a float).
    var integer: Int? { index }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
