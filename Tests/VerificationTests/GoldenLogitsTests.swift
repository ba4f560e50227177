// Golden logits files: every committed golden loads with its exact tokens; hostile files are refused with the
// error that names what is wrong.

import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Verification

/// The prompts of Fixtures/scripts/make_logit_fixtures.py: (name, token count, first tokens).
let goldenPrompts: [(String, Int, [UInt32])] = [
    ("short", 5, [257, 294, 268, 266, 33]),
    ("chat", 21, [297, 117, 115, 101, 114, 10, 257, 273]),
    ("long", 60, [84, 104, 101, 273, 295, 114, 111, 119]),
]
let goldenCheckpoints = ["q2-tied", "q2-untied", "q2-yarn", "q2moe", "q2-k256"]

@Test(arguments: goldenCheckpoints)
func committedGoldensLoad(checkpoint: String) throws {
    var prompts = goldenPrompts
    if checkpoint == "q2-yarn" { prompts.append(("yarn", 160, [257, 273, 295, 114, 111, 119, 110, 287])) }
    for (prompt, n, first) in prompts {
        let g = try GoldenLogits(path: goldenPath("\(checkpoint).\(prompt).safetensors"))
        #expect(g.form == .full)
        #expect(g.vocabSize == 320)
        #expect(g.count == n)
        #expect(g.topK == nil)
        #expect(Array(g.tokens.prefix(first.count)) == first)
        #expect(g.metadata["model"] == checkpoint)
        #expect(g.metadata["format"] == GoldenLogits.formatName)
        #expect(g.logits(at: n - 1).count == 320)
    }
    let compact = try GoldenLogits(path: goldenPath("\(checkpoint).chat.top8.safetensors"))
    #expect(compact.form == .compact)
    #expect(compact.vocabSize == 320)
    #expect(compact.topK == 8)
    #expect(compact.count == 21)
    #expect(Array(compact.tokens.prefix(8)) == [297, 117, 115, 101, 114, 10, 257, 273])
    #expect(compact.prompt == "<|im_start|>user\nthe quick brown fox jumps over the lazy dog<|im_end|>\n")
    #expect(compact.topIDs(at: 0).count == 8)
}

@Test func committedGoldenValues() throws {
    // Values read back with Python's safetensors: q2-yarn.chat position 0's top 8 and its log-sum-exp.
    let full = try GoldenLogits(path: goldenPath("q2-yarn.chat.safetensors"))
    let compact = try GoldenLogits(path: goldenPath("q2-yarn.chat.top8.safetensors"))
    #expect(compact.topIDs(at: 0) == [55, 156, 201, 313, 5, 222, 151, 42])
    #expect(full.top1(at: 0) == 55)
    #expect(compact.top1(at: 0) == 55)
    #expect(compact.logSumExp(at: 0) == Double(Float(6.785399)))
    #expect(abs(full.logSumExp(at: 0) - compact.logSumExp(at: 0)) < 1e-6)
    let row = full.logits(at: 0)
    #expect(compact.logits(at: 0) == compact.topIDs(at: 0).map { row[$0] })
}

@Test func checkCompatibleNamesBothSizes() throws {
    let g = try GoldenLogits(path: goldenPath("q2-tied.short.safetensors"))
    try g.checkCompatible(modelVocabSize: 320)
    #expect(throws: VerificationError.vocabMismatch(path: g.path, golden: 320, model: 151936)) {
        try g.checkCompatible(modelVocabSize: 151936)
    }
    #expect(VerificationError.vocabMismatch(path: "a.safetensors", golden: 320, model: 151936).description
        == "a.safetensors: the golden's vocabulary has 320 ids but the model's has 151936 (made from another model?)")
}

// MARK: - Hostile files

/// Writes `tensors` (and metadata) to a file and returns the error loading it gives.
func loadError(_ tensors: [TestTensor], metadata: [String: String]? = nil) throws -> VerificationError? {
    try withTemporaryDirectory { (dir: String) -> VerificationError? in
        let path = dir + "/g.safetensors"
        try writeSafetensors(path, tensors, metadata: metadata)
        do { _ = try GoldenLogits(path: path); return nil } catch let e as VerificationError { return e }
    }
}

