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

import QwenKitIO

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

/// A .npy file's header as merge and decode need it: a uint32 C-order array of shape (rows,) or (rows, columns), its
/// size checked against the file's.
public struct NpyHeader: Sendable {
    public let path: String
    public let rows: Int
    /// nil for a one-dimensional array.
    public let columns: Int?
    /// Where the ids start.
    public let dataOffset: Int

    public init(path: String) throws {
        self.path = path
        func fail(_ what: String) -> MegatronDatasetError { MegatronDatasetError("\(path): \(what)") }
        let source = try FileDescriptorSource(path: path)
        var preamble = [UInt8](repeating: 0, count: 12)
        let n = try preamble.withUnsafeMutableBytes { try source.readFull(into: $0) }
        guard n >= 10, preamble[0] == 0x93, preamble[1...5].elementsEqual("NUMPY".utf8) else { throw fail("not a .npy file") }
        let major = preamble[6]
        let length: Int
        switch major {
        case 1: length = Int(preamble[8]) | Int(preamble[9]) << 8; dataOffset = 10 + length
        case 2, 3:
            guard n == 12 else { throw fail("not a .npy file") }
            length = Int(preamble[8]) | Int(preamble[9]) << 8 | Int(preamble[10]) << 16 | Int(preamble[11]) << 24
            dataOffset = 12 + length
        default: throw fail(".npy version \(major) is not one numpy writes")
        }
        guard length <= 1 << 16 else { throw fail("a .npy header of \(length) bytes") }
        var header = [UInt8](repeating: 0, count: length)
        let skipped = major == 1 ? 2 : 0  // the first bytes of a version 1 header were read with the preamble
        header.replaceSubrange(0..<skipped, with: preamble[10..<(10 + skipped)])
        let got = try header.withUnsafeMutableBytes { try source.readFull(into: UnsafeMutableRawBufferPointer(rebasing: $0[skipped...])) }
        guard got == length - skipped else { throw fail("shorter than its header") }
        let text = String(decoding: header, as: UTF8.self)
        guard text.contains("'descr': '<u4'") else { throw fail("not an array of uint32 ('<u4'): merge joins token arrays") }
        guard text.contains("'fortran_order': False") else { throw fail("in Fortran order") }
        let shapeKey = Array("'shape': (".utf8)
        guard let at = (0...max(header.count - shapeKey.count, 0)).first(where: { header[$0..<min($0 + shapeKey.count, header.count)].elementsEqual(shapeKey) }),
              let close = header[(at + shapeKey.count)...].firstIndex(of: UInt8(ascii: ")")) else { throw fail("no shape in its header") }
        let shape = String(decoding: header[(at + shapeKey.count)..<close], as: UTF8.self)
        let dims = shape.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
        guard (1...2).contains(dims.count), let rows = Int(dims[0]), rows >= 0, dims.count == 1 || Int(dims[1]) != nil else {
            throw fail("shape (\(shape)) is not one or two dimensions")
        }
        self.rows = rows
        self.columns = dims.count == 2 ? Int(dims[1]) : nil
        let (elements, overflow) = rows.multipliedReportingOverflow(by: columns ?? 1)
        guard !overflow, elements <= Int.max / 4 else { throw fail("shape \(rows)x\(columns ?? 1) is too large") }
        // The file was opened before its header was read: its size is the source's.
        let size = source.inputSize ?? 0
        guard size == Int64(dataOffset) + 4 * Int64(elements) else {
            throw fail("has \(size - Int64(dataOffset)) bytes of data; shape \(rows)x\(columns ?? 1) needs \(4 * elements)")
        }
    }
}
