import TestSupport
import QwenKitIO
import Parquet

/// The sixteen files of one table written with every codec, data page version and dictionary setting, then the
/// table with a dictionary that fills up mid-chunk and with tiny pages, page indexes, CRCs and a bloom filter
/// (Fixtures/scripts/make_parquet_fixtures.py).
let tableFixtures: [String] = {
    var names: [String] = []
    for codec in ["none", "snappy", "gzip", "zstd"] {
        for version in ["v1", "v2"] {
            for dictionary in ["dict", "plain"] { names.append("table.\(codec).\(version).\(dictionary).parquet") }
        }
    }
    return names + ["fallback.parquet", "page-index.parquet"]
}()

/// The table's flat columns in schema order, as table.expected.jsonl lists them.
let tableColumns = ["text", "title", "blob", "i8", "i32", "i64", "u32", "u64", "f32", "f64", "flag", "label"]
/// The columns carried next to `text` (every flat one but the binary `blob`).
let tableCarried = ["title", "i8", "i32", "i64", "u32", "u64", "f32", "f64", "flag", "label"]

func parquetFixture(_ name: String) -> String { fixturePath("parquet/" + name) }

/// The lines of a golden JSONL file.
func goldenLines(_ name: String) throws -> [String] {
    String(decoding: try readFile(parquetFixture(name)), as: UTF8.self).split(separator: "\n").map(String.init)
}

/// FNV-1a 64 of `bytes` (the fixture script's digest of long strings).
func fnv1a64<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash
}

func hex<T: FixedWidthInteger>(_ value: T, digits: Int) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

/// A text value in the golden form: null, a JSON string, or for more than 1,000 bytes its length and FNV-1a 64.
func appendGoldenText(_ text: UnsafeBufferPointer<UInt8>?, to line: inout [UInt8]) {
    guard let text else { return line += Array("null".utf8) }
    if text.count > 1000 {
        line += Array("{\"bytes\":\(text.count),\"fnv1a64\":\"\(hex(fnv1a64(text), digits: 16))\"}".utf8)
    } else {
        JSONString.appendQuoted(text, to: &line)
    }
}

/// A carried value in the golden form: floats as their bits (`"f32:3dcccccd"`), the rest as the cursor writes it.
func appendGoldenValue(_ value: ParquetValue, to line: inout [UInt8]) {
    switch value {
    case .float(let x): line += Array("\"f32:\(hex(x.bitPattern, digits: 8))\"".utf8)
    case .double(let x): line += Array("\"f64:\(hex(x.bitPattern, digits: 16))\"".utf8)
    default: value.appendJSON(to: &line)
    }
}

/// Reads every row of the table fixture at `path` (a text cursor with every other flat column carried, and one
/// over `blob`) into the lines of table.expected.jsonl.
func readTable(_ path: String, rowGroups: [Int]? = nil) throws -> [String] {
    let file = try ParquetFile(path: path)
    let rows = try file.rows(text: "text", carrying: tableCarried, rowGroups: rowGroups)
    let blobs = try file.rows(text: "blob", rowGroups: rowGroups)
    var lines: [String] = []
    while let row = try rows.next() {
        let blob = try blobs.next()
        var line: [UInt8] = Array("{\"row\":\(row.index)".utf8)
        line += Array(",\"text\":".utf8)
        appendGoldenText(row.text, to: &line)
        for (i, name) in tableCarried.enumerated() {
            if name == "i8" {  // blob comes between title and i8
                line += Array(",\"blob\":".utf8)
                if let bytes = blob?.text {
                    line += Array("\"hex:\(bytes.map { hex($0, digits: 2) }.joined())\"".utf8)
                } else {
                    line += Array("null".utf8)
                }
            }
            line += Array(",\"\(name)\":".utf8)
            appendGoldenValue(rows.carriedValue(i), to: &line)
        }
        line.append(UInt8(ascii: "}"))
        lines.append(String(decoding: line, as: UTF8.self))
    }
    if try blobs.next() != nil { lines.append("blob cursor has rows left") }
    return lines
}
