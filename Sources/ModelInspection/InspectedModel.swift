#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import QwenKitIO

/// Any model `inspect` can open, with its tensors in one uniform list. Opening reads headers only (a 1 GB file's
/// summary touches a few kilobytes); tensor bytes are views into the memory-mapped files, valid while this lives.
public final class InspectedModel: @unchecked Sendable {
    public enum Source: Sendable {
        case gguf(GGUFFile)
        case safetensors(SafetensorsFile)
        case sharded(SafetensorsIndex)
        case hfDirectory(HFModelDirectory)
    }

    /// The element encoding of a tensor.
    public enum ElementType: Sendable, Equatable {
        case ggml(GGMLType)
        case safetensors(SafetensorsDType)

        public var name: String {
            switch self {
            case .ggml(let t): return t.name
            case .safetensors(let d): return d.rawValue
            }
        }
    }

    /// One tensor of any source. `@unchecked Sendable`: `data` views read-only mapped memory.
    public struct Tensor: @unchecked Sendable {
        public let name: String
        public let type: ElementType
        /// As the format stores it: GGUF dims innermost first (`ne`), safetensors shape outermost first.
        public let shape: [Int]
        public let elementCount: Int
        public let byteCount: Int
        /// Offset of the first byte in its file.
        public let fileOffset: Int
        /// The shard holding it (file name only), for sharded weights; nil otherwise.
        public let shard: String?
        /// The bytes; valid while the `InspectedModel` lives.
        public let data: UnsafeRawBufferPointer
    }

    public let path: String
    public let source: Source
    public let tensors: [Tensor]

    /// Opens `path`: a directory is an HF model directory; a file starting with "GGUF" is GGUF; a file named
    /// `*.index.json` is a sharded safetensors index; anything else is read as safetensors.
    public init(path: String) throws(ModelFileError) {
        self.path = path
        if HFModelDirectory.isDirectory(path) {
            source = .hfDirectory(try HFModelDirectory(path: path))
        } else if path.hasSuffix(".index.json") {
            source = .sharded(try SafetensorsIndex(path: path))
        } else if try GGUFFile.startsWithMagic(path) {
            source = .gguf(try GGUFFile(path: path))
        } else {
            source = .safetensors(try SafetensorsFile(path: path))
        }
        switch source {
        case .gguf(let f):
            tensors = f.tensors.map { info in
                Tensor(name: info.name, type: .ggml(info.type), shape: info.dims, elementCount: info.elementCount,
                       byteCount: info.byteCount, fileOffset: f.dataStart + info.offset, shard: nil, data: f.data(of: info))
            }
        case .safetensors(let f):
            tensors = Self.tensors(of: .single(f), sharded: false)
        case .sharded(let index):
            tensors = Self.tensors(of: .sharded(index), sharded: true)
        case .hfDirectory(let dir):
            tensors = Self.tensors(of: dir.weights, sharded: dir.weights.isSharded)
        }
    }

    /// "GGUF", "safetensors", "safetensors (sharded)" or "HF model directory".
    public var formatName: String {
        switch source {
        case .gguf: return "GGUF"
        case .safetensors: return "safetensors"
        case .sharded: return "safetensors (sharded)"
        case .hfDirectory: return "HF model directory"
        }
    }

    /// Every data file's size in bytes, summed.
    public var totalFileSize: Int {
        switch source {
        case .gguf(let f): return f.fileSize
        case .safetensors(let f): return f.fileSize
        case .sharded(let i): return i.shards.reduce(0) { $0 + $1.fileSize }
        case .hfDirectory(let d): return d.weights.files.reduce(0) { $0 + $1.fileSize }
        }
    }

    private static func tensors(of weights: HFModelDirectory.Weights, sharded: Bool) -> [Tensor] {
        weights.files.flatMap { file in
            file.tensors.map { info in
                Tensor(name: info.name, type: .safetensors(info.dtype), shape: info.shape,
                       elementCount: info.elementCount, byteCount: info.byteCount,
                       fileOffset: file.dataStart + info.dataOffsets.lowerBound,
                       shard: sharded ? lastPathComponent(file.path) : nil, data: file.data(of: info))
            }
        }
    }
}


/// Shell-style glob match (`*`, `?`, `[...]`), as the shell matches file names; `*` also crosses dots.
public func globMatches(_ pattern: String, _ name: String) -> Bool {
    fnmatch(pattern, name, 0) == 0
}
