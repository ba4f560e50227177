import Foundation
import Testing
import TestSupport
import ModelFiles
import QwenKitIO

// MARK: - Helpers

/// The metadata Fixtures/scripts/make_gguf_fixtures.py writes, in its order (gguf-py adds general.architecture
/// first, then general.alignment when `add_custom_alignment` is called).
private func fixtureMetadata(alignment: UInt32?) -> [GGUFKeyValue] {
    var kv = [GGUFKeyValue("general.architecture", .string("qwen2"))]
    if let alignment { kv.append(GGUFKeyValue("general.alignment", .uint32(alignment))) }
    kv += [
        GGUFKeyValue("test.u8", .uint8(200)),
        GGUFKeyValue("test.i8", .int8(-100)),
        GGUFKeyValue("test.u16", .uint16(60000)),
        GGUFKeyValue("test.i16", .int16(-30000)),
        GGUFKeyValue("test.u32", .uint32(4_000_000_000)),
        GGUFKeyValue("test.i32", .int32(-2_000_000_000)),
        GGUFKeyValue("test.f32", .float32(1.5)),
        GGUFKeyValue("test.bool", .bool(true)),
        GGUFKeyValue("test.string", .string("héllo ✓")),
        GGUFKeyValue("test.u64", .uint64(18_000_000_000_000_000_000)),
        GGUFKeyValue("test.i64", .int64(-9_000_000_000_000_000_000)),
        GGUFKeyValue("test.f64", .float64(-0.125)),
        GGUFKeyValue("test.strings", .array(GGUFArray(strings: ["a", "", "ĠGGUF", "<|im_end|>"]))),
        GGUFKeyValue("test.u16s", .array(GGUFArray(uint16: [1, 2, 65535]))),
        GGUFKeyValue("test.i32s", .array(GGUFArray(int32: [-1, 0, 7]))),
        GGUFKeyValue("test.f32s", .array(GGUFArray(float32: [0.5, -2.0]))),
        GGUFKeyValue("test.bools", .array(GGUFArray(bool: [true, false, true]))),
    ]
    return kv
}

private let fixtureF32: [Float] = (0..<6).map { Float($0) * 1.5 - 2 }
private let fixtureF16: [Float] = (0..<8).map { Float($0) * 0.25 - 1 }

private func f16Bytes(_ values: [Float]) -> [UInt8] { littleEndianBytes(values.map { Float16($0).bitPattern }) }

/// The fixture's tensors: name, dims (innermost first), type, data.
private func fixtureTensors(q8: [UInt8]) -> [(String, [Int], GGMLType, [UInt8])] {
    [("t.f32", [3, 2], .f32, floatBytes(fixtureF32)),
     ("t.f16", [8], .f16, f16Bytes(fixtureF16)),
     ("blk.0.q8", [64, 2], .q8_0, q8)]
}

private func writeGGUF(_ path: String, metadata: [GGUFKeyValue], tensors: [(String, [Int], GGMLType, [UInt8])]) throws {
    let writer = GGUFWriter(path: path)
    for kv in metadata { try writer.add(kv.key, kv.value) }
    for t in tensors { try writer.addTensor(name: t.0, dims: t.1, type: t.2) }
    var index = 0
    try writer.write { sink in
        try sink.write(tensors[index].3)
        index += 1
    }
}

private func fileBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

/// Opens `path` expecting a ModelFileError that names it; returns the error (nil if the file was accepted, after
/// touching every value and tensor byte of it).
@discardableResult
private func openExpectingFailure(_ path: String) -> ModelFileError? {
    do {
        let file = try GGUFFile(path: path)
        var sum = 0
        for kv in file.metadata {
            if case .array(let a) = kv.value {
                for i in 0..<a.count { _ = a.value(at: i) }
                a.forEachString { _, b in sum &+= b.count }
            }
        }
        for t in file.tensors { sum &+= file.data(of: t).reduce(0) { $0 &+ Int($1) } }
        _ = sum
        return nil
    } catch {
        #expect(error.path == path, "\(error)")
        #expect(error.description.hasPrefix(path), "\(error)")
        #expect(!error.description.contains("\n"))
        return error
    }
}

