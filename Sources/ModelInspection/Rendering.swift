#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import QwenKitIO

// Text and JSON renderings of what `inspect` shows. Text is for people (aligned columns, human sizes, long lists
// cut short); JSON is for scripts (exact numbers, the same facts, one document). Every text line goes through
// `terminalSafe`, and names are escaped before their columns are measured: a key, name or value read from a file
// prints its control characters as `\u{1b}`, never as themselves.

// MARK: - Summary as text

extension ModelSummary {
    /// The first line: path, format, size, counts.
    public func headline() -> String {
        var head = "\(path): \(format)"
        if let v = formatVersion { head += " v\(v)" }
        head += ", " + bytes(fileSize)
        if let s = shardCount { head += " in \(s) shard\(s == 1 ? "" : "s")" }
        head += ", \(grouped(tensorCount)) tensor\(tensorCount == 1 ? "" : "s")"
        if formatVersion != nil { head += ", \(metadata.count) metadata key\(metadata.count == 1 ? "" : "s")" }
        if let a = alignment { head += ", alignment \(a)" }
        return terminalSafe(head)
    }

    /// The whole summary: the headline, then the facts, bytes by type, metadata and warnings.
    public func text() -> String {
        var lines = [headline()]

        func row(_ label: String, _ value: String) { lines.append(pad(label, 16) + value) }
        if let a = architecture { row("architecture", a + (name.map { "  (\($0))" } ?? "")) }
        if let f = fileType { row("file type", "\(f.name) (\(f.value))") }
        if let d = declaredDType { row("dtype", d) }
        row("parameters", grouped(parameterCount) + "  (" + compactCount(parameterCount) + ")")
        if let h = hyperparameters {
            var dims = "\(h.blockCount) layers, hidden \(h.embeddingLength), FFN \(h.feedForwardLength), "
                + "heads \(h.headCount) (KV \(h.headCountKV), head size \(h.keyLength)"
            if h.valueLength != h.keyLength { dims += ", value size \(h.valueLength)" }
            dims += ")"
            row("shape", dims)
            var rope = "context \(grouped(h.contextLength)), rope base \(formatG(h.ropeFreqBase)), rms eps \(formatG(h.rmsNormEpsilon))"
            if let s = h.ropeScaling {
                rope += ", rope scaling \(s.type) ×\(formatG(s.factor))"
                if let o = s.originalContextLength { rope += " (from \(grouped(o)))" }
            }
            row("", rope)
            if let w = h.slidingWindow {
                let layers = w.layers.indices.filter { w.layers[$0] }
                row("", "sliding window \(grouped(w.size)) in \(layers.count) of \(w.layers.count) layers ("
                    + (layers.count > 12 ? layers.prefix(12).map(String.init).joined(separator: ", ") + ", …" : layers.map(String.init).joined(separator: ", ")) + ")")
            }
            if let m = h.moe {
                row("experts", "\(m.expertCount), \(m.expertUsedCount) per token, expert FFN \(m.expertFeedForwardLength)"
                    + ", shared expert FFN \(m.sharedExpertFeedForwardLength)")
            }
            if let v = h.vocabSize {
                row("", "vocab \(grouped(v))" + (h.tiedEmbeddings.map { $0 ? ", tied embeddings" : ", separate output" } ?? ""))
            }
        }
        if let t = tokenizer {
            var parts: [String] = []
            if let m = t.model { parts.append(m + (t.pre.map { " (pre \($0))" } ?? "") + ",") }
            if let v = t.vocabularySize { parts.append("\(grouped(v)) tokens") }
            if !t.tokenTypes.isEmpty { parts.append("(" + t.tokenTypes.map { "\(grouped($0.count)) \($0.name)" }.joined(separator: ", ") + ")") }
            if let m = t.mergeCount { parts.append("\(grouped(m)) merges") }
            if !t.files.isEmpty { parts.append("files: " + t.files.joined(separator: ", ")) }
            row("tokenizer", parts.joined(separator: " "))
            var second: [String] = t.specialIDs.map { "\($0.name) \($0.id)" }
            if let b = t.addBOS { second.append("add_bos \(b)") }
            if let e = t.addEOS { second.append("add_eos \(e)") }
            second.append(t.chatTemplateBytes.map { "chat template \(grouped($0)) bytes" } ?? "no chat template")
            row("", second.joined(separator: ", "))
        }
        for (i, t) in typeTotals.enumerated() {
            row(i == 0 ? "tensor types" : "", pad(t.type, 8) + pad("\(grouped(t.tensors)) tensor\(t.tensors == 1 ? "" : "s")", 14, right: true)
                + pad(compactCount(t.elements), 10, right: true) + pad(bytes(t.bytes), 12, right: true))
        }
        if !metadata.isEmpty {
            lines.append(formatVersion != nil ? "metadata" : (format == "HF model directory" ? "config.json" : "__metadata__"))
            let keys = metadata.map { terminalSafe($0.key) }
            let width = min(44, (keys.map(\.count).max() ?? 0) + 2)
            for (key, e) in zip(keys, metadata) {
                lines.append("  " + pad(key, width) + pad(e.type, 16) + Self.text(e.value))
            }
        }
        for w in warnings { lines.append("warning: " + w) }
        return lines.map(terminalSafe).joined(separator: "\n") + "\n"
    }

