import CRuntimeKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sequence over a `Qwen2Model`: its KV cache and position, and the forward pass that runs it (`ForwardPass`).
/// Feed tokens in order (a prompt in one call, then one generated token per call) and read the logits of the
/// positions asked for. All buffers are allocated once, sized for `maxBatch` tokens per step and `capacity`
/// positions; nothing is allocated per token. The sessions of a `SessionGroup` share one forward pass (its buffers
/// and threads) and can be stepped together, one token each (`SessionGroup.decode`); each keeps its own cache.
public final class InferenceSession {
    public let model: Qwen2Model
    /// Positions the cache holds.
    public let capacity: Int
    /// Tokens processed per step (longer inputs are split). Each weight row is decoded once per step, so larger steps
    /// decode less; 64 tokens of activations (230 KB at hidden 896) stay in L2 while rows stream by, and measured
    /// best on the 0.5B shape for the portable kernels (32: 166, 64: 205, 128: 187 prompt tokens/s for Q8_0 on 2
    /// threads). The AVX-512 tiles work in column blocks, so there 64 to 512 measure the same within noise (173-199
    /// tokens/s for a 512-token Q8_0 prompt); activation memory grows with the step, never with the prompt.
    public let maxBatch: Int
    /// `run -b`'s default (llama.cpp's is 512; see `maxBatch`).
    public static let defaultBatchSize = 64
    /// The buffers and threads this session runs on (its own, or its group's).
    let pass: ForwardPass
    public var threads: Int { pass.threads }
    /// The kernels this session multiplies with, and whether that means AVX-512 on this machine.
    public var kernels: KernelChoice { pass.kernels }
    /// Positions already in the cache (the next token's position).
    public internal(set) var position = 0
    /// The furthest position written since the last `reset` (a rewind does not lower it): a ring slot may hold a
    /// position up to here, so it bounds what a sliding-window ring still holds after a rewind.
    var written = 0

    private let s: ModelShape
    private let kvWidth: Int
    /// KV cache per layer: [ring × kvWidth] keys then values, at `layerOffsets[l]`; position p in slot p % ring.
    private let cache: UnsafeMutablePointer<Float>
    /// Slots of each layer's cache: `capacity` for a layer attending to the whole context; for a sliding-window
    /// layer the window plus the positions one step adds before its first query reads (window + maxBatch − 1), when
    /// that is fewer.
    let ringSizes: [Int]
    private let layerOffsets: [Int]
    /// The window of each layer (nil: the whole context).
    let windows: [Int?]
    /// Bytes of the KV cache.
    public let cacheBytes: Int

    /// - Parameters:
    ///   - capacity: positions to hold; at most the model's context length.
    ///   - threads: worker threads for the matrix products and attention.
    public convenience init(model: Qwen2Model, capacity: Int, threads: Int = 1, maxBatch: Int = defaultBatchSize,
                            kernels: KernelChoice = .best) throws(RuntimeError) {
        try self.init(model: model, capacity: capacity, maxBatch: maxBatch, sharing: nil, threads: threads, kernels: kernels)
    }

    /// A session on `pass` (a group's, whose rows and positions cover `maxBatch` and `capacity`), or on a pass of its
    /// own with `threads` and `kernels` when nil.
    init(model: Qwen2Model, capacity: Int, maxBatch: Int, sharing pass: ForwardPass?, threads: Int, kernels: KernelChoice) throws(RuntimeError) {
        let s = model.shape
        guard capacity <= s.contextLength else {
            throw .contextExceeded(needed: capacity, limit: s.contextLength, what: "the model's context length")
        }
        self.model = model
        self.s = s
        self.capacity = max(capacity, 1)
        self.maxBatch = max(1, maxBatch)
        kvWidth = s.headCountKV * s.headDim
        let B = self.maxBatch
        // capacity and maxBatch are the caller's: with a context of 2^32 − 1 a caller can ask for more than Int or
        // the machine holds. Sizes are overflow-checked and the cache comes from malloc, so that is an error naming
        // the buffer, not a trap.
        var size = ForwardPass.CheckedSize()
        let positions = self.capacity
        var windows: [Int?] = [], rings: [Int] = [], offsets: [Int] = []
        var cacheCount = 0
        for l in 0..<s.layerCount {
            let window = s.slidingWindow.flatMap { $0.layers[l] ? $0.size : nil }
            // Compared before adding, so that window + B − 1 cannot overflow.
            let ring = window.map { w in w > positions - B + 1 ? positions : w + B - 1 } ?? positions
            windows.append(window)
            rings.append(ring)
            offsets.append(cacheCount)
            let layerCount = size.product([2, ring, kvWidth])
            cacheCount = size.sum(cacheCount, layerCount)
        }
        let cacheWhat = "the KV cache for \(self.capacity) positions"
        guard !size.overflow else { throw .cannotAllocate(what: cacheWhat, bytes: nil) }
        self.windows = windows
        ringSizes = rings
        layerOffsets = offsets
        cacheBytes = cacheCount * MemoryLayout<Float>.stride
        // malloc overcommits: a request past the machine's memory would succeed and fail later, page by page. The
        // cache is checked first: it is what grows with the positions asked for.
        try ForwardPass.checkFitsInMemory(cacheCount, what: cacheWhat)
        if let pass {
            self.pass = pass
        } else {
            self.pass = try ForwardPass(model: model, maxRows: B, maxPositions: self.capacity, logitRows: min(B, 8),
                                        threads: threads, kernels: kernels)
        }
        cache = try ForwardPass.allocateFloats(max(cacheCount, 1), what: cacheWhat)
    }

