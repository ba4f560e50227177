// Python's text forms of values, which chat templates print: str() and repr() of every type (a list prints its
// items' reprs), float repr (shortest round trip, exponent past 1e16 and below 1e-4), and json.dumps as
// transformers' `tojson` calls it.

extension Value {
    /// Python's `str(value)` (jinja2 prints Undefined as nothing).
    var str: String {
        switch self {
        case .undefined: return ""
        case .string(let s), .markup(let s): return s
        default: return repr
        }
    }

    /// Python's `repr(value)`.
    var repr: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return PythonText.float(d)
        case .string(let s): return PythonText.repr(s)
        case .markup(let s): return "Markup(" + PythonText.repr(s) + ")"
        case .list(let items, let kind):
            switch kind {
            case .list: return "[" + items.map(\.repr).joined(separator: ", ") + "]"
            case .tuple: return "(" + items.map(\.repr).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
            case .generator: return "<generator object at 0x0>"
            }
        case .dict(let d): return "{" + d.entries.map { $0.key.repr + ": " + $0.value.repr }.joined(separator: ", ") + "}"
        case .namespace(let ns): return "<Namespace " + Value.dict(ns.attributes).repr + ">"
        case .callable(let c): return "<function \(c.name)>"
        }
    }
}

extension Value {
    /// Compact JSON (json.dumps with separators (",", ":"), ensure_ascii off): for API responses and request files.
    /// Values JSON has no form for (Undefined, generators, callables) are null.
    public var jsonText: String {
        (try? PythonText.json(self, PythonText.JSONOptions(itemSeparator: ",", keySeparator: ":"))) ?? "null"
    }
}

enum PythonText {
    /// Python's float repr: the shortest digits that round-trip, positional for 1e-4 <= |x| < 1e16, else
    /// `d.ddde+XX`; always a `.0` on integral values.
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest digits; take them and the decimal exponent from it.
        var text = "\(d.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var digits = ""
        var pointAt = text.count
        for (i, c) in text.enumerated() {
            if c == "." { pointAt = i } else { digits.append(c) }
        }
        // value = 0.digits × 10^(pointAt + exponent) after removing leading zeros.
        var decimalExponent = pointAt + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            decimalExponent -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let x = decimalExponent - 1 // scientific exponent
        if x < -4 || x >= 16 {
            var mantissa = String(digits.first!)
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let e = abs(x) < 10 ? "0\(abs(x))" : "\(abs(x))"
            return sign + mantissa + "e" + (x < 0 ? "-" : "+") + e
        }
        if decimalExponent <= 0 {
            return sign + "0." + String(repeating: "0", count: -decimalExponent) + digits
        }
        if digits.count <= decimalExponent {
            return sign + digits + String(repeating: "0", count: decimalExponent - digits.count) + ".0"
        }
        let cut = digits.index(digits.startIndex, offsetBy: decimalExponent)
        return sign + digits[..<cut] + "." + digits[cut...]
    }

    /// Python's `str.isprintable` for one character.
    static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default: return true
        }
    }

    /// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func repr(_ s: String) -> String {
        let quote: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for c in s.unicodeScalars {
            switch c {
            case quote, "\\":
                out.append("\\")
                out.append(c)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default:
                if isPrintable(c) {
                    out.append(c)
                } else if c.value < 0x100 {
                    out.append(contentsOf: "\\x\(hex(c.value, 2))".unicodeScalars)
                } else if c.value < 0x10000 {
                    out.append(contentsOf: "\\u\(hex(c.value, 4))".unicodeScalars)
                } else {
                    out.append(contentsOf: "\\U\(hex(c.value, 8))".unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }

    /// `json.dumps(value, ensure_ascii:, indent:, separators:, sort_keys:)`.
    struct JSONOptions {
        var ensureASCII = false
        /// nil: one line; otherwise the text one level indents by (an int n is n spaces).
        var indent: String?
        var itemSeparator: String
        var keySeparator: String
        var sortKeys = false
    }

    static func json(_ value: Value, _ options: JSONOptions) throws(TemplateError) -> String {
        var out = ""
        try appendJSON(value, options, level: 0, to: &out)
        return out
    }

    private static func appendJSON(_ value: Value, _ o: JSONOptions, level: Int, to out: inout String) throws(TemplateError) {
        guard level < 200 else { throw TemplateError(.value, "Circular reference detected") }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += float(d) }
        case .string(let s), .markup(let s): appendJSONString(s, ascii: o.ensureASCII, to: &out)
        case .list(let items, let kind):
            guard kind != .generator else { throw TemplateError(.type, "Object of type generator is not JSON serializable") }
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += o.itemSeparator }
                newline(o, level + 1, &out)
                try appendJSON(item, o, level: level + 1, to: &out)
            }
            newline(o, level, &out)
            out += "]"
        case .dict(let d):
            if d.count == 0 {
                out += "{}"
                return
            }
            var entries: [(String, Value)] = []
            for (k, v) in d.entries {
                let key: String
                switch k {
                case .string(let s): key = s
                case .int(let i): key = String(i)
                case .float(let f): key = float(f)
                case .bool(let b): key = b ? "true" : "false"
                case .none: key = "null"
                default: throw TemplateError(.type, "keys must be str, int, float, bool or None, not \(k.typeName)")
                }
                entries.append((key, v))
            }
            if o.sortKeys {
                entries.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) }
            }
            out += "{"
            for (i, (k, v)) in entries.enumerated() {
                if i > 0 { out += o.itemSeparator }
                newline(o, level + 1, &out)
                appendJSONString(k, ascii: o.ensureASCII, to: &out)
                out += o.keySeparator
                try appendJSON(v, o, level: level + 1, to: &out)
            }
            newline(o, level, &out)
            out += "}"
        default:
            let name = value.isUndefined ? "Undefined" : value.typeName
            throw TemplateError(.type, "Object of type \(name) is not JSON serializable")
        }
    }

    private static func newline(_ o: JSONOptions, _ level: Int, _ out: inout String) {
        guard let indent = o.indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    private static func appendJSONString(_ s: String, ascii: Bool, to out: inout String) {
        var v = String.UnicodeScalarView()
        v.append("\"")
        for c in s.unicodeScalars {
            switch c {
            case "\"": v.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": v.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": v.append(contentsOf: "\\n".unicodeScalars)
            case "\r": v.append(contentsOf: "\\r".unicodeScalars)
            case "\t": v.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": v.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": v.append(contentsOf: "\\f".unicodeScalars)
            default:
                if c.value < 0x20 || (ascii && c.value > 0x7E) {
                    if c.value >= 0x10000 {
                        let u = c.value - 0x10000
                        v.append(contentsOf: "\\u\(hex(0xD800 + (u >> 10), 4))\\u\(hex(0xDC00 + (u & 0x3FF), 4))".unicodeScalars)
                    } else {
                        v.append(contentsOf: "\\u\(hex(c.value, 4))".unicodeScalars)
                    }
                } else {
                    v.append(c)
                }
            }
        }
        v.append("\"")
        out += String(v)
    }
}
