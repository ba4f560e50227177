// AVX2 dot products of stored weight rows with float32 activations, for generation on CPUs without AVX-512 (AMD before
// Zen 4, most desktop Intel). The portable Swift kernels (Sources/Qwen2Runtime/Kernels/RowKernels.swift) rebuild each
// value as a float and multiply it, eight lanes at a time; for the 4- and 6-bit types that is several conversions and
// shuffles per value, and on an AMD EPYC (Zen 3, 2026-12-08) Q4_K generation read 4.2 GB/s of weights on one thread
// against a 15 GB/s read probe (llama.cpp 9). These kernels do less per value:
//
// - Values that index a table (IQ4_NL, IQ4_XS) or are assembled from bit fields (Q5_0, Q6_K) are built as bytes, 32 per
//   register (vpshufb of a 16-byte table; Q6_K's nibbles and high bits merged by masks), then each group of four bytes
//   goes to the top bytes of four 32-bit lanes with zeros below (one in-lane vpshufb): as int32 that is value · 2^24,
//   converted exactly. A 128-bit lane holds 16 consecutive values, so one such shuffle gives values 4c..4c+3 and
//   16+4c..16+4c+3 of a 32-value group: the activations are read in that order, permuted once per call for every row
//   (`permute32`), and the 2^24 is taken off each row's sum at the end (a power of two: the products and sums round
//   as without it). Per 8 values a shuffle, a conversion and a fused product.
// - Q4_K's nibbles (0-15, with a scale and a minimum per 32) widen from memory (vpmovzxbd), one widening per 16
//   values; Σ q·x per 32 values is multiplied by d·scale, and dmin·min times the activations' sum per 32, computed
//   once per call for every row, is subtracted per super-block.
//
// Float32 throughout; each row's sum differs from multiplying the dequantized weights into the activations by float
// rounding only (RuntimeKernelTests checks them against float64). Block scales are read from a table of every f16's
// float, as broadcast loads. See include/runtime_kernels.h.

#include "runtime_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))

/// How far ahead of the bytes being multiplied the loops prefetch.
#define AHEAD 2048

/// Columns prepared at a time (the permuted activations or their sums per 32): a multiple of 256, 32 KB on the stack.
#define CHUNK 8192

/// The float value of every f16 bit pattern, filled by qwenkit_avx2_usable() before any kernel runs.
static float half_floats[65536];

TARGET static void fill_half_floats(void) {
    for (int i = 0; i < 65536; i += 8) {
        __m256i h = _mm256_add_epi32(_mm256_set1_epi32(i), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m128i h16 = _mm_packus_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        _mm256_storeu_ps(half_floats + i, _mm256_cvtph_ps(h16));
    }
}

int qwenkit_avx2_usable(void) {
    __builtin_cpu_init();
    int usable = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (usable) fill_half_floats();
    return usable;
}

static inline const float *half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return half_floats + h;
}

TARGET static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// x's `n` values in the order the byte-spreading kernels read them: per 32, for c < 4, values 4c..4c+3 then
/// 16+4c..16+4c+3.
TARGET static inline void permute32(const float *x, float *out, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i + 32 <= n; i += 32) {
        for (int c = 0; c < 4; c++) {
            _mm256_storeu_ps(out + i + 8 * c, _mm256_set_m128(_mm_loadu_ps(x + i + 16 + 4 * c), _mm_loadu_ps(x + i + 4 * c)));
        }
    }
}

/// The sum of each 32 of x's `n` values.
TARGET static inline void sums32(const float *x, float *out, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i + 32 <= n; i += 32) {
        __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(x + i + 8)),
                                 _mm256_add_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(x + i + 24)));
        out[i / 32] = hsum8(s);
    }
}

/// In each 128-bit lane, byte 4c + p to the top byte of 32-bit lane p, zeros below.
typedef struct { __m256i m[4]; } spreads;

