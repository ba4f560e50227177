// `qwenkit verify` as a user runs it: 0 within the thresholds, 1 outside them, 2 (one line on stderr) for input it
// cannot use; the text report and the JSON document, on the committed goldens of Fixtures/logit-golden.

import Foundation
import Testing
import TestSupport

@Suite struct VerifyTests {
    static func model(_ name: String, _ type: String) -> String { CLI.repositoryPath("Fixtures/convert-golden/\(name).\(type).gguf") }
    static func golden(_ name: String) -> String { CLI.repositoryPath("Fixtures/logit-golden/\(name).safetensors") }

    /// A full-form golden written by hand: `tokens` I32 [n] and zero `logits` F32 [n, vocab].
    static func handMadeGolden(_ path: String, tokens: [Int32], vocab: Int) throws {
        let tokenBytes = tokens.count * 4, logitBytes = tokens.count * vocab * 4
        let header = #"{"__metadata__":{"format":"qwenkit-golden-logits-v1"},"tokens":{"dtype":"I32","shape":[\#(tokens.count)],"data_offsets":[0,\#(tokenBytes)]},"logits":{"dtype":"F32","shape":[\#(tokens.count),\#(vocab)],"data_offsets":[\#(tokenBytes),\#(tokenBytes + logitBytes)]}}"#
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
        bytes += Array(header.utf8)
        for t in tokens { withUnsafeBytes(of: t.littleEndian) { bytes += $0 } }
        bytes += [UInt8](repeating: 0, count: logitBytes)
        try writeFile(path, bytes)
    }

