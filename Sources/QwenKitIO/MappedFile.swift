#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file mapped read-only into memory (model weights, tokenizer files), unmapped when dropped.
///
/// `@unchecked Sendable`: the mapping is `PROT_READ` and never changes after `init`; the pointer is only
/// unmapped in `deinit`, when no thread can hold a reference. Threads may read it concurrently.
///
/// If another process truncates the file while it is mapped, touching the lost pages raises SIGBUS; model
/// and tokenizer files are not rewritten in place by anything here (outputs are replaced by rename).
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The file size in bytes.
    public let count: Int
    private let base: UnsafeRawPointer?
    /// This file's place among the inputs `OutputGuard` protects, while it is mapped.
    private let admission: OutputGuard.Identity?

    /// Maps `path`. An empty file gives an empty buffer (mmap(2) refuses length 0, so nothing is mapped).
    /// Fails with `.cannotOpen`, `.isDirectory`, `.notRegularFile`, `.cannotMap`, naming `path`, or with
    /// `.outputIsInput` when `path` is a file this process writes (`OutputGuard`).
    public convenience init(path: String) throws(IOError) {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
        defer { _ = systemClose(fd) }  // the mapping keeps its own reference to the file
        try self.init(fileDescriptor: fd, name: path)
    }

    /// Maps the file open on `fd` (which stays open and the caller's), e.g. an unlinked scratch file.
    public init(fileDescriptor fd: Int32, name path: String) throws(IOError) {
        var info = stat()
        if fstat(fd, &info) != 0 { throw .cannotOpen(path: path, errno: errno) }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR { throw .isDirectory(path: path) }
        if kind != S_IFREG { throw .notRegularFile(path: path) }
        admission = try OutputGuard.admit(info, name: path)
        self.path = path
        self.count = Int(info.st_size)
        if count == 0 {
            self.base = nil
            return
        }
        guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw .cannotMap(path: path, errno: errno)
        }
        self.base = UnsafeRawPointer(address)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
        OutputGuard.release(input: admission)
    }

    /// Calls `body` with the file's bytes. The buffer is valid only inside `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Tells the kernel the whole file will be read soon (start read-ahead). A hint: failures are ignored.
    public func adviseWillNeed() {
        #if canImport(Glibc)
        if let base { _ = madvise(UnsafeMutableRawPointer(mutating: base), count, Int32(MADV_WILLNEED)) }
        #endif
    }

    /// Drops the pages wholly inside `bytes` from this process's resident set once they have been read, so that a
    /// pass over a file larger than memory keeps RSS flat (the kernel still caches the file; a later read faults the
    /// pages back in). `bytes` must lie inside a `MappedFile`'s mapping: on other memory this would discard data.
    /// A hint: failures are ignored.
    public static func releaseResidentPages(_ bytes: UnsafeRawBufferPointer) {
        #if canImport(Glibc)
        guard let start = bytes.baseAddress else { return }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let first = (UInt(bitPattern: start) + page - 1) & ~(page - 1)
        let end = (UInt(bitPattern: start) + UInt(bytes.count)) & ~(page - 1)
        guard end > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(address, Int(end - first), Int32(MADV_DONTNEED))
        #endif
    }
}
