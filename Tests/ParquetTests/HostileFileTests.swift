import Foundation
import Testing
import TestSupport
import QwenKitIO
import Parquet

/// What reading a file gave: its texts (nil for a null) and carried values as JSON, or the error, its description
/// with the temporary path shown as `h.parquet`.
private struct Outcome {
    var texts: [String?] = []
    var carried: [String] = []
    var error: String?
}

/// Writes `bytes` to a scratch file and reads every row of `text` (with `carrying`).
private func read(_ bytes: [UInt8], text: String = "t", carrying: [String] = [], rowGroups: [Int]? = nil,
                  limits: ParquetLimits = ParquetLimits()) throws -> Outcome {
    try withTemporaryDirectory { dir in
        let path = "\(dir)/h.parquet"
        try writeFile(path, bytes)
        var outcome = Outcome()
        do throws(ParquetError) {
            let file = try ParquetFile(path: path, limits: limits)
            let rows = try file.rows(text: text, carrying: carrying, rowGroups: rowGroups)
            while let row = try rows.next() {
                outcome.texts.append(row.text.map { String(decoding: $0, as: UTF8.self) })
                var line: [UInt8] = []
                for i in carrying.indices { rows.appendCarriedJSON(i, to: &line); line.append(UInt8(ascii: " ")) }
                if !carrying.isEmpty { outcome.carried.append(String(decoding: line.dropLast(), as: UTF8.self)) }
            }
        } catch {
            #expect(error.path == path)
            outcome.error = error.description.replacingOccurrences(of: path, with: "h.parquet")
        }
        return outcome
    }
}

/// The error reading `bytes` gave (nil if it read).
private func failure(_ bytes: [UInt8], text: String = "t", carrying: [String] = [], limits: ParquetLimits = ParquetLimits()) throws -> String? {
    try read(bytes, text: text, carrying: carrying, limits: limits).error
}

/// Checks an outcome against the expected error, showing both when they differ.
private func expect(_ got: @autoclosure () throws -> String?, _ expected: String?,
                    sourceLocation: SourceLocation = #_sourceLocation) throws {
    let got = try got()
    #expect(got == expected, sourceLocation: sourceLocation)
}

/// ["a", nil, "bc"] as an OPTIONAL column: levels 1 0 1 bit-packed (one group: 0b101), values "a", "bc".
private let threeRowsBody = v1Levels([0x03, 0b101]) + plainByteArrays(["a", "bc"])

@Suite("hand-built and hostile parquet files")
struct HostileFileTests {
    // MARK: Hand-built files that must read

    @Test("a hand-built file: v1 page with bit-packed levels, a null, PLAIN values")
    func handBuilt() throws {
        let outcome = try read(oneColumnFile(pages: [dataPageV1(values: 3, body: threeRowsBody)], rows: 3))
        #expect(outcome.error == nil)
        #expect(outcome.texts == ["a", nil, "bc"])
    }

    @Test("dictionary pages, index pages and pages of unknown types between data pages")
    func dictionaryAndSkippedPages() throws {
        let dictionary = dictionaryPage(values: 3, body: plainByteArrays(["x", "yy", "zzz"]))
        // Indices 2 0 1 1 at bit width 2: one bit-packed group, LSB first: 2 | 0<<2 | 1<<4 | 1<<6.
        let indices: [UInt8] = [2, 0x03, 0b0101_0010, 0]
        let data = dataPageV1(values: 4, encoding: PQ.rleDictionary, body: v1Levels(rleRun(count: 4, value: 1)) + indices)
        let index = page(type: PQ.indexPage, body: [1, 2, 3]) { _ in }
        let unknown = page(type: 9, body: [7, 7]) { _ in }
        let plain = dataPageV1(values: 1, body: v1Levels(rleRun(count: 1, value: 1)) + plainByteArrays(["after"]))
        let outcome = try read(oneColumnFile(pages: [dictionary, index, data, unknown, plain], rows: 5, hasDictionary: true))
        #expect(outcome.error == nil)
        #expect(outcome.texts == ["zzz", "x", "yy", "yy", "after"])
    }

