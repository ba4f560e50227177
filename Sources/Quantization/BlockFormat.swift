import ModelFiles

/// One ggml storage format as a row codec: whole blocks of `blockSize` floats in, `typeSize` bytes per block out,
/// and back. Block counts and byte sizes come from `GGMLType.traits`; nothing here restates them.
///
/// The stored functions work on raw pointers and a block count and check nothing; the public methods check the
/// buffer sizes first and throw `QuantizationError` when a row is not whole blocks or a buffer has the wrong size.
public struct BlockFormat: Sendable {
    /// Quantize `blocks` blocks: `blocks × blockSize` floats from `source`, `blocks × typeSize` bytes to `destination`.
    public typealias QuantizeBlocks = @Sendable (
        _ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, _ blocks: Int) -> Void
    /// Dequantize `blocks` blocks: `blocks × typeSize` bytes from `source`, `blocks × blockSize` floats out.
    public typealias DequantizeBlocks = @Sendable (
        _ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) -> Void

    /// ggml's `quantize_<type>(src, dst, nrows, n_per_row, quant_weights)`: `rows` whole rows of `rowLength` floats
    /// (whole blocks) from `source`, their bytes to `destination`, with `importance` the weight of each column
    /// (`rowLength` floats, an importance matrix's mean squared activations) or nil.
    public typealias QuantizeRows = @Sendable (
        _ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
        _ importance: UnsafePointer<Float>?) -> Void

    public let type: GGMLType
    /// ggml's `quantize_<type>` for when an importance vector is given (nil: the type ignores it, as Q8_0 and the
    /// float types do, and `quantizeBlocks` is used).
    let quantizeRowsWithImportance: QuantizeRows?
    /// ggml's `ggml_quantize_requires_imatrix`: the type cannot be made without an importance vector (its search
    /// needs the weights), so `quantizeRow` and `quantizeRows` without one throw `needsImportance`.
    public let requiresImportance: Bool
    /// Whether an importance vector changes what this type's quantizer writes.
    public var usesImportance: Bool { quantizeRowsWithImportance != nil }
    /// The quantizer used by `quantizeRow`: the reference, or a fast path tested to give the same bytes.
    let quantizeBlocks: QuantizeBlocks
    /// ggml's `quantize_row_*_ref`, written out step by step.
    let quantizeBlocksReference: QuantizeBlocks
    /// ggml's `dequantize_row_*`.
    let dequantizeBlocks: DequantizeBlocks

    /// `reference` is what ggml's `quantize_<type>` does without weights (`quantize_row_*_ref` for the legacy and
    /// K types; for the IQ and ternary types their `_impl` with no weights, which depends on nothing outside a
    /// block, so `blocks` blocks may be one row or many). `weighted` is the same with an importance vector.
    init(type: GGMLType, quantize: QuantizeBlocks? = nil, reference: @escaping QuantizeBlocks,
         weighted: QuantizeRows? = nil, requiresImportance: Bool = false,
         dequantize: @escaping DequantizeBlocks) {
        self.type = type
        self.quantizeRowsWithImportance = weighted
        self.requiresImportance = requiresImportance
        self.quantizeBlocks = quantize ?? reference
        self.quantizeBlocksReference = reference
        self.dequantizeBlocks = dequantize
    }

    /// ggml's `dequantize_row_*` without the size checks of `dequantizeRow`, for callers that checked the row
    /// length once (the runtime's matrix kernels call it per row).
    public var uncheckedDequantizer: DequantizeBlocks { dequantizeBlocks }

    /// Elements per block.
    public var blockSize: Int { type.blockSize }
    /// Bytes per block.
    public var typeSize: Int { type.typeSize }

    /// Bytes that a row of `elements` floats takes (`elements` must be whole blocks).
    public func rowByteCount(elements: Int) throws(QuantizationError) -> Int {
        do {
            return try type.byteCount(elements: elements)
        } catch {
            throw .invalidRowLength(type: type.name, elements: elements, blockSize: blockSize)
        }
    }

    /// Quantizes one row (or several rows laid end to end: blocks are independent) into `destination`, which must
    /// be exactly `rowByteCount(elements: source.count)` bytes.
    public func quantizeRow(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawBufferPointer
    ) throws(QuantizationError) {
        let blocks = try checkedBlocks(elements: source.count, bytes: destination.count)
        guard blocks > 0 else { return }
        if requiresImportance { throw .needsImportance(type: type.name) }
        quantizeBlocks(source.baseAddress!, destination.baseAddress!, blocks)
    }

