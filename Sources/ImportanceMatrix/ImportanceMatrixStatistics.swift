import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// llama-imatrix's `--show-statistics` (tools/imatrix/imatrix.cpp: compute_statistics, compute_cossim and
/// show_statistics): per weight, figures over its mean squared activations, and per layer their averages weighted by
/// element count.
///
/// Everything is float32 and in llama-imatrix's order, so that the printed digits are its digits: a weight's
/// activations are its sums divided by its counts, matrix by matrix, skipping a matrix (expert) without tokens; the
/// total and the sum of squares run left to right (std::accumulate and std::inner_product in float); entropy adds
/// −p·log2f(p) in the same order; the cosine similarity is between the raw sums of a weight and of the same weight one
/// layer down. Weights are listed sorted by their short name (`attn_q`), then by Σ(Act²) descending (std::sort with
/// llama-imatrix's comparer), and the per-layer averages add up in that listing order.
///
/// A legacy (`dat`) matrix is read as llama-imatrix loads one: values and counts multiplied by the chunk size
/// (`ImportanceMatrixFile.read`), which moves the last bits of the activations.
public struct ImportanceMatrixStatistics: Sendable, Equatable {
    public struct Tensor: Sendable, Equatable {
        /// The weight (`blk.0.attn_q.weight`).
        public let name: String
        /// Its block number as printed (`0`), or `-` outside the blocks.
        public let layer: String
        /// The component before `.weight` (`attn_q`), or the whole name without one.
        public let shortName: String
        /// Σ(Act²): the sum of the activations (each a sum of squares over a count).
        public let total: Float
        public let minimum: Float
        public let maximum: Float
        /// μ and σ of the activations.
        public let mean: Float
        public let standardDeviation: Float
        /// The fraction of activations above 1e-5.
        public let activeFraction: Float
        /// Activations: columns × the matrices (experts) that saw tokens.
        public let elements: Int
        /// Shannon entropy, in bits, of the activations as a distribution.
        public let entropy: Float
        /// `entropy` over log2(`elements`), in percent.
        public let normalizedEntropy: Float
        /// ZD: the fraction of activations more than one σ above μ.
        public let zScoreFraction: Float
        /// Cosine similarity with the same weight of the previous layer (0 without one).
        public internal(set) var cosineSimilarity: Float
    }

    /// Averages over the weights of one block, each weighted by its element count.
    public struct Layer: Sendable, Equatable {
        public let index: Int
        /// μΣ(Act²).
        public let meanTotal: Float
        /// μZD, a fraction.
        public let meanZScoreFraction: Float
        /// μCosSim.
        public let meanCosineSimilarity: Float
    }

    /// In llama-imatrix's listing order.
    public let tensors: [Tensor]
    /// The blocks (numbers ≥ 0), ascending.
    public let layers: [Layer]
    /// Weights left out because none of their matrices saw a token (llama-imatrix: "all counts are zero").
    public let skipped: [String]

    /// Activations below or at this are inactive (llama-imatrix's threshold).
    static let inactiveThreshold: Float = 1e-5

    /// The statistics of `matrix`; nil when no weight has a token (llama-imatrix: "cannot compute statistics").
    public init?(_ matrix: ImportanceMatrix) {
        var computed: [(tensor: Tensor, sums: [Float])] = []
        var skipped: [String] = []
        for name in matrix.namesInFileOrder {
            let entry = matrix.entries[name]!
            if let tensor = Self.tensor(name, entry) { computed.append((tensor, entry.sums)) } else { skipped.append(name) }
        }
        guard !computed.isEmpty else { return nil }
        let byName = Dictionary(uniqueKeysWithValues: computed.enumerated().map { ($1.tensor.name, $0) })
        var tensors = computed.map(\.tensor)
        for (i, item) in computed.enumerated() {
            if let previous = Self.previousLayerName(item.tensor.name).flatMap({ byName[$0] }) {
                tensors[i].cosineSimilarity = Self.cosineSimilarity(item.sums, computed[previous].sums)
            }
        }
        // llama-imatrix's comparer; its std::sort leaves equal keys in an unspecified order, here by full name.
        tensors.sort { a, b in
            if a.shortName != b.shortName { return Self.bytewiseLess(a.shortName, b.shortName) }
            if a.total != b.total { return a.total > b.total }
            return Self.bytewiseLess(a.name, b.name)
        }
        self.tensors = tensors
        self.skipped = skipped

        // Weighted sums in listing order, by block (std::map<int, …>; a layer that is not a number counts as -1).
        var sums: [Int: (total: Float, zd: Float, cosine: Float, elements: Int)] = [:]
        for t in tensors {
            let n = Float(t.elements)
            let block = Self.stoi(t.layer) ?? -1
            if let s = sums[block] {
                sums[block] = (s.total + n * t.total, s.zd + n * t.zScoreFraction, s.cosine + n * t.cosineSimilarity,
                               s.elements + t.elements)
            } else {
                sums[block] = (n * t.total, n * t.zScoreFraction, n * t.cosineSimilarity, t.elements)
            }
        }
        layers = sums.keys.sorted().filter { $0 >= 0 && sums[$0]!.elements > 0 }.map { block in
            let s = sums[block]!, n = Float(s.elements)
            return Layer(index: block, meanTotal: s.total / n, meanZScoreFraction: s.zd / n, meanCosineSimilarity: s.cosine / n)
        }
    }

