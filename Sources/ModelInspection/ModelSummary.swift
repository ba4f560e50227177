import ModelFiles
import QwenKitIO

/// What `inspect` reports about a model, computed from headers only. Rendered as text (`ModelSummary+Text`) or as
/// one JSON document (`ModelSummary+JSON`); both show the same facts.
public struct ModelSummary: Sendable {
    /// One metadata entry as shown: the key, its type as the format names it, and the value.
    public struct Entry: Sendable {
        public let key: String
        public let type: String
        public let value: Value

        public init(key: String, type: String, value: Value) {
            self.key = key
            self.type = type
            self.value = value
        }

        /// A GGUF metadata entry as `inspect` shows it (arrays cut to their first items unless `full`).
        public init(_ kv: GGUFKeyValue, full: Bool = false) {
            self.init(key: kv.key, type: ModelSummary.typeName(kv.value), value: ModelSummary.value(kv.value, full: full))
        }
    }

    /// A metadata value: a scalar, or an array (summarized to its first items unless `full`).
    public enum Value: Sendable {
        case scalar(JSONOutput)
        case array(elementType: String, count: Int, items: [JSONOutput])
        /// A nested JSON value (HF config.json members).
        case json(JSONOutput)
    }

    /// Tensors of one element type.
    public struct TypeTotal: Sendable {
        public let type: String
        public var tensors = 0
        public var elements = 0
        public var bytes = 0
    }

    /// The tokenizer, from GGUF metadata or from the HF directory's files.
    public struct Tokenizer: Sendable {
        public var model: String?
        public var pre: String?
        public var vocabularySize: Int?
        /// GGUF token types and how many tokens have each.
        public var tokenTypes: [(name: String, count: Int)] = []
        public var mergeCount: Int?
        public var specialIDs: [(name: String, id: Int)] = []
        public var addBOS: Bool?
        public var addEOS: Bool?
        /// Bytes of the chat template; nil when there is none.
        public var chatTemplateBytes: Int?
        /// HF side files present (`tokenizer.json`, ...).
        public var files: [String] = []
    }

    public let path: String
    /// "GGUF", "safetensors", "safetensors (sharded)", "HF model directory".
    public let format: String
    public var formatVersion: Int?
    public var fileSize: Int
    public var shardCount: Int?
    public var alignment: Int?
    public var architecture: String?
    public var name: String?
    /// GGUF `general.file_type`: its name (or "unknown") and number.
    public var fileType: (name: String, value: Int)?
    /// HF `torch_dtype` / `dtype`.
    public var declaredDType: String?
    public var hyperparameters: Qwen2Hyperparameters?
    public var tokenizer: Tokenizer?
    public var parameterCount = 0
    public var tensorCount = 0
    public var typeTotals: [TypeTotal] = []
    /// GGUF metadata, safetensors `__metadata__`, or the members of config.json, in file order.
    public var metadata: [Entry] = []
    /// Metadata keys no table here knows (GGUF), listed so nothing is hidden.
    public var unknownKeys: [String] = []
    /// Anything odd: unreadable hyperparameters, inconsistent counts, unknown keys.
    public var warnings: [String] = []

    /// Items shown of a long array unless `full`.
    public static let arrayPreviewCount = 8
}

