import ModelFiles
import Quantization
import QwenKitIO

/// Writes a `QuantizePlan` as llama-quantize writes it: the plan's metadata, then each tensor in order, 32-byte
/// aligned. Tensors are streamed from the memory-mapped input (a GGUF file, or a checkpoint's safetensors: a
/// stacked expert tensor is its experts one after the other) through `TensorTranscoder` (chunks of whole rows,
/// `options.threads` threads per chunk, source pages released as they are written), so memory stays at two chunk
/// buffers; nothing is left at the output path unless the whole file was written.
///
/// Every type change goes through float32 as llama-quantize's does: F16/BF16 widened exactly, quantized inputs
/// dequantized (only with --allow-requantize), then ggml's quantizer: the reference one without an importance matrix,
/// with one its weighted form fed each matrix's entry (what llama-quantize calls). Tensors of a GGUF that keep their type are copied byte for byte; a checkpoint's always go
/// through float32, as reading the float32 GGUF they stand for would.
public enum Quantizer {
    /// Writes `plan` to `path`; `progress` counts input bytes. Returns the bytes of tensor data written.
    @discardableResult
    public static func write(_ plan: QuantizePlan, to path: String, progress: ProgressReporter = .disabled()) throws(QuantizeError) -> Int {
        // llama-quantize copies general.alignment but pads to 32 whatever it says; such files are refused here.
        if plan.metadata.contains(where: { $0.key == GGUFKeys.generalAlignment }) {
            throw .input(path: plan.input.path, reason: "general.alignment is set; only the default 32-byte alignment is supported")
        }
        let writer = GGUFWriter(path: path)
        do {
            for kv in plan.metadata { try writer.add(kv.key, kv.value) }
            for t in plan.tensors { try writer.addTensor(name: t.name, dims: t.dims, type: t.type) }
        } catch {
            throw .output(path: path, reason: error.description)
        }
        let transcoder = TensorTranscoder(threads: plan.options.threads)
        var written = 0
        do {
            var index = 0
            try writer.write { sink in
                let tensor = plan.tensors[index]
                index += 1
                var firstRow = 0
                for piece in tensor.source.pieces {
                    do {
                        try piece.withBytes { bytes in
                            let write = { (chunk: UnsafeRawBufferPointer) throws in try sink.write(chunk) }
                            if let importance = tensor.importance {
                                try importance.withUnsafeBufferPointer { weights in
                                    try transcoder.transcode(bytes, from: piece.type, rowLength: tensor.dims[0], to: tensor.type,
                                                             copiesSameType: !plan.input.widensToFloat32, importance: weights,
                                                             rowsPerMatrix: tensor.dims.count > 1 ? tensor.dims[1] : 1,
                                                             firstRow: firstRow, write: write)
                                }
                            } else {
                                try transcoder.transcode(bytes, from: piece.type, rowLength: tensor.dims[0], to: tensor.type,
                                                         copiesSameType: !plan.input.widensToFloat32, write: write)
                            }
                        }
                        firstRow += piece.byteCount / Swift.max(1, (try? piece.type.byteCount(elements: tensor.dims[0])) ?? 1)
                    } catch let e as QuantizationError {
                        throw QuantizeError.output(path: path, reason: "\(tensor.name): \(e.description)")
                    }
                }
                written += tensor.byteCount
                progress.add(bytes: tensor.source.byteCount)
            }
        } catch let e as QuantizeError {
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
