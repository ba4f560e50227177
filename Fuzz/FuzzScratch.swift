// What the libFuzzer harnesses here share (compiled into each of them by the Makefile): the scratch file an input is
// written to, since the readers under test take paths and map files, and the abort that makes libFuzzer keep an input.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct FuzzScratch: Sendable {
    /// The harness's name, first on its messages.
    let harness: String
    let path: String

    /// The scratch file: the environment variable `variable` if set, else `NAME-PID.SUFFIX` in /dev/shm (memory, fast),
    /// else in /tmp; one per process, so libFuzzer's parallel jobs do not collide.
    init(harness: String, variable: String, name: String, suffix: String) {
        self.harness = harness
        if let path = getenv(variable) {
            self.path = String(cString: path)
        } else {
            var info = stat()
            let directory = stat("/dev/shm", &info) == 0 ? "/dev/shm" : "/tmp"
            self.path = "\(directory)/\(name)-\(getpid()).\(suffix)"
        }
    }

    /// Replaces the scratch file with `bytes` (a fresh inode each time, so no earlier mapping can see the new bytes).
    func store(_ bytes: UnsafeRawBufferPointer) {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fail("cannot create \(path): errno \(errno)") }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done)
            guard n > 0 else { fail("cannot write \(path): errno \(errno)") }
            done += n
        }
        close(fd)
    }

    /// Reports a broken oracle on standard error (file descriptor 2; the C `stderr` global is not concurrency-safe in
    /// Swift 6) and aborts, so that libFuzzer saves the input.
    func fail(_ message: String) -> Never {
        let line = Array("\(harness): \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
}
