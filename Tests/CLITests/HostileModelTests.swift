// Models edited to lie: headers that claim 2·10⁹ layers, alignments that would fill the disk, token ids past the
// vocabulary, names that carry terminal escapes. Each is built from a committed fixture by editing a copy in a
// temporary directory (with `qwenkit edit`, or config.json rewritten); each must end in one line naming the key and
// what the file really holds, exit 1 (2 for an edit flag), in bounded memory, with nothing left at the output path.

import Foundation
import Testing
import TestSupport

@Suite struct HostileModelTests {
    static let f32 = CLI.repositoryPath("Fixtures/convert-golden/q2-tied.f32.gguf")
    static let checkpoint = CLI.repositoryPath("Fixtures/checkpoints/q2-tied")

    /// Runs `arguments` and expects failure with exactly `message` on stderr, with the process's peak resident set
    /// under `peakLimit` (the refusal reads headers only; before the tensor census, the converter planned every
    /// claimed layer, gigabytes for 2·10⁹). Memory, from wait4's rusage of the child, not wall time.
    static func expectRefused(_ arguments: [String], _ message: String, peakLimit: Int = 64 << 20,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (run, peak) = try CLI.runMeasuringMemory(arguments)
        #expect(run.status == 1 && !run.signaled, "\(run)", sourceLocation: sourceLocation)
        #expect(run.stderrText == "qwenkit: " + message + "\n", sourceLocation: sourceLocation)
        #expect(peak < peakLimit, "\(arguments[0]) peaked at \(peak >> 20) MB to refuse", sourceLocation: sourceLocation)
    }

    /// A copy of the q2-tied checkpoint with config.json's `key` set to `value`.
    static func checkpoint(in dir: String, _ key: String, _ value: Any) throws -> String {
        let model = dir + "/model"
        try FileManager.default.copyItem(atPath: checkpoint, toPath: model)
        let configPath = model + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as! [String: Any]
        config[key] = value
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        return model
    }

    /// A copy of the q2-tied F32 GGUF edited with `qwenkit edit ARGS`.
    static func edited(in dir: String, _ arguments: [String]) throws -> String {
        let out = dir + "/edited.gguf"
        let run = try CLI.run(["edit", f32, "-o", out] + arguments)
        #expect(run.status == 0, "\(run)")
        return out
    }

    @Test(arguments: [2_000_000_000, 1 << 62])
    func layerCountBeyondTheTensors(_ layers: Int) throws {
        try withTemporaryDirectory { dir in
            // HF directory: convert, quantize, run.
            let model = try Self.checkpoint(in: dir, "num_hidden_layers", layers)
            // (2^62 is past the integers a JSON number holds exactly, which config.json's reader refuses first.)
            let hf = "\(model)/config.json: \"num_hidden_layers\": " + (layers < 1 << 53
                ? "is \(layers) but the tensors hold 2 layers (24 tensors in layers 0 to 1)"
                : "is 4.611686018427388e+18, above the largest integer read exactly (9e15)")
            try Self.expectRefused(["convert", model, "-o", dir + "/out.gguf"], hf)
            try Self.expectRefused(["quantize", model, dir + "/out.gguf", "Q8_0"], hf)
            try Self.expectRefused(["run", model, "--tokens", "1 2", "-n", "1"], hf)
            // GGUF: quantize, run.
            let gguf = try Self.edited(in: dir, ["--set-u64", "qwen2.block_count=\(layers)"])
            try Self.expectRefused(["quantize", gguf, dir + "/out.gguf", "Q8_0"],
                                   "\(gguf): qwen2.block_count is \(layers) but the tensors hold 2 layers (24 tensors in layers 0 to 1)")
            try Self.expectRefused(["run", gguf, "--tokens", "1 2", "-n", "1"],
                                   "\(gguf): \"qwen2.block_count\": is \(layers) but the tensors hold 2 layers (24 tensors in layers 0 to 1)")
            #expect(try directoryEntries(dir) == ["edited.gguf", "model"], "nothing is left at the output path")
        }
    }

