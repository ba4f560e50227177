// `diff` on small files written here: a GGUF file with a tensor removed, NaN and infinities, a checkpoint with an
// expert missing, integer tensors; and the metrics and the work split on their own.

import Foundation
import ModelFiles
import ModelInspection
import QwenKitIO
import Testing
import TestSupport
@testable import ModelComparison

#if canImport(Glibc)
import Glibc
#endif

/// Copies the GGUF file at `source` to `path`, leaving out the tensors named in `without` and replacing the bytes
/// of those in `replacing`.
func copyGGUF(_ source: String, to path: String, without: Set<String> = [], replacing: [String: [UInt8]] = [:]) throws {
    let file = try GGUFFile(path: source)
    let writer = GGUFWriter(path: path)
    for kv in file.metadata { try writer.add(kv.key, kv.value) }
    for t in file.tensors where !without.contains(t.name) { try writer.addTensor(name: t.name, dims: t.dims, type: t.type) }
    try writer.write { sink in
        // By name: `sink.info` holds the new file's offsets.
        if let bytes = replacing[sink.info.name] { try sink.write(bytes) } else { try sink.write(try file.data(of: sink.info.name)) }
    }
}

/// A GGUF file of F32 tensors (`dims` innermost first).
func writeGGUF(_ path: String, _ tensors: [(name: String, dims: [Int], type: GGMLType, bytes: [UInt8])]) throws {
    let writer = GGUFWriter(path: path)
    try writer.add("general.architecture", .string("qwen2"))
    for t in tensors { try writer.addTensor(name: t.name, dims: t.dims, type: t.type) }
    try writer.write { sink in try sink.write(tensors.first { $0.name == sink.info.name }!.bytes) }
}

func bytes(_ values: [Float]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } } }

@Suite struct ConstructedDiffTests {
    /// A tensor removed from a GGUF file is reported first, as only in A, against the file and against the HF
    /// checkpoint; everything else stays equal.
    @Test func removedTensorIsMissing() throws {
        try withTemporaryDirectory { dir in
            let cut = dir + "/cut.gguf"
            try copyGGUF(golden("q2-tied", "f32"), to: cut, without: ["blk.1.attn_q.bias"])
            for a in [golden("q2-tied", "f32"), checkpoint("q2-tied")] {
                let d = try diff(a, cut)
                #expect(!d.passed)
                #expect(d.tensors.first?.name == "blk.1.attn_q.bias" && d.tensors.first?.status == .onlyInA)
                #expect(d.count(.onlyInA) == 1 && d.count(.equal) == 25 && d.tensors.count == 26, "\(d.summaryLine())")
            }
            let reversed = try diff(cut, golden("q2-tied", "f32"))
            #expect(reversed.tensors.first?.status == .onlyInB && reversed.count(.onlyInB) == 1)
            #expect(reversed.metadata?.isEmpty == true)
        }
    }

