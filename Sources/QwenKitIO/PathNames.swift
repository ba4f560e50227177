#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The last component of `path` (trailing slashes ignored): `a/b/model.safetensors` -> `model.safetensors`,
/// `models/Qwen2-0.5B/` -> `Qwen2-0.5B`. `path` itself when it has no component (`/`).
public func lastPathComponent(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}

/// Whether `path` names a regular file (a symbolic link is followed).
public func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
}
