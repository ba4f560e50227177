import QwenKitIO

/// A sharded safetensors checkpoint: `model.safetensors.index.json` (`{"metadata": {...}, "weight_map": {tensor:
/// shard file}}`) and its shards, presented as one model.
///
/// Each shard is opened (and fully validated) once. The index and the shards must agree exactly: every tensor in
/// `weight_map` is in the shard it names, every tensor of every shard is in `weight_map` under that shard, and no
/// tensor is held by two shards. Shard names are plain file names next to the index (no `/`, so an index cannot
/// point outside its directory; no control characters, so every message naming a shard stays on one line).
///
/// `@unchecked Sendable` for the same reason as `SafetensorsFile`: immutable after `init`.
public final class SafetensorsIndex: @unchecked Sendable {
    /// The index file is read whole; a 100,000-tensor index is a few megabytes.
    public static let maxIndexLength = 100_000_000

    /// The index file's path.
    public let path: String
    /// The shards, in the order `weight_map` first names them.
    public let shards: [SafetensorsFile]
    /// All tensors: shard by shard (in `shards` order), each shard's in its header order.
    public let tensors: [SafetensorsTensorInfo]
    /// The index's `metadata` object (for example `total_size`), `.null` when absent.
    public let indexMetadata: JSONValue

    private let location: [String: (shard: Int, tensor: Int)]

    /// Opens the index at `path` and its shards, mapped or, with `.loaded`, read into memory (`FileResidency`).
    public init(path: String, residency: FileResidency = .mapped) throws(ModelFileError) {
        self.path = path
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .io(error) }
        guard file.count <= Self.maxIndexLength else {
            throw .malformedHeader(path: path, reason: "index is \(file.count) bytes, above the limit of \(Self.maxIndexLength)")
        }
        let root: JSONValue
        do {
            root = try file.withUnsafeBytes { (raw) throws(JSONError) -> JSONValue in
                try JSONScanner.parse(raw.bindMemory(to: UInt8.self))
            }
        } catch {
            throw .invalidJSONFile(path: path, offset: error.offset, message: error.message)
        }
        guard case .object(let members) = root else {
            throw .malformedHeader(path: path, reason: "the index is \(kindName(root)), not an object")
        }
        var weightMapValue: JSONValue?
        var metadata: JSONValue?
        for (key, value) in members {
            switch key {
            case "weight_map":
                guard weightMapValue == nil else { throw .malformedHeader(path: path, reason: "weight_map appears twice") }
                weightMapValue = value
            case "metadata":
                guard metadata == nil else { throw .malformedHeader(path: path, reason: "metadata appears twice") }
                metadata = value
            default: continue
            }
        }
        guard let weightMapValue else { throw .malformedHeader(path: path, reason: "missing \"weight_map\"") }
        guard case .object(let entries) = weightMapValue else {
            throw .malformedHeader(path: path, reason: "weight_map is \(kindName(weightMapValue)), not an object")
        }
        self.indexMetadata = metadata ?? .null

        // weight_map: tensor → shard name, shards in first-mention order.
        var shardOf: [String: String] = [:]
        var shardNames: [String] = []
        var shardNumber: [String: Int] = [:]
        for (tensor, value) in entries {
            guard case .string(let shard) = value else {
                throw .malformedTensor(path: path, tensor: tensor, reason: "weight_map value is \(kindName(value)), not a file name")
            }
            guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != "..",
                  !shard.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw .malformedTensor(path: path, tensor: tensor, reason: "shard \(JSONValue.string(shard).text) is not a plain file name")
            }
            guard shardOf.updateValue(shard, forKey: tensor) == nil else {
                throw .duplicateTensor(path: path, tensor: tensor)
            }
            if shardNumber[shard] == nil {
                shardNumber[shard] = shardNames.count
                shardNames.append(shard)
            }
        }

        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        var shards: [SafetensorsFile] = []
        var tensors: [SafetensorsTensorInfo] = []
        var location: [String: (shard: Int, tensor: Int)] = [:]
        for (number, shardName) in shardNames.enumerated() {
            let shard = try SafetensorsFile(path: directory + shardName, residency: residency)
            for (i, info) in shard.tensors.enumerated() {
                if let earlier = location[info.name] {
                    throw .tensorInTwoShards(
                        path: path, tensor: info.name, shard: shardName, otherShard: shardNames[earlier.shard])
                }
                guard shardOf[info.name] == shardName else {
                    throw .tensorNotInIndex(path: path, tensor: info.name, shard: shardName, listedShard: shardOf[info.name])
                }
                location[info.name] = (number, i)
                tensors.append(info)
            }
            shards.append(shard)
        }
        // Every weight_map entry was found in its shard (in the same order as the index lists them).
        for (tensor, shard) in entries where location[tensor] == nil {
            throw .tensorMissingFromShard(path: path, tensor: tensor, shard: shard.string ?? "")
        }
        self.shards = shards
        self.tensors = tensors
        self.location = location
    }

    /// The tensor named `name`, or nil.
    public subscript(name: String) -> SafetensorsTensorInfo? {
        location[name].map { shards[$0.shard].tensors[$0.tensor] }
    }

    /// The shard holding `name`, or nil.
    public func shard(of name: String) -> SafetensorsFile? {
        location[name].map { shards[$0.shard] }
    }

    /// The tensor's bytes, a view into its shard's mapping, valid while this object lives.
    public func data(of name: String) throws(ModelFileError) -> UnsafeRawBufferPointer {
        guard let (shard, tensor) = location[name] else { throw .noSuchTensor(path: path, tensor: name) }
        return shards[shard].data(of: shards[shard].tensors[tensor])
    }
}
