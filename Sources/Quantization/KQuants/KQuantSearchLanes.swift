// The K-quant scale searches of KQuantSearch.swift run on eight groups at once, one group per SIMD lane.
//
// Performance notes. The searches are where K-quant quantization spends its time (`perf` on the reference: over
// 90% in makeQXQuants, makeQ3Quants and makeQKX2Quants), and each is a short sequential float32 reduction per
// candidate scale: vectorizing *along* a group would reorder its sums and change the chosen indices. The groups of a
// super-block, though, are independent and take the same steps, so here lane k follows group k's reference
// computation operation for operation: the same float32 adds, multiplies and divides in the same order (IEEE
// vector ops round like the scalar ones; Swift neither fuses nor reassociates), compare-and-select where the
// reference branches, and the reference's early exits (an all-zero or flat group) applied as masks at the end.
// Extra work on a lane whose reference had stopped is discarded: make_q3_quants' passes stop when a pass changes
// nothing, and such a pass leaves the state as it was, so further passes change nothing either.
// A NaN is the one thing this cannot mirror: when two operands could be NaN, which payload survives depends on the
// operand order the compiler picked for a commutative multiply, in the reference as well as here, and nearest_int
// then reads the payload bits. NaNs that arithmetic makes (inf − inf, 0 · inf) are all the same default NaN, so only
// a NaN in the input matters: blocks holding one go through the reference (`superBlockHasNaN`).
// `nearestIntLanes` is ggml's 1.5·2^23 trick on the bits, as the scalar `nearestInt`, so even the garbage of a
// degenerate group (inf or NaN scales) is the same. The block formats transpose a super-block into lanes
// (`gatherLanes`), search, and hand the indices and scales back to the unchanged scalar requantize-and-pack code.
// Rejected: SIMD16 lanes (two AVX registers per value spilled in the 32-element searches), and vectorizing across
// candidate scales (19–21 candidates fill lanes unevenly and make_q3_quants' passes are sequential).
// Measured (bench_quantize.py, 2 threads, the 0.5B-shaped F16 model, whole runs): Q6_K 6.7 s → 1.5–2.8 s, Q5_K_S
// 18.7 → 2.6–3.0 s, Q4_K_M 9.0 → 1.7–2.7 s, Q2_K 3.5 → 1.3–2.2 s (most of that model's tensors fall back to
// 32-element types, so whole-run gains understate the kernels').
// The importance-weighted quantizers (`weighted:` of every K type, and of Q4_0…Q5_1, whose octets of 32-element
// blocks take the place of a super-block's groups) run the same lane searches with the weights as extra lanes;
// a super-block (or octet) whose values or importance hold a NaN goes through the scalar search. Measured on one
// thread, a 224 × 4864 N(0, 0.03²)-like matrix, release build, scalar → lanes (ggml 0.25.3's own, for scale):
// Q4_0 0.094 → 0.059 s (0.10), Q4_1 0.31 → 0.064 (0.43), Q2_K 0.42 → 0.089 (0.35), Q3_K 0.14 → 0.079 (0.11),
// Q4_K 0.23 → 0.061 (0.45), Q5_K 0.26 → 0.059 (0.52), Q6_K 0.081 → 0.035 (0.14).
// makeQXQuantsLanes used to rewrite L under the `better` mask after each accepted step; that masked rewrite (and
// the search around it) compiled to per-lane element assembly (vblendps with immediates, vmovmskpd, cmov per lane),
// while each lane's final L is simply the one its last accepted `iscale` gives, so the lanes now keep that scale and
// write L once. With the octets packed across rows (forEachWeightedLegacyBlock: no scalar tail blocks, σ² in lanes,
// a shuffle transpose) and `squareRootLanes` for the weights, `qwenkit quantize --imatrix` on the 0.5B-shaped F16
// model (2 threads, release, user CPU seconds of the whole run, bytes unchanged): Q4_0 10.6 → 3.2 s,
// Q5_0 9.5 → 3.3 s, Q2_K 10.6 → 4.3 s (its 896-wide rows fall back to weighted Q4_0). makeQKX2QuantsLanes had
// the same masked copy of Laux into L; it too now keeps the accepted `iscale` and `min` per lane and writes L once:
// Q4_1 --imatrix 14.6 → 7.6 s, Q4_K_M --imatrix 9.6 → 4.0 s. bench_quantize.py --imatrix after these changes (one
// cold run each, wall time, a shared 2-core machine, so ±20%): Q4_0 4.3× llama-quantize (was 1.9×), Q5_0 4.9×
// (2.0×), Q2_K 3.7× (1.5×), Q3_K_S 5.0× (1.5×), TQ1_0 4.8× (1.8×); all byte-identical.
// `QuantizationTests` checks every fast path against its reference on random rows of several distributions and
// on edge cases (WeightedGoldenTests for the weighted ones, with importance vectors of several kinds).

