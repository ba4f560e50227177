import ModelFiles
import QwenKitIO
import QwenTokenizer

/// The `tokenizer.*` GGUF metadata of an HF checkpoint, as llama.cpp's converter writes it for Qwen2's byte-level
/// BPE (shared/SPEC-FACTS.md §2.8): tokens in byte-level form padded to the embedding's rows with `[PADn]`, token
/// types, merges as "left right", special ids, add_bos/add_eos, the chat template.
///
/// The tokenizer is recognized by what it declares (NFC, Qwen2's split regex, byte-level, BPE without byte
/// fallback), not by hashing its output as the reference does: a fine-tuned Qwen2 tokenizer with extra added
/// tokens still gets `pre` "qwen2", and another pretokenizer is refused, naming its regex.
public struct TokenizerConversion: Sendable {
    public var tokens: [String]
    public var tokenTypes: [Int32]
    public var merges: [String]
    /// (GGUF key, id) in the reference's order.
    public var specialIDs: [(key: String, id: Int)]
    /// (GGUF key, value) in the reference's order.
    public var addTokenFlags: [(key: String, value: Bool)]
    public var chatTemplate: String?

    /// The special-token kinds gguf-py's SpecialVocab looks for, in its order, with their GGUF key.
    static let specialKinds: [(kind: String, key: String)] = [
        ("bos", GGUFKeys.tokenizerBOS), ("eos", GGUFKeys.tokenizerEOS), ("unk", GGUFKeys.tokenizerUnknown),
        ("sep", "tokenizer.ggml.seperator_token_id"), ("pad", GGUFKeys.tokenizerPadding),
        ("cls", "tokenizer.ggml.cls_token_id"), ("mask", "tokenizer.ggml.mask_token_id"),
    ]