    @Test("v2 pages: levels outside the compressed values; RLE levels of all-null and no-null runs")
    func dataPageV2Levels() throws {
        let nulls = dataPageV2(values: 2, nulls: 2, levels: rleRun(count: 2, value: 0), body: [])
        let values = dataPageV2(values: 2, levels: rleRun(count: 2, value: 1), body: plainByteArrays(["p", "q"]))
        let outcome = try read(oneColumnFile(pages: [nulls, values], rows: 4))
        #expect(outcome.error == nil)
        #expect(outcome.texts == [nil, nil, "p", "q"])
    }

    @Test("carried INT32 (a dictionary), INT64, BOOLEAN (PLAIN bits) and REQUIRED columns as JSON")
    func carriedKinds() throws {
        let columns = [TestColumn(name: "t", repetition: PQ.required), TestColumn(name: "n", type: PQ.int32),
                       TestColumn(name: "b", type: PQ.boolean, repetition: PQ.required), TestColumn(name: "w", type: PQ.int64)]
        let text = TestChunk(pages: [dataPageV1(values: 3, body: plainByteArrays(["a", "b", "c"]))], valueCount: 3)
        let ints = TestChunk(pages: [
            dictionaryPage(values: 2, body: littleEndian(Int32(-7)) + littleEndian(Int32.max)),
            dataPageV1(values: 3, encoding: PQ.plainDictionary, body: v1Levels([0x03, 0b011]) + [1, 0x03, 0b10]),
        ], valueCount: 3, hasDictionary: true)
        let bools = TestChunk(pages: [dataPageV1(values: 3, body: [0b101])], valueCount: 3)
        let longs = TestChunk(pages: [dataPageV1(values: 3, body: v1Levels(rleRun(count: 3, value: 1))
            + littleEndian(Int64.min) + littleEndian(Int64(0)) + littleEndian(Int64.max))], valueCount: 3)
        let file = parquetFile(columns: columns, rowGroups: [TestRowGroup(rows: 3, chunks: [text, ints, bools, longs])])
        let outcome = try read(file, carrying: ["n", "b", "w"])
        #expect(outcome.error == nil)
        #expect(outcome.texts == ["a", "b", "c"])
        #expect(outcome.carried == ["-7 true -9223372036854775808", "2147483647 false 0", "null true 9223372036854775807"])
    }

    // MARK: The file

    @Test("not parquet: too small, wrong magic, an encrypted footer, a footer length that does not fit")
    func notParquet() throws {
        let good = oneColumnFile(pages: [dataPageV1(values: 3, body: threeRowsBody)], rows: 3)
        try expect(failure(Array("PAR1PAR1".utf8)), "h.parquet: not a parquet file: 8 bytes is too small (a parquet file has at least 12: PAR1, the footer length, PAR1)")
        try expect(failure(good.dropLast() + [0x30]), "h.parquet: not a parquet file: the last 4 bytes are not PAR1")
        try expect(failure([0x30] + good.dropFirst()), "h.parquet: not a parquet file: the first 4 bytes are not PAR1")
        try expect(failure(good.dropLast() + Array("E".utf8)), "h.parquet: not supported: encrypted footer (PARE magic)")
        var long = good
        long.replaceSubrange((long.count - 8)..<(long.count - 4), with: littleEndian(UInt32(long.count - 11)))
        try expect(failure(long), "h.parquet: not a parquet file: the footer length \(long.count - 11) does not fit in the file (\(long.count) bytes)")
        try expect(failure(good, limits: ParquetLimits(maximumFooterBytes: 50)), "h.parquet: invalid footer: the footer length \(footerLength(good)) is above the limit of 50 bytes (at byte \(good.count - 8))")
    }

