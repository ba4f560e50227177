import QwenKitIO

// The streaming safetensors writer. For the same tensors and metadata it writes the bytes Python's `safetensors`
// serializer writes (`safetensors.numpy.save_file`, 0.8.0; checked byte for byte against
// Fixtures/safetensors/writer-golden.safetensors, whose script records what was observed):
//
//   u64 little-endian N | N bytes of header | every tensor's bytes, back to back, in header order
//
// - Tensors are ordered by dtype, by `serializerRank` descending (U64 I64 F64 F32 U32 I32 BF16 F16 U16 I16
//   F8_E4M3 F8_E5M2 I8 U8 BOOL: the 8-byte types first, so every tensor starts at a multiple of its element size),
//   then by name in code-point order (UTF-8 byte order, not Swift's `String` order). Offsets have no gaps.
// - The header is compact JSON: `{"__metadata__":{...},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[b,e]},...}`,
//   strings escaped as Python's `json.dumps(ensure_ascii=False)` escapes them (`JSONString`), then padded with
//   spaces to a multiple of 8 bytes.
// - `__metadata__` keys are sorted by code point. Python writes them in a Rust HashMap's order, which changes from
//   call to call, so for two or more keys Python's output is one of several orders and ours is always the sorted one.
// - With no tensors and an empty (non-nil) metadata, Python writes invalid JSON (`{},"__metadata__":{}}`); we
//   write `{"__metadata__":{}}`.
//
// Declarations are collected first (they are small); the data is then produced one tensor at a time by the
// caller's closure, in file order, so memory stays at one tensor or less. The output is a temporary file renamed
// over `path` only when everything was written: any error leaves nothing at `path`.

extension SafetensorsDType {
    /// The sort key of Python's serializer (the declaration order of the Rust crate's `Dtype` enum): tensors of a
    /// higher rank come first. Observed with safetensors 0.8.0, see Fixtures/scripts/make_safetensors_writer_golden.py.
    var serializerRank: Int {
        switch self {
        case .bool: return 0
        case .u8: return 1
        case .i8: return 2
        case .f8_e5m2: return 3
        case .f8_e4m3: return 4
        case .i16: return 5
        case .u16: return 6
        case .f16: return 7
        case .bf16: return 8
        case .i32: return 9
        case .u32: return 10
        case .f32: return 11
        case .f64: return 12
        case .i64: return 13
        case .u64: return 14
        }
    }
}

/// Receives one tensor's bytes inside `SafetensorsWriter.write`. Writing more than the tensor's `byteCount`
/// throws; writing fewer is caught when the closure returns. The sink is closed once the closure returns.
public final class SafetensorsTensorSink: TensorSink {
    /// The tensor being written, with its final data offsets.
    public let info: SafetensorsTensorInfo
    /// Bytes received so far.
    public private(set) var written = 0
    private let sink: ByteSink
    private let path: String
    fileprivate var closed = false

    fileprivate init(info: SafetensorsTensorInfo, sink: ByteSink, path: String) {
        self.info = info
        self.sink = sink
        self.path = path
    }

    /// Appends `bytes` to the tensor (little-endian elements, as the file stores them).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ModelFileError) {
        guard !closed else {
            throw .malformedTensor(path: path, tensor: info.name, reason: "was written to after its turn had ended")
        }
        guard bytes.count <= info.byteCount - written else {
            throw .malformedTensor(path: path, tensor: info.name, reason: "more than the \(info.byteCount) bytes of "
                + "\(info.dtype.rawValue) \(info.shape) were written")
        }
        do { try sink.write(bytes) } catch { throw .io(error) }
        written += bytes.count
    }

}

/// Writes a safetensors file: declare the tensors with `addTensor`, then `write` produces their bytes.
///
///     let writer = SafetensorsWriter(path: "out.safetensors", metadata: ["format": "pt"])
///     try writer.addTensor(name: "w", dtype: .f32, shape: [2, 3])
///     try writer.write { sink in try sink.write(weights(named: sink.info.name)) }
public final class SafetensorsWriter {
    public let path: String
    /// `__metadata__`; nil writes no `__metadata__` member, empty writes `"__metadata__":{}`.
    public let metadata: [String: String]?

    /// A declared tensor (file order is decided only when the header is built).
    private struct Declaration {
        let name: String
        let nameUTF8: [UInt8]
        let dtype: SafetensorsDType
        let shape: [Int]
        let elementCount: Int
        let byteCount: Int
    }

    private var declarations: [Declaration] = []
    /// Declared names. `String` equality merges canonically equivalent names, as the reader's lookup does, so
    /// two names that differ only in Unicode normalization are rejected as duplicates here rather than there.
    private var names: Set<String> = []
    private var dataSize = 0

    /// Nothing is created until `write`.
    public init(path: String, metadata: [String: String]? = nil) {
        self.path = path
        self.metadata = metadata
    }

