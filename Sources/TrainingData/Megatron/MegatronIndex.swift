// megatron-core's indexed dataset (megatron/core/datasets/indexed_dataset.py), the layout its IndexedDataset reads and
// its IndexedDatasetBuilder writes. PREFIX.bin holds every sequence's tokens back to back in one dtype; PREFIX.idx
// describes them, little-endian:
//
//   offset  size      field
//   0       9         magic "MMIDIDX\0\0"
//   9       8         version, u64 = 1
//   17      1         dtype code, u8 (MegatronDType)
//   18      8         sequence count S, u64
//   26      8         document count D, u64: entries of the document index (documents + 1)
//   34      4 S       sequence lengths in tokens, int32
//           8 S       sequence pointers: byte offset of each sequence in .bin, int64 (running sum of lengths * size)
//           8 D       document index: the sequence where each document starts, int64; first 0, last S
//
// A multimodal dataset adds int8 modes per sequence at the end; that variant is text-free and not handled here.

import QwenKitIO

/// megatron-core's `DType` codes. Token datasets use uint16 (vocabularies under 65,500 ids) or int32.
public enum MegatronDType: UInt8, Sendable, CaseIterable {
    case uint8 = 1, int8 = 2, int16 = 3, int32 = 4, int64 = 5, float64 = 6, float32 = 7, uint16 = 8

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16, .uint16: 2
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    /// numpy's name, as megatron-core spells the enum case.
    public var name: String { "\(self)" }

    /// What `DType.optimal_dtype(vocab_size)` picks, as Megatron-LM's preprocess_data.py does: uint16 when every id
    /// is below 65,500, else int32.
    public static func optimal(vocabularySize: Int) -> MegatronDType {
        vocabularySize < 65_500 ? .uint16 : .int32
    }
}

public enum MegatronLayout {
    public static let magic: [UInt8] = Array("MMIDIDX".utf8) + [0, 0]
    public static let version: UInt64 = 1
    /// Bytes before the sequence lengths.
    public static let headerSize = 34

    /// The .idx file's size for S sequences and D document-index entries.
    public static func indexSize(sequences: Int, documentEntries: Int) -> Int { headerSize + 12 * sequences + 8 * documentEntries }

    /// The two files of a dataset prefix. A prefix given as `NAME.bin` or `NAME.idx` means NAME.
    public static func paths(prefix: String) -> (bin: String, idx: String) {
        let base = stripExtension(prefix)
        return (base + ".bin", base + ".idx")
    }

    public static func stripExtension(_ prefix: String) -> String {
        for suffix in [".bin", ".idx"] where prefix.hasSuffix(suffix) && prefix.count > suffix.count {
            return String(prefix.dropLast(suffix.count))
        }
        return prefix
    }

    /// The 34-byte header.
    static func header(dtype: MegatronDType, sequences: Int, documentEntries: Int) -> [UInt8] {
        var bytes = magic
        func append(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        append(version)
        bytes.append(dtype.rawValue)
        append(UInt64(sequences))
        append(UInt64(documentEntries))
        return bytes
    }
}

public struct MegatronDatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A dataset's index, memory-mapped and checked: the header, and the three arrays as views (no copy).
public final class MegatronIndex {
    public let path: String
    public let dtype: MegatronDType
    public let sequenceCount: Int
    /// Entries of the document index: documents + 1.
    public let documentEntries: Int
    public var documentCount: Int { documentEntries - 1 }
    /// Tokens in all sequences (the .bin holds this many elements).
    public let tokenCount: Int
    private let file: MappedFile
    /// The mapping (valid while `file` lives, which is as long as this index).
    private let bytes: UnsafeRawBufferPointer

