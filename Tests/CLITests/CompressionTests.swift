// .zst inputs are decompressed and `-o FILE.zst` compresses, for encode and decode alike. The test
// compresses and decompresses with the library (QwenKitIO), so it needs no zstd program.

import Foundation
import QwenKitIO
import Testing
import TestSupport

@Suite struct CompressionTests {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try ZstdFrame.compress($0, level: 3) }
    }

    static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try ZstdFrame.decompress($0) }
    }

    /// cases.jsonl.zst in, ids.txt.zst out, then ids.txt.zst in and text.zst out: the ids are the
    /// goldens' ids and the text is the goldens' NFC text, one line per record.
    @Test func zstInputAndOutputRoundTrip() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/cases.jsonl.zst", try Self.compress(try readFile(Golden.casesPath)))
            let encode = try CLI.run(["encode", "--jsonl", "text", dir + "/cases.jsonl.zst", "-o", dir + "/ids.txt.zst"])
            #expect(encode.status == 0 && encode.stdout.isEmpty && encode.stderr.isEmpty, "\(encode)")
            let compressedIDs = try readFile(dir + "/ids.txt.zst")
            #expect(Array(compressedIDs.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD], "-o ids.txt.zst is not a zstd frame")
            let ids = try Self.decompress(compressedIDs)
            expectDocuments(outputLines(ids).map { parseTextLine($0) ?? [] }, match: Golden.handWritten, "encode cases.jsonl.zst -o ids.txt.zst")

            let decode = try CLI.run(["decode", dir + "/ids.txt.zst", "-o", dir + "/text.zst"])
            #expect(decode.status == 0 && decode.stdout.isEmpty && decode.stderr.isEmpty, "\(decode)")
            let text = try Self.decompress(try readFile(dir + "/text.zst"))
            DecodeTests.expectTexts(text, Golden.handWritten.map { ($0.name, $0.nfc) }, "decode ids.txt.zst -o text.zst")
            #expect(try directoryEntries(dir) == ["cases.jsonl.zst", "ids.txt.zst", "text.zst"], "temporary files left behind")
        }
    }

    /// A .zst input that ends inside its frame fails with the input's name, not with partial output.
    @Test func truncatedZstInput() throws {
        try withTemporaryDirectory { dir in
            let whole = try Self.compress(try readFile(Golden.casesPath))
            let cut = Array(whole.prefix(whole.count / 2))
            let path = dir + "/cut.jsonl.zst"
            try writeFile(path, cut)
            let run = try CLI.run(["encode", "--jsonl", "text", "-o", dir + "/out.txt", path])
            #expect(run.status == 1 && !run.signaled, "\(run)")
            #expect(run.stderrLines.count == 1, "\(run.stderrText)")
            #expect(run.stderrText.hasPrefix("qwenkit: \(path): truncated zstd stream (input ended inside a frame after \(cut.count) bytes"),
                    "\(run.stderrText)")
            #expect(try directoryEntries(dir) == ["cut.jsonl.zst"], "a partial output file was left")
        }
    }
}
