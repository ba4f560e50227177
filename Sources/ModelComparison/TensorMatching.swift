import ModelFiles
import ModelInspection

// Which tensor of one model is which of the other. Two models of the same family (GGUF and GGUF, or HF and HF)
// match by stored name. An HF model (a safetensors file, a sharded index or a model directory) against a GGUF file
// matches through the converter's own table (`TensorNameMap`): each HF name becomes the GGUF name `convert` would
// write, and a layer's routed experts become the one stacked tensor GGUF keeps for them. Shapes are compared in one
// convention, PyTorch's (outermost first): GGUF `ne` reversed, stacked experts as [experts, rows, columns].

/// How the two models' tensor names are matched.
public enum NameMapping: String, Sendable {
    /// Both models are of the same family; names are compared as stored.
    case asStored = "as_stored"
    /// One model is HF, the other GGUF: HF names are mapped to GGUF names as `convert` maps them.
    case hfToGGUF = "hf_to_gguf"

    /// The mapping for two models: HF against GGUF maps names, anything else compares them as stored.
    public init(_ a: InspectedModel, _ b: InspectedModel) {
        self = a.isGGUF == b.isGGUF ? .asStored : .hfToGGUF
    }
}

extension InspectedModel {
    var isGGUF: Bool {
        if case .gguf = source { return true }
        return false
    }
}

/// One side of a compared pair: a tensor as compared, which is one stored tensor or, for an HF model's routed
/// experts against GGUF, a layer's experts laid end to end in expert order (as `convert` stacks them).
public struct ComparedTensor: @unchecked Sendable {
    /// The name the pair goes by: the stored name, or the GGUF name an HF tensor maps to.
    public let name: String
    /// The stored tensors, in order: one, or a layer's experts by expert index. Their bytes are views into the
    /// model's mapped files, valid while its `InspectedModel` lives.
    public let parts: [InspectedModel.Tensor]
    /// PyTorch order, outermost first: a GGUF tensor's `ne` reversed; stacked experts [experts, rows, columns].
    public let shape: [Int]
    /// The element type (of every part).
    public let type: InspectedModel.ElementType
    /// Why the parts do not make one tensor (an expert missing, parts of different shapes or types, a name two
    /// tensors map to); nil when they do.
    public let problem: String?

    /// The stored names (one, or each expert's).
    public var storedNames: [String] { parts.map(\.name) }
    public var elementCount: Int { parts.reduce(0) { $0 + $1.elementCount } }
    public var byteCount: Int { parts.reduce(0) { $0 + $1.byteCount } }

    init(name: String, parts: [InspectedModel.Tensor], shape: [Int], type: InspectedModel.ElementType, problem: String? = nil) {
        self.name = name
        self.parts = parts
        self.shape = shape
        self.type = type
        self.problem = problem
    }

    /// One stored tensor under `name`, with its shape in PyTorch order.
    init(_ tensor: InspectedModel.Tensor, name: String, gguf: Bool) {
        self.init(name: name, parts: [tensor], shape: gguf ? Array(tensor.shape.reversed()) : tensor.shape, type: tensor.type)
    }

    /// The same tensor with a problem noted.
    func with(problem: String) -> ComparedTensor {
        ComparedTensor(name: name, parts: parts, shape: shape, type: type, problem: self.problem ?? problem)
    }
}

/// A model's tensors as compared: what `TensorMatcher.pairs` matches.
public struct ComparedModel: @unchecked Sendable {
    public let tensors: [ComparedTensor]
    /// HF tensors `convert` leaves out (rotary caches, attention masks), left out here too.
    public let ignored: [String]
}

