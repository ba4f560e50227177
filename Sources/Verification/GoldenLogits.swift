#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import QwenKitIO

// Golden logits as Fixtures/scripts/make_logit_goldens.py writes them: transformers' float32 logits for a run of
// tokens, in one of two forms (safetensors, `__metadata__` "format" = "qwenkit-golden-logits-v1"):
//
//   full     tokens I32 [n]   logits F32 [n, vocab]
//   compact  tokens I32 [n]   top_ids I32 [n, K]   top_logits F32 [n, K]   logsumexp F32 [n]
//
// The compact form keeps each position's K largest logits (descending, ties to the lower id) and log Σ exp over
// the whole vocabulary, so a 152k-vocabulary golden stays small; the vocabulary size then comes from the metadata.
// Everything is validated on load, so the comparator's loops never meet a bad id or a NaN from the golden.

/// Which of the two layouts a golden file uses.
public enum GoldenForm: String, Sendable, Equatable {
    case full
    case compact
}

/// A validated golden logits file. Values are copied out of the mapping (a 100-token golden of a 152k vocabulary
/// is 60 MB; the copy is what makes them aligned whatever the file's offsets).
public final class GoldenLogits: Sendable {
    /// `__metadata__["format"]` of files we write. Files without a `format` key are read too (tensors decide).
    public static let formatName = "qwenkit-golden-logits-v1"

    public let path: String
    public let form: GoldenForm
    /// The input tokens, one per position.
    public let tokens: [UInt32]
    /// The model's vocabulary size: the logits' row length (full) or `__metadata__["vocab_size"]` (compact).
    public let vocabSize: Int
    /// Logits kept per position: `vocabSize` in the full form, K in the compact form.
    public let keptPerPosition: Int
    /// `__metadata__` as stored (model, prompt, versions, ...).
    public let metadata: [String: String]

    private let values: [Float]      // full: [n, vocab] logits; compact: [n, K] top_logits
    private let topIDValues: [Int32] // compact: [n, K]; full: empty
    private let logSumExpValues: [Float]  // compact: [n]; full: empty

    /// Positions (= tokens).
    public var count: Int { tokens.count }
    /// K of the compact form; nil for the full form.
    public var topK: Int? { form == .compact ? keptPerPosition : nil }
    /// The prompt text it was made from, when the maker recorded one.
    public var prompt: String? { metadata["prompt"] }

    public init(path: String) throws(VerificationError) {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw .unreadable(error) }
        self.path = path
        self.metadata = file.metadata
        if let format = file.metadata["format"], format != Self.formatName {
            throw .badMetadata(path: path, key: "format", reason: "\(JSONString.quoted(format)), expected \(JSONString.quoted(Self.formatName))")
        }
        let form: GoldenForm
        switch (file["logits"] != nil, file["top_ids"] != nil) {
        case (true, true): throw .ambiguousForm(path: path)
        case (true, false): form = .full
        case (false, true): form = .compact
        case (false, false): throw .missingTensor(path: path, tensor: "logits", form: nil)
        }
        if let declared = file.metadata["form"], declared != form.rawValue {
            throw .badMetadata(path: path, key: "form", reason: "says \(JSONString.quoted(declared)) but the tensors are the \(form.rawValue) form")
        }
        self.form = form
        let declaredVocab = try Self.metadataVocabSize(file, path: path)

        let tokensInfo = try Self.tensor(file, "tokens", .i32, form: form)
        guard tokensInfo.shape.count == 1 else {
            throw .wrongShape(path: path, tensor: "tokens", shape: tokensInfo.shape, expected: "[n]")
        }
        let n = tokensInfo.shape[0]
        guard n > 0 else { throw .noTokens(path: path) }
        let rawTokens: [Int32] = Self.copy(file.data(of: tokensInfo), count: n)

