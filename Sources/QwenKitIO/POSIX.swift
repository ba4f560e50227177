#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on the monotonic clock (for durations; the epoch is arbitrary).
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// The machine's physical memory in bytes, nil when the system does not say (or says more than Int holds).
public func physicalMemoryBytes() -> Int? {
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, pageSize > 0 else { return nil }
    let (physical, overflow) = pages.multipliedReportingOverflow(by: pageSize)
    return overflow ? nil : physical
}

/// Threads for work done once while loading (reading a file into memory, repacking rows): the online CPUs, at most 4 (the
/// kernel's page work that most of it is does not scale further here).
public let loadThreads = min(4, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// Maps the pages under `bytes` into this process now, in one call (Linux's MADV_POPULATE_READ, or _WRITE for memory
/// about to be written), instead of one page fault per 4 KB (per 64 KB of a file mapping) as a loop first touches them.
/// A hint: elsewhere, and on kernels before 5.14, it does nothing.
public func prefaultPages(_ bytes: UnsafeRawBufferPointer, forWriting: Bool) {
    #if os(Linux)
    guard let start = bytes.baseAddress, bytes.count > 0 else { return }
    let page = UInt(max(sysconf(Int32(_SC_PAGESIZE)), 1))
    let first = UInt(bitPattern: start) & ~(page - 1)
    guard let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
    _ = madvise(address, bytes.count + Int(UInt(bitPattern: start) - first), forWriting ? 23 : 22)  // MADV_POPULATE_WRITE, _READ
    #endif
}

// Thin aliases for the system calls whose names collide with methods here (`read`, `write`, `close`).

@inline(__always)
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

@inline(__always)
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

@inline(__always)
func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes. EPIPE becomes `.brokenPipe`.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws(IOError) {
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
        let n = systemWrite(fd, p, min(left, 1 << 30))
        if n > 0 {
            p += n
            left -= n
            continue
        }
        let code = n < 0 ? errno : EIO  // write(2) returning 0 for a non-empty request: treat as an I/O error
        if code == EINTR { continue }
        if code == EPIPE { throw .brokenPipe(path: name) }
        throw .writeFailed(path: name, errno: code)
    }
}
