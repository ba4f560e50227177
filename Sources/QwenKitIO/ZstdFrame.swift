// One-shot zstd for data already in memory (the embedded tokenizer, compiled tokenizers): one pass
// into a buffer sized from the frame header, no intermediate copies. Streams and files go through
// ZstdDecompressingSource and ZstdCompressingOutput instead.

import CZstd

public enum ZstdFrame {
    /// Decompresses a complete zstd stream (one or more frames). `limit` caps the output size so a
    /// hostile frame header cannot make us allocate without bound.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int = 1 << 31, name: String = "<zstd data>") throws(IOError) -> [UInt8] {
        guard let dctx = ZSTD_createDCtx() else { throw .zstdFailed(path: name, reason: "cannot create a zstd context") }
        defer { ZSTD_freeDCtx(dctx) }
        var output: [UInt8] = []
        let known = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        if known != ZSTD_CONTENTSIZE_UNKNOWN && known != ZSTD_CONTENTSIZE_ERROR && known <= UInt64(limit)
            && ZSTD_findFrameCompressedSize(input.baseAddress, input.count) == input.count {
            // A single frame that states its size: decode straight into the result, no window buffer.
            var status = 0
            let result = [UInt8](unsafeUninitializedCapacity: Int(known)) { buffer, count in
                status = ZSTD_decompressDCtx(dctx, buffer.baseAddress, buffer.count, input.baseAddress, input.count)
                count = ZSTD_isError(status) != 0 ? 0 : status
            }
            if ZSTD_isError(status) != 0 {
                throw .corruptZstd(path: name, offset: 0, reason: String(cString: ZSTD_getErrorName(status)))
            }
            if result.count == Int(known) { return result }
            throw .truncatedZstd(path: name, compressedBytes: Int64(input.count), decodedBytes: Int64(result.count))
        }
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var chunk = [UInt8](repeating: 0, count: 1 << 17)
        var lastResult = 0
        while true {
            var status = 0
            let produced: Int = chunk.withUnsafeMutableBytes { c in
                var outBuffer = ZSTD_outBuffer(dst: c.baseAddress, size: c.count, pos: 0)
                status = ZSTD_decompressStream(dctx, &outBuffer, &inBuffer)
                return outBuffer.pos
            }
            if ZSTD_isError(status) != 0 {
                throw .corruptZstd(path: name, offset: Int64(inBuffer.pos), reason: String(cString: ZSTD_getErrorName(status)))
            }
            lastResult = status
            if produced > 0 {
                guard output.count + produced <= limit else { throw .tooLarge(path: name, limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
            }
            if inBuffer.pos == inBuffer.size && produced < chunk.count { break }
        }
        if lastResult != 0 { throw .truncatedZstd(path: name, compressedBytes: Int64(input.count), decodedBytes: Int64(output.count)) }
        return output
    }

    /// Compresses `input` as a single frame at `level`.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 19) throws(IOError) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let n = output.withUnsafeMutableBytes { o in
            ZSTD_compress(o.baseAddress, o.count, input.baseAddress, input.count, level)
        }
        if ZSTD_isError(n) != 0 { throw .zstdFailed(path: "<zstd>", reason: String(cString: ZSTD_getErrorName(n))) }
        output.removeSubrange(n...)
        return output
    }
}
