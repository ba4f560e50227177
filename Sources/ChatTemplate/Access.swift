// Attribute and item access as jinja2's sandbox does it (`x.name` tries Python's attribute, then the item; `x[k]`
// the item, then the attribute), iteration, slicing, and the methods of str, dict and list templates call.

extension Value {
    /// Code points, which Python indexes and counts.
    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }
    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }

    /// An int (or bool) as a list index.
    var index: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    func requireHashable() throws(TemplateError) {
        switch self {
        case .list(_, let kind) where kind == .list: throw TemplateError(.type, "unhashable type: 'list'")
        case .dict: throw TemplateError(.type, "unhashable type: 'dict'")
        default: break
        }
    }

    /// `iter(value)` as a list: a string's characters, a dict's keys; Undefined is empty.
    func iterated() throws(TemplateError) -> [Value] {
        switch self {
        case .undefined: return []
        case .list(let items, _): return items
        case .dict(let d): return d.keys
        case .string(let s), .markup(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .namespace: throw TemplateError(.type, "'Namespace' object is not iterable")
        default: throw TemplateError(.type, "'\(typeName)' object is not iterable")
        }
    }

    /// `len(value)`, nil when Python has none.
    var length: Int? {
        switch self {
        case .undefined: return 0
        case .string(let s), .markup(let s): return s.unicodeScalars.count
        case .list(let items, let kind): return kind == .generator ? nil : items.count
        case .dict(let d): return d.count
        default: return nil
        }
    }

    /// `value.name` (jinja2's `getattr`).
    func attribute(_ name: String) throws(TemplateError) -> Value {
        switch self {
        case .markup(let s): return try Value.string(s).attribute(name)
        case .undefined(let u): throw u.fail()
        case .namespace(let ns):
            return ns.attributes[name] ?? .undefined(.attribute(name, of: self))
        default:
            if let method = try method(name) { return method }
            return itemOrUndefined(.string(name))
        }
    }

    /// `value[key]` (jinja2's `getitem`).
    func item(_ key: Value) throws(TemplateError) -> Value {
        if case .markup(let s) = self { return try Value.string(s).item(key) }
        if case .undefined(let u) = self { throw u.fail() }
        if let v = plainItem(key) { return v }
        if case .string(let name) = key, let method = try method(name) { return method }
        return .undefined(.element(key, of: self))
    }

    private func itemOrUndefined(_ key: Value) -> Value {
        plainItem(key) ?? .undefined(.element(key, of: self))
    }

    /// Python's `value[key]`, nil where it raises.
    private func plainItem(_ key: Value) -> Value? {
        switch self {
        case .dict(let d): return d[key]
        case .namespace(let ns): return ns.attributes[key]
        case .list(let items, let kind) where kind != .generator:
            guard var i = key.index else { return nil }
            if i < 0 { i += items.count }
            return items.indices.contains(i) ? items[i] : nil
        case .string(let s):
            guard case .int(var i) = key else { return nil }
            let scalars = Value.scalars(s)
            if i < 0 { i += scalars.count }
            return scalars.indices.contains(i) ? .string(String(scalars[i])) : nil
        default: return nil
        }
    }

    /// `value[a:b:c]` for strings and lists.
    func sliced(_ a: Value?, _ b: Value?, _ c: Value?) throws(TemplateError) -> Value {
        func bound(_ v: Value?) throws(TemplateError) -> Int? {
            guard let v, !v.isNone else { return nil }
            if case .undefined(let u) = v { throw u.fail() }
            guard let i = v.index else {
                throw TemplateError(.type, "slice indices must be integers or None or have an __index__ method")
            }
            return i
        }
        let step = try bound(c) ?? 1
        guard step != 0 else { throw TemplateError(.value, "slice step cannot be zero") }
        func indices(_ count: Int) throws(TemplateError) -> [Int] {
            var start = try bound(a), stop = try bound(b)
            if step > 0 {
                var s = start ?? 0, e = stop ?? count
                if s < 0 { s = max(0, s + count) }
                if e < 0 { e = max(0, e + count) }
                s = min(s, count)
                e = min(e, count)
                return s < e ? Array(stride(from: s, to: e, by: step)) : []
            }
            var s = start ?? count - 1, e = stop ?? -count - 1
            if let v = start, v < 0 { s = v + count }
            if s >= count { s = count - 1 }
            if let v = stop, v < 0 { e = max(-1, v + count) } else if stop == nil { e = -1 }
            start = s
            stop = e
            return s > e ? Array(stride(from: s, to: e, by: step)) : []
        }
        switch self {
        case .undefined(let u): throw u.fail()
        case .string(let s), .markup(let s):
            let scalars = Value.scalars(s)
            return .string(Value.string(try indices(scalars.count).map { scalars[$0] }))
        case .list(let items, let kind) where kind != .generator:
            return .list(try indices(items.count).map { items[$0] }, kind: kind)
        default:
            return .undefined(Value.Undefined(message: "'\(typeName)' object is not subscriptable"))
        }
    }

    /// A bound method of a str, dict or list; nil when the type has no such attribute.
    private func method(_ name: String) throws(TemplateError) -> Value? {
        let receiver = self
        func bound(_ body: @escaping @Sendable (Arguments) throws(TemplateError) -> Value) -> Value {
            .callable(Value.Callable(name: name) { (arguments: Arguments, _: Renderer) throws(TemplateError) -> Value in
                try body(arguments)
            })
        }
        func unsafe() -> Value {
            .undefined(Value.Undefined(message: "access to attribute '\(name)' of '\(receiver.typeName)' object is unsafe.", isSecurity: true))
        }
        switch self {
        case .string(let s):
            guard let m = StringMethods.method(name) else { return nil }
            return bound { (arguments: Arguments) throws(TemplateError) -> Value in try m(s, arguments) }
        case .dict(let d):
            switch name {
            case "get":
                return bound { (a: Arguments) throws(TemplateError) -> Value in
                    guard let key = a.value(0, "key") else { throw TemplateError(.type, "get expected at least 1 argument, got 0") }
                    return d[key] ?? a.value(1, "default") ?? .none
                }
            case "items": return bound { (_: Arguments) throws(TemplateError) -> Value in .list(d.entries.map { .tuple([$0.key, $0.value]) }) }
            case "keys": return bound { (_: Arguments) throws(TemplateError) -> Value in .list(d.keys) }
            case "values": return bound { (_: Arguments) throws(TemplateError) -> Value in .list(d.entries.map(\.value)) }
            case "copy": return bound { (_: Arguments) throws(TemplateError) -> Value in .dict(d) }
            case "clear", "pop", "popitem", "setdefault", "update": return unsafe()
            default: return nil
            }
        case .list(let items, let kind) where kind != .generator:
            switch name {
            case "index":
                return bound { (a: Arguments) throws(TemplateError) -> Value in
                    guard let x = a.value(0, "value"), let i = items.firstIndex(where: { $0.pythonEquals(x) }) else {
                        throw TemplateError(.value, "\(a.positional.first?.repr ?? "value") is not in list")
                    }
                    return .int(i)
                }
            case "count":
                return bound { (a: Arguments) throws(TemplateError) -> Value in
                    guard let x = a.value(0, "value") else { throw TemplateError(.type, "count() takes exactly one argument (0 given)") }
                    return .int(items.filter { $0.pythonEquals(x) }.count)
                }
            case "copy" where kind == .list: return bound { (_: Arguments) throws(TemplateError) -> Value in .list(items) }
            case "append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove":
                return kind == .list ? unsafe() : nil
            default: return nil
            }
        default:
            return nil
        }
    }
}
