// What a tokenizer file declares, read into flat storage: the vocabulary's texts back to back in one buffer, the
// merges' likewise, each with a table of ends. Files are read into this form, not into TokenizerSpec's 450,000 small
// arrays (allocating and freeing those, and the page faults of their memory, were most of the 0.14 s that loading
// Qwen2's tokenizer.json took). The fingerprint is computed from it, so a file whose tokenizer is the embedded one is
// recognised without building the arrays at all; they are built (`spec`) only for a tokenizer that is not. A GGUF's
// tokenizer metadata is read into it too (Conversion's `FlatTokenizerSpec(gguf:)`).

public struct FlatTokenizerSpec: Sendable {
    public var normalizesNFC = true
    public var pattern = Tokenizer.qwen2Pattern
    public var addedTokens: [AddedToken] = []
    /// Vocabulary entry k's byte-level text is `vocabBytes[vocabEnds[k - 1] ..< vocabEnds[k]]` (from 0 for k = 0), its
    /// id `vocabIDs[k]`, in file order.
    var vocabBytes: [UInt8] = []
    var vocabEnds: [UInt32] = []
    var vocabIDs: [UInt32] = []
    /// Merge k's left text ends at `mergeEnds[2k]`, its right one at `mergeEnds[2k + 1]`, back to back in `mergeBytes`, by
    /// rank.
    var mergeBytes: [UInt8] = []
    var mergeEnds: [UInt32] = []

    public init() {}

    /// The spec's contents in flat form (for its fingerprint).
    public init(_ spec: TokenizerSpec) {
        normalizesNFC = spec.normalizesNFC
        pattern = spec.pattern
        addedTokens = spec.addedTokens
        var vocabSize = 0, mergeSize = 0
        for entry in spec.vocab { vocabSize += entry.token.count }
        for merge in spec.merges { mergeSize += merge.left.count + merge.right.count }
        vocabBytes.reserveCapacity(vocabSize)
        vocabEnds.reserveCapacity(spec.vocab.count)
        vocabIDs.reserveCapacity(spec.vocab.count)
        mergeBytes.reserveCapacity(mergeSize)
        mergeEnds.reserveCapacity(2 * spec.merges.count)
        for entry in spec.vocab { entry.token.withUnsafeBytes { appendVocab($0, id: entry.id) } }
        for merge in spec.merges { merge.left.withUnsafeBytes { l in merge.right.withUnsafeBytes { appendMerge(left: l, right: $0) } } }
    }

    public var vocabCount: Int { vocabEnds.count }
    public var mergeCount: Int { mergeEnds.count / 2 }

    /// Appends a vocabulary entry: its byte-level text and id. (Not generic: a generic method called from another
    /// module runs unspecialized, a byte at a time: reading a GGUF's 151,936 tokens took 0.1 s more.)
    public mutating func appendVocab(_ text: UnsafeRawBufferPointer, id: UInt32) {
        vocabBytes.append(contentsOf: text)
        endVocabEntry(id: id)
    }

    /// Appends the merge of rank `mergeCount`: its two byte-level texts.
    public mutating func appendMerge(left: UnsafeRawBufferPointer, right: UnsafeRawBufferPointer) {
        mergeBytes.append(contentsOf: left)
        let leftEnd = mergeBytes.count
        mergeBytes.append(contentsOf: right)
        endMerge(leftEnd: leftEnd)
    }

    /// Ends the vocabulary entry whose text was appended to `vocabBytes` since the last one.
    mutating func endVocabEntry(id: UInt32) {
        vocabEnds.append(UInt32(truncatingIfNeeded: vocabBytes.count))
        vocabIDs.append(id)
    }

    /// Ends the merge whose texts were appended to `mergeBytes` since the last one, the left one ending at `leftEnd`.
    mutating func endMerge(leftEnd: Int) {
        mergeEnds.append(UInt32(truncatingIfNeeded: leftEnd))
        mergeEnds.append(UInt32(truncatingIfNeeded: mergeBytes.count))
    }

    /// Where vocabulary entry k's text lies in `vocabBytes`.
    func vocabRange(_ k: Int) -> Range<Int> { (k == 0 ? 0 : Int(vocabEnds[k - 1]))..<Int(vocabEnds[k]) }

    /// Where merge k's two texts lie in `mergeBytes`.
    func mergeRanges(_ k: Int) -> (left: Range<Int>, right: Range<Int>) {
        let start = k == 0 ? 0 : Int(mergeEnds[2 * k - 1]), middle = Int(mergeEnds[2 * k]), end = Int(mergeEnds[2 * k + 1])
        return (start..<middle, middle..<end)
    }

    /// Vocabulary entry k's text.
    func vocabText(_ k: Int) -> ArraySlice<UInt8> { vocabBytes[vocabRange(k)] }