#if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
import _Builtin_intrinsics.intel
#endif

typealias FloatLanes = SIMD8<Float>
typealias IndexLanes = SIMD8<Int32>

/// `squareRoot()` of each lane (IEEE square root, correctly rounded: the scalar `squareRoot()`'s value). The
/// standard library's SIMD `squareRoot()` compiled to eight scalar `sqrtf` calls, each behind a negative-input
/// branch; on x86_64 this is SSE's `sqrtps` on the two halves (available on every x86_64 CPU).
@inline(__always)
func squareRootLanes(_ v: FloatLanes) -> FloatLanes {
    #if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
    return FloatLanes(lowHalf: _mm_sqrt_ps(v.lowHalf), highHalf: _mm_sqrt_ps(v.highHalf))
    #else
    return v.squareRoot()
    #endif
}

/// `nearestInt` of each lane (the same bit trick, so the same value for every input).
@inline(__always)
func nearestIntLanes(_ f: FloatLanes) -> IndexLanes {
    let v = f + FloatLanes(repeating: 12582912.0)
    return (unsafeBitCast(v, to: IndexLanes.self) & 0x007F_FFFF) &- 0x0040_0000
}

/// `clamp` of each lane: `max(lo, min(hi, v))`.
@inline(__always)
func clampLanes(_ v: IndexLanes, _ lo: Int32, _ hi: Int32) -> IndexLanes {
    let upper = v.replacing(with: hi, where: v .> IndexLanes(repeating: hi))
    return upper.replacing(with: lo, where: upper .< IndexLanes(repeating: lo))
}

/// The exact float of each index lane (|l| < 2^22, which every clamped index is): l added to the bits of
/// 1.5·2^23 is the float 1.5·2^23 + l exactly, and subtracting 1.5·2^23 is exact. The standard library's
/// `SIMD8<Float>(SIMD8<Int32>)` is a generic that was not inlined here: a call per conversion, 7% of Q6_K's time.
@inline(__always)
func floatLanes(_ l: IndexLanes) -> FloatLanes {
    unsafeBitCast(l &+ 0x4B40_0000, to: FloatLanes.self) - FloatLanes(repeating: 12582912.0)
}

/// `abs` of each lane (clears the sign bit, as fabsf does).
@inline(__always)
func magnitudeLanes(_ v: FloatLanes) -> FloatLanes {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: FloatLanes.self)
}

/// Whether any of the `count` (a multiple of 8) floats at `x` is a NaN.
@inline(__always)
func hasNaN(_ x: UnsafePointer<Float>, count: Int) -> Bool {
    var nan = SIMDMask<IndexLanes>(repeating: false)
    for i in stride(from: 0, to: count, by: 8) {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: FloatLanes.self)
        nan .|= v .!= v
    }
    return any(nan)
}

/// Whether any of the 256 floats of a super-block at `x` is a NaN.
@inline(__always)
func superBlockHasNaN(_ x: UnsafePointer<Float>) -> Bool { hasNaN(x, count: QK_K) }

/// Lane k of `xt[i]` = `x[k·stride + i]` for i in 0..<count: eight groups of `stride` floats side by side.
@inline(__always)
func gatherLanes(_ x: UnsafePointer<Float>, stride s: Int, count: Int, into xt: UnsafeMutablePointer<FloatLanes>) {
    for i in 0..<count {
        xt[i] = FloatLanes(x[i], x[s + i], x[2 * s + i], x[3 * s + i], x[4 * s + i], x[5 * s + i], x[6 * s + i], x[7 * s + i])
    }
}

/// `L[i]` = lane k of `Lt[i]` for i in 0..<count: one group's indices back out of the lanes (each fits `T`).
@inline(__always)
func extractLane<T: FixedWidthInteger>(_ k: Int, of Lt: UnsafePointer<IndexLanes>, count: Int, into L: UnsafeMutablePointer<T>) {
    for i in 0..<count { L[i] = T(truncatingIfNeeded: Lt[i][k]) }
}

