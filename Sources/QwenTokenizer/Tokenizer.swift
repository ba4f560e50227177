// Qwen2's tokenizer, as Hugging Face `tokenizers` runs it from tokenizer.json:
//   1. added tokens (<|endoftext|>, <|im_start|>, <|im_end|>) are split out of the raw text;
//   2. each remaining segment is NFC-normalized;
//   3. the pretokenizer regex cuts it into pieces (Qwen2's by a hand-written scanner, any other by
//      PCRE2 with UTF + UCP);
//   4. each piece's bytes are merged by BPE rank into token ids.
// Decoding concatenates the tokens' bytes; turning them into text (U+FFFD for invalid UTF-8) is the
// caller's last step, so streams can hold back an incomplete character.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class Tokenizer: Sendable {
    public let model: BPEModel
    public let addedTokens: [AddedToken]
    let addedMatcher: AddedTokenMatcher
    public let normalizesNFC: Bool
    /// The pretokenizer pattern, as tokenizer.json states it.
    public let pattern: String
    /// PCRE2's compiled pattern; nil for Qwen2's, which the hand-written scanner runs (same pieces,
    /// several times faster; compiling it would only cost start-up).
    let regex: PCRE2Regex?
    var usesQwen2Scanner: Bool { regex == nil }
    /// `isSpecial[id]`: the id is a special added token.
    let isSpecial: [Bool]
    /// `hasToken[id]`: the id decodes to something (false for holes in the id space).
    let hasToken: [Bool]

    /// The Qwen2 pretokenizer pattern.
    public static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    init(model: BPEModel, addedTokens: [AddedToken], normalizesNFC: Bool, pattern: String) throws(TokenizerError) {
        self.model = model
        self.addedTokens = addedTokens
        self.addedMatcher = AddedTokenMatcher(addedTokens)
        self.normalizesNFC = normalizesNFC
        self.pattern = pattern
        self.regex = pattern == Tokenizer.qwen2Pattern ? nil : try Tokenizer.compileSplitPattern(pattern)
        var special = [Bool](repeating: false, count: model.tokens.count)
        var has = [Bool](repeating: false, count: model.tokens.count)
        for id in 0..<model.tokens.count where !model.tokens.tokenBytes(id).isEmpty { has[id] = true }
        for t in addedTokens where Int(t.id) < special.count {
            special[Int(t.id)] = t.special
            has[Int(t.id)] = true
        }
        self.isSpecial = special
        self.hasToken = has
    }

    /// Compiles a Split pretokenizer pattern, refusing one that can match the empty string: pieces are
    /// the matches and the gaps between them, and an empty match is neither (Qwen2's, GPT-2's and
    /// Llama 3's patterns never match empty).
    static func compileSplitPattern(_ pattern: String) throws(TokenizerError) -> PCRE2Regex {
        let regex = try PCRE2Regex(pattern)
        guard !regex.canMatchEmpty else {
            throw TokenizerError.invalidTokenizer("pretokenizer regex \"\(pattern)\" can match the empty string (not supported: every match must be at least one character)")
        }
        return regex
    }

    /// Number of ids (the largest id + 1).
    public var vocabularySize: Int { model.tokens.count }

    /// A per-thread encoder holding the scratch memory of every stage.
    public func makeEncoder() -> TokenEncoder { TokenEncoder(self) }

    /// The bytes of `id` as the decoder emits them (empty for an id with no token).
    public func bytes(of id: UInt32) -> UnsafeBufferPointer<UInt8> {
        Int(id) < model.tokens.count ? model.tokens.tokenBytes(Int(id)) : UnsafeBufferPointer(start: nil, count: 0)
    }

    public func isSpecialToken(_ id: UInt32) -> Bool { Int(id) < isSpecial.count && isSpecial[Int(id)] }

    /// Whether `id` has a token (an id past the vocabulary or in a hole has none).
    @inline(__always)
    public func hasToken(_ id: UInt32) -> Bool { Int(id) < hasToken.count && hasToken[Int(id)] }

    /// The id of an added token by its text.
    public func addedTokenID(_ text: String) -> UInt32? {
        addedTokens.first { $0.content.elementsEqual(text.utf8) }?.id
    }

    /// Appends the bytes of `ids` to `output`. Ids with no token are an error naming their position
    /// (`firstPosition` is added, for callers decoding a stream in pieces).
    public func decode<C: Collection>(_ ids: C, skipSpecial: Bool = false, firstPosition: Int = 0,
                                      into output: inout [UInt8]) throws(TokenizerError) where C.Element == UInt32 {
        var position = firstPosition
        for id in ids {
            guard hasToken(id) else {
                throw TokenizerError.idOutOfRange(id: id, position: position, vocabularySize: vocabularySize)
            }
            if !(skipSpecial && isSpecial[Int(id)]) {
                output.append(contentsOf: model.tokens.tokenBytes(Int(id)))
            }
            position += 1
        }
    }
}

