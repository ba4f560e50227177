/// The tokenizer a GGUF file carries (`tokenizer.*`, shared/SPEC-FACTS.md §2.8), as Swift values. The long lists
/// stay lazy views into the file (`GGUFArray`), valid while the `GGUFFile` lives.
public struct GGUFTokenizerMetadata: Sendable {
    /// llama.cpp token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int32, CaseIterable, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6

        public var name: String {
            switch self {
            case .undefined: return "undefined"
            case .normal: return "normal"
            case .unknown: return "unknown"
            case .control: return "control"
            case .userDefined: return "user-defined"
            case .unused: return "unused"
            case .byte: return "byte"
            }
        }
    }

    /// `tokenizer.ggml.model` ("gpt2" for Qwen2's byte-level BPE).
    public var model: String?
    /// `tokenizer.ggml.pre` ("qwen2").
    public var pre: String?
    /// The token strings (byte-level form), one per id.
    public var tokens: GGUFArray?
    /// One INT32 `TokenType` per id.
    public var tokenTypes: GGUFArray?
    /// "left right" strings, in rank order.
    public var merges: GGUFArray?
    public var bosID: Int?
    public var eosID: Int?
    public var eotID: Int?
    public var paddingID: Int?
    public var unknownID: Int?
    public var addBOS: Bool?
    public var addEOS: Bool?
    public var chatTemplate: String?

    public var vocabularySize: Int { tokens?.count ?? 0 }

    /// Reads the tokenizer keys of `file`. Absent keys stay nil; a present key of the wrong type throws, naming it;
    /// special ids must lie inside the vocabulary, and the per-token lists must be as long as the token list.
    public init(gguf file: GGUFFile) throws(ModelFileError) {
        let path = file.path
        func fail(_ key: String, _ reason: String) -> ModelFileError { .invalidConfig(path: path, key: key, reason: reason) }
        func string(_ key: String) throws(ModelFileError) -> String? {
            guard let v = file[key] else { return nil }
            guard let s = v.stringValue else { throw fail(key, "has type \(v.type.name), expected STRING") }
            return s
        }
        func array(_ key: String, of types: [GGUFValueType]) throws(ModelFileError) -> GGUFArray? {
            guard let v = file[key] else { return nil }
            guard let a = v.arrayValue, types.contains(a.elementType) else {
                let found = v.arrayValue.map { "ARRAY of \($0.elementType.name)" } ?? v.type.name
                throw fail(key, "has type \(found), expected ARRAY of \(types.map(\.name).joined(separator: " or "))")
            }
            return a
        }
        func bool(_ key: String) throws(ModelFileError) -> Bool? {
            guard let v = file[key] else { return nil }
            guard let b = v.boolValue else { throw fail(key, "has type \(v.type.name), expected BOOL") }
            return b
        }
        model = try string(GGUFKeys.tokenizerModel)
        pre = try string(GGUFKeys.tokenizerPre)
        tokens = try array(GGUFKeys.tokenizerTokens, of: [.string])
        tokenTypes = try array(GGUFKeys.tokenizerTokenType, of: [.int32])
        merges = try array(GGUFKeys.tokenizerMerges, of: [.string])
        addBOS = try bool(GGUFKeys.tokenizerAddBOS)
        addEOS = try bool(GGUFKeys.tokenizerAddEOS)
        chatTemplate = try string(GGUFKeys.tokenizerChatTemplate)
        let size = tokens?.count
        if let types = tokenTypes, let size, types.count != size {
            throw fail(GGUFKeys.tokenizerTokenType, "has \(types.count) entries but there are \(size) tokens")
        }
        func id(_ key: String) throws(ModelFileError) -> Int? {
            guard let v = file[key] else { return nil }
            guard let i = v.intValue else { throw fail(key, "has type \(v.type.name), expected an integer") }
            if let size, !(0..<size).contains(i) { throw fail(key, "id \(i) is outside the vocabulary of \(size) tokens") }
            return i
        }
        bosID = try id(GGUFKeys.tokenizerBOS)
        eosID = try id(GGUFKeys.tokenizerEOS)
        eotID = try id(GGUFKeys.tokenizerEOT)
        paddingID = try id(GGUFKeys.tokenizerPadding)
        unknownID = try id(GGUFKeys.tokenizerUnknown)
    }

    /// How many tokens have each type (unknown type numbers counted under their raw value).
    public func tokenTypeCounts() -> [(type: Int32, count: Int)] {
        guard let types = tokenTypes else { return [] }
        var counts: [Int32: Int] = [:]
        types.withEncodedBytes { raw in
            for i in 0..<types.count {
                counts[Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)), default: 0] += 1
            }
        }
        return counts.sorted { $0.key < $1.key }.map { (type: $0.key, count: $0.value) }
    }
}