    /// Quantizes whole rows of `rowLength` floats as ggml's `ggml_quantize_chunk` does: with `importance` (one
    /// weight per column, `rowLength` floats) through the type's weighted quantizer where it has one, otherwise as
    /// `quantizeRow`. Rows matter here: the weighted legacy quantizers scale each weight by the row's variance.
    public func quantizeRows(
        _ source: UnsafeBufferPointer<Float>, rowLength: Int, importance: UnsafeBufferPointer<Float>?,
        into destination: UnsafeMutableRawBufferPointer
    ) throws(QuantizationError) {
        let blocks = try checkedBlocks(elements: source.count, bytes: destination.count)
        guard blocks > 0 else { return }
        let rowBytes = try rowByteCount(elements: rowLength)
        guard rowLength > 0, source.count % rowLength == 0, rowBytes > 0 else {
            throw .invalidRowLength(type: type.name, elements: rowLength, blockSize: blockSize)
        }
        if let importance, let weighted = quantizeRowsWithImportance {
            guard importance.count == rowLength else {
                throw .importanceLength(type: type.name, rowLength: rowLength, importance: importance.count)
            }
            weighted(source.baseAddress!, destination.baseAddress!, source.count / rowLength, rowLength, importance.baseAddress!)
            return
        }
        if importance == nil && requiresImportance { throw .needsImportance(type: type.name) }
        quantizeBlocks(source.baseAddress!, destination.baseAddress!, blocks)
    }

    /// `quantizeRow` through ggml's reference quantizer even where a fast path exists (they give the same bytes).
    public func quantizeRowReference(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawBufferPointer
    ) throws(QuantizationError) {
        let blocks = try checkedBlocks(elements: source.count, bytes: destination.count)
        guard blocks > 0 else { return }
        if requiresImportance { throw .needsImportance(type: type.name) }
        quantizeBlocksReference(source.baseAddress!, destination.baseAddress!, blocks)
    }

    /// Dequantizes whole blocks from `source` into `destination` (`destination.count` floats, whole blocks, and
    /// `source` exactly the bytes they take).
    public func dequantizeRow(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>
    ) throws(QuantizationError) {
        let blocks = try checkedBlocks(elements: destination.count, bytes: source.count)
        guard blocks > 0 else { return }
        dequantizeBlocks(source.baseAddress!, destination.baseAddress!, blocks)
    }

    private func checkedBlocks(elements: Int, bytes: Int) throws(QuantizationError) -> Int {
        let needed = try rowByteCount(elements: elements)
        guard bytes == needed else {
            throw .byteCountMismatch(type: type.name, elements: elements, needed: needed, actual: bytes)
        }
        return elements / blockSize
    }
}

/// What a row codec refuses: buffers whose sizes do not describe whole blocks of the same row.
public enum QuantizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The row length is negative or not a multiple of the type's block size.
    case invalidRowLength(type: String, elements: Int, blockSize: Int)
    /// The byte buffer does not hold exactly the blocks of the float row.
    case byteCountMismatch(type: String, elements: Int, needed: Int, actual: Int)
    /// The type has no codec here (Q8_1, integers, F64, types not written yet).
    case noCodec(type: String)
    /// The type's quantizer needs an importance vector and none was given.
    case needsImportance(type: String)
    /// The importance vector does not have one weight per column.
    case importanceLength(type: String, rowLength: Int, importance: Int)

    public var description: String {
        switch self {
        case .invalidRowLength(let type, let elements, let blockSize):
            return "\(type): a row of \(elements) elements is not a whole number of \(blockSize)-element blocks"
        case .byteCountMismatch(let type, let elements, let needed, let actual):
            return "\(type): \(elements) elements take \(needed) bytes, but the buffer holds \(actual)"
        case .noCodec(let type):
            return "\(type): no quantizer or dequantizer for this type"
        case .needsImportance(let type):
            return "\(type) needs an importance matrix (--imatrix): its quantizer cannot choose grid points without one"
        case .importanceLength(let type, let rowLength, let importance):
            return "\(type): rows of \(rowLength) columns, but the importance vector has \(importance) values"
        }
    }
}

/// A format whose importance-weighted quantizer has two paths that write the same bytes: ggml's scalar order, and its
/// searches run side by side in SIMD lanes. The format states `quantizeWeighted(…, lanes:)`; the two entry points
/// (the registry's `weighted`, and the reference the golden tests hold the fast one to) follow from it.
protocol LaneWeightedQuantizer {
    static func quantizeWeighted(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
                                 _ importance: UnsafePointer<Float>?, lanes: Bool)
}

extension LaneWeightedQuantizer {
    /// ggml's `quantize_<type>` with an importance vector, in ggml's order.
    static func quantizeWeightedReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
                                          _ importance: UnsafePointer<Float>?) {
        quantizeWeighted(x, y, rows, rowLength, importance, lanes: false)
    }

    /// The same bytes with the searches in SIMD lanes: the path `quantize --imatrix` takes.
    static func quantizeWeightedFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ rows: Int, _ rowLength: Int,
                                     _ importance: UnsafePointer<Float>?) {
        quantizeWeighted(x, y, rows, rowLength, importance, lanes: true)
    }
}
