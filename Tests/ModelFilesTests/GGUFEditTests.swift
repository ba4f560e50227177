import Foundation
import Testing
import TestSupport
import ModelFiles
import QwenKitIO

#if canImport(Glibc)
import Glibc
#endif

// GGUFEdit against goldens written by gguf-py (Fixtures/scripts/make_gguf_edit_fixtures.py): the same edits must
// give the same bytes. Every edit list here mirrors one in that script.

private func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

/// Opens `input`, applies `edits`, writes to a temporary file and returns its bytes (and the edit).
private func edited(_ input: String, _ edits: [GGUFMetadataEdit]) throws -> ([UInt8], GGUFEdit) {
    let edit = try GGUFEdit(input: try GGUFFile(path: input), edits: edits)
    return try withTemporaryDirectory { dir in
        let out = dir + "/out.gguf"
        try edit.write(to: out)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.gguf"])
        return (try bytes(out), edit)
    }
}

/// The first differing byte, for a readable failure.
private func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
    let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
    return "sizes \(a.count) and \(b.count), first difference at byte \(i)"
}

/// Each tensor of `edited` has the same name, dims, type and bytes as in `original`, at an offset aligned to
/// `alignment`.
private func expectSameTensors(_ edited: GGUFFile, _ original: GGUFFile, alignment: Int) {
    #expect(edited.tensors.map(\.name) == original.tensors.map(\.name))
    for (t, o) in zip(edited.tensors, original.tensors) {
        #expect(t.dims == o.dims && t.type == o.type)
        #expect(t.offset % alignment == 0)
        let (a, b) = (edited.data(of: t), original.data(of: o))
        #expect(a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0), "tensor \(t.name)")
    }
    #expect(edited.alignment == alignment && edited.dataStart % alignment == 0)
}

