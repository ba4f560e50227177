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
/// claiming an output that is being read fails, and so does opening an input that is claimed as an output.
///
/// The CLI claims a command's outputs before it reads anything, for the whole process, so an input read and closed
/// early (config.json) is protected too. The readers in this module (`MappedFile`, `FileDescriptorSource`, and
/// through them every model, tokenizer and text input) admit while they are open, and the writers (`openOutput`,
/// `openOutputFile`, `AtomicOutputFile`) claim while they write, so library code is covered as well, and a
/// long-lived process (the test runner) may rewrite a file it read earlier once the reader is gone.
///
/// Only regular files are tracked: a device or FIFO (`/dev/null`, `/dev/stdin`) may be read and written at once.
/// The change time in the key keeps a recycled inode (a file deleted and another created) from being taken for the
/// file it replaced.
public enum OutputGuard {
    /// What a file is, independent of its names.
    public struct Identity: Hashable, Sendable {
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

    private struct Entry {
        var name: String
        var holders: Int
    }

    private struct Table {
        var inputs: [Identity: Entry] = [:]
        var outputs: [Identity: Entry] = [:]
    }

    private static let table = Mutex(Table())

    /// Declares `path` an output of this process. Fails with `.outputIsInput` if it is a file being read; from then
    /// on, until `release(output:)`, any attempt to read it fails. A path that does not exist yet, `-`, or a device
    /// or FIFO is accepted as it is (nil). Claiming the same file again is harmless.
    @discardableResult
    public static func claim(_ path: String) throws(IOError) -> Identity? {
        guard path != "-" else { return nil }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let identity = Identity(info)
        if let input = enter(identity, name: path, as: \.outputs, unless: \.inputs) {
            throw .outputIsInput(path: path, input: input)
        }
        return identity
    }

    /// Ends one claim of `output` (the output was written or abandoned).
    public static func release(output identity: Identity?) { leave(identity, from: \.outputs) }

    /// Declares the open file `descriptor`, read under the name `name`, an input until `release(input:)`. Fails with
    /// `.outputIsInput` if it is a file claimed as an output.
    public static func admit(descriptor: Int32, name: String) throws(IOError) -> Identity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return try admit(info, name: name)
    }

    /// `admit(descriptor:name:)` for a `stat` already taken.
    static func admit(_ info: stat, name: String) throws(IOError) -> Identity? {
        guard info.st_mode & S_IFMT == S_IFREG else { return nil }
        let identity = Identity(info)
        if let output = enter(identity, name: name, as: \.inputs, unless: \.outputs) {
            throw .outputIsInput(path: output, input: name)
        }
        return identity
    }

    /// Ends one admission of an input (its reader closed it).
    public static func release(input identity: Identity?) { leave(identity, from: \.inputs) }

    /// Adds a holder of `identity` on `side`, unless the file is on the `other` side: then returns the name it has there.
    private static func enter(_ identity: Identity, name: String, as side: WritableKeyPath<Table, [Identity: Entry]> & Sendable,
                              unless other: KeyPath<Table, [Identity: Entry]> & Sendable) -> String? {
        table.withLock { table in
            if let conflict = table[keyPath: other][identity] { return conflict.name }
            table[keyPath: side][identity, default: Entry(name: name, holders: 0)].holders += 1
            return nil
        }
    }

    /// Removes one holder of `identity` from `side`.
    private static func leave(_ identity: Identity?, from side: WritableKeyPath<Table, [Identity: Entry]> & Sendable) {
        guard let identity else { return }
        table.withLock { table in
            guard let holders = table[keyPath: side][identity]?.holders else { return }
            table[keyPath: side][identity] = holders > 1 ? Entry(name: table[keyPath: side][identity]!.name, holders: holders - 1) : nil
        }
    }
}
