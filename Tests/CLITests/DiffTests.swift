// `qwenkit diff` as a user runs it: exit statuses (0 equal within tolerance, 1 different or unreadable, 64 usage),
// the text report's shape and the JSON document, on the converter's fixtures.

import Foundation
import Testing
import TestSupport

@Suite struct DiffTests {
    static func checkpoint(_ model: String) -> String { CLI.repositoryPath("Fixtures/checkpoints/" + model) }
    static func golden(_ model: String, _ type: String) -> String { CLI.repositoryPath("Fixtures/convert-golden/\(model).\(type).gguf") }

    static func document(_ run: RunResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any], "\(run)")
    }

    @Test func equalModelsExitZero() throws {
        let run = try CLI.run(["diff", Self.checkpoint("q2moe"), Self.golden("q2moe", "f32")])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let lines = run.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "a: \(Self.checkpoint("q2moe"))  (HF model directory, 55 tensors)")
        #expect(lines[1] == "b: \(Self.golden("q2moe", "f32"))  (GGUF, 37 tensors)")
        #expect(lines.contains { $0.hasPrefix("equal   blk.0.ffn_down_exps.weight ") && $0.contains("BF16 → F32") && $0.contains("[4, 32, 48]") })
        #expect(lines.suffix(2) == ["37 tensors: 37 equal, 37 of another type; the models match", ""])
    }

    /// A Q8_0 conversion differs: status 1 and the report on stdout, nothing on stderr; within a tolerance, 0.
    @Test func differencesAndTolerance() throws {
        let strict = try CLI.run(["diff", Self.checkpoint("q2moe"), Self.golden("q2moe", "q8_0")])
        #expect(strict.status == 1 && !strict.signaled && strict.stderr.isEmpty, "\(strict)")
        #expect(strict.stdoutText.hasSuffix("37 tensors: 17 equal, 20 over tolerance 0, 37 of another type; the models differ\n"))
        let lines = strict.stdoutText.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("status") })
        #expect(lines[header + 1].hasPrefix("over    blk.1.ffn_up_shexp.weight "), "worst first: \(lines[header + 1])")

        let loose = try CLI.run(["diff", "--tolerance", "0.01", Self.checkpoint("q2moe"), Self.golden("q2moe", "q8_0")])
        #expect(loose.status == 0 && loose.stderr.isEmpty, "\(loose)")
        #expect(loose.stdoutText.hasSuffix("37 tensors: 17 equal, 20 within tolerance 0.01, 37 of another type; the models match within tolerance\n"))
    }

    @Test func jsonDocument() throws {
        let run = try CLI.run(["diff", "--json", "--threads", "2", Self.checkpoint("q2moe"), Self.golden("q2moe", "q8_0")])
        #expect(run.status == 1 && run.stderr.isEmpty, "\(run)")
        let doc = try Self.document(run)
        #expect(doc["passed"] as? Bool == false)
        #expect(doc["name_mapping"] as? String == "hf_to_gguf")
        #expect(doc["tolerance"] as? Double == 0)
        let counts = try #require(doc["counts"] as? [String: Int])
        #expect(counts["tensors"] == 37 && counts["equal"] == 17 && counts["over_tolerance"] == 20 && counts["only_in_a"] == 0)
        let tensors = try #require(doc["tensors"] as? [[String: Any]])
        #expect(tensors.count == 37)
        let worst = tensors[0]
        #expect(worst["name"] as? String == "blk.1.ffn_up_shexp.weight" && worst["status"] as? String == "over_tolerance")
        #expect((worst["a"] as? [String: Any])?["names"] as? [String] == ["model.layers.1.mlp.shared_expert.up_proj.weight"])
        #expect((worst["b"] as? [String: Any])?["type"] as? String == "Q8_0")
        #expect((worst["max_abs_error"] as? Double ?? 0) > 0 && (worst["cosine"] as? Double ?? 1) < 1)
        let errors = tensors.compactMap { $0["max_abs_error"] as? Double }
        #expect(errors.count == 37 && errors == errors.sorted(by: >), "worst first")
        let experts = try #require(tensors.first { $0["name"] as? String == "blk.0.ffn_gate_exps.weight" })
        #expect(((experts["a"] as? [String: Any])?["names"] as? [String])?.count == 4)
        #expect((experts["a"] as? [String: Any])?["shape"] as? [Int] == [4, 48, 32])
        #expect(doc["metadata"] is NSNull)
    }

    /// Two GGUF files: the metadata comparison is in both renderings; F16 against BF16 changes only the file type.
    @Test func ggufMetadata() throws {
        let json = try CLI.run(["diff", "--json", Self.golden("q2-yarn", "f16"), Self.golden("q2-yarn", "bf16")])
        let metadata = try #require(try Self.document(json)["metadata"] as? [String: Any])
        let changed = try #require(metadata["changed"] as? [[String: Any]])
        #expect(changed.map { $0["key"] as? String } == ["general.file_type"])
        #expect((changed[0]["a"] as? [String: Any])?["value"] as? Int == 1 && (changed[0]["b"] as? [String: Any])?["value"] as? Int == 32)
        #expect((metadata["added"] as? [Any])?.isEmpty == true && (metadata["removed"] as? [Any])?.isEmpty == true)

        let text = try CLI.run(["diff", Self.golden("q2-yarn", "f16"), Self.golden("q2-yarn", "bf16")])
        #expect(text.stdoutText.contains("\nmetadata: 1 changed, 0 added, 0 removed\n  changed  general.file_type  UINT32 1  →  UINT32 32\n"))
    }

    @Test func missingTensorFails() throws {
        let run = try CLI.run(["diff", "--json", Self.checkpoint("q2-tied"), Self.checkpoint("q2-untied")])
        #expect(run.status == 1 && run.stderr.isEmpty, "\(run)")
        let doc = try Self.document(run)
        let first = try #require((doc["tensors"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "lm_head.weight" && first["status"] as? String == "only_in_b" && first["a"] is NSNull)
        #expect((doc["counts"] as? [String: Int])?["shape_mismatch"] == 26)
    }

    @Test func tensorFilter() throws {
        let run = try CLI.run(["diff", "--tensor", "blk.0.attn_?.bias", "--tensor", "output.weight",
                               Self.checkpoint("q2-untied"), Self.golden("q2-untied", "q8_0")])
        #expect(run.status == 1, "\(run)")
        #expect(run.stdoutText.hasSuffix("4 tensors: 3 equal, 1 over tolerance 0, 1 of another type; the models differ\n"))
    }

    @Test func badInput() throws {
        let missing = "/nonexistent/model.gguf"
        let run = try CLI.run(["diff", missing, Self.golden("q2-tied", "f32")])
        #expect(run.status == 2 && run.stdout.isEmpty, "\(run)")  // as cmp: 2 is trouble, 1 "they differ"
        #expect(run.stderrText == "qwenkit: \(missing): cannot open: No such file or directory\n")

        let none = try CLI.run(["diff", "--tensor", "nope*", Self.golden("q2-tied", "f32"), Self.golden("q2-tied", "f16")])
        #expect(none.status == 2 && none.stderrText == "qwenkit: no tensor matches 'nope*' (of 26)\n", "\(none)")

        for arguments in [["--threads", "0"], ["--tolerance", "-1"], ["--tolerance", "inf"], ["--tolerance", "x"]] {
            let usage = try CLI.run(["diff"] + arguments + [Self.golden("q2-tied", "f32"), Self.golden("q2-tied", "f16")])
            #expect(usage.status == 2 && usage.stdout.isEmpty && usage.stderrText.hasPrefix("Error: "), "\(usage)")
        }
        let one = try CLI.run(["diff", Self.golden("q2-tied", "f32")])
        #expect(one.status == 2, "\(one)")
    }
}