    @Test("malformed footers: unknown types, long varints, huge lists, deep nesting, missing fields")
    func malformedFooter() throws {
        func file(footer: [UInt8]) -> [UInt8] { Array("PAR1".utf8) + footer + littleEndian(UInt32(footer.count)) + Array("PAR1".utf8) }
        try expect(failure(file(footer: [0x1D])), "h.parquet: invalid footer: unknown Thrift field type 13 (at byte 4)")
        try expect(failure(file(footer: [0x16] + Array(repeating: 0xFF, count: 11))), "h.parquet: invalid footer: varint longer than 10 bytes (at byte 5)")
        try expect(failure(file(footer: [0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])), "h.parquet: invalid footer: varint does not fit in 32 bits (at byte 5)")
        try expect(failure(file(footer: [0x29, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0])), "h.parquet: invalid footer: list of 4294967295 elements in 1 bytes (at byte 5)")
        try expect(failure(file(footer: [0x18, 0x80, 0x01, 0])), "h.parquet: invalid footer: binary length 128 runs past the end (1 bytes left) (at byte 5)")
        // Field 9 (unknown to FileMetaData): 40 nested lists of lists.
        let nested: [UInt8] = [0x99] + Array(repeating: 0x19, count: 40) + [0]
        try expect(failure(file(footer: nested)), "h.parquet: invalid footer: nested deeper than 32 levels (at byte 36)")
        // Known fields of unexpected types are skipped, then the required ones are missed.
        try expect(failure(file(footer: [0x18, 0x00, 0x00])), "h.parquet: invalid footer: FileMetaData has no schema (field 2) (at byte 4)")
        var w = ThriftWriter()
        w.structBody { w in
            w.i32(1, 1)
            w.listHeader(2, elementType: 12, count: 1)
            w.structBody { $0.string(4, "schema") }
            w.i64(3, 0)
        }
        try expect(failure(file(footer: w.bytes)), "h.parquet: invalid footer: FileMetaData has no row_groups (field 4) (at byte 4)")
        // A list of a million empty column chunks fails at the first, before the rest could decode into a table.
        var empty = ThriftWriter()
        empty.structBody { w in
            w.listHeader(2, elementType: 12, count: 1)
            w.structBody { $0.string(4, "schema") }
            w.i64(3, 0)
            w.listHeader(4, elementType: 12, count: 1)
            w.structBody { w in
                w.listHeader(1, elementType: 12, count: 1_000_000)
                w.bytes += Array(repeating: 0, count: 1_000_000)
            }
        }
        try expect(failure(file(footer: empty.bytes)), "h.parquet: invalid footer: ColumnChunk has no meta_data (field 3) (at byte 24)")
        // A map, a set, a double and a bool of unknown fields are skipped.
        var skipped = ThriftWriter()
        skipped.structBody { w in
            w.field(20, type: 11); w.bytes += [2, 0x58, 1, 1, 7, 2, 1, 8]  // map<i32, binary> {-1: "\a", 1: "\b"}
            w.field(21, type: 10); w.bytes += [0x11, 1]  // set<bool> {true}
            w.field(22, type: 7); w.bytes += littleEndian(Double(1.5).bitPattern)
            w.bool(23, true)
            w.listHeader(2, elementType: 12, count: 1)
            w.structBody { $0.string(4, "schema") }
            w.i64(3, 0)
            w.listHeader(4, elementType: 12, count: 0)
        }
        try expect(failure(file(footer: skipped.bytes), text: "x"), "h.parquet: no column named \"x\" (top-level columns: none)")
    }

