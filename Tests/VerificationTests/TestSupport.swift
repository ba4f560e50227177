import TestSupport
import Foundation
import ModelFiles
@testable import Verification

#if canImport(Glibc)
import Glibc
#endif

func goldenPath(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Fixtures/logit-golden").appendingPathComponent(name).path
}

/// One tensor of a test golden: raw little-endian bytes.
struct TestTensor {
    let name: String
    let dtype: SafetensorsDType
    let shape: [Int]
    let bytes: [UInt8]

    static func i32(_ name: String, _ shape: [Int], _ values: [Int32]) -> TestTensor {
        TestTensor(name: name, dtype: .i32, shape: shape, bytes: values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } })
    }
    static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> TestTensor {
        TestTensor(name: name, dtype: .f32, shape: shape,
                   bytes: values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    }
}

/// Writes a safetensors file with our writer.
func writeSafetensors(_ path: String, _ tensors: [TestTensor], metadata: [String: String]? = nil) throws {
    let writer = SafetensorsWriter(path: path, metadata: metadata)
    for t in tensors { try writer.addTensor(name: t.name, dtype: t.dtype, shape: t.shape) }
    try writer.write { sink in try sink.write(tensors.first { $0.name == sink.info.name }!.bytes) }
}

/// A full-form golden of `logits` rows.
func writeFullGolden(_ path: String, tokens: [Int32], logits: [[Float]], metadata: [String: String]? = nil) throws {
    try writeSafetensors(path, [.i32("tokens", [tokens.count], tokens),
                                .f32("logits", [logits.count, logits.first?.count ?? 0], logits.flatMap { $0 })],
                         metadata: metadata)
}

/// The compact form of `logits` rows, as make_logit_goldens.py computes it (stable descending order, float64
/// log-sum-exp rounded to float32).
func writeCompactGolden(_ path: String, tokens: [Int32], logits: [[Float]], k: Int,
                        metadata: [String: String]? = nil) throws {
    var ids: [Int32] = [], values: [Float] = [], lse: [Float] = []
    for row in logits {
        let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }.prefix(k)
        ids += order.map { Int32($0) }
        values += order.map { row[$0] }
        let m = Double(row.max()!)
        lse.append(Float(m + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })))
    }
    let meta = metadata ?? ["format": GoldenLogits.formatName, "form": "compact", "vocab_size": String(logits[0].count)]
    try writeSafetensors(path, [.i32("tokens", [tokens.count], tokens), .i32("top_ids", [logits.count, k], ids),
                                .f32("top_logits", [logits.count, k], values), .f32("logsumexp", [logits.count], lse)],
                         metadata: meta)
}

/// Compares every position of `golden` with `rows`.
func compare(_ golden: GoldenLogits, _ rows: [[Float]], worstCount: Int = 5) throws -> GoldenComparison {
    var c = LogitComparator(golden: golden, worstCount: worstCount)
    for (i, row) in rows.enumerated() { try c.add(position: i, ours: row) }
    return try c.finish()
}

/// The golden's own full rows (full form only).
func fullRows(_ golden: GoldenLogits) -> [[Float]] { (0..<golden.count).map { golden.logits(at: $0) } }
