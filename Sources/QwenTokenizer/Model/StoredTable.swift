// A read-only table of fixed-width integers, wherever it lies.
//
// A tokenizer built in this process owns its tables; a compiled one (the embedded Qwen2 tokenizer in the binary's
// read-only data, or a .qtok file read into one buffer) is used where its bytes are, so that starting a process copies
// nothing and derives nothing: the embedded tokenizer's 9 MB of tables are only paged in where an input touches them.

public struct StoredTable<Element: FixedWidthInteger>: RandomAccessCollection, @unchecked Sendable {
    public let base: UnsafePointer<Element>
    public let count: Int
    /// Keeps the memory alive: the table's own buffer, or the buffer of the compiled tokenizer it lies in (nil for the
    /// embedded tokenizer, which lives as long as the program).
    private let owner: AnyObject?

    /// A table of its own, holding a copy of `values`.
    public init(_ values: [Element]) {
        let storage = TableStorage(bytes: values.count * MemoryLayout<Element>.stride)
        let typed = storage.pointer.bindMemory(to: Element.self, capacity: values.count)
        values.withUnsafeBufferPointer { if let b = $0.baseAddress { typed.initialize(from: b, count: values.count) } }
        self.base = UnsafePointer(typed)
        self.count = values.count
        self.owner = storage
    }

    /// `count` values at `base`, aligned for Element, kept alive by `owner`.
    init(base: UnsafeRawPointer, count: Int, owner: AnyObject?) {
        self.base = base.assumingMemoryBound(to: Element.self)
        self.count = count
        self.owner = owner
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    @inline(__always)
    public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "table index out of range")
        return base[i]
    }

    @inline(__always)
    public func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Element>) throws(E) -> R) throws(E) -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}

/// A 64-byte-aligned buffer, freed with its last table.
final class TableStorage: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(bytes: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    deinit { pointer.deallocate() }
}
