/// The Thrift compact protocol's wire types: the low nibble of a field header and the element type of a list, set
/// or map (Apache Thrift, `doc/specs/thrift-compact-protocol.md`). Raw values are the wire ids.
enum ThriftType: UInt8 {
    case stop = 0
    /// A bool field's value is its type (1 true, 2 false); as a list element, a bool is one byte.
    case boolTrue = 1
    case boolFalse = 2
    case byte = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case `struct` = 12

    var name: String {
        switch self {
        case .stop: "stop"
        case .boolTrue, .boolFalse: "bool"
        case .byte: "byte"
        case .i16: "i16"
        case .i32: "i32"
        case .i64: "i64"
        case .double: "double"
        case .binary: "binary"
        case .list: "list"
        case .set: "set"
        case .map: "map"
        case .struct: "struct"
        }
    }
}

/// What went wrong while decoding Thrift bytes: `offset` is the position in the decoded buffer where it was
/// noticed, `reason` a phrase for the user. Callers turn it into a `ParquetError` that names the file and the
/// absolute offset.
struct ThriftError: Error {
    let offset: Int
    let reason: String
}

/// A bounded reader of the Thrift compact protocol over bytes it does not own (a memory-mapped footer or page
/// header). Every length, count and varint is checked against the bytes that remain before it is used, nesting is
/// capped (`maximumDepth`), and nothing is allocated in proportion to a number read from the input: a list's count
/// is at most the bytes left, since every element takes at least one byte.
///
/// Structs are read field by field: `enterStruct()`, then `nextField(after:)` until it returns nil (the STOP byte),
/// reading each field with the typed readers or `skip(_:)` for fields the caller does not know:
///
///     try reader.enterStruct()
///     var last: Int16 = 0
///     while let field = try reader.nextField(after: &last) {
///         switch (field.id, field.type) {
///         case (1, .i32): type = try reader.readI32()
///         default: try reader.skip(field.type)
///         }
///     }
///
/// A field whose wire type is not the expected one falls to `default` and is skipped, as Thrift's generated code
/// does; a required field that never arrived is then the caller's error.
struct ThriftCompactReader {
    /// Deepest nesting of structs, lists, sets and maps (a parquet footer needs about 6).
    static let maximumDepth = 32

    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    private var depth = 0

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    func error(_ reason: String, at offset: Int? = nil) -> ThriftError {
        ThriftError(offset: offset ?? position, reason: reason)
    }

    // MARK: - Scalars

    mutating func readByte() throws(ThriftError) -> UInt8 {
        guard position < bytes.count else { throw error("ends inside a value") }
        let byte = bytes[position]
        position += 1
        return byte
    }

