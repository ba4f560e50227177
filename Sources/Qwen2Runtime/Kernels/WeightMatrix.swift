import CRuntimeKernels
import Dispatch
import ModelFiles
import QwenKitIO
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which kernels a session multiplies with.
public enum KernelChoice: Sendable, Hashable {
    /// The widest this CPU runs: AVX-512 for the batch path where the CPU has it (`qwenkit_avx512_usable`, which
    /// the environment variable QWENKIT_NO_AVX512 turns off), else the AVX2 kernels where it has AVX2 (generation's
    /// dot products for the 4- to 6-bit types and the batch path's tiles; the portable ones for the rest), else the
    /// portable ones.
    case best
    /// The portable Swift kernels (AVX2 in release builds for x86_64).
    case portable

    /// Whether this choice runs the AVX-512 kernels on this machine.
    var usesAVX512: Bool { self == .best && KernelChoice.avx512Usable }
    /// Whether this choice runs the AVX2 kernels (dot_avx2.c, gemm_avx2.c): on CPUs with AVX2 but not AVX-512 (or with
    /// QWENKIT_NO_AVX512 set).
    var usesAVX2: Bool { self == .best && !KernelChoice.avx512Usable && KernelChoice.avx2Usable }
    /// Checked once.
    static let avx512Usable = qwenkit_avx512_usable() != 0
    static let avx2Usable = qwenkit_avx2_usable() != 0
}

/// A read-only `rows × columns` matrix stored row-major in a ggml type, viewed in a memory-mapped file: row r's
/// bytes start at `base + r × rowBytes`. Multiplying it by a batch of vectors never dequantizes more than one row
/// at a time (per thread).
struct WeightMatrix: @unchecked Sendable {
    let name: String
    /// The GGUF tensor this matrix is (or is part of): `blk.0.attn_q.weight`, `blk.0.ffn_up_exps.weight`.
    let ggufName: String
    /// For one expert of a stacked expert tensor: which, and how many the tensor stacks.
    let expert: (index: Int, count: Int)?
    let type: GGMLType
    /// Output features (GGUF ne[1], the PyTorch first dimension).
    let rows: Int
    /// Input features (GGUF ne[0], the PyTorch last dimension).
    let columns: Int
    let rowBytes: Int
    let base: UnsafeRawPointer
    let kernel: RowKernel
    /// The rows repacked for the AVX-512 kernels, for the types that have such a layout (Q5_0, Q5_1, Q5_K: `PackedRows`), on CPUs
    /// that run them (`packingRows()`); generation and the AVX-512 batch path read these, the portable kernels `base`.
    /// The products read `packed`, plain values; `packedOwner` only keeps the memory alive. (Read through the owner,
    /// every range of every product retained and released it, from both threads: one contended cache line, ~1% of
    /// two-thread generation's samples.)
    private(set) var packed: PackedRows.Layout?
    private var packedOwner: PackedRows?

    init(name: String, ggufName: String? = nil, expert: (index: Int, count: Int)? = nil, type: GGMLType, rows: Int, columns: Int,
         base: UnsafeRawPointer, path: String) throws(RuntimeError) {
        guard let kernel = RowKernel.forType(type) else {
            throw .unsupported(path: path, reason: "tensor \(name) has type \(type.name), which the runtime cannot read")
        }
        guard let rowBytes = try? type.byteCount(elements: columns) else {
            throw .badTensor(path: path, tensor: name, reason: "rows of \(columns) are not whole \(type.name) blocks of \(type.blockSize)")
        }
        self.name = name
        self.ggufName = ggufName ?? name
        self.expert = expert
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.base = base
        self.kernel = kernel
    }

    /// This matrix with its rows repacked for the AVX-512 kernels, where its type has such a layout (`PackedRows`), this
    /// CPU runs them and the packed rows' memory budget allows; else itself. It reads rows × rowBytes bytes at `base`:
    /// call it once the tensor's size is checked.
    func packingRows() -> WeightMatrix {
        guard KernelChoice.avx512Usable,
              let rows = PackedRows(type, source: base, rows: rows, columns: columns, rowBytes: rowBytes) else { return self }
        var m = self
        m.packed = rows.layout
        m.packedOwner = rows
        return m
    }

