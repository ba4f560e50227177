// Hand-built parquet files for the hostile-input tests: a Thrift compact protocol writer, page builders and a file
// builder, each as plain as the format. Every id here is parquet.thrift's (the reader's enums are internal, so the
// tests spell the numbers: Type BYTE_ARRAY = 6, PageType DATA_PAGE = 0, Encoding RLE_DICTIONARY = 8, ...).

/// Writes the Thrift compact protocol.
struct ThriftWriter {
    var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    static func zigzag(_ n: Int64) -> UInt64 { UInt64(bitPattern: (n << 1) ^ (n >> 63)) }

    /// A field header: short form when the id is 1...15 past the previous one.
    mutating func field(_ id: Int16, type: UInt8) {
        let delta = Int(id) - Int(lastField[lastField.count - 1])
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type)
        } else {
            bytes.append(type)
            bytes += Self.varint(Self.zigzag(Int64(id)))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ value: Int32) {
        field(id, type: 5)
        bytes += Self.varint(Self.zigzag(Int64(value)))
    }

    mutating func i64(_ id: Int16, _ value: Int64) {
        field(id, type: 6)
        bytes += Self.varint(Self.zigzag(value))
    }

    mutating func bool(_ id: Int16, _ value: Bool) {
        field(id, type: value ? 1 : 2)
    }

    mutating func binary(_ id: Int16, _ value: [UInt8]) {
        field(id, type: 8)
        bytes += Self.varint(UInt64(value.count)) + value
    }

    mutating func string(_ id: Int16, _ value: String) { binary(id, Array(value.utf8)) }

    /// A struct field: `body` writes its fields; the STOP byte is added.
    mutating func structField(_ id: Int16, _ body: (inout ThriftWriter) -> Void) {
        field(id, type: 12)
        structBody(body)
    }

    mutating func structBody(_ body: (inout ThriftWriter) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }

    mutating func listHeader(_ id: Int16, elementType: UInt8, count: Int) {
        field(id, type: 9)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType)
        } else {
            bytes.append(0xF0 | elementType)
            bytes += Self.varint(UInt64(count))
        }
    }

    mutating func structList<T>(_ id: Int16, _ items: [T], _ body: (inout ThriftWriter, T) -> Void) {
        listHeader(id, elementType: 12, count: items.count)
        for item in items { structBody { body(&$0, item) } }
    }

    mutating func stringList(_ id: Int16, _ items: [String]) {
        listHeader(id, elementType: 8, count: items.count)
        for item in items { bytes += Self.varint(UInt64(item.utf8.count)) + Array(item.utf8) }
    }

    mutating func i32List(_ id: Int16, _ items: [Int32]) {
        listHeader(id, elementType: 5, count: items.count)
        for item in items { bytes += Self.varint(Self.zigzag(Int64(item))) }
    }
}

/// parquet.thrift ids the tests use.
enum PQ {
    static let boolean: Int32 = 0, int32: Int32 = 1, int64: Int32 = 2, int96: Int32 = 3, float: Int32 = 4, double: Int32 = 5
    static let byteArray: Int32 = 6
    static let required: Int32 = 0, optional: Int32 = 1, repeated: Int32 = 2
    static let utf8: Int32 = 0
    static let uncompressed: Int32 = 0, snappy: Int32 = 1, gzip: Int32 = 2, lz4: Int32 = 5, zstd: Int32 = 6
    static let plain: Int32 = 0, plainDictionary: Int32 = 2, rle: Int32 = 3, bitPacked: Int32 = 4
    static let deltaBinaryPacked: Int32 = 5, rleDictionary: Int32 = 8
    static let dataPage: Int32 = 0, indexPage: Int32 = 1, dictionaryPage: Int32 = 2, dataPageV2: Int32 = 3
}

/// A column of a hand-built file (a top-level field).
struct TestColumn {
    var name: String
    var type: Int32 = PQ.byteArray
    var repetition: Int32 = PQ.optional
    var convertedType: Int32? = PQ.utf8
}

/// A column chunk: its pages (header and body bytes each), written one after another.
struct TestChunk {
    var pages: [[UInt8]]
    var valueCount: Int
    var codec: Int32 = PQ.uncompressed
    /// The first page is a dictionary page (its offset goes in dictionary_page_offset).
    var hasDictionary = false
    /// Overrides of the metadata (hostile values).
    var type: Int32?
    var totalCompressedSize: Int64?
    var dataPageOffset: Int64?
}

struct TestRowGroup {
    var rows: Int
    var chunks: [TestChunk]
}

/// A page: its header (type-specific struct written by `header`), then `body`.
func page(type: Int32, uncompressedSize: Int? = nil, compressedSize: Int? = nil, body: [UInt8],
          header: (inout ThriftWriter) -> Void) -> [UInt8] {
    var w = ThriftWriter()
    w.structBody { w in
        w.i32(1, type)
        w.i32(2, Int32(uncompressedSize ?? body.count))
        w.i32(3, Int32(compressedSize ?? body.count))
        header(&w)
    }
    return w.bytes + body
}

/// DATA_PAGE (v1): `body` holds the definition levels (length-prefixed, for an OPTIONAL column) and the values.
func dataPageV1(values: Int, encoding: Int32 = PQ.plain, levelEncoding: Int32 = PQ.rle, body: [UInt8],
                uncompressedSize: Int? = nil, compressedSize: Int? = nil) -> [UInt8] {
    page(type: PQ.dataPage, uncompressedSize: uncompressedSize, compressedSize: compressedSize, body: body) { w in
        w.structField(5) { w in
            w.i32(1, Int32(values))
            w.i32(2, encoding)
            w.i32(3, levelEncoding)
            w.i32(4, PQ.rle)
        }
    }
}

