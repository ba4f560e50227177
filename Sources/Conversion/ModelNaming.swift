// `general.name`, `basename`, `finetune`, `version`, `size_label` as gguf-py's metadata heuristics derive them
// from a model id ("Qwen/Qwen2-0.5B-Instruct", or the directory name) and the parameter count
// (gguf-py metadata.py `get_model_id_components`, `id_to_title`; utility.py `size_label`). The model card
// (README.md front matter), which the reference reads first, is not read here; README says so.

/// The naming fields of a model (each nil when the heuristics find nothing).
public struct ModelNaming: Sendable, Equatable {
    public var name: String?
    public var organization: String?
    public var basename: String?
    public var finetune: String?
    public var version: String?
    public var sizeLabel: String?

    public init(name: String? = nil, organization: String? = nil, basename: String? = nil, finetune: String? = nil,
                version: String? = nil, sizeLabel: String? = nil) {
        self.name = name
        self.organization = organization
        self.basename = basename
        self.finetune = finetune
        self.version = version
        self.sizeLabel = sizeLabel
    }

    /// The fields for a checkpoint: first from config.json's `_name_or_path` when it is a model id (at most one
    /// `/`), then from the directory name, each field taken from the first source that has it; the name falls back
    /// to the directory name; the size label to one computed from the parameter counts.
    public static func derive(nameOrPath: String?, directoryName: String, parameters: ParameterCounts) -> ModelNaming {
        var n = ModelNaming()
        func merge(_ id: String) {
            let c = components(of: id, totalParameters: parameters.total)
            if n.name == nil, let full = c.fullName { n.name = title(full) }
            if n.organization == nil, let org = c.organization { n.organization = title(org) }
            n.basename = n.basename ?? c.basename
            n.finetune = n.finetune ?? c.finetune
            n.version = n.version ?? c.version
            n.sizeLabel = n.sizeLabel ?? c.sizeLabel
        }
        if let id = nameOrPath, id.filter({ $0 == "/" }).count <= 1 { merge(id) }
        merge(directoryName)
        if n.name == nil { n.name = directoryName }
        if n.sizeLabel == nil, parameters.total > 0 { n.sizeLabel = sizeLabel(parameters) }
        return n
    }

    /// Parameter counts as gguf-py's writer measures them over the output tensors.
    public struct ParameterCounts: Sendable, Equatable {
        public var total = 0
        /// Parameters outside stacked expert tensors.
        public var shared = 0
        /// Parameters of one expert (each stacked expert tensor's size divided by its expert count, summed).
        public var perExpert = 0
        /// Average experts per stacked tensor (0 for dense models).
        public var expertCount = 0

        public init() {}

        /// Counts over GGUF tensors (name, dims in ne order).
        public init(tensors: [(name: String, dims: [Int])]) {
            var expertSum = 0, expertTensors = 0
            for t in tensors {
                let size = t.dims.reduce(1, *)
                if t.name.contains("_exps."), t.dims.count >= 3 {
                    // gguf-py reads shape[-3] of the reversed (PyTorch-order) shape: the outermost ne.
                    let experts = t.dims[t.name.contains(".bias") ? 1 : 2]
                    perExpert += size / Swift.max(1, experts)
                    expertSum += experts
                    expertTensors += 1
                } else {
                    shared += size
                }
                total += size
            }
            expertCount = expertTensors > 0 ? expertSum / expertTensors : 0
        }
    }

    /// `8x20M`, `494M`, `31K`: gguf-py's `size_label`.
    public static func sizeLabel(_ p: ParameterCounts) -> String {
        p.expertCount > 0 ? "\(p.expertCount)x" + roundedNotation(p.shared + p.perExpert) : roundedNotation(p.total)
    }

    /// gguf-py's `model_weight_count_rounded_notation` with two significant digits at least.
    static func roundedNotation(_ count: Int, minDigits: Int = 2) -> String {
        let value = Double(count)
        let (scaled, suffix): (Double, String) =
            value > 1e12 ? (value * 1e-12, "T") : value > 1e9 ? (value * 1e-9, "B") : value > 1e6 ? (value * 1e-6, "M") : (value * 1e-3, "K")
        let whole = String(Int(pythonRound(scaled)))
        let digits = whole.drop { $0 == "0" }.count
        let fraction = Swift.max(minDigits - digits, 0)
        return formatFixed(scaled, fraction) + suffix
    }