let tokens2 = TestTensor.i32("tokens", [2], [1, 2])
let logits2x4 = TestTensor.f32("logits", [2, 4], [0, 1, 2, 3, 3, 2, 1, 0])
let compactMeta = ["vocab_size": "4"]

@Test func hostileFullGoldens() throws {
    let p = "g.safetensors"
    func tail(_ e: VerificationError?) -> String? { e.map { String($0.description.split(separator: "/").last!) } }
    #expect(tail(try loadError([tokens2])) == p + ": not a golden logits file: no tensor \"logits\" (full form) or \"top_ids\" (compact form)")
    #expect(tail(try loadError([logits2x4])) == p + ": no tensor \"tokens\", which the full form needs")
    #expect(tail(try loadError([.f32("tokens", [2], [1, 2]), logits2x4])) == p + ": tensor \"tokens\": dtype F32, expected I32")
    #expect(tail(try loadError([tokens2, TestTensor(name: "logits", dtype: .f16, shape: [2, 4], bytes: [UInt8](repeating: 0, count: 16))]))
        == p + ": tensor \"logits\": dtype F16, expected F32")
    #expect(tail(try loadError([tokens2, .f32("logits", [3, 4], [Float](repeating: 0, count: 12))]))
        == p + ": tensor \"logits\": shape [3, 4], expected [n, vocab] with n = 2 (the tokens)")
    #expect(tail(try loadError([tokens2, .f32("logits", [8], [Float](repeating: 0, count: 8))]))
        == p + ": tensor \"logits\": shape [8], expected [n, vocab] with n = 2 (the tokens)")
    #expect(tail(try loadError([.i32("tokens", [1, 2], [1, 2]), logits2x4])) == p + ": tensor \"tokens\": shape [1, 2], expected [n]")
    #expect(tail(try loadError([.i32("tokens", [0], []), .f32("logits", [0, 4], [])])) == p + ": no tokens (tensor \"tokens\" is empty)")
    #expect(tail(try loadError([tokens2, .f32("logits", [2, 4], [0, 1, 2, 3, 3, .nan, 1, 0])]))
        == p + ": tensor \"logits\": NaN or infinity at position 1, element 1")
    #expect(tail(try loadError([tokens2, .f32("logits", [2, 4], [0, 1, -.infinity, 3, 3, 2, 1, 0])]))
        == p + ": tensor \"logits\": NaN or infinity at position 0, element 2")
    #expect(tail(try loadError([.i32("tokens", [2], [1, 4]), logits2x4]))
        == p + ": token 4 at position 1 is out of range for a vocabulary of 4")
    #expect(tail(try loadError([.i32("tokens", [2], [-1, 0]), logits2x4]))
        == p + ": token -1 at position 0 is out of range for a vocabulary of 4")
    #expect(tail(try loadError([tokens2, logits2x4], metadata: ["format": "other"]))
        == p + ": metadata \"format\": \"other\", expected \"qwenkit-golden-logits-v1\"")
    #expect(tail(try loadError([tokens2, logits2x4], metadata: ["vocab_size": "5"]))
        == p + ": metadata \"vocab_size\": says 5 but the logits have 4 columns")
    #expect(tail(try loadError([tokens2, logits2x4], metadata: ["form": "compact"]))
        == p + ": metadata \"form\": says \"compact\" but the tensors are the full form")
    #expect(tail(try loadError([tokens2, logits2x4, .i32("top_ids", [2, 1], [3, 0])]))
        == p + ": holds both \"logits\" (full form) and \"top_ids\" (compact form); keep one")
    #expect(try loadError([tokens2, logits2x4]) == nil)
}

