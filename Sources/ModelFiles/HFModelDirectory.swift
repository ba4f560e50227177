#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QwenKitIO

/// A Hugging Face model directory: `config.json`, the weights (`model.safetensors`, or a sharded
/// `model.safetensors.index.json` with its shards) and the tokenizer side files. Opened weights are fully
/// validated (see `SafetensorsFile`, `SafetensorsIndex`); side files are only parsed when asked for.
public final class HFModelDirectory: @unchecked Sendable {
    /// The weights: one file or a sharded set.
    public enum Weights: Sendable {
        case single(SafetensorsFile)
        case sharded(SafetensorsIndex)

        public var tensors: [SafetensorsTensorInfo] {
            switch self {
            case .single(let f): return f.tensors
            case .sharded(let i): return i.tensors
            }
        }

        /// The file holding `name` (nil if no such tensor).
        public func file(holding name: String) -> SafetensorsFile? {
            switch self {
            case .single(let f): return f[name] == nil ? nil : f
            case .sharded(let i): return i.shard(of: name)
            }
        }

        /// Whether the weights come through an index (even one naming a single shard).
        public var isSharded: Bool {
            if case .sharded = self { return true }
            return false
        }

        /// Every file of the weights.
        public var files: [SafetensorsFile] {
            switch self {
            case .single(let f): return [f]
            case .sharded(let i): return i.shards
            }
        }
    }

    public static let configName = "config.json"
    public static let singleWeightsName = "model.safetensors"
    public static let indexName = "model.safetensors.index.json"
    public static let tokenizerName = "tokenizer.json"
    public static let tokenizerConfigName = "tokenizer_config.json"
    public static let generationConfigName = "generation_config.json"
    public static let chatTemplateName = "chat_template.jinja"

    public let path: String
    /// `config.json`, parsed.
    public let config: JSONValue
    public let weights: Weights

    /// Opens `path`: needs `config.json` and either `model.safetensors.index.json` (preferred, as transformers
    /// does) or `model.safetensors`. The weights are mapped or, with `.loaded`, read into memory (`FileResidency`).
    public init(path: String, residency: FileResidency = .mapped) throws(ModelFileError) {
        self.path = path
        let configPath = Self.join(path, Self.configName)
        guard Self.isFile(configPath) else {
            throw .invalidConfig(path: path, key: "", reason: "not a model directory: it has no \(Self.configName)")
        }
        config = try readJSONFile(configPath)
        let indexPath = Self.join(path, Self.indexName)
        let singlePath = Self.join(path, Self.singleWeightsName)
        if Self.isFile(indexPath) {
            weights = .sharded(try SafetensorsIndex(path: indexPath, residency: residency))
        } else if Self.isFile(singlePath) {
            weights = .single(try SafetensorsFile(path: singlePath, residency: residency))
        } else {
            throw .invalidConfig(path: path, key: "", reason:
                "no weights: neither \(Self.indexName) nor \(Self.singleWeightsName) is there")
        }
    }

    /// `path/name`.
    public func file(_ name: String) -> String { Self.join(path, name) }

    /// Whether side file `name` exists (a regular file).
    public func has(_ name: String) -> Bool { Self.isFile(file(name)) }

    /// The model's hyperparameters from `config.json`.
    public func hyperparameters() throws(ModelFileError) -> Qwen2Hyperparameters {
        try Qwen2Hyperparameters(hfConfig: config, path: file(Self.configName))
    }

    /// The chat template: `chat_template.jinja` if present, else `tokenizer_config.json`'s `chat_template` (a
    /// string; the list-of-named-templates form yields the one named "default"). Nil when there is none.
    public func chatTemplate() throws(ModelFileError) -> String? {
        if has(Self.chatTemplateName) {
            let f: MappedFile
            do { f = try MappedFile(path: file(Self.chatTemplateName)) } catch { throw .io(error) }
            return f.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        guard has(Self.tokenizerConfigName) else { return nil }
        let config = try readJSONFile(file(Self.tokenizerConfigName))
        switch config["chat_template"] {
        case .string(let s)?: return s
        case .array(let named)?:
            return named.first { $0["name"]?.string == "default" }?["template"]?.string
        default: return nil
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func isFile(_ path: String) -> Bool { isRegularFile(path) }

    /// Whether `path` is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
