import Foundation
import Testing
import TestSupport
import Parquet

#if canImport(Glibc)
import Glibc
#endif

// Seeded structural fuzzing of the parquet reader (the bounded CI counterpart of `make fuzz-parquet`).
//
// Each case mutates a valid file (committed goldens of several codecs and page kinds, and a hand-built one) and reads
// everything in it: every flat string or binary column as the text column, the others carried. The oracle: reading
// either succeeds or throws a ParquetError whose description is one line naming the file. A trap (an out-of-bounds
// access, an overflow, a force unwrap) kills the test process; rerun with PARQUET_FUZZ_VERBOSE=1 to print each case's
// label first, so that the last line printed names the culprit. PARQUET_FUZZ_ROUNDS=n repeats the random part n
// times with fresh seeds.
//
// Mutations aim at the structures: the footer (Thrift: varints, field headers, list headers) and the page headers
// at each column chunk's start (the public byte ranges say where) take most of them; the rest land anywhere
// (levels, values, compressed data). Kinds: byte flips, varints rewritten with hostile values (same length or not),
// 32-bit little-endian values (lengths), deletions, insertions, truncations.

private enum FuzzConfig {
    static let casesPerSeed = 250
    static let truncationStride = 97
    static let rounds = ProcessInfo.processInfo.environment["PARQUET_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 1
    static let verbose = ProcessInfo.processInfo.environment["PARQUET_FUZZ_VERBOSE"] != nil
    /// Smaller than the default page cap, so that headers claiming huge pages cost little.
    static let limits = ParquetLimits(maximumFooterBytes: 1 << 20, maximumPageBytes: 4 << 20)
}

/// Reads every value of every flat column of the file at `path`, through as many cursors as it takes.
func readEverything(_ path: String, limits: ParquetLimits) throws(ParquetError) -> Int {
    let file = try ParquetFile(path: path, limits: limits)
    let flat = file.columns.filter(\.isFlat)
    let texts = flat.filter { $0.physicalType == .byteArray }
    let carried = flat.filter { [.boolean, .int32, .int64, .float, .double].contains($0.physicalType) || $0.isString }
    var sum = 0
    var json: [UInt8] = []
    for (i, text) in texts.enumerated() {
        let rows = try file.rows(text: text.name, carrying: i == 0 ? carried.map(\.name) : [])
        while let row = try rows.next() {
            sum &+= row.index &+ (row.text?.count ?? 0)
            json.removeAll(keepingCapacity: true)
            for c in rows.carriedColumns.indices { rows.appendCarriedJSON(c, to: &json) }
            sum &+= json.count
        }
    }
    return sum
}

private final class FuzzRunner {
    let path: String
    private(set) var accepted = 0
    private(set) var rejected = 0

    init(path: String) { self.path = path }

    func run(_ bytes: [UInt8], _ label: @autoclosure () -> String) {
        if FuzzConfig.verbose { print("parquet-fuzz:", label()) }
        unlink(path)  // a fresh inode: no mapping of the previous case can see these bytes
        do { try writeFile(path, bytes) } catch {
            Issue.record("cannot write \(path): \(error)")
            return
        }
        do throws(ParquetError) {
            _ = try readEverything(path, limits: FuzzConfig.limits)
            accepted += 1
        } catch {
            rejected += 1
            let message = error.description
            #expect(message.hasPrefix(path + ": "), "\(label()): the error does not name the file: \(message)")
            #expect(error.path == path, "\(label()): error.path is \(error.path)")
            #expect(!message.unicodeScalars.contains { $0.value < 0x20 }, "\(label()): not one line: \(message)")
        }
    }
}

/// Integers on the edges of the reader's checks.
private let interesting: [Int64] = [0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 127, 128, 255, 256, 4095, 65535, 65536,
                                    Int64(Int32.max), Int64(Int32.max) + 1, Int64(Int32.min), Int64(UInt32.max), 1 << 40,
                                    Int64.max, Int64.min]

extension SplitMix64 {
    fileprivate mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// Where the structures of a file are: the footer's range and each column chunk's first bytes.
private struct FileMap {
    var footer: Range<Int>
    var pageHeaders: [Int]

    init(_ bytes: [UInt8], path: String) throws {
        let length = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
            | Int(bytes[bytes.count - 5]) << 24
        let footer = (bytes.count - 8 - length)..<(bytes.count - 8)
        let file = try ParquetFile(path: path)
        self.footer = footer
        pageHeaders = file.rowGroups.flatMap { $0.chunks.map(\.byteRange.lowerBound) }.filter { $0 < footer.lowerBound }
    }

