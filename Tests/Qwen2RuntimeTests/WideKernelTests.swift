// The AVX-512 batch kernels (Sources/CRuntimeKernels) against a float64 reference on every tile shape and remainder,
// and whole sessions on both kernel choices against transformers' goldens. Skipped where the CPU has no AVX-512
// (the portable kernels are what every other test runs there).

import CRuntimeKernels
import Foundation
import ModelFiles
import Quantization
import Testing
import TestSupport
import Verification
@testable import Qwen2Runtime

@Suite struct WideKernelTests {
    static let usable = KernelChoice.avx512Usable

    /// Rows 1-19 (8-row tiles, 4-row tiles, single rows), columns 1-2,100 (masked tails, column blocks of about
    /// 1,024 with partial sums carried between them), batches 1-10 (3-token and 4-token tiles and their remainders).
    @Test(.enabled(if: KernelChoice.avx512Usable)) func matchesAFloat64Reference() {
        Self.gemmMatchesFloat64(seed: 5, shapes: [(8, 16, 3), (19, 37, 10), (16, 1024, 6), (13, 2100, 7), (1, 1, 1), (9, 1040, 4),
                                                  (4, 17, 5), (24, 896, 9), (7, 4864, 2), (8, 4864, 1)]) {
            qwenkit_gemm_f32_avx512($0, $1, $2, $3, $4, $5, $6)
        }
    }

    /// `gemm` (w, rows, n, x, batch, y, y stride: a batch path's tiles) on random rows and tokens of each (rows, n, batch)
    /// against float64 sums: within a few ulps of the sum of magnitudes (float32 accumulation), nothing written past
    /// the rows of a y row.
    static func gemmMatchesFloat64(seed: UInt64, shapes: [(Int, Int, Int)],
                                   _ gemm: (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void) {
        var rng = SplitMix64(seed: seed)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Double(rng.next() % 2_000_001) / 1_000_000 - 1) } }
        for (rows, n, batch) in shapes {
            let w = values(rows * n), x = values(batch * n)
            let stride = rows + 3
            var y = [Float](repeating: .nan, count: batch * stride)
            gemm(w, rows, n, x, batch, &y, stride)
            for t in 0..<batch {
                for r in 0..<rows {
                    var exact = 0.0, magnitude = 0.0
                    for c in 0..<n {
                        exact += Double(w[r * n + c]) * Double(x[t * n + c])
                        magnitude += abs(Double(w[r * n + c]) * Double(x[t * n + c]))
                    }
                    #expect(abs(Double(y[t * stride + r]) - exact) <= 1e-6 * magnitude + 1e-7,
                            "rows \(rows), n \(n), batch \(batch): y[\(t)][\(r)] = \(y[t * stride + r]), exact \(exact)")
                }
                for r in rows..<stride { #expect(y[t * stride + r].isNaN, "wrote past the rows") }
            }
        }
    }

    /// Every checkpoint's goldens through sessions on both kernel choices, prompts in steps of 64 and of 5 tokens:
    /// both within the float32 bound of transformers, and within float rounding of each other.
    @Test(.enabled(if: KernelChoice.avx512Usable), arguments: ["q2-untied", "q2-k256", "q2moe", "q2-swa"])
    func bothChoicesMatchTheGoldens(_ name: String) throws {
        let model = try Qwen2Model(path: Fixture.checkpoint(name))
        let goldens = try Fixture.fullGoldens(name).map { try GoldenLogits(path: $0) }
        for batch in [5, 64] {
            var logits: [KernelChoice: [Float]] = [:]
            for choice in [KernelChoice.best, .portable] {
                let session = try InferenceSession(model: model, capacity: goldens.map(\.count).max()!, threads: 2, maxBatch: batch,
                                                   kernels: choice)
                #expect(session.kernels == choice)
                var all: [Float] = []
                for golden in goldens {
                    session.reset()
                    var comparator = LogitComparator(golden: golden)
                    try session.evaluate(golden.tokens, logits: .all) { position, row in
                        try comparator.add(position: position, ours: row)
                        all += row
                    }
                    let c = try comparator.finish()
                    #expect(c.metrics.maxAbsError <= GoldenVerificationTests.float32Tolerance, "\(name) \(choice), steps of \(batch): \(c.metrics.maxAbsError)")
                }
                logits[choice] = all
            }
            let wide = try #require(logits[.best]), portable = try #require(logits[.portable])
            let worst = zip(wide, portable).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 5e-5, "\(name), steps of \(batch): the kernel choices differ by \(worst)")
        }
    }
}

