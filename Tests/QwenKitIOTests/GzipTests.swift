import Foundation
import Testing
import TestSupport
import QwenKitIO

/// One row of Fixtures/gzip/expected.tsv: what Python's zlib makes of a fixture.
private struct GzipGolden {
    let name: String
    let decodedCount: Int
    let fnv1a64: UInt64
    /// `ok`, `truncated <compressed> <decoded>` or `corrupt <offset> <zlib's message>`.
    let outcome: String

    static let all: [String: GzipGolden] = {
        let text = (try? readFile(fixturePath("gzip/expected.tsv"))) ?? []
        var rows: [String: GzipGolden] = [:]
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 4, let count = Int(fields[1]), let hash = UInt64(fields[2], radix: 16) else { continue }
            rows[fields[0]] = GzipGolden(name: fields[0], decodedCount: count, fnv1a64: hash, outcome: fields[3])
        }
        return rows
    }()

    /// The description our error must have for this fixture at `path`, from the outcome column.
    func expectedDescription(path: String) -> String? {
        let parts = outcome.split(separator: " ", maxSplits: 2).map(String.init)
        switch parts[0] {
        case "truncated":
            return "\(path): truncated gzip stream (input ended inside a member after \(parts[1]) bytes; \(parts[2]) bytes decoded)"
        case "corrupt":
            return "\(path): not a valid gzip stream: \(parts[2]) (near compressed byte \(parts[1]))"
        default:
            return nil
        }
    }
}

@Suite("gzip streams")
struct GzipTests {
    @Test("an output named .gz is one gzip member: ours and gzip -d read back what was written, a flush in the middle")
    func outputRoundTrip() throws {
        try withTemporaryDirectory { dir in
            var random = SplitMix64(seed: 12)
            var text: [UInt8] = []
            for _ in 0..<300_000 { text += Array("token \(random.next() % 1000) ".utf8) }
            let sink = try openOutput(path: dir + "/out.txt.gz")
            try sink.write(Array(text.prefix(1_000_000)))
            try sink.flush()
            try sink.write(Array(text.dropFirst(1_000_000)))
            try sink.close()
            #expect(try openInput(path: dir + "/out.txt.gz").readToEnd() == text)
            let compressed = try readFile(dir + "/out.txt.gz")
            #expect(compressed.count < text.count / 3 && compressed.prefix(2) == [0x1F, 0x8B])
            // gzip itself: checked and decompressed by the system's tool.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "gzip -t '\(dir)/out.txt.gz' && gzip -dc '\(dir)/out.txt.gz' > '\(dir)/plain'"]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(try readFile(dir + "/plain") == text)
        }
    }

    @Test("concatenated members (one with a file name, one empty) decode to the committed text",
          arguments: [1, 7, 4096, 1 << 20])
    func members(chunk: Int) throws {
        let path = fixturePath("gzip/members.txt.gz")
        let source = try openInput(path: path)
        #expect(try drain(source, chunk: chunk) == readFile(fixturePath("gzip/members.txt")))
        #expect(source.inputPosition == 194)
        #expect(source.inputSize == 194)
    }

    @Test("1.5 MiB from a 24 KB member, read with several buffer sizes", arguments: [7, 4096, 65_536, 1 << 20, 3 << 20])
    func large(chunk: Int) throws {
        let golden = try #require(GzipGolden.all["large.txt.gz"])
        let data = try drain(openInput(path: fixturePath("gzip/large.txt.gz")), chunk: chunk)
        #expect(data.count == golden.decodedCount)
        #expect(data.count == 1_572_864)
        #expect(fnv1a64(data) == golden.fnv1a64)
    }

    @Test("every fixture's outcome and error description are those of Python's zlib (expected.tsv)")
    func goldenOutcomes() throws {
        let goldens = GzipGolden.all
        #expect(goldens.count == 8)
        for golden in goldens.values.sorted(by: { $0.name < $1.name }) {
            let path = fixturePath("gzip/" + golden.name)
            let source = try openInput(path: path)
            var decoded: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 100_000)
            do {
                while true {
                    let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                    if n == 0 { break }
                    decoded += buffer[..<n]
                }
                #expect(golden.outcome == "ok", "\(golden.name) was accepted")
            } catch let error as IOError {
                #expect(error.description == golden.expectedDescription(path: path), "\(golden.name)")
                #expect(error.path == path)
            }
            if golden.outcome == "ok" {
                #expect(decoded.count == golden.decodedCount, "\(golden.name)")
                #expect(fnv1a64(decoded) == golden.fnv1a64, "\(golden.name)")
            } else {
                // The read that fails drops what it decoded (as every ByteSource does): a prefix reached the caller.
                #expect(decoded.count <= golden.decodedCount, "\(golden.name)")
            }
        }
    }

    @Test("a cut anywhere is .truncatedGzip naming the input, with every compressed byte counted")
    func truncatedEverywhere() throws {
        let whole = try readFile(fixturePath("gzip/members.txt.gz"))
        let plain = try readFile(fixturePath("gzip/members.txt"))
        // Cuts at member ends (whole members left) decode cleanly instead.
        var boundaries: Set<Int> = [whole.count]
        try withTemporaryDirectory { dir in
            let path = "\(dir)/cut.txt.gz"
            for cut in 1..<whole.count {
                try writeFile(path, Array(whole[..<cut]))
                do {
                    let decoded = try openInput(path: path).readToEnd()
                    // Accepted only where the cut falls between members: then it decoded a prefix of the text.
                    boundaries.insert(cut)
                    #expect(plain.starts(with: decoded), "cut at \(cut)")
                } catch let error as IOError {
                    guard case .truncatedGzip(let name, let consumed, let decoded) = error else {
                        Issue.record("cut at \(cut): unexpected \(error)")
                        continue
                    }
                    #expect(name == path)
                    #expect(consumed == Int64(cut))
                    #expect(decoded <= Int64(plain.count))
                }
            }
        }
        // The member ends: after the named member (83 bytes), after the empty one (20 bytes), after the last.
        #expect(boundaries.sorted() == [83, 103, whole.count])
    }

    @Test("an empty .gz is an error, as with `gzip -d`")
    func emptyFile() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/empty.gz"
            try writeFile(path, [])
            #expect(throws: IOError.truncatedGzip(path: path, compressedBytes: 0, decodedBytes: 0)) {
                try openInput(path: path).readToEnd()
            }
            #expect(IOError.truncatedGzip(path: path, compressedBytes: 0, decodedBytes: 0).description
                == "\(path): truncated gzip stream (the input is empty)")
        }
    }

    @Test("`decompress: false` reads a .gz path raw; the gzip CLI's output decodes")
    func rawAndCLI() throws {
        let path = fixturePath("gzip/members.txt.gz")
        #expect(try openInput(path: path, decompress: false).readToEnd() == readFile(path))
        let text = sampleText(byteCount: 300_000, seed: 8)
        guard let one = try runTool("/usr/bin/gzip", ["-c", "-6"], input: text),
              let two = try runTool("/usr/bin/gzip", ["-c", "-1"], input: Array(text.prefix(1000))) else {
            return  // no gzip CLI: the committed fixtures cover Python's writer
        }
        let source = try GzipDecompressingSource(wrapping: MemorySource(one + two, name: "cli.gz"))
        #expect(try drain(source, chunk: 65_536) == text + text.prefix(1000))
    }
}