    /// A position: in the footer, in the first 48 bytes of a column chunk, or anywhere.
    func position(_ rng: inout SplitMix64, count: Int) -> Int {
        switch rng.below(10) {
        case 0..<5: return footer.lowerBound + rng.below(footer.count)
        case 5..<8 where !pageHeaders.isEmpty: return min(count - 1, pageHeaders[rng.below(pageHeaders.count)] + rng.below(48))
        default: return rng.below(count)
        }
    }
}

private func leb128(_ value: UInt64) -> [UInt8] { ThriftWriter.varint(value) }

/// One mutation of `bytes` at structure-biased places, with a label saying what it did.
private func mutate(_ bytes: [UInt8], map: FileMap, _ rng: inout SplitMix64) -> ([UInt8], String) {
    var b = bytes
    let at = map.position(&rng, count: b.count)
    switch rng.below(7) {
    case 0:
        let mask = UInt8(truncatingIfNeeded: rng.next() | 1)
        b[at] ^= mask
        return (b, "flip \(at)^\(mask)")
    case 1, 2:
        // A varint (zigzag of a hostile value) in place of the varint at `at` (its length as it stands).
        var end = at
        while end < b.count - 1 && b[end] & 0x80 != 0 && end - at < 10 { end += 1 }
        let value = interesting[rng.below(interesting.count)]
        let encoded = leb128(rng.below(2) == 0 ? ThriftWriter.zigzag(value) : UInt64(bitPattern: value))
        b.replaceSubrange(at...end, with: encoded)
        return (b, "varint \(value) at \(at)..\(end)")
    case 3:
        let value = UInt32(truncatingIfNeeded: interesting[rng.below(interesting.count)])
        for i in 0..<4 where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        return (b, "u32 \(value) at \(at)")
    case 4:
        let n = min(b.count - at, 1 + rng.below(8))
        b.removeSubrange(at..<(at + n))
        return (b, "delete \(n) at \(at)")
    case 5:
        let inserted = (0...rng.below(8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        b.insert(contentsOf: inserted, at: at)
        return (b, "insert \(inserted) at \(at)")
    default:
        // A field or list header byte: another type nibble or delta.
        let value = UInt8(truncatingIfNeeded: rng.next())
        b[at] = value
        return (b, "byte \(at) = \(value)")
    }
}

@Suite("parquet fuzzing (seeded)")
struct FuzzTests {
    static let seeds = ["table.snappy.v1.dict.parquet", "table.gzip.v2.plain.parquet", "table.zstd.v2.dict.parquet",
                        "table.none.v1.plain.parquet", "fallback.parquet", "page-index.parquet", "large-string.parquet",
                        "empty.parquet"]

    @Test("mutated goldens read or fail with a one-line ParquetError naming the file", arguments: seeds)
    func mutatedGoldens(seed: String) throws {
        let original = try readFile(parquetFixture(seed))
        try withTemporaryDirectory { dir in
            let runner = FuzzRunner(path: "\(dir)/fuzz.parquet")
            runner.run(original, "\(seed) unchanged")
            #expect(runner.accepted == 1)
            let map = try FileMap(original, path: parquetFixture(seed))
            // Truncations: at every structure boundary and every few bytes.
            var cuts = Set(stride(from: 0, to: original.count, by: FuzzConfig.truncationStride))
            cuts.formUnion(map.pageHeaders + [map.footer.lowerBound, map.footer.upperBound, original.count - 4])
            for cut in cuts.sorted() { runner.run(Array(original[..<cut]), "\(seed) cut at \(cut)") }
            for round in 0..<FuzzConfig.rounds {
                var rng = SplitMix64(seed: UInt64(seed.utf8.count) &* 7919 &+ UInt64(round) &* 104_729)
                for i in 0..<FuzzConfig.casesPerSeed {
                    var (bytes, label) = mutate(original, map: map, &rng)
                    if rng.below(3) == 0 {  // sometimes two mutations
                        let (again, second) = mutate(bytes, map: map, &rng)
                        bytes = again
                        label += ", " + second
                    }
                    runner.run(bytes, "\(seed) round \(round) case \(i): \(label)")
                }
            }
            #expect(runner.rejected > 0)
            if FuzzConfig.verbose { print("parquet-fuzz: \(seed): \(runner.accepted) read, \(runner.rejected) rejected") }
        }
    }

    @Test("every page-header field of a hand-built file set to hostile values")
    func hostileHeaderValues() throws {
        // One chunk of a dictionary page and a data page, so that both kinds of headers are there.
        let dictionary = dictionaryPage(values: 3, body: plainByteArrays(["x", "yy", "zzz"]))
        let data = dataPageV1(values: 4, encoding: PQ.rleDictionary, body: v1Levels(rleRun(count: 4, value: 1)) + [2, 0x03, 0b0101_0010, 0])
        let original = oneColumnFile(pages: [dictionary, data], rows: 4, hasDictionary: true)
        try withTemporaryDirectory { dir in
            let runner = FuzzRunner(path: "\(dir)/fields.parquet")
            runner.run(original, "unchanged")
            #expect(runner.accepted == 1)
            // Every varint in the pages and the footer (a byte whose predecessor ends a varint or a header), replaced
            // by each hostile value.
            for at in 4..<(original.count - 8) {
                for value in interesting {
                    var b = original
                    var end = at
                    while end < b.count - 1 && b[end] & 0x80 != 0 && end - at < 10 { end += 1 }
                    b.replaceSubrange(at...end, with: leb128(ThriftWriter.zigzag(value)))
                    runner.run(b, "varint \(value) at \(at)")
                }
            }
            #expect(runner.rejected > 0)
        }
    }
}
