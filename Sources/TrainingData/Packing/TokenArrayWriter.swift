// `--format npy` and `--pack SEQ_LEN`: ids as one array (a .npy numpy loads directly, or a u32 stream numpy.fromfile
// reads), either flat or packed into rows of SEQ_LEN tokens.
//
// Packing (documents arrive with their --eod already appended by TokenOutputWriter):
// - concat: documents back to back, cut every SEQ_LEN tokens; a document may run on into the next row. Only the last
//   row is padded. Streams with one row of memory.
// - bfd: best-fit decreasing, as in "Fewer Truncations Improve Language Modeling" (Ding et al., 2024): documents are
//   collected up to a window of tokens, sorted longest first (ties in input order), and each is put into the row whose
//   free space fits it most tightly (of several, the first row made; a new row when none fits); a document longer than a row is cut into whole rows and its remainder
//   packed like a document. No document is cut otherwise; rows are padded. The window bounds memory; packing is
//   per window, so its rows differ from one run over everything when shards split a window.
//
// Beside a packed output, PATH.cu_seqlens.jsonl has one line per row: where each document (or the continuation of one)
// starts in the row, then where its tokens end; the padding follows. These are flash-attention's `cu_seqlens` for the
// row, from which a trainer resets positions or builds a block-diagonal attention mask.

import QwenKitIO

public enum PackMode: String, Sendable, CaseIterable {
    case concat, bfd
}

public struct Packing: Sendable {
    public var rowLength: Int
    public var mode: PackMode
    /// The id that fills a row's unused end.
    public var pad: UInt32
    /// bfd: tokens collected before each packing round (at least 64 rows).
    public var window: Int

    public init(rowLength: Int, mode: PackMode, pad: UInt32, window: Int? = nil) {
        self.rowLength = rowLength
        self.mode = mode
        self.pad = pad
        self.window = window ?? max(1 << 20, 64 * rowLength)
    }

    /// The sidecar of a packed output.
    public static func boundariesPath(_ path: String) -> String { path + ".cu_seqlens.jsonl" }
}

public final class TokenArrayWriter: TokenRecordWriter {
    private let sink: ByteSink
    private let npy: Bool
    private let packing: Packing?
    private let boundaries: ByteSink?
    private var total = 0          // ids written (flat) or rows written (packed)

    // concat: the row being filled and where its documents start.
    private var row: [UInt32] = []
    private var starts: [Int] = [0]
    // bfd: the window's documents, back to back, and each one's start.
    private var pool: [UInt32] = []
    private var poolStarts: [Int] = []
    private var documentStart = 0

    public var appendsEODToEmptyDocuments: Bool { true }

    /// `path` is a file: npy needs a regular one (its row count is written into the header at the end); a packed
    /// output also writes `Packing.boundariesPath(path)`.
    public init(path: String, npy: Bool, packing: Packing?) throws {
        self.npy = npy
        self.packing = packing
        sink = try openOutput(path: path, compress: npy ? false : nil)
        if npy {
            guard sink.output is AtomicOutputFile else {
                throw MegatronDatasetError("\(path): --format npy needs a regular file (its shape is written into the header at the end)")
            }
            try sink.write(NpyFormat.header(shape: [0]))
        }
        boundaries = try packing.map { _ in try openOutput(path: Packing.boundariesPath(path), compress: false) }
        if let packing { row.reserveCapacity(packing.rowLength) }
    }

    public func openRecord(input: Int, document: Int, chunk: Int?) throws {}

    public func write(_ ids: UnsafeBufferPointer<UInt32>) throws {
        guard let packing else {
            try sink.write(UnsafeRawBufferPointer(ids))
            total += ids.count
            return
        }
        switch packing.mode {
        case .concat:
            var start = 0
            while start < ids.count {
                let n = min(packing.rowLength - row.count, ids.count - start)
                row.append(contentsOf: UnsafeBufferPointer(rebasing: ids[start..<(start + n)]))
                start += n
                if row.count == packing.rowLength { try emitRow() }
            }
        case .bfd:
            pool.append(contentsOf: ids)
        }
    }

