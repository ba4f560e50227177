import QwenKitIO

// The safetensors format (huggingface/safetensors, docs "Format"):
//   u64 little-endian N | N bytes of JSON header | data section
// The header is one object: each member is a tensor `name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}`
// with offsets relative to the data section, plus an optional `"__metadata__": {string: string}`.
//
// Validation, all at open time, so that a `SafetensorsFile` that exists is safe to read from:
// - the file holds the 8-byte length; the length is at most `maxHeaderLength` and ends inside the file;
// - the header is valid JSON (duplicate keys are seen, as `JSONValue` keeps members in order), an object,
//   whose `__metadata__` (at most one) maps strings to strings;
// - each tensor has a known dtype (see `SafetensorsDType`: an unknown name is rejected when the file is opened,
//   naming the dtype, because its size, and so the whole layout check, would be unknown), a shape of integers
//   ≥ 0 whose element and byte counts fit in `Int`, and `data_offsets` [begin, end] with begin ≤ end ≤ data size
//   and end − begin equal to the byte count;
// - no name appears twice and no two non-empty byte ranges overlap. Gaps between tensors and bytes after the last
//   are allowed (the Python library rejects them; nothing here depends on their absence).
// Numbers are read as JSON numbers (doubles, via `JSONValue`) and must be exact integers below 2^53; real files
// stay far below that. Keys other than dtype/shape/data_offsets in a tensor entry are ignored.

/// A safetensors element type, spelled as in the header.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL"
    case f8_e4m3 = "F8_E4M3", f8_e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8_e4m3, .f8_e5m2: return 1
        }
    }

    /// The matching ggml type, where there is one (GGUF has no unsigned, bool or fp8 types).
    public var ggmlType: GGMLType? {
        switch self {
        case .f64: return .f64
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .i64: return .i64
        case .i32: return .i32
        case .i16: return .i16
        case .i8: return .i8
        case .u64, .u32, .u16, .u8, .bool, .f8_e4m3, .f8_e5m2: return nil
        }
    }
}

extension SafetensorsDType {
    /// The element and byte counts of a tensor of this dtype and `shape` (the reader's and the writer's one check):
    /// throws `invalidShape` for a negative dimension, or a count that does not fit in `Int`.
    func counts(shape: [Int], path: String, tensor: String) throws(ModelFileError) -> (elements: Int, bytes: Int) {
        if let negative = shape.first(where: { $0 < 0 }) {
            throw .invalidShape(path: path, tensor: tensor, shape: shape, reason: "has a negative dimension \(negative)")
        }
        var elements = 1
        for d in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw .invalidShape(path: path, tensor: tensor, shape: shape, reason: "has more elements than Int can count")
            }
            elements = p
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: size)
        guard !overflow else {
            throw .invalidShape(path: path, tensor: tensor, shape: shape, reason: "of \(rawValue) needs more bytes than Int can count")
        }
        return (elements, bytes)
    }
}

/// One tensor of a safetensors file, validated.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Outermost dimension first (PyTorch order).
    public let shape: [Int]
    /// Byte range relative to the start of the data section (`data_offsets`).
    public let dataOffsets: Range<Int>
    /// Product of `shape` (1 for a scalar, shape `[]`).
    public let elementCount: Int
    /// `elementCount × dtype.size`, equal to `dataOffsets.count`.
    public var byteCount: Int { dataOffsets.count }

    /// Memberwise; no checks (the reader validates what it builds; `SafetensorsWriter` computes these).
    public init(name: String, dtype: SafetensorsDType, shape: [Int], dataOffsets: Range<Int>, elementCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
        self.elementCount = elementCount
    }
}

/// A memory-mapped safetensors file. Tensor bytes are views into the mapping, never copied.
///
/// `@unchecked Sendable`: everything is immutable after `init`, and the mapping is read-only and lives as long as
/// this object (it holds the `MappedFile`).
public final class SafetensorsFile: @unchecked Sendable {
    /// A header longer than this is rejected before parsing (the Python library's limit is 100 MB too). A 1,000-layer
    /// model's header is a few hundred kilobytes.
    public static let maxHeaderLength = 100_000_000

    public let path: String
    /// Tensors in header order.
    public let tensors: [SafetensorsTensorInfo]
    /// `__metadata__`, empty when absent.
    public let metadata: [String: String]
    /// The JSON header's length in bytes (the file's first 8 bytes).
    public let headerLength: Int
    /// File offset of the data section: 8 + `headerLength`.
    public let dataStart: Int
    /// File size in bytes.
    public var fileSize: Int { file.count }

    private let file: MappedFile
    private let bytes: UnsafeRawBufferPointer  // the whole mapping; valid while `file` lives
    private let indexByName: [String: Int]

