#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A nameless file for data too large to keep in memory and needed again later in the same run (a dataset index's
/// per-document lengths, written as documents arrive and read back when the index is written at the end).
///
/// It is created in a given directory (beside the output it serves, so on the same file system and under the same
/// quota) and unlinked at once: no name is left behind by any exit, an interrupt included. The moment between
/// creating and unlinking it is covered by `TemporaryFiles`. Write with `write`, then `rewind()` and read it whole as
/// a `ByteSource`. Not thread-safe.
public final class ScratchFile: ByteOutput {
    public let name: String
    private let fd: Int32

    /// Creates the file in `directory` ("" is the current directory); `purpose` names it in errors.
    public init(directory: String, purpose: String) throws(IOError) {
        let prefix = directory.isEmpty ? "" : (directory.hasSuffix("/") ? directory : directory + "/")
        let created = try TemporaryFiles.createUnique(prefix: "\(prefix).qwenkit-scratch-", flags: O_RDWR, mode: 0o600, output: purpose)
        _ = created.path.withCString { unlink($0) }
        created.registration.withdraw()
        fd = created.fd
        name = purpose
    }

    deinit { _ = systemClose(fd) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        try writeAll(fd, bytes, name: name)
    }

    public func flush() throws(IOError) {}
    public func commit() throws(IOError) {}
    public func abandon() {}

    /// Everything written so far, from the start, as a source. Write nothing after this (the source shares the
    /// file's offset).
    public func rewind() throws(IOError) -> any ByteSource {
        if lseek(fd, 0, SEEK_SET) < 0 { throw .readFailed(path: name, errno: errno) }
        let copy = dup(fd)
        if copy < 0 { throw .readFailed(path: name, errno: errno) }
        do {
            return try FileDescriptorSource(fileDescriptor: copy, name: name, ownsDescriptor: true)
        } catch {
            _ = systemClose(copy)
            throw error
        }
    }
}
