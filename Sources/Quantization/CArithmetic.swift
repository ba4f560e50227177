// The little pieces of C semantics that ggml's reference quantizers lean on, written once so the per-format files
// can follow ggml line by line. All arithmetic elsewhere is plain Float (binary32) in ggml's source order: Swift
// neither reassociates nor fuses multiply-adds, and ggml-base is compiled without -march (no FMA contraction) and
// without -ffast-math (float reductions stay sequential), so the same order gives the same bits.
//
// The three rounding rules (shared/SPEC-FACTS.md §3.0):
//   1. `roundf`, half away from zero (Q8_0): `Float.rounded()` (`.toNearestOrAwayFromZero`).
//   2. truncation of `v + 0.5f` / `+ 8.5f` / `+ 16.5f` through a C cast (Q4_0, Q4_1, Q5_0, Q5_1): `cInt8`, `cUInt8`.
//   3. `nearest_int`, half to even through the 1.5 × 2^23 trick (every K-quant): `nearestInt`.

/// C's float-to-int conversion as ggml's x86-64 build executes it (`cvttss2si` / `cvttps2dq`): truncation toward
/// zero, and NaN or anything outside Int32 gives Int32.min, the "integer indefinite" value. C leaves those cases
/// undefined; matching the hardware keeps degenerate blocks (an inf `1/d` from subnormal inputs) bit-exact.
@inline(__always)
func cInt32(_ v: Float) -> Int32 {
    guard v > -2147483904.0 && v < 2147483648.0 else { return Int32.min }  // also false for NaN
    return Int32(v)
}

/// `(int8_t)v`: the 32-bit conversion's low byte, as gcc compiles it (cvtt to 32 bits, then a byte truncation).
@inline(__always)
func cInt8(_ v: Float) -> Int8 { Int8(truncatingIfNeeded: cInt32(v)) }

/// `(uint8_t)v`, the same way.
@inline(__always)
func cUInt8(_ v: Float) -> UInt8 { UInt8(truncatingIfNeeded: cInt32(v)) }

/// ggml's `nearest_int`: adding 1.5 × 2^23 leaves the integer in the low mantissa bits, rounded half to even by
/// the addition itself. Exact for |f| ≤ 4194303; ggml only asserts that in debug builds, so beyond it (and for NaN
/// and inf) this returns the same garbage ggml's release build does.
@inline(__always)
func nearestInt(_ f: Float) -> Int {
    let v = f + 12582912.0
    return Int(Int32(bitPattern: v.bitPattern & 0x007F_FFFF) - 0x0040_0000)
}

/// `MAX(lo, MIN(hi, v))`, ggml's clamp of a quant index.
@inline(__always)
func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { max(lo, min(hi, v)) }

// MARK: - Little-endian block fields

@inline(__always)
func loadByte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 { p.load(fromByteOffset: offset, as: UInt8.self) }

@inline(__always)
func storeByte(_ v: UInt8, _ p: UnsafeMutableRawPointer, _ offset: Int) {
    p.storeBytes(of: v, toByteOffset: offset, as: UInt8.self)
}

@inline(__always)
func loadUInt16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
    UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

@inline(__always)
func storeUInt16(_ v: UInt16, _ p: UnsafeMutableRawPointer, _ offset: Int) {
    p.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt16.self)
}

@inline(__always)
func loadUInt32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
    UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

@inline(__always)
func storeUInt32(_ v: UInt32, _ p: UnsafeMutableRawPointer, _ offset: Int) {
    p.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt32.self)
}

/// An fp16 field widened with ggml's `GGML_FP16_TO_FP32`.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float { HalfFloat.float(fromBits: loadUInt16(p, offset)) }

/// An fp16 field written with ggml's `GGML_FP32_TO_FP16`.
@inline(__always)
func storeHalf(_ v: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) {
    storeUInt16(HalfFloat.bits(from: v), p, offset)
}
