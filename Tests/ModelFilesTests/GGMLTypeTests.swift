import Testing
import TestSupport
@testable import ModelFiles

/// The table of shared/SPEC-NOTES.md ("GGUF v3"), copied as text: id, name, elements per block, bytes per block.
/// The integer types have no sizes in that line; theirs are the element sizes (I8 1, I16 2, I32 4, I64 8, F64 8).
private let specTable = """
    F32 0 1 4 · F16 1 1 2 · Q4_0 2 32 18 · Q4_1 3 32 20 ·
    Q5_0 6 32 22 · Q5_1 7 32 24 · Q8_0 8 32 34 · Q8_1 9 32 36 · Q2_K 10 256 84 · Q3_K 11 256 110 · Q4_K 12 256 144 ·
    Q5_K 13 256 176 · Q6_K 14 256 210 · Q8_K 15 256 292 · IQ2_XXS 16 256 66 · IQ2_XS 17 256 74 · IQ3_XXS 18 256 98 ·
    IQ1_S 19 256 50 · IQ4_NL 20 32 18 · IQ3_S 21 256 110 · IQ2_S 22 256 82 · IQ4_XS 23 256 136 · I8 24 1 1 · I16 25 1 2 ·
    I32 26 1 4 · I64 27 1 8 · F64 28 1 8 · IQ1_M 29 256 56 · BF16 30 1 2 · TQ1_0 34 256 54 · TQ2_0 35 256 66 · MXFP4 39 32 17 ·
    NVFP4 40 64 36 · Q1_0 41 128 18 · Q2_0 42 64 18
    """

private struct SpecRow: Equatable { let name: String, id: UInt32, block: Int, bytes: Int }

private let specRows: [SpecRow] = specTable.split(separator: "·").map { cell in
    let f = cell.split(whereSeparator: { $0 == " " || $0 == "\n" })
    return SpecRow(name: String(f[0]), id: UInt32(f[1])!, block: Int(f[2])!, bytes: Int(f[3])!)
}

@Test func ggmlTableMatchesSpecNotes() throws {
    #expect(specRows.count == 35)
    #expect(GGMLType.allCases.count == specRows.count)
    for row in specRows {
        let type = try #require(GGMLType(rawValue: row.id), "id \(row.id) (\(row.name)) missing")
        #expect(SpecRow(name: type.name, id: type.rawValue, block: type.blockSize, bytes: type.typeSize) == row)
        #expect(GGMLType(name: row.name) == type)
    }
}

@Test func ggmlGapsAreKept() {
    for id: UInt32 in [4, 5, 31, 32, 33, 36, 37, 38, 43, 1000] {
        #expect(GGMLType(rawValue: id) == nil)
    }
}

@Test func ggmlByteCount() throws {
    #expect(try GGMLType.f32.byteCount(elements: 10) == 40)
    #expect(try GGMLType.bf16.byteCount(elements: 0) == 0)
    #expect(try GGMLType.q8_0.byteCount(elements: 64) == 68)
    #expect(try GGMLType.q4_K.byteCount(elements: 4096) == 16 * 144)
    #expect(try GGMLType.mxfp4.byteCount(elements: 32) == 17)
    #expect(GGMLType.q8_0.bitsPerWeight == 8.5)
    #expect(GGMLType.q4_K.bitsPerWeight == 4.5)
    #expect(GGMLType.f16.bitsPerWeight == 16)

    #expect(throws: ModelFileError.invalidElementCount(type: "Q8_0", elements: 33, reason: "is not a multiple of the block size 32")) {
        try GGMLType.q8_0.byteCount(elements: 33)
    }
    let q4k = GGMLType.q4_K
    #expect(throws: ModelFileError.self) { try q4k.byteCount(elements: 896) }  // Qwen2-0.5B's hidden size
    #expect(throws: ModelFileError.self) { try GGMLType.f32.byteCount(elements: -4) }
    #expect(throws: ModelFileError.self) { try GGMLType.f64.byteCount(elements: Int.max) }
    #expect(throws: ModelFileError.self) { try GGMLType.q8_K.byteCount(elements: Int.max / 256 * 256) }
    do throws(ModelFileError) {
        _ = try GGMLType.q8_0.byteCount(elements: 33)
    } catch {
        #expect(error.description == "Q8_0: element count 33 is not a multiple of the block size 32")
    }
}
