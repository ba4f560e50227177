/// How far tensor B is from tensor A, element by element, both as float32 and every figure accumulated in Double.
///
/// NaN and infinities are handled explicitly: a position where either value is not finite is left out of the
/// figures and counted instead, as a match when both hold the same value (both NaN, or the same infinity) and as a
/// mismatch otherwise. A mismatch makes the tensors differ beyond any tolerance. +0 and -0 are equal.
public struct DifferenceMetrics: Sendable, Equatable {
    /// Positions where both values are finite: what the figures are computed over.
    public var count = 0
    /// Positions where both values are NaN, or the same infinity.
    public var nonFiniteMatches = 0
    /// Positions where one value is not finite and the other is not the same value.
    public var nonFiniteMismatches = 0
    /// max |a − b|.
    public var maxAbsError: Double = 0
    /// The flat (row-major) index of the first position where `maxAbsError` is reached; nil when it is 0.
    public var maxAbsErrorIndex: Int?
    /// max |a|: the scale for `relativeError`.
    public var maxAbsA: Double = 0
    /// Σ (a − b)².
    public var sumSquaredError: Double = 0
    /// Σ a², Σ b², Σ a·b: for the cosine similarity.
    public var sumAA: Double = 0
    public var sumBB: Double = 0
    public var sumAB: Double = 0

    public init() {}

    /// Root mean square error over the finite positions; 0 when there are none.
    public var rmse: Double { count > 0 ? (sumSquaredError / Double(count)).squareRoot() : 0 }

    /// a·b / (|a| |b|), in [-1, 1]. Defined where the textbook formula is not: 1 when the tensors are equal
    /// (including both all zero) and 0 when exactly one of them is all zero.
    public var cosineSimilarity: Double {
        if isExact { return 1 }
        let aZero = sumAA == 0, bZero = sumBB == 0
        if aZero || bZero { return aZero && bZero ? 1 : 0 }
        // One square root of the product (no overflow: float values squared and summed stay far below 1e308), so
        // parallel vectors give exactly ±1 where two roots multiplied would round.
        return Swift.min(1, Swift.max(-1, sumAB / (sumAA * sumBB).squareRoot()))
    }

    /// `maxAbsError / maxAbsA`; nil when A is all zero.
    public var relativeError: Double? { maxAbsA > 0 ? maxAbsError / maxAbsA : nil }

    /// Every value equal (finite ones exactly, the others the same NaN-or-infinity).
    public var isExact: Bool { maxAbsError == 0 && nonFiniteMismatches == 0 }

    /// The error a tolerance is held against: `maxAbsError`, or infinity when a non-finite value mismatches.
    public var effectiveMaxAbsError: Double { nonFiniteMismatches > 0 ? .infinity : maxAbsError }

    /// Adds the positions `a[i]`, `b[i]` (flat indices `firstIndex + i`), in index order. A plain loop in Double:
    /// the difference of two floats is exact there and each product nearly so.
    public mutating func accumulate(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, firstIndex: Int) {
        let n = Swift.min(a.count, b.count)
        guard n > 0 else { return }
        let pa = a.baseAddress!, pb = b.baseAddress!
        var finite = 0
        var maxError = maxAbsError, maxIndex = maxAbsErrorIndex, maxA = maxAbsA
        var sse = sumSquaredError, aa = sumAA, bb = sumBB, ab = sumAB
        for i in 0..<n {
            let x = pa[i], y = pb[i]
            guard x.isFinite && y.isFinite else {
                // Same value: both NaN, or equal infinities.
                if (x.isNaN && y.isNaN) || x == y { nonFiniteMatches += 1 } else { nonFiniteMismatches += 1 }
                continue
            }
            let dx = Double(x), dy = Double(y)
            let d = dx - dy
            let e = abs(d)
            if e > maxError {
                maxError = e
                maxIndex = firstIndex + i
            }
            maxA = Swift.max(maxA, abs(dx))
            sse += d * d
            aa += dx * dx
            bb += dy * dy
            ab += dx * dy
            finite += 1
        }
        count += finite
        maxAbsError = maxError
        maxAbsErrorIndex = maxIndex
        maxAbsA = maxA
        sumSquaredError = sse
        sumAA = aa
        sumBB = bb
        sumAB = ab
    }

    /// Adds the figures of the positions after these (merged in index order, the worst position stays the first).
    public mutating func merge(_ other: DifferenceMetrics) {
        count += other.count
        nonFiniteMatches += other.nonFiniteMatches
        nonFiniteMismatches += other.nonFiniteMismatches
        if other.maxAbsError > maxAbsError {
            maxAbsError = other.maxAbsError
            maxAbsErrorIndex = other.maxAbsErrorIndex
        }
        maxAbsA = Swift.max(maxAbsA, other.maxAbsA)
        sumSquaredError += other.sumSquaredError
        sumAA += other.sumAA
        sumBB += other.sumBB
        sumAB += other.sumAB
    }
}