    deinit {
        free(cache)
    }

    /// Sees the input of every matrix multiplication (importance matrices); nil costs nothing. The forward pass
    /// holds it weakly (a group's sessions share it).
    public var observer: (any ActivationObserver)? {
        get { pass.observer }
        set { pass.observer = newValue }
    }

    /// Forgets the cache: the next token is at position 0.
    public func reset() {
        position = 0
        written = 0
    }

    /// Moves back to `target` (clamped to 0...position), forgetting the positions from there on, so that a
    /// conversation whose rendering changed near its end re-evaluates only from where it differs. Returns the
    /// position the session is now at: `target`, or 0 when it had to reset instead (the caller then evaluates from
    /// the start).
    ///
    /// Why it can fail: a layer attending to the whole context keeps every position, but a sliding-window layer
    /// keeps a ring of its last `ring` slots, position p in slot p % ring, and every position written since the
    /// reset (up to `written`, rewound ones included) may have overwritten the slot of the position `ring` before
    /// it. The positions from `target` on attend back to target − window + 1, so those must all be at or after
    /// written − ring; otherwise their keys and values are gone. A step then writes its tokens before reading, which
    /// the ring's extra maxBatch − 1 slots already cover, as they do for an ordinary step.
    @discardableResult
    public func rewind(to target: Int) -> Int {
        let target = min(max(target, 0), position)
        guard target > 0 else {
            reset()
            return 0
        }
        for (l, window) in windows.enumerated() {
            guard let window else { continue }
            let earliestNeeded = max(0, target - window + 1)
            if earliestNeeded < target && earliestNeeded < written - ringSizes[l] {
                reset()
                return 0
            }
        }
        position = target
        return target
    }

    /// Which positions' logits `evaluate` reports.
    public enum LogitsWanted: Sendable {
        /// Every position of the input.
        case all
        /// Only the last position.
        case last
        /// None (filling the cache).
        case none
    }

    /// Runs `tokens` at the next positions, calling `body(position, logits)` for the positions `wanted`
    /// (`logits` holds `vocabSize` floats, valid only during the call).
    public func evaluate(_ tokens: [UInt32], logits wanted: LogitsWanted = .last,
                         _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void = { _, _ in }) throws {
        guard position + tokens.count <= capacity else {
            throw RuntimeError.contextExceeded(needed: position + tokens.count, limit: capacity,
                                               what: capacity == s.contextLength ? "the model's context length" : "the session")
        }
        for (i, t) in tokens.enumerated() where Int(t) >= s.vocabSize {
            throw RuntimeError.tokenOutOfRange(token: t, position: position + i, vocabSize: s.vocabSize)
        }
        var start = 0
        while start < tokens.count {
            let n = min(maxBatch, tokens.count - start)
            let isLast = start + n == tokens.count
            written = max(written, position + n)  // before the step: one that throws may have written some layers
            pass.segments.removeAll(keepingCapacity: true)
            pass.segments.append(ForwardPass.Segment(session: self, row: 0, count: n))
            try tokens.withUnsafeBufferPointer { ids in
                try pass.step(UnsafeBufferPointer(rebasing: ids[start..<(start + n)]))
            }
            let at = position
            switch wanted {
            case .all: try pass.emitLogits(rows: 0..<n) { r, row in try body(at + r, row) }
            case .last where isLast: try pass.emitLogits(rows: (n - 1)..<n) { r, row in try body(at + r, row) }
            default: break
            }
            position += n
            start += n
        }
    }

    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { cache + layerOffsets[layer] }
    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { cache + layerOffsets[layer] + ringSizes[layer] * kvWidth }
}
