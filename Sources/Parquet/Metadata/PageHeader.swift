/// `PageHeader` with the one header of its kind that this reader uses: `DataPageHeader`, `DataPageHeaderV2` or
/// `DictionaryPageHeader` (an `IndexPageHeader`, statistics and anything else are skipped). Field ids and names are
/// parquet.thrift's, beside each case. Sizes are checked for sign here and against the column chunk by the reader.
struct PageHeader {
    var type: Int32 = -1  // 1: type (PageType)
    var uncompressedSize: Int32 = -1  // 2: uncompressed_page_size
    var compressedSize: Int32 = -1  // 3: compressed_page_size
    var dataPage: DataPage?  // 5: data_page_header
    var dictionaryPage: DictionaryPage?  // 7: dictionary_page_header
    var dataPageV2: DataPageV2?  // 8: data_page_header_v2

    /// `DataPageHeader`.
    struct DataPage {
        var valueCount: Int32 = -1  // 1: num_values
        var encoding: Int32 = -1  // 2: encoding
        var definitionLevelEncoding: Int32 = -1  // 3: definition_level_encoding
    }

    /// `DictionaryPageHeader`.
    struct DictionaryPage {
        var valueCount: Int32 = -1  // 1: num_values
        var encoding: Int32 = -1  // 2: encoding
    }

    /// `DataPageHeaderV2`.
    struct DataPageV2 {
        var valueCount: Int32 = -1  // 1: num_values
        var nullCount: Int32 = 0  // 2: num_nulls
        var encoding: Int32 = -1  // 4: encoding
        var definitionLevelsByteLength: Int32 = -1  // 5: definition_levels_byte_length
        var repetitionLevelsByteLength: Int32 = -1  // 6: repetition_levels_byte_length
        var isCompressed = true  // 7: is_compressed (default true)
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> PageHeader {
        var h = PageHeader()
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .i32): h.type = try r.readI32()
            case (2, .i32): h.uncompressedSize = try r.readI32()
            case (3, .i32): h.compressedSize = try r.readI32()
            case (5, .struct): h.dataPage = try decodeDataPage(&r)
            case (7, .struct): h.dictionaryPage = try decodeDictionaryPage(&r)
            case (8, .struct): h.dataPageV2 = try decodeDataPageV2(&r)
            default: try r.skip(field.type)
            }
        }
        if h.type < 0 { throw r.error("PageHeader has no type (field 1)", at: start) }
        if h.uncompressedSize < 0 { throw r.error("PageHeader has no uncompressed_page_size (field 2) or a negative one", at: start) }
        if h.compressedSize < 0 { throw r.error("PageHeader has no compressed_page_size (field 3) or a negative one", at: start) }
        return h
    }

    private static func decodeDataPage(_ r: inout ThriftCompactReader) throws(ThriftError) -> DataPage {
        var p = DataPage()
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .i32): p.valueCount = try r.readI32()
            case (2, .i32): p.encoding = try r.readI32()
            case (3, .i32): p.definitionLevelEncoding = try r.readI32()
            default: try r.skip(field.type)
            }
        }
        if p.valueCount < 0 { throw r.error("DataPageHeader has no num_values (field 1) or a negative one", at: start) }
        if p.encoding < 0 { throw r.error("DataPageHeader has no encoding (field 2)", at: start) }
        return p
    }

    private static func decodeDictionaryPage(_ r: inout ThriftCompactReader) throws(ThriftError) -> DictionaryPage {
        var p = DictionaryPage()
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .i32): p.valueCount = try r.readI32()
            case (2, .i32): p.encoding = try r.readI32()
            default: try r.skip(field.type)
            }
        }
        if p.valueCount < 0 { throw r.error("DictionaryPageHeader has no num_values (field 1) or a negative one", at: start) }
        if p.encoding < 0 { throw r.error("DictionaryPageHeader has no encoding (field 2)", at: start) }
        return p
    }

    private static func decodeDataPageV2(_ r: inout ThriftCompactReader) throws(ThriftError) -> DataPageV2 {
        var p = DataPageV2()
        let start = r.position
        try r.enterStruct()
        var last: Int16 = 0
        while let field = try r.nextField(after: &last) {
            switch (field.id, field.type) {
            case (1, .i32): p.valueCount = try r.readI32()
            case (2, .i32): p.nullCount = try r.readI32()
            case (4, .i32): p.encoding = try r.readI32()
            case (5, .i32): p.definitionLevelsByteLength = try r.readI32()
            case (6, .i32): p.repetitionLevelsByteLength = try r.readI32()
            case (7, .boolTrue): p.isCompressed = true
            case (7, .boolFalse): p.isCompressed = false
            default: try r.skip(field.type)
            }
        }
        if p.valueCount < 0 { throw r.error("DataPageHeaderV2 has no num_values (field 1) or a negative one", at: start) }
        if p.encoding < 0 { throw r.error("DataPageHeaderV2 has no encoding (field 4)", at: start) }
        if p.definitionLevelsByteLength < 0 {
            throw r.error("DataPageHeaderV2 has no definition_levels_byte_length (field 5) or a negative one", at: start)
        }
        if p.repetitionLevelsByteLength < 0 {
            throw r.error("DataPageHeaderV2 has no repetition_levels_byte_length (field 6) or a negative one", at: start)
        }
        return p
    }
}
