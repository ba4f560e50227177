import Foundation
import ModelFiles
import QwenKitIO
import Testing
import TestSupport

@testable import Quantization

/// Fixtures/quant-golden, made by Fixtures/scripts/make_quant_goldens.py (its README has versions and hashes).
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/quant-golden")

    /// One row of cases.tsv: `count` floats of inputs.f32 from `offset`.
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let offset: Int
        let count: Int
        var description: String { name }
    }

    /// The block types with goldens made from the cases.
    static let blockTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K]

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// A file of little-endian float32s (`.zst` files are decompressed first).
    static func floats(_ name: String) throws -> [Float] {
        var raw = try bytes(name)
        if name.hasSuffix(".zst") {
            raw = try raw.withUnsafeBytes { try ZstdFrame.decompress($0, name: name) }
        }
        return littleEndian(raw, as: UInt32.self).map(Float.init(bitPattern:))
    }

    static func littleEndian<T: FixedWidthInteger>(_ raw: [UInt8], as: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        return (0..<raw.count / size).map { i in
            raw.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
        }
    }

    static let cases: [Case] = {
        let text = String(decoding: (try? bytes("cases.tsv")) ?? [], as: UTF8.self)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            return Case(name: String(f[0]), offset: Int(f[1])!, count: Int(f[2])!)
        }
    }()

    static let inputs: [Float] = (try? floats("inputs.f32")) ?? []

    /// The cases a type's golden holds: those whose length is whole blocks, in file order.
    static func cases(for type: GGMLType) -> [Case] { cases.filter { $0.count % type.blockSize == 0 } }

    static func row(_ c: Case) -> ArraySlice<Float> { inputs[c.offset..<(c.offset + c.count)] }
}

// MARK: - Running the codecs on arrays

extension BlockFormat {
    func quantize(_ row: some Collection<Float>, reference: Bool = false) throws -> [UInt8] {
        let source = Array(row)
        var out = [UInt8](repeating: 0xAA, count: try rowByteCount(elements: source.count))  // not pre-zeroed
        try source.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                if reference {
                    try quantizeRowReference(src, into: dst)
                } else {
                    try quantizeRow(src, into: dst)
                }
            }
        }
        return out
    }

    func dequantize(_ bytes: some Collection<UInt8>) throws -> [Float] {
        let source = Array(bytes)
        var out = [Float](repeating: .nan, count: source.count / typeSize * blockSize)
        try source.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try dequantizeRow(src, into: $0) }
        }
        return out
    }
}

// MARK: - Failure reports

/// nil when equal, else where the first difference is: block, byte within it, and how many bytes differ.
func firstByteDifference(_ got: [UInt8], _ want: [UInt8], typeSize: Int) -> String? {
    guard got != want else { return nil }
    guard got.count == want.count else { return "\(got.count) bytes, expected \(want.count)" }
    let differingCount = zip(got, want).filter { $0 != $1 }.count
    let first = got.indices.first { got[$0] != want[$0] }!
    let block = first / typeSize
    let blockBytes = { (b: [UInt8]) in b[(block * typeSize)..<((block + 1) * typeSize)].map { String(format: "%02x", $0) }.joined() }
    return "\(differingCount) of \(got.count) bytes differ; first in block \(block) at byte \(first % typeSize)\n"
        + "  got  \(blockBytes(got))\n  want \(blockBytes(want))"
}

/// nil when the bit patterns are equal, else the first differing float and how many differ.
func firstFloatDifference(_ got: [Float], _ want: [Float], blockSize: Int) -> String? {
    guard got.count == want.count else { return "\(got.count) floats, expected \(want.count)" }
    var count = 0
    var first: Int?
    for i in got.indices where got[i].bitPattern != want[i].bitPattern {
        count += 1
        if first == nil { first = i }
    }
    guard let i = first else { return nil }
    let hex = { (f: Float) in String(format: "0x%08X (%g)", f.bitPattern, Double(f)) }
    return "\(count) of \(got.count) floats differ; first at \(i) (block \(i / blockSize)): "
        + "got \(hex(got[i])), want \(hex(want[i]))"
}