TARGET static inline spreads make_spreads(void) {
    spreads s;
    for (int c = 0; c < 4; c++) {
        int32_t m[4];
        for (int p = 0; p < 4; p++) m[p] = (int32_t)(0x808080u | ((uint32_t)(4 * c + p) << 24));
        s.m[c] = _mm256_setr_epi32(m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]);
    }
    return s;
}

/// *acc + scale · Σ v_j · x_j · 2^24 over one 32-value group held as signed bytes in v (lane 0 values 0-15, lane 1
/// values 16-31), xp the group's activations permuted. One chain of products: two chains (one product more per group)
/// measured no faster.
TARGET static inline void spread_sum(__m256i v, const float *xp, const spreads *sp, __m256 scale, __m256 *acc) {
    __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, sp->m[0])), _mm256_loadu_ps(xp));
    s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, sp->m[1])), _mm256_loadu_ps(xp + 8), s);
    s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, sp->m[2])), _mm256_loadu_ps(xp + 16), s);
    s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, sp->m[3])), _mm256_loadu_ps(xp + 24), s);
    *acc = _mm256_fmadd_ps(s, scale, *acc);
}

/// An IQ4 block's 16 bytes of indices at q (value j the low nibble of byte j, value 16 + j its high nibble) looked up
/// in `table` (kvalues_iq4nl in both lanes): the 32 values as signed bytes.
TARGET static inline __m256i iq4_values(const uint8_t *q, __m256i table) {
    __m128i b = _mm_loadu_si128((const __m128i *)q);
    __m256i idx = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0F));
    return _mm256_shuffle_epi8(table, idx);
}

TARGET static inline __m256i iq4_table(uint64_t table_lo, uint64_t table_hi) {
    return _mm256_broadcastsi128_si256(_mm_set_epi64x((long long)table_hi, (long long)table_lo));
}

/// IQ4_NL: blocks of 18 bytes, d (f16) then 16 bytes of indices. Two blocks per step into two accumulators.
TARGET static inline __m256 iq4_nl_lanes(const uint8_t *b, const float *xp, ptrdiff_t n, __m256i table, const spreads *sp) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    ptrdiff_t blocks = n / 32, i = 0;
    for (; i + 2 <= blocks; i += 2, b += 36, xp += 64) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        spread_sum(iq4_values(b + 2, table), xp, sp, _mm256_broadcast_ss(half_at(b)), acc);
        spread_sum(iq4_values(b + 20, table), xp + 32, sp, _mm256_broadcast_ss(half_at(b + 18)), acc + 1);
    }
    if (i < blocks) spread_sum(iq4_values(b + 2, table), xp, sp, _mm256_broadcast_ss(half_at(b)), acc);
    return _mm256_add_ps(acc[0], acc[1]);
}

/// Q5_0: blocks of 22 bytes, d (f16), qh (32 bits: bit j the fifth bit of value j), 16 bytes of low nibbles (as
/// IQ4's indices); value d · (q − 16). Byte p of a register holds value p (lane 0 values 0-15, lane 1 16-31), so qh's bit
/// p is brought to byte p (its byte p / 8 broadcast, every other bit of the byte set, compared with all ones) and 16 taken
/// off the nibble where it is clear.
TARGET static inline __m256i q5_0_values(const uint8_t *b) {
    const __m256i which = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    const __m256i others = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe), sixteen = _mm256_set1_epi8(16);
    __m256i bits = _mm256_shuffle_epi8(_mm256_castps_si256(_mm256_broadcast_ss((const float *)(b + 2))), which);
    __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(bits, others), _mm256_set1_epi8(-1));
    __m128i q = _mm_loadu_si128((const __m128i *)(b + 6));
    __m256i nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
    return _mm256_sub_epi8(nibbles, _mm256_andnot_si256(set, sixteen));
}

