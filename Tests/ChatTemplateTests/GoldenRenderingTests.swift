import ChatTemplate
import Foundation
import Testing
import TestSupport

/// The 70 chat templates llama.cpp ships, each on nine conversations with and without the generation prompt,
/// against transformers' renderer (Fixtures/chat-templates, made by make_chat_template_goldens.py).
@Suite struct GoldenRenderingTests {
    struct Case {
        let template: String
        let conversation: String
        let addGenerationPrompt: Bool
        let output: String?
        let errorType: String?
        let errorMessage: String?
    }

    static let clock = ClockInstant(year: 2026, month: 12, day: 7, hour: 10, minute: 30)
    static let variables: [String: Value] = ["bos_token": .string("<s>"), "eos_token": .string("</s>")]

    static func cases() throws -> [Case] {
        let text = try String(contentsOfFile: fixturePath("chat-templates/expected.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard case .dict(let d) = try Value.json(String(line)) else { throw POSIXError(.EINVAL) }
            func string(_ v: Value?) -> String? { if case .string(let s)? = v { return s }; return nil }
            var errorType: String?, errorMessage: String?
            if case .dict(let e)? = d["error"] {
                errorType = string(e["type"])
                errorMessage = string(e["message"])
            }
            guard let template = string(d["template"]), let conversation = string(d["conversation"]),
                  case .bool(let add)? = d["add_generation_prompt"] else { throw POSIXError(.EINVAL) }
            return Case(template: template, conversation: conversation, addGenerationPrompt: add,
                        output: string(d["output"]), errorType: errorType, errorMessage: errorMessage)
        }
    }

    static func conversations() throws -> Value.Dictionary {
        let text = try String(contentsOfFile: fixturePath("chat-templates/conversations.json"), encoding: .utf8)
        guard case .dict(let d) = try Value.json(text) else { throw POSIXError(.EINVAL) }
        return d
    }

    /// What rendering one case gives: the text, or the error's kind and message.
    static func render(_ c: Case, _ templates: inout [String: Result<ChatTemplate, TemplateError>],
                       _ conversations: Value.Dictionary) throws -> Result<String, TemplateError> {
        let template: Result<ChatTemplate, TemplateError>
        if let t = templates[c.template] {
            template = t
        } else {
            let source = try String(contentsOfFile: fixturePath("chat-templates/templates/\(c.template)"), encoding: .utf8)
            template = Result { () throws(TemplateError) -> ChatTemplate in try ChatTemplate(source) }
            templates[c.template] = template
        }
        guard case .dict(let conversation)? = conversations[c.conversation],
              case .list(let messages, _)? = conversation["messages"] else { throw POSIXError(.EINVAL) }
        var variables = variables
        if case .dict(let extra)? = conversation["variables"] {
            for (k, v) in extra.entries { if case .string(let name) = k { variables[name] = v } }
        }
        return template.flatMap { t in
            Result { () throws(TemplateError) -> String in
                try t.apply(messages: messages, tools: conversation["tools"], addGenerationPrompt: c.addGenerationPrompt,
                            variables: variables, now: clock)
            }
        }
    }

    @Test func everyTemplateRendersAsTransformers() throws {
        let cases = try Self.cases()
        let conversations = try Self.conversations()
        #expect(cases.count == 1_260)
        var templates: [String: Result<ChatTemplate, TemplateError>] = [:]
        var failures: [String] = []
        var rendered = 0, refused = 0
        for c in cases {
            let name = "\(c.template) \(c.conversation) agp=\(c.addGenerationPrompt)"
            switch try Self.render(c, &templates, conversations) {
            case .success(let text):
                if let expected = c.output, text == expected {
                    rendered += 1
                } else if let expected = c.output {
                    let diverges = zip(text.unicodeScalars, expected.unicodeScalars).prefix { $0 == $1 }.count
                    let got = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(max(0, diverges - 20)).prefix(60)))
                    let want = String(String.UnicodeScalarView(expected.unicodeScalars.dropFirst(max(0, diverges - 20)).prefix(60)))
                    failures.append("\(name): differs at \(diverges): got \(got.debugDescription), want \(want.debugDescription)")
                } else {
                    failures.append("\(name): rendered, but transformers raises \(c.errorType ?? "?"): \(c.errorMessage ?? "")")
                }
            case .failure(let error):
                if let type = c.errorType, error.kind.rawValue == type,
                   error.kind != .raised || error.message == c.errorMessage {
                    refused += 1
                } else {
                    failures.append("\(name): \(error) (transformers: \(c.errorType.map { "\($0): \(c.errorMessage ?? "")" } ?? "renders"))")
                }
            }
        }
        var shown = Set<String>()
        for f in failures where shown.insert(String(f.prefix { $0 != " " })).inserted { print(f) }
        #expect(failures.count == 0, "\(failures.count) of \(cases.count) cases differ")
        #expect(rendered == 1_130)
        #expect(refused == 130)
    }
}

extension GoldenRenderingTests {
    /// The ChatML fallback is Qwen2-Instruct's template: it renders the q2-tied checkpoint's goldens (whose
    /// tokenizer_config carries that template) byte for byte.
    @Test func chatMLFallbackIsQwen2sTemplate() throws {
        let text = try String(contentsOfFile: fixturePath("chat-templates/models.jsonl"), encoding: .utf8)
        let conversations = try Self.conversations()
        var checked = 0
        for line in text.split(separator: "\n") {
            guard case .dict(let d) = try Value.json(String(line)), case .string("q2-tied")? = d["model"],
                  case .string(let id)? = d["conversation"], case .bool(let add)? = d["add_generation_prompt"],
                  case .string(let expected)? = d["output"], case .dict(let c)? = conversations[id],
                  case .list(let messages, _)? = c["messages"] else { continue }
            #expect(try ModelChatTemplate.chatML.template.apply(messages: messages, addGenerationPrompt: add) == expected, "\(id) \(add)")
            checked += 1
        }
        #expect(checked == 6)
    }
}
