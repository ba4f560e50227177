# Developer tasks for qwenkit. SwiftPM does the building; this file only names the steps.
#
#   make build            release build (.build/release/qwenkit)
#   make test             every test target (swift test)
#   make completions      rebuild, then regenerate Completions/ (bash, zsh, fish)
#   make help-snapshots   rebuild, then regenerate the help-text snapshots CLITests compares with
#   make hostile          the hostile-input suites: every reproduced bug, structural fuzzing, bad tokenizer input
#   make tokenizer-data   recompile the embedded tokenizer Sources/CQwenKitData/qwen2.qtok.zst
#   make bench            release build, then Fixtures/bench/bench_tokenizers.py
#   make fuzz             libFuzzer + AddressSanitizer over the GGUF and safetensors readers (Fuzz/), for
#                         FUZZ_TIME seconds (default 60); the corpus and any crashing inputs stay in .build-fuzz/
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
TOKENIZER_OUT := Sources/CQwenKitData/qwen2.qtok.zst

.PHONY: all build debug test hostile completions help-snapshots tokenizer-data bench fuzz fuzz-build

all: build

build:
	$(SWIFT) build $(SWIFTPM) -c release --product qwenkit

debug:
	$(SWIFT) build $(SWIFTPM) --product qwenkit

test:
	$(SWIFT) test $(SWIFTPM)

hostile:
	$(SWIFT) test $(SWIFTPM) --filter 'HostileInputTests|OutputGuardTests|FuzzTests|BadInputTests'

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
	COLUMNS=80 $(DEBUG_BIN) tokenizer --help         > $(SNAPSHOTS)/help-tokenizer.txt
	COLUMNS=80 $(DEBUG_BIN) tokenizer compile --help > $(SNAPSHOTS)/help-tokenizer-compile.txt
	COLUMNS=80 $(DEBUG_BIN) inspect --help           > $(SNAPSHOTS)/help-inspect.txt
	COLUMNS=80 $(DEBUG_BIN) edit --help              > $(SNAPSHOTS)/help-edit.txt
	COLUMNS=80 $(DEBUG_BIN) convert --help           > $(SNAPSHOTS)/help-convert.txt
	COLUMNS=80 $(DEBUG_BIN) diff --help              > $(SNAPSHOTS)/help-diff.txt
	COLUMNS=80 $(DEBUG_BIN) quantize --help          > $(SNAPSHOTS)/help-quantize.txt
	COLUMNS=80 $(DEBUG_BIN) run --help               > $(SNAPSHOTS)/help-run.txt
	COLUMNS=80 $(DEBUG_BIN) verify --help            > $(SNAPSHOTS)/help-verify.txt
	COLUMNS=80 $(DEBUG_BIN) imatrix --help           > $(SNAPSHOTS)/help-imatrix.txt
	COLUMNS=80 $(DEBUG_BIN) perplexity --help        > $(SNAPSHOTS)/help-perplexity.txt

# The binary that compiles the data embeds the current data; the new file takes effect at the next build.
tokenizer-data: build
	$(RELEASE_BIN) tokenizer compile Fixtures/tokenizers/qwen2 -o $(TOKENIZER_OUT)

bench: build
	$(PYTHON) Fixtures/bench/bench_tokenizers.py --qwenkit $(RELEASE_BIN) $(BENCH_ARGS)

# The fuzzer is built with swiftc, not SwiftPM, so that the sanitizer flags never reach `swift build`: QwenKitIO and
# ModelFiles become instrumented static libraries, then Fuzz/ModelFilesFuzzer.swift links them with libFuzzer's
# main. -Onone keeps the standard library's debug bounds checks (a zero-length slice past a buffer traps there, not
# in -O). Seeds are the committed fixtures; FUZZ_ARGS passes more libFuzzer flags (e.g. -jobs=2, -runs=N).
FUZZ_DIR    ?= .build-fuzz
FUZZ_TIME   ?= 60
SWIFTC      ?= swiftc
FUZZ_FLAGS  := -sanitize=fuzzer,address -Onone -g -parse-as-library -swift-version 6 -I $(FUZZ_DIR) -I Sources/CZstd -I Sources/CZlib
# The toolchain's lld links the sanitizer runtimes without gold's "cannot export local symbol" warnings.
FUZZ_LINK   ?= -use-ld=lld
FUZZ_BIN    := $(FUZZ_DIR)/modelfiles-fuzzer

fuzz-build:
	@mkdir -p $(FUZZ_DIR)
	$(SWIFTC) $(FUZZ_FLAGS) -emit-library -static -emit-module -module-name QwenKitIO \
		-emit-module-path $(FUZZ_DIR)/QwenKitIO.swiftmodule -o $(FUZZ_DIR)/libQwenKitIO.a Sources/QwenKitIO/*.swift
	$(SWIFTC) $(FUZZ_FLAGS) -emit-library -static -emit-module -module-name ModelFiles \
		-emit-module-path $(FUZZ_DIR)/ModelFiles.swiftmodule -o $(FUZZ_DIR)/libModelFiles.a Sources/ModelFiles/*.swift
	$(SWIFTC) $(FUZZ_FLAGS) Fuzz/ModelFilesFuzzer.swift -L $(FUZZ_DIR) -lModelFiles -lQwenKitIO -lzstd -lz \
		$(FUZZ_LINK) -o $(FUZZ_BIN)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/corpus
	cp Fixtures/gguf/*.gguf Fixtures/safetensors/*.safetensors $(FUZZ_DIR)/corpus/
	$(FUZZ_BIN) $(FUZZ_DIR)/corpus -dict=Fuzz/modelfiles.dict -max_total_time=$(FUZZ_TIME) -malloc_limit_mb=1024 \
		-artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 $(FUZZ_ARGS)
