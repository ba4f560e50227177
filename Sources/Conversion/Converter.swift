import Dispatch
import ModelFiles
import Quantization
import QwenKitIO
import Synchronization

/// Writes a `ConversionPlan` to a GGUF file, one tensor at a time from the memory-mapped checkpoint into the
/// streaming writer: memory stays at a few chunk buffers whatever the model size, and nothing is left at the
/// output path unless the whole file was written.
///
/// Each source tensor is converted in chunks of whole rows: bytes of the same type are copied as they are;
/// otherwise rows are widened to float32 (exact for F16 and BF16) and encoded to the output type by the
/// `Quantization` codecs (F16 and BF16 round to nearest even, Q8_0 is ggml's reference quantizer), which is what
/// the reference converter's numpy path computes.
public enum Converter {
    /// Elements converted per chunk: 256 Ki floats (1 MB) keeps the buffers in L2 and the writes large.
    static let chunkElements = 1 << 18
    /// Where a chunk may be cut between threads: 256 elements are whole blocks of every ggml type.
    static let partAlignment = 256

    /// Writes `plan` to `path`. `progress` counts bytes written. Returns the bytes of tensor data written.
    @discardableResult
    public static func write(_ plan: ConversionPlan, to path: String, progress: ProgressReporter = .disabled()) throws(ConversionError) -> Int {
        let writer = GGUFWriter(path: path)
        writer.omitsPaddingWithoutTensors = true  // --vocab-only files end after the metadata, as the reference's do
        do {
            for kv in plan.metadata { try writer.add(kv.key, kv.value) }
            for t in plan.tensors { try writer.addTensor(name: t.name, dims: t.dims, type: t.type) }
        } catch {
            throw .output(path: path, reason: error.description)
        }
        var written = 0
        let floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunkElements)
        defer { floats.deallocate() }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkElements * 4, alignment: 64)
        defer { bytes.deallocate() }
        do {
            var index = 0
            try writer.write { sink in
                let tensor = plan.tensors[index]
                index += 1
                for (file, info) in tensor.sources {
                    try convert(file.data(of: info), from: info.dtype, rowLength: tensor.dims[0], to: tensor.type,
                                sink: sink, floats: floats, bytes: bytes, file: file.path, tensor: info.name)
                    withExtendedLifetime(file) {}
                }
                let size = (try? tensor.type.byteCount(elements: tensor.elementCount)) ?? 0
                written += size
                progress.add(bytes: size)
            }
        } catch let e as ConversionError {
            throw e
        } catch let e as ModelFileError {
            throw .output(path: path, reason: e.description)
        } catch {
            throw .output(path: path, reason: "\(error)")
        }
        progress.finish()
        return written
    }

    /// Converts one source tensor's bytes to `type` into `sink`.
    static func convert(_ source: UnsafeRawBufferPointer, from dtype: SafetensorsDType, rowLength: Int, to type: GGMLType,
                        sink: GGUFTensorSink, floats: UnsafeMutableBufferPointer<Float>,
                        bytes: UnsafeMutableRawBufferPointer, file: String, tensor: String) throws {
        guard let sourceType = dtype.ggmlType else { throw ConversionError.tensor(path: file, tensor: tensor, reason: "dtype \(dtype.rawValue) is not supported") }
        if sourceType == type {
            // Copied in chunks, each chunk's mapped pages released once written, so RSS stays flat.
            var offset = 0
            while offset < source.count {
                let end = Swift.min(source.count, offset + chunkElements * 4)
                let piece = UnsafeRawBufferPointer(rebasing: source[offset..<end])
                try sink.write(piece)
                MappedFile.releaseResidentPages(piece)
                offset = end
            }
            return
        }
        guard let decoder = QuantizationFormats.format(for: sourceType), let encoder = QuantizationFormats.format(for: type) else {
            throw ConversionError.tensor(path: file, tensor: tensor, reason: "no conversion from \(sourceType.name) to \(type.name)")
        }
        let elements = source.count / sourceType.typeSize
        guard elements > 0 else { return }
        // Whole rows per chunk (a row longer than the chunk is converted in whole blocks).
        let row = Swift.max(1, rowLength)
        var step = chunkElements >= row ? chunkElements / row * row : chunkElements / type.blockSize * type.blockSize
        step = Swift.max(step, type.blockSize)
        var start = 0
        while start < elements {
            let n = Swift.min(step, elements - start)
            let input = UnsafeRawBufferPointer(rebasing: source[(start * sourceType.typeSize)..<((start + n) * sourceType.typeSize)])
            let outBytes = try encoder.rowByteCount(elements: n)
            let out = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<outBytes])
            // The chunk is widened and encoded in two halves on two threads (cut at a multiple of 256, which is
            // whole blocks of every type); blocks are independent, so the bytes are the same as in one pass.
            let half = n >= 2 * partAlignment ? n / 2 / partAlignment * partAlignment : n
            let parts = half < n ? [0..<half, half..<n] : [0..<n]
            nonisolated(unsafe) let (floatBase, outBase, inputBase) = (floats, out, input)
            let failures = Mutex<[any Error]>([])
            DispatchQueue.concurrentPerform(iterations: parts.count) { p in
                let r = parts[p]
                do {
                    let inBytes = UnsafeRawBufferPointer(rebasing: inputBase[(r.lowerBound * sourceType.typeSize)..<(r.upperBound * sourceType.typeSize)])
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
            try sink.write(UnsafeRawBufferPointer(out))
            MappedFile.releaseResidentPages(input)
            start += n
        }
    }
}
