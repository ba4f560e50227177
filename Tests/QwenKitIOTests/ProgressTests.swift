import Foundation
import Testing
import TestSupport
import QwenKitIO

#if canImport(Glibc)
import Glibc
#endif

@Suite("progress line")
struct ProgressTests {
    @Test("the line shows done/total, percent, rate, elapsed and ETA")
    func render() {
        let line = ProgressReporter.line(label: "encode", done: 1_230_000_000, total: 4_560_000_000,
                                           elapsedNanos: 2_400_000_000)
        #expect(line == "encode  1.23 GB / 4.56 GB  27.0%  512.5 MB/s  0:02  ETA 0:06")
        let noTotal = ProgressReporter.line(label: "", done: 999, total: nil, elapsedNanos: 3_723_000_000_000)
        #expect(noTotal == "999 B  0.0 MB/s  1:02:03")
        #expect(ProgressReporter.formatBytes(1_500) == "1.50 kB")
        #expect(ProgressReporter.formatBytes(4_096_000_000) == "4.10 GB")
        #expect(ProgressReporter.formatDuration(59.9) == "0:59")
    }

    @Test("disabled reporters count nothing and draw nothing; stderr in tests is not a terminal")
    func disabled() {
        let reporter = ProgressReporter.disabled()
        reporter.add(bytes: 100)
        reporter.finish()
        #expect(!reporter.isEnabled)
        #expect(reporter.completedBytes == 0)
        if isatty(2) == 0 { #expect(!ProgressReporter(total: 10).isEnabled) }
    }

    @Test("an enabled reporter draws at most every 100 ms, counts from many threads, and clears the line")
    func enabled() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reporter = ProgressReporter(total: 8_000_000, label: "test", enabled: true, fileDescriptor: fds[1])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 { reporter.add(bytes: 1000) }
        }
        usleep(120_000)
        reporter.add(bytes: 0)
        reporter.finish()
        close(fds[1])
        #expect(reporter.completedBytes == 8_000_000)
        let output = String(decoding: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile(),
                            as: UTF8.self)
        #expect(output.hasPrefix("\rtest  8.00 MB / 8.00 MB  100.0%"))
        #expect(output.hasSuffix("\r\u{1B}[K"))
    }
}