    @Test("malformed schemas")
    func malformedSchema() throws {
        func schema(_ elements: [(name: String, type: Int32?, children: Int32?, repetition: Int32?)]) -> [UInt8] {
            parquetFile(columns: [], rowGroups: [], schemaOverride: { w in
                w.structList(2, elements) { w, e in
                    if let type = e.type { w.i32(1, type) }
                    if let repetition = e.repetition { w.i32(3, repetition) }
                    w.string(4, e.name)
                    if let children = e.children { w.i32(5, children) }
                }
            })
        }
        try expect(failure(schema([("schema", nil, 2, nil), ("a", PQ.int32, nil, 0)])), "h.parquet: invalid schema: the groups declare more children than the 2 elements hold")
        try expect(failure(schema([("schema", nil, 1, nil), ("a", PQ.int32, nil, 0), ("b", PQ.int32, nil, 0)])), "h.parquet: invalid schema: 1 elements follow the end of the schema tree")
        try expect(failure(schema([("schema", nil, 1, nil), ("g", nil, 1_000_000, 0), ("a", PQ.int32, nil, 0)])), "h.parquet: invalid schema: element 1 (\"g\") declares 1000000 children, more than the 1 elements after it")
        try expect(failure(schema([("schema", nil, 1, nil), ("a", 42, nil, 0)])), "h.parquet: invalid schema: element 1 (\"a\") has physical type 42, which the spec does not define")
        try expect(failure(schema([("schema", nil, 1, nil), ("a", PQ.int32, nil, 7)])), "h.parquet: invalid schema: element 1 (\"a\") has repetition_type 7")
        try expect(failure(schema([("schema", nil, 1, nil), ("a\u{1B}[2J", nil, nil, 0)])), "h.parquet: invalid schema: element 1 (\"a\\u001b[2J\") has neither a type nor children")
        try expect(failure(schema([("schema", nil, -1, nil)])), "h.parquet: invalid schema: the root declares -1 children")
        let deep = [("schema", nil, 1, nil)] + (0..<70).map { ("g\($0)", nil as Int32?, 1 as Int32?, 0 as Int32?) } + [("leaf", PQ.int32, nil, 0)]
        try expect(failure(schema(deep.map { ($0.0, $0.1, $0.2, $0.3) })), "h.parquet: invalid schema: groups nest deeper than 64 levels")
    }

    @Test("row group metadata: chunk counts, types, byte ranges, value counts")
    func malformedRowGroups() throws {
        let column = TestColumn(name: "t")
        let page = dataPageV1(values: 3, body: threeRowsBody)
        func file(_ chunk: TestChunk, rows: Int = 3, chunks: Int = 1) -> [UInt8] {
            parquetFile(columns: [column], rowGroups: [TestRowGroup(rows: rows, chunks: Array(repeating: chunk, count: chunks))])
        }
        let good = TestChunk(pages: [page], valueCount: 3)
        try expect(failure(file(good, chunks: 2)), "h.parquet: row group 0: 2 column chunks for the schema's 1 leaf columns")
        var typed = good; typed.type = PQ.int64
        try expect(failure(file(typed)), "h.parquet: row group 0, column \"t\": ColumnMetaData.type is INT64, the schema says BYTE_ARRAY")
        var long = good; long.totalCompressedSize = 1 << 40
        let dataEnd = file(long).count - 8 - footerLength(file(long))
        try expect(failure(file(long)), "h.parquet: row group 0, column \"t\": total_compressed_size 1099511627776 from byte 4 runs past the data (which ends at byte \(dataEnd))")
        var early = good; early.dataPageOffset = 2
        #expect(try failure(file(early))?.hasPrefix("h.parquet: row group 0, column \"t\": its first page at byte 2 is outside the data (bytes 4 to ") == true)
        try expect(failure(file(good, rows: 4)), "h.parquet: row group 0, column \"t\": the column chunk holds 3 values for the row group's 4 rows")
        var lz4 = good; lz4.codec = PQ.lz4
        try expect(failure(file(lz4)), "h.parquet: row group 0, column \"t\": not supported: codec LZ4 (this reader has UNCOMPRESSED, SNAPPY, GZIP and ZSTD)")
        var unknown = good; unknown.codec = 99
        try expect(failure(file(unknown)), "h.parquet: row group 0, column \"t\": not supported: codec 99 (not a codec the spec defines) (this reader has UNCOMPRESSED, SNAPPY, GZIP and ZSTD)")
    }

