import Foundation
import Testing
import TestSupport
import ModelFiles
import QwenKitIO

#if canImport(Glibc)
import Glibc
#endif

// Fuzz tests over the model-file readers: GGUFFile, SafetensorsFile and SafetensorsIndex.
//
// Each case mutates a valid file (the committed fixtures, or a sharded checkpoint written here) and opens the
// result. The oracle: opening either succeeds, and then every metadata value and every tensor byte is read, or it
// throws a ModelFileError whose description is one line naming the file. A trap (an out-of-bounds slice, an
// overflow, a force unwrap) kills the test process; rerun the one test (`--filter fuzzGGUFReader`) with
// MODELFILES_FUZZ_VERBOSE=1 to print each case's label before it runs, so the last line printed names the culprit.
//
// Mutations are structure-aware where that is cheap: a valid GGUF file is walked once to find every count,
// length, type id, dimension and offset field, which are then overwritten with hostile values; safetensors headers
// and indexes are parsed into a JSON tree, edited and re-encoded. Random byte-level mutations (flips, interesting
// integers at random positions, deletions, insertions, truncations) cover the rest. Everything is seeded, so a
// failure reproduces; MODELFILES_FUZZ_ROUNDS=n repeats the random part n times with fresh seeds for longer local runs.

// MARK: - Configuration

private enum FuzzConfig {
    /// Hostile values tried on each GGUF field in the one-field-at-a-time pass.
    static let valuesPerField = 8
    /// Random structure-aware cases per fixture file.
    static let structuredCases = 400
    /// Random byte-level cases per fixture file.
    static let byteCases = 250
    /// Every this-many bytes, a truncation (besides the structural boundaries).
    static let truncationStride = 13
    /// How many times the random parts run (environment `MODELFILES_FUZZ_ROUNDS`, default 1).
    static let rounds: Int = ProcessInfo.processInfo.environment["MODELFILES_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 1
    /// Print every case label before running it (environment `MODELFILES_FUZZ_VERBOSE`).
    static let verbose = ProcessInfo.processInfo.environment["MODELFILES_FUZZ_VERBOSE"] != nil
}

// MARK: - The oracle

/// Runs mutated files through one reader and checks the outcome of each.
private final class FuzzRunner {
    /// Where mutated files are written.
    let path: String
    /// What every error must name: the file, or for an index, the directory of the index and its shards.
    let mustName: String
    /// Opens `path` and reads everything in it; throws what the reader throws.
    let open: (String) throws(ModelFileError) -> Void
    private(set) var accepted = 0
    private(set) var rejected = 0

    init(path: String, mustName: String? = nil, open: @escaping (String) throws(ModelFileError) -> Void) {
        self.path = path
        self.mustName = mustName ?? path
        self.open = open
    }

    /// In verbose mode, prints how many cases were accepted and rejected.
    func report(_ what: String) {
        if FuzzConfig.verbose { print("fuzz: \(what): \(accepted) accepted, \(rejected) rejected") }
    }