    /// An unsigned LEB128 varint of at most `maximumBytes` bytes whose value fits in `bits` bits.
    mutating func readVarint(bits: Int = 64) throws(ThriftError) -> UInt64 {
        let start = position
        let maximumBytes = (bits + 6) / 7
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<maximumBytes {
            let byte = try readByte()
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if bits < 64 && value >> UInt64(bits) != 0 || shift == 63 && byte > 1 {
                    throw error("varint does not fit in \(bits) bits", at: start)
                }
                return value
            }
            shift += 7
        }
        throw error("varint longer than \(maximumBytes) bytes", at: start)
    }

    mutating func readI16() throws(ThriftError) -> Int16 {
        Int16(truncatingIfNeeded: Self.zigzag(try readVarint(bits: 16)))
    }

    mutating func readI32() throws(ThriftError) -> Int32 {
        Int32(truncatingIfNeeded: Self.zigzag(try readVarint(bits: 32)))
    }

    mutating func readI64() throws(ThriftError) -> Int64 {
        Self.zigzag(try readVarint(bits: 64))
    }

    mutating func readDouble() throws(ThriftError) -> Double {
        guard remaining >= 8 else { throw error("ends inside a double") }
        let bits = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return Double(bitPattern: UInt64(littleEndian: bits))
    }

    /// Binary or string bytes: a varint length, then that many bytes (a view into the buffer).
    mutating func readBinary() throws(ThriftError) -> UnsafeRawBufferPointer {
        let start = position
        let length = try readVarint(bits: 32)
        guard length <= UInt64(remaining) else {
            throw error("binary length \(length) runs past the end (\(remaining) bytes left)", at: start)
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<position + Int(length)])
        position += Int(length)
        return slice
    }

    /// A string field (names, paths, key-value metadata), decoded as UTF-8 with invalid bytes replaced.
    mutating func readString() throws(ThriftError) -> String {
        String(decoding: try readBinary(), as: UTF8.self)
    }

    static func zigzag(_ n: UInt64) -> Int64 {
        Int64(bitPattern: (n >> 1) ^ (0 &- (n & 1)))
    }

    // MARK: - Structs, lists

    /// Counts one more level of nesting; fails past `maximumDepth`.
    mutating func enterStruct() throws(ThriftError) {
        try enter()
    }

    /// The next field's id and wire type, or nil at the struct's STOP byte (which leaves the struct). `last` is
    /// the previous field's id in this struct (0 before the first): short-form headers give the id as a delta.
    mutating func nextField(after last: inout Int16) throws(ThriftError) -> (id: Int16, type: ThriftType)? {
        let start = position
        let header = try readByte()
        if header == 0 {
            depth -= 1
            return nil
        }
        guard let type = ThriftType(rawValue: header & 0x0F), type != .stop else {
            throw error("unknown Thrift field type \(header & 0x0F)", at: start)
        }
        let delta = Int16(header >> 4)
        let id = delta == 0 ? try readI16() : last &+ delta
        last = id
        return (id, type)
    }

    /// A list or set header: the element type and the count, checked against the bytes left (every element takes
    /// at least one). Counts one level of nesting; call `leaveList()` after the elements.
    mutating func readListHeader() throws(ThriftError) -> (type: ThriftType, count: Int) {
        let start = position
        try enter()
        let header = try readByte()
        let count = header >> 4 == 15 ? Int(try readVarint(bits: 32)) : Int(header >> 4)
        guard let type = ThriftType(rawValue: header & 0x0F), type != .stop else {
            throw error("unknown Thrift list element type \(header & 0x0F)", at: start)
        }
        guard count <= remaining else {
            throw error("list of \(count) elements in \(remaining) bytes", at: start)
        }
        return (type, count)
    }

    mutating func leaveList() {
        depth -= 1
    }

    /// Reads a list whose elements `element` decodes, checking the element type first (`expected`).
    mutating func readList<T>(of expected: ThriftType, what: String,
                              _ element: (inout ThriftCompactReader) throws(ThriftError) -> T) throws(ThriftError) -> [T] {
        let start = position
        let (type, count) = try readListHeader()
        guard type == expected || expected == .boolTrue && type == .boolFalse else {
            throw error("\(what) is a list of \(type.name), expected \(expected.name)", at: start)
        }
        var result: [T] = []
        // Not `count`: a list header costs a few bytes, and the elements may be much larger than the one byte each
        // that bounds `count`; the array grows as elements actually decode.
        result.reserveCapacity(min(count, 1024))
        for _ in 0..<count { result.append(try element(&self)) }
        leaveList()
        return result
    }

    // MARK: - Skipping

    /// Skips a field's value of wire type `type` (a bool field has none: its type is its value).
    mutating func skip(_ type: ThriftType) throws(ThriftError) {
        switch type {
        case .boolTrue, .boolFalse: return
        default: try skipValue(type)
        }
    }

    /// Skips one value of `type` as it appears inside a list, set or map (where a bool is one byte).
    private mutating func skipValue(_ type: ThriftType) throws(ThriftError) {
        switch type {
        case .stop:
            throw error("unexpected STOP")
        case .boolTrue, .boolFalse, .byte:
            _ = try readByte()
        case .i16, .i32, .i64:
            _ = try readVarint()
        case .double:
            _ = try readDouble()
        case .binary:
            _ = try readBinary()
        case .list, .set:
            let (elementType, count) = try readListHeader()
            for _ in 0..<count { try skipValue(elementType) }
            leaveList()
        case .map:
            let start = position
            let count = Int(try readVarint(bits: 32))
            if count == 0 { return }
            let types = try readByte()
            guard let keyType = ThriftType(rawValue: types >> 4), keyType != .stop,
                  let valueType = ThriftType(rawValue: types & 0x0F), valueType != .stop else {
                throw error("unknown Thrift map key or value type \(types)", at: start)
            }
            guard count <= remaining / 2 else { throw error("map of \(count) entries in \(remaining) bytes", at: start) }
            try enter()
            for _ in 0..<count {
                try skipValue(keyType)
                try skipValue(valueType)
            }
            depth -= 1
        case .struct:
            try enterStruct()
            var last: Int16 = 0
            while let field = try nextField(after: &last) { try skip(field.type) }
        }
    }

    private mutating func enter() throws(ThriftError) {
        guard depth < Self.maximumDepth else {
            throw error("nested deeper than \(Self.maximumDepth) levels")
        }
        depth += 1
    }
}