    public func closeRecord(extraFields: UnsafeBufferPointer<UInt8>, endsDocument: Bool) throws {
        guard endsDocument, let packing else { return }
        switch packing.mode {
        case .concat:
            if !row.isEmpty { starts.append(row.count) }
        case .bfd:
            // Whole rows of a long document go out at once; its remainder is packed.
            var length = pool.count - documentStart
            var cut = documentStart
            while length > packing.rowLength {
                row.append(contentsOf: pool[cut..<(cut + packing.rowLength)])
                try emitRow()
                cut += packing.rowLength
                length -= packing.rowLength
            }
            pool.removeSubrange(documentStart..<cut)
            if length > 0 { poolStarts.append(documentStart) } else { pool.removeSubrange(documentStart...) }
            documentStart = pool.count
            if pool.count >= packing.window { try packPool() }
        }
    }

    public func finish() throws {
        if let packing {
            if packing.mode == .bfd { try packPool() }
            if !row.isEmpty { try emitRow() }
        }
        if npy {
            try sink.flush()
            let shape = packing.map { [total, $0.rowLength] } ?? [total]
            try NpyFormat.header(shape: shape).withUnsafeBytes { try (sink.output as! AtomicOutputFile).overwrite($0, at: 0) }
        }
        try boundaries?.close()
        try sink.close()
    }

    /// Pads `row`, writes it and its boundaries line, and starts the next.
    private func emitRow() throws {
        let packing = packing!
        var line = "["
        if starts.last == row.count && row.count < packing.rowLength { starts.removeLast() }
        for s in starts { line += "\(s)," }
        line += "\(row.count)]\n"
        try boundaries!.write(line)
        if row.count < packing.rowLength { row.append(contentsOf: repeatElement(packing.pad, count: packing.rowLength - row.count)) }
        try row.withUnsafeBytes { try sink.write($0) }
        total += 1
        row.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
    }

    /// Best-fit decreasing over the window's documents.
    private func packPool() throws {
        guard let packing, !poolStarts.isEmpty else { return }
        let length = packing.rowLength
        poolStarts.append(pool.count)
        // Documents longest first; equal lengths in input order.
        let documents = (0..<(poolStarts.count - 1)).map { (start: poolStarts[$0], length: poolStarts[$0 + 1] - poolStarts[$0]) }
        let order = documents.indices.sorted { documents[$0].length != documents[$1].length ? documents[$0].length > documents[$1].length : $0 < $1 }
        var rows: [[Int]] = []           // each row's documents, in the order placed
        var free = FreeSpaceIndex(capacity: length)
        for d in order {
            let need = documents[d].length
            if let r = free.takeSmallest(atLeast: need) {
                rows[r.row].append(d)
                free.insert(row: r.row, space: r.space - need)
            } else {
                rows.append([d])
                free.insert(row: rows.count - 1, space: length - need)
            }
        }
        for placed in rows {
            for d in placed {
                if !row.isEmpty { starts.append(row.count) }
                row.append(contentsOf: pool[documents[d].start..<(documents[d].start + documents[d].length)])
            }
            try emitRow()
        }
        pool.removeAll(keepingCapacity: true)
        poolStarts.removeAll(keepingCapacity: true)
        documentStart = 0
    }
}

/// Rows by free space, for best fit: the row with the least free space that is at least n, in O(capacity / 64) at
/// worst (a bit per free-space value that some row has, scanned a word at a time).
struct FreeSpaceIndex {
    private var rowsWithSpace: [[Int]]
    private var present: [UInt64]

    init(capacity: Int) {
        rowsWithSpace = Array(repeating: [], count: capacity + 1)
        present = Array(repeating: 0, count: capacity / 64 + 1)
    }

    mutating func insert(row: Int, space: Int) {
        guard space > 0 else { return }  // a full row takes nothing more
        rowsWithSpace[space].append(row)
        present[space >> 6] |= 1 << UInt64(space & 63)
    }

    /// Removes and returns the row whose free space is the smallest at least `n` (of several, the first row made).
    mutating func takeSmallest(atLeast n: Int) -> (row: Int, space: Int)? {
        var word = n >> 6
        var bits = present[word] & (~0 << UInt64(n & 63))
        while bits == 0 {
            word += 1
            if word == present.count { return nil }
            bits = present[word]
        }
        let space = word << 6 | bits.trailingZeroBitCount
        let earliest = rowsWithSpace[space].indices.min { rowsWithSpace[space][$0] < rowsWithSpace[space][$1] }!
        let row = rowsWithSpace[space].remove(at: earliest)
        if rowsWithSpace[space].isEmpty { present[space >> 6] &= ~(1 << UInt64(space & 63)) }
        return (row, space)
    }
}