TARGET static inline __m256 q5_0_lanes(const uint8_t *b, const float *xp, ptrdiff_t n, const spreads *sp) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    ptrdiff_t blocks = n / 32, i = 0;
    for (; i + 2 <= blocks; i += 2, b += 44, xp += 64) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        spread_sum(q5_0_values(b), xp, sp, _mm256_broadcast_ss(half_at(b)), acc);
        spread_sum(q5_0_values(b + 22), xp + 32, sp, _mm256_broadcast_ss(half_at(b + 22)), acc + 1);
    }
    if (i < blocks) spread_sum(q5_0_values(b), xp, sp, _mm256_broadcast_ss(half_at(b)), acc);
    return _mm256_add_ps(acc[0], acc[1]);
}

/// IQ4_XS: super-blocks of 136 bytes, d (f16), scales_h (16 bits: bits 2k, 2k + 1 the high bits of sub-block k's
/// scale), scales_l[4] (low nibbles, sub-block 2k's first), 128 bytes; sub-block k of 32 has dl = d · (ls − 32) and an
/// IQ4_NL block's layout.
TARGET static inline __m256 iq4_xs_lanes(const uint8_t *b, const float *xp, ptrdiff_t n, __m256i table, const spreads *sp) {
    const __m256i low_shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28), high_shifts = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    float dl[8];
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 136, xp += 256) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        uint32_t sl, sh;
        memcpy(&sl, b + 4, 4);
        memcpy(&sh, b + 2, 4);
        __m256i ls = _mm256_or_si256(
            _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)sl), low_shifts), _mm256_set1_epi32(0xF)),
            _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)sh), high_shifts), _mm256_set1_epi32(3)), 4));
        _mm256_storeu_ps(dl, _mm256_mul_ps(_mm256_broadcast_ss(half_at(b)), _mm256_cvtepi32_ps(_mm256_sub_epi32(ls, _mm256_set1_epi32(32)))));
        for (int k = 0; k < 8; k += 2) {
            spread_sum(iq4_values(b + 8 + 16 * k, table), xp + 32 * k, sp, _mm256_broadcast_ss(dl + k), acc);
            spread_sum(iq4_values(b + 24 + 16 * k, table), xp + 32 * k + 32, sp, _mm256_broadcast_ss(dl + k + 1), acc + 1);
        }
    }
    return _mm256_add_ps(acc[0], acc[1]);
}

/// Q6_K: super-blocks of 210 bytes, ql[128], qh[64], scales[16] (int8), d (f16). In each half of 128, value l + 32k
/// (l < 32, k < 4) is d · scale · (q − 32), q's low 4 bits from ql (byte l for k = 0 and 2, l + 32 for 1 and 3; the low
/// nibble for k < 2), its high 2 bits from bits 2k, 2k + 1 of qh[l], and scale = scales[l / 16 + 2k]. A half's four
/// groups of 32 are built as bytes q − 32 (k = 0..3), each group's two scales (values 0-15, 16-31) one per 128-bit lane.
TARGET static inline __m256 q6_K_lanes(const uint8_t *b, const float *xp, ptrdiff_t n, const spreads *sp) {
    const __m256i nibble = _mm256_set1_epi8(0x0F), high_bits = _mm256_set1_epi8(0x30), offset = _mm256_set1_epi8(32);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float s[16];
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 210) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        __builtin_prefetch(b + AHEAD + 192, 0, 3);
        __m256 d = _mm256_broadcast_ss(half_at(b + 208));
        __m128i sc = _mm_loadu_si128((const __m128i *)(b + 192));
        _mm256_storeu_ps(s, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc))));
        _mm256_storeu_ps(s + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8)))));
        for (int h = 0; h < 2; h++, xp += 128) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 4), high_bits));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 2), high_bits));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), nibble), _mm256_and_si256(qh, high_bits));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), nibble), _mm256_and_si256(_mm256_srli_epi16(qh, 2), high_bits));
            for (int k = 0; k < 4; k++) {
                const float *pair = s + 8 * h + 2 * k;
                __m256 scale = _mm256_set_m128(_mm_broadcast_ss(pair + 1), _mm_broadcast_ss(pair));
                spread_sum(_mm256_sub_epi8(q[k], offset), xp + 32 * k, sp, scale, acc + k);
            }
        }
    }
    return _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
}

