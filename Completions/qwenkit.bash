#!/bin/bash

__qwenkit_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__qwenkit_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__qwenkit_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__qwenkit_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_qwenkit() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __qwenkit_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    encode|decode|count|merge|tokenizer|inspect|edit|convert|quantize|diff|run|verify|imatrix|perplexity|template|chat|serve|help)
        # Offer subcommand argument completions
        "_qwenkit_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'encode decode count merge tokenizer inspect edit convert quantize diff run verify imatrix perplexity template chat serve help' -- "${cur}"))
        ;;
    esac
}

_qwenkit_encode() {
    repeating_flags=()
    non_repeating_flags=(--lines --truncate --chunk --skip-existing --version -h --help)
    repeating_options=()
    non_repeating_options=(--tokenizer --jsonl --parquet --special --invalid --threads --bad-records --max-bad-records --format --eod --pack --pack-mode --pad-id --max-tokens --output -o --shard)
    __qwenkit_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '--jsonl')
        return
        ;;
    '--parquet')
        return
        ;;
    '--special')
        __qwenkit_add_completions -W 'parse'$'\n''text'$'\n''reject'
        return
        ;;
    '--invalid')
        __qwenkit_add_completions -W 'error'$'\n''replace'
        return
        ;;
    '--threads')
        return
        ;;
    '--bad-records')
        __qwenkit_add_completions -W 'fail'$'\n''skip'
        return
        ;;
    '--max-bad-records')
        return
        ;;
    '--format')
        __qwenkit_add_completions -W 'text'$'\n''jsonl'$'\n''u32'$'\n''pieces'$'\n''megatron'$'\n''npy'
        return
        ;;
    '--eod')
        return
        ;;
    '--pack')
        return
        ;;
    '--pack-mode')
        __qwenkit_add_completions -W 'concat'$'\n''bfd'
        return
        ;;
    '--pad-id')
        return
        ;;
    '--max-tokens')
        return
        ;;
    '--output'|'-o')
        __qwenkit_add_completions -f
        return
        ;;
    '--shard')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_decode() {
    repeating_flags=()
    non_repeating_flags=(--skip-special --no-newline --stream --version -h --help)
    repeating_options=()
    non_repeating_options=(--tokenizer --format --output -o)
    __qwenkit_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '--format')
        __qwenkit_add_completions -W 'text'$'\n''jsonl'$'\n''u32'$'\n''npy'$'\n''megatron'
        return
        ;;
    '--output'|'-o')
        __qwenkit_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_count() {
    repeating_flags=()
    non_repeating_flags=(--lines --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--tokenizer --jsonl --parquet --special --invalid --threads --bad-records --max-bad-records)
    __qwenkit_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '--jsonl')
        return
        ;;
    '--parquet')
        return
        ;;
    '--special')
        __qwenkit_add_completions -W 'parse'$'\n''text'$'\n''reject'
        return
        ;;
    '--invalid')
        __qwenkit_add_completions -W 'error'$'\n''replace'
        return
        ;;
    '--threads')
        return
        ;;
    '--bad-records')
        __qwenkit_add_completions -W 'fail'$'\n''skip'
        return
        ;;
    '--max-bad-records')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_merge() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--output -o)
    __qwenkit_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--output'|'-o')
        __qwenkit_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_tokenizer() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __qwenkit_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    compile|profile)
        # Offer subcommand argument completions
        "_qwenkit_tokenizer_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'compile profile' -- "${cur}"))
        ;;
    esac
}

_qwenkit_tokenizer_compile() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--output -o --level)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--output'|'-o')
        return
        ;;
    '--level')
        return
        ;;
    esac
}

_qwenkit_tokenizer_profile() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--tokenizer --repeat)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '--repeat')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_inspect() {
    repeating_flags=()
    non_repeating_flags=(--tensors --stats --json --full --version -h --help)
    repeating_options=(--tensor)
    non_repeating_options=(--threads)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--tensor')
        return
        ;;
    '--threads')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_edit() {
    repeating_flags=()
    non_repeating_flags=(--dry-run --version -h --help)
    repeating_options=(--set --set-str --set-u32 --set-i32 --set-u64 --set-i64 --set-f32 --set-bool --delete)
    non_repeating_options=(--output -o --chat-template)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--output'|'-o')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(gguf)'
        return
        ;;
    '--set')
        return
        ;;
    '--set-str')
        return
        ;;
    '--set-u32')
        return
        ;;
    '--set-i32')
        return
        ;;
    '--set-u64')
        return
        ;;
    '--set-i64')
        return
        ;;
    '--set-f32')
        return
        ;;
    '--set-bool')
        return
        ;;
    '--delete')
        return
        ;;
    '--chat-template')
        __qwenkit_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -o plusdirs -fX '!*.@(gguf)'
        return
        ;;
    esac
}