    /// compute_statistics for one weight; nil when no matrix of it saw a token.
    static func tensor(_ name: String, _ entry: ImportanceMatrix.Entry) -> Tensor? {
        let matrices = entry.counts.count
        guard matrices > 0, entry.sums.count % matrices == 0 else { return nil }
        let rowSize = entry.sums.count / matrices
        var activations: [Float] = []
        activations.reserveCapacity(entry.sums.count)
        for i in 0..<matrices where entry.counts[i] != 0 {
            let count = Float(entry.counts[i])
            for j in 0..<rowSize { activations.append(entry.sums[i * rowSize + j] / count) }
        }
        guard !activations.isEmpty else { return nil }

        let n = Float(activations.count)
        var total: Float = 0, squares: Float = 0
        var minimum = activations[0], maximum = activations[0]
        var inactive = 0
        for a in activations {
            total += a
            squares += a * a
            // std::max_element and std::min_element keep the first of equals; a NaN never wins a comparison.
            if maximum < a { maximum = a }
            if a < minimum { minimum = a }
            if abs(a) <= inactiveThreshold { inactive += 1 }
        }
        let mean = total / n
        let variance = squares / n - mean * mean
        let deviation = max(Float(0), variance).squareRoot()

        var entropy: Float = 0
        if total > 0 {
            for a in activations {
                let p = a / total
                if p > 0 { entropy -= p * log2f(p) }
            }
        }
        var above = 0
        if deviation > 0 {
            for a in activations where (a - mean) / deviation > 1 { above += 1 }
        }
        let (layer, shortName) = splitName(name)
        // std::log2 of an int is a double: the normalised entropy is computed in double, then stored as a float.
        let normalized = Float(100.0 * (Double(entropy) / log2(Double(activations.count))))
        return Tensor(name: name, layer: layer, shortName: shortName, total: total, minimum: minimum, maximum: maximum,
                      mean: mean, standardDeviation: deviation, activeFraction: 1 - Float(inactive) / n,
                      elements: activations.count, entropy: entropy, normalizedEntropy: normalized,
                      zScoreFraction: Float(above) / n, cosineSimilarity: 0)
    }

    /// std::inner_product in float, three times, as compute_cossim does. Over the current weight's sums; a previous
    /// weight of another size (where llama-imatrix would read past its end) gives 0.
    static func cosineSimilarity(_ current: [Float], _ previous: [Float]) -> Float {
        guard current.count == previous.count else { return 0 }
        var dot: Float = 0, currentSquares: Float = 0, previousSquares: Float = 0
        for i in 0..<current.count { dot += current[i] * previous[i] }
        for x in current { currentSquares += x * x }
        for x in previous { previousSquares += x * x }
        return dot / (currentSquares.squareRoot() * previousSquares.squareRoot())
    }

    /// process_tensor_name: the components between dots; the layer is the one after the first `blk` ("-" without
    /// one), the short name the one before the first `weight` (the whole name without one).
    static func splitName(_ name: String) -> (layer: String, shortName: String) {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }  // std::getline yields no empty last item
        var layer = "", shortName = ""
        if let i = parts.firstIndex(of: "blk"), i + 1 < parts.count { layer = parts[i + 1] }
        if let i = parts.firstIndex(of: "weight"), i > 0 { shortName = parts[i - 1] }
        return (layer.isEmpty ? "-" : layer, shortName.isEmpty ? name : shortName)
    }

    /// compute_cossim's pattern `blk\.(\d+)\.` (its first match), the number replaced by itself minus one.
    static func previousLayerName(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        let blk = Array("blk.".utf8)
        var start = 0
        while start + blk.count < bytes.count {
            if Array(bytes[start..<(start + blk.count)]) == blk {
                var end = start + blk.count
                while end < bytes.count && bytes[end] >= UInt8(ascii: "0") && bytes[end] <= UInt8(ascii: "9") { end += 1 }
                if end > start + blk.count && end < bytes.count && bytes[end] == UInt8(ascii: ".") {
                    guard let block = Int(String(decoding: bytes[(start + blk.count)..<end], as: UTF8.self)) else { return nil }
                    return String(decoding: bytes[..<(start + blk.count)], as: UTF8.self) + String(block - 1)
                        + String(decoding: bytes[end...], as: UTF8.self)
                }
            }
            start += 1
        }
        return nil
    }

    /// std::stoi: leading white space, an optional sign, then at least one digit (the rest ignored); nil where it
    /// would throw.
    static func stoi(_ text: String) -> Int? {
        var s = Substring(text)
        while let c = s.first, c == " " || ("\t"..."\r").contains(c) { s = s.dropFirst() }
        var sign = ""
        if let c = s.first, c == "+" || c == "-" {
            sign = c == "-" ? "-" : ""
            s = s.dropFirst()
        }
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int32(sign + digits) else { return nil }
        return Int(value)
    }

    static func bytewiseLess(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}

