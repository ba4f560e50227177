import Foundation
import QwenKitIO
import Testing
import TestSupport
@testable import QwenTokenizer

/// The golden set made with Hugging Face `tokenizers` (Fixtures/tokenizer-golden): ids must be
/// identical, and decoding them must give back the NFC text.
@Suite struct GoldenTests {
    static let tokenizer = try! Tokenizer.embeddedQwen2()

    static func encode(_ text: String, _ encoder: TokenEncoder) throws -> [UInt32] {
        var ids: [UInt32] = []
        try Array(text.utf8).withUnsafeBufferPointer { try encoder.encode($0, special: .parse, into: &ids) }
        return ids
    }

    static func decode(_ ids: [UInt32], skipSpecial: Bool = false) throws -> String {
        var bytes: [UInt8] = []
        try tokenizer.decode(ids, skipSpecial: skipSpecial, into: &bytes)
        var lossy: [UInt8] = []
        bytes.withUnsafeBytes { UTF8Validation.replacingInvalid($0, into: &lossy) }
        return String(decoding: lossy, as: UTF8.self)
    }

    static func check(_ cases: [Golden.Case]) throws {
        let encoder = tokenizer.makeEncoder()
        var failures = 0
        for c in cases {
            let ids = try encode(c.text, encoder)
            if ids != c.ids {
                failures += 1
                if failures <= 10 { Issue.record("\(c.name): ids \(ids) != HF \(c.ids) for \(c.text.debugDescription.prefix(200))") }
            }
            let back = try decode(c.ids)
            if back != c.nfc || Array(back.utf8) != Array(c.nfc.utf8) {
                failures += 1
                if failures <= 10 { Issue.record("\(c.name): decode gives \(back.debugDescription.prefix(200)), NFC is \(c.nfc.debugDescription.prefix(200))") }
            }
        }
        #expect(failures == 0, "\(failures) of \(cases.count) golden cases differ")
    }

    @Test func handWrittenCases() throws {
        #expect(Golden.handWritten.count > 1000)
        try Self.check(Golden.handWritten)
    }

    @Test func randomStrings() throws {
        #expect(Golden.random.count >= 3000)
        try Self.check(Golden.random)
    }

    /// HF's decode of arbitrary id sequences, including ones that are not valid UTF-8.
    @Test func decodeGolden() throws {
        let lines = Golden.lines("tokenizer-golden/decode.jsonl")
        #expect(lines.count > 500)
        for line in lines {
            let ids = (line["ids"] as! [NSNumber]).map(\.uint32Value)
            #expect(try Self.decode(ids) == line["text"] as! String, "\(line["name"]!)")
            #expect(try Self.decode(ids, skipSpecial: true) == line["text_skip_special"] as! String, "\(line["name"]!)")
        }
    }

    /// Characters assigned after Unicode 9: HF's tables and ours may differ; this records how many.
    @Test func unicodeEdgeCases() throws {
        let cases = Golden.cases("tokenizer-golden/unicode-edge.jsonl")
        let encoder = Self.tokenizer.makeEncoder()
        var differing: [String] = []
        for c in cases where try Self.encode(c.text, encoder) != c.ids { differing.append(c.name) }
        // Known and accepted: see README "Exactness". The list must not grow.
        #expect(differing.count <= Self.knownUnicodeEdgeDifferences, "\(differing.prefix(20))")
    }
    static let knownUnicodeEdgeDifferences = 0

    /// Encoding a long text cut into units at safe places gives the same ids as encoding it whole.
    @Test func safeCutsDoNotChangeIDs() throws {
        var corpus: [UInt8] = []
        for c in Golden.handWritten + Golden.random.prefix(1500) {
            corpus.append(contentsOf: c.text.utf8)
            corpus.append(contentsOf: " and more text\n".utf8)
        }
        try Self.expectCutLikeWhole(corpus, unitSizes: [1024, 4096, 65536])
    }