    // MARK: Columns

    @Test("columns asked for by name: missing, nested, of the wrong type for their role")
    func columnRoles() throws {
        let path = parquetFixture("table.none.v1.plain.parquet")
        let file = try ParquetFile(path: path)
        func message(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch { return "\(error)" }
        }
        #expect(message { _ = try file.rows(text: "nope") } == "\(path): no column named \"nope\" (top-level columns: \"text\", \"title\", \"blob\", \"tags\", \"i8\", \"i32\", \"i64\", \"u32\", \"u64\", \"f32\", \"f64\", \"flag\", \"meta\", \"label\")")
        #expect(message { _ = try file.rows(text: "tags") } == "\(path): column \"tags\": is nested (a struct, list, map or repeated field); only top-level primitive columns are read")
        #expect(message { _ = try file.rows(text: "text", carrying: ["meta"]) } == "\(path): column \"meta\": is nested (a struct, list, map or repeated field); only top-level primitive columns are read")
        #expect(message { _ = try file.rows(text: "i32") } == "\(path): column \"i32\": is INT32; a text column must be a string or binary (BYTE_ARRAY) column")
        #expect(message { _ = try file.rows(text: "text", carrying: ["blob"]) } == "\(path): column \"blob\": is binary (BYTE_ARRAY without a string annotation), which has no JSON form")
        #expect(message { _ = try file.rows(text: "text", rowGroups: [0, 3]) } == "\(path): no row group 3 (the file has 3)")
    }

    @Test("INT96 and DECIMAL columns are refused by name with the reason")
    func unsupportedTypes() throws {
        let columns = [TestColumn(name: "t"), TestColumn(name: "ts", type: PQ.int96), TestColumn(name: "d", type: PQ.int32, convertedType: nil)]
        var file = parquetFile(columns: columns, rowGroups: [])
        try expect(failure(file, carrying: ["ts"]), "h.parquet: column \"ts\": INT96 values (legacy timestamps) are not read")
        file = parquetFile(columns: [], rowGroups: [], schemaOverride: { w in
            w.listHeader(2, elementType: 12, count: 3)
            w.structBody { $0.string(4, "schema"); $0.i32(5, 2) }
            w.structBody { $0.i32(1, PQ.byteArray); $0.i32(3, PQ.optional); $0.string(4, "t") }
            w.structBody { $0.i32(1, PQ.int32); $0.i32(3, PQ.optional); $0.string(4, "d"); $0.i32(6, 5) }  // DECIMAL
        })
        try expect(failure(file, carrying: ["d"]), "h.parquet: column \"d\": DECIMAL values are not read (they would need the scale to render)")
    }

    // MARK: Pages

    @Test("page sizes: past the chunk, more values than the chunk, a chunk that ends early, above the page limit")
    func pageSizes() throws {
        let past = dataPageV1(values: 3, body: threeRowsBody, compressedSize: 1000)
        try expect(failure(oneColumnFile(pages: [past], rows: 3)), "h.parquet: row group 0, column \"t\": page header claims 1000 bytes, past the end of the column chunk (\(threeRowsBody.count) bytes left) (at byte 4)")
        try expect(failure(oneColumnFile(pages: [dataPageV1(values: 4, body: threeRowsBody)], rows: 3)), "h.parquet: row group 0, column \"t\": page holds 4 values, but the column chunk has 3 left (at byte 4)")
        let two = dataPageV1(values: 2, body: v1Levels(rleRun(count: 2, value: 1)) + plainByteArrays(["a", "b"]))
        try expect(failure(oneColumnFile(pages: [two], rows: 3)), "h.parquet: row group 0, column \"t\": the column chunk ends after 2 of its 3 values (at byte \(4 + two.count))")
        let snappy = TestChunk(pages: [dataPageV1(values: 3, body: [0], uncompressedSize: 1 << 30)], valueCount: 3, codec: PQ.snappy)
        let big = parquetFile(columns: [TestColumn(name: "t")], rowGroups: [TestRowGroup(rows: 3, chunks: [snappy])])
        try expect(failure(big), "h.parquet: row group 0, column \"t\": page of 1073741824 bytes (uncompressed) is above the limit of 268435456 (at byte 4)")
        // An uncompressed page is read in place, but held to the same limit (a dictionary's table is built from it).
        let small = ParquetLimits(maximumPageBytes: 8)
        try expect(failure(oneColumnFile(pages: [dataPageV1(values: 3, body: threeRowsBody)], rows: 3), limits: small),
                   "h.parquet: row group 0, column \"t\": page of \(threeRowsBody.count) bytes (uncompressed) is above the limit of 8 (at byte 4)")
    }

