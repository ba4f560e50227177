// Renders a parsed template with jinja2's runtime semantics: scopes (a loop iteration and a macro call get their
// own; `if` does not), Undefined, the sandbox's attribute rules, Python's operators and conversions.

/// Variables of one scope; a loop iteration's or a macro call's scope reads through to its parent. A render runs on one
/// thread; macros capture their frame, hence the unchecked Sendable.
final class Frame: @unchecked Sendable {
    var variables: [String: Value] = [:]
    let parent: Frame?
    init(parent: Frame?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var frame: Frame? = self
        while let f = frame {
            if let v = f.variables[name] { return v }
            frame = f.parent
        }
        return nil
    }
}

public final class Renderer {
    /// The instant `strftime_now` formats (local time), fixed for a render so tests can fix it.
    let now: ClockInstant
    private var output = ""
    private var depth = 0
    static let maxDepth = 200
    static let maxOutputScalars = 64 << 20
    /// jinja2's sandbox refuses `range` past this many items.
    static let maxRange = 100_000

    init(now: ClockInstant) { self.now = now }

    enum Flow { case normal, breakLoop, continueLoop }

    func render(_ body: [Statement], in frame: Frame) throws(TemplateError) -> String {
        output = ""
        _ = try run(body, frame)
        return output
    }

    /// Renders `body` into a string of its own (a macro call, a block assignment, a filter block).
    func capture(_ body: [Statement], in frame: Frame) throws(TemplateError) -> String {
        let saved = output
        output = ""
        defer { output = saved }
        _ = try run(body, frame)
        return output
    }

    private func emit(_ s: String) throws(TemplateError) {
        output += s
        if output.utf8.count > Self.maxOutputScalars {
            throw TemplateError(.limit, "the rendered text is past \(Self.maxOutputScalars >> 20) MiB")
        }
    }

    private func run(_ body: [Statement], _ frame: Frame) throws(TemplateError) -> Flow {
        for statement in body {
            switch statement {
            case .text(let t): try emit(t)
            case .output(let e): try emit(try evaluate(e, frame).str)
            case .if(let branches, let otherwise):
                var taken = false
                for (test, block) in branches where try evaluate(test, frame).truthy {
                    taken = true
                    let flow = try run(block, frame)
                    if flow != .normal { return flow }
                    break
                }
                if !taken, let otherwise {
                    let flow = try run(otherwise, frame)
                    if flow != .normal { return flow }
                }
            case .for(let target, let iterable, let filter, let block, let otherwise, let recursive, let line):
                if recursive { throw TemplateError(.runtime, "recursive loops are not supported", line: line) }
                try loop(target, try evaluate(iterable, frame), filter, block, otherwise, frame)
            case .set(let target, let e):
                try assign(target, try evaluate(e, frame), frame)
            case .setBlock(let target, let filters, let block):
                var value = Value.string(try capture(block, in: Frame(parent: frame)))
                for (name, args) in filters { value = try applyFilter(name, value, args, frame) }
                try assign(target, value, frame)
            case .macro(let m):
                frame.variables[m.name] = macroValue(m, defined: frame)
            case .callBlock(let call, let caller):
                guard case .call(let callee, let args) = call else { break }
                let f = try evaluate(callee, frame)
                var arguments = try evaluateArguments(args, frame)
                arguments.keywords.append(("caller", macroValue(caller, defined: frame)))
                try emit(try self.call(f, arguments).str)
            case .filterBlock(let filters, let block):
                var value = Value.string(try capture(block, in: Frame(parent: frame)))
                for (name, args) in filters { value = try applyFilter(name, value, args, frame) }
                try emit(value.str)
            case .break: return .breakLoop
            case .continue: return .continueLoop
            case .block(let block):
                let flow = try run(block, frame)
                if flow != .normal { return flow }
            }
        }
        return .normal
    }

