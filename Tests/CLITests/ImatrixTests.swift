// `qwenkit imatrix` as a user runs it: the file llama-imatrix would write for the same command line (read back and
// compared within float noise: GoldenImatrixTests holds the bound), its legacy layout, periodic saves, bad input, and
// --show-statistics.

import Foundation
import ImportanceMatrix
import Testing
import TestSupport

@Suite struct ImatrixTests {
    static let model = CLI.repositoryPath("Fixtures/convert-golden/q2moe.f32.gguf")
    static let text = "Fixtures/imatrix/calibration.txt"

    @Test func writesWhatLlamaImatrixWrites() throws {
        try withTemporaryDirectory { dir in
            // Run from the repository root, so that the dataset is named as llama-imatrix's goldens name it.
            let run = try CLI.shell("\"$QWENKIT\" imatrix '\(Self.model)' -f \(Self.text) -c 64 --chunks 4 -o '\(dir)/out.gguf' "
                + "&& \"$QWENKIT\" imatrix '\(Self.model)' -f \(Self.text) -c 64 --chunks 4 --output-format dat -o '\(dir)/out.dat' "
                + "--save-frequency 2 --no-ppl", in: CLI.repositoryPath("."))
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            // The first run prints llama-imatrix's running perplexity (its log: [1]693.9912,…, PPL = 1012.6373 +/-
            // 124.76490; the last digit is float noise: the AVX-512 and the portable kernels sum in different orders), the
            // second (--no-ppl) nothing.
            let lines = run.stdoutText.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines[0].hasPrefix("[1]693.991") && lines[0].hasSuffix(",")
                    && lines[0].split(separator: ",").count == 4 && lines[1].hasPrefix("Final estimate: PPL = 1012.637")
                    && lines[1].contains(" +/- 124.764"), "\(run.stdoutText)")
            let ours = try ImportanceMatrixFile.readGGUF(dir + "/out.gguf")
            let golden = try ImportanceMatrixFile.readGGUF(CLI.repositoryPath("Fixtures/imatrix/q2moe.c64.imatrix.gguf"))
            #expect(ours.datasets == golden.datasets && ours.chunkCount == 4 && ours.chunkSize == 64)
            #expect(ours.entries.mapValues(\.counts) == golden.entries.mapValues(\.counts))
            for (name, entry) in golden.entries {
                let mine = try #require(ours.entries[name])
                for (a, b) in zip(mine.sums, entry.sums) {
                    #expect(abs(a - b) <= 1e-4 * max(abs(b), 1e-6), "\(name): \(a) vs \(b)")
                }
            }
            let dat = try ImportanceMatrixFile.readDat(dir + "/out.dat", chunkSize: 64)
            #expect(dat.chunkCount == 4 && dat.datasets == [Self.text])
            // --save-frequency 2: a copy after chunk 2 (and 4), beside the output.
            #expect(try directoryEntries(dir) == ["out.dat", "out.dat.at_2", "out.dat.at_4", "out.gguf"])
        }
    }

    /// --in-file, then more chunks: llama-imatrix's q2-tied.continued (the same weights and counts, sums within 1e-4);
    /// --in-file alone writes the sum.
    @Test func continuesAnEarlierMatrix() throws {
        try withTemporaryDirectory { dir in
            let model = CLI.repositoryPath("Fixtures/convert-golden/q2-tied.f32.gguf")
            let run = try CLI.shell("\"$QWENKIT\" imatrix '\(model)' --in-file Fixtures/imatrix/q2-tied.c64.imatrix.gguf "
                + "-f \(Self.text) -c 64 --chunks 2 -o '\(dir)/out.gguf' && \"$QWENKIT\" imatrix -c 64 "
                + "--in-file Fixtures/imatrix/q2moe.c64.imatrix.dat --in-file Fixtures/imatrix/q2moe.c64.from1.imatrix.gguf "
                + "-o '\(dir)/sum.gguf'", in: CLI.repositoryPath("."))
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            let ours = try ImportanceMatrixFile.readGGUF(dir + "/out.gguf")
            let golden = try ImportanceMatrixFile.readGGUF(CLI.repositoryPath("Fixtures/imatrix/q2-tied.continued.imatrix.gguf"))
            #expect(ours.datasets == golden.datasets && ours.chunkCount == golden.chunkCount && ours.chunkSize == 64)
            #expect(ours.entries.mapValues(\.counts) == golden.entries.mapValues(\.counts))
            for (name, entry) in golden.entries {
                let mine = try #require(ours.entries[name])
                for (a, b) in zip(mine.sums, entry.sums) { #expect(abs(a - b) <= 1e-4 * max(abs(b), 1e-6), "\(name): \(a) vs \(b)") }
            }
            #expect(try ImportanceMatrixFile.readGGUF(dir + "/sum.gguf")
                == ImportanceMatrixFile.readGGUF(CLI.repositoryPath("Fixtures/imatrix/q2moe.combined-dat.imatrix.gguf")))
        }
    }

    /// --show-statistics: llama-imatrix's two tables on stdout, byte for byte (ImportanceMatrixStatisticsTests checks
    /// every golden; here a GGUF file and a dat file, whose values -c scales as llama-imatrix loads them). No model,
    /// nothing written; --in-file imatrix.gguf (the default output's name) is only read.
    @Test func showsStatistics() throws {
        for (matrix, golden, flags) in [("q2moe.c64.imatrix.gguf", "q2moe.c64", ""), ("q2-tied.c64.imatrix.dat", "q2-tied.c64.dat", " -c 64")] {
            let run = try CLI.shell("\"$QWENKIT\" imatrix --show-statistics --in-file Fixtures/imatrix/\(matrix)\(flags)",
                                    in: CLI.repositoryPath("."))
            let expected = try readFile(CLI.repositoryPath("Fixtures/imatrix/\(golden).statistics.txt"))
            #expect(run.status == 0 && run.stderr.isEmpty && run.stdout == expected, "\(run)")
        }
        try withTemporaryDirectory { dir in
            let copy = try CLI.shell("cp '\(CLI.repositoryPath("Fixtures/imatrix/q2-tied.c64.imatrix.gguf"))' imatrix.gguf && "
                + "\"$QWENKIT\" imatrix --show-statistics --in-file imatrix.gguf --json", in: dir)
            #expect(copy.status == 0 && copy.stdoutText.hasPrefix("{\n  \"file\": \"imatrix.gguf\",\n  \"tensors\": [\n"), "\(copy)")
            #expect(try directoryEntries(dir) == ["imatrix.gguf"])
        }
    }

    /// --show-statistics takes exactly one --in-file, and neither a text nor an output; --json only goes with it.
    @Test func statisticsRefusals() throws {
        let gguf = CLI.repositoryPath("Fixtures/imatrix/q2-tied.c64.imatrix.gguf")
        for (arguments, message) in [
            ([], "--show-statistics reads exactly one --in-file FILE (given 0)"),
            (["--in-file", gguf, "--in-file", gguf], "--show-statistics reads exactly one --in-file FILE (given 2)"),
            (["--in-file", gguf, "-f", CLI.repositoryPath(Self.text)], "--show-statistics reads a matrix, not a text: drop -f"),
            (["--in-file", gguf, "-o", "out.gguf"], "--show-statistics prints to the standard output: drop -o"),
        ] {
            let run = try CLI.run(["imatrix", "--show-statistics"] + arguments)
            #expect(run.status == 2 && run.stdout.isEmpty && run.stderrLines.first == "Error: " + message, "\(run)")
        }
        let json = try CLI.run(["imatrix", "--in-file", gguf, "--json"])
        #expect(json.status == 2 && json.stderrLines.first == "Error: --json goes with --show-statistics", "\(json)")
        // Not an importance matrix: the reader's error, status 1.
        let model = try CLI.run(["imatrix", "--show-statistics", "--in-file", Self.model])
        #expect(model.status == 1 && model.stdout.isEmpty && model.stderrText
            == "qwenkit: \(Self.model): general.type is not \"imatrix\" (not an importance matrix)\n", "\(model)")
        // A weight without tokens is left out with a note (as llama-imatrix logs it); with no weight left, status 1.
        try withTemporaryDirectory { dir in
            var matrix = ImportanceMatrix(chunkSize: 64)
            matrix.entries["blk.0.attn_q.weight"] = .init(columns: 2, sums: [0, 0], counts: [0])
            try ImportanceMatrixFile.write(matrix, to: dir + "/none.gguf", format: .gguf)
            matrix.entries["blk.0.ffn_up.weight"] = .init(columns: 2, sums: [1, 3], counts: [2])
            try ImportanceMatrixFile.write(matrix, to: dir + "/some.gguf", format: .gguf)
            let some = try CLI.run(["imatrix", "--show-statistics", "--in-file", dir + "/some.gguf"])
            #expect(some.status == 0 && some.stdoutText.contains("(1 tensors)") && some.stderrText
                == "qwenkit: \(dir)/some.gguf: blk.0.attn_q.weight: all counts are zero, no statistics\n", "\(some)")
            let none = try CLI.run(["imatrix", "--show-statistics", "--in-file", dir + "/none.gguf"])
            #expect(none.status == 1 && none.stdout.isEmpty && none.stderrText
                == "qwenkit: \(dir)/none.gguf: no weight has any tokens: cannot compute statistics\n", "\(none)")
        }
    }

    @Test func badInput() throws {
        try withTemporaryDirectory { dir in
            let short = try CLI.run(["imatrix", Self.model, "-f", CLI.repositoryPath(Self.text), "-c", "100000", "-o", dir + "/x.gguf"])
            #expect(short.status == 1 && short.stderrLines.count == 1 && short.stderrText.contains(
                " tokens: a context of 100000 tokens needs at least 200000"), "\(short)")
            let context = try CLI.run(["imatrix", Self.model, "-f", CLI.repositoryPath(Self.text), "-c", "8192", "-o", dir + "/x.gguf"])
            #expect(context.status == 1 && context.stderrText
                == "qwenkit: 8192 positions needed but the model's context length allows 512\n", "\(context)")
            let skip = try CLI.run(["imatrix", Self.model, "-f", CLI.repositoryPath(Self.text), "-c", "64", "--chunk", "100000",
                                    "-o", dir + "/x.gguf"])
            #expect(skip.status == 1 && skip.stderrText.contains("there are not enough tokens left after skipping 100000 chunks"), "\(skip)")
            let missing = try CLI.run(["imatrix", Self.model, "-f", dir + "/none.txt", "-o", dir + "/x.gguf"])
            #expect(missing.status == 1 && missing.stderrText == "qwenkit: \(dir)/none.txt: cannot open: No such file or directory\n")
            let nothing = try CLI.run(["imatrix", "-o", dir + "/x.gguf"])
            #expect(nothing.status == 2 && nothing.stderrLines.first
                == "Error: give a calibration text (-f TEXT), or importance matrices to combine (--in-file FILE)", "\(nothing)")
            // An --in-file of another model (q2-tied's width is 32, q2-untied's 48): refused at its first weight.
            let untied = CLI.repositoryPath("Fixtures/convert-golden/q2-untied.f32.gguf")
            let other = try CLI.run(["imatrix", untied, "--in-file", CLI.repositoryPath("Fixtures/imatrix/q2-tied.c64.imatrix.gguf"),
                                     "-f", CLI.repositoryPath(Self.text), "-c", "64", "--chunks", "2", "-o", dir + "/x.gguf"])
            #expect(other.status == 1 && other.stderrText == "qwenkit: blk.0.attn_q.weight: the --in-file matrices hold 32 sums, "
                + "the model's weight takes 48 (matrices of another model?)\n", "\(other)")
            // A GGUF file that is not an importance matrix.
            let model = try CLI.run(["imatrix", "--in-file", Self.model, "-o", dir + "/x.gguf"])
            #expect(model.status == 1 && model.stderrText
                == "qwenkit: \(Self.model): general.type is not \"imatrix\" (not an importance matrix)\n", "\(model)")
            for (arguments, message) in [(["-c", "0"], "-c/--ctx-size must be at least 1"), (["--chunks", "0"], "--chunks must be at least 1"),
                                         (["--chunk", "-1"], "--chunk must be at least 0"), (["--output-format", "bin"], nil)] {
                let run = try CLI.run(["imatrix", Self.model, "-f", CLI.repositoryPath(Self.text)] + arguments)
                #expect(run.status == 2 && (message == nil || run.stderrLines.first == "Error: " + message!), "\(run)")
            }
            #expect(try directoryEntries(dir) == [])
        }
    }
}
