// The base file's reader on hostile input (each refusal names what is wrong before anything is used), its writer's
// layout, the arithmetic of one position on hand-made logits, and the runs' refusals.

import Foundation
import Perplexity
import Qwen2Runtime
import Testing
import TestSupport

@Suite struct BaseFileTests {
    static let golden = fixturePath("perplexity/q2-tied.c64.kld-base")

    /// `bytes` written to a scratch file and opened as a base file: the error's text, or nil when it opens and every
    /// chunk reads.
    static func refusal(_ bytes: [UInt8]) throws -> String? {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/base", bytes)
            do {
                let reader = try KLDivergenceBaseReader(path: dir + "/base")
                var rows = [UInt16](repeating: 0, count: reader.header.scoredPerChunk * reader.header.rowWidth)
                for _ in 0..<reader.header.chunks { try rows.withUnsafeMutableBufferPointer { try reader.readChunk(into: $0) } }
                return nil
            } catch let error as CustomStringConvertible {
                return error.description.replacingOccurrences(of: dir + "/base: ", with: "")
            }
        }
    }

    static func int32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    @Test func hostileFilesAreRefusedByName() throws {
        let good = try readFile(Self.golden)
        #expect(try Self.refusal(good) == nil)
        var cases: [([UInt8], String)] = [
            ([], "does not look like a file of log-probabilities (no _logits_ magic: not a llama-perplexity --kl-divergence-base file)"),
            (Array("GGUF....".utf8) + good.dropFirst(8), "does not look like a file of log-probabilities (no _logits_ magic: not a llama-perplexity --kl-divergence-base file)"),
            (Array(good.prefix(14)), "ends inside its header (14 of 20 bytes)"),
            (Array(good.dropLast(1)), "is 81395 bytes, but its header (n_ctx 64, n_vocab 320, n_chunk 4) makes it 81396: truncated"),
            (good + [0], "is 81397 bytes, but its header (n_ctx 64, n_vocab 320, n_chunk 4) makes it 81396: corrupt (bytes after the end)"),
        ]
        func patched(_ offset: Int, _ value: Int32) -> [UInt8] {
            var b = good
            b.replaceSubrange(offset..<(offset + 4), with: Self.int32(value))
            return b
        }
        cases += [
            (patched(8, 2), "its context size 2 is not one llama-perplexity scores with (3 to 16777216)"),
            (patched(8, -64), "its context size -64 is not one llama-perplexity scores with (3 to 16777216)"),
            (patched(12, 0), "its vocabulary size 0 is out of range (1 to 16777216)"),
            (patched(16, 1 << 30), "its chunk count 1073741824 is out of range (1 to 16777216)"),
            (patched(16, 5), "is 81396 bytes, but its header (n_ctx 64, n_vocab 320, n_chunk 5) makes it 101740: truncated"),
            (patched(20 + 4 * 7, 320), "token 320 at position 7 is outside its vocabulary of 320: corrupt"),
            // The scale of chunk 2's first row made NaN, and the minimum of its third row infinite.
            (patched(20 + 4 * 256 + 31 * 648, Int32(bitPattern: 0x7fc0_0000)), "position 1 of chunk 2 has scale nan and minimum log-probability "),
            (patched(20 + 4 * 256 + 2 * 648 + 4, Int32(bitPattern: 0xff80_0000)), "position 3 of chunk 1 has scale "),
        ]
        for (bytes, message) in cases {
            let got = try Self.refusal(bytes)
            #expect(got?.hasPrefix(message) == true, "\(message)\n got \(got ?? "nothing")")
        }
    }

    /// A FIFO has no size to check first: a truncated stream is found where it ends.
    @Test func truncatedStreamIsRefused() throws {
        let good = try readFile(Self.golden)
        try withTemporaryDirectory { dir in
            let fifo = dir + "/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            let writer = Thread {
                let handle = FileHandle(forWritingAtPath: fifo)!
                handle.write(Data(good.prefix(20 + 4 * 256 + 31 * 648 + 100)))
                try? handle.close()
            }
            writer.start()
            let reader = try KLDivergenceBaseReader(path: fifo)
            var rows = [UInt16](repeating: 0, count: reader.header.scoredPerChunk * reader.header.rowWidth)
            try rows.withUnsafeMutableBufferPointer { try reader.readChunk(into: $0) }
            #expect(throws: PerplexityError.malformedBase(path: fifo, reason: "ends inside the log-probabilities of chunk 2: truncated")) {
                try rows.withUnsafeMutableBufferPointer { try reader.readChunk(into: $0) }
            }
        }
    }

    /// One position by hand: logits 0, 1, 2 and −30 (below max − 16, so quantized to 0), token 1.
    @Test func onePositionByHand() throws {
        let logits: [Float] = [0, 1, 2, -30]
        var row = [UInt16](repeating: 0xffff, count: KLDivergenceBase.rowWidth(vocabulary: 4))
        #expect(row.count == 8)
        let nll = logits.withUnsafeBufferPointer { l in
            row.withUnsafeMutableBufferPointer { PositionScoring.quantizeLogProbabilities(l.baseAddress!, vocabulary: 4, token: 1, into: $0.baseAddress!) }
        }
        let lse = log(exp(0.0) + exp(1.0) + exp(2.0) + exp(-30.0))
        #expect(abs(nll - (lse - 1)) < 1e-6)
        let scale = Float(bitPattern: UInt32(row[0]) | UInt32(row[1]) << 16)
        let minimum = Float(bitPattern: UInt32(row[2]) | UInt32(row[3]) << 16)
        #expect(scale == Float(16) / 65535 && abs(Double(minimum) - (-16 - lse + 2)) < 1e-5)
        // (logit − (2 − 16)) / scale, rounded: 14, 15 and 16 × 65535 / 16; the last one at the minimum is 0.
        #expect(Array(row[4...]) == [57343, 61439, 65535, 0])
        // Against its own row, the divergence is the quantization's only; the same top token.
        let d = logits.withUnsafeBufferPointer { l in
            row.withUnsafeBufferPointer { PositionScoring.divergence(l.baseAddress!, vocabulary: 4, base: $0.baseAddress!, token: 1) }
        }
        #expect(d.sameTop && abs(d.kld) < 1e-3 && abs(d.pDiff) < 1e-3 && abs(Double(d.nll) - nll) < 1e-6)
    }

    /// -b changes the steps the forward pass takes, and the numbers in float rounding only (the kernels pair tokens, so
    /// an odd step rounds differently; measured 2.4e-7 relative): the default and -b 64 are the same run.
    @Test func batchSizeChangesNothing() throws {
        let tokens = try Fixture.tokens("q2moe")
        let model = try Qwen2Model(path: Fixture.modelPath("q2moe"))
        var results: [[Double]] = []
        for batch in [nil, 1, 7, 64] {
            var options = PerplexityOptions()
            options.context = 64
            options.chunkLimit = 2
            options.batchSize = batch
            let r = try PerplexityRun(tokens: tokens, options: options).run(model: model)
            results.append(r.runningPerplexity + [r.perplexity, r.perplexityError ?? 0])
        }
        #expect(results[3] == results[0], "\(results)")
        for r in results { for (a, b) in zip(r, results[0]) { #expect(abs(a - b) <= 1e-6 * b, "\(results)") } }
    }

    @Test func runsRefuseWhatTheyCannotScore() throws {
        var options = PerplexityOptions()
        options.context = 64
        #expect(throws: PerplexityError.tooFewTokens(have: 127, context: 64)) {
            try PerplexityRun(tokens: [UInt32](repeating: 1, count: 127), options: options)
        }
        #expect(PerplexityError.tooFewTokens(have: 127, context: 64).description
            == "you need at least 128 tokens to evaluate perplexity with a context of 64; the text tokenizes to only 127 tokens")
        let model = try Qwen2Model(path: Fixture.modelPath("q2-tied"))
        let base = try KLDivergenceBaseReader(path: Self.golden)
        #expect(throws: PerplexityError.mismatchedBase(path: Self.golden, reason:
            "was computed with a context of 64 tokens, not 128 (-c): give -c 64 or leave it out")) {
            try KLDivergenceRun(base: base, model: model, context: 128, textTokens: nil, options: options)
        }
        var other = try Fixture.tokens("q2-tied")
        other[100] = other[100] == 5 ? 6 : 5
        #expect(throws: PerplexityError.mismatchedBase(path: Self.golden, reason:
            "its tokens differ from the text's at token 100 (\(base.tokens[100]) in the base file, \(other[100]) from the text): "
            + "another text, or another tokenizer")) {
            try KLDivergenceRun(base: base, model: model, context: nil, textTokens: other, options: options)
        }
        #expect(throws: PerplexityError.mismatchedBase(path: Self.golden, reason: "holds 256 tokens, the text only 200: another text")) {
            try KLDivergenceRun(base: base, model: model, context: nil, textTokens: Array(base.tokens.prefix(200)), options: options)
        }
    }
}