/// Encodes text with one `Tokenizer`. Owns reusable scratch buffers: make one per thread.
public final class TokenEncoder {
    public let tokenizer: Tokenizer
    let matcher: PCRE2Matcher?
    let normalizer = NFCNormalizer()
    var normalized: [UInt8] = []
    let scratch = BPEScratch()
    /// The byte every added token starts with, when they share one (Qwen2's all start with "<"), else -1: a text
    /// without it holds none, which memchr tells without the matcher (whose arrays `encode` retained and released
    /// on every call: 5% of encoding a corpus of one short document per line).
    let addedTokensFirstByte: Int32

    init(_ tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
        self.matcher = tokenizer.regex.map(PCRE2Matcher.init)
        self.addedTokensFirstByte = tokenizer.addedMatcher.onlyFirstByte ?? -1
    }

    /// Appends the ids of `text` (valid UTF-8) to `ids`: gathered in the encoder's own buffer and appended in blocks
    /// (an `Array.append` per id kept the count in memory and checked uniqueness each time: 1.2 ns per byte of mixed
    /// text, a twelfth of the whole).
    public func encode(_ text: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy = .parse,
                       into ids: inout [UInt32]) throws(TokenizerError) {
        try withUnsafeMutablePointer(to: &ids) { (destination) throws(TokenizerError) in
            var sink = BufferedIDs(buffer: idBuffer, destination: destination)
            defer { sink.flush() }
            try encode(text, special: special, sink: &sink)
        }
    }

