import ArgumentParser
import Conversion
import ModelFiles
import QwenKitIO
import QwenTokenizer
import Qwen2Runtime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--no-mmap`, as llama.cpp names it, for the commands that run a model (run, chat, serve, perplexity, imatrix, verify).
struct ModelMemoryFlags: ParsableArguments {
    @Flag(name: .customLong("no-mmap"),
          help: "Read the model into the process's memory (on 2 MB pages where the system allows) instead of mapping it: generation faster (3-10% here), start-up slower.")
    var noMmap = false

    var residency: FileResidency { noMmap ? .loaded : .mapped }
}

/// Loads the tokenizer that goes with a model: `override` if given, else the tokenizer its GGUF carries (Qwen2's is
/// restored from the embedded compiled copy, `TokenizerSpec.tokenizer(gguf:)`), else the HF directory's tokenizer files.
func loadModelTokenizer(_ model: Qwen2Model, override: String?) throws -> Tokenizer {
    if let override { return try Tokenizer.load(path: override) }
    guard let file = model.gguf else { return try Tokenizer.load(path: model.path) }
    do {
        return try TokenizerSpec.tokenizer(gguf: file)
    } catch let error as ConversionError {
        throw CLIError("\(error.description) (give the model's tokenizer with --tokenizer PATH)")
    }
}

/// Token ids that end generation: the model's declared end-of-sequence ids (GGUF `tokenizer.ggml.eos_token_id` and
/// `eot_token_id`; HF `generation_config.json` and `config.json` `eos_token_id`, a number or a list), plus
/// `<|im_end|>` and `<|endoftext|>` when the tokenizer has them.
func endTokenIDs(_ model: Qwen2Model, tokenizer: Tokenizer) -> Set<UInt32> {
    var ids = Set<UInt32>()
    for name in ["<|im_end|>", "<|endoftext|>"] {
        if let id = tokenizer.addedTokenID(name) { ids.insert(id) }
    }
    if let file = model.gguf {
        if let meta = try? GGUFTokenizerMetadata(gguf: file) {
            for id in [meta.eosID, meta.eotID].compactMap({ $0 }) { if let i = UInt32(exactly: id) { ids.insert(i) } }
        }
    } else {
        for file in [HFModelDirectory.generationConfigName, HFModelDirectory.configName] {
            guard let json = try? readJSONFile(model.path + "/" + file) else { continue }
            switch json["eos_token_id"] {
            case .number(let n)?: if let i = UInt32(exactly: n) { ids.insert(i) }
            case .array(let a)?: for case .number(let n) in a { if let i = UInt32(exactly: n) { ids.insert(i) } }
            default: break
            }
        }
    }
    return ids
}

/// Monotonic seconds.
func monotonicSeconds() -> Double { Double(monotonicNanoseconds()) * 1e-9 }
