// Decimal token ids between separators, a 64-byte window at a time (see include/text_kernels.h).
//
// A window is classified first: masks of its digits, separators and newlines. What it holds is then planned from the
// masks alone (plan_window): where its ids stop (the first byte that is none of those, an end with no digit before
// it, eight digits in a row), which field ends also end a document (newlines in text; in JSONL the break encode writes
// between records, ]}\n{"ids":[, checked byte for byte), so taking the ids does no checking. Three ways to take them,
// chosen at run time and tested against each other: portable and AVX2, one id at a time (the separator's position by
// tzcnt, the 8 bytes at the field's start, the digits moved to the top of the word and combined by three
// multiplications); AVX-512 with VBMI/VBMI2, eight at a time (window_values_avx512). The Swift loop before tested
// every id's digits after loading them; per id this is 2.8-3.8 ns (scalar) and 1.5-2.0 ns (AVX-512) here.

#include "text_kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint64_t load64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;  // little-endian (x86, arm64): byte 0 lowest
}

/// The value of the field of `length` digits (1-7) at the start of `word` (its first byte lowest): the digits move
/// to the top of the word, then pairs, quads and halves are combined (the first digit is the most significant).
static inline uint32_t field_value(uint64_t word, unsigned length) {
    uint64_t x = (word & 0x0F0F0F0F0F0F0F0Full) << (64 - 8 * length);
    x = (x * 2561) >> 8;
    x = ((x & 0x00FF00FF00FF00FFull) * 6553601) >> 16;
    x = ((x & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32;
    return (uint32_t)x;
}

/// The digits, separators and newlines of a 64-byte window, one bit per byte (newlines only when asked for).
typedef struct {
    uint64_t digits, separators, newlines;
} window_masks;

/// The line ends encode writes between JSONL records, `]}\n{"ids":[`, as two words: the 8 bytes from the `]` and the 4
/// from the `s` (little-endian).
#define JSONL_BREAK_HEAD 0x736469227B0A7D5Dull  /* ] } \n { " i d s */
#define JSONL_BREAK_TAIL 0x5B3A2273u            /* s " : [ */

/// How the windows end documents: not at all, at newlines (text), or at JSONL record breaks.
enum { NO_LINES = 0, TEXT_LINES = 1, JSONL_LINES = 2 };

/// What a window holds: the ends of the fields to take (separators, and line ends in a lines mode), which of them
/// end a document, and whether the ids stop in this window.
typedef struct {
    uint64_t fields, breaks;
    int stop;
} window_plan;

/// The fields a window's ids come from: up to the first byte that is neither a digit, a separator nor (in a lines
/// mode) part of a line end, and before the first empty or long field. With TEXT_LINES a newline ends a field as a
/// separator does and ends a document; with JSONL_LINES the `]` of a record break does, and the next field starts
/// after the break's `[`.
__attribute__((always_inline)) static inline window_plan plan_window(const uint8_t *w, window_masks m, int lines) {
    uint64_t breaks = 0, filler = 0;
    if (lines == TEXT_LINES) {
        breaks = m.newlines;
    } else if (lines == JSONL_LINES) {
        // A newline at q is a record break when ]}\n{"ids":[ spans q - 2 ... q + 8 (a window starts at a digit, so
        // q >= 2 when its ']' is inside; a ']' in the last two bytes has its newline just past the window, at 64 or 65,
        // and in JSONL mode 16 bytes after the window are readable).
        unsigned past = w[64] == '\n' ? 64 : w[65] == '\n' ? 65 : 0;
        uint64_t newlines = m.newlines & ~3ull;
        for (;;) {
            unsigned q;
            if (newlines) {
                q = (unsigned)__builtin_ctzll(newlines);
                newlines &= newlines - 1;
            } else if (past) {
                q = past;
                past = 0;
            } else {
                break;
            }
            uint32_t tail;
            memcpy(&tail, w + q + 5, 4);
            if (load64(w + q - 2) == JSONL_BREAK_HEAD && tail == JSONL_BREAK_TAIL) {
                breaks |= 1ull << (q - 2);
                filler |= q < 65 ? 0x3FFull << (q - 1) : 0;  // }\n{"ids":[, bits past the window drop out
            }
        }
    }
    uint64_t ends = m.separators | breaks;
    uint64_t other = ~(m.digits | ends | filler);
    uint64_t limit = other ? (other & (0 - other)) - 1 : ~0ull;  // the bytes before the first other one
    uint64_t fields = ends & limit;
    uint64_t run = m.digits & (m.digits >> 1);  // bit i: 8 digits from byte i on
    run &= run >> 2;
    run &= run >> 4;
    uint64_t problem = (fields & ~(m.digits << 1)) | run;  // an empty field's end (no digit before it), or a long field
    if (problem) fields &= (problem & (0 - problem)) - 1;
    window_plan plan = {fields, breaks & fields, (other | problem) != 0};
    return plan;
}

/// Each document a window's fields end: the number of ids up to and including the one its break ends (a loop per
/// line, not work per id). Call before the window's ids are counted in `out->count`.
__attribute__((always_inline)) static inline void record_ends(window_plan plan, qwenkit_id_output *out) {
    uint64_t taken = plan.breaks;
    const size_t first = out->count;
    size_t e = out->end_count;
    // The first two without a branch (written whether or not they are there; room was checked), so that the number
    // of lines in a window is not a mispredicted loop exit.
    for (int j = 0; j < 2; j++) {
        unsigned at = (unsigned)__builtin_ctzll(taken | (1ull << 63));
        out->ends[e] = (int32_t)(first + (size_t)__builtin_popcountll(plan.fields & ((2ull << at) - 1)));
        e += taken != 0;
        taken &= taken - 1;
    }
    while (taken) {
        unsigned at = (unsigned)__builtin_ctzll(taken);
        taken &= taken - 1;
        out->ends[e++] = (int32_t)(first + (size_t)__builtin_popcountll(plan.fields & ((2ull << at) - 1)));
    }
    out->end_count = e;
}

/// Takes the ids of the window at `w` given its masks, one at a time; returns the offset of the first field not
/// taken, and sets `*stop` when the window ended in something other than an unfinished field.
__attribute__((always_inline)) static inline size_t window_ids(const uint8_t *w, window_masks m, qwenkit_id_output *out,
                                                               int *stop, int lines) {
    window_plan plan = plan_window(w, m, lines);
    *stop = plan.stop;
    if (lines) record_ends(plan, out);
    uint64_t fields = plan.fields;
    size_t start = 0, k = out->count;
    uint32_t *ids = out->ids;
    while (fields) {
        unsigned end = (unsigned)__builtin_ctzll(fields);
        fields &= fields - 1;
        ids[k++] = field_value(load64(w + start), end - (unsigned)start);
        start = end + 1;
        if (lines == JSONL_LINES) start += ((plan.breaks >> end) & 1) * 10;
    }
    out->count = k;
    return start;
}

/// The windows from `p` on (see the header), given the function that classifies a window.
__attribute__((always_inline)) static inline size_t separated_ids(const uint8_t *p, size_t readable, uint8_t separator,
                                                                qwenkit_id_output *out, int lines,
                                                                window_masks (*classify)(const uint8_t *, uint8_t, int)) {
    size_t offset = 0;
    const size_t window = lines == JSONL_LINES ? 80 : 72;  // the window and what its loads may read after it
    while (offset + window <= readable && out->count + 32 <= out->capacity
           && (!lines || out->end_count + 32 <= out->end_capacity)) {
        int stop;
        size_t start = window_ids(p + offset, classify(p + offset, separator, lines), out, &stop, lines);
        offset += start;
        if (stop || start == 0) break;
    }
    return offset;
}

/// Bit i set where byte i of `word` has bit 7 set, in one byte.
static inline uint64_t gather_high_bits(uint64_t word) { return ((word >> 7) * 0x0102040810204080ull) >> 56; }

/// Bit 7 of each byte of `word` set where the byte equals the byte repeated in `repeated` (no carries between bytes).
static inline uint64_t equal_bytes(uint64_t word, uint64_t repeated) {
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
    uint64_t t = word ^ repeated;
    return ~(((t & low7) + low7) | t | low7);
}

__attribute__((always_inline)) static inline window_masks classify_portable(const uint8_t *w, uint8_t separator, int lines) {
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full, high = 0x8080808080808080ull;
    window_masks m = {0, 0, 0};
    for (int j = 0; j < 8; j++) {
        uint64_t word = load64(w + 8 * j);
        // Per byte without carries between bytes: the low 7 bits plus a constant stays below 0x100.
        uint64_t low = word & low7;
        uint64_t at_least_0 = (low + 0x5050505050505050ull) & high;  // low >= 0x30
        uint64_t past_9 = (low + 0x4646464646464646ull) & high;      // low >= 0x3A
        m.digits |= gather_high_bits(at_least_0 & ~past_9 & ~word) << (8 * j);
        m.separators |= gather_high_bits(equal_bytes(word, 0x0101010101010101ull * separator)) << (8 * j);
        if (lines) m.newlines |= gather_high_bits(equal_bytes(word, 0x0A0A0A0A0A0A0A0Aull)) << (8 * j);
    }
    return m;
}

size_t qwenkit_separated_ids_portable(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out) {
    if (!out->ends) return separated_ids(p, readable, separator, out, NO_LINES, classify_portable);
    return out->jsonl ? separated_ids(p, readable, separator, out, JSONL_LINES, classify_portable)
                      : separated_ids(p, readable, separator, out, TEXT_LINES, classify_portable);
}

#if defined(__x86_64__)
#define TARGET __attribute__((target("avx2,bmi,bmi2,popcnt")))

/// One 64-bit mask of the bytes equal to `byte` in the two halves.
TARGET static inline uint64_t equal_mask(__m256i a, __m256i b, __m256i byte) {
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, byte)) << 32
        | (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, byte));
}

