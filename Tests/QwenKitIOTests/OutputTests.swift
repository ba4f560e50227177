import Foundation
import Testing
import QwenKitIO

#if canImport(Glibc)
import Glibc
#endif

private func temporaryFiles(in dir: String) throws -> [String] {
    try directoryEntries(dir).filter { $0.contains(".tmp-") }
}

@Suite("outputs: ByteSink, atomic files, pipes")
struct OutputTests {
    @Test("the final file appears only at commit; the temporary file sits next to it until then")
    func atomicCommit() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/out.u32"
            let sink = try openOutput(path: path, bufferCapacity: 64)
            for i in 0..<1000 { try sink.writeLittleEndian(UInt32(i)) }
            try sink.flush()
            #expect(!FileManager.default.fileExists(atPath: path))
            let temporary = try temporaryFiles(in: dir)
            #expect(temporary.count == 1)
            #expect(temporary.first?.hasPrefix(".out.u32.tmp-\(getpid())-") == true)
            try sink.close()
            #expect(try temporaryFiles(in: dir).isEmpty)
            let bytes = try readFile(path)
            #expect(bytes.count == 4000)
            #expect(Array(bytes[4..<8]) == [1, 0, 0, 0])
            #expect(Array(bytes[3996..<4000]) == [0xE7, 0x03, 0, 0])
        }
    }

    @Test("an output dropped without close() leaves nothing, and an old file under the name is untouched")
    func abandonedOutput() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/out.txt"
            do {
                let sink = try openOutput(path: path)
                try sink.write(Array(repeating: 0x41, count: 3 << 20))  // bigger than the buffer: reaches the file
                #expect(try temporaryFiles(in: dir).count == 1)
            }  // dropped here: the error path
            #expect(try directoryEntries(dir).isEmpty)

            try writeFile(path, Array("old".utf8))
            let sink = try openOutput(path: path)
            try sink.write("new and half-written")
            try sink.flush()
            sink.abandon()
            #expect(try readFile(path) == Array("old".utf8))
            #expect(try temporaryFiles(in: dir).isEmpty)

            // Same for a compressed output.
            do {
                let zst = try openOutput(path: "\(dir)/out.zst")
                try zst.write(sampleText(byteCount: 2 << 20, seed: 8))
            }
            #expect(try directoryEntries(dir) == ["out.txt"])
        }
    }

    @Test("commit replaces an existing file; a symbolic link is followed, not replaced")
    func replaceAndSymlink() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/target.txt"
            try writeFile(path, Array("old".utf8))
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.txt", withDestinationPath: path)
            let sink = try openOutput(path: "\(dir)/link.txt")
            try sink.write("new")
            try sink.close()
            #expect(try readFile(path) == Array("new".utf8))
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(dir)/link.txt")
            #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink)
        }
    }

    @Test("output errors name the path: missing directory, a directory, a full device")
    func outputErrors() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: IOError.isDirectory(path: dir)) { try openOutput(path: dir) }
            do {
                _ = try openOutput(path: "\(dir)/missing/out.u32")
                Issue.record("created a file in a missing directory")
            } catch let error as IOError {
                guard case .cannotCreateOutput(let path, let temporary, let code) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(path == "\(dir)/missing/out.u32")
                #expect(temporary.hasPrefix("\(dir)/missing/.out.u32.tmp-"))
                #expect(code == ENOENT)
                #expect(error.description.hasSuffix(": No such file or directory"))
            }
        }
        // /dev/full: an existing device is written in place (never renamed over), and every write fails.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let sink = try openOutput(path: "/dev/full")
        try sink.write("x")
        #expect(throws: IOError.writeFailed(path: "/dev/full", errno: ENOSPC)) { try sink.close() }
        #expect(IOError.writeFailed(path: "out.u32", errno: ENOSPC).description
            == "out.u32: cannot write: No space left on device")
    }

    @Test("writing to a pipe whose reader is gone throws .brokenPipe")
    func brokenPipe() throws {
        signal(SIGPIPE, SIG_IGN)  // as the CLI does; otherwise the process would be killed
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        let sink = ByteSink(output: FileDescriptorOutput(fileDescriptor: fds[1], name: "<stdout>", ownsDescriptor: true))
        try sink.write("hello")
        #expect(throws: IOError.brokenPipe(path: "<stdout>")) { try sink.flush() }

        // Through a compressor too.
        var fds2: [Int32] = [0, 0]
        #expect(pipe(&fds2) == 0)
        close(fds2[0])
        let raw = FileDescriptorOutput(fileDescriptor: fds2[1], name: "<stdout>", ownsDescriptor: true)
        let zst = ByteSink(output: try ZstdCompressingOutput(wrapping: raw))
        try zst.write(sampleText(byteCount: 10_000, seed: 9))
        #expect(throws: IOError.brokenPipe(path: "<stdout>")) { try zst.close() }
    }

    @Test("writeDecimal matches String(value) for edge and random values")
    func decimal() throws {
        try withTemporaryDirectory { dir in
            var values: [UInt32] = [0, 1, 9, 10, 99, 100, 999, 1000, 151_643, 999_999_999, 1_000_000_000, .max]
            var rng = SplitMix64(seed: 10)
            for _ in 0..<20_000 { values.append(UInt32(truncatingIfNeeded: rng.next() >> (rng.next() % 32))) }
            let path = "\(dir)/ids.txt"
            let sink = try openOutput(path: path, bufferCapacity: 64)  // tiny buffer: drains often
            for value in values {
                try sink.writeDecimal(value)
                try sink.write(0x20)
            }
            try sink.close()
            let expected = values.map { String($0) + " " }.joined()
            #expect(try readFile(path) == Array(expected.utf8))
        }
    }

    @Test("large and small writes interleave in order")
    func mixedWrites() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/mixed.bin"
            let sink = try openOutput(path: path, bufferCapacity: 1000)
            var expected: [UInt8] = []
            var rng = SplitMix64(seed: 11)
            for _ in 0..<300 {
                let n = Int(rng.next() % 3000)
                let block = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ n) }
                try sink.write(block)
                try sink.write(0xFF)
                expected += block + [0xFF]
            }
            try sink.close()
            #expect(try readFile(path) == expected)
        }
    }
}
