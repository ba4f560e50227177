import QwenKitIO

/// Every failure of the parquet reader. Each case names the file (`path`, as the caller gave it) and, where there
/// is one, the row group and column; `description` is one line naming what is wrong and where, e.g.
/// `data.parquet: row group 3, column "text": page header claims 2147483648 bytes, past the end of the column chunk
/// (at byte 41235)`. Byte offsets are offsets in the file.
public enum ParquetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Opening or mapping the file failed.
    case io(IOError)
    /// Not a parquet file: too small, no `PAR1` at either end, or a footer length that does not fit in the file.
    case notParquet(path: String, reason: String)
    /// The footer (FileMetaData in the Thrift compact protocol) is malformed at byte `offset`.
    case invalidFooter(path: String, offset: Int, reason: String)
    /// The schema (the footer's flattened tree of SchemaElements) is malformed.
    case invalidSchema(path: String, reason: String)
    /// A row group's or column chunk's metadata is inconsistent (byte ranges outside the file, counts that
    /// disagree); `column` is nil for the row group itself.
    case invalidRowGroup(path: String, rowGroup: Int, column: String?, reason: String)
    /// A page is malformed: its header, sizes, compressed data, levels or values. `offset` is the page header's
    /// first byte.
    case invalidPage(path: String, rowGroup: Int, column: String, offset: Int, reason: String)
    /// The file uses something this reader does not implement (a codec, an encoding, encryption); `rowGroup` and
    /// `column` say where, when it is that local.
    case unsupported(path: String, rowGroup: Int?, column: String?, feature: String)
    /// No top-level column has this name; `available` lists the top-level names.
    case noSuchColumn(path: String, column: String, available: [String])
    /// The column exists but cannot be read as asked: nested, or of a type the role does not allow.
    case unreadableColumn(path: String, column: String, reason: String)
    /// A row group index outside `0..<count`.
    case noSuchRowGroup(path: String, index: Int, count: Int)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .io(let error): error.path
        case .notParquet(let path, _), .invalidFooter(let path, _, _), .invalidSchema(let path, _),
             .invalidRowGroup(let path, _, _, _), .invalidPage(let path, _, _, _, _), .unsupported(let path, _, _, _),
             .noSuchColumn(let path, _, _), .unreadableColumn(let path, _, _), .noSuchRowGroup(let path, _, _):
            path
        }
    }

    /// One line, safe for a terminal: names read from the file keep their control characters as escapes.
    public var description: String { terminalSafe(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .io(let error):
            return error.description
        case .notParquet(let path, let reason):
            return "\(path): not a parquet file: \(reason)"
        case .invalidFooter(let path, let offset, let reason):
            return "\(path): invalid footer: \(reason) (at byte \(offset))"
        case .invalidSchema(let path, let reason):
            return "\(path): invalid schema: \(reason)"
        case .invalidRowGroup(let path, let rowGroup, let column, let reason):
            return "\(path): \(Self.place(rowGroup, column)): \(reason)"
        case .invalidPage(let path, let rowGroup, let column, let offset, let reason):
            return "\(path): \(Self.place(rowGroup, column)): \(reason) (at byte \(offset))"
        case .unsupported(let path, let rowGroup, let column, let feature):
            let place = rowGroup.map { ": " + Self.place($0, column) } ?? column.map { ": column " + quoted($0) } ?? ""
            return "\(path)\(place): not supported: \(feature)"
        case .noSuchColumn(let path, let column, let available):
            let shown = available.prefix(20).map(quoted).joined(separator: ", ")
            let more = available.count > 20 ? ", ... (\(available.count) in all)" : ""
            return "\(path): no column named \(quoted(column)) (top-level columns: \(shown.isEmpty ? "none" : shown)\(more))"
        case .unreadableColumn(let path, let column, let reason):
            return "\(path): column \(quoted(column)): \(reason)"
        case .noSuchRowGroup(let path, let index, let count):
            return "\(path): no row group \(index) (the file has \(count))"
        }
    }

    private static func place(_ rowGroup: Int, _ column: String?) -> String {
        column.map { "row group \(rowGroup), column \(quoted($0))" } ?? "row group \(rowGroup)"
    }
}

/// A name from the file as a JSON string literal: quoted, control characters escaped.
func quoted(_ name: String) -> String { JSONString.quoted(name) }
