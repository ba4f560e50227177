import QwenKitIO

// The streaming GGUF v3 writer. Layout as gguf-py's GGUFWriter writes it for the same inputs:
//   header | kv in insertion order | tensor infos | zero padding to the alignment
//   | each tensor's bytes followed by zero padding to the alignment (the last one too)
// Metadata and tensor infos are collected first (they are small); tensor data is then produced one tensor at a time
// by the caller's closure, so memory stays at one tensor (or less, if the closure writes in pieces). The output is
// a temporary file renamed over `path` only when everything was written.

/// Receives one tensor's bytes inside `GGUFWriter.write`. Writing more than the tensor's `byteCount` throws;
/// writing fewer is caught when the closure returns.
public final class GGUFTensorSink: TensorSink {
    public let info: GGUFTensorInfo
    public private(set) var written = 0
    private let sink: ByteSink
    private let path: String

    init(info: GGUFTensorInfo, sink: ByteSink, path: String) {
        self.info = info
        self.sink = sink
        self.path = path
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ModelFileError) {
        guard bytes.count <= info.byteCount - written else {
            throw .malformedTensor(path: path, tensor: info.name,
                                   reason: "more than the \(info.byteCount) bytes of \(info.type.name) \(info.dims) were written")
        }
        do { try sink.write(bytes) } catch { throw .io(error) }
        written += bytes.count
    }

}

public final class GGUFWriter {
    public let path: String
    public private(set) var metadata: [GGUFKeyValue] = []
    public private(set) var tensors: [GGUFTensorInfo] = []
    /// From `general.alignment` once added (a UINT32 power of two), else 32.
    public private(set) var alignment = GGUFLimits.defaultAlignment
    private var keys: Set<String> = []
    private var tensorNames: Set<String> = []
    private var dataSize = 0

    /// With no tensors, end the file right after the metadata instead of padding it to the alignment, as
    /// llama.cpp's converter does for `--vocab-only` (gguf-py's `write_tensors_to_file` pads; the converter does
    /// not call it then). Either form reads back the same.
    public var omitsPaddingWithoutTensors = false

    /// Nothing is created until `write`.
    public init(path: String) {
        self.path = path
    }

    /// Appends a metadata entry. Duplicate keys, nested arrays and an invalid `general.alignment` throw. Set the
    /// alignment before adding tensors.
    public func add(_ key: String, _ value: GGUFValue) throws(ModelFileError) {
        guard !keys.contains(key) else { throw .ggufDuplicateKey(path: path, key: key) }
        guard key.utf8.count <= GGUFLimits.maxStringLength else {
            throw .ggufMetadata(path: path, key: String(key.prefix(64)), reason: "key is too long")
        }
        if case .array(let a) = value, a.elementType == .array {
            throw .ggufMetadata(path: path, key: key, reason: "nested arrays are not supported")
        }
        if key == GGUFKeys.generalAlignment {
            if let problem = GGUFLimits.writtenAlignmentProblem(value) {
                throw .ggufMetadata(path: path, key: key, reason: problem)
            }
            guard case .uint32(let a) = value, tensors.isEmpty else {
                throw .ggufMetadata(path: path, key: key, reason: "must be set before tensors are added")
            }
            alignment = Int(a)
        }
        keys.insert(key)
        metadata.append(GGUFKeyValue(key, value))
    }

    /// Appends a tensor info; `dims` innermost first (ggml order). Returns the info with its data offset.
    @discardableResult
    public func addTensor(name: String, dims: [Int], type: GGMLType) throws(ModelFileError) -> GGUFTensorInfo {
        guard !tensorNames.contains(name) else { throw .duplicateTensor(path: path, tensor: name) }
        let info = try GGUFTensorInfo(name: name, dims: dims, type: type, offset: dataSize, path: path)
        let (end, overflow) = dataSize.addingReportingOverflow(info.byteCount)
        guard !overflow, end <= Int.max - alignment else {
            throw .malformedTensor(path: path, tensor: name, reason: "the data section would not fit in Int")
        }
        dataSize = (end + alignment - 1) / alignment * alignment
        tensorNames.insert(name)
        tensors.append(info)
        return info
    }

