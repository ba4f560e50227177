#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import QwenKitIO

/// Writes a logits file in the golden layout (safetensors: `tokens` I32 [n], `logits` F32 [n, vocab]) from rows
/// that arrive one position at a time. Rows go to a temporary file beside `path` as they come, so memory stays at
/// one row; `finish` writes the safetensors file (itself atomically) and removes the temporary one.
public final class LogitsRecorder {
    public let path: String
    public let vocabSize: Int
    public private(set) var tokens: [UInt32] = []
    private let rawPath: String
    private var fd: Int32

    public init(path: String, vocabSize: Int) throws(RuntimeError) {
        self.path = path
        self.vocabSize = vocabSize
        rawPath = path + ".rows-\(getpid())"
        fd = open(rawPath, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw .output(path: path, reason: "cannot create \(rawPath): \(String(cString: strerror(errno)))") }
    }

    deinit {
        if fd >= 0 { close(fd) }
        unlink(rawPath)
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
        do { raw = rows == 0 ? nil : try MappedFile(path: rawPath) } catch {
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
        unlink(rawPath)
    }
}
