import ModelFiles
import QwenTokenizer

// The reverse of TokenizerConversion: the tokenizer a converted GGUF carries (`tokenizer.ggml.*`, gpt2 model,
// qwen2 pre-tokenizer) back as a TokenizerSpec, so `run` can tokenize for a GGUF without its HF directory.
// Normal tokens are the BPE vocabulary, control tokens special added tokens, user-defined tokens non-special
// added tokens; unused padding entries (`[PAD…]`) are left out, as HF's tokenizer has no such ids.

extension TokenizerSpec {
    /// Reads `file`'s tokenizer; throws `.tokenizer` naming the key when it is missing or not Qwen2's kind.
    public init(gguf file: GGUFFile) throws(ConversionError) {
        self = try FlatTokenizerSpec(gguf: file).spec
    }
}

extension FlatTokenizerSpec {
    /// Reads `file`'s tokenizer into flat storage (no array per token); throws `.tokenizer` naming the key when it is
    /// missing or not Qwen2's kind.
    public init(gguf file: GGUFFile) throws(ConversionError) {
        self.init()
        let path = file.path
        let meta: GGUFTokenizerMetadata
        do { meta = try GGUFTokenizerMetadata(gguf: file) } catch { throw .model(error) }
        guard meta.model == "gpt2" else {
            throw .tokenizer(path: path, reason: "tokenizer.ggml.model is \(meta.model.map { "\"\($0)\"" } ?? "missing"); only byte-level BPE (gpt2) is supported")
        }
        guard meta.pre == nil || meta.pre == "qwen2" else {
            throw .tokenizer(path: path, reason: "tokenizer.ggml.pre is \"\(meta.pre!)\"; only qwen2 is supported")
        }
        guard let tokens = meta.tokens, let merges = meta.merges else {
            throw .tokenizer(path: path, reason: "tokenizer.ggml.tokens or tokenizer.ggml.merges is missing")
        }
        let types = meta.tokenTypes
        guard types == nil || types!.count == tokens.count else {
            throw .tokenizer(path: path, reason: "tokenizer.ggml.token_type has \(types!.count) entries for \(tokens.count) tokens")
        }
        var added: [AddedToken] = []
        tokens.forEachString { i, bytes in
            let type = types.flatMap { $0.value(at: i).intValue }.flatMap { GGUFTokenizerMetadata.TokenType(rawValue: Int32($0)) } ?? .normal
            switch type {
            case .control: added.append(AddedToken(id: UInt32(i), content: Array(bytes), special: true))
            case .userDefined: added.append(AddedToken(id: UInt32(i), content: Array(bytes), special: false))
            case .unused: break
            default: appendVocab(bytes, id: UInt32(i))
            }
        }
        var bad: Int?
        merges.forEachString { i, bytes in
            guard let space = bytes.firstIndex(of: 0x20) else {
                if bad == nil { bad = i }
                return
            }
            appendMerge(left: UnsafeRawBufferPointer(rebasing: bytes[..<space]), right: UnsafeRawBufferPointer(rebasing: bytes[(space + 1)...]))
        }
        if let bad { throw .tokenizer(path: path, reason: "tokenizer.ggml.merges entry \(bad) is not two tokens separated by a space") }
        self.addedTokens = added
    }
}

extension TokenizerSpec {
    /// `ggufTokenizerHash` of a GGUF that carries Qwen2's tokenizer as llama.cpp's converter and `qwenkit convert` write
    /// it (the same bytes); GoldenConversionTests checks it on a converted file whose spec has the embedded tokenizer's
    /// fingerprint.
    public static let embeddedQwen2GGUFHash: UInt64 = 0x019A_83EA_C529_25D1

    /// XXH64 of what `TokenizerSpec(gguf:)` reads, as the file encodes it: `tokenizer.ggml.model` and `.pre`, then the
    /// `tokens`, `token_type` and `merges` arrays (element type, count and the XXH64 of their bytes). The spec is a
    /// function of exactly these, so two files with the same hash carry the same tokenizer.
    public static func ggufTokenizerHash(_ meta: GGUFTokenizerMetadata) -> UInt64 {
        var out = Array("qwenkit gguf tokenizer 1".utf8)
        func append(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        for text in [meta.model, meta.pre] {
            append(text.map { UInt64($0.utf8.count) } ?? .max)
            out.append(contentsOf: text?.utf8 ?? "".utf8)
        }
        for array in [meta.tokens, meta.tokenTypes, meta.merges] {
            guard let array else {
                append(.max)
                continue
            }
            append(UInt64(array.elementType.rawValue))
            append(UInt64(array.count))
            append(array.withEncodedBytes { XXH64.hash($0) })
        }
        return out.withUnsafeBytes { XXH64.hash($0) }
    }

    /// The tokenizer `file` carries: Qwen2's restored from the embedded compiled copy when the file's tokenizer metadata
    /// hashes as a Qwen2 GGUF's does (`ggufTokenizerHash`: hashing the 4 MB of it takes a few milliseconds where reading
    /// its 450,000 strings into a spec to take the spec's fingerprint took 45-65), else read into flat storage and built
    /// (`FlatTokenizerSpec.build`, which restores the embedded copy too when the spec is Qwen2's however the file wrote
    /// it, or the embedded tables with other added tokens).
    public static func tokenizer(gguf file: GGUFFile) throws -> Tokenizer {
        if let meta = try? GGUFTokenizerMetadata(gguf: file), ggufTokenizerHash(meta) == embeddedQwen2GGUFHash {
            return try Tokenizer.embeddedQwen2()
        }
        return try FlatTokenizerSpec(gguf: file).build(reusingEmbedded: true)
    }
}
