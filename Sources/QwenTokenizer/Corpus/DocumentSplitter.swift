// Cuts an input stream into work units for parallel encoding: many small documents batched together,
// or one huge document cut into chunks at places where cutting cannot change the tokens. Memory is
// bounded by the unit size (plus one pretokenized piece), never by the input size.

import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How an input stream is divided into documents.
public enum DocumentFraming: Sendable, Equatable {
    /// The whole stream is one document.
    case whole
    /// Each line (split on `\n`, a trailing `\r` removed) is a document.
    case lines
    /// Each non-blank line is a JSON object whose string member `field` is the document.
    case jsonl(field: String)
    /// The inputs are sources of records (`CorpusInput.records`): each record is a document.
    case records
}

/// A document, or part of one, inside a unit's text.
struct DocumentSpan {
    var start: Int
    var end: Int
    /// Index of the document within its input (0-based; the line number - 1 for lines and JSONL).
    var document: Int
    /// The document started in an earlier unit.
    var continued: Bool
    /// The document goes on in a later unit.
    var continues: Bool
    /// A bad record skipped (`BadRecordPolicy.skip`): no ids, nothing delivered.
    var skipped = false
    /// Known bad when the unit was made (a record whose text is missing): why.
    var badRecord: String?
}

/// A batch of input for one worker, and afterwards its results.
final class WorkUnit: @unchecked Sendable {  // handed from reader to one worker to the writer, never shared
    let sequence: Int
    let input: Int
    /// Offset in the input of `text[0]`.
    let baseOffset: Int64
    var text: [UInt8]
    var spans: [DocumentSpan]
    /// True for the last unit of its input.
    var endsInput: Bool
    /// The unit was cut inside a pretokenized piece (`SafeSplitFinder.lastRunCut`): its last ids and
    /// the next unit's first ids are made exact when both are encoded (`LinearBPE.join`).
    var endsInsidePiece = false
    var startsInsidePiece = false
    /// For a unit that ends inside a piece: where in `text` the piece starts, and its ids up to the
    /// end of the unit, as the cut finder computed them.
    var pieceTail: (start: Int, ids: [UInt32])?

    // Results, filled by the worker.
    var ids: [UInt32] = []
    /// `idEnds[k]`: end of span k's ids in `ids`.
    var idEnds: [Int] = []
    /// When only counting (`CorpusCountingConsumer`): the ids counted so far; `ids` stays empty and
    /// `idEnds` are running counts.
    var counted = 0
    /// JSONL: the other members of each record, as raw JSON text joined by commas; `extraEnds` per span.
    var extra: [UInt8] = []
    var extraEnds: [Int] = []
    /// Unicode scalars in each span's text (after replacement), for `count`.
    var characters: Int = 0
    /// Bytes of the input covered by this unit (including line separators).
    var inputBytes: Int = 0
    /// Bytes of text, for `count`: the input's bytes, except for JSONL, where it is the fields' text.
    var textBytes: Int = 0
    var error: Error?
    /// Messages of the bad records skipped in this unit, in order.
    var badRecords: [String] = []

    init(sequence: Int, input: Int, baseOffset: Int64, text: [UInt8], spans: [DocumentSpan], endsInput: Bool) {
        self.sequence = sequence
        self.input = input
        self.baseOffset = baseOffset
        self.text = text
        self.spans = spans
        self.endsInput = endsInput
    }
}

/// Errors about the corpus (not the tokenizer): each names the input and the place.
public struct CorpusError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads one input and yields units.
final class DocumentSplitter {
    let source: any ByteSource
    let input: Int
    let framing: DocumentFraming
    let unitBytes: Int
    let splitter: SafeSplitFinder
    let model: BPEModel
    /// For encoding the piece a long run belongs to (`SafeSplitFinder.lastRunCut`).
    private let scratch = BPEScratch()
    /// A single document piece longer than this with no safe place to cut is refused.
    static let maximumUncuttable = 1 << 30
    /// A cut inside a run keeps this many bytes of the run on each side, and units cut there are at
    /// least four times as long, so re-encoding the ids near the cut stays inside the run's piece.
    static let runCutMargin = 1024

