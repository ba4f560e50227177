import Testing
import Parquet

private func json(_ value: ParquetValue) -> String {
    var out: [UInt8] = []
    value.appendJSON(to: &out)
    return String(decoding: out, as: UTF8.self)
}

@Suite("carried values as JSON")
struct ValueJSONTests {
    @Test("integers, unsigned integers, booleans, null")
    func integers() {
        #expect(json(.null) == "null")
        #expect(json(.boolean(true)) == "true")
        #expect(json(.boolean(false)) == "false")
        #expect(json(.int(0)) == "0")
        #expect(json(.int(-1)) == "-1")
        #expect(json(.int(Int64.min)) == "-9223372036854775808")
        #expect(json(.int(Int64.max)) == "9223372036854775807")
        #expect(json(.unsignedInt(UInt64.max)) == "18446744073709551615")
        #expect(json(.unsignedInt(1 << 63)) == "9223372036854775808")
    }

    @Test("floats: the shortest digits that read back (Swift's description), non-finite as null")
    func floats() {
        let doubles: [(Double, String)] = [
            (0.1, "0.1"), (1, "1.0"), (-0.0, "-0.0"), (1e-4, "0.0001"), (1e-5, "1e-05"), (.leastNonzeroMagnitude, "5e-324"),
            (9007199254740992, "9007199254740992.0"), (1e16, "1e+16"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
        ]
        for (x, text) in doubles { #expect(json(.double(x)) == text, "\(x)") }
        let floats: [(Float, String)] = [
            (0.1, "0.1"), (16777216, "16777216.0"), (33554432, "3.3554432e+07"), (.leastNonzeroMagnitude, "1e-45"), (3.4028235e38, "3.4028235e+38"),
            (.nan, "null"), (-.infinity, "null"),
        ]
        for (x, text) in floats { #expect(json(.float(x)) == text, "\(x)") }
    }

    @Test("strings escaped as json.dumps(ensure_ascii=False) does")
    func strings() {
        let bytes = Array("q\"b\\n\n\u{1}é漢😀\u{7F}".utf8)
        let text = bytes.withUnsafeBufferPointer { json(.string($0)) }
        #expect(text == "\"q\\\"b\\\\n\\n\\u0001é漢😀\u{7F}\"")
    }
}