    private func loop(_ target: Target, _ iterable: Value, _ filter: Expression?, _ body: [Statement], _ otherwise: [Statement]?,
                      _ frame: Frame) throws(TemplateError) {
        var items = try iterable.iterated()
        if let filter {
            var kept: [Value] = []
            for item in items {
                let scope = Frame(parent: frame)
                try assign(target, item, scope)
                if try evaluate(filter, scope).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            if let otherwise { _ = try run(otherwise, Frame(parent: frame)) }
            return
        }
        let count = items.count
        for (i, item) in items.enumerated() {
            let scope = Frame(parent: frame)
            try assign(target, item, scope)
            scope.variables["loop"] = LoopState(index: i, items: items).value(count: count)
            let flow = try run(body, scope)
            if flow == .breakLoop { break }
        }
    }

    private func assign(_ target: Target, _ value: Value, _ frame: Frame) throws(TemplateError) {
        switch target {
        case .name(let n):
            frame.variables[n] = value
        case .tuple(let targets):
            let items = try value.iterated()
            guard items.count == targets.count else {
                if items.count > targets.count {
                    throw TemplateError(.value, "too many values to unpack (expected \(targets.count))")
                }
                throw TemplateError(.value, "not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, frame) }
        case .attribute(let name, let attribute):
            guard case .namespace(let ns) = frame.lookup(name) ?? .missing else {
                throw TemplateError(.runtime, "cannot assign attribute on non-namespace object")
            }
            if attribute.hasPrefix("_") { throw .namespaceUnderscore(attribute) }
            ns.attributes[.string(attribute)] = value
        }
    }

    // MARK: Macros

    private func macroValue(_ m: Macro, defined frame: Frame) -> Value {
        let renderer = self
        _ = renderer
        return .callable(Value.Callable(name: m.name) { (arguments: Arguments, renderer: Renderer) throws(TemplateError) -> Value in
            try renderer.callMacro(m, arguments, frame)
        })
    }

    func callMacro(_ m: Macro, _ arguments: Arguments, _ defined: Frame) throws(TemplateError) -> Value {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw TemplateError(.limit, "macros nested deeper than \(Self.maxDepth) calls") }
        let scope = Frame(parent: defined)
        var positional = arguments.positional
        var keywords = arguments.keywords
        for (i, (name, defaultValue)) in m.parameters.enumerated() {
            if i < positional.count {
                scope.variables[name] = positional[i]
                if let k = keywords.firstIndex(where: { $0.0 == name }) {
                    throw TemplateError(.type, "macro '\(m.name)' got multiple values for argument '\(keywords[k].0)'")
                }
            } else if let k = keywords.firstIndex(where: { $0.0 == name }) {
                scope.variables[name] = keywords[k].1
                keywords.remove(at: k)
            } else if let defaultValue {
                scope.variables[name] = try evaluate(defaultValue, scope)
            } else {
                scope.variables[name] = .undefined(Value.Undefined(message: "parameter '\(name)' was not provided"))
            }
        }
        let extra = positional.count > m.parameters.count ? Array(positional[m.parameters.count...]) : []
        positional.removeAll()
        if let k = keywords.firstIndex(where: { $0.0 == "caller" }) {
            if m.catchesCaller { scope.variables["caller"] = keywords[k].1 }
            keywords.remove(at: k)
        }
        if m.catchesVarargs {
            scope.variables["varargs"] = .tuple(extra)
        } else if !extra.isEmpty {
            throw TemplateError(.type, "macro '\(m.name)' takes not more than \(m.parameters.count) argument(s)")
        }
        if m.catchesKeywords {
            var d = Value.Dictionary()
            for (k, v) in keywords { d[.string(k)] = v }
            scope.variables["kwargs"] = .dict(d)
        } else if let first = keywords.first {
            throw TemplateError(.type, "macro '\(m.name)' takes no keyword argument '\(first.0)'")
        }
        return .string(try capture(m.body, in: scope))
    }

    // MARK: Expressions

    func evaluate(_ e: Expression, _ frame: Frame) throws(TemplateError) -> Value {
        switch e {
        case .literal(let v): return v
        case .name(let n): return frame.lookup(n) ?? .undefined(Value.Undefined(name: n))
        case .list(let items):
            var out: [Value] = []
            for i in items { out.append(try evaluate(i, frame)) }
            return .list(out)
        case .tuple(let items):
            var out: [Value] = []
            for i in items { out.append(try evaluate(i, frame)) }
            return .tuple(out)
        case .dict(let pairs):
            var d = Value.Dictionary()
            for (k, v) in pairs {
                let key = try evaluate(k, frame)
                try key.requireHashable()
                d[key] = try evaluate(v, frame)
            }
            return .dict(d)
        case .attribute(let x, let name):
            return try evaluate(x, frame).attribute(name)
        case .item(let x, let key):
            return try evaluate(x, frame).item(try evaluate(key, frame))
        case .slice(let x, let a, let b, let c):
            let v = try evaluate(x, frame)
            return try v.sliced(try a.map { (e) throws(TemplateError) in try evaluate(e, frame) },
                                try b.map { (e) throws(TemplateError) in try evaluate(e, frame) },
                                try c.map { (e) throws(TemplateError) in try evaluate(e, frame) })
        case .call(let f, let args):
            let callee = try evaluate(f, frame)
            return try call(callee, try evaluateArguments(args, frame))
        case .filter(let x, let name, let args):
            let value = try x.map { (e) throws(TemplateError) in try evaluate(e, frame) } ?? .missing
            return try applyFilter(name, value, args, frame)
        case .test(let x, let name, let args):
            guard let test = Builtins.tests[name] else { throw TemplateError(.runtime, "No test named '\(name)' found.") }
            let value = try evaluate(x, frame)
            return .bool(try test(value, try evaluateArguments(args, frame), self))
        case .not(let x): return .bool(!(try evaluate(x, frame).truthy))
        case .negate(let x): return try Operators.negate(try evaluate(x, frame))
        case .plus(let x):
            let v = try evaluate(x, frame)
            if case .undefined(let u) = v { throw u.fail() }
            guard v.numeric != nil else { throw TemplateError(.type, "bad operand type for unary +: '\(v.typeName)'") }
            return v
        case .binary(let op, let a, let b):
            return try Operators.binary(op, try evaluate(a, frame), try evaluate(b, frame))
        case .and(let a, let b):
            let left = try evaluate(a, frame)
            return left.truthy ? try evaluate(b, frame) : left
        case .or(let a, let b):
            let left = try evaluate(a, frame)
            return left.truthy ? left : try evaluate(b, frame)
        case .compare(let first, let ops):
            var left = try evaluate(first, frame)
            for (op, e) in ops {
                let right = try evaluate(e, frame)
                guard try Operators.compare(op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test, frame).truthy { return try evaluate(then, frame) }
            return try otherwise.map { (e) throws(TemplateError) in try evaluate(e, frame) } ?? .missing
        }
    }

    func evaluateArguments(_ args: CallArguments, _ frame: Frame) throws(TemplateError) -> Arguments {
        var out = Arguments()
        for p in args.positional { out.positional.append(try evaluate(p, frame)) }
        for (k, v) in args.keywords { out.keywords.append((k, try evaluate(v, frame))) }
        if let star = args.star { out.positional.append(contentsOf: try evaluate(star, frame).iterated()) }
        if let doubleStar = args.doubleStar {
            guard case .dict(let d) = try evaluate(doubleStar, frame) else {
                throw TemplateError(.type, "argument after ** must be a mapping")
            }
            for (k, v) in d.entries {
                guard case .string(let key) = k else { throw TemplateError(.type, "keywords must be strings") }
                out.keywords.append((key, v))
            }
        }
        return out
    }

    func call(_ callee: Value, _ arguments: Arguments) throws(TemplateError) -> Value {
        switch callee {
        case .callable(let c): return try c.call(arguments, self)
        case .undefined(let u): throw u.fail()
        default: throw TemplateError(.type, "'\(callee.typeName)' object is not callable")
        }
    }

    func applyFilter(_ name: String, _ value: Value, _ args: CallArguments, _ frame: Frame) throws(TemplateError) -> Value {
        guard let filter = Builtins.filters[name] else { throw TemplateError(.runtime, "No filter named '\(name)' found.") }
        return try filter(value, try evaluateArguments(args, frame), self)
    }
}

/// jinja2's `loop` variable of one iteration.
struct LoopState {
    let index: Int
    let items: [Value]

    func value(count: Int) -> Value {
        var d = Value.Dictionary()
        d[.string("index")] = .int(index + 1)
        d[.string("index0")] = .int(index)
        d[.string("revindex")] = .int(count - index)
        d[.string("revindex0")] = .int(count - index - 1)
        d[.string("first")] = .bool(index == 0)
        d[.string("last")] = .bool(index == count - 1)
        d[.string("length")] = .int(count)
        d[.string("depth")] = .int(1)
        d[.string("depth0")] = .int(0)
        d[.string("previtem")] = index > 0 ? items[index - 1] : .undefined(Value.Undefined(message: "there is no previous item"))
        d[.string("nextitem")] = index + 1 < count ? items[index + 1] : .undefined(Value.Undefined(message: "there is no next item"))
        let i = index
        d[.string("cycle")] = .callable(Value.Callable(name: "cycle") { (arguments: Arguments, _: Renderer) throws(TemplateError) -> Value in
            guard !arguments.positional.isEmpty else { throw TemplateError(.type, "no items for cycling given") }
            return arguments.positional[i % arguments.positional.count]
        })
        return .dict(d)
    }
}
