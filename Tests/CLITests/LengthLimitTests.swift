// --max-tokens with --truncate (cut, report, exit 3) or --chunk (records of at most N tokens).

import Foundation
import Testing
import TestSupport

@Suite struct LengthLimitTests {
    // Golden ids: "english/pangram" (10 ids) and "english/hello world" (4 ids).
    static let pangram = "The quick brown fox jumps over the lazy dog."
    static let pangramIDs: [UInt32] = [785, 3974, 13876, 38835, 34208, 916, 279, 15678, 5562, 13]
    static let hello = "Hello, world!"
    static let helloIDs: [UInt32] = [9707, 11, 1879, 0]
    static var twoLines: String { pangram + "\n" + hello + "\n" }

    /// The pangram is cut to 4 ids, "Hello, world!" is exactly 4 and stays whole; stderr says how
    /// many documents were cut and the status is 3.
    @Test func truncateCutsReportsAndExits3() throws {
        let run = try CLI.run(["encode", "--lines", "--max-tokens", "4", "--truncate"], stdin: .text(Self.twoLines))
        #expect(run.status == 3 && !run.signaled, "\(run)")
        #expect(run.stdoutText == textFormatLine(Array(Self.pangramIDs.prefix(4))) + "\n" + textFormatLine(Self.helloIDs) + "\n")
        #expect(run.stderrText == "qwenkit: truncated 1 of 2 documents to 4 tokens\n")
    }

    /// Nothing over the limit: status 0 and nothing on stderr.
    @Test func truncateWithNothingToCut() throws {
        let run = try CLI.run(["encode", "--lines", "--max-tokens", "10", "--truncate", "--format", "jsonl"], stdin: .text(Self.twoLines))
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        #expect(run.stdoutText == "{\"ids\":[\(Self.pangramIDs.map(String.init).joined(separator: ","))]}\n{\"ids\":[9707,11,1879,0]}\n")
    }

    /// The help says "--eod counts": a cut document should still end with its --eod, or the
    /// documents of a u32 training stream run together. Today the --eod of a cut document is dropped.
    @Test func truncateKeepsTheEOD() throws {
        let run = try CLI.run(["encode", "--lines", "--max-tokens", "4", "--truncate", "--eod", "151643"], stdin: .text(Self.twoLines))
        #expect(run.status == 3, "\(run)")
        let lines = outputLines(run.stdout)
        #expect(lines.count == 2)
        // 4 ids + --eod = 5 > 4: both documents are cut, and each should keep its --eod.
        #expect(lines.first == "785 3974 13876 151643")
        #expect(lines.last == "9707 11 1879 151643")
    }

    /// Every golden document in records of at most 7 ids: records carry the document index and a
    /// chunk index counting from 0; all but a document's last record are full; joined they are the
    /// goldens' ids. (JSONL in, JSONL out.)
    @Test func chunkRecordsCoverEachDocument() throws {
        let run = try CLI.run(["encode", "--jsonl", "text", "--format", "jsonl", "--max-tokens", "7", "--chunk", Golden.casesPath])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        var documents: [[UInt32]] = []
        var chunksOf: [Int] = []
        var problems: [String] = []
        for (i, line) in outputLines(run.stdout).enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let doc = (object["doc"] as? NSNumber)?.intValue, let chunk = (object["chunk"] as? NSNumber)?.intValue,
                  let ids = (object["ids"] as? [NSNumber])?.map(\.uint32Value) else {
                problems.append("line \(i + 1) is not a chunk record: \(line.prefix(100))")
                continue
            }
            #expect(line.hasPrefix("{\"doc\":\(doc),\"chunk\":\(chunk),\"ids\":["), "line \(i + 1): \(line.prefix(100))")
            if chunk == 0 {
                if doc != documents.count { problems.append("line \(i + 1): document \(doc) after \(documents.count - 1)") }
                documents.append(ids)
                chunksOf.append(1)
            } else {
                if doc != documents.count - 1 || chunk != chunksOf[doc] { problems.append("line \(i + 1): doc \(doc) chunk \(chunk) out of order") }
                if documents.last?.count != 7 * chunk { problems.append("line \(i + 1): the record before it was not full") }
                documents[documents.count - 1] += ids
                chunksOf[chunksOf.count - 1] += 1
            }
            if ids.count > 7 { problems.append("line \(i + 1): \(ids.count) ids > --max-tokens 7") }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        expectDocuments(documents, match: Golden.handWritten, "encode --chunk --max-tokens 7")
        #expect(chunksOf == Golden.handWritten.map { max(1, ($0.ids.count + 6) / 7) })
    }

    /// Text-format chunks: "input<TAB>doc<TAB>ids" with several inputs; --eod counts toward the limit
    /// and ends the document's last record.
    @Test func chunkTextFormatWithSeveralInputsAndEOD() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/a.txt", Self.twoLines)
            try writeFile(dir + "/b.txt", Self.hello + "\n")
            let run = try CLI.run(["encode", "--lines", "--max-tokens", "4", "--chunk", "--eod", "151643", dir + "/a.txt", dir + "/b.txt"])
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            #expect(run.stdoutText == """
                0\t0\t785 3974 13876 38835
                0\t0\t34208 916 279 15678
                0\t0\t5562 13 151643
                0\t1\t9707 11 1879 0
                0\t1\t151643
                1\t0\t9707 11 1879 0
                1\t0\t151643

                """)
        }
    }

    /// JSONL chunks of one record should all carry the record's other members (or none do); today
    /// only the last chunk has them, so selecting records by such a member loses the earlier chunks.
    @Test func chunkRecordsCarryTheRecordsFields() throws {
        let input = #"{"text":"\#(Self.pangram)","id":"p1"}"# + "\n"
        let run = try CLI.run(["encode", "--jsonl", "text", "--format", "jsonl", "--max-tokens", "4", "--chunk"], stdin: .text(input))
        #expect(run.status == 0, "\(run)")
        let lines = outputLines(run.stdout)
        #expect(lines.count == 3)
        #expect(lines.last == #"{"doc":0,"chunk":2,"ids":[5562,13],"id":"p1"}"#)
        #expect(lines.first == #"{"doc":0,"chunk":0,"ids":[785,3974,13876,38835],"id":"p1"}"#)
    }
}