    /// Opens PREFIX.idx and checks it completely: magic, version, dtype, the size against the counts, lengths not
    /// negative, pointers equal to the running sum of lengths, document index from 0 to S without going back.
    public init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        self.file = file
        let bytes = file.withUnsafeBytes { $0 }
        self.bytes = bytes
        func fail(_ what: String) -> MegatronDatasetError { MegatronDatasetError("\(path): \(what)") }
        guard bytes.count >= MegatronLayout.headerSize else {
            throw fail("not a Megatron index (\(bytes.count) bytes, shorter than the \(MegatronLayout.headerSize)-byte header)")
        }
        guard bytes.prefix(9).elementsEqual(MegatronLayout.magic) else { throw fail("not a Megatron index (no MMIDIDX header)") }
        let version = bytes.loadUnaligned(fromByteOffset: 9, as: UInt64.self).littleEndian
        guard version == MegatronLayout.version else { throw fail("index version \(version), expected 1") }
        guard let dtype = MegatronDType(rawValue: bytes[17]) else { throw fail("unknown dtype code \(bytes[17])") }
        let s = bytes.loadUnaligned(fromByteOffset: 18, as: UInt64.self).littleEndian
        let d = bytes.loadUnaligned(fromByteOffset: 26, as: UInt64.self).littleEndian
        // Bounded by the file size before any multiplication.
        let limit = UInt64(bytes.count)
        guard s <= limit / 12, d <= limit / 8, d >= 1 else {
            throw fail("claims \(s) sequences and \(d) document entries, more than its \(bytes.count) bytes can hold")
        }
        let expected = MegatronLayout.indexSize(sequences: Int(s), documentEntries: Int(d))
        if bytes.count == expected + Int(s) && s > 0 {
            throw fail("has a mode byte per sequence (a multimodal dataset); only token datasets are supported")
        }
        guard bytes.count == expected else {
            throw fail("is \(bytes.count) bytes; \(s) sequences and \(d) document entries need \(expected)")
        }
        self.dtype = dtype
        self.sequenceCount = Int(s)
        self.documentEntries = Int(d)
        var total: Int64 = 0
        let size = Int64(dtype.size)
        for k in 0..<Int(s) {
            let length = bytes.loadUnaligned(fromByteOffset: MegatronLayout.headerSize + 4 * k, as: Int32.self).littleEndian
            guard length >= 0 else { throw fail("sequence \(k) has length \(length)") }
            let pointer = bytes.loadUnaligned(fromByteOffset: MegatronLayout.headerSize + 4 * Int(s) + 8 * k, as: Int64.self).littleEndian
            guard pointer == total * size else {
                throw fail("sequence \(k) starts at byte \(pointer) of the .bin; its lengths put it at \(total * size)")
            }
            total += Int64(length)
        }
        self.tokenCount = Int(total)
        var previous: Int64 = -1
        for k in 0..<Int(d) {
            let entry = documentEntry(k, bytes: bytes)
            guard (k == 0 ? entry == 0 : entry >= previous), entry <= Int64(s) else {
                throw fail("document index entry \(k) is \(entry) (entries go from 0 up to the \(s) sequences)")
            }
            previous = entry
        }
        guard previous == Int64(s) else { throw fail("document index ends at \(previous), not at the \(s) sequences") }
    }

    private func documentEntry(_ k: Int, bytes: UnsafeRawBufferPointer) -> Int64 {
        bytes.loadUnaligned(fromByteOffset: MegatronLayout.headerSize + 12 * sequenceCount + 8 * k, as: Int64.self).littleEndian
    }

    /// Checks that the data file `path` of `size` bytes holds exactly the tokens this index describes.
    public func checkData(path: String, size: Int64) throws {
        let expected = Int64(tokenCount) * Int64(dtype.size)
        guard size == expected else {
            throw MegatronDatasetError("\(path): \(size) bytes, but its index describes \(tokenCount) tokens of \(dtype.size) bytes (\(expected))")
        }
    }

    /// The raw int32 lengths section.
    public var lengthBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[MegatronLayout.headerSize..<(MegatronLayout.headerSize + 4 * sequenceCount)])
    }

    public func length(_ k: Int) -> Int {
        Int(bytes.loadUnaligned(fromByteOffset: MegatronLayout.headerSize + 4 * k, as: Int32.self).littleEndian)
    }

    public func documentStart(_ k: Int) -> Int { Int(documentEntry(k, bytes: bytes)) }
}
