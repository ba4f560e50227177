#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stream of bytes read in whole buffers: a file, stdin, memory, or a decompressor wrapped around one of them.
///
/// Callers pass large buffers (1 MiB or more) and get back as many bytes as are ready; the per-call cost
/// (one dynamic dispatch, one `read(2)`) is then invisible. Nothing here reads byte by byte.
///
/// Sources are not thread-safe: use one from one thread at a time.
public protocol ByteSource: AnyObject {
    /// The path as the user gave it, or `<stdin>`; every error names it.
    var name: String { get }

    /// Reads up to `buffer.count` bytes into `buffer` and returns how many were read; 0 means end of input
    /// (and only then: a non-empty buffer never gets 0 before the end). `buffer` must not be empty.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int

    /// Bytes of the underlying input consumed so far, for progress: for a decompressing source these are
    /// compressed bytes, so that they can be compared with `inputSize`.
    var inputPosition: Int64 { get }

    /// The size of the underlying input when it is known in advance (a regular file), for progress.
    var inputSize: Int64? { get }

    /// The offset in the input of the first byte this source delivers: 0, except for a part of a file
    /// (`RecordRangeSource`), so that messages name offsets in the file.
    var startOffset: Int64 { get }
}

extension ByteSource {
    public var startOffset: Int64 { 0 }

    /// Reads until `buffer` is full or the input ends; returns the byte count (less than `buffer.count` only at
    /// the end of input). Pipes deliver at most 64 KiB per `read(2)`, so this is how to get full chunks.
    public func readFull(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    /// Reads the whole remaining input into an array, failing with `.tooLarge` past `limit` bytes (a guard
    /// against being pointed at a multi-GB file where a small one is expected).
    public func readToEnd(limit: Int = Int.max) throws(IOError) -> [UInt8] {
        var result: [UInt8] = []
        if let size = inputSize, size > 0, size <= Int64(limit) { result.reserveCapacity(Int(size)) }
        let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 20)
        defer { scratch.deallocate() }
        while true {
            let n = try read(into: UnsafeMutableRawBufferPointer(scratch))
            if n == 0 { return result }
            if n > limit - result.count { throw .tooLarge(path: name, limit: limit) }
            result.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<n]))
        }
    }
}

/// Reads a file descriptor with `read(2)`: a regular file, stdin, a pipe, a device.
public final class FileDescriptorSource: ByteSource {
    public let name: String
    public let fileDescriptor: Int32
    public private(set) var inputPosition: Int64 = 0
    public let inputSize: Int64?
    private let ownsDescriptor: Bool
    /// This file's place among the inputs `OutputGuard` protects, while it is open.
    private let admission: OutputGuard.Identity?

    /// Opens `path` for reading. Fails with `.cannotOpen` (missing, permission), `.isDirectory`.
    public convenience init(path: String) throws(IOError) {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
        do {
            try self.init(fileDescriptor: fd, name: path, ownsDescriptor: true)
        } catch {
            _ = systemClose(fd)
            throw error
        }
    }

    /// Wraps an open descriptor. With `ownsDescriptor`, it is closed in `deinit`.
    public init(fileDescriptor: Int32, name: String, ownsDescriptor: Bool) throws(IOError) {
        var info = stat()
        if fstat(fileDescriptor, &info) != 0 { throw .cannotOpen(path: name, errno: errno) }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR { throw .isDirectory(path: name) }
        admission = try OutputGuard.admit(info, name: name)
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.ownsDescriptor = ownsDescriptor
        if kind == S_IFREG {
            // The current offset matters for stdin redirected from a file that was partly read already.
            let offset = lseek(fileDescriptor, 0, SEEK_CUR)
            self.inputSize = Int64(info.st_size) - Int64(max(offset, 0))
            #if canImport(Glibc)
            _ = posix_fadvise(fileDescriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
            #endif
        } else {
            self.inputSize = nil
        }
    }

    /// Standard input (not closed when the source goes away).
    public static func standardInput() throws(IOError) -> FileDescriptorSource {
        try FileDescriptorSource(fileDescriptor: 0, name: "<stdin>", ownsDescriptor: false)
    }

    deinit {
        if ownsDescriptor { _ = systemClose(fileDescriptor) }
        OutputGuard.release(input: admission)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        // Linux caps one read(2) at 0x7ffff000 bytes; asking for more is harmless but keep it tidy.
        let want = min(buffer.count, 1 << 30)
        while true {
            let n = systemRead(fileDescriptor, base, want)
            if n >= 0 {
                inputPosition += Int64(n)
                return n
            }
            let code = errno
            if code == EINTR { continue }
            if code == EISDIR { throw .isDirectory(path: name) }
            throw .readFailed(path: name, errno: code)
        }
    }
}

/// Bytes already in memory (an embedded resource, a test vector) as a `ByteSource`.
public final class MemorySource: ByteSource {
    public let name: String
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8], name: String = "<memory>") {
        self.bytes = bytes
        self.name = name
    }

    public var inputPosition: Int64 { Int64(position) }
    public var inputSize: Int64? { Int64(bytes.count) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        let n = min(buffer.count, bytes.count - position)
        if n == 0 { return 0 }
        bytes.withUnsafeBytes { all in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[position..<position + n]))
        }
        position += n
        return n
    }
}

/// Opens an input the way the CLI names them: `-` is stdin; a path ending in `.zst` (zstd) or `.gz` (gzip) is
/// decompressed on the fly. `decompress` forces either way: `false` reads a `.zst` or `.gz` path raw, `true`
/// decompresses any other path (stdin included) as zstd.
/// Errors name the path: missing file, directory, permission denied.
public func openInput(path: String, decompress: Bool? = nil) throws(IOError) -> any ByteSource {
    let raw: any ByteSource = path == "-" ? try FileDescriptorSource.standardInput() : try FileDescriptorSource(path: path)
    guard decompress != false else { return raw }
    if path.hasSuffix(".gz") {
        return try GzipDecompressingSource(wrapping: raw)
    }
    if decompress ?? path.hasSuffix(".zst") {
        return try ZstdDecompressingSource(wrapping: raw)
    }
    return raw
}