    /// A value on one line: scalars as JSON, long arrays as their count and first items; safe for a terminal
    /// (JSON leaves DEL and C1 controls raw; `terminalSafe` escapes them).
    public static func text(_ v: Value) -> String { terminalSafe(rawText(v)) }

    private static func rawText(_ v: Value) -> String {
        switch v {
        case .scalar(let s): return oneLine(s)
        case .json(let j): return oneLine(j, limit: 120)
        case .array(_, let count, let items):
            let shown = items.map { oneLine($0, limit: 40) }.joined(separator: ", ")
            if items.count == count { return "[\(shown)]" }
            return "\(grouped(count)) items: [\(shown), …]"
        }
    }

    /// Compact JSON for a value, cut at `limit` characters (strings keep their escapes, so one line stays one).
    public static func oneLine(_ v: JSONOutput, limit: Int = 200) -> String {
        let s = terminalSafe(v.rendered(indent: nil))
        guard s.count > limit else { return s }
        return String(s.prefix(limit)) + "… (\(grouped(s.utf8.count)) bytes)"
    }
}

// MARK: - Summary as JSON

extension ModelSummary {
    public func json() -> [(String, JSONOutput)] {
        var o: [(String, JSONOutput)] = [("path", .string(path)), ("format", .string(format))]
        if let v = formatVersion { o.append(("version", .integer(v))) }
        o.append(("file_size", .integer(fileSize)))
        if let s = shardCount { o.append(("shards", .integer(s))) }
        if let a = alignment { o.append(("alignment", .integer(a))) }
        o.append(("architecture", architecture.map(JSONOutput.string) ?? .null))
        o.append(("name", name.map(JSONOutput.string) ?? .null))
        if let f = fileType { o.append(("file_type", .object([("name", .string(f.name)), ("value", .integer(f.value))]))) }
        if let d = declaredDType { o.append(("dtype", .string(d))) }
        o.append(("parameter_count", .integer(parameterCount)))
        o.append(("tensor_count", .integer(tensorCount)))
        o.append(("hyperparameters", hyperparameters.map(Self.json) ?? .null))
        o.append(("tokenizer", tokenizer.map(Self.json) ?? .null))
        o.append(("tensor_types", .array(typeTotals.map { t in
            .object([("type", .string(t.type)), ("tensors", .integer(t.tensors)), ("elements", .integer(t.elements)),
                     ("bytes", .integer(t.bytes))])
        })))
        o.append(("metadata", .object(metadata.map { e in (e.key, Self.json(e)) })))
        o.append(("unknown_keys", .array(unknownKeys.map(JSONOutput.string))))
        o.append(("warnings", .array(warnings.map(JSONOutput.string))))
        return o
    }

