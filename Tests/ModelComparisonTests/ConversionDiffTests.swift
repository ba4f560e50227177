// `diff` on the converter's fixtures: each HF checkpoint in Fixtures/checkpoints against llama.cpp's conversions
// of it in Fixtures/convert-golden. The F32 conversion must be exactly equal, tensor by tensor (stacked experts
// included); the F16, BF16 and Q8_0 ones must differ by exactly what a direct, whole-tensor computation here gives.

import Foundation
import ModelFiles
import ModelInspection
import Quantization
import Testing
import TestSupport
@testable import ModelComparison

func fixture(_ relative: String) -> String {
    repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
}

func checkpoint(_ model: String) -> String { fixture("checkpoints/\(model)") }
func golden(_ model: String, _ type: String) -> String { fixture("convert-golden/\(model).\(type).gguf") }

let fixtureModels = ["q2-tied", "q2-untied", "q2-yarn", "q2moe"]

func diff(_ a: String, _ b: String, tolerance: Double = 0, patterns: [String] = [], threads: Int = 3) throws -> ModelDiff {
    ModelDiff(ModelDiff.Plan(try InspectedModel(path: a), try InspectedModel(path: b), tolerance: tolerance, patterns: patterns),
              threads: threads)
}

/// A stored tensor's values as float32, decoded here without `RowReader`: safetensors floats by hand, GGUF types
/// through the Quantization registry over the whole tensor at once.
func floats(_ t: InspectedModel.Tensor) throws -> [Float] {
    let n = t.elementCount
    switch t.type {
    case .safetensors(.f32):
        return (0..<n).map { Float(bitPattern: t.data.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
    case .safetensors(.f16):
        return (0..<n).map { Float(Float16(bitPattern: t.data.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
    case .safetensors(.bf16):
        return (0..<n).map { Float(bitPattern: UInt32(t.data.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
    case .ggml(let type):
        let format = try #require(QuantizationFormats.format(for: type))
        var out = [Float](repeating: .nan, count: n)
        try out.withUnsafeMutableBufferPointer { try format.dequantizeRow(t.data, into: $0) }
        return out
    default:
        Issue.record("\(t.name): no decoder for \(t.type.name) in the test")
        return []
    }
}

/// The figures `DifferenceMetrics` defines, computed directly: one pass in index order, in Double.
struct DirectFigures {
    var maxAbsError = 0.0, sse = 0.0, aa = 0.0, bb = 0.0, ab = 0.0, maxAbsA = 0.0
    let count: Int

    init(_ a: [Float], _ b: [Float]) {
        count = a.count
        for (x, y) in zip(a, b) {
            let (dx, dy) = (Double(x), Double(y))
            maxAbsError = max(maxAbsError, abs(dx - dy))
            maxAbsA = max(maxAbsA, abs(dx))
            sse += (dx - dy) * (dx - dy)
            aa += dx * dx
            bb += dy * dy
            ab += dx * dy
        }
    }

    var rmse: Double { (sse / Double(count)).squareRoot() }
    var cosine: Double { maxAbsError == 0 ? 1 : min(1, max(-1, ab / (aa * bb).squareRoot())) }
}

@Suite struct ConversionDiffTests {
    /// Every tensor of the F32 conversion equals its HF source: max abs error 0, cosine 1, in both directions.
    @Test(arguments: fixtureModels)
    func hfAgainstF32IsExact(model: String) throws {
        for (a, b) in [(checkpoint(model), golden(model, "f32")), (golden(model, "f32"), checkpoint(model))] {
            let d = try diff(a, b)
            #expect(d.plan.mapping == .hfToGGUF)
            #expect(d.passed, "\(d.summaryLine())")
            let gguf = try GGUFFile(path: golden(model, "f32"))
            #expect(d.tensors.count == gguf.tensors.count)
            #expect(Set(d.tensors.map(\.name)) == Set(gguf.tensors.map(\.name)))
            for r in d.tensors {
                let m = try #require(r.metrics, "\(r.name): \(r.status)")
                #expect(r.status == .equal, "\(r.name)")
                #expect(m.maxAbsError == 0 && m.rmse == 0 && m.cosineSimilarity == 1, "\(r.name): \(m)")
                #expect(m.count == r.a!.elementCount && m.nonFiniteMatches == 0 && m.nonFiniteMismatches == 0)
                #expect(r.a!.shape == r.b!.shape)
            }
        }
    }

    /// q2moe's experts: each GGUF `blk.N.ffn_*_exps.weight` is compared against the layer's four HF experts laid
    /// end to end, with the [experts, rows, columns] shape.
    @Test func stackedExpertsPairWithTheirHFExperts() throws {
        let d = try diff(checkpoint("q2moe"), golden("q2moe", "f32"))
        let stacked = d.tensors.filter { $0.name.hasSuffix("_exps.weight") }
        #expect(stacked.count == 6)
        for r in stacked {
            let layer = r.name.split(separator: ".")[1]
            let projection = ["ffn_down_exps": "down_proj", "ffn_gate_exps": "gate_proj", "ffn_up_exps": "up_proj"][String(r.name.split(separator: ".")[2])]!
            #expect(r.a!.storedNames == (0..<4).map { "model.layers.\(layer).mlp.experts.\($0).\(projection).weight" })
            #expect(r.b!.storedNames == [r.name])
            #expect(r.a!.shape == (projection == "down_proj" ? [4, 32, 48] : [4, 48, 32]))
            #expect(r.status == .equal && r.metrics?.count == 4 * 48 * 32)
        }
    }

    /// F16, BF16 and Q8_0 conversions: each tensor's figures equal the direct computation's exactly (the tensors
    /// are smaller than one work unit, so the sums run in the same order), and the differences are there but small.
    @Test(arguments: fixtureModels.flatMap { m in ["f16", "bf16", "q8_0"].map { (m, $0) } })
    func lossyConversionsMatchDirectComputation(model: String, type: String) throws {
        let hf = try InspectedModel(path: checkpoint(model))
        let gguf = try InspectedModel(path: golden(model, type))
        let d = ModelDiff(ModelDiff.Plan(hf, gguf), threads: 2)
        #expect(d.tensors.count == gguf.tensors.count && d.count(.equal) + d.count(.overTolerance) == d.tensors.count)
        var worst = 0.0
        for r in d.tensors {
            let m = try #require(r.metrics, "\(r.name): \(r.status)")
            let a = try r.a!.parts.flatMap(floats)
            let b = try floats(try #require(gguf.tensors.first { $0.name == r.name }))
            let want = DirectFigures(a, b)
            #expect(m.count == want.count)
            #expect(m.maxAbsError == want.maxAbsError, "\(r.name)")
            #expect(m.maxAbsA == want.maxAbsA, "\(r.name)")
            #expect(m.rmse == want.rmse, "\(r.name): \(m.rmse) vs \(want.rmse)")
            #expect(m.cosineSimilarity == want.cosine, "\(r.name): \(m.cosineSimilarity) vs \(want.cosine)")
            #expect(r.status == (want.maxAbsError == 0 ? .equal : .overTolerance), "\(r.name)")
            if let at = m.maxAbsErrorIndex {
                #expect(abs(Double(a[at]) - Double(b[at])) == m.maxAbsError)
                #expect(!a[..<at].indices.contains { abs(Double(a[$0]) - Double(b[$0])) == m.maxAbsError }, "the first worst")
            }
            // Small: within a quantization step of the values (Q8_0 keeps 8 bits per 32-element block).
            #expect(want.maxAbsError <= want.maxAbsA / 127, "\(r.name): \(want.maxAbsError) of \(want.maxAbsA)")
            #expect(want.cosine > 0.9999, "\(r.name)")
            worst = max(worst, want.maxAbsError)
        }
        // Which conversions lose anything: Q8_0 always; F16 from an F32 checkpoint (q2-untied) or where a BF16
        // value has no F16 twin (one tensor of q2moe); BF16 from F32 or F16 (q2-untied, q2-yarn).
        let lossy: Set<String> = ["q2-tied q8_0", "q2-untied f16", "q2-untied bf16", "q2-untied q8_0", "q2-yarn bf16",
                                  "q2-yarn q8_0", "q2moe f16", "q2moe q8_0"]
        #expect((worst > 0) == lossy.contains("\(model) \(type)"), "max abs error \(worst)")
        #expect(d.passed == !lossy.contains("\(model) \(type)"))
    }

    /// The tolerance is held against max abs error: at the worst tensor's own error it passes, just under it fails.
    @Test func toleranceIsMaxAbsError() throws {
        let worst = try #require(try diff(checkpoint("q2moe"), golden("q2moe", "q8_0")).tensors.first?.metrics?.maxAbsError)
        #expect(worst > 0)
        let at = try diff(checkpoint("q2moe"), golden("q2moe", "q8_0"), tolerance: worst)
        #expect(at.passed && at.count(.overTolerance) == 0 && at.count(.withinTolerance) == 20 && at.count(.equal) == 17)
        let under = try diff(checkpoint("q2moe"), golden("q2moe", "q8_0"), tolerance: worst.nextDown)
        #expect(!under.passed && under.count(.overTolerance) == 1 && under.tensors[0].status == .overTolerance)
    }

    /// Worst first: by max abs error, then RMSE; equal tensors last, in A's order.
    @Test func sortedWorstFirst() throws {
        let d = try diff(checkpoint("q2-untied"), golden("q2-untied", "q8_0"))
        let figures = d.tensors.map { ($0.metrics!.maxAbsError, $0.metrics!.rmse) }
        for (x, y) in zip(figures, figures.dropFirst()) {
            #expect(x.0 > y.0 || (x.0 == y.0 && x.1 >= y.1))
        }
        let equalNames = d.tensors.filter { $0.status == .equal }.map(\.name)
        let order = try InspectedModel(path: checkpoint("q2-untied")).tensors.map(\.name)
        let hfNames = d.tensors.filter { $0.status == .equal }.map { $0.a!.storedNames[0] }
        #expect(hfNames == order.filter { hfNames.contains($0) }, "ties keep A's order: \(equalNames)")
    }

    /// The F16 and BF16 conversions' metadata differ in exactly `general.file_type` (1 = MOSTLY_F16, 32 = MOSTLY_BF16).
    @Test(arguments: fixtureModels)
    func f16AgainstBF16Metadata(model: String) throws {
        let d = try diff(golden(model, "f16"), golden(model, "bf16"))
        let m = try #require(d.metadata)
        #expect(m.added.isEmpty && m.removed.isEmpty)
        #expect(m.changed.map(\.key) == ["general.file_type"])
        #expect(m.changed.first?.a == .uint32(1) && m.changed.first?.b == .uint32(32))
        #expect(d.plan.mapping == .asStored)
    }

    @Test func metadataOnlyBetweenGGUFFiles() throws {
        #expect(try diff(checkpoint("q2-tied"), golden("q2-tied", "f32")).metadata == nil)
        #expect(try diff(checkpoint("q2-tied"), checkpoint("q2-tied")).metadata == nil)
        #expect(try diff(golden("q2-tied", "f32"), golden("q2-tied", "f32")).metadata?.isEmpty == true)
    }

    /// q2-tied has no lm_head; q2-untied has one, and wider layers.
    @Test func tiedAgainstUntied() throws {
        let d = try diff(checkpoint("q2-tied"), checkpoint("q2-untied"))
        #expect(!d.passed)
        #expect(d.tensors.first?.name == "lm_head.weight" && d.tensors.first?.status == .onlyInB)
        #expect(d.count(.onlyInB) == 1 && d.count(.onlyInA) == 0)
        #expect(d.count(.shapeMismatch) == 26)
        let embed = try #require(d.tensors.first { $0.name == "model.embed_tokens.weight" })
        #expect(embed.a?.shape == [320, 32] && embed.b?.shape == [320, 48] && embed.metrics == nil)
    }

    @Test func tensorFilterMatchesEitherName() throws {
        let gguf = try diff(checkpoint("q2moe"), golden("q2moe", "q8_0"), patterns: ["blk.1.ffn_*_exps.weight"])
        #expect(gguf.tensors.map(\.name).sorted() == ["blk.1.ffn_down_exps.weight", "blk.1.ffn_gate_exps.weight", "blk.1.ffn_up_exps.weight"])
        let hf = try diff(checkpoint("q2moe"), golden("q2moe", "q8_0"), patterns: ["model.layers.0.mlp.experts.3.up_proj.*"])
        #expect(hf.tensors.map(\.name) == ["blk.0.ffn_up_exps.weight"])
        #expect(try diff(checkpoint("q2moe"), golden("q2moe", "q8_0"), patterns: ["nothing*"]).plan.pairs.isEmpty)
    }
}
