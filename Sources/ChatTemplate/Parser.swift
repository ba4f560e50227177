// jinja2's parser for the statements and expressions chat templates use, with its operator precedence:
// conditional < or < and < not < comparisons < + - < ~ < * / // % < ** < unary - + < postfix (. [] ()) < | and is.

struct Parser {
    private let tokens: [Token]
    private var index = 0
    /// Filters and tests named outside `if` conditions and conditional expressions, checked once parsing ends
    /// (jinja2 refuses unknown ones when it compiles the template; inside conditions, only if they run).
    private(set) var strictFilters: [(String, Int)] = []
    private(set) var strictTests: [(String, Int)] = []
    private var softDepth = 0
    /// The tags of the blocks being parsed, innermost last (for jinja2's "innermost block" message).
    private var openBlocks: [String] = []

    init(tokens: [Token]) { self.tokens = tokens }

    static func parse(_ tokens: [Token]) throws(TemplateError) -> [Statement] {
        var parser = Parser(tokens: tokens)
        let body = try parser.statements(until: [])
        for (name, line) in parser.strictFilters where Builtins.filters[name] == nil {
            throw TemplateError(.assertion, "No filter named '\(name)'.", line: line)
        }
        for (name, line) in parser.strictTests where Builtins.tests[name] == nil {
            throw TemplateError(.assertion, "No test named '\(name)'.", line: line)
        }
        return body
    }

    // MARK: Token stream

    private var current: Token { tokens[index] }
    private var line: Int { current.line }
    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func fail(_ message: String) -> TemplateError { TemplateError(.syntax, message, line: line) }

    private func isOp(_ op: String) -> Bool { if case .op(op) = current.kind { return true }; return false }
    private func isName(_ name: String) -> Bool { if case .name(name) = current.kind { return true }; return false }

