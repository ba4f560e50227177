// Encodes corpora: inputs are cut into units (DocumentSplitter), units are encoded on N threads, and
// results are handed to a consumer strictly in input order. At most `2 * threads + 2` units exist at
// once (read, encoding, or waiting to be written), so memory is bounded by the unit size, not by the
// input size; the reader blocks when the writer falls behind.

import Dispatch
import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to do with input that is not valid UTF-8.
public enum InvalidUTF8Policy: String, Sendable, CaseIterable {
    /// Stop with an error naming the input and byte offset.
    case error
    /// Substitute U+FFFD per ill-formed subsequence, as Python's `errors="replace"`.
    case replace
}

/// What to do with a record that cannot be read (`--bad-records`).
public enum BadRecordPolicy: Sendable, Equatable {
    /// The first one fails the run (the default).
    case fail
    /// Skip them; fail once more than `limit` were skipped (nil: no limit).
    case skip(limit: Int?)
}

/// The bad records a run skipped: how many, and the first few messages.
public struct BadRecordReport: Sendable {
    public static let listed = 10
    public internal(set) var count = 0
    /// The first `listed` messages, in input order ("data.jsonl: line 7: no field \"text\"").
    public internal(set) var first: [String] = []
}

public struct CorpusEncodingOptions: Sendable {
    public var framing: DocumentFraming = .whole
    public var special: SpecialTokenPolicy = .parse
    public var invalid: InvalidUTF8Policy = .error
    public var threads: Int = 1
    /// Target bytes of text per work unit.
    public var unitBytes: Int = 256 << 10
    /// For `.jsonl`: collect each record's other members (for JSONL output).
    public var keepOtherFields = false
    /// What a bad record (a line that is not a JSON object, lacks the field or has a non-string one, or is not UTF-8
    /// under `.error`) does.
    public var badRecords: BadRecordPolicy = .fail

    public init() {}
}

/// Receives encoded documents in input order.
public protocol CorpusConsumer: AnyObject {
    /// Called once per document part, in order. `ids` are this part's ids; `extraFields` is the raw
    /// JSON text of the record's other members (JSONL input with keepOtherFields; empty otherwise).
    func consume(input: Int, document: Int, ids: UnsafeBufferPointer<UInt32>, extraFields: UnsafeBufferPointer<UInt8>,
                 continued: Bool, continues: Bool) throws
    /// Called after each input's last document, with its byte and character counts.
    func endInput(_ input: Int, bytes: Int64, characters: Int64) throws
}

/// A consumer that needs only the number of tokens of each document part: the encoder then counts
/// them (`TokenEncoder.count`) without storing any id, and calls this `consume` instead of the other.
public protocol CorpusCountingConsumer: CorpusConsumer {
    func consume(input: Int, document: Int, tokenCount: Int, continued: Bool, continues: Bool) throws
}

public final class CorpusEncoder: @unchecked Sendable {  // immutable while workers run
    public let tokenizer: Tokenizer
    public let options: CorpusEncodingOptions
    let splitFinder: SafeSplitFinder
    /// The JSONL field's path: one key, or the keys of a dotted path (`meta.text`) into nested objects.
    let fieldPath: [[UInt8]]
    let fieldName: String
    /// The bad records skipped so far (with `BadRecordPolicy.skip`), filled as units are delivered.
    public private(set) var badRecordReport = BadRecordReport()

    public init(tokenizer: Tokenizer, options: CorpusEncodingOptions) {
        self.tokenizer = tokenizer
        self.options = options
        self.splitFinder = SafeSplitFinder(tokenizer: tokenizer, replacesInvalid: options.invalid == .replace)
        if case .jsonl(let field) = options.framing {
            fieldName = field
            fieldPath = field.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        } else {
            fieldName = ""
            fieldPath = []
        }
    }

    /// Encodes `sources` in order, calling `consumer` on the calling thread.
    public func run(sources: [any ByteSource], progress: ProgressReporter? = nil, consumer: CorpusConsumer) throws {
        try run(inputs: sources.map { .stream($0) }, progress: progress, consumer: consumer)
    }

