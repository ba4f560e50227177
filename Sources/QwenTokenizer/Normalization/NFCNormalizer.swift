// TEMPORARY stub (replaced by the real normalizer): treats any non-ASCII text as possibly unstable
// and normalizes with the standard library.
public struct NFCNormalizer: Sendable {
    public init() {}
    public func firstUnstableOffset(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        for (i, b) in text.enumerated() where b >= 0x80 { return i }
        return nil
    }
    public func normalize(_ text: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.append(contentsOf: String(decoding: text, as: UTF8.self)._nfcCodeUnits)
    }
    public func isStableBoundary(_ text: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        offset >= text.count || text[offset] < 0x80
    }
}
