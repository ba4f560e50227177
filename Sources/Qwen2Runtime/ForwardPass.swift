import CRuntimeKernels
import QwenKitIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The activation buffers, the worker threads and the forward pass over them, for up to `maxRows` tokens per step.
/// The KV caches are the sessions': a step's rows are one or more runs of consecutive tokens (`Segment`), each of one
/// session at that session's next positions. A lone session's prompt is one run of up to `maxBatch` tokens; a batched
/// decode step (`SessionGroup.decode`) is one token of each of several sessions. Every weight matrix multiplies all
/// rows at once (read once per step); RoPE, the cache writes and attention go by each row's own session and
/// position. Allocated once; nothing is allocated per step.
///
/// The pass, per step of B rows (shapes per row):
///   x = token_embd[ids]                                       [hidden]
///   for each layer:
///     a = RMSNorm(x) · attn_norm
///     q = Wq·a + bq, k = Wk·a + bk, v = Wv·a + bv              [heads·hd], [kv·hd], [kv·hd]
///     rotate q and k at the row's position (NEOX layout); append k, v to the row's session's cache
///     per head h: softmax(q_h·K_{h/g}ᵀ / √hd, causal) · V_{h/g} over that cache  [heads·hd]
///       (a sliding-window layer: over the last `window` positions only, its cache a ring of window + maxBatch − 1)
///     x += Wo · attention
///     m = RMSNorm(x) · ffn_norm
///     x += down(silu(gate·m) ⊙ up·m)     or the MoE block
///   logits = output · (RMSNorm(x) · output_norm)               [vocab]
final class ForwardPass {
    let model: Qwen2Model
    /// Rows one step holds.
    let maxRows: Int
    /// Positions the longest cache attended over holds (the stride of the score scratch).
    let maxPositions: Int
    let threads: Int
    let pool: WorkerPool
    let kernels: KernelChoice
    private let usesAVX512: Bool
    private let usesAVX2: Bool
    /// Sees the input of every matrix multiplication (importance matrices); nil costs nothing.
    weak var observer: (any ActivationObserver)?

    let s: ModelShape
    let kvWidth: Int
    let qWidth: Int
    private let ffnWidth: Int
    /// Buffers (B = maxRows): x, normed [B×hidden]; q [B×qWidth]; k, v [B×kvWidth]; attention [B×qWidth];
    /// projected [B×hidden]; gate, up [B×ffnWidth]; moe accumulators; logits [logitRows×vocab]; RoPE tables
    /// [B×hd/2] each.
    private let arena: UnsafeMutablePointer<Float>
    private let x, normed, q, k, v, attention, projected, gate, up: UnsafeMutablePointer<Float>
    private let gathered, expertOut, mixed, routerLogits: UnsafeMutablePointer<Float>
    private let logits: UnsafeMutablePointer<Float>
    /// Rows of logits computed per multiplication by the output matrix.
    let logitRows: Int
    private let ropeCos, ropeSin: UnsafeMutablePointer<Float>
    /// Per worker: decoded rows [rowGroup × maxColumns]; attention scores [attentionBlock × group × maxPositions] (a
    /// block of tokens' query heads of one KV head at once on the AVX-512 path, one head at a time on the portable
    /// one), and that block's queries and outputs gathered [attentionBlock × group × headDim] each.
    private static let attentionBlock = 8
    private let rowScratch: UnsafeMutablePointer<Float>
    private let scoreScratch: UnsafeMutablePointer<Float>
    private let blockScratch: UnsafeMutablePointer<Float>
    private let maxColumns: Int
    private let expertTokens: UnsafeMutablePointer<Int32>
    private let expertWeights: UnsafeMutablePointer<Float>
    private let routing: UnsafeMutablePointer<Int32>
    private let routingWeights: UnsafeMutablePointer<Float>
    /// Per row: its segment and position; per attention block (at most one per row): its segment and rows.
    private let rowSegment: UnsafeMutablePointer<Int>
    private let rowPosition: UnsafeMutablePointer<Int>
    private let blockSegment: UnsafeMutablePointer<Int>
    private let blockRows: UnsafeMutablePointer<Range<Int>>

