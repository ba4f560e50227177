// swift-tools-version:6.1
//
// qwenkit: a native command suite for the Qwen2 model family.
// The target list below is the architecture: the C shims wrap system libraries, the libraries never
// import the CLI, and the executable only parses flags and calls them.
import PackageDescription

// Build flags, chosen deliberately:
// - Hot loops are SIMD and byte-buffer code. Without a target CPU, Swift's SIMD lowers to SSE2 scalar
//   code that runs many times slower (measured in shared/SPEC-NOTES.md), so release builds on x86_64
//   pick haswell (AVX2, FMA, F16C: every x86 server of the last decade). QWENKIT_PORTABLE=1 builds a
//   baseline binary for older CPUs. Debug builds target it too: without FMA every fused multiply-add of the
//   kernels is a libm call (the results are the same: a fused multiply-add is exact either way).
// - The two kernel libraries (Quantization, Qwen2Runtime) are optimized in debug builds too, so that the tests
//   that run real-vocabulary models (the trained checkpoint: 152k logits per position) take seconds per model
//   rather than minutes; the rest of a debug build stays unoptimized for debugging.
// - Dynamic exclusivity checks cost a runtime call per access to a class's stored property; in the
//   per-token paths (encoder scratch, output writer state) that was ~4% of encode time. Debug builds
//   and tests keep them.
let releaseOnly = BuildSettingCondition.when(configuration: .release)
#if arch(x86_64)
let portable = Context.environment["QWENKIT_PORTABLE"] != nil
let targetCPU = Context.environment["QWENKIT_TARGET_CPU"] ?? "haswell"
let cpuFlags: [SwiftSetting] = (portable ? [] : [.unsafeFlags(["-target-cpu", targetCPU])])
    + [.unsafeFlags(["-enforce-exclusivity=unchecked"], releaseOnly)]
