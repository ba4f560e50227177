function __qwenkit_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __qwenkit_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __qwenkit_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __qwenkit_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __qwenkit_parse_tokens -S
    set -l unparsed_tokens (__qwenkit_tokens -pc)
    switch $unparsed_tokens[1]
    case 'qwenkit'
        __qwenkit_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'encode'
            __qwenkit_parse_subcommand -r 1 'tokenizer=' 'lines' 'jsonl=' 'parquet=' 'special=' 'invalid=' 'threads=' 'bad-records=' 'max-bad-records=' 'format=' 'eod=' 'pack=' 'pack-mode=' 'pad-id=' 'max-tokens=' 'truncate' 'chunk' 'o/output=' 'shard=' 'skip-existing' 'version' 'h/help'
        case 'decode'
            __qwenkit_parse_subcommand -r 1 'tokenizer=' 'format=' 'skip-special' 'no-newline' 'stream' 'o/output=' 'version' 'h/help'
        case 'count'
            __qwenkit_parse_subcommand -r 1 'tokenizer=' 'lines' 'jsonl=' 'parquet=' 'special=' 'invalid=' 'threads=' 'bad-records=' 'max-bad-records=' 'json' 'version' 'h/help'
        case 'merge'
            __qwenkit_parse_subcommand -r 1 'o/output=' 'version' 'h/help'
        case 'tokenizer'
            __qwenkit_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'compile'
                __qwenkit_parse_subcommand 1 'o/output=' 'level=' 'version' 'h/help'
            case 'profile'
                __qwenkit_parse_subcommand 1 'tokenizer=' 'repeat=' 'version' 'h/help'
            end
        case 'inspect'
            __qwenkit_parse_subcommand 1 'tensors' 'tensor=+' 'stats' 'json' 'full' 'threads=' 'version' 'h/help'
        case 'edit'
            __qwenkit_parse_subcommand 1 'o/output=' 'set=+' 'set-str=+' 'set-u32=+' 'set-i32=+' 'set-u64=+' 'set-i64=+' 'set-f32=+' 'set-bool=+' 'delete=+' 'chat-template=' 'dry-run' 'version' 'h/help'
        case 'convert'
            __qwenkit_parse_subcommand 1 'o/output=' 'outtype=' 'vocab-only' 'q/quiet' 'version' 'h/help'
        case 'quantize'
            __qwenkit_parse_subcommand 4 'threads=' 'imatrix=' 'include-weights=+' 'exclude-weights=+' 'tensor-type=+' 'tensor-type-file=' 'override-kv=+' 'prune-layers=' 'dry-run' 'pure' 'output-tensor-type=' 'token-embedding-type=' 'allow-requantize' 'no-fallback' 'q/quiet' 'version' 'h/help'
        case 'diff'
            __qwenkit_parse_subcommand 2 'tolerance=' 'tensor=+' 'json' 'threads=' 'version' 'h/help'
        case 'run'
            __qwenkit_parse_subcommand 1 'p/prompt=' 'tokens=' 'f/file=' 'chat' 'system=' 'chat-template=' 'n=' 'temp=' 'top-k=' 'top-p=' 'min-p=' 'repeat-penalty=' 'repeat-last-n=' 'presence-penalty=' 'frequency-penalty=' 's/seed=' 'stop=+' 'logits=' 'tokenizer=' 't/threads=' 'no-mmap' 'c/ctx-size=' 'b/batch-size=' 'q/quiet' 'version' 'h/help'
        case 'verify'
            __qwenkit_parse_subcommand -r 2 'threads=' 'no-mmap' 'json' 'type=' 'max-abs-error=' 'min-cosine=' 'min-top1=' 'min-top5=' 'max-mean-kl=' 'max-kl=' 'worst=' 'version' 'h/help'
        case 'imatrix'
            __qwenkit_parse_subcommand 1 'f/file=' 'in-file=+' 'o/output=' 'c/ctx-size=' 'chunks=' 'chunk=' 'process-output' 'no-ppl' 'output-format=' 'output-frequency=' 'save-frequency=' 'show-statistics' 'json' 'tokenizer=' 't/threads=' 'no-mmap' 'version' 'h/help'
        case 'perplexity'
            __qwenkit_parse_subcommand 1 'f/file=' 'c/ctx-size=' 'chunks=' 'b/batch-size=' 'kl-divergence-base=' 'kl-divergence' 'json' 'tokenizer=' 't/threads=' 'no-mmap' 'version' 'h/help'
        case 'template'
            __qwenkit_parse_subcommand 1 'messages=' 'tools=' 'add-generation-prompt' 'var=+' 'now=' 'chat-template=' 'version' 'h/help'
        case 'chat'
            __qwenkit_parse_subcommand 1 'system=' 'chat-template=' 'n=' 'c/ctx-size=' 't/threads=' 'no-mmap' 'temp=' 'top-k=' 'top-p=' 'min-p=' 'repeat-penalty=' 'repeat-last-n=' 'presence-penalty=' 'frequency-penalty=' 's/seed=' 'stop=+' 'tokenizer=' 'v/verbose' 'version' 'h/help'
        case 'serve'
            __qwenkit_parse_subcommand 1 'host=' 'port=' 'parallel=' 'queue=' 'c/ctx-size=' 't/threads=' 'no-mmap' 'alias=' 'chat-template=' 'tokenizer=' 'temp=' 'top-k=' 'top-p=' 'min-p=' 'repeat-penalty=' 'repeat-last-n=' 'presence-penalty=' 'frequency-penalty=' 's/seed=' 'version' 'h/help'
        case 'help'
            __qwenkit_parse_subcommand -r 1 'version'
        end
    end