// MARK: Rendering

extension ImportanceMatrixStatistics {
    /// llama-imatrix's two tables, byte for byte, from its "Computing statistics for PATH" line on (its printf formats,
    /// tab-separated columns, its headers and rules).
    public func rendered(path: String) -> String {
        var out = "Computing statistics for \(path) (\(tensors.count) tensors)\n"
        out += "\n" + [" Layer", "       Tensor", "          Σ(Act²)", "  Min", "            Max", "           μ", "   σ",
                       " % Active", "N", "   Entropy", "E (norm)", "ZD", "  CosSim"].joined(separator: "\t") + "\n"
        out += String(repeating: "=", count: 169) + "\n"
        for t in tensors {
            // "%5s\t%-20s\t%10.2f\t%8.4f\t%11.4f\t%6.2f\t%6.2f\t%8.2f%%\t%6d\t%10.4f\t%6.2f%%\t%10.2f%%\t%8.4f\n"
            out += [rightAligned(t.layer, 5), leftAligned(t.shortName, 20), f(t.total, 10, 2), f(t.minimum, 8, 4),
                    f(t.maximum, 11, 4), f(t.mean, 6, 2), f(t.standardDeviation, 6, 2),
                    f(t.activeFraction * 100, 8, 2) + "%", rightAligned(String(t.elements), 6), f(t.entropy, 10, 4),
                    f(t.normalizedEntropy, 6, 2) + "%", f(100 * t.zScoreFraction, 10, 2) + "%", f(t.cosineSimilarity, 8, 4)]
                .joined(separator: "\t") + "\n"
        }
        out += "\nComputing weighted average statistics per layer (\(layers.count) layers)\n"
        out += "\n" + ["  Layer", "     μΣ(Act²)", "      μZD", "μCosSim"].joined(separator: "\t") + "\n"
        out += String(repeating: "=", count: 48) + "\n"
        for l in layers {
            // "%5d\t%14.2f\t%10.4f%%\t%6.4f\n"
            out += [rightAligned(String(l.index), 5), f(l.meanTotal, 14, 2), f(100 * l.meanZScoreFraction, 10, 4) + "%",
                    f(l.meanCosineSimilarity, 6, 4)].joined(separator: "\t") + "\n"
        }
        return out + "\n"
    }

    /// The same figures for scripts: `tensors` in listing order, `layers` by block.
    public func json(path: String) -> JSONOutput {
        .object([
            ("file", .string(path)),
            ("tensors", .array(tensors.map { t in
                .object([
                    ("name", .string(t.name)), ("layer", .string(t.layer)), ("tensor", .string(t.shortName)),
                    ("sum_sq_act", .float(t.total)), ("min", .float(t.minimum)), ("max", .float(t.maximum)),
                    ("mean", .float(t.mean)), ("stddev", .float(t.standardDeviation)), ("active", .float(t.activeFraction)),
                    ("elements", .integer(t.elements)), ("entropy", .float(t.entropy)),
                    ("entropy_norm_percent", .float(t.normalizedEntropy)), ("zd", .float(t.zScoreFraction)),
                    ("cossim", .float(t.cosineSimilarity)),
                ])
            })),
            ("layers", .array(layers.map { l in
                .object([("layer", .integer(l.index)), ("mean_sum_sq_act", .float(l.meanTotal)),
                         ("mean_zd", .float(l.meanZScoreFraction)), ("mean_cossim", .float(l.meanCosineSimilarity))])
            })),
            ("skipped", .array(skipped.map(JSONOutput.string))),
        ])
    }
}

/// printf's `%W.Pf` of a float (promoted to double, as varargs do).
private func f(_ x: Float, _ width: Int, _ decimals: Int) -> String {
    rightAligned(formatFixed(Double(x), decimals: decimals), width)
}

/// printf's `%Ws` and `%-Ws`: padded with spaces to `width` bytes, never cut.
private func rightAligned(_ s: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - s.utf8.count)) + s
}

private func leftAligned(_ s: String, _ width: Int) -> String {
    s + String(repeating: " ", count: max(0, width - s.utf8.count))
}
