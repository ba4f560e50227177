# Developer tasks for qwenkit. SwiftPM does the building; this file only names the steps.
#
#   make build            release build (.build/release/qwenkit)
#   make test             every test target (swift test)
#   make completions      rebuild, then regenerate Completions/ (bash, zsh, fish)
#   make help-snapshots   rebuild, then regenerate the help-text snapshots CLITests compares with
#   make hostile          the hostile-input suites: every reproduced bug, structural fuzzing, bad tokenizer input
#   make tokenizer-data   recompile the embedded tokenizer Sources/CQwenKitData/qwen2.qtok
#   make bench            release build, then Fixtures/bench/bench_tokenizers.py
#   make bench-kernels    the generation kernels alone against a plain read loop (Fixtures/bench/kernel_bandwidth.c)
#   make fuzz             libFuzzer + AddressSanitizer over the GGUF and safetensors readers (Fuzz/), for
#                         FUZZ_TIME seconds (default 60); the corpus and any crashing inputs stay in .build-fuzz/
#   make fuzz-parquet     the same over the parquet reader (corpus in .build-fuzz/parquet-corpus/)
#
# SCRATCH=.build-foo uses another build directory (swift --scratch-path), e.g. to build beside an
# IDE or another checkout's build without waiting for the same lock.

SWIFT   ?= swift
PYTHON  ?= python3
SCRATCH ?= .build

SWIFTPM       := --scratch-path $(SCRATCH)
RELEASE_BIN   := $(SCRATCH)/release/qwenkit
DEBUG_BIN     := $(SCRATCH)/debug/qwenkit
SNAPSHOTS     := Tests/CLITests/Snapshots
TOKENIZER_OUT := Sources/CQwenKitData/qwen2.qtok

.PHONY: all build debug test hostile completions help-snapshots tokenizer-data bench bench-kernels fuzz fuzz-c fuzz-build fuzz-parquet fuzz-parquet-build

all: build

build:
	$(SWIFT) build $(SWIFTPM) -c release --product qwenkit

debug:
	$(SWIFT) build $(SWIFTPM) --product qwenkit

test:
	$(SWIFT) test $(SWIFTPM)

hostile:
	$(SWIFT) test $(SWIFTPM) --filter 'HostileInputTests|OutputGuardTests|FuzzTests|BadInputTests|HostileFileTests'

# Completion scripts do not depend on the build configuration; the debug build is the quicker one.
# Each file is written beside its final name first, so a failing step leaves the old script.
completions: debug
	@mkdir -p Completions
	$(DEBUG_BIN) --generate-completion-script bash > Completions/qwenkit.bash.tmp && mv Completions/qwenkit.bash.tmp Completions/qwenkit.bash
	$(DEBUG_BIN) --generate-completion-script zsh  > Completions/_qwenkit.tmp     && mv Completions/_qwenkit.tmp Completions/_qwenkit
	$(DEBUG_BIN) --generate-completion-script fish > Completions/qwenkit.fish.tmp && mv Completions/qwenkit.fish.tmp Completions/qwenkit.fish

