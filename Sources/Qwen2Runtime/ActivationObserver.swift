/// Sees the input of every matrix multiplication of a forward pass, which is what an importance matrix is made of
/// (llama-imatrix collects the same from ggml's graph). Set one on `InferenceSession.observer`; with none set, the
/// forward pass does no extra work.
///
/// Called on the session's thread, once per weight and step, before the multiplication: `input` holds `rows` vectors
/// of `columns` floats (row-major), valid only during the call. `weight` is the GGUF tensor name
/// (`blk.0.attn_q.weight`, `output.weight`, `blk.0.ffn_gate_inp_shexp.weight` for the shared expert's gate, which
/// the session computes as a dot product); for one expert of a stacked tensor (`blk.0.ffn_up_exps.weight`),
/// `expert` is its index and `experts` how many the tensor stacks, and `input` holds only the tokens routed to it.
/// Q, K and V see the same input, each under its own name, as in llama.cpp.
public protocol ActivationObserver: AnyObject {
    func observe(weight: String, expert: Int?, experts: Int, input: UnsafePointer<Float>, rows: Int, columns: Int)
}
