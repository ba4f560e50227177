// `qwenkit convert` as a user runs it: the output equals llama.cpp's conversion (Fixtures/convert-golden), and every
// broken checkpoint is one line naming the file and tensor, exit 1, with nothing left at the output path.

import Foundation
import Testing
import TestSupport

@Suite struct ConvertTests {
    static let checkpoints = CLI.repositoryPath("Fixtures/checkpoints")

    @Test func matchesTheReferenceConverter() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["convert", Self.checkpoints + "/q2moe", "--outtype", "q8_0", "-o", dir + "/out.gguf"])
            #expect(run.status == 0, "\(run)")
            #expect(try readFile(dir + "/out.gguf") == readFile(CLI.repositoryPath("Fixtures/convert-golden/q2moe.q8_0.gguf")))
            // The fallbacks and a summary go to stderr.
            #expect(run.stderrLines == [
                "note: blk.0.ffn_down_exps.weight: rows of 48 are not a multiple of 32, written as F16",
                "note: blk.1.ffn_down_exps.weight: rows of 48 are not a multiple of 32, written as F16",
                "\(dir)/out.gguf: qwen2moe, Q8_0, 37 tensors, 94.46 kB of tensor data, 33 metadata keys",
            ])
        }
    }

    /// Copies checkpoint `name` into `dir/model`, lets `edit` change it, converts, and expects `message`.
    static func expectRefused(_ name: String, _ message: (String) -> String, sourceLocation: SourceLocation = #_sourceLocation,
                              edit: (String) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            let model = dir + "/model"
            try FileManager.default.copyItem(atPath: checkpoints + "/" + name, toPath: model)
            try edit(model)
            let run = try CLI.run(["convert", model, "-o", dir + "/out.gguf"])
            #expect(run.status == 1 && !run.signaled, "\(run)", sourceLocation: sourceLocation)
            #expect(run.stderrText == "qwenkit: " + message(model) + "\n", sourceLocation: sourceLocation)
            #expect(try directoryEntries(dir) == ["model"], "nothing is left next to the output", sourceLocation: sourceLocation)
        }
    }

    static func editJSON(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    @Test func badCheckpoints() throws {
        try Self.expectRefused("q2-tied", { "\($0): not a model directory: it has no config.json" }) { m in
            try FileManager.default.removeItem(atPath: m + "/config.json")
        }
        try Self.expectRefused("q2-tied", { "\($0)/config.json: architecture LlamaForCausalLM is not supported (supported: Qwen2ForCausalLM, Qwen2Model, Qwen2MoeForCausalLM)" }) { m in
            try Self.editJSON(m + "/config.json") { $0["architectures"] = ["LlamaForCausalLM"] }
        }
        try Self.expectRefused("q2-tied", { "\($0)/config.json: \"hidden_size\": missing; a qwen2 config needs it" }) { m in
            try Self.editJSON(m + "/config.json") { $0["hidden_size"] = nil }
        }
        // config.json says 3 layers; the weights have 2.
        try Self.expectRefused("q2-tied", { "\($0)/config.json: \"num_hidden_layers\": is 3 but the tensors hold 2 layers (24 tensors in layers 0 to 1)" }) { m in
            try Self.editJSON(m + "/config.json") { $0["num_hidden_layers"] = 3 }
        }
        // config.json says 1 layer: layer 1's tensors have no place.
        try Self.expectRefused("q2-tied", { "\($0)/config.json: \"num_hidden_layers\": is 1 but the tensors hold 2 layers (24 tensors in layers 0 to 1)" }) { m in
            try Self.editJSON(m + "/config.json") { $0["num_hidden_layers"] = 1 }
        }
        try Self.expectRefused("q2-tied", { "\($0)/config.json: \"vocab_size\": is 400 but tensor \"model.embed_tokens.weight\" has 320 rows" }) { m in
            try Self.editJSON(m + "/config.json") { $0["vocab_size"] = 400 }
        }
        try Self.expectRefused("q2-tied", { "\($0): tokenizer: token id 298 does not fit the vocabulary of 298 (config.json vocab_size): the embedding is smaller than the tokenizer" }) { m in
            // A vocab_size below the tokenizer's, with an embedding of that size.
            try Self.editJSON(m + "/config.json") { $0["vocab_size"] = 298 }
            try Self.shrinkEmbedding(m + "/model.safetensors", rows: 298)
        }
        try Self.expectRefused("q2-tied", { "\($0): tokenizer: no tokenizer.json, nor vocab.json with merges.txt, in this directory" }) { m in
            for f in ["tokenizer.json", "tokenizer_config.json"] { try FileManager.default.removeItem(atPath: m + "/" + f) }
        }
        try Self.expectRefused("q2-tied", { "\($0): tokenizer: the pretokenizer regex is not Qwen2's, so there is no llama.cpp pre-tokenizer to name for it: \"\\\\s+\"" }) { m in
            try Self.editJSON(m + "/tokenizer.json") { t in
                t["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                    ["type": "Split", "pattern": ["Regex": "\\s+"], "behavior": "Isolated", "invert": false],
                    ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false]]]
            }
        }
    }

    @Test func unwritableOutput() throws {
        try withTemporaryDirectory { dir in
            let run = try CLI.run(["convert", Self.checkpoints + "/q2-tied", "-o", dir + "/no/such/dir/out.gguf"])
            #expect(run.status == 1 && run.stderrText.hasPrefix("qwenkit: \(dir)/no/such/dir/out.gguf: "), "\(run)")
            #expect(run.stderrLines.count == 1)
        }
        let bad = try CLI.run(["convert", Self.checkpoints + "/q2-tied", "--outtype", "q4_0", "-o", "/tmp/x.gguf"])
        #expect(bad.status == 2 && bad.stderrText.contains("'q4_0'"), "\(bad)")
    }

    /// Rewrites a safetensors file with model.embed_tokens.weight cut to its first `rows` rows.
    static func shrinkEmbedding(_ path: String, rows: Int) throws {
        var bytes = try readFile(path)
        let headerLength = Int(bytes[0..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        var entries: [(String, [String: Any])] = header.compactMap { k, v in k == "__metadata__" ? nil : (k, v as! [String: Any]) }
        entries.sort { ($0.1["data_offsets"] as! [Int])[0] < ($1.1["data_offsets"] as! [Int])[0] }
        var data: [UInt8] = []
        let dataStart = 8 + headerLength
        for (name, var e) in entries {
            let offsets = e["data_offsets"] as! [Int]
            var chunk = Array(bytes[(dataStart + offsets[0])..<(dataStart + offsets[1])])
            if name == "model.embed_tokens.weight" {
                var shape = e["shape"] as! [Int]
                chunk = Array(chunk.prefix(chunk.count / shape[0] * rows))
                shape[0] = rows
                e["shape"] = shape
            }
            e["data_offsets"] = [data.count, data.count + chunk.count]
            data += chunk
            header[name] = e
        }
        var json = Array(try JSONSerialization.data(withJSONObject: header))
        while json.count % 8 != 0 { json.append(0x20) }
        bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
        try writeFile(path, bytes)
    }
}
