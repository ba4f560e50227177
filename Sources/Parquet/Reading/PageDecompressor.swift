import CSnappy
import CZlib
import CZstd

/// Decompresses whole pages: SNAPPY (raw snappy blocks, as parquet stores them), GZIP (gzip members, or a zlib
/// stream, which some writers store: zlib detects which), ZSTD (one or more frames). The output must be exactly the
/// size the page header states; anything else is a `PageDataError`. The zstd and zlib contexts are made on first use
/// and kept, so a column's pages cost no allocation after its first.
///
/// Performance notes. Snappy is most of the cost of reading a snappy file's text column: perf puts 85-90% of the
/// benchmark's read (Fixtures/bench/bench_parquet.py) in Debian 12's libsnappy 1.1.9, about half of it in `memmove`,
/// which 1.1.9 calls through the PLT once per element (5-10 bytes of text). A Swift decoder was tried in its place
/// (a tag table, literal or copy selected without a branch, 16-byte wild copies into slack after the output) and
/// measured against libsnappy on the same blocks in the same process: 3-10% faster, not enough to own a second
/// decoder of hostile data (the first run of the fuzz tests found an out-of-bounds read in it). The snappy that
/// pyarrow 26 bundles decodes the same 1 MiB blocks no faster (855 against 949 MB/s, called from Python).
final class PageDecompressor {
    private var zstd: OpaquePointer?
    private var zlib: UnsafeMutablePointer<z_stream>?

    deinit {
        if let zstd { ZSTD_freeDCtx(zstd) }
        if let zlib {
            inflateEnd(zlib)
            zlib.deallocate()
        }
    }

    /// Decompresses `input` (compressed with `codec`, which is SNAPPY, GZIP or ZSTD) into all of `output`.
    func decompress(_ codec: ParquetCodec, _ input: UnsafeRawBufferPointer,
                    into output: UnsafeMutableRawBufferPointer) throws(PageDataError) {
        switch codec {
        case .snappy: try snappy(input, into: output)
        case .gzip: try gzip(input, into: output)
        case .zstd: try zstandard(input, into: output)
        default: throw PageDataError(reason: "codec \(codec.name) cannot be decompressed")
        }
    }

    private func snappy(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(PageDataError) {
        let source = input.baseAddress?.assumingMemoryBound(to: CChar.self)
        var length = 0
        guard snappy_uncompressed_length(source, input.count, &length) == SNAPPY_OK else {
            throw PageDataError(reason: "the snappy data is corrupt (no valid length prefix)")
        }
        guard length == output.count else {
            throw PageDataError(reason: "the snappy data decompresses to \(length) bytes, the page header says \(output.count)")
        }
        if length == 0 { return }
        var produced = output.count
        let status = snappy_uncompress(source, input.count, output.baseAddress!.assumingMemoryBound(to: CChar.self), &produced)
        guard status == SNAPPY_OK, produced == output.count else {
            throw PageDataError(reason: "the snappy data is corrupt")
        }
    }

    private func zstandard(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(PageDataError) {
        if zstd == nil { zstd = ZSTD_createDCtx() }
        guard let zstd else { throw PageDataError(reason: "cannot allocate a zstd decompression context") }
        let produced = ZSTD_decompressDCtx(zstd, output.baseAddress, output.count, input.baseAddress, input.count)
        if ZSTD_isError(produced) != 0 {
            throw PageDataError(reason: "the zstd data is corrupt: \(String(cString: ZSTD_getErrorName(produced)))")
        }
        guard produced == output.count else {
            throw PageDataError(reason: "the zstd data decompresses to \(produced) bytes, the page header says \(output.count)")
        }
    }

    private func gzip(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(PageDataError) {
        let stream: UnsafeMutablePointer<z_stream>
        if let zlib {
            stream = zlib
            inflateReset(stream)
        } else {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 32: the largest window, gzip or zlib header detected.
            guard czlib_inflate_init2(stream, 15 + 32) == Z_OK else {
                stream.deallocate()
                throw PageDataError(reason: "cannot allocate a zlib decompression stream")
            }
            zlib = stream
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(output.count)
        while true {
            let status = inflate(stream, Z_FINISH)
            if status == Z_STREAM_END {
                // Concatenated members: go on while both input and room remain.
                if stream.pointee.avail_in > 0 && stream.pointee.avail_out > 0 {
                    inflateReset(stream)
                    continue
                }
                break
            }
            if status == Z_OK { continue }  // progress made; the next call finishes or says why not
            if status == Z_BUF_ERROR && stream.pointee.avail_out == 0 {
                throw PageDataError(reason: "the gzip data decompresses to more than the page header's \(output.count) bytes")
            }
            if status == Z_BUF_ERROR {
                throw PageDataError(reason: "the gzip data ends inside a member")
            }
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw PageDataError(reason: "the gzip data is corrupt: \(message)")
        }
        let produced = output.count - Int(stream.pointee.avail_out)
        guard produced == output.count else {
            throw PageDataError(reason: "the gzip data decompresses to \(produced) bytes, the page header says \(output.count)")
        }
    }
}