#else
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], releaseOnly)]
#endif
let kernelFlags = cpuFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "qwenkit",
    products: [
        .executable(name: "qwenkit", targets: ["qwenkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP server of `serve` (on SwiftNIO); its optional traits (swift-configuration, full Foundation) off.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    ],
    targets: [
        // System libraries, found with pkg-config.
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        // The embedded default tokenizer (zstd-compressed compact form), linked in with C23 #embed.
        .target(name: "CQwenKitData", exclude: ["qwen2.qtok"]),

        // The temporary files an interrupt removes, and the signal handlers that remove them (C: async-signal-safe); the
        // SIGINT handler that only raises a flag (chat's Ctrl-C stops a reply).
        .target(name: "CTemporaryFiles"),
        // Files, streams, zstd and gzip, JSON scanning, progress, lines as they are typed; which files are outputs and which
        // inputs (never both), and the temporary files an interrupt removes: no tokenizer or model knowledge.
        .target(name: "CTextKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "QwenKitIO", dependencies: ["CZstd", "CZlib", "CTemporaryFiles", "CTextKernels"], swiftSettings: cpuFlags),
        // Parquet files (Hugging Face datasets): footer, flat schema, row groups with their byte ranges, a streaming
        // cursor over a text column and carried columns (rendered as JSON); snappy, gzip and zstd pages.
        .target(name: "Parquet", dependencies: ["QwenKitIO", "CZstd", "CZlib", "CSnappy"], swiftSettings: cpuFlags),
        // Qwen2's byte-level BPE tokenizer: NFC, added tokens, pretokenizer, BPE, decoding.
        .target(name: "QwenTokenizer", dependencies: ["CPCRE2", "CQwenKitData", "CTextKernels", "QwenKitIO"], swiftSettings: cpuFlags),
        // What `encode` reads beyond text and JSONL (parquet rows), what it writes (text, JSONL, u32, npy and packed
        // rows, Megatron indexed datasets) with --eod and length limits per document, and what `merge` joins.
        .target(name: "TrainingData", dependencies: ["QwenTokenizer", "Parquet", "QwenKitIO"], swiftSettings: cpuFlags),
        // Model files: the ggml type table, safetensors, GGUF v3, HF model directories, typed hyperparameters, the HF ⇄ GGUF
        // tensor-name table and a model's tensors by GGUF name whichever file holds them.
        .target(name: "ModelFiles", dependencies: ["QwenKitIO"], swiftSettings: cpuFlags),
        // What `inspect` shows: one view over GGUF, safetensors and HF directories, summaries, tensor statistics.
        .target(name: "ModelInspection", dependencies: ["ModelFiles", "Quantization", "QwenKitIO"], swiftSettings: cpuFlags),
        // ggml's block formats (Q4_0 ... Q8_K, F16, BF16): reference quantizers and dequantizers, bit-exact with ggml.
        .target(name: "Quantization", dependencies: ["ModelFiles", "QwenKitIO"], swiftSettings: kernelFlags),
        // HF checkpoint -> GGUF as llama.cpp's converter writes it: names, metadata, tokenizer, streaming conversion.
        .target(name: "Conversion", dependencies: ["ModelFiles", "Quantization", "QwenTokenizer", "QwenKitIO"], swiftSettings: cpuFlags),
        // GGUF -> GGUF as llama-quantize writes it: the per-tensor type policy (mixes, fallbacks), layout, streaming;
        // an HF checkpoint is read through its conversion plan, as the float32 GGUF `convert` would write.
        .target(name: "Quantize", dependencies: ["ModelFiles", "Quantization", "Conversion", "QwenKitIO"], swiftSettings: cpuFlags),
        // What `diff` shows: two models matched tensor by tensor across formats and names, compared as float32.
        .target(name: "ModelComparison", dependencies: ["ModelInspection", "Quantization", "ModelFiles", "QwenKitIO"],
                swiftSettings: cpuFlags),
        // What `verify` checks: golden logits files (full or top-k), their comparison with ours, thresholds, the report.
        .target(name: "Verification", dependencies: ["ModelFiles", "QwenKitIO"], swiftSettings: cpuFlags),

        // A software prefetch for the runtime's streaming kernels (a compiler builtin Swift does not expose).
        .target(name: "CPrefetch"),
        // The runtime's AVX-512 kernels, compiled per function for AVX-512 and chosen at run time (Swift has no
        // per-function target attribute); the portable Swift kernels stay.
        .target(name: "CRuntimeKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Chat templates: the Jinja2 subset real templates use, rendered as transformers' apply_chat_template does; a
        // model's template and its bos/eos tokens from a GGUF or an HF directory.
        .target(name: "ChatTemplate", dependencies: ["ModelFiles", "QwenKitIO"], swiftSettings: cpuFlags),
        // What `chat` keeps between turns: the messages, rendered through the template each turn, and the KV cache,
        // evaluated only past the tokens it already holds.
        .target(name: "Chat", dependencies: ["ChatTemplate", "Qwen2Runtime", "QwenTokenizer", "QwenKitIO"], swiftSettings: cpuFlags),
        // The OpenAI-compatible HTTP server: slots with their own sessions, the endpoints, their JSON, request logs.
        .target(name: "Serving", dependencies: ["ChatTemplate", "Qwen2Runtime", "QwenTokenizer", "QwenKitIO", "ModelFiles",
                                                .product(name: "Hummingbird", package: "hummingbird")],
                swiftSettings: cpuFlags),
        // The reference forward pass: Qwen2 / Qwen2-MoE over memory-mapped weights of any type, KV cache, sampling.
        .target(name: "Qwen2Runtime", dependencies: ["CPrefetch", "CRuntimeKernels", "ModelFiles", "Quantization", "QwenKitIO"], swiftSettings: kernelFlags),

        // Perplexity and KL divergence (llama-perplexity's figures and base files) over the runtime's forward pass.
        .target(name: "Perplexity", dependencies: ["Qwen2Runtime", "QwenKitIO"], swiftSettings: cpuFlags),
        // Importance matrices (llama-imatrix's data and files): collected from the runtime's forward pass, read, written;
        // the running perplexity llama-imatrix prints (Perplexity's estimate).
        .target(name: "ImportanceMatrix", dependencies: ["Qwen2Runtime", "Perplexity", "ModelFiles", "QwenTokenizer", "QwenKitIO"],
                swiftSettings: cpuFlags),

        .executableTarget(
            name: "qwenkit",
            dependencies: [
                "QwenKitIO", "QwenTokenizer", "TrainingData", "ModelFiles", "ModelInspection", "Conversion", "ModelComparison", "Quantize", "Qwen2Runtime", "Verification",
                "ImportanceMatrix", "Perplexity", "ChatTemplate", "Chat", "Serving",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: cpuFlags),

        // What every test target shares (scratch directories, file helpers, fixture paths, a seeded generator, the trained
        // checkpoint decompressed and converted).
        .target(name: "TestSupport", dependencies: ["QwenKitIO", "Conversion"], path: "Tests/TestSupport"),
        .testTarget(name: "QwenKitIOTests", dependencies: ["TestSupport", "QwenKitIO"]),
        .testTarget(name: "ParquetTests", dependencies: ["TestSupport", "Parquet", "QwenKitIO"]),
        .testTarget(name: "QwenTokenizerTests", dependencies: ["TestSupport", "QwenTokenizer", "CTextKernels", "QwenKitIO"]),
        .testTarget(name: "TrainingDataTests", dependencies: ["TestSupport", "TrainingData", "QwenTokenizer", "QwenKitIO"]),
        .testTarget(name: "ModelFilesTests", dependencies: ["TestSupport", "ModelFiles", "QwenKitIO"]),
        .testTarget(name: "ModelInspectionTests", dependencies: ["TestSupport", "ModelInspection", "ModelFiles", "Quantization", "QwenKitIO"]),
        .testTarget(name: "ConversionTests", dependencies: ["TestSupport", "Conversion", "ModelFiles", "QwenKitIO", "QwenTokenizer"]),
        .testTarget(name: "ModelComparisonTests",
                    dependencies: ["TestSupport", "ModelComparison", "ModelInspection", "Quantization", "ModelFiles", "QwenKitIO"]),
        .testTarget(name: "ChatTemplateTests", dependencies: ["TestSupport", "ChatTemplate", "QwenKitIO"]),
        .testTarget(name: "ChatTests", dependencies: ["TestSupport", "Chat", "ChatTemplate", "Qwen2Runtime", "QwenTokenizer", "Conversion", "ModelFiles"]),
        .testTarget(name: "QuantizationTests", dependencies: ["TestSupport", "Quantization", "ModelFiles", "QwenKitIO"]),
        .testTarget(name: "QuantizeTests", dependencies: ["TestSupport", "Quantize", "Conversion", "ModelFiles", "Quantization", "QwenKitIO", "ImportanceMatrix"]),
        .testTarget(name: "Qwen2RuntimeTests",
                    dependencies: ["TestSupport", "Qwen2Runtime", "CRuntimeKernels", "Verification", "Conversion", "ModelFiles", "Quantization", "Quantize", "QwenKitIO",
                                   "ImportanceMatrix"]),
        .testTarget(name: "ImportanceMatrixTests",
                    dependencies: ["TestSupport", "ImportanceMatrix", "Perplexity", "Qwen2Runtime", "Conversion", "QwenTokenizer", "ModelFiles"]),
        .testTarget(name: "PerplexityTests",
                    dependencies: ["TestSupport", "Perplexity", "Qwen2Runtime", "Quantize", "ModelFiles", "QwenTokenizer", "Conversion", "QwenKitIO"]),
        .testTarget(name: "VerificationTests", dependencies: ["TestSupport", "Verification", "ModelFiles", "QwenKitIO"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "qwenkit", "QwenKitIO", "ModelFiles", "ImportanceMatrix", "ChatTemplate"],
                    exclude: ["Snapshots"]),
    ]
)