    func run(_ bytes: [UInt8], _ label: @autoclosure () -> String) {
        if FuzzConfig.verbose { print("fuzz:", label()) }
        // A fresh inode every time: a mapping of the previous file can never see this one's bytes.
        unlink(path)
        do { try writeFile(path, bytes) } catch {
            Issue.record("cannot write \(path): \(error)")
            return
        }
        do throws(ModelFileError) {
            try open(path)
            accepted += 1
        } catch {
            rejected += 1
            let message = error.description
            #expect(message.contains(mustName), "\(label()): the error does not name the file: \(message)")
            #expect(error.path?.hasPrefix(mustName) == true, "\(label()): error.path is \(error.path ?? "nil")")
            #expect(!message.unicodeScalars.contains { $0.value < 0x20 }, "\(label()): not one line: \(message)")
        }
    }
}

/// Reads every metadata value (each array element, each string) and every tensor byte of a GGUF file.
private func readGGUF(_ path: String) throws(ModelFileError) {
    let file = try GGUFFile(path: path)
    var sum = 0
    for kv in file.metadata {
        #expect(file[kv.key] != nil)
        switch kv.value {
        case .array(let array):
            for i in 0..<array.count { sum &+= array.value(at: i).checksum }
            array.forEachString { _, bytes in sum &+= bytes.reduce(0) { $0 &+ Int($1) } }
        default: sum &+= kv.value.checksum
        }
    }
    for info in file.tensors {
        #expect(file.tensor(named: info.name) != nil)
        let data = file.data(of: info)
        #expect(data.count == info.byteCount)
        sum &+= data.reduce(0) { $0 &+ Int($1) }
    }
    withExtendedLifetime(sum) {}
}

/// Reads every metadata value and every tensor byte of a safetensors file.
private func readSafetensors(_ path: String) throws(ModelFileError) {
    let file = try SafetensorsFile(path: path)
    var sum = file.metadata.reduce(0) { $0 &+ $1.key.utf8.count &+ $1.value.utf8.count }
    for info in file.tensors {
        #expect(file[info.name] != nil)
        let data = file.data(of: info)
        #expect(data.count == info.elementCount * info.dtype.size)
        sum &+= data.reduce(0) { $0 &+ Int($1) }
    }
    withExtendedLifetime(sum) {}
}

/// Reads every tensor byte of a sharded checkpoint through its index.
private func readIndex(_ path: String) throws(ModelFileError) {
    let model = try SafetensorsIndex(path: path)
    var sum = 0
    for info in model.tensors {
        let data = try model.data(of: info.name)
        #expect(data.count == info.byteCount)
        sum &+= data.reduce(0) { $0 &+ Int($1) }
    }
    withExtendedLifetime(sum) {}
}

extension GGUFValue {
    /// A number derived from the value, so that decoding it is not optimized away.
    fileprivate var checksum: Int {
        switch self {
        case .string(let s): return s.utf8.count
        case .bool(let b): return b ? 1 : 0
        default: return intValue ?? 1
        }
    }
}

// MARK: - Byte-level mutations (any format)

/// Integers that sit on the edges of the readers' checks.
private let interestingU64: [UInt64] = [
    0, 1, 2, 3, 4, 7, 8, 31, 32, 33, 63, 64, 255, 256, 65535, 1 << 16, (1 << 31) - 1, 1 << 31, (1 << 32) - 1, 1 << 32,
    1 << 53, (1 << 53) + 1, 1 << 62, (1 << 63) - 1, 1 << 63, UInt64.max - 1, UInt64.max,
]

private func littleEndianValue(_ bytes: [UInt8], at offset: Int, width: Int) -> UInt64 {
    (0..<width).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
}

private func setLittleEndian(_ bytes: inout [UInt8], at offset: Int, width: Int, _ value: UInt64) {
    for i in 0..<width where offset + i < bytes.count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
}

extension SplitMix64 {
    /// A uniform index below `n` (n > 0).
    fileprivate mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    fileprivate mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    fileprivate mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// One random byte-level mutation of `bytes`, with a label that says what it did.
private func mutateBytes(_ bytes: [UInt8], _ rng: inout SplitMix64) -> ([UInt8], String) {
    var b = bytes
    guard !b.isEmpty else { return ([0], "one zero byte") }
    switch rng.below(8) {
    case 0:
        var what: [String] = []
        for _ in 0...rng.below(4) {
            let at = rng.below(b.count)
            let mask = UInt8(truncatingIfNeeded: rng.next() | 1)
            b[at] ^= mask
            what.append("\(at)^\(mask)")
        }
        return (b, "flip bytes \(what)")
    case 1:
        let at = rng.below(b.count)
        let value = rng.pick([0x00, 0x01, 0x7F, 0x80, 0xFF, 0x22, 0x5C, 0x7B, 0x5B, 0x20] as [UInt8])
        b[at] = value
        return (b, "byte \(at) = \(value)")
    case 2:
        let width = rng.pick([4, 8])
        let at = rng.below(b.count)
        let value = rng.pick(interestingU64)
        setLittleEndian(&b, at: at, width: width, value)
        return (b, "u\(width * 8) \(value) at \(at)")
    case 3:
        let at = rng.below(b.count)
        let n = min(b.count - at, 1 + rng.below(16))
        b.removeSubrange(at..<(at + n))
        return (b, "delete \(n) bytes at \(at)")
    case 4:
        let at = rng.below(b.count + 1)
        let inserted = (0...rng.below(16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        b.insert(contentsOf: inserted, at: at)
        return (b, "insert \(inserted.count) bytes at \(at)")
    case 5:
        let from = rng.below(b.count)
        let n = min(b.count - from, 1 + rng.below(32))
        let to = rng.below(b.count + 1)
        b.insert(contentsOf: b[from..<(from + n)], at: to)
        return (b, "copy \(n) bytes from \(from) to \(to)")
    case 6:
        let at = rng.below(b.count)
        return (Array(b[..<at]), "truncate at \(at)")
    default:
        let extra = (0...rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return (b + extra, "append \(extra.count) bytes")
    }
}

/// Truncations at each boundary (and one byte either side) and every `truncationStride` bytes.
private func truncations(of bytes: [UInt8], boundaries: [Int]) -> [Int] {
    var cuts = Set(stride(from: 0, to: bytes.count, by: FuzzConfig.truncationStride))
    for b in boundaries { for c in [b - 1, b, b + 1] where c >= 0 && c < bytes.count { cuts.insert(c) } }
    return cuts.sorted()
}

/// A scratch directory for the mutated files, removed when `body` returns: on tmpfs (/dev/shm) where there is one,
/// because thousands of small writes and unlinks cost about a millisecond each on this machine's disk (ext4 mounted
/// with `discard`), against tens of microseconds in memory (8 s against 1 s for the GGUF cases).
private func withFuzzDirectory<R>(_ body: (String) throws -> R) throws -> R {
    var template = Array("/dev/shm/modelfiles-fuzz-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { return try withTemporaryDirectory(body) }
    let path = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

private func fixtureBytes(_ relative: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: fixturePath(relative))))
}

// MARK: - GGUF

/// Where each field of a valid GGUF file lies, found by walking it once. The input is a trusted fixture, so the
/// walk checks nothing; it is independent of the reader under test.
private struct GGUFLayout {
    enum Kind: String { case count, stringLength, valueType, elementType, elementCount, scalar, nDims, dimension, ggmlType, tensorOffset }
    struct Field {
        let kind: Kind
        let offset: Int
        let width: Int
    }

    var fields: [Field] = []
    /// Byte ranges of the metadata keys and of the tensor names.
    var keys: [Range<Int>] = []
    var names: [Range<Int>] = []
    /// The first-dimension field of each tensor.
    var firstDims: [Field] = []
    var alignmentValue: Field?
    var alignment = GGUFLimits.defaultAlignment
    var infosEnd = 0
    var dataStart: Int { (infosEnd + alignment - 1) / alignment * alignment }

    /// Sizes of the fixed-size metadata value types, by type id (8 string and 9 array are walked).
    private static let scalarWidths: [UInt64: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]

    init(_ b: [UInt8]) {
        var pos = 8  // magic, version
        func field(_ kind: Kind, _ width: Int) -> UInt64 {
            fields.append(Field(kind: kind, offset: pos, width: width))
            defer { pos += width }
            return littleEndianValue(b, at: pos, width: width)
        }
        func string() -> Range<Int> {
            let n = Int(field(.stringLength, 8))
            defer { pos += n }
            return pos..<(pos + n)
        }
        let tensorCount = field(.count, 8)
        let kvCount = field(.count, 8)
        for _ in 0..<kvCount {
            let key = string()
            keys.append(key)
            let type = field(.valueType, 4)
            if type == 8 {
                _ = string()
            } else if type == 9 {
                let element = field(.elementType, 4)
                let count = field(.elementCount, 8)
                for _ in 0..<count {
                    if element == 8 { _ = string() } else { pos += Self.scalarWidths[element] ?? 0 }
                }
            } else {
                let width = Self.scalarWidths[type] ?? 0
                if Array(b[key]) == Array(GGUFKeys.generalAlignment.utf8) {
                    alignmentValue = Field(kind: .scalar, offset: pos, width: width)
                    alignment = Int(littleEndianValue(b, at: pos, width: width))
                }
                _ = field(.scalar, width)
            }
        }
        for _ in 0..<tensorCount {
            names.append(string())
            let nDims = field(.nDims, 4)
            for d in 0..<nDims {
                if d == 0 { firstDims.append(Field(kind: .dimension, offset: pos, width: 8)) }
                _ = field(.dimension, 8)
            }
            _ = field(.ggmlType, 4)
            _ = field(.tensorOffset, 8)
        }
        infosEnd = pos
    }

    /// Every field's start and end, the end of the infos and the data start: where truncations are interesting.
    var boundaries: [Int] {
        [4, 8, infosEnd, dataStart] + fields.flatMap { [$0.offset, $0.offset + $0.width] }
            + keys.map(\.upperBound) + names.map(\.upperBound)
    }

    /// Pairs of different keys (or names) of the same length: copying one over the other makes a duplicate.
    static func sameLengthPairs(_ ranges: [Range<Int>]) -> [(Range<Int>, Range<Int>)] {
        var pairs: [(Range<Int>, Range<Int>)] = []
        for (i, a) in ranges.enumerated() { for b in ranges[(i + 1)...] where a.count == b.count { pairs.append((a, b)) } }
        return pairs
    }
}

/// Hostile values for a GGUF field, some relative to the valid file.
private func hostileValues(for field: GGUFLayout.Field, in bytes: [UInt8], layout: GGUFLayout) -> [UInt64] {
    let original = littleEndianValue(bytes, at: field.offset, width: field.width)
    let fileSize = UInt64(bytes.count)
    let remaining = UInt64(bytes.count - field.offset - field.width)
    let dataSize = UInt64(max(0, bytes.count - layout.dataStart))
    let near = [original &+ 1, original &- 1, original &* 2]
    switch field.kind {
    case .count, .elementCount:
        return near + interestingU64
    case .stringLength:
        return near + [0, remaining, remaining + 1, fileSize, 64] + interestingU64
    case .valueType, .elementType:
        return Array(0...13) + [9, 9, 8, 8, 0xFFFF_FFFF]
    case .scalar:
        return near + [0, 1, 2, 3, 16, 48, 96, 1 << 31, 0xFFFF_FFFF] + interestingU64
    case .nDims:
        return [0, 1, 2, 3, 4, 5, 6, 255, 1 << 31, 0xFFFF_FFFF]
    case .dimension:
        return near + [0, 1, 3, 31, 32, 33, 256, 1 << 31, 1 << 32, 1 << 61, (1 << 63) - 1, 1 << 63, .max]
    case .ggmlType:
        return Array(0...41) + [0xFFFF, 0xFFFF_FFFF]
    case .tensorOffset:
        return near + [0, UInt64(layout.alignment), original &+ UInt64(layout.alignment), dataSize, dataSize &- 1,
                       dataSize &+ UInt64(layout.alignment), fileSize, 1 << 62, 1 << 63, .max]
    }
}

private func fuzzGGUFFixture(_ name: String, runner: FuzzRunner, seed: UInt64) throws {
    let valid = try fixtureBytes("gguf/" + name)
    let layout = GGUFLayout(valid)
    #expect(layout.dataStart <= valid.count && !layout.fields.isEmpty)
    runner.run(valid, "\(name) unmodified")

    for cut in truncations(of: valid, boundaries: layout.boundaries) {
        runner.run(Array(valid[..<cut]), "\(name) cut at \(cut)")
    }

    // One field at a time: type ids and n_dims to every hostile value (every ggml type id, known or not, up to 41),
    // the other fields to a seeded sample of `valuesPerField` of theirs.
    var sampler = SplitMix64(seed: seed ^ 0xF1E1D)
    for field in layout.fields {
        var values = Array(Set(hostileValues(for: field, in: valid, layout: layout))).sorted()  // sorted: Set order varies
        values.shuffle(using: &sampler)
        let exhaustive = field.kind == .ggmlType || field.kind == .nDims
        for value in exhaustive ? values : Array(values.prefix(FuzzConfig.valuesPerField)) {
            var b = valid
            setLittleEndian(&b, at: field.offset, width: field.width, value)
            runner.run(b, "\(name) \(field.kind.rawValue) at \(field.offset) = \(value)")
        }
    }

    // Duplicate keys and tensor names.
    for (a, b) in GGUFLayout.sameLengthPairs(layout.keys) + GGUFLayout.sameLengthPairs(layout.names) {
        var m = valid
        m.replaceSubrange(b, with: valid[a])
        runner.run(m, "\(name) bytes \(b) = bytes \(a) (duplicate)")
    }

    // Empty tensors, all at offset 0, then the file cut inside the padding before the data section.
    var empty = valid
    for dim in layout.firstDims { setLittleEndian(&empty, at: dim.offset, width: dim.width, 0) }
    for field in layout.fields where field.kind == .tensorOffset { setLittleEndian(&empty, at: field.offset, width: field.width, 0) }
    for end in layout.infosEnd...min(layout.dataStart + 1, valid.count) {
        runner.run(Array(empty[..<end]), "\(name) empty tensors, cut at \(end)")
    }

    for round in 0..<FuzzConfig.rounds {
        var rng = SplitMix64(seed: seed &+ UInt64(round) &* 0x1_0000)
        // Stacks of one to three structural edits, sometimes followed by a truncation.
        for i in 0..<FuzzConfig.structuredCases {
            var b = valid
            var what: [String] = []
            for _ in 0...rng.below(3) {
                let field = rng.pick(layout.fields)
                let value = rng.pick(hostileValues(for: field, in: valid, layout: layout))
                setLittleEndian(&b, at: field.offset, width: field.width, value)
                what.append("\(field.kind.rawValue)@\(field.offset)=\(value)")
            }
            if let alignment = layout.alignmentValue, rng.chance(10) {
                let value = rng.pick([0, 1, 2, 8, 16, 24, 128, 1 << 20, 1 << 31, 0xFFFF_FFFF] as [UInt64])
                setLittleEndian(&b, at: alignment.offset, width: alignment.width, value)
                what.append("alignment=\(value)")
            }
            if rng.chance(25) {
                let cut = rng.pick(layout.boundaries.filter { $0 < b.count } + [b.count])
                b = Array(b[..<cut])
                what.append("cut at \(cut)")
            }
            runner.run(b, "\(name) round \(round) structured #\(i): \(what)")
        }
        for i in 0..<FuzzConfig.byteCases {
            var (b, what) = mutateBytes(valid, &rng)
            if rng.chance(30) {
                let (again, more) = mutateBytes(b, &rng)
                b = again
                what += "; " + more
            }
            runner.run(b, "\(name) round \(round) bytes #\(i): \(what)")
        }
    }
}

@Test func fuzzGGUFReader() throws {
    try withFuzzDirectory { dir in
        let runner = FuzzRunner(path: dir + "/fuzz.gguf", open: readGGUF)
        for (name, seed) in [("small.gguf", 0x6767_7566 as UInt64), ("small-align64.gguf", 0x6767_7567)] {
            try fuzzGGUFFixture(name, runner: runner, seed: seed)
        }
        runner.report("GGUF")
        // Both outcomes happen, or the mutations are not reaching the interesting checks.
        #expect(runner.accepted > 100 && runner.rejected > 1000, "accepted \(runner.accepted), rejected \(runner.rejected)")
    }
}

// MARK: - JSON trees for safetensors headers and indexes

/// A JSON tree that can also hold raw text (numbers such as `1e999`, or something that is not JSON at all),
/// encoded compactly in member order, so duplicate keys survive.
private indirect enum JSONTree {
    case raw(String)
    case string(String)
    case array([JSONTree])
    case object([(String, JSONTree)])

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .raw("null")
        case .bool(let b): self = .raw(b ? "true" : "false")
        case .number(let n): self = .raw(n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n))
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(JSONTree.init))
        case .object(let m): self = .object(m.map { ($0.0, JSONTree($0.1)) })
        }
    }

