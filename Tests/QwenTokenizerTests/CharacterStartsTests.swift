import Testing
@testable import QwenTokenizer

/// Pieces that start their merges from whole characters (`CharacterStarts`) give exactly the ids of the
/// byte-level start: every marked character of Qwen2's vocabulary beside the neighbours that decide it,
/// and random pieces of marked and unmarked characters, valid and invalid UTF-8, short and long.
/// (The golden corpora check the same against Hugging Face.)
@Suite struct CharacterStartsTests {
    static let model = try! Tokenizer.embeddedQwen2().model
    static let starts = CharacterStarts(model: model)

    static func utf8(_ cp: UInt32) -> [UInt8] { Array(String(Character(Unicode.Scalar(cp)!)).utf8) }

    /// The ids of `piece` through the merge loops (not the whole-piece lookup or the cache), both starts.
    static func bothStarts(_ piece: [UInt8], _ characters: BPEScratch, _ bytes: BPEScratch) -> ([UInt32], [UInt32]) {
        piece.withUnsafeBufferPointer { p in
            func run(_ scratch: BPEScratch) -> [UInt32] {
                let n = p.count < BPEScratch.shortLimit ? model.mergeShort(p, scratch: scratch) : model.mergeByHeap(p, scratch: scratch)
                return Array(UnsafeBufferPointer(start: scratch.ids, count: n))
            }
            return (run(characters), run(bytes))
        }
    }

    static func scratches() -> (BPEScratch, BPEScratch) {
        let bytes = BPEScratch()
        bytes.startsFromBytes = true
        return (BPEScratch(), bytes)
    }

    @Test func theTableMarksMostCJKCharactersAndNoASCII() {
        var marked = 0, cjk = 0
        for cp in 0..<0x10000 where Self.starts.entries[cp] != CharacterStarts.none {
            marked += 1
            #expect(cp >= 0x80)
            if (0x4E00...0x9FFF).contains(cp) { cjk += 1 }
        }
        // Counted independently from tokenizer.json by Fixtures/scripts/character_starts.py: 8,702
        // characters with no forbidden neighbour, 4,584 with one (7,499 of them CJK ideographs).
        #expect(marked == 13_286)
        #expect(cjk == 7_499)
    }

    @Test func everyMarkedCharacterBesideItsNeighbours() {
        let (characters, bytes) = Self.scratches()
        // Neighbours: the stored forbidden ones, ASCII letters and not, a space, a digit, a stray
        // continuation byte, a cut-off lead byte, a common CJK character and a 2-byte letter.
        let fixed: [[UInt8]] = [[0x61], [0x5A], [0x20], [0x37], [0x2C], [0x80], [0xBF], [0xE4], [0xE4, 0xB8]]
            + [0x7684, 0x4E00, 0x0439, 0xAC00, 0x3042].map(Self.utf8)
        var checked = 0
        for cp in UInt32(0x80)..<0x10000 {
            let e = Self.starts.entries[Int(cp)]
            guard e != CharacterStarts.none else { continue }
            let c = Self.utf8(cp)
            var neighbours = fixed
            let next = UInt32((e >> CharacterStarts.idBits) & CharacterStarts.codePointMask)
            let previous = UInt32(e >> (2 * CharacterStarts.idBits - 1))
            if next != 0 { neighbours.append(Self.utf8(next)) }
            if previous != 0 { neighbours.append(Self.utf8(previous)) }
            var pieces: [[UInt8]] = [c + c, c + c + c]
            for n in neighbours { pieces += [c + n, n + c, n + c + n] }
            for piece in pieces {
                let (a, b) = Self.bothStarts(piece, characters, bytes)
                if a != b {
                    Issue.record("U+\(String(cp, radix: 16)) in \(piece): \(a) from characters, \(b) from bytes")
                    return
                }
                checked += 1
            }
        }
        #expect(checked > 300_000)
    }

    @Test func randomPiecesShortAndLong() {
        let (characters, bytes) = Self.scratches()
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return Int((x >> 33) % UInt64(n))
        }
        // Marked characters of several scripts, their forbidden neighbours, and bytes of every kind.
        var marked: [UInt32] = []
        for cp in UInt32(0x80)..<0x10000 where Self.starts.entries[Int(cp)] != CharacterStarts.none { marked.append(cp) }
        let cjkCommon = marked.filter { (0x4E00...0x4FFF).contains($0) }
        var differences = 0
        for round in 0..<20_000 {
            var piece: [UInt8] = []
            let length = round % 10 == 0 ? 30 + next(60) : 2 + next(14)
            for _ in 0..<length {
                switch next(10) {
                case 0...3: piece += Self.utf8(cjkCommon[next(cjkCommon.count)])
                case 4...5:
                    let cp = marked[next(marked.count)]
                    piece += Self.utf8(cp)
                    let e = Self.starts.entries[Int(cp)]
                    let forbidden = UInt32((e >> CharacterStarts.idBits) & CharacterStarts.codePointMask)
                    if forbidden != 0 { piece += Self.utf8(forbidden) }
                case 6: piece.append(UInt8(0x61 + next(26)))
                case 7: piece += Self.utf8(UInt32(0xAC00 + next(0x2BA4)))
                case 8: piece += Self.utf8(UInt32(0x400 + next(0x100)))
                default: piece.append(UInt8(0x80 + next(0x80)))  // continuation and lead bytes, some invalid
                }
            }
            let (a, b) = Self.bothStarts(piece, characters, bytes)
            if a != b {
                differences += 1
                if differences <= 3 { Issue.record("\(piece): \(a) from characters, \(b) from bytes") }
            }
        }
        #expect(differences == 0)
    }
}
