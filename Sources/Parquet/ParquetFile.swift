import QwenKitIO

/// A parquet file, memory-mapped, with its footer decoded and checked: the schema's columns and the row groups
/// with the byte ranges of their column chunks.
///
/// Opening reads only the footer; values are read by cursors (`rows(text:carrying:rowGroups:)`), each of which
/// holds one decompressed page per column at a time, so files of any size stream at bounded memory. The file is
/// immutable once open, so several cursors, on several threads, may read it at once (e.g. one per row group).
///
/// `@unchecked Sendable`: `bytes` points into `mapping`, which is read-only, never changes and lives as long as the
/// file does.
///
/// Layout (apache/parquet-format): `PAR1`, the column chunks of each row group (pages: a header in the Thrift
/// compact protocol, then the page's bytes), the footer (`FileMetaData`), the footer's length (4 bytes, little
/// endian), `PAR1`.
public final class ParquetFile: @unchecked Sendable {
    public let path: String
    /// The file's size in bytes.
    public let byteCount: Int
    /// Every leaf column, in column-chunk order (nested leaves too; see `ParquetColumn.isFlat`).
    public let columns: [ParquetColumn]
    /// The row groups, in file order.
    public let rowGroups: [ParquetRowGroup]
    /// The total row count (the sum over the row groups).
    public let rowCount: Int
    /// The writer, as the footer's `created_by` names it (`parquet-cpp-arrow version 26.0.1`).
    public let createdBy: String?
    public let limits: ParquetLimits

    let mapping: MappedFile
    /// The whole file, valid while `mapping` lives.
    let bytes: UnsafeRawBufferPointer
    /// The root's children in order: a name, and the leaf it is when it is a flat column.
    let topLevel: [(name: String, flatLeaf: Int?)]

    static let magic: [UInt8] = Array("PAR1".utf8)
    /// The magic of a file whose footer is encrypted (Parquet modular encryption).
    static let encryptedMagic: [UInt8] = Array("PARE".utf8)

    /// Maps `path` and decodes its footer. Fails with `.io` (cannot open or map), `.notParquet`, `.invalidFooter`,
    /// `.invalidSchema`, `.invalidRowGroup` (a column chunk outside the file, counts that disagree) or
    /// `.unsupported` (an encrypted file, column chunks in other files).
    public convenience init(path: String, limits: ParquetLimits = ParquetLimits()) throws(ParquetError) {
        let mapping: MappedFile
        do { mapping = try MappedFile(path: path) } catch { throw .io(error) }
        try self.init(mapping: mapping, limits: limits)
    }

    /// Decodes the footer of a file already mapped (`mapping.path` names it in errors).
    public init(mapping: MappedFile, limits: ParquetLimits = ParquetLimits()) throws(ParquetError) {
        let path = mapping.path
        let size = mapping.count
        self.path = path
        self.byteCount = size
        self.mapping = mapping
        self.limits = limits
        let bytes = mapping.withUnsafeBytes { $0 }  // valid while `mapping` lives
        self.bytes = bytes
        let (metadata, footerStart) = try Self.decodeFooter(bytes, path: path, limits: limits)
        let schema = try ParquetSchema(metadata.schema, path: path)
        self.columns = schema.columns
        self.topLevel = schema.topLevel
        self.createdBy = metadata.createdBy
        var groups: [ParquetRowGroup] = []
        groups.reserveCapacity(metadata.rowGroups.count)
        var firstRow = 0
        for (index, group) in metadata.rowGroups.enumerated() {
            let rowGroup = try ParquetRowGroup(group, index: index, firstRow: firstRow, columns: schema.columns,
                                               dataEnd: footerStart, path: path)
            let (sum, overflow) = firstRow.addingReportingOverflow(rowGroup.rowCount)
            guard !overflow else {
                throw .invalidRowGroup(path: path, rowGroup: index, column: nil, reason: "the row counts overflow 64 bits")
            }
            firstRow = sum
            groups.append(rowGroup)
        }
        self.rowGroups = groups
        self.rowCount = firstRow
    }

    /// Checks both magics and the footer length, and decodes the footer. Returns it with its first byte's offset
    /// (where the column chunks must end).
    private static func decodeFooter(_ bytes: UnsafeRawBufferPointer, path: String,
                                     limits: ParquetLimits) throws(ParquetError) -> (FileMetaData, Int) {
        let size = bytes.count
        guard size >= 12 else {
            throw .notParquet(path: path, reason: "\(size) bytes is too small (a parquet file has at least 12: "
                + "PAR1, the footer length, PAR1)")
        }
        let tail = Array(bytes[(size - 4)...])
        if tail == encryptedMagic {
            throw .unsupported(path: path, rowGroup: nil, column: nil, feature: "encrypted footer (PARE magic)")
        }
        guard tail == magic else {
            throw .notParquet(path: path, reason: "the last 4 bytes are not PAR1")
        }
        guard Array(bytes[..<4]) == magic else {
            throw .notParquet(path: path, reason: "the first 4 bytes are not PAR1")
        }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: size - 8, as: UInt32.self)))
        guard length <= size - 12 else {
            throw .notParquet(path: path, reason: "the footer length \(length) does not fit in the file (\(size) bytes)")
        }
        guard length <= limits.maximumFooterBytes else {
            throw .invalidFooter(path: path, offset: size - 8,
                                 reason: "the footer length \(length) is above the limit of \(limits.maximumFooterBytes) bytes")
        }
        let footerStart = size - 8 - length
        var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: bytes[footerStart..<(size - 8)]))
        do {
            return (try FileMetaData.decode(&reader), footerStart)
        } catch {
            throw .invalidFooter(path: path, offset: footerStart + error.offset, reason: error.reason)
        }
    }

    // MARK: - Columns

    /// The names of the root's children (flat columns and nested fields), in schema order.
    public var topLevelNames: [String] { topLevel.map(\.name) }

    /// The flat column named `name` (a top-level field). Fails with `.noSuchColumn`, or with `.unreadableColumn`
    /// for a struct, list, map or repeated field.
    public func column(named name: String) throws(ParquetError) -> ParquetColumn {
        guard let entry = topLevel.first(where: { $0.name == name }) else {
            throw .noSuchColumn(path: path, column: name, available: topLevelNames)
        }
        guard let leaf = entry.flatLeaf else {
            throw .unreadableColumn(path: path, column: name,
                                    reason: "is nested (a struct, list, map or repeated field); only top-level primitive columns are read")
        }
        return columns[leaf]
    }

    // MARK: - Row groups

    /// The row groups whose first byte (`byteRange.lowerBound`) lies in `range`, in file order. Splitting a file
    /// into consecutive byte ranges and reading each range's row groups reads every row group exactly once.
    public func rowGroups(startingIn range: Range<Int>) -> [Int] {
        rowGroups.filter { range.contains($0.byteRange.lowerBound) }.map(\.index)
    }
}

