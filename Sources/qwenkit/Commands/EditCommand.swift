import ArgumentParser
import ModelFiles
import QwenKitIO

struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Change a GGUF file's metadata; the tensors are copied as they are.",
        discussion: """
            Writes a copy of the input with its metadata changed, to fix a chat template, an end-of-turn \
            id or a name without converting the model again. A key that is set keeps its place; a new \
            key is appended. --set parses VALUE as the key's current type; --set-str, --set-u32, ... give \
            the type (to add a key, or to change a key's type in place). Each key may be named by one \
            edit only. New keys are appended in this order: --chat-template, then --set-str, --set-u32, \
            --set-i32, --set-u64, --set-i64, --set-f32, --set-bool, each in the order given. Changing \
            general.alignment lays the tensor data out again.

            Examples:
              qwenkit edit in.gguf -o out.gguf --chat-template chat_template.jinja
              qwenkit edit in.gguf -o out.gguf --set tokenizer.ggml.eos_token_id=151645
              qwenkit edit in.gguf -o out.gguf --set-str 'general.name=Qwen2 0.5B tuned'
              qwenkit edit in.gguf -o out.gguf --delete general.url
              qwenkit edit in.gguf --dry-run --set-u32 general.alignment=64
            """
    )

    @Argument(help: ArgumentHelp("The GGUF file to edit.", valueName: "file"), completion: .file(extensions: ["gguf"]))
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the edited file here (not the input itself).", valueName: "file"),
            completion: .file(extensions: ["gguf"]))
    var output: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Set an existing key, parsing VALUE as its type (integers range-checked, floats, true/false, strings).", valueName: "key=value"))
    var set: [String] = []

    @Option(name: .customLong("set-str"), help: ArgumentHelp("Set KEY to a STRING.", valueName: "key=value"))
    var setString: [String] = []

    @Option(name: .customLong("set-u32"), help: ArgumentHelp("Set KEY to a UINT32.", valueName: "key=value"))
    var setUInt32: [String] = []

    @Option(name: .customLong("set-i32"), help: ArgumentHelp("Set KEY to an INT32.", valueName: "key=value"))
    var setInt32: [String] = []

    @Option(name: .customLong("set-u64"), help: ArgumentHelp("Set KEY to a UINT64.", valueName: "key=value"))
    var setUInt64: [String] = []

    @Option(name: .customLong("set-i64"), help: ArgumentHelp("Set KEY to an INT64.", valueName: "key=value"))
    var setInt64: [String] = []

    @Option(name: .customLong("set-f32"), help: ArgumentHelp("Set KEY to a FLOAT32.", valueName: "key=value"))
    var setFloat32: [String] = []

    @Option(name: .customLong("set-bool"), help: ArgumentHelp("Set KEY to a BOOL (true or false).", valueName: "key=value"))
    var setBool: [String] = []

    @Option(name: .customLong("delete"), help: ArgumentHelp("Remove KEY, which must exist.", valueName: "key"))
    var delete: [String] = []

    @Option(name: .long, help: ArgumentHelp("Set tokenizer.chat_template to the contents of FILE (UTF-8, as it is; - for stdin).", valueName: "file"),
            completion: .file())
    var chatTemplate: String?

    @Flag(name: .long, help: "Print the changes on stdout and write nothing.")
    var dryRun = false

    /// One edit as the user wrote it: the flag and its argument, for messages.
    struct FlagEdit {
        let flag: String
        let argument: String
        let edit: GGUFMetadataEdit
    }

    /// The typed --set-TYPE options, in the order their new keys are appended.
    private var typedSets: [(flag: String, type: GGUFValueType, arguments: [String])] {
        [("--set-str", .string, setString), ("--set-u32", .uint32, setUInt32), ("--set-i32", .int32, setInt32),
         ("--set-u64", .uint64, setUInt64), ("--set-i64", .int64, setInt64), ("--set-f32", .float32, setFloat32),
         ("--set-bool", .bool, setBool)]
    }

    /// Every edit but --chat-template's (whose value needs the file read), in the order they are applied:
    /// deletes, --set, then the typed sets. Throws a ValidationError for a malformed argument, a typed value that
    /// does not parse, or a key named twice.
    private func flagEdits() throws -> [FlagEdit] {
        func split(_ flag: String, _ argument: String) throws -> (key: String, value: String) {
            guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else {
                throw ValidationError("\(flag) \(argument): expected KEY=VALUE")
            }
            return (String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
        }
        var edits: [FlagEdit] = []
        for key in delete {
            guard !key.isEmpty else { throw ValidationError("--delete needs a key") }
            edits.append(FlagEdit(flag: "--delete", argument: key, edit: .delete(key: key)))
        }
        for argument in set {
            let (key, text) = try split("--set", argument)
            edits.append(FlagEdit(flag: "--set", argument: argument, edit: .setKeepingType(key: key, text: text)))
        }
        for (flag, type, arguments) in typedSets {
            for argument in arguments {
                let (key, text) = try split(flag, argument)
                let value: GGUFValue
                do { value = try GGUFValue.parse(text, as: type, key: key) } catch {
                    throw ValidationError("\(flag) \(argument): \(error.reasonForFlag)")
                }
                edits.append(FlagEdit(flag: flag, argument: argument, edit: .set(key: key, value: value)))
            }
        }
        var seen: [String: String] = chatTemplate == nil ? [:] : [GGUFKeys.tokenizerChatTemplate: "--chat-template"]
        for e in edits {
            if let other = seen[e.edit.key] {
                throw ValidationError("metadata key \(e.edit.key) is named by both \(other) and \(e.flag); give each key one edit")
            }
            seen[e.edit.key] = e.flag
        }
        return edits
    }

    func validate() throws {
        if output == nil && !dryRun { throw ValidationError("missing -o/--output (or --dry-run)") }
        let edits = try flagEdits()
        if edits.isEmpty && chatTemplate == nil {
            throw ValidationError("no edits given: use --set, --set-str (or another type), --delete or --chat-template")
        }
    }

    func run() throws {
        var edits = try flagEdits()
        if let chatTemplate {
            // Applied after the deletes and before the sets, so a new template is appended first, as gguf-py's
            // gguf_new_metadata.py appends it.
            let text = try readTemplate(chatTemplate)
            let at = edits.firstIndex { $0.flag != "--delete" } ?? edits.count
            edits.insert(FlagEdit(flag: "--chat-template", argument: chatTemplate,
                                  edit: .set(key: GGUFKeys.tokenizerChatTemplate, value: .string(text))), at: at)
        }
        let file = try GGUFFile(path: input)
        let edit: GGUFEdit
        do {
            edit = try GGUFEdit(input: file, edits: edits.map(\.edit))
        } catch {
            // Keys are unique across edits, so the key names the flag that failed.
            guard let key = error.key, let flagEdit = edits.first(where: { $0.edit.key == key }) else { throw error }
            throw ValidationError(flagError(error, flagEdit))
        }
        if dryRun {
            let out = ByteSink.standardOutput()
            for change in edit.changes { try out.write(change.description + "\n") }
            try out.close()
            return
        }
        let progress = ProgressReporter(total: Int64(edit.tensorByteCount), label: "edit")
        do {
            defer { progress.finish() }
            try edit.write(to: output!, progress: progress)
        }
        printError(raw: edit.changes.map { $0.description + "\n" }.joined())
    }

    /// The template file's bytes as a String; invalid UTF-8 is an error naming the file and the byte.
    private func readTemplate(_ path: String) throws -> String {
        let bytes = try openInput(path: path, decompress: false).readToEnd(limit: GGUFLimits.maxStringLength)
        let name = path == "-" ? "<stdin>" : path
        if let bad = bytes.withUnsafeBytes({ UTF8Validation.firstInvalidOffset($0) }) {
            throw IOError.invalidUTF8(path: name, offset: Int64(bad))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A message for an edit the file refused, naming the flag as given.
    private func flagError(_ error: GGUFEditError, _ e: FlagEdit) -> String {
        let prefix = "\(e.flag) \(e.argument): "
        switch error {
        case .noSuchKey(_, let key, let deleting):
            if deleting { return prefix + "\(input) has no metadata key \(key)" }
            return prefix + "\(input) has no metadata key \(key); to add it, give its type with"
                + " --set-str, --set-u32, --set-i32, --set-u64, --set-i64, --set-f32 or --set-bool"
        case .invalidValue(_, _, let type, let reason):
            return prefix + "not a valid \(type.name) (the key's type in \(input)): \(reason)"
        case .cannotSetArray(let key, let elementType, let count):
            return prefix + "metadata key \(key) is an array (\(count) \(elementType.name) elements);"
                + " arrays cannot be set from text"
        case .tokenIDOutOfRange(_, let value, let count):
            return prefix + "\(value.summary) is not a token id: \(GGUFKeys.tokenizerTokens) in \(input) has \(count) tokens"
                + " (ids 0 to \(count - 1))"
        default:
            return prefix + error.reasonForFlag
        }
    }
}

extension GGUFEditError {
    /// The metadata key an edit error is about (nil for errors about files).
    var key: String? {
        switch self {
        case .noSuchKey(_, let key, _), .invalidValue(let key, _, _, _), .cannotSetArray(let key, _, _),
             .invalidKey(let key, _), .tokenIDOutOfRange(let key, _, _):
            return key
        case .invalidAlignment:
            return GGUFKeys.generalAlignment
        case .notCopiedExactly:
            return nil
        }
    }

    /// The reason alone, for a message that already names the flag and its argument.
    var reasonForFlag: String {
        switch self {
        case .invalidValue(_, _, let type, let reason):
            return "not a valid \(type.name): \(reason)"
        case .invalidKey(_, let reason):
            return reason
        case .invalidAlignment:
            return "\(GGUFKeys.generalAlignment) must be a UINT32 power of two, at most \(GGUFLimits.maxWrittenAlignment) (32 is the default)"
        default:
            return description
        }
    }
}