    /// A long text of numbers of many scripts (each its own piece, and no other safe cut) is cut between
    /// them, except before one that a combining mark could reach (it follows the mark's base there).
    @Test func numbersOfAnyScriptAreCut() throws {
        let block = "١٢٣٤٥٦٧٨٩٠３４５²½Ⅻ①߀०১" + "٣\u{0301}٤" + "٥\u{0308}٦" + "𝟙𝟚"
        try Self.expectCutLikeWhole(Array(String(repeating: block, count: 3000).utf8), unitSizes: [1024, 4096])
    }

    /// A long run of CJK ideographs without punctuation (one pretokenized piece) is cut between ideographs no token
    /// spans, and gives the ids of encoding it whole without any cut between characters.
    @Test func ideographRunsAreCut() throws {
        var random = CharacterSplitsTests.Random(x: 11)
        var corpus: [UInt8] = []
        for _ in 0..<10_000 {
            corpus += CharacterSplitsTests.utf8(CharacterSplitsTests.common[random.next(CharacterSplitsTests.common.count)])
        }
        let uncut = Self.tokenizer.makeEncoder()
        uncut.scratch.neverCuts = true
        var whole: [UInt32] = []
        try corpus.withUnsafeBufferPointer { try uncut.encode($0, into: &whole) }
        for unitBytes in [1024, 4096] {
            var options = CorpusEncodingOptions()
            options.unitBytes = unitBytes
            options.threads = 2
            let collector = Collector()
            try CorpusEncoder(tokenizer: Self.tokenizer, options: options)
                .run(sources: [MemorySource(corpus, name: "ideographs")], consumer: collector)
            #expect(collector.parts > corpus.count / unitBytes / 2, "not cut: \(collector.parts) parts")
            #expect(collector.ids == whole, "unit size \(unitBytes)")
        }
    }

    /// An overlong encoding of a digit ("E0 80 B1" for '1') is invalid UTF-8, not a number: no cut between
    /// two of them, whose replacements are one run of U+FFFD (a lax decoder cut there and changed the ids).
    @Test func overlongDigitsAreNotNumbers() throws {
        let corpus = [UInt8](repeating: 0, count: 30_000 * 3).enumerated().map { [0xE0, 0x80, 0xB1][$0.offset % 3] as UInt8 }
        var replaced: [UInt8] = []
        corpus.withUnsafeBytes { UTF8Validation.replacingInvalid($0, into: &replaced) }
        var whole: [UInt32] = []
        try replaced.withUnsafeBufferPointer { try Self.tokenizer.makeEncoder().encode($0, into: &whole) }
        var options = CorpusEncodingOptions()
        options.unitBytes = 1024
        options.invalid = .replace
        let collector = Collector()
        try CorpusEncoder(tokenizer: Self.tokenizer, options: options)
            .run(sources: [MemorySource(corpus, name: "overlong")], consumer: collector)
        #expect(collector.ids == whole)
    }

    /// `corpus` encoded as units of each size on two threads is cut (into at least half as many parts as
    /// units) and gives the ids of encoding it whole.
    static func expectCutLikeWhole(_ corpus: [UInt8], unitSizes: [Int], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var whole: [UInt32] = []
        try corpus.withUnsafeBufferPointer { try tokenizer.makeEncoder().encode($0, into: &whole) }
        for unitBytes in unitSizes {
            var options = CorpusEncodingOptions()
            options.unitBytes = unitBytes
            options.threads = 2
            let collector = Collector()
            try CorpusEncoder(tokenizer: tokenizer, options: options)
                .run(sources: [MemorySource(corpus, name: "corpus")], consumer: collector)
            #expect(collector.parts > corpus.count / unitBytes / 2, "not cut: \(collector.parts) parts", sourceLocation: sourceLocation)
            #expect(collector.ids == whole, "unit size \(unitBytes)", sourceLocation: sourceLocation)
        }
    }

    final class Collector: CorpusConsumer {
        var ids: [UInt32] = []
        var parts = 0
        func consume(input: Int, document: Int, ids: UnsafeBufferPointer<UInt32>, extraFields: UnsafeBufferPointer<UInt8>,
                     continued: Bool, continues: Bool) throws {
            self.ids.append(contentsOf: ids)
            parts += 1
        }
        func endInput(_ input: Int, bytes: Int64, characters: Int64) throws {}
    }
}
