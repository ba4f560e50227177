import Dispatch
import ModelFiles
import QwenKitIO
import Synchronization

/// Re-encodes one tensor's bytes from one ggml type to another in chunks, for the streaming writers (`convert`,
/// `quantize`): memory stays at two chunk buffers whatever the tensor size, and each chunk's mapped source pages are
/// released once it is written, so resident memory stays flat on models larger than RAM.
///
/// Bytes of the same type are copied as they are. Otherwise each chunk (whole rows) is decoded to float32 (exact for
/// F16 and BF16, ggml's `dequantize_row_*` for block types) and encoded by the target's `BlockFormat` (ggml's
/// reference quantizers, or fast paths tested to give their bytes). The chunk is cut into `threads` parts at
/// multiples of 256 elements, whole blocks of every type; blocks are independent, so the bytes do not depend on the
/// thread count.
///
/// Performance note (`perf`, 2 threads, Q6_K of the 0.5B-shaped model): both threads are busy decoding and
/// quantizing, split evenly; what stays serial is the chunk's write (the kernel's page-cache copy, ~8% of samples),
/// during which the other thread waits. Overlapping the write with the next chunk was not needed to beat
/// llama-quantize and was left out.
public final class TensorTranscoder {
    /// Elements per chunk: 256 Ki floats (1 MB) keeps the buffers in L2 and the writes large.
    public static let chunkElements = 1 << 18
    /// Where a chunk may be cut between threads.
    static let partAlignment = 256

    public let threads: Int
    private var floats: UnsafeMutableBufferPointer<Float>
    private var bytes: UnsafeMutableRawBufferPointer

    public init(threads: Int) {
        self.threads = Swift.max(1, threads)
        floats = .allocate(capacity: Self.chunkElements)
        bytes = .allocate(byteCount: Self.chunkElements * 4, alignment: 64)
    }

    /// Grows the buffers to hold `elements` floats (a row longer than a chunk, which weighted quantization cannot
    /// cut).
    private func reserve(_ elements: Int) {
        guard elements > floats.count else { return }
        floats.deallocate()
        bytes.deallocate()
        floats = .allocate(capacity: elements)
        bytes = .allocate(byteCount: elements * 4, alignment: 64)
    }

    deinit {
        floats.deallocate()
        bytes.deallocate()
    }

