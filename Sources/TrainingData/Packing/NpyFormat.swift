// numpy's .npy format, version 1.0 (numpy/lib/format.py), for arrays of little-endian uint32 ids in C order:
//
//   offset  size  field
//   0       6     magic "\x93NUMPY"
//   6       2     version 1, 0
//   8       2     header length, u16 little-endian (118: the whole preamble is 128 bytes)
//   10      118   "{'descr': '<u4', 'fortran_order': False, 'shape': (N, L), }", spaces, "\n"
//   128     4·N·L the ids
//
// numpy pads the header with spaces to a multiple of 64 bytes; for this dtype and any shape of up to two 20-digit
// numbers that is always 128, so the header can be written as a placeholder first and rewritten with the real row count
// at the end, byte for byte what np.save writes.

public enum NpyFormat {
    public static let headerSize = 128

    /// The 128-byte preamble numpy writes for a '<u4' array of `shape` (one or two dimensions).
    public static func header(shape: [Int]) -> [UInt8] {
        let dimensions = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var text = Array("{'descr': '<u4', 'fortran_order': False, 'shape': \(dimensions), }".utf8)
        let length = headerSize - 10
        text += [UInt8](repeating: 0x20, count: length - 1 - text.count)
        text.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + text
    }
}
