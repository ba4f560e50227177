import QwenKitIO

/// One value of a carried column, as the cursor decoded it for the current row.
///
/// `string` points into the cursor's page buffers (or the mapped file): valid until the cursor's next `next()`.
public enum ParquetValue {
    case null
    case boolean(Bool)
    /// INT32 or INT64 (signed, or with no sign annotation).
    case int(Int64)
    /// INT32 or INT64 annotated unsigned (`INT(bits, false)` or `UINT_8` ... `UINT_64`).
    case unsignedInt(UInt64)
    case float(Float)
    case double(Double)
    /// BYTE_ARRAY annotated as text: its bytes as stored (UTF-8 by the spec; not validated here).
    case string(UnsafeBufferPointer<UInt8>)

    /// Appends the value as JSON text:
    /// - `null` for a null; `true` / `false`;
    /// - integers in decimal (unsigned ones as unsigned: a UINT_64 above 2^63 stays positive);
    /// - FLOAT and DOUBLE in Swift's `description`: the shortest digits that read back as the same value (`0.1`,
    ///   `1e-05`, `1e+16`, `-0.0`; a FLOAT with the digits of a Float, not of the Double it widens to), exponent form
    ///   below 1e-4 and from 2^53 (2^24 for FLOAT) on; all valid JSON numbers. NaN and ±infinity, which JSON has no
    ///   number for, are `null`;
    /// - strings quoted and escaped as `JSONString` does (Python's `json.dumps(s, ensure_ascii=False)`): the bytes are
    ///   copied as they are, so the output is valid UTF-8 exactly when the value is.
    public func appendJSON(to output: inout [UInt8]) {
        switch self {
        case .null:
            output.append(contentsOf: Self.nullBytes)
        case .boolean(let b):
            output.append(contentsOf: b ? Self.trueBytes : Self.falseBytes)
        case .int(let n):
            if n < 0 { output.append(UInt8(ascii: "-")) }
            Self.appendDecimal(n.magnitude, to: &output)
        case .unsignedInt(let n):
            Self.appendDecimal(n, to: &output)
        case .float(let x):
            if x.isFinite { output.append(contentsOf: x.description.utf8) } else { output.append(contentsOf: Self.nullBytes) }
        case .double(let x):
            if x.isFinite { output.append(contentsOf: x.description.utf8) } else { output.append(contentsOf: Self.nullBytes) }
        case .string(let bytes):
            JSONString.appendQuoted(bytes, to: &output)
        }
    }

    private static let nullBytes = Array("null".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    /// `n`'s decimal digits, without a temporary string.
    static func appendDecimal(_ n: UInt64, to output: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = n
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }
}