    /// Writes the file: header, metadata, tensor infos, then for each tensor in order calls `produce` with a sink
    /// that must receive exactly `info.byteCount` bytes. Errors from `produce` are rethrown as they are; any error
    /// leaves nothing at `path`.
    public func write(_ produce: (GGUFTensorSink) throws -> Void) throws {
        let sink: ByteSink
        do { sink = ByteSink(output: try openOutputFile(path: path)) } catch { throw ModelFileError.io(error) }
        do {
            try writeHeader(to: sink)
            for info in tensors {
                let tensorSink = GGUFTensorSink(info: info, sink: sink, path: path)
                try produce(tensorSink)
                guard tensorSink.written == info.byteCount else {
                    throw ModelFileError.malformedTensor(path: path, tensor: info.name,
                        reason: "\(tensorSink.written) bytes were written but \(info.type.name) \(info.dims) needs \(info.byteCount)")
                }
                try writePadding(info.byteCount, to: sink)
            }
            do { try sink.close() } catch { throw ModelFileError.io(error) }
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// Header, metadata, infos and the padding before the data section (what gguf-py writes before tensor data).
    public func headerBytes() -> [UInt8] {
        var out: [UInt8] = GGUFFile.magic
        appendLittleEndian(UInt32(3), to: &out)
        appendLittleEndian(UInt64(tensors.count), to: &out)
        appendLittleEndian(UInt64(metadata.count), to: &out)
        for kv in metadata {
            appendString(kv.key, to: &out)
            appendLittleEndian(kv.value.type.rawValue, to: &out)
            appendValue(kv.value, to: &out)
        }
        for t in tensors {
            appendString(t.name, to: &out)
            appendLittleEndian(UInt32(t.dims.count), to: &out)
            for d in t.dims { appendLittleEndian(UInt64(d), to: &out) }
            appendLittleEndian(t.type.rawValue, to: &out)
            appendLittleEndian(UInt64(t.offset), to: &out)
        }
        if !(tensors.isEmpty && omitsPaddingWithoutTensors) {
            let pad = (alignment - out.count % alignment) % alignment
            out.append(contentsOf: repeatElement(0, count: pad))
        }
        return out
    }

    private func writeHeader(to sink: ByteSink) throws(ModelFileError) {
        do { try sink.write(headerBytes()) } catch { throw .io(error) }
    }

    private func writePadding(_ n: Int, to sink: ByteSink) throws(ModelFileError) {
        let pad = (alignment - n % alignment) % alignment
        do { for _ in 0..<pad { try sink.write(0) } } catch { throw .io(error) }
    }
}

/// A GGUF string: u64 byte length, then the UTF-8 bytes.
func appendString(_ s: String, to out: inout [UInt8]) {
    appendLittleEndian(UInt64(s.utf8.count), to: &out)
    out.append(contentsOf: s.utf8)
}

/// A value's encoding without its type id (for an array: element type, count, elements).
func appendValue(_ value: GGUFValue, to out: inout [UInt8]) {
    switch value {
    case .uint8(let v): out.append(v)
    case .int8(let v): appendLittleEndian(v, to: &out)
    case .uint16(let v): appendLittleEndian(v, to: &out)
    case .int16(let v): appendLittleEndian(v, to: &out)
    case .uint32(let v): appendLittleEndian(v, to: &out)
    case .int32(let v): appendLittleEndian(v, to: &out)
    case .float32(let v): appendLittleEndian(v.bitPattern, to: &out)
    case .bool(let v): out.append(v ? 1 : 0)
    case .string(let s): appendString(s, to: &out)
    case .uint64(let v): appendLittleEndian(v, to: &out)
    case .int64(let v): appendLittleEndian(v, to: &out)
    case .float64(let v): appendLittleEndian(v.bitPattern, to: &out)
    case .array(let a):
        appendLittleEndian(a.elementType.rawValue, to: &out)
        appendLittleEndian(UInt64(a.count), to: &out)
        a.withEncodedBytes { out.append(contentsOf: $0) }
    }
}
