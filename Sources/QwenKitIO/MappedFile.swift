import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a `MappedFile` holds the file's bytes.
public enum FileResidency: Sendable {
    /// Mapped read-only: the page cache's pages, read on first touch and shared with every process that maps the file.
    case mapped
    /// Read into memory of the process's own at open (`--no-mmap`), on 2 MB pages where the kernel gives them. Weights
    /// mapped from a file get 4 KB pages only (this project's machine: Linux 6.18, ext4, transparent huge pages on
    /// madvise, `MADV_COLLAPSE` refused for the file), and the generation kernels read 3-8% faster from 2 MB pages
    /// (README, "Running a model"). Costs the read at open (for 351-397 MB here 0.07-0.1 s more than mapping, up to
    /// 1.3 s when the kernel must first compact memory for the pages) and the file's size in private memory.
    case loaded
}

/// A regular file mapped read-only into memory (model weights, tokenizer files), unmapped when dropped; or, with
/// `FileResidency.loaded`, read into memory of its own.
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
    /// What `deinit` unmaps: the file's mapping, or the anonymous region the file was read into (larger than
    /// `count`: rounded up to whole 2 MB pages, plus room to align).
    private let mapping: (address: UnsafeMutableRawPointer, length: Int)?
    /// This file's place among the inputs `OutputGuard` protects, while it is mapped.
    private let admission: OutputGuard.Identity?

    /// Maps `path`, or reads it into memory with `.loaded`. An empty file gives an empty buffer (mmap(2) refuses
    /// length 0, so nothing is mapped). Fails with `.cannotOpen`, `.isDirectory`, `.notRegularFile`, `.cannotMap`,
    /// `.readFailed` or `.exceedsMemory`, naming `path`, or with `.outputIsInput` when `path` is a file this process
    /// writes (`OutputGuard`).
    public convenience init(path: String, residency: FileResidency = .mapped) throws(IOError) {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
        defer { _ = systemClose(fd) }  // the mapping keeps its own reference to the file
        try self.init(fileDescriptor: fd, name: path, residency: residency)
    }

    /// Maps the file open on `fd` (which stays open and the caller's), e.g. an unlinked scratch file.
    public init(fileDescriptor fd: Int32, name path: String, residency: FileResidency = .mapped) throws(IOError) {
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
            self.mapping = nil
            return
        }
        switch residency {
        case .mapped:
            guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
                throw .cannotMap(path: path, errno: errno)
            }
            self.base = UnsafeRawPointer(address)
            self.mapping = (address, count)
        case .loaded:
            let region = try MappedFile.readIntoMemory(fd, count: count, path: path)
            self.base = UnsafeRawPointer(region.start)
            self.mapping = (region.address, region.length)
        }
    }

    deinit {
        if let mapping { munmap(mapping.address, mapping.length) }
        OutputGuard.release(input: admission)
    }

    /// Bytes of a transparent huge page (x86-64 and arm64 with 4 KB base pages).
    static let hugePage = 2 << 20

    /// Reads the `count` bytes of the file open on `fd` into a new anonymous region that starts on a 2 MB boundary and
    /// asks for huge pages, then makes it read-only. Refuses a file larger than the machine's memory (the region would
    /// be granted and fail page by page). The 32 MB pieces are read by up to four threads (the 0.5B-shaped Q4_K_M GGUF,
    /// 397 MB: 244 -> 178 ms; F16, 988 MB: 275 -> 183, medians of 7-9 alternating runs).
    private static func readIntoMemory(_ fd: Int32, count: Int, path: String) throws(IOError)
        -> (address: UnsafeMutableRawPointer, length: Int, start: UnsafeMutableRawPointer) {
        let physical = physicalMemoryBytes()
        if let physical, count > physical { throw .exceedsMemory(path: path, bytes: count, physical: physical) }
        let (rounded, overflow) = count.addingReportingOverflow(2 * hugePage)
        guard !overflow else { throw .exceedsMemory(path: path, bytes: count, physical: physical ?? 0) }
        let length = rounded / hugePage * hugePage  // the pages `count` needs, plus one to align the start
        guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              address != MAP_FAILED else {
            throw .cannotMap(path: path, errno: errno)
        }
        let start = UnsafeMutableRawPointer(bitPattern: (UInt(bitPattern: address) + UInt(hugePage - 1)) & ~UInt(hugePage - 1))!
        #if canImport(Glibc)
        _ = madvise(start, length - (start - address), Int32(MADV_HUGEPAGE))  // a hint: without THP, 4 KB pages
        #endif
        // Pieces of 32 MB read by up to `loadThreads` threads: most of the time is the kernel finding, zeroing and filling
        // pages (compacting memory for 2 MB ones when it is fragmented), which runs on the thread that faults them.
        let piece = 32 << 20, pieces = (count + piece - 1) / piece
        let next = Atomic<Int>(0), failure = Atomic<Int32>(0)
        let target = UInt(bitPattern: start)
        let workers = min(pieces, loadThreads)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while failure.load(ordering: .relaxed) == 0 {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < pieces else { return }
                var done = i * piece
                let end = min(count, done + piece)
                while done < end {
                    let n = pread(fd, UnsafeMutableRawPointer(bitPattern: target + UInt(done)), end - done, off_t(done))
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else {
                        // 0: the file shrank since fstat.
                        failure.store(n < 0 ? errno : EIO, ordering: .relaxed)
                        return
                    }
                    done += n
                }
            }
        }
        let code = failure.load(ordering: .relaxed)
        if code != 0 {
            munmap(address, length)
            throw .readFailed(path: path, errno: code)
        }
        _ = mprotect(address, length, PROT_READ)
        return (address, length, start)
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
    /// pages back in). `bytes` must lie inside a mapped `MappedFile` (`.mapped`): on other memory, a `.loaded` file's too,
    /// this would discard data.
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
