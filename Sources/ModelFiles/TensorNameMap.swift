// The one table of Hugging Face ⇄ GGUF tensor names for qwen2 and qwen2moe (shared/SPEC-FACTS.md §2.5), as
// llama.cpp's converter maps them. Used by `convert` (HF → GGUF), `diff` (either way) and the runtime (an HF directory's
// tensors looked up by GGUF name, `ModelTensors`).

/// Where a Hugging Face tensor goes in a GGUF file.
public enum TensorDestination: Sendable, Equatable {
    /// Copied (and converted) to one GGUF tensor.
    case tensor(String)
    /// One routed expert's matrix, stacked with the others of its layer into `stacked` at index `expert`.
    case expert(stacked: String, expert: Int)
    /// Left out, as the reference converter does (rotary caches, attention masks).
    case skipped
}

public enum TensorNameMap {
    /// Per-layer suffixes: HF (after `model.layers.N.`) → GGUF (after `blk.N.`).
    static let layerNames: [(hf: String, gguf: String)] = [
        ("input_layernorm.weight", "attn_norm.weight"),
        ("post_attention_layernorm.weight", "ffn_norm.weight"),
        ("self_attn.q_proj.weight", "attn_q.weight"),
        ("self_attn.q_proj.bias", "attn_q.bias"),
        ("self_attn.k_proj.weight", "attn_k.weight"),
        ("self_attn.k_proj.bias", "attn_k.bias"),
        ("self_attn.v_proj.weight", "attn_v.weight"),
        ("self_attn.v_proj.bias", "attn_v.bias"),
        ("self_attn.o_proj.weight", "attn_output.weight"),
        ("mlp.gate_proj.weight", "ffn_gate.weight"),
        ("mlp.up_proj.weight", "ffn_up.weight"),
        ("mlp.down_proj.weight", "ffn_down.weight"),
        ("mlp.gate.weight", "ffn_gate_inp.weight"),
        ("mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"),
        ("mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight"),
        ("mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight"),
        ("mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight"),
    ]

    /// Whole-model tensors.
    static let globalNames: [(hf: String, gguf: String)] = [
        ("model.embed_tokens.weight", "token_embd.weight"),
        ("lm_head.weight", "output.weight"),
        ("model.norm.weight", "output_norm.weight"),
    ]

    /// Routed experts' projections: HF `mlp.experts.E.<proj>.weight` → GGUF `blk.N.<stacked>.weight`, in the
    /// order the reference writes the stacked tensors (down, gate, up).
    public static let expertProjections: [(hf: String, gguf: String)] = [
        ("down_proj", "ffn_down_exps"),
        ("gate_proj", "ffn_gate_exps"),
        ("up_proj", "ffn_up_exps"),
    ]

    /// Suffixes the reference converter drops.
    static let skippedSuffixes = [".attention.masked_bias", ".attention.bias", ".rotary_emb.inv_freq"]

    /// The GGUF destination of an HF tensor name, or nil when the name is not part of a Qwen2 model.
    public static func destination(ofHF name: String) -> TensorDestination? {
        if skippedSuffixes.contains(where: { name.hasSuffix($0) }) { return .skipped }
        if let g = globalNames.first(where: { $0.hf == name }) { return .tensor(g.gguf) }
        // `Qwen2Model` checkpoints (no LM head wrapper) lack the `model.` prefix.
        var rest = Substring(name)
        if rest.hasPrefix("model.") { rest = rest.dropFirst(6) }
        else if globalNames.contains(where: { $0.hf == "model." + name }) { return destination(ofHF: "model." + name) }
        guard rest.hasPrefix("layers.") else { return nil }
        rest = rest.dropFirst(7)
        guard let (layer, tail) = splitIndex(rest) else { return nil }
        if let l = layerNames.first(where: { $0.hf == tail }) { return .tensor("blk.\(layer).\(l.gguf)") }
        // mlp.experts.E.<proj>.weight
        guard tail.hasPrefix("mlp.experts.") else { return nil }
        guard let (expert, projTail) = splitIndex(tail.dropFirst(12)), projTail.hasSuffix(".weight") else { return nil }
        let proj = projTail.dropLast(7)
        guard let p = expertProjections.first(where: { $0.hf == proj }) else { return nil }
        return .expert(stacked: "blk.\(layer).\(p.gguf).weight", expert: expert)
    }

    /// The HF name of a GGUF tensor (the `model.`-prefixed form), for each stacked expert tensor the list of
    /// per-expert names given `expertCount`. Nil when the name is not one the converter writes.
    public static func hfNames(ofGGUF name: String, expertCount: Int = 0) -> [String]? {
        if let g = globalNames.first(where: { $0.gguf == name }) { return [g.hf] }
        guard name.hasPrefix("blk.") else { return nil }
        guard let (layer, tail) = splitIndex(name.dropFirst(4)) else { return nil }
        if let l = layerNames.first(where: { $0.gguf == tail }) { return ["model.layers.\(layer).\(l.hf)"] }
        if let p = expertProjections.first(where: { $0.gguf + ".weight" == tail }) {
            return (0..<expertCount).map { "model.layers.\(layer).mlp.experts.\($0).\(p.hf).weight" }
        }
        return nil
    }

    /// The census of an HF checkpoint's tensors under their GGUF names (each routed expert counted under its
    /// stacked name), to check config.json against before anything is sized from it.
    public static func inventory(of weights: HFModelDirectory.Weights) -> TensorInventory {
        var inventory = TensorInventory()
        for t in weights.tensors {
            switch destination(ofHF: t.name) {
            case .tensor(let name)?:
                inventory.add(name: name, storedName: t.name, dims: t.shape.reversed(), expert: nil)
            case .expert(let stacked, let expert)?:
                inventory.add(name: stacked, storedName: t.name, dims: t.shape.reversed(), expert: expert)
            case .skipped?, nil:
                continue
            }
        }
        return inventory
    }

    /// `"12.rest"` → (12, "rest"): a decimal index without leading zeros, a dot, and the rest.
    static func splitIndex(_ s: Substring) -> (Int, String)? {
        guard let dot = s.firstIndex(of: ".") else { return nil }
        let digits = s[..<dot]
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits == "0" || !digits.hasPrefix("0"), let n = Int(digits) else { return nil }
        return (n, String(s[s.index(after: dot)...]))
    }
}
