/// Lines of a source as they arrive, for interactive input: each read takes whatever is there, so a line typed at a
/// terminal is answered as soon as it is entered. (`ChunkedReader` fills its whole buffer before it returns, which is
/// right for throughput and wrong for a conversation.) Lines are bounded: a longer one is skipped, not buffered.
public final class LineReader {
    public enum Line: Equatable {
        /// A line without its "\n" (the input's last line may have none).
        case text([UInt8])
        /// A line of more than `maxLineBytes` bytes, skipped; `bytes` is its length without the "\n".
        case overlong(bytes: Int)
    }

    public let source: any ByteSource
    public let maxLineBytes: Int
    private var pending: [UInt8] = []
    /// `pending[start...]` is unread.
    private var start = 0
    /// Bytes of an overlong line dropped so far (nil: not inside one).
    private var skipped: Int?
    private var ended = false
    private let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)

    public init(source: any ByteSource, maxLineBytes: Int) {
        self.source = source
        self.maxLineBytes = maxLineBytes
    }

    deinit { chunk.deallocate() }

    /// The next line, or nil at the end of the input.
    public func next() throws(IOError) -> Line? {
        while true {
            if let newline = pending[start...].firstIndex(of: 0x0A) {
                let line = Array(pending[start..<newline])
                start = newline + 1
                if start > pending.count / 2 {
                    pending.removeFirst(start)
                    start = 0
                }
                if let dropped = skipped {
                    skipped = nil
                    return .overlong(bytes: dropped + line.count)
                }
                if line.count > maxLineBytes { return .overlong(bytes: line.count) }
                return .text(line)
            }
            if pending.count - start > maxLineBytes {
                skipped = (skipped ?? 0) + pending.count - start
                pending.removeAll(keepingCapacity: true)
                start = 0
            }
            if ended {
                let rest = pending.count - start
                defer {
                    pending.removeAll()
                    start = 0
                    skipped = nil
                }
                if let dropped = skipped { return .overlong(bytes: dropped + rest) }
                if rest == 0 { return nil }
                return rest > maxLineBytes ? .overlong(bytes: rest) : .text(Array(pending[start...]))
            }
            let n = try source.read(into: chunk)
            if n == 0 { ended = true }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<n]))
        }
    }
}
