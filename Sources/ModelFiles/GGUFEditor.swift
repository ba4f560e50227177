#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QwenKitIO

// Editing a GGUF file's metadata without touching its tensors (a chat template, an end-of-turn id, a name).
//
// `GGUFEdit` applies a list of `GGUFMetadataEdit`s, in order, to the metadata of an open `GGUFFile`:
//   - setting a key that exists replaces its value where it stands (its type may change: `.set` carries one);
//   - setting a key that does not exist appends it after the others;
//   - deleting a key removes it, and deleting a key that is not there (any more) is an error naming it.
// The edited file is then written through `GGUFWriter`: the edited metadata, the same tensor infos in the same
// order, and each tensor's bytes streamed from the input's mapping in pieces, so memory stays at one piece. Offsets
// are recomputed by the writer, so a changed `general.alignment` re-lays out the data section.
//
// The result is what gguf-py's GGUFWriter writes for the same entries and tensors (checked against goldens made
// by gguf-py: Fixtures/scripts/make_gguf_edit_fixtures.py). Entries the edits do not name are copied exactly: each
// is re-encoded and compared with its stored bytes, so a key or string that is not valid UTF-8 (which the reader
// decodes with U+FFFD) is reported instead of being silently changed; the same holds for tensor names.

/// One change to a GGUF file's metadata.
public enum GGUFMetadataEdit: Sendable, Equatable {
    /// Sets `key` to a value: in place if the key exists (whatever its old type), else appended.
    case set(key: String, value: GGUFValue)
    /// Sets an existing `key` to `text` parsed as the key's current type (`GGUFValue.parse`). Arrays cannot be
    /// set this way.
    case setKeepingType(key: String, text: String)
    /// Removes `key`, which must exist.
    case delete(key: String)

    public var key: String {
        switch self {
        case .set(let key, _), .setKeepingType(let key, _), .delete(let key): return key
        }
    }
}

/// What one edit did, for a summary: `old` is nil for an added key, `new` is nil for a deleted one.
public struct GGUFMetadataChange: Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let old: GGUFValue?
    public let new: GGUFValue?

    /// One line: `set general.name: "a" -> "b"`, `set test.n: UINT16 7 -> UINT32 7` (the type changed),
    /// `add test.n: UINT32 7`, `delete test.n (was UINT32 7)`.
    /// Safe for a terminal: a key or string value read from a file (or given) prints its control characters as
    /// `terminalSafe` escapes.
    public var description: String { terminalSafe(rawDescription) }

    private var rawDescription: String {
        switch (old, new) {
        case (let old?, let new?):
            if old.type == new.type { return "set \(key): \(old.summary) -> \(new.summary)" }
            return "set \(key): \(old.type.name) \(old.summary) -> \(new.type.name) \(new.summary)"
        case (nil, let new?):
            return "add \(key): \(new.type.name) \(new.summary)"
        case (let old?, nil):
            return "delete \(key) (was \(old.type.name) \(old.summary))"
        case (nil, nil):
            return "\(key): unchanged"
        }
    }
}

