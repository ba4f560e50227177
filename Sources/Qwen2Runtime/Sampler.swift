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
    /// Candidate (logit, id) pairs, reused between calls.
    private var candidates: [(Float, UInt32)] = []

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

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> UInt32 {
        guard temperature > 0 else { return Self.argmax(logits) }
        candidates.removeAll(keepingCapacity: true)
        for (i, l) in logits.enumerated() { candidates.append((l / temperature, UInt32(i))) }
        // Highest first, lower id first on ties: a total order, so the draw does not depend on the sort's stability.
        let k = topK > 0 ? min(topK, candidates.count) : candidates.count
        if k < candidates.count {
            candidates.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            candidates.removeSubrange(k...)
        } else {
            candidates.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        }
        let m = candidates[0].0
        // A temperature so small that the top logit divided by it overflows (1e-45, or 1e-38 with logits near 10):
        // every other token's probability is 0 in float, and inf - inf would make the draw NaN.
        guard m.isFinite else { return Self.argmax(logits) }
        var total = 0.0
        for i in candidates.indices {
            let p = exp(Double(candidates[i].0 - m))
            candidates[i].0 = Float(p)
            total += p
        }
        var keep = candidates.count
        if topP < 1 {
            var mass = 0.0
            for i in candidates.indices {
                mass += Double(candidates[i].0) / total
                if mass >= Double(topP) {
                    keep = i + 1
                    break
                }
            }
        }
        var kept = 0.0
        for i in 0..<keep { kept += Double(candidates[i].0) }
        var r = uniform() * kept
        for i in 0..<keep {
            r -= Double(candidates[i].0)
            if r < 0 { return candidates[i].1 }
        }
        return candidates[keep - 1].1
    }
}
