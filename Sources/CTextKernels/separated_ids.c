// Decimal token ids between separators, a 64-byte window at a time (see include/text_kernels.h).
//
// A window is classified first: a mask of its digits and one of its separators. What ends the ids it can take is
// then found from the masks alone (the first byte that is neither, a separator at the start or right after another,
// eight digits in a row), so the loop over its ids does no checking: per id, the separator's position (tzcnt), the
// 8 bytes at the field's start, the digits moved to the top of the word and combined by three multiplications.
// Before, the Swift loop tested every id's digits after loading them (a longer chain per id).

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

/// Takes the ids of the window at `w` given its digit and separator masks; returns the offset of the first field not
/// taken, and sets `*stop` when the window ended in something other than an unfinished field.
static inline size_t window_ids(const uint8_t *w, uint64_t digits, uint64_t separators, uint32_t *ids, size_t *count,
                                int *stop) {
    uint64_t other = ~(digits | separators);
    uint64_t limit = other ? (other & (0 - other)) - 1 : ~0ull;  // the bytes before the first other one
    uint64_t seps = separators & limit;
    uint64_t run = digits & (digits >> 1);  // bit i: 8 digits from byte i on
    run &= run >> 2;
    run &= run >> 4;
    uint64_t problem = (seps & ((seps << 1) | 1)) | run;  // an empty field's separator, or a long field
    if (problem) seps &= (problem & (0 - problem)) - 1;
    *stop = (other | problem) != 0;
    size_t start = 0, k = *count;
    while (seps) {
        unsigned end = (unsigned)__builtin_ctzll(seps);
        seps &= seps - 1;
        ids[k++] = field_value(load64(w + start), end - (unsigned)start);
        start = end + 1;
    }
    *count = k;
    return start;
}

/// Bit i set where byte i of `word` has bit 7 set, in one byte.
static inline uint64_t gather_high_bits(uint64_t word) { return ((word >> 7) * 0x0102040810204080ull) >> 56; }

size_t qwenkit_separated_ids_portable(const uint8_t *p, size_t readable, uint8_t separator, uint32_t *ids,
                                      size_t capacity, size_t *count) {
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full, high = 0x8080808080808080ull;
    const uint64_t repeated = 0x0101010101010101ull * separator;
    size_t offset = 0;
    while (offset + 72 <= readable && *count + 32 <= capacity) {
        uint64_t digits = 0, separators = 0;
        for (int j = 0; j < 8; j++) {
            uint64_t word = load64(p + offset + 8 * j);
            // Per byte without carries between bytes: the low 7 bits plus a constant stays below 0x100.
            uint64_t low = word & low7;
            uint64_t at_least_0 = (low + 0x5050505050505050ull) & high;  // low >= 0x30
            uint64_t past_9 = (low + 0x4646464646464646ull) & high;      // low >= 0x3A
            uint64_t digit = at_least_0 & ~past_9 & ~word;
            uint64_t t = word ^ repeated;
            uint64_t zero = ~(((t & low7) + low7) | t | low7);
            digits |= gather_high_bits(digit) << (8 * j);
            separators |= gather_high_bits(zero) << (8 * j);
        }
        int stop;
        size_t start = window_ids(p + offset, digits, separators, ids, count, &stop);
        offset += start;
        if (stop || start == 0) break;
    }
    return offset;
}

#if defined(__x86_64__)
#define TARGET __attribute__((target("avx2,bmi,bmi2")))

TARGET size_t qwenkit_separated_ids_avx2(const uint8_t *p, size_t readable, uint8_t separator, uint32_t *ids,
                                         size_t capacity, size_t *count) {
    const __m256i zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9), sep = _mm256_set1_epi8((char)separator);
    size_t offset = 0;
    while (offset + 72 <= readable && *count + 32 <= capacity) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(p + offset));
        __m256i b = _mm256_loadu_si256((const __m256i *)(p + offset + 32));
        __m256i da = _mm256_sub_epi8(a, zero), db = _mm256_sub_epi8(b, zero);
        // A digit's byte minus '0' is 0...9, which min(x, 9) leaves unchanged.
        uint32_t digits_a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(da, nine), da));
        uint32_t digits_b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(db, nine), db));
        uint32_t seps_a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, sep));
        uint32_t seps_b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, sep));
        int stop;
        size_t start = window_ids(p + offset, (uint64_t)digits_b << 32 | digits_a, (uint64_t)seps_b << 32 | seps_a,
                                  ids, count, &stop);
        offset += start;
        if (stop || start == 0) break;
    }
    return offset;
}

int qwenkit_text_avx2_usable(void) {
    if (getenv("QWENKIT_NO_AVX2") != NULL) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
}
#else
size_t qwenkit_separated_ids_avx2(const uint8_t *p, size_t readable, uint8_t separator, uint32_t *ids,
                                  size_t capacity, size_t *count) {
    (void)p; (void)readable; (void)separator; (void)ids; (void)capacity; (void)count;
    abort();
}

int qwenkit_text_avx2_usable(void) { return 0; }
#endif

/// The path chosen on the first call (-1 before it).
static int avx2_chosen = -1;

size_t qwenkit_separated_ids(const uint8_t *p, size_t readable, uint8_t separator, uint32_t *ids, size_t capacity,
                             size_t *count) {
    int chosen = __atomic_load_n(&avx2_chosen, __ATOMIC_RELAXED);
    if (chosen < 0) {
        chosen = qwenkit_text_avx2_usable();
        __atomic_store_n(&avx2_chosen, chosen, __ATOMIC_RELAXED);
    }
    return chosen ? qwenkit_separated_ids_avx2(p, readable, separator, ids, capacity, count)
                  : qwenkit_separated_ids_portable(p, readable, separator, ids, capacity, count);
}