    /// An entry's type and value as JSON (`{"type", "value"}`; arrays with their count and first items).
    public static func json(_ e: Entry) -> JSONOutput {
        switch e.value {
        case .scalar(let s): return .object([("type", .string(e.type)), ("value", s)])
        case .json(let j): return j
        case .array(let t, let count, let items):
            var o: [(String, JSONOutput)] = [("type", .string("ARRAY")), ("element_type", .string(t)), ("count", .integer(count))]
            o.append((items.count == count ? "value" : "first", .array(items)))
            return .object(o)
        }
    }

    static func json(_ h: Qwen2Hyperparameters) -> JSONOutput {
        var o: [(String, JSONOutput)] = [
            ("architecture", .string(h.architecture.rawValue)),
            ("block_count", .integer(h.blockCount)), ("context_length", .integer(h.contextLength)),
            ("embedding_length", .integer(h.embeddingLength)), ("feed_forward_length", .integer(h.feedForwardLength)),
            ("head_count", .integer(h.headCount)), ("head_count_kv", .integer(h.headCountKV)),
            ("key_length", .integer(h.keyLength)), ("value_length", .integer(h.valueLength)),
            ("rope_freq_base", .double(h.ropeFreqBase)), ("rms_norm_eps", .double(h.rmsNormEpsilon)),
        ]
        if let s = h.ropeScaling {
            var r: [(String, JSONOutput)] = [("type", .string(s.type)), ("factor", .double(s.factor))]
            if let v = s.originalContextLength { r.append(("original_context_length", .integer(v))) }
            if let v = s.extrapolationFactor { r.append(("extrapolation_factor", .double(v))) }
            if let v = s.attentionFactor { r.append(("attention_factor", .double(v))) }
            if let v = s.betaFast { r.append(("beta_fast", .double(v))) }
            if let v = s.betaSlow { r.append(("beta_slow", .double(v))) }
            o.append(("rope_scaling", .object(r)))
        }
        if let w = h.slidingWindow {
            o.append(("sliding_window", .object([("size", .integer(w.size)),
                                                 ("layers", .array(w.layers.indices.filter { w.layers[$0] }.map { .integer($0) }))])))
        }
        if let m = h.moe {
            o.append(("experts", .object([
                ("expert_count", .integer(m.expertCount)), ("expert_used_count", .integer(m.expertUsedCount)),
                ("expert_feed_forward_length", .integer(m.expertFeedForwardLength)),
                ("shared_expert_feed_forward_length", .integer(m.sharedExpertFeedForwardLength)),
                ("normalize_top_k", .bool(m.normalizeTopK)),
            ])))
        }
        o.append(("vocab_size", h.vocabSize.map { .integer($0) } ?? .null))
        o.append(("tied_embeddings", h.tiedEmbeddings.map(JSONOutput.bool) ?? .null))
        return .object(o)
    }

    static func json(_ t: Tokenizer) -> JSONOutput {
        var o: [(String, JSONOutput)] = [
            ("model", t.model.map(JSONOutput.string) ?? .null), ("pre", t.pre.map(JSONOutput.string) ?? .null),
            ("vocabulary_size", t.vocabularySize.map { .integer($0) } ?? .null),
        ]
        if !t.tokenTypes.isEmpty { o.append(("token_types", .object(t.tokenTypes.map { ($0.name, .integer($0.count)) }))) }
        o.append(("merge_count", t.mergeCount.map { .integer($0) } ?? .null))
        o.append(("special_ids", .object(t.specialIDs.map { ($0.name, .integer($0.id)) })))
        if let b = t.addBOS { o.append(("add_bos", .bool(b))) }
        if let e = t.addEOS { o.append(("add_eos", .bool(e))) }
        o.append(("chat_template_bytes", t.chatTemplateBytes.map { .integer($0) } ?? .null))
        if !t.files.isEmpty { o.append(("files", .array(t.files.map(JSONOutput.string)))) }
        return .object(o)
    }
}

// MARK: - Tensor table

