// A libFuzzer harness over the GGUF and safetensors readers, for long local runs: `make fuzz` (see the Makefile).
// It is built with swiftc outside SwiftPM, so `swift build` and `swift test` never see it; CI runs the bounded,
// seeded cases of Tests/ModelFilesTests/FuzzTests.swift instead.
//
// Each input is written to a scratch file and opened with `GGUFFile` and with `SafetensorsFile` (the readers take
// paths, and map the file). The oracle is the tests' one: opening either succeeds, and then every metadata value and
// every tensor byte is read, or it throws a ModelFileError whose description is one line naming the file. Anything
// else aborts, and libFuzzer keeps the input; a trap, an AddressSanitizer report or an allocation above
// `-malloc_limit_mb` does the same.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import QwenKitIO

private let scratch = FuzzScratch(harness: "modelfiles-fuzzer", variable: "MODELFILES_FUZZ_FILE", name: "modelfiles-fuzz", suffix: "bin")

/// Opens the scratch file with `open`; a success must have been fully readable, a failure must be a good error.
private func check(_ reader: String, _ open: (String) throws(ModelFileError) -> Void) {
    do throws(ModelFileError) {
        try open(scratch.path)
    } catch {
        let message = error.description
        guard error.path == scratch.path, message.contains(scratch.path) else {
            scratch.fail("\(reader): the error does not name the file: \(message)")
        }
        guard !message.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            scratch.fail("\(reader): the error is not one line: \(message)")
        }
    }
}

/// Reads every metadata value (each array element and string) and every tensor byte of a GGUF file.
private func readGGUF(_ path: String) throws(ModelFileError) {
    let file = try GGUFFile(path: path)
    var sum = 0
    for kv in file.metadata {
        if case .array(let array) = kv.value {
            for i in 0..<array.count { sum &+= array.value(at: i) == .bool(true) ? 1 : 0 }
            array.forEachString { _, bytes in sum &+= bytes.reduce(0) { $0 &+ Int($1) } }
        }
        guard file[kv.key] != nil else { scratch.fail("GGUF: key \(kv.key) cannot be looked up") }
    }
    for info in file.tensors {
        let data = file.data(of: info)
        guard data.count == info.byteCount, file.tensor(named: info.name) != nil else {
            scratch.fail("GGUF: tensor \(info.name) has \(data.count) bytes, expected \(info.byteCount)")
        }
        sum &+= data.reduce(0) { $0 &+ Int($1) }
    }
    withExtendedLifetime(sum) {}
}

/// Reads every metadata value and every tensor byte of a safetensors file.
private func readSafetensors(_ path: String) throws(ModelFileError) {
    let file = try SafetensorsFile(path: path)
    var sum = file.metadata.reduce(0) { $0 &+ $1.key.utf8.count &+ $1.value.utf8.count }
    for info in file.tensors {
        let data = file.data(of: info)
        guard data.count == info.elementCount * info.dtype.size, file[info.name] != nil else {
            scratch.fail("safetensors: tensor \(info.name) has \(data.count) bytes for \(info.elementCount) elements")
        }
        sum &+= data.reduce(0) { $0 &+ Int($1) }
    }
    withExtendedLifetime(sum) {}
}

/// Called once by libFuzzer before the first input: the scratch file is removed when the process exits normally.
@_cdecl("LLVMFuzzerInitialize")
public func modelFilesFuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    atexit { unlink(scratch.path) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func modelFilesFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.store(UnsafeRawBufferPointer(start: data, count: size))
    check("GGUF", readGGUF)
    check("safetensors", readSafetensors)
    return 0
}
