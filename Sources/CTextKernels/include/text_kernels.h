#ifndef QWENKIT_TEXT_KERNELS_H
#define QWENKIT_TEXT_KERNELS_H

// The tokenizer's byte kernels that need instructions Swift cannot name: building a 64-bit mask of the bytes of a
// class takes one vpmovmskb per 32 bytes with AVX2, and a dozen multiplies and shifts per 8 bytes without. Release
// builds target haswell, but the AVX2 path is still chosen at run time (a portable build runs anywhere), and the
// portable path stays and is tested against it.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU runs the AVX2 kernels (AVX2 and BMI2), else 0. With environment variable QWENKIT_NO_AVX2 set
/// (any value) this returns 0, so that the portable path can be run and measured on any machine.
int qwenkit_text_avx2_usable(void);

/// Where `qwenkit_separated_ids` puts ids, and document ends when newlines end documents.
typedef struct {
    uint32_t *ids;
    size_t capacity;
    size_t count;  // ids in `ids` (advanced by the call)
    /// NULL: a newline is a byte like any other (it ends the ids). Otherwise a newline ends a field as the
    /// separator does, and ends a document: `ends[end_count++]` = the number of ids before it (`count` then).
    int32_t *ends;
    size_t end_capacity;
    size_t end_count;
    /// With `ends`: 0, a newline ends a line (text); 1, the break between JSONL records as encode writes them,
    /// `]}\n{"ids":[`, does (its `]` ends the last id, the next id follows its `[`) and a newline is any other byte.
    int jsonl;
} qwenkit_id_output;

/// Token ids written in decimal, each field 1-7 ASCII digits followed by `separator` (or a newline, see
/// `qwenkit_id_output.ends`), from `p` (the first byte of a field) on, 64 bytes at a time while a whole window and the
/// 8 bytes after it are readable (window start + 72 <= `readable`; + 80 with JSONL record breaks, whose check reads
/// past the window) and 32 more ids (and ends) fit. Stops at the first field that is not 1-7 digits ended by a
/// separator (an empty field or an empty line, 8 or more digits, any other byte, or a field that goes on past the
/// window where that is the only field). Returns the offset of the first field not taken (0 if none was; after a
/// JSONL record break, the offset after its `[`); the caller parses what follows byte by byte. The AVX-512 path may
/// write values past the last id it counts, within the 32 places it checked.
size_t qwenkit_separated_ids(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out);

/// The same, each path by name (for the tests; `_avx2` only when qwenkit_text_avx2_usable() is 1, `_avx512` only when
/// qwenkit_text_avx512_usable() is 1). The call above takes the widest this CPU has.
size_t qwenkit_separated_ids_portable(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out);
size_t qwenkit_separated_ids_avx2(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out);
size_t qwenkit_separated_ids_avx512(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out);

/// 1 when this CPU runs the AVX-512 id kernel (AVX-512 F, BW, VL, VBMI and VBMI2, and AVX2), else 0; 0 with
/// QWENKIT_NO_AVX512 set (as for the runtime's kernels) or QWENKIT_NO_AVX2.
int qwenkit_text_avx512_usable(void);

/// A decoding table as TextDecoder builds it (Sources/QwenTokenizer/Decoding/TextDecoder.swift, DecodingTable, where the
/// layout and the flags are defined).
typedef struct {
    const uint8_t *slots;     // 16 bytes per id: the token's bytes (up to 14), its length at 14, its flags at 15
    const uint64_t *entries;  // per id: offset (bits 0-31) and length (bits 32-55) of its bytes in `bytes`
    const uint8_t *bytes;
    uint32_t count;           // ids 0 ..< count have slots
    uint8_t slow;             // flag bits: the caller handles the id (no token, skipped special token, unclassified)
    uint8_t long_token;       // flag bits: the token's bytes are at its entry, not in its slot
} qwenkit_token_table;

/// TextDecoder's copy loop: the tokens of ids[*k ..< end] to `out` + *written, with a newline before ids[j] for each j
/// in newlines[*e ..< newline_end] (ascending, at most `end`; those equal to `end` are written after the last id),
/// stopping before an id the table marks slow or has no slot for. Advances *k, *e and *written, and ANDs the copied
/// tokens' flag bytes into *flags. The caller keeps room for the tokens and 16 bytes after the last one's start
/// (a slot is copied whole). The slot of the id 16 ahead is prefetched.
void qwenkit_copy_tokens(const uint32_t *ids, size_t *k, size_t end, const int32_t *newlines, size_t *e, size_t newline_end,
                         const qwenkit_token_table *table, uint8_t *out, size_t *written, uint8_t *flags);

/// How many bytes at the start of `p` (n bytes) are known to be well-formed UTF-8, checked 64 bytes at a time with
/// AVX2: the returned offset is at the start of a character (or n), every byte before it is part of well-formed
/// sequences, and the caller checks the rest (the tail under 64 bytes, or from just before the first block with an
/// error, where it finds the exact offset). 0 when AVX2 is not used. The checks are those of Unicode Table 3-7
/// (overlongs, surrogates, above U+10FFFF, truncated sequences, stray continuation bytes).
size_t qwenkit_utf8_valid_prefix(const uint8_t *p, size_t n);
size_t qwenkit_utf8_valid_prefix_avx2(const uint8_t *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