/// Why an edit cannot be made. Each description is one line naming the key (and the file, where there is one).
public enum GGUFEditError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `.delete` or `.setKeepingType` named a key the metadata does not hold (at that point of the edit list).
    case noSuchKey(path: String, key: String, deleting: Bool)
    /// The text for `key` is not a value of `type`.
    case invalidValue(key: String, text: String, type: GGUFValueType, reason: String)
    /// `.setKeepingType` named an array; its elements cannot be given as one text.
    case cannotSetArray(key: String, elementType: GGUFValueType, count: Int)
    /// A key the writer cannot store (empty).
    case invalidKey(key: String, reason: String)
    /// `general.alignment` would not be a UINT32 non-zero power of two of at most `GGUFLimits.maxWrittenAlignment`.
    case invalidAlignment(value: GGUFValue)
    /// A `tokenizer.ggml.*_token_id` key would not name a token of `tokenizer.ggml.tokens` (`vocabularySize` of them).
    case tokenIDOutOfRange(key: String, value: GGUFValue, vocabularySize: Int)
    /// An entry or tensor name the edits do not name would not be copied byte for byte (`what` says which).
    case notCopiedExactly(path: String, what: String, hint: String)

    /// One line, safe for a terminal: names and values from files keep their control characters as
    /// `terminalSafe` escapes (C1 and DEL too, which JSON quoting leaves as they are).
    public var description: String { terminalSafe(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .noSuchKey(let path, let key, let deleting):
            return deleting
                ? "\(path): cannot delete metadata key \(quoted(key)): the file has no such key"
                : "\(path): cannot set metadata key \(quoted(key)): the file has no such key, so its type is unknown;"
                    + " give the type of the new key"
        case .invalidValue(let key, let text, let type, let reason):
            return "metadata key \(quoted(key)): \(quoted(text)) is not a valid \(type.name): \(reason)"
        case .cannotSetArray(let key, let elementType, let count):
            return "metadata key \(quoted(key)) is an array (\(count) \(elementType.name) elements);"
                + " arrays cannot be set from text"
        case .invalidKey(let key, let reason):
            return "metadata key \(quoted(key)): \(reason)"
        case .invalidAlignment(let value):
            return "metadata key \"\(GGUFKeys.generalAlignment)\": \(value.type.name) \(value.summary) is not allowed;"
                + " the alignment must be a UINT32 power of two, at most \(GGUFLimits.maxWrittenAlignment) (32 is the default)"
        case .tokenIDOutOfRange(let key, let value, let count):
            return "metadata key \(quoted(key)): \(value.type.name) \(value.summary) is not a token id:"
                + " \(GGUFKeys.tokenizerTokens) has \(count) tokens (ids 0 to \(count - 1))"
        case .notCopiedExactly(let path, let what, let hint):
            return "\(path): \(what) cannot be copied unchanged: \(hint)"
        }
    }
}

extension GGUFValue {
    /// Parses `text` as a scalar of `type`: integers in decimal with a range check, floats as decimal (or any
    /// form Swift's `Double(_:)` reads) and finite, bools `true` or `false`, strings as they are.
    ///
    /// A FLOAT32 is parsed as a Double and then rounded to Float, as gguf-py packs a Python float: the same bits
    /// the converter would write for the same decimal text.
    public static func parse(_ text: String, as type: GGUFValueType, key: String) throws(GGUFEditError) -> GGUFValue {
        func fail(_ reason: String) -> GGUFEditError { .invalidValue(key: key, text: text, type: type, reason: reason) }
        func integer<T: FixedWidthInteger>(_: T.Type) throws(GGUFEditError) -> T {
            if let v = T(text, radix: 10) { return v }
            let digits = text.utf8.drop(while: { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") })
            let looksNumeric = text.utf8.count - digits.count <= 1 && !digits.isEmpty
                && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            throw fail(looksNumeric ? "out of range \(T.min)...\(T.max)" : "not a decimal integer")
        }
        switch type {
        case .uint8: return .uint8(try integer(UInt8.self))
        case .int8: return .int8(try integer(Int8.self))
        case .uint16: return .uint16(try integer(UInt16.self))
        case .int16: return .int16(try integer(Int16.self))
        case .uint32: return .uint32(try integer(UInt32.self))
        case .int32: return .int32(try integer(Int32.self))
        case .uint64: return .uint64(try integer(UInt64.self))
        case .int64: return .int64(try integer(Int64.self))
        case .float32, .float64:
            guard let d = Double(text) else { throw fail("not a number") }
            guard d.isFinite else { throw fail("not a finite number") }
            if type == .float64 { return .float64(d) }
            let f = Float(d)
            guard f.isFinite else { throw fail("out of the FLOAT32 range (largest \(Float.greatestFiniteMagnitude))") }
            return .float32(f)
        case .bool:
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw fail("expected true or false")
            }
        case .string:
            return .string(text)
        case .array:
            throw fail("arrays cannot be given as text")
        }
    }

    /// A short display form: numbers in decimal, strings quoted (JSON escapes, long ones cut with their byte
    /// count), arrays as their element type and count.
    public var summary: String {
        switch self {
        case .uint8(let v): return String(v)
        case .int8(let v): return String(v)
        case .uint16(let v): return String(v)
        case .int16(let v): return String(v)
        case .uint32(let v): return String(v)
        case .int32(let v): return String(v)
        case .uint64(let v): return String(v)
        case .int64(let v): return String(v)
        case .float32(let v): return v.description
        case .float64(let v): return v.description
        case .bool(let v): return v ? "true" : "false"
        case .string(let s):
            let shown = 60
            if s.count <= shown { return quoted(s) }
            return quoted(String(s.prefix(shown))) + "… (\(s.utf8.count) bytes)"
        case .array(let a): return "[\(a.count) \(a.elementType.name)]"
        }
    }
}

/// A GGUF file with edited metadata, ready to be written: the input's tensors, unchanged.
public struct GGUFEdit {
    public let input: GGUFFile
    /// The edited metadata, in output order.
    public let metadata: [GGUFKeyValue]
    /// One entry per edit, in order.
    public let changes: [GGUFMetadataChange]
    /// The output's data alignment (its `general.alignment`, or 32).
    public let alignment: Int