    /// Declares a tensor; `shape` is outermost first (PyTorch order), `[]` for a scalar. Throws for a duplicate
    /// name, the reserved name `__metadata__`, a negative dimension, a dimension or total size of 2^53 or more
    /// (readers that hold JSON numbers as doubles, ours included, cannot read those exactly), or counts that do
    /// not fit in `Int`.
    public func addTensor(name: String, dtype: SafetensorsDType, shape: [Int]) throws(ModelFileError) {
        guard name != Self.metadataKey else {
            throw .malformedTensor(path: path, tensor: name, reason: "the name is reserved for the header's metadata")
        }
        guard !names.contains(name) else { throw .duplicateTensor(path: path, tensor: name) }
        let (elements, bytes) = try dtype.counts(shape: shape, path: path, tensor: name)
        if let big = shape.first(where: { $0 >= Self.jsonIntegerLimit }) {
            throw .invalidShape(path: path, tensor: name, shape: shape,
                                reason: "has a dimension \(big) of 2^53 or more, which JSON readers cannot read exactly")
        }
        let (end, overflow) = dataSize.addingReportingOverflow(bytes)
        guard !overflow, end < Self.jsonIntegerLimit else {
            throw .invalidShape(path: path, tensor: name, shape: shape,
                                reason: "of \(dtype.rawValue) takes the data section to 2^53 bytes or more")
        }
        dataSize = end
        names.insert(name)
        declarations.append(Declaration(name: name, nameUTF8: Array(name.utf8), dtype: dtype, shape: shape,
                                        elementCount: elements, byteCount: bytes))
    }

    /// The declared tensors in file order, with their data offsets.
    public var tensors: [SafetensorsTensorInfo] {
        let ordered = declarations.sorted { a, b in
            a.dtype.serializerRank != b.dtype.serializerRank
                ? a.dtype.serializerRank > b.dtype.serializerRank
                : a.nameUTF8.lexicographicallyPrecedes(b.nameUTF8)
        }
        var offset = 0
        return ordered.map { d in
            defer { offset += d.byteCount }  // cannot overflow: the total was checked in addTensor
            return SafetensorsTensorInfo(name: d.name, dtype: d.dtype, shape: d.shape,
                                         dataOffsets: offset..<(offset + d.byteCount), elementCount: d.elementCount)
        }
    }

    /// Everything before the data section: the 8-byte length and the padded JSON header. Throws `malformedHeader`
    /// past `SafetensorsFile.maxHeaderLength`, which readers (ours and Python's) refuse.
    public func headerBytes() throws(ModelFileError) -> [UInt8] {
        try headerBytes(for: tensors)
    }

    /// Writes the file: the header, then for each tensor in file order (`tensors`, empty ones included) calls
    /// `produce` with a sink that must receive exactly `info.byteCount` bytes. Errors from `produce` are rethrown
    /// as they are; any error leaves nothing at `path`.
    public func write(_ produce: (SafetensorsTensorSink) throws -> Void) throws {
        let layout = tensors
        let header = try headerBytes(for: layout)
        let sink: ByteSink
        do { sink = ByteSink(output: try openOutputFile(path: path)) } catch { throw ModelFileError.io(error) }
        do {
            do { try sink.write(header) } catch { throw ModelFileError.io(error) }
            for info in layout {
                let tensorSink = SafetensorsTensorSink(info: info, sink: sink, path: path)
                defer { tensorSink.closed = true }
                try produce(tensorSink)
                guard tensorSink.written == info.byteCount else {
                    throw ModelFileError.malformedTensor(path: path, tensor: info.name, reason: "\(tensorSink.written) "
                        + "bytes were written but \(info.dtype.rawValue) \(info.shape) needs \(info.byteCount)")
                }
            }
            do { try sink.close() } catch { throw ModelFileError.io(error) }
        } catch {
            sink.abandon()
            throw error
        }
    }

    // MARK: - Header

    /// The header member that holds the metadata; no tensor may have this name.
    static let metadataKey = "__metadata__"
    /// Header lengths and the data section start are padded to a multiple of this (with spaces).
    static let headerAlignment = 8
    /// Shape entries and offsets must stay below 2^53 to survive a JSON reader that uses doubles.
    static let jsonIntegerLimit = Int(exactIntegerLimit)

    private func headerBytes(for layout: [SafetensorsTensorInfo]) throws(ModelFileError) -> [UInt8] {
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
        }
        if let metadata {
            separator()
            JSONString.appendQuoted(Self.metadataKey, to: &json)
            json += Array(":{".utf8)
            let entries = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (i, (key, value)) in entries.enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                JSONString.appendQuoted(key, to: &json)
                json.append(UInt8(ascii: ":"))
                JSONString.appendQuoted(value, to: &json)
            }
            json.append(UInt8(ascii: "}"))
        }
        for info in layout {
            separator()
            JSONString.appendQuoted(info.name, to: &json)
            json += Array(#":{"dtype":"#.utf8)
            JSONString.appendQuoted(info.dtype.rawValue, to: &json)
            json += Array(#","shape":["#.utf8)
            json += Array(info.shape.map(String.init).joined(separator: ",").utf8)
            json += Array(#"],"data_offsets":["#.utf8)
            json += Array("\(info.dataOffsets.lowerBound),\(info.dataOffsets.upperBound)]}".utf8)
        }
        json.append(UInt8(ascii: "}"))
        let padding = (Self.headerAlignment - json.count % Self.headerAlignment) % Self.headerAlignment
        json += repeatElement(UInt8(ascii: " "), count: padding)
        guard json.count <= SafetensorsFile.maxHeaderLength else {
            throw .malformedHeader(path: path, reason: "the header would be \(json.count) bytes, above the limit of "
                + "\(SafetensorsFile.maxHeaderLength) that readers accept")
        }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count)
        appendLittleEndian(UInt64(json.count), to: &out)
        out += json
        return out
    }
}