    /// Row `r` as floats into `out` (`columns` floats).
    @inline(__always)
    func decodeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        kernel.decode(base + r * rowBytes, out, columns)
    }

    /// Rows decoded together by the batch path (the scratch holds this many rows): 4 for the portable kernels, 8
    /// for the AVX-512 ones.
    static let rowGroup = 8
    static let portableRowGroup = 4

    /// y[t·yStride + r] = row r · x[t·columns ..< (t+1)·columns] for every token t < `batch` and row r in `rowRange`.
    /// `scratch` holds at least `rowGroup × columns` floats. One token takes the fused kernel row by row; a batch
    /// decodes four rows at a time and multiplies each token's vector into all four at once (the vector is loaded
    /// once per four rows, and the four sums are independent chains).
    /// `avx2` (only where `wide` is false) takes the AVX2 kernels: for one token where the type has them, and the AVX2
    /// tiles for a batch.
    func multiply(_ x: UnsafePointer<Float>, batch: Int, rowRange: Range<Int>, into y: UnsafeMutablePointer<Float>,
                  yStride: Int, scratch: UnsafeMutablePointer<Float>, wide: Bool = false, avx2: Bool = false) {
        // Plain branches: choosing the closure with `??` allocated a context on every call (a few per token).
        if batch == 1, avx2, let rows = kernel.avx2Rows {
            rows(base + rowRange.lowerBound * rowBytes, rowBytes, rowRange.count, x, columns, y + rowRange.lowerBound)
            return
        }
        if batch == 1, wide, let packed {
            packed.rows(packed.base + rowRange.lowerBound * rowBytes, rowBytes, rowRange.count, x, columns, y + rowRange.lowerBound)
            return
        }
        if batch == 1, wide, let rows = kernel.wideRows {
            rows(base + rowRange.lowerBound * rowBytes, rowBytes, rowRange.count, x, columns, y + rowRange.lowerBound)
            return
        }
        if batch == 1, let dot = kernel.dot {
            for r in rowRange { y[r] = dot(base + r * rowBytes, x, columns) }
            return
        }
        let n = columns
        var r = rowRange.lowerBound
        if wide {
            // The same decoded rows through the AVX-512 tiles (8 rows × 3 tokens).
            while r < rowRange.upperBound {
                let count = min(Self.rowGroup, rowRange.upperBound - r)
                if let packed {
                    for i in 0..<count { packed.decode(packed.base + (r + i) * rowBytes, scratch + i * n, n) }
                } else if let decode = kernel.wideDecode {
                    for i in 0..<count { decode(base + (r + i) * rowBytes, scratch + i * n, n) }
                } else {
                    for i in 0..<count { decodeRow(r + i, into: scratch + i * n) }
                }
                qwenkit_gemm_f32_avx512(scratch, count, n, x, batch, y + r, yStride)
                r += count
            }
            return
        }
        if avx2 {
            // The same decoded rows through the AVX2 tiles (4 rows × 3 tokens), 8 rows per decode.
            while r < rowRange.upperBound {
                let count = min(Self.rowGroup, rowRange.upperBound - r)
                for i in 0..<count { decodeRow(r + i, into: scratch + i * n) }
                qwenkit_gemm_f32_avx2(scratch, count, n, x, batch, y + r, yStride)
                r += count
            }
            return
        }
        while r + Self.portableRowGroup <= rowRange.upperBound {
            for i in 0..<Self.portableRowGroup { decodeRow(r + i, into: scratch + i * n) }
            var t = 0
            while t + 2 <= batch {
                let (xs, zs) = VectorMath.dot4x2(scratch, scratch + n, scratch + 2 * n, scratch + 3 * n,
                                                 x + t * n, x + (t + 1) * n, n)
                for i in 0..<4 {
                    y[t * yStride + r + i] = xs[i]
                    y[(t + 1) * yStride + r + i] = zs[i]
                }
                t += 2
            }
            if t < batch {
                let (s0, s1, s2, s3) = VectorMath.dot4(scratch, scratch + n, scratch + 2 * n, scratch + 3 * n, x + t * n, n)
                let out = y + t * yStride + r
                out[0] = s0
                out[1] = s1
                out[2] = s2
                out[3] = s3
            }
            r += Self.portableRowGroup
        }
        while r < rowRange.upperBound {
            decodeRow(r, into: scratch)
            for t in 0..<batch { y[t * yStride + r] = VectorMath.dot(scratch, x + t * n, n) }
            r += 1
        }
    }
}

