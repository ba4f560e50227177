import ArgumentParser
import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `data` to `path` as every output is written (`openOutputFile`): atomically for a file, in place for a
/// device or FIFO, never over an input.
func writeOutputFile(_ path: String, _ data: [UInt8]) throws(IOError) {
    let sink = ByteSink(output: try openOutputFile(path: path))
    try sink.write(data)
    try sink.close()
}

/// The most threads any command starts (`--threads`).
let maxThreads = 1024

/// The one check of every command's `--threads`.
func validateThreads(_ requested: Int?) throws(ValidationError) {
    if let requested, requested < 1 || requested > maxThreads {
        throw ValidationError("--threads must be between 1 and \(maxThreads)")
    }
}

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

/// Ends the process with `status` after removing its temporary files (the C library's exit, unambiguous inside
/// ParsableCommand types).
func exitProcess(_ status: ExitStatus) -> Never { exitProcess(status.rawValue) }

/// `exitProcess` with a raw status (a thrown `ExitCode`).
func exitProcess(_ code: Int32) -> Never {
    TemporaryFiles.removeAll()
    exit(code)
}

/// A small text file a flag names (a prompt, a --tensor-type-file), as a String: refused with one line naming the path
/// when it is not UTF-8 or, with a `limit`, larger than that many bytes (`what` names such files in the message).
func readTextFile(_ path: String, limit: Int? = nil, what: String = "files") throws -> String {
    let file = try MappedFile(path: path)
    if let limit, file.count > limit {
        throw CLIError("\(path): \(file.count) bytes; \(what) above \(limit) bytes are refused")
    }
    guard let text = file.withUnsafeBytes({ String(validating: $0, as: UTF8.self) }) else {
        throw CLIError("\(path): not UTF-8 text")
    }
    return text
}

/// All of stdin as UTF-8 text, refused past `limit` bytes (a prompt read with `-`).
func readStandardInputText(limit: Int) throws -> String {
    let bytes = try FileDescriptorSource.standardInput().readToEnd(limit: limit)
    guard let text = String(validating: bytes, as: UTF8.self) else { throw CLIError("stdin: not UTF-8 text") }
    return text
}