# Help text wraps at the terminal width; the snapshots are taken at 80 columns, as the tests run.
help-snapshots: debug
	@mkdir -p $(SNAPSHOTS)
	COLUMNS=80 $(DEBUG_BIN) --help                   > $(SNAPSHOTS)/help-qwenkit.txt
	COLUMNS=80 $(DEBUG_BIN) encode --help            > $(SNAPSHOTS)/help-encode.txt
	COLUMNS=80 $(DEBUG_BIN) decode --help            > $(SNAPSHOTS)/help-decode.txt
	COLUMNS=80 $(DEBUG_BIN) count --help             > $(SNAPSHOTS)/help-count.txt
	COLUMNS=80 $(DEBUG_BIN) merge --help             > $(SNAPSHOTS)/help-merge.txt
	COLUMNS=80 $(DEBUG_BIN) tokenizer --help         > $(SNAPSHOTS)/help-tokenizer.txt
	COLUMNS=80 $(DEBUG_BIN) tokenizer compile --help > $(SNAPSHOTS)/help-tokenizer-compile.txt
	COLUMNS=80 $(DEBUG_BIN) tokenizer profile --help > $(SNAPSHOTS)/help-tokenizer-profile.txt
	COLUMNS=80 $(DEBUG_BIN) inspect --help           > $(SNAPSHOTS)/help-inspect.txt
	COLUMNS=80 $(DEBUG_BIN) edit --help              > $(SNAPSHOTS)/help-edit.txt
	COLUMNS=80 $(DEBUG_BIN) convert --help           > $(SNAPSHOTS)/help-convert.txt
	COLUMNS=80 $(DEBUG_BIN) diff --help              > $(SNAPSHOTS)/help-diff.txt
	COLUMNS=80 $(DEBUG_BIN) quantize --help          > $(SNAPSHOTS)/help-quantize.txt
	COLUMNS=80 $(DEBUG_BIN) run --help               > $(SNAPSHOTS)/help-run.txt
	COLUMNS=80 $(DEBUG_BIN) verify --help            > $(SNAPSHOTS)/help-verify.txt
	COLUMNS=80 $(DEBUG_BIN) imatrix --help           > $(SNAPSHOTS)/help-imatrix.txt
	COLUMNS=80 $(DEBUG_BIN) perplexity --help        > $(SNAPSHOTS)/help-perplexity.txt
	COLUMNS=80 $(DEBUG_BIN) template --help          > $(SNAPSHOTS)/help-template.txt
	COLUMNS=80 $(DEBUG_BIN) chat --help              > $(SNAPSHOTS)/help-chat.txt
	COLUMNS=80 $(DEBUG_BIN) serve --help             > $(SNAPSHOTS)/help-serve.txt

# The binary that compiles the data embeds the current data; the new file takes effect at the next build.
tokenizer-data: build
	$(RELEASE_BIN) tokenizer compile Fixtures/tokenizers/qwen2 -o $(TOKENIZER_OUT)

bench: build
	$(PYTHON) Fixtures/bench/bench_tokenizers.py --qwenkit $(RELEASE_BIN) $(BENCH_ARGS)

# The kernels are compiled as Package.swift has SwiftPM compile them (clang -O3; AVX-512 by each function's target
# attribute), here into one program with the benchmark.
CLANG ?= clang
KERNELS := Sources/CRuntimeKernels/dot_avx512.c Sources/CRuntimeKernels/dot_avx2.c Sources/CRuntimeKernels/gemm_avx512.c

bench-kernels:
	@mkdir -p $(SCRATCH)
	$(CLANG) -O3 -I Sources/CRuntimeKernels/include -o $(SCRATCH)/kernel_bandwidth \
		Fixtures/bench/kernel_bandwidth.c $(KERNELS) -lpthread -lm
	$(SCRATCH)/kernel_bandwidth $(BENCH_ARGS)

# The fuzzer is built with swiftc, not SwiftPM, so that the sanitizer flags never reach `swift build`: QwenKitIO and
# ModelFiles become instrumented static libraries, then Fuzz/ModelFilesFuzzer.swift links them with libFuzzer's
# main. -Onone keeps the standard library's debug bounds checks (a zero-length slice past a buffer traps there, not
# in -O). Seeds are the committed fixtures; FUZZ_ARGS passes more libFuzzer flags (e.g. -jobs=2, -runs=N).
FUZZ_DIR    ?= .build-fuzz
FUZZ_TIME   ?= 60
SWIFTC      ?= swiftc
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -sanitize=fuzzer,address -Onone -g -parse-as-library -swift-version 6 -I $(FUZZ_DIR) -I Sources/CZstd -I Sources/CZlib \
               -I Sources/CSnappy -I $(FUZZ_DIR)/CTemporaryFiles
# The toolchain's lld links the sanitizer runtimes without gold's "cannot export local symbol" warnings.
FUZZ_LINK   ?= -use-ld=lld
FUZZ_BIN    := $(FUZZ_DIR)/modelfiles-fuzzer
PARQUET_FUZZ_BIN := $(FUZZ_DIR)/parquet-fuzzer