    /// Tensor bytes are copied in pieces of this size (between pieces the progress line is updated).
    static let copyPieceSize = 16 << 20

    /// Applies `edits` in order and checks that everything they do not name can be copied exactly.
    public init(input: GGUFFile, edits: [GGUFMetadataEdit]) throws(GGUFEditError) {
        var metadata = input.metadata
        var changes: [GGUFMetadataChange] = []
        var named: Set<String> = []
        for edit in edits {
            let key = edit.key
            named.insert(key)
            let index = metadata.firstIndex { $0.key == key }
            let value: GGUFValue
            switch edit {
            case .delete:
                guard let index else { throw .noSuchKey(path: input.path, key: key, deleting: true) }
                changes.append(GGUFMetadataChange(key: key, old: metadata[index].value, new: nil))
                metadata.remove(at: index)
                continue
            case .set(_, let given):
                value = given
            case .setKeepingType(_, let text):
                guard let index else { throw .noSuchKey(path: input.path, key: key, deleting: false) }
                let old = metadata[index].value
                if case .array(let a) = old { throw .cannotSetArray(key: key, elementType: a.elementType, count: a.count) }
                value = try GGUFValue.parse(text, as: old.type, key: key)
            }
            try GGUFEdit.check(key: key, value: value)
            if let index {
                changes.append(GGUFMetadataChange(key: key, old: metadata[index].value, new: value))
                metadata[index] = GGUFKeyValue(key, value)
            } else {
                changes.append(GGUFMetadataChange(key: key, old: nil, new: value))
                metadata.append(GGUFKeyValue(key, value))
            }
        }
        try GGUFEdit.checkTokenIDs(metadata, named: named)
        try GGUFEdit.checkExactCopy(of: input, except: named)
        self.input = input
        self.metadata = metadata
        self.changes = changes
        let alignment = metadata.first { $0.key == GGUFKeys.generalAlignment }.map(\.value)
        if case .uint32(let a)? = alignment { self.alignment = Int(a) } else { self.alignment = GGUFLimits.defaultAlignment }
    }