    @Test func faithfulModelPasses() throws {
        let goldens = ["short", "chat", "long", "chat.top8"].map { Self.golden("q2-untied." + $0) }
        let run = try CLI.run(["verify", Self.model("q2-untied", "f32")] + goldens + ["--threads", "2"])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let lines = run.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("model: \(Self.model("q2-untied", "f32"))  (F32; thresholds: max abs err ≤ 0.0001, "))
        #expect(lines.contains { $0.hasPrefix("pass    \(Self.golden("q2-untied.chat.top8"))  top-8 ") && $0.contains(" 21 ") })
        #expect(lines.contains { $0.hasPrefix("pass    total ") && $0.contains(" 107 ") && $0.contains("100.0%") })
        #expect(lines.contains("worst positions (by KL):"))
        #expect(lines.suffix(2) == ["4 goldens, 107 positions: all within the F32 thresholds", ""])
    }

    /// A quantized file passes its own type's thresholds (Q8_0's KL budget) and fails F32's (--type) or a tighter flag.
    @Test func thresholdsByTypeAndFlags() throws {
        let args = ["verify", Self.model("q2-untied", "q8_0"), Self.golden("q2-untied.long")]
        let own = try CLI.run(args)
        #expect(own.status == 0, "\(own)")
        #expect(own.stdoutText.hasPrefix("model: \(Self.model("q2-untied", "q8_0"))  (Q8_0; thresholds: top-1 ≥ 0.6, top-5 ≥ 0.8, mean KL ≤ 0.01, max KL ≤ 0.1)\n"))
        let strict = try CLI.run(args + ["--type", "f32"])
        #expect(strict.status == 1 && strict.stderr.isEmpty, "\(strict)")
        #expect(strict.stdoutText.contains("  (F32; thresholds: max abs err ≤ 0.0001"))
        #expect(strict.stdoutText.hasSuffix("1 golden, 60 positions: 1 of 1 golden fails; the model differs from the reference\n"))
        let flag = try CLI.run(args + ["--max-mean-kl", "1e-6"])
        #expect(flag.status == 1 && flag.stdoutText.contains("mean KL ≤ 1e-06"), "\(flag)")
        #expect(try CLI.run(args + ["--type", "Q4_K_M"]).stdoutText.contains("(Q4_K_M; thresholds: top-1 ≥ 0.25, top-5 ≥ 0.5, mean KL ≤ 0.35"))
    }

    /// A wrong rope theta: the report on stdout, status 1, nothing on stderr.
    @Test func perturbedModelFails() throws {
        try withTemporaryDirectory { dir in
            let edited = dir + "/rope.gguf"
            let edit = try CLI.run(["edit", Self.model("q2-tied", "f32"), "-o", edited, "--set", "qwen2.rope.freq_base=10000"])
            #expect(edit.status == 0, "\(edit)")
            let run = try CLI.run(["verify", edited, Self.golden("q2-tied.chat"), Self.golden("q2-tied.long")])
            #expect(run.status == 1 && !run.signaled && run.stderr.isEmpty, "\(run)")
            let lines = run.stdoutText.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("FAIL    \(Self.golden("q2-tied.long"))  full ") && $0.contains("mean KL ") && $0.contains(" > 1e-07") })
            #expect(lines.contains { $0.hasSuffix("top-1 differs") })
            #expect(lines.last == "2 goldens, 81 positions: 2 of 2 goldens fail; the model differs from the reference")
        }
    }

    @Test func jsonDocument() throws {
        let run = try CLI.run(["verify", "--json", "--worst", "3", Self.model("q2moe", "f32"), Self.golden("q2moe.short"), Self.golden("q2moe.chat.top8")])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any], "\(run)")
        #expect(doc["model"] as? String == Self.model("q2moe", "f32"))
        #expect(doc["weight_type"] as? String == "F32")
        #expect(doc["passed"] as? Bool == true)
        let thresholds = try #require(doc["thresholds"] as? [String: Any])
        #expect(thresholds["max_abs_error"] as? Double == 1e-4 && thresholds["max_mean_kl"] as? Double == 1e-7)
        let files = try #require(doc["files"] as? [[String: Any]])
        #expect(files.map { $0["form"] as? String } == ["full", "compact"])
        #expect(files[1]["top_k"] as? Int == 8 && files[0]["vocab_size"] as? Int == 320)
        let total = try #require(doc["total"] as? [String: Any])
        let metrics = try #require(total["metrics"] as? [String: Any])
        #expect(metrics["positions"] as? Int == 26)
        for key in ["max_abs_error", "rmse", "cosine", "top1_agreement", "top5_overlap", "mean_kl", "max_kl"] {
            #expect(metrics[key] is Double, "\(key)")
        }
        #expect((metrics["max_abs_error"] as? Double ?? 1) < 1e-4 && metrics["top1_agreement"] as? Double == 1)
        #expect((total["worst"] as? [[String: Any]])?.count == 3)
    }

    /// Input verify cannot use: status 2 and exactly one line on stderr, nothing on stdout.
    static func expectUnusable(_ arguments: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try CLI.run(["verify"] + arguments)
        #expect(run.status == 2 && !run.signaled, "\(run)", sourceLocation: sourceLocation)
        #expect(run.stderrLines == ["qwenkit: " + message], "\(run)", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func unusableInput() throws {
        let model = Self.model("q2-tied", "f32")
        try withTemporaryDirectory { dir in
            try Self.handMadeGolden(dir + "/vocab100.safetensors", tokens: [1, 2, 3], vocab: 100)
            try Self.expectUnusable([model, dir + "/vocab100.safetensors"],
                                    "\(dir)/vocab100.safetensors: the golden's vocabulary has 100 ids but the model's has 320 (made from another model?)")
            try Self.handMadeGolden(dir + "/token.safetensors", tokens: [1, 2, 400], vocab: 320)
            try Self.expectUnusable([model, Self.golden("q2-tied.short"), dir + "/token.safetensors"],
                                    "\(dir)/token.safetensors: token 400 at position 2 is out of range for a vocabulary of 320")
            let short = dir + "/ctx16.gguf"
            #expect(try CLI.run(["edit", model, "-o", short, "--set", "qwen2.context_length=16"]).status == 0)
            try Self.expectUnusable([short, Self.golden("q2-tied.long")],
                                    "\(Self.golden("q2-tied.long")): 60 tokens, longer than the model's context length (16)")
            try Self.expectUnusable([model, dir + "/missing.safetensors"], "\(dir)/missing.safetensors: cannot open: No such file or directory")
            try Self.expectUnusable([dir + "/missing.gguf", Self.golden("q2-tied.short")], "\(dir)/missing.gguf: cannot open: No such file or directory")
            try writeFile(dir + "/not-a-golden.safetensors", [1, 2, 3])
            let notGolden = try CLI.run(["verify", model, dir + "/not-a-golden.safetensors"])
            #expect(notGolden.status == 2 && notGolden.stderrLines.count == 1, "\(notGolden)")
        }
    }

    /// Usage errors exit 2 too (cmp's convention), with the usage; --help still exits 0.
    @Test func usageErrors() throws {
        for arguments in [["verify"], ["verify", Self.model("q2-tied", "f32")], ["verify", "--min-top1", "2", "m", "g"],
                          ["verify", "--type", "Q9_Z", "m", "g"], ["verify", "--bogus", "m", "g"]] {
            let run = try CLI.run(arguments)
            #expect(run.status == 2 && !run.signaled, "\(run)")
            #expect(run.stderrLines.first?.hasPrefix("Error: ") == true, "\(run)")
            #expect(run.stderrText.contains("Usage: qwenkit verify [<options>] <model> <golden> ..."), "\(run)")
        }
        #expect(try CLI.run(["verify", "--min-top1", "2", "m", "g"]).stderrLines.first == "Error: --min-top1 must be a number from 0 to 1")
        #expect(try CLI.run(["verify", "--help"]).status == 0)
        // Other commands keep 64.
        #expect(try CLI.run(["diff", "--bogus", "a", "b"]).status == 2)
    }
}
