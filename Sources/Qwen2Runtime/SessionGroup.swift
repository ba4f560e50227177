/// Sessions that share one forward pass (its buffers and worker threads), each with its own KV cache, so that the
/// next tokens of several of them run as one step. Generating a token reads every weight of the model, and on a CPU
/// that read is most of a step's time; `decode` multiplies each weight matrix against one activation row per session
/// (the batched kernels a prompt uses), reading the weights once for all of them, where stepping each session alone
/// reads them once per session. RoPE, the cache writes and attention stay per session, at its own position, in its
/// own cache (sliding-window rings included).
///
/// The sessions share buffers: use them from one thread at a time (serve's scheduler runs them all on one).
public final class SessionGroup {
    public let sessions: [InferenceSession]
    private let pass: ForwardPass
    public var threads: Int { pass.threads }

    /// - Parameters:
    ///   - count: sessions, and the most that `decode` steps at once.
    ///   - capacity: positions each session holds; at most the model's context length.
    ///   - threads: worker threads for the matrix products and attention, shared by the sessions.
    ///   - maxBatch: prompt tokens per step of each session's `evaluate`.
    public init(model: Qwen2Model, count: Int, capacity: Int, threads: Int = 1, maxBatch: Int = InferenceSession.defaultBatchSize,
                kernels: KernelChoice = .best) throws(RuntimeError) {
        guard capacity <= model.shape.contextLength else {
            throw .contextExceeded(needed: capacity, limit: model.shape.contextLength, what: "the model's context length")
        }
        let count = max(1, count), batch = max(1, maxBatch)
        pass = try ForwardPass(model: model, maxRows: max(batch, count), maxPositions: max(capacity, 1),
                               logitRows: max(min(batch, 8), count), threads: threads, kernels: kernels)
        var sessions: [InferenceSession] = []
        for _ in 0..<count {
            sessions.append(try InferenceSession(model: model, capacity: capacity, maxBatch: batch, sharing: pass, threads: threads, kernels: kernels))
        }
        self.sessions = sessions
    }

    /// Runs `tokens[i]` at the next position of `members[i]` for every i in one forward step, calling
    /// `body(i, logits)` for each (`logits` holds `vocabSize` floats, valid only during the call); then every member
    /// is one position further. The members are sessions of this group, each at most once. The result is what
    /// `members[i].evaluate([tokens[i]])` gives, up to float rounding: the matrix kernels may sum a batch of rows in
    /// another order than a single row (`SessionGroupTests` measures the difference). When the step or `body`
    /// throws, no member moves (what the step wrote in the caches past their positions is overwritten by the next);
    /// every member's logits are checked before any is reported, so a non-finite row fails the step before `body`
    /// runs.
    public func decode(_ members: [InferenceSession], tokens: [UInt32], _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        guard members.count == tokens.count else {
            throw RuntimeError.batch(reason: "\(members.count) sessions but \(tokens.count) tokens")
        }
        guard members.count <= pass.maxRows else {
            throw RuntimeError.batch(reason: "\(members.count) sessions, more than the group's \(pass.maxRows)")
        }
        let vocab = pass.s.vocabSize
        for (i, m) in members.enumerated() {
            guard m.pass === pass else { throw RuntimeError.batch(reason: "session \(i) is not one of this group's") }
            for j in 0..<i where members[j] === m { throw RuntimeError.batch(reason: "sessions \(j) and \(i) are the same") }
            guard m.position < m.capacity else {
                throw RuntimeError.contextExceeded(needed: m.position + 1, limit: m.capacity,
                                                   what: m.capacity == pass.s.contextLength ? "the model's context length" : "the session")
            }
            guard Int(tokens[i]) < vocab else { throw RuntimeError.tokenOutOfRange(token: tokens[i], position: m.position, vocabSize: vocab) }
        }
        guard !members.isEmpty else { return }
        pass.segments.removeAll(keepingCapacity: true)
        for (i, m) in members.enumerated() {
            m.written = max(m.written, m.position + 1)  // before the step: one that throws may have written some layers
            pass.segments.append(ForwardPass.Segment(session: m, row: i, count: 1))
        }
        try tokens.withUnsafeBufferPointer { try pass.step($0) }
        try pass.emitLogits(rows: 0..<members.count, body)
        for m in members { m.position += 1 }
    }
}
