/// An i-quant whose quantizer takes one 256-element super-block at a time, independently of the others (IQ1_S,
/// IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S): the format states its working arrays and its per-super-block
/// quantizer; the row loop, the importance slicing and the path without importance are shared here. The
/// extension's functions are generic over the format and specialize per format (static requirements, no
/// per-block dynamic dispatch).
protocol IQSuperBlockQuantizer {
    /// The working arrays of `quantizeSuperBlock`.
    associatedtype Scratch
    static var bytes: Int { get }
    /// Calls `body` with the working arrays, allocated once per call on the stack.
    static func withScratch(_ body: (Scratch) -> Void)
    /// One super-block: the 256 floats at `xbl` to the `bytes` bytes at `y`; `qw` is the importance of its 256
    /// columns, or nil (the format's weights without importance).
    static func quantizeSuperBlock(
        _ xbl: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ qw: UnsafePointer<Float>?, _ s: Scratch)
}

extension IQSuperBlockQuantizer {
    /// ggml `quantize_<type>(src, dst, nrows, n_per_row, quant_weights)`: `quantize_row_<type>_impl` on each row,
    /// super-block by super-block, every row with the same column importance.
    static func quantizeWeighted(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?
    ) {
        let blocksPerRow = rowLength / QK_K
        withScratch { s in
            for row in 0..<rows {
                for ibl in 0..<blocksPerRow {
                    quantizeSuperBlock(
                        x + row * rowLength + QK_K * ibl, y + (row * blocksPerRow + ibl) * bytes,
                        importance.map { $0 + QK_K * ibl }, s)
                }
            }
        }
    }

    /// `blocks` super-blocks without importance (each on its own: nothing outside a super-block matters then).
    static func quantizeUnweighted(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ blocks: Int) {
        withScratch { s in
            for ibl in 0..<blocks { quantizeSuperBlock(x + QK_K * ibl, y + ibl * bytes, nil, s) }
        }
    }
}