extension WideKernelTests {
    /// The AVX-512 dot products of generation against dequantize-then-dot in float64, on rows of 1-20 blocks of
    /// quantized random values, and of 152 (4,864 columns for the 32-value blocks: past the 64 blocks whose scales the
    /// kernels convert at a time).
    @Test(.enabled(if: KernelChoice.avx512Usable), arguments: [GGMLType.f16, .bf16, .q8_0, .q4_0, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_NL, .iq4_XS])
    func dotsMatchDequantizeThenDot(_ type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type)), wide = try #require(kernel.wideDot)
        for blocks in [1, 2, 7, 20, 152] {
            let n = blocks * type.blockSize
            let weights = RowKernelTests.values(n, seed: UInt64(blocks), scale: 0.9), x = RowKernelTests.values(n, seed: 99, scale: 2)
            var stored = [UInt8](repeating: 0, count: try format.rowByteCount(elements: n))
            try weights.withUnsafeBufferPointer { w in try stored.withUnsafeMutableBytes { try format.quantizeRow(w, into: $0) } }
            var decoded = [Float](repeating: 0, count: n)
            stored.withUnsafeBytes { row in decoded.withUnsafeMutableBufferPointer { kernel.decode(row.baseAddress!, $0.baseAddress!, n) } }
            var exact = 0.0, magnitude = 0.0
            for i in 0..<n {
                exact += Double(decoded[i]) * Double(x[i])
                magnitude += abs(Double(decoded[i]) * Double(x[i]))
            }
            let ours = stored.withUnsafeBytes { row in x.withUnsafeBufferPointer { wide(row.baseAddress!, $0.baseAddress!, n) } }
            #expect(abs(Double(ours) - exact) <= 2e-6 * magnitude, "\(type) over \(blocks) blocks: \(ours), exact \(exact)")
        }
    }
}

extension WideKernelTests {
    /// `count` rows of `n` random values (RowKernelTests.values) stored in `format`, and the bytes per row.
    static func storedRows(_ format: BlockFormat, count: Int, n: Int, seed: UInt64, scale: Float) throws -> (bytes: [UInt8], rowBytes: Int) {
        let rowBytes = try format.rowByteCount(elements: n)
        let weights = RowKernelTests.values(count * n, seed: seed, scale: scale)
        var stored = [UInt8](repeating: 0, count: count * rowBytes)
        try weights.withUnsafeBufferPointer { w in
            try stored.withUnsafeMutableBytes {
                for r in 0..<count {
                    try format.quantizeRow(UnsafeBufferPointer(rebasing: w[(r * n)..<((r + 1) * n)]),
                                           into: UnsafeMutableRawBufferPointer(rebasing: $0[(r * rowBytes)..<((r + 1) * rowBytes)]))
                }
            }
        }
        return (stored, rowBytes)
    }

    /// The rows kernels (a range of rows per call, their horizontal sums 16 rows at a time) give each row's dot
    /// product bit for bit: 1-37 rows (none, one and two groups of 16, and the rows past them), 896 (1,024 for the
    /// 256-value blocks) and 4,864 columns.
    @Test(.enabled(if: KernelChoice.avx512Usable), arguments: [GGMLType.f16, .bf16, .q8_0, .q4_0, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_NL, .iq4_XS])
    func rowsMatchTheDotsBitForBit(_ type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type)), dot = try #require(kernel.wideDot), rows = try #require(kernel.wideRows)
        let short = type.blockSize == 256 ? 1024 : 896
        for (count, n) in [(1, short), (15, short), (16, short), (17, short), (37, short), (33, 4864)] {
            let (stored, rowBytes) = try Self.storedRows(format, count: count, n: n, seed: UInt64(count), scale: 0.9)
            let x = RowKernelTests.values(n, seed: 7, scale: 2)
            var y = [Float](repeating: .nan, count: count + 1)
            let expected = stored.withUnsafeBytes { b in x.withUnsafeBufferPointer { xs in
                (0..<count).map { dot(b.baseAddress! + $0 * rowBytes, xs.baseAddress!, n) }
            } }
            stored.withUnsafeBytes { b in x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer {
                rows(b.baseAddress!, rowBytes, count, xs.baseAddress!, n, $0.baseAddress!)
            } } }
            #expect(y[..<count].map(\.bitPattern) == expected.map(\.bitPattern), "\(type), \(count) rows of \(n)")
            #expect(y[count].isNaN, "\(type): wrote past the rows")
        }
    }
}

