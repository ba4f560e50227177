#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a `ByteSink` sends its buffered bytes: a descriptor, an atomically replaced file, a compressor.
///
/// Outputs receive large blocks only. The life cycle is: any number of `write`/`flush`, then exactly one of
/// `commit` (the output is complete: rename it into place, end the zstd frame) or `abandon` (an error happened:
/// remove what was written). Not thread-safe.
public protocol ByteOutput: AnyObject {
    /// The path as the user gave it, or `<stdout>`.
    var name: String { get }
    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(IOError)
    /// Pushes everything written so far as far down as it goes without ending the output (for a compressor: a
    /// zstd flush, so that a reader of the pipe can decode it).
    func flush() throws(IOError)
    /// Completes the output. Only after this does a file appear under its final name.
    func commit() throws(IOError)
    /// Gives up: an uncommitted file is removed. Safe to call more than once and after `commit`.
    func abandon()
}

/// Writes to a descriptor: stdout, or an existing pipe or device given as `-o` (`/dev/null`, a FIFO), where a
/// rename would be wrong. Nothing to commit or remove.
public final class FileDescriptorOutput: ByteOutput {
    public let name: String
    public let fileDescriptor: Int32
    private let ownsDescriptor: Bool

    public init(fileDescriptor: Int32, name: String, ownsDescriptor: Bool) {
        self.fileDescriptor = fileDescriptor
        self.name = name
        self.ownsDescriptor = ownsDescriptor
    }

    /// File descriptor 1, not closed at the end.
    public static func standardOutput() -> FileDescriptorOutput {
        FileDescriptorOutput(fileDescriptor: 1, name: "<stdout>", ownsDescriptor: false)
    }

    deinit {
        if ownsDescriptor { _ = systemClose(fileDescriptor) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        try writeAll(fileDescriptor, bytes, name: name)
    }

    public func flush() throws(IOError) {}
    public func commit() throws(IOError) {}
    public func abandon() {}
}

/// A new file that appears under its final name only when complete.
///
/// Bytes go to a temporary file in the same directory, `.<name>.tmp-<pid>-<random>`; `commit()` closes it and
/// renames it over the final path (atomic within one file system: readers see the old file or the whole new
/// one). If `commit()` is never reached, because of an error or because the object is dropped, the temporary
/// file is unlinked, so nothing half-written is ever left under the final name. No `fsync`: this guards
/// against our own failures, not against power loss. The temporary file is registered with `TemporaryFiles` while
/// it exists, so an interrupt (SIGINT, SIGTERM, SIGHUP) removes it too; only SIGKILL can leave it behind.
///
/// A symbolic link at the final path is followed: the file it points to is replaced, the link stays.
public final class AtomicOutputFile: ByteOutput {
    public let name: String
    /// The path the data goes to on `commit()` (the final path, with a symbolic link resolved).
    public let finalPath: String
    public let temporaryPath: String
    private var fd: Int32
    private var finished = false
    private let registration: TemporaryFiles.Registration
    /// The claim on the file this output replaces (if one exists), held until commit or abandon.
    private let claim: OutputGuard.Identity?

    /// Creates the temporary file for `path`. Prefer `openOutputFile`, which also handles devices and FIFOs and
    /// refuses an output that is an input; this initializer claims `path` too, so it cannot replace an input.
    public init(path: String) throws(IOError) {
        let claim = try OutputGuard.claim(path)
        self.claim = claim
        self.name = path
        let target = AtomicOutputFile.resolveLink(path)
        self.finalPath = target
        let slash = target.lastIndex(of: "/")
        let directory = slash.map { String(target[...$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        do {
            (fd, temporaryPath, registration) = try TemporaryFiles.createUnique(prefix: "\(directory).\(base).tmp-", flags: O_WRONLY,
                                                                                 mode: 0o666, output: path)
        } catch {
            OutputGuard.release(output: claim)
            throw error
        }
    }

    deinit { abandon() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        try writeAll(fd, bytes, name: name)
    }

    public func flush() throws(IOError) {}

    /// Appends the rest of the file open on `source` (from its current offset to its end) without copying it through
    /// this process: copy_file_range(2), which the kernel does in place (or shares blocks, on file systems that can).
    /// Returns the bytes appended. Where the kernel cannot (another file system, an old kernel), falls back to
    /// read/write through `buffer`. Write nothing through a `ByteSink` in front of this file without flushing it first.
    public func append(from source: Int32, sourceName: String, buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int64 {
        var total: Int64 = 0
        #if canImport(Glibc)
        while let copyFileRange = AtomicOutputFile.copyFileRange {
            let n = copyFileRange(source, nil, fd, nil, 1 << 30, 0)
            if n > 0 { total += Int64(n); continue }
            if n == 0 { return total }
            if errno == EINTR { continue }
            if errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP { break }
            throw .writeFailed(path: name, errno: errno)
        }
        #endif
        while true {
            let n = systemRead(source, buffer.baseAddress!, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .readFailed(path: sourceName, errno: errno)
            }
            if n == 0 { return total }
            try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<n]), name: name)
            total += Int64(n)
        }
    }

    #if canImport(Glibc)
    /// glibc's copy_file_range, which its headers declare only for _GNU_SOURCE (so Swift's Glibc module lacks it).
    private typealias CopyFileRange = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int
    private static let copyFileRange: CopyFileRange? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "copy_file_range")
        .map { unsafeBitCast($0, to: CopyFileRange.self) }
    #endif

    /// Writes `bytes` at `offset` of the file written so far (a header whose numbers are known only at the end).
    /// The range must lie inside what was written.
    public func overwrite(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(IOError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: name, errno: errno)
            }
            done += n
        }
    }

    public func commit() throws(IOError) {
        guard !finished else { return }
        // close(2) can report a delayed write error (NFS, quota): check it before renaming.
        let closed = systemClose(fd)
        fd = -1
        if closed != 0 {
            let code = errno
            abandon()
            throw .cannotCommitOutput(path: name, errno: code)
        }
        let renamed = temporaryPath.withCString { from in finalPath.withCString { to in rename(from, to) } }
        if renamed != 0 {
            let code = errno
            abandon()
            throw .cannotCommitOutput(path: name, errno: code)
        }
        finished = true
        registration.withdraw()
        OutputGuard.release(output: claim)
    }

    public func abandon() {
        guard !finished else { return }
        finished = true
        if fd >= 0 {
            _ = systemClose(fd)
            fd = -1
        }
        _ = temporaryPath.withCString { unlink($0) }
        registration.withdraw()
        OutputGuard.release(output: claim)
    }

    /// Follows symbolic links at `path` so that the rename replaces the target, not the link.
    private static func resolveLink(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return path }
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