/// A hand-built GGUF file for bad-input cases: raw kv entries (key, type id, value bytes) and raw tensor infos.
private struct RawGGUF {
    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var kv: [(String, UInt32, [UInt8])] = []
    var tensors: [(String, [UInt64], UInt32, UInt64)] = []
    var tensorCount: UInt64?
    var kvCount: UInt64?
    var data: [UInt8] = []
    var alignment = 32

    func bytes() -> [UInt8] {
        func str(_ s: String) -> [UInt8] { littleEndianBytes([UInt64(s.utf8.count)]) + Array(s.utf8) }
        var out = magic + littleEndianBytes([version])
        out += littleEndianBytes([tensorCount ?? UInt64(tensors.count), kvCount ?? UInt64(kv.count)])
        for (k, t, v) in kv { out += str(k) + littleEndianBytes([t]) + v }
        for (n, dims, type, offset) in tensors {
            out += str(n) + littleEndianBytes([UInt32(dims.count)]) + littleEndianBytes(dims)
            out += littleEndianBytes([type]) + littleEndianBytes([offset])
        }
        while out.count % alignment != 0 { out.append(0) }
        return out + data
    }
}

private func expectFailure(_ raw: RawGGUF, _ fragment: String) throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/bad.gguf"
        try writeFile(path, raw.bytes())
        let error = openExpectingFailure(path)
        #expect(error != nil, "accepted; expected: \(fragment)")
        if let error { #expect(error.description.contains(fragment), "\(error)") }
    }
}

private let oneF32Tensor = RawGGUF(tensors: [("w", [4], 0, 0)], data: floatBytes([1, 2, 3, 4]))

// MARK: - Golden files from gguf-py

@Test(arguments: [("small.gguf", nil, 768, [0, 32, 64]), ("small-align64.gguf", 64, 832, [0, 64, 128])] as [(String, UInt32?, Int, [Int])])
func readsGGUFPyFixture(name: String, alignment: UInt32?, dataStart: Int, offsets: [Int]) throws {
    let file = try GGUFFile(path: fixturePath("gguf/" + name))
    #expect(file.version == 3)
    #expect(file.metadata == fixtureMetadata(alignment: alignment))
    #expect(file.alignment == Int(alignment ?? 32))
    #expect(file.dataStart == dataStart)
    #expect(file["test.u32"] == .uint32(4_000_000_000))
    #expect(file["test.string"]?.stringValue == "héllo ✓")
    #expect(file["test.i64"]?.intValue == -9_000_000_000_000_000_000)
    #expect(file["missing"] == nil)
    let strings = try #require(file["test.strings"]?.arrayValue)
    #expect(strings.elementType == .string && strings.count == 4)
    #expect(strings.string(at: 2) == "ĠGGUF" && strings.string(at: 1) == "")
    var seen: [String] = []
    strings.forEachString { _, bytes in seen.append(String(decoding: bytes, as: UTF8.self)) }
    #expect(seen == ["a", "", "ĠGGUF", "<|im_end|>"])
    #expect(file["test.u16s"]?.arrayValue?.values == [.uint16(1), .uint16(2), .uint16(65535)])
    #expect(file["test.f32s"]?.arrayValue?.values == [.float32(0.5), .float32(-2)])
    #expect(file["test.bools"]?.arrayValue?.values == [.bool(true), .bool(false), .bool(true)])

    #expect(file.tensors.map(\.name) == ["t.f32", "t.f16", "blk.0.q8"])
    #expect(file.tensors.map(\.dims) == [[3, 2], [8], [64, 2]])
    #expect(file.tensors.map(\.type) == [.f32, .f16, .q8_0])
    #expect(file.tensors.map(\.offset) == offsets)
    #expect(file.tensors.map(\.byteCount) == [24, 16, 136])
    #expect(file.tensors.map(\.elementCount) == [6, 8, 128])
    #expect(Array(try file.data(of: "t.f32")) == floatBytes(fixtureF32))
    #expect(Array(try file.data(of: "t.f16")) == f16Bytes(fixtureF16))
    #expect(Array(try file.data(of: "blk.0.q8").prefix(20)) == hexBytes("0820000d1926313d48525b646b71767a7d7f7f7e"))
    #expect(throws: ModelFileError.noSuchTensor(path: file.path, tensor: "nope")) { try file.data(of: "nope") }
}

