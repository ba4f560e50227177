import Foundation
import Testing
import TestSupport
import ModelFiles

/// Writes a two-shard checkpoint into `dir`: shard 1 holds "a" (F32 [2]) and "b" (I8 [3]); shard 2 holds "c" (F16 [1])
/// plus whatever `extraInShard2` adds. `weightMap` is the index's weight_map JSON object body.
private func writeSharded(_ dir: String, weightMap: String, extraInShard2: Bool = false) throws -> String {
    try writeFile(dir + "/model-00001-of-00002.safetensors", safetensorsBytes(
        header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I8","shape":[3],"data_offsets":[8,11]}}"#,
        data: floatBytes([1.5, -2]) + [1, 2, 3]))
    let extra = extraInShard2 ? #","a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}"# : ""
    try writeFile(dir + "/model-00002-of-00002.safetensors", safetensorsBytes(
        header: #"{"c":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}\#(extra)}"#, data: [0x00, 0x3C, 9]))
    let index = dir + "/model.safetensors.index.json"
    try writeFile(index, Array(#"{"metadata":{"total_size":13},"weight_map":{\#(weightMap)}}"#.utf8))
    return index
}

private let goodMap = #""a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors","b":"model-00001-of-00002.safetensors""#

@Test func shardedCheckpointIsOneModel() throws {
    try withTemporaryDirectory { dir in
        let model = try SafetensorsIndex(path: try writeSharded(dir, weightMap: goodMap))
        #expect(model.shards.map { URL(fileURLWithPath: $0.path).lastPathComponent }
            == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        #expect(model.tensors.map(\.name) == ["a", "b", "c"])
        #expect(model["c"]?.dtype == .f16 && model["c"]?.shape == [1])
        #expect(Array(try model.data(of: "a")) == floatBytes([1.5, -2]))
        #expect(Array(try model.data(of: "b")) == [1, 2, 3])
        #expect(Array(try model.data(of: "c")) == [0x00, 0x3C])
        #expect(model.shard(of: "c") === model.shards[1])
        #expect(model.indexMetadata["total_size"]?.number == 13)
        #expect(throws: ModelFileError.self) { try model.data(of: "zzz") }
    }
}

private struct BadIndex: CustomStringConvertible, Sendable {
    let label: String, weightMap: String, extraInShard2: Bool, tensor: String, says: String
    var description: String { label }
}

private let badIndexes: [BadIndex] = [
    BadIndex(label: "mapped tensor missing from its shard",
             weightMap: goodMap + #","d":"model-00002-of-00002.safetensors""#, extraInShard2: false,
             tensor: "d", says: "which does not hold it"),
    BadIndex(label: "tensor mapped to the wrong shard",
             weightMap: #""a":"model-00002-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors""#,
             extraInShard2: false, tensor: "a", says: "weight_map puts it in model-00002-of-00002.safetensors"),
    BadIndex(label: "shard tensor not in the index",
             weightMap: #""a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors""#,
             extraInShard2: false, tensor: "b", says: "not in weight_map"),
    BadIndex(label: "tensor in two shards", weightMap: goodMap, extraInShard2: true, tensor: "a", says: "is in two shards"),
    BadIndex(label: "duplicate weight_map key", weightMap: goodMap + #","a":"model-00001-of-00002.safetensors""#,
             extraInShard2: false, tensor: "a", says: "appears twice"),
    BadIndex(label: "shard path outside the directory", weightMap: #""a":"../x.safetensors""#,
             extraInShard2: false, tensor: "a", says: "not a plain file name"),
    // Found by FuzzTests: a control character in a shard name reached messages raw (and the file system).
    BadIndex(label: "control character in a shard name", weightMap: #""a":"model-00001-of-00002.safe\ntensors""#,
             extraInShard2: false, tensor: "a", says: #"shard "model-00001-of-00002.safe\ntensors" is not a plain file name"#),
]

@Test(arguments: badIndexes)
private func badIndexThrowsANamedError(_ bad: BadIndex) throws {
    try withTemporaryDirectory { dir in
        let index = try writeSharded(dir, weightMap: bad.weightMap, extraInShard2: bad.extraInShard2)
        do throws(ModelFileError) {
            _ = try SafetensorsIndex(path: index)
            Issue.record("\(bad.label): opened")
        } catch {
            #expect(error.description.hasPrefix(index + ": "), "\(error)")
            #expect(error.description.contains("tensor \"\(bad.tensor)\""), "\(error)")
            #expect(error.description.contains(bad.says), "\(error)")
        }
    }
}

@Test func badShardIsReportedWithTheShardName() throws {
    try withTemporaryDirectory { dir in
        let index = try writeSharded(dir, weightMap: goodMap)
        try writeFile(dir + "/model-00002-of-00002.safetensors", [1, 2, 3])
        #expect(throws: ModelFileError.truncated(path: dir + "/model-00002-of-00002.safetensors", fileSize: 3, needed: 8)) {
            try SafetensorsIndex(path: index)
        }
        try writeFile(index, Array(#"{"weight_map":[]}"#.utf8))
        #expect(throws: ModelFileError.malformedHeader(path: index, reason: "weight_map is an array, not an object")) {
            try SafetensorsIndex(path: index)
        }
        try writeFile(index, Array(#"{"weight_map":{"a":"#.utf8))
        #expect(throws: ModelFileError.self) { try SafetensorsIndex(path: index) }
    }
}
