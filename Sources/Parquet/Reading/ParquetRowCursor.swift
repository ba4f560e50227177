/// One row as the cursor yields it: its file-global index and its text.
public struct ParquetTextRow {
    /// The row's index in the file (0-based, across row groups), for messages about it.
    public let index: Int
    /// The text column's bytes, or nil for a null. Points into the cursor's page buffer or the mapped file: valid
    /// until the cursor's next `next()`.
    public let text: UnsafeBufferPointer<UInt8>?
}

/// Streams the rows of a set of row groups: one text column (string or binary) and any number of carried columns,
/// whose values render as JSON.
///
///     let file = try ParquetFile(path: "train-00000-of-00042.parquet")
///     let shard = file.rowGroups(startingIn: 0..<file.byteCount / 2)    // this worker's half of the file
///     let rows = try file.rows(text: "text", carrying: ["id", "score"], rowGroups: shard)
///     var carried: [UInt8] = []
///     while let row = try rows.next() {
///         guard let text = row.text else { continue }                    // a null text
///         carried.removeAll(keepingCapacity: true)
///         rows.appendCarriedJSON(0, to: &carried)                        // the row's "id" as JSON: 17, "a1", null
///         try encode(text, carried, row: row.index)                      // `text` is valid until the next next()
///     }
///
/// Each column keeps one decompressed page (and its dictionary) at a time; no row allocates. Row groups are read in
/// the order given; give each thread its own cursor (e.g. over its share of `ParquetFile.rowGroups(startingIn:)`).
/// After an error the cursor is spent: `next()` throws the same error again.
public final class ParquetRowCursor {
    public let file: ParquetFile
    public let textColumn: ParquetColumn
    public let carriedColumns: [ParquetColumn]
    /// The row groups read, in order.
    public let rowGroupIndices: [Int]

    private let text: ColumnChunkReader
    private let carried: [ColumnChunkReader]
    /// The current row's carried values.
    private var values: [ParquetValue]
    private var nextGroup = 0
    private var rowsLeftInGroup = 0
    private var nextRow = 0
    private var failure: ParquetError?

    init(file: ParquetFile, text: ParquetColumn, carrying: [ParquetColumn], rowGroups: [Int]) throws(ParquetError) {
        for index in rowGroups {
            guard file.rowGroups.indices.contains(index) else {
                throw .noSuchRowGroup(path: file.path, index: index, count: file.rowGroups.count)
            }
            for column in [text] + carrying { try ColumnChunkReader.check(file, rowGroup: index, column: column) }
        }
        self.file = file
        self.textColumn = text
        self.carriedColumns = carrying
        self.rowGroupIndices = rowGroups
        self.text = ColumnChunkReader(file: file, column: text)
        self.carried = carrying.map { ColumnChunkReader(file: file, column: $0) }
        self.values = Array(repeating: .null, count: carrying.count)
    }

    /// Advances to the next row; nil after the last row of the last row group.
    public func next() throws(ParquetError) -> ParquetTextRow? {
        if let failure { throw failure }
        do {
            while rowsLeftInGroup == 0 {
                guard nextGroup < rowGroupIndices.count else { return nil }
                let group = file.rowGroups[rowGroupIndices[nextGroup]]
                nextGroup += 1
                guard group.rowCount > 0 else { continue }
                try text.start(rowGroup: group.index)
                for reader in carried { try reader.start(rowGroup: group.index) }
                rowsLeftInGroup = group.rowCount
                nextRow = group.firstRow
            }
            rowsLeftInGroup -= 1
            let index = nextRow
            nextRow += 1
            let bytes = try text.nextByteArray()
            for i in carried.indices { values[i] = try carried[i].nextValue() }
            return ParquetTextRow(index: index, text: bytes)
        } catch {
            failure = error
            throw error
        }
    }

    /// The current row's value of carried column `i` (`carriedColumns[i]`).
    public func carriedValue(_ i: Int) -> ParquetValue { values[i] }

    /// Appends the current row's value of carried column `i` as JSON (see `ParquetValue.appendJSON`).
    public func appendCarriedJSON(_ i: Int, to output: inout [UInt8]) { values[i].appendJSON(to: &output) }
}

extension ParquetFile {
    /// A cursor over the rows of `rowGroups` (every row group, in file order, when nil): the text column `text` and
    /// the carried columns `carrying`, all flat columns looked up by name.
    ///
    /// Fails before reading anything when a column is missing, nested or of the wrong type (`text` must be
    /// BYTE_ARRAY, string or binary; carried columns must be BOOLEAN, INT32, INT64, FLOAT, DOUBLE or a string), a
    /// row group index is out of range, a chunk to read uses a codec this reader lacks, or holds a value count that
    /// is not its row group's row count.
    public func rows(text: String, carrying: [String] = [], rowGroups: [Int]? = nil) throws(ParquetError) -> ParquetRowCursor {
        let textColumn = try column(named: text)
        switch textColumn.kind {
        case .string, .binary: break
        case .unsupported(let reason): throw .unreadableColumn(path: path, column: text, reason: reason)
        default:
            throw .unreadableColumn(path: path, column: text, reason: "is \(textColumn.physicalType.name); a text column "
                + "must be a string or binary (BYTE_ARRAY) column")
        }
        var carried: [ParquetColumn] = []
        for name in carrying {
            let column = try column(named: name)
            switch column.kind {
            case .binary: throw .unreadableColumn(path: path, column: name, reason: ValueKind.binaryReason)
            case .unsupported(let reason): throw .unreadableColumn(path: path, column: name, reason: reason)
            default: carried.append(column)
            }
        }
        return try ParquetRowCursor(file: self, text: textColumn, carrying: carried,
                                    rowGroups: rowGroups ?? Array(self.rowGroups.indices))
    }
}
