// The registry: which types have codecs, that their sizes come from GGMLType's table, and that the checked entry
// points refuse buffers that are not whole blocks of one row.
import ModelFiles
import Testing
import TestSupport

@testable import Quantization

@Suite struct RegistryTests {
    @Test func supportedTypes() {
        #expect(QuantizationFormats.supportedTypes == [
            .f32, .f16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K, .iq2_XXS, .iq2_XS,
            .iq3_XXS, .iq1_S, .iq4_NL, .iq3_S, .iq2_S, .iq4_XS, .iq1_M, .bf16, .tq1_0, .tq2_0, .mxfp4, .nvfp4, .q1_0, .q2_0,
        ])
        for type in [GGMLType.q8_1, .i8, .i16, .i32, .i64, .f64] {
            #expect(QuantizationFormats.format(for: type) == nil)
        }
    }

    @Test(arguments: QuantizationFormats.supportedTypes)
    func sizesComeFromTheTypeTable(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        #expect(format.type == type)
        #expect(format.blockSize == type.traits.blockSize)
        #expect(format.typeSize == type.traits.typeSize)
        #expect(try format.rowByteCount(elements: 4 * type.blockSize) == 4 * type.typeSize)
    }

    @Test func wrongSizesThrow() throws {
        let q4k = try #require(QuantizationFormats.format(for: .q4_K))
        let row = [Float](repeating: 1, count: 896)
        var out = [UInt8](repeating: 0, count: 1000)
        #expect(throws: QuantizationError.invalidRowLength(type: "Q4_K", elements: 896, blockSize: 256)) {
            try row.withUnsafeBufferPointer { src in try out.withUnsafeMutableBytes { try q4k.quantizeRow(src, into: $0) } }
        }
        let row512 = [Float](repeating: 1, count: 512)
        #expect(throws: QuantizationError.byteCountMismatch(type: "Q4_K", elements: 512, needed: 288, actual: 1000)) {
            try row512.withUnsafeBufferPointer { src in try out.withUnsafeMutableBytes { try q4k.quantizeRow(src, into: $0) } }
        }
        var floats = [Float](repeating: 0, count: 64)
        let q8 = try #require(QuantizationFormats.format(for: .q8_0))
        #expect(throws: QuantizationError.byteCountMismatch(type: "Q8_0", elements: 64, needed: 68, actual: 1000)) {
            try out.withUnsafeBytes { src in try floats.withUnsafeMutableBufferPointer { try q8.dequantizeRow(src, into: $0) } }
        }
        #expect(QuantizationError.invalidRowLength(type: "Q4_K", elements: 896, blockSize: 256).description
            == "Q4_K: a row of 896 elements is not a whole number of 256-element blocks")
    }

    @Test func emptyRowsAreFine() throws {
        let q6 = try #require(QuantizationFormats.format(for: .q6_K))
        #expect(try q6.quantize([Float]()) == [])
        #expect(try q6.dequantize([UInt8]()) == [])
    }

    /// A loose sanity bound on real-looking data: the round trip's RMS error relative to the row's RMS. Catches a
    /// codec that is bit-exact on the goldens only by accident of layout (it is not a spec of quality).
    @Test(arguments: QuantizationFormats.supportedTypes)
    func roundTripErrorIsSmall(type: GGMLType) throws {
        let format = try #require(QuantizationFormats.format(for: type))
        let row = Golden.row(try #require(Golden.cases.first { $0.name == "weights_4864" }))
        // Unit importance: the types that need one get it, the others quantize as ggml does with weights of 1.
        let importance = [Float](repeating: 1, count: row.count)
        var bytes = [UInt8](repeating: 0, count: try format.rowByteCount(elements: row.count))
        try Array(row).withUnsafeBufferPointer { src in
            try importance.withUnsafeBufferPointer { w in
                try bytes.withUnsafeMutableBytes { try format.quantizeRows(src, rowLength: row.count, importance: w, into: $0) }
            }
        }
        let back = try format.dequantize(bytes)
        let err = zip(row, back).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
        let energy = row.map { Double($0) * Double($0) }.reduce(0, +)
        let relative = (err / energy).squareRoot()
        let bound: [GGMLType: Double] = [
            .f32: 0, .f16: 1e-3, .bf16: 5e-3, .q8_0: 0.01, .q8_K: 0.01, .q6_K: 0.02, .q5_0: 0.05, .q5_1: 0.05,
            .q5_K: 0.05, .q4_0: 0.1, .q4_1: 0.1, .q4_K: 0.1, .q3_K: 0.2, .q2_K: 0.4, .iq4_NL: 0.1, .iq4_XS: 0.1,
            .mxfp4: 0.15, .nvfp4: 0.15, .iq3_S: 0.25, .iq3_XXS: 0.25, .iq2_S: 0.4, .iq2_XS: 0.4, .iq2_XXS: 0.45,
            .iq1_S: 0.55, .iq1_M: 0.55,
            // one and two bits on a Gaussian row: the sign times the mean magnitude (Q1_0), or −1/0/1 (2 for Q2_0)
            // times the largest, which rounds most weights to 0 (made for weights trained ternary)
            .q1_0: 0.65, .q2_0: 0.8, .tq1_0: 0.9, .tq2_0: 0.9,
        ]
        let limit = try #require(bound[type], "\(type) has no bound")
        #expect(relative <= limit, "\(type): relative RMS error \(relative)")
    }
}

