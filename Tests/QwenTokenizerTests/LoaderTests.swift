import Foundation
import QwenKitIO
import Testing
import TestSupport
@testable import QwenTokenizer

/// Malformed tokenizer files end in a TokenizerError naming the file, never a crash.
@Suite struct LoaderTests {
    static let json: [UInt8] = {
        let data = try! Data(contentsOf: Golden.url("tokenizers/qwen2/tokenizer.json.zst"))
        return try! data.withUnsafeBytes { try ZstdFrame.decompress($0) }
    }()

    func load(_ bytes: [UInt8]) throws -> Tokenizer {
        try bytes.withUnsafeBufferPointer { try Tokenizer.parseTokenizerJSON($0, path: "tokenizer.json") }
    }

    func expectError(_ bytes: [UInt8], containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try load(bytes)
            Issue.record("loaded a malformed tokenizer", sourceLocation: sourceLocation)
        } catch {
            let error = error as! TokenizerError
            #expect(error.description.hasPrefix("tokenizer.json: "), sourceLocation: sourceLocation)
            if !text.isEmpty { #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation) }
        }
    }

    @Test func truncatedFilesAreRejected() {
        // Cut inside the header, the added tokens, the vocabulary and the merges.
        for fraction in [0.0, 0.0001, 0.001, 0.01, 0.2, 0.5, 0.8, 0.99, 0.99999] {
            let cut = Int(Double(Self.json.count) * fraction)
            expectError(Array(Self.json.prefix(cut)), containing: "")
        }
    }

    @Test func flippedBytesNeverCrash() {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        // Flips in the first 64 KB (structure, added tokens, pipeline sections, start of the vocabulary).
        for _ in 0..<10 {
            var bytes = Self.json
            let at = Int(next() % 65536)
            bytes[at] = UInt8(truncatingIfNeeded: next())
            _ = try? load(bytes)
        }
    }

    @Test func unsupportedPipelinesAreRefusedByName() {
        func replacing(_ a: String, _ b: String) -> [UInt8] {
            let s = String(decoding: Self.json, as: UTF8.self)
            precondition(s.contains(a))
            return Array(s.replacingOccurrences(of: a, with: b).utf8)
        }
        expectError(replacing("\"type\": \"NFC\"", "\"type\": \"NFKC\""), containing: "unsupported normalizer")
        expectError(replacing("\"type\": \"BPE\"", "\"type\": \"Unigram\""), containing: "model type Unigram")
        expectError(replacing("\"byte_fallback\": false", "\"byte_fallback\": true"), containing: "byte_fallback")
        expectError(replacing("\"behavior\": \"Isolated\"", "\"behavior\": \"Removed\""), containing: "Isolated")
    }

    /// tokenizer.json with Qwen2's Split regex replaced by `pattern` (as tokenizer.json spells it, unescaped).
    static func withSplitPattern(_ pattern: String) -> [UInt8] {
        let s = String(decoding: json, as: UTF8.self)
        func escaped(_ p: String) -> String { p.replacingOccurrences(of: "\\", with: "\\\\") }
        let qwen2 = "\"Regex\": \"" + escaped(Tokenizer.qwen2Pattern) + "\""
        precondition(s.contains(qwen2))
        return Array(s.replacingOccurrences(of: qwen2, with: "\"Regex\": \"" + escaped(pattern) + "\"").utf8)
    }

