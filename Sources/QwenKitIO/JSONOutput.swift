/// A JSON document to print (reports for scripts: `inspect --json`, `verify --json`). Unlike `JSONValue`, which
/// holds what was parsed, this keeps numbers in the type they were measured in, so a float32 metadata value prints
/// as `1e-06` (its shortest float32 form) and a 64-bit count prints exactly.
///
/// Rendering: members in insertion order; strings escaped as Python's `json.dumps(ensure_ascii=False)` does;
/// non-finite floats, which JSON cannot spell, print as `null`.
public indirect enum JSONOutput: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Float)
    case double(Double)
    case string(String)
    case array([JSONOutput])
    case object([(String, JSONOutput)])

    public static func == (a: JSONOutput, b: JSONOutput) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.uint(x), .uint(y)): return x == y
        case let (.float(x), .float(y)): return x.bitPattern == y.bitPattern
        case let (.double(x), .double(y)): return x.bitPattern == y.bitPattern
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// `.int` from any integer that fits (the common case for counts and sizes).
    public static func integer<T: BinaryInteger>(_ value: T) -> JSONOutput {
        if let v = Int64(exactly: value) { return .int(v) }
        return UInt64(exactly: value).map(JSONOutput.uint) ?? .null
    }

    /// The rendered text: `indent` spaces per level with one member per line, or compact on one line when nil.
    public func rendered(indent: Int? = 2) -> String {
        var out: [UInt8] = []
        append(to: &out, indent: indent, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func append(to out: inout [UInt8], indent: Int?, level: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let v): out.append(contentsOf: String(v).utf8)
        case .uint(let v): out.append(contentsOf: String(v).utf8)
        case .float(let v): Self.appendNumber(v.isFinite ? Self.text(of: v) : nil, to: &out)
        case .double(let v): Self.appendNumber(v.isFinite ? Self.text(of: v) : nil, to: &out)
        case .string(let s):
            var s = s
            s.withUTF8 { JSONString.appendQuoted($0, to: &out) }
        case .array(let items):
            guard !items.isEmpty else { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.newline(&out, indent: indent, level: level + 1)
                item.append(to: &out, indent: indent, level: level + 1)
            }
            Self.newline(&out, indent: indent, level: level)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.newline(&out, indent: indent, level: level + 1)
                var key = key
                key.withUTF8 { JSONString.appendQuoted($0, to: &out) }
                out.append(contentsOf: (indent == nil ? ":" : ": ").utf8)
                value.append(to: &out, indent: indent, level: level + 1)
            }
            Self.newline(&out, indent: indent, level: level)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    private static func appendNumber(_ text: String?, to out: inout [UInt8]) {
        out.append(contentsOf: (text ?? "null").utf8)
    }

    /// Shortest round-trip text, with a whole value printed without `.0` (`3` rather than `3.0`), as a JSON number.
    static func text<F: BinaryFloatingPoint & LosslessStringConvertible>(of v: F) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