    /// Python's `round()` to an integer: half to even.
    static func pythonRound(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }

    /// `x` with `digits` decimals, rounded half to even on the binary value (as Python's `%.Nf` does).
    static func formatFixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (x * scale).rounded(.toNearestOrEven)
        let whole = Int(scaled) / Int(scale)
        let frac = Int(scaled) % Int(scale)
        guard digits > 0 else { return String(whole) }
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }

    /// gguf-py's `id_to_title`: dashes become spaces; each lowercase word is title-cased unless it is a version or
    /// starts with a digit.
    static func title(_ s: String) -> String {
        s.trimmingSpaces().replacingDashes().split(separator: " ").map { word -> String in
            let w = String(word)
            let isLower = w.contains { $0.isLowercase } && !w.contains { $0.isUppercase }
            guard isLower, !isVersionOrNumber(w) else { return w }
            return pythonTitle(w)
        }.joined(separator: " ")
    }

    private static func isVersionOrNumber(_ w: String) -> Bool {
        if let first = w.first, first.isASCII, first.isNumber { return true }
        // v\d+(\.\d+)*
        guard w.first == "v" else { return false }
        let parts = w.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// Python's `str.title()`: a letter after a non-letter is uppercased, other letters lowercased.
    private static func pythonTitle(_ w: String) -> String {
        var out = ""
        var previousIsLetter = false
        for ch in w {
            out += previousIsLetter ? ch.lowercased() : ch.uppercased()
            previousIsLetter = ch.isLetter
        }
        return out
    }

    struct Components {
        var fullName: String?
        var organization: String?
        var basename: String?
        var finetune: String?
        var version: String?
        var sizeLabel: String?
    }

    private enum Part: Hashable { case basename, sizeLabel, finetune, version, type }

    /// gguf-py's `get_model_id_components`.
    static func components(of id: String, totalParameters: Int) -> Components {
        if id.contains(" ") { return Components(fullName: id) }
        var organization: String?
        var full = id
        if let slash = id.firstIndex(of: "/") {
            organization = String(id[..<slash])
            full = String(id[id.index(after: slash)...])
        }
        if let org = organization, org.first == "." { organization = nil }
        var parts = full.split(separator: "-", omittingEmptySubsequences: true).map(String.init)
        var types = [Set<Part>](repeating: [], count: parts.count)
        for (i, part) in parts.enumerated() {
            if matchesVersion(part) {
                types[i].insert(.version)
            } else if matchesQuantType(part) {
                types[i].insert(.type)
                parts[i] = part.uppercased()
            } else if i > 0, matchesSize(part) {
                var p = part.replacingOccurrences("_", ".")
                if let last = p.last, last.isASCII, last.isNumber, p.count >= 2 {
                    // bloom-7b1 -> 7.1b
                    let chars = Array(p)
                    p = String(chars[..<(chars.count - 2)]) + "." + String(chars[chars.count - 1]) + String(chars[chars.count - 2])
                }
                if p.count > 1, let secondLast = p.dropLast().last, secondLast.isASCII, secondLast.isNumber,
                   let last = p.last, "kmbt".contains(last) {
                    p = String(p.dropLast()) + last.uppercased()
                }
                if totalParameters != 0, let suffix = p.last, let multiplier = " KMBT".firstIndex(of: suffix),
                   let number = Double(p.dropLast()) {
                    var scale = 1.0
                    for _ in 0..<" KMBT".distance(from: " KMBT".startIndex, to: multiplier) { scale *= 1000 }
                    let label = number * scale
                    let total = Double(totalParameters)
                    if totalParameters > 0 && abs(label - total) > Double(7 * totalParameters / 8) {
                        types[i].insert(.finetune)
                        p = String(p.dropLast()) + String(suffix).lowercased()
                    }
                }
                if types[i].isEmpty { types[i].insert(.sizeLabel) }
                parts[i] = p
            } else if i > 0, ["chat", "instruct", "vision", "lora"].contains(part.lowercased()) {
                types[i].insert(.finetune)
            }
        }
        // Word sizes (small, large, ...) yield to numeric ones.
        if zip(parts, types).contains(where: { $1.contains(.sizeLabel) && $0.contains { $0.isASCII && $0.isNumber } }) {
            for i in parts.indices where types[i].contains(.sizeLabel) && parts[i].allSatisfy(\.isLetter) {
                types[i].remove(.sizeLabel)
            }
        }
        var atStart = true
        for i in parts.indices {
            if atStart && ((types[i].isEmpty && parts[i].first?.isLetter == true) || types[i].contains(.version)) {
                types[i].insert(.basename)
            } else {
                atStart = false
                if types[i].isEmpty { types[i].insert(.finetune) }
            }
        }
        for i in parts.indices.reversed() {
            if types[i].contains(.basename) && types[i].count > 1 { types[i].remove(.basename) } else { break }
        }
        func joined(_ kind: Part, excluding: Part? = nil) -> String? {
            var seen: [String] = []
            for (p, t) in zip(parts, types) where t.contains(kind) && !(excluding.map(t.contains) ?? false) {
                if kind == .sizeLabel && seen.contains(p) { continue }
                seen.append(p)
            }
            return seen.isEmpty ? nil : seen.joined(separator: "-")
        }
        var c = Components(fullName: full, organization: organization, basename: joined(.basename),
                           finetune: joined(.finetune), version: joined(.version, excluding: .basename),
                           sizeLabel: joined(.sizeLabel))
        if c.sizeLabel == nil && c.finetune == nil && c.version == nil { c.basename = nil }
        return c
    }

    /// `(v|iter)?\d+([.]\d+)*`, case-insensitive.
    static func matchesVersion(_ s: String) -> Bool {
        var rest = Substring(s.lowercased())
        if rest.hasPrefix("iter") { rest = rest.dropFirst(4) } else if rest.hasPrefix("v") { rest = rest.dropFirst() }
        let groups = rest.split(separator: ".", omittingEmptySubsequences: false)
        return !groups.isEmpty && groups.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// `i?q\d(_\w)*|b?fp?(16|32)`, case-insensitive.
    static func matchesQuantType(_ s: String) -> Bool {
        let l = s.lowercased()
        var rest = Substring(l)
        if rest.hasPrefix("iq") { rest = rest.dropFirst(2) } else if rest.hasPrefix("q") { rest = rest.dropFirst() } else {
            var f = Substring(l)
            if f.hasPrefix("b") { f = f.dropFirst() }
            guard f.hasPrefix("f") else { return false }
            f = f.dropFirst()
            if f.hasPrefix("p") { f = f.dropFirst() }
            return f == "16" || f == "32"
        }
        guard let d = rest.first, d.isASCII, d.isNumber else { return false }
        rest = rest.dropFirst()
        // (_\w)*: each underscore followed by one word character
        while !rest.isEmpty {
            guard rest.first == "_", rest.count >= 2, let w = rest.dropFirst().first, w.isLetter || w.isNumber || w == "_" else { return false }
            rest = rest.dropFirst(2)
        }
        return true
    }

    /// `(([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl)`, case-insensitive.
    static func matchesSize(_ s: String) -> Bool {
        let l = s.lowercased()
        if ["small", "mini", "medium", "large", "xl", "xxl"].contains(l) { return true }
        var chars = Substring(l)
        func digits() -> Int {
            let n = chars.prefix { $0.isASCII && $0.isNumber }.count
            chars = chars.dropFirst(n)
            return n
        }
        // optional prefix: "a" or digits followed by "x"
        if chars.hasPrefix("a") {
            let after = chars.dropFirst()
            if after.first?.isNumber == true { chars = after }
        } else {
            let save = chars
            if digits() > 0, chars.first == "x" { chars = chars.dropFirst() } else { chars = save }
        }
        guard digits() > 0 else { return false }
        if let sep = chars.first, sep == "." || sep == "_" {
            let save = chars
            chars = chars.dropFirst()
            if digits() == 0 { chars = save }
        }
        guard let unit = chars.first, "kmbt".contains(unit) else { return false }
        chars = chars.dropFirst()
        if let d = chars.first, d.isASCII, d.isNumber { chars = chars.dropFirst() }
        return chars.isEmpty
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
    fileprivate func replacingDashes() -> String { String(map { $0 == "-" ? " " : $0 }) }
    fileprivate func replacingOccurrences(_ a: Character, _ b: Character) -> String { String(map { $0 == a ? b : $0 }) }
}
