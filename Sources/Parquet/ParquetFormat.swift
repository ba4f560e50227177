// The enums of parquet.thrift (apache/parquet-format) this reader meets, each raw value the id the file stores and
// each name the spec's spelling, so that an error message says what the file says. Written once, here.

/// `Type`: how a column's values are stored.
public enum ParquetPhysicalType: Int32, Sendable {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case int96 = 3
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLenByteArray = 7

    /// The spec's name (`BYTE_ARRAY`).
    public var name: String {
        switch self {
        case .boolean: "BOOLEAN"
        case .int32: "INT32"
        case .int64: "INT64"
        case .int96: "INT96"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .byteArray: "BYTE_ARRAY"
        case .fixedLenByteArray: "FIXED_LEN_BYTE_ARRAY"
        }
    }

    /// Bytes per PLAIN value for the fixed-width types; nil for BOOLEAN (bits), BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY.
    var plainWidth: Int? {
        switch self {
        case .int32, .float: 4
        case .int64, .double: 8
        case .int96: 12
        case .boolean, .byteArray, .fixedLenByteArray: nil
        }
    }
}

/// `CompressionCodec`: how a column chunk's pages are compressed.
public enum ParquetCodec: Int32, Sendable {
    case uncompressed = 0
    case snappy = 1
    case gzip = 2
    case lzo = 3
    case brotli = 4
    case lz4 = 5
    case zstd = 6
    case lz4Raw = 7

    public var name: String {
        switch self {
        case .uncompressed: "UNCOMPRESSED"
        case .snappy: "SNAPPY"
        case .gzip: "GZIP"
        case .lzo: "LZO"
        case .brotli: "BROTLI"
        case .lz4: "LZ4"
        case .zstd: "ZSTD"
        case .lz4Raw: "LZ4_RAW"
        }
    }

    /// The codecs this reader decompresses.
    public var isSupported: Bool {
        switch self {
        case .uncompressed, .snappy, .gzip, .zstd: true
        case .lzo, .brotli, .lz4, .lz4Raw: false
        }
    }

    static let supportedNames = "UNCOMPRESSED, SNAPPY, GZIP and ZSTD"
}

/// `Encoding`: how a page's values (or levels) are laid out.
enum ParquetEncoding: Int32 {
    case plain = 0
    case plainDictionary = 2
    case rle = 3
    case bitPacked = 4
    case deltaBinaryPacked = 5
    case deltaLengthByteArray = 6
    case deltaByteArray = 7
    case rleDictionary = 8
    case byteStreamSplit = 9

    var name: String {
        switch self {
        case .plain: "PLAIN"
        case .plainDictionary: "PLAIN_DICTIONARY"
        case .rle: "RLE"
        case .bitPacked: "BIT_PACKED"
        case .deltaBinaryPacked: "DELTA_BINARY_PACKED"
        case .deltaLengthByteArray: "DELTA_LENGTH_BYTE_ARRAY"
        case .deltaByteArray: "DELTA_BYTE_ARRAY"
        case .rleDictionary: "RLE_DICTIONARY"
        case .byteStreamSplit: "BYTE_STREAM_SPLIT"
        }
    }

    /// The spec's name of encoding id `id`, or `encoding <id>` for one the spec does not define.
    static func name(of id: Int32) -> String {
        ParquetEncoding(rawValue: id)?.name ?? "encoding \(id)"
    }
}

/// `PageType`.
enum ParquetPageType: Int32 {
    case dataPage = 0
    case indexPage = 1
    case dictionaryPage = 2
    case dataPageV2 = 3
}

/// `FieldRepetitionType`.
enum ParquetRepetition: Int32 {
    case required = 0
    case optional = 1
    case repeated = 2
}

/// `ConvertedType`, the annotations older writers use instead of (and newer ones beside) `LogicalType`; only those
/// that change how a value reads as JSON.
enum ParquetConvertedType: Int32 {
    case utf8 = 0
    case enumeration = 4
    case decimal = 5
    case uint8 = 11
    case uint16 = 12
    case uint32 = 13
    case uint64 = 14
    case json = 19
}

/// The caps a reader applies to sizes read from a file, before it allocates or loops on them.
public struct ParquetLimits: Sendable {
    /// The footer (FileMetaData) is decoded whole: files with thousands of row groups and columns have footers of a
    /// few MB. Decoded, a footer takes up to about 30 times its size (a column chunk of 3 bytes, the least a valid
    /// one can take, becomes about 100).
    public var maximumFooterBytes: Int
    /// A page is held whole (decompressed, or in place when uncompressed), one per column at a time plus the chunk's
    /// dictionary page, whose table of values takes up to twice its size: this caps the memory a cursor holds. A
    /// single value cannot be larger than its page.
    public var maximumPageBytes: Int

    public init(maximumFooterBytes: Int = 16 << 20, maximumPageBytes: Int = 256 << 20) {
        self.maximumFooterBytes = maximumFooterBytes
        self.maximumPageBytes = maximumPageBytes
    }
}
