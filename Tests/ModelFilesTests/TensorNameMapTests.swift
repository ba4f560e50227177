import ModelFiles
import Testing

@Suite struct TensorNameMapTests {
    @Test func bothDirections() {
        #expect(TensorNameMap.destination(ofHF: "model.layers.12.self_attn.k_proj.bias") == .tensor("blk.12.attn_k.bias"))
        #expect(TensorNameMap.destination(ofHF: "lm_head.weight") == .tensor("output.weight"))
        #expect(TensorNameMap.destination(ofHF: "model.layers.3.mlp.experts.7.down_proj.weight")
            == .expert(stacked: "blk.3.ffn_down_exps.weight", expert: 7))
        #expect(TensorNameMap.destination(ofHF: "model.layers.0.self_attn.rotary_emb.inv_freq") == .skipped)
        #expect(TensorNameMap.destination(ofHF: "layers.0.mlp.up_proj.weight") == .tensor("blk.0.ffn_up.weight"))  // Qwen2Model
        #expect(TensorNameMap.destination(ofHF: "model.layers.01.mlp.up_proj.weight") == nil)
        #expect(TensorNameMap.destination(ofHF: "model.vision_tower.weight") == nil)
        #expect(TensorNameMap.hfNames(ofGGUF: "blk.1.ffn_gate_inp_shexp.weight") == ["model.layers.1.mlp.shared_expert_gate.weight"])
        #expect(TensorNameMap.hfNames(ofGGUF: "blk.0.ffn_up_exps.weight", expertCount: 2)
            == ["model.layers.0.mlp.experts.0.up_proj.weight", "model.layers.0.mlp.experts.1.up_proj.weight"])
    }
}