    @Test("page headers: missing fields, the wrong header for the type")
    func pageHeaders() throws {
        var w = ThriftWriter()
        w.structBody { $0.i32(1, PQ.dataPage); $0.i32(2, 5) }
        try expect(failure(oneColumnFile(pages: [w.bytes], rows: 1)), "h.parquet: row group 0, column \"t\": page header: PageHeader has no compressed_page_size (field 3) or a negative one (at byte 4)")
        let wrong = page(type: PQ.dataPage, body: threeRowsBody) { w in
            w.structField(7) { $0.i32(1, 3); $0.i32(2, PQ.plain) }
        }
        try expect(failure(oneColumnFile(pages: [wrong], rows: 3)), "h.parquet: row group 0, column \"t\": DATA_PAGE without a data_page_header (at byte 4)")
        var cut = dataPageV1(values: 3, body: [])
        cut.removeLast(3)
        try expect(failure(oneColumnFile(pages: [cut], rows: 3)), "h.parquet: row group 0, column \"t\": page header: ends inside a value (at byte \(4 + cut.count))")
    }

    @Test("values and levels that run out or point outside")
    func valuesAndLevels() throws {
        func fails(_ body: [UInt8], values: Int = 3, encoding: Int32 = PQ.plain, dictionary: [[UInt8]] = []) throws -> String? {
            try failure(oneColumnFile(pages: dictionary + [dataPageV1(values: values, encoding: encoding, body: body)], rows: values,
                                      hasDictionary: !dictionary.isEmpty))
        }
        let at = "h.parquet: row group 0, column \"t\": "
        try expect(fails(v1Levels([0x03, 0b101]) + plainByteArrays(["a"]) + [9, 0, 0]), at + "the values end inside a BYTE_ARRAY length (at byte 4)")
        try expect(fails(v1Levels([0x03, 0b101]) + plainByteArrays(["a"]) + littleEndian(UInt32(99)) + [1]), at + "a BYTE_ARRAY value of 99 bytes runs past the end of the page (1 bytes left) (at byte 4)")
        try expect(fails(littleEndian(UInt32(50)) + [0x03]), at + "definition levels of 50 bytes run past the end of the page (1 bytes left) (at byte 4)")
        try expect(fails([1, 0]), at + "the page ends inside the definition levels' length (at byte 4)")
        try expect(fails(v1Levels(rleRun(count: 2, value: 1)) + plainByteArrays(["a", "b", "c"])), at + "definition levels: the run-length data ends before its last value (at byte 4)")
        try expect(fails(v1Levels(rleRun(count: 3, value: 2)) + plainByteArrays(["a", "b", "c"])), at + "definition levels: an RLE run's value 2 does not fit in 1 bits (at byte 4)")
        try expect(fails(v1Levels([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])), at + "definition levels: a run header is longer than 5 bytes (at byte 4)")
        try expect(fails(v1Levels([0x80])), at + "definition levels: a run header runs past the end of the data (at byte 4)")
        let dictionary = [dictionaryPage(values: 2, body: plainByteArrays(["x", "y"]))]
        let dataAt = "(at byte \(4 + dictionary[0].count))"
        try expect(fails(v1Levels(rleRun(count: 3, value: 1)) + [2] + rleRun(count: 3, value: 2), encoding: PQ.rleDictionary, dictionary: dictionary), at + "dictionary index 2 is past the dictionary's 2 values " + dataAt)
        try expect(fails(v1Levels(rleRun(count: 3, value: 1)) + [33, 0], encoding: PQ.rleDictionary, dictionary: dictionary), at + "dictionary indices of bit width 33 (at most 32) " + dataAt)
        try expect(fails(v1Levels(rleRun(count: 3, value: 1)) + [1] + rleRun(count: 2, value: 1), encoding: PQ.rleDictionary, dictionary: dictionary), at + "dictionary indices: the run-length data ends before its last value " + dataAt)
        try expect(fails(v1Levels(rleRun(count: 3, value: 1)) + [1, 0x02], encoding: PQ.rleDictionary), at + "a dictionary-encoded data page, but the column chunk has no dictionary page (at byte 4)")
        try expect(fails(threeRowsBody, encoding: PQ.deltaBinaryPacked), at + "not supported: DELTA_BINARY_PACKED encoding of BYTE_ARRAY values (this reader has PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, and RLE for BOOLEAN)")
        try expect(fails(threeRowsBody, encoding: 77), at + "not supported: encoding 77 encoding of BYTE_ARRAY values (this reader has PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, and RLE for BOOLEAN)")
        try expect(failure(oneColumnFile(pages: [dataPageV1(values: 3, levelEncoding: PQ.bitPacked, body: threeRowsBody)], rows: 3)), at + "not supported: BIT_PACKED definition levels (this reader has RLE)")
        // A bit-packed run that claims more groups than its bytes hold yields only the values present.
        try expect(fails(v1Levels([0x07, 0b101])  + plainByteArrays(["a", "b"])), nil)
    }

