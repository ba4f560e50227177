// `qwenkit inspect` as a user runs it: the summary and tables of the tiny model fixtures (snapshots in
// Tests/CLITests/Snapshots, regenerated with QWENKIT_UPDATE_SNAPSHOTS=1), JSON for scripts, and bad input.

import Foundation
import Testing
import TestSupport

@Suite struct InspectTests {
    static let models = CLI.repositoryPath("Fixtures/models")

    /// Output with the absolute fixture directory written as `Fixtures/models`, as the snapshots have it.
    static func portable(_ run: RunResult) -> String {
        run.stdoutText.replacingOccurrences(of: models, with: "Fixtures/models")
    }

    static func expectSnapshot(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = CLI.repositoryPath("Tests/CLITests/Snapshots/" + name)
        if ProcessInfo.processInfo.environment["QWENKIT_UPDATE_SNAPSHOTS"] == "1" {
            try writeFile(path, text)
            return
        }
        let want = String(decoding: try readFile(path), as: UTF8.self)
        #expect(text == want, "differs from \(name) (QWENKIT_UPDATE_SNAPSHOTS=1 to refresh)", sourceLocation: sourceLocation)
    }

    struct SnapshotCase: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let snapshot: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let snapshotCases: [SnapshotCase] = [
        SnapshotCase(arguments: ["tiny-qwen2.gguf"], snapshot: "inspect-gguf.txt"),
        SnapshotCase(arguments: ["--tensor", "blk.1.*", "tiny-qwen2.gguf"], snapshot: "inspect-gguf-tensors.txt"),
        SnapshotCase(arguments: ["tiny-qwen2"], snapshot: "inspect-hf.txt"),
        SnapshotCase(arguments: ["--tensors", "--tensor", "*layers.0.self_attn.[kv]*", "tiny-qwen2-sharded"], snapshot: "inspect-sharded-tensors.txt"),
        SnapshotCase(arguments: ["--stats", "stats.safetensors"], snapshot: "inspect-stats.txt"),
    ]

    @Test(arguments: snapshotCases)
    func textOutput(_ c: SnapshotCase) throws {
        var arguments = c.arguments
        arguments[arguments.count - 1] = Self.models + "/" + arguments[arguments.count - 1]
        let run = try CLI.run(["inspect"] + arguments)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        try Self.expectSnapshot(Self.portable(run), c.snapshot)
    }

    @Test func jsonForScripts() throws {
        let run = try CLI.run(["inspect", "--json", "--stats", "--tensor", "output*", Self.models + "/tiny-qwen2.gguf"])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
        #expect(doc["format"] as? String == "GGUF")
        #expect(doc["parameter_count"] as? Int == 115_264)
        #expect((doc["tensors"] as? [[String: Any]])?.map { $0["name"] as? String } == nil, "no table without --tensors")
        let stats = try #require(doc["statistics"] as? [[String: Any]])
        #expect(stats.compactMap { $0["name"] as? String } == ["output.weight", "output_norm.weight"])
        #expect(stats.allSatisfy { $0["count"] as? Int != nil && $0["std"] as? Double != nil })
    }

    /// A checkpoint with sliding-window attention says which layers use it, in text and JSON.
    @Test func slidingWindow() throws {
        let checkpoint = CLI.repositoryPath("Fixtures/checkpoints/q2-swa")
        let text = try CLI.run(["inspect", checkpoint])
        #expect(text.status == 0 && text.stdoutText.contains("\n                sliding window 8 in 2 of 3 layers (0, 2)\n"), "\(text)")
        let json = try CLI.run(["inspect", "--json", checkpoint])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        let window = try #require((doc["hyperparameters"] as? [String: Any])?["sliding_window"] as? [String: Any])
        #expect(window["size"] as? Int == 8 && window["layers"] as? [Int] == [0, 2])
    }

    @Test func stdoutIsOneDocument() throws {
        let run = try CLI.run(["inspect", "--json", "--tensors", Self.models + "/tiny-qwen2-sharded"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
        let tensors = try #require(doc["tensors"] as? [[String: Any]])
        #expect(tensors.count == 27)
        #expect(Set(tensors.compactMap { $0["shard"] as? String }).count == 2)
    }

    // MARK: Bad input

    static func expectFailure(_ run: RunResult, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1 && !run.signaled, "\(run)", sourceLocation: sourceLocation)
        #expect(run.stderrText == "qwenkit: " + message + "\n", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func badInputs() throws {
        try withTemporaryDirectory { dir in
            Self.expectFailure(try CLI.run(["inspect", dir + "/missing.gguf"]),
                               "\(dir)/missing.gguf: cannot open: No such file or directory")
            Self.expectFailure(try CLI.run(["inspect", dir]), "\(dir): not a model directory: it has no config.json")

            let gguf = try readFile(Self.models + "/tiny-qwen2.gguf")
            try writeFile(dir + "/cut.gguf", Array(gguf.prefix(5000)))
            let cut = try CLI.run(["inspect", dir + "/cut.gguf"])
            #expect(cut.status == 1 && cut.stderrText.hasPrefix("qwenkit: \(dir)/cut.gguf: "), "\(cut)")
            #expect(cut.stderrLines.count == 1)

            try writeFile(dir + "/text.safetensors", "hello, this is not a model")
            let text = try CLI.run(["inspect", dir + "/text.safetensors"])
            #expect(text.status == 1 && text.stderrText.hasPrefix("qwenkit: \(dir)/text.safetensors: header length "), "\(text)")

            try writeFile(dir + "/config.json", #"{"model_type": "qwen2"}"#)
            Self.expectFailure(try CLI.run(["inspect", dir]),
                               "\(dir): no weights: neither model.safetensors.index.json nor model.safetensors is there")
        }
        Self.expectFailure(try CLI.run(["inspect", "--tensor", "nope*", Self.models + "/tiny-qwen2.gguf"]),
                           "\(Self.models)/tiny-qwen2.gguf: no tensor matches 'nope*' (of 27)")
        let threads = try CLI.run(["inspect", "--threads", "0", Self.models + "/tiny-qwen2.gguf"])
        #expect(threads.status == 2 && threads.stderrText.hasPrefix("Error: --threads must be between 1 and 1024"), "\(threads)")
    }

    /// A model whose config the summary cannot read is still inspected: the problem is a warning line.
    @Test func unreadableConfigIsAWarning() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/config.json", #"{"model_type": "qwen2", "hidden_size": 64}"#)
            let weights = try readFile(Self.models + "/stats.safetensors")
            try writeFile(dir + "/model.safetensors", weights)
            let run = try CLI.run(["inspect", dir])
            #expect(run.status == 0, "\(run)")
            #expect(run.stdoutText.contains("\nwarning: \(dir)/config.json: \"num_attention_heads\": missing; a qwen2 config needs it\n"))
        }
    }
}