_qwenkit_convert() {
    repeating_flags=()
    non_repeating_flags=(--vocab-only -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-o --output --outtype)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-o'|'--output')
        __qwenkit_add_completions -f
        return
        ;;
    '--outtype')
        __qwenkit_add_completions -W 'f32'$'\n''f16'$'\n''bf16'$'\n''q8_0'$'\n''auto'
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -d
        return
        ;;
    esac
}

_qwenkit_quantize() {
    repeating_flags=()
    non_repeating_flags=(--dry-run --pure --allow-requantize --no-fallback -q --quiet --version -h --help)
    repeating_options=(--include-weights --exclude-weights --tensor-type --override-kv)
    non_repeating_options=(--threads --imatrix --tensor-type-file --prune-layers --output-tensor-type --token-embedding-type)
    __qwenkit_offer_flags_options 4

    # Offer option value completions
    case "${prev}" in
    '--threads')
        return
        ;;
    '--imatrix')
        __qwenkit_add_completions -f
        return
        ;;
    '--include-weights')
        return
        ;;
    '--exclude-weights')
        return
        ;;
    '--tensor-type')
        return
        ;;
    '--tensor-type-file')
        __qwenkit_add_completions -f
        return
        ;;
    '--override-kv')
        return
        ;;
    '--prune-layers')
        return
        ;;
    '--output-tensor-type')
        return
        ;;
    '--token-embedding-type')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    2)
        __qwenkit_add_completions -o plusdirs -fX '!*.@(gguf)'
        return
        ;;
    esac
}

_qwenkit_diff() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--tensor)
    non_repeating_options=(--tolerance --threads)
    __qwenkit_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--tolerance')
        return
        ;;
    '--tensor')
        return
        ;;
    '--threads')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    2)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_run() {
    repeating_flags=()
    non_repeating_flags=(--chat --no-mmap -q --quiet --version -h --help)
    repeating_options=(--stop)
    non_repeating_options=(-p --prompt --tokens -f --file --system --chat-template -n --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --presence-penalty --frequency-penalty -s --seed --logits --tokenizer -t --threads -c --ctx-size -b --batch-size)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-p'|'--prompt')
        return
        ;;
    '--tokens')
        return
        ;;
    '-f'|'--file')
        __qwenkit_add_completions -f
        return
        ;;
    '--system')
        return
        ;;
    '--chat-template')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(jinja)'
        return
        ;;
    '-n')
        return
        ;;
    '--temp')
        return
        ;;
    '--top-k')
        return
        ;;
    '--top-p')
        return
        ;;
    '--min-p')
        return
        ;;
    '--repeat-penalty')
        return
        ;;
    '--repeat-last-n')
        return
        ;;
    '--presence-penalty')
        return
        ;;
    '--frequency-penalty')
        return
        ;;
    '-s'|'--seed')
        return
        ;;
    '--stop')
        return
        ;;
    '--logits')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(safetensors)'
        return
        ;;
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '-t'|'--threads')
        return
        ;;
    '-c'|'--ctx-size')
        return
        ;;
    '-b'|'--batch-size')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_verify() {
    repeating_flags=()
    non_repeating_flags=(--no-mmap --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--threads --type --max-abs-error --min-cosine --min-top1 --min-top5 --max-mean-kl --max-kl --worst)
    __qwenkit_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--threads')
        return
        ;;
    '--type')
        return
        ;;
    '--max-abs-error')
        return
        ;;
    '--min-cosine')
        return
        ;;
    '--min-top1')
        return
        ;;
    '--min-top5')
        return
        ;;
    '--max-mean-kl')
        return
        ;;
    '--max-kl')
        return
        ;;
    '--worst')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    *)
        __qwenkit_add_completions -o plusdirs -fX '!*.@(safetensors)'
        return
        ;;
    esac
}

