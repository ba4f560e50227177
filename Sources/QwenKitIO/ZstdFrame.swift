// One-shot zstd for data that fits in memory (embedded tables, small files). Streams go through
// the streaming reader and writer instead.

import CZstd

public enum ZstdFrame {
    /// Decompresses a complete zstd stream (one or more frames). `limit` caps the output size so a
    /// hostile frame header cannot make us allocate without bound.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int = 1 << 31, name: String = "<zstd data>") throws -> [UInt8] {
        guard let dctx = ZSTD_createDCtx() else { throw ZstdFrameError(name: name, reason: "cannot create a zstd context") }
        defer { ZSTD_freeDCtx(dctx) }
        var output: [UInt8] = []
        let known = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        if known != ZSTD_CONTENTSIZE_UNKNOWN && known != ZSTD_CONTENTSIZE_ERROR && known <= UInt64(limit) {
            output.reserveCapacity(Int(known))
        }
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var chunk = [UInt8](repeating: 0, count: 1 << 17)
        var lastResult = 0
        while true {
            let produced: Int = try chunk.withUnsafeMutableBytes { c in
                var outBuffer = ZSTD_outBuffer(dst: c.baseAddress, size: c.count, pos: 0)
                let r = ZSTD_decompressStream(dctx, &outBuffer, &inBuffer)
                if ZSTD_isError(r) != 0 {
                    throw ZstdFrameError(name: name, reason: "corrupt zstd data: " + String(cString: ZSTD_getErrorName(r)))
                }
                lastResult = r
                return outBuffer.pos
            }
            if produced > 0 {
                guard output.count + produced <= limit else { throw ZstdFrameError(name: name, reason: "decompressed size exceeds \(limit) bytes") }
                output.append(contentsOf: chunk[0..<produced])
            }
            if inBuffer.pos == inBuffer.size && produced < chunk.count { break }
        }
        if lastResult != 0 { throw ZstdFrameError(name: name, reason: "truncated zstd stream") }
        return output
    }

    /// Compresses `input` as a single frame at `level`.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 19) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let n = output.withUnsafeMutableBytes { o in
            ZSTD_compress(o.baseAddress, o.count, input.baseAddress, input.count, level)
        }
        if ZSTD_isError(n) != 0 { throw ZstdFrameError(name: "<zstd>", reason: String(cString: ZSTD_getErrorName(n))) }
        output.removeSubrange(n...)
        return output
    }
}

public struct ZstdFrameError: Error, CustomStringConvertible {
    public let name: String
    public let reason: String
    public var description: String { "\(name): \(reason)" }
}