/// DATA_PAGE_V2: `levels` (uncompressed definition levels), then `values` as given (compressed or not).
func dataPageV2(values: Int, nulls: Int = 0, encoding: Int32 = PQ.plain, levels: [UInt8], body: [UInt8],
                uncompressedValueSize: Int? = nil, isCompressed: Bool = false, levelsLength: Int? = nil) -> [UInt8] {
    page(type: PQ.dataPageV2, uncompressedSize: levels.count + (uncompressedValueSize ?? body.count), body: levels + body) { w in
        w.structField(8) { w in
            w.i32(1, Int32(values))
            w.i32(2, Int32(nulls))
            w.i32(3, Int32(values))
            w.i32(4, encoding)
            w.i32(5, Int32(levelsLength ?? levels.count))
            w.i32(6, 0)
            w.bool(7, isCompressed)
        }
    }
}

func dictionaryPage(values: Int, body: [UInt8], encoding: Int32 = PQ.plain) -> [UInt8] {
    page(type: PQ.dictionaryPage, body: body) { w in
        w.structField(7) { w in
            w.i32(1, Int32(values))
            w.i32(2, encoding)
        }
    }
}

/// PLAIN BYTE_ARRAY values: a 4-byte length before each.
func plainByteArrays(_ values: [String]) -> [UInt8] {
    values.flatMap { littleEndian(UInt32($0.utf8.count)) + Array($0.utf8) }
}

func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

/// An RLE/bit-packed hybrid RLE run: `count` copies of `value` (`byteWidth` bytes).
func rleRun(count: Int, value: UInt64, byteWidth: Int = 1) -> [UInt8] {
    ThriftWriter.varint(UInt64(count) << 1) + (0..<byteWidth).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// Definition levels of a v1 page: a 4-byte length, then the runs.
func v1Levels(_ runs: [UInt8]) -> [UInt8] { littleEndian(UInt32(runs.count)) + runs }

/// A whole file: PAR1, the chunks in order, the footer, its length, PAR1. `extraFooter` writes more FileMetaData
/// fields (after row_groups); `schemaOverride` replaces the schema list.
func parquetFile(columns: [TestColumn], rowGroups: [TestRowGroup], extraFooter: (inout ThriftWriter) -> Void = { _ in },
                 schemaOverride: ((inout ThriftWriter) -> Void)? = nil) -> [UInt8] {
    var file = Array("PAR1".utf8)
    var placed: [[(offset: Int, size: Int, dataOffset: Int)]] = []
    for group in rowGroups {
        var chunks: [(Int, Int, Int)] = []
        for chunk in group.chunks {
            let start = file.count
            let dataOffset = chunk.hasDictionary ? start + chunk.pages[0].count : start
            for p in chunk.pages { file += p }
            chunks.append((start, file.count - start, dataOffset))
        }
        placed.append(chunks)
    }
    var w = ThriftWriter()
    w.structBody { w in
        w.i32(1, 2)
        if let schemaOverride {
            schemaOverride(&w)
        } else {
            w.listHeader(2, elementType: 12, count: columns.count + 1)
            w.structBody { w in
                w.string(4, "schema")
                w.i32(5, Int32(columns.count))
            }
            for column in columns {
                w.structBody { w in
                    w.i32(1, column.type)
                    w.i32(3, column.repetition)
                    w.string(4, column.name)
                    if let converted = column.convertedType, column.type == PQ.byteArray { w.i32(6, converted) }
                }
            }
        }
        w.i64(3, Int64(rowGroups.reduce(0) { $0 + $1.rows }))
        w.structList(4, Array(zip(rowGroups, placed))) { w, item in
            let (group, offsets) = item
            w.structList(1, Array(zip(group.chunks, offsets).enumerated())) { w, entry in
                let (index, (chunk, place)) = entry
                w.i64(2, Int64(place.offset))
                w.structField(3) { w in
                    w.i32(1, chunk.type ?? (index < columns.count ? columns[index].type : PQ.byteArray))
                    w.i32List(2, [PQ.plain, PQ.rle])
                    w.stringList(3, [index < columns.count ? columns[index].name : "?"])
                    w.i32(4, chunk.codec)
                    w.i64(5, Int64(chunk.valueCount))
                    w.i64(6, Int64(place.size))
                    w.i64(7, chunk.totalCompressedSize ?? Int64(place.size))
                    w.i64(9, chunk.dataPageOffset ?? Int64(place.dataOffset))
                    if chunk.hasDictionary { w.i64(11, Int64(place.offset)) }
                }
            }
            w.i64(2, 0)
            w.i64(3, Int64(group.rows))
        }
        extraFooter(&w)
    }
    return file + w.bytes + littleEndian(UInt32(w.bytes.count)) + Array("PAR1".utf8)
}

/// A file of one OPTIONAL string column `t` in one row group whose one chunk holds `pages`.
func oneColumnFile(pages: [[UInt8]], rows: Int, codec: Int32 = PQ.uncompressed, hasDictionary: Bool = false,
                   column: TestColumn = TestColumn(name: "t")) -> [UInt8] {
    parquetFile(columns: [column], rowGroups: [TestRowGroup(rows: rows, chunks: [
        TestChunk(pages: pages, valueCount: rows, codec: codec, hasDictionary: hasDictionary),
    ])])
}
