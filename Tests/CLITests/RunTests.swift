// `qwenkit run` as a user runs it: greedy generation equal to transformers', the --logits file in the golden layout,
// seeded sampling that repeats, usage errors.

import Foundation
import Testing
import TestSupport

@Suite struct RunTests {
    static let model = CLI.repositoryPath("Fixtures/convert-golden/q2-untied.f32.gguf")
    static let prompt = "257,294,268,266,33"  // the tokens of Fixtures/logit-golden/q2-untied.short.safetensors
    /// Plain greedy decoding: the GGUF's recommended sampling (general.sampling.*, from the checkpoint's
    /// generation_config.json: temperature 0.7, top-k 20, top-p 0.8, repetition penalty 1.05) would be the default.
    static let greedy = ["--temp", "0", "--repeat-penalty", "1"]

    /// transformers 5.24.0 (torch 2.15.0) on Fixtures/checkpoints/q2-untied, float32, eager attention:
    /// `model.generate(torch.tensor([[257, 294, 268, 266, 33]]), max_new_tokens=4, do_sample=False,
    /// repetition_penalty=1.0, eos_token_id=None)` continues with these (the checkpoint's generation_config.json asks for
    /// a repetition penalty of 1.05, which plain greedy decoding does not apply).
    static let transformersGreedy: [UInt32] = [204, 51, 184, 17]

