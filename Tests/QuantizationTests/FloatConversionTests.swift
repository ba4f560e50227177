// fp32 ↔ fp16 and fp32 ↔ bf16 as ggml converts them, against ggml's own bytes for every special class, against
// numpy's (gguf-py's) wherever numpy agrees with ggml (all but some NaN payloads), and exhaustively against the
// Swift runtime's own IEEE conversions for every non-NaN value that can be enumerated.
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

@Suite struct FloatConversionTests {
    static let specials = (try? Golden.floats("specials.f32")) ?? []

    @Test(arguments: [GGMLType.f16, .bf16])
    func specialsEqualGGML(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        #expect(Self.specials.count > 1000)
        let got = try format.quantize(Self.specials)
        let diff = firstByteDifference(got, try Golden.bytes("\(type.name).specials.quant"), typeSize: 2)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// numpy's conversion is the same everywhere except that it keeps NaN payloads (ggml makes every fp16 NaN
    /// 0x7E00 and forces bf16 NaNs quiet); every other class must match it bit for bit.
    @Test(arguments: [GGMLType.f16, .bf16])
    func specialsEqualNumpyExceptNaNPayloads(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let got = Golden.littleEndian(try format.quantize(Self.specials), as: UInt16.self)
        let numpy = Golden.littleEndian(try Golden.bytes("\(type.name).specials.numpy"), as: UInt16.self)
        var nanDifferences = 0
        for (i, x) in Self.specials.enumerated() where got[i] != numpy[i] {
            #expect(x.isNaN, "\(type) of 0x\(String(x.bitPattern, radix: 16)): 0x\(String(got[i], radix: 16)), numpy 0x\(String(numpy[i], radix: 16))")
            nanDifferences += 1
        }
        // The canonical quiet NaNs agree; only payload-carrying or signaling NaNs may differ.
        let canonical = Self.specials.indices.filter { [0x7FC0_0000, 0xFFC0_0000].contains(Self.specials[$0].bitPattern) }
        #expect(!canonical.isEmpty)
        for i in canonical { #expect(got[i] == numpy[i]) }
        #expect(nanDifferences < Self.specials.filter(\.isNaN).count)
    }

    @Test(arguments: [GGMLType.f16, .bf16])
    func wideningEqualsGGML(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let halfs = try Golden.bytes("halfs.u16")
        let got = try format.dequantize(halfs)
        let diff = firstFloatDifference(got, try Golden.floats("\(type.name).halfs.dequant.f32"), blockSize: 1)
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// Named classes, spelled out (SPEC-FACTS §3.0): RNE, subnormals, overflow to inf, NaN → 0x7E00 | sign.
    @Test func halfSpecialClasses() {
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000), (65504, 0x7BFF),
            (65519.996, 0x7BFF), (65520, 0x7C00), (-1e10, 0xFC00), (.infinity, 0x7C00), (-.infinity, 0xFC00),
            (0x1p-24, 0x0001), (0x1p-25, 0x0000), (0x1.8p-25, 0x0001), (0x1.8p-24, 0x0002),  // subnormal RNE ties
            (1 + 0x1p-11, 0x3C00), (1 + 0x3p-11, 0x3C02),  // ties to even
            (0x1p-126, 0x0000), (Float(bitPattern: 1), 0x0000), (Float(bitPattern: 0x8000_0001), 0x8000),
            (.nan, 0x7E00), (-Float.nan, 0xFE00), (Float(bitPattern: 0x7F80_0001), 0x7E00),
            (Float(bitPattern: 0xFFFF_FFFF), 0xFE00),
        ]
        for (x, want) in cases {
            #expect(HalfFloat.bits(from: x) == want, "fp16(0x\(String(x.bitPattern, radix: 16)))")
        }
    }

    @Test func brainSpecialClasses() {
        let cases: [(UInt32, UInt16)] = [
            (0x0000_0000, 0x0000), (0x8000_0000, 0x8000), (0x3F80_0000, 0x3F80),
            (0x3F80_8000, 0x3F80), (0x3F81_8000, 0x3F82), (0x3F80_8001, 0x3F81), (0x3F80_7FFF, 0x3F80),  // RNE
            (0x7F7F_FFFF, 0x7F80), (0xFF7F_FFFF, 0xFF80),  // largest finite rounds to inf
            (0x0000_0001, 0x0000), (0x007F_FFFF, 0x0080),  // subnormals round like anything else
            (0x7F80_0000, 0x7F80), (0x7FC0_0000, 0x7FC0), (0x7F80_0001, 0x7FC0), (0xFF80_0001, 0xFFC0),
            (0x7FFF_FFFF, 0x7FFF), (0x7FA0_0000, 0x7FE0),  // NaN: top bits kept, quiet bit forced, no rounding
        ]
        for (bits, want) in cases {
            #expect(BrainFloat.bits(from: Float(bitPattern: bits)) == want, "bf16(0x\(String(bits, radix: 16)))")
        }
    }

    /// Every fp16 pattern: widening is exact (Swift's `Float(Float16)` for all but NaNs, where ggml quiets
    /// signaling NaNs and keeps the payload), and narrowing the widened value gives the pattern back.
    @Test func everyHalfPattern() {
        for h in UInt16.min...UInt16.max {
            let f = HalfFloat.float(fromBits: h)
            if (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0 {
                #expect(f.isNaN && f.bitPattern == (UInt32(h & 0x8000) << 16 | 0x7FC0_0000 | UInt32(h & 0x03FF) << 13))
                #expect(HalfFloat.bits(from: f) == (h & 0x8000) | 0x7E00)
            } else {
                #expect(f.bitPattern == Float(Float16(bitPattern: h)).bitPattern, "0x\(String(h, radix: 16))")
                #expect(HalfFloat.bits(from: f) == h, "0x\(String(h, radix: 16))")
            }
        }
    }

    /// The hardware widening of the F16 row decoder gives the reference's bits for every pattern, NaNs included
    /// (the row is one short of a multiple of 8 so the scalar tail runs too).
    @Test func fastHalfRowDecoderMatchesReference() {
        let halves = (0...0xFFFE).map { UInt16($0) }
        var fast = [Float](repeating: 0, count: halves.count)
        var reference = fast
        halves.withUnsafeBytes { src in
            fast.withUnsafeMutableBufferPointer { FloatRows.dequantizeF16Fast(src.baseAddress!, $0.baseAddress!, halves.count) }
            reference.withUnsafeMutableBufferPointer { FloatRows.dequantizeF16(src.baseAddress!, $0.baseAddress!, halves.count) }
        }
        let first = halves.indices.first { fast[$0].bitPattern != reference[$0].bitPattern }
        #expect(first == nil, "0x\(String(first ?? 0, radix: 16)): \(fast[first ?? 0].bitPattern) vs \(reference[first ?? 0].bitPattern)")
    }

    /// fp32 → fp16 against the Swift runtime's IEEE round-to-nearest-even on a dense sweep of the fp16 range
    /// (every float whose low 13 mantissa bits are 0x0000, 0x0FFF, 0x1000, 0x1001, 0x1FFF or random).
    @Test func narrowingMatchesIEEE() {
        var rng = SplitMix64(seed: 5)
        for exponent: UInt32 in 90...145 {  // 2^-37 ... 2^18: through fp16 subnormals, normals and overflow
            for mantissaHigh: UInt32 in 0..<1024 {
                for sign: UInt32 in [0, 0x8000_0000] {
                    for low: UInt32 in [0x0000, 0x0FFF, 0x1000, 0x1001, 0x1FFF, UInt32(rng.next() & 0x1FFF)] {
                        let bits = sign | exponent << 23 | mantissaHigh << 13 | low
                        let f = Float(bitPattern: bits)
                        let want = Float16(f).bitPattern
                        let got = HalfFloat.bits(from: f)
                        if got != want {
                            Issue.record("fp16(0x\(String(bits, radix: 16))) = 0x\(String(got, radix: 16)), IEEE 0x\(String(want, radix: 16))")
                            return
                        }
                    }
                }
            }
        }
    }
}

