import QwenKitIO

/// Every failure of the model-file readers. Each case names the file (`path`, as the caller gave it) and, where
/// there is one, the tensor; `description` is one line naming the broken invariant, e.g.
/// `model.safetensors: tensor "lm_head.weight": data_offsets [0, 100] hold 100 bytes but F32 [10, 20] needs 800`.
public enum ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Opening or mapping the file failed.
    case io(IOError)
    /// The file is shorter than its fixed-size prefix (the 8-byte header length of safetensors).
    case truncated(path: String, fileSize: Int, needed: Int)
    /// The declared header length is above the reader's cap (`limit`).
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    /// The declared header length runs past the end of the file.
    case headerPastEnd(path: String, length: UInt64, fileSize: Int)
    /// The header is not valid JSON (`reason` is the scanner's message, with its byte offset in the header).
    case invalidJSON(path: String, reason: String)
    /// A whole JSON file (`config.json`, a tokenizer side file, a sharded index) does not parse: the scanner's
    /// `message` at byte `offset` of the file.
    case invalidJSONFile(path: String, offset: Int, message: String)
    /// The header is JSON but not the expected structure (not an object, `__metadata__` values not strings, ...).
    case malformedHeader(path: String, reason: String)
    /// One tensor's entry is malformed (missing key, wrong JSON type, non-integer number, ...).
    case malformedTensor(path: String, tensor: String, reason: String)
    /// A tensor name appears twice.
    case duplicateTensor(path: String, tensor: String)
    /// The dtype string is not one this reader knows.
    case unknownDType(path: String, tensor: String, dtype: String)
    /// A shape entry is negative, or the shape's element or byte count does not fit in `Int`.
    case invalidShape(path: String, tensor: String, shape: [Int], reason: String)
    /// `data_offsets` are reversed or end past the data section (`dataSize` bytes).
    case offsetsOutOfBounds(path: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// `data_offsets` hold a different number of bytes than dtype × shape needs.
    case sizeMismatch(path: String, tensor: String, begin: Int, end: Int, dtype: String, shape: [Int], needed: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(path: String, tensor: String, other: String, begin: Int, otherEnd: Int)
    /// A tensor was asked for by name and is not in the file (or model).
    case noSuchTensor(path: String, tensor: String)
    /// A sharded index maps `tensor` to `shard`, but the shard does not hold it.
    case tensorMissingFromShard(path: String, tensor: String, shard: String)
    /// A shard holds `tensor` that the index does not list (for that shard, or at all).
    case tensorNotInIndex(path: String, tensor: String, shard: String, listedShard: String?)
    /// The same tensor is held by two shards.
    case tensorInTwoShards(path: String, tensor: String, shard: String, otherShard: String)
    /// A ggml element count that cannot be stored (`byteCount(elements:)`): not whole blocks, negative, too big.
    case invalidElementCount(type: String, elements: Int, reason: String)
    /// GGUF: the header (magic, version, counts) or the layout around it is wrong.
    case ggufHeader(path: String, reason: String)
    /// GGUF: the file ends (at `offset`) inside something it declares (`what`: a key, a string, a tensor info).
    case ggufTruncated(path: String, what: String, offset: Int, needed: Int, fileSize: Int)
    /// GGUF: one metadata entry is malformed (`key` may be a placeholder like `#3` when the key itself is unreadable).
    case ggufMetadata(path: String, key: String, reason: String)
    /// GGUF: a metadata key appears twice.
    case ggufDuplicateKey(path: String, key: String)
    /// A model configuration (`config.json`, or GGUF hyperparameters read as one) lacks `key` or holds a value
    /// the model cannot use.
    case invalidConfig(path: String, key: String, reason: String)

    /// One line, safe for a terminal: names and values from files keep their control characters as
    /// `terminalSafe` escapes (C1 and DEL too, which JSON quoting leaves as they are).
    public var description: String { terminalSafe(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .io(let error):
            return error.description
        case .truncated(let path, let size, let needed):
            return "\(path): truncated: the file has \(size) bytes but needs at least \(needed)"
        case .headerTooLarge(let path, let length, let limit):
            return "\(path): header length \(length) is above the limit of \(limit) bytes (corrupt or not a safetensors file)"
        case .headerPastEnd(let path, let length, let size):
            return "\(path): header length \(length) runs past the end of the file (\(size) bytes, 8 used by the length)"
        case .invalidJSON(let path, let reason):
            return "\(path): header is not valid JSON: \(reason)"
        case .invalidJSONFile(let path, let offset, let message):
            return "\(path): not valid JSON: at byte \(offset): \(message)"
        case .malformedHeader(let path, let reason):
            return "\(path): malformed header: \(reason)"
        case .malformedTensor(let path, let tensor, let reason):
            return "\(path): tensor \(quoted(tensor)): \(reason)"
        case .duplicateTensor(let path, let tensor):
            return "\(path): tensor \(quoted(tensor)) appears twice in the header"
        case .unknownDType(let path, let tensor, let dtype):
            return "\(path): tensor \(quoted(tensor)): unknown dtype \(quoted(dtype))"
                + " (known: \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidShape(let path, let tensor, let shape, let reason):
            return "\(path): tensor \(quoted(tensor)): shape \(list(shape)) \(reason)"
        case .offsetsOutOfBounds(let path, let tensor, let begin, let end, let dataSize):
            let what = begin > end ? "are reversed" : "end past the data section (\(dataSize) bytes)"
            return "\(path): tensor \(quoted(tensor)): data_offsets [\(begin), \(end)] \(what)"
        case .sizeMismatch(let path, let tensor, let begin, let end, let dtype, let shape, let needed):
            return "\(path): tensor \(quoted(tensor)): data_offsets [\(begin), \(end)] hold \(end - begin) bytes"
                + " but \(dtype) \(list(shape)) needs \(needed)"
        case .overlappingTensors(let path, let tensor, let other, let begin, let otherEnd):
            return "\(path): tensor \(quoted(tensor)) starts at byte \(begin) of the data section,"
                + " inside tensor \(quoted(other)) (which ends at \(otherEnd))"
        case .noSuchTensor(let path, let tensor):
            return "\(path): no tensor named \(quoted(tensor))"
        case .tensorMissingFromShard(let path, let tensor, let shard):
            return "\(path): weight_map puts tensor \(quoted(tensor)) in \(shard), which does not hold it"
        case .tensorNotInIndex(let path, let tensor, let shard, let listed):
            if let listed {
                return "\(path): tensor \(quoted(tensor)) is in \(shard) but weight_map puts it in \(listed)"
            }
            return "\(path): tensor \(quoted(tensor)) is in \(shard) but not in weight_map"
        case .tensorInTwoShards(let path, let tensor, let shard, let other):
            return "\(path): tensor \(quoted(tensor)) is in two shards: \(other) and \(shard)"
        case .invalidElementCount(let type, let elements, let reason):
            return "\(type): element count \(elements) \(reason)"
        case .ggufHeader(let path, let reason):
            return "\(path): GGUF header: \(reason)"
        case .ggufTruncated(let path, let what, let offset, let needed, let size):
            return "\(path): truncated: \(what) needs \(needed) bytes at offset \(offset) but the file has \(size) bytes"
        case .ggufMetadata(let path, let key, let reason):
            return "\(path): metadata key \(quoted(key)): \(reason)"
        case .ggufDuplicateKey(let path, let key):
            return "\(path): metadata key \(quoted(key)) appears twice"
        case .invalidConfig(let path, let key, let reason):
            return key.isEmpty ? "\(path): \(reason)" : "\(path): \(quoted(key)): \(reason)"
        }
    }

    /// The file the error is about (nil for `invalidElementCount`, which is about a count, not a file).
    public var path: String? {
        switch self {
        case .io(let e): return e.path
        case .truncated(let p, _, _), .headerTooLarge(let p, _, _), .headerPastEnd(let p, _, _),
             .invalidJSON(let p, _), .invalidJSONFile(let p, _, _), .malformedHeader(let p, _), .malformedTensor(let p, _, _),
             .duplicateTensor(let p, _), .unknownDType(let p, _, _), .invalidShape(let p, _, _, _),
             .offsetsOutOfBounds(let p, _, _, _, _), .sizeMismatch(let p, _, _, _, _, _, _),
             .overlappingTensors(let p, _, _, _, _), .noSuchTensor(let p, _), .tensorMissingFromShard(let p, _, _),
             .tensorNotInIndex(let p, _, _, _), .tensorInTwoShards(let p, _, _, _),
             .ggufHeader(let p, _), .ggufTruncated(let p, _, _, _, _), .ggufMetadata(let p, _, _),
             .ggufDuplicateKey(let p, _), .invalidConfig(let p, _, _):
            return p
        case .invalidElementCount: return nil
        }
    }
}

/// `s` as a JSON string literal (control characters escaped, so a name from a corrupt file keeps the message on
/// one line).
func quoted(_ s: String) -> String { JSONString.quoted(s) }
private func list(_ a: [Int]) -> String { "[" + a.map(String.init).joined(separator: ", ") + "]" }
