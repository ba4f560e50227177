import Foundation
import Testing
import TestSupport
import ModelFiles
import QwenKitIO

// MARK: - Well-formed files

@Test func readsTensorsMetadataAndBytes() throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/model.safetensors"
        let a = floatBytes([1, 2, 3, 4, 5, 6])  // F32 [2, 3]: 24 bytes at 0
        let b = littleEndianBytes([Int16(-1), 7])  // I16 [2]: 4 bytes at 24
        let header = """
            {"b":{"dtype":"I16","shape":[2],"data_offsets":[24,28]},\
            "__metadata__":{"format":"pt","note":"x"},\
            "a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},\
            "s":{"dtype":"BOOL","shape":[],"data_offsets":[28,29]},\
            "e":{"dtype":"BF16","shape":[0,4],"data_offsets":[29,29]}}   
            """  // trailing spaces: writers pad the header to 8 bytes
        try writeFile(path, safetensorsBytes(header: header, data: a + b + [1]))
        let file = try SafetensorsFile(path: path)
        #expect(file.tensors.map(\.name) == ["b", "a", "s", "e"])
        #expect(file.metadata == ["format": "pt", "note": "x"])
        #expect(file.headerLength == header.utf8.count)
        #expect(file.dataStart == 8 + header.utf8.count)
        let infoA = try #require(file["a"])
        #expect(infoA == SafetensorsTensorInfo(name: "a", dtype: .f32, shape: [2, 3], dataOffsets: 0..<24, elementCount: 6))
        #expect(infoA.byteCount == 24)
        #expect(Array(try file.data(of: "a")) == a)
        #expect(Array(try file.data(of: "b")) == b)
        #expect(file["s"]?.shape == [] && file["s"]?.elementCount == 1 && file["s"]?.dtype == .bool)
        #expect(file["e"]?.elementCount == 0)
        #expect(try file.data(of: "e").isEmpty)
        #expect(file["nope"] == nil)
        #expect(throws: ModelFileError.noSuchTensor(path: path, tensor: "nope")) { try file.data(of: "nope") }
    }
}

@Test func emptyHeaderObjectIsAnEmptyModel() throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/empty.safetensors"
        try writeFile(path, safetensorsBytes(header: "{}", data: []))
        let file = try SafetensorsFile(path: path)
        #expect(file.tensors.isEmpty && file.metadata.isEmpty)
    }
}

@Test func dtypeSizes() {
    let sizes = Dictionary(uniqueKeysWithValues: SafetensorsDType.allCases.map { ($0.rawValue, $0.size) })
    #expect(sizes == ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                      "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1])
    #expect(SafetensorsDType.bf16.ggmlType == .bf16 && SafetensorsDType.u8.ggmlType == nil)
}

// MARK: - Golden file from Python's safetensors

@Test func goldenFileMatchesPythonSafetensors() throws {
    let file = try SafetensorsFile(path: fixturePath("safetensors/golden.safetensors"))
    let expectedText = try Data(contentsOf: URL(fileURLWithPath: fixturePath("safetensors/golden.expected.json")))
    let expected = try expectedText.withUnsafeBytes { raw in
        try JSONScanner.parse(raw.bindMemory(to: UInt8.self))
    }
    var metadata: [String: String] = [:]
    if case .object(let members) = try #require(expected["metadata"]) {
        for (k, v) in members { metadata[k] = v.string }
    }
    #expect(file.metadata == metadata)
    #expect(file.metadata["unicode"] == "é 中 🙂")

    let rows = try #require(expected["tensors"]?.array)
    #expect(rows.count == 12)
    #expect(file.tensors.count == rows.count)
    for (info, row) in zip(file.tensors, rows) {
        #expect(info.name == row["name"]?.string)
        #expect(info.dtype.rawValue == row["dtype"]?.string)
        #expect(info.shape == row["shape"]?.array?.map { Int($0.number ?? -1) })
        #expect([info.dataOffsets.lowerBound, info.dataOffsets.upperBound] == row["data_offsets"]?.array?.map { Int($0.number ?? -1) })
        #expect(Array(file.data(of: info)) == hexBytes(row["hex"]?.string ?? ""), "\(info.name)")
    }
    // Every dtype of the issue is in the golden file.
    #expect(Set(file.tensors.map(\.dtype.rawValue)) == ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"])
    // Spot values, decoded by hand.
    let embed = try file.data(of: "model.embed_tokens.weight")
    #expect((0..<12).map { embed.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } == (-6..<6).map { Float($0) / 2 })
    let bf16 = try file.data(of: "model.layers.0.mlp.bf16")
    #expect((0..<6).map { Float(bitPattern: UInt32(bf16.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) << 16) }
        == [1, -2, 0.5, 3, -0.0, 96])
}