    /// One changed value: its position, error and the tensor's other figures.
    @Test func oneChangedValue() throws {
        try withTemporaryDirectory { dir in
            let source = try GGUFFile(path: golden("q2-tied", "f32"))
            let info = try #require(source.tensor(named: "blk.0.attn_k.weight"))  // ne [32, 32]
            var values = (0..<1024).map { Float(bitPattern: source.data(of: info).loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
            let original = values[5 * 32 + 7]
            values[5 * 32 + 7] += 0.25
            let changed = dir + "/changed.gguf"
            try copyGGUF(golden("q2-tied", "f32"), to: changed, replacing: ["blk.0.attn_k.weight": bytes(values)])
            let d = try diff(golden("q2-tied", "f32"), changed)
            let r = d.tensors[0]
            #expect(r.name == "blk.0.attn_k.weight" && r.status == .overTolerance)
            let m = try #require(r.metrics)
            #expect(m.maxAbsError == abs(Double(original) - Double(original + 0.25)))
            #expect(m.maxAbsErrorIndex == 5 * 32 + 7 && ModelDiff.unravel(m.maxAbsErrorIndex!, r.a!.shape) == [5, 7])
            #expect(m.rmse == (m.maxAbsError * m.maxAbsError / 1024).squareRoot())
            #expect(d.count(.equal) == 25)
            #expect(try diff(golden("q2-tied", "f32"), changed, tolerance: 0.25).passed)
        }
    }

    /// NaN against NaN and an infinity against itself are alike; anything else against them fails every tolerance.
    @Test func nonFiniteValues() throws {
        try withTemporaryDirectory { dir in
            let a: [Float] = [1, .nan, .infinity, -.infinity, 2, .nan, 0, -0.0]
            let alike: [Float] = [1, .nan, .infinity, -.infinity, 2.5, .nan, -0.0, 0]
            let unlike: [Float] = [1, .nan, .infinity, .infinity, 2, 3, 0, 0]
            try writeGGUF(dir + "/a.gguf", [("t", [8], .f32, bytes(a))])
            try writeGGUF(dir + "/alike.gguf", [("t", [8], .f32, bytes(alike))])
            try writeGGUF(dir + "/unlike.gguf", [("t", [8], .f32, bytes(unlike))])

            let d = try diff(dir + "/a.gguf", dir + "/alike.gguf", tolerance: 0.5)
            let m = try #require(d.tensors[0].metrics)
            #expect(m.count == 4 && m.nonFiniteMatches == 4 && m.nonFiniteMismatches == 0)
            #expect(m.maxAbsError == 0.5 && m.maxAbsErrorIndex == 4 && m.maxAbsA == 2)
            #expect(d.passed && d.tensors[0].status == .withinTolerance)

            let u = try diff(dir + "/a.gguf", dir + "/unlike.gguf", tolerance: 1e30)
            let n = try #require(u.tensors[0].metrics)
            #expect(n.nonFiniteMatches == 2 && n.nonFiniteMismatches == 2 && n.maxAbsError == 0 && n.count == 4)
            #expect(n.effectiveMaxAbsError == .infinity && !n.isExact)
            #expect(!u.passed && u.tensors[0].status == .overTolerance)
        }
    }

    /// An HF checkpoint whose layer lacks expert 2 cannot make the stacked tensor: `invalid`, naming the gap.
    @Test func missingExpertIsInvalid() throws {
        try withTemporaryDirectory { dir in
            let writer = SafetensorsWriter(path: dir + "/model.safetensors")
            for e in [0, 1, 3] { try writer.addTensor(name: "model.layers.0.mlp.experts.\(e).up_proj.weight", dtype: .f32, shape: [2, 3]) }
            try writer.addTensor(name: "model.layers.0.self_attn.rotary_emb.inv_freq", dtype: .f32, shape: [2])
            try writer.write { sink in try sink.write([UInt8](repeating: 0, count: sink.info.byteCount)) }
            try writeGGUF(dir + "/m.gguf", [("blk.0.ffn_up_exps.weight", [3, 2, 4], .f32, [UInt8](repeating: 0, count: 96))])

            let d = try diff(dir + "/model.safetensors", dir + "/m.gguf")
            #expect(d.tensors.count == 1 && !d.passed)
            let r = d.tensors[0]
            #expect(r.status == .invalid && r.note == "a: its experts are not 0..<3: missing 2")
            #expect(d.plan.ignored.a == ["model.layers.0.self_attn.rotary_emb.inv_freq"])
        }
    }

    /// Integer tensors have no float decoder: the same type is compared byte for byte, different types not at all.
    @Test func integerTensors() throws {
        try withTemporaryDirectory { dir in
            let ones = [UInt8](repeating: 1, count: 16), twos = [UInt8](repeating: 2, count: 16)
            try writeGGUF(dir + "/a.gguf", [("i", [4], .i32, ones), ("j", [4], .i32, ones), ("k", [4], .i32, ones)])
            try writeGGUF(dir + "/b.gguf", [("i", [4], .i32, ones), ("j", [4], .i32, twos), ("k", [4], .f32, ones)])
            let d = try diff(dir + "/a.gguf", dir + "/b.gguf")
            let status = Dictionary(uniqueKeysWithValues: d.tensors.map { ($0.name, $0.status) })
            #expect(status == ["i": .equal, "j": .overTolerance, "k": .unsupported])
            #expect(d.tensors.map(\.name) == ["k", "j", "i"])
            #expect(d.tensors.first { $0.name == "i" }?.note == "compared byte for byte: no float decoder for I32")
        }
    }

    // MARK: Metrics and the work split

    @Test func cosineEdgeCases() {
        func metrics(_ a: [Float], _ b: [Float]) -> DifferenceMetrics {
            var m = DifferenceMetrics()
            a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in m.accumulate(x, y, firstIndex: 0) } }
            return m
        }
        #expect(metrics([0, 0], [0, 0]).cosineSimilarity == 1)
        #expect(metrics([0, 0], [1, 0]).cosineSimilarity == 0)
        #expect(metrics([1, 2], [-1, -2]).cosineSimilarity == -1)
        #expect(metrics([1, 2], [2, 4]).cosineSimilarity == 1)
        #expect(metrics([3, 4], [4, 3]).cosineSimilarity == 24.0 / 25.0)
        #expect(metrics([0, 0], [1, 0]).relativeError == nil)
    }

    /// Tiny units and blocks (tensors cut mid-expert, many units per tensor) give the same worst positions and
    /// counts, and the same sums up to rounding, on any thread count.
    @Test func workSplitDoesNotChangeTheResult() throws {
        let plan = ModelDiff.Plan(try InspectedModel(path: checkpoint("q2moe")), try InspectedModel(path: golden("q2moe", "q8_0")))
        let jobs = try plan.pairs.map { (a: try RowReader($0.a!), b: try RowReader($0.b!)) }
        let whole = TensorComparator.compare(jobs, threads: 1, releasePages: false)
        let cut = TensorComparator.compare(jobs, threads: 4, unitElements: 100, blockElements: 40)
        let cutAgain = TensorComparator.compare(jobs, threads: 2, unitElements: 100, blockElements: 40)
        #expect(cut == cutAgain, "the same units on any thread count give the same bits")
        for (x, y) in zip(whole, cut) {
            #expect(x.count == y.count && x.maxAbsError == y.maxAbsError && x.maxAbsErrorIndex == y.maxAbsErrorIndex)
            #expect(x.maxAbsA == y.maxAbsA)
            #expect(abs(x.sumSquaredError - y.sumSquaredError) <= 1e-12 * x.sumSquaredError)
            #expect(abs(x.sumAB - y.sumAB) <= 1e-12 * abs(x.sumAB))
        }
    }
}
