// Documents that arrive already separated, as the rows of a table (a parquet file): batched into work units like
// lines, with no framing to find. The text of each record is copied into the unit; its other fields come as JSON
// members for JSONL output.

import QwenKitIO

/// A source of records: each one's text (nil for a missing value) and its other fields.
public protocol RecordSource: AnyObject {
    /// The input as messages name it.
    var name: String { get }
    /// What messages call a record's text ("column \"text\"").
    var fieldDescription: String { get }
    /// The next record, nil after the last: its index in the input (0-based, as the table's row number) and its text,
    /// valid until the next call. With `withExtra`, its other fields are appended to `extra` as JSON members
    /// (`"name":value,...`).
    func next(extra: inout [UInt8], withExtra: Bool) throws -> (index: Int, text: UnsafeBufferPointer<UInt8>?)?
    /// For progress: bytes of the input behind the records read so far, and the input's size.
    var inputPosition: Int64 { get }
    var inputSize: Int64? { get }
}

/// One input of a corpus: a byte stream cut into documents by the framing, or a source of records.
public enum CorpusInput {
    case stream(any ByteSource)
    case records(any RecordSource)

    var name: String {
        switch self {
        case .stream(let s): s.name
        case .records(let r): r.name
        }
    }

    var inputPosition: Int64 {
        switch self {
        case .stream(let s): s.inputPosition
        case .records(let r): r.inputPosition
        }
    }
}

/// What the encoder takes units from: a DocumentSplitter over a stream or a RecordBatcher.
protocol UnitMaker {
    func next(sequence: Int) throws -> WorkUnit?
}

extension DocumentSplitter: UnitMaker {}

final class RecordBatcher: UnitMaker {
    let source: any RecordSource
    let input: Int
    let unitBytes: Int
    let withExtra: Bool
    private var finished = false
    private var madeAny = false

    init(source: any RecordSource, input: Int, unitBytes: Int, withExtra: Bool) {
        self.source = source
        self.input = input
        self.unitBytes = max(unitBytes, 1024)
        self.withExtra = withExtra
    }

    /// Records up to about `unitBytes` of text. A missing text is a span with a bad-record message; the last unit of
    /// the input ends it (an empty one when the records ran out exactly at a unit's end).
    func next(sequence: Int) throws -> WorkUnit? {
        if finished { return nil }
        var text: [UInt8] = []
        text.reserveCapacity(unitBytes + unitBytes / 4)
        var spans: [DocumentSpan] = []
        var extra: [UInt8] = []
        var extraEnds: [Int] = []
        while text.count < unitBytes {
            guard let record = try source.next(extra: &extra, withExtra: withExtra) else {
                finished = true
                break
            }
            let start = text.count
            if let bytes = record.text { text.append(contentsOf: bytes) }
            var span = DocumentSpan(start: start, end: text.count, document: record.index, continued: false, continues: false)
            if record.text == nil { span.badRecord = "\(source.name): row \(record.index): \(source.fieldDescription) is null" }
            spans.append(span)
            extraEnds.append(extra.count)
        }
        if spans.isEmpty && !madeAny { return nil }  // no records at all: no unit, as an empty stream of lines
        madeAny = true
        let unit = WorkUnit(sequence: sequence, input: input, baseOffset: 0, text: text, spans: spans, endsInput: finished)
        unit.extra = extra
        unit.extraEnds = extraEnds
        return unit
    }
}