    /// A run of `count` consecutive rows from `row` on, the next tokens of `session` (from its `position` on).
    struct Segment {
        unowned(unsafe) let session: InferenceSession
        let row: Int
        let count: Int
    }
    /// The current step's segments (capacity for `maxRows`, refilled per step).
    var segments: [Segment] = []

    /// - Parameters:
    ///   - maxRows: tokens per step.
    ///   - maxPositions: the largest capacity of the sessions it runs.
    ///   - logitRows: rows of logits per multiplication by the output matrix.
    init(model: Qwen2Model, maxRows: Int, maxPositions: Int, logitRows: Int, threads: Int, kernels: KernelChoice) throws(RuntimeError) {
        let s = model.shape
        self.model = model
        self.s = s
        self.kernels = kernels
        usesAVX512 = kernels.usesAVX512
        usesAVX2 = kernels.usesAVX2
        self.maxRows = max(1, maxRows)
        self.maxPositions = max(1, maxPositions)
        self.threads = max(threads, 1)
        pool = WorkerPool(size: self.threads)
        qWidth = s.headCount * s.headDim
        kvWidth = s.headCountKV * s.headDim
        let moeWidth = max(s.moe?.expertFeedForwardLength ?? 0, s.moe?.sharedExpertFeedForwardLength ?? 0)
        ffnWidth = max(s.feedForwardLength, moeWidth)
        let experts = s.moe?.expertCount ?? 0
        maxColumns = max(s.embeddingLength, qWidth, ffnWidth)
        self.logitRows = min(max(1, logitRows), self.maxRows)
        let B = self.maxRows, H = s.embeddingLength
        // The shape is the tensors' (checked when the model loaded), but positions, threads and the batch are the
        // caller's: with a context of 2^32 − 1 a caller can ask for more than Int or the machine holds. Sizes are
        // overflow-checked and the buffer comes from malloc, so that is an error naming the buffer, not a trap.
        var size = CheckedSize()
        func mul(_ factors: Int...) -> Int { size.product(factors) }
        let sizes = [mul(B, H), mul(B, H), mul(B, qWidth), mul(B, kvWidth), mul(B, kvWidth), mul(B, qWidth), mul(B, H),
                     mul(B, ffnWidth), mul(B, ffnWidth), mul(B, H), mul(B, H), mul(B, H), mul(B, max(experts, 1)),
                     mul(self.logitRows, s.vocabSize), mul(B, s.headDim / 2), mul(B, s.headDim / 2),
                     mul(self.threads, WeightMatrix.rowGroup, maxColumns),
                     mul(self.threads, Self.attentionBlock, s.headCount / s.headCountKV, self.maxPositions),
                     mul(self.threads, 2 * Self.attentionBlock, s.headCount / s.headCountKV, s.headDim)]
        // Each buffer starts on a cache line: 16-float loads that straddle two lines cost the AVX-512 kernels
        // measurably (malloc's large blocks start 16 bytes into a page).
        var aligned: [Int] = []
        for count in sizes { aligned.append(size.sum(count, Self.lineFloats - 1) / Self.lineFloats * Self.lineFloats) }
        var total = 0
        for count in aligned { total = size.sum(total, count) }
        let what = "buffers for \(self.maxPositions) positions (\(self.threads) threads, batch \(B))"
        guard !size.overflow else { throw .cannotAllocate(what: what, bytes: nil) }
        // malloc overcommits: a request past the machine's memory would succeed and fail later, page by page.
        try Self.checkFitsInMemory(total, what: what)
        let base = try Self.allocateFloats(total, what: what)
        base.initialize(repeating: 0, count: total)
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
        rowSegment = .allocate(capacity: B)
        rowPosition = .allocate(capacity: B)
        blockSegment = .allocate(capacity: B)
        blockRows = .allocate(capacity: B)
        segments.reserveCapacity(B)
    }

