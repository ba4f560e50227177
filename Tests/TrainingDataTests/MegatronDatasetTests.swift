import Testing
import QwenKitIO
import QwenTokenizer
import TestSupport
@testable import TrainingData

/// `encode --format megatron` against datasets megatron-core's IndexedDatasetBuilder wrote for the same documents
/// (Fixtures/scripts/make_megatron_fixtures.py), byte for byte.
@Suite struct MegatronDatasetTests {
    static let docs = fixturePath("megatron/docs.jsonl")

    /// Encodes docs.jsonl's "text" fields into PREFIX with `tokenizer`, as `encode --jsonl text --format megatron` does.
    static func encode(_ tokenizer: Tokenizer, eod: UInt32?, limit: LengthLimit = .none, threads: Int = 1, prefix: String) throws {
        var options = CorpusEncodingOptions()
        options.framing = .jsonl(field: "text")
        options.threads = threads
        let records = try MegatronDatasetWriter(prefix: prefix, dtype: .optimal(vocabularySize: tokenizer.vocabularySize))
        let writer = TokenOutputWriter(records: records, limit: limit, eod: eod)
        try CorpusEncoder(tokenizer: tokenizer, options: options).run(sources: [try openInput(path: docs)], consumer: writer)
        try writer.finish()
    }

    static func tiny() throws -> Tokenizer { try Tokenizer.load(path: fixturePath("checkpoints/q2-tied/tokenizer.json")) }

    @Test(arguments: [("qwen2", nil), ("qwen2-eod", 151_643), ("tiny-eod", 296)] as [(String, UInt32?)])
    func matchesMegatronCore(name: String, eod: UInt32?) throws {
        let tokenizer = name.hasPrefix("tiny") ? try Self.tiny() : try Tokenizer.embeddedQwen2()
        try withTemporaryDirectory { dir in
            for threads in [1, 2] {
                try Self.encode(tokenizer, eod: eod, threads: threads, prefix: "\(dir)/out")
                #expect(try readFile("\(dir)/out.bin") == readFile(fixturePath("megatron/\(name).bin")))
                #expect(try readFile("\(dir)/out.idx") == readFile(fixturePath("megatron/\(name).idx")))
            }
        }
    }

    @Test func readsWhatMegatronCoreWrote() throws {
        let index = try MegatronIndex(path: fixturePath("megatron/qwen2-eod.idx"))
        #expect(index.dtype == .int32)
        #expect(index.sequenceCount == 8)   // two of the ten documents are empty
        #expect(index.documentCount == 10)
        #expect(index.tokenCount == 87)
        #expect((0...10).map(index.documentStart) == [0, 1, 1, 2, 3, 4, 5, 6, 7, 7, 8])
        let tiny = try MegatronIndex(path: fixturePath("megatron/tiny-eod.idx"))
        #expect(tiny.dtype == .uint16)
        #expect(tiny.tokenCount * 2 == (try readFile(fixturePath("megatron/tiny-eod.bin")).count))
    }

    /// With --chunk each chunk is a sequence of its document; no golden exists (preprocess_data.py has no chunks), so
    /// the structure is checked: sequences of at most N tokens whose concatenation is the unchunked dataset.
    @Test func chunksAreSequencesOfTheirDocument() throws {
        let tokenizer = try Tokenizer.embeddedQwen2()
        try withTemporaryDirectory { dir in
            try Self.encode(tokenizer, eod: 151_643, limit: .chunk(4), prefix: "\(dir)/chunked")
            #expect(try readFile("\(dir)/chunked.bin") == readFile(fixturePath("megatron/qwen2-eod.bin")))
            let index = try MegatronIndex(path: "\(dir)/chunked.idx")
            let whole = try MegatronIndex(path: fixturePath("megatron/qwen2-eod.idx"))
            #expect(index.documentCount == 10)
            for d in 0..<10 {
                let chunks = (index.documentStart(d)..<index.documentStart(d + 1)).map(index.length)
                let expected = (whole.documentStart(d)..<whole.documentStart(d + 1)).map(whole.length).reduce(0, +)
                #expect(chunks.reduce(0, +) == expected)
                #expect(chunks.allSatisfy { $0 >= 1 && $0 <= 4 })
                #expect(chunks.dropLast().allSatisfy { $0 == 4 })
            }
        }
    }

    @Test func prefixMayNameEitherFile() {
        #expect(MegatronLayout.paths(prefix: "a/b.bin") == ("a/b.bin", "a/b.idx"))
        #expect(MegatronLayout.paths(prefix: "a/b.idx") == ("a/b.bin", "a/b.idx"))
        #expect(MegatronLayout.paths(prefix: "a/b") == ("a/b.bin", "a/b.idx"))
        #expect(MegatronLayout.paths(prefix: ".bin") == (".bin.bin", ".bin.idx"))
    }

    /// Broken indexes: each is refused with a line naming the file and what is wrong.
    @Test func refusesBrokenIndexes() throws {
        let good = try readFile(fixturePath("megatron/qwen2-eod.idx"))
        func put64(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64) {
            for k in 0..<8 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        }
        var badMagic = good; badMagic[0] = UInt8(ascii: "X")
        var badVersion = good; put64(&badVersion, 9, 2)
        var badDtype = good; badDtype[17] = 9
        var hugeCount = good; put64(&hugeCount, 18, 1 << 62)
        var badPointer = good; put64(&badPointer, 34 + 4 * 8 + 8, 5)
        var badDocuments = good; put64(&badDocuments, 34 + 12 * 8 + 8 * 10, 3)
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(20)), "not a Megatron index (20 bytes, shorter than the 34-byte header)"),
            (badMagic, "not a Megatron index (no MMIDIDX header)"),
            (badVersion, "index version 2, expected 1"),
            (badDtype, "unknown dtype code 9"),
            (hugeCount, "claims 4611686018427387904 sequences and 11 document entries, more than its 218 bytes can hold"),
            (Array(good.dropLast()), "is 217 bytes; 8 sequences and 11 document entries need 218"),
            (badPointer, "sequence 1 starts at byte 5 of the .bin; its lengths put it at 20"),
            (badDocuments, "document index entry 10 is 3 (entries go from 0 up to the 8 sequences)"),
        ]
        try withTemporaryDirectory { dir in
            for (bytes, message) in cases {
                try writeFile("\(dir)/x.idx", bytes)
                #expect(throws: MegatronDatasetError("\(dir)/x.idx: \(message)")) { _ = try MegatronIndex(path: "\(dir)/x.idx") }
            }
        }
    }
}