end

function __qwenkit_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __qwenkit_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __qwenkit_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __qwenkit_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__qwenkit_tokens -p)
    if test -z "$(__qwenkit_tokens -t)"
        set -l index (count (__qwenkit_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'qwenkit' -f
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'encode' -d 'Turn text into Qwen2 token ids.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'decode' -d 'Turn Qwen2 token ids back into text.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'count' -d 'Count tokens, bytes and characters, and bytes per token (compression).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'merge' -d 'Join encode outputs (shards) in the order given.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'tokenizer' -d 'Tokenizer files: compile one to the compact form qwenkit embeds; profile encoding.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'inspect' -d 'Show what is inside a GGUF file, a safetensors file or an HF model directory.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'edit' -d 'Change a GGUF file\'s metadata; the tensors are copied as they are.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'convert' -d 'Convert a Hugging Face Qwen2 or Qwen2-MoE checkpoint to GGUF for llama.cpp.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'quantize' -d 'Quantize a GGUF model or an HF checkpoint as llama-quantize does.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'diff' -d 'Compare two models tensor by tensor, across formats, and two GGUF files\' metadata.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'run' -d 'Generate text with a model on the CPU (the reference forward pass).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'verify' -d 'Check a model\'s logits against golden ones (transformers\' float32 forward pass).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'imatrix' -d 'Compute an importance matrix for quantization, as llama-imatrix does.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'perplexity' -d 'Perplexity of a model on a text, and KL divergence from a base model, as llama-perplexity computes them.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'template' -d 'Render a chat template as transformers\' apply_chat_template does.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'chat' -d 'Chat with a model, the conversation kept in the KV cache between turns.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'serve' -d 'Serve a model over an OpenAI-compatible HTTP API.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" tokenizer' -l 'tokenizer' -d 'tokenizer.json, a compact .qtok, or a model directory (default: the embedded Qwen2 tokenizer).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" lines' -l 'lines' -d 'Treat each line as a document (a trailing \\r is removed).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" jsonl' -l 'jsonl' -d 'Read JSONL and tokenize the string field FIELD of each record (a dotted path such as meta.text reaches into nested objects).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" parquet' -l 'parquet' -d 'Read parquet files and tokenize the string column COLUMN of each row (a null is a bad record).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" special' -l 'special' -d 'What to do with special-token text in the input: parse (into its id), text (tokenize as text) or reject (fail).' -rfka 'parse text reject'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" invalid' -l 'invalid' -d 'Invalid UTF-8 in the input: error (fail, naming the byte offset) or replace (U+FFFD, as Python\'s errors="replace").' -rfka 'error replace'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" threads' -l 'threads' -d 'Threads to encode with (default: all cores).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" bad-records' -l 'bad-records' -d 'A record that cannot be read (not a JSON object, no such field, a non-string or null one, not UTF-8 under --invalid error): fail (the run stops, naming it) or skip (listed on stderr, the first ten and a count).' -rfka 'fail skip'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" max-bad-records' -l 'max-bad-records' -d 'With --bad-records skip, fail once more than N records were skipped.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" format' -l 'format' -d 'Output format: text (ids per line), jsonl ({"ids":[...]}), u32 (little-endian uint32 stream), npy (a numpy array of uint32), pieces (token texts) or megatron (PREFIX.bin and PREFIX.idx, a Megatron indexed dataset; -o names the prefix).' -rfka 'text jsonl u32 pieces megatron npy'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" eod' -l 'eod' -d 'Append this id after each document (for example 151643, <|endoftext|>).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" pack' -l 'pack' -d 'With --format u32 or npy: pack the documents (each with its --eod) into rows of N tokens, and write their boundaries beside the output (FILE.cu_seqlens.jsonl, a line per row).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" pack-mode' -l 'pack-mode' -d 'How --pack fills rows: concat (back to back, cut at row ends) or bfd (best-fit decreasing: whole documents, rows padded).' -rfka 'concat bfd'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" pad-id' -l 'pad-id' -d 'The id that pads packed rows (default: the --eod id).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" max-tokens' -l 'max-tokens' -d 'Limit documents to N tokens (with --truncate or --chunk; --eod counts).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" truncate' -l 'truncate' -d 'Cut each document to --max-tokens, report it on stderr and exit with status 3.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" chunk' -l 'chunk' -d 'Split each document into records of at most --max-tokens tokens, each with its document index.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" o output' -l 'output' -s 'o' -d 'Write to FILE instead of stdout (FILE.zst or FILE.gz is compressed); with --format megatron, the prefix of the two files.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" shard' -l 'shard' -d 'Encode only part K of N (0-based) of the inputs: their bytes split into N ranges at line boundaries (a compressed file, or a file that is one document, goes whole to one shard), so that N tasks cover every record once; `qwenkit merge` joins their outputs.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" skip-existing' -l 'skip-existing' -d 'Do nothing (status 0) if the output is already there: outputs appear only when complete, so a re-run resumes a job.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit encode" -ge 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit encode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" tokenizer' -l 'tokenizer' -d 'tokenizer.json, a compact .qtok, or a model directory (default: the embedded Qwen2 tokenizer).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" format' -l 'format' -d 'Input format: text, jsonl, u32, npy or megatron.' -rfka 'text jsonl u32 npy megatron'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" skip-special' -l 'skip-special' -d 'Leave out special tokens (<|endoftext|>, <|im_start|>, <|im_end|>).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" no-newline' -l 'no-newline' -d 'Write each document\'s text with no newline after it.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" stream' -l 'stream' -d 'Write text as ids arrive (flush after every read), never splitting a character.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" o output' -l 'output' -s 'o' -d 'Write to FILE instead of stdout (FILE.zst or FILE.gz is compressed).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit decode" -ge 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit decode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" tokenizer' -l 'tokenizer' -d 'tokenizer.json, a compact .qtok, or a model directory (default: the embedded Qwen2 tokenizer).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" lines' -l 'lines' -d 'Treat each line as a document (a trailing \\r is removed).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" jsonl' -l 'jsonl' -d 'Read JSONL and tokenize the string field FIELD of each record (a dotted path such as meta.text reaches into nested objects).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" parquet' -l 'parquet' -d 'Read parquet files and tokenize the string column COLUMN of each row (a null is a bad record).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" special' -l 'special' -d 'What to do with special-token text in the input: parse (into its id), text (tokenize as text) or reject (fail).' -rfka 'parse text reject'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" invalid' -l 'invalid' -d 'Invalid UTF-8 in the input: error (fail, naming the byte offset) or replace (U+FFFD, as Python\'s errors="replace").' -rfka 'error replace'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" threads' -l 'threads' -d 'Threads to encode with (default: all cores).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" bad-records' -l 'bad-records' -d 'A record that cannot be read (not a JSON object, no such field, a non-string or null one, not UTF-8 under --invalid error): fail (the run stops, naming it) or skip (listed on stderr, the first ten and a count).' -rfka 'fail skip'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" max-bad-records' -l 'max-bad-records' -d 'With --bad-records skip, fail once more than N records were skipped.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" json' -l 'json' -d 'Print one JSON document instead of a table.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit count" -ge 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit count" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit merge" o output' -l 'output' -s 'o' -d 'The merged output (a prefix for Megatron datasets; - for stdout otherwise).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit merge" -ge 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit merge" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit merge" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit tokenizer" -eq 1' -fa 'compile' -d 'Compile a tokenizer (tokenizer.json or a model directory) to qwenkit\'s compact form.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit tokenizer" -eq 1' -fa 'profile' -d 'Show where encoding a text file\'s time goes, stage by stage (one thread).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer compile" o output' -l 'output' -s 'o' -d 'Output file; a name ending in .zst is compressed.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer compile" level' -l 'level' -d 'zstd level for a .zst output (1-19).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer compile" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer compile" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer profile" tokenizer' -l 'tokenizer' -d 'tokenizer.json, a compact .qtok, or a model directory (default: the embedded Qwen2 tokenizer).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit tokenizer profile" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer profile" repeat' -l 'repeat' -d 'Passes per stage; the fastest counts.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer profile" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit tokenizer profile" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit inspect" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect" tensors' -l 'tensors' -d 'List every tensor: name, type, shape, bytes, offset.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect"' -l 'tensor' -d 'Only tensors whose name matches this glob (repeatable); implies --tensors unless --stats.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect" stats' -l 'stats' -d 'Per-tensor min, max, mean, std, NaN and Inf counts (reads all the data).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect" json' -l 'json' -d 'Print one JSON document instead of text.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect" full' -l 'full' -d 'Show long metadata arrays (tokens, merges) whole instead of their first items.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect" threads' -l 'threads' -d 'Threads for --stats (default: all cores).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit inspect" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit edit" -eq 1' -fa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'gguf\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit" o output' -l 'output' -s 'o' -d 'Write the edited file here (not the input itself).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'gguf\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set' -d 'Set an existing key, parsing VALUE as its type (integers range-checked, floats, true/false, strings).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set-str' -d 'Set KEY to a STRING.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set-u32' -d 'Set KEY to a UINT32.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set-i32' -d 'Set KEY to an INT32.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set-u64' -d 'Set KEY to a UINT64.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set-i64' -d 'Set KEY to an INT64.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set-f32' -d 'Set KEY to a FLOAT32.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'set-bool' -d 'Set KEY to a BOOL (true or false).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit"' -l 'delete' -d 'Remove KEY, which must exist.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit" chat-template' -l 'chat-template' -d 'Set tokenizer.chat_template to the contents of FILE (UTF-8, as it is; - for stdin).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit" dry-run' -l 'dry-run' -d 'Print the changes on stdout and write nothing.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit edit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit convert" -eq 1' -fa '(__qwenkit_complete_directories)'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit convert" o output' -s 'o' -l 'output' -d 'The GGUF file to write.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit convert" outtype' -l 'outtype' -d 'Type of the weight matrices: f32, f16, bf16, q8_0, or auto (the checkpoint\'s F16 or BF16).' -rfka 'f32 f16 bf16 q8_0 auto'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit convert" vocab-only' -l 'vocab-only' -d 'Write only the tokenizer and hyperparameters, no tensors.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit convert" q quiet' -s 'q' -l 'quiet' -d 'No summary on stderr.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit convert" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit convert" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit quantize" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit quantize" -eq 2' -fa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'gguf\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" threads' -l 'threads' -d 'Encoding threads (default: the CPU count).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" imatrix' -l 'imatrix' -d 'Importance matrix from `qwenkit imatrix` or llama-imatrix (GGUF or legacy .dat).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize"' -l 'include-weights' -d 'Use the importance matrix only for weights whose name contains this (repeatable).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize"' -l 'exclude-weights' -d 'Do not use the importance matrix for weights whose name contains this (repeatable).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize"' -l 'tensor-type' -d 'Type of the tensors whose name matches the regular expression (repeatable; the first match wins, the mix rules are skipped for them).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" tensor-type-file' -l 'tensor-type-file' -d '--tensor-type entries from a file, separated by spaces or newlines.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize"' -l 'override-kv' -d 'Set a metadata key in the output: TYPE is int (written as UINT32), float, bool or str (repeatable).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" prune-layers' -l 'prune-layers' -d 'Comma-separated layers to leave out (the others are renumbered).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" dry-run' -l 'dry-run' -d 'Show the types and sizes the output would have; write nothing.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" pure' -l 'pure' -d 'Give every weight matrix the type\'s default type (no mix).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" output-tensor-type' -l 'output-tensor-type' -d 'Type of output.weight (and of a tied token_embd.weight).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" token-embedding-type' -l 'token-embedding-type' -d 'Type of token_embd.weight.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" allow-requantize' -l 'allow-requantize' -d 'Dequantize tensors that are already quantized instead of refusing them.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" no-fallback' -l 'no-fallback' -d 'Refuse a tensor whose rows do not fit its type instead of giving it another type.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" q quiet' -s 'q' -l 'quiet' -d 'No summary on stderr.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit quantize" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit diff" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit diff" -eq 2' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit diff" tolerance' -l 'tolerance' -d 'The largest max abs error a tensor may have and pass (default 0: values must be equal).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit diff"' -l 'tensor' -d 'Only tensors whose name (either model\'s) matches this glob (repeatable).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit diff" json' -l 'json' -d 'Print one JSON document instead of text.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit diff" threads' -l 'threads' -d 'Threads to compare with (default: all cores).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit diff" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit run" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" p prompt' -s 'p' -l 'prompt' -d 'The prompt text.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" tokens' -l 'tokens' -d 'The prompt as token ids (comma- or space-separated), instead of --prompt.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" f file' -s 'f' -l 'file' -d 'The prompt text from FILE (UTF-8; - for stdin), instead of --prompt: for prompts longer than a command line holds.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" chat' -l 'chat' -d 'Render the prompt as a user turn through the model\'s chat template, then the assistant\'s turn.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" system' -l 'system' -d 'System message for --chat (default: none, or the template\'s own).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" chat-template' -l 'chat-template' -d 'Chat template file for --chat instead of the model\'s.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'jinja\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" n' -s 'n' -d 'Tokens to generate at most (capped at what the context leaves).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" temp' -l 'temp' -d 'Sampling temperature; 0 is greedy (default 0).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" top-k' -l 'top-k' -d 'Sample from the k most likely tokens only (0: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" top-p' -l 'top-p' -d 'Sample from the smallest set of tokens whose probability reaches p (1: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" min-p' -l 'min-p' -d 'Keep tokens at least p times as likely as the most likely one (0: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" repeat-penalty' -l 'repeat-penalty' -d 'Divide a repeated token\'s positive logit by x, multiply a negative one (1: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" repeat-last-n' -l 'repeat-last-n' -d 'Tokens the penalties look back over (default 64; 0: none, -1: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" presence-penalty' -l 'presence-penalty' -d 'Subtract x from a repeated token\'s logit (0: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" frequency-penalty' -l 'frequency-penalty' -d 'Subtract x times a token\'s count from its logit (0: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" s seed' -s 's' -l 'seed' -d 'Random seed for sampling.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run"' -l 'stop' -d 'Stop when the text contains STRING (repeatable; not printed).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" logits' -l 'logits' -d 'Write the logits of every position to FILE (safetensors: tokens I32 [n], logits F32 [n, vocab]).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'safetensors\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" tokenizer' -l 'tokenizer' -d 'Tokenizer to use instead of the model\'s own.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" t threads' -s 't' -l 'threads' -d 'Threads (default: the CPU count).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" no-mmap' -l 'no-mmap' -d 'Read the model into the process\'s memory (on 2 MB pages where the system allows) instead of mapping it: generation faster (3-10% here), start-up slower.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" c ctx-size' -s 'c' -l 'ctx-size' -d 'Positions the KV cache holds (default 0: the prompt and -n, up to the model\'s context).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" b batch-size' -s 'b' -l 'batch-size' -d 'Prompt tokens per forward step (default: 64); activation memory grows with it, not with the prompt.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" q quiet' -s 'q' -l 'quiet' -d 'No timing summary on stderr.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit verify" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit verify" -ge 2' -fa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'safetensors\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" threads' -l 'threads' -d 'Threads (default: the CPU count).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" no-mmap' -l 'no-mmap' -d 'Read the model into the process\'s memory (on 2 MB pages where the system allows) instead of mapping it: generation faster (3-10% here), start-up slower.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" json' -l 'json' -d 'Print one JSON document instead of text.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" type' -l 'type' -d 'Use the default thresholds of this weight type (Q4_K, Q4_K_M, F16, ...).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" max-abs-error' -l 'max-abs-error' -d 'Largest |golden − ours| over all logits.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" min-cosine' -l 'min-cosine' -d 'Smallest cosine similarity of all logits.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" min-top1' -l 'min-top1' -d 'Smallest fraction of positions whose top-1 ids agree.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" min-top5' -l 'min-top5' -d 'Smallest mean top-5 overlap (fraction).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" max-mean-kl' -l 'max-mean-kl' -d 'Largest mean KL(golden || ours) per position, in nats.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" max-kl' -l 'max-kl' -d 'Largest KL at any position, in nats.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" worst' -l 'worst' -d 'Worst positions to list.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit imatrix" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" f file' -s 'f' -l 'file' -d 'The calibration text.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix"' -l 'in-file' -d 'An earlier importance matrix (GGUF or dat) to add to (repeatable).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" o output' -s 'o' -l 'output' -d 'The importance matrix to write (default: imatrix.gguf).' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" c ctx-size' -s 'c' -l 'ctx-size' -d 'Tokens per chunk.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" chunks' -l 'chunks' -d 'Process at most N chunks (default: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" chunk from-chunk' -l 'chunk' -l 'from-chunk' -d 'Skip the first N chunks.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" process-output' -l 'process-output' -d 'Collect output.weight too.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" no-ppl' -l 'no-ppl' -d 'Do not compute the running perplexity (printed on stdout otherwise, as llama-imatrix prints it).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" output-format' -l 'output-format' -d 'gguf (default) or dat (llama-imatrix\'s legacy layout).' -rfka 'gguf dat'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" ofreq output-frequency' -l 'output-frequency' -o 'ofreq' -d 'Write the output every N chunks.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" save-frequency' -l 'save-frequency' -d 'Also save a copy OUTPUT.at_N every N chunks (0: never).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" show-statistics' -l 'show-statistics' -d 'Print the statistics of the one --in-file matrix instead (llama-imatrix\'s tables).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" json' -l 'json' -d 'With --show-statistics: the figures as JSON.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" tokenizer' -l 'tokenizer' -d 'Tokenizer to use instead of the model\'s own.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" t threads' -s 't' -l 'threads' -d 'Threads (default: the CPU count).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" no-mmap' -l 'no-mmap' -d 'Read the model into the process\'s memory (on 2 MB pages where the system allows) instead of mapping it: generation faster (3-10% here), start-up slower.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit imatrix" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit perplexity" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" f file' -s 'f' -l 'file' -d 'The text to score.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" c ctx-size' -s 'c' -l 'ctx-size' -d 'Tokens per chunk (default: 512; with --kl-divergence: the base file\'s).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" chunks' -l 'chunks' -d 'Score at most N chunks (default: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" b batch-size' -s 'b' -l 'batch-size' -d 'Tokens per forward step (default: 64): the speed, and the numbers in float rounding only.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" kl-divergence-base' -l 'kl-divergence-base' -d 'The base file of log-probabilities: written, or read with --kl-divergence.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" kl-divergence' -l 'kl-divergence' -d 'Compare MODEL with the --kl-divergence-base file.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" json' -l 'json' -d 'The figures as one JSON document instead of llama-perplexity\'s text.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" tokenizer' -l 'tokenizer' -d 'Tokenizer to use instead of the model\'s own.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" t threads' -s 't' -l 'threads' -d 'Threads (default: the CPU count).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" no-mmap' -l 'no-mmap' -d 'Read the model into the process\'s memory (on 2 MB pages where the system allows) instead of mapping it: generation faster (3-10% here), start-up slower.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit perplexity" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit template" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template" messages' -l 'messages' -d 'The conversation: a JSON list of messages, or an object with "messages" (and "tools").' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template" tools' -l 'tools' -d 'Tool definitions: a JSON list (OpenAI\'s function schema).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template" add-generation-prompt' -l 'add-generation-prompt' -d 'End with the assistant turn\'s opening (add_generation_prompt).'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template"' -l 'var' -d 'A template variable (repeatable); VALUE is read as JSON when it is JSON (true, 3, "x", {...}), else as text.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template" now' -l 'now' -d 'The local time strftime_now formats: YYYY-MM-DD[THH:MM[:SS]].' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template" chat-template' -l 'chat-template' -d 'Use this .jinja template instead of the model\'s (keeping its bos/eos tokens).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'jinja\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit template" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit chat" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" system' -l 'system' -d 'System message (default: none, or the template\'s own).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" chat-template' -l 'chat-template' -d 'Chat template file instead of the model\'s.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'jinja\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" n' -s 'n' -d 'Tokens per reply at most.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" c ctx-size' -s 'c' -l 'ctx-size' -d 'Positions the KV cache holds: the whole conversation (default: the model\'s context, at most 4096).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" t threads' -s 't' -l 'threads' -d 'Threads (default: the CPU count).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" no-mmap' -l 'no-mmap' -d 'Read the model into the process\'s memory (on 2 MB pages where the system allows) instead of mapping it: generation faster (3-10% here), start-up slower.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" temp' -l 'temp' -d 'Sampling temperature; 0 is greedy (default 0).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" top-k' -l 'top-k' -d 'Sample from the k most likely tokens only (0: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" top-p' -l 'top-p' -d 'Sample from the smallest set of tokens whose probability reaches p (1: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" min-p' -l 'min-p' -d 'Keep tokens at least p times as likely as the most likely one (0: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" repeat-penalty' -l 'repeat-penalty' -d 'Divide a repeated token\'s positive logit by x, multiply a negative one (1: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" repeat-last-n' -l 'repeat-last-n' -d 'Tokens the penalties look back over (default 64; 0: none, -1: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" presence-penalty' -l 'presence-penalty' -d 'Subtract x from a repeated token\'s logit (0: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" frequency-penalty' -l 'frequency-penalty' -d 'Subtract x times a token\'s count from its logit (0: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" s seed' -s 's' -l 'seed' -d 'Random seed for sampling.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat"' -l 'stop' -d 'End a reply when it contains STRING (repeatable; not printed).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" tokenizer' -l 'tokenizer' -d 'Tokenizer to use instead of the model\'s own.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" v verbose' -s 'v' -l 'verbose' -d 'After each reply, print on stderr the tokens reused from the cache, evaluated and generated, and the rate.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit chat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_positional "qwenkit serve" -eq 1' -F
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" host' -l 'host' -d 'Address to listen on (default: 127.0.0.1, this machine only).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" port' -l 'port' -d 'Port to listen on (0: any free port; default 8080).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" parallel' -l 'parallel' -d 'Sequences generated at once, each with its own KV cache (default 1).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" queue' -l 'queue' -d 'Requests that may wait for a slot before 503 (default 64).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" c ctx-size' -s 'c' -l 'ctx-size' -d 'Positions each slot\'s KV cache holds (default: the model\'s context, at most 4096).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" t threads' -s 't' -l 'threads' -d 'Threads of every forward step, a prompt\'s or the slots\' batched one (default: the CPU count).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" no-mmap' -l 'no-mmap' -d 'Read the model into the process\'s memory (on 2 MB pages where the system allows) instead of mapping it: generation faster (3-10% here), start-up slower.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" alias' -l 'alias' -d 'The model name clients see (default: the file or directory name).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" chat-template' -l 'chat-template' -d 'Chat template file instead of the model\'s.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'jinja\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" tokenizer' -l 'tokenizer' -d 'Tokenizer to use instead of the model\'s own.' -rF
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" temp' -l 'temp' -d 'Sampling temperature; 0 is greedy (default 0).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" top-k' -l 'top-k' -d 'Sample from the k most likely tokens only (0: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" top-p' -l 'top-p' -d 'Sample from the smallest set of tokens whose probability reaches p (1: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" min-p' -l 'min-p' -d 'Keep tokens at least p times as likely as the most likely one (0: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" repeat-penalty' -l 'repeat-penalty' -d 'Divide a repeated token\'s positive logit by x, multiply a negative one (1: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" repeat-last-n' -l 'repeat-last-n' -d 'Tokens the penalties look back over (default 64; 0: none, -1: all).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" presence-penalty' -l 'presence-penalty' -d 'Subtract x from a repeated token\'s logit (0: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" frequency-penalty' -l 'frequency-penalty' -d 'Subtract x times a token\'s count from its logit (0: off).' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" s seed' -s 's' -l 'seed' -d 'Random seed for sampling.' -rfka ''
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" version' -l 'version' -d 'Show the version.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit serve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qwenkit' -n '__qwenkit_should_offer_completions_for_flags_or_options "qwenkit help" version' -l 'version' -d 'Show the version.'
