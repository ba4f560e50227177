// The syntax tree of a template: statements (text, output, if, for, set, macro, call, filter blocks, loop
// controls) over expressions with jinja2's operators, filters and tests.

indirect enum Expression: Sendable {
    case literal(Value)
    case name(String)
    case list([Expression])
    case tuple([Expression])
    case dict([(Expression, Expression)])
    case attribute(Expression, String)
    case item(Expression, Expression)
    case slice(Expression, Expression?, Expression?, Expression?)
    case call(Expression, CallArguments)
    /// `value | name(args)`; the value is nil in a `{% filter %}` block's filter chain (applied to the body).
    case filter(Expression?, String, CallArguments)
    case test(Expression, String, CallArguments)
    case not(Expression)
    case negate(Expression)
    case plus(Expression)
    case binary(String, Expression, Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case compare(Expression, [(String, Expression)])
    case conditional(Expression, Expression, Expression?)
}

struct CallArguments: Sendable {
    var positional: [Expression] = []
    var keywords: [(String, Expression)] = []
    var star: Expression?
    var doubleStar: Expression?
}

/// What `set` and `for` assign to: a name, a tuple of targets, or a namespace's attribute.
indirect enum Target: Sendable {
    case name(String)
    case tuple([Target])
    case attribute(String, String)
}

struct Macro: Sendable {
    let name: String
    let parameters: [(String, Expression?)]
    let body: [Statement]
    /// Whether the body refers to `varargs`, `kwargs` or `caller` (then extra arguments are accepted).
    let catchesVarargs: Bool
    let catchesKeywords: Bool
    let catchesCaller: Bool
}

indirect enum Statement: Sendable {
    case text(String)
    case output(Expression)
    case `if`([(Expression, [Statement])], [Statement]?)
    case `for`(target: Target, iterable: Expression, filter: Expression?, body: [Statement], otherwise: [Statement]?,
               recursive: Bool, line: Int)
    case set(Target, Expression)
    case setBlock(Target, [(String, CallArguments)], [Statement])
    case macro(Macro)
    case callBlock(Expression, Macro)
    case filterBlock([(String, CallArguments)], [Statement])
    case `break`
    case `continue`
    case block([Statement])
}