public enum TensorMatcher {
    /// `model`'s tensors under `mapping`. With `.hfToGGUF`, an HF model's names become GGUF names (a name the
    /// converter does not know stays as it is, and will be unmatched) and its experts are stacked per layer and
    /// projection; a GGUF model's tensors are taken as they are.
    public static func compared(_ model: InspectedModel, mapping: NameMapping) -> ComparedModel {
        let gguf = model.isGGUF
        guard mapping == .hfToGGUF, !gguf else {
            return ComparedModel(tensors: model.tensors.map { ComparedTensor($0, name: $0.name, gguf: gguf) }, ignored: [])
        }
        var tensors: [ComparedTensor] = []
        var ignored: [String] = []
        // A stacked tensor takes the place of its layer's first expert tensor in the list.
        var experts: [String: [(index: Int, tensor: InspectedModel.Tensor)]] = [:]
        var stackedSlots: [(slot: Int, name: String)] = []
        for t in model.tensors {
            switch TensorNameMap.destination(ofHF: t.name) {
            case nil:
                tensors.append(ComparedTensor(t, name: t.name, gguf: false))
            case .skipped:
                ignored.append(t.name)
            case .tensor(let name):
                tensors.append(ComparedTensor(t, name: name, gguf: false))
            case .expert(let stacked, let expert):
                if experts[stacked] == nil {
                    stackedSlots.append((tensors.count + stackedSlots.count, stacked))
                }
                experts[stacked, default: []].append((expert, t))
            }
        }
        for (slot, name) in stackedSlots {
            tensors.insert(stack(name, experts[name]!), at: slot)
        }
        return ComparedModel(tensors: tensors, ignored: ignored)
    }

    /// A layer's experts as one [experts, rows, columns] tensor, in expert order; a problem when an index is
    /// missing or repeated, or the experts differ in shape or type.
    static func stack(_ name: String, _ members: [(index: Int, tensor: InspectedModel.Tensor)]) -> ComparedTensor {
        let sorted = members.sorted { $0.index < $1.index }
        let parts = sorted.map(\.tensor)
        let first = parts[0]
        let stacked = ComparedTensor(name: name, parts: parts, shape: [parts.count] + first.shape, type: first.type)
        let indices = sorted.map(\.index)
        if indices != Array(0..<indices.count) {
            let missing = Set(0...(indices.last ?? 0)).subtracting(indices).sorted()
            let repeated = indices.count - Set(indices).count
            var reason = "its experts are not 0..<\(indices.count):"
            if !missing.isEmpty { reason += " missing " + missing.prefix(8).map(String.init).joined(separator: ", ") }
            if repeated > 0 { reason += (missing.isEmpty ? "" : ";") + " \(repeated) repeated" }
            return stacked.with(problem: reason)
        }
        if let odd = parts.first(where: { $0.shape != first.shape || $0.type != first.type }) {
            return stacked.with(problem: "\(odd.name) is \(odd.type.name) \(odd.shape) but \(first.name) is \(first.type.name) \(first.shape)")
        }
        return stacked
    }

    /// Pairs the tensors of `a` and `b` by name: A's order, then the tensors only in B in B's order. A name two
    /// tensors of one side map to pairs the first and reports the others as a problem, never silently.
    public static func pairs(_ a: [ComparedTensor], _ b: [ComparedTensor]) -> [(a: ComparedTensor?, b: ComparedTensor?)] {
        let (a, aDuplicates) = firstByName(a)
        let (b, bDuplicates) = firstByName(b)
        var bIndex: [String: Int] = [:]
        for (i, t) in b.enumerated() { bIndex[t.name] = i }
        var used = [Bool](repeating: false, count: b.count)
        var result: [(a: ComparedTensor?, b: ComparedTensor?)] = []
        for t in a {
            if let j = bIndex[t.name] {
                used[j] = true
                result.append((t, b[j]))
            } else {
                result.append((t, nil))
            }
        }
        for (j, t) in b.enumerated() where !used[j] { result.append((nil, t)) }
        result += aDuplicates.map { ($0, nil) } + bDuplicates.map { (nil, $0) }
        return result
    }

    /// The first tensor of each name, and the later ones marked as duplicates.
    private static func firstByName(_ tensors: [ComparedTensor]) -> (unique: [ComparedTensor], duplicates: [ComparedTensor]) {
        var first: [String: String] = [:]
        var unique: [ComparedTensor] = []
        var duplicates: [ComparedTensor] = []
        for t in tensors {
            if let other = first[t.name] {
                duplicates.append(t.with(problem: "\(t.storedNames.joined(separator: ", ")) and \(other) both map to \(t.name)"))
            } else {
                first[t.name] = t.storedNames.joined(separator: ", ")
                unique.append(t)
            }
        }
        return (unique, duplicates)
    }
}
