import Conversion
import ModelFiles
import QwenTokenizer
import Qwen2Runtime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Worker threads: `requested`, or one per online CPU.
func runtimeThreadCount(_ requested: Int?) -> Int {
    requested ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

/// Loads the tokenizer that goes with a model: `override` if given, else the HF directory's tokenizer files, else
/// the tokenizer a GGUF carries.
func loadModelTokenizer(modelPath: String, override: String?) throws -> Tokenizer {
    if let override { return try Tokenizer.load(path: override) }
    if HFModelDirectory.isDirectory(modelPath) { return try Tokenizer.load(path: modelPath) }
    let file = try GGUFFile(path: modelPath)
    do {
        return try TokenizerSpec(gguf: file).build()
    } catch let error as ConversionError {
        throw CLIError("\(error.description) (give the model's tokenizer with --tokenizer PATH)")
    }
}

/// Token ids that end generation: the model's declared end-of-sequence ids (GGUF `tokenizer.ggml.eos_token_id` and
/// `eot_token_id`; HF `generation_config.json` and `config.json` `eos_token_id`, a number or a list), plus
/// `<|im_end|>` and `<|endoftext|>` when the tokenizer has them.
func endTokenIDs(modelPath: String, tokenizer: Tokenizer) -> Set<UInt32> {
    var ids = Set<UInt32>()
    for name in ["<|im_end|>", "<|endoftext|>"] {
        if let id = tokenizer.addedTokenID(name) { ids.insert(id) }
    }
    if HFModelDirectory.isDirectory(modelPath) {
        for file in [HFModelDirectory.generationConfigName, HFModelDirectory.configName] {
            guard let json = try? readJSONFile(modelPath + "/" + file) else { continue }
            switch json["eos_token_id"] {
            case .number(let n)?: if let i = UInt32(exactly: n) { ids.insert(i) }
            case .array(let a)?: for case .number(let n) in a { if let i = UInt32(exactly: n) { ids.insert(i) } }
            default: break
            }
        }
    } else if let file = try? GGUFFile(path: modelPath), let meta = try? GGUFTokenizerMetadata(gguf: file) {
        for id in [meta.eosID, meta.eotID].compactMap({ $0 }) { if let i = UInt32(exactly: id) { ids.insert(i) } }
    }
    return ids
}

/// Monotonic seconds.
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
