// Float32 vector primitives of the forward pass: plain loops over flat buffers, SIMD in the innermost loop only.
// Every reduction accumulates in float32 (as transformers' float32 model does); lane order differs from PyTorch's,
// which moves results by a few ulps, far inside the 1e-5 budget.

@inline(__always)
func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

enum VectorMath {
    /// Σ a[i]·b[i] over `n` floats.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= n {
            s0 = s0.addingProduct(load8(a, i), load8(b, i))
            s1 = s1.addingProduct(load8(a, i + 8), load8(b, i + 8))
            s2 = s2.addingProduct(load8(a, i + 16), load8(b, i + 16))
            s3 = s3.addingProduct(load8(a, i + 24), load8(b, i + 24))
            i += 32
        }
        while i + 8 <= n {
            s0 = s0.addingProduct(load8(a, i), load8(b, i))
            i += 8
        }
        var s = ((s0 + s1) + (s2 + s3)).sum()
        while i < n {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }

    /// The dot products of four rows with one vector x (`n` floats each), x loaded once for all four.
    @inline(__always)
    static func dot4(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>,
                     _ r3: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float, Float, Float) {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let x0 = load8(x, i), x1 = load8(x, i + 8)
            a0 = a0.addingProduct(load8(r0, i), x0)
            a1 = a1.addingProduct(load8(r1, i), x0)
            a2 = a2.addingProduct(load8(r2, i), x0)
            a3 = a3.addingProduct(load8(r3, i), x0)
            b0 = b0.addingProduct(load8(r0, i + 8), x1)
            b1 = b1.addingProduct(load8(r1, i + 8), x1)
            b2 = b2.addingProduct(load8(r2, i + 8), x1)
            b3 = b3.addingProduct(load8(r3, i + 8), x1)
            i += 16
        }
        var s0 = (a0 + b0).sum(), s1 = (a1 + b1).sum(), s2 = (a2 + b2).sum(), s3 = (a3 + b3).sum()
        while i < n {
            s0 += r0[i] * x[i]
            s1 += r1[i] * x[i]
            s2 += r2[i] * x[i]
            s3 += r3[i] * x[i]
            i += 1
        }
        return (s0, s1, s2, s3)
    }

    /// The dot products of four rows with two vectors x and z (`n` floats each): eight sums in eight registers,
    /// each row vector loaded once for both tokens and each token vector once for all four rows (six loads per
    /// eight FMAs instead of dot4's ten per eight).
    @inline(__always)
    static func dot4x2(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>,
                       _ r3: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ n: Int)
        -> (SIMD4<Float>, SIMD4<Float>) {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let xv = load8(x, i), zv = load8(z, i)
            let w0 = load8(r0, i), w1 = load8(r1, i), w2 = load8(r2, i), w3 = load8(r3, i)
            a0 = a0.addingProduct(w0, xv)
            b0 = b0.addingProduct(w0, zv)
            a1 = a1.addingProduct(w1, xv)
            b1 = b1.addingProduct(w1, zv)
            a2 = a2.addingProduct(w2, xv)
            b2 = b2.addingProduct(w2, zv)
            a3 = a3.addingProduct(w3, xv)
            b3 = b3.addingProduct(w3, zv)
            i += 8
        }
        var xs = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
        var zs = SIMD4<Float>(b0.sum(), b1.sum(), b2.sum(), b3.sum())
        while i < n {
            let xi = x[i], zi = z[i]
            xs += SIMD4<Float>(r0[i], r1[i], r2[i], r3[i]) * xi
            zs += SIMD4<Float>(r0[i], r1[i], r2[i], r3[i]) * zi
            i += 1
        }
        return (xs, zs)
    }

    /// y[i] += a·x[i].
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let av = SIMD8<Float>(repeating: a)
        var i = 0
        while i + 8 <= n {
            store8(load8(y, i).addingProduct(av, load8(x, i)), y, i)
            i += 8
        }
        while i < n {
            y[i] += a * x[i]
            i += 1
        }
    }

    /// RMSNorm (transformers' Qwen2RMSNorm): out = x / sqrt(mean(x²) + eps) · weight.
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                        out: UnsafeMutablePointer<Float>, _ n: Int) {
        let meanSquare = dot(x, x, n) / Float(n)
        let scale = 1 / (meanSquare + eps).squareRoot()
        for i in 0..<n { out[i] = weight[i] * (x[i] * scale) }
    }

    /// x[i] = silu(x[i]) · y[i], silu(v) = v / (1 + e^−v).
    static func siluMultiply(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let v = x[i]
            x[i] = v / (1 + expf(-v)) * y[i]
        }
    }

    /// Softmax in place over `n` floats (max subtracted first).
    static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        guard n > 0 else { return }
        var m = x[0]
        for i in 1..<n where x[i] > m { m = x[i] }
        var s: Float = 0
        for i in 0..<n {
            let e = expf(x[i] - m)
            x[i] = e
            s += e
        }
        let inv = 1 / s
        for i in 0..<n { x[i] *= inv }
    }

    /// Whether all `n` floats are finite.
    static func allFinite(_ x: UnsafePointer<Float>, _ n: Int) -> Bool {
        // x − x is 0 for finite x and NaN for NaN and ±inf; any NaN makes the sum NaN.
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let v = load8(x, i)
            acc += v - v
            i += 8
        }
        var s = acc.sum()
        while i < n {
            s += x[i] - x[i]
            i += 1
        }
        return s == 0
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
