import QwenKitIO

// GGUF metadata values (shared/SPEC-NOTES.md "GGUF v3"). Scalars are plain Swift values; arrays stay in their
// on-disk encoding (`GGUFArray`), so a 150,000-entry token list is a view into the mapped file, not 150,000 Strings.

/// A metadata value type id, as stored in the file.
public enum GGUFValueType: UInt32, CaseIterable, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of one value of a fixed-size type; nil for `string` and `array`.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The smallest encoding of one value (a string is at least its 8-byte length).
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }

    /// The gguf-py spelling (`UINT32`, `STRING`).
    public var name: String {
        switch self {
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .uint32: return "UINT32"
        case .int32: return "INT32"
        case .float32: return "FLOAT32"
        case .bool: return "BOOL"
        case .string: return "STRING"
        case .array: return "ARRAY"
        case .uint64: return "UINT64"
        case .int64: return "INT64"
        case .float64: return "FLOAT64"
        }
    }
}

/// One metadata value.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array(GGUFArray), uint64(UInt64), int64(Int64)
    case float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }

    /// Any integer type whose value fits in `Int` (bools are not integers here).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// A float of either width, or an integer (converted).
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: GGUFArray? { if case .array(let a) = self { return a } else { return nil } }

    /// Bytes of the value's encoding (without the type id).
    var encodedSize: Int {
        switch self {
        case .string(let s): return 8 + s.utf8.count
        case .array(let a): return 12 + a.byteCount
        default: return type.fixedSize!
        }
    }
}

/// A metadata entry; files keep entries in order, and so does `GGUFFile.metadata`.
public struct GGUFKeyValue: Sendable, Equatable {
    public let key: String
    public let value: GGUFValue
    public init(_ key: String, _ value: GGUFValue) {
        self.key = key
        self.value = value
    }
}

/// A metadata array in its file encoding: `count` elements of `elementType` (never `array`: nested arrays are
/// rejected, as gguf.cpp does). Elements are decoded on access. A read array is a view into the mapped file
/// (kept alive by the array); a built one owns its encoded bytes.
public struct GGUFArray: Sendable, Equatable {
    public let elementType: GGUFValueType
    public let count: Int
    private let storage: Storage
    /// Byte offset of each string element inside the encoding (string arrays only), plus the end.
    private let stringOffsets: [Int]

    private enum Storage: Sendable {
        case mapped(MappedFile, Range<Int>)
        case owned([UInt8])
    }

    /// From validated file bytes (`range` inside `file`, `stringOffsets` relative to `range.lowerBound`).
    init(file: MappedFile, range: Range<Int>, elementType: GGUFValueType, count: Int, stringOffsets: [Int]) {
        self.elementType = elementType
        self.count = count
        self.storage = .mapped(file, range)
        self.stringOffsets = stringOffsets
    }

    private init(encoded: [UInt8], elementType: GGUFValueType, count: Int, stringOffsets: [Int] = []) {
        self.elementType = elementType
        self.count = count
        self.storage = .owned(encoded)
        self.stringOffsets = stringOffsets
    }

    public init(strings: [String]) {
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        offsets.reserveCapacity(strings.count + 1)
        for s in strings {
            offsets.append(bytes.count)
            appendLittleEndian(UInt64(s.utf8.count), to: &bytes)
            bytes.append(contentsOf: s.utf8)
        }
        offsets.append(bytes.count)
        self.init(encoded: bytes, elementType: .string, count: strings.count, stringOffsets: offsets)
    }

    public init(uint8 values: [UInt8]) { self.init(encoded: values, elementType: .uint8, count: values.count) }
    public init(int8 values: [Int8]) { self.init(integers: values, type: .int8) }
    public init(uint16 values: [UInt16]) { self.init(integers: values, type: .uint16) }
    public init(int16 values: [Int16]) { self.init(integers: values, type: .int16) }
    public init(uint32 values: [UInt32]) { self.init(integers: values, type: .uint32) }
    public init(int32 values: [Int32]) { self.init(integers: values, type: .int32) }
    public init(uint64 values: [UInt64]) { self.init(integers: values, type: .uint64) }
    public init(int64 values: [Int64]) { self.init(integers: values, type: .int64) }
    public init(float32 values: [Float]) { self.init(integers: values.map(\.bitPattern), type: .float32) }
    public init(float64 values: [Double]) { self.init(integers: values.map(\.bitPattern), type: .float64) }
    public init(bool values: [Bool]) { self.init(encoded: values.map { $0 ? 1 : 0 }, elementType: .bool, count: values.count) }

