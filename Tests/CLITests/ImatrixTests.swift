// `qwenkit imatrix` as a user runs it: the file llama-imatrix would write for the same command line (read back and
// compared within float noise: GoldenImatrixTests holds the bound), its legacy layout, periodic saves, and bad input.

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
                + "--save-frequency 2", in: CLI.repositoryPath("."))
            #expect(run.status == 0 && run.stdout.isEmpty && run.stderr.isEmpty, "\(run)")
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
