// Compares our logits with a golden's, position by position, and accumulates the metrics of the report.
//
// Usage (the runtime feeds each position's full-vocabulary float32 logits as it computes them):
//
//     let golden = try GoldenLogits(path: file)
//     try golden.checkCompatible(modelVocabSize: model.vocabSize)
//     var comparator = LogitComparator(golden: golden)
//     for position in 0..<golden.count { try comparator.add(position: position, ours: row) }
//     let comparison = try comparator.finish()
//
// Everything is summed in Double. What "compared logits" means depends on the golden's form: every logit (full)
// or the K golden ids of each position (compact); KL is exact in the full form and a lower bound (top K + tail)
// in the compact form.

/// Aggregated metrics over any number of positions (one file, or all files: `merge`).
public struct LogitMetrics: Sendable, Equatable {
    /// Positions compared.
    public internal(set) var positions = 0
    /// Logits compared (positions × vocabulary in the full form, × K in the compact form).
    public internal(set) var comparedLogits = 0
    /// Largest |golden − ours| over the compared logits (+∞ when our logits had NaN or ∞).
    public internal(set) var maxAbsError = 0.0
    /// Positions where the two top-1 ids agree.
    public internal(set) var top1Matches = 0
    /// Positions that had a top-5 comparison (all of them, except in compact goldens with K < 5).
    public internal(set) var top5Positions = 0
    /// Σ over those positions of |golden top 5 ∩ our top 5|.
    public internal(set) var top5Shared = 0
    /// Σ over those positions of min(5, vocabulary): what `top5Shared` would be if every top 5 agreed.
    public internal(set) var top5Slots = 0
    /// Σ KL(golden || ours) over positions (+∞ when our logits had NaN or ∞).
    public internal(set) var klSum = 0.0
    /// The largest per-position KL.
    public internal(set) var maxKL = 0.0
    /// Positions where our logits held NaN or ∞ (they fail every comparison).
    public internal(set) var nonFinitePositions = 0
    var sumSquaredError = 0.0
    var dot = 0.0
    var goldenSquares = 0.0
    var oursSquares = 0.0

    public init() {}

    /// √(mean squared error) over the compared logits.
    public var rmse: Double { comparedLogits == 0 ? 0 : (sumSquaredError / Double(comparedLogits)).squareRoot() }
    /// Cosine similarity of all compared golden logits and ours, taken as two long vectors (1 when both are zero).
    public var cosineSimilarity: Double {
        let norms = (goldenSquares * oursSquares).squareRoot()
        if norms == 0 { return goldenSquares == oursSquares ? 1 : 0 }
        return dot / norms
    }
    /// Fraction of positions whose top-1 ids agree.
    public var top1Agreement: Double { positions == 0 ? 1 : Double(top1Matches) / Double(positions) }
    /// Mean of |golden top 5 ∩ our top 5| / 5 (/ the vocabulary size when below 5); nil when no position had a top 5 (compact K < 5).
    public var top5Overlap: Double? { top5Slots == 0 ? nil : Double(top5Shared) / Double(top5Slots) }
    /// Mean per-position KL(golden || ours), in nats.
    public var meanKL: Double { positions == 0 ? 0 : klSum / Double(positions) }

    mutating func add(_ r: PositionComparison, top5 shared: (shared: Int, slots: Int)?) {
        positions += 1
        if let shared { top5Positions += 1; top5Shared += shared.shared; top5Slots += shared.slots }
        guard r.finite else {
            nonFinitePositions += 1
            maxAbsError = .infinity
            klSum = .infinity
            maxKL = .infinity
            return
        }
        comparedLogits += r.compared
        maxAbsError = max(maxAbsError, r.maxAbsError)
        sumSquaredError += r.sumSquaredError
        dot += r.dot
        goldenSquares += r.goldenSquares
        oursSquares += r.oursSquares
        if r.goldenTop1 == r.oursTop1 { top1Matches += 1 }
        klSum += r.kl
        maxKL = max(maxKL, r.kl)
    }

    /// Folds another set of positions into this one (the report's total).
    public mutating func merge(_ o: LogitMetrics) {
        positions += o.positions
        comparedLogits += o.comparedLogits
        maxAbsError = max(maxAbsError, o.maxAbsError)
        top1Matches += o.top1Matches
        top5Positions += o.top5Positions
        top5Shared += o.top5Shared
        top5Slots += o.top5Slots
        klSum += o.klSum
        maxKL = max(maxKL, o.maxKL)
        nonFinitePositions += o.nonFinitePositions
        sumSquaredError += o.sumSquaredError
        dot += o.dot
        goldenSquares += o.goldenSquares
        oursSquares += o.oursSquares
    }
}

/// One position as the report lists it among the worst.
public struct PositionResult: Sendable, Equatable {
    /// The golden file (set by the report; the comparator's own list has its golden's path).
    public var file: String
    public let position: Int
    /// The input token at this position (the logits predict the next one).
    public let token: UInt32
    public let kl: Double
    public let maxAbsError: Double
    public let goldenTop1: Int
    public let oursTop1: Int

    /// Worse first: larger KL, then larger max abs error, then the earlier file position.
    static func worse(_ a: PositionResult, _ b: PositionResult) -> Bool {
        if a.kl != b.kl { return a.kl > b.kl }
        if a.maxAbsError != b.maxAbsError { return a.maxAbsError > b.maxAbsError }
        return a.position < b.position
    }
}