/// The eight d·scale (s[0..7]) and dmin·min (m) of a Q4_K super-block, ggml's get_scale_min_k4 layout: for j < 4,
/// scale j = q[j] & 63 and min j = q[j + 4] & 63; scale j + 4 = (q[j + 8] & 15) | (q[j] >> 6) << 4 and min j + 4 =
/// (q[j + 8] >> 4) | (q[j + 4] >> 6) << 4, q the 12 bytes at b + 4. Lane l's low byte is the byte its low bits come
/// from, its second byte the one whose top two bits it takes (vpshufb), then a per-lane shift, the masks and a merge.
TARGET static inline void k_scales(const uint8_t *b, float *s, __m256 *m) {
    const __m256i gather_s = _mm256_setr_epi32(0x80808000, 0x80808001, 0x80808002, 0x80808003, 0x80800008, 0x80800109, 0x8080020A, 0x8080030B);
    const __m256i gather_m = _mm256_setr_epi32(0x80808004, 0x80808005, 0x80808006, 0x80808007, 0x80800408, 0x80800509, 0x8080060A, 0x8080070B);
    const __m256i shift_m = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
    const __m256i low_bits = _mm256_setr_epi32(63, 63, 63, 63, 15, 15, 15, 15), top = _mm256_set1_epi32(0x30);
    __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(b + 4)));
    __m256i vs = _mm256_shuffle_epi8(q, gather_s), vm = _mm256_shuffle_epi8(q, gather_m);
    __m256i is = _mm256_or_si256(_mm256_and_si256(vs, low_bits), _mm256_and_si256(_mm256_srli_epi32(vs, 10), top));
    __m256i im = _mm256_or_si256(_mm256_and_si256(_mm256_srlv_epi32(vm, shift_m), low_bits), _mm256_and_si256(_mm256_srli_epi32(vm, 10), top));
    _mm256_storeu_ps(s, _mm256_mul_ps(_mm256_broadcast_ss(half_at(b)), _mm256_cvtepi32_ps(is)));
    *m = _mm256_mul_ps(_mm256_broadcast_ss(half_at(b + 2)), _mm256_cvtepi32_ps(im));
}

/// Q4_K: super-blocks of 144 bytes, d, dmin (f16), scales[12], qs[128]; value l of sub-block s is d·scale_s·q −
/// dmin·min_s, sub-blocks 2j and 2j + 1 in the low and high nibbles of qs[32j ..< 32j + 32]. `xs` holds the sums of x
/// per 32.
TARGET static inline __m256 q4_K_lanes(const uint8_t *b, const float *x, const float *xs, ptrdiff_t n) {
    const __m256i nibble = _mm256_set1_epi32(0x0F);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    float sc[8];
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 144, x += 256, xs += 8) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        __m256 m;
        k_scales(b, sc, &m);
        mins = _mm256_fmadd_ps(m, _mm256_loadu_ps(xs), mins);
        for (int j = 0; j < 4; j++) {
            const uint8_t *q = b + 16 + 32 * j;
            const float *xj = x + 64 * j;
            __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
            for (int g = 0; g < 4; g++) {
                __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8 * g)));
                lo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(w, nibble)), _mm256_loadu_ps(xj + 8 * g), lo);
                hi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(w, 4)), _mm256_loadu_ps(xj + 32 + 8 * g), hi);
            }
            acc0 = _mm256_fmadd_ps(lo, _mm256_broadcast_ss(sc + 2 * j), acc0);
            acc1 = _mm256_fmadd_ps(hi, _mm256_broadcast_ss(sc + 2 * j + 1), acc1);
        }
    }
    return _mm256_sub_ps(_mm256_add_ps(acc0, acc1), mins);
}

enum avx2_kind { AVX2_IQ4_NL, AVX2_Q5_0, AVX2_IQ4_XS, AVX2_Q6_K, AVX2_Q4_K };