extension ModelSummary {
    /// Summarizes `model`. `full` keeps every element of metadata arrays.
    public init(_ model: InspectedModel, full: Bool = false) {
        switch model.source {
        case .gguf(let f):
            self.init(path: model.path, format: model.formatName, fileSize: f.fileSize)
            formatVersion = Int(f.version)
            alignment = f.alignment
            describeGGUF(f, full: full)
        case .safetensors(let f):
            self.init(path: model.path, format: model.formatName, fileSize: f.fileSize)
            metadata = f.metadata.sorted { $0.key < $1.key }.map { Entry(key: $0.key, type: "string", value: .scalar(.string($0.value))) }
        case .sharded(let index):
            self.init(path: model.path, format: model.formatName, fileSize: model.totalFileSize)
            shardCount = index.shards.count
        case .hfDirectory(let dir):
            self.init(path: model.path, format: model.formatName, fileSize: model.totalFileSize)
            if case .sharded(let index) = dir.weights { shardCount = index.shards.count }
            describeHF(dir, full: full)
        }
        tensorCount = model.tensors.count
        var totals: [String: TypeTotal] = [:]
        var order: [String] = []
        for t in model.tensors {
            parameterCount += t.elementCount
            let key = t.type.name
            if totals[key] == nil { totals[key] = TypeTotal(type: key); order.append(key) }
            totals[key]!.tensors += 1
            totals[key]!.elements += t.elementCount
            totals[key]!.bytes += t.byteCount
        }
        typeTotals = order.map { totals[$0]! }.sorted { $0.bytes > $1.bytes }
        checkTensors(model)
    }

    private init(path: String, format: String, fileSize: Int) {
        self.path = path
        self.format = format
        self.fileSize = fileSize
    }

    // MARK: GGUF

    private mutating func describeGGUF(_ f: GGUFFile, full: Bool) {
        architecture = f[GGUFKeys.generalArchitecture]?.stringValue
        name = f[GGUFKeys.generalName]?.stringValue
        if let v = f[GGUFKeys.generalFileType]?.intValue {
            fileType = (LlamaFileType(rawValue: UInt32(truncatingIfNeeded: v)).map(\.name) ?? "unknown", v)
        }
        metadata = f.metadata.map { Entry($0, full: full) }
        let known = GGUFKeys.known(architecture: architecture)
        unknownKeys = f.metadata.map(\.key).filter { key in
            !known.contains(key) && !GGUFKeys.descriptivePrefixes.contains { key.hasPrefix($0) }
        }
        if !unknownKeys.isEmpty {
            warnings.append("\(unknownKeys.count) metadata key\(unknownKeys.count == 1 ? "" : "s") not known to qwenkit: "
                + unknownKeys.prefix(5).joined(separator: ", ") + (unknownKeys.count > 5 ? ", …" : ""))
        }
        if let arch = architecture {
            if ModelArchitecture(rawValue: arch) != nil {
                do { hyperparameters = try Qwen2Hyperparameters(gguf: f) } catch { warnings.append(error.description) }
            } else {
                warnings.append("architecture \"\(arch)\" is not one qwenkit runs (qwen2, qwen2moe)")
            }
        } else if f[GGUFKeys.generalType]?.stringValue != "imatrix" {  // an importance matrix has no architecture
            warnings.append("no general.architecture")
        }
        if f[GGUFKeys.tokenizerTokens] != nil || f[GGUFKeys.tokenizerModel] != nil {
            do {
                let t = try GGUFTokenizerMetadata(gguf: f)
                var tok = Tokenizer(model: t.model, pre: t.pre, vocabularySize: t.tokens?.count, mergeCount: t.merges?.count)
                tok.tokenTypes = t.tokenTypeCounts().map { (GGUFTokenizerMetadata.TokenType(rawValue: $0.type)?.name ?? "type \($0.type)", $0.count) }
                tok.specialIDs = [("bos", t.bosID), ("eos", t.eosID), ("eot", t.eotID), ("padding", t.paddingID), ("unknown", t.unknownID)]
                    .compactMap { pair in pair.1.map { (pair.0, $0) } }
                tok.addBOS = t.addBOS
                tok.addEOS = t.addEOS
                tok.chatTemplateBytes = t.chatTemplate?.utf8.count
                tokenizer = tok
                if let rows = f.tensor(named: "token_embd.weight")?.dims.last, let v = t.tokens?.count, v != rows {
                    warnings.append("tokenizer has \(v) tokens but token_embd.weight has \(rows) rows")
                }
            } catch {
                warnings.append(error.description)
            }
        }
    }

    /// A GGUF value's type as `inspect` names it: `UINT32`, `STRING`, `ARRAY[STRING]`.
    public static func typeName(_ v: GGUFValue) -> String {
        if case .array(let a) = v { return "ARRAY[\(a.elementType.name)]" }
        return v.type.name
    }

