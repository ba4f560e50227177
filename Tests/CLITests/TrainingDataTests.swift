// `encode --format megatron` and `merge` through the command line: the files megatron-core writes
// (Fixtures/megatron, made by Fixtures/scripts/make_megatron_fixtures.py), byte for byte.

import Foundation
import Testing
import TestSupport

@Suite struct TrainingDataCLITests {
    static let docs = CLI.repositoryPath("Fixtures/megatron/docs.jsonl")
    static func golden(_ name: String) throws -> [UInt8] { try readFile(CLI.repositoryPath("Fixtures/megatron/" + name)) }

    @Test func encodeMegatronThenMerge() throws {
        try withTemporaryDirectory { dir in
            let eod = try CLI.run(["encode", "--jsonl", "text", "--format", "megatron", "--eod", "<|endoftext|>", Self.docs, "-o", dir + "/a.bin"])
            #expect(eod.status == 0 && eod.stdout.isEmpty && eod.stderr.isEmpty, "\(eod)")
            #expect(try readFile(dir + "/a.bin") == Self.golden("qwen2-eod.bin"))
            #expect(try readFile(dir + "/a.idx") == Self.golden("qwen2-eod.idx"))
            let plain = try CLI.run(["encode", "--jsonl", "text", "--format", "megatron", "--threads", "2", Self.docs, "-o", dir + "/b"])
            #expect(plain.status == 0, "\(plain)")
            let merge = try CLI.run(["merge", "-o", dir + "/m", dir + "/a", dir + "/b.idx"])
            #expect(merge.status == 0 && merge.stdout.isEmpty && merge.stderr.isEmpty, "\(merge)")
            #expect(try readFile(dir + "/m.bin") == Self.golden("merged.bin"))
            #expect(try readFile(dir + "/m.idx") == Self.golden("merged.idx"))
            #expect(try directoryEntries(dir).sorted() == ["a.bin", "a.idx", "b.bin", "b.idx", "m.bin", "m.idx"])
        }
    }

    @Test func mergeConcatenatesOtherOutputs() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/x.txt", "1 2\n")
            try writeFile(dir + "/y.txt", "3\n")
            let run = try CLI.run(["merge", "-o", "-", dir + "/x.txt", dir + "/y.txt"])
            #expect(run.status == 0 && run.stdoutText == "1 2\n3\n", "\(run)")
        }
    }

    @Test func badInputsOneLineEach() throws {
        try withTemporaryDirectory { dir in
            let toStdout = try CLI.run(["encode", "--format", "megatron", Self.docs])
            #expect(toStdout.status == 2 && toStdout.stderrLines.first
                == "Error: --format megatron writes PREFIX.bin and PREFIX.idx: give -o PREFIX (uncompressed)", "\(toStdout)")
            try writeFile(dir + "/x.txt", "1\n")
            let mixed = try CLI.run(["merge", "-o", dir + "/m", CLI.repositoryPath("Fixtures/megatron/qwen2"), dir + "/x.txt"])
            #expect(mixed.status == 1 && mixed.stderrText == "qwenkit: \(dir)/x.txt: not a Megatron dataset (no \(dir)/x.txt.idx), but "
                + "\(CLI.repositoryPath("Fixtures/megatron/qwen2")) is; merge joins inputs of one kind\n", "\(mixed)")
            let none = try CLI.run(["merge", "-o", dir + "/m"])
            #expect(none.status == 2 && none.stderrLines.first == "Error: Missing expected argument '<input> ...'", "\(none)")
            #expect(try directoryEntries(dir) == ["x.txt"])
        }
    }
}