    @Test("dictionary pages: too many values for their bytes, a second one, one after a data page")
    func dictionaries() throws {
        let at = "h.parquet: row group 0, column \"t\": "
        let data = dataPageV1(values: 3, encoding: PQ.rleDictionary, body: v1Levels(rleRun(count: 3, value: 1)) + [1] + rleRun(count: 3, value: 0))
        let huge = dictionaryPage(values: 1_000_000_000, body: plainByteArrays(["x"]))
        try expect(failure(oneColumnFile(pages: [huge, data], rows: 3, hasDictionary: true)), at + "dictionary page claims 1000000000 values in 5 bytes (at byte 4)")
        let cut = dictionaryPage(values: 1, body: littleEndian(UInt32(9)) + [1, 2, 3])
        try expect(failure(oneColumnFile(pages: [cut, data], rows: 3, hasDictionary: true)), at + "dictionary value 0 of 9 bytes runs past the end of the page (at byte 4)")
        let one = dictionaryPage(values: 1, body: plainByteArrays(["x"]))
        try expect(failure(oneColumnFile(pages: [one, one, data], rows: 3, hasDictionary: true)), at + "a second dictionary page (at byte \(4 + one.count))")
        let first = dataPageV1(values: 1, body: v1Levels(rleRun(count: 1, value: 0)))
        let rest = dataPageV1(values: 2, encoding: PQ.rleDictionary, body: v1Levels(rleRun(count: 2, value: 1)) + [1] + rleRun(count: 2, value: 0))
        try expect(failure(oneColumnFile(pages: [first, one, rest], rows: 3)), at + "a dictionary page after a data page (at byte \(4 + first.count))")
        let delta = dictionaryPage(values: 1, body: plainByteArrays(["x"]), encoding: PQ.deltaBinaryPacked)
        try expect(failure(oneColumnFile(pages: [delta, data], rows: 3, hasDictionary: true)), at + "not supported: DELTA_BINARY_PACKED encoding of a dictionary page (this reader has PLAIN)")
    }

