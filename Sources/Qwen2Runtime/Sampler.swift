#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks the next token from a position's logits: greedy (the highest logit, lowest id on ties) when `temperature`
/// is 0 (or so small that logits / temperature overflows: the distribution is then the argmax's alone, and the
/// draw would be NaN), else a draw from softmax(logits / temperature) restricted to the `topK` highest and then to the smallest
/// set whose probability reaches `topP`, then to the tokens at least `minP` times as likely as the most likely one
/// (llama.cpp's and transformers' order: top-k, top-p, min-p). The generator is
/// xoshiro256** seeded through SplitMix64, so a seed gives the same tokens on every machine.
public struct Sampler {
    public var temperature: Float
    /// 0 keeps every token.
    public var topK: Int
    /// 1 keeps every token.
    public var topP: Float
    /// 0 keeps every token.
    public var minP: Float
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// Per-call buffer, reused: each candidate's scaled logit, id and weight exp(z − max).
    private var candidates: [Candidate] = []
    /// Picks pivots for the selections (its own generator, so that the draws use `state` alone).
    private var pivotState: UInt64 = 0x2545_F491_4F6C_DD1D

    struct Candidate {
        var z: Float
        var id: UInt32
        var weight: Double
    }

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
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

    /// The highest logit's id (the lowest id among equal maxima; 0 for an empty row). What a scan keeping the first
    /// strictly greater value gives, NaNs included (none compares greater, and a NaN first stays), in two vector passes:
    /// the maximum, then its first position. Greedy generation calls it once per token on the caller's thread while
    /// the other threads wait: the scalar scan was ~50 µs of every token over Qwen2's 151,936 logits.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> UInt32 {
        typealias Lanes = SIMD16<Float>
        let n = logits.count
        guard n > 1, let p = logits.baseAddress, !p[0].isNaN else { return 0 }
        var m = Lanes(repeating: p[0])
        var i = 0
        while i + Lanes.scalarCount <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
            m.replace(with: v, where: v .> m)
            i += Lanes.scalarCount
        }
        var best = m.max()
        while i < n {
            if p[i] > best { best = p[i] }
            i += 1
        }
        let target = Lanes(repeating: best)
        i = 0
        while i + Lanes.scalarCount <= n {
            if any(UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self) .== target) { break }
            i += Lanes.scalarCount
        }
        while p[i] != best { i += 1 }
        return UInt32(i)
    }

    /// Highest first, lower id first on ties: a total order, so the draw does not depend on a sort's stability.
    @inline(__always)
    static func precedes(_ a: (Float, UInt32), _ b: (Float, UInt32)) -> Bool { a.0 > b.0 || (a.0 == b.0 && a.1 < b.1) }

    @inline(__always)
    private static func precedes(_ a: Candidate, _ b: Candidate) -> Bool { a.z > b.z || (a.z == b.z && a.id < b.id) }

    /// A draw from the definition — candidates sorted by `precedes`, the top k kept, then the smallest prefix whose
    /// weight reaches top-p of theirs, and a uniform number r times that prefix's weight walked down it — without
    /// sorting: each step is a selection that partitions around a pivot and compares r with the weight on the pivot's
    /// preceding side (expected linear time). 152k logits cost a few passes, flat or peaked.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> UInt32 {
        guard temperature > 0, logits.count > 0 else { return Self.argmax(logits) }
        let V = logits.count
        var m = -Float.infinity
        for i in 0..<V { m = max(m, logits[i] / temperature) }
        // A temperature so small that the top logit divided by it overflows (1e-45, or 1e-38 with logits near 10):
        // every other token's probability is 0 in float, and inf - inf would make the draw NaN.
        guard m.isFinite else { return Self.argmax(logits) }
        candidates.removeAll(keepingCapacity: true)
        var total = 0.0
        for i in 0..<V {
            let z = logits[i] / temperature
            let w = exp(Double(z - m))
            total += w
            candidates.append(Candidate(z: z, id: UInt32(i), weight: w))
        }
        let u = uniform()
        var rng = pivotState
        defer { pivotState = rng }
        let (topK, topP, minP) = (self.topK, self.topP, Double(self.minP))
        return candidates.withUnsafeMutableBufferPointer { c in
            var k = V
            if topK > 0 && topK < V {
                k = topK
                Self.selectTop(c.baseAddress!, count: V, k, &rng)
                total = 0
                for i in 0..<k { total += c[i].weight }
            }
            var kept = total
            if topP < 1 {
                // The candidate whose inclusion first brings the prefix to topP × total ends the nucleus.
                let end = Self.selectByWeight(c.baseAddress!, count: k, target: Double(topP) * total, inclusive: true, &rng)
                kept = 0
                for i in 0...end { kept += c[i].weight }
                k = end + 1
            }
            if minP > 0 {
                // Weights are exp(z − max): a token's probability over the most likely one's. The kept ones move first.
                var store = 0
                for i in 0..<k where c[i].weight >= minP {
                    Self.exchange(c.baseAddress!, i, store)
                    store += 1
                }
                if store < k {
                    k = store
                    kept = 0
                    for i in 0..<k { kept += c[i].weight }
                }
            }
            return c[Self.selectByWeight(c.baseAddress!, count: k, target: u * kept, inclusive: false, &rng)].id
        }
    }

    /// A pivot index below n (a 64-bit LCG's high bits).
    private static func pivot(_ n: Int, _ rng: inout UInt64) -> Int {
        rng = rng &* 6364136223846793005 &+ 1442695040888963407
        return Int((rng >> 33) % UInt64(n))
    }

    @inline(__always)
    private static func exchange(_ c: UnsafeMutablePointer<Candidate>, _ i: Int, _ j: Int) {
        let t = c[i]
        c[i] = c[j]
        c[j] = t
    }

    /// Moves the candidates preceding c[p] before it and the rest after; returns its new index.
    private static func partition(_ c: UnsafeMutablePointer<Candidate>, _ lo: Int, _ hi: Int, pivot p: Int) -> Int {
        exchange(c, p, hi - 1)
        let pv = c[hi - 1]
        var store = lo
        for i in lo..<(hi - 1) where precedes(c[i], pv) {
            exchange(c, i, store)
            store += 1
        }
        exchange(c, store, hi - 1)
        return store
    }

    /// Reorders c[0..<n] so that its first k are the k that precede all others (in no particular order).
    private static func selectTop(_ c: UnsafeMutablePointer<Candidate>, count n: Int, _ k: Int, _ rng: inout UInt64) {
        var lo = 0, hi = n
        while hi - lo > 1 {
            let p = partition(c, lo, hi, pivot: lo + pivot(hi - lo, &rng))
            if p == k || p == k - 1 { return }
            if p < k { lo = p + 1 } else { hi = p }
        }
    }

    /// With c[0..<n] in `precedes` order, the index of the candidate x whose preceding weight W and own weight w have
    /// W ≤ target < W + w (`inclusive`: W < target ≤ W + w); the last when rounding leaves the target past the total.
    /// c is reordered so that everything before the returned index precedes it and nothing after does.
    private static func selectByWeight(_ c: UnsafeMutablePointer<Candidate>, count n: Int, target: Double, inclusive: Bool,
                                       _ rng: inout UInt64) -> Int {
        var lo = 0, hi = n, target = target
        while hi - lo > 32 {
            let p = partition(c, lo, hi, pivot: lo + pivot(hi - lo, &rng))
            var before = 0.0
            for i in lo..<p { before += c[i].weight }
            let after = before + c[p].weight
            if inclusive ? target <= before : target < before {
                hi = p
            } else if inclusive ? target <= after : target < after {
                return p
            } else {
                target -= after
                lo = p + 1
            }
        }
        // A few left: in order, walked.
        var rest = UnsafeMutableBufferPointer(start: c + lo, count: hi - lo)
        rest.sort(by: precedes)
        var cumulative = 0.0
        for i in lo..<hi {
            cumulative += c[i].weight
            if inclusive ? target <= cumulative : target < cumulative { return i }
        }
        return hi - 1
    }
}
