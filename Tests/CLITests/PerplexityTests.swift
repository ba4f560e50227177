// `qwenkit perplexity` as a user runs it: llama-perplexity's lines with its numbers (PerplexityTests holds the
// bounds against every golden; here the CLI's text, JSON, files and exit statuses), and bad input.

import Foundation
import Testing
import TestSupport

@Suite struct PerplexityCLITests {
    static let model = CLI.repositoryPath("Fixtures/convert-golden/q2-tied.f32.gguf")
    static let text = CLI.repositoryPath("Fixtures/imatrix/calibration.txt")

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }

    /// The running estimates and the final line, as llama-perplexity prints them, its numbers within 1e-5.
    @Test func printsWhatLlamaPerplexityPrints() throws {
        let run = try CLI.run(["perplexity", Self.model, "-f", Self.text, "-c", "64", "--chunks", "4", "-t", "2"])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let lines = run.stdoutText.split(separator: "\n").map(String.init)
        let golden = String(decoding: try readFile(fixturePath("perplexity/q2-tied.c64.ppl.txt")), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        let goldenRunning = try #require(golden.first { $0.hasPrefix("[1]") })
        let goldenFinal = try #require(golden.first { $0.hasPrefix("Final estimate: PPL = ") })
        #expect(lines.count == 2 && lines[0].hasPrefix("[1]") && lines[0].hasSuffix(",") && lines[1].hasPrefix("Final estimate: PPL = "), "\(run)")
        func numbers(_ line: String) -> [Double] {
            line.split(whereSeparator: { ",[] =+/-:".contains($0) || $0.isLetter }).compactMap { Double($0) }
        }
        let ours = numbers(lines[0]) + numbers(lines[1]), theirs = numbers(goldenRunning) + numbers(goldenFinal)
        #expect(ours.count == theirs.count && ours.count == 10, "\(ours) \(theirs)")
        for (a, b) in zip(ours, theirs) { #expect(Self.relative(a, b) <= 1e-5, "\(a) vs \(b)") }
    }

    /// A base file written, then read with --kl-divergence (the model against itself, with and without the text):
    /// llama-perplexity's table and statistics, and the same as JSON; the text's tokens must be the base's.
    @Test func klDivergenceRoundTrip() throws {
        try withTemporaryDirectory { dir in
            let base = dir + "/base.kld"
            let write = try CLI.run(["perplexity", Self.model, "-f", Self.text, "-c", "64", "--chunks", "4", "--kl-divergence-base", base])
            #expect(write.status == 0 && write.stdoutText.hasPrefix("[1]662.48"), "\(write)")
            #expect(try readFile(base).count == 81396)
            let read = try CLI.run(["perplexity", Self.model, "--kl-divergence-base", base, "--kl-divergence", "-f", Self.text])
            #expect(read.status == 0 && read.stderr.isEmpty, "\(read)")
            let lines = read.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first?.hasPrefix("chunk             PPL               ln(PPL(Q)/PPL(base))") == true, "\(read)")
            #expect(lines[5] == "" && lines[6] == "====== Perplexity statistics ======" && lines[7].hasPrefix("Mean PPL(Q)                   : 570.61")
                && lines[44] == "Same top p: 100.000 ± 0.000 %" && lines.count == 46, "\(read)")
            let json = try CLI.run(["perplexity", Self.model, "--kl-divergence-base", base, "--kl-divergence", "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any], "\(json)")
            #expect(object["n_ctx"] as? Int == 64 && object["n_chunks"] as? Int == 4 && object["tokens_scored"] as? Int == 124)
            #expect(abs((object["ppl"] as? Double ?? 0) - 570.615) < 1e-3 && abs((object["ppl_base"] as? Double ?? 0) - 570.614) < 1e-2)
            let kld = try #require(object["kld"] as? [String: Any])
            #expect(Set(kld.keys) == ["mean", "mean_stderr", "max", "p99_9", "p99_0", "p95_0", "p90_0", "median", "p10_0", "p5_0", "p1_0",
                                      "p0_1", "min"])
            #expect(object["same_top_p"] as? Double == 1 && object["rms_delta_p"] is Double && (object["chunks"] as? [Any])?.count == 4)
            // Perplexity alone as JSON.
            let plain = try CLI.run(["perplexity", Self.model, "-f", Self.text, "-c", "64", "--chunks", "2", "--json"])
            let p = try #require(try JSONSerialization.jsonObject(with: Data(plain.stdout)) as? [String: Any], "\(plain)")
            #expect(p["n_chunks"] as? Int == 2 && (p["chunks"] as? [[String: Any]])?.first?["ppl"] as? Double != nil && p["ppl_stderr"] is Double)
            #expect(try directoryEntries(dir) == ["base.kld"])
        }
    }

    /// A base file llama-perplexity wrote, read by the CLI with the model it came from: lines as llama-perplexity
    /// printed them for the same run (PerplexityTests compares every figure, for quantized models too).
    @Test func readsLlamaPerplexityBase() throws {
        let run = try CLI.run(["perplexity", Self.model, "--kl-divergence-base", fixturePath("perplexity/q2-tied.c64.kld-base"), "--kl-divergence"])
        #expect(run.status == 0, "\(run)")
        let golden = String(decoding: try readFile(fixturePath("perplexity/q2-tied.f32.c64.kld.txt")), as: UTF8.self)
        let same = ["Mean PPL(base)                : 570.614211 ±  83.492941", "Same top p: 100.000 ± 0.000 %"]
        for line in same { #expect(run.stdoutText.contains(line + "\n") && golden.contains(line + "\n"), "\(line)\n\(run)") }
    }

    /// A hand-made base file: `context`, `vocabulary`, one chunk of token 0 and all-zero rows.
    static func baseFile(context: Int32, vocabulary: Int32) -> [UInt8] {
        func int32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let rows = Int(context - 1 - context / 2), width = Int(2 * ((vocabulary + 1) / 2) + 4)
        return Array("_logits_".utf8) + int32(context) + int32(vocabulary) + int32(1) + [UInt8](repeating: 0, count: 4 * Int(context))
            + [UInt8](repeating: 0, count: 2 * rows * width)
    }

    @Test func badInput() throws {
        try withTemporaryDirectory { dir in
            let out = dir + "/base.kld"
            // Too short for two chunks: llama-perplexity's message, nothing written.
            let short = try CLI.run(["perplexity", Self.model, "-f", Self.text, "-c", "20000", "--kl-divergence-base", out])
            #expect(short.status == 1 && short.stderrText == "qwenkit: \(Self.text): you need at least 40000 tokens to evaluate perplexity "
                + "with a context of 20000; the text tokenizes to only 24301 tokens\n", "\(short)")
            // Longer than the model's context.
            let long = try CLI.run(["perplexity", Self.model, "-f", Self.text, "-c", "1024", "--kl-divergence-base", out])
            #expect(long.status == 1 && long.stderrText == "qwenkit: 1024 positions needed but the model's context length allows 512\n", "\(long)")
            #expect(try directoryEntries(dir) == [])

            let base = fixturePath("perplexity/q2-tied.c64.kld-base")
            try writeFile(dir + "/vocab.kld", Self.baseFile(context: 64, vocabulary: 100))
            try writeFile(dir + "/cut.kld", Array(try readFile(base).dropLast(7)))
            try writeFile(dir + "/nan.kld", Array(try readFile(base).prefix(20 + 4 * 256)) + [0, 0, 0xc0, 0x7f]
                + Array(try readFile(base).dropFirst(20 + 4 * 256 + 4)))
            for (arguments, message) in [
                (["--kl-divergence-base", dir + "/vocab.kld"], "\(dir)/vocab.kld: holds log-probabilities over a vocabulary of 100 tokens, "
                    + "the model's has 320 (a base file of another model?)"),
                (["--kl-divergence-base", base, "-c", "128"], "\(base): was computed with a context of 64 tokens, not 128 (-c): give -c 64 or leave it out"),
                (["--kl-divergence-base", dir + "/cut.kld"], "\(dir)/cut.kld: is 81389 bytes, but its header (n_ctx 64, n_vocab 320, n_chunk 4) makes it 81396: truncated"),
                (["--kl-divergence-base", dir + "/nan.kld"], "\(dir)/nan.kld: position 1 of chunk 1 has scale nan and minimum log-probability "),
                (["--kl-divergence-base", Self.model], "\(Self.model): does not look like a file of log-probabilities (no _logits_ magic: "
                    + "not a llama-perplexity --kl-divergence-base file)"),
                (["--kl-divergence-base", base, "-f", CLI.repositoryPath("Fixtures/sample.txt")], "\(base): its tokens differ from the text's at token 0"),
            ] {
                let run = try CLI.run(["perplexity", Self.model, "--kl-divergence"] + arguments)
                #expect(run.status == 1 && run.stderrLines.count == 1 && run.stderrText.hasPrefix("qwenkit: " + message), "\(run)")
            }
            // Usage errors.
            for (arguments, message) in [
                (["--kl-divergence"], "--kl-divergence reads a base file: give --kl-divergence-base FILE"),
                (["--kl-divergence", "--kl-divergence-base", base, "--chunks", "2"], "--kl-divergence scores the base file's chunks: drop --chunks"),
                ([String](), "give the text to score: -f TEXT"),
                (["-f", Self.text, "-c", "2"], "-c/--ctx-size must be at least 3 (half of each chunk is context, and its last token predicts nothing)"),
                (["-f", Self.text, "-b", "0"], "-b/--batch-size must be at least 1"),
                (["-f", Self.text, "--chunks", "0"], "--chunks must be at least 1"),
                (["-f", Self.text, "--kl-divergence-base", "-"], "--kl-divergence-base writes a file (or a FIFO), not the standard output"),
            ] {
                let run = try CLI.run(["perplexity", Self.model] + arguments)
                #expect(run.status == 2 && run.stderrLines.first == "Error: " + message, "\(run)")
            }
            // The base file cannot be the model or the text.
            let same = try CLI.run(["perplexity", Self.model, "-f", Self.text, "--kl-divergence-base", Self.text])
            #expect(same.status == 1 && same.stderrLines.count == 1, "\(same)")
            #expect(try directoryEntries(dir) == ["cut.kld", "nan.kld", "vocab.kld"])
        }
    }
}