/// Per lane, the element of largest magnitude (the first one on ties, signed, as the references keep it) and
/// whether the group is all but zero (its largest magnitude below `groupMaxEpsilon`): the opening of
/// makeQXQuants and makeQ3Quants.
@inline(__always)
func signedMaxLanes(_ n: Int, _ x: UnsafePointer<FloatLanes>) -> (max: FloatLanes, allZero: SIMDMask<IndexLanes>) {
    var max = FloatLanes()
    var amax = FloatLanes()
    for i in 0..<n {
        let ax = magnitudeLanes(x[i])
        let larger = ax .> amax
        amax.replace(with: ax, where: larger)
        max.replace(with: x[i], where: larger)
    }
    return (max, amax .< FloatLanes(repeating: groupMaxEpsilon))
}

/// `makeQXQuants(n, nmax, x, L, rmseType: 1, weights:)` for eight groups: lane k of `x[i]` is element i of group
/// k (and lane k of `weights[i]` its weight, or x² without weights). Writes lane k of `L[i]` as the reference
/// writes group k's `L[i]`, and returns the eight scales.
@inline(__always)
func makeQXQuantsLanes(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<FloatLanes>, _ L: UnsafeMutablePointer<IndexLanes>,
    weights: UnsafePointer<FloatLanes>? = nil
) -> FloatLanes {
    let (max, allZero) = signedMaxLanes(n, x)
    // The reference rewrites L from `iscale` whenever a step is better; the same L follows from the last accepted
    // `iscale` of each lane, so the lanes keep that and write L once at the end (a masked rewrite of L per accepted
    // step compiled to per-lane code: see the performance notes).
    var iscale = FloatLanes(repeating: Float(-nmax)) / max
    var bestIscale = iscale
    var sumlx = FloatLanes()
    var suml2 = FloatLanes()
    for i in 0..<n {
        let l = clampLanes(nearestIntLanes(iscale * x[i]), -nmax, nmax - 1)
        let w = weights?[i] ?? x[i] * x[i]
        let fl = floatLanes(l)
        sumlx += w * x[i] * fl
        suml2 += w * fl * fl
    }
    var scale = (sumlx / suml2).replacing(with: 0, where: suml2 .== FloatLanes())
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
        iscale = FloatLanes(repeating: -(Float(nmax) + 0.1 * Float(step))) / max
        sumlx = FloatLanes()
        suml2 = FloatLanes()
        for i in 0..<n {
            let l = clampLanes(nearestIntLanes(iscale * x[i]), -nmax, nmax - 1)
            let w = weights?[i] ?? x[i] * x[i]
            let fl = floatLanes(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        let better = (suml2 .> FloatLanes()) .& (sumlx * sumlx .> best * suml2)
        bestIscale.replace(with: iscale, where: better)
        scale.replace(with: sumlx / suml2, where: better)
        best.replace(with: scale * sumlx, where: better)
    }
    for i in 0..<n {
        let l = clampLanes(nearestIntLanes(bestIscale * x[i]), -nmax, nmax - 1) &+ nmax
        L[i] = l.replacing(with: 0, where: allZero)
    }
    return scale.replacing(with: 0, where: allZero)
}

/// `makeQ3Quants(n, nmax, x, L, doRMSE: true)` for eight groups, laid out as in `makeQXQuantsLanes`.
@inline(__always)
func makeQ3QuantsLanes(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<FloatLanes>, _ L: UnsafeMutablePointer<IndexLanes>
) -> FloatLanes {
    let (max, allZero) = signedMaxLanes(n, x)
    let iscale = FloatLanes(repeating: Float(-nmax)) / max
    var sumlx = FloatLanes()
    var suml2 = FloatLanes()
    for i in 0..<n {
        let l = clampLanes(nearestIntLanes(iscale * x[i]), -nmax, nmax - 1)
        L[i] = l
        let w = x[i] * x[i]
        let fl = floatLanes(l)
        sumlx += w * x[i] * fl
        suml2 += w * fl * fl
    }
    for _ in 0..<5 {
        var changed = SIMDMask<IndexLanes>(repeating: false)
        for i in 0..<n {
            let w = x[i] * x[i]
            let li = floatLanes(L[i])
            var slx = sumlx - w * x[i] * li
            let positive = slx .> FloatLanes()
            var sl2 = suml2 - w * li * li
            let newL = clampLanes(nearestIntLanes(x[i] * sl2 / slx), -nmax, nmax - 1)
            let differs = newL .!= L[i]
            let fl = floatLanes(newL)
            slx += w * x[i] * fl
            sl2 += w * fl * fl
            let accept = positive .& differs .& (sl2 .> FloatLanes()) .& (slx * slx * suml2 .> sumlx * sumlx * sl2)
            L[i].replace(with: newL, where: accept)
            sumlx.replace(with: slx, where: accept)
            suml2.replace(with: sl2, where: accept)
            changed .|= accept
        }
        if !any(changed) { break }
    }
    for i in 0..<n { L[i] = (L[i] &+ nmax).replacing(with: 0, where: allZero) }
    let scale = (sumlx / suml2).replacing(with: 0, where: .!(suml2 .> FloatLanes()))
    return scale.replacing(with: 0, where: allZero)
}

/// `makeQKX2Quants(n, nmax, x, weights, L, &theMin, Laux, …)` for eight groups, laid out as in
/// `makeQXQuantsLanes` (`nstep` ≥ 1). `Laux` is scratch for `n` lanes. Returns the scales and the negated minimums.
@inline(__always)
func makeQKX2QuantsLanes(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<FloatLanes>, _ weights: UnsafePointer<FloatLanes>,
    _ L: UnsafeMutablePointer<IndexLanes>, _ Laux: UnsafeMutablePointer<IndexLanes>,
    rmin: Float, rdelta: Float, nstep: Int, useMAD: Bool
) -> (scale: FloatLanes, theMin: FloatLanes) {
    var min = x[0]
    var max = x[0]
    var sumW = weights[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
        min.replace(with: x[i], where: x[i] .< min)
        max.replace(with: x[i], where: x[i] .> max)
        let w = weights[i]
        sumW += w
        sumX += w * x[i]
    }
    min.replace(with: 0, where: min .> FloatLanes())
    let flat = max .== min
    let flatMin = min
    var iscale = FloatLanes(repeating: Float(nmax)) / (max - min)
    var scale = 1 / iscale
    var bestError = FloatLanes()
    // As in makeQXQuantsLanes, L is written once at the end from the `iscale` and `min` that produced each lane's
    // accepted indices, not copied from Laux under a mask after each accepted step.
    var bestIscale = iscale
    var bestShift = min
    for i in 0..<n {
        let l = clampLanes(nearestIntLanes(iscale * (x[i] - min)), 0, nmax)
        var diff = scale * floatLanes(l) + min - x[i]
        diff = useMAD ? magnitudeLanes(diff) : diff * diff
        bestError += weights[i] * diff
    }
    for step in 0...nstep {
        iscale = FloatLanes(repeating: rmin + rdelta * Float(step) + Float(nmax)) / (max - min)
        var sumL = FloatLanes()
        var sumL2 = FloatLanes()
        var sumXL = FloatLanes()
        for i in 0..<n {
            let l = clampLanes(nearestIntLanes(iscale * (x[i] - min)), 0, nmax)
            Laux[i] = l
            let w = weights[i]
            let fl = floatLanes(l)
            sumL += w * fl
            sumL2 += w * fl * fl
            sumXL += w * fl * x[i]
        }
        let D = sumW * sumL2 - sumL * sumL
        let positive = D .> FloatLanes()
        if !any(positive) { continue }
        var thisScale = (sumW * sumXL - sumX * sumL) / D
        var thisMin = (sumL2 * sumX - sumL * sumXL) / D
        let minAboveZero = thisMin .> FloatLanes()
        thisMin.replace(with: 0, where: minAboveZero)
        thisScale.replace(with: sumXL / sumL2, where: minAboveZero)
        var curError = FloatLanes()
        for i in 0..<n {
            var diff = thisScale * floatLanes(Laux[i]) + thisMin - x[i]
            diff = useMAD ? magnitudeLanes(diff) : diff * diff
            curError += weights[i] * diff
        }
        let better = positive .& (curError .< bestError)
        bestIscale.replace(with: iscale, where: better)
        bestShift.replace(with: min, where: better)
        bestError.replace(with: curError, where: better)
        scale.replace(with: thisScale, where: better)
        min.replace(with: thisMin, where: better)
    }
    for i in 0..<n {
        let l = clampLanes(nearestIntLanes(bestIscale * (x[i] - bestShift)), 0, nmax)
        L[i] = l.replacing(with: 0, where: flat)
    }
    if any(flat) {
        scale.replace(with: 0, where: flat)
        min.replace(with: flatMin, where: flat)
    }
    // The scalar `-min`: the standard library's SIMD negation is `0 - min`, which makes +0 of a +0 minimum where
    // the reference has −0 (Q4_1 and Q5_1 store the negated minimum's bits).
    return (scale, unsafeBitCast(unsafeBitCast(min, to: SIMD8<UInt32>.self) ^ 0x8000_0000, to: FloatLanes.self))
}

// MARK: - The fast paths the block formats share

/// A block format's reference quantizer (`quantize_row_*_ref`), used for super-blocks holding a NaN.
typealias SuperBlockReference = (_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) -> Void

/// The fast path of Q4_K and Q5_K (`makeQKX2Quants` over eight 32-element groups, each weighted by
/// av_x + |x| as the references weight them, with the format's `nmax`, `rmin` and `nstep`): the searched indices,
/// scales and mins of each super-block, with the largest scale and min, go to the format's `pack` (the reference's
/// own requantize-and-pack); a super-block holding a NaN goes through `reference`.
@inline(__always)
func quantizeQKX2SuperBlocks(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int, bytes: Int,
    nmax: Int32, rmin: Float, nstep: Int, reference: SuperBlockReference,
    pack: (_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<UInt8>,
           _ mins: UnsafeMutablePointer<Float>, _ scales: UnsafeMutablePointer<Float>, _ maxScale: Float, _ maxMin: Float) -> Void
) {
    withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 64) { floatLanes in
        withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 64) { indexLanes in
            withKQuantScratch { scratch in
                let (xt, wt) = (floatLanes.baseAddress!, floatLanes.baseAddress! + 32)
                let (Lt, Lauxt) = (indexLanes.baseAddress!, indexLanes.baseAddress! + 32)
                let (L, mins, scales) = (scratch.L, scratch.mins, scratch.scales)
                for i in 0..<blocks {
                    let xb = x + i * QK_K
                    if superBlockHasNaN(xb) {
                        reference(xb, y + i * bytes, 1)
                        continue
                    }
                    gatherLanes(xb, stride: 32, count: 32, into: xt)
                    var sumX2 = FloatLanes()
                    for l in 0..<32 { sumX2 += xt[l] * xt[l] }
                    let avX = squareRootLanes(sumX2 / 32)
                    for l in 0..<32 { wt[l] = avX + magnitudeLanes(xt[l]) }
                    let (s, m) = makeQKX2QuantsLanes(
                        32, nmax, xt, wt, Lt, Lauxt, rmin: rmin, rdelta: 0.1, nstep: nstep, useMAD: false)
                    var maxScale: Float = 0
                    var maxMin: Float = 0
                    for j in 0..<QK_K / 32 {
                        scales[j] = s[j]
                        mins[j] = m[j]
                        if scales[j] > maxScale { maxScale = scales[j] }
                        if mins[j] > maxMin { maxMin = mins[j] }
                        extractLane(j, of: Lt, count: 32, into: L + 32 * j)
                    }
                    pack(xb, y + i * bytes, L, mins, scales, maxScale, maxMin)
                }
            }
        }
    }
}

