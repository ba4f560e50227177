/// A leaf column of a parquet file's schema: a column chunk in every row group.
///
/// This reader reads flat columns (`isFlat`): top-level fields of a primitive type, REQUIRED or OPTIONAL. Leaves of
/// structs, lists and maps are listed too (their `name` is the dotted path, e.g. `meta.a`, `tags.list.element`), so
/// that a file holding them opens, but they cannot be read.
public struct ParquetColumn: Sendable, Equatable {
    /// The top-level field's name, or for a nested leaf the dotted path from the root.
    public let name: String
    /// The names from the root's child down to this leaf.
    public let path: [String]
    /// Its place among the file's leaf columns: the index of its column chunk in every row group.
    public let leafIndex: Int
    public let physicalType: ParquetPhysicalType
    /// OPTIONAL (values may be null) rather than REQUIRED.
    public let isOptional: Bool
    /// A top-level, non-repeated primitive column: one value (or null) per row.
    public let isFlat: Bool
    /// BYTE_ARRAY annotated as text (the STRING, ENUM or JSON logical type, or the UTF8 converted type).
    public var isString: Bool { kind == .string }
    /// Whether its values have a JSON form (`ParquetValue.appendJSON`): every readable type except binary.
    public var rendersAsJSON: Bool {
        switch kind {
        case .binary, .unsupported: false
        default: true
        }
    }

    /// How values read and render; `.unsupported` says why they cannot.
    let kind: ValueKind
}

/// What a column's values are, from its physical type and annotations: how the reader decodes them and how they
/// render as JSON.
enum ValueKind: Equatable {
    case boolean
    case int32(isSigned: Bool)
    case int64(isSigned: Bool)
    case float
    case double
    /// BYTE_ARRAY annotated as text.
    case string
    /// BYTE_ARRAY with no text annotation: raw bytes.
    case binary
    /// A type this reader does not decode (INT96, FIXED_LEN_BYTE_ARRAY, DECIMAL), and why.
    case unsupported(String)

    static let binaryReason = "is binary (BYTE_ARRAY without a string annotation), which has no JSON form"

    init(_ e: SchemaElement, physicalType: ParquetPhysicalType) {
        let converted = e.convertedType.flatMap(ParquetConvertedType.init(rawValue:))
        let decimal = e.logicalType == .decimal || converted == .decimal
        var unsigned = false
        if case .integer(_, let isSigned) = e.logicalType { unsigned = !isSigned }
        if let converted, [.uint8, .uint16, .uint32, .uint64].contains(converted) { unsigned = true }
        switch physicalType {
        case _ where decimal:
            self = .unsupported("DECIMAL values are not read (they would need the scale to render)")
        case .boolean: self = .boolean
        case .int32: self = .int32(isSigned: !unsigned)
        case .int64: self = .int64(isSigned: !unsigned)
        case .float: self = .float
        case .double: self = .double
        case .byteArray:
            let text = [.string, .enumeration, .json].contains(e.logicalType)
                || [.utf8, .enumeration, .json].contains(converted)
            self = text ? .string : .binary
        case .int96: self = .unsupported("INT96 values (legacy timestamps) are not read")
        case .fixedLenByteArray: self = .unsupported("FIXED_LEN_BYTE_ARRAY values are not read")
        }
    }
}

/// The schema tree, flattened to its leaves, and the root's children by name.
struct ParquetSchema {
    /// Every leaf, in column-chunk order.
    var columns: [ParquetColumn] = []
    /// The root's children in order: a name, and the leaf it is when it is a flat column (nil for a group or a
    /// repeated field).
    var topLevel: [(name: String, flatLeaf: Int?)] = []

    /// Deepest group nesting accepted.
    static let maximumDepth = 64

    /// Walks the depth-first list of elements: the root, then each child followed by its own children.
    init(_ elements: [SchemaElement], path: String) throws(ParquetError) {
        func invalid(_ reason: String) -> ParquetError { .invalidSchema(path: path, reason: reason) }
        guard let root = elements.first else { throw invalid("the schema has no elements (not even the root)") }
        let rootChildren = Int(root.childCount ?? 0)
        guard rootChildren >= 0 else { throw invalid("the root declares \(rootChildren) children") }

        struct Frame {
            var remaining: Int
            let path: [String]
            let isRepeated: Bool
            let isOptional: Bool
        }
        var stack = [Frame(remaining: rootChildren, path: [], isRepeated: false, isOptional: false)]
        var next = 1
        while let top = stack.last {
            if top.remaining == 0 {
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].remaining -= 1
            guard next < elements.count else {
                throw invalid("the groups declare more children than the \(elements.count) elements hold")
            }
            let e = elements[next]
            let index = next
            next += 1
            guard let repetition = ParquetRepetition(rawValue: e.repetition ?? ParquetRepetition.required.rawValue) else {
                throw invalid("element \(index) (\(quoted(e.name))) has repetition_type \(e.repetition ?? -1)")
            }
            let elementPath = top.path + [e.name]
            let isTopLevel = stack.count == 1
            let isRepeated = top.isRepeated || repetition == .repeated
            let isOptional = top.isOptional || repetition == .optional
            if let children = e.childCount, children > 0 {
                guard stack.count <= Self.maximumDepth else {
                    throw invalid("groups nest deeper than \(Self.maximumDepth) levels")
                }
                guard children <= elements.count - next else {
                    throw invalid("element \(index) (\(quoted(e.name))) declares \(children) children, "
                        + "more than the \(elements.count - next) elements after it")
                }
                if isTopLevel { topLevel.append((e.name, nil)) }
                stack.append(Frame(remaining: Int(children), path: elementPath, isRepeated: isRepeated, isOptional: isOptional))
            } else if let typeID = e.type {
                guard let physicalType = ParquetPhysicalType(rawValue: typeID) else {
                    throw invalid("element \(index) (\(quoted(e.name))) has physical type \(typeID), which the spec does not define")
                }
                let isFlat = isTopLevel && repetition != .repeated
                if isTopLevel { topLevel.append((e.name, isFlat ? columns.count : nil)) }
                columns.append(ParquetColumn(
                    name: elementPath.joined(separator: "."), path: elementPath, leafIndex: columns.count,
                    physicalType: physicalType, isOptional: isOptional, isFlat: isFlat,
                    kind: ValueKind(e, physicalType: physicalType)))
            } else if e.childCount == nil {
                throw invalid("element \(index) (\(quoted(e.name))) has neither a type nor children")
            } else if isTopLevel {
                topLevel.append((e.name, nil))  // an empty group: no leaves, nothing to read
            }
        }
        guard next == elements.count else {
            throw invalid("\(elements.count - next) elements follow the end of the schema tree")
        }
    }
}
