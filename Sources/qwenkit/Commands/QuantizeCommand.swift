import ArgumentParser
import ImportanceMatrix
import ModelFiles
import Quantization
import Quantize
import QwenKitIO

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a GGUF model or an HF checkpoint as llama-quantize does.",
        discussion: """
            Writes what llama.cpp's llama-quantize writes for the same input, TYPE and options: the same per-tensor \
            types (the mixes, the output-tensor rule, the 8-expert rules, the row-size fallbacks), metadata, tensor \
            order and bytes (ggml's quantizers; with --imatrix their importance-weighted forms). Norms, biases and \
            routers are copied. Tensors are streamed from the memory-mapped input; a summary goes to stderr.

            An HF model directory (Qwen2 or Qwen2-MoE, as `convert` reads it) is converted and quantized in one \
            pass: the output is the same file as `convert DIR --outtype f32` then `quantize` on that file, without \
            writing the float32 file.

            As llama-quantize: `quantize INPUT TYPE [NTHREADS]` writes ggml-model-TYPE.gguf beside the input, and a \
            trailing NTHREADS sets the threads. IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M, IQ3_XXS and Q2_K_S \
            need an importance matrix (`qwenkit imatrix`).

            TYPE: \(QuantizeType.allCases.map(\.name).joined(separator: ", ")) (case-insensitive; Q3_K, Q4_K and \
            Q5_K mean their _M mix; a general.file_type number also works).

            Examples:
              qwenkit quantize qwen2-0.5b-f16.gguf qwen2-0.5b-q4_k_m.gguf Q4_K_M
              qwenkit imatrix qwen2-0.5b-f16.gguf -f calibration.txt -o imatrix.gguf
              qwenkit quantize --imatrix imatrix.gguf qwen2-0.5b-f16.gguf qwen2-0.5b-iq4_xs.gguf IQ4_XS
              qwenkit quantize ./Qwen2-0.5B-Instruct qwen2-0.5b-instruct-q4_k_m.gguf Q4_K_M 8
              qwenkit quantize model-f16.gguf out.gguf Q4_K_M --tensor-type attn_v=q8_0 --override-kv general.name=str:mine
              qwenkit quantize --dry-run model-f16.gguf IQ3_M
            """
    )

    @Argument(help: ArgumentHelp("The GGUF file, or HF model directory, to read.", valueName: "input"), completion: .file())
    var input: String

    @Argument(help: ArgumentHelp("The GGUF file to write (or, as llama-quantize, the TYPE: the output is then "
                                 + "ggml-model-TYPE.gguf beside the input).", valueName: "output"),
              completion: .file(extensions: ["gguf"]))
    var output: String

    @Argument(help: ArgumentHelp("The file type (Q4_K_M, IQ4_XS, Q8_0, F16, ...).", valueName: "type"))
    var type: String?

    @Argument(help: ArgumentHelp("Threads, as llama-quantize's trailing argument (0: the CPU count).", valueName: "nthreads"))
    var nthreads: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Encoding threads (default: the CPU count).", valueName: "n"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Importance matrix from `qwenkit imatrix` or llama-imatrix (GGUF or legacy .dat).",
                                            valueName: "file"), completion: .file())
    var imatrix: String?

    @Option(name: .long, help: ArgumentHelp("Use the importance matrix only for weights whose name contains this (repeatable).",
                                            valueName: "name"))
    var includeWeights: [String] = []

    @Option(name: .long, help: ArgumentHelp("Do not use the importance matrix for weights whose name contains this (repeatable).",
                                            valueName: "name"))
    var excludeWeights: [String] = []

    @Option(name: .long, help: ArgumentHelp("Type of the tensors whose name matches the regular expression (repeatable; "
                                            + "the first match wins, the mix rules are skipped for them).", valueName: "pattern=type"))
    var tensorType: [String] = []

    @Option(name: .long, help: ArgumentHelp("--tensor-type entries from a file, separated by spaces or newlines.", valueName: "file"),
            completion: .file())
    var tensorTypeFile: String?

    @Option(name: .long, help: ArgumentHelp("Set a metadata key in the output: TYPE is int (written as UINT32), float, bool "
                                            + "or str (repeatable).", valueName: "key=type:value"))
    var overrideKv: [String] = []

    @Option(name: .long, help: ArgumentHelp("Comma-separated layers to leave out (the others are renumbered).", valueName: "l0,l1,..."))
    var pruneLayers: String?

    @Flag(name: .long, help: "Show the types and sizes the output would have; write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Give every weight matrix the type's default type (no mix).")
    var pure = false

    @Option(name: .long, help: ArgumentHelp("Type of output.weight (and of a tied token_embd.weight).", valueName: "ggml-type"))
    var outputTensorType: String?

    @Option(name: .long, help: ArgumentHelp("Type of token_embd.weight.", valueName: "ggml-type"))
    var tokenEmbeddingType: String?

    @Flag(name: .long, help: "Dequantize tensors that are already quantized instead of refusing them.")
    var allowRequantize = false

    @Flag(name: .long, help: "Refuse a tensor whose rows do not fit its type instead of giving it another type.")
    var noFallback = false

    @Flag(name: [.short, .long], help: "No summary on stderr.")
    var quiet = false

    /// llama-quantize's two forms: INPUT OUTPUT TYPE [N], or INPUT TYPE [N] (OUTPUT is then its default name).
    private var resolved: (output: String?, type: String?, threads: String?, shortForm: Bool) {
        if type.map({ Int($0) != nil }) ?? true, let t = QuantizeType(name: output) {
            let directory = input.lastIndex(of: "/").map { String(input[...$0]) } ?? ""
            return (dryRun ? nil : directory + "ggml-model-\(t.name).gguf", output, type, true)
        }
        return (output, type, nthreads, false)
    }

    func validate() throws {
        let r = resolved
        guard let typeName = r.type else { throw ValidationError("missing the type after the output path") }
        guard QuantizeType(name: typeName) != nil else {
            throw ValidationError("unknown type '\(typeName)'; valid types: \(QuantizeType.allCases.map(\.name).joined(separator: ", "))")
        }
        if r.shortForm, let extra = nthreads {
            throw ValidationError("unexpected argument '\(extra)' after the thread count")
        }
        try validateThreads(threads)
        if let n = r.threads {
            guard let count = Int(n), count >= 0, count <= maxThreads else {
                throw ValidationError("invalid thread count '\(n)': expected 0 (every CPU) to \(maxThreads)")
            }
            if let threads, count != 0, threads != count { throw ValidationError("--threads \(threads) and a trailing thread count \(count) disagree") }
        }
        if !includeWeights.isEmpty && !excludeWeights.isEmpty {
            throw ValidationError("--include-weights and --exclude-weights cannot be used together")
        }
        if imatrix == nil, let flag = !includeWeights.isEmpty ? "--include-weights" : !excludeWeights.isEmpty ? "--exclude-weights" : nil {
            throw ValidationError("\(flag) needs --imatrix")
        }
        for (flag, value) in [("--output-tensor-type", outputTensorType), ("--token-embedding-type", tokenEmbeddingType)] {
            if let value, Self.ggmlType(value) == nil {
                throw ValidationError("unknown \(flag) '\(value)'; valid: \(Self.tensorTypes.map(\.name).joined(separator: ", "))")
            }
        }
        for spec in tensorType { _ = try Self.tensorTypeOverride(spec, flag: "--tensor-type") }
        for spec in overrideKv { _ = try Self.metadataOverride(spec) }
        if let pruneLayers { _ = try Self.layers(pruneLayers) }
    }

    /// The ggml types a tensor can be written as here: every type with a quantizer, but Q8_K (an activation type).
    static var tensorTypes: [GGMLType] { QuantizationFormats.supportedTypes.filter { $0 != .q8_K } }

    static func ggmlType(_ name: String) -> GGMLType? {
        tensorTypes.first { $0.name.lowercased() == name.lowercased() }
    }

    /// `NAME=TYPE` (llama-quantize's parse_tensor_type: the name lowercased, searched as a regular expression).
    static func tensorTypeOverride(_ spec: String, flag: String) throws(ValidationError) -> TensorTypeOverride {
        guard let eq = spec.firstIndex(of: "=") else { throw ValidationError("\(flag) '\(spec)': expected NAME=TYPE") }
        let name = spec[..<eq].lowercased(), typeName = String(spec[spec.index(after: eq)...])
        guard !name.isEmpty else { throw ValidationError("\(flag) '\(spec)': the tensor name is missing") }
        guard !typeName.isEmpty else { throw ValidationError("\(flag) '\(spec)': the type is missing") }
        guard let type = ggmlType(typeName) else {
            throw ValidationError("\(flag) '\(spec)': unknown type '\(typeName)'; valid: \(tensorTypes.map(\.name).joined(separator: ", "))")
        }
        guard let override = TensorTypeOverride(pattern: name, type: type) else {
            throw ValidationError("\(flag) '\(spec)': '\(name)' is not a valid regular expression")
        }
        return override
    }

    /// `KEY=TYPE:VALUE` as common's string_parse_kv_override reads it (int is written as UINT32 of its magnitude),
    /// but a value that does not parse is refused instead of becoming 0.
    static func metadataOverride(_ spec: String) throws(ValidationError) -> GGUFKeyValue {
        func fail(_ why: String) -> ValidationError { ValidationError("--override-kv '\(spec)': \(why)") }
        guard let eq = spec.firstIndex(of: "=") else { throw fail("expected KEY=TYPE:VALUE") }
        let key = String(spec[..<eq]), rest = spec[spec.index(after: eq)...]
        guard !key.isEmpty, key.utf8.count < 128 else { throw fail("the key must be 1 to 127 bytes") }
        guard let colon = rest.firstIndex(of: ":") else { throw fail("expected TYPE:VALUE after '='") }
        let kind = rest[..<colon], value = String(rest[rest.index(after: colon)...])
        switch kind {
        case "int":
            guard let v = Int64(value), v.magnitude <= UInt64(UInt32.max) else { throw fail("'\(value)' is not an integer of at most 32 bits") }
            return GGUFKeyValue(key, .uint32(UInt32(v.magnitude)))
        case "float":
            guard let v = Float(value), v.isFinite else { throw fail("'\(value)' is not a finite number") }
            return GGUFKeyValue(key, .float32(v))
        case "bool":
            guard value == "true" || value == "false" else { throw fail("a bool is true or false") }
            return GGUFKeyValue(key, .bool(value == "true"))
        case "str":
            guard value.utf8.count <= 127 else { throw fail("a string value cannot exceed 127 bytes") }
            return GGUFKeyValue(key, .string(value))
        default:
            throw fail("unknown type '\(kind)' (int, float, bool or str)")
        }
    }

    static func layers(_ list: String) throws(ValidationError) -> [Int] {
        var layers: [Int] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = Int(part), n >= 0 else { throw ValidationError("--prune-layers: invalid layer '\(part)'") }
            layers.append(n)
        }
        return Array(Set(layers)).sorted()
    }

    /// The --tensor-type entries of `--tensor-type-file`, then those of the command line, in llama-quantize's order
    /// (it reads the options in the order given; the file's entries come where the flag is: here before).
    func tensorTypeOverrides() throws -> [TensorTypeOverride] {
        var overrides: [TensorTypeOverride] = []
        if let tensorTypeFile {
            let text = try readTextFile(tensorTypeFile)
            for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
                do { overrides.append(try Self.tensorTypeOverride(String(word), flag: tensorTypeFile)) } catch {
                    throw CLIError(error.message)
                }
            }
        }
        for spec in tensorType { overrides.append(try Self.tensorTypeOverride(spec, flag: "--tensor-type")) }
        return overrides
    }

    /// The importance matrix as llama-quantize loads it, filtered by --include-weights/--exclude-weights.
    func importanceWeights() throws -> ImportanceWeights? {
        guard let imatrix else { return nil }
        var weights = try QuantizerWeights(path: imatrix)
        if let text = weights.filter(including: includeWeights, excluding: excludeWeights).first {
            let flag = includeWeights.contains(text) ? "--include-weights" : "--exclude-weights"
            throw CLIError("\(flag) \(text): no weight of \(imatrix) has it in its name")
        }
        return ImportanceWeights(entries: weights.entries, file: imatrix, dataset: weights.datasets.first,
                                 chunkCount: weights.chunkCount)
    }

    func run() throws {
        let r = resolved
        let quantizeType = QuantizeType(name: r.type!)!
        var options = QuantizeOptions()
        options.pure = pure
        options.allowRequantize = allowRequantize
        options.noFallback = noFallback
        options.outputTensorType = outputTensorType.flatMap(Self.ggmlType)
        options.tokenEmbeddingType = tokenEmbeddingType.flatMap(Self.ggmlType)
        options.threads = threadCount(r.threads.flatMap { Int($0) }.flatMap { $0 == 0 ? nil : $0 } ?? threads)
        options.tensorTypes = try tensorTypeOverrides()
        options.metadataOverrides = try overrideKv.map { spec throws(ValidationError) in try Self.metadataOverride(spec) }
        options.pruneLayers = try pruneLayers.map { list throws(ValidationError) in try Self.layers(list) } ?? []
        let importance = try importanceWeights()
        let plan = HFModelDirectory.isDirectory(input)
            ? try QuantizePlan(checkpoint: input, type: quantizeType, options: options, importance: importance)
            : try QuantizePlan(path: input, type: quantizeType, options: options, importance: importance)
        if let importance, !plan.tensorsWithoutImportance.isEmpty, !quiet {
            let names = plan.tensorsWithoutImportance
            printError("\(importance.file) has no entry for \(names.count) tensor(s) (\(names.prefix(3).joined(separator: ", "))"
                + "\(names.count > 3 ? ", ..." : "")): they are quantized without one")
        }
        guard let output = r.output, !dryRun else {
            if !quiet { printError(raw: QuantizeSummary.render(plan, outputPath: "(dry run)", written: plan.outputTensorBytes)) }
            return
        }
        let progress = ProgressReporter(total: Int64(plan.inputTensorBytes), label: "quantize")
        let written = try Quantizer.write(plan, to: output, progress: progress)
        if !quiet { printError(raw: QuantizeSummary.render(plan, outputPath: output, written: written)) }
    }

    /// The output path (none for --dry-run), for `WritesOutputs`.
    var outputPath: String? { dryRun ? nil : resolved.output }
}
