import ArgumentParser
import Qwen2Runtime

/// Sampling flags as llama.cpp names them (run, chat and serve share them). A flag not given keeps the default the
/// model recommends (GGUF `general.sampling.*`) or the built-in one.
struct SamplingFlags: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sampling temperature; 0 is greedy (default 0).", valueName: "t"))
    var temp: Float?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sample from the k most likely tokens only (0: all).", valueName: "k"))
    var topK: Int?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Sample from the smallest set of tokens whose probability reaches p (1: all).", valueName: "p"))
    var topP: Float?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Keep tokens at least p times as likely as the most likely one (0: all).", valueName: "p"))
    var minP: Float?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Divide a repeated token's positive logit by x, multiply a negative one (1: off).", valueName: "x"))
    var repeatPenalty: Float?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Tokens the penalties look back over (default 64; 0: none, -1: all).", valueName: "n"))
    var repeatLastN: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Subtract x from a repeated token's logit (0: off).", valueName: "x"))
    var presencePenalty: Float?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Subtract x times a token's count from its logit (0: off).", valueName: "x"))
    var frequencyPenalty: Float?

    @Option(name: [.customShort("s"), .long], parsing: .unconditional, help: ArgumentHelp("Random seed for sampling.", valueName: "n"))
    var seed: UInt64?

    func validate() throws {
        if let temp, !(temp >= 0) || !temp.isFinite { throw ValidationError("--temp must be a number of at least 0") }
        if let topK, topK < 0 { throw ValidationError("--top-k must be at least 0") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let minP, !(minP >= 0 && minP <= 1) { throw ValidationError("--min-p must be in [0, 1]") }
        if let repeatPenalty, !(repeatPenalty > 0) || !repeatPenalty.isFinite { throw ValidationError("--repeat-penalty must be above 0") }
        if let repeatLastN, repeatLastN < -1 { throw ValidationError("--repeat-last-n must be -1 (all), 0 (none) or more") }
        for (name, value) in [("--presence-penalty", presencePenalty), ("--frequency-penalty", frequencyPenalty)] {
            if let value, !value.isFinite { throw ValidationError("\(name) must be a finite number") }
        }
    }

    /// `defaults` with the flags given applied over them.
    func options(defaults: SamplingOptions) -> SamplingOptions {
        var o = defaults
        if let temp { o.temperature = temp }
        if let topK { o.topK = topK }
        if let topP { o.topP = topP }
        if let minP { o.minP = minP }
        if let repeatPenalty { o.repeatPenalty = repeatPenalty }
        if let repeatLastN { o.repeatLastN = repeatLastN }
        if let presencePenalty { o.presencePenalty = presencePenalty }
        if let frequencyPenalty { o.frequencyPenalty = frequencyPenalty }
        if let seed { o.seed = seed }
        return o
    }
}