@Test(arguments: [("small.gguf", nil), ("small-align64.gguf", 64)] as [(String, UInt32?)])
func writerReproducesGGUFPyFixture(name: String, alignment: UInt32?) throws {
    let golden = fixturePath("gguf/" + name)
    let goldenFile = try GGUFFile(path: golden)
    let q8 = try goldenFile.withExtendedLifetime { () throws(ModelFileError) in Array(try goldenFile.data(of: "blk.0.q8")) }
    try withTemporaryDirectory { dir in
        // From hardcoded inputs.
        let path = dir + "/out.gguf"
        try writeGGUF(path, metadata: fixtureMetadata(alignment: alignment), tensors: fixtureTensors(q8: q8))
        #expect(try fileBytes(path) == fileBytes(golden))
        // From what the reader gives (arrays stay views into the mapped file).
        let file = try GGUFFile(path: golden)
        let copy = dir + "/copy.gguf"
        let writer = GGUFWriter(path: copy)
        for kv in file.metadata { try writer.add(kv.key, kv.value) }
        for t in file.tensors { try writer.addTensor(name: t.name, dims: t.dims, type: t.type) }
        try writer.write { sink in try sink.write(file.data(of: sink.info)) }
        #expect(try fileBytes(copy) == fileBytes(golden))
    }
}

// MARK: - Round trip

