// `qwenkit tokenizer compile` and `--tokenizer FILE.qtok`: a compiled tokenizer tokenizes as the
// embedded one does, and a damaged one is refused by name, never used.

import Foundation
import Testing
import TestSupport

@Suite struct TokenizerCompileTests {
    @Test func compiledTokenizerIsUsedAndDamageIsRefused() throws {
        try withTemporaryDirectory { dir in
            let compile = try CLI.run(["tokenizer", "compile", CLI.repositoryPath("Fixtures/tokenizers/qwen2"), "-o", dir + "/x.qtok"])
            #expect(compile.status == 0 && compile.stderr.isEmpty, "\(compile)")
            let zst = try CLI.run(["tokenizer", "compile", CLI.repositoryPath("Fixtures/tokenizers/qwen2"), "-o", dir + "/x.qtok.zst"])
            #expect(zst.status == 0 && zst.stderr.isEmpty, "\(zst)")
            for path in [dir + "/x.qtok", dir + "/x.qtok.zst"] {
                let run = try CLI.run(["encode", "--tokenizer", path], stdin: .text("Hello, world!"))
                #expect(run.status == 0 && run.stdoutText == "9707 11 1879 0\n", "\(run)")
            }
            let good = try readFile(dir + "/x.qtok")
            // A flipped byte in the contents (early, middle, last), a cut file, an unknown version.
            for at in [24, good.count / 2, good.count - 1] {
                var bad = good
                bad[at] ^= 0x20
                try writeFile(dir + "/bad.qtok", bad)
                let run = try CLI.run(["encode", "--tokenizer", dir + "/bad.qtok"], stdin: .text("Hello"))
                #expect(run.status == 1 && run.stdout.isEmpty && !run.signaled, "\(run)")
                #expect(run.stderrText == "qwenkit: \(dir)/bad.qtok: corrupt compiled tokenizer (checksum mismatch)\n", "byte \(at): \(run)")
            }
            try writeFile(dir + "/cut.qtok", Array(good.prefix(1000)))
            let cut = try CLI.run(["decode", "--tokenizer", dir + "/cut.qtok"], stdin: .text("9707"))
            #expect(cut.status == 1 && cut.stderrText == "qwenkit: \(dir)/cut.qtok: truncated compiled tokenizer (976 bytes of contents, the header says \(good.count - 24))\n", "\(cut)")
            var future = good
            future[4] = 9
            try writeFile(dir + "/future.qtok", future)
            let run = try CLI.run(["count", "--tokenizer", dir + "/future.qtok"], stdin: .text("Hello"))
            #expect(run.status == 1 && run.stderrText == "qwenkit: \(dir)/future.qtok: compiled tokenizer version 9 is not supported (this qwenkit reads version 6); compile it again with `qwenkit tokenizer compile`\n", "\(run)")
        }
    }
}
