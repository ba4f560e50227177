// `qwenkit template`: a model's own chat template (HF directory or GGUF) rendered as transformers'
// apply_chat_template renders it (Fixtures/chat-templates/models.jsonl), a template file with variables and a
// fixed clock (expected.jsonl), and bad input.

import ChatTemplate
import Foundation
import Testing
import TestSupport

@Suite struct TemplateCLITests {
    static func lines(_ file: String) throws -> [Value.Dictionary] {
        let text = String(decoding: try readFile(fixturePath("chat-templates/\(file)")), as: UTF8.self)
        return try text.split(separator: "\n").map { line in
            guard case .dict(let d) = try Value.json(String(line)) else { throw POSIXError(.EINVAL) }
            return d
        }
    }

    static func conversation(_ id: String) throws -> Value.Dictionary {
        let text = String(decoding: try readFile(fixturePath("chat-templates/conversations.json")), as: UTF8.self)
        guard case .dict(let all) = try Value.json(text), case .dict(let c)? = all[id] else { throw POSIXError(.EINVAL) }
        return c
    }

    static func string(_ v: Value?) -> String? { if case .string(let s)? = v { return s }; return nil }

    /// The checkpoints' own templates through their HF directories and their llama.cpp conversions.
    @Test func modelTemplatesAsTransformersAppliesThem() throws {
        let cases = try Self.lines("models.jsonl")
        #expect(cases.count == 12)
        try withTemporaryDirectory { dir in
            for c in cases {
                guard let model = Self.string(c["model"]), let id = Self.string(c["conversation"]),
                      let expected = Self.string(c["output"]), case .bool(let agp)? = c["add_generation_prompt"] else {
                    Issue.record("malformed case")
                    continue
                }
                let messages = dir + "/\(id).json"
                let conversation = try Self.conversation(id)
                guard let list = conversation["messages"] else { throw POSIXError(.EINVAL) }
                try Data(list.jsonText.utf8).write(to: URL(fileURLWithPath: messages))
                for path in [fixturePath("checkpoints/\(model)"), fixturePath("convert-golden/\(model).f16.gguf")] {
                    let run = try CLI.run(["template", path, "--messages", messages] + (agp ? ["--add-generation-prompt"] : []))
                    #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
                    #expect(run.stdoutText == expected, "\(model) \(id) agp=\(agp) from \(path)")
                }
            }
        }
    }

    /// A template file with the conversation as an OpenAI request (messages and tools), bos/eos given with --var and
    /// the clock with --now: transformers' rendering of Qwen2.5's and Llama 3.1's templates (which prints the date).
    @Test func templateFileWithVariablesAndClock() throws {
        let golden = try Self.lines("expected.jsonl")
        try withTemporaryDirectory { dir in
            for (template, id) in [("Qwen-Qwen2.5-7B-Instruct.jinja", "tools"), ("meta-llama-Llama-3.1-8B-Instruct.jinja", "tools"),
                                   ("Qwen-Qwen3-0.6B.jinja", "reasoning")] {
                let request = dir + "/request.json"
                let conversation = try Self.conversation(id)
                var body = Value.Dictionary()
                body[.string("messages")] = conversation["messages"]
                if let tools = conversation["tools"] { body[.string("tools")] = tools }
                try Data(Value.dict(body).jsonText.utf8).write(to: URL(fileURLWithPath: request))
                var vars = ["--var", "bos_token=<s>", "--var", "eos_token=</s>"]
                if case .dict(let extra)? = conversation["variables"] {
                    for (k, v) in extra.entries { vars += ["--var", "\(Self.string(k) ?? "")=\(v.jsonText)"] }
                }
                let run = try CLI.run(["template", fixturePath("chat-templates/templates/\(template)"), "--messages", request,
                                       "--add-generation-prompt", "--now", "2026-12-07T10:30"] + vars)
                let expected = golden.first {
                    Self.string($0["template"]) == template && Self.string($0["conversation"]) == id && $0["add_generation_prompt"]?.jsonText == "true"
                }
                #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
                #expect(run.stdoutText == Self.string(expected?["output"]), "\(template) \(id)")
            }
        }
    }

