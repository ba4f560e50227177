// `qwenkit count`'s consumer: tokens, bytes, characters and documents per input, without storing ids.

/// Counts tokens, bytes and characters per input, for `qwenkit count`. As a counting consumer it makes
/// the encoder count tokens without storing their ids.
public final class TokenCounter: CorpusCountingConsumer {
    public struct Counts: Sendable {
        public var tokens: Int64 = 0
        public var bytes: Int64 = 0
        public var characters: Int64 = 0
        public var documents: Int64 = 0
        public init() {}
    }

    public private(set) var perInput: [Counts]
    private var current = Counts()

    public init(inputs: Int) { perInput = [Counts](repeating: Counts(), count: inputs) }

    public func consume(input: Int, document: Int, ids: UnsafeBufferPointer<UInt32>, extraFields: UnsafeBufferPointer<UInt8>,
                        continued: Bool, continues: Bool) throws {
        try consume(input: input, document: document, tokenCount: ids.count, continued: continued, continues: continues)
    }

    public func consume(input: Int, document: Int, tokenCount: Int, continued: Bool, continues: Bool) throws {
        current.tokens += Int64(tokenCount)
        if !continued { current.documents += 1 }
    }

    public func endInput(_ input: Int, bytes: Int64, characters: Int64) throws {
        current.bytes = bytes
        current.characters = characters
        perInput[input] = current
        current = Counts()
    }
}