/// The fast path of Q3_K and Q6_K: a super-block's sixteen 16-element groups searched as two groups of eight lanes
/// by `search` (makeQ3QuantsLanes or makeQXQuantsLanes with the format's nmax); the indices, the scales, the scale
/// of largest magnitude (signed, the first on ties) and that magnitude go to the format's `pack`; a super-block
/// holding a NaN goes through `reference`.
@inline(__always)
func quantizeSixteenGroupSuperBlocks(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int, bytes: Int,
    search: (_ x: UnsafePointer<FloatLanes>, _ L: UnsafeMutablePointer<IndexLanes>) -> FloatLanes,
    reference: SuperBlockReference,
    pack: (_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ L: UnsafeMutablePointer<Int8>,
           _ scales: UnsafeMutablePointer<Float>, _ maxScale: Float, _ maxAbsScale: Float) -> Void
) {
    withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 16) { xt in
        withUnsafeTemporaryAllocation(of: IndexLanes.self, capacity: 16) { Lt in
            withUnsafeTemporaryAllocation(of: Int8.self, capacity: QK_K) { L in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: QK_K / 16) { scales in
                    let (xt, Lt, L, scales) = (xt.baseAddress!, Lt.baseAddress!, L.baseAddress!, scales.baseAddress!)
                    for i in 0..<blocks {
                        let xb = x + i * QK_K
                        if superBlockHasNaN(xb) {
                            reference(xb, y + i * bytes, 1)
                            continue
                        }
                        for g in 0..<2 {
                            gatherLanes(xb + 128 * g, stride: 16, count: 16, into: xt)
                            let s = search(xt, Lt)
                            for k in 0..<8 {
                                scales[8 * g + k] = s[k]
                                extractLane(k, of: Lt, count: 16, into: L + 128 * g + 16 * k)
                            }
                        }
                        var maxScale: Float = 0
                        var maxAbsScale: Float = 0
                        for j in 0..<QK_K / 16 {
                            let absScale = abs(scales[j])
                            if absScale > maxAbsScale {
                                maxAbsScale = absScale
                                maxScale = scales[j]
                            }
                        }
                        pack(xb, y + i * bytes, L, scales, maxScale, maxAbsScale)
                    }
                }
            }
        }
    }
}
