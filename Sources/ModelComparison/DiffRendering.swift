import ModelFiles
import ModelInspection
import QwenKitIO

// Text and JSON renderings of a `ModelDiff`. Text is for people: a table worst first, then the metadata changes,
// then one summary line. JSON is for scripts: the same facts with exact numbers, one document. Every text line goes
// through `terminalSafe` (names escaped before their columns are measured), so a tensor name or metadata key read
// from a file prints its control characters as `\u{9b}`, never as themselves.

extension ModelDiff {
    /// The short status word of the text table.
    static func label(_ s: Status) -> String {
        switch s {
        case .onlyInA: return "only-a"
        case .onlyInB: return "only-b"
        case .shapeMismatch: return "shape"
        case .invalid: return "invalid"
        case .unsupported: return "unsupported"
        case .overTolerance: return "over"
        case .withinTolerance: return "within"
        case .equal: return "equal"
        }
    }

    /// The flat row-major `index` as a multi-index of `shape`.
    static func unravel(_ index: Int, _ shape: [Int]) -> [Int] {
        var rest = index
        var out = [Int](repeating: 0, count: shape.count)
        for d in shape.indices.reversed() where shape[d] > 0 {
            out[d] = rest % shape[d]
            rest /= shape[d]
        }
        return out
    }