# QwenKitIO imports the C target CTemporaryFiles: SwiftPM makes its module map, here it is written by hand and the C
# file compiled with the same sanitizer.
fuzz-c:
	@mkdir -p $(FUZZ_DIR)/CTemporaryFiles
	printf 'module CTemporaryFiles {\n    header "%s"\n    export *\n}\n' \
		"$(CURDIR)/Sources/CTemporaryFiles/include/temporary_files.h" > $(FUZZ_DIR)/CTemporaryFiles/module.modulemap
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,address -g -O1 -c Sources/CTemporaryFiles/temporary_files.c \
		-I Sources/CTemporaryFiles/include -o $(FUZZ_DIR)/temporary_files.o
	ar rcs $(FUZZ_DIR)/libCTemporaryFiles.a $(FUZZ_DIR)/temporary_files.o

fuzz-build: fuzz-c
	@mkdir -p $(FUZZ_DIR)
	$(SWIFTC) $(FUZZ_FLAGS) -emit-library -static -emit-module -module-name QwenKitIO \
		-emit-module-path $(FUZZ_DIR)/QwenKitIO.swiftmodule -o $(FUZZ_DIR)/libQwenKitIO.a Sources/QwenKitIO/*.swift
	$(SWIFTC) $(FUZZ_FLAGS) -emit-library -static -emit-module -module-name ModelFiles \
		-emit-module-path $(FUZZ_DIR)/ModelFiles.swiftmodule -o $(FUZZ_DIR)/libModelFiles.a Sources/ModelFiles/*.swift
	$(SWIFTC) $(FUZZ_FLAGS) Fuzz/FuzzScratch.swift Fuzz/ModelFilesFuzzer.swift -L $(FUZZ_DIR) -lModelFiles -lQwenKitIO -lCTemporaryFiles -lzstd -lz \
		$(FUZZ_LINK) -o $(FUZZ_BIN)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/corpus
	cp Fixtures/gguf/*.gguf Fixtures/safetensors/*.safetensors $(FUZZ_DIR)/corpus/
	$(FUZZ_BIN) $(FUZZ_DIR)/corpus -dict=Fuzz/modelfiles.dict -max_total_time=$(FUZZ_TIME) -malloc_limit_mb=1024 \
		-artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 $(FUZZ_ARGS)

# The parquet reader's harness: QwenKitIO and Parquet (with its subfolders) as instrumented static libraries, the C
# libraries it wraps (snappy, zlib, zstd) linked as they are. Seeds are the parquet goldens.
fuzz-parquet-build: fuzz-c
	@mkdir -p $(FUZZ_DIR)
	$(SWIFTC) $(FUZZ_FLAGS) -emit-library -static -emit-module -module-name QwenKitIO \
		-emit-module-path $(FUZZ_DIR)/QwenKitIO.swiftmodule -o $(FUZZ_DIR)/libQwenKitIO.a Sources/QwenKitIO/*.swift
	$(SWIFTC) $(FUZZ_FLAGS) -emit-library -static -emit-module -module-name Parquet \
		-emit-module-path $(FUZZ_DIR)/Parquet.swiftmodule -o $(FUZZ_DIR)/libParquet.a $(shell find Sources/Parquet -name '*.swift')
	$(SWIFTC) $(FUZZ_FLAGS) Fuzz/FuzzScratch.swift Fuzz/ParquetFuzzer.swift -L $(FUZZ_DIR) -lParquet -lQwenKitIO -lCTemporaryFiles -lsnappy -lzstd -lz \
		$(FUZZ_LINK) -o $(PARQUET_FUZZ_BIN)

fuzz-parquet: fuzz-parquet-build
	@mkdir -p $(FUZZ_DIR)/parquet-corpus
	cp Fixtures/parquet/*.parquet $(FUZZ_DIR)/parquet-corpus/
	$(PARQUET_FUZZ_BIN) $(FUZZ_DIR)/parquet-corpus -dict=Fuzz/parquet.dict -max_total_time=$(FUZZ_TIME) -malloc_limit_mb=1024 \
		-artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 $(FUZZ_ARGS)
