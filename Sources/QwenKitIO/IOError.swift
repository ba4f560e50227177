#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every failure of QwenKitIO: each case names the file or stream it happened on (`path`: a path as the user
/// typed it, or `<stdin>` / `<stdout>`), and `description` is one line the user can act on, e.g.
/// `corpus.txt.zst: truncated zstd stream (input ended inside a frame after 1048576 bytes; 4194304 bytes decoded)`.
///
/// System-call failures keep the raw `errno` so callers can match on it (`ENOENT`, `ENOSPC`); the message text
/// comes from `strerror` only when the description is built.
public enum IOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` or `stat(2)` of an input (or an existing output target) failed.
    case cannotOpen(path: String, errno: Int32)
    /// A directory was given where a file was expected.
    case isDirectory(path: String)
    /// The path exists but is not something this operation can use (a FIFO or device for `MappedFile`).
    case notRegularFile(path: String)
    /// `read(2)` failed.
    case readFailed(path: String, errno: Int32)
    /// `write(2)` failed (`ENOSPC`, `EIO`, ...). EPIPE is reported as `.brokenPipe` instead.
    case writeFailed(path: String, errno: Int32)
    /// The reader of a pipe went away (`write(2)` returned EPIPE). The CLI exits quietly on this one.
    case brokenPipe(path: String)
    /// The temporary file next to an output could not be created.
    case cannotCreateOutput(path: String, temporaryPath: String, errno: Int32)
    /// Closing or renaming a finished output into place failed; the final path was left untouched.
    case cannotCommitOutput(path: String, errno: Int32)
    /// The input ended inside a zstd frame.
    case truncatedZstd(path: String, compressedBytes: Int64, decodedBytes: Int64)
    /// The input is not a zstd stream, or is corrupt (bad magic, bad checksum, ...). `offset` is the number of
    /// compressed bytes consumed before the error was noticed.
    case corruptZstd(path: String, offset: Int64, reason: String)
    /// libzstd refused an operation that does not depend on the data (allocation, bad parameter).
    case zstdFailed(path: String, reason: String)
    /// The input ended inside a gzip member.
    case truncatedGzip(path: String, compressedBytes: Int64, decodedBytes: Int64)
    /// The input is not a gzip stream, or is corrupt (bad magic, bad block, CRC-32 or length mismatch, trailing
    /// garbage); `reason` is zlib's message, `offset` the number of compressed bytes consumed when it was noticed.
    case corruptGzip(path: String, offset: Int64, reason: String)
    /// zlib refused an operation that does not depend on the data (allocation).
    case gzipFailed(path: String, reason: String)
    /// `mmap(2)` failed.
    case cannotMap(path: String, errno: Int32)
    /// The file was to be read into memory (`FileResidency.loaded`) but is larger than the machine's memory.
    case exceedsMemory(path: String, bytes: Int, physical: Int)
    /// The input is not valid UTF-8; `offset` is the first byte of the first ill-formed sequence (as Python's
    /// `UnicodeDecodeError.start`).
    case invalidUTF8(path: String, offset: Int64)
    /// An input is larger than the caller's stated limit (`readToEnd(limit:)`).
    case tooLarge(path: String, limit: Int)
    /// The output `path` is the same file as the input `input` (however either was spelled): writing it would
    /// destroy the input. See `OutputGuard`.
    case outputIsInput(path: String, input: String)
    /// The output is a socket, which cannot be opened as a file.
    case socketOutput(path: String)

    /// The file or stream the error is about.
    public var path: String {
        switch self {
        case .cannotOpen(let path, _), .isDirectory(let path), .notRegularFile(let path),
             .readFailed(let path, _), .writeFailed(let path, _), .brokenPipe(let path),
             .cannotCreateOutput(let path, _, _), .cannotCommitOutput(let path, _),
             .truncatedZstd(let path, _, _), .corruptZstd(let path, _, _), .zstdFailed(let path, _),
             .truncatedGzip(let path, _, _), .corruptGzip(let path, _, _), .gzipFailed(let path, _),
             .cannotMap(let path, _), .exceedsMemory(let path, _, _), .invalidUTF8(let path, _), .tooLarge(let path, _),
             .outputIsInput(let path, _), .socketOutput(let path):
            return path
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code):
            return "\(path): cannot open: \(IOError.message(code))"
        case .isDirectory(let path):
            return "\(path): is a directory, expected a file"
        case .notRegularFile(let path):
            return "\(path): not a regular file (a pipe or device cannot be used here)"
        case .readFailed(let path, let code):
            return "\(path): cannot read: \(IOError.message(code))"
        case .writeFailed(let path, let code):
            return "\(path): cannot write: \(IOError.message(code))"
        case .brokenPipe(let path):
            return "\(path): broken pipe (the reading end was closed)"
        case .cannotCreateOutput(let path, let temporaryPath, let code):
            return "\(path): cannot create output file \(temporaryPath): \(IOError.message(code))"
        case .cannotCommitOutput(let path, let code):
            return "\(path): cannot finish output file: \(IOError.message(code))"
        case .truncatedZstd(let path, let compressed, let decoded):
            if compressed == 0 {
                return "\(path): truncated zstd stream (the input is empty)"
            }
            return "\(path): truncated zstd stream (input ended inside a frame after \(compressed) bytes; "
                + "\(decoded) bytes decoded)"
        case .corruptZstd(let path, let offset, let reason):
            return "\(path): not a valid zstd stream: \(reason) (near compressed byte \(offset))"
        case .zstdFailed(let path, let reason):
            return "\(path): zstd failed: \(reason)"
        case .truncatedGzip(let path, let compressed, let decoded):
            if compressed == 0 {
                return "\(path): truncated gzip stream (the input is empty)"
            }
            return "\(path): truncated gzip stream (input ended inside a member after \(compressed) bytes; "
                + "\(decoded) bytes decoded)"
        case .corruptGzip(let path, let offset, let reason):
            return "\(path): not a valid gzip stream: \(reason) (near compressed byte \(offset))"
        case .gzipFailed(let path, let reason):
            return "\(path): gzip failed: \(reason)"
        case .cannotMap(let path, let code):
            return "\(path): cannot memory-map: \(IOError.message(code))"
        case .exceedsMemory(let path, let bytes, let physical):
            return "\(path): cannot read it into memory (--no-mmap): its \(bytes) bytes are more than this machine's "
                + "\(physical) bytes of memory; map it instead"
        case .invalidUTF8(let path, let offset):
            return "\(path): invalid UTF-8 at byte \(offset)"
        case .tooLarge(let path, let limit):
            return "\(path): larger than the limit of \(limit) bytes"
        case .outputIsInput(let path, let input):
            return "\(path): the output is the same file as the input \(input); write to another path "
                + "(and move it over the input afterwards)"
        case .socketOutput(let path):
            return "\(path): is a socket; an output must be a file, a pipe or a device"
        }
    }

    /// `strerror` text for an errno value (glibc's table is static and safe to read from any thread).
    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
