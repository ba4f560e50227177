// Thread count must not change a single byte of output, and a document larger than a work unit
// (1 MiB), which qwenkit cuts at safe places and encodes in parallel, must get exactly HF's ids.

import Foundation
import Testing
import TestSupport

@Suite struct ParallelEncodingTests {
    /// The clean goldens' texts, each followed by "\n", repeated 4 times: 2,454,396 bytes, one document.
    static let newlineDocument: [UInt8] = {
        var period: [UInt8] = []
        for c in Golden.clean { period += Array(c.text.utf8) + [0x0A] }
        return Array([[UInt8]](repeating: period, count: 4).joined())
    }()

    /// HF's ids for `newlineDocument` as one string (tokenizers 0.23.3), made with:
    ///
    ///     import json, zstandard; from tokenizers import Tokenizer
    ///     t = Tokenizer.from_str(zstandard.ZstdDecompressor().decompress(
    ///         open('Fixtures/tokenizers/qwen2/tokenizer.json.zst', 'rb').read(), max_output_size=1 << 30).decode())
    ///     g = [json.loads(l) for f in ['cases', 'random'] for l in open(f'Fixtures/tokenizer-golden/{f}.jsonl')]
    ///     doc = ''.join(r['text'] + '\n' for r in g) * 4   # leave out KnownIssues.goldenMismatches, if any
    ///     ids = t.encode(doc, add_special_tokens=False).ids
    ///     h = 0xcbf29ce484222325
    ///     for b in b''.join(i.to_bytes(4, 'little') for i in ids): h = ((h ^ b) * 0x100000001b3) % 2**64
    ///     print(len(ids), hex(h))
    static let hfNewlineDocumentCount = 1_270_900
    static let hfNewlineDocumentFNV: UInt64 = 0x9b6a_56ae_079a_5f85

    /// Whole-document mode on 2.4 MB: `--threads 1` and `--threads 2` write the same bytes, and both are HF's ids.
    @Test func wholeDocumentLargerThanAUnitMatchesHF() throws {
        let document = Self.newlineDocument
        #expect(document.count == 2_454_396, "the golden files changed; regenerate the HF fingerprint above")
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/doc.txt", document)
            let one = try CLI.run(["encode", "--format", "u32", "--threads", "1", dir + "/doc.txt"])
            let two = try CLI.run(["encode", "--format", "u32", "--threads", "2", dir + "/doc.txt"])
            for run in [one, two] {
                #expect(run.status == 0 && !run.signaled && run.stderr.isEmpty, "\(run)")
                guard run.stdout.count % 4 == 0 else { Issue.record("u32 output of \(run.stdout.count) bytes"); continue }
                let ids = idsFromLittleEndian(run.stdout)
                #expect(ids.count == Self.hfNewlineDocumentCount, "\(run.arguments)")
                #expect(fnv1a64(littleEndianIDs: ids) == Self.hfNewlineDocumentFNV, "\(run.arguments): ids differ from HF")
            }
            #expect(one.stdout == two.stdout, "--threads 1 and --threads 2 differ: \(describeFirstDifference(expected: one.stdout, actual: two.stdout))")
        }
    }

    /// The same texts separated by `<|endoftext|>` instead: added tokens cut the text before
    /// normalization and pretokenization, so the ids are exactly the goldens' ids with 151643 after
    /// each (checked with HF for this file). Here a difference can be pointed at.
    @Test func wholeDocumentWithSeparatorsIsTheGoldensJoined() throws {
        var period: [UInt8] = []
        var expectedPeriod: [UInt32] = []
        for c in Golden.clean {
            period += Array(c.text.utf8) + Array("<|endoftext|>".utf8)
            expectedPeriod += c.ids + [151643]
        }
        let document = period + period
        let expected = expectedPeriod + expectedPeriod
        #expect(document.count > 1 << 20, "the document must span more than one work unit")
        let run = try CLI.run(["encode", "--format", "u32", "--threads", "2"], stdin: .bytes(document))
        #expect(run.status == 0 && !run.signaled && run.stderr.isEmpty, "\(run)")
        guard run.stdout.count % 4 == 0 else { Issue.record("u32 output of \(run.stdout.count) bytes"); return }
        let ids = idsFromLittleEndian(run.stdout)
        #expect(ids == expected, "\(describeFirstDifference(expected: expected, actual: ids))")
    }

    /// `--lines` over the same 2.4 MB (about 26,000 lines): identical text output at 1 and 2 threads,
    /// one line per input line.
    @Test func linesModeIsIndependentOfThreads() throws {
        let document = Self.newlineDocument
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/doc.txt", document)
            let one = try CLI.run(["encode", "--lines", "--threads", "1", dir + "/doc.txt"])
            let two = try CLI.run(["encode", "--lines", "--threads", "2", dir + "/doc.txt"])
            #expect(one.status == 0 && one.stderr.isEmpty, "\(one)")
            #expect(two.status == 0 && two.stderr.isEmpty, "\(two)")
            #expect(one.stdout.count > 2_000_000)
            #expect(one.stdout.lazy.filter { $0 == 0x0A }.count == document.lazy.filter { $0 == 0x0A }.count)
            #expect(one.stdout == two.stdout, "\(describeFirstDifference(expected: one.stdout, actual: two.stdout))")
        }
    }
}
