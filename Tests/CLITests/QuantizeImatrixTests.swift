// `qwenkit quantize --imatrix` and llama-quantize's other options as a user runs them: the bytes llama-quantize
// writes (the digests of Fixtures/quantize-imatrix; QuantizeTests compares every type), llama-quantize's short form,
// --dry-run, and every bad input refused in one line with nothing left at the output path.

import Foundation
import Testing
import TestSupport

@Suite struct QuantizeImatrixTests {
    static let checkpoint = CLI.repositoryPath("Fixtures/checkpoints/q2-k256")
    static let imatrix = "Fixtures/quantize-imatrix/k256.imatrix.gguf"

    /// Run from the repository root, so that quantize.imatrix.file holds the path llama-quantize was given.
    @Test func writesWhatLlamaQuantizeWrites() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.shell("\"$QWENKIT\" quantize --imatrix \(Self.imatrix) --tensor-type attn_q=q8_0 "
                + "--tensor-type ffn_down=iq4_nl --tensor-type 'blk\\.1\\.attn_k=q5_1' '\(Self.checkpoint)' '\(dir)/out.gguf' Q4_K_M 2 -q",
                in: CLI.repositoryPath("."))
            #expect(run.status == 0 && run.stdout.isEmpty && run.stderr.isEmpty, "\(run)")
            let digest = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: CLI.repositoryPath("Fixtures/quantize-imatrix/k256.tensor-types.json")))) as! [String: Any]
            let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/out.gguf"))
            #expect(bytes.count == digest["file_size"] as! Int)
        }
    }

    /// llama-quantize's INPUT TYPE [NTHREADS] form writes ggml-model-TYPE.gguf beside the input; --dry-run writes nothing.
    @Test func shortFormAndDryRun() throws {
        try withTemporaryDirectory { dir in
            let input = dir + "/model.gguf"
            try FileManager.default.copyItem(atPath: CLI.repositoryPath("Fixtures/quantize-golden/dense.f16.gguf"), toPath: input)
            let short = try CLI.run(["quantize", input, "q8_0", "1", "-q"])
            #expect(short.status == 0, "\(short)")
            let dry = try CLI.run(["quantize", "--dry-run", input, "Q4_K_M"])
            #expect(dry.status == 0 && dry.stderrText.hasPrefix("(dry run): Q4_K_M (qwen2, "), "\(dry)")
            #expect(try directoryEntries(dir) == ["ggml-model-Q8_0.gguf", "model.gguf"])
        }
    }

    @Test func badInput() throws {
        try withTemporaryDirectory { dir in
            let out = dir + "/out.gguf"
            func quantize(_ arguments: [String]) throws -> RunResult { try CLI.run(["quantize"] + arguments) }
            // A type that needs an importance matrix, without one.
            let none = try quantize([Self.checkpoint, out, "IQ2_XXS"])
            #expect(none.status == 1 && none.stderrText == "qwenkit: blk.0.attn_k.weight: IQ2_XXS needs an importance matrix; "
                + "make one with `qwenkit imatrix` and pass it with --imatrix\n", "\(none)")
            // An importance matrix of another model (q2-tied's rows are 32 wide, q2-k256's 256).
            let other = CLI.repositoryPath("Fixtures/imatrix/q2-tied.c64.imatrix.gguf")
            let wrong = try quantize(["--imatrix", other, Self.checkpoint, out, "IQ4_XS"])
            #expect(wrong.status == 1 && wrong.stderrText == "qwenkit: \(other): the entry for blk.0.attn_k.weight has 32 values, "
                + "but the tensor needs 256 (one per column and expert): the importance matrix is for another model\n", "\(wrong)")
            // A truncated importance matrix, and a legacy one that claims more values than it holds.
            let full = try Data(contentsOf: URL(fileURLWithPath: CLI.repositoryPath(Self.imatrix)))
            try full.prefix(200).write(to: URL(fileURLWithPath: dir + "/cut.gguf"))
            let cut = try quantize(["--imatrix", dir + "/cut.gguf", Self.checkpoint, out, "IQ4_XS"])
            #expect(cut.status == 1 && cut.stderrLines.count == 1 && cut.stderrText.hasPrefix("qwenkit: \(dir)/cut.gguf"), "\(cut)")
            var dat = Data([1, 0, 0, 0, 4, 0, 0, 0]) + Data("blk.".utf8)
            dat += Data([1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f])
            try dat.write(to: URL(fileURLWithPath: dir + "/big.dat"))
            let big = try quantize(["--imatrix", dir + "/big.dat", Self.checkpoint, out, "IQ4_XS"])
            #expect(big.status == 1 && big.stderrLines.count == 1 && big.stderrText.contains("do not fit"), "\(big)")
            // Patterns that match nothing.
            let pattern = try quantize(["--tensor-type", "attn_z=q8_0", Self.checkpoint, out, "Q4_K_M"])
            #expect(pattern.status == 1 && pattern.stderrText == "qwenkit: --tensor-type attn_z: matches no weight matrix of the model\n", "\(pattern)")
            let include = try quantize(["--imatrix", CLI.repositoryPath(Self.imatrix), "--include-weights", "attn_z", Self.checkpoint, out, "IQ4_XS"])
            #expect(include.status == 1 && include.stderrText.hasPrefix("qwenkit: --include-weights attn_z: no weight of "), "\(include)")
            // Usage errors: status 2, one line first.
            for (arguments, message) in [
                (["--imatrix", "x", "--include-weights", "a", "--exclude-weights", "b", Self.checkpoint, out, "IQ4_XS"],
                 "--include-weights and --exclude-weights cannot be used together"),
                (["--include-weights", "a", Self.checkpoint, out, "Q4_0"], "--include-weights needs --imatrix"),
                (["--tensor-type", "attn_q", Self.checkpoint, out, "Q4_0"], "--tensor-type 'attn_q': expected NAME=TYPE"),
                (["--tensor-type", "attn_q=q9_9", Self.checkpoint, out, "Q4_0"], nil),
                (["--override-kv", "general.name=str", Self.checkpoint, out, "Q4_0"], "--override-kv 'general.name=str': expected TYPE:VALUE after '='"),
                (["--override-kv", "a=int:x", Self.checkpoint, out, "Q4_0"], "--override-kv 'a=int:x': 'x' is not an integer of at most 32 bits"),
                (["--prune-layers", "1,x", Self.checkpoint, out, "Q4_0"], "--prune-layers: invalid layer 'x'"),
                ([Self.checkpoint, out, "Q4_0", "x"], "invalid thread count 'x': expected 0 (every CPU) to 1024"),
                ([Self.checkpoint, out], "missing the type after the output path"),
            ] {
                let run = try quantize(arguments)
                #expect(run.status == 2 && (message == nil || run.stderrLines.first == "Error: " + message!), "\(run)")
            }
            #expect(try directoryEntries(dir) == ["big.dat", "cut.gguf"])
        }
    }
}
