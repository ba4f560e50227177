// The tokens Qwen2.5's tokenizer adds to Qwen2's (whose vocabulary and merges it shares), for tests of tokenizers that
// differ from Qwen2's in their added tokens only.

/// Qwen2.5's added tokens after Qwen2's three (<|endoftext|>, <|im_start|>, <|im_end|>, ids 151,643-151,645), in id
/// order from 151,646, as the tokenizer.json of Qwen2.5-*-Instruct lists them: the first 11 special, from <tool_call> on
/// not.
public let qwen25ExtraAddedTokens: [(content: String, special: Bool)] = {
    let names = ["<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>",
                 "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
                 "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"]
    return names.enumerated().map { ($0.element, $0.offset < 11) }
}()