/// The finished comparison of one golden file.
public struct GoldenComparison: Sendable, Equatable {
    public let path: String
    public let form: GoldenForm
    public let vocabSize: Int
    /// K of a compact golden.
    public let topK: Int?
    public let metrics: LogitMetrics
    /// The worst positions, worst first (by KL, then max abs error).
    public let worst: [PositionResult]
}

/// Accumulates one golden file's comparison. Feed every position once, in any order, then `finish()`.
public struct LogitComparator {
    public let golden: GoldenLogits
    /// How many worst positions to keep.
    public let worstCount: Int
    public private(set) var metrics = LogitMetrics()
    public private(set) var worst: [PositionResult] = []
    private var seen: [Bool]
    private var inTop: [Bool]      // compact: scratch marks of the vocabulary, all false between calls
    private var topIDs: [Int]      // scratch: 2 × 5 top ids (golden, ours)
    private var topValues: [Float] // scratch for the selection

    /// Top-N overlap is measured with N = 5.
    public static let overlapCount = 5

    public init(golden: GoldenLogits, worstCount: Int = 5) {
        self.golden = golden
        self.worstCount = max(0, worstCount)
        seen = [Bool](repeating: false, count: golden.count)
        inTop = golden.form == .compact ? [Bool](repeating: false, count: golden.vocabSize) : []
        topIDs = [Int](repeating: 0, count: 2 * Self.overlapCount)
        topValues = [Float](repeating: 0, count: Self.overlapCount)
    }

    /// Compares our logits at `position` (the whole vocabulary, float32) with the golden's.
    public mutating func add(position: Int, ours: UnsafeBufferPointer<Float>) throws(VerificationError) {
        guard position >= 0, position < golden.count, !seen[position] else {
            throw .invalidPosition(path: golden.path, position: position, count: golden.count,
                                   repeated: position >= 0 && position < golden.count)
        }
        guard ours.count == golden.vocabSize else {
            throw .logitCountMismatch(path: golden.path, position: position, count: ours.count, expected: golden.vocabSize)
        }
        seen[position] = true
        let n5 = Self.overlapCount
        var shared: (shared: Int, slots: Int)? = nil
        var r: PositionComparison
        if !LogitMath.allFinite(ours) {
            r = PositionComparison()
            r.finite = false
            r.kl = .infinity
            r.maxAbsError = .infinity
            r.goldenTop1 = golden.top1(at: position)
            r.oursTop1 = -1
        } else {
            let golden = self.golden
            switch golden.form {
            case .full:
                r = golden.withLogits(at: position) { PositionComparison.full(golden: $0, ours: ours) }
                shared = topIDs.withUnsafeMutableBufferPointer { ids in
                    topValues.withUnsafeMutableBufferPointer { values in
                        let g = UnsafeMutableBufferPointer(rebasing: ids[0..<n5])
                        let o = UnsafeMutableBufferPointer(rebasing: ids[n5..<(2 * n5)])
                        let kg = golden.withLogits(at: position) { LogitMath.topIndices($0, into: g, values: values) }
                        let ko = LogitMath.topIndices(ours, into: o, values: values)
                        let k = min(kg, ko)
                        return (LogitMath.overlap(UnsafeBufferPointer(g), o, count: k), k)
                    }
                }
            case .compact:
                let lse = golden.logSumExp(at: position)
                r = golden.withTopIDs(at: position) { ids in
                    golden.withLogits(at: position) { g in
                        inTop.withUnsafeMutableBufferPointer {
                            PositionComparison.compact(ids: ids, golden: g, goldenLogSumExp: lse, ours: ours, inTop: $0)
                        }
                    }
                }
                if golden.keptPerPosition >= n5 {
                    shared = topIDs.withUnsafeMutableBufferPointer { ids in
                        topValues.withUnsafeMutableBufferPointer { values in
                            let g = UnsafeMutableBufferPointer(rebasing: ids[0..<n5])
                            golden.withTopIDs(at: position) { top in for i in 0..<n5 { g[i] = Int(top[i]) } }
                            let o = UnsafeMutableBufferPointer(rebasing: ids[n5..<(2 * n5)])
                            _ = LogitMath.topIndices(ours, into: o, values: values)
                            return (LogitMath.overlap(UnsafeBufferPointer(g), o, count: n5), n5)
                        }
                    }
                }
            }
        }
        metrics.add(r, top5: shared)
        record(PositionResult(file: golden.path, position: position, token: golden.tokens[position], kl: r.kl,
                              maxAbsError: r.maxAbsError, goldenTop1: r.goldenTop1, oursTop1: r.oursTop1))
    }

    /// `add` for a row held in an array.
    public mutating func add(position: Int, ours: [Float]) throws(VerificationError) {
        try ours.withUnsafeBufferPointer { (b: UnsafeBufferPointer<Float>) throws(VerificationError) in
            try add(position: position, ours: b)
        }
    }

    /// The comparison, once every position was added; throws `positionsMissing` otherwise.
    public func finish() throws(VerificationError) -> GoldenComparison {
        if let first = seen.firstIndex(of: false) {
            throw .positionsMissing(path: golden.path, compared: metrics.positions, count: golden.count, first: first)
        }
        return GoldenComparison(path: golden.path, form: golden.form, vocabSize: golden.vocabSize, topK: golden.topK,
                                metrics: metrics, worst: worst)
    }

    private mutating func record(_ p: PositionResult) {
        guard worstCount > 0 else { return }
        if worst.count == worstCount, let last = worst.last, !PositionResult.worse(p, last) { return }
        let at = worst.firstIndex { PositionResult.worse(p, $0) } ?? worst.count
        worst.insert(p, at: at)
        if worst.count > worstCount { worst.removeLast() }
    }
}