    /// Reads the tokenizer of `directory` for a model whose embedding has `vocabularySize` rows.
    public init(directory: HFModelDirectory, vocabularySize: Int) throws(ConversionError) {
        let spec: TokenizerSpec
        do { spec = try TokenizerSpec.load(path: directory.path) } catch {
            if case .unreadable(let path, let reason) = error { throw .tokenizer(path: path, reason: reason) }
            throw .tokenizer(path: directory.path, reason: error.description)
        }
        guard spec.pattern == Tokenizer.qwen2Pattern else {
            throw .tokenizer(path: directory.path, reason: "the pretokenizer regex is not Qwen2's, so there is no llama.cpp"
                + " pre-tokenizer to name for it: \(JSONString.quoted(spec.pattern))")
        }
        guard spec.normalizesNFC else {
            throw .tokenizer(path: directory.path, reason: "the tokenizer has no NFC normalizer, unlike Qwen2's")
        }
        do { _ = try spec.build() } catch { throw .tokenizer(path: directory.path, reason: error.description) }

        // id -> text: the vocabulary in byte-level form, then added tokens (their content) over it.
        var text = [String?](repeating: nil, count: vocabularySize)
        var isAdded = [Bool](repeating: false, count: vocabularySize)
        var maxID = -1
        for entry in spec.vocab {
            let id = Int(entry.id)
            maxID = Swift.max(maxID, id)
            if id < vocabularySize { text[id] = String(decoding: entry.token, as: UTF8.self) }
        }
        var addedSpecial: [Int: Bool] = [:]
        for added in spec.addedTokens {
            let id = Int(added.id)
            maxID = Swift.max(maxID, id)
            if id < vocabularySize {
                text[id] = added.text
                isAdded[id] = true
                addedSpecial[id] = added.special
            }
        }
        guard maxID < vocabularySize else {
            throw .tokenizer(path: directory.path, reason: "token id \(maxID) does not fit the vocabulary of \(vocabularySize)"
                + " (config.json vocab_size): the embedding is smaller than the tokenizer")
        }
        var tokens: [String] = []
        var types: [Int32] = []
        tokens.reserveCapacity(vocabularySize)
        types.reserveCapacity(vocabularySize)
        for id in 0..<vocabularySize {
            guard let t = text[id] else {
                tokens.append("[PAD\(id)]")
                types.append(GGUFTokenizerMetadata.TokenType.unused.rawValue)
                continue
            }
            tokens.append(t)
            if isAdded[id] {
                let control = addedSpecial[id] == true || Self.looksSpecial(t)
                types.append((control ? GGUFTokenizerMetadata.TokenType.control : .userDefined).rawValue)
            } else {
                types.append(GGUFTokenizerMetadata.TokenType.normal.rawValue)
            }
        }
        self.tokens = tokens
        self.tokenTypes = types
        self.merges = spec.merges.map { String(decoding: $0.left, as: UTF8.self) + " " + String(decoding: $0.right, as: UTF8.self) }

        // Special ids: tokenizer_config.json's `<kind>_token` (resolved through the added tokens), then config.json's
        // `<kind>_token_id` for kinds still unset; each must lie inside the vocabulary.
        var special: [(key: String, id: Int)] = []
        var flags: [(key: String, value: Bool)] = [("tokenizer.ggml.add_bos_token", false), ("tokenizer.ggml.add_eos_token", false)]
        let tokenizerConfig: JSONValue?
        if directory.has(HFModelDirectory.tokenizerConfigName) {
            do { tokenizerConfig = try readJSONFile(directory.file(HFModelDirectory.tokenizerConfigName)) } catch {
                throw .model(error)
            }
        } else {
            tokenizerConfig = nil
        }
        func set(_ key: String, _ id: Int?) {
            guard let id, id >= 0, id < vocabularySize, !special.contains(where: { $0.key == key }) else { return }
            special.append((key, id))
        }
        if let tc = tokenizerConfig {
            for (kind, key) in Self.specialKinds {
                let entry = tc["\(kind)_token"]
                guard let content = entry?.string ?? entry?["content"]?.string else { continue }
                set(key, spec.addedTokens.first { $0.text == content }.map { Int($0.id) })
            }
            for (i, flag) in flags.enumerated() {
                let kind = flag.key == "tokenizer.ggml.add_bos_token" ? "bos" : "eos"
                if let b = tc["add_\(kind)_token"]?.bool { flags[i].value = b }
            }
        }
        for (kind, key) in Self.specialKinds {
            if let n = directory.config["\(kind)_token_id"]?.number, n == n.rounded(), abs(n) < 1e15 { set(key, Int(n)) }
        }
        self.specialIDs = special
        self.addTokenFlags = flags

        // The chat template: tokenizer_config.json's, else chat_template.jinja (only when tokenizer_config.json exists).
        var template: String?
        if let tc = tokenizerConfig {
            switch tc["chat_template"] {
            case .string(let s)?: template = s
            case .array(let named)?: template = named.first { $0["name"]?.string == "default" }?["template"]?.string
            default:
                do { template = try directory.chatTemplate() } catch { throw .model(error) }
            }
        }
        self.chatTemplate = template
    }

    /// gguf-py's `does_token_look_special`.
    static func looksSpecial(_ t: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t)
            || (t.hasPrefix("<|") && t.hasSuffix("|>")) || (t.hasPrefix("<｜") && t.hasSuffix("｜>"))
    }

    /// The metadata entries, in the reference's order.
    public func entries() -> [GGUFKeyValue] {
        var out: [GGUFKeyValue] = [
            GGUFKeyValue(GGUFKeys.tokenizerModel, .string("gpt2")),
            GGUFKeyValue(GGUFKeys.tokenizerPre, .string("qwen2")),
            GGUFKeyValue(GGUFKeys.tokenizerTokens, .array(GGUFArray(strings: tokens))),
            GGUFKeyValue(GGUFKeys.tokenizerTokenType, .array(GGUFArray(int32: tokenTypes))),
        ]
        if !merges.isEmpty { out.append(GGUFKeyValue(GGUFKeys.tokenizerMerges, .array(GGUFArray(strings: merges)))) }
        for s in specialIDs { out.append(GGUFKeyValue(s.key, .uint32(UInt32(s.id)))) }
        for f in addTokenFlags { out.append(GGUFKeyValue(f.key, .bool(f.value))) }
        if let t = chatTemplate, !t.isEmpty { out.append(GGUFKeyValue(GGUFKeys.tokenizerChatTemplate, .string(t))) }
        return out
    }
}
