#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `data` to a temporary name beside `path` and renames it into place.
func writeFileAtomically(_ path: String, _ data: [UInt8]) throws {
    let temp = path + ".tmp-\(getpid())"
    let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw CLIError("\(path): cannot create: \(String(cString: strerror(errno)))") }
    var written = 0
    while written < data.count {
        let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
        if n < 0 {
            if errno == EINTR { continue }
            let message = String(cString: strerror(errno))
            close(fd)
            unlink(temp)
            throw CLIError("\(path): cannot write: \(message)")
        }
        written += n
    }
    guard close(fd) == 0, rename(temp, path) == 0 else {
        let message = String(cString: strerror(errno))
        unlink(temp)
        throw CLIError("\(path): cannot write: \(message)")
    }
}

/// A command whose exit status is its answer, as cmp's and diff(1)'s: 0 yes (`verify`: within the thresholds),
/// 1 no, 2 trouble (input it cannot use, a usage error); the root command maps its errors to 2 instead of 1 or 64.
protocol AnswersWithExitStatus {}

/// Worker threads: `requested`, or one per online CPU.
func threadCount(_ requested: Int?) -> Int {
    requested ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes `qwenkit: message` to stderr.
func printError(_ message: String) {
    printError(raw: "qwenkit: \(message)\n")
}

/// Writes `text` to stderr as it is.
func printError(raw text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
}

/// Ends the process (the C library's exit, unambiguous inside ParsableCommand types).
func exitProcess(_ code: Int32) -> Never { exit(code) }
