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

    public let type: GGMLType
    /// The quantizer used by `quantizeRow`: the reference, or a fast path tested to give the same bytes.
    let quantizeBlocks: QuantizeBlocks
    /// ggml's `quantize_row_*_ref`, written out step by step.
    let quantizeBlocksReference: QuantizeBlocks
    /// ggml's `dequantize_row_*`.
    let dequantizeBlocks: DequantizeBlocks

    init(type: GGMLType, quantize: QuantizeBlocks? = nil, reference: @escaping QuantizeBlocks,
         dequantize: @escaping DequantizeBlocks) {
        self.type = type
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
        quantizeBlocks(source.baseAddress!, destination.baseAddress!, blocks)
    }

    /// `quantizeRow` through ggml's reference quantizer even where a fast path exists (they give the same bytes).
    public func quantizeRowReference(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawBufferPointer
    ) throws(QuantizationError) {
        let blocks = try checkedBlocks(elements: source.count, bytes: destination.count)
        guard blocks > 0 else { return }
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
    /// The type has no codec here (the IQ and TQ types, Q8_1, MXFP4, integers, F64).
    case noCodec(type: String)

    public var description: String {
        switch self {
        case .invalidRowLength(let type, let elements, let blockSize):
            return "\(type): a row of \(elements) elements is not a whole number of \(blockSize)-element blocks"
        case .byteCountMismatch(let type, let elements, let needed, let actual):
            return "\(type): \(elements) elements take \(needed) bytes, but the buffer holds \(actual)"
        case .noCodec(let type):
            return "\(type): no quantizer or dequantizer for this type"
        }
    }
}