        var values: [Float]
        var ids: [Int32] = []
        var lse: [Float] = []
        let vocab: Int
        let kept: Int
        switch form {
        case .full:
            let info = try Self.tensor(file, "logits", .f32, form: form)
            guard info.shape.count == 2, info.shape[0] == n, info.shape[1] > 0 else {
                throw .wrongShape(path: path, tensor: "logits", shape: info.shape, expected: "[n, vocab] with n = \(n) (the tokens)")
            }
            vocab = info.shape[1]
            kept = vocab
            if let declaredVocab, declaredVocab != vocab {
                throw .badMetadata(path: path, key: "vocab_size", reason: "says \(declaredVocab) but the logits have \(vocab) columns")
            }
            values = Self.copy(file.data(of: info), count: n * vocab)
            try Self.checkFinite(values, "logits", width: vocab, path: path)
        case .compact:
            guard let declaredVocab else {
                throw .badMetadata(path: path, key: "vocab_size", reason: "missing; the compact form needs it")
            }
            vocab = declaredVocab
            let idsInfo = try Self.tensor(file, "top_ids", .i32, form: form)
            guard idsInfo.shape.count == 2, idsInfo.shape[0] == n else {
                throw .wrongShape(path: path, tensor: "top_ids", shape: idsInfo.shape, expected: "[n, K] with n = \(n) (the tokens)")
            }
            kept = idsInfo.shape[1]
            guard kept >= 1, kept <= vocab else { throw .invalidTopK(path: path, k: kept, vocabSize: vocab) }
            let logitsInfo = try Self.tensor(file, "top_logits", .f32, form: form)
            guard logitsInfo.shape == [n, kept] else {
                throw .wrongShape(path: path, tensor: "top_logits", shape: logitsInfo.shape, expected: "[n, K] = [\(n), \(kept)] (as top_ids)")
            }
            let lseInfo = try Self.tensor(file, "logsumexp", .f32, form: form)
            guard lseInfo.shape == [n] else {
                throw .wrongShape(path: path, tensor: "logsumexp", shape: lseInfo.shape, expected: "[n] = [\(n)]")
            }
            ids = Self.copy(file.data(of: idsInfo), count: n * kept)
            values = Self.copy(file.data(of: logitsInfo), count: n * kept)
            lse = Self.copy(file.data(of: lseInfo), count: n)
            try Self.checkFinite(values, "top_logits", width: kept, path: path)
            try Self.checkFinite(lse, "logsumexp", width: 1, path: path)
            try Self.checkCompactRows(ids: ids, logits: values, lse: lse, k: kept, vocab: vocab, path: path)
        }
        var tokens: [UInt32] = []
        tokens.reserveCapacity(n)
        for (i, t) in rawTokens.enumerated() {
            guard t >= 0, Int(t) < vocab else { throw .tokenOutOfRange(path: path, position: i, token: Int(t), vocabSize: vocab) }
            tokens.append(UInt32(t))
        }
        self.tokens = tokens
        self.vocabSize = vocab
        self.keptPerPosition = kept
        self.values = values
        self.topIDValues = ids
        self.logSumExpValues = lse
    }

    /// Throws `vocabMismatch` unless the model's vocabulary (its output rows) is the golden's. Tokens were checked
    /// against the golden's vocabulary on load, so they are then in range for the model too.
    public func checkCompatible(modelVocabSize: Int) throws(VerificationError) {
        guard modelVocabSize == vocabSize else { throw .vocabMismatch(path: path, golden: vocabSize, model: modelVocabSize) }
    }

    // MARK: Per-position access (positions 0..<count; the views live as long as this object)

    /// Full form: the position's `vocabSize` logits. Compact form: its K largest logits, descending.
    public func withLogits<R>(at position: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[(position * keptPerPosition)..<((position + 1) * keptPerPosition)]))
        }
    }

    /// Compact form: the ids of `withLogits`' values (empty in the full form).
    public func withTopIDs<R>(at position: Int, _ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        try topIDValues.withUnsafeBufferPointer { all in
            guard form == .compact else { return try body(UnsafeBufferPointer(rebasing: all[0..<0])) }
            return try body(UnsafeBufferPointer(rebasing: all[(position * keptPerPosition)..<((position + 1) * keptPerPosition)]))
        }
    }

    /// log Σ exp of the position's logits over the whole vocabulary, in Double (stored in the compact form,
    /// computed from the row in the full form).
    public func logSumExp(at position: Int) -> Double {
        if form == .compact { return Double(logSumExpValues[position]) }
        return withLogits(at: position) { LogitMath.logSumExp($0) }
    }

    /// The id of the position's largest logit (ties to the lower id).
    public func top1(at position: Int) -> Int {
        if form == .compact { return Int(topIDValues[position * keptPerPosition]) }
        return withLogits(at: position) { LogitMath.argmax($0) }
    }

    /// Copies of one position's values, for tests and small reports.
    public func logits(at position: Int) -> [Float] { withLogits(at: position) { Array($0) } }
    public func topIDs(at position: Int) -> [Int] { withTopIDs(at: position) { $0.map { Int($0) } } }

    // MARK: Validation helpers

    private static func metadataVocabSize(_ file: SafetensorsFile, path: String) throws(VerificationError) -> Int? {
        guard let text = file.metadata["vocab_size"] else { return nil }
        guard let v = Int(text), v > 0 else {
            throw .badMetadata(path: path, key: "vocab_size", reason: "\(JSONString.quoted(text)) is not a positive integer")
        }
        return v
    }

    private static func tensor(_ file: SafetensorsFile, _ name: String, _ dtype: SafetensorsDType,
                               form: GoldenForm) throws(VerificationError) -> SafetensorsTensorInfo {
        guard let info = file[name] else { throw .missingTensor(path: file.path, tensor: name, form: form) }
        guard info.dtype == dtype else {
            throw .wrongDType(path: file.path, tensor: name, dtype: info.dtype.rawValue, expected: dtype.rawValue)
        }
        return info
    }

    /// `count` little-endian elements copied out of `bytes` (whose size the reader has checked against the shape).
    private static func copy<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, count: Int) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = T(littleEndian: bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            initialized = count
        }
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
        let bits: [UInt32] = copy(bytes, count: count)
        return bits.map(Float.init(bitPattern:))
    }

    private static func checkFinite(_ values: [Float], _ tensor: String, width: Int, path: String) throws(VerificationError) {
        for (i, v) in values.enumerated() where !v.isFinite {
            throw .nonFinite(path: path, tensor: tensor, position: i / width, index: i % width)
        }
    }

    private static func checkCompactRows(ids: [Int32], logits: [Float], lse: [Float], k: Int, vocab: Int,
                                         path: String) throws(VerificationError) {
        var seen = Set<Int32>()
        for p in 0..<lse.count {
            seen.removeAll(keepingCapacity: true)
            var mass = 0.0
            for r in 0..<k {
                let id = ids[p * k + r]
                guard id >= 0, Int(id) < vocab else {
                    throw .topIDOutOfRange(path: path, position: p, rank: r, id: Int(id), vocabSize: vocab)
                }
                guard seen.insert(id).inserted else { throw .duplicateTopID(path: path, position: p, id: Int(id)) }
                if r > 0 && logits[p * k + r] > logits[p * k + r - 1] {
                    throw .topLogitsNotDescending(path: path, position: p, rank: r)
                }
                mass += exp(Double(logits[p * k + r]) - Double(lse[p]))
            }
            guard lse[p] >= logits[p * k] else {
                throw .inconsistentLogSumExp(path: path, position: p, reason: "\(lse[p]) is below the largest logit \(logits[p * k])")
            }
            guard mass <= 1 + LogitMath.compactMassSlack else {
                throw .inconsistentLogSumExp(path: path, position: p, reason: "\(lse[p]) gives the top \(k) a probability of \(mass), above 1")
            }
        }
    }
}