    var members: [(String, JSONTree)] {
        if case .object(let m) = self { return m }
        return []
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    private func encode(into out: inout [UInt8]) {
        func quote(_ s: String) {
            var s = s
            s.withUTF8 { JSONString.appendQuoted($0, to: &out) }
        }
        switch self {
        case .raw(let text): out += Array(text.utf8)
        case .string(let s): quote(s)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.encode(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                quote(key)
                out.append(UInt8(ascii: ":"))
                value.encode(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

private func parseTree(_ bytes: [UInt8]) throws -> JSONTree {
    try bytes.withUnsafeBufferPointer { JSONTree(try JSONScanner.parse($0)) }
}

/// Number texts on the edges of what a JSON reader holding doubles can represent.
private let hostileNumbers = [
    "-1", "-0", "0.5", "1.0", "1e2", "1e300", "1e999", "-1e999", "9007199254740991", "9007199254740992",
    "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616", "4294967296", "01",
]

/// Values that are the wrong kind almost anywhere, including ones whose text must be escaped in messages.
private let hostileJSON: [JSONTree] = [
    .raw("null"), .raw("true"), .raw("0"), .raw("-7"), .string(""), .string("F32"), .string("line\nbreak\u{01}"),
    .array([]), .array([.raw("null")]), .object([]), .object([("\n", .raw("1"))]), .object([("k", .string("a\rb"))]),
    .raw(String(repeating: "[", count: 200) + String(repeating: "]", count: 200)),
]

private func randomNumber(_ rng: inout SplitMix64) -> JSONTree { .raw(rng.pick(hostileNumbers)) }

/// Random text-level damage to encoded JSON: a lone surrogate escape, invalid UTF-8 or a control byte inside a
/// string, a stray bracket or quote, a cut, garbage after the value.
private func damageJSONText(_ text: [UInt8], _ rng: inout SplitMix64) -> ([UInt8], String) {
    var t = text
    let quotes = t.indices.filter { t[$0] == UInt8(ascii: "\"") }
    let at = quotes.isEmpty ? 0 : rng.pick(quotes) + 1  // just inside a string, usually
    switch rng.below(7) {
    case 0: t.insert(contentsOf: Array(#"\ud800"#.utf8), at: min(at, t.count)); return (t, "lone surrogate at \(at)")
    case 1: t.insert(contentsOf: rng.pick([[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]] as [[UInt8]]), at: min(at, t.count))
        return (t, "invalid UTF-8 at \(at)")
    case 2: t.insert(rng.pick([0x00, 0x0A, 0x1F] as [UInt8]), at: min(at, t.count)); return (t, "control byte at \(at)")
    case 3:
        let position = rng.below(t.count + 1)
        t.insert(rng.pick(Array("{}[]\",:\\".utf8)), at: position)
        return (t, "stray punctuation at \(position)")
    case 4:
        let cut = rng.below(t.count + 1)
        return (Array(t[..<cut]), "JSON cut at \(cut)")
    case 5: return (t + Array(rng.pick([" x", "}", ",{}", "\u{0}", " \t\r\n"]).utf8), "garbage after the value")
    default: return (Array("\u{FEFF}".utf8) + t, "byte order mark")
    }
}

// MARK: - safetensors

/// A safetensors file split into its parts.
private struct SafetensorsParts {
    var header: JSONTree
    var data: [UInt8]

    init(_ bytes: [UInt8]) throws {
        let length = Int(littleEndianValue(bytes, at: 0, width: 8))
        header = try parseTree(Array(bytes[8..<(8 + length)]))
        data = Array(bytes[(8 + length)...])
    }

    static func file(headerText: [UInt8], data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
        littleEndianBytes([declaredLength ?? UInt64(headerText.count)]) + headerText + data
    }
}

/// One structure-aware mutation of a safetensors header tree.
private func mutateHeader(_ header: JSONTree, dataSize: Int, _ rng: inout SplitMix64) -> (JSONTree, String) {
    var members = header.members
    let tensorIndices = members.indices.filter { members[$0].0 != "__metadata__" }
    let metadataIndex = members.firstIndex { $0.0 == "__metadata__" }
    guard let t = tensorIndices.isEmpty ? nil : rng.pick(tensorIndices) else { return (header, "no tensors") }
    let (name, entry) = members[t]
    var fields = entry.members
    let offsets: [(Int, Int)] = tensorIndices.compactMap { i in
        guard case .array(let o)? = members[i].1.members.first(where: { $0.0 == "data_offsets" })?.1, o.count == 2,
              case .raw(let a) = o[0], case .raw(let b) = o[1], let x = Int(a), let y = Int(b) else { return nil }
        return (x, y)
    }
    func setField(_ key: String, _ value: JSONTree) {
        if let i = fields.firstIndex(where: { $0.0 == key }) { fields[i].1 = value } else { fields.append((key, value)) }
    }
    func number(_ n: Int) -> JSONTree { .raw(String(n)) }

    var what: String
    switch rng.below(12) {
    case 0:
        let dtype: JSONTree = rng.pick([.string("F32"), .string("F64"), .string("U8"), .string("BOOL"), .string("BF16"),
                                        .string("f32"), .string("Q4_0"), .string("F8_E4M3"), .string(""), .raw("4")])
        setField("dtype", dtype)
        what = "dtype = \(String(decoding: dtype.encoded(), as: UTF8.self))"
    case 1:
        let shapes: [JSONTree] = [
            .array([]), .array([number(0)]), .array([randomNumber(&rng)]), .array([randomNumber(&rng), randomNumber(&rng)]),
            .array([.raw("4294967296"), .raw("4294967296")]), .array([.raw("4294967296"), .raw("4294967296"), .raw("4")]),
            .array([.raw("4294967296"), .raw("536870912")]), .array([.string("2")]), .array([.array([number(2)])]),
            .array(Array(repeating: number(1), count: 1000)), rng.pick(hostileJSON),
        ]
        let shape = rng.pick(shapes)
        setField("shape", shape)
        what = "shape = \(String(decoding: shape.encoded().prefix(80), as: UTF8.self))"
    case 2:
        let (b, e) = offsets.isEmpty ? (0, 0) : rng.pick(offsets)
        let candidates: [JSONTree] = [
            .array([number(e), number(b)]), .array([number(b + 1), number(e + 1)]), .array([number(b), number(dataSize + 1)]),
            .array([number(dataSize), number(dataSize + e - b)]), .array([number(0), number(e - b)]),
            .array([randomNumber(&rng), randomNumber(&rng)]), .array([number(b)]), .array([number(b), number(e), number(e)]),
            .array([.raw("0.5"), number(e)]), .string("0,8"), rng.pick(hostileJSON),
        ]
        let value = rng.pick(candidates)
        setField("data_offsets", value)
        what = "data_offsets = \(String(decoding: value.encoded().prefix(80), as: UTF8.self))"
    case 3:
        let key = rng.pick(["dtype", "shape", "data_offsets"])
        fields.removeAll { $0.0 == key }
        what = "remove \(key)"
    case 4:
        if let field = fields.isEmpty ? nil : rng.pick(fields) { fields.append(field) }
        fields.append((rng.pick(["extra", "offsets", "DTYPE"]), rng.pick(hostileJSON)))
        what = "duplicate a field, add an unknown one"
    case 5:
        members[t].1 = rng.pick(hostileJSON)
        return (.object(members), "entry \(name) = hostile value")
    case 6:
        members.append(members[t])
        return (.object(members), "tensor \(name) twice")
    case 7:
        let newName = rng.pick(["__metadata__", "", "a\nb", "\u{FFFD}", members[rng.pick(tensorIndices)].0])
        members[t].0 = newName
        return (.object(members), "rename \(name)")
    case 8:
        let metadata: JSONTree = rng.pick([
            rng.pick(hostileJSON), .object([("k", .raw("1"))]), .object([("a\nb", .raw("null"))]),
            .object([("k", .string("v")), ("k", .string("w"))]), .object([("k", .object([("\u{1}", .string("x"))]))]),
        ])
        if let m = metadataIndex { members[m].1 = metadata } else { members.insert(("__metadata__", metadata), at: 0) }
        return (.object(members), "__metadata__ = hostile")
    case 9:
        members.append(("__metadata__", .object([])))
        if metadataIndex == nil { members.append(("__metadata__", .object([]))) }
        return (.object(members), "__metadata__ twice")
    case 10:
        return (rng.pick(hostileJSON + [.array([header]), .string("{}")]), "root = hostile")
    default:
        // Every tensor gets the same data_offsets: overlaps and size mismatches everywhere.
        let (b, e) = offsets.isEmpty ? (0, 0) : rng.pick(offsets)
        for i in tensorIndices {
            var f = members[i].1.members
            if let j = f.firstIndex(where: { $0.0 == "data_offsets" }) { f[j].1 = .array([number(b), number(e)]) }
            members[i].1 = .object(f)
        }
        return (.object(members), "all data_offsets = [\(b), \(e)]")
    }
    members[t].1 = .object(fields)
    return (.object(members), "tensor \(name): \(what)")
}

private func fuzzSafetensorsFixture(_ name: String, runner: FuzzRunner, seed: UInt64) throws {
    let valid = try fixtureBytes("safetensors/" + name)
    let parts = try SafetensorsParts(valid)
    let headerText = parts.header.encoded()
    let headerLength = UInt64(headerText.count)
    // Re-encoded without the padding, the file must still be valid.
    let rejectedBefore = runner.rejected
    runner.run(SafetensorsParts.file(headerText: headerText, data: parts.data), "\(name) re-encoded")
    #expect(runner.rejected == rejectedBefore, "\(name) re-encoded was rejected")

    // Structural boundaries: the length, each tensor's data.
    let dataStart = valid.count - parts.data.count
    var boundaries = [8, dataStart]
    for (_, entry) in parts.header.members {
        if case .array(let o)? = entry.members.first(where: { $0.0 == "data_offsets" })?.1 {
            for case .raw(let text) in o { if let n = Int(text) { boundaries.append(dataStart + n) } }
        }
    }
    for cut in truncations(of: valid, boundaries: boundaries) {
        runner.run(Array(valid[..<cut]), "\(name) cut at \(cut)")
    }

    // The declared header length.
    let lengths: [UInt64] = [headerLength - 1, headerLength + 1, headerLength + UInt64(parts.data.count),
                             headerLength + UInt64(parts.data.count) + 1, 100_000_000, 100_000_001] + interestingU64
    for length in lengths {
        runner.run(SafetensorsParts.file(headerText: headerText, data: parts.data, declaredLength: length), "\(name) length \(length)")
    }

    // The data section one byte short or long of what the offsets need.
    runner.run(SafetensorsParts.file(headerText: headerText, data: parts.data.dropLast()), "\(name) data one byte short")
    runner.run(SafetensorsParts.file(headerText: headerText, data: parts.data + [0]), "\(name) data one byte long")

    for round in 0..<FuzzConfig.rounds {
        var rng = SplitMix64(seed: seed &+ UInt64(round) &* 0x1_0000)
        for i in 0..<FuzzConfig.structuredCases {
            var (tree, what) = mutateHeader(parts.header, dataSize: parts.data.count, &rng)
            if rng.chance(30) {
                let (again, more) = mutateHeader(tree, dataSize: parts.data.count, &rng)
                tree = again
                what += "; " + more
            }
            var text = tree.encoded()
            if rng.chance(20) {
                let (damaged, how) = damageJSONText(text, &rng)
                text = damaged
                what += "; " + how
            }
            runner.run(SafetensorsParts.file(headerText: text, data: parts.data), "\(name) round \(round) structured #\(i): \(what)")
        }
        for i in 0..<FuzzConfig.byteCases {
            let (b, what) = mutateBytes(valid, &rng)
            runner.run(b, "\(name) round \(round) bytes #\(i): \(what)")
        }
    }
}

@Test func fuzzSafetensorsReader() throws {
    try withFuzzDirectory { dir in
        let runner = FuzzRunner(path: dir + "/fuzz.safetensors", open: readSafetensors)
        for (name, seed) in [("golden.safetensors", 0x5AFE_0001 as UInt64), ("writer-golden.safetensors", 0x5AFE_0002)] {
            try fuzzSafetensorsFixture(name, runner: runner, seed: seed)
        }
        runner.report("safetensors")
        #expect(runner.accepted > 50 && runner.rejected > 1000, "accepted \(runner.accepted), rejected \(runner.rejected)")
    }
}

// MARK: - Sharded index

@Test func fuzzSafetensorsIndex() throws {
    try withFuzzDirectory { dir in
        // A two-shard checkpoint, written by our writer.
        let shardNames = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        let shardContents: [[(String, SafetensorsDType, [Int])]] = [
            [("a", .f32, [2]), ("b", .i8, [3])], [("c", .f16, [1]), ("d", .bool, []), ("e", .u8, [0])],
        ]
        var shardBytes: [[UInt8]] = []
        for (shard, tensors) in zip(shardNames, shardContents) {
            let writer = SafetensorsWriter(path: dir + "/" + shard, metadata: ["format": "pt"])
            for (name, dtype, shape) in tensors { try writer.addTensor(name: name, dtype: dtype, shape: shape) }
            try writer.write { sink in try sink.write([UInt8](repeating: 1, count: sink.info.byteCount)) }
            shardBytes.append(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + shard))))
        }
        let weightMap: [(String, JSONTree)] = zip(shardNames, shardContents).flatMap { shard, tensors in
            tensors.map { ($0.0, JSONTree.string(shard)) }
        }
        let index = JSONTree.object([("metadata", .object([("total_size", .raw("13"))])), ("weight_map", .object(weightMap))])
        let indexPath = dir + "/model.safetensors.index.json"
        let runner = FuzzRunner(path: indexPath, mustName: dir + "/", open: readIndex)
        let valid = index.encoded()
        runner.run(valid, "index unmodified")
        #expect(runner.accepted == 1)

        var rng = SplitMix64(seed: 0x1DE8)
        for round in 0..<FuzzConfig.rounds {
            for i in 0..<FuzzConfig.structuredCases {
                var map = weightMap
                var root = index.members  // [metadata, weight_map]
                let k = rng.below(map.count)
                var what: String
                let edit = rng.below(8)
                switch edit {
                case 0:
                    map[k].1 = rng.pick([.string("missing.safetensors"), .string(""), .string("."), .string(".."),
                                         .string("../" + shardNames[0]), .string("/etc/passwd"), .string("sub/dir"),
                                         .string("model.safetensors.index.json"), .string(rng.pick(shardNames)),
                                         .string("line\nbreak"), rng.pick(hostileJSON)])
                    what = "weight_map[\(map[k].0)] = hostile"
                case 1:
                    map.append(map[k])
                    what = "weight_map key \(map[k].0) twice"
                case 2:
                    what = "rename \(map[k].0)"
                    map[k].0 = rng.pick(["zzz", "", "a\u{1}", map[rng.below(map.count)].0])
                case 3:
                    map.remove(at: k)
                    what = "drop a weight_map entry"
                case 4:
                    root[1].1 = rng.pick(hostileJSON)
                    what = "weight_map = hostile"
                case 5:
                    root[0].1 = rng.pick(hostileJSON)
                    what = "metadata = hostile"
                case 6:
                    root.append(rng.pick(root))
                    what = "a root member twice"
                default:
                    root.remove(at: rng.below(root.count))
                    what = "drop a root member"
                }
                if edit < 4 { root[1].1 = .object(map) }  // the weight_map edits
                var text = JSONTree.object(root).encoded()
                if rng.chance(20) {
                    let (damaged, how) = damageJSONText(text, &rng)
                    text = damaged
                    what += "; " + how
                }
                runner.run(text, "index round \(round) structured #\(i): \(what)")
            }
            for i in 0..<FuzzConfig.byteCases / 2 {
                let (b, what) = mutateBytes(valid, &rng)
                runner.run(b, "index round \(round) bytes #\(i): \(what)")
            }
            // A damaged shard behind a valid index.
            try writeFile(indexPath, valid)
            for i in 0..<FuzzConfig.byteCases / 2 {
                let s = rng.below(shardNames.count)
                let shardPath = dir + "/" + shardNames[s]
                let (b, what) = mutateBytes(shardBytes[s], &rng)
                unlink(shardPath)
                try writeFile(shardPath, b)
                let label = "index round \(round) shard \(s) bytes #\(i): \(what)"
                if FuzzConfig.verbose { print("fuzz:", label) }
                do throws(ModelFileError) {
                    try readIndex(indexPath)
                } catch {
                    #expect(error.description.contains(dir + "/"), "\(label): \(error)")
                    #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 }, "\(label): \(error)")
                }
                unlink(shardPath)
                try writeFile(shardPath, shardBytes[s])
            }
        }
        runner.report("index")
        #expect(runner.accepted > 1 && runner.rejected > 200, "accepted \(runner.accepted), rejected \(runner.rejected)")
    }
}
