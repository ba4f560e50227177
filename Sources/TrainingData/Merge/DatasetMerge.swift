// `qwenkit merge`: outputs of several encode runs (shards) joined in the order given, streaming, in memory that does
// not depend on their size.
//
// - Megatron datasets: the .bin files concatenated; the .idx rebuilt as megatron-core's IndexedDatasetBuilder.add_index
//   does (Megatron-LM's tools/merge_datasets.py): lengths concatenated, pointers recomputed from the lengths, each
//   input's document index after its leading 0 offset by the sequences before it. All inputs must share a dtype.
// - .npy arrays (uint32, C order, the same row length): one array of all the rows, with numpy's header for it.
// - Any other file (text, JSONL, u32; .zst or .gz decompressed, and the output compressed when it ends in .zst): the
//   bytes concatenated. Every such format is a sequence of whole records, so concatenation is the merge.
// - Packed outputs' row boundaries (PATH.cu_seqlens.jsonl) are joined beside the output when every input has them.

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
            if let size = source.inputSize { try index.checkData(path: binPath, size: size) }
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

    /// Concatenates files (decompressing .zst/.gz inputs, compressing a .zst output); .npy arrays are joined along
    /// their first axis.
    public static func concatenate(inputs: [String], output: String, progress: ProgressReporter? = nil) throws -> Summary {
        let sidecars = inputs.map { Packing.boundariesPath($0) }
        let withSidecar = sidecars.map(isRegularFile)
        if withSidecar.contains(true) && withSidecar.contains(false) {
            let k = withSidecar.firstIndex(of: false)!
            throw MegatronDatasetError("\(inputs[k]): no row boundaries (\(sidecars[k])), but \(inputs[withSidecar.firstIndex(of: true)!]) has them; merge joins packed outputs with packed ones")
        }
        let npy = inputs.allSatisfy { $0.hasSuffix(".npy") }
        var headers: [NpyHeader] = []
        if npy {
            headers = try inputs.map(NpyHeader.init(path:))
            for h in headers where h.columns != headers[0].columns {
                throw MegatronDatasetError("\(h.path): rows of \(h.columns.map(String.init) ?? "one id"), but \(headers[0].path) has \(headers[0].columns.map(String.init) ?? "one id"); arrays of one row length only")
            }
            guard output != "-" && !output.hasSuffix(".zst") else {
                throw MegatronDatasetError("\(output): .npy arrays merge into a regular, uncompressed file")
            }
        }
        let sink = try openOutput(path: output, compress: npy ? false : nil)
        var summary = Summary()
        if npy {
            let rows = headers.reduce(0) { $0 + $1.rows }
            try sink.write(NpyFormat.header(shape: [rows] + (headers[0].columns.map { [$0] } ?? [])))
        }
        for (k, path) in inputs.enumerated() {
            let source = try openInput(path: path)
            if npy { try skip(headers[k].dataOffset, of: source) }
            summary.bytes += try copy(source, to: sink, progress: progress, before: summary.bytes)
            summary.inputs += 1
        }
        if withSidecar.first == true {
            let boundaries = try openOutput(path: Packing.boundariesPath(output), compress: false)
            for path in sidecars { _ = try copy(try openInput(path: path), to: boundaries, progress: nil, before: 0) }
            try sink.close()
            try boundaries.close()
        } else {
            try sink.close()
        }
        return summary
    }

    private static func skip(_ count: Int, of source: any ByteSource) throws {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
        defer { scratch.deallocate() }
        guard try source.readFull(into: scratch) == count else { throw MegatronDatasetError("\(source.name): shorter than its header") }
    }

    private static func copy(_ source: any ByteSource, to sink: ByteSink, progress: ProgressReporter?, before: Int64) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        // File to file: the kernel copies (copy_file_range), as cat does.
        if let file = source as? FileDescriptorSource, file.inputSize != nil, let output = sink.output as? AtomicOutputFile {
            try sink.flush()
            let total = try output.append(from: file.fileDescriptor, sourceName: file.name, buffer: buffer)
            progress?.set(completed: before + total)
            return total
        }
        var total: Int64 = 0
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            total += Int64(n)
            progress?.set(completed: before + total)
        }
    }
}