_qwenkit_imatrix() {
    repeating_flags=()
    non_repeating_flags=(--process-output --no-ppl --show-statistics --json --no-mmap --version -h --help)
    repeating_options=(--in-file)
    non_repeating_options=(-f --file -o --output -c --ctx-size --chunks --chunk --from-chunk --output-format --output-frequency -ofreq --save-frequency --tokenizer -t --threads)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-f'|'--file')
        __qwenkit_add_completions -f
        return
        ;;
    '--in-file')
        __qwenkit_add_completions -f
        return
        ;;
    '-o'|'--output')
        __qwenkit_add_completions -f
        return
        ;;
    '-c'|'--ctx-size')
        return
        ;;
    '--chunks')
        return
        ;;
    '--chunk'|'--from-chunk')
        return
        ;;
    '--output-format')
        __qwenkit_add_completions -W 'gguf'$'\n''dat'
        return
        ;;
    '--output-frequency'|'-ofreq')
        return
        ;;
    '--save-frequency')
        return
        ;;
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '-t'|'--threads')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_perplexity() {
    repeating_flags=()
    non_repeating_flags=(--kl-divergence --json --no-mmap --version -h --help)
    repeating_options=()
    non_repeating_options=(-f --file -c --ctx-size --chunks -b --batch-size --kl-divergence-base --tokenizer -t --threads)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-f'|'--file')
        __qwenkit_add_completions -f
        return
        ;;
    '-c'|'--ctx-size')
        return
        ;;
    '--chunks')
        return
        ;;
    '-b'|'--batch-size')
        return
        ;;
    '--kl-divergence-base')
        __qwenkit_add_completions -f
        return
        ;;
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '-t'|'--threads')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_template() {
    repeating_flags=()
    non_repeating_flags=(--add-generation-prompt --version -h --help)
    repeating_options=(--var)
    non_repeating_options=(--messages --tools --now --chat-template)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--messages')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(json)'
        return
        ;;
    '--tools')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(json)'
        return
        ;;
    '--var')
        return
        ;;
    '--now')
        return
        ;;
    '--chat-template')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(jinja)'
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_chat() {
    repeating_flags=()
    non_repeating_flags=(--no-mmap -v --verbose --version -h --help)
    repeating_options=(--stop)
    non_repeating_options=(--system --chat-template -n -c --ctx-size -t --threads --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --presence-penalty --frequency-penalty -s --seed --tokenizer)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--system')
        return
        ;;
    '--chat-template')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(jinja)'
        return
        ;;
    '-n')
        return
        ;;
    '-c'|'--ctx-size')
        return
        ;;
    '-t'|'--threads')
        return
        ;;
    '--temp')
        return
        ;;
    '--top-k')
        return
        ;;
    '--top-p')
        return
        ;;
    '--min-p')
        return
        ;;
    '--repeat-penalty')
        return
        ;;
    '--repeat-last-n')
        return
        ;;
    '--presence-penalty')
        return
        ;;
    '--frequency-penalty')
        return
        ;;
    '-s'|'--seed')
        return
        ;;
    '--stop')
        return
        ;;
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_serve() {
    repeating_flags=()
    non_repeating_flags=(--no-mmap --version -h --help)
    repeating_options=()
    non_repeating_options=(--host --port --parallel --queue -c --ctx-size -t --threads --alias --chat-template --tokenizer --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --presence-penalty --frequency-penalty -s --seed)
    __qwenkit_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--host')
        return
        ;;
    '--port')
        return
        ;;
    '--parallel')
        return
        ;;
    '--queue')
        return
        ;;
    '-c'|'--ctx-size')
        return
        ;;
    '-t'|'--threads')
        return
        ;;
    '--alias')
        return
        ;;
    '--chat-template')
        __qwenkit_add_completions -o plusdirs -fX '!*.@(jinja)'
        return
        ;;
    '--tokenizer')
        __qwenkit_add_completions -f
        return
        ;;
    '--temp')
        return
        ;;
    '--top-k')
        return
        ;;
    '--top-p')
        return
        ;;
    '--min-p')
        return
        ;;
    '--repeat-penalty')
        return
        ;;
    '--repeat-last-n')
        return
        ;;
    '--presence-penalty')
        return
        ;;
    '--frequency-penalty')
        return
        ;;
    '-s'|'--seed')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qwenkit_add_completions -f
        return
        ;;
    esac
}

_qwenkit_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __qwenkit_offer_flags_options -1
}

complete -o filenames -F _qwenkit qwenkit
