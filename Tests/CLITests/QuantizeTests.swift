// `qwenkit quantize` as a user runs it: the output equals llama-quantize's (the library tests check every type
// against Fixtures/quantize-golden); bad input is one line, a non-zero exit, and nothing at the output path.

import Foundation
import Testing
import TestSupport

@Suite struct QuantizeTests {
    static func golden(_ name: String) -> String { CLI.repositoryPath("Fixtures/quantize-golden/" + name) }

    @Test func summary() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["quantize", Self.golden("moe.f16.gguf"), dir + "/out.gguf", "q4_k_m"])
            #expect(run.status == 0, "\(run)")
            let lines = run.stderrLines
            #expect(lines.first == "\(dir)/out.gguf: Q4_K_M (qwen2moe, 53 tensors)")
            #expect(lines.contains("    token_embd.weight: Q6_K, 6.56 bpw instead of 4.50 (output tensor rule)"))
            #expect(lines.contains("    blk.0.ffn_down_shexp.weight: F16, 16.00 bpw instead of 4.50 (rows of 80 are not a multiple of 256 for Q4_K nor of 32 for its fallback)"))
            #expect(run.stdoutText.isEmpty)
        }
    }

    static func expectRefused(_ arguments: (String) throws -> [String], status: Int32 = 1, _ message: (String) -> String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        try withTemporaryDirectory { dir in
            let arguments = try arguments(dir)
            let before = try directoryEntries(dir)
            let run = try CLI.run(arguments)
            #expect(run.status == status && !run.signaled, "\(run)", sourceLocation: sourceLocation)
            // One line (a usage error adds the usage); the output's temporary name is random, so a prefix is compared.
            #expect((run.stderrLines.first ?? "").hasPrefix(message(dir)), "\(run)", sourceLocation: sourceLocation)
            if status == 1 { #expect(run.stderrLines.count == 1, "\(run)", sourceLocation: sourceLocation) }
            #expect(try directoryEntries(dir) == before, "nothing is left at the output path", sourceLocation: sourceLocation)
        }
    }

    @Test func badInput() throws {
        let dense = Self.golden("dense.f16.gguf")
        try Self.expectRefused({ ["quantize", dense, $0 + "/out.gguf", "Q4_K_X"] }, status: 2) { _ in
            "Error: unknown type 'Q4_K_X'; valid types: Q1_0, Q2_0, Q4_0, Q4_1, MXFP4_MOE, Q5_0, Q5_1, IQ2_XXS, IQ2_XS, IQ2_S, "
                + "IQ2_M, IQ1_S, IQ1_M, TQ1_0, TQ2_0, Q2_K, Q2_K_S, IQ3_XXS, IQ3_S, IQ3_M, IQ3_XS, Q3_K_S, Q3_K_M, Q3_K_L, IQ4_NL, "
                + "IQ4_XS, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, Q8_0, F16, BF16, F32"
        }
        try Self.expectRefused({ ["quantize", dense, $0 + "/out.gguf", "Q4_K_M", "--no-fallback"] }) { _ in
            "qwenkit: \(dense): blk.0.ffn_down.weight: rows of 288 are not a multiple of 256 for Q6_K; it would fall back to Q8_0, refused by --no-fallback"
        }
        try Self.expectRefused({ dir in
            let run = try CLI.run(["quantize", dense, dir + "/q8.gguf", "Q8_0"])
            #expect(run.status == 0)
            return ["quantize", dir + "/q8.gguf", dir + "/out.gguf", "Q4_0"]
        }) { dir in
            "qwenkit: \(dir)/q8.gguf: output.weight is already quantized (Q8_0); requantizing loses precision, pass --allow-requantize to do it anyway"
        }
        try Self.expectRefused({ dir in
            let bytes = try readFile(dense)
            try writeFile(dir + "/cut.gguf", Array(bytes.prefix(bytes.count - 1000)))
            return ["quantize", dir + "/cut.gguf", dir + "/out.gguf", "Q8_0"]
        }) { dir in
            "qwenkit: \(dir)/cut.gguf: tensor \"output.weight\": data_offsets [347072, 379840] end past the data section (378840 bytes)"
        }
        try Self.expectRefused({ ["quantize", dense, $0 + "/missing/out.gguf", "Q8_0"] }) { dir in
            "qwenkit: \(dir)/missing/out.gguf: cannot create output file \(dir)/missing/.out.gguf.tmp-"
        }
    }

    /// A checkpoint directory as IN: converted and quantized in one pass, the same file as convert --outtype f32 then
    /// quantize, with the summary counting the checkpoint's own (bf16) bytes.
    @Test func checkpointDirectory() throws {
        let model = CLI.repositoryPath("Fixtures/checkpoints/q2moe")
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["quantize", model, dir + "/out.gguf", "Q4_K_M", "--threads", "2"])
            #expect(run.status == 0, "\(run)")
            #expect(run.stdoutText.isEmpty)
            let lines = run.stderrLines
            #expect(lines.first == "\(dir)/out.gguf: Q4_K_M (qwen2moe, 37 tensors)")
            #expect(lines.dropFirst().first == "  tensor data: 152.77 kB (16.00 bpw) -> 75.46 kB (7.90 bpw)")
            #expect(lines.contains("    blk.0.ffn_down_exps.weight: F16, 16.00 bpw instead of 4.50 (rows of 48 are not a multiple of 256 for Q4_K nor of 32 for its fallback)"))
            #expect(try directoryEntries(dir) == ["out.gguf"], "no float file or temporary left behind")

            #expect(try CLI.run(["convert", model, "--outtype", "f32", "-o", dir + "/f32.gguf", "-q"]).status == 0)
            #expect(try CLI.run(["quantize", dir + "/f32.gguf", dir + "/ref.gguf", "Q4_K_M", "-q"]).status == 0)
            #expect(try readFile(dir + "/out.gguf") == readFile(dir + "/ref.gguf"))
        }
    }

    /// A directory that is not a Qwen2 checkpoint: one line naming it, exit 1, nothing at OUT.
    @Test func notACheckpointDirectory() throws {
        try Self.expectRefused({ dir in
            try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: false)
            return ["quantize", dir + "/empty", dir + "/out.gguf", "Q8_0"]
        }) { dir in
            "qwenkit: \(dir)/empty: not a model directory: it has no config.json"
        }
        try Self.expectRefused({ dir in
            let model = dir + "/llama"
            try FileManager.default.copyItem(atPath: CLI.repositoryPath("Fixtures/checkpoints/q2-tied"), toPath: model)
            try FileManager.default.removeItem(atPath: model + "/config.json")
            let config = try String(contentsOfFile: CLI.repositoryPath("Fixtures/checkpoints/q2-tied/config.json"), encoding: .utf8)
            try config.replacingOccurrences(of: "Qwen2ForCausalLM", with: "LlamaForCausalLM")
                .write(toFile: model + "/config.json", atomically: false, encoding: .utf8)
            return ["quantize", model, dir + "/out.gguf", "Q8_0"]
        }) { dir in
            "qwenkit: \(dir)/llama/config.json: architecture LlamaForCausalLM is not supported (supported: Qwen2ForCausalLM, Qwen2Model, Qwen2MoeForCausalLM)"
        }
        let untied = CLI.repositoryPath("Fixtures/checkpoints/q2-untied")
        try Self.expectRefused({ ["quantize", untied, $0 + "/out.gguf", "Q4_K_M", "--no-fallback"] }) { _ in
            "qwenkit: \(untied): output.weight: rows of 48 are not a multiple of 32 for Q8_0 nor of 32 for its fallback; it would fall back to F16, refused by --no-fallback"
        }
    }
}