    /// A Split regex that can match the empty string would make pieces out of nothing (before the
    /// refusal, "ab cd xyz" under `\s*` encoded as "a|ab| |c|cd| |x|xy|xyz"): refused at load, naming it.
    @Test func splitRegexMatchingTheEmptyStringIsRefused() {
        for pattern in [#"\s*"#, "a*", "(?=x)", "(?!x)", "(?<=x)", #"\p{L}+|\s*"#, #"(?:\p{L}+)?"#, "x{0,3}", "()", #"\b"#, "$"] {
            #expect(throws: TokenizerError.unreadable(path: "tokenizer.json", reason: "pretokenizer regex \"\(pattern)\" can match the empty string (not supported: every match must be at least one character)")) {
                try load(Self.withSplitPattern(pattern))
            }
        }
    }

    /// Patterns whose matches are never empty still load and cut text into pieces that cover it once:
    /// GPT-2's (a bare ByteLevel pretokenizer), Llama 3's, and Qwen2's own run by PCRE2.
    @Test func splitRegexesThatNeverMatchEmptyLoad() throws {
        let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let text = Array("ab cd  xyz's 12345\n\n\tend".utf8)
        for pattern in [Tokenizer.gpt2Pattern, llama3, #"\p{L}+|\s+"#] {
            let tokenizer = try load(Self.withSplitPattern(pattern))
            #expect(tokenizer.pattern == pattern)
            var pieces: [[UInt8]] = []
            try text.withUnsafeBufferPointer { b in try tokenizer.makeEncoder().forEachPiece(b) { pieces.append(Array($0)) } }
            #expect(pieces.joined().elementsEqual(text), "\(pattern): \(pieces.map { String(decoding: $0, as: UTF8.self) })")
        }
        #expect(try !Tokenizer.compileSplitPattern(Tokenizer.qwen2Pattern).canMatchEmpty)
        #expect(try load(Self.json).pattern == Tokenizer.qwen2Pattern)
    }

    @Test func unknownMergeTokenIsNamed() {
        let s = String(decoding: Self.json, as: UTF8.self)
        // The first merge in array form is ["Ġ", "Ġ"].
        let broken = s.replacingOccurrences(of: "[\n        \"Ġ\",\n        \"Ġ\"\n      ]", with: "[\n        \"Ġ\",\n        \"@@@\"\n      ]")
        #expect(broken != s)
        expectError(Array(broken.utf8), containing: "merge 1 'Ġ @@@' names a token that is not in the vocabulary")
    }

    /// The fixture, written by a recent `tokenizers`, keeps each merge as a pair (["Ġ", "Ġ"]); older files, and most on
    /// the Hub, as one string ("Ġ Ġ"). Both read to the same flat merges, whose fingerprint is the embedded tokenizer's.
    @Test func mergesAsStringsOrPairsReadTheSame() throws {
        let text = String(decoding: Self.json, as: UTF8.self)
        let pair = try NSRegularExpression(pattern: #"\[\n {8}"((?:[^"\\]|\\.)*)",\n {8}"((?:[^"\\]|\\.)*)"\n {6}\]"#)
        let strings = pair.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "\"$1 $2\"")
        #expect(pair.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text)) == 151_387)
        let fromPairs = try Self.json.withUnsafeBufferPointer { try Tokenizer.parseTokenizerJSONSpec($0, path: "tokenizer.json") }
        let fromStrings = try Array(strings.utf8).withUnsafeBufferPointer { try Tokenizer.parseTokenizerJSONSpec($0, path: "tokenizer.json") }
        #expect(fromPairs.mergeCount == 151_387 && fromPairs.vocabCount == 151_643)
        #expect(fromStrings.mergeBytes == fromPairs.mergeBytes && fromStrings.mergeEnds == fromPairs.mergeEnds)
        #expect(fromStrings.fingerprint == Tokenizer.embeddedQwen2Fingerprint)
        #expect(fromPairs.fingerprint == Tokenizer.embeddedQwen2Fingerprint)
        // The arrays built from the flat form are the spec's: same fingerprint, and merge 1 is Ġ Ġ.
        let spec = fromStrings.spec
        #expect(spec.fingerprint == Tokenizer.embeddedQwen2Fingerprint)
        #expect(spec.merges[0].left == Array("Ġ".utf8) && spec.merges[0].right == Array("Ġ".utf8) && spec.vocab[1000].id == 1000)
    }

    @Test func malformedMergesAreNamed() throws {
        let s = String(decoding: Self.json, as: UTF8.self)
        let first = "[\n        \"Ġ\",\n        \"Ġ\"\n      ]"
        #expect(s.contains(first))
        func with(_ merge: String) -> [UInt8] { Array(s.replacingOccurrences(of: first, with: merge).utf8) }
        expectError(with("\"ĠĠ\""), containing: "merge \"ĠĠ\" is not two tokens separated by one space")
        expectError(with("\"Ġ  Ġ\""), containing: "merge \"Ġ  Ġ\" is not two tokens separated by one space")
        expectError(with("[\"Ġ\", \"Ġ\", \"Ġ\"]"), containing: "merge is not a pair of tokens")
        expectError(with("[\"Ġ\"]"), containing: "merge is not a pair of tokens")
        // merges.txt: each line two tokens and one space; the line is named.
        try withTemporaryDirectory { dir in
            let vocab = try TrainedModel.decompressed(fixturePath("tokenizers/qwen2/vocab.json.zst"))
            try writeFile(dir + "/vocab.json", vocab)
            for (line, bad) in [(2, " Ġ"), (2, "Ġ "), (2, "Ġ  Ġ"), (3, "ĠĠ")] {
                try writeFile(dir + "/merges.txt", "#version: 0.2\nĠ Ġ\n" + (line == 3 ? "Ġ t\r\n" : "") + bad + "\ni n\n")
                #expect(throws: TokenizerError.unreadable(path: dir + "/merges.txt", reason: "line \(line + 1) is not two tokens separated by one space")) {
                    try Tokenizer.load(path: dir)
                }
            }
            // A merge naming a token the vocabulary lacks: merges.txt is named, not vocab.json.
            try writeFile(dir + "/merges.txt", "#version: 0.2\nĠ Ġ\nĠ @@@\n")
            #expect(throws: TokenizerError.unreadable(path: dir + "/merges.txt", reason: "merge 2 'Ġ @@@' names a token that is not in the vocabulary")) {
                try Tokenizer.load(path: dir)
            }
            // A CR before the LF and no LF after the last line are fine.
            try writeFile(dir + "/merges.txt", "#version: 0.2\r\nĠ Ġ\r\ni n")
            let flat = try Tokenizer.loadVocabAndMergesSpec(vocab: dir + "/vocab.json", merges: dir + "/merges.txt", config: nil)
            #expect(flat.mergeCount == 2 && flat.merge(1).left == ArraySlice("i".utf8) && flat.merge(1).right == ArraySlice("n".utf8))
            #expect(flat.merge(0).left == ArraySlice("Ġ".utf8) && flat.merge(0).right == ArraySlice("Ġ".utf8))
        }
    }

    /// What building a spec refuses, each named (TokenizerSpec.build, over the flat storage).
    @Test func buildRefusesByName() throws {
        let spec = try TokenizerSpec.load(path: Golden.url("tokenizers/qwen2/tokenizer.json.zst").path)
        func expectRefusal(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation, _ change: (inout TokenizerSpec) -> Void) {
            var s = spec
            change(&s)
            #expect(throws: TokenizerError.invalidTokenizer(reason), sourceLocation: sourceLocation) { try s.build() }
        }
        expectRefusal("id 1000 is assigned to two vocabulary entries") { $0.vocab.append((Array("zzzq".utf8), 1000)) }
        expectRefusal("merge 6 '€ a' uses characters outside the byte-level alphabet") { $0.merges[5] = (Array("€".utf8), Array("a".utf8)) }
        expectRefusal("merge 6 'Ġthe Ġthe' makes a token that is not in the vocabulary") {
            $0.merges[5] = (Array("Ġthe".utf8), Array("Ġthe".utf8))
        }
        expectRefusal("ids up to 16777216 are beyond the supported 16777215") {
            $0.addedTokens.append(AddedToken(id: 1 << 24, content: Array("<|x|>".utf8), special: true))
        }
    }

    @Test func missingFilesAreNamed() {
        #expect(throws: TokenizerError.unreadable(path: "/nonexistent/tok.json", reason: "cannot open: No such file or directory")) {
            try Tokenizer.load(path: "/nonexistent/tok.json")
        }
        #expect(throws: TokenizerError.self) { try Tokenizer.load(path: Golden.url("scripts").path) }
    }
}
