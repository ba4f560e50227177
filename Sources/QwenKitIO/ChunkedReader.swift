#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a source in large chunks that end where the stream can be cut: after the last delimiter byte (a
/// newline, by default) in the chunk, or, in a line longer than the buffer, at the last UTF-8 scalar boundary.
/// The bytes after the cut are carried over to the front of the next chunk, so every input byte is returned
/// exactly once, in order, and no chunk but the last ends inside a character.
///
/// The last chunk ends wherever the input ends (with any incomplete sequence in it, for the caller's
/// validation to report).
public final class ChunkedReader {
    public let source: any ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    /// Bytes `0..<dataEnd` of `buffer` hold input; `chunkEnd..<dataEnd` is the carry-over.
    private var dataEnd = 0
    private var chunkEnd = 0
    private var ended = false

    /// - Parameter capacity: the buffer size; chunks are at most this long (at least 64 bytes is enforced).
    public init(source: any ByteSource, capacity: Int = 4 << 20) {
        self.source = source
        self.buffer = .allocate(byteCount: max(capacity, 64), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// The next chunk, or nil after the last one. The buffer stays valid until the next call.
    /// - Parameter delimiter: cut after the last occurrence of this byte; nil cuts only at UTF-8 boundaries.
    public func next(splittingAfter delimiter: UInt8? = 0x0A) throws(IOError) -> UnsafeRawBufferPointer? {
        let base = buffer.baseAddress!
        if chunkEnd > 0 {
            let carry = dataEnd - chunkEnd
            if carry > 0 { memmove(base, base + chunkEnd, carry) }
            dataEnd = carry
            chunkEnd = 0
        }
        while dataEnd < buffer.count && !ended {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[dataEnd...]))
            if n == 0 { ended = true }
            dataEnd += n
        }
        if dataEnd == 0 { return nil }
        let data = UnsafeRawBufferPointer(start: base, count: dataEnd)
        var cut = dataEnd
        if !ended {
            cut = 0
            if let delimiter {
                var i = dataEnd
                while i > 0 {
                    i -= 1
                    if data[i] == delimiter {
                        cut = i + 1
                        break
                    }
                }
            }
            if cut == 0 { cut = UTF8Validation.lastCompleteBoundary(data) }
        }
        chunkEnd = cut
        return UnsafeRawBufferPointer(start: base, count: cut)
    }
}
