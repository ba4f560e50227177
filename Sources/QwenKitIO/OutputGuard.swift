#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The one rule that keeps an output from destroying an input: no file is both.
///
/// Every output path is claimed (`claim`) and every file opened for reading is admitted (`admit`), both here, in one
/// process-wide table keyed by what the file *is* (device, inode and change time), not by how it was spelled. So
/// `./a.gguf`, an absolute path, a hard link and a symbolic link to the same file all meet, in either order:
/// claiming an output that was read earlier fails, and so does opening an input that was claimed as an output.
/// Commands claim their outputs before they read anything; the readers in this module (`MappedFile`,
/// `FileDescriptorSource`, and through them every model, tokenizer and text input) and the writers (`openOutput`,
/// `openOutputFile`) check on their own, so a command that forgets still cannot replace its input.
///
/// Only regular files are tracked: a device or FIFO (`/dev/null`, `/dev/stdin`) may be read and written at once.
/// The change time in the key keeps a recycled inode (a file deleted and another created, in a long-lived process
/// such as the test runner) from being taken for the file it replaced.
public enum OutputGuard {
    struct Identity: Hashable {
        let device: UInt64
        let inode: UInt64
        let changeSeconds: Int
        let changeNanoseconds: Int

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            changeSeconds = Int(info.st_ctim.tv_sec)
            changeNanoseconds = Int(info.st_ctim.tv_nsec)
        }
    }

    private struct Table {
        var inputs: [Identity: String] = [:]
        var outputs: [Identity: String] = [:]
    }

    private static let table = Mutex(Table())

    /// Declares `path` an output of this process. Fails with `.outputIsInput` if it is a file already read, and from
    /// then on any attempt to read it fails. A path that does not exist yet, `-`, or a device or FIFO is accepted
    /// as it is. Claiming the same file again is harmless.
    public static func claim(_ path: String) throws(IOError) {
        guard path != "-" else { return }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return }
        let identity = Identity(info)
        let input: String? = table.withLock { table in
            if let input = table.inputs[identity] { return input }
            if table.outputs[identity] == nil { table.outputs[identity] = path }
            return nil
        }
        if let input { throw .outputIsInput(path: path, input: input) }
    }

    /// Declares the open file `descriptor`, read under the name `name`, an input. Fails with `.outputIsInput` if it
    /// is a file claimed as an output.
    public static func admit(descriptor: Int32, name: String) throws(IOError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return }
        try admit(info, name: name)
    }

    /// `admit(descriptor:name:)` for a `stat` already taken.
    static func admit(_ info: stat, name: String) throws(IOError) {
        guard info.st_mode & S_IFMT == S_IFREG else { return }
        let identity = Identity(info)
        let output: String? = table.withLock { table in
            if let output = table.outputs[identity] { return output }
            if table.inputs[identity] == nil { table.inputs[identity] = name }
            return nil
        }
        if let output { throw .outputIsInput(path: output, input: name) }
    }
}