    public init(path: String, residency: FileResidency = .mapped) throws(ModelFileError) {
        let file: MappedFile
        do { file = try MappedFile(path: path, residency: residency) } catch { throw .io(error) }
        // MappedFile's mapping is fixed from init to deinit; holding `file` keeps this view valid.
        let bytes = file.withUnsafeBytes { $0 }
        self.path = path
        self.file = file
        self.bytes = bytes

        guard bytes.count >= 8 else { throw .truncated(path: path, fileSize: bytes.count, needed: 8) }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declared <= UInt64(Self.maxHeaderLength) else {
            throw .headerTooLarge(path: path, length: declared, limit: Self.maxHeaderLength)
        }
        let headerLength = Int(declared)
        guard headerLength <= bytes.count - 8 else {
            throw .headerPastEnd(path: path, length: declared, fileSize: bytes.count)
        }
        self.headerLength = headerLength
        self.dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart

        let header: JSONValue
        do {
            // Raw file bytes are read as UInt8 everywhere; count ≥ 8 here, so baseAddress is not nil.
            let start = bytes.baseAddress!.advanced(by: 8).assumingMemoryBound(to: UInt8.self)
            header = try JSONScanner.parse(UnsafeBufferPointer(start: start, count: headerLength))
        } catch {
            throw .invalidJSON(path: path, reason: error.description)
        }
        guard case .object(let members) = header else {
            throw .malformedHeader(path: path, reason: "the header is \(kindName(header)), not an object")
        }

        var tensors: [SafetensorsTensorInfo] = []
        var indexByName: [String: Int] = [:]
        var metadata: [String: String]? = nil
        tensors.reserveCapacity(members.count)
        for (name, value) in members {
            if name == "__metadata__" {
                guard metadata == nil else { throw .malformedHeader(path: path, reason: "__metadata__ appears twice") }
                metadata = try Self.parseMetadata(value, path: path)
                continue
            }
            guard indexByName[name] == nil else { throw .duplicateTensor(path: path, tensor: name) }
            let info = try Self.parseTensor(name: name, value, dataSize: dataSize, path: path)
            indexByName[name] = tensors.count
            tensors.append(info)
        }
        try checkNoOverlap(tensors.map { ($0.name, $0.dataOffsets) }, path: path)
        self.tensors = tensors
        self.indexByName = indexByName
        self.metadata = metadata ?? [:]
    }

    /// The tensor named `name`, or nil.
    public subscript(name: String) -> SafetensorsTensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// The tensor's bytes (`info.byteCount` of them, little-endian elements). The view is valid while this object
    /// lives; keep a reference to the file for as long as you use it.
    public func data(of name: String) throws(ModelFileError) -> UnsafeRawBufferPointer {
        guard let info = self[name] else { throw .noSuchTensor(path: path, tensor: name) }
        return data(of: info)
    }

    /// The bytes of a tensor of this file (an info from `tensors`).
    public func data(of info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)])
    }

    // MARK: - Header validation

    private static func parseMetadata(_ value: JSONValue, path: String) throws(ModelFileError) -> [String: String] {
        guard case .object(let entries) = value else {
            throw .malformedHeader(path: path, reason: "__metadata__ is \(kindName(value)), not an object")
        }
        var result: [String: String] = [:]
        for (key, v) in entries {
            guard case .string(let s) = v else {
                throw .malformedHeader(path: path, reason: "__metadata__ value \(JSONValue.string(key).text) is \(kindName(v)), not a string")
            }
            guard result.updateValue(s, forKey: key) == nil else {
                throw .malformedHeader(path: path, reason: "__metadata__ key \(JSONValue.string(key).text) appears twice")
            }
        }
        return result
    }

    private static func parseTensor(
        name: String, _ value: JSONValue, dataSize: Int, path: String
    ) throws(ModelFileError) -> SafetensorsTensorInfo {
        func fail(_ reason: String) -> ModelFileError { .malformedTensor(path: path, tensor: name, reason: reason) }
        guard case .object(let fields) = value else { throw fail("entry is \(kindName(value)), not an object") }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (key, v) in fields {
            switch key {
            case "dtype": guard dtypeValue == nil else { throw fail("key \"dtype\" appears twice") }; dtypeValue = v
            case "shape": guard shapeValue == nil else { throw fail("key \"shape\" appears twice") }; shapeValue = v
            case "data_offsets":
                guard offsetsValue == nil else { throw fail("key \"data_offsets\" appears twice") }
                offsetsValue = v
            default: continue
            }
        }
        guard let dtypeValue else { throw fail("missing \"dtype\"") }
        guard let shapeValue else { throw fail("missing \"shape\"") }
        guard let offsetsValue else { throw fail("missing \"data_offsets\"") }

        guard case .string(let dtypeName) = dtypeValue else { throw fail("dtype is \(kindName(dtypeValue)), not a string") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(path: path, tensor: name, dtype: dtypeName)
        }

        guard case .array(let dims) = shapeValue else { throw fail("shape is \(kindName(shapeValue)), not an array") }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard let n = exactInteger(d) else { throw fail("shape entry \(d.text) is not an integer") }
            shape.append(n)
        }
        let (elements, needed) = try dtype.counts(shape: shape, path: path, tensor: name)

        guard case .array(let offsets) = offsetsValue, offsets.count == 2 else {
            throw fail("data_offsets is \(offsetsValue.text), not an array of two integers")
        }
        guard let begin = exactInteger(offsets[0]), let end = exactInteger(offsets[1]), begin >= 0, end >= 0 else {
            throw fail("data_offsets \(offsetsValue.text) are not two non-negative integers")
        }
        guard begin <= end, end <= dataSize else {
            throw .offsetsOutOfBounds(path: path, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        guard end - begin == needed else {
            throw .sizeMismatch(path: path, tensor: name, begin: begin, end: end, dtype: dtype.rawValue, shape: shape, needed: needed)
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end, elementCount: elements)
    }
}

/// The largest integer a double holds exactly with all smaller ones: JSON numbers at or above it are rejected.
let exactIntegerLimit: Double = 9_007_199_254_740_992  // 2^53

/// `value` as an Int if it is a JSON number with an exact integer value of magnitude below 2^53.
func exactInteger(_ value: JSONValue) -> Int? {
    guard case .number(let d) = value, d == d.rounded(.towardZero), abs(d) < exactIntegerLimit else { return nil }
    return Int(d)
}

func kindName(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool: return "a boolean"
    case .number: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
}