    private var buffer: [UInt8] = []
    private var bufferOffset: Int64 = 0  // input offset of buffer[0]
    private var ended = false
    private var document = 0
    private var documentContinued = false
    /// The last unit ended inside a piece.
    private var pieceContinued = false
    /// The buffer size before which no cut inside a run is tried again.
    private var nextRunCutAttempt = 0
    private var finished = false
    private let readBlock: Int

    init(source: any ByteSource, input: Int, framing: DocumentFraming, unitBytes: Int, splitter: SafeSplitFinder, model: BPEModel) {
        self.model = model
        self.source = source
        self.input = input
        self.framing = framing
        self.unitBytes = max(unitBytes, 1024)
        self.splitter = splitter
        self.readBlock = max(unitBytes, 1024)
        self.bufferOffset = source.startOffset
    }

    /// Reads more input into `buffer` (at least one block unless the input ends).
    private func fill(atLeast wanted: Int) throws {
        while !ended && buffer.count < wanted {
            let old = buffer.count
            let add = max(readBlock, wanted - old)
            buffer.reserveCapacity(old + add)
            var n = 0
            buffer.append(contentsOf: repeatElement(0, count: add))
            try buffer.withUnsafeMutableBytes { b in
                n = try source.readFull(into: UnsafeMutableRawBufferPointer(rebasing: b[old..<(old + add)]))
            }
            buffer.removeLast(add - n)
            if n < add { ended = true }
        }
    }

    /// Takes `buffer[0..<count]` as a unit's text: the buffer itself becomes the text, and only what
    /// follows the cut (usually a few bytes: cuts are sought from the end) is copied to a new buffer.
    private func take(_ count: Int) -> (text: [UInt8], offset: Int64) {
        var text: [UInt8] = []
        swap(&text, &buffer)
        buffer.reserveCapacity(max(readBlock, text.count - count) + readBlock)
        buffer.append(contentsOf: text[count...])
        text.removeLast(text.count - count)
        let offset = bufferOffset
        bufferOffset += Int64(count)
        return (text, offset)
    }

    func next(sequence: Int) throws -> WorkUnit? {
        if finished { return nil }
        switch framing {
        case .whole: return try nextWhole(sequence: sequence)
        case .lines, .jsonl: return try nextLines(sequence: sequence)
        case .records: preconditionFailure("records are batched by RecordBatcher")
        }
    }

    private func nextWhole(sequence: Int) throws -> WorkUnit? {
        try fill(atLeast: unitBytes)
        if ended {
            // The rest is the last piece of the one document (possibly empty: an empty input is an
            // empty document).
            let (text, offset) = take(buffer.count)
            finished = true
            let span = DocumentSpan(start: 0, end: text.count, document: 0, continued: documentContinued, continues: false)
            return makeUnit(sequence, offset, text, [span], endsInput: true, tail: nil)
        }
        guard let (cut, tail) = try findCut(from: unitBytes / 2) else {
            return try nextWhole(sequence: sequence)  // the buffer ended with the input
        }
        let (text, offset) = take(cut)
        let span = DocumentSpan(start: 0, end: text.count, document: 0, continued: documentContinued, continues: true)
        documentContinued = true
        return makeUnit(sequence, offset, text, [span], endsInput: false, tail: tail)
    }

    private func makeUnit(_ sequence: Int, _ offset: Int64, _ text: [UInt8], _ spans: [DocumentSpan], endsInput: Bool,
                          tail: SafeSplitFinder.RunCut?) -> WorkUnit {
        let unit = WorkUnit(sequence: sequence, input: input, baseOffset: offset, text: text, spans: spans, endsInput: endsInput)
        unit.startsInsidePiece = pieceContinued
        unit.endsInsidePiece = tail != nil
        if let tail { unit.pieceTail = (tail.pieceStart, tail.ids) }
        pieceContinued = tail != nil
        return unit
    }