    /// Encodes `inputs` in order: streams cut by the framing, or sources of records (with framing `.records`).
    public func run(inputs sources: [CorpusInput], progress: ProgressReporter? = nil, consumer: CorpusConsumer) throws {
        sourceNames = sources.map(\.name)
        func unitMaker(_ source: CorpusInput, _ i: Int) throws -> any UnitMaker {
            switch (source, options.framing) {
            case (.records(let records), .records):
                return RecordBatcher(source: records, input: i, unitBytes: options.unitBytes, withExtra: options.keepOtherFields)
            case (.stream(let stream), let framing) where framing != .records:
                return DocumentSplitter(source: stream, input: i, framing: framing, unitBytes: options.unitBytes,
                                        splitter: splitFinder, model: tokenizer.model)
            default:
                throw CorpusError("\(source.name): \(options.framing == .records ? "not a source of records" : "records need the records framing")")
            }
        }
        let threads = max(1, options.threads)
        let pool = EncoderPool(tokenizer: tokenizer)
        var inputBytes: Int64 = 0
        var characters: Int64 = 0

        let counting = consumer as? CorpusCountingConsumer
        let countOnly = counting != nil
        // A unit cut inside a piece waits for the next one, which fixes the ids at the cut.
        var held: WorkUnit?
        let joinScratch = BPEScratch()
        func deliver(_ unit: WorkUnit) throws {
            if let left = held {
                held = nil
                if left.error == nil && unit.error == nil { try join(left, unit, scratch: joinScratch) }
                try deliverNow(left)
            }
            if unit.endsInsidePiece && unit.error == nil {
                held = unit
            } else {
                try deliverNow(unit)
            }
        }
        func deliverNow(_ unit: WorkUnit) throws {
            try noteBadRecords(unit)
            if let counting {
                var start = 0
                for (k, span) in unit.spans.prefix(unit.idEnds.count).enumerated() where !span.skipped {
                    try counting.consume(input: unit.input, document: span.document, tokenCount: unit.idEnds[k] - start,
                                         continued: span.continued, continues: span.continues)
                    start = unit.idEnds[k]
                }
            } else {
                try deliverIDs(unit)
            }
            if let error = unit.error { throw error }
            inputBytes += Int64(unit.textBytes)
            characters += Int64(unit.characters)
            if unit.endsInput {
                try consumer.endInput(unit.input, bytes: inputBytes, characters: characters)
                inputBytes = 0
                characters = 0
            }
        }
        func deliverIDs(_ unit: WorkUnit) throws {
            try unit.ids.withUnsafeBufferPointer { ids in
                try unit.extra.withUnsafeBufferPointer { extra in
                    var idStart = 0, extraStart = 0
                    // A unit that failed part-way delivers the documents before the failure first.
                    for (k, span) in unit.spans.prefix(unit.idEnds.count).enumerated() {
                        let extraEnd = unit.extraEnds.isEmpty ? 0 : unit.extraEnds[k]
                        defer {
                            idStart = unit.idEnds[k]
                            extraStart = extraEnd
                        }
                        if span.skipped { continue }
                        try consumer.consume(input: unit.input, document: span.document,
                                             ids: UnsafeBufferPointer(rebasing: ids[idStart..<unit.idEnds[k]]),
                                             extraFields: UnsafeBufferPointer(rebasing: extra[extraStart..<extraEnd]),
                                             continued: span.continued, continues: span.continues)
                    }
                }
            }
        }

        if threads == 1 {
            let encoder = pool.take()
            var sequence = 0
            var before: Int64 = 0  // input bytes (compressed, for .zst) of earlier sources, for progress
            for (i, source) in sources.enumerated() {
                let splitter = try unitMaker(source, i)
                defer { before += source.inputPosition }
                while let unit = try splitter.next(sequence: sequence) {
                    progress?.set(completed: before + source.inputPosition)
                    sequence += 1
                    process(unit, encoder: encoder, countOnly: countOnly)
                    try deliver(unit)
                }
            }
            if let left = held { try deliverNow(left) }
            return
        }

        // Parallel: the calling thread reads and delivers; workers encode.
        let state = PipelineState()
        let maxInFlight = 2 * threads + 2
        let queue = DispatchQueue(label: "qwenkit.encode", attributes: .concurrent)
        let workers = DispatchSemaphore(value: threads)
        var sequence = 0
        var nextToDeliver = 0
        var failure: Error?

        func deliverReady(blockUntil target: Int) throws {
            // Deliver in order every finished unit; wait while fewer than `target` are delivered.
            while true {
                let unit: WorkUnit? = state.take(nextToDeliver, wait: nextToDeliver < target)
                guard let unit else { return }
                nextToDeliver += 1
                try deliver(unit)
            }
        }

        do {
            var before: Int64 = 0
            for (i, source) in sources.enumerated() {
                let splitter = try unitMaker(source, i)
                defer { before += source.inputPosition }
                while true {
                    try deliverReady(blockUntil: sequence - maxInFlight + 1)
                    guard let unit = try splitter.next(sequence: sequence) else { break }
                    progress?.set(completed: before + source.inputPosition)
                    sequence += 1
                    workers.wait()
                    queue.async {
                        let encoder = pool.take()
                        self.process(unit, encoder: encoder, countOnly: countOnly)
                        pool.give(encoder)
                        workers.signal()
                        state.finish(unit)
                    }
                }
            }
            try deliverReady(blockUntil: sequence)
            if let left = held { try deliverNow(left) }
        } catch {
            failure = error
        }
        // Let running workers end before returning (their units are dropped).
        for _ in 0..<threads { workers.wait() }
        for _ in 0..<threads { workers.signal() }
        if let failure { throw failure }
    }