/// A row group: its rows' place in the file and its column chunks.
public struct ParquetRowGroup: Sendable {
    public let index: Int
    public let rowCount: Int
    /// The file-global index (0-based) of its first row.
    public let firstRow: Int
    /// From the first page of its first column chunk to the end of the column chunk that ends last: where a
    /// byte-range shard of the file starts and ends this row group.
    public let byteRange: Range<Int>
    /// One per leaf column, in `ParquetFile.columns` order.
    public let chunks: [ParquetColumnChunk]

    init(_ g: RowGroupMetaData, index: Int, firstRow: Int, columns: [ParquetColumn], dataEnd: Int,
         path: String) throws(ParquetError) {
        func invalid(_ column: String?, _ reason: String) -> ParquetError {
            .invalidRowGroup(path: path, rowGroup: index, column: column, reason: reason)
        }
        guard g.rowCount >= 0 else { throw invalid(nil, "num_rows is \(g.rowCount)") }
        guard g.columns.count == columns.count else {
            throw invalid(nil, "\(g.columns.count) column chunks for the schema's \(columns.count) leaf columns")
        }
        var chunks: [ParquetColumnChunk] = []
        chunks.reserveCapacity(columns.count)
        for (c, column) in zip(g.columns, columns) {
            do {
                chunks.append(try ParquetColumnChunk(c, column: column, dataEnd: dataEnd))
            } catch {
                switch error {
                case .invalid(let reason): throw invalid(column.name, reason)
                case .unsupported(let feature):
                    throw .unsupported(path: path, rowGroup: index, column: column.name, feature: feature)
                }
            }
        }
        self.index = index
        self.rowCount = Int(g.rowCount)
        self.firstRow = firstRow
        self.chunks = chunks
        let start = chunks.first?.byteRange.lowerBound ?? 4
        self.byteRange = start..<max(start, chunks.map(\.byteRange.upperBound).max() ?? start)
    }
}

/// A column chunk: one column's values in one row group, as a run of pages.
public struct ParquetColumnChunk: Sendable {
    /// From its first page (the dictionary page if there is one) over `total_compressed_size` bytes.
    public let byteRange: Range<Int>
    /// Its codec; nil for an id the spec does not define (`codecID`).
    public let codec: ParquetCodec?
    public let codecID: Int32
    /// Values (and nulls) it holds: for a flat column, the row group's row count.
    public let valueCount: Int

    /// What is wrong with a column chunk's metadata; the row group names the file, row group and column.
    enum Problem: Error {
        case invalid(String)
        case unsupported(String)
    }

    init(_ c: ColumnChunkMetaData, column: ParquetColumn, dataEnd: Int) throws(Problem) {
        if let file = c.filePath { throw .unsupported("a column chunk in another file (file_path \(quoted(file)))") }
        if c.isEncrypted { throw .unsupported("an encrypted column chunk") }
        guard c.type == column.physicalType.rawValue else {
            let name = ParquetPhysicalType(rawValue: c.type)?.name ?? "type \(c.type)"
            throw .invalid("ColumnMetaData.type is \(name), the schema says \(column.physicalType.name)")
        }
        guard c.valueCount >= 0 else { throw .invalid("num_values is \(c.valueCount)") }
        // The chunk starts at its dictionary page when it has one, else at its first data page. Some writers store
        // dictionary_page_offset 0 for "none" (hence > 0), and Arrow stores data_page_offset 0 for a chunk of no
        // values that has only a (empty) dictionary page.
        var start = c.dataPageOffset
        if let dictionary = c.dictionaryPageOffset, dictionary > 0, dictionary < start || start == 0 { start = dictionary }
        let size = c.totalCompressedSize
        self.codecID = c.codec
        self.codec = ParquetCodec(rawValue: c.codec)
        self.valueCount = Int(c.valueCount)
        if size == 0 && c.valueCount == 0 {
            // No values and no pages (Arrow writes offset 0 for these): an empty range, inside the data.
            let at = Int(min(max(start, 4), Int64(dataEnd)))
            self.byteRange = at..<at
            return
        }
        guard start >= 4, start <= Int64(dataEnd) else {
            throw .invalid("its first page at byte \(start) is outside the data (bytes 4 to \(dataEnd))")
        }
        guard size > 0, size <= Int64(dataEnd) - start else {
            throw .invalid("total_compressed_size \(size) from byte \(start) runs past the data (which ends at byte \(dataEnd))")
        }
        self.byteRange = Int(start)..<Int(start + size)
    }
}
