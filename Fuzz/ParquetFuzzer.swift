// A libFuzzer harness over the parquet reader, for long local runs: `make fuzz-parquet` (see the Makefile). It is
// built with swiftc outside SwiftPM, so `swift build` and `swift test` never see it; CI runs the bounded, seeded
// cases of Tests/ParquetTests/FuzzTests.swift instead.
//
// Each input is written to a scratch file (the reader maps a path) and read the way FuzzTests reads: every flat
// string or binary column as the text column, the other flat columns carried and rendered as JSON. The oracle is the
// tests' one: reading succeeds, or throws a ParquetError whose description is one line naming the file. Anything
// else aborts, and libFuzzer keeps the input; a trap, an AddressSanitizer report or an allocation above
// `-malloc_limit_mb` does the same. The limits are lowered (1 MiB footers, 4 MiB pages) so that a header claiming a
// huge page costs little.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Parquet
import QwenKitIO

private let scratch = FuzzScratch(harness: "parquet-fuzzer", variable: "PARQUET_FUZZ_FILE", name: "parquet-fuzz", suffix: "parquet")

private let limits = ParquetLimits(maximumFooterBytes: 1 << 20, maximumPageBytes: 4 << 20)

/// Reads every value of every flat column (FuzzTests.readEverything's loop).
private func readEverything(_ path: String) throws(ParquetError) -> Int {
    let file = try ParquetFile(path: path, limits: limits)
    let flat = file.columns.filter(\.isFlat)
    let texts = flat.filter { $0.physicalType == .byteArray }
    let carried = flat.filter { [.boolean, .int32, .int64, .float, .double].contains($0.physicalType) || $0.isString }
    var sum = 0
    var json: [UInt8] = []
    for (i, text) in texts.enumerated() {
        let rows = try file.rows(text: text.name, carrying: i == 0 ? carried.map(\.name) : [])
        while let row = try rows.next() {
            sum &+= row.index &+ (row.text?.reduce(0) { $0 &+ Int($1) } ?? 0)
            json.removeAll(keepingCapacity: true)
            for c in rows.carriedColumns.indices { rows.appendCarriedJSON(c, to: &json) }
            sum &+= json.count
        }
    }
    return sum
}

@_cdecl("LLVMFuzzerInitialize")
public func parquetFuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                                    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    atexit { unlink(scratch.path) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func parquetFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.store(UnsafeRawBufferPointer(start: data, count: size))
    do throws(ParquetError) {
        withExtendedLifetime(try readEverything(scratch.path)) {}
    } catch {
        let message = error.description
        guard error.path == scratch.path, message.hasPrefix(scratch.path + ": ") else {
            scratch.fail("the error does not name the file: \(message)")
        }
        guard !message.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            scratch.fail("the error is not one line: \(message)")
        }
    }
    return 0
}
