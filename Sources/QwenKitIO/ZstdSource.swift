import CZstd

/// Decompresses a zstd stream read from another source, on the fly.
///
/// Accepts everything `zstd -d` accepts: several concatenated frames (e.g. `cat a.zst b.zst`), skippable frames,
/// checksummed frames (the checksum is verified). Fails with `.truncatedZstd` if the input ends inside a frame
/// (or is empty, as `zstd -d` does) and with `.corruptZstd` on anything that is not zstd data.
///
/// Decompressed bytes go straight into the caller's buffer; the only copy is compressed input into `input`.
public final class ZstdDecompressingSource: ByteSource {
    public var name: String { inner.name }
    public var inputPosition: Int64 { inner.inputPosition }
    public var inputSize: Int64? { inner.inputSize }

    private let inner: any ByteSource
    private let context: OpaquePointer
    private let input: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var innerEnded = false
    /// True from the first byte of a frame until libzstd reports the frame complete and flushed.
    private var insideFrame = false
    private var compressedConsumed: Int64 = 0
    private var decoded: Int64 = 0
    private var sawAnyInput = false

    public init(wrapping inner: any ByteSource) throws(IOError) {
        guard let context = ZSTD_createDCtx() else {
            throw .zstdFailed(path: inner.name, reason: "cannot allocate a decompression context")
        }
        self.inner = inner
        self.context = context
        // ZSTD_DStreamInSize() is one block (128 KiB); a larger buffer halves the read(2) calls and costs nothing.
        self.input = .allocate(byteCount: max(ZSTD_DStreamInSize(), 1 << 20), alignment: 64)
    }

    deinit {
        ZSTD_freeDCtx(context)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var output = ZSTD_outBuffer(dst: base, size: buffer.count, pos: 0)
        while output.pos == 0 {
            if inputStart == inputEnd && !innerEnded {
                let n = try inner.read(into: input)
                if n == 0 {
                    innerEnded = true
                } else {
                    inputStart = 0
                    inputEnd = n
                    sawAnyInput = true
                }
            }
            if inputStart == inputEnd && innerEnded {
                if !sawAnyInput {
                    throw .truncatedZstd(path: name, compressedBytes: 0, decodedBytes: 0)
                }
                if !insideFrame { return 0 }
                // No more input, but the last call may have stopped because the caller's buffer was full:
                // one more call with empty input drains what libzstd still holds.
                var empty = ZSTD_inBuffer(src: input.baseAddress, size: 0, pos: 0)
                let result = ZSTD_decompressStream(context, &output, &empty)
                if ZSTD_isError(result) != 0 { throw corrupt(result) }
                insideFrame = result != 0
                if output.pos > 0 { break }
                throw .truncatedZstd(path: name, compressedBytes: compressedConsumed, decodedBytes: decoded)
            }
            var source = ZSTD_inBuffer(src: input.baseAddress! + inputStart, size: inputEnd - inputStart, pos: 0)
            let result = ZSTD_decompressStream(context, &output, &source)
            inputStart += source.pos
            compressedConsumed += Int64(source.pos)
            if ZSTD_isError(result) != 0 { throw corrupt(result) }
            insideFrame = result != 0
        }
        decoded += Int64(output.pos)
        return output.pos
    }

    private func corrupt(_ code: Int) -> IOError {
        let reason = String(cString: ZSTD_getErrorName(code))
        return .corruptZstd(path: name, offset: compressedConsumed, reason: reason)
    }
}