@Test func hostileCompactGoldens() throws {
    let p = "g.safetensors"
    func tail(_ e: VerificationError?) -> String? { e.map { String($0.description.split(separator: "/").last!) } }
    // A valid compact golden of the rows [0, 1, 2, 3] and [3, 2, 1, 0], K = 2: log Σ e^i = 3.4401896.
    let ids = TestTensor.i32("top_ids", [2, 2], [3, 2, 0, 1])
    let top = TestTensor.f32("top_logits", [2, 2], [3, 2, 3, 2])
    let lse = TestTensor.f32("logsumexp", [2], [3.4401896, 3.4401896])
    #expect(try loadError([tokens2, ids, top, lse], metadata: compactMeta) == nil)
    #expect(tail(try loadError([tokens2, ids, top, lse])) == p + ": metadata \"vocab_size\": missing; the compact form needs it")
    #expect(tail(try loadError([tokens2, ids, top, lse], metadata: ["vocab_size": "x"]))
        == p + ": metadata \"vocab_size\": \"x\" is not a positive integer")
    #expect(tail(try loadError([tokens2, ids, lse], metadata: compactMeta)) == p + ": no tensor \"top_logits\", which the compact form needs")
    #expect(tail(try loadError([tokens2, ids, top], metadata: compactMeta)) == p + ": no tensor \"logsumexp\", which the compact form needs")
    #expect(tail(try loadError([tokens2, .i32("top_ids", [2, 5], [Int32](repeating: 0, count: 10)),
                                .f32("top_logits", [2, 5], [Float](repeating: 0, count: 10)), lse], metadata: compactMeta))
        == p + ": compact form keeps 5 ids per position; it must be between 1 and the vocabulary size 4")
    #expect(tail(try loadError([tokens2, ids, .f32("top_logits", [2, 3], [3, 2, 1, 3, 2, 1]), lse], metadata: compactMeta))
        == p + ": tensor \"top_logits\": shape [2, 3], expected [n, K] = [2, 2] (as top_ids)")
    #expect(tail(try loadError([tokens2, .i32("top_ids", [2, 2], [3, 4, 0, 1]), top, lse], metadata: compactMeta))
        == p + ": top_ids[0][1] = 4 is out of range for a vocabulary of 4")
    #expect(tail(try loadError([tokens2, .i32("top_ids", [2, 2], [3, 2, 0, 0]), top, lse], metadata: compactMeta))
        == p + ": top_ids[1] names id 0 twice")
    #expect(tail(try loadError([tokens2, ids, .f32("top_logits", [2, 2], [3, 2, 2, 3]), lse], metadata: compactMeta))
        == p + ": top_logits[1] is not in descending order at rank 1")
    #expect(tail(try loadError([tokens2, ids, .f32("top_logits", [2, 2], [3, .nan, 3, 2]), lse], metadata: compactMeta))
        == p + ": tensor \"top_logits\": NaN or infinity at position 0, element 1")
    #expect(tail(try loadError([tokens2, ids, top, .f32("logsumexp", [2], [3.4401896, 2.5])], metadata: compactMeta))
        == p + ": logsumexp[1] 2.5 is below the largest logit 3.0")
    #expect(try loadError([tokens2, ids, top, .f32("logsumexp", [2], [3.4401896, 3.1])], metadata: compactMeta)
        .map { $0.description.contains("logsumexp[1] 3.1 gives the top 2 a probability of") } == true)
    #expect(tail(try loadError([tokens2, TestTensor(name: "top_ids", dtype: .i64, shape: [2, 2], bytes: [UInt8](repeating: 0, count: 32)),
                                top, lse], metadata: compactMeta))
        == p + ": tensor \"top_ids\": dtype I64, expected I32")
}

@Test func unreadableFileKeepsTheReadersError() throws {
    try withTemporaryDirectory { dir in
        let path = dir + "/short.safetensors"
        _ = FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        #expect(throws: VerificationError.unreadable(.truncated(path: path, fileSize: 3, needed: 8))) {
            try GoldenLogits(path: path)
        }
    }
}
