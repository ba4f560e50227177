import ModelFiles
import QwenKitIO

/// A model's chat template with the variables the model supplies (`bos_token`, `eos_token`), from a GGUF
/// (`tokenizer.chat_template`; the token texts of `tokenizer.ggml.bos_token_id` / `eos_token_id`), an HF model
/// directory (`chat_template.jinja` or `tokenizer_config.json`'s `chat_template`; its `bos_token` / `eos_token`),
/// or a template file (no variables).
public struct ModelChatTemplate: Sendable {
    public let template: ChatTemplate
    public let variables: [String: Value]
    /// Where the template came from, for messages: "model.gguf (tokenizer.chat_template)".
    public let origin: String

    public init(template: ChatTemplate, variables: [String: Value], origin: String) {
        self.template = template
        self.variables = variables
        self.origin = origin
    }

    /// Loads what `path` holds. `templateOverride` (a .jinja file) replaces the model's template but keeps its
    /// variables. Nil when the model has no template and none is given.
    public static func load(_ path: String, templateOverride: String? = nil) throws(ChatTemplateLoadError) -> ModelChatTemplate? {
        var source: String?
        var origin = path
        var variables: [String: Value] = [:]
        do {
            if HFModelDirectory.isDirectory(path) {
                let dir = try HFModelDirectory(path: path)
                source = try dir.chatTemplate()
                origin = dir.has(HFModelDirectory.chatTemplateName)
                    ? dir.file(HFModelDirectory.chatTemplateName) : dir.file(HFModelDirectory.tokenizerConfigName) + " (chat_template)"
                if dir.has(HFModelDirectory.tokenizerConfigName) {
                    let config = try readJSONFile(dir.file(HFModelDirectory.tokenizerConfigName))
                    for name in ["bos_token", "eos_token", "unk_token", "pad_token"] {
                        // A string, or an AddedToken object with its text in "content"; null means none.
                        switch config[name] {
                        case .string(let s)?: variables[name] = .string(s)
                        case .object?: if let s = config[name]?["content"]?.string { variables[name] = .string(s) }
                        default: break
                        }
                    }
                }
            } else if try GGUFFile.startsWithMagic(path) {
                let file = try GGUFFile(path: path)
                let meta = try GGUFTokenizerMetadata(gguf: file)
                source = meta.chatTemplate
                origin = "\(path) (\(GGUFKeys.tokenizerChatTemplate))"
                if let tokens = meta.tokens {
                    if let id = meta.bosID { variables["bos_token"] = .string(tokens.string(at: id)) }
                    if let id = meta.eosID { variables["eos_token"] = .string(tokens.string(at: id)) }
                }
            } else {
                source = try readTemplateFile(path)
            }
            if let templateOverride {
                source = try readTemplateFile(templateOverride)
                origin = templateOverride
            }
        } catch let error as ModelFileError {
            throw .file(error.description)
        } catch let error as ChatTemplateLoadError {
            throw error
        } catch {
            throw .file("\(error)")
        }
        guard let source else { return nil }
        do {
            return ModelChatTemplate(template: try ChatTemplate(source), variables: variables, origin: origin)
        } catch {
            throw .template(origin: origin, error)
        }
    }

    /// Qwen2-Instruct's template (ChatML with a default system message): what `run --chat` and `chat` give a model
    /// that has no template.
    public static let chatML = ModelChatTemplate(template: try! ChatTemplate("""
        {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """), variables: [:], origin: "ChatML")

    /// Template files above this size are refused (real ones are under 100 KB).
    public static let maxTemplateBytes = 16 << 20

    static func readTemplateFile(_ path: String) throws(ChatTemplateLoadError) -> String {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .file(error.description) }
        guard file.count <= maxTemplateBytes else {
            throw .file("\(path): \(file.count) bytes; chat templates above \(maxTemplateBytes) bytes are refused")
        }
        guard let text = file.withUnsafeBytes({ String(validating: $0, as: UTF8.self) }) else {
            throw .file("\(path): not UTF-8 text")
        }
        return text
    }
}

public enum ChatTemplateLoadError: Error, CustomStringConvertible {
    case file(String)
    case template(origin: String, TemplateError)

    public var description: String {
        switch self {
        case .file(let message): return message
        case .template(let origin, let error): return "\(origin): chat template: \(error)"
        }
    }
}
