// One UTF-8 character by its code point, where the tokenizer's tables are indexed by characters (the
// character starts, the linear encoder's first character, the corpus splitter's character classes).
// The scanner and the normalizer keep their own inlined decoders on their hot paths.

enum UTF8Scalar {
    /// The code point of the valid UTF-8 character at `p[0..<available]`, and its length; nil when the
    /// bytes there are not one (cut off, stray, overlong, a surrogate or out of range).
    @inline(__always)
    static func decode(_ p: UnsafePointer<UInt8>, _ available: Int) -> (UInt32, Int)? {
        let b0 = UInt32(p[0])
        if b0 < 0x80 { return (b0, 1) }
        @inline(__always) func tail(_ k: Int) -> UInt32? {
            let b = p[k]
            return b & 0xC0 == 0x80 ? UInt32(b & 0x3F) : nil
        }
        if b0 < 0xC2 { return nil }
        if b0 < 0xE0 {
            guard available >= 2, let t1 = tail(1) else { return nil }
            return ((b0 & 0x1F) << 6 | t1, 2)
        }
        if b0 < 0xF0 {
            guard available >= 3, let t1 = tail(1), let t2 = tail(2) else { return nil }
            let cp = (b0 & 0x0F) << 12 | t1 << 6 | t2
            guard cp >= 0x800, !(0xD800..<0xE000).contains(cp) else { return nil }
            return (cp, 3)
        }
        guard available >= 4, let t1 = tail(1), let t2 = tail(2), let t3 = tail(3) else { return nil }
        let cp = (b0 & 0x07) << 18 | t1 << 12 | t2 << 6 | t3
        guard cp >= 0x1_0000, cp <= 0x10_FFFF else { return nil }
        return (cp, 4)
    }

    /// The three bytes of a code point in U+0800...U+FFFF.
    @inline(__always)
    static func bytes3(_ cp: Int) -> (Int, Int, Int) {
        (0xE0 | cp >> 12, 0x80 | (cp >> 6) & 0x3F, 0x80 | cp & 0x3F)
    }
}