    /// Makes the ids at a cut inside a piece exact (`LinearBPE.join`): `left` ended inside the piece
    /// that `right` goes on with. Both hold their ids (units at such cuts store them even when only
    /// counting, and idEnds mean the same either way).
    private func join(_ left: WorkUnit, _ right: WorkUnit, scratch: BPEScratch) throws {
        let model = tokenizer.model
        guard let linear = scratch.linearTables(model), let leftEnd = left.idEnds.last, let rightEnd = right.idEnds.first,
              leftEnd == left.ids.count else { return }
        let leftFloor = left.idEnds.count > 1 ? left.idEnds[left.idEnds.count - 2] : 0
        guard let removed = linear.join(left: &left.ids, leftFloor: leftFloor, right: &right.ids, rightCeiling: rightEnd,
                                        tokens: model.tokens, maxWindow: DocumentSplitter.runCutMargin, scratch: scratch) else {
            throw CorpusError("\(inputName(right)): cannot join the ids at the cut at byte \(right.baseOffset) exactly (please report this input)")
        }
        left.idEnds[left.idEnds.count - 1] = left.ids.count
        if removed > 0 { for k in right.idEnds.indices { right.idEnds[k] -= removed } }
    }

    /// Encodes every span of `unit` into its result fields. Errors are stored in the unit, to be
    /// reported when the unit's turn to be delivered comes (so earlier output is complete).
    func process(_ unit: WorkUnit, encoder: TokenEncoder, countOnly: Bool) {
        // Units at a cut inside a piece keep their ids, for the join.
        let countOnly = countOnly && !unit.endsInsidePiece && !unit.startsInsidePiece
        do {
            unit.inputBytes = unit.text.count
            unit.textBytes = unit.text.count
            if !countOnly { unit.ids.reserveCapacity(unit.text.count / 3) }
            unit.idEnds.reserveCapacity(unit.spans.count)
            if case .jsonl = options.framing {
                try processJSONL(unit, encoder: encoder, countOnly: countOnly)
            } else {
                try processText(unit, encoder: encoder, countOnly: countOnly)
            }
        } catch {
            unit.error = error
        }
        unit.text = []  // release the input early
    }

