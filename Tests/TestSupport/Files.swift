// What every test target needs and none should copy: scratch directories, whole-file reads and writes, fixture
// paths. Test targets depend on this target (Package.swift); it depends on Foundation, QwenKitIO (zstd) and
// Conversion (the trained checkpoint's F32 GGUF) only.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The repository root (this file is Tests/TestSupport/Files.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `relative` (e.g. `Fixtures/sample.txt`) under the repository root.
public func repositoryPath(_ relative: String) -> String {
    repositoryRoot.appendingPathComponent(relative).path
}

/// `relative` under Fixtures/.
public func fixturePath(_ relative: String) -> String {
    repositoryPath("Fixtures/" + relative)
}

/// A fresh empty directory (mkdtemp, in $TMPDIR), removed with everything in it when `body` returns or throws.
public func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    var template = Array("\(NSTemporaryDirectory())/qwenkit-test-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    _ = made
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

public func readFile(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

public func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

public func writeFile(_ path: String, _ text: String) throws {
    try writeFile(path, Array(text.utf8))
}

/// The names in directory `path`, sorted.
public func directoryEntries(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}