@Test func roundTripsEveryValueTypeAndTensorSizes() throws {
    let metadata: [GGUFKeyValue] = [
        GGUFKeyValue("general.architecture", .string("qwen2")),
        GGUFKeyValue("a.u8", .uint8(255)), GGUFKeyValue("a.i8", .int8(-128)),
        GGUFKeyValue("a.u16", .uint16(65535)), GGUFKeyValue("a.i16", .int16(-32768)),
        GGUFKeyValue("a.u32", .uint32(.max)), GGUFKeyValue("a.i32", .int32(.min)),
        GGUFKeyValue("a.f32", .float32(-.infinity)), GGUFKeyValue("a.bool", .bool(false)),
        GGUFKeyValue("a.string", .string("{% for m in messages %}\n")), GGUFKeyValue("a.u64", .uint64(.max)),
        GGUFKeyValue("a.i64", .int64(.min)), GGUFKeyValue("a.f64", .float64(.pi)),
        GGUFKeyValue("arr.u8", .array(GGUFArray(uint8: [0, 255]))),
        GGUFKeyValue("arr.i8", .array(GGUFArray(int8: [-1]))),
        GGUFKeyValue("arr.u16", .array(GGUFArray(uint16: []))),
        GGUFKeyValue("arr.i16", .array(GGUFArray(int16: [-2, 3]))),
        GGUFKeyValue("arr.u32", .array(GGUFArray(uint32: [7]))),
        GGUFKeyValue("arr.i32", .array(GGUFArray(int32: [-7, 8]))),
        GGUFKeyValue("arr.f32", .array(GGUFArray(float32: [1.25]))),
        GGUFKeyValue("arr.bool", .array(GGUFArray(bool: [true]))),
        GGUFKeyValue("arr.u64", .array(GGUFArray(uint64: [.max]))),
        GGUFKeyValue("arr.i64", .array(GGUFArray(int64: [.min, 0]))),
        GGUFKeyValue("arr.f64", .array(GGUFArray(float64: [2.5, -0.0]))),
        GGUFKeyValue("tokenizer.ggml.tokens", .array(GGUFArray(strings: (0..<300).map { "tok\($0)" } + ["", "ü"]))),
    ]
    let q8 = (0..<(34 * 4)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let tensors: [(String, [Int], GGMLType, [UInt8])] = [
        ("f32", [5], .f32, floatBytes([1, 2, 3, 4, 5])),
        ("f16", [2, 3, 1, 2], .f16, (0..<24).map { UInt8($0) }),
        ("q8", [64, 2], .q8_0, q8),
        ("empty", [0, 4], .f32, []),
    ]
    try withTemporaryDirectory { dir in
        let path = dir + "/rt.gguf"
        try writeGGUF(path, metadata: metadata, tensors: tensors)
        let file = try GGUFFile(path: path)
        #expect(file.metadata == metadata)
        #expect(file.metadata.map(\.value.type) == metadata.map(\.value.type))
        let tokens = try #require(file[GGUFKeys.tokenizerTokens]?.arrayValue)
        #expect(tokens.count == 302 && tokens.string(at: 299) == "tok299" && tokens.string(at: 301) == "ü")
        #expect(file.tensors.map(\.name) == tensors.map(\.0))
        #expect(file.tensors.map(\.dims) == tensors.map(\.1))
        #expect(file.tensors.map(\.byteCount) == [20, 24, 136, 0])
        for t in tensors { #expect(Array(try file.data(of: t.0)) == t.3) }
        for t in file.tensors { #expect((file.dataStart + t.offset) % 32 == 0) }
        #expect(file.fileSize % 32 == 0)
        // For a manual cross-check with gguf-py's GGUFReader: GGUF_ROUNDTRIP_OUT=/tmp/rt.gguf swift test.
        if let out = ProcessInfo.processInfo.environment["GGUF_ROUNDTRIP_OUT"] {
            try writeFile(out, try fileBytes(path))
        }
    }
}

@Test func writerStreamsInPiecesAndRejectsWrongSizes() throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/w.gguf"
        let writer = GGUFWriter(path: path)
        try writer.add("general.alignment", .uint32(16))
        try writer.addTensor(name: "x", dims: [4, 2], type: .f32)
        try writer.write { sink in
            for i in 0..<8 { try sink.write(floatBytes([Float(i)])) }
        }
        #expect(try GGUFFile(path: path).data(of: "x").count == 32)

        let short = dir + "/short.gguf"
        let w2 = GGUFWriter(path: short)
        try w2.addTensor(name: "x", dims: [4], type: .f32)
        #expect(throws: ModelFileError.self) { try w2.write { sink in try sink.write([1, 2, 3]) } }
        #expect(!FileManager.default.fileExists(atPath: short))
        #expect(throws: ModelFileError.self) { try w2.write { sink in try sink.write([UInt8](repeating: 0, count: 20)) } }
        #expect(!FileManager.default.fileExists(atPath: short))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["w.gguf"])

        #expect(throws: ModelFileError.ggufDuplicateKey(path: short, key: "k")) {
            try w2.add("k", .uint8(1)); try w2.add("k", .uint8(2))
        }
        #expect(throws: ModelFileError.duplicateTensor(path: short, tensor: "x")) {
            try w2.addTensor(name: "x", dims: [4], type: .f32)
        }
        #expect(throws: ModelFileError.self) { try w2.addTensor(name: "q", dims: [33], type: .q8_0) }
        #expect(throws: ModelFileError.self) { try w2.addTensor(name: "five", dims: [1, 1, 1, 1, 1], type: .f32) }
        #expect(throws: ModelFileError.self) { try w2.addTensor(name: String(repeating: "n", count: 64), dims: [1], type: .f32) }
        #expect(throws: ModelFileError.self) { try GGUFWriter(path: short).add("general.alignment", .uint32(48)) }
        #expect(throws: ModelFileError.self) { try GGUFWriter(path: short).add("general.alignment", .uint64(64)) }
    }
}

