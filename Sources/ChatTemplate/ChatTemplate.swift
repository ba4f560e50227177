import QwenKitIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A chat template, parsed once and rendered as transformers' `apply_chat_template(tokenize=False)` renders it:
/// jinja2's ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols extension and the
/// `{% generation %}` tag, and transformers' globals `raise_exception`, `strftime_now`, `namespace`, `dict`, with its
/// `tojson` filter.
public struct ChatTemplate: Sendable {
    public let source: String
    let body: [Statement]

    public init(_ source: String) throws(TemplateError) {
        self.source = source
        body = try Parser.parse(try Lexer.tokenize(source))
    }

    /// Renders with `variables` as the template's context (and the environment's globals).
    public func render(_ variables: [String: Value], now: ClockInstant = .now()) throws(TemplateError) -> String {
        let renderer = Renderer(now: now)
        let globals = Frame(parent: nil)
        globals.variables = Self.globals
        let context = Frame(parent: globals)
        context.variables = variables
        return try renderer.render(body, in: context)
    }

    /// A conversation as `apply_chat_template` passes it: each message without its keys whose value is None,
    /// reasoning fields aliased (`thinking` first, `reasoning_content` last, from the first of reasoning_content,
    /// thinking, reasoning that is set), `tools` (None when absent), `documents` None, `add_generation_prompt`,
    /// then `variables` (bos_token, eos_token, enable_thinking, …).
    public func apply(messages: [Value], tools: Value? = nil, addGenerationPrompt: Bool,
                      variables: [String: Value] = [:], now: ClockInstant = .now()) throws(TemplateError) -> String {
        var context = variables
        context["messages"] = .list(messages.map(Self.normalizedMessage))
        context["tools"] = tools ?? Value.none
        context["documents"] = Value.none
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        return try render(context, now: now)
    }

    static func normalizedMessage(_ message: Value) -> Value {
        guard case .dict(let d) = message else { return message }
        var m = Value.Dictionary()
        for (k, v) in d.entries where !v.isNone { m[k] = v }
        let reasoning = ["reasoning_content", "thinking", "reasoning"].lazy.compactMap { m[$0] }.first
        guard let reasoning else { return .dict(m) }
        var aliased = Value.Dictionary()
        aliased[.string("thinking")] = reasoning
        for (k, v) in m.entries { aliased[k] = v }
        aliased[.string("reasoning_content")] = reasoning
        return .dict(aliased)
    }

    static let globals: [String: Value] = [
        "raise_exception": function("raise_exception") { (a: Arguments) throws(TemplateError) -> Value in
            throw TemplateError(.raised, a.value(0, "message")?.str ?? "")
        },
        "range": function("range") { (a: Arguments) throws(TemplateError) -> Value in
            var bounds: [Int] = []
            for v in a.positional {
                guard let i = v.integer else { throw TemplateError(.type, "'\(v.typeName)' object cannot be interpreted as an integer") }
                bounds.append(i)
            }
            guard (1...3).contains(bounds.count) else { throw TemplateError(.type, "range expected at most 3 arguments, got \(bounds.count)") }
            let start = bounds.count == 1 ? 0 : bounds[0], stop = bounds.count == 1 ? bounds[0] : bounds[1]
            let step = bounds.count == 3 ? bounds[2] : 1
            guard step != 0 else { throw TemplateError(.value, "range() arg 3 must not be zero") }
            let count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0) : (start > stop ? (start - stop - step - 1) / -step : 0)
            guard count <= Renderer.maxRange else {
                throw TemplateError(.overflow, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(Renderer.maxRange)).")
            }
            return .list((0..<count).map { .int(start + $0 * step) })
        },
        "namespace": function("namespace") { (a: Arguments) throws(TemplateError) -> Value in
            let d = try mapping(a, "namespace")
            for k in d.keys {
                if case .string(let name) = k, name.hasPrefix("_") { throw .namespaceUnderscore(name) }
            }
            return .namespace(Value.Namespace(d))
        },
        "dict": function("dict") { (a: Arguments) throws(TemplateError) -> Value in .dict(try mapping(a, "dict")) },
        "strftime_now": .callable(Value.Callable(name: "strftime_now") { (a: Arguments, r: Renderer) throws(TemplateError) -> Value in
            guard case .string(let format)? = a.value(0, "format") else { throw TemplateError(.type, "strftime() argument 1 must be str") }
            return .string(r.now.format(format))
        }),
    ]

    /// `dict(*mappings, **keywords)` as `dict()` and `namespace()` build it.
    private static func mapping(_ a: Arguments, _ function: String) throws(TemplateError) -> Value.Dictionary {
        var d = Value.Dictionary()
        for p in a.positional {
            guard case .dict(let given) = p else { throw TemplateError(.type, "\(function)() takes a mapping and keywords") }
            for (k, v) in given.entries { d[k] = v }
        }
        for (k, v) in a.keywords { d[.string(k)] = v }
        return d
    }

    private static func function(_ name: String, _ body: @escaping @Sendable (Arguments) throws(TemplateError) -> Value) -> Value {
        .callable(Value.Callable(name: name) { (a: Arguments, _: Renderer) throws(TemplateError) -> Value in try body(a) })
    }
}

