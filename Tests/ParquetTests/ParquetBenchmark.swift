import Foundation
import Testing
import Parquet

/// The reader's speed on a real-sized file, for Fixtures/bench/bench_parquet.py; skipped unless
/// `QWENKIT_PARQUET_BENCH` names a parquet file with a string column `text` (and, for the carried pass, an INT64
/// `id` and a DOUBLE `score`). Run it in a release build:
///
///     QWENKIT_PARQUET_BENCH=/tmp/bench.parquet swift test -c release --filter ParquetBenchmark
///
/// Prints one line per pass, `parquet-bench <pass> <text bytes> <seconds> <MB/s>` (MB = 10^6 bytes of text), the
/// best of `QWENKIT_PARQUET_BENCH_REPEAT` (default 3) runs, one thread. A last pair of lines compares the snappy
/// decoder with libsnappy on the file's text cut into 1 MiB blocks (compressed by libsnappy), alternating runs.
@Suite("parquet benchmark", .enabled(if: ProcessInfo.processInfo.environment["QWENKIT_PARQUET_BENCH"] != nil))
struct ParquetBenchmark {
    let path = ProcessInfo.processInfo.environment["QWENKIT_PARQUET_BENCH"] ?? ""
    let repeats = ProcessInfo.processInfo.environment["QWENKIT_PARQUET_BENCH_REPEAT"].flatMap { Int($0) } ?? 3

    /// Reads every row; returns the text bytes and a checksum of the first and last byte of each text (so that
    /// the loop does something with the bytes it is given, as a tokenizer would).
    private func pass(carrying: [String]) throws -> (bytes: Int, checksum: UInt64) {
        let file = try ParquetFile(path: path)
        let rows = try file.rows(text: "text", carrying: carrying)
        var bytes = 0
        var checksum: UInt64 = 0
        var json: [UInt8] = []
        json.reserveCapacity(256)
        while let row = try rows.next() {
            guard let text = row.text else { continue }
            bytes += text.count
            if let first = text.first, let last = text.last { checksum &+= UInt64(first) &* 31 &+ UInt64(last) }
            if !carrying.isEmpty {
                json.removeAll(keepingCapacity: true)
                for i in carrying.indices { rows.appendCarriedJSON(i, to: &json) }
                checksum &+= UInt64(json.count)
            }
        }
        return (bytes, checksum)
    }

    @Test("text column alone, and with two carried columns rendered as JSON", arguments: [[], ["id", "score"]])
    func read(carrying: [String]) throws {
        var best = Double.infinity
        var bytes = 0
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            let result = try pass(carrying: carrying)
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = min(best, seconds)
            bytes = result.bytes
            withExtendedLifetime(result.checksum) {}
        }
        let name = carrying.isEmpty ? "text" : "text+" + carrying.joined(separator: "+")
        print("parquet-bench \(name) \(bytes) \(best) \(Double(bytes) / best / 1e6)")
    }
}