// MARK: - Bad input: each case throws a ModelFileError naming the file (and the tensor), never crashes

private struct BadCase: CustomStringConvertible, Sendable {
    let label: String
    let bytes: [UInt8]
    let tensor: String?
    /// A fragment the message must contain.
    let says: String
    var description: String { label }
}

private let f32x2 = #"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

private let badCases: [BadCase] = [
    BadCase(label: "empty file", bytes: [], tensor: nil, says: "truncated"),
    BadCase(label: "truncated length", bytes: [5, 0, 0], tensor: nil, says: "truncated"),
    BadCase(label: "header length past the end",
            bytes: safetensorsBytes(header: "{}", data: [], declaredLength: 1000), tensor: nil, says: "past the end"),
    BadCase(label: "header length huge",
            bytes: safetensorsBytes(header: "{}", data: [], declaredLength: UInt64.max), tensor: nil, says: "above the limit"),
    BadCase(label: "header length just above the cap",
            bytes: safetensorsBytes(header: "{}", data: [], declaredLength: 100_000_001), tensor: nil, says: "above the limit"),
    BadCase(label: "invalid JSON", bytes: safetensorsBytes(header: #"{"a":{"dtype":"#, data: []), tensor: nil, says: "not valid JSON"),
    BadCase(label: "trailing garbage", bytes: safetensorsBytes(header: "{} x", data: []), tensor: nil, says: "not valid JSON"),
    BadCase(label: "header not an object", bytes: safetensorsBytes(header: "[1]", data: []), tensor: nil, says: "not an object"),
    BadCase(label: "metadata not strings",
            bytes: safetensorsBytes(header: #"{"__metadata__":{"a":1}}"#, data: []), tensor: nil, says: "not a string"),
    BadCase(label: "metadata twice",
            bytes: safetensorsBytes(header: #"{"__metadata__":{},"__metadata__":{}}"#, data: []), tensor: nil, says: "twice"),
    BadCase(label: "offsets past the end",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "data_offsets [4, 12] end past the data section (8 bytes)"),
    BadCase(label: "offsets reversed",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "reversed"),
    BadCase(label: "size mismatch",
            bytes: safetensorsBytes(header: #"{"lm_head.weight":{"dtype":"F32","shape":[10,20],"data_offsets":[0,100]}}"#,
                                    data: [UInt8](repeating: 0, count: 100)),
            tensor: "lm_head.weight", says: "data_offsets [0, 100] hold 100 bytes but F32 [10, 20] needs 800"),
    BadCase(label: "overlapping tensors",
            bytes: safetensorsBytes(header: #"{"a":\#(f32x2),"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                    data: floatBytes([1, 2, 3])),
            tensor: "b", says: "inside tensor \"a\""),
    BadCase(label: "identical ranges",
            bytes: safetensorsBytes(header: #"{"a":\#(f32x2),"b":\#(f32x2)}"#, data: floatBytes([1, 2])),
            tensor: "b", says: "inside tensor \"a\""),
    BadCase(label: "duplicate names",
            bytes: safetensorsBytes(header: #"{"a":\#(f32x2),"a":\#(f32x2)}"#, data: floatBytes([1, 2])),
            tensor: "a", says: "appears twice"),
    BadCase(label: "negative shape",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[-2,-1],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "shape [-2, -1] has a negative dimension -2"),
    BadCase(label: "fractional shape",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "not an integer"),
    BadCase(label: "shape entry too large for a double",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"U8","shape":[1e300],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "not an integer"),
    BadCase(label: "shape product overflow",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"U8","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}}"#, data: []),
            tensor: "w", says: "more elements than Int can count"),
    BadCase(label: "byte count overflow",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F64","shape":[4294967296,536870912],"data_offsets":[0,0]}}"#, data: []),
            tensor: "w", says: "needs more bytes than Int can count"),
    BadCase(label: "shape product wraps to the data size",
            // 2^32 × 2^32 wraps to 0 with wrapping arithmetic, which would match data_offsets [0, 0].
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, data: []),
            tensor: "w", says: "more elements than Int can count"),
    BadCase(label: "unknown dtype",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"Q7_X","shape":[2],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "unknown dtype \"Q7_X\""),
    BadCase(label: "lower-case dtype",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "unknown dtype \"f32\""),
    BadCase(label: "missing data_offsets",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "missing \"data_offsets\""),
    BadCase(label: "three offsets",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "not an array of two integers"),
    BadCase(label: "negative offset",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "not two non-negative integers"),
    BadCase(label: "duplicate key in an entry",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "\"dtype\" appears twice"),
    BadCase(label: "entry not an object",
            bytes: safetensorsBytes(header: #"{"w":[1,2]}"#, data: []), tensor: "w", says: "not an object"),
    // Found by FuzzTests: JSON text quoted in a message used to keep control characters raw, breaking the line.
    BadCase(label: "control characters in a metadata key",
            bytes: safetensorsBytes(header: #"{"__metadata__":{"a\nb":null}}"#, data: []), tensor: nil,
            says: #"__metadata__ value "a\nb" is null, not a string"#),
    BadCase(label: "control characters in data_offsets",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"U8","shape":[1],"data_offsets":{"\r":"\u0001"}}}"#, data: [1]),
            tensor: "w", says: #"data_offsets is {"\r":"\u0001"}, not an array of two integers"#),
    BadCase(label: "control characters in a shape entry",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"U8","shape":["1\n"],"data_offsets":[0,1]}}"#, data: [1]),
            tensor: "w", says: #"shape entry "1\n" is not an integer"#),
    BadCase(label: "shape not an array",
            bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])),
            tensor: "w", says: "not an array"),
]

@Test(arguments: badCases)
private func badInputThrowsANamedError(_ bad: BadCase) throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/bad.safetensors"
        try writeFile(path, bad.bytes)
        do throws(ModelFileError) {
            let file = try SafetensorsFile(path: path)
            Issue.record("\(bad.label): opened with \(file.tensors.count) tensors")
        } catch {
            let message = error.description
            #expect(error.path == path)
            #expect(message.hasPrefix(path + ": "), "\(message)")
            if let tensor = bad.tensor { #expect(message.contains("tensor \"\(tensor)\""), "\(message)") }
            #expect(message.contains(bad.says), "\(message)")
            #expect(!message.unicodeScalars.contains { $0.value < 0x20 }, "\(message)")
        }
    }
}

@Test func missingFileIsAnIOError() {
    #expect(throws: ModelFileError.io(.cannotOpen(path: "/nonexistent/x.safetensors", errno: ENOENT))) {
        try SafetensorsFile(path: "/nonexistent/x.safetensors")
    }
}

/// Every truncation of a valid file, and every single-byte corruption of its length and header, either opens
/// or throws a ModelFileError: nothing traps.
@Test func truncationsAndByteFlipsNeverCrash() throws {
    let valid = try Data(contentsOf: URL(fileURLWithPath: fixturePath("safetensors/golden.safetensors")))
    let bytes = [UInt8](valid)
    try withTemporaryDirectory { dir in
        let path = dir + "/mutant.safetensors"
        var failures = 0
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            try writeFile(path, Array(bytes[..<cut]))
            do throws(ModelFileError) { _ = try SafetensorsFile(path: path) } catch { failures += 1; #expect(error.path == path) }
        }
        #expect(failures == (bytes.count + 6) / 7)  // any cut loses data: every one fails
        var generator = SplitMix64(seed: 3)
        for _ in 0..<300 {
            var mutant = bytes
            let at = Int.random(in: 0..<min(mutant.count, 8 + 600), using: &generator)
            mutant[at] = UInt8.random(in: 0...255, using: &generator)
            try writeFile(path, mutant)
            do throws(ModelFileError) { _ = try SafetensorsFile(path: path) } catch { #expect(error.path == path) }
        }
    }
}
