import ModelFiles
import QwenKitIO
/// The summary `quantize` prints on stderr: sizes before and after, then every tensor whose type differs from the
/// nominal one, with why and the bits per weight of both.
public enum QuantizeSummary {
    public static func render(_ plan: QuantizePlan, outputPath: String, written: Int) -> String {
        let elements = plan.tensors.reduce(0) { $0 + $1.elementCount }
        func bpw(_ bytes: Int) -> String { elements == 0 ? "-" : formatBits(Double(bytes) * 8 / Double(elements)) }
        var out = "\(outputPath): \(plan.type.name) (\(plan.facts.architecture), \(plan.tensors.count) tensors)\n"
        out += "  tensor data: \(ProgressReporter.formatBytes(Int64(plan.inputTensorBytes))) (\(bpw(plan.inputTensorBytes)) bpw)"
        out += " -> \(ProgressReporter.formatBytes(Int64(written))) (\(bpw(written)) bpw)\n"
        let changed = plan.tensors.filter { $0.type != $0.nominalType }
        if !changed.isEmpty {
            out += "  \(changed.count) tensor(s) differ from \(plan.type.defaultType.name):\n"
            for t in changed {
                out += "    \(t.name): \(t.type.name), \(formatBits(t.type.bitsPerWeight)) bpw instead of \(formatBits(t.nominalType.bitsPerWeight))"
                out += " (\(t.reasons.map(\.description).joined(separator: "; ")))\n"
            }
        }
        return out
    }

    /// Bits per weight with two decimals.
    static func formatBits(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
