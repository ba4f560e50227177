import Foundation
import Testing
import TestSupport
import QwenKitIO

/// Compresses `data` with our writer into memory-backed frames via a file (the path is also the name).
private func compress(_ data: [UInt8], level: Int32 = 3, in directory: String, name: String = "c.zst") throws -> [UInt8] {
    let path = "\(directory)/\(name)"
    let sink = try openOutput(path: path, zstdLevel: level)
    // Odd-sized writes, to cross the sink's buffer boundary at odd places.
    var offset = 0
    var step = 1
    while offset < data.count {
        let n = min(step, data.count - offset)
        try data[offset..<offset + n].withUnsafeBytes { try sink.write($0) }
        offset += n
        step = step * 3 % 200_003 + 1
    }
    try sink.close()
    return try readFile(path)
}

@Suite("zstd streams")
struct ZstdTests {
    @Test("round trip through a .zst file, read with several buffer sizes", arguments: [1, 7, 4096, 1 << 20])
    func roundTrip(chunk: Int) throws {
        try withTemporaryDirectory { dir in
            let data = sampleText(byteCount: chunk == 1 ? 200_000 : 3_000_000, seed: 1)
            let compressed = try compress(data, in: dir)
            #expect(compressed.count < data.count / 2)
            let source = try openInput(path: "\(dir)/c.zst")
            #expect(try drain(source, chunk: chunk) == data)
            #expect(source.inputPosition == Int64(compressed.count))
            #expect(source.inputSize == Int64(compressed.count))
        }
    }

    @Test("empty data compresses to a valid frame and reads back empty")
    func emptyRoundTrip() throws {
        try withTemporaryDirectory { dir in
            let compressed = try compress([], in: dir)
            #expect(!compressed.isEmpty)
            #expect(try openInput(path: "\(dir)/c.zst").readToEnd() == [])
        }
    }

    @Test("concatenated frames and a skippable frame decode as one stream")
    func multiFrame() throws {
        try withTemporaryDirectory { dir in
            let a = sampleText(byteCount: 100_000, seed: 2)
            let b = sampleText(byteCount: 50_000, seed: 3)
            // A skippable frame: magic 0x184D2A50 (little-endian), 4-byte length, payload.
            let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 9, 9, 9]
            let stream = try compress(a, in: dir, name: "a.zst") + skippable + compress([], in: dir, name: "e.zst")
                + compress(b, level: 19, in: dir, name: "b.zst")
            let source = try ZstdDecompressingSource(wrapping: MemorySource(stream, name: "multi.zst"))
            #expect(try drain(source, chunk: 65_536) == a + b)
        }
    }

    @Test("streams written by the zstd CLI, single and multi-frame")
    func zstdCLI() throws {
        let a = sampleText(byteCount: 500_000, seed: 4)
        let b = sampleText(byteCount: 70_000, seed: 5)
        guard let one = try runTool("/usr/bin/zstd", ["-q", "-c", "-3"], input: a),
              let two = try runTool("/usr/bin/zstd", ["-q", "-c", "-19"], input: b) else {
            return  // zstd CLI not installed: the committed fixture below still covers CLI output
        }
        let source = try ZstdDecompressingSource(wrapping: MemorySource(one + two, name: "cli.zst"))
        #expect(try drain(source, chunk: 100_000) == a + b)
        // And the other direction: the CLI reads what we write.
        try withTemporaryDirectory { dir in
            let ours = try compress(a, in: dir)
            #expect(try runTool("/usr/bin/zstd", ["-d", "-q", "-c"], input: ours) == a)
        }
    }

    @Test("a committed fixture compressed by `zstd -19` (merges.txt.zst)")
    func committedFixture() throws {
        let path = fixturePath("tokenizers/qwen2/merges.txt.zst")
        let text = try openInput(path: path).readToEnd(limit: 64 << 20)
        #expect(text.starts(with: Array("#version".utf8)))
        // 151,387 merges after the #version line, each ending with a newline.
        #expect(text.count(where: { $0 == 0x0A }) == 151_388)
        if let reference = try runTool("/usr/bin/zstd", ["-d", "-q", "-c"], input: try readFile(path)) {
            #expect(text == reference)
        }
    }

    @Test("a truncated .zst fails with an error naming the input, wherever it is cut")
    func truncated() throws {
        try withTemporaryDirectory { dir in
            let data = sampleText(byteCount: 300_000, seed: 6)
            let compressed = try compress(data, in: dir)
            let path = "\(dir)/input.txt.zst"
            var cuts = Array(stride(from: 1, to: compressed.count, by: max(1, compressed.count / 40)))
            cuts += [1, 3, 4, 5, compressed.count - 1, compressed.count - 4]
            for cut in cuts {
                try writeFile(path, Array(compressed[..<cut]))
                do {
                    _ = try openInput(path: path).readToEnd()
                    Issue.record("cut at \(cut) of \(compressed.count) was accepted")
                } catch let error as IOError {
                    guard case .truncatedZstd(let name, let consumed, _) = error else {
                        Issue.record("cut at \(cut): unexpected \(error)")
                        continue
                    }
                    #expect(name == path)
                    #expect(consumed == Int64(cut))
                    #expect(error.description.hasPrefix("\(path): truncated zstd stream (input ended inside a frame after \(cut) bytes"))
                }
            }
        }
    }

    @Test("an empty .zst file is an error, as with `zstd -d`")
    func emptyFile() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/empty.zst"
            try writeFile(path, [])
            #expect(throws: IOError.truncatedZstd(path: path, compressedBytes: 0, decodedBytes: 0)) {
                try openInput(path: path).readToEnd()
            }
            #expect(IOError.truncatedZstd(path: path, compressedBytes: 0, decodedBytes: 0).description
                == "\(path): truncated zstd stream (the input is empty)")
        }
    }

    @Test("garbage and corrupted .zst input fail with .corruptZstd naming the input")
    func garbage() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/plain.txt.zst"
            try writeFile(path, Array("this is plain text, not zstd\n".utf8))
            do {
                _ = try openInput(path: path).readToEnd()
                Issue.record("plain text accepted as zstd")
            } catch let error as IOError {
                guard case .corruptZstd(let name, _, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(name == path)
                #expect(reason.lowercased().contains("frame"))  // libzstd: "Unknown frame descriptor"
                #expect(error.description.hasPrefix("\(path): not a valid zstd stream: "))
            }

            // Valid frame, then a flipped byte in the middle: a data or checksum error.
            var compressed = try compress(sampleText(byteCount: 200_000, seed: 7), in: dir)
            compressed[compressed.count / 2] ^= 0x55
            try writeFile(path, compressed)
            #expect(throws: IOError.self) { try openInput(path: path).readToEnd() }

            // Valid frame followed by trailing garbage.
            let tail = try compress([1, 2, 3], in: dir) + Array("junk".utf8)
            try writeFile(path, tail)
            #expect {
                try openInput(path: path).readToEnd()
            } throws: { error in
                guard let error = error as? IOError, case .corruptZstd = error else { return false }
                return true
            }
        }
    }

    @Test("`decompress: false` reads a .zst path raw; `compress: false` writes raw")
    func explicitOverrides() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/raw.zst"
            let sink = try openOutput(path: path, compress: false)
            try sink.write("not compressed")
            try sink.close()
            #expect(try openInput(path: path, decompress: false).readToEnd() == Array("not compressed".utf8))
        }
    }
}
