// `qwenkit merge`: outputs of several encode runs (shards) joined in the order given, streaming, in memory that does
// not depend on their size.
//
// - Megatron datasets: the .bin files concatenated; the .idx rebuilt as megatron-core's IndexedDatasetBuilder.add_index
//   does (Megatron-LM's tools/merge_datasets.py): lengths concatenated, pointers recomputed from the lengths, each
//   input's document index after its leading 0 offset by the sequences before it. All inputs must share a dtype.
// - Any other file (text, JSONL, u32; .zst or .gz decompressed, and the output compressed when it ends in .zst): the
//   bytes concatenated. Every such format is a sequence of whole records, so concatenation is the merge.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QwenKitIO

public enum DatasetMerge {
    public struct Summary: Sendable {
        public var inputs = 0
        public var bytes: Int64 = 0
        /// For Megatron datasets.
        public var documents = 0
        public var sequences = 0
    }

    /// The dataset prefixes when every input names a Megatron dataset (PREFIX, PREFIX.bin or PREFIX.idx with both
    /// files present); nil when none does; an error naming the first odd one out when only some do.
    public static func megatronPrefixes(_ inputs: [String]) throws -> [String]? {
        func isDataset(_ input: String) -> Bool {
            let paths = MegatronLayout.paths(prefix: input)
            return isRegularFile(paths.bin) && isRegularFile(paths.idx) && !(isRegularFile(input) && !input.hasSuffix(".bin") && !input.hasSuffix(".idx"))
        }
        let flags = inputs.map(isDataset)
        if flags.allSatisfy({ $0 }) { return inputs.map(MegatronLayout.stripExtension) }
        if !flags.contains(true) { return nil }
        let odd = inputs[flags.firstIndex(of: false)!]
        let first = inputs[flags.firstIndex(of: true)!]
        throw MegatronDatasetError("\(odd): not a Megatron dataset (no \(MegatronLayout.paths(prefix: odd).idx)), but \(first) is; merge joins inputs of one kind")
    }

    /// Joins Megatron datasets into PREFIX `output` (.bin committed first, then .idx).
    public static func mergeMegatron(prefixes: [String], output: String, progress: ProgressReporter? = nil) throws -> Summary {
        let indexes = try prefixes.map { try MegatronIndex(path: MegatronLayout.paths(prefix: $0).idx) }
        guard let dtype = indexes.first?.dtype else { throw MegatronDatasetError("merge: no inputs") }
        for index in indexes where index.dtype != dtype {
            throw MegatronDatasetError("\(index.path): dtype \(index.dtype.name), but \(indexes[0].path) is \(dtype.name); datasets of one dtype only")
        }
        let paths = MegatronLayout.paths(prefix: output)
        let bin = try openOutput(path: paths.bin, compress: false)
        let idx = try openOutput(path: paths.idx, compress: false)
        var summary = Summary()
        summary.inputs = prefixes.count
        // The data: each .bin after checking its size against its index.
        for (k, index) in indexes.enumerated() {
            let binPath = MegatronLayout.paths(prefix: prefixes[k]).bin
            let source = try FileDescriptorSource(path: binPath)
            let expected = Int64(index.tokenCount) * Int64(dtype.size)
            if let size = source.inputSize, size != expected {
                throw MegatronDatasetError("\(binPath): \(size) bytes, but its index describes \(index.tokenCount) tokens of \(dtype.size) bytes (\(expected))")
            }
            summary.bytes += try copy(source, to: bin, progress: progress, before: summary.bytes)
            summary.sequences += index.sequenceCount
            summary.documents += index.documentCount
        }
        // The index.
        try idx.write(MegatronLayout.header(dtype: dtype, sequences: summary.sequences, documentEntries: summary.documents + 1))
        for index in indexes { try idx.write(index.lengthBytes) }
        var pointer: Int64 = 0
        for index in indexes {
            for k in 0..<index.sequenceCount {
                try idx.writeLittleEndian64(UInt64(pointer))
                pointer += Int64(index.length(k)) * Int64(dtype.size)
            }
        }
        try idx.writeLittleEndian64(0)
        var offset = 0
        for index in indexes {
            for k in 1..<index.documentEntries { try idx.writeLittleEndian64(UInt64(offset + index.documentStart(k))) }
            offset += index.sequenceCount
        }
        try bin.close()
        try idx.close()
        return summary
    }

    /// Concatenates files (decompressing .zst/.gz inputs, compressing a .zst output).
    public static func concatenate(inputs: [String], output: String, progress: ProgressReporter? = nil) throws -> Summary {
        let sink = try openOutput(path: output)
        var summary = Summary()
        for path in inputs {
            let source = try openInput(path: path)
            summary.bytes += try copy(source, to: sink, progress: progress, before: summary.bytes)
            summary.inputs += 1
        }
        try sink.close()
        return summary
    }

    private static func copy(_ source: any ByteSource, to sink: ByteSink, progress: ProgressReporter?, before: Int64) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            total += Int64(n)
            progress?.set(completed: before + total)
        }
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }
}
