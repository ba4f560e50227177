// A small JSON value tree for the few-kilobyte parts of a file (a tokenizer's normalizer and
// pretokenizer sections, config.json). Large parts are read with `JSONScanner` directly.

public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var number: Double? { if case .number(let n) = self { return n }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Compact JSON text, for messages. Strings and keys are escaped as JSON (`JSONString`), control characters
    /// included, so a value from an untrusted file cannot break a one-line message.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): return JSONString.quoted(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object(let m): return "{" + m.map { JSONString.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }
}

extension JSONScanner {
    /// Parses the next value into a tree. Nesting deeper than `maxDepth` is an error.
    public mutating func readValue(maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        guard maxDepth > 0 else { throw error("nesting too deep") }
        switch try peekKind() {
        case .null:
            _ = readNullIfPresent()
            return .null
        case .bool:
            return .bool(try readBool())
        case .string:
            return .string(try readString())
        case .number:
            let start = offset
            try skipNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
            guard let d = Double(text) else { offset = start; throw error("malformed number") }
            return .number(d)
        case .array:
            try beginArray()
            var items: [JSONValue] = []
            var first = true
            while try nextElement(first: &first) { items.append(try readValue(maxDepth: maxDepth - 1)) }
            return .array(items)
        case .object:
            try beginObject()
            var members: [(String, JSONValue)] = []
            var key: [UInt8] = []
            var first = true
            while try nextKey(&key, first: &first) {
                members.append((String(decoding: key, as: UTF8.self), try readValue(maxDepth: maxDepth - 1)))
            }
            return .object(members)
        }
    }

    /// Parses a whole document (one value, then only whitespace).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var s = JSONScanner(bytes)
        let v = try s.readValue()
        guard s.atEnd() else { throw s.error("unexpected data after the JSON value") }
        return v
    }
}
