/// What went wrong inside a page's bytes (levels, values, compressed data); the column reader adds the file, row
/// group, column and page offset.
struct PageDataError: Error {
    let reason: String
}

/// Parquet's RLE / bit-packing hybrid (Encodings.md), the encoding of definition levels, dictionary indices and
/// RLE booleans: a sequence of runs, each a ULEB128 header then
/// - header even: an RLE run of `header >> 1` copies of one value, stored in ceil(bitWidth / 8) little-endian bytes;
/// - header odd: a bit-packed run of `header >> 1` groups of 8 values, `bitWidth` bits each, LSB first.
///
/// Values are decoded one at a time as asked for; an RLE run costs nothing per value, a bit-packed value one
/// unaligned load. Bounds: headers are at most 5 bytes (a 32-bit count), a bit-packed run that claims more bytes than
/// remain yields only the values whose bits are present (the last group may be cut short, as writers pad it),
/// and asking past the last value throws instead of reading on. An RLE value that does not fit in `bitWidth` bits
/// throws too, so a definition level is never above its maximum.
struct RLEHybridDecoder {
    private let base: UnsafePointer<UInt8>?
    private let end: Int
    private var position = 0
    let bitWidth: Int
    private let mask: UInt64
    private var repeatLeft = 0
    private var repeatValue: UInt32 = 0
    private var literalLeft = 0
    /// Bit offset of the next bit-packed value from `base`.
    private var literalBit = 0

    /// `bitWidth` must be 0...32 (the caller checks what it read from the file).
    init(_ bytes: UnsafeRawBufferPointer, bitWidth: Int) {
        self.base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        self.end = bytes.count
        self.bitWidth = bitWidth
        self.mask = bitWidth == 0 ? 0 : (1 << UInt64(bitWidth)) - 1
    }

    /// An empty decoder: every `next()` throws.
    init() {
        self.init(UnsafeRawBufferPointer(start: nil, count: 0), bitWidth: 0)
    }

    @inline(__always)
    mutating func next() throws(PageDataError) -> UInt32 {
        if repeatLeft > 0 {
            repeatLeft -= 1
            return repeatValue
        }
        if literalLeft == 0 { try readRun() }
        if repeatLeft > 0 {
            repeatLeft -= 1
            return repeatValue
        }
        literalLeft -= 1
        return literal()
    }

    /// True while the next value is certain to come from the current RLE run (for callers' fast paths).
    var repeatsLeft: Int { repeatLeft }

    /// Decodes the bit-packed value at `literalBit` (whose bits `readRun` checked are present).
    @inline(__always)
    private mutating func literal() -> UInt32 {
        let byte = literalBit >> 3
        let shift = UInt64(literalBit & 7)
        literalBit += bitWidth
        guard let base else { return 0 }
        var word: UInt64
        if byte + 8 <= end {
            word = UInt64(littleEndian: UnsafeRawPointer(base + byte).loadUnaligned(as: UInt64.self))
        } else {
            word = 0
            var i = 0
            while byte + i < end && i < 8 {
                word |= UInt64(base[byte + i]) << UInt64(8 * i)
                i += 1
            }
        }
        return UInt32(truncatingIfNeeded: (word >> shift) & mask)
    }

    /// Reads run headers until one yields a value (runs of length 0 only consume their header).
    private mutating func readRun() throws(PageDataError) {
        while true {
            guard position < end, let base else { throw PageDataError(reason: "the run-length data ends before its last value") }
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end else { throw PageDataError(reason: "a run header runs past the end of the data") }
                let byte = base[position]
                position += 1
                header |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
                guard shift < 35 else { throw PageDataError(reason: "a run header is longer than 5 bytes") }
            }
            guard header <= UInt64(UInt32.max) else { throw PageDataError(reason: "a run header does not fit in 32 bits") }
            let count = Int(header >> 1)
            if header & 1 == 1 {
                // Bit-packed: count groups of 8 values.
                let available = end - position
                let bytes = count * bitWidth
                let values = bitWidth == 0 ? count * 8 : min(count * 8, min(bytes, available) * 8 / bitWidth)
                literalBit = position * 8
                literalLeft = values
                position += min(bytes, available)
                if values > 0 { return }
            } else {
                let width = (bitWidth + 7) / 8
                guard width <= end - position else { throw PageDataError(reason: "an RLE run's value runs past the end of the data") }
                var value: UInt64 = 0
                for i in 0..<width { value |= UInt64(base[position + i]) << UInt64(8 * i) }
                position += width
                guard value <= mask else {
                    throw PageDataError(reason: "an RLE run's value \(value) does not fit in \(bitWidth) bits")
                }
                repeatValue = UInt32(value)
                repeatLeft = count
                if count > 0 { return }
            }
        }
    }
}