    @Test("compressed pages: corrupt data and sizes that differ from the header, for each codec")
    func compressedPages() throws {
        let at = "h.parquet: row group 0, column \"t\": "
        func fails(_ codec: Int32, _ compressed: [UInt8], uncompressed: Int) throws -> String? {
            let page = dataPageV1(values: 3, body: compressed, uncompressedSize: uncompressed)
            return try failure(oneColumnFile(pages: [page], rows: 3, codec: codec))
        }
        // Snappy: a varint length, then literal elements (tag 4 * (n - 1) for n literal bytes).
        let body = threeRowsBody
        let snappy = ThriftWriter.varint(UInt64(body.count)) + [UInt8(4 * (body.count - 1))] + body
        try expect(fails(PQ.snappy, snappy, uncompressed: body.count), nil)
        try expect(fails(PQ.snappy, snappy, uncompressed: body.count + 1), at + "the snappy data decompresses to \(body.count) bytes, the page header says \(body.count + 1) (at byte 4)")
        try expect(fails(PQ.snappy, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], uncompressed: 3), at + "the snappy data is corrupt (no valid length prefix) (at byte 4)")
        try expect(fails(PQ.snappy, Array(snappy.dropLast()), uncompressed: body.count), at + "the snappy data is corrupt (at byte 4)")
        // gzip: a stored block made by zlib's format rules (header, BFINAL stored block, CRC-32, ISIZE).
        let gzip = gzipStored(body)
        try expect(fails(PQ.gzip, gzip, uncompressed: body.count), nil)
        try expect(fails(PQ.gzip, gzip, uncompressed: body.count - 1), at + "the gzip data decompresses to more than the page header's \(body.count - 1) bytes (at byte 4)")
        try expect(fails(PQ.gzip, Array(gzip.dropLast(9)), uncompressed: body.count), at + "the gzip data ends inside a member (at byte 4)")
        var badCRC = gzip
        badCRC[badCRC.count - 8] ^= 1
        try expect(fails(PQ.gzip, badCRC, uncompressed: body.count), at + "the gzip data is corrupt: incorrect data check (at byte 4)")
        // zstd: a raw block frame (magic, descriptor with single segment and 1-byte content size, block header).
        let zstd: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x20, UInt8(body.count)] + littleEndian(UInt32(body.count << 3 | 1)).prefix(3) + body
        try expect(fails(PQ.zstd, zstd, uncompressed: body.count), nil)
        #expect(try fails(PQ.zstd, zstd, uncompressed: body.count + 5)?.hasPrefix(at + "the zstd data ") == true)
        // libzstd's message ("Unknown frame descriptor", "Src size is incorrect") depends on its version.
        #expect(try fails(PQ.zstd, [1, 2, 3, 4, 5], uncompressed: 3)?.hasPrefix(at + "the zstd data is corrupt: ") == true)
    }

    @Test("data page v2: levels longer than the page")
    func dataPageV2Sizes() throws {
        let page = dataPageV2(values: 1, levels: rleRun(count: 1, value: 1), body: plainByteArrays(["a"]), levelsLength: 100)
        try expect(failure(oneColumnFile(pages: [page], rows: 1)), "h.parquet: row group 0, column \"t\": levels of 100 bytes in a page of 7 (7 uncompressed) (at byte 4)")
    }
}

/// The footer length stored in a file's last 8 bytes.
private func footerLength(_ file: [UInt8]) -> Int {
    Int(file[file.count - 8]) | Int(file[file.count - 7]) << 8 | Int(file[file.count - 6]) << 16 | Int(file[file.count - 5]) << 24
}

/// A gzip member holding `data` in one stored (uncompressed) deflate block.
private func gzipStored(_ data: [UInt8]) -> [UInt8] {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc ^= 0xFFFF_FFFF
    let n = UInt16(data.count)
    return [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 1] + littleEndian(n) + littleEndian(~n) + data + littleEndian(crc)
        + littleEndian(UInt32(data.count))
}
