import ModelFiles
import ModelInspection
import QwenKitIO
import Quantization

/// Reads whole rows of a compared tensor as float32. A row is the innermost dimension (GGUF `ne[0]`, the last
/// PyTorch dimension), so a quantized row is whole blocks and any row range can be dequantized on its own; the
/// parts (a layer's experts) are laid end to end. Built only for tensors whose every byte count checks out, so
/// reading never fails.
struct RowReader: @unchecked Sendable {
    /// Decodes whole rows: `source` holds exactly the bytes of `out.count / columns` rows.
    typealias Decode = @Sendable (_ source: UnsafeRawBufferPointer, _ out: UnsafeMutableBufferPointer<Float>) -> Void

    /// Elements per row.
    let columns: Int
    let rowCount: Int
    let rowBytes: Int
    /// Each part's bytes and its number of rows.
    let parts: [(data: UnsafeRawBufferPointer, rows: Int)]
    let decode: Decode

    /// Why a tensor cannot be read as float32.
    struct Unsupported: Error {
        let reason: String
    }

    init(_ tensor: ComparedTensor) throws(Unsupported) {
        let type = tensor.type
        let ggml: GGMLType?
        switch type {
        case .ggml(let t): ggml = t
        case .safetensors(let d): ggml = d.ggmlType
        }
        guard let ggml, let decode = Self.decoder(for: ggml) else {
            throw Unsupported(reason: "no float decoder for \(type.name)")
        }
        columns = tensor.shape.last ?? 1
        do {
            rowBytes = try ggml.byteCount(elements: columns)
        } catch {
            throw Unsupported(reason: "rows of \(columns) elements are not whole \(ggml.name) blocks of \(ggml.blockSize)")
        }
        var parts: [(data: UnsafeRawBufferPointer, rows: Int)] = []
        for p in tensor.parts {
            let rows = columns == 0 ? 0 : p.elementCount / columns
            guard rows * columns == p.elementCount, rows * rowBytes == p.byteCount, p.data.count == p.byteCount else {
                throw Unsupported(reason: "\(p.name): \(p.byteCount) bytes are not \(p.elementCount / Swift.max(1, columns)) rows of \(rowBytes)")
            }
            parts.append((p.data, rows))
        }
        self.parts = parts
        self.rowCount = parts.reduce(0) { $0 + $1.rows }
        self.decode = decode
    }

    /// The dequantizer for `type`: the Quantization registry's (F32, F16, BF16 and the block types), or the
    /// statistics decoder for F64; nil for integer and other types.
    static func decoder(for type: GGMLType) -> Decode? {
        if let format = QuantizationFormats.format(for: type) {
            return { source, out in
                do {
                    try format.dequantizeRow(source, into: out)
                } catch {
                    preconditionFailure("RowReader: sizes were checked when it was made: \(error)")
                }
            }
        }
        if let f = TensorStatisticsCalculator.builtinDecoder(for: .ggml(type)) {
            return { source, out in f(source, 0, out) }
        }
        return nil
    }

    /// Decodes `rows` into `out` (`rows.count × columns` floats).
    func read(rows: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
        forEachPiece(rows) { bytes, outputRow, count in
            decode(bytes, UnsafeMutableBufferPointer(rebasing: out[(outputRow * columns)..<((outputRow + count) * columns)]))
        }
    }

    /// Drops the pages holding `rows` from the resident set (they are re-read from the file if touched again).
    func releasePages(rows: Range<Int>) {
        forEachPiece(rows) { bytes, _, _ in MappedFile.releaseResidentPages(bytes) }
    }

    /// Calls `body` for each part's share of `rows`: its bytes, the first row's position within `rows`, the count.
    private func forEachPiece(_ rows: Range<Int>, _ body: (UnsafeRawBufferPointer, Int, Int) -> Void) {
        var partStart = 0
        for part in parts {
            let lo = Swift.max(rows.lowerBound, partStart), hi = Swift.min(rows.upperBound, partStart + part.rows)
            if lo < hi {
                let first = lo - partStart
                body(UnsafeRawBufferPointer(rebasing: part.data[(first * rowBytes)..<((first + hi - lo) * rowBytes)]),
                     lo - rows.lowerBound, hi - lo)
            }
            partStart += part.rows
            if partStart >= rows.upperBound { break }
        }
    }
}
