// `qwenkit edit`: the same edits as Fixtures/scripts/make_gguf_edit_fixtures.py must give gguf-py's bytes; every
// bad flag or input ends with a definite status, one message, and nothing at the output path.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite struct EditTests {
    static let small = CLI.repositoryPath("Fixtures/gguf/small.gguf")
    static let small64 = CLI.repositoryPath("Fixtures/gguf/small-align64.gguf")
    static let template = CLI.repositoryPath("Fixtures/gguf/edit-template.jinja")

    static func golden(_ name: String) throws -> [UInt8] { try readFile(CLI.repositoryPath("Fixtures/gguf/" + name)) }

    /// Runs `qwenkit edit INPUT -o DIR/out.gguf ARGS` and returns the run and the output's bytes (nil if none).
    static func edit(_ input: String, _ arguments: [String], in dir: String, stdin: CLIInput = .none) throws -> (RunResult, [UInt8]?) {
        let out = dir + "/out.gguf"
        let run = try CLI.run(["edit", input, "-o", out] + arguments, stdin: stdin)
        return (run, FileManager.default.fileExists(atPath: out) ? try readFile(out) : nil)
    }

    // MARK: Goldens

    /// The flags of gguf-py's gguf_new_metadata.py run (--remove-metadata, --chat-template-file, --general-name).
    @Test func matchesGGUFNewMetadata() throws {
        try withTemporaryDirectory { dir in
            let (run, out) = try Self.edit(Self.small, ["--delete", "test.u16s", "--chat-template", Self.template,
                                                        "--set-str", "general.name=Edited ✓"], in: dir)
            #expect(run.status == 0 && run.stdout.isEmpty, "\(run)")
            #expect(out == (try Self.golden("small-edit-newmeta.gguf")))
            #expect(run.stderrLines == [
                "delete test.u16s (was ARRAY [3 UINT16])",
                "add tokenizer.chat_template: STRING \"{% for message in messages %}<|im_start|>{{ message['role'] \"… (173 bytes)",
                "add general.name: STRING \"Edited ✓\"",
            ])
            #expect(try directoryEntries(dir) == ["out.gguf"])
        }
    }

    /// EDITS_TYPED of the script, as flags; the deletes are applied first, which gives the same file.
    @Test func typedEditsMatchGGUFPy() throws {
        try withTemporaryDirectory { dir in
            let (run, out) = try Self.edit(Self.small, [
                "--set", "test.u8=7", "--set", "test.i64=-1", "--set", "test.f32=0.1", "--set", "test.bool=false",
                "--set", "test.string=changé", "--delete", "test.i8", "--delete", "test.strings",
                "--set-u32", "test.u16=70000", "--set-u32", "general.alignment=64",
                "--set-u64", "test.new_u64=9223372036854775808", "--set-bool", "test.new_bool=true",
            ], in: dir)
            #expect(run.status == 0 && run.stdout.isEmpty, "\(run)")
            #expect(out == (try Self.golden("small-edit-typed.gguf")))
            #expect(run.stderrLines == [
                "delete test.i8 (was INT8 -100)",
                "delete test.strings (was ARRAY [4 STRING])",
                "set test.u8: 200 -> 7",
                "set test.i64: -9000000000000000000 -> -1",
                "set test.f32: 1.5 -> 0.1",
                "set test.bool: true -> false",
                "set test.string: \"héllo ✓\" -> \"changé\"",
                "set test.u16: UINT16 60000 -> UINT32 70000",
                "add general.alignment: UINT32 64",
                "add test.new_u64: UINT64 9223372036854775808",
                "add test.new_bool: BOOL true",
            ])
        }
    }

    @Test func alignmentChangeMatchesGGUFPy() throws {
        try withTemporaryDirectory { dir in
            let (run, out) = try Self.edit(Self.small64, ["--set", "general.alignment=8"], in: dir)
            #expect(run.status == 0 && run.stderrLines == ["set general.alignment: 64 -> 8"], "\(run)")
            #expect(out == (try Self.golden("small-align64-edit-align8.gguf")))
            let (deleted, back) = try Self.edit(Self.small64, ["--delete", "general.alignment"], in: dir)
            #expect(deleted.status == 0, "\(deleted)")
            #expect(back == (try readFile(Self.small)))
        }
    }

    /// The template may come from stdin; it is taken as it is (CR LF and all).
    @Test func chatTemplateFromStdin() throws {
        try withTemporaryDirectory { dir in
            let text = "{{ messages[0]['content'] }}\r\n✓"
            let (run, out) = try Self.edit(Self.small, ["--chat-template", "-"], in: dir, stdin: .text(text))
            #expect(run.status == 0, "\(run)")
            let needle = Array("tokenizer.chat_template".utf8) + [8, 0, 0, 0] + littleEndianBytes([UInt32(text.utf8.count), 0]) + Array(text.utf8)
            let bytes = out ?? []
            #expect(bytes.indices.contains { bytes[$0...].starts(with: needle) }, "the template is not stored as given")
        }
    }

    @Test func dryRunPrintsAndWritesNothing() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["edit", Self.small, "--dry-run", "--set", "test.u8=7", "--set-f32", "test.eps=1e-6"])
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            #expect(run.stdoutText == "set test.u8: 200 -> 7\nadd test.eps: FLOAT32 1e-06\n")
            let (withOutput, out) = try Self.edit(Self.small, ["--dry-run", "--delete", "test.u8"], in: dir)
            #expect(withOutput.status == 0 && withOutput.stdoutText == "delete test.u8 (was UINT8 200)\n", "\(withOutput)")
            #expect(out == nil)
            #expect(try directoryEntries(dir).isEmpty)
        }
    }

    // MARK: Bad flags and inputs

    struct BadCase: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        /// The first stderr line, after "Error: " (status 64, a flag error) or "qwenkit: " (status 1).
        let message: String
        let status: Int32
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badFlags: [BadCase] = [
        BadCase(arguments: ["--set", "test.u8=256"], message: "--set test.u8=256: not a valid UINT8 (the key's type in \(small)): out of range 0...255", status: 2),
        BadCase(arguments: ["--set", "test.bool=1"], message: "--set test.bool=1: not a valid BOOL (the key's type in \(small)): expected true or false", status: 2),
        BadCase(arguments: ["--set", "no.such=1"], message: "--set no.such=1: \(small) has no metadata key no.such; to add it, give its type with --set-str, --set-u32, --set-i32, --set-u64, --set-i64, --set-f32 or --set-bool", status: 2),
        BadCase(arguments: ["--delete", "no.such"], message: "--delete no.such: \(small) has no metadata key no.such", status: 2),
        BadCase(arguments: ["--set", "test.strings=a"], message: "--set test.strings=a: metadata key test.strings is an array (4 STRING elements); arrays cannot be set from text", status: 2),
        BadCase(arguments: ["--set-u32", "x=-1"], message: "--set-u32 x=-1: not a valid UINT32: out of range 0...4294967295", status: 2),
        BadCase(arguments: ["--set-i32", "x=2147483648"], message: "--set-i32 x=2147483648: not a valid INT32: out of range -2147483648...2147483647", status: 2),
        BadCase(arguments: ["--set-f32", "x=1e39"], message: "--set-f32 x=1e39: not a valid FLOAT32: out of the FLOAT32 range (largest 3.4028235e+38)", status: 2),
        BadCase(arguments: ["--set-bool", "x=yes"], message: "--set-bool x=yes: not a valid BOOL: expected true or false", status: 2),
        BadCase(arguments: ["--set", "x"], message: "--set x: expected KEY=VALUE", status: 2),
        BadCase(arguments: ["--set-str", "=x"], message: "--set-str =x: expected KEY=VALUE", status: 2),
        BadCase(arguments: ["--set-u32", "general.alignment=48"], message: "--set-u32 general.alignment=48: general.alignment must be a UINT32 power of two, at most 65536 (32 is the default)", status: 2),
        BadCase(arguments: ["--set-u64", "general.alignment=64"], message: "--set-u64 general.alignment=64: general.alignment must be a UINT32 power of two, at most 65536 (32 is the default)", status: 2),
        // 2^30 would pad every tensor to a GiB (it filled the disk); 2^16 is the cap (GGUFLimits.maxWrittenAlignment).
        BadCase(arguments: ["--set-u32", "general.alignment=1073741824"], message: "--set-u32 general.alignment=1073741824: general.alignment must be a UINT32 power of two, at most 65536 (32 is the default)", status: 2),
        BadCase(arguments: ["--set-u32", "general.alignment=131072"], message: "--set-u32 general.alignment=131072: general.alignment must be a UINT32 power of two, at most 65536 (32 is the default)", status: 2),
        BadCase(arguments: ["--set-str", "a=1", "--delete", "a"], message: "metadata key a is named by both --delete and --set-str; give each key one edit", status: 2),
        BadCase(arguments: ["--set", "test.u8=1", "--set", "test.u8=2"], message: "metadata key test.u8 is named by both --set and --set; give each key one edit", status: 2),
        BadCase(arguments: ["--chat-template", template, "--set-str", "tokenizer.chat_template=x"], message: "metadata key tokenizer.chat_template is named by both --chat-template and --set-str; give each key one edit", status: 2),
        BadCase(arguments: [], message: "no edits given: use --set, --set-str (or another type), --delete or --chat-template", status: 2),
        BadCase(arguments: ["--chat-template", "/no/such.jinja"], message: "/no/such.jinja: cannot open: No such file or directory", status: 1),
    ]

    @Test(arguments: badFlags)
    func badFlagsLeaveNothing(_ bad: BadCase) throws {
        try withTemporaryDirectory { dir in
            let (run, out) = try Self.edit(Self.small, bad.arguments, in: dir)
            #expect(run.status == bad.status && !run.signaled, "\(run)")
            #expect(run.stderrLines.first == (bad.status == 2 ? "Error: " : "qwenkit: ") + bad.message)
            #expect(run.stderrLines.count == (bad.status == 2 ? 3 : 1), "\(run)")
            #expect(run.stdout.isEmpty && out == nil)
            #expect(try directoryEntries(dir).isEmpty)
        }
    }

    @Test func missingOutput() throws {
        let run = try CLI.run(["edit", Self.small, "--set", "test.u8=1"])
        #expect(run.status == 2 && run.stderrLines.first == "Error: missing -o/--output (or --dry-run)", "\(run)")
    }

    @Test func badInputsLeaveNothing() throws {
        try withTemporaryDirectory { dir in
            let notGGUF = dir + "/not.gguf"
            try writeFile(notGGUF, "hello, world\n")
            let badTemplate = dir + "/bad.jinja"
            try writeFile(badTemplate, [0x7B, 0x7B, 0xC3, 0x28])
            let cases: [([String], String)] = [
                (["edit", dir + "/none.gguf", "-o", dir + "/out.gguf", "--set", "a=1"],
                 "\(dir)/none.gguf: cannot open: No such file or directory"),
                (["edit", notGGUF, "-o", dir + "/out.gguf", "--set", "a=1"],
                 "\(notGGUF): GGUF header: bad magic 68 65 6C 6C, expected 47 47 55 46 (\"GGUF\"): not a GGUF file"),
                (["edit", Self.small, "-o", dir + "/out.gguf", "--chat-template", badTemplate],
                 "\(badTemplate): invalid UTF-8 at byte 2"),
                (["edit", Self.small, "-o", dir + "/missing/out.gguf", "--set", "test.u8=1"], "\(dir)/missing/out.gguf: cannot create output file"),
            ]
            for (arguments, message) in cases {
                let run = try CLI.run(arguments)
                #expect(run.status == 1 && run.stderrLines.count == 1, "\(run)")
                #expect(run.stderrText.hasPrefix("qwenkit: " + message), "\(run)")
                #expect(try directoryEntries(dir) == ["bad.jinja", "not.gguf"])
            }
        }
    }

    /// The input is memory-mapped while the copy is written: -o naming it (directly, through a symbolic link or
    /// a hard link) is refused and the input stays as it was.
    @Test func refusesToWriteOverTheInput() throws {
        try withTemporaryDirectory { dir in
            let input = dir + "/model.gguf"
            try writeFile(input, try readFile(Self.small))
            #expect(symlink(input, dir + "/link.gguf") == 0)
            #expect(link(input, dir + "/hard.gguf") == 0)
            for out in [input, dir + "/link.gguf", dir + "/hard.gguf"] {
                let run = try CLI.run(["edit", input, "-o", out, "--set", "test.u8=1"])
                #expect(run.status == 1, "\(run)")
                #expect(run.stderrText == "qwenkit: \(out): the output is the same file as the input \(input); "
                    + "write to another path (and move it over the input afterwards)\n", "\(run)")
            }
            #expect(try readFile(input) == (try readFile(Self.small)))
            #expect(try directoryEntries(dir) == ["hard.gguf", "link.gguf", "model.gguf"])
        }
    }
}
