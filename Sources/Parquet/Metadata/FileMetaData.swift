// The footer's structs as parquet.thrift defines them, decoded from the Thrift compact protocol: only the fields
// this reader uses; every other field (statistics, encodings, key-value metadata, page index offsets, ...) is
// skipped whatever its type. Field ids and names are parquet.thrift's, in the comment beside each case.

/// `FileMetaData`.
struct FileMetaData {
    var version: Int32 = 0
    var schema: [SchemaElement] = []
    var rowCount: Int64 = 0
    var rowGroups: [RowGroupMetaData] = []
    var createdBy: String?

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> FileMetaData {
        var m = FileMetaData()
        var sawSchema = false, sawRowCount = false, sawRowGroups = false
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .i32): m.version = try r.readI32()  // version
            case (2, .list):  // schema: list<SchemaElement>
                m.schema = try r.readList(of: .struct, what: "FileMetaData.schema") { (r: inout ThriftCompactReader) throws(ThriftError) in
                    try SchemaElement.decode(&r)
                }
                sawSchema = true
            case (3, .i64): m.rowCount = try r.readI64(); sawRowCount = true  // num_rows
            case (4, .list):  // row_groups: list<RowGroup>
                m.rowGroups = try r.readList(of: .struct, what: "FileMetaData.row_groups") { (r: inout ThriftCompactReader) throws(ThriftError) in
                    try RowGroupMetaData.decode(&r)
                }
                sawRowGroups = true
            case (6, .binary): m.createdBy = try r.readString()  // created_by
            default: try r.skip(field.type)
            }
        }
        if !sawSchema { throw r.error("FileMetaData has no schema (field 2)", at: start) }
        if !sawRowCount { throw r.error("FileMetaData has no num_rows (field 3)", at: start) }
        if !sawRowGroups { throw r.error("FileMetaData has no row_groups (field 4)", at: start) }
        return m
    }
}

/// `LogicalType`, a union: only the members that change how a value reads.
enum LogicalType: Equatable {
    case string, enumeration, json
    case integer(bitWidth: Int8, isSigned: Bool)
    case decimal
    /// Any other member (DATE, TIMESTAMP, UUID, LIST, MAP, ...), by its field id.
    case other(Int16)

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> LogicalType? {
        var result: LogicalType?
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .struct): result = .string; try r.skip(field.type)  // STRING: StringType
            case (4, .struct): result = .enumeration; try r.skip(field.type)  // ENUM: EnumType
            case (5, .struct): result = .decimal; try r.skip(field.type)  // DECIMAL: DecimalType
            case (10, .struct): result = try decodeInteger(&r)  // INTEGER: IntType
            case (12, .struct): result = .json; try r.skip(field.type)  // JSON: JsonType
            case (_, .struct): result = .other(field.id); try r.skip(field.type)
            default: try r.skip(field.type)
            }
        }
        return result
    }

    /// `IntType`: 1 bitWidth (i8), 2 isSigned (bool).
    private static func decodeInteger(_ r: inout ThriftCompactReader) throws(ThriftError) -> LogicalType {
        var bitWidth: Int8 = 0
        var isSigned = true
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .byte): bitWidth = Int8(bitPattern: try r.readByte())
            case (2, .boolTrue): isSigned = true
            case (2, .boolFalse): isSigned = false
            default: try r.skip(field.type)
            }
        }
        return .integer(bitWidth: bitWidth, isSigned: isSigned)
    }
}

