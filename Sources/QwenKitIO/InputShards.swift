#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--shard K/N`: the K-th of N parts of a list of inputs, without reading them first.
///
/// The inputs' bytes, in order, are one range of T bytes; shard K covers [K·T/N, (K+1)·T/N). A record (a line) belongs
/// to the shard whose range holds its first byte, as Hadoop's input splits do: a shard that starts inside a file skips
/// to just after the first newline at or past its start - 1, and it goes on past its end to finish the record that
/// holds its last byte. So shards 0..N-1 together hold every record exactly once, in order, and a shard finds its
/// records by reading only its own bytes (and one record beyond). An input that cannot be split (compressed, or one
/// document per file) is a single record starting at its first byte.
public enum InputShards {
    /// One input's part in a shard.
    public enum Part: Equatable, Sendable {
        /// The whole input.
        case whole
        /// The records whose first byte lies in [begin, end) of the file.
        case records(begin: Int64, end: Int64)
    }

    public struct Input: Sendable {
        public let path: String
        public let size: Int64
        /// Records are lines and the file can be read from any offset.
        public let splittable: Bool
        public init(path: String, size: Int64, splittable: Bool) {
            self.path = path
            self.size = size
            self.splittable = splittable
        }
    }

    /// The inputs of shard `k` of `n` (0-based), each with its part, in input order; inputs with nothing in the
    /// shard are left out.
    public static func plan(_ inputs: [Input], shard k: Int, of n: Int) -> [(input: Int, part: Part)] {
        precondition(n >= 1 && k >= 0 && k < n)
        let total = inputs.reduce(Int64(0)) { $0 + $1.size }
        let lo = boundExact(total, k, n)
        let hi = boundExact(total, k + 1, n)
        var result: [(Int, Part)] = []
        var start: Int64 = 0
        for (i, input) in inputs.enumerated() {
            defer { start += input.size }
            let end = start + input.size
            if !input.splittable || input.size == 0 {
                // One record at the file's first byte; an empty file at the very end belongs to the last shard.
                if (start >= lo && start < hi) || (k == n - 1 && start == total) { result.append((i, .whole)) }
                continue
            }
            let begin = max(lo, start), stop = min(hi, end)
            guard begin < stop else { continue }
            if begin == start && stop == end { result.append((i, .whole)) } else {
                result.append((i, .records(begin: begin - start, end: stop - start)))
            }
        }
        return result
    }

    /// ⌊total·j/n⌋ without overflow for any file sizes.
    static func boundExact(_ total: Int64, _ j: Int, _ n: Int) -> Int64 {
        let (high, low) = total.multipliedFullWidth(by: Int64(j))
        return Int64(n).dividingFullWidth((high, low)).quotient
    }
}

/// The records of a file whose first byte lies in [begin, end), read with pread(2): from just after the first newline
/// at or after begin - 1 (or from 0), through the newline that ends the record holding byte end - 1.
public final class RecordRangeSource: ByteSource {
    public private(set) var name: String = ""
    public let path: String
    public private(set) var inputPosition: Int64 = 0
    public let inputSize: Int64?
    /// The file offset of the first byte delivered.
    public private(set) var startOffset: Int64 = 0
    /// The open file (its descriptor read with pread; its place among the inputs OutputGuard protects).
    private let file: FileDescriptorSource
    private let end: Int64
    private var position: Int64 = 0
    private var done = false

    /// Errors call this part "PATH (LABEL, lines counted from byte B)", B being the first byte delivered: line
    /// numbers in messages count from there.
    public init(path: String, begin: Int64, end: Int64, label: String) throws(IOError) {
        file = try FileDescriptorSource(path: path)
        self.path = path
        self.end = end
        self.inputSize = end - begin
        if begin > 0 {
            // Skip the record that began before `begin`: start after the first newline at or past begin - 1.
            var at = begin - 1
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
            defer { scratch.deallocate() }
            var found = false
            while !found {
                let n = try readAt(at, scratch)
                if n == 0 { break }
                if let nl = scratch[..<n].firstIndex(of: 0x0A) {
                    at += Int64(nl) + 1
                    found = true
                } else {
                    at += Int64(n)
                }
            }
            position = at
            if !found || at >= end { done = true }
        }
        startOffset = position
        name = "\(path) (\(label), lines counted from byte \(position))"
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        guard !done, buffer.count > 0 else { return 0 }
        var n = try readAt(position, buffer)
        if n == 0 {
            done = true
            return 0
        }
        // Past byte end - 1, the delivery stops after the next newline.
        let firstRelevant = max(end - 1 - position, 0)
        if firstRelevant < Int64(n), let nl = buffer[Int(firstRelevant)..<n].firstIndex(of: 0x0A) {
            n = nl + 1
            done = true
        }
        position += Int64(n)
        inputPosition = min(position - startOffset, inputSize ?? 0)
        return n
    }

    private func readAt(_ offset: Int64, _ buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        while true {
            let n = pread(file.fileDescriptor, buffer.baseAddress, min(buffer.count, 1 << 30), off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .readFailed(path: path, errno: errno)
        }
    }
}
