import TestSupport
import Foundation
import QwenKitIO

#if canImport(Glibc)
import Glibc
#endif

/// Text-like bytes (words, newlines, some CJK and emoji) that compress like real corpora.
func sampleText(byteCount: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    let words = ["the", "model", "token", "Qwen", "漢字", "かな", "😀", "naïve", "\n", "data,", "1234", "\t"]
        .map { Array($0.utf8) }
    var out: [UInt8] = []
    out.reserveCapacity(byteCount + 16)
    while out.count < byteCount {
        out += words[Int(rng.next() % UInt64(words.count))]
        out.append(0x20)
    }
    return out
}

/// Runs an executable with `input` on stdin; returns stdout, or nil if it cannot run (tool not installed).
func runTool(_ path: String, _ arguments: [String], input: [UInt8]) throws -> [UInt8]? {
    guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    // Feed stdin from another thread so that a full stdout pipe cannot deadlock us.
    let writer = Thread {
        stdin.fileHandleForWriting.write(Data(input))
        try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? [UInt8](output) : nil
}

/// Reads all of `source` with reads of `chunk` bytes (small chunks exercise the "buffer full" paths).
func drain(_ source: any ByteSource, chunk: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: chunk)
    while true {
        let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        if n == 0 { return out }
        out += buffer[..<n]
    }
}

/// FNV-1a 64 of `bytes` (the fixture scripts' digest of decoded data).
func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash
}
