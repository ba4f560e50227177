// `--parquet COLUMN`: the rows of parquet files as records for the corpus encoder. The text is the string (or binary)
// column COLUMN; with JSONL output the file's other flat columns that have a JSON form are carried beside the ids, as
// a JSONL record's other fields are. Rows are numbered from 0 within their file, as pandas and pyarrow number them.

import Parquet
import QwenKitIO
import QwenTokenizer

public final class ParquetRecordSource: RecordSource {
    public let name: String
    public let fieldDescription: String
    public let inputSize: Int64?
    private let cursor: ParquetRowCursor
    private let carriedNames: [[UInt8]]
    private let rowsToRead: Int
    private var rowsRead = 0

    /// The rows of `path`, all of them or those of the row groups whose first byte lies in `byteRange` (a shard); with
    /// `carryOthers`, every other flat column that renders as JSON is carried.
    public init(path: String, column: String, carryOthers: Bool, byteRange: Range<Int>? = nil, label: String? = nil) throws {
        let file = try ParquetFile(path: path)
        let carried = carryOthers ? file.columns.filter { $0.isFlat && $0.name != column && $0.rendersAsJSON }.map(\.name) : []
        let groups = byteRange.map { file.rowGroups(startingIn: $0) }
        cursor = try file.rows(text: column, carrying: carried, rowGroups: groups)
        carriedNames = carried.map { name in
            var quoted: [UInt8] = []
            Array(name.utf8).withUnsafeBufferPointer { JSONString.appendQuoted($0, to: &quoted) }
            return quoted + [UInt8(ascii: ":")]
        }
        rowsToRead = (groups ?? Array(file.rowGroups.indices)).reduce(0) { $0 + file.rowGroups[$1].rowCount }
        inputSize = Int64(byteRange?.count ?? file.byteCount)
        fieldDescription = "column \"\(column)\""
        if let label, let first = groups?.first {
            name = "\(path) (\(label), row group \(first) on)"
        } else {
            name = path
        }
    }

    public func next(extra: inout [UInt8], withExtra: Bool) throws -> (index: Int, text: UnsafeBufferPointer<UInt8>?)? {
        guard let row = try cursor.next() else { return nil }
        rowsRead += 1
        if withExtra {
            for i in carriedNames.indices {
                if i > 0 { extra.append(UInt8(ascii: ",")) }
                extra.append(contentsOf: carriedNames[i])
                cursor.appendCarriedJSON(i, to: &extra)
            }
        }
        return (row.index, row.text)
    }

    /// Progress by rows: the share of the rows read, of the bytes to read.
    public var inputPosition: Int64 {
        guard rowsToRead > 0, let size = inputSize else { return 0 }
        return size * Int64(rowsRead) / Int64(rowsToRead)
    }
}