    @Test func greedyEqualsTransformers() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["run", Self.model, "--tokens", Self.prompt, "-n", "4", "-q", "--logits", dir + "/logits.safetensors"] + Self.greedy)
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            // The text is the decoding of the generated ids, then a newline.
            let decoded = try CLI.run(["decode", "--tokenizer", CLI.repositoryPath("Fixtures/checkpoints/q2-untied"), "--no-newline"],
                                      stdin: .text(textFormatLine(Self.transformersGreedy) + "\n"))
            #expect(run.stdout == decoded.stdout + [0x0A], "\(run)\n\(decoded)")

            // The logits file is a full-form golden of prompt + generated tokens, which verify reads: its first five
            // rows are the short golden's (so it passes against it) ...
            let header = try safetensorsHeader(dir + "/logits.safetensors")
            let tokens = try #require(header["tokens"] as? [String: Any]), logits = try #require(header["logits"] as? [String: Any])
            #expect(tokens["dtype"] as? String == "I32" && tokens["shape"] as? [Int] == [9])
            #expect(logits["dtype"] as? String == "F32" && logits["shape"] as? [Int] == [9, 320])
            let metadata = try #require(header["__metadata__"] as? [String: String])
            #expect(metadata["format"] == "qwenkit-golden-logits-v1" && metadata["form"] == "full")
            // ... and against itself everything agrees: the same forward pass, with the generated tokens as input.
            let verify = try CLI.run(["verify", Self.model, dir + "/logits.safetensors"])
            #expect(verify.status == 0, "\(verify)")
            let bytes = try readFile(dir + "/logits.safetensors")
            let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let offsets = try #require(tokens["data_offsets"] as? [Int])
            let ids = idsFromLittleEndian(Array(bytes[(8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1])]))
            #expect(ids == [257, 294, 268, 266, 33] + Self.transformersGreedy)
            let golden = try CLI.run(["verify", Self.model, CLI.repositoryPath("Fixtures/logit-golden/q2-untied.short.safetensors")])
            #expect(golden.status == 0)
        }
    }

    /// Seeds 4 and 7 sample one of the checkpoint's padding ids (299..<320: rows of the model that the tokenizer
    /// has no token for), which run cannot decode and stops on; the seeds here stay within the tokenizer.
    @Test func seededSamplingRepeats() throws {
        let args = ["run", Self.model, "--tokens", Self.prompt, "-n", "12", "-q", "--temp", "0.8"]
        let a = try CLI.run(args + ["--seed", "1"]), b = try CLI.run(args + ["--seed", "1"])
        #expect(a.status == 0 && a.stdout == b.stdout && !a.stdout.isEmpty, "\(a)\n\(b)")
        let others = try [2, 3, 5].map { try CLI.run(args + ["--seed", String($0)]) }
        #expect(others.allSatisfy { $0.status == 0 })
        #expect(others.contains { $0.stdout != a.stdout }, "three other seeds all give the same text")
    }

    /// The generated ids of a run, from its --logits file (prompt ids first).
    static func generatedIDs(_ arguments: [String], promptCount: Int) throws -> [UInt32] {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(arguments + ["-q", "--logits", dir + "/l.safetensors"])
            #expect(run.status == 0, "\(run)")
            let header = try safetensorsHeader(dir + "/l.safetensors")
            let tokens = try #require(header["tokens"] as? [String: Any])
            let bytes = try readFile(dir + "/l.safetensors")
            let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let offsets = try #require(tokens["data_offsets"] as? [Int])
            return Array(idsFromLittleEndian(Array(bytes[(8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1])])).dropFirst(promptCount))
        }
    }

    /// transformers' greedy generation with repetition_penalty over the whole sequence (prompt included):
    /// --repeat-penalty P --repeat-last-n -1 (Fixtures/logit-golden/q2-untied.generate.json).
    @Test func repetitionPenaltyEqualsTransformers() throws {
        let golden = try #require(try JSONSerialization.jsonObject(with: Data(readFile(CLI.repositoryPath("Fixtures/logit-golden/q2-untied.generate.json"))))
            as? [String: Any])
        let cases = try #require(golden["cases"] as? [[String: Any]])
        #expect(cases.count == 4)
        for c in cases {
            let penalty = try #require(c["repetition_penalty"] as? Double), tokens = try #require(c["tokens"] as? [Int])
            let ids = try Self.generatedIDs(["run", Self.model, "--tokens", Self.prompt, "-n", "12", "--temp", "0",
                                             "--repeat-penalty", String(penalty), "--repeat-last-n", "-1"], promptCount: 5)
            #expect(ids == tokens.map(UInt32.init), "repetition penalty \(penalty)")
        }
    }

    /// The GGUF's general.sampling.* are the defaults: a run without flags samples as --temp 0.7 --top-k 20 --top-p 0.8
    /// --repeat-penalty 1.05 does, and a flag overrides its key. --stop ends the text before the stop string.
    @Test func samplingDefaultsAndStop() throws {
        let base = ["run", Self.model, "--tokens", Self.prompt, "-n", "12", "-q", "--seed", "5"]
        let implicit = try CLI.run(base)
        let explicit = try CLI.run(base + ["--temp", "0.7", "--top-k", "20", "--top-p", "0.8", "--repeat-penalty", "1.05"])
        #expect(implicit.status == 0 && implicit.stdout == explicit.stdout, "\(implicit)\n\(explicit)")
        // min-p 1 keeps only the most likely token: greedy with the penalty.
        let minP = try CLI.run(base + ["--min-p", "1"])
        let greedyPenalized = try CLI.run(base + ["--temp", "0"])
        #expect(minP.stdout == greedyPenalized.stdout, "\(minP)\n\(greedyPenalized)")
        // A stop string: the text up to it, then a newline; nothing after.
        let greedy = try CLI.run(["run", Self.model, "--tokens", Self.prompt, "-n", "12", "-q"] + Self.greedy)
        let text = String(decoding: greedy.stdout.dropLast(), as: UTF8.self)
        let scalars = Array(text.unicodeScalars)
        let stop = String(String.UnicodeScalarView(scalars[4..<6]))
        let cut = try CLI.run(["run", Self.model, "--tokens", Self.prompt, "-n", "12", "-q", "--stop", stop] + Self.greedy)
        let before = String(text[..<text.range(of: stop)!.lowerBound])
        #expect(cut.status == 0 && cut.stdoutText == (before.isEmpty ? "" : before + "\n"), "\(cut)")
    }

    /// -f - reads the prompt from stdin; -p is --prompt.
    @Test func promptFromStdin() throws {
        let text = "Hello"
        let flag = try CLI.run(["run", Self.model, "-p", text, "-n", "4", "-q"] + Self.greedy)
        let stdin = try CLI.run(["run", Self.model, "-f", "-", "-n", "4", "-q"] + Self.greedy, stdin: .text(text))
        #expect(flag.status == 0 && stdin.status == 0 && flag.stdout == stdin.stdout, "\(flag)\n\(stdin)")
    }

    @Test func usageErrors() throws {
        let cases: [([String], String)] = [
            (["run", Self.model], "Error: give a prompt: --prompt TEXT, -f/--file FILE or --tokens IDS"),
            (["run", Self.model, "--prompt", "a", "--tokens", "1"], "Error: --prompt, -f/--file and --tokens cannot be used together"),
            (["run", Self.model, "-f", "x.txt", "--tokens", "1"], "Error: --prompt, -f/--file and --tokens cannot be used together"),
            (["run", Self.model, "--tokens", "1,x"], "Error: --tokens: \"x\" at position 1 is not a token id (expected non-negative integers separated by commas or spaces)"),
            (["run", Self.model, "--tokens", "1", "--temp=-1"], "Error: --temp must be a number of at least 0"),
            (["run", Self.model, "--tokens", "1", "--top-p", "0"], "Error: --top-p must be in (0, 1]"),
            (["run", Self.model, "--tokens", "1", "--chat"], "Error: --chat needs --prompt or -f/--file (--tokens are used as given)"),
            (["run", Self.model, "--tokens", "1", "--threads", "0"], "Error: --threads must be between 1 and 1024"),
            (["run", Self.model, "--tokens", "1", "-c", "-1"], "Error: -c/--ctx-size must be at least 0 (0: as the prompt and -n need)"),
            (["run", Self.model, "--tokens", "1", "-b", "0"], "Error: -b/--batch-size must be at least 1"),
            (["run", Self.model, "--tokens", "1", "--min-p", "2"], "Error: --min-p must be in [0, 1]"),
            (["run", Self.model, "--tokens", "1", "--repeat-penalty", "0"], "Error: --repeat-penalty must be above 0"),
            (["run", Self.model, "--tokens", "1", "--repeat-last-n", "-2"], "Error: --repeat-last-n must be -1 (all), 0 (none) or more"),
            (["run", Self.model, "--tokens", "1", "--stop", ""], "Error: --stop needs a non-empty string"),
            (["run", Self.model, "--tokens", "1", "--system", "s"], "Error: --system and --chat-template need --chat"),
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            #expect(run.status == 2 && run.stdout.isEmpty, "\(run)")
            #expect(run.stderrLines.first == message, "\(run)")
        }
        let past = try CLI.run(["run", Self.model, "--tokens", "1", "-c", "513"])
        #expect(past.status == 1 && past.stderrLines == ["qwenkit: -c/--ctx-size 513 is past the model's context of 512 positions"], "\(past)")
        let short = try CLI.run(["run", Self.model, "--tokens", "1,2,3,4", "-c", "3"])
        #expect(short.status == 1 && short.stderrLines == ["qwenkit: 4 positions needed but the session allows 3"], "\(short)")
        let range = try CLI.run(["run", Self.model, "--tokens", "1,320", "-n", "1"])
        #expect(range.status == 1 && range.stderrLines == ["qwenkit: token 320 at position 1 is out of range: the model's vocabulary has 320 tokens (ids 0..<320)"], "\(range)")
    }
}

