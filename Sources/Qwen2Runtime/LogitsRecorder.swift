#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import QwenKitIO

/// Writes a logits file in the golden layout (safetensors: `tokens` I32 [n], `logits` F32 [n, vocab]) from rows
/// that arrive one position at a time. Rows go to a scratch file as they come, so memory stays at one row; `finish`
/// writes the safetensors file (itself atomically, or as a stream to a device or FIFO). The scratch file lives in
/// `$TMPDIR` (else /tmp) and is unlinked as soon as it is created, so no exit, not even SIGKILL, leaves it behind.
public final class LogitsRecorder {
    public let path: String
    public let vocabSize: Int
    public private(set) var tokens: [UInt32] = []
    private let rawPath: String
    private var fd: Int32
    /// Held while recording, so that the model being run cannot be the output.
    private let claim: OutputGuard.Identity?

    public init(path: String, vocabSize: Int) throws(RuntimeError) {
        self.path = path
        self.vocabSize = vocabSize
        do { claim = try OutputGuard.claim(path) } catch { throw .output(path: path, reason: error.description) }
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/qwenkit-logits-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        rawPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard fd >= 0 else { throw .output(path: path, reason: "cannot create a scratch file in \(directory): \(String(cString: strerror(errno)))") }
        unlink(rawPath)
    }

    deinit {
        if fd >= 0 { close(fd) }
        OutputGuard.release(output: claim)
    }

    /// Records `token` and the logits computed at its position.
    public func append(token: UInt32, logits: UnsafeBufferPointer<Float>) throws(RuntimeError) {
        precondition(logits.count == vocabSize)
        var done = 0
        let bytes = UnsafeRawBufferPointer(logits)
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .output(path: path, reason: "cannot write \(rawPath): \(String(cString: strerror(errno)))") }
            done += n
        }
        tokens.append(token)
    }

    /// Writes the safetensors file.
    public func finish(metadata: [String: String] = ["format": "qwenkit-golden-logits-v1", "form": "full"]) throws(RuntimeError) {
        let rows = tokens.count
        let raw: MappedFile?
        do { raw = rows == 0 ? nil : try MappedFile(fileDescriptor: fd, name: rawPath) } catch {
            throw .output(path: path, reason: error.description)
        }
        var meta = metadata
        meta["vocab_size"] = String(vocabSize)
        let writer = SafetensorsWriter(path: path, metadata: meta)
        do {
            try writer.addTensor(name: "tokens", dtype: .i32, shape: [rows])
            try writer.addTensor(name: "logits", dtype: .f32, shape: [rows, vocabSize])
            try writer.write { sink throws(ModelFileError) in
                if sink.info.name == "tokens" {
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(4 * rows)
                    for t in tokens { withUnsafeBytes(of: Int32(bitPattern: t).littleEndian) { bytes.append(contentsOf: $0) } }
                    try sink.write(bytes)
                } else if let raw {
                    try raw.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws(ModelFileError) in try sink.write(b) }
                }
            }
        } catch {
            throw .output(path: path, reason: "\(error)")
        }
        close(fd)
        fd = -1
    }
}
