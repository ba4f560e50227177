#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// One position's comparison, in Double, over flat float rows. These are the plain loops the comparator runs per
// position: a few passes over the vocabulary, no allocation (scratch buffers come from the caller).
//
// KL(golden || ours) with p = softmax(g), q = softmax(o):
//   full:     Σ_i p_i (log p_i − log q_i),  log p_i = g_i − lse(g),  log q_i = o_i − lse(o)
//   compact:  the same over the K golden ids plus one tail bucket, p_tail = 1 − Σ p_i (from the stored log-sum-exp),
//             q_tail = Σ_{j ∉ ids} q_j (summed directly over the other ids, not as 1 − Σ q_i, so a tiny tail keeps
//             its digits). Grouping ids can only lose information, so compact KL ≤ full KL (data processing
//             inequality), equal when the top K hold all the mass that differs.
// The logs are taken as differences of logits, never as log(exp(...)), so a probability that underflows cannot
// make an infinite term.

enum LogitMath {
    /// Top-K probability mass may exceed 1 by this much before a compact golden is called inconsistent (the stored
    /// float32 log-sum-exp is rounded; a real excess is a wrong file).
    static let compactMassSlack = 1e-4

    /// log Σ exp(x), shifted by the maximum, in Double.
    static func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Double {
        var m = -Double.infinity
        for v in x { m = max(m, Double(v)) }
        var s = 0.0
        for v in x { s += exp(Double(v) - m) }
        return m + log(s)
    }

    /// The index of the largest value, the lowest index among equals.
    static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<x.count where x[i] > x[best] { best = i }
        return best
    }

    static func allFinite(_ x: UnsafeBufferPointer<Float>) -> Bool {
        for v in x where !v.isFinite { return false }
        return true
    }

    /// The indices of the `ids.count` largest values, descending, the lower index first among equals (as
    /// make_logit_goldens.py's stable sort). `values` is scratch of the same count. Insertion into a short
    /// sorted list: one compare per element for all but the few that enter it.
    static func topIndices(_ x: UnsafeBufferPointer<Float>, into ids: UnsafeMutableBufferPointer<Int>,
                           values: UnsafeMutableBufferPointer<Float>) -> Int {
        let k = min(ids.count, x.count)
        var filled = 0
        for i in 0..<x.count {
            let v = x[i]
            if filled == k && !(v > values[k - 1]) { continue }
            var j = filled == k ? k - 1 : filled
            while j > 0 && v > values[j - 1] {
                values[j] = values[j - 1]
                ids[j] = ids[j - 1]
                j -= 1
            }
            values[j] = v
            ids[j] = i
            if filled < k { filled += 1 }
        }
        return k
    }

    /// Number of ids two short lists share.
    static func overlap(_ a: UnsafeBufferPointer<Int>, _ b: UnsafeMutableBufferPointer<Int>, count: Int) -> Int {
        var n = 0
        for i in 0..<count where b[0..<count].contains(a[i]) { n += 1 }
        return n
    }
}

/// What one position contributed (before it is folded into `LogitMetrics`).
struct PositionComparison {
    var kl = 0.0
    var maxAbsError = 0.0
    var maxAbsErrorID = 0
    var compared = 0
    var sumSquaredError = 0.0
    var dot = 0.0
    var goldenSquares = 0.0
    var oursSquares = 0.0
    var goldenTop1 = 0
    var oursTop1 = 0
    var finite = true

    /// The error sums over `golden[i]` against `ours[id(i)]`.
    mutating func accumulateErrors(_ g: Double, _ o: Double, id: Int) {
        let d = abs(g - o)
        if d > maxAbsError { maxAbsError = d; maxAbsErrorID = id }
        sumSquaredError += d * d
        dot += g * o
        goldenSquares += g * g
        oursSquares += o * o
        compared += 1
    }

    /// Full form: both rows hold the whole vocabulary.
    static func full(golden g: UnsafeBufferPointer<Float>, ours o: UnsafeBufferPointer<Float>) -> PositionComparison {
        var r = PositionComparison()
        r.goldenTop1 = LogitMath.argmax(g)
        r.oursTop1 = LogitMath.argmax(o)
        let lseG = LogitMath.logSumExp(g)
        let lseO = LogitMath.logSumExp(o)
        var weighted = 0.0  // Σ p_i (g_i − o_i)
        for i in 0..<g.count {
            let gi = Double(g[i]), oi = Double(o[i])
            r.accumulateErrors(gi, oi, id: i)
            weighted += exp(gi - lseG) * (gi - oi)
        }
        r.kl = max(0, weighted - (lseG - lseO))
        return r
    }

    /// Compact form: the golden's K ids and logits (descending) and its stored log-sum-exp against our whole row.
    /// `inTop` is scratch of the vocabulary's size, all false on entry and on return.
    static func compact(ids: UnsafeBufferPointer<Int32>, golden g: UnsafeBufferPointer<Float>, goldenLogSumExp lseG: Double,
                        ours o: UnsafeBufferPointer<Float>, inTop: UnsafeMutableBufferPointer<Bool>) -> PositionComparison {
        var r = PositionComparison()
        r.goldenTop1 = Int(ids[0])
        r.oursTop1 = LogitMath.argmax(o)
        let mO = Double(o[r.oursTop1])
        for id in ids { inTop[Int(id)] = true }
        var all = 0.0, tail = 0.0
        for j in 0..<o.count {
            let e = exp(Double(o[j]) - mO)
            all += e
            if !inTop[j] { tail += e }
        }
        for id in ids { inTop[Int(id)] = false }
        let lseO = mO + log(all)
        let qTail = tail / all

        var mass = 0.0
        for i in 0..<ids.count {
            let gi = Double(g[i]), oi = Double(o[Int(ids[i])])
            r.accumulateErrors(gi, oi, id: Int(ids[i]))
            mass += exp(gi - lseG)
        }
        // The golden's tail is 1 − mass, known only to the precision of the stored float32 log-sum-exp: below that
        // noise it is taken as empty and the top-K probabilities renormalized to 1.
        let noise = 2 * Double(Float(lseG).ulp)
        var pTail = 1 - mass
        var logNorm = 0.0
        if pTail <= noise * max(1, mass) {
            pTail = 0
            logNorm = log(mass)
        }
        var kl = 0.0
        for i in 0..<ids.count {
            let logP = Double(g[i]) - lseG - logNorm
            let logQ = Double(o[Int(ids[i])]) - lseO
            kl += exp(logP) * (logP - logQ)
        }
        if pTail > 0 { kl += pTail * (log(pTail) - log(max(qTail, Double.leastNormalMagnitude))) }
        r.kl = max(0, kl)
        return r
    }
}
