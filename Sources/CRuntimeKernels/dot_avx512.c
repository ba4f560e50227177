// AVX-512 dot products of one stored weight row with float32 activations, for generation (one token per step:
// every weight is read once per token, so these loops stream bytes). Each block's values are rebuilt as ggml's
// dequantize_row_* builds them and multiplied into float32 accumulators, as the portable Swift kernels in
// Sources/Qwen2Runtime/Kernels/RowKernels.swift do, 16 lanes at a time. See include/runtime_kernels.h.

#include "runtime_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

/// How far ahead the loops prefetch (the Swift kernels' distance; see CPrefetch).
#define AHEAD 2048

/// The f16 at p in every lane. A whole-register broadcast: a scalar conversion (_cvtsh_ss, or _mm_cvtph_ps of a
/// scalar) compiles to a vpinsrw into whatever register is free, an accumulator's included, which chained every block
/// on the previous block's sum (Q8_0 generation ran at two thirds of the portable kernel's speed).
TARGET static inline __m512 half_vector(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _mm512_cvtph_ps(_mm256_set1_epi16((short)h));
}

/// 16 unsigned bytes as floats.
TARGET static inline __m512 floats_u8(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)); }

/// 16 16-bit floats as floats: F16 through vcvtph2ps, BF16 (`brain`) moved to the top half of each float.
TARGET static inline __m512 widen16(__m256i h, int brain) {
    return brain ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)) : _mm512_cvtph_ps(h);
}

/// F16 and BF16 rows: 16 values widened per load, four accumulators (`brain` is a constant in each caller, so each
/// gets its own loop).
TARGET static inline float dot_halves(const void *row, const float *x, ptrdiff_t n, int brain) {
    const uint16_t *w = (const uint16_t *)row;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __builtin_prefetch((const uint8_t *)(w + i) + AHEAD, 0, 3);
        __builtin_prefetch((const uint8_t *)(w + i) + AHEAD + 64, 0, 3);
        acc0 = _mm512_fmadd_ps(widen16(_mm256_loadu_si256((const __m256i *)(w + i)), brain), _mm512_loadu_ps(x + i), acc0);
        acc1 = _mm512_fmadd_ps(widen16(_mm256_loadu_si256((const __m256i *)(w + i + 16)), brain), _mm512_loadu_ps(x + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(widen16(_mm256_loadu_si256((const __m256i *)(w + i + 32)), brain), _mm512_loadu_ps(x + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(widen16(_mm256_loadu_si256((const __m256i *)(w + i + 48)), brain), _mm512_loadu_ps(x + i + 48), acc3);
    }
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm512_fmadd_ps(widen16(_mm256_loadu_si256((const __m256i *)(w + i)), brain), _mm512_loadu_ps(x + i), acc0);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        acc1 = _mm512_fmadd_ps(widen16(_mm256_maskz_loadu_epi16(m, w + i), brain), _mm512_maskz_loadu_ps(m, x + i), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

TARGET float qwenkit_dot_f16_avx512(const void *row, const float *x, ptrdiff_t n) { return dot_halves(row, x, n, 0); }
TARGET float qwenkit_dot_bf16_avx512(const void *row, const float *x, ptrdiff_t n) { return dot_halves(row, x, n, 1); }

TARGET float qwenkit_dot_q8_0_avx512(const void *row, const float *x, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n / 32; i++, b += 34) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __m512 d = half_vector(b);
        __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 2))));
        __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 18))));
        acc0 = _mm512_fmadd_ps(_mm512_mul_ps(d, q0), _mm512_loadu_ps(x + 32 * i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_mul_ps(d, q1), _mm512_loadu_ps(x + 32 * i + 16), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

TARGET float qwenkit_dot_q4_0_avx512(const void *row, const float *x, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const __m128i low = _mm_set1_epi8(0x0F);
    const __m512 eight = _mm512_set1_ps(8.0f);
    for (ptrdiff_t i = 0; i < n / 32; i++, b += 18) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __m512 d = half_vector(b);
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        // value = d · (q − 8), the dequantizer's difference then product
        __m512 w0 = _mm512_mul_ps(d, _mm512_sub_ps(floats_u8(_mm_and_si128(q, low)), eight));
        __m512 w1 = _mm512_mul_ps(d, _mm512_sub_ps(floats_u8(_mm_and_si128(_mm_srli_epi16(q, 4), low)), eight));
        acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + 32 * i), acc0);
        acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 32 * i + 16), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

