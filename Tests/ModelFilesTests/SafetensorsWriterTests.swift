import Foundation
import Testing
import TestSupport
import ModelFiles
import QwenKitIO

// MARK: - Helpers

private func fileBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

/// Declares `tensors` (name, dtype, shape) and writes each one's bytes from `data`.
private func writeSafetensors(_ path: String, metadata: [String: String]?,
                              tensors: [(String, SafetensorsDType, [Int])], data: [String: [UInt8]]) throws {
    let writer = SafetensorsWriter(path: path, metadata: metadata)
    for (name, dtype, shape) in tensors { try writer.addTensor(name: name, dtype: dtype, shape: shape) }
    try writer.write { sink in try sink.write(data[sink.info.name] ?? []) }
}

// MARK: - Golden file from Python's safetensors

/// What Fixtures/scripts/make_safetensors_writer_golden.py declares, in its (unsorted) order.
private let goldenDeclarations: [(String, SafetensorsDType, [Int])] = [
    ("scalar.f32", .f32, []),
    ("bytes.u8", .u8, [4]),
    ("model.embed_tokens.weight", .f32, [3, 4]),
    ("Model.Upper", .f32, [2]),
    ("_underscore", .f32, [1]),
    ("caf\u{E9}.\u{4E2D}", .f32, [1]),
    ("quote\"back\\slash\nctl\u{01}", .f32, [1]),
    ("empty.f32", .f32, [0, 3]),
    ("empty.u8", .u8, [4, 0]),
    ("model.norm.weight", .f16, [5]),
    ("mlp.bf16", .bf16, [2, 3]),
    ("ids.i32", .i32, [2, 2]),
    ("ids.i64", .i64, [4]),
    ("mask.bool", .bool, [2, 3]),
    ("lm_head.f64", .f64, [2, 3, 2]),
    ("ids.i16", .i16, [3]),
    ("ids.i8", .i8, [3]),
    ("ids.u16", .u16, [2]),
    ("ids.u32", .u32, [1]),
    ("ids.u64", .u64, [2]),
    ("fp8.e4m3", .f8_e4m3, [3]),
    ("fp8.e5m2", .f8_e5m2, [2]),
]

private let goldenMetadata: [String: String] = [
    "format": "pt",
    "cl\u{E9}": "\u{E9} \u{4E2D} \u{1F642}",
    "note": "says \"hi\" \\ back\tslash\nnew line \u{08}\u{0C}\u{01}\u{1F}\u{7F}\u{2028} end",
    "empty": "",
]

/// The order Python's serializer chose: dtype rank descending, then name by code point.
private let goldenFileOrder = [
    "ids.u64", "ids.i64", "lm_head.f64",
    "Model.Upper", "_underscore", "caf\u{E9}.\u{4E2D}", "empty.f32", "model.embed_tokens.weight",
    "quote\"back\\slash\nctl\u{01}", "scalar.f32",
    "ids.u32", "ids.i32", "mlp.bf16", "model.norm.weight", "ids.u16", "ids.i16",
    "fp8.e4m3", "fp8.e5m2", "ids.i8", "bytes.u8", "empty.u8", "mask.bool",
]

@Test func writerReproducesPythonGoldenByteForByte() throws {
    let goldenPath = fixturePath("safetensors/writer-golden.safetensors")
    let golden = try fileBytes(goldenPath)
    let reference = try SafetensorsFile(path: goldenPath)
    // The data comes from the golden file; names, dtypes, shapes and metadata are declared here, independently.
    var data: [String: [UInt8]] = [:]
    for info in reference.tensors { data[info.name] = Array(reference.data(of: info)) }
    withExtendedLifetime(reference) {}

    // Spot values, decoded by hand, so that the data itself is pinned too.
    #expect(data["ids.u64"] == littleEndianBytes([UInt64.max, 3]))
    #expect(data["ids.u32"] == littleEndianBytes([UInt32(4_000_000_000)]))
    #expect(data["mlp.bf16"] == littleEndianBytes([UInt16(0x3F80), 0xC000, 0x3F00, 0x4040, 0x8000, 0x42C0]))
    #expect(data["fp8.e4m3"] == [0x38, 0xC0, 0x7E])
    #expect(data["mask.bool"] == [1, 0, 1, 0, 0, 1])
    #expect(data["scalar.f32"] == floatBytes([7.25]))

    let writer = SafetensorsWriter(path: "/unused", metadata: goldenMetadata)
    for (name, dtype, shape) in goldenDeclarations { try writer.addTensor(name: name, dtype: dtype, shape: shape) }
    #expect(writer.tensors.map(\.name) == goldenFileOrder)
    #expect(writer.tensors.map(\.dataOffsets) == reference.tensors.map(\.dataOffsets))
    let header = try writer.headerBytes()
    #expect(header.count == reference.dataStart && header.count % 8 == 0)
    #expect(header == Array(golden.prefix(header.count)))

    try withTemporaryDirectory { dir in
        let path = dir + "/out.safetensors"
        try writeSafetensors(path, metadata: goldenMetadata, tensors: goldenDeclarations, data: data)
        #expect(try fileBytes(path) == golden)
    }
}

