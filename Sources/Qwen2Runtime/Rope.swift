#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles

/// Rotary position embedding in the rotate-half layout (llama.cpp's NEOX): dimension i of a head pairs with
/// i + headDim/2. Frequencies are computed as transformers computes them, in float32:
/// `inv_freq[i] = 1 / base^(2i/dim)`, and for YaRN (`_compute_yarn_parameters`) a blend of interpolated
/// (`/ factor`) and extrapolated frequencies by a linear ramp between the correction dimensions of beta_fast and
/// beta_slow, with cos and sin scaled by the attention factor (default 0.1·ln(factor) + 1).
struct RotaryEmbedding: Sendable {
    let headDim: Int
    /// [headDim/2] inverse frequencies.
    let inverseFrequencies: [Float]
    /// Multiplies cos and sin (1 without YaRN).
    let attentionScaling: Float

    init(headDim: Int, base: Double, scaling: RopeScaling?, contextLength: Int, path: String) throws(RuntimeError) {
        self.headDim = headDim
        let half = headDim / 2
        let fBase = Float(base)
        // base ** (arange(0, dim, 2) / dim) in float32, as torch computes it
        let posFreqs = (0..<half).map { powf(fBase, Float(2 * $0) / Float(headDim)) }
        guard let scaling, scaling.type != "none", scaling.type != "default" else {
            inverseFrequencies = posFreqs.map { 1 / $0 }
            attentionScaling = 1
            return
        }
        switch scaling.type {
        case "linear":
            let factor = Float(scaling.factor)
            inverseFrequencies = posFreqs.map { 1 / $0 / factor }
            attentionScaling = 1
        case "yarn":
            let factor = scaling.factor
            let original = Double(scaling.originalContextLength ?? contextLength)
            let betaFast = scaling.betaFast ?? 32, betaSlow = scaling.betaSlow ?? 1
            func correctionDim(_ rotations: Double) -> Double {
                Double(headDim) * log(original / (rotations * 2 * Double.pi)) / (2 * log(base))
            }
            let low = max(floor(correctionDim(betaFast)), 0)
            let high = min(ceil(correctionDim(betaSlow)), Double(headDim - 1))
            let lowF = Float(low), highF = Float(low == high ? high + 0.001 : high)
            let fFactor = Float(factor)
            inverseFrequencies = (0..<half).map { i in
                let extrapolation = 1 / posFreqs[i]
                let interpolation = 1 / (fFactor * posFreqs[i])
                let ramp = min(max((Float(i) - lowF) / (highF - lowF), 0), 1)
                let extrapolationFactor = 1 - ramp
                return interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor
            }
            if let a = scaling.attentionFactor {
                attentionScaling = Float(a)
            } else {
                attentionScaling = factor <= 1 ? 1 : Float(0.1 * log(factor) + 1)
            }
        default:
            throw .unsupported(path: path, reason: "rope scaling type \"\(scaling.type)\" is not supported (supported: none, linear, yarn)")
        }
    }

    /// Fills `cos` and `sin` ([headDim/2] each) for `position`.
    func table(position: Int, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in 0..<(headDim / 2) {
            let angle = inverseFrequencies[i] * p
            c[i] = cosf(angle) * attentionScaling
            s[i] = sinf(angle) * attentionScaling
        }
    }

    /// Rotates `heads` consecutive heads of `headDim` floats in place: x' = x·cos + rotate_half(x)·sin.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                v[i] = a * c[i] - b * s[i]
                v[i + half] = b * c[i] + a * s[i]
            }
        }
    }
}
