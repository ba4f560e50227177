// The values a chat template computes with: Python's as jinja2 sees them (None, bool, int, float, str, list,
// tuple, dict in insertion order), jinja2's Undefined, namespaces, macros and the callables templates call.

/// A template value. Lists, tuples and generators are all `.list`, told apart by their kind: a tuple prints with
/// parentheses, and a generator (what `select`, `map`, `selectattr`, `unique` return) has no length, is always
/// true and is not JSON, as in Python.
public indirect enum Value: Sendable {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// markupsafe's Markup (what `|safe` returns): a str that escapes what is added to it.
    case markup(String)
    case list([Value], kind: ListKind = .list)
    case dict(Dictionary)
    case namespace(Namespace)
    case callable(Callable)

    public enum ListKind: Sendable { case list, tuple, generator }

    static func tuple(_ items: [Value]) -> Value { .list(items, kind: .tuple) }
    static func generator(_ items: [Value]) -> Value { .list(items, kind: .generator) }
    static let missing = Value.undefined(Undefined(name: nil))

    /// A dict in insertion order, as Python's. Templates' dicts are small (a message, a tool's schema), so a key is
    /// found by a linear scan.
    public struct Dictionary: Sendable {
        public private(set) var entries: [(key: Value, value: Value)] = []
        public init() {}
        public init(_ pairs: [(String, Value)]) {
            for (k, v) in pairs { self[.string(k)] = v }
        }

        public subscript(key: Value) -> Value? {
            get { entries.first { $0.key.pythonEquals(key) }?.value }
            set {
                if let i = entries.firstIndex(where: { $0.key.pythonEquals(key) }) {
                    if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
                } else if let newValue {
                    entries.append((key, newValue))
                }
            }
        }

        public subscript(key: String) -> Value? { self[.string(key)] }
        public var count: Int { entries.count }
        public var keys: [Value] { entries.map(\.key) }
    }

    /// A missing variable, attribute or item (jinja2's `Undefined`): empty when printed, false, of length 0,
    /// iterable as nothing; any other use fails with the message naming what was missing.
    public struct Undefined: Sendable {
        let message: String
        /// Only unsafe attributes of the sandbox (a list's `append`) fail with a SecurityError.
        var isSecurity = false

        init(name: String?) { message = name.map { "'\($0)' is undefined" } ?? "undefined value" }
        init(message: String, isSecurity: Bool = false) {
            self.message = message
            self.isSecurity = isSecurity
        }

        static func attribute(_ name: String, of object: Value) -> Undefined {
            Undefined(message: "'\(object.typeDescription)' has no attribute '\(name)'")
        }

        static func element(_ key: Value, of object: Value) -> Undefined {
            if case .string(let s) = key { return attribute(s, of: object) }
            return Undefined(message: "\(object.typeDescription) has no element \(key.repr)")
        }

        func fail() -> TemplateError {
            TemplateError(isSecurity ? .security : .undefined, message)
        }
    }

    /// jinja2's `namespace(...)`: the one mutable object a template may assign attributes of from inside a loop.
    public final class Namespace: @unchecked Sendable {
        var attributes: Dictionary
        init(_ attributes: Dictionary) { self.attributes = attributes }
    }

    /// A macro, a global function or a bound method: called with positional and keyword arguments.
    public struct Callable: Sendable {
        let name: String
        let call: @Sendable (_ arguments: Arguments, _ renderer: Renderer) throws(TemplateError) -> Value
    }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }
    var isNone: Bool { if case .none = self { return true }; return false }

    /// Python's truth value (jinja2's Undefined is false).
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s), .markup(let s): return !s.isEmpty
        case .list(let a, let kind): return kind == .generator || !a.isEmpty
        case .dict(let d): return d.count > 0
        case .namespace, .callable: return true
        }
    }

    /// What `'...' has no attribute` messages call the type (jinja2's object_type_repr).
    var typeDescription: String {
        switch self {
        case .undefined: return "jinja2.runtime.Undefined object"
        case .none: return "None"
        case .bool: return "bool object"
        case .int: return "int object"
        case .float: return "float object"
        case .string: return "str object"
        case .markup: return "markupsafe.Markup object"
        case .list(_, let kind): return kind == .tuple ? "tuple object" : kind == .list ? "list object" : "generator object"
        case .dict: return "dict object"
        case .namespace: return "jinja2.utils.Namespace object"
        case .callable: return "function object"
        }
    }

    /// Python's `type(x).__name__`, for TypeError messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .list(_, let kind): return kind == .tuple ? "tuple" : kind == .list ? "list" : "generator"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }

    /// Python's `==` (1 == 1.0 == True; jinja2's Undefined equals only Undefined).
    func pythonEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(a), .string(b)), let (.markup(a), .markup(b)), let (.string(a), .markup(b)), let (.markup(a), .string(b)):
            return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.list(a, t1), .list(b, t2)):
            return t1 == t2 && t1 != .generator && a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case let (.dict(a), .dict(b)):
            return a.count == b.count && a.entries.allSatisfy { e in b[e.key].map { $0.pythonEquals(e.value) } ?? false }
        case let (.namespace(a), .namespace(b)): return a === b
        default:
            if let x = numeric, let y = other.numeric { return x.equals(y) }
            return false
        }
    }

    enum Number {
        case int(Int)
        case float(Double)
        func equals(_ o: Number) -> Bool {
            switch (self, o) {
            case let (.int(a), .int(b)): return a == b
            case let (.int(a), .float(b)), let (.float(b), .int(a)): return Double(a) == b
            case let (.float(a), .float(b)): return a == b
            }
        }
        var double: Double {
            switch self {
            case .int(let i): return Double(i)
            case .float(let d): return d
            }
        }
    }

    /// The value as a Python number (bools are ints).
    var numeric: Number? {
        switch self {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        default: return nil
        }
    }
}

/// The positional and keyword arguments of a call.
public struct Arguments: Sendable {
    var positional: [Value]
    var keywords: [(String, Value)]

    init(_ positional: [Value] = [], keywords: [(String, Value)] = []) {
        self.positional = positional
        self.keywords = keywords
    }

    /// The argument at `index` or named `name`, as Python binds a parameter.
    func value(_ index: Int, _ name: String) -> Value? {
        if index < positional.count { return positional[index] }
        return keywords.first { $0.0 == name }?.1
    }

    /// Refuses more than `count` positional arguments or keywords outside `names`, as Python's TypeError.
    func check(_ function: String, atMost count: Int, names: [String] = []) throws(TemplateError) {
        if positional.count > count {
            throw TemplateError(.type, "\(function)() takes at most \(count) argument\(count == 1 ? "" : "s") (\(positional.count) given)")
        }
        if let extra = keywords.first(where: { !names.contains($0.0) }) {
            throw TemplateError(.type, "\(function)() got an unexpected keyword argument '\(extra.0)'")
        }
    }
}