TARGET __attribute__((always_inline)) static inline window_masks classify_avx2(const uint8_t *w, uint8_t separator, int lines) {
    const __m256i zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9);
    __m256i a = _mm256_loadu_si256((const __m256i *)w);
    __m256i b = _mm256_loadu_si256((const __m256i *)(w + 32));
    __m256i da = _mm256_sub_epi8(a, zero), db = _mm256_sub_epi8(b, zero);
    window_masks m;
    // A digit's byte minus '0' is 0...9, which min(x, 9) leaves unchanged.
    m.digits = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(db, nine), db)) << 32
        | (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(da, nine), da));
    m.separators = equal_mask(a, b, _mm256_set1_epi8((char)separator));
    m.newlines = lines ? equal_mask(a, b, _mm256_set1_epi8('\n')) : 0;
    return m;
}

TARGET size_t qwenkit_separated_ids_avx2(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out) {
    if (!out->ends) return separated_ids(p, readable, separator, out, NO_LINES, classify_avx2);
    return out->jsonl ? separated_ids(p, readable, separator, out, JSONL_LINES, classify_avx2)
                      : separated_ids(p, readable, separator, out, TEXT_LINES, classify_avx2);
}

#define TARGET512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt")))

/// Bytes 0, 1, ..., 63.
static const uint8_t iota64[64] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