extension RunTests {
    /// -f reads the prompt from a file: the same tokens and output as --prompt with its text; bad files are named.
    @Test func promptFromAFile() throws {
        try withTemporaryDirectory { dir in
            let text = "the cat sat on!"
            try writeFile(dir + "/prompt.txt", text)
            let fromFlag = try CLI.run(["run", Self.model, "--prompt", text, "-n", "4", "-q"])
            let fromFile = try CLI.run(["run", Self.model, "-f", dir + "/prompt.txt", "-n", "4", "-q"])
            #expect(fromFlag.status == 0 && fromFile.status == 0 && fromFile.stdout == fromFlag.stdout && !fromFile.stdout.isEmpty,
                    "\(fromFlag)\n\(fromFile)")
            try writeFile(dir + "/bad.txt", [0x61, 0xFF, 0x62])
            let bad = try CLI.run(["run", Self.model, "-f", dir + "/bad.txt"])
            #expect(bad.status == 1 && bad.stderrLines == ["qwenkit: \(dir)/bad.txt: not UTF-8 text"], "\(bad)")
            let missing = try CLI.run(["run", Self.model, "-f", dir + "/missing.txt"])
            #expect(missing.status == 1 && missing.stderrLines.count == 1 && missing.stderrText.contains("missing.txt"), "\(missing)")
        }
    }

    /// -c sizes the cache and -b the step: any of them gives transformers' greedy tokens; generation stops where the
    /// cache is full.
    @Test func contextAndBatchSizes() throws {
        let expected = try CLI.run(["run", Self.model, "--tokens", Self.prompt, "-n", "4", "-q"] + Self.greedy)
        #expect(expected.status == 0)
        for (c, b) in [("0", "1"), ("9", "2"), ("512", "3"), ("100", "64")] {
            let run = try CLI.run(["run", Self.model, "--tokens", Self.prompt, "-n", "4", "-q", "-c", c, "-b", b] + Self.greedy)
            #expect(run.status == 0 && run.stdout == expected.stdout, "-c \(c) -b \(b): \(run)")
        }
        // 7 positions: the prompt's 5, then the first two generated tokens are evaluated and a third sampled.
        let full = try CLI.run(["run", Self.model, "--tokens", Self.prompt, "-n", "4", "-q", "-c", "7"] + Self.greedy)
        let three = try CLI.run(["decode", "--tokenizer", CLI.repositoryPath("Fixtures/checkpoints/q2-untied"), "--no-newline"],
                                stdin: .text(textFormatLine(Array(Self.transformersGreedy.prefix(3))) + "\n"))
        #expect(full.status == 0 && full.stdout == three.stdout + [0x0A], "\(full)")
    }

    /// A context the machine cannot hold is refused before anything is allocated, saying what it would need.
    @Test func contextPastMemoryIsRefused() throws {
        try withTemporaryDirectory { dir in
            let edited = dir + "/huge-context.gguf"
            let edit = try CLI.run(["edit", Self.model, "-o", edited, "--set", "qwen2.context_length=4000000000"])
            #expect(edit.status == 0, "\(edit)")
            let run = try CLI.run(["run", edited, "--tokens", "1", "-c", "4000000000"])
            // 2 layers × keys and values × 4e9 positions × 12 floats (1 KV head of 12) × 4 bytes.
            #expect(run.status == 1 && run.stderrLines.count == 1
                && run.stderrLines[0].hasPrefix("qwenkit: cannot allocate the KV cache for 4000000000 positions: it needs 768.0 GB (768000000000 bytes), more than this machine's ")
                && run.stderrLines[0].hasSuffix(" GB of memory; ask for fewer positions (-c) or a smaller batch (-b)"), "\(run)")
        }
    }
}

/// The JSON header of a safetensors file.
func safetensorsHeader(_ path: String) throws -> [String: Any] {
    let bytes = try readFile(path)
    let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    return try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
}
