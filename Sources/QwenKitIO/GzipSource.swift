import CZlib

/// Decompresses a gzip stream read from another source, on the fly (zlib's `inflate`).
///
/// Accepts what `gzip -d` accepts: several concatenated members (e.g. `cat a.gz b.gz`), empty members, the optional
/// header fields (name, comment, extra, header CRC). zlib checks each member's CRC-32 and length. Fails with
/// `.truncatedGzip` if the input ends inside a member (or is empty, as `gzip -d` does) and with `.corruptGzip` on
/// anything that is not gzip data, trailing garbage after the last member included (`gzip -d` warns about it and
/// exits with status 2; zstd's trailing garbage is an error here too). A zlib stream (no gzip header) is not
/// accepted: `gzip -d` does not accept it either.
///
/// Memory is bounded: one fixed input buffer and zlib's 32 KiB window. Decompressed bytes go straight into the
/// caller's buffer.
public final class GzipDecompressingSource: ByteSource {
    public var name: String { inner.name }
    public var inputPosition: Int64 { inner.inputPosition }
    public var inputSize: Int64? { inner.inputSize }

    /// zlib's windowBits for "a gzip wrapper only, the largest window" (15 + 16).
    private static let gzipWindowBits: Int32 = 31
    /// Compressed bytes read from `inner` per call.
    private static let inputCapacity = 1 << 20

    private let inner: any ByteSource
    /// zlib keeps a pointer back to the stream and checks it on every call, so the stream must not move: allocated.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var innerEnded = false
    /// True from the first byte of a member until zlib reports its trailer checked.
    private var insideMember = false
    private var compressedConsumed: Int64 = 0
    private var decoded: Int64 = 0
    private var sawAnyInput = false

    public init(wrapping inner: any ByteSource) throws(IOError) {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())  // zalloc, zfree, opaque nil: zlib's own allocator
        let status = czlib_inflate_init2(stream, Self.gzipWindowBits)
        if status != Z_OK {
            stream.deallocate()
            throw .gzipFailed(path: inner.name, reason: "cannot start a decompression stream (zlib status \(status))")
        }
        self.inner = inner
        self.stream = stream
        self.input = .allocate(byteCount: Self.inputCapacity, alignment: 64)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        // avail_out is a 32-bit count.
        let capacity = min(buffer.count, 1 << 30)
        stream.pointee.next_out = base.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(capacity)
        while true {
            if stream.pointee.avail_in == 0 && !innerEnded {
                let n = try inner.read(into: input)
                if n == 0 {
                    innerEnded = true
                } else {
                    stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    stream.pointee.avail_in = UInt32(n)
                    sawAnyInput = true
                }
            }
            let noInput = stream.pointee.avail_in == 0 && innerEnded
            if noInput {
                if !sawAnyInput { throw .truncatedGzip(path: name, compressedBytes: 0, decodedBytes: 0) }
                if !insideMember { return 0 }
                // Inside a member with no input left: the last call may have stopped because the caller's buffer was
                // full, so one more call drains what zlib still holds; if it makes no output, the member is cut.
            }
            insideMember = true
            let availableBefore = stream.pointee.avail_in
            let status = inflate(stream, Z_NO_FLUSH)
            compressedConsumed += Int64(availableBefore - stream.pointee.avail_in)
            let produced = capacity - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END:
                // The member's trailer (CRC-32, length) checked; the next byte, if any, starts another member.
                insideMember = false
                inflateReset(stream)
            case Z_OK, Z_BUF_ERROR:  // Z_BUF_ERROR: no progress possible without more input
                if noInput && produced == 0 {
                    throw .truncatedGzip(path: name, compressedBytes: compressedConsumed, decodedBytes: decoded)
                }
            case Z_MEM_ERROR:
                throw .gzipFailed(path: name, reason: "out of memory")
            default:  // Z_DATA_ERROR (bad header, bad block, bad check), Z_NEED_DICT, Z_STREAM_ERROR
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw .corruptGzip(path: name, offset: compressedConsumed, reason: reason)
            }
            if produced > 0 {
                decoded += Int64(produced)
                return produced
            }
        }
    }
}
