// The compiled tokenizer format (.qtok): its checksum, and every way a damaged file is refused by name.

import Foundation
import QwenKitIO
import Testing
import TestSupport
@testable import QwenTokenizer

private extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

@Suite struct CompactFormatTests {
    static let tokenizer = try! Tokenizer.embeddedQwen2()
    static let compiled = tokenizer.compactForm()

    /// `contents` behind a header that vouches for them: what a faulty build would write.
    static func sealed(_ contents: [UInt8]) -> [UInt8] {
        var b = Array("QTOK".utf8) + [6, 0, 0, 0]
        withUnsafeBytes(of: UInt64(contents.count).littleEndian) { b += $0 }
        withUnsafeBytes(of: contents.withUnsafeBytes { XXH64.hash($0) }.littleEndian) { b += $0 }
        return b + contents
    }

    /// Where, in `t`'s compiled contents, the merge slots, the filter, the byte pairs and the whole-piece entry count
    /// start, following the layout (CompactTokenizerFormat): the fields before them, each table aligned to 8 bytes.
    static func mergeTableOffsets(_ t: Tokenizer) -> (slots: Int, bloom: Int, bytePairs: Int, entryCount: Int) {
        func aligned(_ at: Int) -> Int { (at + 7) / 8 * 8 }
        let tokens = t.model.tokens
        let offsets = aligned(8 + t.pattern.utf8.count + 8)
        let slots = aligned(offsets + 4 * (tokens.count + 1) + tokens.bytes.count + tokens.count) + 4 * 256 + 8
        let bloom = slots + 8 * t.model.merges.slots.count, bytePairs = bloom + 8 * MergeTable.bloomWords
        return (slots, bloom, bytePairs, bytePairs + 8 * 65536)
    }

    func decode(_ bytes: [UInt8]) throws -> Tokenizer {
        try bytes.withUnsafeBytes { try CompactTokenizerFormat.decode($0, name: "x.qtok") }
    }

