#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Qwen2Runtime

@Suite struct SamplerTests {
    @Test func greedyPicksTheLowestIdAmongEqualMaxima() {
        let logits: [Float] = [0.5, 2, -1, 2, 1.5]
        var s = Sampler()
        #expect(logits.withUnsafeBufferPointer { s.sample($0) } == 1)
    }

    /// argmax's two vector passes give what the scan keeping the first strictly greater logit gives: every length
    /// 0-40 and Qwen2's vocabulary, ties, infinities, NaNs (first or not), all-equal rows.
    @Test func argmaxEqualsTheScan() {
        func scan(_ x: [Float]) -> UInt32 {
            var best = 0
            for i in x.indices.dropFirst() where x[i] > x[best] { best = i }
            return UInt32(best)
        }
        var rng = SplitMix64(seed: 9)
        var rows: [[Float]] = [[], [.nan, 1, 2], [1, .nan, 2], [-.infinity, -.infinity], [.infinity, 1, .infinity],
                               [Float](repeating: 3, count: 37), [Float](repeating: -.infinity, count: 33)]
        for n in Array(1...40) + [151_936] {
            // Few distinct values: ties are common, within a 16-lane block and across blocks.
            rows.append((0..<n).map { _ in Float(Int(rng.next() % 7)) - 3 })
            var spiky = (0..<n).map { _ in Float(Int(rng.next() % 2_000_001) - 1_000_000) / 1000 }
            spiky[Int(rng.next() % UInt64(n))] = .nan
            rows.append(spiky)
        }
        for x in rows {
            #expect(x.withUnsafeBufferPointer { Sampler.argmax($0) } == scan(x), "\(x.prefix(40))")
        }
    }

    /// The definition the sampler implements without sorting the vocabulary: every candidate sorted (highest scaled
    /// logit first, lower id on ties), the top k kept, then the smallest prefix whose weight reaches top-p of theirs,
    /// and the first candidate whose cumulative weight passes u times that prefix's. Weights exp(z − max) in Double.
    static func reference(_ logits: [Float], temperature: Float, topK: Int, topP: Float, minP: Float = 0, uniform u: Double) -> UInt32 {
        let z = logits.map { $0 / temperature }
        let m = z.max()!
        var c = z.enumerated().map { ($0.element, UInt32($0.offset)) }
        c.sort(by: Sampler.precedes)
        let k = topK > 0 ? min(topK, c.count) : c.count
        let w = c.map { exp(Double($0.0 - m)) }
        var total = 0.0
        for i in 0..<k { total += w[i] }
        var keep = k
        if topP < 1 {
            var cumulative = 0.0
            for i in 0..<k {
                cumulative += w[i]
                if Double(topP) * total <= cumulative {
                    keep = i + 1
                    break
                }
            }
        }
        // min-p: of those, the ones at least minP times as likely as the first.
        while keep > 1 && w[keep - 1] < Double(minP) { keep -= 1 }
        var kept = 0.0
        for i in 0..<keep { kept += w[i] }
        var cumulative = 0.0
        for i in 0..<keep {
            cumulative += w[i]
            if u * kept < cumulative { return c[i].1 }
        }
        return c[keep - 1].1
    }

    /// Selection gives the reference's draw, token for token: random vocabularies of 50-6,000 logits (peaked, flat,
    /// with ties and with -inf), temperatures 0.05-20, top-k and top-p on and off, 1,200 draws. (Sums taken in another
    /// order could differ in the last bit and move a draw that lands exactly on a boundary; none of these does.)
    @Test func equalsTheSortedDefinition() {
        var rng = SplitMix64(seed: 17)
        for round in 0..<1200 {
            let V = [50, 300, 2000, 6000][round % 4]
            let spread = Float([0.5, 3, 12, 40][(round / 4) % 4])
            var logits = (0..<V).map { _ in Float(Double(rng.next() % 1_000_000) / 1_000_000 - 0.5) * spread }
            if round % 7 == 0 { for i in stride(from: 0, to: V, by: 5) { logits[i] = logits[0] } }  // ties
            if round % 11 == 0 { logits[V / 2] = -.infinity }
            let temperature = Float([0.05, 0.7, 1, 20][(round / 16) % 4])
            let topK = [0, 1, 40, V + 5][(round / 64) % 4]
            let topP = Float([1, 0.9, 0.5, 0.05][(round / 256) % 4])
            let minP = Float([0, 0, 0.1, 0.6][(round / 2) % 4])
            let seed = rng.next()
            var sampler = Sampler(temperature: temperature, topK: topK, topP: topP, minP: minP, seed: seed)
            var twin = Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
            let u = twin.uniform()
            let ours = logits.withUnsafeBufferPointer { sampler.sample($0) }
            let want = Self.reference(logits, temperature: temperature, topK: topK, topP: topP, minP: minP, uniform: u)
            #expect(ours == want, "round \(round): V \(V), spread \(spread), T \(temperature), k \(topK), p \(topP), min-p \(minP)")
            if ours != want { return }
        }
    }
}
