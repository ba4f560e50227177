// The trained checkpoint (Fixtures/trained, made by train_small_model.py): a small Qwen2 with the real tokenizer whose
// perplexities and quantization errors mean something. Its weights and the tokenizer are committed zstd-compressed;
// tests decompress them into a scratch directory and convert it as the goldens' scripts did.

import Conversion
import Foundation
import QwenKitIO

public enum TrainedModel {
    public static let name = "qwen2-s256"

    /// The held-out text its goldens ran on (Fixtures/trained/eval.txt).
    public static var evalTextPath: String { fixturePath("trained/eval.txt") }

    /// The checkpoint as an HF directory under `directory` (config, tokenizer_config, weights, tokenizer.json).
    public static func checkpoint(in directory: String) throws -> String {
        let out = directory + "/" + name
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let committed = fixturePath("trained/" + name)
        for file in try directoryEntries(committed) {
            let path = committed + "/" + file
            if file.hasSuffix(".zst") {
                try writeFile(out + "/" + String(file.dropLast(4)), try decompressed(path))
            } else {
                try writeFile(out + "/" + file, try readFile(path))
            }
        }
        try writeFile(out + "/tokenizer.json", try decompressed(fixturePath("tokenizers/qwen2/tokenizer.json.zst")))
        return out
    }

    /// `checkpoint` converted to an F32 GGUF in `directory`, as `qwenkit convert --outtype f32` writes it (the goldens'
    /// model: llama.cpp's converter writes the same bytes).
    public static func f32GGUF(_ checkpoint: String, in directory: String) throws -> String {
        let out = directory + "/\(name).f32.gguf"
        _ = try Converter.write(try ConversionPlan(path: checkpoint, outputType: .f32), to: out)
        return out
    }

    /// A zstd-compressed fixture, whole.
    public static func decompressed(_ path: String) throws -> [UInt8] {
        try openInput(path: path, decompress: true).readToEnd()
    }
}
