import ModelFiles
import Qwen2Runtime

/// An importance matrix: for every weight matrix, the sum of squares of each input column over the tokens that
/// reached it, and how many tokens those were (llama-imatrix's data, which quantizers use to weight their errors).
///
/// A stacked expert tensor has one row of sums and one count per expert (only the tokens routed to it); a dense
/// weight one of each. Sums are float and accumulated token by token, as llama-imatrix does.
public struct ImportanceMatrix: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// Input features of the weight (GGUF ne[0]).
        public let columns: Int
        /// matrices × columns sums of squares.
        public var sums: [Float]
        /// Tokens per matrix (one for a dense weight, one per expert for a stacked one).
        public var counts: [Int64]

        public var matrices: Int { counts.count }

        public init(columns: Int, matrices: Int) {
            self.columns = columns
            sums = [Float](repeating: 0, count: columns * matrices)
            counts = [Int64](repeating: 0, count: matrices)
        }

        public init(columns: Int, sums: [Float], counts: [Int64]) {
            self.columns = columns
            self.sums = sums
            self.counts = counts
        }
    }

    /// By GGUF weight name (`blk.0.attn_q.weight`).
    public var entries: [String: Entry] = [:]
    /// The calibration files, as named on the command line, oldest first.
    public var datasets: [String] = []
    /// Chunks of `chunkSize` tokens the sums were collected over.
    public var chunkCount = 0
    public var chunkSize = 0

    public init(chunkSize: Int) { self.chunkSize = chunkSize }

    /// The weight names in the order both file layouts store them: sorted bytewise, as llama-imatrix's std::sort.
    public var namesInFileOrder: [String] {
        entries.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Adds an earlier matrix (`--in-file`), as llama-imatrix loads one: sums and counts add up per weight (a single
    /// count spreads over the experts of a stacked weight), datasets are appended, and the chunk count becomes the
    /// largest count over `chunkSize`. A weight whose sizes differ between the two is refused by name.
    public mutating func add(_ other: ImportanceMatrix, from path: String) throws(ImportanceMatrixError) {
        for (name, incoming) in other.entries {
            guard var entry = entries[name] else {
                entries[name] = incoming
                continue
            }
            guard entry.sums.count == incoming.sums.count else {
                throw .mismatched(path: path, weight: name, reason: "\(incoming.sums.count) sums, not \(entry.sums.count)")
            }
            for j in 0..<entry.sums.count { entry.sums[j] += incoming.sums[j] }
            if entry.counts.count == 1 && incoming.counts.count > 1 {
                // One count (a legacy file) meets per-expert counts: it spreads over the experts, and the sums, stored
                // for all of them, take the other file's shape.
                entry = Entry(columns: incoming.columns, sums: entry.sums,
                              counts: [Int64](repeating: entry.counts[0], count: incoming.counts.count))
            }
            if incoming.counts.count == 1 {
                for j in 0..<entry.counts.count { entry.counts[j] += incoming.counts[0] }
            } else if incoming.counts.count == entry.counts.count {
                for j in 0..<entry.counts.count { entry.counts[j] += incoming.counts[j] }
            } else {
                throw .mismatched(path: path, weight: name, reason: "\(incoming.counts.count) counts, not \(entry.counts.count)")
            }
            entries[name] = entry
        }
        datasets += other.datasets
        let largest = entries.values.flatMap(\.counts).max() ?? 0
        chunkCount = chunkSize > 0 ? Int(largest / Int64(chunkSize)) : 0
    }

    public init(entries: [String: Entry], datasets: [String], chunkCount: Int, chunkSize: Int) {
        self.entries = entries
        self.datasets = datasets
        self.chunkCount = chunkCount
        self.chunkSize = chunkSize
    }
}

/// Collects an `ImportanceMatrix` from a forward pass: set it as `InferenceSession.observer`. Like llama-imatrix it
/// keeps the weights of the layers (`blk.*`) and, with `includeOutput`, `output.weight`; nothing else (the token
/// embedding is a lookup, and a tied output weight is the embedding).
public final class ImportanceMatrixCollector: ActivationObserver {
    public private(set) var matrix: ImportanceMatrix
    public let includeOutput: Bool
    /// The first weight whose loaded sums do not fit the model's; `ImportanceMatrixRun` throws it.
    public private(set) var mismatch: ImportanceMatrixError?

    public init(chunkSize: Int, includeOutput: Bool) {
        matrix = ImportanceMatrix(chunkSize: chunkSize)
        self.includeOutput = includeOutput
    }

    /// Starts from earlier sums (`--in-file`); new tokens add to them.
    public init(continuing matrix: ImportanceMatrix, includeOutput: Bool) {
        self.matrix = matrix
        self.includeOutput = includeOutput
    }

    /// Records that a chunk was processed.
    public func finishChunk() { matrix.chunkCount += 1 }

    public func addDataset(_ name: String) { matrix.datasets.append(name) }

    public func observe(weight: String, expert: Int?, experts: Int, input: UnsafePointer<Float>, rows: Int, columns: Int) {
        guard weight.hasPrefix("blk.") || (includeOutput && weight == "output.weight") else { return }
        let matrices = expert == nil ? 1 : experts
        var entry = matrix.entries.removeValue(forKey: weight) ?? ImportanceMatrix.Entry(columns: columns, matrices: matrices)
        if entry.matrices == 1 && matrices > 1 {
            // A loaded matrix with one count for a stacked weight: every expert starts from it (llama-imatrix
            // broadcasts the count; the sums were stored for all experts).
            entry = ImportanceMatrix.Entry(columns: columns, sums: entry.sums, counts: [Int64](repeating: entry.counts[0], count: matrices))
        }
        guard entry.sums.count == columns * matrices else {
            // A loaded matrix of another model: llama-imatrix stops ("inconsistent size"); so does the run, after the
            // step (an observer cannot throw).
            if mismatch == nil { mismatch = .modelMismatch(weight: weight, loaded: entry.sums.count, model: columns * matrices) }
            matrix.entries[weight] = entry
            return
        }
        let m = expert ?? 0
        entry.sums.withUnsafeMutableBufferPointer { sums in
            let acc = sums.baseAddress! + m * columns
            for r in 0..<rows {
                let x = input + r * columns
                for j in 0..<columns { acc[j] += x[j] * x[j] }
            }
        }
        entry.counts[m] += Int64(rows)
        matrix.entries[weight] = entry
    }
}
