#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTemporaryFiles

/// The temporary files of this process, removed when it is interrupted.
///
/// Every file that exists only while a command runs (an output before it is renamed into place) is registered here
/// while it exists. `installSignalHandlers()` makes SIGINT, SIGTERM and SIGHUP unlink all of them and end the
/// process with status 130, 143 or 129; `removeAll()` does the same on any other early exit (a closed pipe, an
/// error that ends the process without unwinding). The table and the handler are C (CTemporaryFiles) because a
/// signal handler may only make async-signal-safe calls.
public enum TemporaryFiles {
    /// A registration; `withdraw()` it once the file is renamed or removed.
    public struct Registration: Sendable {
        let slot: Int32

        /// Takes the file off the list (it was renamed into place, or its owner removed it).
        public func withdraw() {
            qwenkit_temporary_files_remove(slot)
        }
    }

    /// Adds `path` to the files removed on an interrupt.
    public static func register(_ path: String) -> Registration {
        Registration(slot: path.withCString { qwenkit_temporary_files_add($0) })
    }

    /// Unlinks every registered file now.
    public static func removeAll() {
        qwenkit_temporary_files_unlink_all()
    }

    /// The files registered now (for tests and diagnostics).
    public static var registered: [String] {
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let needed = Int(qwenkit_temporary_files_list(&buffer, Int32(buffer.count)))
            if needed <= buffer.count {
                return buffer[..<needed].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            }
            buffer = [CChar](repeating: 0, count: needed)
        }
    }

    /// SIGINT, SIGTERM and SIGHUP remove every registered file and end the process with 128 + the signal number.
    /// A signal that was ignored when the process started (`nohup`) stays ignored.
    public static func installSignalHandlers() {
        qwenkit_temporary_files_install_signal_handlers()
    }
}

extension TemporaryFiles {
    /// A new file `PREFIX<pid>-<random hex>`, created with O_EXCL (a collision fails instead of sharing a file; with 64
    /// random bits one retry is plenty) and registered before it exists, so no interrupt can fall between creating
    /// and registering it. Returns the descriptor, the path and the registration; on failure, throws
    /// `.cannotCreateOutput` naming `output` and the last path tried.
    static func createUnique(prefix: String, flags: Int32, mode: mode_t, output: String) throws(IOError)
        -> (fd: Int32, path: String, registration: Registration) {
        var lastErrno: Int32 = 0
        var candidate = ""
        for _ in 0..<4 {
            candidate = "\(prefix)\(getpid())-\(String(UInt64.random(in: .min ... .max), radix: 16))"
            let registration = register(candidate)
            let fd = candidate.withCString { open($0, flags | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
            if fd >= 0 { return (fd, candidate, registration) }
            lastErrno = errno
            registration.withdraw()
            if lastErrno != EEXIST && lastErrno != EINTR { break }
        }
        throw .cannotCreateOutput(path: output, temporaryPath: candidate, errno: lastErrno)
    }
}

/// SIGINT as a request to stop the current step instead of the process: `chat` generates a reply inside `catching`
/// and stops it when `requested`, keeping what was said; at its prompt, Ctrl-C ends the program as everywhere else
/// (`TemporaryFiles.installSignalHandlers`). The handler is C (CTemporaryFiles) and only sets an atomic flag.
public enum InterruptRequest {
    /// Runs `body` with SIGINT setting the flag (cleared first) rather than ending the process, then restores the
    /// handler that was there. A SIGINT ignored when the process started stays ignored.
    public static func catching<R>(_ body: () throws -> R) rethrows -> R {
        qwenkit_interrupt_catch_begin()
        defer { qwenkit_interrupt_catch_end() }
        return try body()
    }

    /// A SIGINT arrived since `catching` began.
    public static var requested: Bool { qwenkit_interrupt_requested() != 0 }
}
