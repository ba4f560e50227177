import CZstd

/// Compresses everything written into one zstd frame (with a content checksum, as the `zstd` CLI writes) and
/// passes the compressed bytes to another output. `commit()` ends the frame, then commits the inner output;
/// `abandon()` abandons the inner output.
public final class ZstdCompressingOutput: ByteOutput {
    public var name: String { inner.name }
    private let inner: any ByteOutput
    private let context: OpaquePointer
    private let staging: UnsafeMutableRawBufferPointer
    private var finished = false

    /// - Parameters:
    ///   - level: zstd compression level (1...19; 3 is zstd's default: ~300 MB/s per core, good ratio).
    ///   - threads: extra compression threads (0: compress in the caller's thread). Ignored if libzstd was built
    ///     without multithreading.
    public init(wrapping inner: any ByteOutput, level: Int32 = 3, threads: Int32 = 0) throws(IOError) {
        guard let context = ZSTD_createCCtx() else {
            throw .zstdFailed(path: inner.name, reason: "cannot allocate a compression context")
        }
        self.inner = inner
        self.context = context
        self.staging = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 64)
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        if threads > 0 { _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, threads) }
    }

    deinit {
        ZSTD_freeCCtx(context)
        staging.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        while input.pos < input.size {
            _ = try step(&input, ZSTD_e_continue)
        }
    }

    public func flush() throws(IOError) {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_flush) != 0 {}
        try inner.flush()
    }

    public func commit() throws(IOError) {
        guard !finished else { return }
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        do {
            while try step(&input, ZSTD_e_end) != 0 {}
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

    /// One ZSTD_compressStream2 call; writes whatever it produced. Returns libzstd's "bytes left to flush".
    private func step(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective) throws(IOError) -> Int {
        var output = ZSTD_outBuffer(dst: staging.baseAddress, size: staging.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &output, &input, mode)
        try check(remaining)
        if output.pos > 0 {
            try inner.write(UnsafeRawBufferPointer(rebasing: staging[..<output.pos]))
        }
        return remaining
    }

    private func check(_ code: Int) throws(IOError) {
        if ZSTD_isError(code) != 0 {
            throw .zstdFailed(path: inner.name, reason: String(cString: ZSTD_getErrorName(code)))
        }
    }
}