TARGET float qwenkit_dot_q5_0_avx512(const void *row, const float *x, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const __m128i low = _mm_set1_epi8(0x0F);
    const __m512i sixteen = _mm512_set1_epi32(16);
    for (ptrdiff_t i = 0; i < n / 32; i++, b += 22) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __m512 d = half_vector(b), bias = _mm512_mul_ps(_mm512_set1_ps(-16.0f), d);
        uint32_t qh;
        memcpy(&qh, b + 2, 4);
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 6));
        // bit j of qh is the fifth bit of element j: added as 16 under the mask
        __m512i q0 = _mm512_cvtepu8_epi32(_mm_and_si128(q, low));
        __m512i q1 = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(q, 4), low));
        q0 = _mm512_mask_add_epi32(q0, (__mmask16)(qh & 0xFFFF), q0, sixteen);
        q1 = _mm512_mask_add_epi32(q1, (__mmask16)(qh >> 16), q1, sixteen);
        // d·(q − 16) as q·d + (−16·d): one rounding, as the Swift kernel
        __m512 w0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q0), d, bias);
        __m512 w1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q1), d, bias);
        acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + 32 * i), acc0);
        acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 32 * i + 16), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/// IQ4_NL: d (f16), 16 bytes of 4-bit indices into the 16 int8 values `table` (kvalues_iq4nl, passed in so that the
/// table has one source); element j = d · value[low nibble of byte j], element j + 16 the high nibble's.
TARGET float qwenkit_dot_iq4_nl_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi) {
    const uint8_t *b = (const uint8_t *)row;
    const __m128i table = _mm_set_epi64x((long long)table_hi, (long long)table_lo), low = _mm_set1_epi8(0x0F);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n / 32; i++, b += 18) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __m512 d = half_vector(b);
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        __m128i v0 = _mm_shuffle_epi8(table, _mm_and_si128(q, low));
        __m128i v1 = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low));
        acc0 = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v0))), _mm512_loadu_ps(x + 32 * i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v1))), _mm512_loadu_ps(x + 32 * i + 16), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/// IQ4_XS: d (f16), scales_h (16 bits: bits 2k, 2k + 1 the high bits of sub-block k's scale), scales_l[4] (low
/// nibbles, sub-block 2k's first), 128 bytes; sub-block k of 32 has dl = d · (ls − 32) and an IQ4_NL block's layout.
TARGET float qwenkit_dot_iq4_xs_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi) {
    const uint8_t *b = (const uint8_t *)row;
    const __m128i table = _mm_set_epi64x((long long)table_hi, (long long)table_lo), low = _mm_set1_epi8(0x0F);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 136, x += 256) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        __m512 d = half_vector(b);
        uint16_t scales_h;
        uint32_t scales_l;
        memcpy(&scales_h, b + 2, 2);
        memcpy(&scales_l, b + 4, 4);
        for (int k = 0; k < 8; k++) {
            int ls = (int)(((scales_l >> (4 * k)) & 0xF) | (((scales_h >> (2 * k)) & 3) << 4));
            __m512 dl = _mm512_mul_ps(d, _mm512_set1_ps((float)(ls - 32)));
            __m128i q = _mm_loadu_si128((const __m128i *)(b + 8 + 16 * k));
            __m128i v0 = _mm_shuffle_epi8(table, _mm_and_si128(q, low));
            __m128i v1 = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low));
            acc0 = _mm512_fmadd_ps(_mm512_mul_ps(dl, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v0))), _mm512_loadu_ps(x + 32 * k), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_mul_ps(dl, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v1))), _mm512_loadu_ps(x + 32 * k + 16), acc1);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/// IQ4_NL rows decoded to floats for the prompt tiles: the dot's table lookup (16 values per shuffle) instead of
/// one lookup per weight; the same products d · value.
TARGET void qwenkit_decode_iq4_nl_avx512(const void *row, float *out, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi) {
    const uint8_t *b = (const uint8_t *)row;
    const __m128i table = _mm_set_epi64x((long long)table_hi, (long long)table_lo), low = _mm_set1_epi8(0x0F);
    for (ptrdiff_t i = 0; i < n / 32; i++, b += 18, out += 32) {
        __m512 d = half_vector(b);
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        __m128i v0 = _mm_shuffle_epi8(table, _mm_and_si128(q, low));
        __m128i v1 = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low));
        _mm512_storeu_ps(out, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v0))));
        _mm512_storeu_ps(out + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v1))));
    }
}

