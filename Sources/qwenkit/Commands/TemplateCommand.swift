import ArgumentParser
import ChatTemplate
import QwenKitIO

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Render a chat template as transformers' apply_chat_template does.",
        discussion: """
            The template is a GGUF's tokenizer.chat_template, an HF model directory's chat_template.jinja or \
            tokenizer_config.json chat_template, or a .jinja file. A model supplies bos_token and eos_token; \
            --var adds or overrides variables. The messages file holds a JSON list of messages, or an object \
            with "messages" (and "tools"), as an OpenAI request has them. The prompt is printed exactly, without \
            a newline added. strftime_now uses the local time, or --now.

            Examples:
              qwenkit template model.gguf --messages chat.json --add-generation-prompt
              qwenkit template ./Qwen2.5-7B-Instruct --messages request.json --tools tools.json
              qwenkit template qwen3.jinja --messages chat.json --var enable_thinking=false
            """
    )

    @Argument(help: ArgumentHelp("A .gguf file, an HF model directory or a .jinja template file.", valueName: "model|file"),
              completion: .file())
    var path: String

    @Option(name: .long, help: ArgumentHelp("The conversation: a JSON list of messages, or an object with \"messages\" (and \"tools\").",
                                            valueName: "file.json"),
            completion: .file(extensions: ["json"]))
    var messages: String

    @Option(name: .long, help: ArgumentHelp("Tool definitions: a JSON list (OpenAI's function schema).", valueName: "file.json"),
            completion: .file(extensions: ["json"]))
    var tools: String?

    @Flag(name: .long, help: "End with the assistant turn's opening (add_generation_prompt).")
    var addGenerationPrompt = false

    @Option(name: .long, help: ArgumentHelp("A template variable (repeatable); VALUE is read as JSON when it is JSON (true, 3, \"x\", {...}), else as text.",
                                            valueName: "name=value"))
    var `var`: [String] = []

    @Option(name: .long, help: ArgumentHelp("The local time strftime_now formats: YYYY-MM-DD[THH:MM[:SS]].", valueName: "time"))
    var now: String?

    @Option(name: .long, help: ArgumentHelp("Use this .jinja template instead of the model's (keeping its bos/eos tokens).",
                                            valueName: "file"),
            completion: .file(extensions: ["jinja"]))
    var chatTemplate: String?

    func validate() throws {
        for v in `var` where !v.contains("=") || v.hasPrefix("=") {
            throw ValidationError("--var \(v): expected NAME=VALUE")
        }
        if let now, ClockInstant(parsing: now) == nil {
            throw ValidationError("--now \(now): expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS")
        }
    }

    func run() throws {
        guard let model = try ModelChatTemplate.load(path, templateOverride: chatTemplate) else {
            throw CLIError("\(path): has no chat template (give one with --chat-template FILE)")
        }
        var conversation = try readJSON(messages, what: "--messages")
        var toolList: Value?
        if case .dict(let d) = conversation {
            guard let m = d["messages"] else { throw CLIError("\(messages): an object without \"messages\"") }
            toolList = d["tools"]
            conversation = m
        }
        guard case .list(let list, _) = conversation else { throw CLIError("\(messages): expected a list of messages") }
        for (i, message) in list.enumerated() {
            guard case .dict = message else { throw CLIError("\(messages): message \(i) is not an object") }
        }
        if let tools {
            let t = try readJSON(tools, what: "--tools")
            guard case .list = t else { throw CLIError("\(tools): expected a list of tools") }
            toolList = t
        }
        var variables = model.variables
        for assignment in `var` {
            let name = String(assignment.prefix { $0 != "=" })
            let text = String(assignment.dropFirst(name.count + 1))
            variables[name] = (try? Value.json(text)) ?? .string(text)
        }
        let clock = now.flatMap(ClockInstant.init(parsing:)) ?? .now()
        let rendered: String
        do {
            rendered = try model.template.apply(messages: list, tools: toolList, addGenerationPrompt: addGenerationPrompt,
                                                variables: variables, now: clock)
        } catch {
            throw CLIError("\(model.origin): \(error)")
        }
        let out = ByteSink.standardOutput()
        try out.write(rendered)
        try out.close()
    }

    private func readJSON(_ path: String, what: String) throws -> Value {
        let text = try readTextFile(path, limit: 256 << 20, what: "\(what) files")
        do {
            return try Value.json(text)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}
