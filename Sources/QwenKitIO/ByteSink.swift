#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer in front of a `ByteOutput`: stdout, an atomically replaced file, a zstd compressor.
///
/// The small writes (`write(_ byte:)`, `writeDecimal`, `writeLittleEndian`) are inlinable and touch only the
/// buffer; the output sees 1 MiB blocks. Finish with `close()`: it flushes and commits (renames the file into
/// place, ends the zstd frame). A sink dropped without `close()` abandons its output: buffered bytes are
/// discarded and an uncommitted file is removed, which is what an error path wants.
///
/// Not thread-safe: one writer at a time.
public final class ByteSink {
    public var name: String { output.name }
    public let output: any ByteOutput

    @usableFromInline let buffer: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    @usableFromInline var count = 0
    private var closed = false

    public init(output: any ByteOutput, bufferCapacity: Int = 1 << 20) {
        self.output = output
        self.capacity = max(bufferCapacity, 128)  // writeDecimal(s) need 48-64 bytes of room
        self.buffer = .allocate(capacity: self.capacity)
        buffer.initialize(repeating: 0, count: self.capacity)
    }

    /// A sink on stdout.
    public static func standardOutput(bufferCapacity: Int = 1 << 20) -> ByteSink {
        ByteSink(output: FileDescriptorOutput.standardOutput(), bufferCapacity: bufferCapacity)
    }

    deinit {
        if !closed { output.abandon() }
        buffer.deallocate()
    }

    /// Bytes waiting in the buffer.
    public var bufferedCount: Int { count }

