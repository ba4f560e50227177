// A Megatron dataset read back: its index and its mapped .bin, document by document, for `decode`.

import QwenKitIO

public final class MegatronDataset {
    public let index: MegatronIndex
    public let binPath: String
    private let bin: MappedFile
    private let bytes: UnsafeRawBufferPointer

    /// Opens PREFIX (or PREFIX.bin / PREFIX.idx): the index checked completely, the .bin's size against it.
    public init(prefix: String) throws {
        let paths = MegatronLayout.paths(prefix: prefix)
        index = try MegatronIndex(path: paths.idx)
        guard index.dtype == .int32 || index.dtype == .uint16 else {
            throw MegatronDatasetError("\(paths.idx): dtype \(index.dtype.name); token datasets are int32 or uint16")
        }
        binPath = paths.bin
        bin = try MappedFile(path: paths.bin)
        bytes = bin.withUnsafeBytes { $0 }
        try index.checkData(path: paths.bin, size: Int64(bytes.count))
    }

    /// Calls `body` with each document's ids, in order (its sequences together; empty for an empty document), and the
    /// token offset of its first id in the dataset. The ids are valid during the call.
    public func forEachDocument(_ body: (_ ids: UnsafeBufferPointer<UInt32>, _ firstToken: Int) throws -> Void) throws {
        var token = 0
        var sequence = 0
        var widened: [UInt32] = []
        for d in 0..<index.documentCount {
            let end = index.documentStart(d + 1)
            var count = 0
            while sequence < end {
                count += index.length(sequence)
                sequence += 1
            }
            let first = token
            token += count
            switch index.dtype {
            case .int32:
                // int32 ids below 2^31 are the same bytes as uint32; the mapping is 4-aligned (a page), offsets too.
                let base = bytes.baseAddress.map { ($0 + 4 * first).assumingMemoryBound(to: UInt32.self) }
                try body(UnsafeBufferPointer(start: count == 0 ? nil : base, count: count), first)
            default:
                widened.removeAll(keepingCapacity: true)
                for k in 0..<count { widened.append(UInt32(bytes.loadUnaligned(fromByteOffset: 2 * (first + k), as: UInt16.self).littleEndian)) }
                try widened.withUnsafeBufferPointer { try body($0, first) }
            }
        }
    }
}