// MARK: - Bad input

@Test func truncatedFixtureAlwaysThrows() throws {
    let golden = try fileBytes(fixturePath("gguf/small.gguf"))
    try withTemporaryDirectory { dir in
        let path = dir + "/t.gguf"
        // Every cut before the end of the last tensor's data; padding after it may be cut (as gguf.cpp allows).
        for length in 0..<968 {
            try writeFile(path, Array(golden.prefix(length)))
            #expect(openExpectingFailure(path) != nil, "accepted a file cut at \(length)")
        }
        try writeFile(path, Array(golden.prefix(968)))
        #expect(openExpectingFailure(path) == nil)
    }
}

@Test func flippedBytesNeverCrash() throws {
    var rng = SplitMix64(seed: 0x6767_7566)
    for name in ["small.gguf", "small-align64.gguf"] {
        let golden = try fileBytes(fixturePath("gguf/" + name))
        try withTemporaryDirectory { dir in
            let path = dir + "/f.gguf"
            var rejected = 0
            for _ in 0..<200 {
                var bytes = golden
                for _ in 0..<Int(rng.next() % 4 + 1) {
                    let at = Int(rng.next() % UInt64(bytes.count))
                    bytes[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                }
                try writeFile(path, bytes)
                if openExpectingFailure(path) != nil { rejected += 1 }
            }
            #expect(rejected > 20)
        }
    }
}

@Test func rejectsBadHeaders() throws {
    var raw = oneF32Tensor
    raw.magic = Array("GGUG".utf8)
    try expectFailure(raw, "bad magic")
    raw = oneF32Tensor; raw.version = 2
    try expectFailure(raw, "version 2 is not supported")
    raw = oneF32Tensor; raw.version = UInt32(3).byteSwapped
    try expectFailure(raw, "byte-swapped")
    raw = oneF32Tensor; raw.tensorCount = .max
    try expectFailure(raw, "tensor count")
    raw = oneF32Tensor; raw.kvCount = 1 << 40
    try expectFailure(raw, "metadata count")
    raw = oneF32Tensor; raw.tensorCount = 1
    raw.kvCount = 1000
    try expectFailure(raw, "metadata count")
}

@Test func rejectsBadMetadata() throws {
    let u64 = { (v: UInt64) in littleEndianBytes([v]) }
    var raw = oneF32Tensor
    raw.kv = [("a", 4, littleEndianBytes([UInt32(1)])), ("a", 4, littleEndianBytes([UInt32(2)]))]
    try expectFailure(raw, "\"a\" appears twice")
    raw.kv = [("s", 8, u64(.max) + Array("abc".utf8))]
    try expectFailure(raw, "string length")
    raw.kv = [("s", 8, u64(1 << 20) + Array("abc".utf8))]
    try expectFailure(raw, "truncated")
    raw.kv = [("arr", 9, littleEndianBytes([UInt32(4)]) + u64(.max))]
    try expectFailure(raw, "more than the file can hold")
    raw.kv = [("arr", 9, littleEndianBytes([UInt32(8)]) + u64(2) + u64(1) + [0x41] + u64(1 << 40))]
    try expectFailure(raw, "string #1")
    raw.kv = [("arr", 9, littleEndianBytes([UInt32(9)]) + u64(1) + littleEndianBytes([UInt32(0)]) + u64(1) + [1])]
    try expectFailure(raw, "nested arrays")
    raw.kv = [("t", 13, [0, 0, 0, 0])]
    try expectFailure(raw, "unknown value type id 13")
    raw.kv = [("arr", 9, littleEndianBytes([UInt32(99)]) + u64(0))]
    try expectFailure(raw, "unknown array element type id 99")
    raw.kv = [("general.alignment", 4, littleEndianBytes([UInt32(48)]))]
    try expectFailure(raw, "not a non-zero power of two")
    raw.kv = [("general.alignment", 10, u64(32))]
    try expectFailure(raw, "expected UINT32")
}

@Test func rejectsBadTensorInfos() throws {
    var raw = oneF32Tensor
    raw.tensors = [("w", [1, 1, 1, 1, 4], 0, 0)]
    try expectFailure(raw, "n_dims is 5")
    raw.tensors = [("w", [], 0, 0)]
    try expectFailure(raw, "n_dims is 0")
    raw.tensors = [("w", [4], 4, 0)]
    try expectFailure(raw, "unknown ggml type id 4")
    raw.tensors = [("w", [4], 0, 8)]
    try expectFailure(raw, "not a multiple of the alignment")
    raw.tensors = [("w", [4], 0, 32)]
    try expectFailure(raw, "data_offsets")
    raw.tensors = [("w", [4], 0, 1 << 62)]
    try expectFailure(raw, "data_offsets")
    raw.tensors = [("w", [4], 0, 0), ("w", [4], 0, 0)]
    try expectFailure(raw, "appears twice")
    raw.tensors = [("w", [4], 0, 0), ("v", [2], 0, 0)]
    try expectFailure(raw, "inside tensor")
    raw.tensors = [("w", [16], 8, 0)]
    try expectFailure(raw, "block size 32")
    raw.tensors = [("w", [1 << 62, 1 << 62], 0, 0)]
    try expectFailure(raw, "more elements than Int")
    raw.tensors = [("w", [UInt64.max], 0, 0)]
    try expectFailure(raw, "INT64_MAX")
    raw.tensors = [(String(repeating: "n", count: 64), [4], 0, 0)]
    try expectFailure(raw, "above the limit of 63")
    raw.tensors = [("w", [4], 0, 0)]
    raw.data = [0, 0]
    try expectFailure(raw, "data_offsets")
}

@Test func acceptsMinimalFiles() throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/ok.gguf"
        try writeFile(path, oneF32Tensor.bytes())
        let file = try GGUFFile(path: path)
        #expect(Array(try file.data(of: "w")) == floatBytes([1, 2, 3, 4]))
        withExtendedLifetime(file) {}
        try writeFile(path, RawGGUF().bytes())
        #expect(try GGUFFile(path: path).tensors.isEmpty)
    }
}

