import Testing
import TestSupport
import QwenKitIO
import Parquet

@Suite("parquet goldens written by pyarrow")
struct GoldenTests {
    @Test("every row of the table, with every codec, page version and dictionary setting", arguments: tableFixtures)
    func table(name: String) throws {
        let expected = try goldenLines("table.expected.jsonl")
        let lines = try readTable(parquetFixture(name))
        #expect(lines.count == 180)
        for (i, (line, want)) in zip(lines, expected).enumerated() where line != want {
            Issue.record("\(name): row \(i) differs:\n ours: \(line)\n want: \(want)")
            break
        }
        #expect(lines.count == expected.count)
    }

    @Test("the schema: flat columns readable, nested leaves listed but skipped")
    func schema() throws {
        let file = try ParquetFile(path: parquetFixture("table.snappy.v1.dict.parquet"))
        #expect(file.columns.map(\.name) == ["text", "title", "blob", "tags.list.element", "i8", "i32", "i64", "u32",
                                             "u64", "f32", "f64", "flag", "meta.a", "meta.b", "label"])
        #expect(file.columns.filter(\.isFlat).map(\.name) == tableColumns)
        #expect(file.topLevelNames == ["text", "title", "blob", "tags", "i8", "i32", "i64", "u32", "u64", "f32", "f64",
                                       "flag", "meta", "label"])
        #expect(file.columns.map(\.leafIndex) == Array(0..<15))
        #expect(try file.column(named: "title").isOptional == false)
        #expect(try file.column(named: "text").isOptional == true)
        #expect(try file.column(named: "text").isString)
        #expect(try !file.column(named: "blob").isString)
        #expect(try file.column(named: "u64").physicalType == .int64)
        #expect(file.rowCount == 180)
        #expect(file.createdBy == "parquet-cpp-arrow version 26.0.1")
    }

    @Test("row groups: counts, first rows, byte ranges from each group's first page")
    func rowGroups() throws {
        let file = try ParquetFile(path: parquetFixture("table.zstd.v2.dict.parquet"))
        #expect(file.rowGroups.map(\.rowCount) == [70, 70, 40])
        #expect(file.rowGroups.map(\.firstRow) == [0, 70, 140])
        #expect(file.rowGroups[0].byteRange.lowerBound == 4)
        for group in file.rowGroups {
            #expect(group.byteRange.lowerBound == group.chunks[0].byteRange.lowerBound)
            #expect(group.chunks.allSatisfy { group.byteRange.contains($0.byteRange.lowerBound) })
            #expect(group.chunks.allSatisfy { $0.codec == .zstd && $0.valueCount >= group.rowCount })
        }
        for (a, b) in zip(file.rowGroups, file.rowGroups.dropFirst()) {
            #expect(a.byteRange.upperBound <= b.byteRange.lowerBound)
        }
        // Byte-range shards at any cut points read every row group exactly once.
        for cuts in [[0, file.byteCount], [0, 5, 100, file.byteCount], [0, file.rowGroups[1].byteRange.lowerBound, file.byteCount],
                     [0, file.rowGroups[1].byteRange.lowerBound + 1, file.rowGroups[2].byteRange.lowerBound, file.byteCount]] {
            let shards = zip(cuts, cuts.dropFirst()).map { file.rowGroups(startingIn: $0..<$1) }
            #expect(shards.flatMap { $0 } == [0, 1, 2], "cuts \(cuts)")
        }
    }

    @Test("a cursor over some row groups, in the order given, yields their rows with file-global indices")
    func someRowGroups() throws {
        let expected = try goldenLines("table.expected.jsonl")
        let lines = try readTable(parquetFixture("table.gzip.v1.plain.parquet"), rowGroups: [2, 0])
        #expect(lines == Array(expected[140..<180] + expected[0..<70]))
        #expect(try readTable(parquetFixture("table.gzip.v1.plain.parquet"), rowGroups: []).isEmpty)
    }

    @Test("a REQUIRED string column as the text column gives the same strings as carried")
    func requiredText() throws {
        let file = try ParquetFile(path: parquetFixture("table.snappy.v2.dict.parquet"))
        let titles = try file.rows(text: "title")
        let carried = try file.rows(text: "text", carrying: ["title"])
        var count = 0
        while let row = try titles.next() {
            _ = try carried.next()
            var a: [UInt8] = []
            var b: [UInt8] = []
            JSONString.appendQuoted(try #require(row.text), to: &a)
            carried.appendCarriedJSON(0, to: &b)
            #expect(a == b)
            count += 1
        }
        #expect(count == 180)
    }

    @Test("strings of 150,000 and 120,000 bytes, a null and an empty string")
    func largeStrings() throws {
        let expected = try goldenLines("large-string.expected.jsonl")
        let file = try ParquetFile(path: parquetFixture("large-string.parquet"))
        let rows = try file.rows(text: "text")
        var lines: [String] = []
        var sizes: [Int?] = []
        while let row = try rows.next() {
            var line: [UInt8] = Array("{\"row\":\(row.index),\"text\":".utf8)
            appendGoldenText(row.text, to: &line)
            line.append(UInt8(ascii: "}"))
            lines.append(String(decoding: line, as: UTF8.self))
            sizes.append(row.text?.count)
        }
        #expect(lines == expected)
        #expect(sizes == [5, 150_000, nil, 0, 120_000])
    }

    @Test("a file with the schema and no rows")
    func empty() throws {
        let file = try ParquetFile(path: parquetFixture("empty.parquet"))
        #expect(file.rowCount == 0)
        #expect(file.columns.filter(\.isFlat).map(\.name) == tableColumns)
        let rows = try file.rows(text: "text", carrying: tableCarried)
        #expect(try rows.next() == nil)
        #expect(try rows.next() == nil)
    }
}
