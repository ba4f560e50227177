// `qwenkit tokenizer profile`: the stages in order with their costs, and how the pieces were answered (exact
// counts: the ids are `count --special text`'s, the pieces the pretokenizer's).

import Testing
import TestSupport

@Suite struct TokenizerProfileTests {
    @Test func stagesAndPieceCounts() throws {
        let sample = CLI.repositoryPath("Fixtures/sample.txt")
        let run = try CLI.run(["tokenizer", "profile", sample, "--repeat", "2"])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let lines = run.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 8, "\(run)")
        #expect(lines.first == "stage    ns/byte  cumulative  MB/s")
        #expect(lines.dropFirst().prefix(5).map { String($0.prefix(while: { $0 != " " })) } == ["nfc", "scan", "lookup", "bpe", "output"])
        #expect(lines.dropFirst(6) == ["376 bytes, 84 pieces (4.48 bytes each), 121 ids",
                                       "pieces: one byte 22 (26.2%), one token 42 (50.0%), cut between characters 3 (3.6%) into 11 parts; merge loops 19"])
        let count = try CLI.run(["count", "--special", "text", "--json", sample])
        #expect(count.stdoutText.contains("\"tokens\":121,"), "\(count)")
    }

    @Test func badInputIsOneLine() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/bad.txt", [0x61, 0xFF, 0x62])
            let bad = try CLI.run(["tokenizer", "profile", dir + "/bad.txt"])
            #expect(bad.status == 1 && bad.stderrText == "qwenkit: \(dir)/bad.txt: invalid UTF-8 at byte 1\n", "\(bad)")
            let repeats = try CLI.run(["tokenizer", "profile", dir + "/bad.txt", "--repeat", "0"])
            #expect(repeats.status == 2 && repeats.stderrText.hasPrefix("Error: --repeat must be between 1 and 1000"), "\(repeats)")
            let missing = try CLI.run(["tokenizer", "profile", dir + "/none.txt"])
            #expect(missing.status == 1 && missing.stderrText.hasPrefix("qwenkit: \(dir)/none.txt: "), "\(missing)")
        }
    }
}