    /// What the writer would refuse, found before anything is written and named as the user's edit.
    private static func check(key: String, value: GGUFValue) throws(GGUFEditError) {
        guard !key.isEmpty else { throw .invalidKey(key: key, reason: "a key cannot be empty") }
        guard key.utf8.count <= GGUFLimits.maxStringLength else {
            throw .invalidKey(key: String(key.prefix(64)), reason: "the key is longer than \(GGUFLimits.maxStringLength) bytes")
        }
        if key == GGUFKeys.generalAlignment, GGUFLimits.writtenAlignmentProblem(value) != nil {
            throw .invalidAlignment(value: value)
        }
    }

    /// Every token id key the edits set names a token of the edited file's vocabulary (when it has one): an id
    /// past the end would make a runner read outside the embedding, or stop on a token that never comes.
    private static func checkTokenIDs(_ metadata: [GGUFKeyValue], named: Set<String>) throws(GGUFEditError) {
        guard let tokens = metadata.first(where: { $0.key == GGUFKeys.tokenizerTokens })?.value.arrayValue else { return }
        for kv in metadata where named.contains(kv.key) && GGUFKeys.isTokenID(kv.key) {
            guard let id = kv.value.intValue, id >= 0, id < tokens.count else {
                throw .tokenIDOutOfRange(key: kv.key, value: kv.value, vocabularySize: tokens.count)
            }
        }
    }

    /// Every metadata entry not in `named` and every tensor name re-encodes to its stored bytes.
    private static func checkExactCopy(of input: GGUFFile, except named: Set<String>) throws(GGUFEditError) {
        var scratch: [UInt8] = []
        func same(_ range: Range<Int>) -> Bool {
            let stored = input.storedBytes(range)
            return stored.count == scratch.count && stored.elementsEqual(scratch)
        }
        for (kv, range) in zip(input.metadata, input.metadataRecordRanges) where !named.contains(kv.key) {
            scratch.removeAll(keepingCapacity: true)
            appendString(kv.key, to: &scratch)
            appendLittleEndian(kv.value.type.rawValue, to: &scratch)
            appendValue(kv.value, to: &scratch)
            guard same(range) else {
                throw .notCopiedExactly(path: input.path, what: "metadata key \(quoted(kv.key))",
                                        hint: "its stored bytes do not survive decoding (a key or string that is not"
                                            + " valid UTF-8, or a BOOL byte other than 0 and 1); set or delete it")
            }
        }
        for (t, range) in zip(input.tensors, input.tensorNameRanges) {
            scratch.removeAll(keepingCapacity: true)
            appendString(t.name, to: &scratch)
            guard same(range) else {
                throw .notCopiedExactly(path: input.path, what: "tensor name \(quoted(t.name))",
                                        hint: "the name is not valid UTF-8")
            }
        }
    }

    /// Writes the edited file to `path` (atomically: nothing is left there on error). Tensor bytes go from the
    /// input's mapping to the output in pieces of `copyPieceSize`, counted on `progress`. Throws
    /// `IOError.outputIsInput` (wrapped in `ModelFileError.io`) when `path` is the input file, however spelled: the
    /// writer's `OutputGuard` check, shared by every output.
    public func write(to path: String, progress: ProgressReporter = .disabled()) throws {
        let writer = GGUFWriter(path: path)
        for kv in metadata { try writer.add(kv.key, kv.value) }
        for t in input.tensors { try writer.addTensor(name: t.name, dims: t.dims, type: t.type) }
        let tensors = input.tensors
        var index = 0
        try input.withExtendedLifetime { () throws -> Void in
            try writer.write { sink in
                let data = input.data(of: tensors[index])
                index += 1
                var offset = 0
                while offset < data.count {
                    let n = min(GGUFEdit.copyPieceSize, data.count - offset)
                    try sink.write(UnsafeRawBufferPointer(rebasing: data[offset..<(offset + n)]))
                    progress.add(bytes: n)
                    offset += n
                }
            }
        }
    }

    /// Total tensor bytes, for a progress total.
    public var tensorByteCount: Int { input.tensors.reduce(0) { $0 + $1.byteCount } }
}