    private mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        advance()
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        advance()
        return true
    }

    private var describeCurrent: String {
        switch current.kind {
        case .text: return "template data"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let n): return n
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let o): return o
        case .end: return "end of template"
        }
    }

    private mutating func expectOp(_ op: String) throws(TemplateError) {
        guard skipOp(op) else { throw fail("expected token '\(op)', got '\(describeCurrent)'") }
    }

    private mutating func expectName() throws(TemplateError) -> String {
        guard case .name(let n) = current.kind else { throw fail("expected token 'name', got '\(describeCurrent)'") }
        advance()
        return n
    }

    private mutating func expectBlockEnd() throws(TemplateError) {
        guard case .blockEnd = current.kind else { throw fail("expected token 'end of statement block', got '\(describeCurrent)'") }
        advance()
    }

    // MARK: Statements

    /// Statements until a block tag whose first name is in `ends` (left unconsumed, after its `{%`).
    private mutating func statements(until ends: [String]) throws(TemplateError) -> [Statement] {
        var body: [Statement] = []
        while true {
            switch current.kind {
            case .text(let t):
                body.append(.text(t))
                advance()
            case .variableBegin:
                advance()
                let e = try tuple()
                guard case .variableEnd = current.kind else { throw fail("expected token 'end of print statement', got '\(describeCurrent)'") }
                advance()
                body.append(.output(e))
            case .blockBegin:
                advance()
                if case .name(let n) = current.kind, ends.contains(n) { return body }
                body.append(try statement(ends: ends))
            case .end:
                if !ends.isEmpty {
                    let expected = ends.map { "'\($0)'" }.joined(separator: " or ")
                    let innermost = openBlocks.last.map { " The innermost block that needs to be closed is '\($0)'." } ?? ""
                    throw fail("Unexpected end of template. Jinja was looking for the following tags: \(expected).\(innermost)")
                }
                return body
            default:
                throw fail("unexpected '\(describeCurrent)'")
            }
        }
    }

    private mutating func statement(ends: [String]) throws(TemplateError) -> Statement {
        let name = try expectName()
        openBlocks.append(name)
        defer { openBlocks.removeLast() }
        switch name {
        case "if": return try ifStatement()
        case "for": return try forStatement()
        case "set": return try setStatement()
        case "macro": return try macroStatement()
        case "call": return try callBlock()
        case "filter": return try filterBlock()
        case "generation":
            // transformers' AssistantTracker: the body renders as it is.
            try expectBlockEnd()
            let body = try statements(until: ["endgeneration"])
            advance()
            try expectBlockEnd()
            return .block(body)
        case "break", "continue":
            try expectBlockEnd()
            return name == "break" ? .break : .continue
        default:
            if ends.isEmpty {
                throw fail("Encountered unknown tag '\(name)'.")
            }
            throw fail("Encountered unknown tag '\(name)'. Jinja was looking for the following tags: \(ends.map { "'\($0)'" }.joined(separator: " or ")). The innermost block that needs to be closed is '\(openBlocks.dropLast().last ?? "")'.")
        }
    }

    /// jinja2 compiles an `if`'s tests and bodies in a "soft" frame, where an unknown filter or test fails only
    /// when it runs; loops, macros and blocks inside start hard frames again.
    private mutating func ifStatement() throws(TemplateError) -> Statement {
        softDepth += 1
        defer { softDepth -= 1 }
        var branches: [(Expression, [Statement])] = []
        var otherwise: [Statement]?
        var test = try tuple(conditional: false)
        while true {
            try expectBlockEnd()
            let body = try statements(until: ["elif", "else", "endif"])
            branches.append((test, body))
            let tag = try expectName()
            if tag == "elif" {
                test = try tuple(conditional: false)
                continue
            }
            if tag == "else" {
                try expectBlockEnd()
                otherwise = try statements(until: ["endif"])
                advance()
            }
            try expectBlockEnd()
            return .if(branches, otherwise)
        }
    }

    /// Runs `body` in a hard frame (a loop's body, a macro, a block assignment).
    private mutating func hard<T>(_ body: (inout Parser) throws(TemplateError) -> T) throws(TemplateError) -> T {
        let saved = softDepth
        softDepth = 0
        defer { softDepth = saved }
        return try body(&self)
    }

    private mutating func forStatement() throws(TemplateError) -> Statement {
        let forLine = line
        let target = try assignTarget(allowNamespace: false)
        guard skipName("in") else { throw fail("expected token 'in', got '\(describeCurrent)'") }
        let iterable = try tuple(conditional: false, extraEnds: ["recursive"])
        return try hard { (p: inout Parser) throws(TemplateError) in
            var filter: Expression?
            if p.skipName("if") { filter = try p.expression() }
            let recursive = p.skipName("recursive")
            try p.expectBlockEnd()
            let body = try p.statements(until: ["endfor", "else"])
            var otherwise: [Statement]?
            if try p.expectName() == "else" {
                try p.expectBlockEnd()
                otherwise = try p.statements(until: ["endfor"])
                p.advance()
            }
            try p.expectBlockEnd()
            return .for(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise,
                        recursive: recursive, line: forLine)
        }
    }

    private mutating func setStatement() throws(TemplateError) -> Statement {
        let target = try assignTarget(allowNamespace: true)
        if skipOp("=") {
            let value = try tuple()
            try expectBlockEnd()
            return .set(target, value)
        }
        return try hard { (p: inout Parser) throws(TemplateError) in
            var filters: [(String, CallArguments)] = []
            while p.skipOp("|") { filters.append(try p.filterName()) }
            try p.expectBlockEnd()
            let body = try p.statements(until: ["endset"])
            p.advance()
            try p.expectBlockEnd()
            return .setBlock(target, filters, body)
        }
    }

    private mutating func assignTarget(allowNamespace: Bool) throws(TemplateError) -> Target {
        var targets: [Target] = []
        var sawComma = false
        repeat {
            if case .name = current.kind {} else if !targets.isEmpty { break }
            let name = try expectName()
            if allowNamespace && isOp(".") {
                advance()
                let attribute = try expectName()
                return .attribute(name, attribute)
            }
            if ["true", "false", "none", "True", "False", "None"].contains(name) {
                throw fail("Can't assign to '\(name)'")
            }
            targets.append(.name(name))
            sawComma = skipOp(",")
        } while sawComma
        return targets.count == 1 && !sawComma ? targets[0] : .tuple(targets)
    }

    private mutating func macroSignature(name: String) throws(TemplateError) -> [(String, Expression?)] {
        var parameters: [(String, Expression?)] = []
        try expectOp("(")
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let p = try expectName()
            var defaultValue: Expression?
            if skipOp("=") { defaultValue = try expression() } else if parameters.contains(where: { $0.1 != nil }) {
                throw fail("non-default argument follows default argument")
            }
            parameters.append((p, defaultValue))
        }
        advance()
        return parameters
    }

    private mutating func macroStatement() throws(TemplateError) -> Statement {
        let name = try expectName()
        let parameters = try hard { (p: inout Parser) throws(TemplateError) in try p.macroSignature(name: name) }
        try expectBlockEnd()
        let body = try hard { (p: inout Parser) throws(TemplateError) in try p.statements(until: ["endmacro"]) }
        advance()
        try expectBlockEnd()
        return .macro(Self.macro(name, parameters, body))
    }

    static func macro(_ name: String, _ parameters: [(String, Expression?)], _ body: [Statement]) -> Macro {
        let names = NameUses(body)
        return Macro(name: name, parameters: parameters, body: body, catchesVarargs: names.contains("varargs"),
                     catchesKeywords: names.contains("kwargs"), catchesCaller: names.contains("caller"))
    }

    private mutating func callBlock() throws(TemplateError) -> Statement {
        var parameters: [(String, Expression?)] = []
        if isOp("(") { parameters = try macroSignature(name: "caller") }
        let call = try expression()
        guard case .call = call else { throw fail("expected call") }
        try expectBlockEnd()
        let body = try hard { (p: inout Parser) throws(TemplateError) in try p.statements(until: ["endcall"]) }
        advance()
        try expectBlockEnd()
        return .callBlock(call, Self.macro("caller", parameters, body))
    }

    private mutating func filterBlock() throws(TemplateError) -> Statement {
        var filters = [try filterName()]
        while skipOp("|") { filters.append(try filterName()) }
        try expectBlockEnd()
        let body = try hard { (p: inout Parser) throws(TemplateError) in try p.statements(until: ["endfilter"]) }
        advance()
        try expectBlockEnd()
        return .filterBlock(filters, body)
    }

    // MARK: Expressions

    /// Comma-separated expressions: a tuple when there is a comma (or none), else the one expression.
    private mutating func tuple(conditional: Bool = true, extraEnds: Set<String> = []) throws(TemplateError) -> Expression {
        var items: [Expression] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard skipOp(",") else { break }
                sawComma = true
            }
            if isTupleEnd(extraEnds) { break }
            items.append(conditional ? try expression() : try orExpression())
        }
        if !sawComma {
            guard let only = items.first else { throw fail("Expected an expression, got '\(describeCurrent)'") }
            return only
        }
        return .tuple(items)
    }

    private func isTupleEnd(_ extraEnds: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .end: return true
        case .op(let o): return o == ")" || o == "]" || o == "}" || o == "="
        case .name(let n): return extraEnds.contains(n)
        default: return false
        }
    }

    mutating func expression() throws(TemplateError) -> Expression {
        let value = try orExpression()
        guard isName("if") else { return value }
        advance()
        softDepth += 1
        defer { softDepth -= 1 }
        let test = try orExpression()
        var otherwise: Expression?
        if skipName("else") { otherwise = try expression() }
        return .conditional(test, value, otherwise)
    }

    private mutating func orExpression() throws(TemplateError) -> Expression {
        var left = try andExpression()
        while skipName("or") { left = .or(left, try andExpression()) }
        return left
    }

    private mutating func andExpression() throws(TemplateError) -> Expression {
        var left = try notExpression()
        while skipName("and") { left = .and(left, try notExpression()) }
        return left
    }

    private mutating func notExpression() throws(TemplateError) -> Expression {
        if skipName("not") { return .not(try notExpression()) }
        return try comparison()
    }

    private mutating func comparison() throws(TemplateError) -> Expression {
        let first = try additive()
        var ops: [(String, Expression)] = []
        while true {
            if case .op(let o) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                advance()
                ops.append((o, try additive()))
            } else if skipName("in") {
                ops.append(("in", try additive()))
            } else if isName("not"), index + 1 < tokens.count, case .name("in") = tokens[index + 1].kind {
                advance()
                advance()
                ops.append(("notin", try additive()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : .compare(first, ops)
    }

    private mutating func additive() throws(TemplateError) -> Expression {
        var left = try concatenation()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            advance()
            left = .binary(o, left, try concatenation())
        }
        return left
    }

    private mutating func concatenation() throws(TemplateError) -> Expression {
        var left = try multiplicative()
        while skipOp("~") { left = .binary("~", left, try multiplicative()) }
        return left
    }

    private mutating func multiplicative() throws(TemplateError) -> Expression {
        var left = try power()
        while case .op(let o) = current.kind, ["*", "/", "//", "%"].contains(o) {
            advance()
            left = .binary(o, left, try power())
        }
        return left
    }

    private mutating func power() throws(TemplateError) -> Expression {
        var left = try unary()
        while skipOp("**") { left = .binary("**", left, try unary()) }
        return left
    }

    private mutating func unary(withFilter: Bool = true) throws(TemplateError) -> Expression {
        var node: Expression
        if skipOp("-") {
            node = .negate(try unary(withFilter: false))
        } else if skipOp("+") {
            node = .plus(try unary(withFilter: false))
        } else {
            node = try primary()
        }
        node = try postfix(node)
        if withFilter { node = try filterExpression(node) }
        return node
    }

    private mutating func primary() throws(TemplateError) -> Expression {
        switch current.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .string(var s):
            advance()
            while case .string(let more) = current.kind {
                s += more
                advance()
            }
            return .literal(.string(s))
        case .integer(let i):
            advance()
            return .literal(.int(i))
        case .float(let d):
            advance()
            return .literal(.float(d))
        case .op("("):
            advance()
            if skipOp(")") { return .tuple([]) }
            let inner = try tuple()
            try expectOp(")")
            return inner
        case .op("["):
            advance()
            var items: [Expression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try expression())
            }
            advance()
            return .list(items)
        case .op("{"):
            advance()
            var items: [(Expression, Expression)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try expression()
                try expectOp(":")
                items.append((key, try expression()))
            }
            advance()
            return .dict(items)
        default:
            throw fail("unexpected '\(describeCurrent)'")
        }
    }

    private mutating func postfix(_ start: Expression) throws(TemplateError) -> Expression {
        var node = start
        while true {
            if skipOp(".") {
                switch current.kind {
                case .name(let n):
                    advance()
                    node = .attribute(node, n)
                case .integer(let i):
                    advance()
                    node = .item(node, .literal(.int(i)))
                default:
                    throw fail("expected name or number")
                }
            } else if skipOp("[") {
                node = try subscriptExpression(node)
            } else if isOp("(") {
                node = .call(node, try callArguments())
            } else {
                return node
            }
        }
    }

    private mutating func subscriptExpression(_ node: Expression) throws(TemplateError) -> Expression {
        var parts: [Expression?] = []
        var isSlice = false
        var currentPart: Expression?
        while !isOp("]") {
            if skipOp(":") {
                isSlice = true
                parts.append(currentPart)
                currentPart = nil
                continue
            }
            if isOp(",") { throw fail("tuple subscripts are not supported") }
            currentPart = try expression()
        }
        advance()
        if !isSlice {
            guard let key = currentPart else { throw fail("expected an expression") }
            return .item(node, key)
        }
        parts.append(currentPart)
        guard parts.count <= 3 else { throw fail("invalid slice") }
        while parts.count < 3 { parts.append(nil) }
        return .slice(node, parts[0], parts[1], parts[2])
    }

    private mutating func callArguments() throws(TemplateError) -> CallArguments {
        try expectOp("(")
        var args = CallArguments()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if skipOp("**") {
                args.doubleStar = try expression()
            } else if skipOp("*") {
                args.star = try expression()
            } else if case .name(let n) = current.kind, index + 1 < tokens.count, case .op("=") = tokens[index + 1].kind {
                advance()
                advance()
                args.keywords.append((n, try expression()))
            } else {
                if !args.keywords.isEmpty || args.star != nil || args.doubleStar != nil {
                    throw fail("Invalid argument syntax")
                }
                args.positional.append(try expression())
            }
        }
        advance()
        return args
    }

    private mutating func filterName() throws(TemplateError) -> (String, CallArguments) {
        let filterLine = line
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        if softDepth == 0 { strictFilters.append((name, filterLine)) }
        let args = isOp("(") ? try callArguments() : CallArguments()
        return (name, args)
    }

    private mutating func filterExpression(_ start: Expression) throws(TemplateError) -> Expression {
        var node = start
        while true {
            if skipOp("|") {
                let (name, args) = try filterName()
                node = .filter(node, name, args)
            } else if skipName("is") {
                let testLine = line
                let negated = skipName("not")
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                if softDepth == 0 { strictTests.append((name, testLine)) }
                var args = CallArguments()
                if isOp("(") {
                    args = try callArguments()
                } else if startsTestArgument {
                    if isName("is") { throw fail("You cannot chain multiple tests with is") }
                    args.positional = [try postfix(try primary())]
                }
                node = .test(node, name, args)
                if negated { node = .not(node) }
            } else if isOp("(") {
                node = .call(node, try callArguments())
            } else {
                return node
            }
        }
    }

    private var startsTestArgument: Bool {
        switch current.kind {
        case .name(let n): return n != "else" && n != "or" && n != "and"
        case .string, .integer, .float: return true
        case .op(let o): return o == "(" || o == "[" || o == "{"
        default: return false
        }
    }
}