    private func processText(_ unit: WorkUnit, encoder: TokenEncoder, countOnly: Bool) throws {
        let invalidAt: Int? = unit.text.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0) }
        // Valid text cut into lines (or whole): its characters are the spans' and the line separators' (ASCII), so
        // the whole unit is counted at once rather than line by line (a short line's count was mostly its tail loop).
        let countedWhole = invalidAt == nil && (options.framing == .lines || options.framing == .whole)
            && unit.spans.allSatisfy { $0.badRecord == nil }
        if countedWhole { unit.characters += unit.text.withUnsafeBytes { UTF8Validation.scalarCount($0) } }
        var replaced: [UInt8] = []
        func encodeSpan(_ spanText: UnsafeBufferPointer<UInt8>, _ span: DocumentSpan) throws {
            if !countedWhole { unit.characters += UTF8Validation.scalarCount(UnsafeRawBufferPointer(spanText)) }
            do {
                if let tail = unit.pieceTail, invalidAt == nil, span.end == unit.text.count, span.start <= tail.start {
                    // The piece at the end was encoded by the cut finder.
                    try encoder.encode(UnsafeBufferPointer(rebasing: spanText[..<(tail.start - span.start)]), special: options.special, into: &unit.ids)
                    unit.ids.append(contentsOf: tail.ids)
                    unit.idEnds.append(unit.ids.count)
                } else {
                    try encode(spanText, unit, encoder: encoder, countOnly: countOnly)
                }
            } catch {
                throw CorpusError(describe(error, unit: unit, span: span))
            }
        }
        try unit.text.withUnsafeBufferPointer { text in
            let recordFraming = options.framing == .lines || options.framing == .records
            func skip(_ k: Int, _ message: String) {
                unit.spans[k].skipped = true
                unit.badRecords.append(message)
                unit.idEnds.append(countOnly ? unit.counted : unit.ids.count)
            }
            for k in unit.spans.indices {
                let span = unit.spans[k]
                let spanText = UnsafeBufferPointer(rebasing: text[span.start..<span.end])
                if let message = span.badRecord {
                    guard case .skip = options.badRecords else { throw CorpusError(message) }
                    skip(k, message)
                    continue
                }
                if let invalidAt, options.invalid == .error, invalidAt < span.end {
                    let bad = UTF8Validation.firstInvalidOffset(UnsafeRawBufferPointer(spanText)).map { span.start + $0 }
                    if case .skip = options.badRecords, recordFraming, !span.continued, !span.continues, let bad {
                        // A whole line or record that is not UTF-8: a bad record.
                        skip(k, invalidMessage(unit, offset: bad))
                        continue
                    }
                    // Spans before this one are delivered; then the error.
                    if bad != nil || invalidAt >= span.start { throw CorpusError(invalidMessage(unit, offset: bad ?? invalidAt)) }
                }
                if invalidAt != nil {
                    replaced.removeAll(keepingCapacity: true)
                    UTF8Validation.replacingInvalid(UnsafeRawBufferPointer(spanText), into: &replaced)
                    try replaced.withUnsafeBufferPointer { try encodeSpan($0, span) }
                } else {
                    try encodeSpan(spanText, span)
                }
            }
        }
        // Line separators count as input bytes and characters for `count`.
        if case .lines = options.framing, !countedWhole {
            unit.characters += unit.inputBytes - unit.spans.reduce(0) { $0 + $1.end - $1.start }
        }
        // ... and skipped lines are not text.
        for span in unit.spans where span.skipped { unit.textBytes -= span.end - span.start }
    }

    private func processJSONL(_ unit: WorkUnit, encoder: TokenEncoder, countOnly: Bool) throws {
        unit.textBytes = 0  // counted per record: the field's text, not the JSON around it
        var field: [UInt8] = []
        var key: [UInt8] = []
        var replaced: [UInt8] = []
        try unit.text.withUnsafeBufferPointer { text in
            // A unit of valid UTF-8 (the usual case) is checked once, not line by line and field by field: a string
            // read from valid JSON text is valid (escapes are decoded to scalars, lone surrogates to U+FFFD).
            let valid = UTF8Validation.firstInvalidOffset(UnsafeRawBufferPointer(text)) == nil
            for k in unit.spans.indices {
                let span = unit.spans[k]
                let line = UnsafeBufferPointer(rebasing: text[span.start..<span.end])
                let extraStart = unit.extra.count
                do {
                    if !valid, let bad = UTF8Validation.firstInvalidOffset(UnsafeRawBufferPointer(line)), options.invalid == .error {
                        throw BadRecord(invalidMessage(unit, offset: span.start + bad))
                    }
                    field.removeAll(keepingCapacity: true)
                    try readRecord(line, into: &field, key: &key, unit: unit, span: span)
                } catch let bad as BadRecord {
                    guard case .skip = options.badRecords else { throw CorpusError(bad.message) }
                    unit.extra.removeLast(unit.extra.count - extraStart)
                    unit.spans[k].skipped = true
                    unit.badRecords.append(bad.message)
                    unit.idEnds.append(countOnly ? unit.counted : unit.ids.count)
                    unit.extraEnds.append(unit.extra.count)
                    continue
                }
                if !valid && field.withUnsafeBytes({ UTF8Validation.firstInvalidOffset($0) }) != nil {
                    // Raw invalid bytes inside the string, in replace mode.
                    replaced.removeAll(keepingCapacity: true)
                    field.withUnsafeBytes { UTF8Validation.replacingInvalid($0, into: &replaced) }
                    swap(&field, &replaced)
                }
                try field.withUnsafeBufferPointer { textBuffer in
                    unit.characters += UTF8Validation.scalarCount(UnsafeRawBufferPointer(textBuffer))
                    do {
                        try encode(textBuffer, unit, encoder: encoder, countOnly: countOnly)
                    } catch {
                        throw CorpusError("\(lineName(unit, span)): \(error)")
                    }
                }
                unit.textBytes += field.count
                unit.extraEnds.append(unit.extra.count)
            }
        }
    }

    /// Reads one JSONL record: the string at `fieldPath` into `field`, and (with keepOtherFields) the other top-level
    /// members into `unit.extra`. With a dotted path, the top-level member that holds the field is carried whole.
    /// Whatever is wrong with the record is a `BadRecord`.
    private func readRecord(_ line: UnsafeBufferPointer<UInt8>, into field: inout [UInt8], key: inout [UInt8], unit: WorkUnit,
                            span: DocumentSpan) throws(BadRecord) {
        var found = false
        var scanner = JSONScanner(line)
        do {
            try scanner.beginObject()
            var first = true
            var wroteExtra = false
            while try scanner.nextKey(&key, first: &first) {
                let memberStart = scanner.offset
                var carry = options.keepOtherFields && !key.elementsEqual("ids".utf8)
                if !found && key == fieldPath[0] {
                    found = try readField(&scanner, depth: 1, into: &field, unit: unit, span: span)
                    carry = carry && fieldPath.count > 1
                } else {
                    try scanner.skipValue()
                }
                if carry {
                    if wroteExtra { unit.extra.append(UInt8(ascii: ",")) }
                    key.withUnsafeBufferPointer { JSONString.appendQuoted($0, to: &unit.extra) }
                    unit.extra.append(UInt8(ascii: ":"))
                    var valueStart = memberStart
                    while line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
                    unit.extra.append(contentsOf: UnsafeBufferPointer(rebasing: line[valueStart..<scanner.offset]))
                    wroteExtra = true
                }
            }
            guard scanner.atEnd() else { throw scanner.error("unexpected data after the JSON object") }
        } catch let error as JSONError {
            throw BadRecord("\(lineName(unit, span)): \(error)")
        } catch let error as BadRecord {
            throw error
        } catch {
            throw BadRecord("\(lineName(unit, span)): \(error)")
        }
        guard found else { throw BadRecord("\(lineName(unit, span)): no field \"\(fieldName)\"") }
    }

    /// The value after the key `fieldPath[depth - 1]`: the string itself at the end of the path, else an object to
    /// look for the next key in. False when a nested object lacks the rest of the path.
    private func readField(_ scanner: inout JSONScanner, depth: Int, into field: inout [UInt8], unit: WorkUnit,
                           span: DocumentSpan) throws -> Bool {
        let kind = try scanner.peekKind()
        // The field's dotted name, for messages only (made per record, it was a fifth of the JSONL overhead).
        var name: String { fieldPath[..<depth].map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") }
        if depth == fieldPath.count {
            guard kind == .string else { throw BadRecord("\(lineName(unit, span)): field \"\(name)\" is \(kind == .null ? "null" : "not a string")") }
            try scanner.readString(into: &field, replaceLoneSurrogates: options.invalid == .replace)
            return true
        }
        guard kind == .object else {
            if kind == .null { try scanner.skipValue(); return false }
            throw BadRecord("\(lineName(unit, span)): field \"\(name)\" is not an object")
        }
        try scanner.beginObject()
        var first = true
        var key: [UInt8] = []
        var found = false
        while try scanner.nextKey(&key, first: &first) {
            if !found && key == fieldPath[depth] {
                found = try readField(&scanner, depth: depth + 1, into: &field, unit: unit, span: span)
            } else {
                try scanner.skipValue()
            }
        }
        return found
    }

    /// Moves a unit's skipped records into the run's report (in input order: units are delivered in order), and fails
    /// the run once more than the limit are skipped.
    private func noteBadRecords(_ unit: WorkUnit) throws {
        guard !unit.badRecords.isEmpty, case .skip(let limit) = options.badRecords else { return }
        for message in unit.badRecords {
            badRecordReport.count += 1
            if badRecordReport.first.count < BadRecordReport.listed { badRecordReport.first.append(message) }
            if let limit, badRecordReport.count > limit {
                throw CorpusError("more than \(limit) bad records (--max-bad-records \(limit)); the last: \(message)")
            }
        }
    }

    /// Encodes (or only counts) one document's text and ends its span in `unit.idEnds`.
    private func encode(_ text: UnsafeBufferPointer<UInt8>, _ unit: WorkUnit, encoder: TokenEncoder, countOnly: Bool) throws(TokenizerError) {
        if countOnly {
            unit.counted += try encoder.count(text, special: options.special)
            unit.idEnds.append(unit.counted)
        } else {
            try encoder.encode(text, special: options.special, into: &unit.ids)
            unit.idEnds.append(unit.ids.count)
        }
    }

    private func inputName(_ unit: WorkUnit) -> String { sourceNames[unit.input] }

    private func lineName(_ unit: WorkUnit, _ span: DocumentSpan) -> String {
        options.framing == .records ? "\(inputName(unit)): row \(span.document)" : "\(inputName(unit)): line \(span.document + 1)"
    }

    /// Where byte `offset` of a unit's text is: a byte of the input and its line, or for records a byte of a row's text.
    private func place(_ unit: WorkUnit, offset: Int, span: DocumentSpan?) -> String {
        if options.framing == .records, let span { return "row \(span.document), byte \(offset - span.start) of its text" }
        var where_ = "byte \(unit.baseOffset + Int64(offset))"
        if options.framing != .whole, let span { where_ += " (line \(span.document + 1))" }
        return where_
    }

    private func invalidMessage(_ unit: WorkUnit, offset: Int) -> String {
        let span = unit.spans.first(where: { $0.start <= offset && offset < $0.end }) ?? unit.spans.first(where: { $0.start <= offset && offset <= $0.end })
        return "\(inputName(unit)): invalid UTF-8 at \(place(unit, offset: offset, span: span)); use --invalid replace to substitute U+FFFD"
    }

    private func describe(_ error: TokenizerError, unit: WorkUnit, span: DocumentSpan) -> String {
        if case .specialTokenInText(let token, let offset) = error {
            let where_ = place(unit, offset: span.start + offset, span: span)
            return "\(inputName(unit)): special token \(token) at \(where_); use --special parse or --special text to allow it"
        }
        return "\(inputName(unit)): \(error)"
    }

    /// Names of the inputs, for messages (set by `run` before any worker starts).
    private var sourceNames: [String] = []
}

