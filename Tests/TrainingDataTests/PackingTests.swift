import Testing
import QwenKitIO
import QwenTokenizer
import TestSupport
@testable import TrainingData

/// `--format npy` and `--pack`, against arrays numpy.save wrote for packing done independently in Python
/// (Fixtures/scripts/make_packing_fixtures.py), byte for byte, boundaries included.
@Suite struct PackingTests {
    static func encode(to path: String, npy: Bool, packing: Packing?, threads: Int = 1) throws {
        var options = CorpusEncodingOptions()
        options.framing = .jsonl(field: "text")
        options.threads = threads
        let writer = TokenOutputWriter(records: try TokenArrayWriter(path: path, npy: npy, packing: packing), limit: .none, eod: 151_643)
        try CorpusEncoder(tokenizer: try Tokenizer.embeddedQwen2(), options: options)
            .run(sources: [try openInput(path: fixturePath("megatron/docs.jsonl"))], consumer: writer)
        try writer.finish()
    }

    @Test(arguments: [("flat.npy", nil), ("concat16.npy", PackMode.concat), ("bfd16.npy", PackMode.bfd)] as [(String, PackMode?)])
    func matchesNumpy(name: String, mode: PackMode?) throws {
        try withTemporaryDirectory { dir in
            for threads in [1, 2] {
                let packing = mode.map { Packing(rowLength: 16, mode: $0, pad: 151_643) }
                try Self.encode(to: "\(dir)/\(name)", npy: true, packing: packing, threads: threads)
                #expect(try readFile("\(dir)/\(name)") == readFile(fixturePath("packing/\(name)")))
                if mode != nil {
                    #expect(try readFile(Packing.boundariesPath("\(dir)/\(name)")) == readFile(fixturePath("packing/\(name).cu_seqlens.jsonl")))
                }
            }
            // u32 holds the same ids without the header.
            try Self.encode(to: "\(dir)/x.u32", npy: false, packing: mode.map { Packing(rowLength: 16, mode: $0, pad: 151_643) })
            #expect(try readFile("\(dir)/x.u32") == Array(readFile(fixturePath("packing/\(name)")).dropFirst(NpyFormat.headerSize)))
        }
    }

    @Test func headerIsNumpys() {
        let header = NpyFormat.header(shape: [3, 4])
        #expect(header.count == 128 && header.last == 0x0A)
        #expect(String(decoding: header[10..<69], as: UTF8.self) == "{'descr': '<u4', 'fortran_order': False, 'shape': (3, 4), }")
        #expect(NpyFormat.header(shape: [Int.max, Int.max]).count == 128)
    }

    /// Random documents through small windows (several packing rounds): every document once, whole unless longer
    /// than a row, rows padded after their last boundary.
    @Test func bfdKeepsEveryDocumentWhole() throws {
        var random = SplitMix64(seed: 3)
        let rowLength = 32
        var documents: [[UInt32]] = []
        for k in 0..<400 {
            let length = Int.random(in: 1...(k % 17 == 0 ? 100 : 30), using: &random)
            var document: [UInt32] = []
            for _ in 0..<length { document.append(UInt32.random(in: 1...1000, using: &random)) }
            documents.append(document)
        }
        try withTemporaryDirectory { dir in try Self.checkBFD(dir: dir, documents: documents, rowLength: rowLength) }
    }

    static func checkBFD(dir: String, documents: [[UInt32]], rowLength: Int) throws {
        let writer = try TokenArrayWriter(path: "\(dir)/p.u32", npy: false, packing: Packing(rowLength: rowLength, mode: .bfd, pad: 0, window: 700))
        for d in documents {
            try writer.openRecord(input: 0, document: 0, chunk: nil)
            try d.withUnsafeBufferPointer { try writer.write($0) }
            try writer.closeRecord(extraFields: UnsafeBufferPointer(start: nil, count: 0), endsDocument: true)
        }
        try writer.finish()
        let bytes = try readFile("\(dir)/p.u32")
        let ids = bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        let lines = try readFile("\(dir)/p.u32.cu_seqlens.jsonl").split(separator: 0x0A).map {
            String(decoding: $0.dropFirst().dropLast(), as: UTF8.self).split(separator: ",").map { Int($0)! }
        }
        #expect(ids.count == lines.count * rowLength)
        var pieces: [[UInt32]: Int] = [:]
        for (r, bounds) in lines.enumerated() {
            let row = Array(ids[(r * rowLength)..<((r + 1) * rowLength)])
            for (s, e) in zip(bounds, bounds.dropFirst()) { pieces[Array(row[s..<e]), default: 0] += 1 }
            #expect(row[bounds.last!...].allSatisfy { $0 == 0 })
        }
        var expected: [[UInt32]: Int] = [:]
        for d in documents {
            var rest = d[...]
            while rest.count > rowLength { expected[Array(rest.prefix(rowLength)), default: 0] += 1; rest = rest.dropFirst(rowLength) }
            expected[Array(rest), default: 0] += 1
        }
        #expect(pieces == expected)
        let used = documents.reduce(0) { $0 + $1.count }
        #expect(Double(used) / Double(ids.count) > 0.93)  // 0.937: best fit leaves little padding even with windows of ~22 rows
    }
}
