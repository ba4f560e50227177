/// The IQ2 dequantization grids of IQTables widened to floats, as immortal pointers for fused kernels outside this
/// module (the runtime's IQ2 row kernels): point j's eight values are floats 8j ..< 8j + 8 (byte i of the grid
/// entry is value i), so a kernel loads a group's values as one SIMD8 with no conversion. Made once, on first use,
/// and never written again (hence `nonisolated(unsafe)`: the pointees are immutable); read a pointer into a local
/// before a loop (each `static let` read goes through a once-check).
public enum IQ2KernelTables {
    /// `iq2xxs_grid`: 256 points of values 8, 25, 43 (8 KiB).
    nonisolated(unsafe) public static let iq2xxsGrid: UnsafePointer<Float> = widened(IQTables.iq2xxsGrid)
    /// `iq2xs_grid`: 512 points (16 KiB).
    nonisolated(unsafe) public static let iq2xsGrid: UnsafePointer<Float> = widened(IQTables.iq2xsGrid)
    /// `iq2s_grid`: 1024 points (32 KiB).
    nonisolated(unsafe) public static let iq2sGrid: UnsafePointer<Float> = widened(IQTables.iq2sGrid)
    /// `ksigns_iq2xs`: 128 sign bytes, index i giving i with bit 7 set when i has an odd number of bits.
    nonisolated(unsafe) public static let ksignsIQ2XS: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: IQTables.ksignsIQ2XS.count)
        p.initialize(from: IQTables.ksignsIQ2XS, count: IQTables.ksignsIQ2XS.count)
        return UnsafePointer(p)
    }()

    private static func widened(_ grid: [UInt64]) -> UnsafePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 8 * grid.count)
        for (j, word) in grid.enumerated() {
            for i in 0..<8 { (p + 8 * j + i).initialize(to: Float(UInt8(truncatingIfNeeded: word >> (8 * UInt64(i))))) }
        }
        return UnsafePointer(p)
    }
}
