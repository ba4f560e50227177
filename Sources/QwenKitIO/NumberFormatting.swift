#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Numbers and columns as the reports print them (inspect, diff, verify), in one place.

/// `1,234,567`.
public func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// C's `%.*g`: `digits` significant digits, the shorter of fixed and exponent form (`inf`, `nan` as C prints them).
public func formatG(_ x: Double, digits: Int = 6) -> String { cFormat("%.*g", digits, x) }

/// C's `%.*f`.
public func formatFixed(_ x: Double, decimals: Int) -> String { cFormat("%.*f", decimals, x) }

private func cFormat(_ format: String, _ precision: Int, _ x: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([Int32(precision), x]) { args in
        buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, args) }
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `s` padded with spaces to `width` characters (left-aligned, or right-aligned), never cut.
public func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let n = s.count
    guard n < width else { return right ? " " + s : s + " " }
    let spaces = String(repeating: " ", count: width - n)
    return right ? spaces + s : s + spaces
}