    /// A safe cut in `buffer` at or after `minimum`, reading more input while there is none; nil when
    /// the input ended first (the caller then takes everything). After twice the unit size without
    /// one, a cut inside a long run of one kind of character will do (`SafeSplitFinder.lastRunCut`).
    private func findCut(from minimum: Int) throws -> (Int, tail: SafeSplitFinder.RunCut?)? {
        var searchFrom = min(minimum, buffer.count)
        let margin = DocumentSplitter.runCutMargin
        while true {
            let found = buffer.withUnsafeBufferPointer { splitter.lastSafeCut(in: $0, notBefore: searchFrom) }
            if let found { return (found, nil) }
            if ended { return nil }
            if buffer.count >= max(2 * unitBytes, 8 * margin, nextRunCutAttempt) {
                let inRun = buffer.withUnsafeBufferPointer {
                    splitter.lastRunCut(in: $0, notBefore: max(minimum, 4 * margin), margin: margin, model: model, scratch: scratch)
                }
                if let inRun {
                    nextRunCutAttempt = 0
                    return (inRun.cut, inRun)
                }
                nextRunCutAttempt = 2 * buffer.count  // each attempt reads the buffer: keep the total linear
            }
            if buffer.count > DocumentSplitter.maximumUncuttable {
                throw CorpusError("\(source.name): no place to cut the text between byte \(bufferOffset) and \(bufferOffset + Int64(buffer.count)) (a single word or run of more than 1 GiB)")
            }
            searchFrom = max(buffer.count - 8, 0)
            try fill(atLeast: buffer.count + readBlock)
        }
    }

    private func nextLines(sequence: Int) throws -> WorkUnit? {
        try fill(atLeast: unitBytes)
        if buffer.isEmpty && ended {
            finished = true
            return nil
        }
        // Complete lines up to the last newline in the buffer.
        var lastNewline = -1
        buffer.withUnsafeBufferPointer { b in
            var i = b.count - 1
            while i >= 0 { if b[i] == 0x0A { lastNewline = i; break }; i -= 1 }
        }
        var spans: [DocumentSpan] = []
        if lastNewline >= 0 || ended {
            let cut = lastNewline >= 0 ? lastNewline + 1 : buffer.count
            let (text, offset) = take(cut)
            var start = 0
            text.withUnsafeBufferPointer { t in
                guard let first = t.baseAddress else { return }
                let base = UnsafeRawPointer(first)
                while start < t.count {
                    let i = memchr(base + start, 0x0A, t.count - start).map { UnsafeRawPointer($0) - base } ?? t.count
                    var end = i
                    if end > start && t[end - 1] == 0x0D { end -= 1 }
                    if !(isJSONL && isBlank(t, start, end)) {
                        spans.append(DocumentSpan(start: start, end: end, document: document, continued: documentContinued, continues: false))
                    }
                    documentContinued = false
                    document += 1
                    start = i + 1
                }
            }
            if ended && buffer.isEmpty { finished = true }
            return makeUnit(sequence, offset, text, spans, endsInput: finished, tail: nil)
        }
        // One line longer than the buffer.
        if isJSONL {
            // A JSON record is parsed whole: keep reading until its newline.
            while !ended {
                let before = buffer.count
                try fill(atLeast: buffer.count + max(readBlock, buffer.count))
                if buffer[before...].contains(0x0A) { break }
                if buffer.count > DocumentSplitter.maximumUncuttable * 4 {
                    throw CorpusError("\(source.name): line \(document + 1) is longer than 4 GiB")
                }
            }
            return try nextLines(sequence: sequence)
        }
        guard let (cut, tail) = try findCut(from: unitBytes / 2) else { return try nextLines(sequence: sequence) }
        // A newline may have arrived while looking for a cut: then complete lines come first.
        if let nl = buffer[..<cut].firstIndex(of: 0x0A), nl < cut { return try nextLines(sequence: sequence) }
        let (text, offset) = take(cut)
        let span = DocumentSpan(start: 0, end: text.count, document: document, continued: documentContinued, continues: true)
        documentContinued = true
        return makeUnit(sequence, offset, text, [span], endsInput: false, tail: tail)
    }

    private var isJSONL: Bool { if case .jsonl = framing { return true }; return false }

    private func isBlank(_ t: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        for i in start..<end where t[i] != 0x20 && t[i] != 0x09 && t[i] != 0x0D { return false }
        return true
    }
}