/// Small cases whose Python output was captured with safetensors 0.8.0 (`safetensors.numpy.save`).
@Test func writerMatchesPythonOnEdgeCases() throws {
    // save({}) and save({"a": zeros(1, float32)}, metadata={}).
    let empty = littleEndianBytes([UInt64(8)]) + Array("{}      ".utf8)
    let emptyMetadata = littleEndianBytes([UInt64(72)])
        + Array(#"{"__metadata__":{},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8) + [0, 0, 0, 0]
    // save({"a": zeros((0, 3)), "b": zeros((2, 0))}): empty tensors share offset 0; a 1-byte pad.
    let twoEmpty = littleEndianBytes([UInt64(112)]) + Array(
        #"{"a":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[2,0],"data_offsets":[0,0]}} "#.utf8)
    try withTemporaryDirectory { dir in
        let path = dir + "/e.safetensors"
        try writeSafetensors(path, metadata: nil, tensors: [], data: [:])
        #expect(try fileBytes(path) == empty)
        try writeSafetensors(path, metadata: [:], tensors: [("a", .f32, [1])], data: ["a": [0, 0, 0, 0]])
        #expect(try fileBytes(path) == emptyMetadata)
        try writeSafetensors(path, metadata: nil, tensors: [("b", .f32, [2, 0]), ("a", .f32, [0, 3])], data: [:])
        #expect(try fileBytes(path) == twoEmpty)
        // Where Python writes invalid JSON (no tensors, empty metadata), we write a valid header.
        try writeSafetensors(path, metadata: [:], tensors: [], data: [:])
        #expect(try fileBytes(path) == littleEndianBytes([UInt64(24)]) + Array(#"{"__metadata__":{}}     "#.utf8))
        #expect(try SafetensorsFile(path: path).tensors.isEmpty)
    }
}

// MARK: - Round trip

@Test func writerRoundTripsThroughTheReader() throws {
    let declarations: [(String, SafetensorsDType, [Int])] = SafetensorsDType.allCases.enumerated().map { i, dtype in
        ("t\(i).\(dtype.rawValue)", dtype, i % 3 == 0 ? [] : [i % 4 + 1, 3])
    } + [("z.empty", .f32, [7, 0, 2]), ("a.big", .u8, [1000])]
    var data: [String: [UInt8]] = [:]
    var rng = SplitMix64(seed: 0x5AFE)
    for (name, dtype, shape) in declarations {
        let count = shape.reduce(1, *) * dtype.size
        data[name] = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }
    let metadata = ["b": "2", "a": "1", "ünï": "çødé\n", "": "empty key"]
    try withTemporaryDirectory { dir in
        let path = dir + "/rt.safetensors"
        let writer = SafetensorsWriter(path: path, metadata: metadata)
        for (name, dtype, shape) in declarations { try writer.addTensor(name: name, dtype: dtype, shape: shape) }
        // Written in pieces of at most 5 bytes.
        try writer.write { sink in
            let bytes = data[sink.info.name] ?? []
            for start in stride(from: 0, to: bytes.count, by: 5) { try sink.write(Array(bytes[start..<min(start + 5, bytes.count)])) }
        }
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == metadata)
        #expect(file.tensors == writer.tensors)
        #expect(Set(file.tensors.map(\.name)) == Set(declarations.map(\.0)))
        for (name, dtype, shape) in declarations {
            let info = try #require(file[name])
            #expect(info.dtype == dtype && info.shape == shape)
            #expect(Array(try file.data(of: name)) == data[name])
        }
        // Every tensor starts at a multiple of its element size (the dtype order guarantees it).
        for info in file.tensors { #expect((file.dataStart + info.dataOffsets.lowerBound) % info.dtype.size == 0) }
        #expect(file.dataStart % 8 == 0)
        #expect(file.fileSize == file.dataStart + (file.tensors.last?.dataOffsets.upperBound ?? 0))
    }
}

// MARK: - Errors

@Test func wrongByteCountsLeaveNoFile() throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/w.safetensors"
        func attempt(_ produce: (SafetensorsTensorSink) throws -> Void) -> Error? {
            let writer = SafetensorsWriter(path: path)
            do {
                try writer.addTensor(name: "a", dtype: .f32, shape: [2])
                try writer.addTensor(name: "b", dtype: .u8, shape: [3])
                try writer.write(produce)
                return nil
            } catch {
                return error
            }
        }
        let short = attempt { sink in try sink.write([UInt8](repeating: 1, count: sink.info.byteCount - 1)) }
        #expect(short as? ModelFileError
            == .malformedTensor(path: path, tensor: "a", reason: "7 bytes were written but F32 [2] needs 8"))
        let long = attempt { sink in try sink.write([UInt8](repeating: 1, count: sink.info.byteCount + 1)) }
        #expect(long as? ModelFileError
            == .malformedTensor(path: path, tensor: "a", reason: "more than the 8 bytes of F32 [2] were written"))
        struct ProducerFailed: Error {}
        let failed = attempt { sink in
            if sink.info.name == "b" { throw ProducerFailed() }
            try sink.write([UInt8](repeating: 0, count: sink.info.byteCount))
        }
        #expect(failed is ProducerFailed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)

        // A failure does not touch a file already at the path.
        try writeFile(path, [1, 2, 3])
        #expect(attempt { _ in } != nil)
        #expect(try fileBytes(path) == [1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["w.safetensors"])

        // A sink kept past its turn refuses bytes.
        var kept: SafetensorsTensorSink?
        let late = attempt { sink in
            if kept == nil { kept = sink }
            try sink.write([UInt8](repeating: 0, count: sink.info.byteCount))
            if sink.info.name == "b" { try kept?.write([0]) }
        }
        #expect(late as? ModelFileError
            == .malformedTensor(path: path, tensor: "a", reason: "was written to after its turn had ended"))
        #expect(try fileBytes(path) == [1, 2, 3])
    }
}