    private init<T: FixedWidthInteger>(integers: [T], type: GGUFValueType) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(integers.count * MemoryLayout<T>.size)
        for v in integers { appendLittleEndian(v, to: &bytes) }
        self.init(encoded: bytes, elementType: type, count: integers.count)
    }

    /// Calls `body` with the encoded elements (what follows the u32 type and u64 count in the file).
    public func withEncodedBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .mapped(let file, let range):
            let all = file.withUnsafeBytes { $0 }  // valid while `file` lives, which `self` guarantees
            return try body(UnsafeRawBufferPointer(rebasing: all[range]))
        case .owned(let bytes):
            // Array.withUnsafeBytes rethrows untyped errors, so the typed error is carried out by hand.
            var outcome: Result<R, E>?
            bytes.withUnsafeBytes { raw in
                do throws(E) { outcome = .success(try body(raw)) } catch { outcome = .failure(error) }
            }
            return try outcome!.get()
        }
    }

    /// Bytes of the encoded elements.
    public var byteCount: Int {
        switch storage {
        case .mapped(_, let range): return range.count
        case .owned(let bytes): return bytes.count
        }
    }

    /// Element `index` as a value. Precondition: `0 <= index < count`.
    public func value(at index: Int) -> GGUFValue {
        precondition(index >= 0 && index < count, "GGUFArray index \(index) out of range 0..<\(count)")
        if elementType == .string { return .string(string(at: index)) }
        let size = elementType.fixedSize!
        return withEncodedBytes { bytes in decodeFixed(elementType, bytes, at: index * size) }
    }

    /// String element `index`, decoded as UTF-8 (ill-formed bytes become U+FFFD). Precondition: a string array.
    public func string(at index: Int) -> String {
        precondition(elementType == .string, "GGUFArray of \(elementType.name) has no strings")
        precondition(index >= 0 && index < count, "GGUFArray index \(index) out of range 0..<\(count)")
        return withEncodedBytes { bytes in
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[stringOffsets[index] + 8 ..< stringOffsets[index + 1]]),
                   as: UTF8.self)
        }
    }

    /// Calls `body` with each string element's UTF-8 bytes, in order, without making Strings.
    public func forEachString<E: Error>(_ body: (Int, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        guard elementType == .string else { return }
        try withEncodedBytes { (bytes) throws(E) -> Void in
            for i in 0..<count {
                try body(i, UnsafeRawBufferPointer(rebasing: bytes[stringOffsets[i] + 8 ..< stringOffsets[i + 1]]))
            }
        }
    }

    /// All elements, decoded (eager: meant for short arrays and tests).
    public var values: [GGUFValue] { (0..<count).map(value(at:)) }

    public static func == (a: GGUFArray, b: GGUFArray) -> Bool {
        guard a.elementType == b.elementType, a.count == b.count, a.byteCount == b.byteCount else { return false }
        return a.withEncodedBytes { x in b.withEncodedBytes { y in x.elementsEqual(y) } }
    }
}

/// Decodes a fixed-size value at `offset` (bounds already checked by the caller).
func decodeFixed(_ type: GGUFValueType, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> GGUFValue {
    func load<T: FixedWidthInteger>(_: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    switch type {
    case .uint8: return .uint8(load(UInt8.self))
    case .int8: return .int8(load(Int8.self))
    case .uint16: return .uint16(load(UInt16.self))
    case .int16: return .int16(load(Int16.self))
    case .uint32: return .uint32(load(UInt32.self))
    case .int32: return .int32(load(Int32.self))
    case .float32: return .float32(Float(bitPattern: load(UInt32.self)))
    case .bool: return .bool(load(UInt8.self) != 0)
    case .uint64: return .uint64(load(UInt64.self))
    case .int64: return .int64(load(Int64.self))
    case .float64: return .float64(Double(bitPattern: load(UInt64.self)))
    case .string, .array: preconditionFailure("decodeFixed called for \(type.name)")
    }
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}
