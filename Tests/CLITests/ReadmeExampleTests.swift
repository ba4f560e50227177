// Every example command in README.md runs, so none can drift: each `qwenkit …` line of its ```sh blocks is run by
// bash in a directory where every file and model it names exists — a Qwen2-shaped checkpoint with the real Qwen2
// tokenizer (151,936 ids, one tiny layer, made here), its GGUF conversions and quantizations, a corpus, goldens —
// and must exit 0 (a few documented exceptions below). Where a line's comment is a line of ids, stdout must be
// exactly that.

import Foundation
import ModelFiles
import Testing
import TestSupport

@Suite struct ReadmeExampleTests {
    /// The README's example lines: the `qwenkit …` and `echo … | qwenkit …` lines of its ```sh blocks.
    static func exampleLines() throws -> [String] {
        let readme = String(decoding: try readFile(CLI.repositoryPath("README.md")), as: UTF8.self)
        var lines: [String] = [], inBlock = false
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inBlock = line == "```sh" && !inBlock
                continue
            }
            // `serve` runs until it is stopped: ServeTests starts and stops it.
            if line.hasPrefix("qwenkit serve ") { continue }
            if inBlock && (line.hasPrefix("qwenkit ") || (line.hasPrefix("echo ") && line.contains("| qwenkit "))) {
                lines.append(String(line))
            }
        }
        return lines
    }

    /// Lines whose answer is not always "yes": an exit status of 1 is the command's documented "no" here.
    static let statusOneAllowed = [
        "--no-fallback",   // this checkpoint's rows are not a multiple of 256: refused, as the comment says
        "qwenkit diff ",   // 1: the models differ (a quantization, two different files)
        "qwenkit verify qwen2-0.5b-q4_k_m.gguf", "qwenkit verify model-q8_0.gguf",  // random weights: may be outside
    ]

    @Test func everyExampleRuns() throws {
        let lines = try Self.exampleLines()
        #expect(lines.count >= 30, "README has \(lines.count) example lines")
        try withTemporaryDirectory { dir in
            try Self.makeWorld(dir)
            for line in lines {
                // The comment: two or more spaces, then `# `.
                var command = line, comment = ""
                if let range = line.range(of: #"\s{2,}# "#, options: .regularExpression) {
                    command = String(line[..<range.lowerBound])
                    comment = String(line[range.upperBound...])
                }
                // jq may be missing: check that the JSON parses instead.
                var wantsJSON = false
                if let pipe = command.range(of: " | jq ") {
                    command = String(command[..<pipe.lowerBound])
                    wantsJSON = true
                }
                let run = try CLI.shell(command, in: dir)
                let allowed: Set<Int32> = Self.statusOneAllowed.contains { line.contains($0) } ? [0, 1] : [0]
                #expect(allowed.contains(run.status) && !run.signaled, "README: \(line)\n\(run)")
                if comment.wholeMatch(of: /[0-9]+( [0-9]+)*/) != nil {
                    #expect(run.stdoutText == comment + "\n", "README claims \(comment) for: \(command)\n\(run)")
                }
                if wantsJSON {
                    #expect((try? JSONSerialization.jsonObject(with: Data(run.stdout))) != nil, "not JSON: \(line)\n\(run)")
                }
            }
        }
    }

    // MARK: The world the examples run in

    /// A Qwen2-shaped checkpoint small enough to make in a test: the real Qwen2 tokenizer and vocabulary, one layer
    /// of width 16, F32, with deterministic pseudo-random weights.
    static func makeCheckpoint(_ dir: String) throws {
        let vocab = 151_936, hidden = 16, heads = 2, kvHeads = 1, ffn = 32
        let headDim = hidden / heads
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeFile(dir + "/config.json", """
            {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
             "hidden_size": \(hidden), "intermediate_size": \(ffn), "num_attention_heads": \(heads),
             "num_key_value_heads": \(kvHeads), "num_hidden_layers": 1, "max_position_embeddings": 4096,
             "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": true, "torch_dtype": "float32",
             "vocab_size": \(vocab), "bos_token_id": 151643, "eos_token_id": 151645}
            """)
        let tensors: [(String, [Int])] = [
            ("model.embed_tokens.weight", [vocab, hidden]),
            ("model.layers.0.input_layernorm.weight", [hidden]),
            ("model.layers.0.self_attn.q_proj.weight", [hidden, hidden]),
            ("model.layers.0.self_attn.q_proj.bias", [hidden]),
            ("model.layers.0.self_attn.k_proj.weight", [kvHeads * headDim, hidden]),
            ("model.layers.0.self_attn.k_proj.bias", [kvHeads * headDim]),
            ("model.layers.0.self_attn.v_proj.weight", [kvHeads * headDim, hidden]),
            ("model.layers.0.self_attn.v_proj.bias", [kvHeads * headDim]),
            ("model.layers.0.self_attn.o_proj.weight", [hidden, hidden]),
            ("model.layers.0.post_attention_layernorm.weight", [hidden]),
            ("model.layers.0.mlp.gate_proj.weight", [ffn, hidden]),
            ("model.layers.0.mlp.up_proj.weight", [ffn, hidden]),
            ("model.layers.0.mlp.down_proj.weight", [hidden, ffn]),
            ("model.norm.weight", [hidden]),
        ]
        let writer = SafetensorsWriter(path: dir + "/model.safetensors", metadata: ["format": "pt"])
        for (name, shape) in tensors { try writer.addTensor(name: name, dtype: .f32, shape: shape) }
        var state: UInt64 = 0x5EED
        try writer.write { sink in
            let count = sink.info.shape.reduce(1, *)
            let norm = sink.info.name.hasSuffix("norm.weight")
            var values = [Float](repeating: 1, count: count)
            if !norm {
                for i in 0..<count {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    values[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 0.5
                }
            }
            try values.withUnsafeBytes { try sink.write($0) }
        }
        let tokenizers = CLI.repositoryPath("Fixtures/tokenizers/qwen2")
        let made = try CLI.shell("zstd -dqf '\(tokenizers)/tokenizer.json.zst' -o tokenizer.json && "
            + "cp '\(tokenizers)/tokenizer_config.json' .", in: dir)
        guard made.status == 0 else { throw CLITestError("tokenizer files: \(made)") }
    }

    /// Every name the README's examples use, under the working directory `dir`.
    static func makeWorld(_ dir: String) throws {
        try makeCheckpoint(dir + "/Qwen2-0.5B")
        let sample = CLI.repositoryPath("Fixtures/sample.txt")
        let sharded = CLI.repositoryPath("Fixtures/models/tiny-qwen2-sharded")
        let script = """
            set -e
            ln -s Qwen2-0.5B Qwen2-0.5B-Instruct && ln -s Qwen2-0.5B Qwen2-7B
            cp -R '\(CLI.repositoryPath("Fixtures/checkpoints/q2moe"))' Qwen1.5-MoE-A2.7B
            cp '\(CLI.repositoryPath("README.md"))' README.md
            cp '\(sample)' corpus.txt && cp '\(sample)' book.txt && zstd -q corpus.txt -o corpus.txt.zst
            cp '\(CLI.repositoryPath("Fixtures/imatrix/calibration.txt"))' calibration.txt
            printf '%s\\n' '{"text": "Hello, world!", "id": 1}' '{"text": "Qwen2 是一个模型。", "id": 2}' > data.jsonl
            zstd -q data.jsonl -o shard-00000.jsonl.zst && zstd -q data.jsonl -o shard-00001.jsonl.zst
            mkdir data out && cp data.jsonl data/a.jsonl && cp data.jsonl data/b.jsonl && gzip -k data.jsonl
            printf '%s\n' '{"meta": {"text": "Hi"}}' '{"meta": {"txt": "broken"}}' | zstd -q -o crawl-0.jsonl.zst
            cp '\(CLI.repositoryPath("Fixtures/parquet-corpus/corpus.parquet"))' train-00000.parquet
            qwenkit encode --lines corpus.txt -o ids.txt
            cp '\(sharded)'/*.safetensors '\(sharded)'/model.safetensors.index.json .
            printf '%s' '{% for m in messages %}{{ m.content }}{% endfor %}' > template.jinja
            printf '%s' '[{"role": "user", "content": "Hi"}]' > chat.json
            printf '%s' '{"messages": [{"role": "user", "content": "What is the weather in Paris?"}]}' > request.json
            printf '%s' '[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]' > tools.json
            mkdir Qwen2.5-7B-Instruct && cp Qwen2-0.5B/* Qwen2.5-7B-Instruct/
            cp '\(CLI.repositoryPath("Fixtures/chat-templates/templates/Qwen-Qwen2.5-7B-Instruct.jinja"))' Qwen2.5-7B-Instruct/chat_template.jinja
            cp '\(CLI.repositoryPath("Fixtures/chat-templates/templates/Qwen-Qwen3-0.6B.jinja"))' Qwen3.jinja
            qwenkit convert Qwen2-0.5B -o model-f16.gguf -q
            qwenkit convert Qwen2-0.5B --outtype f32 -o qwen2-0.5b-f32.gguf -q
            cp model-f16.gguf model.gguf && cp model-f16.gguf a.gguf
            qwenkit imatrix model-f16.gguf -f calibration.txt -c 64 --chunks 2 -o imatrix.gguf 2> /dev/null
            qwenkit quantize Qwen2-0.5B qwen2-0.5b-q8_0.gguf Q8_0 -q
            cp qwen2-0.5b-q8_0.gguf model-q8_0.gguf && cp qwen2-0.5b-q8_0.gguf qwen2-0.5b-instruct-q8_0.gguf
            cp qwen2-0.5b-q8_0.gguf b.gguf
            qwenkit quantize Qwen2-0.5B qwen2-0.5b-q4_k_m.gguf Q4_K_M -q
            mkdir goldens
            qwenkit run qwen2-0.5b-f32.gguf --tokens 785,6722,315,9625,374 -n 4 -q --logits goldens/a.safetensors > /dev/null
            qwenkit run qwen2-0.5b-f32.gguf --prompt 'The capital of France is' -n 1 -q --logits paris.safetensors > /dev/null
            """
        let made = try CLI.shell(script, in: dir)
        guard made.status == 0 else { throw CLITestError("README world: \(made)") }
    }
}