/// A wall-clock instant in local time, as `datetime.now()` gives `strftime_now`.
public struct ClockInstant: Sendable {
    public var year, month, day, hour, minute, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` (a space for the T too); nil otherwise.
    public init?(parsing text: String) {
        let parts = text.split(whereSeparator: { $0 == "T" || $0 == " " }).map(String.init)
        guard (1...2).contains(parts.count) else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard date.count == 3, let y = date[0], let m = date[1], let d = date[2], (1...12).contains(m), (1...31).contains(d),
              (1...9999).contains(y) else { return nil }
        var h = 0, mi = 0, s = 0
        if parts.count == 2 {
            let time = parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard (2...3).contains(time.count), let hh = time[0], let mm = time[1], (0...23).contains(hh), (0...59).contains(mm) else { return nil }
            h = hh
            mi = mm
            if time.count == 3 {
                guard let ss = time[2], (0...60).contains(ss) else { return nil }
                s = ss
            }
        }
        self.init(year: y, month: m, day: d, hour: h, minute: mi, second: s)
    }

    public static func now() -> ClockInstant {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        return ClockInstant(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
                            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
    }

    /// C's strftime in the C locale (Python's `datetime.strftime` calls the platform's).
    func format(_ format: String) -> String {
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        parts.tm_isdst = -1
        // Weekday and day of the year, which %a, %A, %j, %U, %W need: timegm normalizes them.
        var copy = parts
        _ = timegm(&copy)
        parts.tm_wday = copy.tm_wday
        parts.tm_yday = copy.tm_yday
        guard !format.isEmpty else { return "" }
        var capacity = max(64, format.utf8.count * 8)
        while capacity <= 1 << 16 {
            var buffer = [CChar](repeating: 0, count: capacity)
            let n = strftime(&buffer, capacity, format, &parts)
            if n > 0 { return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            capacity *= 4
        }
        return ""
    }
}

extension Value {
    /// A JSON document as Python's `json.loads` reads it: integers stay ints, numbers with a fraction or an exponent
    /// are floats, objects keep their key order.
    public static func json(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> Value {
        var scanner = JSONScanner(bytes)
        let v = try read(&scanner, depth: 64)
        guard scanner.atEnd() else { throw scanner.error("unexpected data after the JSON value") }
        return v
    }

    public static func json(_ text: String) throws(JSONError) -> Value {
        var copy = text
        let result = copy.withUTF8 { (b: UnsafeBufferPointer<UInt8>) -> Result<Value, JSONError> in
            Result { () throws(JSONError) -> Value in try json(b) }
        }
        return try result.get()
    }

    private static func read(_ s: inout JSONScanner, depth: Int) throws(JSONError) -> Value {
        guard depth > 0 else { throw s.error("nesting too deep") }
        switch try s.peekKind() {
        case .null:
            _ = s.readNullIfPresent()
            return .none
        case .bool: return .bool(try s.readBool())
        case .string: return .string(try s.readString())
        case .number:
            let start = s.offset
            try s.skipNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: s.bytes[start..<s.offset]), as: UTF8.self)
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let i = Int(text) { return .int(i) }
            guard let d = Double(text) else { throw s.error("number out of range") }
            return .float(d)
        case .array:
            try s.beginArray()
            var items: [Value] = []
            var first = true
            while try s.nextElement(first: &first) { items.append(try read(&s, depth: depth - 1)) }
            return .list(items)
        case .object:
            try s.beginObject()
            var d = Value.Dictionary()
            var key: [UInt8] = []
            var first = true
            while try s.nextKey(&key, first: &first) {
                let k = String(decoding: key, as: UTF8.self)
                d[.string(k)] = try read(&s, depth: depth - 1)
            }
            return .dict(d)
        }
    }
}
