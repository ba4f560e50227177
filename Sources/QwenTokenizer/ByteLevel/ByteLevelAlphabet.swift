// GPT-2's byte-level alphabet: every byte gets a printable Unicode character so that BPE vocabularies
// can be stored as text. Bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF stand for themselves; the other 68
// bytes map, in increasing byte order, to U+0100, U+0101, ... (space 0x20 becomes U+0120 'Ġ').
// Computed here from that rule rather than pasted as a table.

public enum ByteLevelAlphabet {
    /// The code point that represents each byte.
    public static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 0x100
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte a code point stands for, or nil when it is not in the alphabet.
    @inline(__always)
    public static func byte(for scalar: UInt32) -> UInt8? {
        if scalar < 0x100 {
            let b = Int(scalar)
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) { return UInt8(b) }
            return nil
        }
        if scalar < 0x100 + 68 { return byteForExtended[Int(scalar - 0x100)] }
        return nil
    }

    private static let byteForExtended: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 68)
        for b in 0..<256 where scalarForByte[b] >= 0x100 {
            table[Int(scalarForByte[b] - 0x100)] = UInt8(b)
        }
        return table
    }()

    /// Decodes a token as written in a vocabulary file (UTF-8 of byte-level characters) into the bytes
    /// it stands for, as the ByteLevel decoder does: each character in the alphabet becomes its byte;
    /// any other character contributes its own UTF-8 bytes. Returns whether every character was in the
    /// alphabet (only such tokens can be produced by merging bytes).
    @discardableResult
    public static func decode(_ token: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Bool {
        var pure = true
        var i = 0
        while i < token.count {
            let lead = token[i]
            var scalar: UInt32
            var length: Int
            if lead < 0x80 { scalar = UInt32(lead); length = 1 }
            else if lead < 0xE0 { scalar = UInt32(lead & 0x1F); length = 2 }
            else if lead < 0xF0 { scalar = UInt32(lead & 0x0F); length = 3 }
            else { scalar = UInt32(lead & 0x07); length = 4 }
            length = min(length, token.count - i)
            for k in 1..<max(length, 1) { scalar = scalar << 6 | UInt32(token[i + k] & 0x3F) }
            if let b = byte(for: scalar) {
                output.append(b)
            } else {
                pure = false
                output.append(contentsOf: UnsafeBufferPointer(rebasing: token[i..<(i + length)]))
            }
            i += length
        }
        return pure
    }

    /// Appends the byte-level form of `bytes` (each byte as its alphabet character, UTF-8 encoded).
    public static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        for b in bytes {
            let s = scalarForByte[Int(b)]
            if s < 0x80 { output.append(UInt8(s)) }
            else {
                output.append(UInt8(0xC0 | (s >> 6)))
                output.append(UInt8(0x80 | (s & 0x3F)))
            }
        }
    }
}