/// y[r] = Σ row_r · x for r < rows, row r at base + r·row_bytes, `n` columns, `kind` a constant in each caller.
/// Columns go CHUNK at a time: the activations prepared for them once (permuted, or summed per 32), then every row's
/// bytes for them.
TARGET static inline void rows_avx2(enum avx2_kind kind, const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x,
                                    ptrdiff_t n, float *y, uint64_t table_lo, uint64_t table_hi) {
    float prep[CHUNK] __attribute__((aligned(32)));
    const spreads sp = make_spreads();
    const __m256i table = iq4_table(table_lo, table_hi);
    const ptrdiff_t block = kind == AVX2_IQ4_NL || kind == AVX2_Q5_0 ? 32 : 256;
    const ptrdiff_t block_bytes = kind == AVX2_IQ4_NL ? 18 : kind == AVX2_Q5_0 ? 22 : kind == AVX2_IQ4_XS ? 136 : kind == AVX2_Q6_K ? 210 : 144;
    // Q4_K's sums are plain; the others' carry 2^24 from the spread bytes.
    const float unit = kind == AVX2_Q4_K ? 1.0f : 1.0f / 16777216.0f;
    for (ptrdiff_t c0 = 0; c0 < n; c0 += CHUNK) {
        const ptrdiff_t cols = n - c0 < CHUNK ? n - c0 : CHUNK;
        if (kind == AVX2_Q4_K) sums32(x + c0, prep, cols);
        else permute32(x + c0, prep, cols);
        const uint8_t *b = (const uint8_t *)base + c0 / block * block_bytes;
        for (ptrdiff_t r = 0; r < rows; r++, b += row_bytes) {
            __m256 v;
            switch (kind) {
            case AVX2_IQ4_NL: v = iq4_nl_lanes(b, prep, cols, table, &sp); break;
            case AVX2_Q5_0: v = q5_0_lanes(b, prep, cols, &sp); break;
            case AVX2_IQ4_XS: v = iq4_xs_lanes(b, prep, cols, table, &sp); break;
            case AVX2_Q6_K: v = q6_K_lanes(b, prep, cols, &sp); break;
            default: v = q4_K_lanes(b, x + c0, prep, cols); break;
            }
            float s = hsum8(v) * unit;
            y[r] = c0 == 0 ? s : y[r] + s;
        }
    }
}

TARGET void qwenkit_rows_iq4_nl_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                     uint64_t table_lo, uint64_t table_hi) {
    rows_avx2(AVX2_IQ4_NL, base, row_bytes, rows, x, n, y, table_lo, table_hi);
}
TARGET void qwenkit_rows_iq4_xs_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                     uint64_t table_lo, uint64_t table_hi) {
    rows_avx2(AVX2_IQ4_XS, base, row_bytes, rows, x, n, y, table_lo, table_hi);
}
TARGET void qwenkit_rows_q5_0_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y) {
    rows_avx2(AVX2_Q5_0, base, row_bytes, rows, x, n, y, 0, 0);
}
TARGET void qwenkit_rows_q6_K_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y) {
    rows_avx2(AVX2_Q6_K, base, row_bytes, rows, x, n, y, 0, 0);
}
TARGET void qwenkit_rows_q4_K_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y) {
    rows_avx2(AVX2_Q4_K, base, row_bytes, rows, x, n, y, 0, 0);
}

#else

#include <stdlib.h>

int qwenkit_avx2_usable(void) { return 0; }
void qwenkit_rows_iq4_nl_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                              uint64_t table_lo, uint64_t table_hi) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; (void)table_lo; (void)table_hi; abort();
}
void qwenkit_rows_iq4_xs_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                              uint64_t table_lo, uint64_t table_hi) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; (void)table_lo; (void)table_hi; abort();
}
void qwenkit_rows_q5_0_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; abort();
}
void qwenkit_rows_q6_K_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; abort();
}
void qwenkit_rows_q4_K_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; abort();
}

#endif
