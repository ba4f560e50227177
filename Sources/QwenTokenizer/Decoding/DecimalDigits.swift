// Decimal token ids, eight bytes at a time (SWAR), for the id readers of `decode`. Ids have at most six
// digits (Qwen2's vocabulary has 151,646), so one 8-byte load usually holds an id and the byte after it.
// The readers take this path only where it is exact (the number and its terminator inside the loaded
// word, at most 7 digits) and fall back to their byte-at-a-time parser everywhere else, which also
// produces every error message. `leadingDigits`/`value` are checked against the obvious loop in tests.
// Runs of ids 64 bytes at a time are C (`qwenkit_separated_ids` in Sources/CTextKernels): a window's masks of
// digits and separators take one vpmovmskb per 32 bytes there, and a dozen multiplies per 8 bytes here.

enum DecimalDigits {
    /// The 8 bytes at `p` as a little-endian word (byte 0 lowest), as the functions below take them.
    @inline(__always)
    static func load(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    /// How many of the 8 bytes of `word` (loaded little-endian: the first byte is the lowest) are ASCII
    /// digits before the first byte that is not one (8 if all are).
    ///
    /// Per byte, `x = byte - '0'` is 0...9 for a digit; `x | (x + 0x76)` has its high bit set exactly
    /// when `x` >= 10 or the subtraction wrapped. Borrows and carries only move upward, out of a non-digit
    /// byte, so they can disturb only bytes after the first non-digit, which are not counted.
    @inline(__always)
    static func leadingDigits(_ word: UInt64) -> Int {
        let x = word &- 0x3030_3030_3030_3030
        let nonDigit = (x | (x &+ 0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080
        return nonDigit.trailingZeroBitCount &>> 3
    }

    /// The value of the first `count` bytes of `word`, which are ASCII digits (1...7 of them).
    /// The digits are shifted to the top of the word (the zero bytes below them are leading zeros),
    /// then pairs, quads and the two halves are combined by multiplication.
    @inline(__always)
    static func value(_ word: UInt64, count: Int) -> UInt32 {
        var x = (word &- 0x3030_3030_3030_3030) &<< UInt64(8 &* (8 &- count))
        x = ((x & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) &>> 8
        x = ((x & 0x00FF_00FF_00FF_00FF) &* 6_553_601) &>> 16
        x = ((x & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) &>> 32
        return UInt32(truncatingIfNeeded: x)
    }

    /// Bit k set when byte k of `word` equals `byte` (k = 0...7). Exact per byte (no carries between bytes):
    /// after xor, a byte is zero iff adding 0x7F to its low 7 bits leaves bit 7 clear and it had none; the
    /// eight flags are gathered into one byte by a multiplication that moves bit 8k + 7 to bit 56 + k.
    @inline(__always)
    static func positions(of byte: UInt8, in word: UInt64) -> UInt64 {
        let t = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        let zero = ~(((t & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | t | 0x7F7F_7F7F_7F7F_7F7F)
        return ((zero &>> 7) &* 0x0102_0408_1020_4080) &>> 56
    }

    /// The obvious versions, for tests.
    static func referenceLeadingDigits(_ bytes: [UInt8]) -> Int {
        bytes.prefix(8).prefix { $0 >= 0x30 && $0 <= 0x39 }.count
    }

    static func referencePositions(of byte: UInt8, in bytes: [UInt8]) -> UInt64 {
        bytes.prefix(8).enumerated().reduce(0) { $0 | ($1.element == byte ? 1 << UInt64($1.offset) : 0) }
    }

    static func referenceValue(_ bytes: [UInt8], count: Int) -> UInt32 {
        bytes.prefix(count).reduce(0) { $0 * 10 + UInt32($1 - 0x30) }
    }
}
