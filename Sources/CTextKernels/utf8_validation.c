// UTF-8 validation 64 bytes at a time with AVX2 (see include/text_kernels.h), by the lookup method of Keiser and
// Lemire ("Validating UTF-8 in less than one instruction per byte", 2021), written here from its description:
// every error in well-formed UTF-8 shows in the pair (previous byte, this byte) by the two nibbles of the first and
// the high nibble of the second, except whether a continuation byte belongs (the third or fourth byte of a sequence
// must be one), which is known from the bytes two and three back. Three 16-entry tables give for each nibble the
// set of errors it can take part in (one bit per kind); a pair is wrong when all three agree on one bit.
// The Swift shift DFA (QwenKitIO/UTF8Validation.swift) validates the rest and finds exact offsets.

#include "text_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,bmi,bmi2")))

// The kinds of error, one bit each, as the tables below mark them.
enum {
    TOO_SHORT = 1 << 0,   // a lead byte followed by something other than a continuation byte
    TOO_LONG = 1 << 1,    // ASCII followed by a continuation byte
    OVERLONG_3 = 1 << 2,  // E0 followed by 80-9F
    TOO_LARGE = 1 << 3,   // F4 followed by 90-BF, or F5-FF followed by 90-BF
    SURROGATE = 1 << 4,   // ED followed by A0-BF
    OVERLONG_2 = 1 << 5,  // C0 or C1 followed by a continuation byte
    TOO_LARGE_1000 = 1 << 6,  // F5-FF followed by 80-8F
    OVERLONG_4 = 1 << 6,  // F0 followed by 80-8F (F0 has no TOO_LARGE_1000 bit to confuse it with)
    TWO_CONTS = 1 << 7,   // a continuation byte after a continuation byte: wrong unless it must be one (below)
};
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

/// The same 16 bytes in both halves (vpshufb looks up within each half).
TARGET static inline __m256i table16(int t0, int t1, int t2, int t3, int t4, int t5, int t6, int t7, int t8, int t9,
                                     int t10, int t11, int t12, int t13, int t14, int t15) {
    const char t[16] = {(char)t0, (char)t1, (char)t2, (char)t3, (char)t4, (char)t5, (char)t6, (char)t7,
                        (char)t8, (char)t9, (char)t10, (char)t11, (char)t12, (char)t13, (char)t14, (char)t15};
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t));
}

/// `input`'s bytes moved up by `n` (1-3), the last n bytes of `previous` below them.
#define PREVIOUS(input, previous, n) _mm256_alignr_epi8((input), _mm256_permute2x128_si256((previous), (input), 0x21), 16 - (n))

TARGET size_t qwenkit_utf8_valid_prefix_avx2(const uint8_t *p, size_t n) {
    const __m256i first_high = table16(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,  // 0-7: ASCII
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,                                      // 8-B: continuation
        TOO_SHORT | OVERLONG_2,                                                          // C
        TOO_SHORT,                                                                       // D
        TOO_SHORT | OVERLONG_3 | SURROGATE,                                              // E
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);                            // F
    const __m256i first_low = table16(
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,  // x0
        CARRY | OVERLONG_2,                            // x1
        CARRY, CARRY,                                  // x2, x3
        CARRY | TOO_LARGE,                             // x4
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,  // x5, x6
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,  // x7, x8
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,  // x9, xA
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,  // xB, xC
        CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,                          // xD
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000); // xE, xF
    const __m256i second_high = table16(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,  // 0-7
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,            // 8
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,                              // 9
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,                               // A
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,                               // B
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);                                             // C-F
    const __m256i low_nibble = _mm256_set1_epi8(0x0F);
    // A sequence still open at a block's end: its last byte >= C0, the one before >= E0, or the one before that >= F0.
    const __m256i open_limits = _mm256_setr_epi8(
        (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
        (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
        (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
        (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xEF, (char)0xDF, (char)0xBF);
    __m256i previous = _mm256_setzero_si256(), open = _mm256_setzero_si256();
    size_t b = 0;
    for (; b + 64 <= n; b += 64) {
        __m256i halves[2] = {_mm256_loadu_si256((const __m256i *)(p + b)), _mm256_loadu_si256((const __m256i *)(p + b + 32))};
        __m256i error = _mm256_setzero_si256();
        if (_mm256_movemask_epi8(_mm256_or_si256(halves[0], halves[1])) == 0) {
            error = open;  // ASCII: a sequence open at the previous block's end was cut short
            open = _mm256_setzero_si256();
            previous = halves[1];
        } else {
            for (int h = 0; h < 2; h++) {
                __m256i input = halves[h];
                __m256i prev1 = PREVIOUS(input, previous, 1);
                __m256i special = _mm256_and_si256(
                    _mm256_and_si256(_mm256_shuffle_epi8(first_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), low_nibble)),
                                     _mm256_shuffle_epi8(first_low, _mm256_and_si256(prev1, low_nibble))),
                    _mm256_shuffle_epi8(second_high, _mm256_and_si256(_mm256_srli_epi16(input, 4), low_nibble)));
                // A byte that must be a continuation (third or fourth of a sequence): 0x80 where so.
                __m256i third = _mm256_subs_epu8(PREVIOUS(input, previous, 2), _mm256_set1_epi8((char)(0xE0 - 0x80)));
                __m256i fourth = _mm256_subs_epu8(PREVIOUS(input, previous, 3), _mm256_set1_epi8((char)(0xF0 - 0x80)));
                __m256i must_continue = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
                error = _mm256_or_si256(error, _mm256_xor_si256(must_continue, special));
                previous = input;
            }
            open = _mm256_subs_epu8(halves[1], open_limits);
        }
        if (!_mm256_testz_si256(error, error)) break;
    }
    // Back to the start of the character that holds the byte before b, if one may go on past b.
    if (b == 0) return 0;
    size_t lead = b - 1;
    for (int i = 0; i < 3 && lead > 0 && (p[lead] & 0xC0) == 0x80; i++) lead--;
    return p[lead] >= 0xC0 ? lead : b;
}

size_t qwenkit_utf8_valid_prefix(const uint8_t *p, size_t n) {
    static int chosen = -1;
    int use = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (use < 0) {
        use = qwenkit_text_avx2_usable();
        __atomic_store_n(&chosen, use, __ATOMIC_RELAXED);
    }
    return use ? qwenkit_utf8_valid_prefix_avx2(p, n) : 0;
}
#else
#include <stdlib.h>

size_t qwenkit_utf8_valid_prefix_avx2(const uint8_t *p, size_t n) {
    (void)p; (void)n;
    abort();
}

size_t qwenkit_utf8_valid_prefix(const uint8_t *p, size_t n) {
    (void)p; (void)n;
    return 0;
}
#endif