/// IQ4_XS rows decoded to floats: dl = d · (ls − 32) per sub-block of 32, then dl · value, as the Swift decoder.
TARGET void qwenkit_decode_iq4_xs_avx512(const void *row, float *out, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi) {
    const uint8_t *b = (const uint8_t *)row;
    const __m128i table = _mm_set_epi64x((long long)table_hi, (long long)table_lo), low = _mm_set1_epi8(0x0F);
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 136) {
        __m512 d = half_vector(b);
        uint16_t scales_h;
        uint32_t scales_l;
        memcpy(&scales_h, b + 2, 2);
        memcpy(&scales_l, b + 4, 4);
        for (int k = 0; k < 8; k++, out += 32) {
            int ls = (int)(((scales_l >> (4 * k)) & 0xF) | (((scales_h >> (2 * k)) & 3) << 4));
            __m512 dl = _mm512_mul_ps(d, _mm512_set1_ps((float)(ls - 32)));
            __m128i q = _mm_loadu_si128((const __m128i *)(b + 8 + 16 * k));
            __m128i v0 = _mm_shuffle_epi8(table, _mm_and_si128(q, low));
            __m128i v1 = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low));
            _mm512_storeu_ps(out, _mm512_mul_ps(dl, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v0))));
            _mm512_storeu_ps(out + 16, _mm512_mul_ps(dl, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v1))));
        }
    }
}

/// ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes.
static inline void scale_min(int j, const uint8_t *q, float *scale, float *min) {
    if (j < 4) {
        *scale = (float)(q[j] & 63);
        *min = (float)(q[j + 4] & 63);
    } else {
        *scale = (float)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *min = (float)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

TARGET float qwenkit_dot_q4_K_avx512(const void *row, const float *x, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    const __m128i low = _mm_set1_epi8(0x0F);
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 144, x += 256) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        __m512 d = half_vector(b), dmin = half_vector(b + 2);
        const uint8_t *scales = b + 4;
        for (int j = 0; j < 4; j++) {
            float sc1, m1, sc2, m2;
            scale_min(2 * j, scales, &sc1, &m1);
            scale_min(2 * j + 1, scales, &sc2, &m2);
            __m512 d1 = _mm512_mul_ps(d, _mm512_set1_ps(sc1)), min1 = _mm512_mul_ps(dmin, _mm512_set1_ps(m1));
            __m512 d2 = _mm512_mul_ps(d, _mm512_set1_ps(sc2)), min2 = _mm512_mul_ps(dmin, _mm512_set1_ps(m2));
            __m128i qa = _mm_loadu_si128((const __m128i *)(b + 16 + 32 * j));
            __m128i qb = _mm_loadu_si128((const __m128i *)(b + 32 + 32 * j));
            const float *xj = x + 64 * j;
            // value = d·scale·q − dmin·min, as the dequantizer's product then difference
            acc0 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d1, floats_u8(_mm_and_si128(qa, low))), min1), _mm512_loadu_ps(xj), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d1, floats_u8(_mm_and_si128(qb, low))), min1), _mm512_loadu_ps(xj + 16), acc1);
            acc2 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d2, floats_u8(_mm_and_si128(_mm_srli_epi16(qa, 4), low))), min2),
                                   _mm512_loadu_ps(xj + 32), acc2);
            acc3 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d2, floats_u8(_mm_and_si128(_mm_srli_epi16(qb, 4), low))), min2),
                                   _mm512_loadu_ps(xj + 48), acc3);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

