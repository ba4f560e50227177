// Ids back to text, for `qwenkit decode`. The bytes of each document are emitted as they arrive,
// except for a trailing incomplete UTF-8 sequence, which waits for the next ids: a character split
// across tokens is never split in the output, and invalid sequences become U+FFFD exactly as HF's
// decoder (String::from_utf8_lossy) renders them. Memory stays bounded for documents of any length.

import QwenKitIO

public final class TextDecoder {
    let tokenizer: Tokenizer
    let sink: ByteSink
    let skipSpecial: Bool
    private var pending: [UInt8] = []
    private var lossy: [UInt8] = []

    public init(tokenizer: Tokenizer, sink: ByteSink, skipSpecial: Bool) {
        self.tokenizer = tokenizer
        self.sink = sink
        self.skipSpecial = skipSpecial
    }

    /// Decodes `id`; `describePosition` names it in an error.
    @inline(__always)
    public func append(_ id: UInt32, describePosition: () -> String) throws {
        guard tokenizer.hasToken(id) else {
            throw CorpusError("id \(id) at \(describePosition()) is out of range (the vocabulary has ids 0...\(tokenizer.vocabularySize - 1))")
        }
        if skipSpecial && tokenizer.isSpecial[Int(id)] { return }
        pending.append(contentsOf: tokenizer.bytes(of: id))
        if pending.count >= 1 << 16 { try emit(final: false) }
    }

    /// Writes what can be written: everything if `final` (end of a document), else all but an
    /// incomplete trailing sequence.
    public func emit(final: Bool) throws {
        guard !pending.isEmpty else { return }
        let keep = final ? 0 : pending.withUnsafeBytes { UTF8Validation.incompleteSuffixLength($0) }
        let cut = pending.count - keep
        try pending.withUnsafeBytes { all in
            let head = UnsafeRawBufferPointer(rebasing: all[0..<cut])
            if UTF8Validation.firstInvalidOffset(head) == nil {
                try sink.write(head)
            } else {
                lossy.removeAll(keepingCapacity: true)
                UTF8Validation.replacingInvalid(head, into: &lossy)
                try lossy.withUnsafeBytes { try sink.write($0) }
            }
        }
        pending.removeFirst(cut)
    }
}
