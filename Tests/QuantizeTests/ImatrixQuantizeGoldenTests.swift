// quantize with an importance matrix, and every file type llama-quantize lists, against llama-quantize itself
// (Fixtures/quantize-imatrix, made by Fixtures/scripts/make_imatrix_quantize_goldens.py): the same bytes, or an error
// where llama-quantize refuses.

import Foundation
import ImportanceMatrix
import ModelFiles
import Testing
import TestSupport
@testable import Quantize

private func imatrixGolden(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Fixtures/quantize-imatrix").appendingPathComponent(name).path
}

/// The models of the goldens: q2-k256 (every row a multiple of 256) read as its checkpoint, which plans exactly as
/// its float32 conversion does, and the two fallback models of quantize-golden.
private func input(_ model: String) throws -> QuantizeInput {
    model == "k256"
        ? try QuantizeInput(checkpoint: repositoryRoot.appendingPathComponent("Fixtures/checkpoints/q2-k256").path)
        : try QuantizeInput(path: golden("\(model).f16.gguf"))
}

/// An importance matrix read as `quantize --imatrix` reads it, recorded under the path the script gave
/// llama-quantize (relative to the repository root).
private func importance(_ file: String, including: [String] = [], excluding: [String] = []) throws -> ImportanceWeights {
    var weights = try QuantizerWeights(path: imatrixGolden(file))
    weights.filter(including: including, excluding: excluding)
    return ImportanceWeights(entries: weights.entries, file: "Fixtures/quantize-imatrix/" + file,
                             dataset: weights.datasets.first, chunkCount: weights.chunkCount)
}

/// Quantizes and compares with the digest `name`, or expects a refusal where llama-quantize refused.
private func check(_ name: String, model: String, type: QuantizeType, options: QuantizeOptions = QuantizeOptions(),
                   importance: ImportanceWeights?, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let digest = try Digest(imatrixGolden(name))
    var options = options
    options.threads = 2
    if digest.json["error"] as? Bool == true {
        #expect(throws: (any Error).self, "llama-quantize: \(digest.json["message"] ?? "")", sourceLocation: sourceLocation) {
            let plan = try QuantizePlan(input: try input(model), type: type, options: options, importance: importance)
            try withTemporaryDirectory { dir in try Quantizer.write(plan, to: dir + "/out.gguf") }
        }
        return
    }
    try withTemporaryDirectory { dir in
        let plan = try QuantizePlan(input: try input(model), type: type, options: options, importance: importance)
        try Quantizer.write(plan, to: dir + "/out.gguf")
        try expectMatches(dir + "/out.gguf", digest, sourceLocation: sourceLocation)
    }
}

@Suite struct ImatrixQuantizeGoldenTests {
    static let models = ["k256", "dense", "moe"]
    static let imatrices = ["k256": "k256.imatrix.gguf", "dense": "dense.imatrix.gguf", "moe": "moe.imatrix.gguf"]

    /// Every type llama-quantize lists, with an importance matrix, on every model.
    @Test(arguments: models, QuantizeType.allCases)
    func withImportance(model: String, type: QuantizeType) throws {
        try check("\(model).\(type.name).json", model: model, type: type, importance: try importance(Self.imatrices[model]!))
    }

    /// The types added with importance matrices, without one (the ones that need one are refused).
    @Test(arguments: QuantizeType.allCases.filter { FileManager.default.fileExists(atPath: imatrixGolden("k256.\($0.name).plain.json")) })
    func withoutImportance(type: QuantizeType) throws {
        try check("k256.\(type.name).plain.json", model: "k256", type: type, importance: nil)
    }

    /// The legacy .dat layout of the same matrix gives the same file but for quantize.imatrix.file.
    @Test func legacyLayout() throws {
        try check("k256.dat.json", model: "k256", type: .iq3_XXS, importance: try importance("k256.imatrix.dat"))
    }

    @Test func includeAndExcludeWeights() throws {
        try check("k256.include-attn.json", model: "k256", type: .q4_K_M, importance: try importance("k256.imatrix.gguf", including: ["attn_"]))
        try check("k256.exclude-ffn.json", model: "k256", type: .iq4_XS, importance: try importance("k256.imatrix.gguf", excluding: ["ffn_"]))
    }

    @Test func tensorTypes() throws {
        var options = QuantizeOptions()
        options.tensorTypes = [TensorTypeOverride(pattern: "attn_q", type: .q8_0)!, TensorTypeOverride(pattern: "ffn_down", type: .iq4_NL)!,
                               TensorTypeOverride(pattern: #"blk\.1\.attn_k"#, type: .q5_1)!]
        try check("k256.tensor-types.json", model: "k256", type: .q4_K_M, options: options, importance: try importance("k256.imatrix.gguf"))
    }

    @Test func overrideKV() throws {
        var options = QuantizeOptions()
        options.metadataOverrides = [GGUFKeyValue("general.name", .string("renamed")), GGUFKeyValue("qwen2.context_length", .uint32(4096)),
                                     GGUFKeyValue("general.flag", .bool(true)), GGUFKeyValue("general.ratio", .float32(0.5))]
        try check("k256.override-kv.json", model: "k256", type: .q5_K_M, options: options, importance: try importance("k256.imatrix.gguf"))
    }

    @Test func pruneLayers() throws {
        var options = QuantizeOptions()
        options.pruneLayers = [1]
        try check("k256.prune-1.json", model: "k256", type: .q4_K_M, options: options, importance: try importance("k256.imatrix.gguf"))
        options.pruneLayers = [0]
        try check("k256.prune-0.json", model: "k256", type: .iq3_S, options: options, importance: try importance("k256.imatrix.gguf"))
    }

    @Test func pureAndOutputTypes() throws {
        var options = QuantizeOptions()
        options.pure = true
        try check("k256.pure.json", model: "k256", type: .q2_K_S, options: options, importance: try importance("k256.imatrix.gguf"))
        options = QuantizeOptions()
        options.outputTensorType = .iq4_XS
        options.tokenEmbeddingType = .q5_K
        try check("k256.output-type.json", model: "k256", type: .iq2_M, options: options, importance: try importance("k256.imatrix.gguf"))
    }

    /// An importance matrix of another model: entries of the wrong size stop the plan; one that matches nothing too.
    @Test func importanceOfAnotherModel() throws {
        let k256 = try importance("k256.imatrix.gguf")
        #expect(throws: QuantizeError.self) {
            _ = try QuantizePlan(input: try input("dense"), type: .q4_K_M, options: QuantizeOptions(), importance: k256)
        }
        var renamed = k256
        renamed.entries = Dictionary(uniqueKeysWithValues: k256.entries.map { ("x." + $0.key, $0.value) })
        #expect(throws: QuantizeError.importanceUnmatched(path: renamed.file, example: "token_embd.weight")) {
            _ = try QuantizePlan(input: try input("k256"), type: .q4_K_M, options: QuantizeOptions(), importance: renamed)
        }
    }
}