/// Q6_K's weights 16·k + l ... of the half block at ql/qh with scales sc, for sub-block pair si (l = 16·si), in w[0..3]:
/// the two high bits of each value moved to bits 4 and 5, then d·scale·(q − 32) as q·(d·scale) + (−32·d·scale) with one
/// rounding, the portable decoder's values. Shared by the dot and the decoder, so both give the same weights.
TARGET static inline void q6_K_weights(const uint8_t *ql, const uint8_t *qh, const int8_t *sc, int si, __m512 d, __m512 w[4]) {
    const __m128i low = _mm_set1_epi8(0x0F), two = _mm_set1_epi8(0x30);
    const __m512 m32 = _mm512_set1_ps(-32.0f);
    int l = 16 * si;
    __m512 s1 = _mm512_mul_ps(d, _mm512_set1_ps((float)sc[si])), s2 = _mm512_mul_ps(d, _mm512_set1_ps((float)sc[si + 2]));
    __m512 s3 = _mm512_mul_ps(d, _mm512_set1_ps((float)sc[si + 4])), s4 = _mm512_mul_ps(d, _mm512_set1_ps((float)sc[si + 6]));
    __m128i low0 = _mm_loadu_si128((const __m128i *)(ql + l)), low32 = _mm_loadu_si128((const __m128i *)(ql + l + 32));
    __m128i high = _mm_loadu_si128((const __m128i *)(qh + l));
    __m128i q1 = _mm_or_si128(_mm_and_si128(low0, low), _mm_and_si128(_mm_slli_epi16(high, 4), two));
    __m128i q2 = _mm_or_si128(_mm_and_si128(low32, low), _mm_and_si128(_mm_slli_epi16(high, 2), two));
    __m128i q3 = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(low0, 4), low), _mm_and_si128(high, two));
    __m128i q4 = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(low32, 4), low), _mm_and_si128(_mm_srli_epi16(high, 2), two));
    w[0] = _mm512_fmadd_ps(floats_u8(q1), s1, _mm512_mul_ps(m32, s1));
    w[1] = _mm512_fmadd_ps(floats_u8(q2), s2, _mm512_mul_ps(m32, s2));
    w[2] = _mm512_fmadd_ps(floats_u8(q3), s3, _mm512_mul_ps(m32, s3));
    w[3] = _mm512_fmadd_ps(floats_u8(q4), s4, _mm512_mul_ps(m32, s4));
}

TARGET float qwenkit_dot_q6_K_avx512(const void *row, const float *x, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 210, x += 256) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        __builtin_prefetch(b + AHEAD + 192, 0, 3);
        __m512 d = half_vector(b + 208);
        for (int h = 0; h < 2; h++) {
            const float *xh = x + 128 * h;
            for (int si = 0; si < 2; si++) {
                __m512 w[4];
                q6_K_weights(b + 64 * h, b + 128 + 32 * h, (const int8_t *)(b + 192 + 8 * h), si, d, w);
                const float *xl = xh + 16 * si;
                acc0 = _mm512_fmadd_ps(w[0], _mm512_loadu_ps(xl), acc0);
                acc1 = _mm512_fmadd_ps(w[1], _mm512_loadu_ps(xl + 32), acc1);
                acc2 = _mm512_fmadd_ps(w[2], _mm512_loadu_ps(xl + 64), acc2);
                acc3 = _mm512_fmadd_ps(w[3], _mm512_loadu_ps(xl + 96), acc3);
            }
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

/// Q6_K rows decoded to floats for the prompt tiles: the dot's weights (`q6_K_weights`), stored.
TARGET void qwenkit_decode_q6_K_avx512(const void *row, float *out, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 210, out += 256) {
        __m512 d = half_vector(b + 208);
        for (int h = 0; h < 2; h++) {
            float *ol = out + 128 * h;
            for (int si = 0; si < 2; si++, ol += 16) {
                __m512 w[4];
                q6_K_weights(b + 64 * h, b + 128 + 32 * h, (const int8_t *)(b + 192 + 8 * h), si, d, w);
                _mm512_storeu_ps(ol, w[0]);
                _mm512_storeu_ps(ol + 32, w[1]);
                _mm512_storeu_ps(ol + 64, w[2]);
                _mm512_storeu_ps(ol + 96, w[3]);
            }
        }
    }
}

#else

#include <stdint.h>
#include <stdlib.h>

void qwenkit_decode_q6_K_avx512(const void *row, float *out, ptrdiff_t n) { (void)row; (void)out; (void)n; abort(); }

float qwenkit_dot_q8_0_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
float qwenkit_dot_f16_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
float qwenkit_dot_bf16_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
float qwenkit_dot_q4_0_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
float qwenkit_dot_iq4_nl_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t lo, uint64_t hi) {
    (void)row; (void)x; (void)n; (void)lo; (void)hi; abort();
}
float qwenkit_dot_iq4_xs_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t lo, uint64_t hi) {
    (void)row; (void)x; (void)n; (void)lo; (void)hi; abort();
}
float qwenkit_dot_q5_0_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
void qwenkit_decode_iq4_nl_avx512(const void *row, float *out, ptrdiff_t n, uint64_t lo, uint64_t hi) {
    (void)row; (void)out; (void)n; (void)lo; (void)hi; abort();
}
void qwenkit_decode_iq4_xs_avx512(const void *row, float *out, ptrdiff_t n, uint64_t lo, uint64_t hi) {
    (void)row; (void)out; (void)n; (void)lo; (void)hi; abort();
}
float qwenkit_dot_q4_K_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
float qwenkit_dot_q6_K_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }

#endif
