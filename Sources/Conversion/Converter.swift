import ModelFiles
import Quantization
import QwenKitIO

/// Writes a `ConversionPlan` to a GGUF file, one tensor at a time from the memory-mapped checkpoint into the
/// streaming writer: memory stays at a few chunk buffers whatever the model size, and nothing is left at the
/// output path unless the whole file was written.
///
/// Each source tensor is converted in chunks of whole rows: bytes of the same type are copied as they are;
/// otherwise rows are widened to float32 (exact for F16 and BF16) and encoded to the output type by the
/// `Quantization` codecs (F16 and BF16 round to nearest even, Q8_0 is ggml's reference quantizer), which is what
/// the reference converter's numpy path computes.
public enum Converter {
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
        // Two threads: each chunk is widened and encoded in two halves (q8_0 2.54 -> 1.54 s on the 1 GB checkpoint).
        let transcoder = TensorTranscoder(threads: 2)
        do {
            var index = 0
            try writer.write { sink in
                let tensor = plan.tensors[index]
                index += 1
                for (file, info) in tensor.sources {
                    guard let sourceType = info.dtype.ggmlType else {
                        throw ConversionError.tensor(path: file.path, tensor: info.name, reason: "dtype \(info.dtype.rawValue) is not supported")
                    }
                    try transcoder.transcode(file.data(of: info), from: sourceType, rowLength: tensor.dims[0], to: tensor.type) { bytes in
                        try sink.write(bytes)
                    }
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
}
