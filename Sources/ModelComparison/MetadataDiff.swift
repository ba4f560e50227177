import ModelFiles

/// The metadata of two GGUF files compared key by key: keys only in B (added), only in A (removed), and in both
/// with a different type or value (changed). Floats compare by bit pattern (so NaN equals itself and 0 differs
/// from -0, as the bytes do); arrays by element type and content.
public struct MetadataDiff: Sendable {
    public struct Change: Sendable {
        public let key: String
        public let a: GGUFValue
        public let b: GGUFValue
        /// For two arrays of one element type and length: how many elements differ and the first that does.
        public let elementDifferences: (count: Int, first: Int)?
    }

    /// Keys only in B, in B's order.
    public let added: [GGUFKeyValue]
    /// Keys only in A, in A's order.
    public let removed: [GGUFKeyValue]
    /// Keys in both whose values differ, in A's order.
    public let changed: [Change]

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    public init(_ a: [GGUFKeyValue], _ b: [GGUFKeyValue]) {
        var bValues: [String: GGUFValue] = [:]
        for kv in b { bValues[kv.key] = kv.value }
        let aKeys = Set(a.map(\.key))
        var removed: [GGUFKeyValue] = []
        var changed: [Change] = []
        for kv in a {
            guard let other = bValues[kv.key] else { removed.append(kv); continue }
            guard !Self.same(kv.value, other) else { continue }
            var elements: (count: Int, first: Int)?
            if case .array(let x) = kv.value, case .array(let y) = other, x.elementType == y.elementType, x.count == y.count {
                elements = Self.elementDifferences(x, y)
            }
            changed.append(Change(key: kv.key, a: kv.value, b: other, elementDifferences: elements))
        }
        self.removed = removed
        self.changed = changed
        self.added = b.filter { !aKeys.contains($0.key) }
    }

    /// The same type and value: floats by bit pattern, arrays by element type and encoded bytes.
    static func same(_ x: GGUFValue, _ y: GGUFValue) -> Bool {
        switch (x, y) {
        case let (.float32(p), .float32(q)): return p.bitPattern == q.bitPattern
        case let (.float64(p), .float64(q)): return p.bitPattern == q.bitPattern
        default: return x == y  // GGUFArray's == compares element type, count and encoded bytes
        }
    }

    /// Differing elements of two arrays of one type and length, and the first of them (strings by their bytes).
    static func elementDifferences(_ x: GGUFArray, _ y: GGUFArray) -> (count: Int, first: Int)? {
        var count = 0
        var first: Int?
        func note(_ i: Int) {
            count += 1
            if first == nil { first = i }
        }
        if x.elementType == .string {
            var left: [[UInt8]] = []
            left.reserveCapacity(x.count)
            x.forEachString { _, bytes in left.append(Array(bytes)) }
            y.forEachString { i, bytes in if !left[i].elementsEqual(bytes) { note(i) } }
        } else {
            for i in 0..<x.count where !same(x.value(at: i), y.value(at: i)) { note(i) }
        }
        return first.map { (count, $0) }
    }
}