    /// Re-encodes `source` (whole rows of `rowLength` elements of `sourceType`) as `type`, handing the output to
    /// `write` in order. Throws `QuantizationError` when a type has no codec or the rows are not whole blocks, and
    /// rethrows what `write` throws.
    ///
    /// `copiesSameType` false sends bytes whose type does not change through float32 too, as a float32 file in
    /// between would (F16 NaN payloads dropped, BF16 NaNs made quiet; every other value comes back unchanged).
    /// F32 is copied either way: its round trip is the identity.
    ///
    /// With `importance` (llama-quantize's imatrix entry for the tensor: `rowLength` weights per matrix, one matrix
    /// per expert of a stacked tensor, each `rowsPerMatrix` rows) rows go through the type's weighted quantizer,
    /// each with its matrix's weights; `firstRow` is the tensor row `source` starts at (a checkpoint gives a stacked
    /// tensor expert by expert). Chunks and thread parts are then cut at rows, which do not depend on one another.
    public func transcode(_ source: UnsafeRawBufferPointer, from sourceType: GGMLType, rowLength: Int, to type: GGMLType,
                          copiesSameType: Bool = true, importance: UnsafeBufferPointer<Float>? = nil,
                          rowsPerMatrix: Int = 0, firstRow: Int = 0,
                          write: (UnsafeRawBufferPointer) throws -> Void) throws {
        if sourceType == type, copiesSameType || type == .f32 {
            var offset = 0
            while offset < source.count {
                let end = Swift.min(source.count, offset + Self.chunkElements * 4)
                let piece = UnsafeRawBufferPointer(rebasing: source[offset..<end])
                try write(piece)
                MappedFile.releaseResidentPages(piece)
                offset = end
            }
            return
        }
        guard let decoder = QuantizationFormats.format(for: sourceType) else { throw QuantizationError.noCodec(type: sourceType.name) }
        guard let encoder = QuantizationFormats.format(for: type) else { throw QuantizationError.noCodec(type: type.name) }
        let elements = source.count / sourceType.typeSize * sourceType.blockSize
        guard elements > 0 else { return }
        if let importance, rowLength > 0 {
            try transcodeWeighted(source, decoder: decoder, encoder: encoder, elements: elements, rowLength: rowLength,
                                  importance: importance, rowsPerMatrix: Swift.max(1, rowsPerMatrix), firstRow: firstRow,
                                  write: write)
            return
        }
        // Whole rows per chunk (a row longer than the chunk is converted in whole 256-element pieces).
        let row = Swift.max(1, rowLength)
        var step = Self.chunkElements >= row ? Self.chunkElements / row * row : Self.chunkElements
        step = Swift.max(step, type.blockSize)
        let inputBytes = { (elements: Int) throws(QuantizationError) -> Int in try decoder.rowByteCount(elements: elements) }
        var start = 0
        while start < elements {
            let n = Swift.min(step, elements - start)
            let input = UnsafeRawBufferPointer(rebasing: source[try inputBytes(start)..<(try inputBytes(start + n))])
            let out = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<(try encoder.rowByteCount(elements: n))])
            let part = n >= threads * Self.partAlignment ? n / threads / Self.partAlignment * Self.partAlignment : n
            var parts: [Range<Int>] = []
            var cut = 0
            while cut < n {
                let end = parts.count == threads - 1 || part == n ? n : cut + part
                parts.append(cut..<end)
                cut = end
            }
            let ranges = parts
            nonisolated(unsafe) let (floatBase, outBase, inputBase) = (floats, out, input)
            let failures = Mutex<[QuantizationError]>([])
            DispatchQueue.concurrentPerform(iterations: ranges.count) { p in
                let r = ranges[p]
                do throws(QuantizationError) {
                    let inBytes = UnsafeRawBufferPointer(
                        rebasing: inputBase[(try decoder.rowByteCount(elements: r.lowerBound))..<(try decoder.rowByteCount(elements: r.upperBound))])
                    let f = UnsafeMutableBufferPointer(rebasing: floatBase[r])
                    try decoder.dequantizeRow(inBytes, into: f)
                    let first = try encoder.rowByteCount(elements: r.lowerBound)
                    let last = try encoder.rowByteCount(elements: r.upperBound)
                    try encoder.quantizeRow(UnsafeBufferPointer(f), into: UnsafeMutableRawBufferPointer(rebasing: outBase[first..<last]))
                } catch {
                    failures.withLock { $0.append(error) }
                }
            }
            if let error = failures.withLock({ $0.first }) { throw error }
            try write(UnsafeRawBufferPointer(out))
            MappedFile.releaseResidentPages(input)
            start += n
        }
    }

    /// `transcode` with an importance vector per matrix: whole rows per chunk and per thread, each run of rows of one
    /// matrix quantized in one `quantizeRows` call with that matrix's weights (ggml_quantize_chunk per expert slice).
    private func transcodeWeighted(
        _ source: UnsafeRawBufferPointer, decoder: BlockFormat, encoder: BlockFormat, elements: Int, rowLength: Int,
        importance: UnsafeBufferPointer<Float>, rowsPerMatrix: Int, firstRow: Int,
        write: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let totalRows = elements / rowLength
        let matrices = importance.count / rowLength
        guard importance.count % rowLength == 0, (firstRow + totalRows + rowsPerMatrix - 1) / rowsPerMatrix <= matrices else {
            throw QuantizationError.importanceLength(type: encoder.type.name, rowLength: rowLength, importance: importance.count)
        }
        let rowsPerChunk = Swift.max(1, Self.chunkElements / rowLength)
        reserve(rowsPerChunk * rowLength)
        let inRow = try decoder.rowByteCount(elements: rowLength)
        let outRow = try encoder.rowByteCount(elements: rowLength)
        var row = 0
        while row < totalRows {
            let rows = Swift.min(rowsPerChunk, totalRows - row)
            let input = UnsafeRawBufferPointer(rebasing: source[(row * inRow)..<((row + rows) * inRow)])
            let out = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<(rows * outRow)])
            let parts = Swift.min(threads, rows)
            let chunkFirst = firstRow + row
            nonisolated(unsafe) let (floatBase, outBase, inputBase, weights) = (floats, out, input, importance)
            let failures = Mutex<[QuantizationError]>([])
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = rows * p / parts, hi = rows * (p + 1) / parts
                do throws(QuantizationError) {
                    let f = UnsafeMutableBufferPointer(rebasing: floatBase[(lo * rowLength)..<(hi * rowLength)])
                    try decoder.dequantizeRow(UnsafeRawBufferPointer(rebasing: inputBase[(lo * inRow)..<(hi * inRow)]), into: f)
                    var r = lo
                    while r < hi {
                        let global = chunkFirst + r
                        let matrix = global / rowsPerMatrix
                        let end = Swift.min(hi, r + (rowsPerMatrix - global % rowsPerMatrix))
                        try encoder.quantizeRows(
                            UnsafeBufferPointer(rebasing: floatBase[(r * rowLength)..<(end * rowLength)]), rowLength: rowLength,
                            importance: UnsafeBufferPointer(rebasing: weights[(matrix * rowLength)..<((matrix + 1) * rowLength)]),
                            into: UnsafeMutableRawBufferPointer(rebasing: outBase[(r * outRow)..<(end * outRow)]))
                        r = end
                    }
                } catch {
                    failures.withLock { $0.append(error) }
                }
            }
            if let error = failures.withLock({ $0.first }) { throw error }
            try write(UnsafeRawBufferPointer(out))
            MappedFile.releaseResidentPages(input)
            row += rows
        }
    }
}
