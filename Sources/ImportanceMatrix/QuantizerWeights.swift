/// An importance matrix as llama-quantize loads one (`load_imatrix` and `prepare_imatrix` in its quantize.cpp): for
/// each weight, the mean squared activation of each column per matrix, which the quantizers take as their weights.
public struct QuantizerWeights: Sendable {
    /// Weights per weight name: `columns × matrices` floats.
    public var entries: [String: [Float]]
    /// The datasets the file names.
    public var datasets: [String]
    /// The chunks the file was computed on.
    public var chunkCount: Int

    /// Reads `path` (either layout). GGUF sums are divided by each matrix's count (a matrix no token reached gets
    /// weights of 1); legacy ones, stored as (sum / count) × ncall, by ncall (0 leaves them as stored). A
    /// non-finite weight is refused, as llama-quantize refuses it.
    public init(path: String) throws {
        let gguf = try ImportanceMatrixFile.isGGUF(path)
        // The legacy reader scales by the chunk size; 1 keeps the stored values and ncall as they are.
        let matrix = gguf ? try ImportanceMatrixFile.readGGUF(path) : try ImportanceMatrixFile.readDat(path, chunkSize: 1)
        var entries: [String: [Float]] = [:]
        for (name, entry) in matrix.entries {
            var weights = [Float](repeating: 0, count: entry.sums.count)
            let columns = entry.columns
            for m in 0..<entry.matrices {
                let count = Float(entry.counts[m])
                for i in 0..<columns {
                    let sum = entry.sums[m * columns + i]
                    weights[m * columns + i] = count > 0 ? sum / count : gguf ? 1 : sum
                }
            }
            if let bad = weights.first(where: { !$0.isFinite }) {
                throw ImportanceMatrixError.malformed(path: path, reason: "\(name) has the non-finite weight \(bad)")
            }
            entries[name] = weights
        }
        self.entries = entries
        datasets = matrix.datasets
        chunkCount = matrix.chunkCount
    }

    /// llama-quantize's --exclude-weights then --include-weights: entries whose name contains any excluded text are
    /// dropped; with include texts, only entries whose name contains one of them are kept. Returns the texts that
    /// are in no entry's name (a mistake the caller reports).
    @discardableResult
    public mutating func filter(including: [String], excluding: [String]) -> [String] {
        let unmatched = (excluding + including).filter { text in !entries.keys.contains { $0.contains(text) } }
        if !excluding.isEmpty {
            entries = entries.filter { name, _ in !excluding.contains { name.contains($0) } }
        }
        if !including.isEmpty {
            entries = entries.filter { name, _ in including.contains { name.contains($0) } }
        }
        return unmatched
    }
}
