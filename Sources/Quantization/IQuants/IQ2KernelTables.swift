/// The IQ2 dequantization grids of IQTables as immortal pointers, for fused kernels outside this module (the
/// runtime's IQ2 row kernels): point j's eight values are the bytes of entry j, value i in byte i. Copied once, on
/// first use and never written again (hence `nonisolated(unsafe)`: the pointees are immutable); read a pointer into
/// a local before a loop (each `static let` read goes through a once-check).
public enum IQ2KernelTables {
    /// `iq2xxs_grid`: 256 points of values 8, 25, 43.
    nonisolated(unsafe) public static let iq2xxsGrid: UnsafePointer<UInt64> = immortalCopy(IQTables.iq2xxsGrid)
    /// `iq2xs_grid`: 512 points.
    nonisolated(unsafe) public static let iq2xsGrid: UnsafePointer<UInt64> = immortalCopy(IQTables.iq2xsGrid)
    /// `iq2s_grid`: 1024 points.
    nonisolated(unsafe) public static let iq2sGrid: UnsafePointer<UInt64> = immortalCopy(IQTables.iq2sGrid)
    /// `ksigns_iq2xs`: 128 sign bytes, index i giving i with bit 7 set when i has an odd number of bits.
    nonisolated(unsafe) public static let ksignsIQ2XS: UnsafePointer<UInt8> = immortalCopy(IQTables.ksignsIQ2XS)

    private static func immortalCopy<T>(_ table: [T]) -> UnsafePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: table.count)
        p.initialize(from: table, count: table.count)
        return UnsafePointer(p)
    }
}