/// The values of a window's fields eight at a time: the fields' ends are packed by vpcompressb, each field's bytes
/// gathered by vpermb into a 64-bit lane (its digits at the top, the bytes before its start zeroed), and pairs,
/// quads and halves combined by vpmaddubsw, vpmaddwd and vpmuludq. Writes up to 7 values past the fields' (room
/// for 32 was checked). Returns the offset of the first field not taken.
TARGET512 static inline size_t window_values_avx512(__m512i v, window_plan plan, qwenkit_id_output *out, int lines) {
    uint64_t fields = plan.fields;
    if (!fields) return 0;
    const unsigned count = (unsigned)__builtin_popcountll(fields);
    const __m512i iota = _mm512_loadu_si512((const void *)iota64);
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i ends = _mm512_maskz_compress_epi8(fields, iota);  // byte j: where field j ends
    __m512i after = _mm512_add_epi8(ends, ones);
    if (lines == JSONL_LINES) after = _mm512_add_epi8(after, _mm512_maskz_compress_epi8(fields, _mm512_maskz_mov_epi8(plan.breaks, _mm512_set1_epi8(10))));
    // Byte j: where field j starts (field 0 at the window's start).
    __m512i starts = _mm512_maskz_permutexvar_epi8(~1ull, _mm512_sub_epi8(iota, ones), after);
    __m512i lengths = _mm512_sub_epi8(ends, starts);
    const __m512i lane = _mm512_and_si512(iota, _mm512_set1_epi8(7));  // byte b of each 64-bit lane: b
    const __m512i eight = _mm512_set1_epi8(8), nibble = _mm512_set1_epi8(0x0F);
    const __m512i tens = _mm512_set1_epi16(0x010A), hundreds = _mm512_set1_epi32(0x00010064);
    const __m512i ten_thousand = _mm512_set1_epi64(10000);
    __m512i which = _mm512_srli_epi16(_mm512_and_si512(iota, _mm512_set1_epi8(0x38)), 3);  // byte 8j + b: j
    uint32_t *ids = out->ids + out->count;
    for (unsigned g = 0; g < count; g += 8) {
        __m512i end = _mm512_permutexvar_epi8(which, ends);
        __m512i length = _mm512_permutexvar_epi8(which, lengths);
        __mmask64 digit = _mm512_cmpge_epu8_mask(_mm512_add_epi8(lane, length), eight);  // b >= 8 - length
        __m512i x = _mm512_maskz_permutexvar_epi8(digit, _mm512_sub_epi8(_mm512_add_epi8(end, lane), eight), v);
        x = _mm512_maddubs_epi16(_mm512_and_si512(x, nibble), tens);
        x = _mm512_madd_epi16(x, hundreds);
        x = _mm512_add_epi64(_mm512_mul_epu32(x, ten_thousand), _mm512_srli_epi64(x, 32));
        _mm256_storeu_si256((__m256i *)(ids + g), _mm512_cvtepi64_epi32(x));
        which = _mm512_add_epi8(which, eight);
    }
    out->count += count;
    unsigned last = 63 - (unsigned)__builtin_clzll(fields);
    return last + 1 + (lines == JSONL_LINES && ((plan.breaks >> last) & 1) ? 10 : 0);
}

