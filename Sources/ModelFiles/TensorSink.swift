/// What a file writer hands the caller's closure for one tensor's bytes (`GGUFTensorSink`, `SafetensorsTensorSink`).
public protocol TensorSink: AnyObject {
    /// Appends `bytes` to the tensor; more than the tensor holds throws, naming it.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ModelFileError)
}

extension TensorSink {
    /// `write` of an array's bytes.
    public func write(_ bytes: [UInt8]) throws(ModelFileError) {
        // Array.withUnsafeBytes rethrows untyped errors, so the typed error is carried out by hand.
        var failure: ModelFileError?
        bytes.withUnsafeBytes { raw in
            do throws(ModelFileError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