    /// `BufferedIDs`' block, reused.
    private let idBuffer = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 1 << 14)

    deinit { idBuffer.deallocate() }

    /// The number of ids `encode` gives for `text`, without storing them (for `qwenkit count`).
    public func count(_ text: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy = .parse) throws(TokenizerError) -> Int {
        var counter = TokenCount()
        try encode(text, special: special, sink: &counter)
        return counter.count
    }

    /// `encode` for any sink: the added-token split, then each ordinary span through `encodeSpan`.
    @inline(__always)
    func encode<Sink: IDSink>(_ text: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy,
                              sink ids: inout Sink) throws(TokenizerError) {
        if addedTokensFirstByte >= 0, let base = text.baseAddress, memchr(base, addedTokensFirstByte, text.count) == nil {
            try encodeSpan(text, into: &ids)
            return
        }
        let added = tokenizer.addedMatcher
        if added.isEmpty {
            try encodeSpan(text, into: &ids)
            return
        }
        if special == .reject,
           let m = added.nextMatch(in: text, from: 0, include: { $0.special }) {
            throw TokenizerError.specialTokenInText(token: added.tokens[m.token].text, offset: m.start)
        }
        var position = 0
        while position < text.count {
            let match: AddedTokenMatcher.Match?
            switch special {
            case .parse: match = added.nextMatch(in: text, from: position) { _ in true }
            case .text, .reject: match = added.nextMatch(in: text, from: position) { !$0.special }
            }
            guard let m = match else { break }
            if m.start > position {
                try encodeSpan(UnsafeBufferPointer(rebasing: text[position..<m.start]), into: &ids)
            }
            ids.addToken(added.tokens[m.token].id)
            position = m.end
        }
        if position < text.count {
            try encodeSpan(UnsafeBufferPointer(rebasing: text[position...]), into: &ids)
        }
    }

    /// Encodes text with no added-token handling: normalize, pretokenize, BPE.
    public func encodeOrdinary(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [UInt32]) throws(TokenizerError) {
        try encodeSpan(text, into: &ids)
    }

    /// `encodeOrdinary` for any sink.
    @inline(__always)
    func encodeSpan<Sink: IDSink>(_ text: UnsafeBufferPointer<UInt8>, into ids: inout Sink) throws(TokenizerError) {
        let model = tokenizer.model
        let scratch = self.scratch
        try withNormalized(text) { (source) throws(TokenizerError) in
            try splitPieces(source) { piece in model.encodePiece(piece, scratch: scratch, into: &ids) }
        }
    }

    /// Calls `body` with each pretokenized piece of `text` (no added-token split; NFC applied), for
    /// tests and diagnostics.
    public func forEachPiece(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(TokenizerError) {
        try withNormalized(text) { (source) throws(TokenizerError) in try splitPieces(source, body) }
    }

    /// Runs `body` on the NFC form of `text`: `text` itself when it is already NFC (the common case),
    /// else the normalized copy in the encoder's reusable buffer.
    @inline(__always)
    func withNormalized(_ text: UnsafeBufferPointer<UInt8>,
                                _ body: (UnsafeBufferPointer<UInt8>) throws(TokenizerError) -> Void) throws(TokenizerError) {
        guard tokenizer.normalizesNFC, normalizer.firstUnstableOffset(text) != nil else {
            try body(text)
            return
        }
        normalized.removeAll(keepingCapacity: true)
        normalizer.normalize(text, into: &normalized)
        // `normalized` is not touched again until `body` returns.
        let copy = normalized
        try copy.withUnsafeBufferPointer { (buffer) throws(TokenizerError) in try body(buffer) }
    }

    /// Cuts `text` into pretokenized pieces: Qwen2's pattern by the scanner, any other by PCRE2.
    @inline(__always)
    private func splitPieces(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(TokenizerError) {
        guard let matcher else {
            Qwen2Scanner().forEachPiece(text) { start, end in body(UnsafeBufferPointer(rebasing: text[start..<end])) }
            return
        }
        try matcher.forEachPiece(text) { start, end in body(UnsafeBufferPointer(rebasing: text[start..<end])) }
    }
}

/// Where the encoder puts ids: an array (`encode`), or only a count (`count`, which never stores them).
protocol IDSink {
    mutating func addToken(_ id: UInt32)
    mutating func addIDs(_ ids: UnsafePointer<UInt32>, _ count: Int)
}

extension Array: IDSink where Element == UInt32 {
    @inline(__always)
    mutating func addToken(_ id: UInt32) { append(id) }

    @inline(__always)
    mutating func addIDs(_ ids: UnsafePointer<UInt32>, _ count: Int) { append(contentsOf: UnsafeBufferPointer(start: ids, count: count)) }
}

/// Ids gathered in a fixed block (its count in a register) and appended to an array a block at a time.
struct BufferedIDs: IDSink {
    let buffer: UnsafeMutableBufferPointer<UInt32>
    let destination: UnsafeMutablePointer<[UInt32]>
    var count = 0

    init(buffer: UnsafeMutableBufferPointer<UInt32>, destination: UnsafeMutablePointer<[UInt32]>) {
        self.buffer = buffer
        self.destination = destination
    }

    @inline(__always)
    mutating func addToken(_ id: UInt32) {
        if count == buffer.count { flush() }
        buffer[count] = id
        count &+= 1
    }

    @inline(__always)
    mutating func addIDs(_ ids: UnsafePointer<UInt32>, _ n: Int) {
        if n > buffer.count &- count {
            flush()
            if n > buffer.count {
                destination.pointee.append(contentsOf: UnsafeBufferPointer(start: ids, count: n))
                return
            }
        }
        (buffer.baseAddress! + count).update(from: ids, count: n)
        count &+= n
    }

    mutating func flush() {
        destination.pointee.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<count]))
        count = 0
    }
}

struct TokenCount: IDSink {
    var count = 0

    @inline(__always)
    mutating func addToken(_ id: UInt32) { count += 1 }

    @inline(__always)
    mutating func addIDs(_ ids: UnsafePointer<UInt32>, _ count: Int) { self.count += count }
}