extension WideKernelTests {
    /// Attention's two kernels on strided rows as the cache holds them: scores of a group of query heads against
    /// keys (groups up to 9, past the 4 accumulated per pass; head sizes 64, 80, 128 and 24 with masked tails), and the
    /// weighted sum of value rows, stored then accumulated, against float64.
    @Test(.enabled(if: KernelChoice.avx512Usable)) func attentionKernelsMatchAFloat64Reference() {
        var rng = SplitMix64(seed: 9)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Double(rng.next() % 2_000_001) / 1_000_000 - 1) } }
        for (groups, width, count, stride) in [(7, 64, 100, 128), (9, 80, 13, 200), (1, 128, 1, 128), (4, 24, 37, 48), (5, 64, 300, 64)] {
            let keys = values(count * stride), queries = values(groups * width), p = values(groups * count)
            var scores = [Float](repeating: 0, count: groups * count)
            qwenkit_gemm_strided_avx512(keys, stride, count, width, queries, width, groups, &scores, count)
            var out = [Float](repeating: 1, count: groups * width)
            qwenkit_weighted_rows_avx512(p, count, groups, count, keys, stride, width, &out, width, 0)
            var twice = out
            qwenkit_weighted_rows_avx512(p, count, groups, count, keys, stride, width, &twice, width, 1)
            for g in 0..<groups {
                for j in 0..<count {
                    var exact = 0.0, magnitude = 0.0
                    for d in 0..<width {
                        exact += Double(keys[j * stride + d]) * Double(queries[g * width + d])
                        magnitude += abs(Double(keys[j * stride + d]) * Double(queries[g * width + d]))
                    }
                    #expect(abs(Double(scores[g * count + j]) - exact) <= 1e-6 * magnitude + 1e-7, "score \(g), \(j) of \(groups) × \(width)")
                }
                for d in 0..<width {
                    var exact = 0.0, magnitude = 0.0
                    for j in 0..<count {
                        exact += Double(p[g * count + j]) * Double(keys[j * stride + d])
                        magnitude += abs(Double(p[g * count + j]) * Double(keys[j * stride + d]))
                    }
                    #expect(abs(Double(out[g * width + d]) - exact) <= 1e-6 * magnitude + 1e-7, "sum \(g), \(d) of \(groups) × \(width)")
                    #expect(abs(Double(twice[g * width + d]) - 2 * exact) <= 3e-6 * magnitude + 1e-7, "accumulated \(g), \(d)")
                }
            }
        }
    }
}

extension WideKernelTests {
    /// `n` floats spread evenly over [−spread, spread] in steps of spread / 10^6.
    static func uniform(_ n: Int, spread: Double, _ rng: inout SplitMix64) -> [Float] {
        (0..<n).map { _ in Float((Double(rng.next() % 2_000_001) / 1_000_000 - 1) * spread) }
    }

    /// The vectorized softmax against float64 softmax of the scaled scores: every length 1-40 (masked tails), long
    /// rows, scores spread far enough to underflow, within a few float ulps plus the argument's rounding.
    @Test(.enabled(if: KernelChoice.avx512Usable)) func softmaxMatchesFloat64() {
        var rng = SplitMix64(seed: 3)
        for n in Array(1...40) + [1000, 4099] {
            for spread in [0.5, 20.0, 300.0] {
                let x = Self.uniform(n, spread: spread, &rng)
                var ours = x
                qwenkit_softmax_scaled_avx512(&ours, n, 0.125)
                let scaled = x.map { Double($0) * 0.125 }, m = scaled.max()!
                let e = scaled.map { Foundation.exp($0 - m) }, total = e.reduce(0, +)
                for i in 0..<n {
                    let want = e[i] / total
                    // A float argument a = scale·(x − max) carries ~1 ulp of rounding, which e^a turns into a relative
                    // error of |a|·2^-23 whoever computes the exponential.
                    let bound = want * (4e-7 + 2.4e-7 * abs(scaled[i] - m)) + 1e-38
                    #expect(abs(Double(ours[i]) - want) <= bound, "n \(n), spread \(spread), [\(i)]: \(ours[i]) vs \(want)")
                }
            }
        }
    }
}