/// Whether a macro's body names `varargs`, `kwargs` or `caller` (jinja2 decides what a macro accepts from that).
private struct NameUses {
    private var names: Set<String> = []
    init(_ body: [Statement]) { visit(body) }
    func contains(_ name: String) -> Bool { names.contains(name) }

    private mutating func visit(_ body: [Statement]) {
        for s in body {
            switch s {
            case .text, .break, .continue, .macro: break
            case .output(let e): visit(e)
            case .if(let branches, let otherwise):
                for (t, b) in branches { visit(t); visit(b) }
                if let otherwise { visit(otherwise) }
            case .for(_, let iterable, let filter, let body, let otherwise, _, _):
                visit(iterable)
                if let filter { visit(filter) }
                visit(body)
                if let otherwise { visit(otherwise) }
            case .set(_, let e): visit(e)
            case .setBlock(_, let filters, let body):
                for (_, a) in filters { visit(a) }
                visit(body)
            case .callBlock(let e, let m):
                visit(e)
                visit(m.body)
            case .filterBlock(let filters, let body):
                for (_, a) in filters { visit(a) }
                visit(body)
            case .block(let body): visit(body)
            }
        }
    }

    private mutating func visit(_ a: CallArguments) {
        a.positional.forEach { visit($0) }
        a.keywords.forEach { visit($0.1) }
        if let s = a.star { visit(s) }
        if let s = a.doubleStar { visit(s) }
    }

    private mutating func visit(_ e: Expression) {
        switch e {
        case .literal: break
        case .name(let n): names.insert(n)
        case .list(let items), .tuple(let items): items.forEach { visit($0) }
        case .dict(let pairs): pairs.forEach { visit($0.0); visit($0.1) }
        case .attribute(let x, _): visit(x)
        case .item(let x, let k): visit(x); visit(k)
        case .slice(let x, let a, let b, let c): visit(x); [a, b, c].forEach { $0.map { visit($0) } }
        case .call(let f, let a): visit(f); visit(a)
        case .filter(let x, _, let a): x.map { visit($0) }; visit(a)
        case .test(let x, _, let a): visit(x); visit(a)
        case .not(let x), .negate(let x), .plus(let x): visit(x)
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): visit(a); visit(b)
        case .compare(let a, let ops): visit(a); ops.forEach { visit($0.1) }
        case .conditional(let t, let a, let b): visit(t); visit(a); b.map { visit($0) }
        }
    }
}