    func expectRefused(_ bytes: [UInt8], _ reason: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: TokenizerError.unreadable(path: "x.qtok", reason: reason), "\(what)", sourceLocation: sourceLocation) {
            try decode(bytes)
        }
    }

    /// XXH64 with seed 0: the reference's values for "" and "abc", and for longer inputs (every tail
    /// path: 8-, 4- and 1-byte steps after 32-byte stripes) the low 32 bits that `zstd --check` stores
    /// as a frame's content checksum (`printf … | zstd --check -c | tail -c 4`).
    @Test func xxh64MatchesTheReference() {
        func hash(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { XXH64.hash($0) } }
        #expect(hash([]) == 0xEF46_DB37_51D8_E999)
        #expect(hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(UInt32(truncatingIfNeeded: hash(Array("The quick brown fox jumps over the lazy dog.".utf8))) == 0x5751_AD73)
        let pattern = (0..<1003).map { UInt8($0 * 7 % 251) }
        #expect(UInt32(truncatingIfNeeded: hash(Array(pattern.prefix(1000)))) == 0x1FF9_57D5)
        #expect(UInt32(truncatingIfNeeded: hash(pattern)) == 0xDED8_AE28)
    }

    /// The header: "QTOK", version 6, the contents' length and their XXH64; decoding what was written
    /// gives the same tokenizer, written again byte for byte.
    @Test func roundTripIsExact() throws {
        let bytes = Self.compiled
        #expect(Array(bytes.prefix(8)) == Array("QTOK".utf8) + [6, 0, 0, 0])
        let length = bytes[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(length == UInt64(bytes.count - 24))
        let checksum = bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(checksum == bytes[24...].withUnsafeBytes { XXH64.hash($0) })
        let again = try decode(bytes)
        #expect(again.compactForm() == bytes)
        let encoder = again.makeEncoder()
        var ids: [UInt32] = []
        try Array("Hello, world!<|endoftext|>".utf8).withUnsafeBufferPointer { try encoder.encode($0, into: &ids) }
        #expect(ids == [9707, 11, 1879, 0, 151643])
    }

    /// The character tables a compiled tokenizer stores restore to the tables built from the vocabulary: every
    /// character start, every safe-cut table, and the pairs (`ModelTests` checks the stored bytes themselves).
    @Test func characterTablesRestoreAsBuilt() throws {
        let built = try TokenizerSpec.load(path: Golden.url("tokenizers/qwen2/tokenizer.json.zst").path).build().model
        let restored = Self.tokenizer.model
        #expect(built.storedCharacterTables == nil)
        #expect(restored.storedCharacterTables != nil)
        let (b, r) = (try #require(built.starts), try #require(restored.starts))
        #expect((0..<0x10000).allSatisfy { b.entries[$0] == r.entries[$0] })
        #expect(b.stored.codePoints.count > 10_000)
        let (bs, rs) = (try #require(built.splits), try #require(restored.splits))
        #expect(bs.stored == rs.stored)
        #expect(rs.pairCount == bs.pairCount && rs.pairCount > 10_000)
        #expect(rs.stored.characterTokens.count > 10_000)
    }

    /// Character tables that would index past their arrays or emit ids past the vocabulary are refused by name,
    /// even sealed with a good checksum.
    @Test func characterTablesOutOfRangeAreRefused() throws {
        let tables = try #require(Self.tokenizer.model.characterTables)
        let contents = Array(Self.compiled[24...])
        // Back from the end: the character tokens, their count and its padding (4), the pair tables, the pair count and
        // its padding, the start entries, then the code points before them, padded to 8 bytes.
        let starts = tables.startCodePoints.count
        let afterPairCount = contents.count - 8 * tables.splits.characterTokens.count - 8
            - 8 * (tables.splits.pairs.count + CharacterSplits.riskyWords + CharacterSplits.startsAfterWords)
        let firstCodePoint = afterPairCount - 8 - 8 * starts - (4 * starts + 7) / 8 * 8
        func sealed(_ patch: (inout [UInt8]) -> Void) -> [UInt8] {
            var c = contents
            patch(&c)
            return Self.sealed(c)
        }
        #expect(try decode(sealed { _ in }).model.storedCharacterTables == tables)
        expectRefused(sealed { $0[firstCodePoint + 2] = 1 }, "corrupt compiled tokenizer (character start of U+1\(String(tables.startCodePoints[0], radix: 16, uppercase: true).leftPadded(4)))", "code point")
        let lastToken = contents.count - 8
        let lastCodePoint = String(tables.splits.characterTokens.last! >> 32, radix: 16, uppercase: true)
        expectRefused(sealed { $0[lastToken + 3] = 0x7F }, "corrupt compiled tokenizer (character token of U+\(lastCodePoint))", "token id")
    }

    /// A merge whose result is past the vocabulary, the tables derived from others (the merge table's filter, the byte
    /// pairs, the whole-piece entries) and the zero bytes that align the tables are checked in a .qtok file, even sealed
    /// with a good checksum: a file written by a faulty build is refused by what is wrong, not used. Their places follow
    /// the layout (CompactTokenizerFormat).
    @Test func derivedTablesAndPaddingAreChecked() throws {
        let model = Self.tokenizer.model
        let contents = Array(Self.compiled[24...])
        let (slots, bloom, bytePairs, entryCount) = Self.mergeTableOffsets(Self.tokenizer)
        let entries = entryCount + 8
        #expect(contents[entryCount..<(entryCount + 4)].elementsEqual(withUnsafeBytes(of: UInt32(model.wholePieces.entries.count).littleEndian) { Array($0) }))
        func patched(_ at: Int, _ mask: UInt8) -> [UInt8] {
            var c = contents
            c[at] ^= mask
            return Self.sealed(c)
        }
        let slot = try #require((0..<model.merges.slots.count / 2).first { model.merges.slots[2 * $0] != MergeTable.none })
        var pastVocabulary = contents
        pastVocabulary.replaceSubrange((slots + 16 * slot + 8)..<(slots + 16 * slot + 12), with: [0xFF, 0xFF, 0xFF, 0x00])
        expectRefused(Self.sealed(pastVocabulary), "corrupt compiled tokenizer (merge table)", "merge result")
        let bloomWord = try #require((0..<MergeTable.bloomWords).first { model.merges.bloom[$0] != 0 })
        expectRefused(patched(bloom + 8 * bloomWord, 0xFF), "corrupt compiled tokenizer (merge table)", "filter")
        let pair = try #require((0..<65536).first { model.bytePairs[$0] != MergeTable.none })
        expectRefused(patched(bytePairs + 8 * pair + 4, 0x01), "corrupt compiled tokenizer (byte pairs)", "byte pair")
        let entry = try #require((0..<model.wholePieces.entries.count).first { model.wholePieces.entries[$0] != .max })
        expectRefused(patched(entries + 8 * entry + 3, 0x01), "corrupt compiled tokenizer (token table)", "entry length")
        expectRefused(patched(entries - 1, 0x01), "corrupt compiled tokenizer (padding at offset \(entryCount + 4))", "padding")
    }

    /// Random damage to a compiled tokenizer's tables, sealed with a good checksum (what a faulty build could write), is
    /// refused by name, or gives a tokenizer that encodes and decodes text without trapping: nothing in the file can
    /// make a table read out of bounds or an id past the vocabulary. A tiny tokenizer keeps each of the 400 decodes
    /// short; the damage avoids the filter and the byte pairs, 768 KB of it, which are rebuilt and compared anyway.
    @Test func resealedDamageNeverTraps() throws {
        let tiny = try Tokenizer.load(path: fixturePath("checkpoints/q2-tied/tokenizer.json"))
        let contents = Array(tiny.compactForm()[24...])
        let (_, bloom, _, afterPairs) = Self.mergeTableOffsets(tiny)
        let regions = [0..<bloom, afterPairs..<contents.count]
        let text = Array("Hello, world! 中文分词 ½ naïve <|endoftext|>\n\t  x = 42;".utf8)
        var rng = SplitMix64(seed: 15)
        var refused = 0, decoded = 0
        for trial in 0..<400 {
            var c = contents
            for _ in 0...(trial % 3) {
                let region = regions[Int(rng.next() % 2)]
                c[region.lowerBound + Int(rng.next() % UInt64(region.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            }
            do {
                let t = try decode(Self.sealed(c))
                var ids: [UInt32] = []
                try text.withUnsafeBufferPointer { try t.makeEncoder().encode($0, into: &ids) }
                #expect(ids.allSatisfy { Int($0) < t.model.tokens.count }, "trial \(trial)")
                var bytes: [UInt8] = []
                try t.decode(ids, into: &bytes)
                decoded += 1
            } catch let error as TokenizerError {
                #expect("\(error)".hasPrefix("x.qtok: "), "trial \(trial): \(error)")
                refused += 1
            }
        }
        #expect(refused + decoded == 400)
        #expect(refused > 100 && decoded > 10, "\(refused) refused, \(decoded) decoded")
    }

    /// One flipped byte anywhere is refused, and by what it broke: the magic, the version, the
    /// declared length, or (in the checksum or anywhere in the contents) the checksum.
    @Test func flippedBytesAreRefusedByName() {
        let bytes = Self.compiled
        let count = bytes.count
        func flipped(_ at: Int, _ mask: UInt8 = 0x01) -> [UInt8] {
            var b = bytes
            b[at] ^= mask
            return b
        }
        expectRefused(flipped(0), "not a compiled tokenizer (bad magic)", "magic")
        expectRefused(flipped(3, 0x80), "not a compiled tokenizer (bad magic)", "magic")
        expectRefused(flipped(4), "compiled tokenizer version 7 is not supported (this qwenkit reads version 6); compile it again with `qwenkit tokenizer compile`", "version")
        expectRefused(flipped(7), "compiled tokenizer version 16777222 is not supported (this qwenkit reads version 6); compile it again with `qwenkit tokenizer compile`", "version")
        let actual = UInt64(count - 24)
        for (at, mask) in [(8, 0x01), (8, 0x02), (9, 0x01), (10, 0x40), (15, 0x80)] as [(Int, UInt8)] {
            let declared = actual ^ UInt64(mask) << (8 * (at - 8))
            expectRefused(flipped(at, mask), declared > actual
                          ? "truncated compiled tokenizer (\(actual) bytes of contents, the header says \(declared))"
                          : "corrupt compiled tokenizer (\(actual - declared) bytes after the \(declared) bytes of contents the header declares)",
                          "length byte \(at) ^ \(mask)")
        }
        for at in [16, 23] + [24, 25, 28, 40, 1000, count / 3, count / 2, count - 5000, count - 2, count - 1] {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                expectRefused(flipped(at, mask), "corrupt compiled tokenizer (checksum mismatch)", "byte \(at) ^ \(mask)")
            }
        }
    }

    /// A cut or lengthened file is refused: inside the header, and anywhere in the contents.
    @Test func truncatedOrExtendedIsRefused() {
        let bytes = Self.compiled
        let count = bytes.count
        expectRefused([], "not a compiled tokenizer (bad magic)", "empty")
        expectRefused(Array(bytes.prefix(3)), "not a compiled tokenizer (bad magic)", "3 bytes")
        for cut in [4, 8, 16, 23] {
            expectRefused(Array(bytes.prefix(cut)), "truncated compiled tokenizer (\(cut) bytes, less than its 24-byte header)", "\(cut) bytes")
        }
        for cut in [24, 100, count / 2, count - 1] {
            expectRefused(Array(bytes.prefix(cut)), "truncated compiled tokenizer (\(cut - 24) bytes of contents, the header says \(count - 24))", "\(cut) bytes")
        }
        expectRefused(bytes + [0], "corrupt compiled tokenizer (1 byte after the \(count - 24) bytes of contents the header declares)", "1 more")
        expectRefused(bytes + bytes, "corrupt compiled tokenizer (\(count) bytes after the \(count - 24) bytes of contents the header declares)", "twice")
    }

    /// A version other than this build's is refused by name, before anything else is read (version 2
    /// had no checksum; 3 was a withdrawn layout; 4 had no character tables; 5 neither aligned its tables nor stored the
    /// derived ones).
    @Test func otherVersionsAreRefusedByName() {
        for version: UInt8 in [0, 2, 3, 4, 5, 255] {
            var b = Self.compiled
            b[4] = version
            expectRefused(b, "compiled tokenizer version \(version) is not supported (this qwenkit reads version 6); compile it again with `qwenkit tokenizer compile`", "version \(version)")
        }
    }

    /// A file whose checksum holds but whose contents are not a usable tokenizer (written by a faulty
    /// build) is still refused by name, never trusted.
    @Test func consistentButMalformedContentsAreRefused() {
        let sealed = Self.sealed
        let contents = Array(Self.compiled[24...])
        do {
            _ = try decode(sealed(Array(contents.prefix(contents.count / 2))))
            Issue.record("half the contents, sealed, loaded")
        } catch {
            #expect("\(error)".hasPrefix("x.qtok: truncated compiled tokenizer (needs "), "\(error)")
        }
        expectRefused(sealed(contents + [0, 0, 0, 0]), "corrupt compiled tokenizer (4 bytes left after the character tables)", "longer")
    }
}
