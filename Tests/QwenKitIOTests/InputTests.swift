import Foundation
import Testing
import TestSupport
import QwenKitIO

#if canImport(Glibc)
import Glibc
#endif

@Suite("inputs: files, pipes, chunking, mapped files")
struct InputTests {
    @Test("open errors name the path and say what is wrong")
    func openErrors() throws {
        try withTemporaryDirectory { dir in
            let missing = "\(dir)/nope.txt"
            #expect(throws: IOError.cannotOpen(path: missing, errno: ENOENT)) { try openInput(path: missing) }
            #expect(IOError.cannotOpen(path: "input.txt", errno: ENOENT).description
                == "input.txt: cannot open: No such file or directory")
            #expect(throws: IOError.isDirectory(path: dir)) { try openInput(path: dir) }
            #expect(IOError.isDirectory(path: "corpus").description == "corpus: is a directory, expected a file")
            #expect(throws: IOError.cannotOpen(path: "\(dir)/nope.zst", errno: ENOENT)) {
                try openInput(path: "\(dir)/nope.zst")
            }
            if geteuid() != 0 {  // root reads anything
                let locked = "\(dir)/locked.txt"
                try writeFile(locked, [1])
                chmod(locked, 0)
                #expect(throws: IOError.cannotOpen(path: locked, errno: EACCES)) { try openInput(path: locked) }
            }
        }
    }

    @Test("a regular file reports its size and position; reads return everything")
    func regularFile() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/a.txt"
            let data = sampleText(byteCount: 2_500_000, seed: 20)
            try writeFile(path, data)
            let source = try openInput(path: path)
            #expect(source.name == path)
            #expect(source.inputSize == Int64(data.count))
            #expect(try drain(source, chunk: 1 << 20) == data)
            #expect(source.inputPosition == Int64(data.count))
        }
    }

    @Test("readFull fills whole buffers from a pipe, which delivers at most 64 KiB per read")
    func pipeReadFull() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let data = sampleText(byteCount: 1_000_000, seed: 21)
        let writeEnd = fds[1]
        let writer = Thread {
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(writeEnd, raw.baseAddress! + offset, min(10_000, raw.count - offset))
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(writeEnd)
        }
        writer.start()
        let source = try FileDescriptorSource(fileDescriptor: fds[0], name: "<pipe>", ownsDescriptor: true)
        #expect(source.inputSize == nil)
        var buffer = [UInt8](repeating: 0, count: 300_000)
        var sizes: [Int] = []
        var out: [UInt8] = []
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.readFull(into: $0) }
            if n == 0 { break }
            sizes.append(n)
            out += buffer[..<n]
        }
        #expect(out == data)
        #expect(sizes == [300_000, 300_000, 300_000, data.count - 900_000])
    }

    @Test("readToEnd enforces its limit")
    func readToEndLimit() throws {
        let source = MemorySource(Array(repeating: 7, count: 1000), name: "m")
        #expect(throws: IOError.tooLarge(path: "m", limit: 999)) { try source.readToEnd(limit: 999) }
        #expect(try MemorySource(Array(repeating: 7, count: 1000)).readToEnd(limit: 1000).count == 1000)
    }

    @Test("ChunkedReader returns every byte once, cutting after newlines or at UTF-8 boundaries",
          arguments: [64, 100, 1000, 4096])
    func chunkedReader(capacity: Int) throws {
        // Lines of varying length, some longer than the buffer, full of multi-byte characters.
        var data: [UInt8] = []
        var rng = SplitMix64(seed: UInt64(capacity))
        for _ in 0..<400 {
            let length = Int(rng.next() % UInt64(capacity * 2))
            data += sampleText(byteCount: length, seed: rng.next()).filter { $0 != 0x0A }
            data.append(0x0A)
        }
        data += Array("no newline at the end 漢字".utf8)
        for delimiter: UInt8? in [0x0A, nil] {
            let reader = ChunkedReader(source: MemorySource(data), capacity: capacity)
            var joined: [UInt8] = []
            var chunks = 0
            while let chunk = try reader.next(splittingAfter: delimiter) {
                #expect(chunk.count > 0 && chunk.count <= max(capacity, 64))
                #expect(UTF8Validation.isValid(chunk), "chunk \(chunks) splits a character")
                joined += chunk
                chunks += 1
            }
            #expect(joined == data)
            #expect(try reader.next() == nil)
        }
    }

    @Test("MappedFile maps contents, handles empty files, names the path in errors")
    func mappedFile() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/m.bin"
            let data = sampleText(byteCount: 100_000, seed: 22)
            try writeFile(path, data)
            let mapped = try MappedFile(path: path)
            #expect(mapped.count == data.count)
            #expect(mapped.withUnsafeBytes { Array($0) } == data)

            try writeFile("\(dir)/empty", [])
            let empty = try MappedFile(path: "\(dir)/empty")
            #expect(empty.count == 0)
            #expect(empty.withUnsafeBytes { $0.count } == 0)

            #expect(throws: IOError.cannotOpen(path: "\(dir)/missing", errno: ENOENT)) {
                try MappedFile(path: "\(dir)/missing")
            }
            #expect(throws: IOError.isDirectory(path: dir)) { try MappedFile(path: dir) }
            if FileManager.default.fileExists(atPath: "/dev/null") {
                #expect(throws: IOError.notRegularFile(path: "/dev/null")) { try MappedFile(path: "/dev/null") }
            }
        }
    }

    /// A file of several 32 MB pieces, which `.loaded` reads on several threads: every byte lands where it belongs (a
    /// block of prime length repeated, so a piece read to another place would not match).
    @Test func loadedFileInPieces() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/pieces.bin"
            var rng = SplitMix64(seed: 5)
            let block = (0..<999_983 / 8 + 1).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } }.prefix(999_983).map { $0 }
            let count = 3 * (32 << 20) + 777
            let file = try #require(fopen(path, "wb"))
            var written = 0
            while written < count {
                let n = min(block.count, count - written)
                #expect(fwrite(block, 1, n, file) == n)
                written += n
            }
            fclose(file)
            let loaded = try MappedFile(path: path, residency: .loaded)
            #expect(loaded.count == count)
            let wrong = loaded.withUnsafeBytes { b in
                stride(from: 0, to: count, by: block.count).filter { memcmp(b.baseAddress! + $0, block, min(block.count, count - $0)) != 0 }
            }
            #expect(wrong.isEmpty)
        }
    }

    @Test("MappedFile with .loaded reads the same bytes into memory of its own, 2 MB-aligned; refuses more than memory")
    func loadedFile() throws {
        try withTemporaryDirectory { dir in
            // Past one 2 MB page, not a multiple of it: the region's rounding and the last partial page.
            let path = "\(dir)/m.bin"
            let data = sampleText(byteCount: (5 << 20) + 12_345, seed: 23)
            try writeFile(path, data)
            let loaded = try MappedFile(path: path, residency: .loaded)
            #expect(loaded.count == data.count)
            #expect(loaded.withUnsafeBytes { Array($0) } == data)
            #expect(loaded.withUnsafeBytes { UInt(bitPattern: $0.baseAddress!) % (2 << 20) } == 0)
            // The file is not what the bytes are read from afterwards: changing it changes nothing.
            try writeFile(path, [UInt8](repeating: 0, count: data.count))
            #expect(loaded.withUnsafeBytes { Array($0) } == data)

            try writeFile("\(dir)/empty", [])
            #expect(try MappedFile(path: "\(dir)/empty", residency: .loaded).count == 0)
            #expect(throws: IOError.isDirectory(path: dir)) { try MappedFile(path: dir, residency: .loaded) }

            // A sparse file one byte larger than the machine's memory: refused by name before anything is read.
            let physical = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
            let huge = "\(dir)/huge.bin"
            let fd = open(huge, O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0)
            #expect(ftruncate(fd, off_t(physical + 1)) == 0)
            close(fd)
            let error = IOError.exceedsMemory(path: huge, bytes: physical + 1, physical: physical)
            #expect(throws: error) { try MappedFile(path: huge, residency: .loaded) }
            #expect(error.description == "\(huge): cannot read it into memory (--no-mmap): its \(physical + 1) bytes are more "
                + "than this machine's \(physical) bytes of memory; map it instead")
        }
    }
}