/// `SchemaElement`: one node of the schema tree, which the footer stores flattened depth-first.
struct SchemaElement {
    var type: Int32?  // 1: type (Type)
    var typeLength: Int32?  // 2: type_length
    var repetition: Int32?  // 3: repetition_type (FieldRepetitionType)
    var name = ""  // 4: name
    var childCount: Int32?  // 5: num_children
    var convertedType: Int32?  // 6: converted_type (ConvertedType)
    var logicalType: LogicalType?  // 10: logicalType (LogicalType)

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> SchemaElement {
        var e = SchemaElement()
        var sawName = false
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .i32): e.type = try r.readI32()
            case (2, .i32): e.typeLength = try r.readI32()
            case (3, .i32): e.repetition = try r.readI32()
            case (4, .binary): e.name = try r.readString(); sawName = true
            case (5, .i32): e.childCount = try r.readI32()
            case (6, .i32): e.convertedType = try r.readI32()
            case (10, .struct): e.logicalType = try LogicalType.decode(&r)
            default: try r.skip(field.type)
            }
        }
        if !sawName { throw r.error("SchemaElement has no name (field 4)", at: start) }
        return e
    }
}

/// `RowGroup`.
struct RowGroupMetaData {
    var columns: [ColumnChunkMetaData] = []  // 1: columns
    var rowCount: Int64 = 0  // 3: num_rows

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> RowGroupMetaData {
        var g = RowGroupMetaData()
        var sawColumns = false, sawRowCount = false
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .list):
                g.columns = try r.readList(of: .struct, what: "RowGroup.columns") { (r: inout ThriftCompactReader) throws(ThriftError) in
                    try ColumnChunkMetaData.decode(&r)
                }
                sawColumns = true
            case (3, .i64): g.rowCount = try r.readI64(); sawRowCount = true
            default: try r.skip(field.type)
            }
        }
        if !sawColumns { throw r.error("RowGroup has no columns (field 1)", at: start) }
        if !sawRowCount { throw r.error("RowGroup has no num_rows (field 3)", at: start) }
        return g
    }
}

/// `ColumnChunk` with its `ColumnMetaData` (`meta_data`) folded in.
struct ColumnChunkMetaData {
    var filePath: String?  // ColumnChunk 1: file_path
    var hasMetaData = false  // ColumnChunk 3: meta_data
    var isEncrypted = false  // ColumnChunk 8: crypto_metadata, 9: encrypted_column_metadata
    var type: Int32 = -1  // ColumnMetaData 1: type
    var codec: Int32 = -1  // 4: codec
    var valueCount: Int64 = 0  // 5: num_values
    var totalCompressedSize: Int64 = 0  // 7: total_compressed_size
    var dataPageOffset: Int64 = 0  // 9: data_page_offset
    var dictionaryPageOffset: Int64?  // 11: dictionary_page_offset

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> ColumnChunkMetaData {
        var c = ColumnChunkMetaData()
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .binary): c.filePath = try r.readString()
            case (3, .struct): try c.decodeMetaData(&r); c.hasMetaData = true
            case (8, _), (9, _): c.isEncrypted = true; try r.skip(field.type)
            default: try r.skip(field.type)
            }
        }
        // Checked here, not when the row groups are: a footer of empty structs must not decode into a large table.
        if !c.hasMetaData && !c.isEncrypted { throw r.error("ColumnChunk has no meta_data (field 3)", at: start) }
        return c
    }

    /// `ColumnMetaData`.
    private mutating func decodeMetaData(_ r: inout ThriftCompactReader) throws(ThriftError) {
        var seen: UInt32 = 0  // bit n: field n arrived
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .i32): type = try r.readI32()
            case (4, .i32): codec = try r.readI32()
            case (5, .i64): valueCount = try r.readI64()
            case (7, .i64): totalCompressedSize = try r.readI64()
            case (9, .i64): dataPageOffset = try r.readI64()
            case (11, .i64): dictionaryPageOffset = try r.readI64()
            default: try r.skip(field.type); continue
            }
            seen |= 1 << UInt32(field.id)
        }
        for (id, name) in [(1, "type"), (4, "codec"), (5, "num_values"), (7, "total_compressed_size"),
                           (9, "data_page_offset")] as [(Int16, String)] where seen & 1 << UInt32(id) == 0 {
            throw r.error("ColumnMetaData has no \(name) (field \(id))", at: start)
        }
    }
}