    static func shapeText(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    // MARK: Text

    public func text() -> String {
        var lines: [String] = []
        for (label, model) in [("a", a), ("b", b)] {
            lines.append("\(label): \(model.path)  (\(model.formatName), \(grouped(model.tensors.count)) tensors)")
        }
        lines.append(plan.mapping == .hfToGGUF
            ? "HF names mapped to GGUF names as convert maps them; shapes outermost first (GGUF ne reversed)"
            : (a.isGGUF ? "names as stored; shapes outermost first (GGUF ne reversed)" : "names as stored; shapes outermost first"))

        if !tensors.isEmpty {
            let names = tensors.map { terminalSafe($0.name) }
            let types = tensors.map { r -> String in
                guard let ta = r.a?.type.name, let tb = r.b?.type.name else { return (r.a ?? r.b)!.type.name }
                return ta == tb ? ta : ta + " → " + tb
            }
            let shapes = tensors.map { r -> String in
                guard let sa = r.a?.shape, let sb = r.b?.shape else { return Self.shapeText((r.a ?? r.b)!.shape) }
                return sa == sb ? Self.shapeText(sa) : Self.shapeText(sa) + " vs " + Self.shapeText(sb)
            }
            let statusWidth = max(6, tensors.map { Self.label($0.status).count }.max()!) + 2
            let nameWidth = max(6, names.map(\.count).max()!) + 2
            let typeWidth = max(4, types.map(\.count).max()!) + 2
            let shapeWidth = max(5, shapes.map(\.count).max()!) + 2
            lines.append("")
            lines.append(pad("status", statusWidth) + pad("tensor", nameWidth) + pad("type", typeWidth) + pad("shape", shapeWidth)
                + pad("max abs err", 14, right: true) + pad("rmse", 14, right: true) + pad("cosine", 16, right: true)
                + pad("rel err", 14, right: true))
            for (i, r) in tensors.enumerated() {
                var line = pad(Self.label(r.status), statusWidth) + pad(names[i], nameWidth) + pad(types[i], typeWidth) + pad(shapes[i], shapeWidth)
                if let m = r.metrics {
                    let maxError = m.nonFiniteMismatches > 0 ? "inf" : formatG(m.maxAbsError)
                    line += pad(maxError, 14, right: true) + pad(formatG(m.rmse), 14, right: true)
                        + pad(formatG(m.cosineSimilarity, digits: 10), 16, right: true)
                        + pad(m.relativeError.map { formatG($0) } ?? "-", 14, right: true)
                    var notes: [String] = []
                    if let at = m.maxAbsErrorIndex, let shape = r.a?.shape { notes.append("worst at " + Self.shapeText(Self.unravel(at, shape))) }
                    if m.nonFiniteMismatches > 0 { notes.append("\(grouped(m.nonFiniteMismatches)) NaN/inf mismatches") }
                    if m.nonFiniteMatches > 0 { notes.append("\(grouped(m.nonFiniteMatches)) NaN/inf alike") }
                    if !notes.isEmpty { line += "  " + notes.joined(separator: ", ") }
                } else if let note = r.note {
                    line += "  " + note
                }
                while line.last == " " { line.removeLast() }
                lines.append(line)
            }
        }
        for (label, names) in [("a", plan.ignored.a), ("b", plan.ignored.b)] where !names.isEmpty {
            lines.append("ignored in \(label) (convert leaves them out): " + names.joined(separator: ", "))
        }

        if let metadata {
            lines.append("")
            lines += Self.text(metadata, keyCounts: (a.metadataCount, b.metadataCount))
        }

        lines.append("")
        lines.append(summaryLine())
        return lines.map(terminalSafe).joined(separator: "\n") + "\n"
    }

    /// `27 tensors: 25 equal, 2 over tolerance 0; the models differ`.
    public func summaryLine() -> String {
        var parts: [String] = []
        let phrases: [(Status, String)] = [
            (.equal, "equal"), (.withinTolerance, "within tolerance \(formatG(tolerance))"),
            (.overTolerance, "over tolerance \(formatG(tolerance))"), (.onlyInA, "only in a"), (.onlyInB, "only in b"),
            (.shapeMismatch, "with different shapes"), (.invalid, "invalid"), (.unsupported, "not comparable"),
        ]
        for (status, phrase) in phrases {
            let n = count(status)
            if n > 0 { parts.append("\(grouped(n)) \(phrase)") }
        }
        let changedTypes = tensors.reduce(0) { $0 + ($1.typeChanged ? 1 : 0) }
        if changedTypes > 0 { parts.append("\(grouped(changedTypes)) of another type") }
        let head = "\(grouped(tensors.count)) tensor\(tensors.count == 1 ? "" : "s")" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
        return head + (passed ? "; the models match" + (count(.withinTolerance) > 0 ? " within tolerance" : "") : "; the models differ")
    }

    static func text(_ m: MetadataDiff, keyCounts: (Int, Int)) -> [String] {
        if m.isEmpty { return ["metadata: the same \(grouped(keyCounts.0)) key\(keyCounts.0 == 1 ? "" : "s") and values"] }
        var lines = ["metadata: \(m.changed.count) changed, \(m.added.count) added, \(m.removed.count) removed"]
        let width = min(44, ([m.changed.map(\.key), m.added.map(\.key), m.removed.map(\.key)].joined().map { terminalSafe($0).count }.max() ?? 0) + 2)
        func shown(_ v: GGUFValue) -> String {
            let e = ModelSummary.Entry(GGUFKeyValue("", v))
            return e.type + " " + ModelSummary.text(e.value)
        }
        for c in m.changed {
            var line = "  changed  " + pad(terminalSafe(c.key), width) + shown(c.a) + "  →  " + shown(c.b)
            if let d = c.elementDifferences, case .array(let x) = c.a, case .array(let y) = c.b {
                let before = ModelSummary.oneLine(ModelSummary.scalar(x.value(at: d.first)), limit: 40)
                let after = ModelSummary.oneLine(ModelSummary.scalar(y.value(at: d.first)), limit: 40)
                line += "  (\(grouped(d.count)) of \(grouped(x.count)) differ, first at \(d.first): \(before) → \(after))"
            }
            lines.append(line)
        }
        for kv in m.added { lines.append("  added    " + pad(terminalSafe(kv.key), width) + shown(kv.value)) }
        for kv in m.removed { lines.append("  removed  " + pad(terminalSafe(kv.key), width) + shown(kv.value)) }
        return lines.map(terminalSafe)
    }

    // MARK: JSON

    public func json() -> JSONOutput {
        func side(_ m: InspectedModel) -> JSONOutput {
            .object([("path", .string(m.path)), ("format", .string(m.formatName)), ("tensor_count", .integer(m.tensors.count))])
        }
        var counts: [(String, JSONOutput)] = [("tensors", .integer(tensors.count))]
        for s in Status.allCases { counts.append((s.rawValue, .integer(count(s)))) }
        counts.append(("type_changed", .integer(tensors.reduce(0) { $0 + ($1.typeChanged ? 1 : 0) })))
        return .object([
            ("a", side(a)), ("b", side(b)),
            ("name_mapping", .string(plan.mapping.rawValue)),
            ("shape_order", .string("outermost_first")),
            ("tolerance", .double(tolerance)),
            ("passed", .bool(passed)),
            ("counts", .object(counts)),
            ("tensors", .array(tensors.map(Self.json))),
            ("ignored", .object([("a", .array(plan.ignored.a.map(JSONOutput.string))),
                                 ("b", .array(plan.ignored.b.map(JSONOutput.string)))])),
            ("metadata", metadata.map(Self.json) ?? .null),
        ])
    }

    static func json(_ r: TensorResult) -> JSONOutput {
        func side(_ t: ComparedTensor?) -> JSONOutput {
            guard let t else { return .null }
            return .object([("names", .array(t.storedNames.map(JSONOutput.string))), ("type", .string(t.type.name)),
                            ("shape", .array(t.shape.map { .integer($0) }))])
        }
        var o: [(String, JSONOutput)] = [("name", .string(r.name)), ("status", .string(r.status.rawValue)),
                                         ("a", side(r.a)), ("b", side(r.b)), ("type_changed", .bool(r.typeChanged))]
        let m = r.metrics
        o.append(("compared_elements", m.map { .integer($0.count) } ?? .null))
        o.append(("max_abs_error", m.map { $0.nonFiniteMismatches > 0 ? .null : .double($0.maxAbsError) } ?? .null))
        o.append(("max_abs_error_index", m.flatMap { m in
            m.maxAbsErrorIndex.map { .array(unravel($0, r.a!.shape).map { .integer($0) }) }
        } ?? .null))
        o.append(("rmse", m.map { .double($0.rmse) } ?? .null))
        o.append(("cosine", m.map { .double($0.cosineSimilarity) } ?? .null))
        o.append(("max_abs_a", m.map { .double($0.maxAbsA) } ?? .null))
        o.append(("relative_error", m.flatMap { $0.relativeError.map(JSONOutput.double) } ?? .null))
        o.append(("nonfinite_matches", m.map { .integer($0.nonFiniteMatches) } ?? .null))
        o.append(("nonfinite_mismatches", m.map { .integer($0.nonFiniteMismatches) } ?? .null))
        o.append(("note", r.note.map(JSONOutput.string) ?? .null))
        return .object(o)
    }

    static func json(_ m: MetadataDiff) -> JSONOutput {
        func entry(_ kv: GGUFKeyValue) -> JSONOutput {
            guard case .object(let members) = ModelSummary.json(ModelSummary.Entry(kv)) else { return .null }
            return .object([("key", .string(kv.key))] + members)
        }
        return .object([
            ("changed", .array(m.changed.map { c in
                var o: [(String, JSONOutput)] = [("key", .string(c.key)),
                                                 ("a", ModelSummary.json(ModelSummary.Entry(GGUFKeyValue(c.key, c.a)))),
                                                 ("b", ModelSummary.json(ModelSummary.Entry(GGUFKeyValue(c.key, c.b))))]
                if let d = c.elementDifferences {
                    o.append(("differing_elements", .integer(d.count)))
                    o.append(("first_difference", .integer(d.first)))
                }
                return .object(o)
            })),
            ("added", .array(m.added.map(entry))),
            ("removed", .array(m.removed.map(entry))),
        ])
    }
}

extension InspectedModel {
    /// GGUF metadata keys; 0 for other formats.
    var metadataCount: Int {
        if case .gguf(let f) = source { return f.metadata.count }
        return 0
    }
}
