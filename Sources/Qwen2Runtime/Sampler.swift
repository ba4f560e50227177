#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks the next token from a position's logits: greedy (the highest logit, lowest id on ties) when `temperature`
/// is 0 (or so small that logits / temperature overflows: the distribution is then the argmax's alone, and the
/// draw would be NaN), else a draw from softmax(logits / temperature) restricted to the `topK` highest and then to the smallest
/// set whose probability reaches `topP` (llama.cpp's and transformers' order: top-k, then top-p). The generator is
/// xoshiro256** seeded through SplitMix64, so a seed gives the same tokens on every machine.
public struct Sampler {
    public var temperature: Float
    /// 0 keeps every token.
    public var topK: Int
    /// 1 keeps every token.
    public var topP: Float
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// Per-call buffers, reused: the scaled logits, and the candidates taken so far in descending order with their
    /// weights exp(z − max).
    private var scaled: [Float] = []
    private var candidates: [(Float, UInt32)] = []
    private var weights: [Double] = []

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var r = z
            r = (r ^ (r >> 30)) &* 0xBF58_476D_1CE4_E5B9
            r = (r ^ (r >> 27)) &* 0x94D0_49BB_1331_11EB
            return r ^ (r >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits (xoshiro256**).
    mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = (state.3 << 45) | (state.3 >> 19)
        return result
    }

    /// A uniform float in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// The highest logit's id (the lowest id among equal maxima).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> UInt32 {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return UInt32(best)
    }

    /// Highest first, lower id first on ties: a total order, so the draw does not depend on a sort's stability.
    @inline(__always)
    static func precedes(_ a: (Float, UInt32), _ b: (Float, UInt32)) -> Bool { a.0 > b.0 || (a.0 == b.0 && a.1 < b.1) }

    /// A draw as if the candidates were sorted by `precedes` (restricted to the top k, then to the smallest prefix
    /// whose share of the weight reaches top-p) and the uniform number walked down that order. Nothing sorts the
    /// vocabulary: candidates are taken in bands of scaled logit (the top 8 below the maximum, then bands twice as
    /// deep each time), each band sorted as it is taken, and only as many bands as the walk reaches. A peaked
    /// distribution needs one band of a few dozen tokens; 152k logits cost one pass to scale and one to sum.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> UInt32 {
        guard temperature > 0, logits.count > 0 else { return Self.argmax(logits) }
        let V = logits.count
        if scaled.count < V { scaled = [Float](repeating: 0, count: V) }
        var m = -Float.infinity
        scaled.withUnsafeMutableBufferPointer { z in
            for i in 0..<V {
                z[i] = logits[i] / temperature
                m = max(m, z[i])
            }
        }
        // A temperature so small that the top logit divided by it overflows (1e-45, or 1e-38 with logits near 10):
        // every other token's probability is 0 in float, and inf - inf would make the draw NaN.
        guard m.isFinite else { return Self.argmax(logits) }
        candidates.removeAll(keepingCapacity: true)
        weights.removeAll(keepingCapacity: true)
        let k = topK > 0 ? min(topK, V) : V

        // Bands [lower, upper) of scaled logit, taken in descending order.
        var upper = Float.infinity, depth: Float = 8, exhausted = false
        func takeBand() {
            // Past 745 below the maximum exp underflows to 0 in Double: the last band takes everything left.
            let lower = depth > 745 ? -Float.infinity : m - depth
            let start = candidates.count
            scaled.withUnsafeBufferPointer { z in
                for i in 0..<V where z[i] >= lower && z[i] < upper { candidates.append((z[i], UInt32(i))) }
            }
            candidates[start...].sort(by: Self.precedes)
            for c in candidates[start...] { weights.append(exp(Double(c.0 - m))) }
            upper = lower
            depth *= 2
            exhausted = lower == -.infinity
        }
        /// Makes at least `n` candidates available (fewer only when the vocabulary is exhausted).
        func ensure(_ n: Int) { while candidates.count < n && !exhausted { takeBand() } }

        var total: Double
        if k < V {
            ensure(k)
            total = 0
            for i in 0..<k { total += weights[i] }
        } else {
            total = 0
            scaled.withUnsafeBufferPointer { z in for i in 0..<V { total += exp(Double(z[i] - m)) } }
        }
        var keep = k, kept = total
        if topP < 1 {
            var mass = 0.0
            kept = 0
            var i = 0
            while i < k {
                ensure(i + 1)
                mass += weights[i] / total
                kept += weights[i]
                i += 1
                if mass >= Double(topP) { break }
            }
            keep = i
        }
        var r = uniform() * kept
        var i = 0
        while i < keep {
            ensure(i + 1)
            guard i < candidates.count else { break }
            r -= weights[i]
            if r < 0 { return candidates[i].1 }
            i += 1
        }
        return candidates[min(keep, candidates.count) - 1].1
    }
}