extension WideKernelTests {
    /// The vectorized silu · up against float64: lengths 1-40 (masked tails) and long rows, values out to where e^-x
    /// overflows and underflows, within a few ulps of the correctly rounded value; ±0, ±inf and NaN as the portable
    /// path (libm's expf) gives them.
    @Test(.enabled(if: KernelChoice.avx512Usable)) func siluMultiplyMatchesFloat64() {
        var rng = SplitMix64(seed: 5)
        for n in Array(1...40) + [896, 4864] {
            for spread in [1.0, 12.0, 120.0] {
                let x = Self.uniform(n, spread: spread, &rng), y = Self.uniform(n, spread: 3, &rng)
                var ours = x
                y.withUnsafeBufferPointer { qwenkit_silu_multiply_avx512(&ours, $0.baseAddress!, n) }
                for i in 0..<n {
                    let v = Double(x[i]), want = v / (1 + Foundation.exp(-v)) * Double(y[i])
                    // e^-v is within 2 ulp plus the relative error |v|·2^-23 of v's own rounding; the quotient and the
                    // product add an ulp each. Past v ≈ −88.7 e^-v overflows a float, for expf too, and the result is −0
                    // where float64 still has ~1e-37.
                    let bound = abs(want) * (6e-7 + 1.2e-7 * abs(v)) + 1e-36
                    #expect(abs(Double(ours[i]) - want) <= bound, "n \(n), spread \(spread), [\(i)]: \(ours[i]) vs \(want)")
                }
            }
        }
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 88, -88, 89, -89, 104, -104, 200, -200, .greatestFiniteMagnitude,
                                -.greatestFiniteMagnitude]
        var ours = special, portable = special
        let ones = [Float](repeating: 1.5, count: special.count)
        ones.withUnsafeBufferPointer { qwenkit_silu_multiply_avx512(&ours, $0.baseAddress!, special.count) }
        ones.withUnsafeBufferPointer { VectorMath.siluMultiply(&portable, $0.baseAddress!, special.count) }
        for (i, v) in special.enumerated() {
            if portable[i].isNaN {
                #expect(ours[i].isNaN, "silu(\(v))")
            } else if !portable[i].isFinite || portable[i] == 0 {
                #expect(ours[i].bitPattern == portable[i].bitPattern, "silu(\(v)): \(ours[i]) vs \(portable[i])")
            } else {
                #expect(abs(ours[i] - portable[i]) <= 4 * portable[i].ulp, "silu(\(v)): \(ours[i]) vs \(portable[i])")
            }
        }
    }
}

extension WideKernelTests {
    /// The AVX-512 row decoders (the IQ4 tables) give the portable decoders' floats bit for bit.
    @Test(.enabled(if: KernelChoice.avx512Usable), arguments: [GGMLType.iq4_NL, .iq4_XS, .q6_K])
    func decodersMatchThePortableOnes(_ type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type)), wide = try #require(kernel.wideDecode)
        for blocks in [1, 3, 20] {
            let n = blocks * type.blockSize
            let weights = RowKernelTests.values(n, seed: UInt64(blocks) + 40, scale: 1.3)
            var stored = [UInt8](repeating: 0, count: try format.rowByteCount(elements: n))
            try weights.withUnsafeBufferPointer { w in try stored.withUnsafeMutableBytes { try format.quantizeRow(w, into: $0) } }
            var portable = [Float](repeating: 0, count: n), ours = [Float](repeating: .nan, count: n)
            stored.withUnsafeBytes { row in
                portable.withUnsafeMutableBufferPointer { kernel.decode(row.baseAddress!, $0.baseAddress!, n) }
                ours.withUnsafeMutableBufferPointer { wide(row.baseAddress!, $0.baseAddress!, n) }
            }
            #expect(ours.map(\.bitPattern) == portable.map(\.bitPattern), "\(type) over \(blocks) blocks")
        }
    }
}

