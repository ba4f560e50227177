/// `lroundf(v) + 1` converted to `int`, the trit (0, 1, 2 for −1, 0, 1) both ternary quantizers compute.
/// glibc's `lroundf` rounds half away from zero; beyond the range of `long` (and for inf and NaN, which a subnormal
/// block maximum produces through `1/d` = inf) it returns the hardware's LONG_MIN, whose low 32 bits plus one give
/// 1, the zero trit. The trit is used modulo 256 (the packing is uint8_t arithmetic), so wider garbage need not be
/// kept.
@inline(__always)
func ternaryTrit(_ v: Float) -> Int32 {
    let r = v.rounded(.toNearestOrAwayFromZero)
    guard abs(r) < 0x1p63 else { return Int32(truncatingIfNeeded: Int.min &+ 1) }
    return Int32(truncatingIfNeeded: Int(r) &+ 1)
}