@Suite struct Q8_0FastPathTests {
    /// The SIMD quantizer against the reference on rows built to hit every branch: NaN and inf elements, subnormal
    /// blocks (1/d = inf), all-zero blocks, ties, negative zeros, huge values.
    @Test func fastEqualsReference() throws {
        let format = try #require(QuantizationFormats.format(for: .q8_0))
        var rng = SplitMix64(seed: 1)
        var rows: [[Float]] = [Array(Golden.inputs[0..<(Golden.inputs.count / 32 * 32)])]
        for kind in 0..<12 {
            rows.append((0..<(32 * 64)).map { i -> Float in
                let u = Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1
                switch kind {
                case 0: return u
                case 1: return u * Float(bitPattern: 0x0010_0000)  // subnormal
                case 2: return i % 32 == 7 ? .nan : u
                case 3: return i % 64 == 3 ? -.infinity : u
                case 4: return (u * 16).rounded() / 2  // ties
                case 5: return i % 3 == 0 ? -0.0 : u * 1e-3
                case 6: return u * 3e38
                case 7: return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))  // anything at all
                case 8: return i % 32 == 0 ? 127 : (u * 254).rounded() / 2
                case 9: return u * 65504 * 127
                case 10: return i % 32 == 31 ? .nan : 0
                default: return 0
                }
            })
        }
        for (n, row) in rows.enumerated() {
            let fast = try format.quantize(row)
            let reference = try format.quantize(row, reference: true)
            let diff = firstByteDifference(fast, reference, typeSize: format.typeSize)
            #expect(diff == nil, "row kind \(n): \(diff ?? "")")
        }
    }
}

/// The block sizes the codecs spell out for their loops are the type table's (GGMLType.traits, the one source; the
/// codecs keep literals so their loops see constants, and this ties every one of them to the table).
@Suite struct BlockGeometryTests {
    @Test func codecConstantsAreTheTypeTable() {
        let bytes: [(GGMLType, Int)] = [
            (.q4_0, BlockQ4_0.bytes), (.q4_1, BlockQ4_1.bytes), (.q5_0, BlockQ5_0.bytes), (.q5_1, BlockQ5_1.bytes),
            (.q8_0, BlockQ8_0.bytes), (.q1_0, BlockQ1_0.bytes), (.q2_0, BlockQ2_0.bytes), (.mxfp4, BlockMXFP4.bytes),
            (.nvfp4, BlockNVFP4.bytes), (.tq1_0, BlockTQ1_0.bytes), (.tq2_0, BlockTQ2_0.bytes), (.q2_K, BlockQ2_K.bytes),
            (.q3_K, BlockQ3_K.bytes), (.q4_K, BlockQ4_K.bytes), (.q5_K, BlockQ5_K.bytes), (.q6_K, BlockQ6_K.bytes),
            (.q8_K, BlockQ8_K.bytes), (.iq1_S, BlockIQ1_S.bytes), (.iq1_M, BlockIQ1_M.bytes), (.iq2_XXS, BlockIQ2_XXS.bytes),
            (.iq2_XS, BlockIQ2_XS.bytes), (.iq2_S, BlockIQ2_S.bytes), (.iq3_XXS, BlockIQ3_XXS.bytes), (.iq3_S, BlockIQ3_S.bytes),
            (.iq4_NL, BlockIQ4_NL.bytes), (.iq4_XS, BlockIQ4_XS.bytes),
        ]
        for (type, size) in bytes { #expect(size == type.typeSize, "\(type)") }
        let elements: [(GGMLType, Int)] = [
            (.q4_0, BlockQ4_0.qk), (.q4_1, BlockQ4_1.qk), (.q5_0, BlockQ5_0.qk), (.q5_1, BlockQ5_1.qk), (.q8_0, BlockQ8_0.qk),
            (.q1_0, BlockQ1_0.qk), (.q2_0, BlockQ2_0.qk), (.mxfp4, BlockMXFP4.qk), (.nvfp4, BlockNVFP4.qk), (.iq4_NL, BlockIQ4_NL.qk),
        ]
        for (type, n) in elements { #expect(n == type.blockSize, "\(type)") }
        for type in [GGMLType.q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K, .iq1_S, .iq1_M, .iq2_XXS, .iq2_XS, .iq2_S, .iq3_XXS,
                     .iq3_S, .iq4_XS, .tq1_0, .tq2_0] {
            #expect(type.blockSize == QK_K, "\(type)")
        }
    }
}