    @inlinable
    public func write(_ byte: UInt8) throws(IOError) {
        var n = count
        if n == capacity {
            try drain()
            n = 0
        }
        buffer[n] = byte
        count = n + 1
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if bytes.count <= capacity - count {
            (buffer + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            count += bytes.count
            return
        }
        try drain()
        if bytes.count >= capacity {
            try output.write(bytes)  // large blocks bypass the buffer
        } else {
            buffer.update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            count = bytes.count
        }
    }

    public func write(_ bytes: [UInt8]) throws(IOError) {
        // Array.withUnsafeBytes rethrows untyped errors, so the typed error is carried out by hand.
        var failure: IOError?
        bytes.withUnsafeBytes { raw in
            do throws(IOError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes the UTF-8 bytes of `text`.
    public func write(_ text: String) throws(IOError) {
        var text = text
        var failure: IOError?
        text.withUTF8 { utf8 in
            do throws(IOError) { try write(UnsafeRawBufferPointer(utf8)) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes `value` in decimal ASCII without allocating.
    @inlinable
    public func writeDecimal(_ value: UInt32) throws(IOError) {
        if capacity - count < 48 { try drain() }
        count += ByteSink.storeDecimal(value, at: buffer + count)
    }

    /// Writes `ids` in decimal ASCII, each followed by `separator` except the last; `separatorFirst` puts one before
    /// the first too (a record's ids written in several calls). The text and JSONL token outputs.
    @inlinable
    public func writeDecimals(_ ids: UnsafeBufferPointer<UInt32>, separator: UInt8, separatorFirst: Bool) throws(IOError) {
        guard let base = ids.baseAddress, ids.count > 0 else { return }
        var i = 0
        var pending = separatorFirst
        while i < ids.count {
            // Each id takes at most 11 bytes (a separator and 10 digits) and its 8-byte stores reach 16 past the
            // start of its digits: a run that fits is written without checking room per id.
            if capacity - count < 64 { try drain() }
            let run = Swift.min(ids.count - i, (capacity - count - 32) / 11)
            var out = buffer + count
            for k in 0..<run {
                if pending { out.pointee = separator; out += 1 }
                pending = true
                out += ByteSink.storeDecimal(base[i + k], at: out)
            }
            count = out - buffer
            i += run
        }
    }

    /// Stores `value`'s decimal digits at `out` and returns how many; writes up to 10 bytes from `out` (an 8-byte store
    /// may reach past the digits: scratch, overwritten by what follows).
    ///
    /// Below 10^8 (every token id) the digits are made in one 64-bit register (SWAR): the value splits into two
    /// 4-digit halves, each half into 2-digit pairs, each pair into digits, by multiplications by reciprocals in
    /// 32-, 16- and 8-bit lanes; the leading zeros are the low zero bytes, shifted out; one 8-byte store. No loop and no
    /// store read back (the pair-table loop before this wrote 2 bytes at a time and moved them with 8-byte loads, which
    /// could not be forwarded from the narrow stores: 12 ns per id on the JSONL output of the tokenizer benchmark).
    @inlinable @inline(__always)
    static func storeDecimal(_ value: UInt32, at out: UnsafeMutablePointer<UInt8>) -> Int {
        let raw = UnsafeMutableRawPointer(out)
        if value < 100_000_000 {
            let digits = eightDigits(UInt64(value))
            let zeros = value == 0 ? 7 : digits.trailingZeroBitCount >> 3  // leading zero digits (0 keeps one)
            raw.storeBytes(of: ((digits | 0x3030_3030_3030_3030) >> UInt64(zeros << 3)).littleEndian, as: UInt64.self)
            return 8 &- zeros
        }
        // Nine or ten digits: the first one or two, then the last eight.
        let high = value / 100_000_000
        var n = 0
        if high >= 10 {
            raw.storeBytes(of: UInt8(truncatingIfNeeded: high / 10) &+ 0x30, as: UInt8.self)
            n = 1
        }
        raw.storeBytes(of: UInt8(truncatingIfNeeded: high % 10) &+ 0x30, toByteOffset: n, as: UInt8.self)
        let digits = eightDigits(UInt64(value % 100_000_000))
        raw.storeBytes(of: (digits | 0x3030_3030_3030_3030).littleEndian, toByteOffset: n &+ 1, as: UInt64.self)
        return n &+ 9
    }

    /// The eight decimal digits of `v` (below 10^8, leading zeros included) as the bytes 0-9 of a 64-bit value, the
    /// first digit in the low byte.
    @inlinable @inline(__always)
    static func eightDigits(_ v: UInt64) -> UInt64 {
        let halves = v / 10_000 | (v % 10_000) << 32                        // the high half in the low lane
        let hundreds = ((halves &* 10_486) >> 20) & 0x0000_007F_0000_007F   // each half / 100 (exact below 43,699)
        let pairs = hundreds | (halves &- hundreds &* 100) << 16
        let tens = ((pairs &* 103) >> 10) & 0x000F_000F_000F_000F           // each pair / 10 (exact below 179)
        return tens | (pairs &- tens &* 10) << 8
    }

    /// Writes `value` as 4 little-endian bytes (the `.u32` token id format).
    @inlinable
    public func writeLittleEndian(_ value: UInt32) throws(IOError) {
        if capacity - count < 4 { try drain() }
        UnsafeMutableRawPointer(buffer + count).storeBytes(of: value.littleEndian, as: UInt32.self)
        count += 4
    }

    /// Writes `value` as 8 little-endian bytes (Megatron's int64 index arrays).
    @inlinable
    public func writeLittleEndian64(_ value: UInt64) throws(IOError) {
        if capacity - count < 8 { try drain() }
        UnsafeMutableRawPointer(buffer + count).storeBytes(of: value.littleEndian, as: UInt64.self)
        count += 8
    }

    /// Hands the buffered bytes to the output and asks it to flush (for zstd: ends the current block, so that a
    /// reader downstream can decode everything written so far). Costs compression ratio if done often.
    public func flush() throws(IOError) {
        try drain()
        try output.flush()
    }

    /// Flushes and commits the output. After this the sink must not be written to.
    public func close() throws(IOError) {
        guard !closed else { return }
        do {
            try drain()
        } catch {
            closed = true
            output.abandon()
            throw error
        }
        closed = true
        try output.commit()
    }

    /// Gives up: discards buffered bytes and abandons the output (an uncommitted file is removed).
    public func abandon() {
        count = 0
        closed = true
        output.abandon()
    }

    /// Writes the buffer to the output and empties it.
    @usableFromInline
    func drain() throws(IOError) {
        guard count > 0 else { return }
        let n = count
        count = 0
        try output.write(UnsafeRawBufferPointer(start: buffer, count: n))
    }
}

/// Opens an output the way the CLI names them, as `openOutputFile` does, and compresses it with zstd when the path
/// ends in `.zst`, with gzip when it ends in `.gz` (`compress` forces zstd or nothing, e.g. `true` for zstd on stdout).
public func openOutput(path: String, compress: Bool? = nil, zstdLevel: Int32 = 3,
                       bufferCapacity: Int = 1 << 20) throws(IOError) -> ByteSink {
    var output = try openOutputFile(path: path)
    if compress ?? path.hasSuffix(".zst") {
        output = try ZstdCompressingOutput(wrapping: output, level: zstdLevel)
    } else if compress == nil && path.hasSuffix(".gz") {
        output = try GzipCompressingOutput(wrapping: output)
    }
    return ByteSink(output: output, bufferCapacity: bufferCapacity)
}

/// The one way an output is opened, by every command and writer: `-` is stdout; an existing device or FIFO (or a
/// symbolic link to one) is written in place as a stream, never replaced; a socket or a directory is refused; any
/// other path becomes an `AtomicOutputFile`, which appears under its name only when complete. The path is claimed
/// with `OutputGuard` first, so an output that is also an input is refused before anything is written.
public func openOutputFile(path: String) throws(IOError) -> any ByteOutput {
    if path == "-" { return FileDescriptorOutput.standardOutput() }
    try OutputGuard.claim(path)
    var info = stat()
    guard stat(path, &info) == 0 else { return try AtomicOutputFile(path: path) }
    switch info.st_mode & S_IFMT {
    case S_IFREG:
        return try AtomicOutputFile(path: path)
    case S_IFDIR:
        throw .isDirectory(path: path)
    case S_IFSOCK:
        throw .socketOutput(path: path)
    default:
        let fd = path.withCString { open($0, O_WRONLY | O_CLOEXEC) }
        if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
        return FileDescriptorOutput(fileDescriptor: fd, name: path, ownsDescriptor: true)
    }
}
