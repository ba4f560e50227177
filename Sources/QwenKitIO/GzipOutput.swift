import CZlib

/// Compresses everything written into one gzip member (zlib's deflate, as `gzip -6` writes; the CRC-32 and length
/// trailer included) and passes the compressed bytes to another output. `commit()` ends the member, then commits the
/// inner output; `abandon()` abandons the inner output. Slower than zstd for the same ratio: outputs named .zst are
/// the better choice when the reader can take them.
public final class GzipCompressingOutput: ByteOutput {
    public var name: String { inner.name }
    private let inner: any ByteOutput
    private var stream = z_stream()
    private let staging: UnsafeMutableRawBufferPointer
    private var finished = false

    /// - Parameter level: zlib's level, 1 (fastest) ... 9 (smallest); 6 is gzip's default.
    public init(wrapping inner: any ByteOutput, level: Int32 = 6) throws(IOError) {
        self.inner = inner
        self.staging = .allocate(byteCount: 1 << 18, alignment: 64)
        // 15 + 16: a 32 KiB window with the gzip header and trailer.
        let status = czlib_deflate_init2(&stream, level, 15 + 16)
        if status != Z_OK {
            staging.deallocate()
            throw .gzipFailed(path: inner.name, reason: "cannot start compressing (zlib status \(status))")
        }
    }

    deinit {
        deflateEnd(&stream)
        staging.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // zlib counts in 32-bit units: hand it at most 1 GiB at a time.
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(n)
            while stream.avail_in > 0 { try step(Z_NO_FLUSH) }
            offset += n
        }
    }

    public func flush() throws(IOError) {
        stream.avail_in = 0
        repeat { try step(Z_SYNC_FLUSH) } while stream.avail_out == 0
        try inner.flush()
    }

    public func commit() throws(IOError) {
        guard !finished else { return }
        stream.avail_in = 0
        do {
            while try step(Z_FINISH) != Z_STREAM_END {}
        } catch {
            abandon()
            throw error
        }
        finished = true
        try inner.commit()
    }

    public func abandon() {
        finished = true
        inner.abandon()
    }

    /// One deflate call into the staging buffer, whose output goes to the inner output.
    @discardableResult
    private func step(_ mode: Int32) throws(IOError) -> Int32 {
        stream.next_out = staging.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(staging.count)
        let status = deflate(&stream, mode)
        if status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR {
            throw .gzipFailed(path: inner.name, reason: "deflate failed (zlib status \(status))")
        }
        let produced = staging.count - Int(stream.avail_out)
        if produced > 0 { try inner.write(UnsafeRawBufferPointer(start: staging.baseAddress, count: produced)) }
        return status
    }
}
