import Testing
import QwenKitIO
import QwenTokenizer
import TestSupport
@testable import TrainingData

@Suite struct DatasetMergeTests {
    /// merge_datasets.py's result (megatron-core's add_index of qwen2-eod then qwen2), byte for byte.
    @Test func megatronMergeMatchesMegatronCore() throws {
        try withTemporaryDirectory { dir in
            let inputs = [fixturePath("megatron/qwen2-eod"), fixturePath("megatron/qwen2.idx")]
            let prefixes = try #require(try DatasetMerge.megatronPrefixes(inputs))
            #expect(prefixes == [fixturePath("megatron/qwen2-eod"), fixturePath("megatron/qwen2")])
            let summary = try DatasetMerge.mergeMegatron(prefixes: prefixes, output: "\(dir)/merged")
            #expect(summary.documents == 20)
            #expect(summary.sequences == 16)
            #expect(try readFile("\(dir)/merged.bin") == readFile(fixturePath("megatron/merged.bin")))
            #expect(try readFile("\(dir)/merged.idx") == readFile(fixturePath("megatron/merged.idx")))
        }
    }

    @Test func refusesMixedInputsAndDtypes() throws {
        try withTemporaryDirectory { dir in
            try writeFile("\(dir)/plain.u32", [1, 0, 0, 0])
            #expect(throws: MegatronDatasetError("\(dir)/plain.u32: not a Megatron dataset (no \(dir)/plain.u32.idx), but \(fixturePath("megatron/qwen2")) is; merge joins inputs of one kind")) {
                _ = try DatasetMerge.megatronPrefixes([fixturePath("megatron/qwen2"), "\(dir)/plain.u32"])
            }
            #expect(try DatasetMerge.megatronPrefixes(["\(dir)/plain.u32"]) == nil)
            #expect(throws: MegatronDatasetError("\(fixturePath("megatron/tiny-eod.idx")): dtype uint16, but \(fixturePath("megatron/qwen2.idx")) is int32; datasets of one dtype only")) {
                _ = try DatasetMerge.mergeMegatron(prefixes: [fixturePath("megatron/qwen2"), fixturePath("megatron/tiny-eod")], output: "\(dir)/m")
            }
            // A .bin that does not match its index.
            try writeFile("\(dir)/short.idx", readFile(fixturePath("megatron/qwen2.idx")))
            try writeFile("\(dir)/short.bin", Array(readFile(fixturePath("megatron/qwen2.bin")).dropLast(4)))
            #expect(throws: MegatronDatasetError("\(dir)/short.bin: 312 bytes, but its index describes 79 tokens of 4 bytes (316)")) {
                _ = try DatasetMerge.mergeMegatron(prefixes: [fixturePath("megatron/qwen2"), "\(dir)/short"], output: "\(dir)/m")
            }
            #expect(try directoryEntries(dir).sorted() == ["plain.u32", "short.bin", "short.idx"])  // nothing left behind
        }
    }

    /// Plain outputs are concatenated, decompressing inputs and compressing a .zst output.
    @Test func concatenatesPlainOutputs() throws {
        try withTemporaryDirectory { dir in
            try writeFile("\(dir)/a.jsonl", "{\"ids\":[1,2]}\n")
            let compressed = try openOutput(path: "\(dir)/b.jsonl.zst")
            try compressed.write("{\"ids\":[3]}\n")
            try compressed.close()
            _ = try DatasetMerge.concatenate(inputs: ["\(dir)/a.jsonl", "\(dir)/b.jsonl.zst"], output: "\(dir)/all.jsonl.zst")
            #expect(try openInput(path: "\(dir)/all.jsonl.zst").readToEnd() == Array("{\"ids\":[1,2]}\n{\"ids\":[3]}\n".utf8))
        }
    }

    /// .npy arrays are joined along rows under numpy's header for the sum; packed outputs' boundaries are joined too.
    @Test func npyArraysAndBoundaries() throws {
        try withTemporaryDirectory { dir in
            let packed = fixturePath("packing/concat16.npy"), other = fixturePath("packing/bfd16.npy")
            _ = try DatasetMerge.concatenate(inputs: [packed, other], output: "\(dir)/m.npy")
            let a = try readFile(packed), b = try readFile(other)
            #expect(try readFile("\(dir)/m.npy") == NpyFormat.header(shape: [(a.count - 128) / 64 + (b.count - 128) / 64, 16])
                + a.dropFirst(128) + b.dropFirst(128))
            #expect(try readFile("\(dir)/m.npy.cu_seqlens.jsonl") == readFile(packed + ".cu_seqlens.jsonl") + readFile(other + ".cu_seqlens.jsonl"))
            #expect(throws: MegatronDatasetError("\(fixturePath("packing/flat.npy")): no row boundaries (\(fixturePath("packing/flat.npy")).cu_seqlens.jsonl), but \(packed) has them; merge joins packed outputs with packed ones")) {
                _ = try DatasetMerge.concatenate(inputs: [packed, fixturePath("packing/flat.npy")], output: "\(dir)/x.npy")
            }
            try writeFile("\(dir)/f.npy", readFile(fixturePath("packing/flat.npy")))
            try writeFile("\(dir)/f.npy.cu_seqlens.jsonl", "[0,89]\n")  // as if packed, to reach the row length check
            #expect(throws: MegatronDatasetError("\(dir)/f.npy: rows of one id, but \(packed) has 16; arrays of one row length only")) {
                _ = try DatasetMerge.concatenate(inputs: [packed, "\(dir)/f.npy"].map { $0 }, output: "\(dir)/x.npy")
            }
            var short = try readFile(fixturePath("packing/flat.npy"))
            short.removeLast(4)
            try writeFile("\(dir)/short.npy", short)
            #expect(throws: MegatronDatasetError("\(dir)/short.npy: has 352 bytes of data; shape 89x1 needs 356")) {
                _ = try DatasetMerge.concatenate(inputs: [fixturePath("packing/flat.npy"), "\(dir)/short.npy"], output: "\(dir)/x.npy")
            }
            #expect(try directoryEntries(dir).sorted() == ["f.npy", "f.npy.cu_seqlens.jsonl", "m.npy", "m.npy.cu_seqlens.jsonl", "short.npy"])
        }
    }
}
