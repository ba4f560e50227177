import ModelFiles
import Testing
import TestSupport

@testable import Quantization

/// The K-quant fast paths (the scale searches run eight groups to a SIMD register, KQuantSearchLanes.swift) against
/// their references, byte for byte, on rows built to reach every branch of the searches: ordinary distributions,
/// all-zero, flat and one-signed groups, groups below the 1e-15 cut-off, subnormals, huge values, ties, sparse rows,
/// neighbouring groups of very different magnitudes, and arbitrary bit patterns (NaN and inf included).
@Suite struct KQuantFastPathTests {
    static let types: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K]
    static let kinds = 18
    static let blocksPerRow = 48

    static func row(kind: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let n = QK_K * blocksPerRow
        return (0..<n).map { i -> Float in
            let u = Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1
            switch kind {
            case 0: return u
            case 1: return (0..<4).map { _ in Float(rng.next() >> 40) / Float(1 << 24) - 0.5 }.reduce(0, +) * 0.05  // near-normal
            case 2: return u * 1e-16  // below the all-zero cut-off in most groups
            case 3: return u * Float(bitPattern: 0x0010_0000)  // subnormal
            case 4: return u * 3e38
            case 5: return 0
            case 6: return 0.25  // flat, positive
            case 7: return -1.5  // flat, negative
            case 8: return rng.next() % 23 == 0 ? u : 0  // sparse: many all-zero groups
            case 9: return abs(u) + 1  // all positive: the minimum is clamped to 0
            case 10: return (u * 16).rounded() / 2  // ties for nearest_int
            case 11: return u * Float.pow10((i / 16) % 9 - 4)  // groups of very different magnitude
            case 12: return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))  // anything at all
            case 13: return i % 3 == 0 ? -0.0 : u * 1e-3
            case 14: return Float(Int(rng.next() % 9) - 4)  // small integers
            case 15: return i % 16 == 5 ? u * 1e4 : u * 1e-2  // one outlier per group
            case 16: return i % 256 == 17 ? .nan : u
            default: return i % 32 == 9 ? .infinity : u
            }
        }
    }

    @Test(arguments: types)
    func fastEqualsReference(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        var rows: [(String, [Float])] = [("golden inputs", Array(Golden.inputs[0..<(Golden.inputs.count / QK_K * QK_K)]))]
        for kind in 0..<Self.kinds {
            for seed: UInt64 in [1, 2] { rows.append(("kind \(kind) seed \(seed)", Self.row(kind: kind, seed: seed * 1000 + UInt64(kind)))) }
        }
        for (name, row) in rows {
            let fast = try format.quantize(row)
            let reference = try format.quantize(row, reference: true)
            let diff = firstByteDifference(fast, reference, typeSize: format.typeSize)
            #expect(diff == nil, "\(type) \(name): \(diff ?? "")")
        }
    }
}

private extension Float {
    static func pow10(_ e: Int) -> Float {
        var v: Float = 1
        for _ in 0..<abs(e) { v *= 10 }
        return e < 0 ? 1 / v : v
    }
}
