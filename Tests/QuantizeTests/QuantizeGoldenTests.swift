// quantize against llama-quantize (llama-cpp-python's llama_model_quantize): for each committed model and each
// TYPE, our output must match the digest of llama-quantize's (Fixtures/quantize-golden, made by
// Fixtures/scripts/make_quantize_goldens.py): the whole file's size and FNV-1a 64, and every KV and tensor field.

import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Quantize

func golden(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Fixtures/quantize-golden").appendingPathComponent(name).path
}

func fnv1a64<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

struct Digest {
    let json: [String: Any]

    init(_ path: String) throws {
        json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    var tensors: [[String: Any]] { json["tensors"] as! [[String: Any]] }
    var kvs: [[String: Any]] { json["kvs"] as! [[String: Any]] }
}

/// Our output at `out` against a llama-quantize digest: field by field first, so that a difference names the tensor or
/// key, then the whole file.
func expectMatches(_ out: String, _ digest: Digest, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
    let file = try GGUFFile(path: out)
    #expect(file.metadata.map(\.key) == digest.kvs.map { $0["key"] as! String }, sourceLocation: sourceLocation)
    #expect(file.metadata.map(\.value.type.name) == digest.kvs.map { $0["type"] as! String }, sourceLocation: sourceLocation)
    let expected = digest.tensors
    #expect(file.tensors.count == expected.count, sourceLocation: sourceLocation)
    for (t, e) in zip(file.tensors, expected) {
        let data = file.data(of: t)
        #expect(t.name == e["name"] as! String, sourceLocation: sourceLocation)
        #expect(t.type.name == e["type"] as! String, "\(t.name)", sourceLocation: sourceLocation)
        #expect(t.dims == e["dims"] as! [Int], "\(t.name)", sourceLocation: sourceLocation)
        #expect(t.offset == e["offset"] as! Int, "\(t.name)", sourceLocation: sourceLocation)
        #expect(fnv1a64(data) == e["fnv1a64"] as! String, "\(t.name): \(t.type.name) bytes differ", sourceLocation: sourceLocation)
    }
    #expect(bytes.count == digest.json["file_size"] as! Int, sourceLocation: sourceLocation)
    #expect(fnv1a64(bytes.prefix(file.dataStart)) == digest.json["header_fnv1a64"] as! String, sourceLocation: sourceLocation)
    #expect(fnv1a64(bytes) == digest.json["file_fnv1a64"] as! String, sourceLocation: sourceLocation)
}

@Suite struct QuantizeGoldenTests {
    /// The 17 types these goldens were made for (the others are in Fixtures/quantize-imatrix).
    static let cases: [(String, QuantizeType)] = ["dense", "moe"].flatMap { m in
        QuantizeType.allCases.filter { FileManager.default.fileExists(atPath: golden("dense.\($0.name).json")) }.map { (m, $0) }
    }

    @Test(arguments: cases)
    func matchesLlamaQuantize(model: String, type: QuantizeType) throws {
        let digest = try Digest(golden("\(model).\(type.name).json"))
        try withTemporaryDirectory { dir in
            var options = QuantizeOptions()
            options.threads = 2
            let plan = try QuantizePlan(path: golden("\(model).f16.gguf"), type: type, options: options)
            let out = dir + "/out.gguf"
            try Quantizer.write(plan, to: out)
            try expectMatches(out, digest)
        }
    }