    @Test func badInput() throws {
        try withTemporaryDirectory { dir in
            let messages = dir + "/m.json"
            try Data(#"[{"role": "user", "content": "hi"}]"#.utf8).write(to: URL(fileURLWithPath: messages))
            let model = fixturePath("convert-golden/q2-tied.f16.gguf")
            func expectFailure(_ args: [String], status: Int32 = 1, _ message: String) throws {
                let run = try CLI.run(["template"] + args)
                #expect(run.status == status && run.stdout.isEmpty, "\(run)")
                #expect(run.stderrLines.first == message, "\(run)")
            }
            try expectFailure([fixturePath("gguf/small.gguf"), "--messages", messages],
                              "qwenkit: \(fixturePath("gguf/small.gguf")): has no chat template (give one with --chat-template FILE)")
            let broken = dir + "/broken.jinja"
            try Data("{% if true %}x".utf8).write(to: URL(fileURLWithPath: broken))
            try expectFailure([broken, "--messages", messages], "qwenkit: \(broken): chat template: TemplateSyntaxError at line 1: "
                + "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. "
                + "The innermost block that needs to be closed is 'if'.")
            let raising = dir + "/raising.jinja"
            try Data("{{ raise_exception('no system role') }}".utf8).write(to: URL(fileURLWithPath: raising))
            try expectFailure([raising, "--messages", messages], "qwenkit: \(raising): TemplateError: no system role")
            let notJSON = dir + "/bad.json"
            try Data("[{".utf8).write(to: URL(fileURLWithPath: notJSON))
            let notJSONRun = try CLI.run(["template", model, "--messages", notJSON])
            #expect(notJSONRun.status == 1 && notJSONRun.stderrText.hasPrefix("qwenkit: \(notJSON): invalid JSON at byte "), "\(notJSONRun)")
            let object = dir + "/object.json"
            try Data(#"{"role": "user"}"#.utf8).write(to: URL(fileURLWithPath: object))
            try expectFailure([model, "--messages", object], "qwenkit: \(object): an object without \"messages\"")
            let notMessages = dir + "/numbers.json"
            try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: notMessages))
            try expectFailure([model, "--messages", notMessages], "qwenkit: \(notMessages): message 0 is not an object")
            try expectFailure([model, "--messages", dir + "/missing.json"],
                              "qwenkit: \(dir)/missing.json: cannot open: No such file or directory")
            try expectFailure([model, "--messages", messages, "--var", "novalue"], status: 2, "Error: --var novalue: expected NAME=VALUE")
            try expectFailure([model, "--messages", messages, "--now", "yesterday"], status: 2,
                              "Error: --now yesterday: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS")
        }
    }
}


extension TemplateCLITests {
    /// run --chat renders the prompt through the model's own template: the same tokens (and logits) as running the
    /// ids of transformers' apply_chat_template text for that conversation.
    @Test func runChatUsesTheModelTemplate() throws {
        let golden = try Self.lines("models.jsonl").first {
            Self.string($0["model"]) == "q2-tied" && Self.string($0["conversation"]) == "plain" && $0["add_generation_prompt"]?.jsonText == "true"
        }
        let text = try #require(Self.string(golden?["output"]))
        let user = "Hello! Can you tell me what a chat template is?"
        let model = fixturePath("convert-golden/q2-tied.f32.gguf")
        let encoded = try CLI.run(["encode", "--tokenizer", fixturePath("checkpoints/q2-tied")], stdin: .text(text))
        #expect(encoded.status == 0, "\(encoded)")
        let ids = encoded.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: ",")
        try withTemporaryDirectory { dir in
            let chat = try CLI.run(["run", model, "--chat", "--prompt", user, "-n", "0", "-q", "--logits", dir + "/chat.safetensors"])
            let plain = try CLI.run(["run", model, "--tokens", ids, "-n", "0", "-q", "--logits", dir + "/ids.safetensors"])
            #expect(chat.status == 0 && plain.status == 0, "\(chat)\n\(plain)")
            #expect(try readFile(dir + "/chat.safetensors") == readFile(dir + "/ids.safetensors"))
            // A template file replaces the model's; --system adds the system turn before the user's.
            let custom = dir + "/t.jinja"
            try Data("{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}".utf8).write(to: URL(fileURLWithPath: custom))
            let overridden = try CLI.run(["run", model, "--chat", "--chat-template", custom, "--system", "S", "--prompt", "U", "-n", "0",
                                          "-q", "--logits", dir + "/custom.safetensors"])
            let customIDs = try CLI.run(["encode", "--tokenizer", fixturePath("checkpoints/q2-tied")], stdin: .text("[system:S][user:U]"))
            let direct = try CLI.run(["run", model, "--tokens", customIDs.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: ","),
                                      "-n", "0", "-q", "--logits", dir + "/direct.safetensors"])
            #expect(overridden.status == 0 && direct.status == 0, "\(overridden)\n\(direct)")
            #expect(try readFile(dir + "/custom.safetensors") == readFile(dir + "/direct.safetensors"))
        }
    }
}