public enum TensorTable {
    /// Columns: name, type, shape, bytes, file offset (and the shard, for sharded weights).
    public static func text(_ tensors: [InspectedModel.Tensor], shapeOrder: String) -> String {
        let sharded = tensors.contains { $0.shard != nil }
        let names = tensors.map { terminalSafe($0.name) }
        let nameWidth = max(4, names.map(\.count).max() ?? 0) + 2
        let shapes = tensors.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        let shapeWidth = max(5, shapes.map(\.count).max() ?? 0) + 2
        var lines = [pad("name", nameWidth) + pad("type", 9) + pad("shape " + shapeOrder, shapeWidth)
            + pad("bytes", 14, right: true) + pad("offset", 14, right: true) + (sharded ? "  shard" : "")]
        for (i, (t, shape)) in zip(tensors, shapes).enumerated() {
            lines.append(pad(names[i], nameWidth) + pad(t.type.name, 9) + pad(shape, shapeWidth)
                + pad(grouped(t.byteCount), 14, right: true) + pad(String(t.fileOffset), 14, right: true)
                + (t.shard.map { "  " + $0 } ?? ""))
        }
        return lines.map(terminalSafe).joined(separator: "\n") + "\n"
    }

    public static func json(_ tensors: [InspectedModel.Tensor]) -> JSONOutput {
        .array(tensors.map { t in
            var o: [(String, JSONOutput)] = [("name", .string(t.name)), ("type", .string(t.type.name)),
                                             ("shape", .array(t.shape.map { .integer($0) })),
                                             ("elements", .integer(t.elementCount)), ("bytes", .integer(t.byteCount)),
                                             ("offset", .integer(t.fileOffset))]
            if let s = t.shard { o.append(("shard", .string(s))) }
            return .object(o)
        })
    }
}

// MARK: - Statistics table

public enum StatisticsTable {
    public static func text(_ tensors: [InspectedModel.Tensor], _ stats: [TensorStatistics?]) -> String {
        let names = tensors.map { terminalSafe($0.name) }
        let nameWidth = max(4, names.map(\.count).max() ?? 0) + 2
        var lines = [pad("name", nameWidth) + pad("type", 8) + pad("min", 14, right: true) + pad("max", 14, right: true)
            + pad("mean", 14, right: true) + pad("std", 14, right: true) + pad("nan", 8, right: true) + pad("inf", 8, right: true)]
        for (i, (t, s)) in zip(tensors, stats).enumerated() {
            var line = pad(names[i], nameWidth) + pad(t.type.name, 8)
            if let s {
                let finite = s.count > 0
                line += pad(finite ? formatG(s.min) : "-", 14, right: true) + pad(finite ? formatG(s.max) : "-", 14, right: true)
                    + pad(finite ? formatG(s.mean) : "-", 14, right: true) + pad(finite ? formatG(s.std) : "-", 14, right: true)
                    + pad(grouped(s.nanCount), 8, right: true) + pad(grouped(s.infCount), 8, right: true)
            } else {
                line += "  (no statistics for \(t.type.name) yet)"
            }
            lines.append(line)
        }
        return lines.map(terminalSafe).joined(separator: "\n") + "\n"
    }

    public static func json(_ tensors: [InspectedModel.Tensor], _ stats: [TensorStatistics?]) -> JSONOutput {
        .array(zip(tensors, stats).map { t, s in
            guard let s else { return .object([("name", .string(t.name)), ("type", .string(t.type.name)), ("supported", .bool(false))]) }
            let finite = s.count > 0
            return .object([("name", .string(t.name)), ("type", .string(t.type.name)), ("count", .integer(s.count)),
                            ("min", finite ? .double(s.min) : .null), ("max", finite ? .double(s.max) : .null),
                            ("mean", finite ? .double(s.mean) : .null), ("std", finite ? .double(s.std) : .null),
                            ("nan", .integer(s.nanCount)), ("inf", .integer(s.infCount))])
        })
    }
}

// MARK: - Formatting helpers

/// `494M`, `1.5B`, `302K`: two to three significant digits.
func compactCount(_ n: Int) -> String {
    let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
    let v = Double(n)
    for (scale, suffix) in units where v >= scale {
        let x = v / scale
        return (x >= 100 ? formatG(x.rounded(), digits: 3) : formatG(x, digits: x >= 10 ? 3 : 2)) + suffix
    }
    return String(n)
}

func bytes(_ n: Int) -> String { ProgressReporter.formatBytes(Int64(n)) }