    /// Blocks are independent: the bytes do not depend on the thread count.
    @Test func threadCountDoesNotChangeBytes() throws {
        try withTemporaryDirectory { dir in
            var outputs: [Data] = []
            for threads in [1, 3] {
                var options = QuantizeOptions()
                options.threads = threads
                let plan = try QuantizePlan(path: golden("dense.f16.gguf"), type: .q4_K_M, options: options)
                try Quantizer.write(plan, to: dir + "/\(threads).gguf")
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: dir + "/\(threads).gguf")))
            }
            #expect(outputs[0] == outputs[1])
        }
    }

    /// Requantizing: a Q8_0 file is refused without --allow-requantize; with it, tensors are dequantized first.
    @Test func requantize() throws {
        try withTemporaryDirectory { dir in
            let q8 = dir + "/q8.gguf"
            try Quantizer.write(try QuantizePlan(path: golden("dense.f16.gguf"), type: .q8_0, options: QuantizeOptions()), to: q8)
            #expect(throws: QuantizeError.requantize(path: q8, tensor: "output.weight", type: "Q8_0")) {
                _ = try QuantizePlan(path: q8, type: .q4_0, options: QuantizeOptions())
            }
            var options = QuantizeOptions()
            options.allowRequantize = true
            let plan = try QuantizePlan(path: q8, type: .q4_0, options: options)
            try Quantizer.write(plan, to: dir + "/q4.gguf")
            let file = try GGUFFile(path: dir + "/q4.gguf")
            #expect(file.tensor(named: "blk.0.attn_q.weight")?.type == .q4_0)
            // Already Q8_0 and chosen Q8_0 again: copied, not refused even without the flag.
            _ = try QuantizePlan(path: q8, type: .q8_0, options: QuantizeOptions())
        }
    }
}

@Suite struct TensorTypePolicyTests {
    @Test func useMoreBits() {
        // 10 layers: the first eighth (0), the last eighth (8, 9) and every third between (3, 6).
        #expect((0..<10).filter { TensorTypePolicy.useMoreBits($0, 10) } == [0, 3, 6, 8, 9])
        // Qwen2-0.5B (24 layers): SPEC-FACTS §4.3's verified list.
        #expect((0..<24).filter { TensorTypePolicy.useMoreBits($0, 24) } == [0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23])
    }

    @Test func blockNumbers() {
        #expect(TensorTypePolicy.blockNumber("blk.12.attn_q.weight") == 12)
        #expect(TensorTypePolicy.blockNumber("output.weight") == nil)
        #expect(TensorTypePolicy.blockNumber("blk.x.attn_q.weight") == nil)
    }

    @Test func eligibility() {
        #expect(TensorTypePolicy.ineligibility(name: "blk.0.attn_norm.weight", dims: [256]) != nil)
        #expect(TensorTypePolicy.ineligibility(name: "blk.0.attn_q.bias", dims: [256, 2]) != nil)
        #expect(TensorTypePolicy.ineligibility(name: "blk.0.ffn_gate_inp.weight", dims: [256, 8]) != nil)
        #expect(TensorTypePolicy.ineligibility(name: "blk.0.ffn_gate_inp_shexp.weight", dims: [256]) != nil)
        #expect(TensorTypePolicy.ineligibility(name: "blk.0.attn_q.weight", dims: [256, 8]) == nil)
    }

    /// The options: --pure, --output-tensor-type, --token-embedding-type, --no-fallback.
    @Test func options() throws {
        var options = QuantizeOptions()
        options.pure = true
        options.tokenEmbeddingType = .q8_0
        options.outputTensorType = .f16
        let plan = try QuantizePlan(path: golden("dense.f16.gguf"), type: .q4_K_M, options: options)
        let types = Dictionary(uniqueKeysWithValues: plan.tensors.map { ($0.name, $0.type) })
        #expect(types["output.weight"] == .f16)
        #expect(types["token_embd.weight"] == .q8_0)
        #expect(types["blk.0.attn_v.weight"] == .q4_K)   // no mix
        #expect(types["blk.0.ffn_down.weight"] == .q5_0) // the fallback still applies
        var strict = QuantizeOptions()
        strict.noFallback = true
        #expect(throws: QuantizeError.fallbackRefused(path: golden("dense.f16.gguf"), tensor: "blk.0.ffn_down.weight",
                                                      reason: "rows of 288 are not a multiple of 256 for Q6_K", fallback: "Q8_0")) {
            _ = try QuantizePlan(path: golden("dense.f16.gguf"), type: .q4_K_M, options: strict)
        }
        _ = try QuantizePlan(path: golden("dense.f16.gguf"), type: .q8_0, options: strict)
    }
}
