import Foundation
import Testing
import TestSupport
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

    @Test("append(from:) copies a file in the kernel, and a pipe through the buffer, after what the sink wrote")
    func appendCopiesFilesAndPipes() throws {
        try withTemporaryDirectory { dir in
            let part = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try writeFile(dir + "/part", part)
            let output = try AtomicOutputFile(path: dir + "/out")
            let sink = ByteSink(output: output)
            try sink.write("head")
            try sink.flush()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
            defer { buffer.deallocate() }
            let file = try FileDescriptorSource(path: dir + "/part")
            #expect(try output.append(from: file.fileDescriptor, sourceName: file.name, buffer: buffer) == 300_000)
            var ends: [Int32] = [0, 0]
            #expect(pipe(&ends) == 0)
            _ = part.prefix(5000).withUnsafeBytes { write(ends[1], $0.baseAddress, 5000) }
            close(ends[1])
            #expect(try output.append(from: ends[0], sourceName: "pipe", buffer: buffer) == 5000)
            close(ends[0])
            try sink.write("tail")
            try sink.close()
            #expect(try readFile(dir + "/out") == Array("head".utf8) + part + part.prefix(5000) + Array("tail".utf8))
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

    @Test("writeDecimals matches String(value) joined by the separator, in runs of any length")
    func decimals() throws {
        var values: [UInt32] = Array(0..<100_000)
        for e in 1...9 {
            let p = (1...e).reduce(1 as UInt32) { r, _ in r * 10 }
            values += [p - 1, p, p + 1]
        }
        values += [1_000_000_000, 4_294_967_294, .max]
        var rng = SplitMix64(seed: 12)
        for _ in 0..<20_000 { values.append(UInt32(truncatingIfNeeded: rng.next() >> (rng.next() % 32))) }
        try withTemporaryDirectory { dir in
            let path = "\(dir)/ids.txt"
            let sink = try openOutput(path: path, bufferCapacity: 200)  // small buffer: runs end at many places
            var start = 0
            while start < values.count {
                let n = min(values.count - start, Int(rng.next() % 40))
                try values[start..<(start + n)].withUnsafeBufferPointer { try sink.writeDecimals($0, separator: 0x2C, separatorFirst: start > 0) }
                start += n
            }
            try sink.close()
            let joined = values.map(String.init).joined(separator: ",")
            #expect(try readFile(path) == Array(joined.utf8))
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

@Suite("outputs never replace inputs; temporary files are registered for interrupts")
struct OutputGuardTests {
    @Test("a claimed output cannot be read, and a file read cannot be claimed, whatever the spelling")
    func outputsAndInputsNeverMeet() throws {
        try withTemporaryDirectory { dir in
            let input = "\(dir)/in.txt", output = "\(dir)/out.txt"
            try writeFile(input, Array("input".utf8))
            try writeFile(output, Array("old".utf8))
            #expect(link(input, "\(dir)/hard.txt") == 0 && symlink(output, "\(dir)/soft.txt") == 0)

            // Read first, then claimed under another name, while the reader is open.
            do {
                let mapped = try MappedFile(path: input)
                #expect(throws: IOError.outputIsInput(path: "\(dir)/hard.txt", input: input)) { try OutputGuard.claim("\(dir)/hard.txt") }
                #expect(throws: IOError.outputIsInput(path: "\(dir)/./in.txt", input: input)) { try openOutput(path: "\(dir)/./in.txt") }
                withExtendedLifetime(mapped) {}
            }
            // Claimed first, then read under another name, by either reader.
            let claim = try OutputGuard.claim(output)
            #expect(throws: IOError.outputIsInput(path: output, input: "\(dir)/soft.txt")) { try MappedFile(path: "\(dir)/soft.txt") }
            #expect(throws: IOError.outputIsInput(path: output, input: output)) { try FileDescriptorSource(path: output) }
            #expect(try readFile(input) == Array("input".utf8) && readFile(output) == Array("old".utf8))
            #expect(try temporaryFiles(in: dir).isEmpty)
            // A missing path, stdout and devices are never refused; the same output may be claimed twice.
            #expect(try OutputGuard.claim("\(dir)/new.txt") == nil)
            #expect(try OutputGuard.claim("-") == nil)
            #expect(try OutputGuard.claim("/dev/null") == nil)
            _ = try FileDescriptorSource(path: "/dev/null")
            let again = try OutputGuard.claim(output)
            // Once every claim is released the file may be read; once its reader is gone it may be written.
            OutputGuard.release(output: again)
            #expect(throws: IOError.self) { try MappedFile(path: output) }
            OutputGuard.release(output: claim)
            #expect(try MappedFile(path: output).count == 3)
            let sink = try openOutput(path: input)
            try sink.write("rewritten")
            try sink.close()
            #expect(try readFile(input) == Array("rewritten".utf8))
        }
    }

    @Test("a file deleted and recreated (possibly on the same inode) is a new file")
    func recycledInode() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/a.txt"
            try writeFile(path, Array("one".utf8))
            try OutputGuard.claim(path)
            unlink(path)
            usleep(10_000)  // a later change time, even on file systems with coarse timestamps
            try writeFile(path, Array("two".utf8))
            #expect(try MappedFile(path: path).count == 3)
        }
    }

    @Test("an atomic output's temporary file is registered while it exists and withdrawn at commit or abandon")
    func temporaryFilesAreRegistered() throws {
        try withTemporaryDirectory { dir in
            let committed = try AtomicOutputFile(path: "\(dir)/a.bin")
            let abandoned = try AtomicOutputFile(path: "\(dir)/b.bin")
            #expect(TemporaryFiles.registered.contains(committed.temporaryPath))
            #expect(TemporaryFiles.registered.contains(abandoned.temporaryPath))
            try committed.commit()
            abandoned.abandon()
            #expect(!TemporaryFiles.registered.contains(committed.temporaryPath))
            #expect(!TemporaryFiles.registered.contains(abandoned.temporaryPath))
            #expect(try directoryEntries(dir) == ["a.bin"])
        }
    }

    @Test("a registration by hand is listed until withdrawn, and withdrawing leaves the file alone")
    func registerAndWithdraw() throws {
        try withTemporaryDirectory { dir in
            // Only this test's files: other tests run in parallel and own theirs, so register by hand here.
            let path = "\(dir)/scratch"
            try writeFile(path, [1, 2, 3])
            let registration = TemporaryFiles.register(path)
            #expect(TemporaryFiles.registered.contains(path))
            registration.withdraw()
            #expect(!TemporaryFiles.registered.contains(path))
            #expect(try directoryEntries(dir) == ["scratch"])
        }
    }

    @Test("outputs that are not regular files: a FIFO is written in place, a socket is refused")
    func specialOutputs() throws {
        try withTemporaryDirectory { dir in
            let fifo = "\(dir)/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            // O_RDWR keeps the FIFO open for reading so the writer's open does not block.
            let reader = open(fifo, O_RDWR | O_NONBLOCK)
            defer { close(reader) }
            let output = try openOutputFile(path: fifo)
            #expect(output is FileDescriptorOutput)
            try Array("through".utf8).withUnsafeBytes { try output.write($0) }
            try output.commit()
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = read(reader, &buffer, 16)
            #expect(Array(buffer.prefix(max(n, 0))) == Array("through".utf8))
            var info = stat()
            #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        }
    }
}
