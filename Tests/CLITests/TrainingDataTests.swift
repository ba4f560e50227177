// `encode --format megatron` and `merge` through the command line: the files megatron-core writes
// (Fixtures/megatron, made by Fixtures/scripts/make_megatron_fixtures.py), byte for byte.

import Foundation
import QwenKitIO
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

    /// Shards 0..N-1 merged equal one run over everything, byte for byte, for each output format and framing; the
    /// inputs: two JSONL files and a .zst one (compressed: whole in one shard), and text with long and empty lines.
    @Test func shardsMergedEqualOneRun() throws {
        try withTemporaryDirectory { dir in
            var random = SplitMix64(seed: 11)
            let words = ["hello", "world", "你好", "été", "x", "12345", "  ", "\\n"]
            func text() -> String { (0..<Int.random(in: 0...30, using: &random)).map { _ in words.randomElement(using: &random)! }.joined(separator: " ") }
            for name in ["a.jsonl", "b.jsonl"] {
                try writeFile("\(dir)/\(name)", (0..<150).map { k in "{\"k\":\(k),\"text\":\"\(text())\"}\n" }.joined())
            }
            let compressed = try openOutput(path: "\(dir)/c.jsonl.zst")
            try compressed.write((0..<40).map { _ in "{\"text\":\"\(text())\"}\n" }.joined())
            try compressed.close()
            try writeFile("\(dir)/lines.txt", (0..<300).map { k in k % 50 == 0 ? String(repeating: "long ", count: 2000) : text() }.joined(separator: "\n"))
            let jsonl = ["--jsonl", "text", "\(dir)/a.jsonl", "\(dir)/b.jsonl", "\(dir)/c.jsonl.zst"]
            let cases: [(String, [String])] = [
                ("jsonl", ["--format", "jsonl"] + jsonl),
                ("u32", ["--format", "u32", "--eod", "151643"] + jsonl),
                ("npy", ["--format", "npy", "--eod", "151643"] + jsonl),
                ("text", ["--lines", "\(dir)/lines.txt"]),
                ("pieces", ["--format", "pieces", "--lines", "\(dir)/lines.txt", "\(dir)/a.jsonl"]),
                ("megatron", ["--format", "megatron", "--eod", "151643"] + jsonl),
                ("megatron-chunks", ["--format", "megatron", "--chunk", "--max-tokens", "7"] + jsonl),
            ]
            for (name, arguments) in cases {
                let whole = try CLI.run(["encode"] + arguments + ["-o", "\(dir)/whole.\(name)"])
                #expect(whole.status == 0, "\(whole)")
                for n in [2, 5] {
                    var shards: [String] = []
                    for k in 0..<n {
                        let out = "\(dir)/\(k)of\(n).\(name)"
                        let run = try CLI.run(["encode", "--shard", "\(k)/\(n)", "--threads", "2"] + arguments + ["-o", out])
                        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
                        shards.append(out)
                    }
                    let merged = "\(dir)/merged\(n).\(name)"
                    let merge = try CLI.run(["merge", "-o", merged] + shards)
                    #expect(merge.status == 0, "\(merge)")
                    for suffix in name.hasPrefix("megatron") ? [".bin", ".idx"] : [""] {
                        #expect(try readFile(merged + suffix) == readFile("\(dir)/whole.\(name)" + suffix), "\(name), \(n) shards")
                    }
                }
            }
        }
    }

    @Test func skipExistingLeavesCompleteOutputs() throws {
        try withTemporaryDirectory { dir in
            try writeFile("\(dir)/out.txt", "done\n")
            let skipped = try CLI.run(["encode", "--skip-existing", Self.docs, "-o", "\(dir)/out.txt"])
            #expect(skipped.status == 0 && skipped.stderrText == "qwenkit: \(dir)/out.txt exists; skipped (--skip-existing)\n", "\(skipped)")
            #expect(try readFile("\(dir)/out.txt") == Array("done\n".utf8))
            // A Megatron dataset counts as there only with both files.
            try writeFile("\(dir)/m.bin", "")
            let run = try CLI.run(["encode", "--skip-existing", "--jsonl", "text", "--format", "megatron", Self.docs, "-o", "\(dir)/m"])
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            #expect(try readFile("\(dir)/m.idx") == Self.golden("qwen2.idx"))
            let again = try CLI.run(["encode", "--skip-existing", "--jsonl", "text", "--format", "megatron", Self.docs, "-o", "\(dir)/m.idx"])
            #expect(again.stderrText == "qwenkit: \(dir)/m exists; skipped (--skip-existing)\n", "\(again)")
        }
    }

    /// A bad record in a shard is named by the file, the shard and the byte its line numbers count from.
    @Test func shardErrorsNameTheirPlace() throws {
        try withTemporaryDirectory { dir in
            try writeFile("\(dir)/d.jsonl", "{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"txt\":\"c\"}\n")
            let run = try CLI.run(["encode", "--jsonl", "text", "--shard", "1/2", "\(dir)/d.jsonl", "-o", "\(dir)/o"])
            #expect(run.status == 1 && run.stderrText
                == "qwenkit: \(dir)/d.jsonl (shard 1/2, lines counted from byte 26): line 1: no field \"text\"\n", "\(run)")
            for (arguments, message) in [
                (["--shard", "2/2", "\(dir)/d.jsonl"], "Error: The value '2/2' is invalid for '--shard <k/n>'"),
                (["--shard", "0/1"], "Error: --shard 0/1 needs input files (stdin cannot be split)"),
                (["--shard", "0/2", "--chunk", "--max-tokens", "4", "\(dir)/d.jsonl"],
                 "Error: --shard with --chunk needs --format megatron (chunk records carry document numbers, which a shard does not know)"),
                (["--skip-existing", "\(dir)/d.jsonl"], "Error: --skip-existing needs -o"),
            ] {
                let bad = try CLI.run(["encode"] + arguments)
                #expect(bad.status == 2 && bad.stderrLines.first == message, "\(bad)")
            }
            #expect(try directoryEntries(dir) == ["d.jsonl"])
        }
    }

    @Test func packedArrays() throws {
        try withTemporaryDirectory { dir in
            for (name, extra) in [("flat.npy", [String]()), ("concat16.npy", ["--pack", "16"]), ("bfd16.npy", ["--pack", "16", "--pack-mode", "bfd"])] {
                let run = try CLI.run(["encode", "--jsonl", "text", "--format", "npy", "--eod", "<|endoftext|>"] + extra + [Self.docs, "-o", dir + "/" + name])
                #expect(run.status == 0 && run.stdout.isEmpty && run.stderr.isEmpty, "\(run)")
                #expect(try readFile(dir + "/" + name) == readFile(CLI.repositoryPath("Fixtures/packing/" + name)))
                if !extra.isEmpty {
                    #expect(try readFile(dir + "/\(name).cu_seqlens.jsonl") == readFile(CLI.repositoryPath("Fixtures/packing/\(name).cu_seqlens.jsonl")))
                }
            }
            // --pad-id pads instead of --eod; u32 holds the same rows without the header.
            let padded = try CLI.run(["encode", "--jsonl", "text", "--format", "u32", "--pack", "16", "--pad-id", "0", Self.docs, "-o", dir + "/p.u32"])
            #expect(padded.status == 0, "\(padded)")
            let bytes = try readFile(dir + "/p.u32")
            #expect(bytes.count % 64 == 0 && bytes.suffix(4) == [0, 0, 0, 0])
            for (arguments, message) in [
                (["--pack", "16", "--format", "jsonl"], "--pack needs --format u32 or npy"),
                (["--pack", "0", "--format", "u32", "--eod", "1"], "--pack must be at least 1"),
                (["--pack", "16", "--format", "u32", "-o", dir + "/x"], "--pack needs --pad-id or --eod (the id that pads rows)"),
                (["--pack", "16", "--format", "u32", "--eod", "1"], "--pack needs -o FILE (the row boundaries go beside it)"),
                (["--pack-mode", "bfd"], "--pack-mode and --pad-id need --pack"),
                (["--format", "npy"], "--format npy needs -o FILE, uncompressed (its shape goes into the header at the end)"),
                (["--pack", "16", "--format", "u32", "--pad-id", "999999", "-o", dir + "/x"],
                 "--pad-id 999999 is not a token id (the vocabulary has ids 0...151645)"),
            ] {
                let bad = try CLI.run(["encode"] + arguments, stdin: .text("a\n"))
                #expect(bad.status == 2 && bad.stderrLines.first == "Error: " + message, "\(bad)")
            }
            let fifo = try CLI.run(["encode", "--format", "npy", "-o", "/dev/null"], stdin: .text("a\n"))
            #expect(fifo.status == 1 && fifo.stderrText == "qwenkit: /dev/null: --format npy needs a regular file (its shape is written into the header at the end)\n", "\(fifo)")
        }
    }

    /// decode reads Megatron datasets (one document per line; --eod shows as <|endoftext|>) and .npy arrays.
    @Test func decodeReadsDatasets() throws {
        let documents = String(decoding: try readFile(Self.docs), as: UTF8.self).split(separator: "\n").map { line -> String in
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["text"] as! String
        }
        let run = try CLI.run(["decode", "--format", "megatron", CLI.repositoryPath("Fixtures/megatron/qwen2-eod.idx")])
        #expect(run.status == 0 && run.stdoutText == documents.map { $0 + ($0.isEmpty ? "" : "<|endoftext|>") + "\n" }.joined(), "\(run)")
        let tiny = try CLI.run(["decode", "--format", "megatron", "--tokenizer", CLI.repositoryPath("Fixtures/checkpoints/q2-tied/tokenizer.json"),
                                CLI.repositoryPath("Fixtures/megatron/tiny-eod")])
        #expect(tiny.status == 0 && tiny.stdoutText.hasPrefix("Hello, world!<|endoftext|>\n\n"), "\(tiny)")
        let npy = try CLI.run(["decode", "--format", "npy", CLI.repositoryPath("Fixtures/packing/flat.npy")])
        #expect(npy.status == 0 && npy.stdoutText == documents.map { $0 + "<|endoftext|>" }.joined(), "\(npy)")
        let stdin = try CLI.run(["decode", "--format", "megatron"], stdin: .text(""))
        #expect(stdin.status == 2 && stdin.stderrLines.first == "Error: --format megatron reads a dataset by its prefix, not stdin", "\(stdin)")
        let missing = try CLI.run(["decode", "--format", "megatron", "/nonexistent/x"])
        #expect(missing.status == 1 && missing.stderrText == "qwenkit: /nonexistent/x.idx: cannot open: No such file or directory\n", "\(missing)")
    }
}
