// The scale searches the K-quant reference quantizers share, from ggml-quants.c. Each follows ggml's loop order
// and float32 operation order exactly; that order is what makes the chosen indices (and so the bytes) match.
// These are the readable references; the block formats' fast paths run the same searches eight groups at a time
// in KQuantSearchLanes.swift.

/// Super-block size of every K-quant.
let QK_K = 256

/// ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is treated as all zeros.
let groupMaxEpsilon: Float = 1e-15

/// ggml `make_qx_quants(n, nmax, x, L, rmse_type, qw)` (Q6_K uses n = 16, nmax = 32, rmse_type = 1; the weighted
/// Q4_0, Q5_0 and Q3_K quantizers pass importance weights as `qw`): a symmetric scale for `n` values, chosen among
/// `nmax + 0.1·is` (is = −9...9) by weighted least squares, each value weighted by `qw[i]`, or without `qw` by
/// the rmse_type's function of the value. Writes `L[i]` in 0..<2·nmax (biased by nmax) and returns the scale.
/// An all-zero group gets L = 0 (unbiased) and scale 0.
func makeQXQuants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>, rmseType: Int,
    weights qw: UnsafePointer<Float>? = nil
) -> Float {
    var max: Float = 0
    var amax: Float = 0
    for i in 0..<n {
        let ax = abs(x[i])
        if ax > amax {
            amax = ax
            max = x[i]
        }
    }
    if amax < groupMaxEpsilon {  // all zero
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    var iscale = Float(-nmax) / max
    if rmseType == 0 {
        for i in 0..<n {
            let l = nearestInt(iscale * x[i])
            L[i] = Int8(truncatingIfNeeded: nmax + clamp(l, -nmax, nmax - 1))
        }
        return 1 / iscale
    }
    let returnEarly = rmseType < 0
    let rmseType = abs(rmseType)
    var sumlx: Float = 0
    var suml2: Float = 0
    for i in 0..<n {
        let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
        L[i] = Int8(truncatingIfNeeded: l + nmax)
        let w = qw?[i] ?? qxWeight(x[i], rmseType)
        let fl = Float(l)
        sumlx += w * x[i] * fl
        suml2 += w * fl * fl
    }
    var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
    if returnEarly { return suml2 > 0 ? 0.5 * (scale + 1 / iscale) : 1 / iscale }
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
        iscale = -(Float(nmax) + 0.1 * Float(step)) / max
        sumlx = 0
        suml2 = 0
        for i in 0..<n {
            let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
            let w = qw?[i] ?? qxWeight(x[i], rmseType)
            let fl = Float(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        if suml2 > 0 && sumlx * sumlx > best * suml2 {
            for i in 0..<n {
                let l = nearestInt(iscale * x[i])
                L[i] = Int8(truncatingIfNeeded: nmax + clamp(l, -nmax, nmax - 1))
            }
            scale = sumlx / suml2
            best = scale * sumlx
        }
    }
    return scale
}

/// The weight `make_qx_quants` gives a value for each rmse_type when it has no importance weights.
@inline(__always)
private func qxWeight(_ xi: Float, _ rmseType: Int) -> Float {
    switch rmseType {
    case 1: return xi * xi
    case 2: return 1
    case 3: return abs(xi)
    default: return abs(xi).squareRoot()
    }
}

/// ggml `make_q3_quants(n, nmax, x, L, do_rmse)` (Q3_K uses n = 16, nmax = 4, do_rmse = true): a symmetric
/// scale refined by up to five passes of coordinate descent on x²-weighted least squares. Writes `L[i]` in
/// 0..<2·nmax and returns the scale; an all-zero group gets L = 0 (unbiased) and scale 0.
func makeQ3Quants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>, doRMSE: Bool
) -> Float {
    var max: Float = 0
    var amax: Float = 0
    for i in 0..<n {
        let ax = abs(x[i])
        if ax > amax {
            amax = ax
            max = x[i]
        }
    }
    if amax < groupMaxEpsilon {  // all zero
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    let iscale = Float(-nmax) / max
    if doRMSE {
        var sumlx: Float = 0
        var suml2: Float = 0
        for i in 0..<n {
            let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
            L[i] = Int8(truncatingIfNeeded: l)
            let w = x[i] * x[i]
            let fl = Float(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        for _ in 0..<5 {
            var changed = 0
            for i in 0..<n {
                let w = x[i] * x[i]
                let li = Float(L[i])
                var slx = sumlx - w * x[i] * li
                if slx > 0 {
                    var sl2 = suml2 - w * li * li
                    let newL = clamp(nearestInt(x[i] * sl2 / slx), -nmax, nmax - 1)
                    if newL != Int(L[i]) {
                        let fl = Float(newL)
                        slx += w * x[i] * fl
                        sl2 += w * fl * fl
                        if sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                            L[i] = Int8(truncatingIfNeeded: newL)
                            sumlx = slx
                            suml2 = sl2
                            changed += 1
                        }
                    }
                }
            }
            if changed == 0 { break }
        }
        for i in 0..<n { L[i] = L[i] &+ Int8(truncatingIfNeeded: nmax) }
        return suml2 > 0 ? sumlx / suml2 : 0
    }
    for i in 0..<n {
        let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
        L[i] = Int8(truncatingIfNeeded: l + nmax)
    }
    return 1 / iscale
}

/// ggml `make_qkx2_quants(n, nmax, x, weights, L, &the_min, Laux, rmin, rdelta, nstep, use_mad)` (Q2_K, Q4_K,
/// Q5_K): an asymmetric scale and minimum for `n` values, searched over `nstep + 1` candidate scales by weighted
/// least squares, keeping the candidate with the smallest weighted error (absolute with `useMAD`, else squared).
/// Writes `L[i]` in 0...nmax and `theMin` (the negated minimum, ≥ 0), and returns the scale. `Laux` is scratch.
///
/// It is also ggml's `make_qkx3_quants` with weights (the importance-weighted Q4_1, Q5_1, Q2_K, Q4_K and Q5_K
/// call it with rmin −0.9, rdelta 0.05, nstep 36): the two differ only in testing `max <= min` where this tests
/// `max == min`, and the tests agree, since min ≤ max unless `x[0]` is NaN, when both are NaN and both false.
func makeQKX2Quants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
    _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ Laux: UnsafeMutablePointer<UInt8>,
    rmin: Float, rdelta: Float, nstep: Int, useMAD: Bool
) -> Float {
    var min = x[0]
    var max = x[0]
    var sumW = weights[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
        if x[i] < min { min = x[i] }
        if x[i] > max { max = x[i] }
        let w = weights[i]
        sumW += w
        sumX += w * x[i]
    }
    if min > 0 { min = 0 }
    if max == min {
        for i in 0..<n { L[i] = 0 }
        theMin = -min
        return 0
    }
    var iscale = Float(nmax) / (max - min)
    var scale = 1 / iscale
    var bestError: Float = 0
    for i in 0..<n {
        let l = nearestInt(iscale * (x[i] - min))
        L[i] = UInt8(truncatingIfNeeded: clamp(l, 0, nmax))
        var diff = scale * Float(L[i]) + min - x[i]
        diff = useMAD ? abs(diff) : diff * diff
        let w = weights[i]
        bestError += w * diff
    }
    if nstep < 1 {
        theMin = -min
        return scale
    }
    for step in 0...nstep {
        iscale = (rmin + rdelta * Float(step) + Float(nmax)) / (max - min)
        var sumL: Float = 0
        var sumL2: Float = 0
        var sumXL: Float = 0
        for i in 0..<n {
            let l = clamp(nearestInt(iscale * (x[i] - min)), 0, nmax)
            Laux[i] = UInt8(truncatingIfNeeded: l)
            let w = weights[i]
            let fl = Float(l)
            sumL += w * fl
            sumL2 += w * fl * fl
            sumXL += w * fl * x[i]
        }
        let D = sumW * sumL2 - sumL * sumL
        if D > 0 {
            var thisScale = (sumW * sumXL - sumX * sumL) / D
            var thisMin = (sumL2 * sumX - sumL * sumXL) / D
            if thisMin > 0 {
                thisMin = 0
                thisScale = sumXL / sumL2
            }
            var curError: Float = 0
            for i in 0..<n {
                var diff = thisScale * Float(Laux[i]) + thisMin - x[i]
                diff = useMAD ? abs(diff) : diff * diff
                let w = weights[i]
                curError += w * diff
            }
            if curError < bestError {
                for i in 0..<n { L[i] = Laux[i] }
                bestError = curError
                scale = thisScale
                min = thisMin
            }
        }
    }
    theMin = -min
    return scale
}

/// ggml `make_qp_quants(n, nmax, x, L, quant_weights)` (the importance-weighted Q2_K, Q4_K and Q5_K, on their
/// sub-block scales and minimums, weighted by each sub-block's total weight): a scale for `n` non-negative values,
/// the best of `nmax + 0.1·is` (is = −4...4) by weighted squared error, then refined by up to five passes of
/// coordinate descent. Writes `L[i]` (at most nmax; ggml clamps no lower bound, so a negative value wraps as its
/// `uint8_t` does) and returns the scale. A group whose maximum is below `groupMaxEpsilon` gets L = 0 and scale 0.
func makeQPQuants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>,
    _ quantWeights: UnsafePointer<Float>
) -> Float {
    var max: Float = 0
    for i in 0..<n { max = max > x[i] ? max : x[i] }  // ggml's MAX macro, NaN and all
    if max < groupMaxEpsilon {  // all zero
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    var iscale = Float(nmax) / max
    for i in 0..<n { L[i] = UInt8(truncatingIfNeeded: nearestInt(iscale * x[i])) }
    let scale = 1 / iscale
    var bestMSE: Float = 0
    for i in 0..<n {
        let diff = x[i] - scale * Float(L[i])
        let w = quantWeights[i]
        bestMSE += w * diff * diff
    }
    for step in -4...4 where step != 0 {
        let iscaleStep = (0.1 * Float(step) + Float(nmax)) / max
        let scaleStep = 1 / iscaleStep
        var mse: Float = 0
        for i in 0..<n {
            let l = Swift.min(nmax, nearestInt(iscaleStep * x[i]))
            let diff = x[i] - scaleStep * Float(l)
            let w = quantWeights[i]
            mse += w * diff * diff
        }
        if mse < bestMSE {
            bestMSE = mse
            iscale = iscaleStep
        }
    }
    var sumlx: Float = 0
    var suml2: Float = 0
    for i in 0..<n {
        let l = Swift.min(nmax, nearestInt(iscale * x[i]))
        L[i] = UInt8(truncatingIfNeeded: l)
        let w = quantWeights[i]
        let fl = Float(l)
        sumlx += w * x[i] * fl
        suml2 += w * fl * fl
    }
    for _ in 0..<5 {
        var changed = 0
        for i in 0..<n {
            let w = quantWeights[i]
            let li = Float(L[i])
            var slx = sumlx - w * x[i] * li
            var sl2 = suml2 - w * li * li
            if slx > 0 && sl2 > 0 {
                let newL = Swift.min(nmax, nearestInt(x[i] * sl2 / slx))
                if newL != Int(L[i]) {
                    let fl = Float(newL)
                    slx += w * x[i] * fl
                    sl2 += w * fl * fl
                    if slx * slx * suml2 > sumlx * sumlx * sl2 {
                        L[i] = UInt8(truncatingIfNeeded: newL)
                        sumlx = slx
                        suml2 = sl2
                        changed += 1
                    }
                }
            }
        }
        if changed == 0 { break }
    }
    return suml2 > 0 ? sumlx / suml2 : 0
}

/// ggml `get_scale_min_k4`: sub-block `j`'s 6-bit scale and min from the 12-byte packing of Q4_K and Q5_K.
/// Bytes 0–3 hold scales 0–3 (low 6 bits) and the top 2 bits of scales 4–7; bytes 4–7 the same for the mins;
/// bytes 8–11 the low nibbles of scales 4–7 and, in their high nibbles, of mins 4–7.
@inline(__always)
func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (loadByte(q, j) & 63, loadByte(q, j + 4) & 63)
    }
    let scale = (loadByte(q, j + 4) & 0xF) | ((loadByte(q, j - 4) >> 6) << 4)
    let min = (loadByte(q, j + 4) >> 4) | ((loadByte(q, j) >> 6) << 4)
    return (scale, min)
}

/// The 12-byte packing `scaleMinK4` reads, as Q4_K's and Q5_K's quantizers write it.
@inline(__always)
func packScaleMinK4(_ j: Int, scale ls: UInt8, min lm: UInt8, _ q: UnsafeMutableRawPointer) {
    if j < 4 {
        storeByte(ls, q, j)
        storeByte(lm, q, j + 4)
    } else {
        storeByte((ls & 0xF) | ((lm & 0xF) << 4), q, j + 4)
        storeByte(loadByte(q, j - 4) | ((ls >> 4) << 6), q, j - 4)
        storeByte(loadByte(q, j) | ((lm >> 4) << 6), q, j)
    }
}
