/// Why a template could not be parsed or rendered, with the kind of exception jinja2 (or Python) raises there.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A syntax error in the template (jinja2's TemplateSyntaxError; an unknown filter or test is
        /// TemplateAssertionError, a subclass).
        case syntax = "TemplateSyntaxError"
        case assertion = "TemplateAssertionError"
        /// `raise_exception(message)` in the template (transformers' TemplateError).
        case raised = "TemplateError"
        /// A use of an undefined value other than printing, testing or iterating it.
        case undefined = "UndefinedError"
        /// An attribute the sandbox forbids (a list's `append`).
        case security = "SecurityError"
        /// Python's TypeError, ValueError, ... as the operation raises them.
        case type = "TypeError"
        case value = "ValueError"
        case zeroDivision = "ZeroDivisionError"
        case index = "IndexError"
        case key = "KeyError"
        /// The sandbox's `range` bound.
        case overflow = "OverflowError"
        /// Other runtime errors (jinja2's TemplateRuntimeError).
        case runtime = "TemplateRuntimeError"
        /// Rendering went past the engine's bounds (output size, recursion, loop iterations).
        case limit = "LimitExceeded"
    }

    public let kind: Kind
    public let message: String
    /// The template line (1-based) where a syntax error is, when known.
    public var line: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    /// transformers' refusal of a namespace attribute that starts with an underscore.
    static func namespaceUnderscore(_ name: String) -> TemplateError {
        TemplateError(.security, "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(name)'. Please rename the attribute.")
    }

    public var description: String {
        line.map { "\(kind.rawValue) at line \($0): \(message)" } ?? "\(kind.rawValue): \(message)"
    }
}