    deinit {
        free(arena)
        expertTokens.deallocate()
        expertWeights.deallocate()
        routing.deallocate()
        routingWeights.deallocate()
        rowSegment.deallocate()
        rowPosition.deallocate()
        blockSegment.deallocate()
        blockRows.deallocate()
    }

    /// Buffer sizes from counts a caller chose, overflow-checked: a product or sum that overflows sets `overflow`, which
    /// the caller reports as an error naming the buffer instead of trapping.
    struct CheckedSize {
        private(set) var overflow = false

        mutating func product(_ factors: [Int]) -> Int {
            factors.reduce(1) { p, f in
                let (r, o) = p.multipliedReportingOverflow(by: f)
                overflow = overflow || o
                return r
            }
        }

        mutating func sum(_ a: Int, _ b: Int) -> Int {
            let (r, o) = a.addingReportingOverflow(b)
            overflow = overflow || o
            return r
        }
    }

    /// Refuses `count` floats that exceed the machine's physical memory, naming `what` and the bytes it needs.
    static func checkFitsInMemory(_ count: Int, what: String) throws(RuntimeError) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow else { throw .cannotAllocate(what: what, bytes: nil) }
        if let physical = physicalMemoryBytes(), bytes > physical { throw .exceedsMemory(what: what, bytes: bytes, physical: physical) }
    }

    /// Floats per 64-byte cache line.
    static let lineFloats = 16

    /// `count` floats, page-aligned (freed with `free`), or `cannotAllocate` naming `what`.
    static func allocateFloats(_ count: Int, what: String) throws(RuntimeError) -> UnsafeMutablePointer<Float> {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        var raw: UnsafeMutableRawPointer?
        guard !overflow, posix_memalign(&raw, 4096, bytes) == 0, let raw else {
            throw .cannotAllocate(what: what, bytes: overflow ? nil : bytes)
        }
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    // MARK: - One step

    private func scratch(_ worker: Int) -> UnsafeMutablePointer<Float> { rowScratch + worker * WeightMatrix.rowGroup * maxColumns }

    typealias Job = (matrix: WeightMatrix, output: UnsafeMutablePointer<Float>)

    /// y = W · x for each of up to three jobs (a, then b and c when given), the rows of all of them shared by the
    /// threads in one parallel region. Separate parameters rather than an array: an array of jobs was allocated on
    /// every call, about a hundred times per token on the 0.5B shape.
    private func multiply(_ a: Job, _ b: Job? = nil, _ c: Job? = nil, input: UnsafePointer<Float>, batch: Int) {
        observe(a.matrix, b?.matrix, c?.matrix, input: input, batch: batch)
        // The jobs' rows as one range of items, each matrix's from a multiple of the row group on, handed to the
        // threads in ranges as they come free (WorkerPool.run(items:)) rather than cut in equal halves: a thread that
        // starts a region late or reads its rows slower then takes fewer of them instead of holding the others at the
        // region's end (per-thread accounting, Q4_K_M on two threads: the caller waited 45-60 ms per 64 tokens at the
        // ends of regions with halves, 20-28 ms with ranges).
        let g = WeightMatrix.rowGroup, wide = usesAVX512, avx2 = usesAVX2
        @inline(__always) func items(_ job: Job?) -> Int { job.map { ($0.matrix.rows + g - 1) / g * g } ?? 0 }
        let endA = items(a), endB = endA + items(b), endC = endB + items(c)
        var rowBytes = a.matrix.rowBytes
        if let b { rowBytes = min(rowBytes, b.matrix.rowBytes) }
        if let c { rowBytes = min(rowBytes, c.matrix.rowBytes) }
        let minimum = Self.minimumRange(rowBytes: rowBytes, batch: batch)
        pool.run(items: endC, granule: g, minimum: minimum) { range, thread in
            @inline(__always) func run(_ job: Job, from start: Int) {
                let m = job.matrix
                let rows = max(range.lowerBound - start, 0)..<min(range.upperBound - start, m.rows)
                guard !rows.isEmpty else { return }
                m.multiply(input, batch: batch, rowRange: rows, into: job.output, yStride: m.rows, scratch: scratch(thread),
                           wide: wide, avx2: avx2)
            }
            if range.lowerBound < endA { run(a, from: 0) }
            if let b, range.lowerBound < endB, range.upperBound > endA { run(b, from: endA) }
            if let c, range.upperBound > endB { run(c, from: endB) }
        }
    }

    /// The least weight bytes (times the batch's tokens) a thread takes per range of a matrix product: a range's claim
    /// and its first prefetches cost about as much as reading ~1 KB, so ranges of 16 KB lose little to them.
    static let minimumRangeBytes = 16_384

    /// The least rows per range (a multiple of the row group) for rows of `rowBytes` and `batch` tokens.
    @inline(__always)
    private static func minimumRange(rowBytes: Int, batch: Int) -> Int {
        let g = WeightMatrix.rowGroup
        return (minimumRangeBytes / max(batch * rowBytes, 1) + g - 1) / g * g
    }

    /// Hands the activations the matrices are about to multiply to the observer, if any (importance matrices).
    /// Separate parameters, not variadic: a variadic array would be allocated on every product.
    @inline(__always)
    private func observe(_ a: WeightMatrix, _ b: WeightMatrix?, _ c: WeightMatrix? = nil, input: UnsafePointer<Float>, batch: Int) {
        guard let observer else { return }
        for case let m? in [a, b, c] {
            observer.observe(weight: m.ggufName, expert: m.expert?.index, experts: m.expert?.count ?? 1,
                             input: input, rows: batch, columns: m.columns)
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

    /// Runs `ids` (`ids[r]` the token of row r) through every layer for the rows of `segments`, which tile
    /// 0..<ids.count in order; leaves the final-normed states in `normed` for `emitLogits`. The callers have checked
    /// the tokens and each session's room.
    func step(_ ids: UnsafeBufferPointer<UInt32>) throws {
        let B = ids.count, H = s.embeddingLength, hd = s.headDim, half = hd / 2
        // Per row: its segment and position; attention blocks of up to `attentionBlock` rows within a segment.
        var blocks = 0
        for (i, segment) in segments.enumerated() {
            let start = segment.session.position
            for r in 0..<segment.count {
                rowSegment[segment.row + r] = i
                rowPosition[segment.row + r] = start + r
            }
            var r = 0
            while r < segment.count {
                let n = min(Self.attentionBlock, segment.count - r)
                blockSegment[blocks] = i
                blockRows[blocks] = (segment.row + r)..<(segment.row + r + n)
                blocks += 1
                r += n
            }
        }
        for (t, id) in ids.enumerated() { model.tokenEmbedding.decodeRow(Int(id), into: x + t * H) }
        for t in 0..<B { model.rope.table(position: rowPosition[t], cos: ropeCos + t * half, sin: ropeSin + t * half) }
        for (l, layer) in model.layers.enumerated() {
            // Attention
            let a = layer.attention
            normalize(batch: B, weight: a.norm)
            multiply((a.q, q), (a.k, k), (a.v, v), input: normed, batch: B)
            addBias(a.qBias, q, width: qWidth, batch: B)
            addBias(a.kBias, k, width: kvWidth, batch: B)
            addBias(a.vBias, v, width: kvWidth, batch: B)
            for segment in segments {
                let session = segment.session
                let kc = session.keys(l), vc = session.values(l), ring = session.ringSizes[l]
                for t in segment.row..<(segment.row + segment.count) {
                    model.rope.apply(q + t * qWidth, heads: s.headCount, cos: ropeCos + t * half, sin: ropeSin + t * half)
                    model.rope.apply(k + t * kvWidth, heads: s.headCountKV, cos: ropeCos + t * half, sin: ropeSin + t * half)
                    let slot = rowPosition[t] % ring
                    (kc + slot * kvWidth).update(from: k + t * kvWidth, count: kvWidth)
                    (vc + slot * kvWidth).update(from: v + t * kvWidth, count: kvWidth)
                }
            }
            if usesAVX512 { attendGrouped(layer: l, blocks: blocks) } else { attend(layer: l, batch: B) }
            multiply((a.o, projected), input: attention, batch: B)
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

    /// out = down(silu(gate·input) ⊙ up·input) for `batch` tokens. Each range of rows takes the same rows of gate and
    /// up and applies silu to them, in the threads' region: done after the region, on one thread, silu's 4,864 expf per
    /// layer were 0.45 ms of every token on Qwen2-0.5B (1% of one thread's time, 2% of two threads'). The AVX-512 path
    /// takes its exponentials from a polynomial (`qwenkit_silu_multiply_avx512`), as its softmax does.
    private func swiGLU(_ mlp: DenseFeedForward, _ input: UnsafePointer<Float>, batch: Int, out: UnsafeMutablePointer<Float>) {
        let f = mlp.gate.rows
        observe(mlp.gate, mlp.up, input: input, batch: batch)
        let g = WeightMatrix.rowGroup, wide = usesAVX512, avx2 = usesAVX2, gate = self.gate, up = self.up
        let minimum = Self.minimumRange(rowBytes: mlp.gate.rowBytes + mlp.up.rowBytes, batch: batch)
        pool.run(items: f, granule: g, minimum: minimum) { rows, thread in
            mlp.gate.multiply(input, batch: batch, rowRange: rows, into: gate, yStride: f, scratch: scratch(thread), wide: wide,
                                avx2: avx2)
            mlp.up.multiply(input, batch: batch, rowRange: rows, into: up, yStride: f, scratch: scratch(thread), wide: wide, avx2: avx2)
            for t in 0..<batch {
                let gt = gate + t * f + rows.lowerBound, ut = up + t * f + rows.lowerBound
                if wide { qwenkit_silu_multiply_avx512(gt, ut, rows.count) } else { VectorMath.siluMultiply(gt, ut, rows.count) }
            }
        }
        multiply((mlp.down, out), input: gate, batch: batch)
    }

    /// Causal attention of each row's query over its session's cache in layer `l`: positions 0…p for the token at p,
    /// or with a window p − window + 1…p; position j is in slot j % ring. Work is split by (row, head) pairs.
    private func attend(layer l: Int, batch B: Int) {
        let hd = s.headDim, heads = s.headCount, group = s.headCount / s.headCountKV
        let scale = 1 / Float(hd).squareRoot()
        let shares = min(threads, B * heads)
        let kvw = kvWidth, qw = qWidth, cap = maxPositions
        let q = self.q, attention = self.attention, scores = scoreScratch
        let rowSegment = self.rowSegment, rowPosition = self.rowPosition
        segments.withUnsafeBufferPointer { segments in
            pool.run(shares: shares) { w, thread in
                let sc = scores + thread * cap
                for pair in share(B * heads, part: w, of: shares) {
                    let t = pair / heads, h = pair % heads, kvh = h / group
                    let session = segments[rowSegment[t]].session
                    let kc = session.keys(l), vc = session.values(l), ring = session.ringSizes[l], window = session.windows[l]
                    let query = q + t * qw + h * hd
                    let p = rowPosition[t]
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
    }

    /// `attend` on the AVX-512 kernels: a block of up to 8 consecutive tokens of one session whose query heads
    /// share a KV head (7 per token in Qwen2-0.5B) are scored together against the keys (a strided matrix product,
    /// keys as rows, over the positions any of them sees) and summed together over the value rows (8 rows per pass),
    /// so each key is read once per block and each value once per 8 query rows, instead of once per query head. A
    /// row's scores outside its own positions (later tokens of the block, or before its window) are zero after its
    /// softmax. Work is split by (block, KV head); a batched decode step has one block per session.
    private func attendGrouped(layer l: Int, blocks: Int) {
        let hd = s.headDim, kvHeads = s.headCountKV, group = s.headCount / s.headCountKV, T = Self.attentionBlock
        let scale = 1 / Float(hd).squareRoot()
        let shares = min(threads, blocks * kvHeads)
        let kvw = kvWidth, qw = qWidth, cap = maxPositions
        let q = self.q, attention = self.attention, scores = scoreScratch, gathered = blockScratch
        let blockSegment = self.blockSegment, blockRows = self.blockRows, rowPosition = self.rowPosition
        segments.withUnsafeBufferPointer { segments in
            pool.run(shares: shares) { w, thread in
                let sc = scores + thread * T * group * cap
                let qs = gathered + thread * 2 * T * group * hd, os = qs + T * group * hd
                for pair in share(blocks * kvHeads, part: w, of: shares) {
                    let b = pair / kvHeads, kvh = pair % kvHeads
                    let session = segments[blockSegment[b]].session
                    let kc = session.keys(l), vc = session.values(l), ring = session.ringSizes[l], window = session.windows[l]
                    let t0 = blockRows[b].lowerBound, t1 = blockRows[b].upperBound, rows = (t1 - t0) * group
                    @inline(__always) func firstSeen(_ p: Int) -> Int { window.map { max(0, p - $0 + 1) } ?? 0 }
                    let lo = firstSeen(rowPosition[t0]), hi = rowPosition[t1 - 1]
                    let n = hi - lo + 1
                    for t in t0..<t1 { (qs + (t - t0) * group * hd).update(from: q + t * qw + kvh * group * hd, count: group * hd) }
                    let firstSlot = lo % ring
                    let head = min(n, ring - firstSlot)
                    let k0 = kc + kvh * hd, v0 = vc + kvh * hd
                    // scores[row][i] = query_row · k_(lo + i) over the two contiguous runs of slots
                    qwenkit_gemm_strided_avx512(k0 + firstSlot * kvw, kvw, head, hd, qs, hd, rows, sc, cap)
                    if n > head { qwenkit_gemm_strided_avx512(k0, kvw, n - head, hd, qs, hd, rows, sc + head, cap) }
                    for t in t0..<t1 {
                        let p = rowPosition[t], a = firstSeen(p) - lo, e = p - lo + 1
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
    }

    /// Qwen2-MoE: softmax over the router's logits, the top-k experts (weights renormalized only with
    /// norm_topk_prob), each chosen expert's SwiGLU output weighted and summed in ascending expert order, plus the
    /// shared expert scaled by sigmoid(shared_gate · x).
    private func mixture(_ moe: MixtureWeights, batch B: Int, out: UnsafeMutablePointer<Float>) {
        let H = s.embeddingLength, E = moe.router.rows, K = moe.usedCount
        multiply((moe.router, routerLogits), input: normed, batch: B)
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

    /// Throws `.nonFinite` naming `layer` (built only then) and the first row's position whose state holds a NaN or
    /// an infinity.
    private func checkFinite(batch B: Int, after layer: @autoclosure () -> String) throws {
        let H = s.embeddingLength
        for t in 0..<B where !VectorMath.allFinite(x + t * H, H) {
            throw RuntimeError.nonFinite(layer: layer(), position: rowPosition[t])
        }
    }

    /// Computes the output logits of rows `rows` (their final-normed states are in `normed`) and reports each as
    /// `body(row, logits)`.
    func emitLogits(rows: Range<Int>, _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        let H = s.embeddingLength, V = s.vocabSize
        var r = rows.lowerBound
        while r < rows.upperBound {
            let n = min(logitRows, rows.upperBound - r)
            multiply((model.output, logits), input: normed + r * H, batch: n)
            // Every row checked before any is reported: a batched decode step then either fails before its
            // sessions see logits or reports all of them.
            for i in 0..<n where !VectorMath.allFinite(logits + i * V, V) {
                throw RuntimeError.nonFinite(layer: "output", position: rowPosition[r + i])
            }
            for i in 0..<n { try body(r + i, UnsafeBufferPointer(start: logits + i * V, count: V)) }
            r += n
        }
    }
}

/// Part `w` of `count` items cut into `parts` nearly equal consecutive ranges.
@inline(__always)
private func share(_ count: Int, part w: Int, of parts: Int) -> Range<Int> {
    (count * w / parts)..<(count * (w + 1) / parts)
}