    /// A context of 2^32 − 1 runs (the cache holds what the run needs); asking for all of it is refused, not a trap,
    /// and -n Int.max does not overflow.
    @Test func hugeContextRuns() throws {
        try withTemporaryDirectory { dir in
            let gguf = try Self.edited(in: dir, ["--set", "qwen2.context_length=4294967295"])
            let run = try CLI.run(["run", gguf, "--tokens", "1 2", "-n", "4"])
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout == (try CLI.run(["run", Self.f32, "--tokens", "1 2", "-n", "4"])).stdout)
            // 2^32 − 1 positions need a 2.2 TB KV cache, more than the machine has: refused before malloc (which
            // overcommits) is asked, naming what it would need.
            let physical = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
            let gb = String(format: "%.1f", Double(physical) / 1e9)
            try Self.expectRefused(["run", gguf, "--tokens", "1 2", "-n", String(Int.max)],
                                   "cannot allocate the KV cache for 4294967295 positions: it needs 2199.0 GB (2199023255040 bytes), more than"
                                   + " this machine's \(gb) GB of memory; ask for fewer positions (-c) or a smaller batch (-b)")
        }
    }

    /// Sizes are checked against the token embedding before anything is allocated by them.
    @Test func sizesBeyondTheTensors() throws {
        try withTemporaryDirectory { dir in
            let model = try Self.checkpoint(in: dir, "vocab_size", 2_000_000_000)
            try Self.expectRefused(["convert", model, "-o", dir + "/out.gguf"],
                                   "\(model)/config.json: \"vocab_size\": is 2000000000 but tensor \"model.embed_tokens.weight\" has 320 rows")
            let gguf = try Self.edited(in: dir, ["--set-u64", "qwen2.embedding_length=\(1 << 40)"])
            try Self.expectRefused(["run", gguf, "--tokens", "1 2", "-n", "1"],
                                   "\(gguf): \"qwen2.embedding_length\": is 1099511627776 but tensor \"token_embd.weight\" has rows of 32 values")
        }
    }

    /// hidden_size 0 is reported as itself (the config key, or the GGUF key), and a config.json that is not JSON says
    /// so, with the byte.
    @Test func messagesNameWhatIsWrong() throws {
        try withTemporaryDirectory { dir in
            let model = try Self.checkpoint(in: dir, "hidden_size", 0)
            try Self.expectRefused(["convert", model, "-o", dir + "/out.gguf"], "\(model)/config.json: \"hidden_size\": is 0; it must be positive")
            try writeFile(model + "/config.json", #"{"model_type": "qwen2", oops}"#)
            try Self.expectRefused(["convert", model, "-o", dir + "/out.gguf"],
                                   "\(model)/config.json: not valid JSON: at byte 24: expected '\"', found 'o'")
            let gguf = try Self.edited(in: dir, ["--set", "qwen2.embedding_length=0"])
            try Self.expectRefused(["run", gguf, "--tokens", "1 2", "-n", "1"], "\(gguf): \"qwen2.embedding_length\": is 0; it must be positive")
        }
    }

    /// Error messages are one line safe for a terminal too: a name from the file keeps its controls escaped.
    @Test func errorMessagesEscapeControlCharacters() throws {
        try withTemporaryDirectory { dir in
            let model = try Self.checkpoint(in: dir, "architectures", ["Evil\u{1b}[2J\u{9b}\n"])
            try Self.expectRefused(["convert", model, "-o", dir + "/out.gguf"],
                                   #"\#(model)/config.json: architecture Evil\u{1b}[2J\u{9b}\u{a} is not supported (supported: Qwen2ForCausalLM, Qwen2Model, Qwen2MoeForCausalLM)"#)
        }
    }

    /// Token ids set by `edit` must be tokens of tokenizer.ggml.tokens (320 in q2-tied).
    @Test func tokenIDsBeyondTheVocabulary() throws {
        let cases = [("--set", "tokenizer.ggml.eos_token_id=320", "320"),
                     ("--set-u32", "tokenizer.ggml.bos_token_id=4000000000", "4000000000"),
                     ("--set-u32", "tokenizer.ggml.eot_token_id=1000", "1000"),
                     ("--set-i32", "tokenizer.ggml.padding_token_id=-1", "-1")]
        for (flag, argument, value) in cases {
            try withTemporaryDirectory { dir in
                let run = try CLI.run(["edit", Self.f32, "-o", dir + "/out.gguf", flag, argument])
                #expect(run.status == 2 && !run.signaled, "\(run)")
                #expect(run.stderrLines.first == "Error: \(flag) \(argument): \(value) is not a token id: tokenizer.ggml.tokens in \(Self.f32) has 320 tokens (ids 0 to 319)")
                #expect(try directoryEntries(dir).isEmpty)
            }
        }
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["edit", Self.f32, "-o", dir + "/out.gguf", "--set", "tokenizer.ggml.eos_token_id=319"])
            #expect(run.status == 0 && run.stderrLines == ["set tokenizer.ggml.eos_token_id: 296 -> 319"], "\(run)")
        }
    }

    /// A key and a string value holding ESC [ 2 J (clear screen), and a tensor name holding U+009B (a one-character
    /// CSI), reach the text output of inspect and diff escaped: no C0 byte but the newlines they lay out, no DEL,
    /// no C1. JSON keeps JSON's escaping.
    @Test func controlCharactersInNamesAreEscaped() throws {
        try withTemporaryDirectory { dir in
            let key = "evil.\u{1b}[2J.key"
            let gguf = try Self.edited(in: dir, ["--set-str", "\(key)=x\u{1b}[2Jy\u{7f}\u{9b}z"])
            // The same number of bytes: "output_norm.weight" -> "output_norm.weig" + U+009B (C2 9B).
            var bytes = try readFile(gguf)
            let old = Array("output_norm.weight".utf8), new = Array("output_norm.weig\u{9b}".utf8)
            #expect(old.count == new.count)
            let at = try #require((0...(bytes.count - old.count)).first { bytes[$0..<($0 + old.count)].elementsEqual(old) })
            bytes.replaceSubrange(at..<(at + old.count), with: new)
            try writeFile(gguf, bytes)

            func expectTerminalSafe(_ run: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
                let bad = run.stdoutText.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
                #expect(bad.isEmpty, "\(run.arguments): \(bad.map { String($0.value, radix: 16) })", sourceLocation: sourceLocation)
                #expect(!run.stdout.contains(0x1B) && !run.stdout.contains(0x7F) && !run.stdout.contains(0x9B), sourceLocation: sourceLocation)
            }
            for arguments in [["inspect", gguf], ["inspect", gguf, "--tensors"], ["inspect", gguf, "--stats"]] {
                let run = try CLI.run(arguments)
                #expect(run.status == 0, "\(run)")
                expectTerminalSafe(run)
            }
            let inspect = try CLI.run(["inspect", gguf])
            #expect(inspect.stdoutText.contains(#"  evil.\u{1b}[2J.key                      STRING          "x\u001b[2Jy\u{7f}\u{9b}z""#), "\(inspect)")
            #expect(try CLI.run(["inspect", gguf, "--tensors"]).stdoutText.contains(#"output_norm.weig\u{9b}    F32"#))
            for arguments in [["diff", gguf, Self.f32], ["diff", Self.f32, gguf]] {
                let run = try CLI.run(arguments)
                #expect(run.status == 1, "\(run)")  // the models differ
                expectTerminalSafe(run)
            }
            let diff = try CLI.run(["diff", gguf, Self.f32]).stdoutText
            #expect(diff.contains(#"only-a  output_norm.weig\u{9b}    F32"#) && diff.contains(#"removed  evil.\u{1b}[2J.key  STRING "x\u001b[2Jy\u{7f}\u{9b}z""#), "\(diff)")
            // JSON: the names as JSON strings (C0 escaped by JSON, the rest as it is), parsed back exactly.
            let json = try CLI.run(["inspect", gguf, "--json"])
            let document = try JSONSerialization.jsonObject(with: Data(json.stdout)) as! [String: Any]
            #expect((document["metadata"] as? [String: Any])?[key] != nil)
            // edit's own summary line is escaped too.
            let summary = try CLI.run(["edit", Self.f32, "--dry-run", "--set-str", "\(key)=v"])
            #expect(summary.stdoutText == "add evil.\\u{1b}[2J.key: STRING \"v\"\n", "\(summary)")
        }
    }
}
