import CRuntimeKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward pass over a `Qwen2Model` with its KV cache: feed tokens in order (a prompt in one call, then one
/// generated token per call) and read the logits of the positions asked for. All buffers are allocated once, sized
/// for `maxBatch` tokens per step and `capacity` positions; nothing is allocated per token.
///
/// The pass, per step of B tokens at positions p…p+B−1 (shapes per token):
///   x = token_embd[ids]                                       [hidden]
///   for each layer:
///     a = RMSNorm(x) · attn_norm
///     q = Wq·a + bq, k = Wk·a + bk, v = Wv·a + bv              [heads·hd], [kv·hd], [kv·hd]
///     rotate q and k (NEOX layout); append k, v to the cache
///     per head h: softmax(q_h·K_{h/g}ᵀ / √hd, causal) · V_{h/g}  [heads·hd]
///       (a sliding-window layer: over the last `window` positions only, its cache a ring of window + maxBatch − 1)
///     x += Wo · attention
///     m = RMSNorm(x) · ffn_norm
///     x += down(silu(gate·m) ⊙ up·m)     or the MoE block
///   logits = output · (RMSNorm(x) · output_norm)               [vocab]
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
    public let threads: Int
    private let pool: WorkerPool
    /// The kernels this session multiplies with, and whether that means AVX-512 on this machine.
    public let kernels: KernelChoice
    private let usesAVX512: Bool
    /// Positions already in the cache (the next token's position).
    public private(set) var position = 0
    /// The furthest position written since the last `reset` (a rewind does not lower it): a ring slot may hold a
    /// position up to here, so it bounds what a sliding-window ring still holds after a rewind.
    private var written = 0

    private let s: ModelShape
    private let kvWidth: Int
    private let qWidth: Int
    private let ffnWidth: Int
    /// Buffers (B = maxBatch): x, normed [B×hidden]; q [B×qWidth]; k, v [B×kvWidth]; attention [B×qWidth];
    /// projected [B×hidden]; gate, up [B×ffnWidth]; moe accumulators; logits [logitBatch×vocab].
    private let arena: UnsafeMutablePointer<Float>
    private let x, normed, q, k, v, attention, projected, gate, up: UnsafeMutablePointer<Float>
    private let gathered, expertOut, mixed, routerLogits: UnsafeMutablePointer<Float>
    private let logits: UnsafeMutablePointer<Float>
    private let logitBatch: Int
    private let ropeCos, ropeSin: UnsafeMutablePointer<Float>
    /// Per worker: decoded rows [rowGroup × maxColumns]; attention scores [attentionBlock × group × capacity] (a block
    /// of tokens' query heads of one KV head at once on the AVX-512 path, one head at a time on the portable one), and
    /// that block's queries and outputs gathered [attentionBlock × group × headDim] each.
    private static let attentionBlock = 8
    private let rowScratch: UnsafeMutablePointer<Float>
    private let scoreScratch: UnsafeMutablePointer<Float>
    private let blockScratch: UnsafeMutablePointer<Float>
    private let maxColumns: Int
    /// KV cache per layer: [ring × kvWidth] keys then values, at `layerOffsets[l]`; position p in slot p % ring.
    private let cache: UnsafeMutablePointer<Float>
    /// Slots of each layer's cache: `capacity` for a layer attending to the whole context; for a sliding-window
    /// layer the window plus the positions one step adds before its first query reads (window + maxBatch − 1), when
    /// that is fewer.
    private let ringSizes: [Int]
    private let layerOffsets: [Int]
    /// The window of each layer (nil: the whole context).
    private let windows: [Int?]
    /// Bytes of the KV cache.
    public let cacheBytes: Int
    private let expertTokens: UnsafeMutablePointer<Int32>
    private let expertWeights: UnsafeMutablePointer<Float>
    private let routing: UnsafeMutablePointer<Int32>
    private let routingWeights: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - capacity: positions to hold; at most the model's context length.
    ///   - threads: worker threads for the matrix products and attention.
    public init(model: Qwen2Model, capacity: Int, threads: Int = 1, maxBatch: Int = defaultBatchSize,
                kernels: KernelChoice = .best) throws(RuntimeError) {
        let s = model.shape
        guard capacity <= s.contextLength else {
            throw .contextExceeded(needed: capacity, limit: s.contextLength, what: "the model's context length")
        }
        self.model = model
        self.s = s
        self.kernels = kernels
        usesAVX512 = kernels.usesAVX512
        self.capacity = max(capacity, 1)
        self.threads = max(threads, 1)
        pool = WorkerPool(size: self.threads)
        self.maxBatch = max(1, maxBatch)
        qWidth = s.headCount * s.headDim
        kvWidth = s.headCountKV * s.headDim
        let moeWidth = max(s.moe?.expertFeedForwardLength ?? 0, s.moe?.sharedExpertFeedForwardLength ?? 0)
        ffnWidth = max(s.feedForwardLength, moeWidth)
        let experts = s.moe?.expertCount ?? 0
        maxColumns = max(s.embeddingLength, qWidth, ffnWidth)
        logitBatch = min(self.maxBatch, 8)
        let B = self.maxBatch, H = s.embeddingLength
        // The shape is the tensors' (checked when the model loaded), but capacity, threads and maxBatch are the
        // caller's: with a context of 2^32 − 1 a caller can ask for more than Int or the machine holds. Sizes are
        // overflow-checked and the two large buffers come from malloc, so that is an error naming the buffer, not a
        // trap.
        var overflow = false
        func mul(_ factors: Int...) -> Int {
            factors.reduce(1) { p, f in
                let (r, o) = p.multipliedReportingOverflow(by: f)
                overflow = overflow || o
                return r
            }
        }
        let sizes = [mul(B, H), mul(B, H), mul(B, qWidth), mul(B, kvWidth), mul(B, kvWidth), mul(B, qWidth), mul(B, H),
                     mul(B, ffnWidth), mul(B, ffnWidth), mul(B, H), mul(B, H), mul(B, H), mul(B, max(experts, 1)),
                     mul(logitBatch, s.vocabSize), mul(B, s.headDim / 2), mul(B, s.headDim / 2),
                     mul(self.threads, WeightMatrix.rowGroup, maxColumns),
                     mul(self.threads, Self.attentionBlock, s.headCount / s.headCountKV, self.capacity),
                     mul(self.threads, 2 * Self.attentionBlock, s.headCount / s.headCountKV, s.headDim)]
        // Each buffer starts on a cache line: 16-float loads that straddle two lines cost the AVX-512 kernels
        // measurably (malloc's large blocks start 16 bytes into a page).
        var aligned: [Int] = []
        for size in sizes {
            let (padded, o) = size.addingReportingOverflow(Self.lineFloats - 1)
            overflow = overflow || o
            aligned.append(padded / Self.lineFloats * Self.lineFloats)
        }
        var total = 0
        for size in aligned {
            let (t, o) = total.addingReportingOverflow(size)
            overflow = overflow || o
            total = t
        }
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
            let (sum, o) = cacheCount.addingReportingOverflow(mul(2, ring, kvWidth))
            overflow = overflow || o
            cacheCount = sum
        }
        guard !overflow else {
            throw .cannotAllocate(what: "buffers for \(self.capacity) positions (\(self.threads) threads, batch \(B))", bytes: nil)
        }
        self.windows = windows
        ringSizes = rings
        layerOffsets = offsets
        cacheBytes = cacheCount * MemoryLayout<Float>.stride
        let cacheWhat = "the KV cache for \(self.capacity) positions", buffersWhat = "buffers for \(self.capacity) positions (\(self.threads) threads, batch \(B))"
        // malloc overcommits: a request past the machine's memory would succeed and fail later, page by page.
        try Self.checkFitsInMemory(cacheCount, what: cacheWhat)
        try Self.checkFitsInMemory(total, what: buffersWhat)
        let cache = try Self.allocateFloats(max(cacheCount, 1), what: cacheWhat)
        let base: UnsafeMutablePointer<Float>
        do { base = try Self.allocateFloats(total, what: buffersWhat) } catch {
            free(cache)
            throw error
        }
        base.initialize(repeating: 0, count: total)
        self.cache = cache
        arena = base
        var starts: [Int] = []
        var offset = 0
        for size in aligned {
            starts.append(offset)
            offset += size
        }
        x = base + starts[0]; normed = base + starts[1]; q = base + starts[2]; k = base + starts[3]; v = base + starts[4]
        attention = base + starts[5]; projected = base + starts[6]; gate = base + starts[7]; up = base + starts[8]
        gathered = base + starts[9]; expertOut = base + starts[10]; mixed = base + starts[11]; routerLogits = base + starts[12]
        logits = base + starts[13]; ropeCos = base + starts[14]; ropeSin = base + starts[15]
        rowScratch = base + starts[16]; scoreScratch = base + starts[17]; blockScratch = base + starts[18]
        expertTokens = .allocate(capacity: B)
        expertWeights = .allocate(capacity: B)
        routing = .allocate(capacity: B * max(s.moe?.expertUsedCount ?? 1, 1))
        routingWeights = .allocate(capacity: B * max(s.moe?.expertUsedCount ?? 1, 1))
    }

    /// Refuses `count` floats that exceed the machine's physical memory, naming `what` and the bytes it needs.
    private static func checkFitsInMemory(_ count: Int, what: String) throws(RuntimeError) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow else { throw .cannotAllocate(what: what, bytes: nil) }
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return }
        let (physical, o) = pages.multipliedReportingOverflow(by: pageSize)
        if !o && bytes > physical { throw .exceedsMemory(what: what, bytes: bytes, physical: physical) }
    }

    /// Floats per 64-byte cache line.
    static let lineFloats = 16

    /// `count` floats, page-aligned (freed with `free`), or `cannotAllocate` naming `what`.
    private static func allocateFloats(_ count: Int, what: String) throws(RuntimeError) -> UnsafeMutablePointer<Float> {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        var raw: UnsafeMutableRawPointer?
        guard !overflow, posix_memalign(&raw, 4096, bytes) == 0, let raw else {
            throw .cannotAllocate(what: what, bytes: overflow ? nil : bytes)
        }
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    deinit {
        free(arena)
        free(cache)
        expertTokens.deallocate()
        expertWeights.deallocate()
        routing.deallocate()
        routingWeights.deallocate()
    }

    /// Sees the input of every matrix multiplication (importance matrices); nil costs nothing.
    public weak var observer: (any ActivationObserver)?

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
            try tokens.withUnsafeBufferPointer { ids in
                try step(UnsafeBufferPointer(rebasing: ids[start..<(start + n)]))
            }
            switch wanted {
            case .all: try emitLogits(rows: 0..<n, body)
            case .last where isLast: try emitLogits(rows: (n - 1)..<n, body)
            default: break
            }
            position += n
            start += n
        }
    }

    // MARK: - One step

    private func scratch(_ worker: Int) -> UnsafeMutablePointer<Float> { rowScratch + worker * WeightMatrix.rowGroup * maxColumns }

    /// y_j = W_j · x for each job, the rows of every job split among the workers in one parallel region.
    private func multiply(_ jobs: [(WeightMatrix, UnsafeMutablePointer<Float>)], _ input: UnsafePointer<Float>, batch: Int) {
        if let observer {
            for (m, _) in jobs {
                observer.observe(weight: m.ggufName, expert: m.expert?.index, experts: m.expert?.count ?? 1,
                                 input: input, rows: batch, columns: m.columns)
            }
        }
        let workers = threads, wide = usesAVX512
        pool.run(workers) { w in
            for (m, y) in jobs {
                m.multiply(input, batch: batch, rowRange: share(m.rows, worker: w, of: workers, granule: WeightMatrix.rowGroup),
                           into: y, yStride: m.rows, scratch: scratch(w), wide: wide)
            }
        }
    }

    @inline(__always)
    private func addBias(_ bias: [Float]?, _ y: UnsafeMutablePointer<Float>, width: Int, batch: Int) {
        guard let bias else { return }
        bias.withUnsafeBufferPointer { b in
            for t in 0..<batch {
                let row = y + t * width
                for i in 0..<width { row[i] += b[i] }
            }
        }
    }

    private func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { cache + layerOffsets[layer] }
    private func values(_ layer: Int) -> UnsafeMutablePointer<Float> { cache + layerOffsets[layer] + ringSizes[layer] * kvWidth }

    private func step(_ ids: UnsafeBufferPointer<UInt32>) throws {
        let B = ids.count, H = s.embeddingLength, hd = s.headDim, half = hd / 2
        for (t, id) in ids.enumerated() { model.tokenEmbedding.decodeRow(Int(id), into: x + t * H) }
        for t in 0..<B { model.rope.table(position: position + t, cos: ropeCos + t * half, sin: ropeSin + t * half) }
        for (l, layer) in model.layers.enumerated() {
            // Attention
            let a = layer.attention
            normalize(batch: B, weight: a.norm)
            multiply([(a.q, q), (a.k, k), (a.v, v)], normed, batch: B)
            addBias(a.qBias, q, width: qWidth, batch: B)
            addBias(a.kBias, k, width: kvWidth, batch: B)
            addBias(a.vBias, v, width: kvWidth, batch: B)
            let kc = keys(l), vc = values(l), ring = ringSizes[l]
            for t in 0..<B {
                model.rope.apply(q + t * qWidth, heads: s.headCount, cos: ropeCos + t * half, sin: ropeSin + t * half)
                model.rope.apply(k + t * kvWidth, heads: s.headCountKV, cos: ropeCos + t * half, sin: ropeSin + t * half)
                let slot = (position + t) % ring
                (kc + slot * kvWidth).update(from: k + t * kvWidth, count: kvWidth)
                (vc + slot * kvWidth).update(from: v + t * kvWidth, count: kvWidth)
            }
            attend(batch: B, keys: kc, values: vc, ring: ring, window: windows[l])
            multiply([(a.o, projected)], attention, batch: B)
            for i in 0..<(B * H) { x[i] += projected[i] }
            try checkFinite(batch: B, after: "layer \(l) attention")

            // Feed-forward
            normalize(batch: B, weight: layer.ffnNorm)
            switch layer.feedForward {
            case .dense(let mlp):
                swiGLU(mlp, normed, batch: B, out: projected)
            case .mixture(let moe):
                mixture(moe, batch: B, out: projected)
            }
            for i in 0..<(B * H) { x[i] += projected[i] }
            try checkFinite(batch: B, after: "layer \(l) feed-forward")
        }
        normalize(batch: B, weight: model.outputNorm)
    }

    /// normed = RMSNorm(x) · weight for each of `batch` tokens.
    private func normalize(batch B: Int, weight: [Float]) {
        let H = s.embeddingLength, eps = s.rmsNormEpsilon
        weight.withUnsafeBufferPointer { w in
            for t in 0..<B { VectorMath.rmsNorm(x + t * H, weight: w.baseAddress!, eps: eps, out: normed + t * H, H) }
        }
    }

    /// out = down(silu(gate·input) ⊙ up·input) for `batch` tokens.
    private func swiGLU(_ mlp: DenseFeedForward, _ input: UnsafePointer<Float>, batch: Int, out: UnsafeMutablePointer<Float>) {
        let f = mlp.gate.rows
        multiply([(mlp.gate, gate), (mlp.up, up)], input, batch: batch)
        VectorMath.siluMultiply(gate, up, batch * f)
        multiply([(mlp.down, out)], gate, batch: batch)
    }

    /// Causal attention of the batch's queries over the cache: positions 0…p for the token at p, or with a window
    /// p − window + 1…p; position j is in slot j % ring. Work is split by (token, head) pairs.
    private func attend(batch B: Int, keys kc: UnsafePointer<Float>, values vc: UnsafePointer<Float>, ring: Int, window: Int?) {
        if usesAVX512 { return attendGrouped(batch: B, keys: kc, values: vc, ring: ring, window: window) }
        let hd = s.headDim, heads = s.headCount, group = s.headCount / s.headCountKV
        let scale = 1 / Float(hd).squareRoot()
        let workers = min(threads, B * heads)
        let start = position, kvw = kvWidth, qw = qWidth, cap = capacity
        let q = self.q, attention = self.attention, scores = scoreScratch
        pool.run(workers) { w in
            let sc = scores + w * cap
            for pair in share(B * heads, worker: w, of: workers) {
                let t = pair / heads, h = pair % heads, kvh = h / group
                let query = q + t * qw + h * hd
                let p = start + t
                let first = window.map { max(0, p - $0 + 1) } ?? 0
                let n = p - first + 1
                // The n positions from `first` are slots first % ring … ring − 1, then 0 …: two contiguous runs.
                let firstSlot = first % ring
                let head = min(n, ring - firstSlot)
                let k0 = kc + kvh * hd, v0 = vc + kvh * hd
                for i in 0..<head { sc[i] = VectorMath.dot(query, k0 + (firstSlot + i) * kvw, hd) * scale }
                for i in head..<n { sc[i] = VectorMath.dot(query, k0 + (i - head) * kvw, hd) * scale }
                VectorMath.softmax(sc, n)
                let out = attention + t * qw + h * hd
                out.initialize(repeating: 0, count: hd)
                for i in 0..<head { VectorMath.axpy(sc[i], v0 + (firstSlot + i) * kvw, out, hd) }
                for i in head..<n { VectorMath.axpy(sc[i], v0 + (i - head) * kvw, out, hd) }
            }
        }
    }

    /// `attend` on the AVX-512 kernels: a block of up to 8 tokens' query heads that share a KV head (7 per token in
    /// Qwen2-0.5B) are scored together against the keys (a strided matrix product, keys as rows, over the positions any
    /// of them sees) and summed together over the value rows (8 rows per pass), so each key is read once per block and
    /// each value once per 8 query rows, instead of once per query head. A row's scores outside its own positions
    /// (later tokens of the block, or before its window) are zero after its softmax. Work is split by (block, KV head).
    private func attendGrouped(batch B: Int, keys kc: UnsafePointer<Float>, values vc: UnsafePointer<Float>, ring: Int, window: Int?) {
        let hd = s.headDim, kvHeads = s.headCountKV, group = s.headCount / s.headCountKV, T = Self.attentionBlock
        let scale = 1 / Float(hd).squareRoot()
        let blocks = (B + T - 1) / T
        let workers = min(threads, blocks * kvHeads)
        let start = position, kvw = kvWidth, qw = qWidth, cap = capacity
        let q = self.q, attention = self.attention, scores = scoreScratch, gathered = blockScratch
        pool.run(workers) { w in
            let sc = scores + w * T * group * cap
            let qs = gathered + w * 2 * T * group * hd, os = qs + T * group * hd
            for pair in share(blocks * kvHeads, worker: w, of: workers) {
                let b = pair / kvHeads, kvh = pair % kvHeads
                let t0 = b * T, t1 = min(t0 + T, B), rows = (t1 - t0) * group
                @inline(__always) func firstSeen(_ p: Int) -> Int { window.map { max(0, p - $0 + 1) } ?? 0 }
                let lo = firstSeen(start + t0), hi = start + t1 - 1
                let n = hi - lo + 1
                for t in t0..<t1 { (qs + (t - t0) * group * hd).update(from: q + t * qw + kvh * group * hd, count: group * hd) }
                let firstSlot = lo % ring
                let head = min(n, ring - firstSlot)
                let k0 = kc + kvh * hd, v0 = vc + kvh * hd
                // scores[row][i] = query_row · k_(lo + i) over the two contiguous runs of slots
                qwenkit_gemm_strided_avx512(k0 + firstSlot * kvw, kvw, head, hd, qs, hd, rows, sc, cap)
                if n > head { qwenkit_gemm_strided_avx512(k0, kvw, n - head, hd, qs, hd, rows, sc + head, cap) }
                for t in t0..<t1 {
                    let p = start + t, a = firstSeen(p) - lo, e = p - lo + 1
                    for g in 0..<group {
                        let row = sc + ((t - t0) * group + g) * cap
                        qwenkit_softmax_scaled_avx512(row + a, e - a, scale)
                        if a > 0 { row.update(repeating: 0, count: a) }
                        if e < n { (row + e).update(repeating: 0, count: n - e) }
                    }
                }
                qwenkit_weighted_rows_avx512(sc, cap, rows, head, v0 + firstSlot * kvw, kvw, hd, os, hd, 0)
                if n > head { qwenkit_weighted_rows_avx512(sc + head, cap, rows, n - head, v0, kvw, hd, os, hd, 1) }
                for t in t0..<t1 { (attention + t * qw + kvh * group * hd).update(from: os + (t - t0) * group * hd, count: group * hd) }
            }
        }
    }

    /// Qwen2-MoE: softmax over the router's logits, the top-k experts (weights renormalized only with
    /// norm_topk_prob), each chosen expert's SwiGLU output weighted and summed in ascending expert order, plus the
    /// shared expert scaled by sigmoid(shared_gate · x).
    private func mixture(_ moe: MixtureWeights, batch B: Int, out: UnsafeMutablePointer<Float>) {
        let H = s.embeddingLength, E = moe.router.rows, K = moe.usedCount
        multiply([(moe.router, routerLogits)], normed, batch: B)
        // The top K of each token: expert ids in routing[t·K ..< t·K + K], their weights in routingWeights.
        for t in 0..<B {
            let p = routerLogits + t * E
            VectorMath.softmax(p, E)
            let ids = routing + t * K, ws = routingWeights + t * K
            for i in 0..<K { ids[i] = -1; ws[i] = -.infinity }
            for e in 0..<E where p[e] > ws[K - 1] {
                // insertion into the descending list; ties keep the lower expert first
                var i = K - 1
                while i > 0 && p[e] > ws[i - 1] {
                    ids[i] = ids[i - 1]
                    ws[i] = ws[i - 1]
                    i -= 1
                }
                ids[i] = Int32(e)
                ws[i] = p[e]
            }
            if moe.normalizeTopK {
                var total: Float = 0
                for i in 0..<K { total += ws[i] }
                for i in 0..<K { ws[i] /= total }
            }
        }
        out.initialize(repeating: 0, count: B * H)
        for e in 0..<E {
            var m = 0
            for t in 0..<B {
                for i in 0..<K where routing[t * K + i] == Int32(e) {
                    expertTokens[m] = Int32(t)
                    expertWeights[m] = routingWeights[t * K + i]
                    (gathered + m * H).update(from: normed + t * H, count: H)
                    m += 1
                }
            }
            guard m > 0 else { continue }
            swiGLU(DenseFeedForward(gate: moe.gate[e], up: moe.up[e], down: moe.down[e]), gathered, batch: m, out: expertOut)
            for i in 0..<m {
                VectorMath.axpy(expertWeights[i], expertOut + i * H, out + Int(expertTokens[i]) * H, H)
            }
        }
        if let shared = moe.shared, let sharedGate = moe.sharedGate {
            observer?.observe(weight: moe.sharedGateName, expert: nil, experts: 1, input: normed, rows: B, columns: H)
            swiGLU(shared, normed, batch: B, out: mixed)
            sharedGate.withUnsafeBufferPointer { g in
                for t in 0..<B {
                    let z = VectorMath.dot(g.baseAddress!, normed + t * H, H)
                    let sigmoid = 1 / (1 + expf(-z))
                    VectorMath.axpy(sigmoid, mixed + t * H, out + t * H, H)
                }
            }
        }
    }

    /// Throws `.nonFinite` naming `layer` (built only then) and the first position whose state holds a NaN or an
    /// infinity.
    private func checkFinite(batch B: Int, after layer: @autoclosure () -> String) throws {
        let H = s.embeddingLength
        for t in 0..<B where !VectorMath.allFinite(x + t * H, H) {
            throw RuntimeError.nonFinite(layer: layer(), position: position + t)
        }
    }

    /// Computes the output logits of batch rows `rows` (their final-normed states are in `normed`) and reports them.
    private func emitLogits(rows: Range<Int>, _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        let H = s.embeddingLength, V = s.vocabSize
        var r = rows.lowerBound
        while r < rows.upperBound {
            let n = min(logitBatch, rows.upperBound - r)
            multiply([(model.output, logits)], normed + r * H, batch: n)
            for i in 0..<n {
                let row = UnsafeBufferPointer(start: logits + i * V, count: V)
                guard VectorMath.allFinite(row.baseAddress!, V) else {
                    throw RuntimeError.nonFinite(layer: "output", position: position + r + i)
                }
                try body(position + r + i, row)
            }
            r += n
        }
    }
}
