import Testing
@testable import QwenTokenizer

/// Pieces cut between characters that no token spans (`CharacterSplits`) give exactly the ids of the uncut
/// piece: random CJK phrases (with and without a leading space or ASCII), every safe cut of common characters
/// in context, and runs long enough for the heap and linear encoders. (The golden corpora check the same
/// against Hugging Face.)
@Suite struct CharacterSplitsTests {
    static let model = try! Tokenizer.embeddedQwen2().model

    static func utf8(_ cp: UInt32) -> [UInt8] { Array(String(Character(Unicode.Scalar(cp)!)).utf8) }

    /// Encodes pieces with and without the cuts (two scratches, reused).
    final class Pair {
        let cut = BPEScratch(), whole = BPEScratch()
        init() { whole.neverCuts = true }
        func both(_ piece: [UInt8]) -> ([UInt32], [UInt32]) {
            var a: [UInt32] = [], b: [UInt32] = []
            piece.withUnsafeBufferPointer { p in
                model.encodePiece(p, scratch: cut, into: &a)
                model.encodePiece(p, scratch: whole, into: &b)
            }
            return (a, b)
        }
    }

    /// A generator with a fixed seed.
    struct Random {
        var x: UInt64
        mutating func next(_ n: Int) -> Int {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return Int((x >> 33) % UInt64(n))
        }
    }

    /// The 3,000 CJK ideographs with the lowest ids that are a token by themselves (the common ones).
    static let common: [UInt32] = {
        var out: [UInt32] = []
        for id in 0..<model.modelTokenCount where out.count < 3000 {
            let b = model.tokens.tokenBytes(id)
            guard b.count == 3, let (cp, _) = UTF8Scalar.decode(b.baseAddress!, 3), (0x4E00...0x9FFF).contains(cp) else { continue }
            out.append(cp)
        }
        return out
    }()

    @Test func mostCutsBetweenCommonCharactersAreSafe() throws {
        let splits = try #require(Self.model.splits)
        let probe = splits.probe
        var safe = 0, total = 0
        var random = Random(x: 7)
        for _ in 0..<20_000 {
            let a = Self.common[random.next(Self.common.count)], b = Self.common[random.next(Self.common.count)]
            total += 1
            if probe.safeCut(a, b, lead: Self.utf8(b)[0]) { safe += 1 }
        }
        // Most random pairs of common characters are not inside any token; the pairs that are, are not safe.
        #expect(safe > total * 9 / 10, "\(safe) of \(total)")
        #expect(!probe.safeCut(0x4E2D, 0x56FD, lead: 0xE5))  // 中国 is a token
        #expect(splits.pairCount > 20_000)
    }

    @Test func randomPhrasesEncodeAsUncut() {
        let pair = Pair()
        var random = Random(x: 0x9E37_79B9_7F4A_7C15)
        var cutPieces = 0
        for round in 0..<20_000 {
            var piece: [UInt8] = []
            switch round % 4 {
            case 1: piece = [0x20]
            case 2: piece = Array("ab".utf8)
            default: break
            }
            let length = 2 + random.next(round % 50 == 0 ? 400 : 30)
            for _ in 0..<length {
                // Mostly common characters, some rare ones, some kana and Hangul (cuts are only tried between
                // characters of 2-3 bytes, which these all are).
                switch random.next(10) {
                case 0: piece += Self.utf8(UInt32(0x4E00 + random.next(0x9FFF - 0x4E00)))
                case 1: piece += Self.utf8(UInt32(0x3041 + random.next(0x56)))
                case 2: piece += Self.utf8(UInt32(0xAC00 + random.next(11172)))
                default: piece += Self.utf8(Self.common[random.next(Self.common.count)])
                }
            }
            let (a, b) = pair.both(piece)
            if a != b {
                Issue.record("\(String(decoding: piece, as: UTF8.self)): cut \(a), whole \(b)")
                return
            }
            cutPieces += 1
        }
        #expect(cutPieces == 20_000)
    }

    /// Every safe cut between two common characters, with a common character on each side.
    @Test func safeCutsInContext() throws {
        let probe = try #require(Self.model.splits).probe
        let pair = Pair()
        var random = Random(x: 3)
        var checked = 0
        for (k, a) in Self.common.enumerated() {
            for _ in 0..<20 {
                let b = Self.common[random.next(Self.common.count)]
                guard probe.safeCut(a, b, lead: Self.utf8(b)[0]) else { continue }
                let x = Self.common[(k &* 7 &+ checked) % Self.common.count], y = Self.common[random.next(Self.common.count)]
                let piece = Self.utf8(x) + Self.utf8(a) + Self.utf8(b) + Self.utf8(y)
                let (cut, whole) = pair.both(piece)
                if cut != whole {
                    Issue.record("\(String(decoding: piece, as: UTF8.self)): cut \(cut), whole \(whole)")
                    return
                }
                checked += 1
            }
        }
        #expect(checked > 40_000)
    }
}
