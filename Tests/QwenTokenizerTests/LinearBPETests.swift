import Foundation
import QwenKitIO
import Testing
import TestSupport
@testable import QwenTokenizer

/// The linear-time encoder for long pieces, and the cuts inside long runs that keep corpus memory
/// bounded: exact against Hugging Face on single pretokens of hundreds of kilobytes
/// (Fixtures/tokenizer-golden/long-pieces.jsonl, from make_long_piece_goldens.py), and against the heap
/// merge and BPE itself on random inputs.
@Suite struct LinearBPETests {
    static let tokenizer = try! Tokenizer.embeddedQwen2()
    static let linear = LinearBPE(model: tokenizer.model)!

    struct LongPiece: Sendable, CustomTestStringConvertible {
        let name: String
        let text: [UInt8]
        let count: Int
        let digest: UInt64
        let head: [UInt32]
        let tail: [UInt32]
        var testDescription: String { name }
    }

    static let longPieces: [LongPiece] = Golden.lines("tokenizer-golden/long-pieces.jsonl").map { line in
        let segments = line["segments"] as! [[String: Any]]
        let text = segments.reduce(into: [UInt8]()) { $0 += generate($1) }
        #expect(text.count == line["bytes"] as! Int)
        return LongPiece(name: line["name"] as! String, text: text, count: line["count"] as! Int,
                         digest: UInt64(line["fnv1a64"] as! String, radix: 16)!,
                         head: (line["head"] as! [NSNumber]).map(\.uint32Value),
                         tail: (line["tail"] as! [NSNumber]).map(\.uint32Value))
    }