/// A record that cannot be read; a failure or a skip, as `BadRecordPolicy` says.
struct BadRecord: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Completed units waiting for their turn, and a condition for the delivering thread.
final class PipelineState: @unchecked Sendable {  // all access under `mutex`
    private var finished: [Int: WorkUnit] = [:]
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
        pthread_cond_destroy(&condition)
    }

    func finish(_ unit: WorkUnit) {
        pthread_mutex_lock(&mutex)
        finished[unit.sequence] = unit
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Removes and returns unit `sequence`; when it is not finished yet, waits for it if `wait`, else nil.
    func take(_ sequence: Int, wait: Bool) -> WorkUnit? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while true {
            if let unit = finished.removeValue(forKey: sequence) { return unit }
            if !wait { return nil }
            pthread_cond_wait(&condition, &mutex)
        }
    }
}

/// Reusable per-thread encoders.
final class EncoderPool: @unchecked Sendable {  // all access under `mutex`
    let tokenizer: Tokenizer
    private var free: [TokenEncoder] = []
    private var mutex = pthread_mutex_t()

    init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    func take() -> TokenEncoder {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return free.popLast() ?? tokenizer.makeEncoder()
    }

    func give(_ encoder: TokenEncoder) {
        pthread_mutex_lock(&mutex)
        free.append(encoder)
        pthread_mutex_unlock(&mutex)
    }
}