@Test func rejectsBadDeclarations() throws {
    let path = "/nonexistent/never-written.safetensors"
    let writer = SafetensorsWriter(path: path)
    try writer.addTensor(name: "w", dtype: .f32, shape: [2])
    #expect(throws: ModelFileError.duplicateTensor(path: path, tensor: "w")) {
        try writer.addTensor(name: "w", dtype: .u8, shape: [1])
    }
    // Canonically equivalent names are one name to Swift's String, and so to the reader's lookup.
    try writer.addTensor(name: "caf\u{E9}", dtype: .f32, shape: [1])
    #expect(throws: ModelFileError.duplicateTensor(path: path, tensor: "cafe\u{301}")) {
        try writer.addTensor(name: "cafe\u{301}", dtype: .f32, shape: [1])
    }
    #expect(throws: ModelFileError.malformedTensor(path: path, tensor: "__metadata__",
                                                   reason: "the name is reserved for the header's metadata")) {
        try writer.addTensor(name: "__metadata__", dtype: .u8, shape: [1])
    }
    #expect(throws: ModelFileError.invalidShape(path: path, tensor: "n", shape: [2, -1], reason: "has a negative dimension -1")) {
        try writer.addTensor(name: "n", dtype: .f32, shape: [2, -1])
    }
    #expect(throws: ModelFileError.invalidShape(path: path, tensor: "o", shape: [1 << 32, 1 << 32],
                                                reason: "has more elements than Int can count")) {
        try writer.addTensor(name: "o", dtype: .u8, shape: [1 << 32, 1 << 32])
    }
    #expect(throws: ModelFileError.invalidShape(path: path, tensor: "b", shape: [1 << 61, 2],
                                                reason: "of F64 needs more bytes than Int can count")) {
        try writer.addTensor(name: "b", dtype: .f64, shape: [1 << 61, 2])
    }
    #expect(throws: ModelFileError.self) { try writer.addTensor(name: "d", dtype: .u8, shape: [1 << 53, 0]) }
    #expect(throws: ModelFileError.self) { try writer.addTensor(name: "s", dtype: .u8, shape: [1 << 30, 1 << 23]) }
    // Nothing rejected was declared.
    #expect(writer.tensors.map(\.name) == ["caf\u{E9}", "w"])
}