/// A GGUF file built by hand: raw kv entries (key bytes, type id, value bytes) and one F32 tensor named by bytes.
private func rawGGUF(kv: [([UInt8], UInt32, [UInt8])], tensorName: [UInt8]) -> [UInt8] {
    func str(_ b: [UInt8]) -> [UInt8] { littleEndianBytes([UInt64(b.count)]) + b }
    var out = Array("GGUF".utf8) + littleEndianBytes([UInt32(3)]) + littleEndianBytes([UInt64(1), UInt64(kv.count)])
    for (k, t, v) in kv { out += str(k) + littleEndianBytes([t]) + v }
    out += str(tensorName) + littleEndianBytes([UInt32(1)]) + littleEndianBytes([UInt64(4)])
    out += littleEndianBytes([UInt32(0)]) + littleEndianBytes([UInt64(0)])
    while out.count % 32 != 0 { out.append(0) }
    return out + floatBytes([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 16)
}

@Suite struct GGUFEditTests {
    static let template = fixturePath("gguf/edit-template.jinja")

    /// gguf-py's own gguf_new_metadata.py: --remove-metadata test.u16s --chat-template-file edit-template.jinja
    /// --general-name "Edited ✓" (it appends the template before the name).
    @Test func matchesGGUFNewMetadata() throws {
        let text = String(decoding: try bytes(Self.template), as: UTF8.self)
        let (out, edit) = try edited(fixturePath("gguf/small.gguf"), [
            .delete(key: "test.u16s"),
            .set(key: GGUFKeys.tokenizerChatTemplate, value: .string(text)),
            .set(key: GGUFKeys.generalName, value: .string("Edited ✓")),
        ])
        let golden = try bytes(fixturePath("gguf/small-edit-newmeta.gguf"))
        #expect(out == golden, "\(firstDifference(out, golden))")
        #expect(edit.changes.map(\.description) == [
            "delete test.u16s (was ARRAY [3 UINT16])",
            "add tokenizer.chat_template: STRING \"{% for message in messages %}<|im_start|>{{ message['role'] \"… (173 bytes)",
            "add general.name: STRING \"Edited ✓\"",
        ])
    }

    /// Sets in place (the key's own type, or a new one), deletes, appends, and a new general.alignment that lays
    /// the data section out again at 64: small-edit-typed.gguf (EDITS_TYPED in the script).
    @Test func typedEditsMatchGGUFPy() throws {
        let input = fixturePath("gguf/small.gguf")
        let (out, edit) = try edited(input, [
            .setKeepingType(key: "test.u8", text: "7"),
            .setKeepingType(key: "test.i64", text: "-1"),
            .setKeepingType(key: "test.f32", text: "0.1"),
            .setKeepingType(key: "test.bool", text: "false"),
            .setKeepingType(key: "test.string", text: "changé"),
            .delete(key: "test.i8"),
            .delete(key: "test.strings"),
            .set(key: "test.u16", value: .uint32(70000)),
            .set(key: GGUFKeys.generalAlignment, value: .uint32(64)),
            .set(key: "test.new_u64", value: .uint64(1 << 63)),
            .set(key: "test.new_bool", value: .bool(true)),
        ])
        let golden = try bytes(fixturePath("gguf/small-edit-typed.gguf"))
        #expect(out == golden, "\(firstDifference(out, golden))")
        #expect(edit.alignment == 64)

        // The values read back exactly, in order; the tensors are the input's.
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/out.gguf", out)
            let file = try GGUFFile(path: dir + "/out.gguf")
            #expect(file.metadata.map(\.key) == [
                "general.architecture", "test.u8", "test.u16", "test.i16", "test.u32", "test.i32", "test.f32",
                "test.bool", "test.string", "test.u64", "test.i64", "test.f64", "test.u16s", "test.i32s",
                "test.f32s", "test.bools", "general.alignment", "test.new_u64", "test.new_bool",
            ])
            #expect(file["test.u8"] == .uint8(7))
            #expect(file["test.u16"] == .uint32(70000))
            #expect(file["test.i64"] == .int64(-1))
            #expect(file["test.f32"] == .float32(Float(0.1)))
            #expect(file["test.bool"] == .bool(false))
            #expect(file["test.string"] == .string("changé"))
            #expect(file["test.new_u64"] == .uint64(9_223_372_036_854_775_808))
            #expect(file["test.new_bool"] == .bool(true))
            expectSameTensors(file, try GGUFFile(path: input), alignment: 64)
        }
        #expect(edit.changes.map(\.description) == [
            "set test.u8: 200 -> 7",
            "set test.i64: -9000000000000000000 -> -1",
            "set test.f32: 1.5 -> 0.1",
            "set test.bool: true -> false",
            "set test.string: \"héllo ✓\" -> \"changé\"",
            "delete test.i8 (was INT8 -100)",
            "delete test.strings (was ARRAY [4 STRING])",
            "set test.u16: UINT16 60000 -> UINT32 70000",
            "add general.alignment: UINT32 64",
            "add test.new_u64: UINT64 9223372036854775808",
            "add test.new_bool: BOOL true",
        ])
    }

    /// general.alignment 64 -> 8 in place: every tensor moves (small-align64-edit-align8.gguf).
    @Test func alignmentChangeRelaysTheData() throws {
        let input = fixturePath("gguf/small-align64.gguf")
        let (out, _) = try edited(input, [.setKeepingType(key: GGUFKeys.generalAlignment, text: "8")])
        let golden = try bytes(fixturePath("gguf/small-align64-edit-align8.gguf"))
        #expect(out == golden, "\(firstDifference(out, golden))")
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/out.gguf", out)
            let file = try GGUFFile(path: dir + "/out.gguf")
            #expect(file.tensors.map(\.offset) == [0, 24, 40])
            expectSameTensors(file, try GGUFFile(path: input), alignment: 8)
        }
    }

    /// small-align64.gguf is small.gguf plus general.alignment = 64 after the architecture: deleting the key
    /// gives small.gguf back, byte for byte.
    @Test func deletingTheAlignmentGivesTheDefaultLayout() throws {
        let (out, edit) = try edited(fixturePath("gguf/small-align64.gguf"), [.delete(key: GGUFKeys.generalAlignment)])
        #expect(out == (try bytes(fixturePath("gguf/small.gguf"))))
        #expect(edit.alignment == 32)
    }

    @Test(arguments: ["small.gguf", "small-align64.gguf"])
    func noEditsCopiesTheFile(name: String) throws {
        let (out, edit) = try edited(fixturePath("gguf/" + name), [])
        #expect(out == (try bytes(fixturePath("gguf/" + name))))
        #expect(edit.changes.isEmpty)
    }

    /// Edits apply in order: a key deleted and set again is appended; a new key set twice keeps its place; a new
    /// key deleted again is gone.
    @Test func editsApplyInOrder() throws {
        let file = try GGUFFile(path: fixturePath("gguf/small.gguf"))
        let edit = try GGUFEdit(input: file, edits: [
            .delete(key: "test.u8"),
            .set(key: "test.u8", value: .string("back")),
            .set(key: "test.a", value: .int32(1)),
            .set(key: "test.b", value: .int32(2)),
            .setKeepingType(key: "test.a", text: "3"),
            .delete(key: "test.b"),
        ])
        #expect(Array(edit.metadata.map(\.key).suffix(3)) == ["test.bools", "test.u8", "test.a"])
        #expect(edit.metadata.last == GGUFKeyValue("test.a", .int32(3)))
        #expect(edit.metadata.count == file.metadata.count + 1)
        #expect(edit.changes.map(\.description) == [
            "delete test.u8 (was UINT8 200)", "add test.u8: STRING \"back\"", "add test.a: INT32 1",
            "add test.b: INT32 2", "set test.a: 1 -> 3", "delete test.b (was INT32 2)",
        ])
    }

    /// Tensor bytes go through in pieces; a tensor larger than one piece arrives whole, and progress counts it.
    @Test func streamsLargeTensorsInPieces() throws {
        try withTemporaryDirectory { dir in
            let count = (16 << 20) / 4 + 9  // one piece and 36 bytes
            var big = [UInt8](repeating: 0, count: count * 4)
            for i in [0, 1, (16 << 20) - 1, 16 << 20, count * 4 - 1] { big[i] = UInt8(truncatingIfNeeded: i % 251 + 1) }
            let writer = GGUFWriter(path: dir + "/big.gguf")
            try writer.add("general.architecture", .string("qwen2"))
            try writer.addTensor(name: "small", dims: [3], type: .f32)
            try writer.addTensor(name: "big", dims: [count], type: .f32)
            try writer.write { sink in try sink.write(sink.info.name == "big" ? big : floatBytes([1, 2, 3])) }

            let input = try GGUFFile(path: dir + "/big.gguf")
            let edit = try GGUFEdit(input: input, edits: [.set(key: "general.name", value: .string("big"))])
            let log = open(dir + "/progress.log", O_WRONLY | O_CREAT, 0o644)
            defer { close(log) }
            let progress = ProgressReporter(total: Int64(edit.tensorByteCount), enabled: true, fileDescriptor: log)
            try edit.write(to: dir + "/out.gguf", progress: progress)
            #expect(progress.completedBytes == Int64(edit.tensorByteCount))
            #expect(edit.tensorByteCount == 12 + count * 4)
            let out = try GGUFFile(path: dir + "/out.gguf")
            #expect(out["general.name"] == .string("big"))
            expectSameTensors(out, input, alignment: 32)
        }
    }

    // MARK: Bad edits

    @Test func badEditsNameTheKey() throws {
        let path = fixturePath("gguf/small.gguf")
        let file = try GGUFFile(path: path)
        func failure(_ edits: [GGUFMetadataEdit]) -> String {
            do {
                _ = try GGUFEdit(input: file, edits: edits)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(failure([.delete(key: "no.such")])
            == "\(path): cannot delete metadata key \"no.such\": the file has no such key")
        #expect(failure([.delete(key: "test.u8"), .delete(key: "test.u8")])
            == "\(path): cannot delete metadata key \"test.u8\": the file has no such key")
        #expect(failure([.setKeepingType(key: "no.such", text: "1")])
            == "\(path): cannot set metadata key \"no.such\": the file has no such key, so its type is unknown; give the type of the new key")
        #expect(failure([.setKeepingType(key: "test.strings", text: "a")])
            == "metadata key \"test.strings\" is an array (4 STRING elements); arrays cannot be set from text")
        #expect(failure([.setKeepingType(key: "test.u8", text: "256")])
            == "metadata key \"test.u8\": \"256\" is not a valid UINT8: out of range 0...255")
        #expect(failure([.set(key: "", value: .uint8(1))]) == "metadata key \"\": a key cannot be empty")
        // 2^30 would pad every tensor to a GiB: above GGUFLimits.maxWrittenAlignment (64 KiB), refused.
        for bad: GGUFValue in [.uint32(0), .uint32(48), .uint64(64), .string("64"), .uint32(1 << 30), .uint32(1 << 17)] {
            #expect(failure([.set(key: "general.alignment", value: bad)])
                == "metadata key \"general.alignment\": \(bad.type.name) \(bad.summary) is not allowed;"
                    + " the alignment must be a UINT32 power of two, at most 65536 (32 is the default)")
        }
        #expect(throws: Never.self) { try GGUFEdit(input: file, edits: [.set(key: "general.alignment", value: .uint32(1 << 16))]) }
        let align64 = try GGUFFile(path: fixturePath("gguf/small-align64.gguf"))
        #expect(throws: GGUFEditError.invalidValue(key: "general.alignment", text: "-8", type: .uint32, reason: "out of range 0...4294967295")) {
            try GGUFEdit(input: align64, edits: [.setKeepingType(key: "general.alignment", text: "-8")])
        }
        #expect(throws: GGUFEditError.invalidAlignment(value: .uint32(3))) {
            try GGUFEdit(input: align64, edits: [.setKeepingType(key: "general.alignment", text: "3")])
        }
    }

    /// Every `tokenizer.ggml.*_token_id` an edit sets must name a token of `tokenizer.ggml.tokens` (320 here);
    /// keys it does not name are copied as they are.
    @Test func tokenIDsStayInTheVocabulary() throws {
        let file = try GGUFFile(path: fixturePath("convert-golden/q2-tied.f32.gguf"))
        let cases: [(String, GGUFValue)] = [
            ("tokenizer.ggml.eos_token_id", .uint32(320)), ("tokenizer.ggml.bos_token_id", .uint32(4_000_000_000)),
            ("tokenizer.ggml.padding_token_id", .int32(-1)), ("tokenizer.ggml.seperator_token_id", .uint64(1 << 40)),
            ("tokenizer.ggml.eot_token_id", .string("7")), ("tokenizer.ggml.fim_pre_token_id", .uint32(320)),
        ]
        for (key, value) in cases {
            #expect(throws: GGUFEditError.tokenIDOutOfRange(key: key, value: value, vocabularySize: 320)) {
                try GGUFEdit(input: file, edits: [.set(key: key, value: value)])
            }
        }
        #expect(throws: GGUFEditError.tokenIDOutOfRange(key: "tokenizer.ggml.eos_token_id", value: .uint32(320), vocabularySize: 320)) {
            try GGUFEdit(input: file, edits: [.setKeepingType(key: "tokenizer.ggml.eos_token_id", text: "320")])
        }
        #expect(GGUFEditError.tokenIDOutOfRange(key: "tokenizer.ggml.eos_token_id", value: .uint32(320), vocabularySize: 320).description
            == #"metadata key "tokenizer.ggml.eos_token_id": UINT32 320 is not a token id: tokenizer.ggml.tokens has 320 tokens (ids 0 to 319)"#)
        let edit = try GGUFEdit(input: file, edits: [.setKeepingType(key: "tokenizer.ggml.eos_token_id", text: "319"),
                                                     .set(key: "tokenizer.ggml.eot_token_id", value: .uint32(0))])
        #expect(edit.changes.map(\.new) == [.uint32(319), .uint32(0)])
        // Not of the family: any value.
        _ = try GGUFEdit(input: file, edits: [.set(key: "tokenizer.ggml.add_bos_token", value: .bool(true)),
                                              .set(key: "tokenizer.ggml._token_id", value: .uint32(999))])
    }

    /// The writer refuses the alignments the editor refuses (one check, GGUFLimits.writtenAlignmentProblem).
    @Test func writerCapsTheAlignment() throws {
        #expect(throws: ModelFileError.ggufMetadata(path: "never-written.gguf", key: "general.alignment",
                                                    reason: "1073741824 is above the limit of 65536 bytes")) {
            try GGUFWriter(path: "never-written.gguf").add("general.alignment", .uint32(1 << 30))
        }
    }

    @Test func parsesScalarsWithRangeChecks() throws {
        func parse(_ text: String, _ type: GGUFValueType) -> Result<GGUFValue, GGUFEditError> {
            Result { () throws(GGUFEditError) -> GGUFValue in try GGUFValue.parse(text, as: type, key: "k") }
        }
        func reason(_ text: String, _ type: GGUFValueType) -> String? {
            if case .failure(.invalidValue(_, _, _, let reason)) = parse(text, type) { return reason }
            return nil
        }
        #expect(try parse("255", .uint8).get() == .uint8(255))
        #expect(try parse("-128", .int8).get() == .int8(-128))
        #expect(try parse("+7", .int16).get() == .int16(7))
        #expect(try parse("4294967295", .uint32).get() == .uint32(.max))
        #expect(try parse("-2147483648", .int32).get() == .int32(.min))
        #expect(try parse("18446744073709551615", .uint64).get() == .uint64(.max))
        #expect(try parse("-9223372036854775808", .int64).get() == .int64(.min))
        #expect(reason("256", .uint8) == "out of range 0...255")
        #expect(reason("-1", .uint16) == "out of range 0...65535")
        #expect(reason("-129", .int8) == "out of range -128...127")
        #expect(reason("18446744073709551616", .uint64) == "out of range 0...18446744073709551615")
        #expect(reason("1.5", .int32) == "not a decimal integer")
        #expect(reason("0x10", .uint32) == "not a decimal integer")
        #expect(reason("", .uint32) == "not a decimal integer")
        #expect(reason(" 1", .uint32) == "not a decimal integer")

        #expect(try parse("0.1", .float32).get() == .float32(Float(0.1 as Double)))
        #expect(try parse("1e-6", .float32).get() == .float32(Float(1e-6 as Double)))
        #expect(try parse("-0.125", .float64).get() == .float64(-0.125))
        #expect(reason("1e39", .float32) == "out of the FLOAT32 range (largest 3.4028235e+38)")
        #expect(reason("nan", .float32) == "not a finite number")
        #expect(reason("inf", .float64) == "not a finite number")
        #expect(reason("one", .float64) == "not a number")

        #expect(try parse("true", .bool).get() == .bool(true))
        #expect(try parse("false", .bool).get() == .bool(false))
        #expect(reason("1", .bool) == "expected true or false")
        #expect(reason("True", .bool) == "expected true or false")

        #expect(try parse("", .string).get() == .string(""))
        #expect(try parse("a=b ✓", .string).get() == .string("a=b ✓"))
        #expect(reason("[1]", .array) == "arrays cannot be given as text")
    }

    /// The output may not be the input: same path, a symbolic link to it, or a hard link. Nothing is written. (The
    /// check is OutputGuard's, which every writer shares: the input was admitted when GGUFFile mapped it.)
    @Test func refusesToOverwriteTheInput() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/in.gguf"
            try writeFile(path, try bytes(fixturePath("gguf/small.gguf")))
            #expect(symlink(path, dir + "/sym.gguf") == 0)
            #expect(link(path, dir + "/hard.gguf") == 0)
            let edit = try GGUFEdit(input: try GGUFFile(path: path), edits: [.set(key: "general.name", value: .string("x"))])
            for out in [path, dir + "/sym.gguf", dir + "/hard.gguf", dir + "/../" + dir.split(separator: "/").last! + "/in.gguf"] {
                #expect(throws: ModelFileError.io(.outputIsInput(path: out, input: path))) { try edit.write(to: out) }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["hard.gguf", "in.gguf", "sym.gguf"])
            #expect(try bytes(path) == (try bytes(fixturePath("gguf/small.gguf"))))
        }
    }

    /// A string that is not valid UTF-8 is read with U+FFFD, so copying it would change it: refused unless the
    /// edit replaces or deletes it. A BOOL stored as 2 likewise. A tensor name cannot be edited: always refused.
    @Test func refusesLossyCopies() throws {
        try withTemporaryDirectory { dir in
            let badString = littleEndianBytes([UInt64(3)]) + [0x61, 0xFF, 0x62]
            let path = dir + "/bad.gguf"
            try writeFile(path, rawGGUF(kv: [(Array("a.name".utf8), 8, badString), (Array("a.flag".utf8), 7, [2])],
                                        tensorName: Array("w".utf8)))
            let file = try GGUFFile(path: path)
            #expect(throws: GGUFEditError.notCopiedExactly(path: path, what: "metadata key \"a.name\"",
                hint: "its stored bytes do not survive decoding (a key or string that is not valid UTF-8, or a BOOL"
                    + " byte other than 0 and 1); set or delete it")) {
                try GGUFEdit(input: file, edits: [])
            }
            #expect(throws: GGUFEditError.self) { try GGUFEdit(input: file, edits: [.delete(key: "a.name")]) }
            let fixed = try GGUFEdit(input: file, edits: [.setKeepingType(key: "a.name", text: "ab"),
                                                          .setKeepingType(key: "a.flag", text: "true")])
            try fixed.write(to: dir + "/fixed.gguf")
            let out = try GGUFFile(path: dir + "/fixed.gguf")
            #expect(out["a.name"] == .string("ab") && out["a.flag"] == .bool(true))

            let badKey = dir + "/badkey.gguf"
            try writeFile(badKey, rawGGUF(kv: [([0x6B, 0xC3], 4, littleEndianBytes([UInt32(1)]))], tensorName: Array("w".utf8)))
            #expect(throws: GGUFEditError.self) { try GGUFEdit(input: try GGUFFile(path: badKey), edits: []) }

            let badName = dir + "/badname.gguf"
            try writeFile(badName, rawGGUF(kv: [], tensorName: [0x77, 0xE2, 0x82]))
            #expect(throws: GGUFEditError.notCopiedExactly(path: badName, what: "tensor name \"w\u{FFFD}\"",
                                                           hint: "the name is not valid UTF-8")) {
                try GGUFEdit(input: try GGUFFile(path: badName), edits: [])
            }
        }
    }

    /// A failed write (the output's directory is missing) leaves nothing behind.
    @Test func failedWriteLeavesNothing() throws {
        try withTemporaryDirectory { dir in
            let edit = try GGUFEdit(input: try GGUFFile(path: fixturePath("gguf/small.gguf")), edits: [])
            #expect(throws: ModelFileError.self) { try edit.write(to: dir + "/missing/out.gguf") }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
    }
}
