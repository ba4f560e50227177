import ChatTemplate
import Foundation
import Testing
import TestSupport

/// One rule of jinja2 per snippet (whitespace control, scoping, Python's printing, operators, filters, tests,
/// string methods, tojson, the sandbox, errors), each against jinja2 in transformers' environment
/// (Fixtures/chat-templates/snippets.jsonl, made by make_template_snippet_goldens.py).
@Suite struct SnippetTests {
    struct Snippet: CustomTestStringConvertible, Sendable {
        let name: String
        let template: String
        let variables: [String: Value]
        let output: String?
        let errorType: String?
        let errorMessage: String?
        var testDescription: String { name }
    }

    static let snippets: [Snippet] = {
        guard let text = try? String(contentsOfFile: fixturePath("chat-templates/snippets.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> Snippet? in
            guard case .dict(let d)? = try? Value.json(String(line)) else { return nil }
            func string(_ v: Value?) -> String? { if case .string(let s)? = v { return s }; return nil }
            var variables: [String: Value] = [:]
            if case .dict(let vars)? = d["variables"] {
                for (k, v) in vars.entries { if case .string(let name) = k { variables[name] = v } }
            }
            var type: String?, message: String?
            if case .dict(let e)? = d["error"] {
                type = string(e["type"])
                message = string(e["message"])
            }
            guard let name = string(d["name"]), let template = string(d["template"]) else { return nil }
            return Snippet(name: name, template: template, variables: variables, output: string(d["output"]),
                           errorType: type, errorMessage: message)
        }
    }()

    @Test func allSnippetsAreRead() {
        #expect(Self.snippets.count == 101)
    }

    @Test(arguments: snippets) func snippet(_ s: Snippet) {
        let clock = ClockInstant(year: 2026, month: 12, day: 7, hour: 10, minute: 30)
        do {
            let out = try ChatTemplate(s.template).render(s.variables, now: clock)
            #expect(out == s.output, "\(s.name): transformers \(s.errorType.map { "raises \($0): \(s.errorMessage ?? "")" } ?? "renders")")
        } catch {
            #expect(error.kind.rawValue == s.errorType, "\(s.name): \(error)")
            #expect(error.message == s.errorMessage, "\(s.name)")
        }
    }
}
