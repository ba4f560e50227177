import Testing
import TestSupport
import Parquet

/// A plain encoder of the RLE / bit-packing hybrid (Encodings.md): the reference the reader's decoder is checked
/// against. Runs are chosen at random (RLE runs of repeated values, bit-packed runs of 1-20 groups), so that every
/// bit offset and run boundary is met.
private func hybridEncode(_ values: [UInt32], bitWidth: Int, rng: inout SplitMix64) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < values.count {
        var same = 1
        while i + same < values.count && values[i + same] == values[i] { same += 1 }
        if same >= 3 || rng.next() % 4 == 0 {
            out += rleRun(count: same, value: UInt64(values[i]), byteWidth: (bitWidth + 7) / 8)
            i += same
            continue
        }
        let groups = min(1 + Int(rng.next() % 20), (values.count - i + 7) / 8)
        out += ThriftWriter.varint(UInt64(groups << 1 | 1))
        var bits: UInt64 = 0
        var pending = 0
        for k in 0..<(groups * 8) {
            let v = i + k < values.count ? UInt64(values[i + k]) : 0  // the last group is padded with zeros
            bits |= v << UInt64(pending)
            pending += bitWidth
            while pending >= 8 {
                out.append(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
                pending -= 8
            }
        }
        i += groups * 8
    }
    return out
}

@Suite("RLE / bit-packed hybrid")
struct RunLengthTests {
    @Test("dictionary indices of every bit width 0-32, random runs, against a plain encoder", arguments: Array(0...32))
    func indices(bitWidth: Int) throws {
        var rng = SplitMix64(seed: UInt64(bitWidth) &* 0x9E37 &+ 1)
        let dictionarySize = bitWidth == 0 ? 1 : min(1 << min(bitWidth, 20), 300)
        let words = (0..<dictionarySize).map { "w\($0)" }
        let count = 500 + Int(rng.next() % 500)
        var indices: [UInt32] = []
        while indices.count < count {
            let value = UInt32(rng.next() % UInt64(dictionarySize))
            let repeats = rng.next() % 3 == 0 ? 1 + Int(rng.next() % 30) : 1
            indices += Array(repeating: value, count: min(repeats, count - indices.count))
        }
        let body = v1Levels(rleRun(count: count, value: 1)) + [UInt8(bitWidth)] + hybridEncode(indices, bitWidth: bitWidth, rng: &rng)
        let bytes = oneColumnFile(pages: [
            dictionaryPage(values: dictionarySize, body: plainByteArrays(words)),
            dataPageV1(values: count, encoding: PQ.rleDictionary, body: body),
        ], rows: count, hasDictionary: true)
        let texts = try withTemporaryDirectory { dir in
            try writeFile("\(dir)/rle.parquet", bytes)
            let rows = try ParquetFile(path: "\(dir)/rle.parquet").rows(text: "t")
            var texts: [String] = []
            while let row = try rows.next() { texts.append(String(decoding: try #require(row.text), as: UTF8.self)) }
            return texts
        }
        #expect(texts == indices.map { words[Int($0)] })
    }

    @Test("definition levels: random nulls in bit-packed and RLE runs, v1 and v2 pages")
    func levels() throws {
        var rng = SplitMix64(seed: 42)
        for version in [1, 2] {
            let count = 777
            var levels: [UInt32] = []
            while levels.count < count {
                let value = UInt32(rng.next() % 2)
                levels += Array(repeating: value, count: min(1 + Int(rng.next() % 12), count - levels.count))
            }
            let present = levels.indices.filter { levels[$0] == 1 }.map { "v\($0)" }
            let runs = hybridEncode(levels, bitWidth: 1, rng: &rng)
            let page = version == 1
                ? dataPageV1(values: count, body: v1Levels(runs) + plainByteArrays(present))
                : dataPageV2(values: count, nulls: count - present.count, levels: runs, body: plainByteArrays(present))
            let texts = try withTemporaryDirectory { dir in
                try writeFile("\(dir)/levels.parquet", oneColumnFile(pages: [page], rows: count))
                let rows = try ParquetFile(path: "\(dir)/levels.parquet").rows(text: "t")
                var texts: [String?] = []
                while let row = try rows.next() { texts.append(row.text.map { String(decoding: $0, as: UTF8.self) }) }
                return texts
            }
            #expect(texts == levels.indices.map { levels[$0] == 1 ? "v\($0)" : nil }, "v\(version)")
        }
    }
}