TARGET512 __attribute__((always_inline)) static inline size_t separated_ids_avx512(const uint8_t *p, size_t readable,
                                                                                 uint8_t separator, qwenkit_id_output *out,
                                                                                 int lines) {
    const __m512i zero = _mm512_set1_epi8('0'), nine = _mm512_set1_epi8(9), sep = _mm512_set1_epi8((char)separator);
    const __m512i newline = _mm512_set1_epi8('\n');
    size_t offset = 0;
    const size_t window = lines == JSONL_LINES ? 80 : 72;
    while (offset + window <= readable && out->count + 32 <= out->capacity
           && (!lines || out->end_count + 32 <= out->end_capacity)) {
        __m512i v = _mm512_loadu_si512((const void *)(p + offset));
        window_masks m;
        m.digits = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, zero), nine);
        m.separators = _mm512_cmpeq_epi8_mask(v, sep);
        m.newlines = lines ? _mm512_cmpeq_epi8_mask(v, newline) : 0;
        window_plan plan = plan_window(p + offset, m, lines);
        if (lines) record_ends(plan, out);
        size_t start = window_values_avx512(v, plan, out, lines);
        offset += start;
        if (plan.stop || start == 0) break;
    }
    return offset;
}

TARGET512 size_t qwenkit_separated_ids_avx512(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out) {
    if (!out->ends) return separated_ids_avx512(p, readable, separator, out, NO_LINES);
    return out->jsonl ? separated_ids_avx512(p, readable, separator, out, JSONL_LINES)
                      : separated_ids_avx512(p, readable, separator, out, TEXT_LINES);
}

int qwenkit_text_avx512_usable(void) {
    if (getenv("QWENKIT_NO_AVX512") != NULL) return 0;
    __builtin_cpu_init();
    return qwenkit_text_avx2_usable() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2");
}

int qwenkit_text_avx2_usable(void) {
    if (getenv("QWENKIT_NO_AVX2") != NULL) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
}
#else
size_t qwenkit_separated_ids_avx2(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out) {
    (void)p; (void)readable; (void)separator; (void)out;
    abort();
}

size_t qwenkit_separated_ids_avx512(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out) {
    (void)p; (void)readable; (void)separator; (void)out;
    abort();
}

int qwenkit_text_avx2_usable(void) { return 0; }
int qwenkit_text_avx512_usable(void) { return 0; }
#endif

/// The path chosen on the first call: 2 AVX-512, 1 AVX2, 0 portable (-1 before it).
static int path_chosen = -1;

size_t qwenkit_separated_ids(const uint8_t *p, size_t readable, uint8_t separator, qwenkit_id_output *out) {
    int chosen = __atomic_load_n(&path_chosen, __ATOMIC_RELAXED);
    if (chosen < 0) {
        chosen = qwenkit_text_avx512_usable() ? 2 : qwenkit_text_avx2_usable();
        __atomic_store_n(&path_chosen, chosen, __ATOMIC_RELAXED);
    }
    switch (chosen) {
    case 2: return qwenkit_separated_ids_avx512(p, readable, separator, out);
    case 1: return qwenkit_separated_ids_avx2(p, readable, separator, out);
    default: return qwenkit_separated_ids_portable(p, readable, separator, out);
    }
}