    /// The script's generator: characters from an alphabet or a code point range, picked by a 64-bit LCG.
    static func generate(_ spec: [String: Any]) -> [UInt8] {
        let n = spec["chars"] as! Int
        var x = UInt64(spec["seed"] as? Int ?? 0)
        func next() -> UInt64 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return x >> 33
        }
        var scalars: [Unicode.Scalar] = []
        if let units = (spec["units"] as? [[Int]])?.map({ $0.map { Unicode.Scalar(UInt32($0))! } }) {
            for _ in 0..<n { scalars += units.count == 1 ? units[0] : units[Int(next() % UInt64(units.count))] }
        } else if let alphabet = (spec["alphabet"] as? [Int])?.map({ Unicode.Scalar(UInt32($0))! }) {
            scalars = alphabet.count == 1 ? Array(repeating: alphabet[0], count: n) : (0..<n).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
        } else {
            let range = spec["range"] as! [Int]
            let width = UInt64(range[1] - range[0] + 1)
            scalars = (0..<n).map { _ in Unicode.Scalar(UInt32(range[0]) + UInt32(next() % width))! }
        }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return Array(String(s).utf8)
    }

    static func fnv1a64(_ ids: [UInt32]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids {
            for shift in stride(from: 0, to: 32, by: 8) { h = (h ^ UInt64((id >> UInt32(shift)) & 0xFF)) &* 0x100_0000_01B3 }
        }
        return h
    }

    static func expectGolden(_ ids: [UInt32], _ c: LongPiece, _ how: String) {
        #expect(ids.count == c.count, "\(c.name) \(how)")
        #expect(fnv1a64(ids) == c.digest, "\(c.name) \(how)")
        #expect(Array(ids.prefix(24)) == c.head, "\(c.name) \(how)")
        #expect(Array(ids.suffix(24)) == c.tail, "\(c.name) \(how)")
    }

    /// Encoded whole: one pretoken of up to 300 KB (and a few of them one after another) in one call.
    @Test(arguments: longPieces) func wholeTextMatchesHuggingFace(_ c: LongPiece) throws {
        var ids: [UInt32] = []
        try c.text.withUnsafeBufferPointer { try Self.tokenizer.makeEncoder().encode($0, into: &ids) }
        Self.expectGolden(ids, c, "whole")
    }

    /// As a corpus with small units: cut inside the runs every few kilobytes, the ids at each cut
    /// joined; on one and two threads, storing ids and only counting them.
    @Test(arguments: longPieces) func cutInsideRunsMatchesHuggingFace(_ c: LongPiece) throws {
        for (unitBytes, threads) in [(1024, 1), (4096, 2)] {
            var options = CorpusEncodingOptions()
            options.unitBytes = unitBytes
            options.threads = threads
            let collector = GoldenTests.Collector()
            try CorpusEncoder(tokenizer: Self.tokenizer, options: options)
                .run(sources: [MemorySource(c.text, name: c.name)], consumer: collector)
            Self.expectGolden(collector.ids, c, "units of \(unitBytes) on \(threads) threads")
            #expect(collector.parts > c.text.count / 40_000, "\(c.name): the runs were not cut")
            let counter = Counter()
            try CorpusEncoder(tokenizer: Self.tokenizer, options: options)
                .run(sources: [MemorySource(c.text, name: c.name)], consumer: counter)
            #expect(counter.count == c.count, "\(c.name) counted")
        }
    }

    /// A run of invalid bytes under `--invalid replace` is cut like the run of U+FFFD it becomes.
    @Test func runOfInvalidBytesIsCutWhenReplaced() throws {
        let c = try #require(Self.longPieces.first { $0.name == "replacement-characters" })
        let invalid = [UInt8](repeating: 0xFF, count: c.text.count / 3)
        var options = CorpusEncodingOptions()
        options.unitBytes = 1024
        options.invalid = .replace
        let collector = GoldenTests.Collector()
        try CorpusEncoder(tokenizer: Self.tokenizer, options: options)
            .run(sources: [MemorySource(invalid, name: "invalid")], consumer: collector)
        Self.expectGolden(collector.ids, c, "from invalid bytes")
        #expect(collector.parts > invalid.count / 40_000, "the run was not cut")
    }

    /// Runs next to added tokens, invalid UTF-8 (replaced), digits and lines: cutting inside the runs
    /// (and between digits) gives the ids of encoding each document whole.
    @Test func cutsInsideRunsNextToOtherInput() throws {
        let a = [UInt8](repeating: 0x61, count: 20_000), spaces = [UInt8](repeating: 0x20, count: 30_001)
        let digits = Array(String(repeating: "31415926535897932384", count: 1500).utf8)  // cut between two digits
        let text = a + Array("<|endoftext|>".utf8) + a + spaces + [0xFF] + spaces + Array("x\n".utf8) + a + a + digits + Array("\n".utf8)
        for framing in [DocumentFraming.whole, .lines] {
            var options = CorpusEncodingOptions()
            options.unitBytes = 1024
            options.invalid = .replace
            options.framing = framing
            let collector = GoldenTests.Collector()
            try CorpusEncoder(tokenizer: Self.tokenizer, options: options)
                .run(sources: [MemorySource(text, name: "runs")], consumer: collector)
            var expected: [UInt32] = []
            var replaced: [UInt8] = []
            text.withUnsafeBytes { UTF8Validation.replacingInvalid($0, into: &replaced) }
            let documents = framing == .whole ? [replaced[...]] : replaced.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
            for d in documents {
                try Array(d).withUnsafeBufferPointer { try Self.tokenizer.makeEncoder().encode($0, into: &expected) }
            }
            #expect(collector.ids == expected, "\(framing)")
            #expect(collector.parts > 8, "\(framing): the runs were not cut")
        }
    }

    final class Counter: CorpusCountingConsumer {
        var count = 0
        func consume(input: Int, document: Int, tokenCount: Int, continued: Bool, continues: Bool) throws { count += tokenCount }
        func consume(input: Int, document: Int, ids: UnsafeBufferPointer<UInt32>, extraFields: UnsafeBufferPointer<UInt8>,
                     continued: Bool, continues: Bool) throws { count += ids.count }
        func endInput(_ input: Int, bytes: Int64, characters: Int64) throws {}
    }

    /// The pair test is BPE of the pair: for pairs seen in real encodings (compatible), random pairs,
    /// and pairs that split a token in two (mostly not), `isCompatible(a, b)` is whether merging the
    /// bytes of a then b gives exactly [a, b].
    @Test func compatibilityIsBPEOfThePair() throws {
        let model = Self.tokenizer.model
        let linear = Self.linear
        let scratch = BPEScratch()
        let reachable = (0..<model.modelTokenCount).filter { linear.length[$0] > 0 }
        var pairs: [(UInt32, UInt32)] = []
        let encoder = Self.tokenizer.makeEncoder()
        for c in Golden.random.prefix(300) {
            try Array(c.text.utf8).withUnsafeBufferPointer { b in
                try encoder.forEachPiece(b) { piece in
                    var ids: [UInt32] = []
                    model.encodePiece(piece, scratch: scratch, into: &ids)
                    for k in ids.indices.dropLast() { pairs.append((ids[k], ids[k + 1])) }
                }
            }
        }
        var seeded = SplitMix64(seed: 42)
        for _ in 0..<4000 {
            pairs.append((UInt32(reachable[Int(seeded.next() % UInt64(reachable.count))]),
                          UInt32(reachable[Int(seeded.next() % UInt64(reachable.count))])))
        }
        for _ in 0..<10_000 {
            let t = reachable[Int(seeded.next() % UInt64(reachable.count))]
            let bytes = Array(model.tokens.tokenBytes(t))
            guard bytes.count >= 2 else { continue }
            let cut = 1 + Int(seeded.next() % UInt64(bytes.count - 1))
            if let a = model.wholePieces.id(for: bytes[..<cut].withUnsafeBufferPointer { $0 }),
               let b = model.wholePieces.id(for: bytes[cut...].withUnsafeBufferPointer { $0 }) {
                pairs.append((a, b))
            }
        }
        var compatible = 0, checked = 0
        for (a, b) in pairs {
            let bytes = Array(model.tokens.tokenBytes(Int(a))) + Array(model.tokens.tokenBytes(Int(b)))
            var ids: [UInt32] = []
            bytes.withUnsafeBufferPointer { model.encodePiece($0, scratch: scratch, into: &ids) }
            let expected = ids == [a, b]
            #expect(linear.isCompatible(a, b) == expected, "\(a) \(b)")
            if expected { compatible += 1 }
            checked += 1
        }
        #expect(checked > 10_000 && compatible > 2_000 && checked - compatible > 2_000, "\(checked) pairs, \(compatible) compatible")
    }

    /// The linear encoder and the windowed one against the heap merge on random pieces of 1 to 3,000 bytes drawn
    /// from small alphabets (where BPE has the most choices), from letters of 1-4 bytes (windows end between
    /// characters), and from the golden texts' bytes. The windowed encoder must take windows for the short-token
    /// alphabets and hand runs of long tokens (spaces) to the linear one: both paths are compared.
    @Test func linearEncoderMatchesHeapMerge() {
        let model = Self.tokenizer.model
        let scratch = BPEScratch()
        var seeded = SplitMix64(seed: 7)
        let golden = Array(Golden.random.prefix(200).map(\.text).joined().utf8)
        let alphabets: [[UInt8]] = [Array(" ".utf8), Array("ab".utf8), Array("abc ".utf8), Array("aeiou".utf8),
                                    Array("中文字".utf8), Array("-=_".utf8), Array("👍🏽".utf8), Array("ab\u{0301}".utf8),
                                    Array("abcdefghijklmnopqrstuvwxyz".utf8), Array("xqzjé中ж😀".utf8)]
        var windowed = 0, fellBack = 0
        for round in 0..<500 {
            let n = 1 + Int(seeded.next() % 3000)
            var piece: [UInt8]
            if round % 5 == 4 {
                let start = Int(seeded.next() % UInt64(golden.count - n))
                piece = Array(golden[start..<(start + n)])
            } else {
                let alphabet = alphabets[round % alphabets.count]
                piece = (0..<n).map { _ in alphabet[Int(seeded.next() % UInt64(alphabet.count))] }
            }
            let linearIDs = piece.withUnsafeBufferPointer { p in
                let m = Self.linear.encode(p, scratch: scratch)
                return Array(UnsafeBufferPointer(start: scratch.ids, count: m))
            }
            let heapIDs = piece.withUnsafeBufferPointer { p in
                let m = model.mergeByHeap(p, scratch: scratch)
                return Array(UnsafeBufferPointer(start: scratch.ids, count: m))
            }
            #expect(linearIDs == heapIDs, "round \(round), \(n) bytes")
            let (before, fallbacksBefore) = (scratch.windowedPieces, scratch.windowFallbacks)
            let windowIDs = piece.withUnsafeBufferPointer { p in
                let m = model.encodeInWindows(p, linear: Self.linear, scratch: scratch)
                return Array(UnsafeBufferPointer(start: scratch.ids, count: m))
            }
            #expect(windowIDs == heapIDs, "round \(round), \(n) bytes, in windows")
            if n > 2 * BPEModel.windowBytes {
                windowed += scratch.windowedPieces - before
                fellBack += scratch.windowFallbacks - fallbacksBefore
            }
        }
        #expect(windowed > 150 && fellBack > 20, "\(windowed) pieces in windows, \(fellBack) to the linear encoder")
    }

    /// Joining two independently encoded halves of a run, cut anywhere (not only where BPE puts a
    /// boundary), gives the ids of the whole when the dependence is local, and says so when it is not:
    /// a run of spaces is tokenized in 128-space steps from its start, so no window can repair a cut
    /// that shifts them.
    @Test func joinRepairsLocalDifferencesAndRefusesGlobalOnes() {
        let scratch = BPEScratch()
        var seeded = SplitMix64(seed: 11)
        func encode(_ bytes: ArraySlice<UInt8>) -> [UInt32] {
            Array(bytes).withUnsafeBufferPointer { p in
                let m = Self.linear.encode(p, scratch: scratch)
                return Array(UnsafeBufferPointer(start: scratch.ids, count: m))
            }
        }
        var repaired = 0
        for round in 0..<60 {
            let text = (0..<6000).map { _ in Array("abcdefgh".utf8)[Int(seeded.next() % 8)] }
            let cut = 2000 + Int(seeded.next() % 2000)
            var left = encode(text[..<cut]), right = encode(text[cut...])
            if !Self.linear.isCompatible(left.last!, right.first!) { repaired += 1 }
            let removed = Self.linear.join(left: &left, leftFloor: 0, right: &right, rightCeiling: right.count,
                                           tokens: Self.tokenizer.model.tokens, maxWindow: 1024, scratch: scratch)
            #expect(removed != nil, "round \(round)")
            #expect(left + right == encode(text[...]), "round \(round)")
        }
        #expect(repaired > 10)
        let spaces = [UInt8](repeating: 0x20, count: 5000)
        var left = encode(spaces[..<2001]), right = encode(spaces[2001...])
        #expect(Self.linear.join(left: &left, leftFloor: 0, right: &right, rightCeiling: right.count,
                                 tokens: Self.tokenizer.model.tokens, maxWindow: 1024, scratch: scratch) == nil)
    }
}
