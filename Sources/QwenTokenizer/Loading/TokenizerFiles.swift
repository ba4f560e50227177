// Reading tokenizers from files: HF's tokenizer.json, the slow-tokenizer pair vocab.json + merges.txt
// (with tokenizer_config.json for added tokens), a model directory holding either, and our compact
// form. Any file may be zstd-compressed (name ends in .zst). The pipeline a file describes is checked
// against what we implement; anything else is refused by name rather than tokenized differently.

import CQwenKitData
import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TokenizerSpec {
    /// Reads what a tokenizer file or model directory declares, without building the tables: the vocabulary and
    /// merges in file order as byte-level texts, the added tokens, and the normalizer and pretokenizer as checked
    /// against what qwenkit implements (anything else is refused by name, as `Tokenizer.load` does). For tools
    /// that copy a tokenizer into another format (GGUF conversion). `path` is a tokenizer.json (optionally .zst)
    /// or a directory with tokenizer.json or vocab.json + merges.txt (+ tokenizer_config.json).
    public static func load(path: String) throws(TokenizerError) -> TokenizerSpec {
        var st = stat()
        guard stat(path, &st) == 0 else { throw TokenizerError.unreadable(path: path, reason: "cannot open: " + String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let dir = path.hasSuffix("/") ? String(path.dropLast()) : path
            if let json = Tokenizer.firstExisting(dir, ["tokenizer.json", "tokenizer.json.zst"]) { return try load(path: json) }
            guard let vocab = Tokenizer.firstExisting(dir, ["vocab.json", "vocab.json.zst"]),
                  let merges = Tokenizer.firstExisting(dir, ["merges.txt", "merges.txt.zst"]) else {
                throw TokenizerError.unreadable(path: path, reason: "no tokenizer.json, nor vocab.json with merges.txt, in this directory")
            }
            return try Tokenizer.loadVocabAndMergesSpec(vocab: vocab, merges: merges,
                                                        config: Tokenizer.firstExisting(dir, ["tokenizer_config.json", "tokenizer_config.json.zst"])).spec
        }
        let data = try Tokenizer.readTokenizerFile(path)
        return try Tokenizer.withTokenizerErrors(path: path) { try data.withUnsafeBufferPointer { b in
            try Tokenizer.parseTokenizerJSONSpec(b, path: path).spec
        } }
    }
}

extension Tokenizer {
    /// `TokenizerSpec.fingerprint` of the spec the embedded tokenizer is compiled from (Qwen2's tokenizer.json, and the
    /// same tokenizer as a GGUF carries it); TokenizerFingerprintTests checks it against both.
    public static let embeddedQwen2Fingerprint: UInt64 = 0x2749_8312_139E_C763

    /// Qwen2's tokenizer, embedded in the binary in compact form and used where it lies (`CompactTokenizerFormat`).
    public static func embeddedQwen2() throws(TokenizerError) -> Tokenizer {
        try CompactTokenizerFormat.decode(embeddedQwen2Data, name: "embedded Qwen2 tokenizer", trusted: true)
    }

    /// The embedded tokenizer's bytes (ModelTests compares them with what compiling the source files gives).
    static var embeddedQwen2Data: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: qwenkit_qwen2_tokenizer_data(), count: qwenkit_qwen2_tokenizer_size())
    }

    /// Loads a tokenizer from a file (tokenizer.json, a compact .qtok, each optionally .zst) or a model
    /// directory (tokenizer.json, or vocab.json + merges.txt + tokenizer_config.json). `reusingEmbedded` false builds
    /// Qwen2's tokenizer from its files too, instead of restoring the embedded copy (`tokenizer compile`, which makes
    /// that copy: it must not need a readable one).
    public static func load(path: String, reusingEmbedded: Bool = true) throws(TokenizerError) -> Tokenizer {
        var st = stat()
        guard stat(path, &st) == 0 else { throw TokenizerError.unreadable(path: path, reason: "cannot open: " + String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let dir = path.hasSuffix("/") ? String(path.dropLast()) : path
            for name in ["tokenizer.json", "tokenizer.json.zst"] where fileExists(dir + "/" + name) {
                return try load(path: dir + "/" + name, reusingEmbedded: reusingEmbedded)
            }
            let vocab = firstExisting(dir, ["vocab.json", "vocab.json.zst"])
            let merges = firstExisting(dir, ["merges.txt", "merges.txt.zst"])
            guard let vocab, let merges else {
                throw TokenizerError.unreadable(path: path, reason: "no tokenizer.json, nor vocab.json with merges.txt, in this directory")
            }
            return try loadVocabAndMerges(vocab: vocab, merges: merges, config: firstExisting(dir, ["tokenizer_config.json", "tokenizer_config.json.zst"]),
                                          reusingEmbedded: reusingEmbedded)
        }
        let data = try readTokenizerFile(path)
        let name = path.hasSuffix(".zst") ? String(path.dropLast(4)) : path
        return try withTokenizerErrors(path: path) { try data.withUnsafeBytes { raw in
            if raw.count >= 4 && raw.prefix(4).elementsEqual(CompactTokenizerFormat.magic) {
                return try CompactTokenizerFormat.decode(raw, name: path)
            }
            if name.hasSuffix("merges.txt") || name.hasSuffix("vocab.json") {
                throw TokenizerError.unreadable(path: path, reason: "give the model directory (vocab.json and merges.txt are read together)")
            }
            return try parseTokenizerJSON(raw.assumingMemoryBound(to: UInt8.self), path: path, reusingEmbedded: reusingEmbedded)
        } }
    }

    /// The compact binary form of this tokenizer (see CompactTokenizerFormat), uncompressed.
    public func compactForm() -> [UInt8] { CompactTokenizerFormat.encode(self) }

    // MARK: tokenizer.json

    static func parseTokenizerJSON(_ bytes: UnsafeBufferPointer<UInt8>, path: String, reusingEmbedded: Bool = true) throws(TokenizerError) -> Tokenizer {
        try buildNamed(try parseTokenizerJSONSpec(bytes, path: path), path: path, reusingEmbedded: reusingEmbedded)
    }

    static func parseTokenizerJSONSpec(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws(TokenizerError) -> FlatTokenizerSpec {
        var spec = FlatTokenizerSpec()
        var s = JSONScanner(bytes)
        var sawModel = false
        do {
            try s.beginObject()
            var key: [UInt8] = []
            var first = true
            while try s.nextKey(&key, first: &first) {
                switch String(decoding: key, as: UTF8.self) {
                case "added_tokens":
                    spec.addedTokens = try readAddedTokens(&s, path: path)
                case "normalizer":
                    spec.normalizesNFC = try checkNormalizer(try s.readValue(), path: path)
                case "pre_tokenizer":
                    spec.pattern = try checkPreTokenizer(try s.readValue(), path: path)
                case "decoder":
                    let d = try s.readValue()
                    if !d.isNull && d["type"]?.string != "ByteLevel" {
                        throw TokenizerError.unreadable(path: path, reason: "unsupported decoder \(d.text) (only ByteLevel is implemented)")
                    }
                case "post_processor":
                    let p = try s.readValue()
                    if !p.isNull && p["type"]?.string != "ByteLevel" {
                        throw TokenizerError.unreadable(path: path, reason: "unsupported post_processor \(p["type"]?.text ?? p.text) (it would add tokens; only ByteLevel is implemented)")
                    }
                case "model":
                    try readModel(&s, into: &spec, path: path)
                    sawModel = true
                default:
                    try s.skipValue()
                }
            }
            guard s.atEnd() else { throw s.error("unexpected data after the JSON value") }
        } catch let e as JSONError {
            throw TokenizerError.unreadable(path: path, reason: e.description)
        } catch let e as TokenizerError {
            throw e
        } catch {
            throw TokenizerError.unreadable(path: path, reason: "\(error)")
        }
        guard sawModel else { throw TokenizerError.unreadable(path: path, reason: "no \"model\" section") }
        return spec
    }

    /// The tokenizer of a spec read from `path` (naming it in errors); Qwen2's own is restored from the embedded
    /// compiled copy (`FlatTokenizerSpec.build`), without the spec's arrays: `encode --tokenizer tokenizer.json` of one
    /// line takes 55 ms (README, start-up).
    /// `mergesPath`: the file the merges came from when it is not `path` (merges.txt beside vocab.json), named in the
    /// errors about a merge (`TokenizerSpec.build` starts each with "merge N").
    private static func buildNamed(_ spec: FlatTokenizerSpec, path: String, mergesPath: String? = nil,
                                   reusingEmbedded: Bool) throws(TokenizerError) -> Tokenizer {
        do { return try spec.build(reusingEmbedded: reusingEmbedded) } catch {
            if case .invalidTokenizer(let why) = error {
                throw TokenizerError.unreadable(path: why.hasPrefix("merge ") ? mergesPath ?? path : path, reason: why)
            }
            throw error
        }
    }

    private static func readAddedTokens(_ s: inout JSONScanner, path: String) throws -> [AddedToken] {
        var tokens: [AddedToken] = []
        guard case .array(let items) = try s.readValue() else {
            throw TokenizerError.unreadable(path: path, reason: "\"added_tokens\" is not an array")
        }
        for item in items {
            guard let content = item["content"]?.string, let idValue = item["id"]?.number,
                  idValue >= 0, idValue < 16_777_216, idValue == idValue.rounded() else {
                throw TokenizerError.unreadable(path: path, reason: "added token \(item.text) lacks a content string or a valid id")
            }
            if item["single_word"]?.bool == true {
                throw TokenizerError.unreadable(path: path, reason: "added token \(content) uses single_word, which is not implemented")
            }
            tokens.append(addedToken(item, id: UInt32(idValue), content: content))
        }
        return tokens
    }

    private static func checkNormalizer(_ n: JSONValue, path: String) throws(TokenizerError) -> Bool {
        if n.isNull { return false }
        if n["type"]?.string == "NFC" { return true }
        if n["type"]?.string == "Sequence", let list = n["normalizers"]?.array {
            if list.isEmpty { return false }
            if list.count == 1, list[0]["type"]?.string == "NFC" { return true }
        }
        throw TokenizerError.unreadable(path: path, reason: "unsupported normalizer \(n.text) (only NFC or none is implemented)")
    }

    /// GPT-2's pattern, used by a bare ByteLevel pretokenizer with use_regex.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    private static func checkPreTokenizer(_ p: JSONValue, path: String) throws(TokenizerError) -> String {
        func unsupported(_ why: String) -> TokenizerError {
            .unreadable(path: path, reason: "unsupported pre_tokenizer: \(why)")
        }
        func byteLevel(_ b: JSONValue) throws(TokenizerError) -> Bool {  // returns use_regex
            if b["add_prefix_space"]?.bool == true { throw unsupported("ByteLevel with add_prefix_space") }
            return b["use_regex"]?.bool ?? true
        }
        switch p["type"]?.string {
        case "ByteLevel":
            guard try byteLevel(p) else { throw unsupported("ByteLevel without a split regex") }
            return gpt2Pattern
        case "Sequence":
            guard let list = p["pretokenizers"]?.array, list.count == 2,
                  list[0]["type"]?.string == "Split", list[1]["type"]?.string == "ByteLevel" else {
                throw unsupported("\(p.text.prefix(300)) (expected Split then ByteLevel)")
            }
            let split = list[0]
            guard split["behavior"]?.string == "Isolated", split["invert"]?.bool != true else {
                throw unsupported("Split with behavior \(split["behavior"]?.text ?? "?") (only Isolated is implemented)")
            }
            guard let pattern = split["pattern"]?["Regex"]?.string else {
                throw unsupported("Split without a Regex pattern")
            }
            if try byteLevel(list[1]) { throw unsupported("a second regex split inside ByteLevel (use_regex true)") }
            return pattern
        default:
            throw unsupported(String(p.text.prefix(300)))
        }
    }

    private static func readModel(_ s: inout JSONScanner, into spec: inout FlatTokenizerSpec, path: String) throws {
        try s.beginObject()
        var key: [UInt8] = []
        var first = true
        while try s.nextKey(&key, first: &first) {
            switch String(decoding: key, as: UTF8.self) {
            case "type":
                let t = try s.readString()
                guard t == "BPE" else { throw TokenizerError.unreadable(path: path, reason: "model type \(t) is not supported (only BPE)") }
            case "vocab":
                try readVocabulary(&s, into: &spec)
            case "merges":
                try s.beginArray()
                var firstEntry = true
                spec.mergeEnds.reserveCapacity(2 * 160_000)
                spec.mergeBytes.reserveCapacity(s.bytes.count - s.offset)
                while try s.nextElement(first: &firstEntry) {
                    let start = spec.mergeBytes.count
                    if try s.peekKind() == .string {
                        // "left right": read in place, then the space taken out.
                        try s.readString(into: &spec.mergeBytes)
                        let text = spec.mergeBytes[start...]
                        guard let space = text.firstIndex(of: 0x20), text.lastIndex(of: 0x20) == space else {
                            throw s.error("merge \"\(String(decoding: text, as: UTF8.self))\" is not two tokens separated by one space")
                        }
                        spec.mergeBytes.remove(at: space)
                        spec.endMerge(leftEnd: space)
                    } else {
                        // ["left", "right"]
                        try s.beginArray()
                        var firstPart = true
                        var parts = 0, leftEnd = start
                        while try s.nextElement(first: &firstPart) {
                            try s.readString(into: &spec.mergeBytes)
                            parts += 1
                            if parts == 1 { leftEnd = spec.mergeBytes.count }
                        }
                        guard parts == 2 else { throw s.error("merge is not a pair of tokens") }
                        spec.endMerge(leftEnd: leftEnd)
                    }
                }
            case "byte_fallback":
                if try s.readValue().bool == true { throw TokenizerError.unreadable(path: path, reason: "BPE with byte_fallback is not supported") }
            case "ignore_merges":
                if try s.readValue().bool == true { throw TokenizerError.unreadable(path: path, reason: "BPE with ignore_merges is not supported") }
            case "continuing_subword_prefix", "end_of_word_suffix":
                let v = try s.readValue()
                if let str = v.string, !str.isEmpty {
                    throw TokenizerError.unreadable(path: path, reason: "BPE with \(String(decoding: key, as: UTF8.self)) \(v.text) is not supported")
                }
            case "dropout":
                let v = try s.readValue()
                if let d = v.number, d > 0 { throw TokenizerError.unreadable(path: path, reason: "BPE dropout is not supported") }
            default:
                try s.skipValue()
            }
        }
    }

    /// Reads a vocabulary object (`{"token": id, ...}`, byte-level token texts), as tokenizer.json's
    /// model.vocab and vocab.json both hold it.
    private static func readVocabulary(_ s: inout JSONScanner, into spec: inout FlatTokenizerSpec) throws(JSONError) {
        try s.beginObject()
        var key: [UInt8] = []
        var first = true
        spec.vocabEnds.reserveCapacity(160_000)
        spec.vocabIDs.reserveCapacity(160_000)
        spec.vocabBytes.reserveCapacity(s.bytes.count - s.offset)  // an upper bound; pages never written cost nothing
        while try s.nextKey(&key, first: &first) {
            let id = try s.readInteger()
            guard id >= 0 && id < 16_777_216 else { throw s.error("token id \(id) out of range") }
            spec.vocabBytes.append(contentsOf: key)
            spec.endVocabEntry(id: UInt32(id))
        }
    }

    /// An added token from its JSON object (tokenizer.json's added_tokens, tokenizer_config.json's
    /// added_tokens_decoder); `id` is given separately since the two files keep it in different places.
    private static func addedToken(_ item: JSONValue, id: UInt32, content: String) -> AddedToken {
        AddedToken(id: id, content: Array(content.utf8), special: item["special"]?.bool ?? false,
                   lstrip: item["lstrip"]?.bool ?? false, rstrip: item["rstrip"]?.bool ?? false,
                   normalized: item["normalized"]?.bool ?? false)
    }

    // MARK: vocab.json + merges.txt

    static func loadVocabAndMerges(vocab vocabPath: String, merges mergesPath: String, config configPath: String?,
                                   reusingEmbedded: Bool = true) throws(TokenizerError) -> Tokenizer {
        try buildNamed(try loadVocabAndMergesSpec(vocab: vocabPath, merges: mergesPath, config: configPath), path: vocabPath,
                       mergesPath: mergesPath, reusingEmbedded: reusingEmbedded)
    }

    static func loadVocabAndMergesSpec(vocab vocabPath: String, merges mergesPath: String, config configPath: String?) throws(TokenizerError) -> FlatTokenizerSpec {
        var spec = FlatTokenizerSpec()
        let vocabData = try readTokenizerFile(vocabPath)
        try withTokenizerErrors(path: vocabPath) { try vocabData.withUnsafeBufferPointer { b in
            var s = JSONScanner(b)
            do {
                try readVocabulary(&s, into: &spec)
            } catch let error as JSONError {
                throw TokenizerError.unreadable(path: vocabPath, reason: error.description)
            }
        } }
        let mergesFile = try readTokenizerFile(mergesPath)
        spec.mergeBytes.reserveCapacity(mergesFile.count)
        try mergesFile.withUnsafeBufferPointer { (mergesData) throws(TokenizerError) in
            var lineNumber = 0
            var lineStart = 0
            while lineStart <= mergesData.count {
                // One line, without its LF and a CR before it; the text after the last LF is a line too (maybe empty).
                var end = mergesData[lineStart...].firstIndex(of: 0x0A) ?? mergesData.count
                let next = end + 1
                defer { lineStart = next }
                lineNumber += 1
                if end > lineStart && mergesData[end - 1] == 0x0D { end -= 1 }
                let line = mergesData[lineStart..<end]
                if line.isEmpty || (lineNumber == 1 && line.starts(with: "#version".utf8)) { continue }
                guard let space = line.firstIndex(of: 0x20), space > lineStart, space + 1 < end,
                      line[(space + 1)...].firstIndex(of: 0x20) == nil else {
                    throw TokenizerError.unreadable(path: mergesPath, reason: "line \(lineNumber) is not two tokens separated by one space")
                }
                spec.mergeBytes.append(contentsOf: line[..<space])
                let leftEnd = spec.mergeBytes.count
                spec.mergeBytes.append(contentsOf: line[(space + 1)...])
                spec.endMerge(leftEnd: leftEnd)
            }
        }
        if let configPath {
            let configData = try readTokenizerFile(configPath)
            let config: JSONValue
            do { config = try configData.withUnsafeBufferPointer { (b) throws(JSONError) in try JSONScanner.parse(b) } } catch {
                throw TokenizerError.unreadable(path: configPath, reason: error.description)
            }
            if case .object(let members) = config["added_tokens_decoder"] ?? .null {
                for (idText, item) in members {
                    guard let id = UInt32(idText), id < 16_777_216, let content = item["content"]?.string else {
                        throw TokenizerError.unreadable(path: configPath, reason: "added token \(idText) lacks a content string or a valid id")
                    }
                    spec.addedTokens.append(addedToken(item, id: id, content: content))
                }
                spec.addedTokens.sort { $0.id < $1.id }
            }
        }
        return spec
    }

    // MARK: Files

    /// A whole tokenizer file, at most 1 GiB: mapped when it is a regular file that `openInput` would not decompress
    /// (no copy, and its pages come from the page cache: reading Qwen2's 7 MB tokenizer.json into an array took 8 ms of a
    /// 70 ms load), else read (decompressing .zst or .gz; a pipe).
    struct FileBytes {
        private let mapped: MappedFile?
        private let read: [UInt8]

        init(path: String) throws(TokenizerError) {
            let limit = 1 << 30
            if !path.hasSuffix(".zst") && !path.hasSuffix(".gz"), let file = try? MappedFile(path: path), file.count <= limit {
                mapped = file
                read = []
                return
            }
            mapped = nil
            do {
                read = try openInput(path: path).readToEnd(limit: limit)
            } catch {
                throw TokenizerError.unreadable(path: path, reason: error.reasonWithoutPath)
            }
        }

        var count: Int { mapped?.count ?? read.count }

        func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
            if let mapped { return try mapped.withUnsafeBytes { (raw) throws(E) in try body(raw.assumingMemoryBound(to: UInt8.self)) } }
            return try read.withUnsafeBufferPointer(body)
        }

        func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
            try withUnsafeBufferPointer { (b) throws(E) in try body(UnsafeRawBufferPointer(b)) }
        }
    }

    static func readTokenizerFile(_ path: String) throws(TokenizerError) -> FileBytes { try FileBytes(path: path) }

    /// Runs `body`, passing TokenizerErrors through and naming `path` in any other error.
    static func withTokenizerErrors<T>(path: String, _ body: () throws -> T) throws(TokenizerError) -> T {
        do { return try body() } catch let e as TokenizerError { throw e } catch {
            throw TokenizerError.unreadable(path: path, reason: "\(error)")
        }
    }

    private static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func firstExisting(_ dir: String, _ names: [String]) -> String? {
        names.lazy.map { dir + "/" + $0 }.first(where: fileExists)
    }
}

extension IOError {
    /// The message without its leading "path: ", for errors that name the path themselves.
    var reasonWithoutPath: String {
        let d = description
        return d.hasPrefix(path + ": ") ? String(d.dropFirst(path.count + 2)) : d
    }
}
