// The AVX2 kernels (Sources/CRuntimeKernels/dot_avx2.c, gemm_avx2.c) against float64: generation's against
// dequantize-then-dot, the batch path's tiles against the plain sums. They run
// wherever the CPU has AVX2, AVX-512 or not (sessions choose them only without AVX-512, so this is where they are
// checked on AVX-512 machines).

import CRuntimeKernels
import ModelFiles
import Quantization
import Testing
@testable import Qwen2Runtime

@Suite struct AVX2KernelTests {
    /// Each type's rows kernel on 1-37 rows of 1-20 blocks, of 4,864 columns, and of columns past the 8,192 the kernels
    /// prepare the activations for at a time: every row's sum within float rounding of float64 over the portable
    /// decoder's values, and each row's sum the same float whatever rows the call has.
    @Test(.enabled(if: KernelChoice.avx2Usable), arguments: [GGMLType.q5_0, .q4_K, .q6_K, .iq4_NL, .iq4_XS])
    func rowsMatchDequantizeThenDot(_ type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let kernel = try #require(RowKernel.forType(type)), rows = try #require(kernel.avx2Rows)
        let block = type.blockSize
        let shapes = [(1, block), (3, 2 * block), (5, 7 * block), (16, 20 * block), (37, 4864 / block * block),
                      (2, 8192 + 2 * block), (1, 3 * 8192 + block)]
        for (count, n) in shapes {
            let (stored, rowBytes) = try WideKernelTests.storedRows(format, count: count, n: n, seed: UInt64(count * 31 + n), scale: 0.9)
            let x = RowKernelTests.values(n, seed: 99, scale: 2)
            var y = [Float](repeating: .nan, count: count + 1)
            stored.withUnsafeBytes { b in x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer {
                rows(b.baseAddress!, rowBytes, count, xs.baseAddress!, n, $0.baseAddress!)
            } } }
            #expect(y[count].isNaN, "\(type): wrote past the rows")
            var decoded = [Float](repeating: 0, count: n)
            for r in 0..<count {
                stored.withUnsafeBytes { b in decoded.withUnsafeMutableBufferPointer { kernel.decode(b.baseAddress! + r * rowBytes, $0.baseAddress!, n) } }
                var exact = 0.0, magnitude = 0.0
                for i in 0..<n {
                    exact += Double(decoded[i]) * Double(x[i])
                    magnitude += abs(Double(decoded[i]) * Double(x[i]))
                }
                #expect(abs(Double(y[r]) - exact) <= 2e-6 * magnitude, "\(type), row \(r) of \(count) × \(n): \(y[r]), exact \(exact)")
                // The same row alone.
                var one: Float = .nan
                stored.withUnsafeBytes { b in x.withUnsafeBufferPointer { xs in rows(b.baseAddress! + r * rowBytes, rowBytes, 1, xs.baseAddress!, n, &one) } }
                #expect(one.bitPattern == y[r].bitPattern, "\(type), row \(r) of \(count) × \(n) alone: \(one) against \(y[r])")
            }
        }
    }

    /// The batch path's tiles: rows 1-19 (4-row tiles and the 1-3 rows past them), columns 1-4,864 (masked tails, column
    /// blocks of about 1,024 with partial sums carried between them), batches 1-10 (3-token tiles and their remainders).
    @Test(.enabled(if: KernelChoice.avx2Usable)) func tilesMatchAFloat64Reference() {
        WideKernelTests.gemmMatchesFloat64(seed: 7, shapes: [(8, 16, 3), (19, 37, 10), (16, 1024, 6), (13, 2100, 7), (1, 1, 1),
                                                             (9, 1040, 4), (4, 17, 5), (6, 896, 8), (7, 4864, 2), (8, 4864, 1), (3, 7, 2)]) {
            qwenkit_gemm_f32_avx2($0, $1, $2, $3, $4, $5, $6)
        }
    }

    /// Sessions choose the AVX2 kernels exactly on CPUs with AVX2 and without AVX-512, and only for `.best`.
    @Test func choice() {
        #expect(KernelChoice.best.usesAVX2 == (KernelChoice.avx2Usable && !KernelChoice.avx512Usable))
        #expect(!KernelChoice.portable.usesAVX2)
        #expect(!(KernelChoice.best.usesAVX2 && KernelChoice.best.usesAVX512))
    }
}
