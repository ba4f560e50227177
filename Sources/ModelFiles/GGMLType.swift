// The ggml tensor types: ids as written in GGUF tensor infos, and each type's block layout.
// Every number here comes from shared/SPEC-NOTES.md ("GGUF v3"), which mirrors gguf-py's GGML_QUANT_SIZES;
// it is written once, in `GGMLType.traits`, and everything else derives from it.

/// A ggml tensor type. The raw value is the id stored in a GGUF file; unused ids (4, 5, 31–33, 36–38) are gaps,
/// so `GGMLType(rawValue:)` returns nil for them and for anything newer than this table.
public enum GGMLType: UInt32, CaseIterable, Sendable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case iq2_XXS = 16
    case iq2_XS = 17
    case iq3_XXS = 18
    case iq1_S = 19
    case iq4_NL = 20
    case iq3_S = 21
    case iq2_S = 22
    case iq4_XS = 23
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case iq1_M = 29
    case bf16 = 30
    case tq1_0 = 34
    case tq2_0 = 35
    case mxfp4 = 39
    case nvfp4 = 40
    case q1_0 = 41
    case q2_0 = 42

    /// How a type stores its values: `blockSize` elements are packed into `typeSize` bytes.
    public struct Traits: Sendable, Equatable {
        /// The name ggml and gguf-py use (`Q4_K`, `BF16`).
        public let name: String
        /// Elements per block (1 for the plain float and integer types).
        public let blockSize: Int
        /// Bytes per block.
        public let typeSize: Int
    }

    /// The one table. Byte sizes follow SPEC-NOTES; for the block formats the comment spells the block's fields
    /// (as gguf-py does) so a reader can check the sum.
    public var traits: Traits {
        switch self {
        case .f32: return Traits(name: "F32", blockSize: 1, typeSize: 4)
        case .f16: return Traits(name: "F16", blockSize: 1, typeSize: 2)
        case .q4_0: return Traits(name: "Q4_0", blockSize: 32, typeSize: 18)  // d f16 + 16 nibble bytes
        case .q4_1: return Traits(name: "Q4_1", blockSize: 32, typeSize: 20)  // d, m f16 + 16
        case .q5_0: return Traits(name: "Q5_0", blockSize: 32, typeSize: 22)  // d + 4 high bits + 16
        case .q5_1: return Traits(name: "Q5_1", blockSize: 32, typeSize: 24)  // d, m + 4 + 16
        case .q8_0: return Traits(name: "Q8_0", blockSize: 32, typeSize: 34)  // d + 32 int8
        case .q8_1: return Traits(name: "Q8_1", blockSize: 32, typeSize: 36)  // d, s f16 + 32 int8 (gguf-py says 40)
        case .q2_K: return Traits(name: "Q2_K", blockSize: 256, typeSize: 84)  // 16 scales + 64 qs + d, dmin
        case .q3_K: return Traits(name: "Q3_K", blockSize: 256, typeSize: 110)  // 32 hmask + 64 qs + 12 scales + d
        case .q4_K: return Traits(name: "Q4_K", blockSize: 256, typeSize: 144)  // d, dmin + 12 scales + 128 qs
        case .q5_K: return Traits(name: "Q5_K", blockSize: 256, typeSize: 176)  // d, dmin + 12 + 32 qh + 128 qs
        case .q6_K: return Traits(name: "Q6_K", blockSize: 256, typeSize: 210)  // 128 ql + 64 qh + 16 scales + d
        case .q8_K: return Traits(name: "Q8_K", blockSize: 256, typeSize: 292)  // d f32 + 256 qs + 16 bsums i16
        case .iq2_XXS: return Traits(name: "IQ2_XXS", blockSize: 256, typeSize: 66)
        case .iq2_XS: return Traits(name: "IQ2_XS", blockSize: 256, typeSize: 74)
        case .iq3_XXS: return Traits(name: "IQ3_XXS", blockSize: 256, typeSize: 98)
        case .iq1_S: return Traits(name: "IQ1_S", blockSize: 256, typeSize: 50)
        case .iq4_NL: return Traits(name: "IQ4_NL", blockSize: 32, typeSize: 18)
        case .iq3_S: return Traits(name: "IQ3_S", blockSize: 256, typeSize: 110)
        case .iq2_S: return Traits(name: "IQ2_S", blockSize: 256, typeSize: 82)
        case .iq4_XS: return Traits(name: "IQ4_XS", blockSize: 256, typeSize: 136)
        case .i8: return Traits(name: "I8", blockSize: 1, typeSize: 1)
        case .i16: return Traits(name: "I16", blockSize: 1, typeSize: 2)
        case .i32: return Traits(name: "I32", blockSize: 1, typeSize: 4)
        case .i64: return Traits(name: "I64", blockSize: 1, typeSize: 8)
        case .f64: return Traits(name: "F64", blockSize: 1, typeSize: 8)
        case .iq1_M: return Traits(name: "IQ1_M", blockSize: 256, typeSize: 56)
        case .bf16: return Traits(name: "BF16", blockSize: 1, typeSize: 2)
        case .tq1_0: return Traits(name: "TQ1_0", blockSize: 256, typeSize: 54)
        case .tq2_0: return Traits(name: "TQ2_0", blockSize: 256, typeSize: 66)
        case .mxfp4: return Traits(name: "MXFP4", blockSize: 32, typeSize: 17)  // e8m0 scale + 16 nibble bytes
        case .nvfp4: return Traits(name: "NVFP4", blockSize: 64, typeSize: 36)  // 4 ue4m3 sub-block scales + 32 nibble bytes
        case .q1_0: return Traits(name: "Q1_0", blockSize: 128, typeSize: 18)  // d f16 + 16 sign-bit bytes
        case .q2_0: return Traits(name: "Q2_0", blockSize: 64, typeSize: 18)  // d f16 + 16 bytes of 2-bit quants
        }
    }

    public var name: String { traits.name }
    public var blockSize: Int { traits.blockSize }
    public var typeSize: Int { traits.typeSize }

    /// Average storage bits per element (8.5 for Q8_0, 4.5 for Q4_K).
    public var bitsPerWeight: Double { Double(typeSize * 8) / Double(blockSize) }

    /// The type with ggml name `name` (as `name` prints it), or nil.
    public init?(name: String) {
        guard let found = GGMLType.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    /// Bytes needed for `elements` values of this type. The count must be a whole number of blocks (ggml stores
    /// rows as whole blocks, so pass a row length, or a whole tensor whose rows are block-aligned); negative
    /// counts and sizes that do not fit in `Int` throw.
    public func byteCount(elements: Int) throws(ModelFileError) -> Int {
        guard elements >= 0 else {
            throw .invalidElementCount(type: name, elements: elements, reason: "is negative")
        }
        guard elements % blockSize == 0 else {
            throw .invalidElementCount(
                type: name, elements: elements, reason: "is not a multiple of the block size \(blockSize)")
        }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: typeSize)
        guard !overflow else {
            throw .invalidElementCount(type: name, elements: elements, reason: "needs more bytes than Int can count")
        }
        return bytes
    }
}

extension GGMLType: CustomStringConvertible {
    public var description: String { name }
}