    /// A GGUF value as shown: arrays cut to their first `arrayPreviewCount` items unless `full`.
    public static func value(_ v: GGUFValue, full: Bool) -> Value {
        switch v {
        case .array(let a):
            let shown = full ? a.count : Swift.min(a.count, arrayPreviewCount)
            return .array(elementType: a.elementType.name, count: a.count, items: (0..<shown).map { scalar(a.value(at: $0)) })
        default:
            return .scalar(scalar(v))
        }
    }

    /// A scalar GGUF value as JSON (an array as its `[count × TYPE]` placeholder).
    public static func scalar(_ v: GGUFValue) -> JSONOutput {
        switch v {
        case .uint8(let x): return .integer(x)
        case .int8(let x): return .integer(x)
        case .uint16(let x): return .integer(x)
        case .int16(let x): return .integer(x)
        case .uint32(let x): return .integer(x)
        case .int32(let x): return .integer(x)
        case .uint64(let x): return .uint(x)
        case .int64(let x): return .int(x)
        case .float32(let x): return .float(x)
        case .float64(let x): return .double(x)
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .array(let a): return .string("[\(a.count) × \(a.elementType.name)]")
        }
    }

    // MARK: HF directory

    private mutating func describeHF(_ dir: HFModelDirectory, full: Bool) {
        if case .object(let members) = dir.config {
            metadata = members.map { Entry(key: $0.0, type: Self.jsonTypeName($0.1), value: .json(Self.output($0.1, full: full))) }
        }
        let modelType = dir.config["model_type"]?.string
        architecture = modelType.flatMap(ModelArchitecture.init(hfModelType:))?.rawValue ?? modelType
        name = dir.config["_name_or_path"]?.string
        declaredDType = dir.config["torch_dtype"]?.string ?? dir.config["dtype"]?.string
        do { hyperparameters = try dir.hyperparameters() } catch { warnings.append(error.description) }
        var tok = Tokenizer()
        tok.files = [HFModelDirectory.tokenizerName, HFModelDirectory.tokenizerConfigName, "vocab.json", "merges.txt",
                     HFModelDirectory.generationConfigName, HFModelDirectory.chatTemplateName].filter(dir.has)
        do { tok.chatTemplateBytes = try dir.chatTemplate()?.utf8.count } catch { warnings.append(error.description) }
        tok.vocabularySize = hyperparameters?.vocabSize
        for key in ["bos_token_id", "eos_token_id", "pad_token_id"] {
            if let id = dir.config[key]?.number, id == id.rounded(), abs(id) < 1e15 {
                tok.specialIDs.append((String(key.dropLast(9)), Int(id)))
            }
        }
        tokenizer = tok
    }

    static func jsonTypeName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func output(_ v: JSONValue, full: Bool) -> JSONOutput {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .double(n)
        case .string(let s): return .string(s)
        case .array(let a): return .array((full ? a : Array(a.prefix(arrayPreviewCount))).map { output($0, full: full) })
        case .object(let m): return .object(m.map { ($0.0, output($0.1, full: full)) })
        }
    }

    // MARK: Consistency

    /// Notes tensors the hyperparameters do not account for (a missing block, a surprise name).
    private mutating func checkTensors(_ model: InspectedModel) {
        guard let h = hyperparameters else { return }
        var highestBlock = -1
        for t in model.tensors {
            for prefix in ["blk.", "model.layers."] where t.name.hasPrefix(prefix) {
                let rest = t.name.dropFirst(prefix.count)
                if let n = Int(rest.prefix { $0.isASCII && $0.isNumber }) { highestBlock = Swift.max(highestBlock, n) }
            }
        }
        if highestBlock >= 0, highestBlock + 1 != h.blockCount {
            warnings.append("block_count is \(h.blockCount) but the tensors have \(highestBlock + 1) blocks")
        }
    }
}