// MARK: - Regressions found by FuzzTests

/// Empty tensors in a file that ends inside the padding before the data section: the data section would start past
/// the end of the file, so even a zero-byte view of it would point outside the mapping.
@Test func rejectsADataSectionThatStartsPastTheEnd() throws {
    var raw = RawGGUF(tensors: [("e", [0], 0, 0), ("f", [4, 0], 1, 0)])
    raw.alignment = 1  // no padding after the infos
    try withTemporaryDirectory { dir in
        let path = dir + "/short.gguf"
        let bytes = raw.bytes()
        #expect(bytes.count % 32 != 0)
        try writeFile(path, bytes)
        let error = openExpectingFailure(path)
        #expect(error?.description.contains("padding before the data section") == true, "\(String(describing: error))")
        // Padded to the alignment, the same file is fine, and its empty tensors are empty views.
        try writeFile(path, bytes + [UInt8](repeating: 0, count: (32 - bytes.count % 32) % 32))
        let file = try GGUFFile(path: path)
        #expect(try file.data(of: "e").isEmpty && file.data(of: "f").isEmpty)
        // Without tensors there is no data section to find, and gguf-py writes no padding.
        try writeFile(path, RawGGUF(kv: [("k", 0, [1])], alignment: 1).bytes())
        #expect(try GGUFFile(path: path)["k"] == .uint8(1))
    }
}