    /// Merge k's two texts.
    func merge(_ k: Int) -> (left: ArraySlice<UInt8>, right: ArraySlice<UInt8>) {
        let (left, right) = mergeRanges(k)
        return (mergeBytes[left], mergeBytes[right])
    }

    /// The spec with its vocabulary and merges as arrays (`TokenizerSpec`), for building the tables.
    public var spec: TokenizerSpec {
        var spec = TokenizerSpec()
        spec.normalizesNFC = normalizesNFC
        spec.pattern = pattern
        spec.addedTokens = addedTokens
        spec.vocab = (0..<vocabCount).map { (Array(vocabText($0)), vocabIDs[$0]) }
        spec.merges = (0..<mergeCount).map { let m = merge($0); return (Array(m.left), Array(m.right)) }
        return spec
    }

    /// `TokenizerSpec.fingerprint`: XXH64 of the canonical form, written into one sized buffer.
    public var fingerprint: UInt64 { fingerprints.full }

    /// The fingerprint (`full`), and the fingerprint of the same spec without its added tokens (`model`: the same for
    /// Qwen2.5's tokenizer as for Qwen2's, which differ in their added tokens only), from one canonical form.
    var fingerprints: (full: UInt64, model: UInt64) {
        let prefix = Array("qwenkit tokenizer spec 1".utf8), patternBytes = Array(pattern.utf8)
        var size = prefix.count + 1 + 4 + patternBytes.count + 4 + 4 + 4
        size += 8 * vocabCount + vocabBytes.count + 8 * mergeCount + mergeBytes.count
        for token in addedTokens { size += 9 + token.content.count }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        var at = 0
        func append(_ v: UInt32) {
            buffer.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self)
            at += 4
        }
        func append<C: Collection<UInt8>>(raw bytes: C) {
            UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + bytes.count)]).copyBytes(from: bytes)
            at += bytes.count
        }
        func append<C: Collection<UInt8>>(counted bytes: C) {
            append(UInt32(truncatingIfNeeded: bytes.count))
            append(raw: bytes)
        }
        append(raw: prefix)
        append(raw: CollectionOfOne(normalizesNFC ? 1 : 0))
        append(counted: patternBytes)
        append(UInt32(truncatingIfNeeded: vocabCount))
        // By id; a vocabulary is almost always in id order already, and equal ids (which build refuses) keep file order.
        let inOrder = vocabIDs.indices.dropFirst().allSatisfy { vocabIDs[$0 - 1] < vocabIDs[$0] }
        let order = inOrder ? Array(vocabIDs.indices) : vocabIDs.indices.sorted { (vocabIDs[$0], $0) < (vocabIDs[$1], $1) }
        // Through buffer pointers: an ArraySlice per entry retained and released the array, 900,000 times.
        vocabBytes.withUnsafeBufferPointer { texts in
            for k in order {
                append(vocabIDs[k])
                append(counted: UnsafeBufferPointer(rebasing: texts[vocabRange(k)]))
            }
        }
        append(UInt32(truncatingIfNeeded: mergeCount))
        mergeBytes.withUnsafeBufferPointer { texts in
            for k in 0..<mergeCount {
                let (left, right) = mergeRanges(k)
                append(counted: UnsafeBufferPointer(rebasing: texts[left]))
                append(counted: UnsafeBufferPointer(rebasing: texts[right]))
            }
        }
        // The same form with no added tokens ends here with a count of 0.
        buffer.storeBytes(of: UInt32(0), toByteOffset: at, as: UInt32.self)
        let model = XXH64.hash(UnsafeRawBufferPointer(rebasing: buffer[..<(at + 4)]))
        append(UInt32(truncatingIfNeeded: addedTokens.count))
        for k in addedTokens.indices.sorted(by: { (addedTokens[$0].id, $0) < (addedTokens[$1].id, $1) }) {
            let token = addedTokens[k]
            append(token.id)
            append(counted: token.content)
            append(raw: CollectionOfOne((token.special ? 1 : 0) | (token.lstrip ? 2 : 0) | (token.rstrip ? 4 : 0) | (token.normalized ? 8 : 0)))
        }
        precondition(at == size)
        return (XXH64.hash(UnsafeRawBufferPointer(buffer)), model)
    }

    /// The tokenizer: with `reusingEmbedded`, the embedded one when the fingerprint is its
    /// (`Tokenizer.embeddedQwen2Fingerprint`), or its model with this spec's added tokens when only those differ and
    /// `Tokenizer.embeddedQwen2(addedTokens:)` takes them; else built from the spec.
    public func build(reusingEmbedded: Bool) throws(TokenizerError) -> Tokenizer {
        if reusingEmbedded {
            let (full, model) = fingerprints
            if full == Tokenizer.embeddedQwen2Fingerprint { return try Tokenizer.embeddedQwen2() }
            if model == Tokenizer.embeddedQwen2ModelFingerprint, let tokenizer = try Tokenizer.embeddedQwen2(addedTokens: addedTokens) {
                return tokenizer
            }
        }
        return try buildTables()
    }

    /// Builds the tokenizer's tables from the spec: each id's bytes (model tokens decoded from the byte-level
    /// alphabet; added tokens take precedence for their ids, decoded the same way, as HF runs the decoder over them too),
    /// the merges resolved to ids through the pure model tokens, then the model (`BPEModel`). Works on the flat storage:
    /// arrays per token cost a fifth of building Qwen2's tokenizer.
    func buildTables() throws(TokenizerError) -> Tokenizer {
        var idCount = 0
        for id in vocabIDs { idCount = max(idCount, Int(id) + 1) }
        let modelTokenCount = idCount
        for t in addedTokens { idCount = max(idCount, Int(t.id) + 1) }
        guard idCount <= 1 << 24 else { throw TokenizerError.invalidTokenizer("ids up to \(idCount - 1) are beyond the supported 16777215") }

        // Where each id's bytes come from: vocabulary entry k (k >= 0), added token j (-2 - j), or nothing (-1).
        var source = [Int32](repeating: -1, count: idCount)
        var pure = [Bool](repeating: false, count: idCount)
        var decoded: [UInt8] = []
        var decodedEnds: [UInt32] = []
        decoded.reserveCapacity(vocabBytes.count)
        decodedEnds.reserveCapacity(vocabCount)
        try vocabBytes.withUnsafeBufferPointer { (texts) throws(TokenizerError) in
            for k in 0..<vocabCount {
                let id = Int(vocabIDs[k])
                let isPure = ByteLevelAlphabet.decode(UnsafeBufferPointer(rebasing: texts[vocabRange(k)]), into: &decoded)
                decodedEnds.append(UInt32(decoded.count))
                if source[id] != -1 { throw TokenizerError.invalidTokenizer("id \(id) is assigned to two vocabulary entries") }
                source[id] = Int32(k)
                pure[id] = isPure
            }
        }
        let added = addedTokens.map(\.decodedBytes)
        for (j, t) in addedTokens.enumerated() {
            source[Int(t.id)] = -2 - Int32(j)
            pure[Int(t.id)] = false
        }
        var bytes: [UInt8] = []
        var offsets: [UInt32] = [0]
        bytes.reserveCapacity(decoded.count)
        offsets.reserveCapacity(idCount + 1)
        decoded.withUnsafeBufferPointer { d in
            for id in 0..<idCount {
                let k = Int(source[id])
                if k >= 0 {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: d[(k == 0 ? 0 : Int(decodedEnds[k - 1]))..<Int(decodedEnds[k])]))
                } else if k <= -2 {
                    bytes.append(contentsOf: added[-2 - k])
                }
                offsets.append(UInt32(bytes.count))
            }
        }

        // Merges: resolve both sides and the result through the byte map of pure model tokens.
        let lookup = TokenTable(bytes: bytes, offsets: offsets) { id in id < modelTokenCount && pure[id] }
        var resolved: [(left: UInt32, right: UInt32, result: UInt32)] = []
        resolved.reserveCapacity(mergeCount)
        var a: [UInt8] = [], b: [UInt8] = []
        try mergeBytes.withUnsafeBufferPointer { (texts) throws(TokenizerError) in
            for rank in 0..<mergeCount {
                let (leftRange, rightRange) = mergeRanges(rank)
                let left = UnsafeBufferPointer(rebasing: texts[leftRange]), right = UnsafeBufferPointer(rebasing: texts[rightRange])
                a.removeAll(keepingCapacity: true)
                b.removeAll(keepingCapacity: true)
                let pa = ByteLevelAlphabet.decode(left, into: &a)
                let pb = ByteLevelAlphabet.decode(right, into: &b)
                let describe = { "merge \(rank + 1) '\(String(decoding: left, as: UTF8.self)) \(String(decoding: right, as: UTF8.self))'" }
                guard pa, pb else { throw TokenizerError.invalidTokenizer("\(describe()) uses characters outside the byte-level alphabet") }
                guard let l = a.withUnsafeBufferPointer({ lookup.id(for: $0) }),
                      let r = b.withUnsafeBufferPointer({ lookup.id(for: $0) }) else {
                    throw TokenizerError.invalidTokenizer("\(describe()) names a token that is not in the vocabulary")
                }
                a.append(contentsOf: b)
                guard let result = a.withUnsafeBufferPointer({ lookup.id(for: $0) }) else {
                    throw TokenizerError.invalidTokenizer("\(describe()) makes a token that is not in the vocabulary")
                }
                resolved.append((l, r, result))
            }
        }
        let model = try BPEModel(tokenBytes: bytes, offsets: offsets, modelTokenCount: modelTokenCount,
                                 byteLevelPure: pure, merges: resolved, selfMerging: nil)
        return try Tokenizer(model: model, addedTokens: addedTokens, normalizesNFC: normalizesNFC, pattern: pattern)
    }
}
