// Runs the built `qwenkit` binary as a user would: arguments, stdin, stdout, stderr and exit status.
// The binary is the one SwiftPM built beside this test bundle (same --scratch-path and configuration);
// set QWENKIT_BIN to test another (for example a release build).

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one run of the binary did.
struct RunResult: CustomStringConvertible {
    let arguments: [String]
    /// The exit status, or the signal number when `signaled`.
    let status: Int32
    /// The process died of a signal (a crash, for qwenkit): never expected.
    let signaled: Bool
    let stdout: [UInt8]
    let stderr: [UInt8]

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// stderr split into lines (without the final empty piece after a trailing newline).
    var stderrLines: [String] {
        var lines = stderrText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    var description: String {
        let shownOut = stdout.count > 400 ? String(decoding: stdout.prefix(400), as: UTF8.self) + "…" : stdoutText
        return "qwenkit \(arguments.joined(separator: " ")) -> \(signaled ? "signal" : "status") \(status)\n"
            + "stderr: \(stderrText.debugDescription)\nstdout (\(stdout.count) bytes): \(shownOut.debugDescription)"
    }
}

enum CLIInput {
    case none
    case bytes([UInt8])
    case text(String)
    case file(String)
}

struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum CLI {
    static func repositoryPath(_ relative: String) -> String { TestSupport.repositoryPath(relative) }

    /// The qwenkit binary: $QWENKIT_BIN, or `qwenkit` in the build products directory of this test bundle.
    static let located: Result<String, CLITestError> = locate()

    static func binary() throws -> String { try located.get() }

    private static func locate() -> Result<String, CLITestError> {
        let fm = FileManager.default
        if let override = ProcessInfo.processInfo.environment["QWENKIT_BIN"], !override.isEmpty {
            return fm.isExecutableFile(atPath: override)
                ? .success(override) : .failure(CLITestError("QWENKIT_BIN=\(override) is not an executable file"))
        }
        // The test runner is the bundle itself on Linux (…/debug/qwenkitPackageTests.xctest); on macOS the
        // bundle sits in the products directory and its binary is in Contents/MacOS.
        var directories: [URL] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let exe = Bundle.main.executableURL {
            directories.append(exe.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            directories.append(bundle.bundleURL.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        var looked: [String] = []
        for directory in directories where !looked.contains(directory.appendingPathComponent("qwenkit").path) {
            let candidate = directory.appendingPathComponent("qwenkit").path
            looked.append(candidate)
            if fm.isExecutableFile(atPath: candidate) { return .success(candidate) }
        }
        return .failure(CLITestError("""
            the qwenkit binary was not found next to the test bundle (looked for \(looked)). \
            Build it into the same products directory first, e.g. `swift build --product qwenkit` with the same \
            --scratch-path and configuration as `swift test`, or set QWENKIT_BIN to its path.
            """))
    }

    /// Runs qwenkit with `arguments`. stdin, stdout and stderr are files, so any amount of input and
    /// output moves without pipe deadlocks. The environment fixes the help width (COLUMNS=80).
    @discardableResult
    static func run(_ arguments: [String], stdin: CLIInput = .none, environment: [String: String] = [:]) throws -> RunResult {
        let binary = try binary()
        return try withTemporaryDirectory { dir in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment
            env["COLUMNS"] = "80"
            env["LINES"] = nil
            for (k, v) in environment { env[k] = v }
            process.environment = env

            let inputPath: String?
            switch stdin {
            case .none: inputPath = nil
            case .bytes(let bytes): inputPath = dir + "/stdin"; try writeFile(inputPath!, bytes)
            case .text(let text): inputPath = dir + "/stdin"; try writeFile(inputPath!, Array(text.utf8))
            case .file(let path): inputPath = path
            }
            let input = try inputPath.map { path -> FileHandle in
                guard let handle = FileHandle(forReadingAtPath: path) else { throw CLITestError("cannot open \(path)") }
                return handle
            }
            process.standardInput = input ?? FileHandle.nullDevice
            let outPath = dir + "/stdout", errPath = dir + "/stderr"
            try writeFile(outPath, [])
            try writeFile(errPath, [])
            let out = FileHandle(forWritingAtPath: outPath)!, err = FileHandle(forWritingAtPath: errPath)!
            process.standardOutput = out
            process.standardError = err
            try process.run()
            process.waitUntilExit()
            try? input?.close()
            try? out.close()
            try? err.close()
            return RunResult(arguments: arguments, status: process.terminationStatus,
                             signaled: process.terminationReason == .uncaughtSignal,
                             stdout: try readFile(outPath), stderr: try readFile(errPath))
        }
    }

    /// Runs a shell command line (for pipes); `$QWENKIT` is the binary, and `qwenkit` runs it too (its directory
    /// is first on PATH).
    static func shell(_ script: String, in directory: String, environment: [String: String] = [:]) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["QWENKIT"] = try binary()
        env["PATH"] = URL(fileURLWithPath: try binary()).deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["COLUMNS"] = "80"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        // Captured in a directory of its own: tests may share `directory` (the repository root) and run at once.
        return try withTemporaryDirectory { capture in
            let outPath = capture + "/stdout", errPath = capture + "/stderr"
            try writeFile(outPath, [])
            try writeFile(errPath, [])
            let out = FileHandle(forWritingAtPath: outPath)!, err = FileHandle(forWritingAtPath: errPath)!
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = out
            process.standardError = err
            try process.run()
            process.waitUntilExit()
            try? out.close()
            try? err.close()
            return RunResult(arguments: ["(bash)", script], status: process.terminationStatus,
                             signaled: process.terminationReason == .uncaughtSignal,
                             stdout: try readFile(outPath), stderr: try readFile(errPath))
        }
    }
}

// MARK: - Files

// MARK: - Token id helpers

/// Little-endian uint32 bytes of `ids`.
func littleEndianBytes(_ ids: [UInt32]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(ids.count * 4)
    for id in ids {
        bytes.append(UInt8(truncatingIfNeeded: id))
        bytes.append(UInt8(truncatingIfNeeded: id >> 8))
        bytes.append(UInt8(truncatingIfNeeded: id >> 16))
        bytes.append(UInt8(truncatingIfNeeded: id >> 24))
    }
    return bytes
}

/// Ids from little-endian uint32 bytes (the count must be a multiple of 4).
func idsFromLittleEndian(_ bytes: [UInt8]) -> [UInt32] {
    precondition(bytes.count % 4 == 0, "u32 output of \(bytes.count) bytes is not a multiple of 4")
    var ids: [UInt32] = []
    ids.reserveCapacity(bytes.count / 4)
    var i = 0
    while i < bytes.count {
        ids.append(UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        i += 4
    }
    return ids
}

/// `--format text` output: one document per line, ids separated by single spaces.
func textFormatLine(_ ids: [UInt32]) -> String { ids.map(String.init).joined(separator: " ") }

/// Lines of `output` (which must end in a newline when not empty), without the newlines.
func outputLines(_ output: [UInt8]) -> [String] {
    var lines = output.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    if lines.last == "" { lines.removeLast() }
    return lines
}

/// Ids of one `--format text` line (nil when it is not space-separated decimals).
func parseTextLine(_ line: String) -> [UInt32]? {
    if line.isEmpty { return [] }
    var ids: [UInt32] = []
    for field in line.split(separator: " ", omittingEmptySubsequences: false) {
        guard let id = UInt32(field) else { return nil }
        ids.append(id)
    }
    return ids
}

/// FNV-1a (64-bit) over the little-endian bytes of `ids`: a fingerprint of a long id sequence that
/// is easy to compute in Python as well (see ParallelEncodingTests).
func fnv1a64(littleEndianIDs ids: [UInt32]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for id in ids {
        for shift in stride(from: 0, to: 32, by: 8) {
            hash ^= UInt64((id >> UInt32(shift)) & 0xFF)
            hash = hash &* 0x0000_0100_0000_01B3
        }
    }
    return hash
}

/// "first difference at index i: expected […] got […]" for two id sequences.
func describeFirstDifference(expected: [UInt32], actual: [UInt32]) -> String {
    let n = min(expected.count, actual.count)
    var i = 0
    while i < n && expected[i] == actual[i] { i += 1 }
    if i == n && expected.count == actual.count { return "equal" }
    let lo = max(0, i - 3)
    return "lengths \(expected.count) (expected) vs \(actual.count); first difference at index \(i): "
        + "expected \(Array(expected[lo..<min(expected.count, i + 6)])) got \(Array(actual[lo..<min(actual.count, i + 6)]))"
}

/// The first byte offset at which `a` and `b` differ, with a little context, for byte outputs.
func describeFirstDifference(expected: [UInt8], actual: [UInt8]) -> String {
    let n = min(expected.count, actual.count)
    var i = 0
    while i < n && expected[i] == actual[i] { i += 1 }
    if i == n && expected.count == actual.count { return "equal" }
    let lo = max(0, i - 20)
    let e = String(decoding: expected[lo..<min(expected.count, i + 40)], as: UTF8.self)
    let g = String(decoding: actual[lo..<min(actual.count, i + 40)], as: UTF8.self)
    return "\(expected.count) bytes expected, \(actual.count) got; first difference at byte \(i): "
        + "expected …\(e.debugDescription)… got …\(g.debugDescription)…"
}

// MARK: - Peak memory of a child

extension CLI {
    /// Runs qwenkit with `arguments` under GNU time (`/usr/bin/time -f %M`, installed by .ci/run) and returns what it
    /// did and its peak resident set in bytes: memory-bound cases assert this, never wall time.
    ///
    /// Why not wait4's rusage of a child of this process: on Linux a child started by posix_spawn (vfork) records the
    /// high-water mark of the test runner's own memory at exec (about 90 MB), so every child would seem that large.
    /// GNU time forks from its own small process, so its child's figure is the command's alone.
    static func runMeasuringMemory(_ arguments: [String]) throws -> (run: RunResult, peakBytes: Int) {
        try withTemporaryDirectory { dir in
            let report = dir + "/peak"
            let run = try CLI.shell("/usr/bin/time -f %M -o '\(report)' \"$QWENKIT\" "
                + arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ") + " < /dev/null",
                in: dir)
            let text = String(decoding: try readFile(report), as: UTF8.self)
            // GNU time adds "Command exited with non-zero status N" before the figure when the command fails.
            guard let kilobytes = text.split(separator: "\n").last.flatMap({ Int($0) }) else {
                throw CLITestError("no peak memory from GNU time: \(text.debugDescription)")
            }
            let result = RunResult(arguments: arguments, status: run.status, signaled: run.signaled, stdout: run.stdout,
                                   stderr: run.stderr)
            return (result, kilobytes * 1024)
        }
    }
}
