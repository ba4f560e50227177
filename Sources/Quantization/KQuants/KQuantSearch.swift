// The scale searches the K-quant reference quantizers share, from ggml-quants.c. Each follows ggml's loop order
// and float32 operation order exactly; that order is what makes the chosen indices (and so the bytes) match.
// These are the readable references; the block formats' fast paths run the same searches eight groups at a time
// in KQuantSearchLanes.swift.

/// Super-block size of every K-quant.
let QK_K = 256

/// ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is treated as all zeros.
let groupMaxEpsilon: Float = 1e-15

/// ggml `make_qx_quants(n, nmax, x, L, rmse_type, qw = NULL)` (Q6_K uses n = 16, nmax = 32, rmse_type = 1):
/// a symmetric scale for `n` values, chosen among `nmax + 0.1·is` (is = −9...9) by weighted least squares.
/// Writes `L[i]` in 0..<2·nmax (biased by nmax) and returns the scale. An all-zero group gets L = 0 (unbiased)
/// and scale 0.
func makeQXQuants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>, rmseType: Int
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
        let w = qxWeight(x[i], rmseType)
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
            let w = qxWeight(x[i], rmseType)
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

/// The weight `make_qx_quants` gives a value for each rmse_type (with no importance weights).
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
