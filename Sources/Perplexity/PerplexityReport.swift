import QwenKitIO

/// What llama-perplexity prints, in its printf formats (so a line of ours and a line of its can be compared as text),
/// and the same figures as JSON.
public enum PerplexityReport {
    // MARK: Perplexity

    /// `[3]690.0483,`: the running estimate after chunk `chunk` (1-based).
    public static func runningEstimate(chunk: Int, _ value: Double) -> String { "[\(chunk)]\(formatFixed(value, decimals: 4))," }

    /// The line after the running estimates: `Final estimate: PPL = 570.6150 +/- 83.49296`.
    public static func finalEstimate(_ r: PerplexityRun.Result) -> String { finalEstimate(perplexity: r.perplexity, error: r.perplexityError) }

    public static func finalEstimate(perplexity: Double, error: Double?) -> String {
        guard let error else { return "Unexpected negative standard deviation of log(prob)\n" }
        return "Final estimate: PPL = \(formatFixed(perplexity, decimals: 4)) +/- \(formatFixed(error, decimals: 5))\n"
    }

    public static func json(_ r: PerplexityRun.Result, model: String, text: String, base: String?) -> JSONOutput {
        var members: [(String, JSONOutput)] = [("model", .string(model)), ("text", .string(text))]
        if let base { members.append(("kl_divergence_base", .string(base))) }
        members += [
            ("n_ctx", .integer(r.context)), ("n_vocab", .integer(r.vocabulary)), ("n_chunks", .integer(r.chunkCount)),
            ("tokens_scored", .integer(r.count)),
            ("ppl", .double(r.perplexity)), ("ppl_stderr", r.perplexityError.map(JSONOutput.double) ?? .null),
            ("chunks", .array(r.runningPerplexity.enumerated().map { .object([("chunk", .integer($0.offset + 1)), ("ppl", .double($0.element))]) })),
        ]
        return .object(members)
    }

    // MARK: KL divergence

    /// The table's title line, printed before the first chunk's line.
    public static let chunkTableTitle =
        "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p\n"

    /// One line of the table.
    public static func chunkLine(_ l: KLDivergenceRun.ChunkLine) -> String {
        right(String(l.chunk), 4)
            + "    \(f(l.perplexity, 9, 4)) ± \(f(l.perplexityError, 9, 4))"
            + "    \(f(l.logRatio, 10, 5)) ± \(f(l.logRatioError, 10, 5))"
            + "    \(f(l.kld, 10, 5)) ± \(f(l.kldError, 10, 5))"
            + "    \(f(100.0 * l.rmsDeltaP, 6, 3)) ± \(f(100.0 * l.rmsDeltaPError, 6, 3)) %"
            + "    \(f(100.0 * l.sameTop, 6, 3)) ± \(f(100.0 * l.sameTopError, 6, 3)) %\n"
    }

    /// The closing statistics (an empty line first, as it prints one after the table; nothing else below 100 scored
    /// positions).
    public static func summary(_ s: KLDivergenceSummary) -> String {
        var out = "\n"
        guard s.isPrinted else { return out }
        func estimate(_ label: String, _ e: KLDivergenceSummary.Estimate) -> String {
            "\(label): \(f(e.value, 10, 6)) ± \(f(e.error, 10, 6))\n"
        }
        out += "====== Perplexity statistics ======\n"
        out += estimate("Mean PPL(Q)                   ", s.perplexity)
        out += estimate("Mean PPL(base)                ", s.basePerplexity)
        out += "Cor(ln(PPL(Q)), ln(PPL(base))): \(f(100.0 * s.correlation, 6, 2))%\n"
        out += estimate("Mean ln(PPL(Q)/PPL(base))     ", s.logRatio)
        out += estimate("Mean PPL(Q)/PPL(base)         ", s.ratio)
        out += estimate("Mean PPL(Q)-PPL(base)         ", s.difference)
        out += "\n"
        out += "====== KL divergence statistics ======\n"
        out += estimate("Mean    KLD", s.kld)
        func kld(_ label: String, _ v: Float) -> String { "\(label) KLD: \(f(Double(v), 10, 6))\n" }
        out += kld("Maximum", s.kldMaximum)
        for (label, v) in s.kldPercentiles.prefix(4) { out += kld(percentLabel(label), v) }
        out += kld("Median ", s.kldMedian)
        for (label, v) in s.kldPercentiles.dropFirst(4) { out += kld(percentLabel(label), v) }
        out += kld("Minimum", s.kldMinimum)
        out += "\n"
        out += "====== Token probability statistics ======\n"
        out += "Mean    Δp: \(f(100.0 * s.deltaP.value, 6, 3)) ± \(f(100.0 * s.deltaP.error, 5, 3)) %\n"
        func dp(_ label: String, _ v: Float) -> String { "\(label) Δp: \(f(100.0 * Double(v), 6, 3))%\n" }
        out += dp("Maximum", s.deltaPMaximum)
        for (label, v) in s.deltaPPercentiles.prefix(5) { out += dp(percentLabel(label), v) }
        out += dp("Median ", s.deltaPMedian)
        for (label, v) in s.deltaPPercentiles.dropFirst(5) { out += dp(percentLabel(label), v) }
        out += dp("Minimum", s.deltaPMinimum)
        out += "RMS Δp    : \(f(100.0 * s.rmsDeltaP.value, 6, 3)) ± \(f(100.0 * s.rmsDeltaP.error, 5, 3)) %\n"
        out += "Same top p: \(f(100.0 * s.sameTop.value, 6, 3)) ± \(f(100.0 * s.sameTop.error, 5, 3)) %\n"
        return out
    }

