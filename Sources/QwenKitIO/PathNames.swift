/// The last component of `path` (trailing slashes ignored): `a/b/model.safetensors` -> `model.safetensors`,
/// `models/Qwen2-0.5B/` -> `Qwen2-0.5B`. `path` itself when it has no component (`/`).
public func lastPathComponent(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}
