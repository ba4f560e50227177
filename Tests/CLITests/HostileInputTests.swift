// The hostile-input suite: a reproduction of every way qwenkit was found to lose a user's file, leave debris,
// allocate without bound, trust a size it had not checked, or give a wrong answer without saying so, each run
// as a user would run it. Grows with every bug found; the structural fuzzing of GGUF and safetensors files lives
// in ModelFilesTests/FuzzTests and the tokenizer's bad inputs in BadInputTests (`make hostile` runs all three).

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct HostileInputTests {
    static let gguf = CLI.repositoryPath("Fixtures/convert-golden/q2-untied.f32.gguf")
    static let checkpoint = CLI.repositoryPath("Fixtures/checkpoints/q2-tied")
    static let tokenizer = CLI.repositoryPath("Fixtures/tokenizers/qwen2")

    // MARK: Outputs never destroy an input

    /// A command line whose output is `output` and whose input lives in `dir`.
    struct SameFileCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// The input file (copied into the test's directory as `input`) or directory (copied as `input/`).
        let source: String
        /// The file inside the input that the output names (nil: the input itself).
        let member: String?
        /// The arguments, given the input path and the output path.
        let arguments: @Sendable (_ input: String, _ output: String) -> [String]
        /// For commands that read stdin: the input goes there instead of on the command line.
        var viaStdin = false
        var testDescription: String { name }
    }

    static let sameFileCases: [SameFileCase] = [
        SameFileCase(name: "quantize", source: gguf, member: nil) { ["quantize", $0, $1, "Q8_0", "-q"] },
        SameFileCase(name: "convert", source: checkpoint, member: "model.safetensors") { ["convert", $0, "-o", $1, "-q"] },
        SameFileCase(name: "convert config.json", source: checkpoint, member: "config.json") { ["convert", $0, "-o", $1, "-q"] },
        SameFileCase(name: "quantize a checkpoint", source: checkpoint, member: "model.safetensors") { ["quantize", $0, $1, "Q8_0", "-q"] },
        SameFileCase(name: "edit", source: gguf, member: nil) { ["edit", $0, "-o", $1, "--set-str", "general.name=x"] },
        SameFileCase(name: "run --logits", source: gguf, member: nil) { ["run", $0, "--tokens", "1,2", "-n", "1", "-q", "--logits", $1] },
        SameFileCase(name: "imatrix", source: gguf, member: nil) {
            ["imatrix", $0, "-f", CLI.repositoryPath("Fixtures/imatrix/calibration.txt"), "-c", "16", "--chunks", "2", "-o", $1]
        },
        SameFileCase(name: "tokenizer compile", source: tokenizer, member: "tokenizer.json.zst") { ["tokenizer", "compile", $0, "-o", $1] },
        SameFileCase(name: "encode", source: CLI.repositoryPath("Fixtures/sample.txt"), member: nil) { ["encode", $0, "-o", $1] },
        SameFileCase(name: "encode --tokenizer", source: tokenizer, member: "tokenizer.json.zst") { ["encode", "--tokenizer", $0, "-o", $1] },
        SameFileCase(name: "encode from stdin", source: CLI.repositoryPath("Fixtures/sample.txt"), member: nil,
                     arguments: { _, output in ["encode", "-o", output] }, viaStdin: true),
        SameFileCase(name: "decode", source: CLI.repositoryPath("Fixtures/sample.txt"), member: nil,
                     arguments: { _, output in ["decode", "-o", output] }, viaStdin: true),
        SameFileCase(name: "merge", source: CLI.repositoryPath("Fixtures/sample.txt"), member: nil) { ["merge", "-o", $1, $0] },
    ]

    /// Every command that writes refuses an output that is one of its inputs, whatever the spelling — the same path,
    /// `./`, absolute, a hard link, a symbolic link — before writing anything, with one line naming both, status 1;
    /// the input is untouched and nothing is left beside it.
    @Test(arguments: sameFileCases)
    func outputThatIsAnInputIsRefused(_ c: SameFileCase) throws {
        try withTemporaryDirectory { dir in
            let input = dir + "/input"
            #expect(try CLI.shell("cp -R '\(c.source)' '\(input)'", in: dir).status == 0)
            let target = c.member.map { input + "/" + $0 } ?? input
            let before = try readFile(target)
            #expect(link(target, dir + "/hard") == 0 && symlink(target, dir + "/soft") == 0)
            let relative = c.member.map { "input/" + $0 } ?? "input"
            let spellings = [relative, "./" + relative, target, dir + "/hard", dir + "/soft"]
            let entries = try directoryEntries(dir) + (c.member == nil ? [] : directoryEntries(input))
            for output in spellings {
                let run = try CLI.run(c.arguments(input, output.hasPrefix("/") ? output : dir + "/" + output),
                                      stdin: c.viaStdin ? .file(target) : .none)
                #expect(run.status == 1 && !run.signaled && run.stdout.isEmpty, "\(run)")
                #expect(run.stderrLines.count == 1 && run.stderrText.contains(": the output is the same file as the input "),
                        "\(run)")
                #expect(try readFile(target) == before, "\(c.name) changed its input through \(output)")
                #expect(try directoryEntries(dir) + (c.member == nil ? [] : directoryEntries(input)) == entries)
            }
        }
    }

    /// The message names the output as given and the input as it was opened.
    @Test func sameFileMessage() throws {
        try withTemporaryDirectory { dir in
            #expect(try CLI.shell("cp '\(Self.gguf)' a.gguf", in: dir).status == 0)
            let run = try CLI.run(["quantize", dir + "/a.gguf", dir + "/a.gguf", "Q8_0"])
            #expect(run.stderrText == "qwenkit: \(dir)/a.gguf: the output is the same file as the input \(dir)/a.gguf; "
                + "write to another path (and move it over the input afterwards)\n", "\(run)")
        }
    }

    /// Outputs that are not regular files are written in place as streams: /dev/null stays the device (a rename
    /// would replace it with a file, as root), a FIFO receives exactly the bytes a file would, and a symbolic link
    /// to a regular file stays a link while its target is replaced.
    @Test func devicesFIFOsAndLinksAreWrittenInPlace() throws {
        try withTemporaryDirectory { dir in
            let commands: [(String, [String])] = [
                ("quantize", ["quantize", Self.gguf, "OUT", "Q8_0", "-q"]),
                ("convert", ["convert", Self.checkpoint, "-o", "OUT", "-q"]),
                ("edit", ["edit", Self.gguf, "-o", "OUT", "--set-str", "general.name=x"]),
                ("run --logits", ["run", Self.gguf, "--tokens", "1,2", "-n", "1", "-q", "--logits", "OUT"]),
                ("tokenizer compile", ["tokenizer", "compile", Self.tokenizer, "-o", "OUT"]),
            ]
            var nullBefore = stat()
            #expect(stat("/dev/null", &nullBefore) == 0)
            for (name, arguments) in commands {
                let file = dir + "/" + name.replacingOccurrences(of: " ", with: "-")
                let expected = try CLI.run(arguments.map { $0 == "OUT" ? file : $0 })
                #expect(expected.status == 0, "\(expected)")
                let reference = try readFile(file)

                let null = try CLI.run(arguments.map { $0 == "OUT" ? "/dev/null" : $0 })
                #expect(null.status == 0, "\(name) to /dev/null: \(null)")
                var after = stat()
                #expect(stat("/dev/null", &after) == 0 && after.st_mode & S_IFMT == S_IFCHR && after.st_rdev == nullBefore.st_rdev,
                        "\(name) replaced /dev/null")

                // A FIFO: a reader drains it while the command writes.
                let fifo = dir + "/fifo"
                #expect(mkfifo(fifo, 0o600) == 0)
                let drained = try CLI.shell("cat fifo > drained & \"$QWENKIT\" "
                    + arguments.map { $0 == "OUT" ? "fifo" : "'\($0)'" }.joined(separator: " ") + "; status=$?; wait; exit $status",
                    in: dir)
                #expect(drained.status == 0, "\(name) to a FIFO: \(drained)")
                #expect(try readFile(dir + "/drained") == reference, "\(name) wrote other bytes to a FIFO")
                var info = stat()
                #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
                unlink(fifo)
                unlink(dir + "/drained")

                // A symbolic link to a regular file: the target is replaced, the link stays.
                try writeFile(dir + "/target", "old")
                #expect(symlink(dir + "/target", dir + "/link") == 0)
                let linked = try CLI.run(arguments.map { $0 == "OUT" ? dir + "/link" : $0 })
                #expect(linked.status == 0, "\(linked)")
                #expect(lstat(dir + "/link", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
                #expect(try readFile(dir + "/target") == reference)
                unlink(dir + "/link")
                unlink(dir + "/target")
                unlink(file)
                let left = try directoryEntries(dir)
                #expect(left == [], "\(name) left \(left)")
            }
        }
    }

    /// A socket cannot be an output: one line says so.
    @Test func socketOutputIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/s.sock"
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0)
            let run = try CLI.run(["quantize", Self.gguf, path, "Q8_0"])
            #expect(run.status == 1 && run.stderrText == "qwenkit: \(path): is a socket; an output must be a file, a pipe or a device\n",
                    "\(run)")
        }
    }

    // MARK: Interrupts leave nothing behind

    /// SIGINT, SIGTERM and SIGHUP while an output is being written remove its temporary file, then exit 130, 143
    /// and 129 (not killed by the signal: the handler exits).
    static let interrupts: [(Int32, Int32)] = [(Int32(SIGINT), 130), (Int32(SIGTERM), 143), (Int32(SIGHUP), 129)]

    @Test(arguments: interrupts)
    func interruptRemovesTemporaryFiles(_ signalNumber: Int32, _ status: Int32) throws {
        try withTemporaryDirectory { dir in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try CLI.binary())
            process.arguments = ["encode", "-o", dir + "/out.txt"]
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // encode has created its temporary output and waits for stdin.
            try input.fileHandleForWriting.write(contentsOf: Data("Hello".utf8))
            var temporary: [String] = []
            for _ in 0..<500 where temporary.isEmpty {
                usleep(10_000)
                temporary = try directoryEntries(dir).filter { $0.contains(".tmp-") }
            }
            #expect(temporary.count == 1, "no temporary output appeared")
            kill(process.processIdentifier, signalNumber)
            process.waitUntilExit()
            try? input.fileHandleForWriting.close()
            #expect(process.terminationReason == .exit && process.terminationStatus == status)
            #expect(try directoryEntries(dir) == [])
        }
    }

    /// run --logits spools its rows to an unlinked scratch file: nothing appears beside the output, ever.
    @Test func logitsSpoolLeavesNoFile() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["run", Self.gguf, "--tokens", "1,2", "-n", "2", "-q", "--logits", dir + "/l.safetensors"],
                                  environment: ["TMPDIR": dir])
            #expect(run.status == 0, "\(run)")
            #expect(try directoryEntries(dir) == ["l.safetensors"])
        }
    }

    // MARK: Flags are range-checked

    @Test func hugeGenerationCountIsCappedAtTheContext() throws {
        let run = try CLI.run(["run", Self.gguf, "--tokens", "257,294", "-n", "9223372036854775807", "-q"])
        #expect(run.status == 0 && !run.signaled, "\(run)")
    }

    /// A temperature whose inverse overflows samples the argmax: the same text as greedy.
    @Test func subnormalTemperatureIsGreedy() throws {
        let greedy = try CLI.run(["run", Self.gguf, "--tokens", "257,294,268", "-n", "12", "-q", "--temp", "0"])
        for temp in ["1e-45", "1e-38"] {
            let tiny = try CLI.run(["run", Self.gguf, "--tokens", "257,294,268", "-n", "12", "-q", "--temp", temp, "--seed", "3"])
            #expect(tiny.status == 0 && tiny.stdout == greedy.stdout && !greedy.stdout.isEmpty, "\(temp): \(tiny)\n\(greedy)")
        }
    }

    @Test(arguments: [
        (["--tokens", "-1"], "--tokens: id -1 at position 0 is out of range (ids are 0...4294967295)"),
        (["--tokens", "1,99999999999"], "--tokens: id 99999999999 at position 1 is out of range (ids are 0...4294967295)"),
        (["--tokens", "1,x"], "--tokens: \"x\" at position 1 is not a token id (expected non-negative integers separated by commas or spaces)"),
        (["--tokens", "1", "-n", "-5"], "-n must be at least 0"),
        (["--tokens", "1", "--temp", "-1"], "--temp must be a number of at least 0"),
        (["--tokens", "1", "--top-k", "-1"], "--top-k must be at least 0"),
        (["--tokens", "1", "--top-p", "0"], "--top-p must be in (0, 1]"),
        (["--tokens", "1", "--threads", "-2"], "--threads must be between 1 and 1024"),
    ])
    func runFlagsAreRangeChecked(_ arguments: [String], _ message: String) throws {
        let run = try CLI.run(["run", Self.gguf] + arguments)
        #expect(run.status == 2 && run.stdout.isEmpty && run.stderrLines.first == "Error: " + message, "\(run)")
    }

    /// A negative number is a value out of range, named by its flag, in every command (not "Missing value").
    @Test(arguments: [
        (["encode", "--threads", "-1"], "--threads must be between 1 and 1024"),
        (["quantize", gguf, "/tmp/unused.gguf", "Q8_0", "--threads", "-1"], "--threads must be between 1 and 1024"),
        (["quantize", gguf, "/tmp/unused.gguf", "Q8_0", "--threads", "5000"], "--threads must be between 1 and 1024"),
        (["inspect", gguf, "--threads", "-1"], "--threads must be between 1 and 1024"),
        (["diff", gguf, gguf, "--tolerance", "-1"], "--tolerance must be a number, 0 or more"),
        (["verify", gguf, "g", "--max-kl", "-1"], "--max-kl must be a number, 0 or more"),
        (["verify", gguf, "g", "--worst", "-1"], "--worst must be at least 0"),
        (["tokenizer", "compile", tokenizer, "-o", "/tmp/unused.zst", "--level", "-1"], "--level must be between 1 and 19"),
    ])
    func negativeNumbersAreNamed(_ arguments: [String], _ message: String) throws {
        let run = try CLI.run(arguments)
        #expect(run.status == 2 && run.stdout.isEmpty && run.stderrLines.first == "Error: " + message, "\(run)")
    }

    @Test func tokenPastTheVocabulary() throws {
        let run = try CLI.run(["run", Self.gguf, "--tokens", "1,320", "-q"])
        #expect(run.status == 1 && run.stderrText
            == "qwenkit: token 320 at position 1 is out of range: the model's vocabulary has 320 tokens (ids 0..<320)\n", "\(run)")
    }

    // MARK: One exit status for usage errors

    /// Every subcommand answers a usage error with status 2 (ExitStatus.usage), its message first on stderr.
    @Test(arguments: ["encode", "decode", "count", "merge", "tokenizer compile", "tokenizer profile", "inspect", "edit", "convert", "quantize", "diff", "run", "verify",
                      "imatrix", "perplexity", "template", "chat", "serve"])
    func usageErrorStatus(_ command: String) throws {
        let run = try CLI.run(command.split(separator: " ").map(String.init) + ["--no-such-flag"])
        #expect(run.status == 2 && run.stdout.isEmpty && run.stderrLines.first?.hasPrefix("Error: ") == true, "\(run)")
    }

    @Test func helpForAnUnknownCommandFails() throws {
        let unknown = try CLI.run(["help", "bogus"])
        #expect(unknown.status == 2 && unknown.stdout.isEmpty && unknown.stderrText
            == "Error: qwenkit has no command 'bogus' (its commands: encode, decode, count, merge, tokenizer, inspect, edit, convert, "
            + "quantize, diff, run, verify, imatrix, perplexity, template, chat, serve)\n", "\(unknown)")
        let nested = try CLI.run(["help", "tokenizer", "bogus"])
        #expect(nested.status == 2 && nested.stderrText == "Error: qwenkit tokenizer has no command 'bogus' (its commands: compile, profile)\n")
        #expect(try CLI.run(["help", "tokenizer", "compile"]).status == 0)
    }

    /// diff answers as cmp: 0 same, 1 different, 2 cannot read.
    @Test func diffKeepsDifferentApartFromUnreadable() throws {
        let same = try CLI.run(["diff", Self.gguf, Self.gguf])
        #expect(same.status == 0, "\(same)")
        let differ = try CLI.run(["diff", Self.gguf, CLI.repositoryPath("Fixtures/convert-golden/q2-untied.q8_0.gguf")])
        #expect(differ.status == 1, "\(differ)")
        let missing = try CLI.run(["diff", Self.gguf, "/nonexistent.gguf"])
        #expect(missing.status == 2 && missing.stderrLines.count == 1, "\(missing)")
    }
}