    public static func json(_ r: KLDivergenceRun.Result, model: String, base: String) -> JSONOutput {
        let s = r.summary
        func estimate(_ name: String, _ e: KLDivergenceSummary.Estimate) -> [(String, JSONOutput)] {
            [(name, .double(e.value)), (name + "_stderr", .double(e.error))]
        }
        func key(_ label: String) -> String { "p" + String(label.map { $0 == "." ? "_" : $0 }) }
        var kld: [(String, JSONOutput)] = estimate("mean", s.kld) + [("max", .float(s.kldMaximum))]
        kld += s.kldPercentiles.map { (key($0.label), .float($0.value)) }
        kld += [("median", .float(s.kldMedian)), ("min", .float(s.kldMinimum))]
        var deltaP: [(String, JSONOutput)] = estimate("mean", s.deltaP) + [("max", .float(s.deltaPMaximum))]
        deltaP += s.deltaPPercentiles.map { (key($0.label), .float($0.value)) }
        deltaP += [("median", .float(s.deltaPMedian)), ("min", .float(s.deltaPMinimum))]
        var members: [(String, JSONOutput)] = [
            ("model", .string(model)), ("kl_divergence_base", .string(base)),
            ("n_ctx", .integer(r.header.context)), ("n_vocab", .integer(r.header.vocabulary)), ("n_chunks", .integer(r.header.chunks)),
            ("tokens_scored", .integer(s.count)),
        ]
        members += estimate("ppl", s.perplexity) + estimate("ppl_base", s.basePerplexity)
        members.append(("ln_ppl_correlation", .double(s.correlation)))
        members += estimate("ln_ppl_ratio", s.logRatio) + estimate("ppl_ratio", s.ratio) + estimate("ppl_diff", s.difference)
        members.append(("kld", .object(kld)))
        members.append(("delta_p", .object(deltaP)))
        members += estimate("rms_delta_p", s.rmsDeltaP) + estimate("same_top_p", s.sameTop)
        members.append(("chunks", .array(r.lines.map { l in
            .object([("chunk", .integer(l.chunk)), ("ppl", .double(l.perplexity)), ("ppl_stderr", .double(l.perplexityError)),
                     ("ln_ppl_ratio", .double(l.logRatio)), ("ln_ppl_ratio_stderr", .double(l.logRatioError)),
                     ("kld", .double(l.kld)), ("kld_stderr", .double(l.kldError)),
                     ("rms_delta_p", .double(l.rmsDeltaP)), ("rms_delta_p_stderr", .double(l.rmsDeltaPError)),
                     ("same_top_p", .double(l.sameTop)), ("same_top_p_stderr", .double(l.sameTopError))])
        })))
        return .object(members)
    }

    /// `99.9%  ` and ` 5.0%  `: its percentile labels (`%4s%%` then padding to the colon column).
    private static func percentLabel(_ label: String) -> String { right(label, 4) + "%  " }

    /// printf's `%W.Pf` (`%W.Plf`).
    private static func f(_ x: Double, _ width: Int, _ decimals: Int) -> String { right(formatFixed(x, decimals: decimals), width) }

    private static func right(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.utf8.count)) + s
    }
}