/// A matrix's rows in a layout of the AVX-512 kernels, made once when the model is loaded, on CPUs that run those kernels
/// (dot_avx512.c gives the layouts): Q5_0 and Q5_1 rows of two blocks or more in pairs of blocks, Q5_K super-blocks with
/// their 5-bit values together. A block's 32 values then take 8 vector operations instead of 10 (Q5_0 generation over
/// 896-column rows, one thread, from memory: 9.8 -> 11.2-11.6 GB/s). The same number of bytes as the stored rows, in
/// memory of its own (the file's pages are not read again for these rows), which the kernel cannot evict as it can the
/// file's pages: a process holds at most half the machine's memory in packed rows, and matrices past that stay in the
/// file's layout.
final class PackedRows: @unchecked Sendable {  // immutable after init
    /// The packed rows and the kernels that read them (the same floats as the type's kernel and decoder before
    /// packing), closures without context: values a product copies without touching a reference count.
    struct Layout: @unchecked Sendable {
        let base: UnsafeRawPointer
        let rows: RowKernel.Rows
        let decode: RowKernel.Decode
    }

    let layout: Layout
    private let storage: UnsafeMutableRawPointer
    private let bytes: Int

    /// Bytes of packed rows that may exist at once, and that do.
    static let budget = (physicalMemoryBytes() ?? 0) / 2
    private static let held = Atomic<Int>(0)

    /// Packs `rows` rows of `columns` values of `type` from `source`; nil for a type without a packed layout, past the
    /// budget, or when the memory cannot be had.
    /// Load time: on the 0.5B-shaped Q4_K_M model (174 MB of Q5_0 rows) `run`'s load grows by ~70 ms, mostly mapping the
    /// file's pages and the new memory's, which the first prompt no longer pays.
    init?(_ type: GGMLType, source: UnsafeRawPointer, rows: Int, columns: Int, rowBytes: Int) {
        let pack: @Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int) -> Void  // source, destination, rows
        let rowsKernel: RowKernel.Rows, decode: RowKernel.Decode
        switch type {
        case .q5_0, .q5_1:
            guard columns >= 64 else { return nil }
            let withMin: Int32 = type == .q5_1 ? 1 : 0
            pack = { qwenkit_pack_q5_pairs($0, $1, $2, columns / 32, withMin) }
            // Literal flags: a closure capturing withMin would have a context to retain.
            if type == .q5_1 {
                rowsKernel = { qwenkit_rows_q5_pairs_avx512($0, $1, $2, $3, $4, $5, 1) }
                decode = { qwenkit_decode_q5_pairs_avx512($0, $1, $2, 1) }
            } else {
                rowsKernel = { qwenkit_rows_q5_pairs_avx512($0, $1, $2, $3, $4, $5, 0) }
                decode = { qwenkit_decode_q5_pairs_avx512($0, $1, $2, 0) }
            }
        case .q5_K:
            pack = { qwenkit_pack_q5_K($0, $1, $2 * (columns / 256)) }
            rowsKernel = { qwenkit_rows_q5_K_packed_avx512($0, $1, $2, $3, $4, $5) }
            decode = { qwenkit_decode_q5_K_packed_avx512($0, $1, $2) }
        default:
            return nil
        }
        let (bytes, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
        guard !overflow, bytes > 0 else { return nil }
        guard PackedRows.held.wrappingAdd(bytes, ordering: .relaxed).newValue <= PackedRows.budget else {
            PackedRows.held.wrappingSubtract(bytes, ordering: .relaxed)
            return nil
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            PackedRows.held.wrappingSubtract(bytes, ordering: .relaxed)
            return nil
        }
        storage = raw
        layout = Layout(base: raw, rows: rowsKernel, decode: decode)
        self.bytes = bytes
        // Both sides' pages mapped in one call each before the pass (the 0.5B-shaped Q4_K_M model's load 146 -> 123 ms,
        // median of 11 alternating runs): the pass otherwise took a page fault per 4 KB written and per 64 KB read. And
        // the rows in one part per load thread (`loadThreads`) for a matrix of 1 MB or more: the same load 116 -> 85-99 ms
        // on two cores.
        let parts = bytes < 1 << 20 ? 1 : min(loadThreads, rows)
        let from = UInt(bitPattern: source), to = UInt(bitPattern: raw)  // addresses: pointers are not Sendable
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let first = rows * p / parts, end = rows * (p + 1) / parts
            let offset = UInt(first * rowBytes), count = (end - first) * rowBytes
            let source = UnsafeRawPointer(bitPattern: from + offset)!, destination = UnsafeMutableRawPointer(bitPattern: to + offset)!
            prefaultPages(UnsafeRawBufferPointer(start: destination, count: count), forWriting: true)
            prefaultPages(UnsafeRawBufferPointer(start: source, count: count), forWriting: false)
            pack(source, destination, end - first)
        }
    }

    deinit {
        free(storage)
        PackedRows.held.wrappingSubtract(bytes, ordering: .relaxed)
    }
}