extension WideKernelTests {
    /// Q5_0, Q5_1 and Q5_K repacked for generation (`PackedRows`): the rows kernel, the dot and the decoder over the
    /// packed bytes give the file layout's kernels' floats bit for bit, for even and odd numbers of blocks per row (an
    /// odd row keeps its last block as stored) and 1-37 rows, and a matrix past 1 MB, which is packed in a part per core.
    @Test(.enabled(if: KernelChoice.avx512Usable), arguments: [GGMLType.q5_0, .q5_1, .q5_K])
    func packedRowsMatchTheStoredLayoutBitForBit(_ type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type)), dot = try #require(kernel.wideDot), rows = try #require(kernel.wideRows)
        let shapes = type == .q5_K ? [(1, 256), (3, 512), (16, 1024), (17, 1024), (37, 1536), (33, 4864), (321, 4864)]
            : [(1, 64), (3, 96), (15, 896), (16, 896), (17, 928), (37, 896), (33, 4864), (5, 4896), (1703, 896)]
        for (count, n) in shapes {
            let (stored, rowBytes) = try Self.storedRows(format, count: count, n: n, seed: UInt64(count * 31 + n), scale: 1.1)
            let x = RowKernelTests.values(n, seed: 11, scale: 2)
            let owner = try #require(stored.withUnsafeBytes { PackedRows(type, source: $0.baseAddress!, rows: count, columns: n, rowBytes: rowBytes) })
            let packed = owner.layout
            var expected = [Float](repeating: .nan, count: count), y = [Float](repeating: .nan, count: count + 1)
            stored.withUnsafeBytes { b in x.withUnsafeBufferPointer { xs in expected.withUnsafeMutableBufferPointer {
                rows(b.baseAddress!, rowBytes, count, xs.baseAddress!, n, $0.baseAddress!)
            } } }
            x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer {
                packed.rows(packed.base, rowBytes, count, xs.baseAddress!, n, $0.baseAddress!)
            } }
            #expect(y[..<count].map(\.bitPattern) == expected.map(\.bitPattern), "\(type): \(count) rows of \(n)")
            #expect(y[count].isNaN, "\(type): wrote past the rows")
            for r in [0, count - 1] {
                // The dot is the rows kernel's single row.
                var ours: Float = .nan
                x.withUnsafeBufferPointer { xs in withUnsafeMutablePointer(to: &ours) { packed.rows(packed.base + r * rowBytes, rowBytes, 1, xs.baseAddress!, n, $0) } }
                let theirs = stored.withUnsafeBytes { b in x.withUnsafeBufferPointer { dot(b.baseAddress! + r * rowBytes, $0.baseAddress!, n) } }
                #expect(ours.bitPattern == theirs.bitPattern, "\(type): dot of row \(r) of \(n)")
                var portable = [Float](repeating: 0, count: n), decoded = [Float](repeating: .nan, count: n)
                stored.withUnsafeBytes { b in portable.withUnsafeMutableBufferPointer { kernel.decode(b.baseAddress! + r * rowBytes, $0.baseAddress!, n) } }
                decoded.withUnsafeMutableBufferPointer { packed.decode(packed.base + r * rowBytes, $0.baseAddress!, n) }
                #expect(decoded.map(\.bitPattern) == portable.map(\.bitPattern), "\(type): decoded row \(r) of \(n)")
            }
            withExtendedLifetime(owner) {}  // the layout's memory
        }
    }
}

extension WideKernelTests {
    /// Rows past the packed rows' budget (half the machine's memory), whose size overflows, of one Q5_0 block, or of a
    /// type without a packed layout are not packed: nothing is allocated or read, and the matrix keeps the file's layout.
    @Test func packedRowsStayWithinTheirBudget() {
        let byte: UInt8 = 0
        withUnsafePointer(to: byte) { p in
            #expect(PackedRows(.q5_0, source: UnsafeRawPointer(p), rows: 1 << 40, columns: 64, rowBytes: 1 << 20) == nil)
            #expect(PackedRows(.q5_1, source: UnsafeRawPointer(p), rows: Int.max / 2, columns: 64, rowBytes: 48) == nil)
            #expect(PackedRows(.q5_K, source: UnsafeRawPointer(p), rows: 1 << 40, columns: 256, rowBytes: 1 << 20) == nil)
            #expect(PackedRows(.q5_0, source: UnsafeRawPointer(p), rows: 0, columns: 64, rowBytes: 44) == nil)
            #expect(PackedRows(.q5_0, source: UnsafeRawPointer(p), rows: 1, columns: 32, rowBytes: 22) == nil)
            #expect(PackedRows(.q8_0, source: UnsafeRawPointer(p), rows: 1, columns: 64, rowBytes: 68) == nil)
        }
    }
}
