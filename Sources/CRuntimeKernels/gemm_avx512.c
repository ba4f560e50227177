// AVX-512 float32 matrix products for the runtime's batch path (prompt processing). See include/runtime_kernels.h.

#include "runtime_kernels.h"

#include <stdlib.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int qwenkit_avx512_usable(void) {
    // Asked once: Swift keeps the answer (KernelChoice.avx512Usable).
    int usable = 0;
    if (getenv("QWENKIT_NO_AVX512") == NULL) {
        __builtin_cpu_init();
        // __builtin_cpu_supports also checks that the OS saves the ZMM registers (XCR0).
        usable = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
            // Q5_0 and Q5_1's fifth bits are rearranged with pdep (every AVX-512 CPU has it).
            && __builtin_cpu_supports("bmi2");
    }
    // The generation kernels' f16 scales are read from a table (dot_avx512.c).
    if (usable) qwenkit_fill_half_table();
    return usable;
}

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

/// The four sums of a, b, c, d's lanes, in that order.
TARGET static inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m256 b8 = _mm256_add_ps(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
    __m256 c8 = _mm256_add_ps(_mm512_castps512_ps256(c), _mm512_extractf32x8_ps(c, 1));
    __m256 d8 = _mm256_add_ps(_mm512_castps512_ps256(d), _mm512_extractf32x8_ps(d, 1));
    // hadd(hadd(a, b), hadd(c, d)): each 128-bit half holds the four quarter-sums of its half.
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a8, b8), _mm256_hadd_ps(c8, d8));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/// Rows r0 … r0+3 times tokens t0 … t0+3.
TARGET static inline void tile4x4(const float *w, ptrdiff_t ws, ptrdiff_t n, const float *x, ptrdiff_t xs, float *y,
                                  ptrdiff_t y_stride) {
    const float *w0 = w, *w1 = w + ws, *w2 = w + 2 * ws, *w3 = w + 3 * ws;
    const float *x0 = x, *x1 = x + xs, *x2 = x + 2 * xs, *x3 = x + 3 * xs;
    __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v0 = _mm512_loadu_ps(x0 + i), v1 = _mm512_loadu_ps(x1 + i);
        __m512 v2 = _mm512_loadu_ps(x2 + i), v3 = _mm512_loadu_ps(x3 + i);
        __m512 r = _mm512_loadu_ps(w0 + i);
        a00 = _mm512_fmadd_ps(r, v0, a00); a01 = _mm512_fmadd_ps(r, v1, a01);
        a02 = _mm512_fmadd_ps(r, v2, a02); a03 = _mm512_fmadd_ps(r, v3, a03);
        r = _mm512_loadu_ps(w1 + i);
        a10 = _mm512_fmadd_ps(r, v0, a10); a11 = _mm512_fmadd_ps(r, v1, a11);
        a12 = _mm512_fmadd_ps(r, v2, a12); a13 = _mm512_fmadd_ps(r, v3, a13);
        r = _mm512_loadu_ps(w2 + i);
        a20 = _mm512_fmadd_ps(r, v0, a20); a21 = _mm512_fmadd_ps(r, v1, a21);
        a22 = _mm512_fmadd_ps(r, v2, a22); a23 = _mm512_fmadd_ps(r, v3, a23);
        r = _mm512_loadu_ps(w3 + i);
        a30 = _mm512_fmadd_ps(r, v0, a30); a31 = _mm512_fmadd_ps(r, v1, a31);
        a32 = _mm512_fmadd_ps(r, v2, a32); a33 = _mm512_fmadd_ps(r, v3, a33);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 v0 = _mm512_maskz_loadu_ps(m, x0 + i), v1 = _mm512_maskz_loadu_ps(m, x1 + i);
        __m512 v2 = _mm512_maskz_loadu_ps(m, x2 + i), v3 = _mm512_maskz_loadu_ps(m, x3 + i);
        __m512 r = _mm512_maskz_loadu_ps(m, w0 + i);
        a00 = _mm512_fmadd_ps(r, v0, a00); a01 = _mm512_fmadd_ps(r, v1, a01);
        a02 = _mm512_fmadd_ps(r, v2, a02); a03 = _mm512_fmadd_ps(r, v3, a03);
        r = _mm512_maskz_loadu_ps(m, w1 + i);
        a10 = _mm512_fmadd_ps(r, v0, a10); a11 = _mm512_fmadd_ps(r, v1, a11);
        a12 = _mm512_fmadd_ps(r, v2, a12); a13 = _mm512_fmadd_ps(r, v3, a13);
        r = _mm512_maskz_loadu_ps(m, w2 + i);
        a20 = _mm512_fmadd_ps(r, v0, a20); a21 = _mm512_fmadd_ps(r, v1, a21);
        a22 = _mm512_fmadd_ps(r, v2, a22); a23 = _mm512_fmadd_ps(r, v3, a23);
        r = _mm512_maskz_loadu_ps(m, w3 + i);
        a30 = _mm512_fmadd_ps(r, v0, a30); a31 = _mm512_fmadd_ps(r, v1, a31);
        a32 = _mm512_fmadd_ps(r, v2, a32); a33 = _mm512_fmadd_ps(r, v3, a33);
    }
    // Token t's four row sums go to y[t·y_stride + 0 … 3].
    _mm_storeu_ps(y, reduce4(a00, a10, a20, a30));
    _mm_storeu_ps(y + y_stride, reduce4(a01, a11, a21, a31));
    _mm_storeu_ps(y + 2 * y_stride, reduce4(a02, a12, a22, a32));
    _mm_storeu_ps(y + 3 * y_stride, reduce4(a03, a13, a23, a33));
}

/// Rows r0 … r0+3 times one token.
TARGET static inline void tile4x1(const float *w, ptrdiff_t ws, ptrdiff_t n, const float *x, float *y) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), v, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + ws + i), v, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 2 * ws + i), v, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 3 * ws + i), v, a3);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + i), v, a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + ws + i), v, a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + 2 * ws + i), v, a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + 3 * ws + i), v, a3);
    }
    _mm_storeu_ps(y, reduce4(a0, a1, a2, a3));
}

/// One row times one token.
TARGET static inline float dot1(const float *w, ptrdiff_t n, const float *x) {
    __m512 a = _mm512_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + i), _mm512_maskz_loadu_ps(m, x + i), a);
    }
    return _mm512_reduce_add_ps(a);
}

/// Rows r … r+7 times tokens t … t+2 over columns [k0, k1): the 24 partial sums stored (`first`) or added to y.
TARGET static inline void tile8x3(const float *w, ptrdiff_t ws, const float *x, ptrdiff_t xs, float *y, ptrdiff_t y_stride,
                                  ptrdiff_t k0, ptrdiff_t k1, int first) {
    __m512 acc[8][3];
    for (int r = 0; r < 8; r++) for (int t = 0; t < 3; t++) acc[r][t] = _mm512_setzero_ps();
    ptrdiff_t i = k0;
    for (; i + 16 <= k1; i += 16) {
        __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + xs + i), v2 = _mm512_loadu_ps(x + 2 * xs + i);
        for (int r = 0; r < 8; r++) {
            __m512 wr = _mm512_loadu_ps(w + r * ws + i);
            acc[r][0] = _mm512_fmadd_ps(wr, v0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(wr, v1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(wr, v2, acc[r][2]);
        }
    }
    if (i < k1) {
        __mmask16 m = (__mmask16)((1u << (k1 - i)) - 1);
        __m512 v0 = _mm512_maskz_loadu_ps(m, x + i), v1 = _mm512_maskz_loadu_ps(m, x + xs + i);
        __m512 v2 = _mm512_maskz_loadu_ps(m, x + 2 * xs + i);
        for (int r = 0; r < 8; r++) {
            __m512 wr = _mm512_maskz_loadu_ps(m, w + r * ws + i);
            acc[r][0] = _mm512_fmadd_ps(wr, v0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(wr, v1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(wr, v2, acc[r][2]);
        }
    }
    for (int t = 0; t < 3; t++) {
        __m128 lo = reduce4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]);
        __m128 hi = reduce4(acc[4][t], acc[5][t], acc[6][t], acc[7][t]);
        float *out = y + t * y_stride;
        if (!first) {
            lo = _mm_add_ps(lo, _mm_loadu_ps(out));
            hi = _mm_add_ps(hi, _mm_loadu_ps(out + 4));
        }
        _mm_storeu_ps(out, lo);
        _mm_storeu_ps(out + 4, hi);
    }
}

/// Rows r … r+7 times one token over columns [k0, k1), as tile8x3.
TARGET static inline void tile8x1(const float *w, ptrdiff_t ws, const float *x, float *y, ptrdiff_t k0, ptrdiff_t k1,
                                  int first) {
    __m512 acc[8];
    for (int r = 0; r < 8; r++) acc[r] = _mm512_setzero_ps();
    ptrdiff_t i = k0;
    for (; i + 16 <= k1; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        for (int r = 0; r < 8; r++) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * ws + i), v, acc[r]);
    }
    if (i < k1) {
        __mmask16 m = (__mmask16)((1u << (k1 - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        for (int r = 0; r < 8; r++) acc[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + r * ws + i), v, acc[r]);
    }
    __m128 lo = reduce4(acc[0], acc[1], acc[2], acc[3]), hi = reduce4(acc[4], acc[5], acc[6], acc[7]);
    if (!first) {
        lo = _mm_add_ps(lo, _mm_loadu_ps(y));
        hi = _mm_add_ps(hi, _mm_loadu_ps(y + 4));
    }
    _mm_storeu_ps(y, lo);
    _mm_storeu_ps(y + 4, hi);
}

/// Rows r … r+7 times tokens t, t+1 over columns [k0, k1), as tile8x3: a batch of two (two slots decoding together)
/// loads each weight vector once for both instead of once per token through tile8x1. Each token's sums are formed in
/// the same order as tile8x1's and tile8x3's, so the results do not depend on which tile ran.
TARGET static inline void tile8x2(const float *w, ptrdiff_t ws, const float *x, ptrdiff_t xs, float *y, ptrdiff_t y_stride,
                                  ptrdiff_t k0, ptrdiff_t k1, int first) {
    __m512 a[8], b[8];
    for (int r = 0; r < 8; r++) a[r] = b[r] = _mm512_setzero_ps();
    const float *x0 = x, *x1 = x + xs;
    ptrdiff_t i = k0;
    for (; i + 16 <= k1; i += 16) {
        __m512 v0 = _mm512_loadu_ps(x0 + i), v1 = _mm512_loadu_ps(x1 + i);
        for (int r = 0; r < 8; r++) {
            __m512 q = _mm512_loadu_ps(w + r * ws + i);
            a[r] = _mm512_fmadd_ps(q, v0, a[r]);
            b[r] = _mm512_fmadd_ps(q, v1, b[r]);
        }
    }
    if (i < k1) {
        __mmask16 m = (__mmask16)((1u << (k1 - i)) - 1);
        __m512 v0 = _mm512_maskz_loadu_ps(m, x0 + i), v1 = _mm512_maskz_loadu_ps(m, x1 + i);
        for (int r = 0; r < 8; r++) {
            __m512 q = _mm512_maskz_loadu_ps(m, w + r * ws + i);
            a[r] = _mm512_fmadd_ps(q, v0, a[r]);
            b[r] = _mm512_fmadd_ps(q, v1, b[r]);
        }
    }
    __m128 sums[4] = {reduce4(a[0], a[1], a[2], a[3]), reduce4(a[4], a[5], a[6], a[7]),
                      reduce4(b[0], b[1], b[2], b[3]), reduce4(b[4], b[5], b[6], b[7])};
    for (int t = 0; t < 2; t++) {
        float *out = y + t * y_stride;
        __m128 lo = sums[2 * t], hi = sums[2 * t + 1];
        if (!first) {
            lo = _mm_add_ps(lo, _mm_loadu_ps(out));
            hi = _mm_add_ps(hi, _mm_loadu_ps(out + 4));
        }
        _mm_storeu_ps(out, lo);
        _mm_storeu_ps(out + 4, hi);
    }
}

/// Columns per pass over the tokens: 8 rows of it (32 KB at 1,024) stay in L1 while every token's slice streams by.
#define COLUMN_BLOCK 1024

TARGET void qwenkit_gemm_strided_avx512(const float *w, ptrdiff_t w_stride, ptrdiff_t rows, ptrdiff_t n, const float *x,
                                        ptrdiff_t x_stride, ptrdiff_t batch, float *y, ptrdiff_t y_stride) {
    ptrdiff_t r = 0;
    // Eight rows at a time, in column blocks of about COLUMN_BLOCK (multiples of 16, as even as possible).
    ptrdiff_t blocks = (n + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    ptrdiff_t width = ((n + blocks - 1) / blocks + 15) / 16 * 16;
    for (; r + 8 <= rows; r += 8) {
        const float *wr = w + r * w_stride;
        for (ptrdiff_t k0 = 0; k0 < n; k0 += width) {
            ptrdiff_t k1 = k0 + width < n ? k0 + width : n;
            int first = k0 == 0;
            ptrdiff_t t = 0;
            for (; t + 3 <= batch; t += 3) {
                tile8x3(wr, w_stride, x + t * x_stride, x_stride, y + t * y_stride + r, y_stride, k0, k1, first);
            }
            if (t + 2 <= batch) {
                tile8x2(wr, w_stride, x + t * x_stride, x_stride, y + t * y_stride + r, y_stride, k0, k1, first);
                t += 2;
            }
            for (; t < batch; t++) tile8x1(wr, w_stride, x + t * x_stride, y + t * y_stride + r, k0, k1, first);
        }
    }
    for (; r + 4 <= rows; r += 4) {
        const float *wr = w + r * w_stride;
        ptrdiff_t t = 0;
        for (; t + 4 <= batch; t += 4) tile4x4(wr, w_stride, n, x + t * x_stride, x_stride, y + t * y_stride + r, y_stride);
        for (; t < batch; t++) {
            float sums[4];
            tile4x1(wr, w_stride, n, x + t * x_stride, sums);
            for (int k = 0; k < 4; k++) y[t * y_stride + r + k] = sums[k];
        }
    }
    for (; r < rows; r++) {
        for (ptrdiff_t t = 0; t < batch; t++) y[t * y_stride + r] = dot1(w + r * w_stride, n, x + t * x_stride);
    }
}

TARGET void qwenkit_gemm_f32_avx512(const float *w, ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t batch,
                                    float *y, ptrdiff_t y_stride) {
    qwenkit_gemm_strided_avx512(w, n, rows, n, x, n, batch, y, y_stride);
}

/// e^x for 16 lanes, x ≤ 100 (softmax's shifted scores are ≤ 0, silu's −x is clamped): x = k·ln 2 + r with |r| ≤
/// ln 2 / 2, e^r by Cephes' expf polynomial (within 2 ulp of the correctly rounded value), times 2^k by vscalefps (0
/// below the smallest float, +inf past the largest, as expf overflows past ~88.7).
TARGET static inline __m512 exp_lanes(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 z = _mm512_mul_ps(r, r);
    __m512 y = _mm512_set1_ps(1.9875691500E-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507E-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073E-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894E-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459E-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201E-1f));
    y = _mm512_fmadd_ps(y, z, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(y, k);
}

/// x[i] = x[i] / (1 + e^{−x[i]}) · y[i] for i < n: SwiGLU's silu times the up projection, in the portable path's order
/// of operations, e^{−x} by exp_lanes (e^t for t > 0 too: vscalefps gives +inf past the largest float, as
/// expf does, and the quotient is then −0). libm's expf, once per value, was 1% of two-thread generation's samples.
TARGET static inline __m512 silu_times(__m512 v, __m512 y) {
    // Where v is NaN, vminps gives 100 (its second operand): the NaN goes on through v.
    __m512 e = exp_lanes(_mm512_min_ps(_mm512_sub_ps(_mm512_setzero_ps(), v), _mm512_set1_ps(100.0f)));
    return _mm512_mul_ps(_mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), y);
}

TARGET void qwenkit_silu_multiply_avx512(float *x, const float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, silu_times(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, tail, silu_times(_mm512_maskz_loadu_ps(tail, x + i), _mm512_maskz_loadu_ps(tail, y + i)));
    }
}

TARGET void qwenkit_softmax_scaled_avx512(float *x, ptrdiff_t n, float scale) {
    if (n <= 0) return;
    __m512 m = _mm512_set1_ps(-__builtin_inff());
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
    if (i < n) m = _mm512_mask_max_ps(m, tail, m, _mm512_maskz_loadu_ps(tail, x + i));
    __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(m)), vscale = _mm512_set1_ps(scale);
    __m512 sum = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = exp_lanes(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmax), vscale));
        _mm512_storeu_ps(x + i, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (i < n) {
        __m512 e = exp_lanes(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), vmax), vscale));
        e = _mm512_maskz_mov_ps(tail, e);
        _mm512_mask_storeu_ps(x + i, tail, e);
        sum = _mm512_add_ps(sum, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
    if (i < n) _mm512_mask_storeu_ps(x + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), inv));
}

/// out[g·out_stride + d] = Σ_j p[g·p_stride + j] · v[j·v_stride + d] for g < groups, d < width: the weighted sum of
/// value rows, 8 rows × 32 columns of sums in registers per pass over the values, so that a 64-wide head reads the
/// values once per 8 rows.
TARGET void qwenkit_weighted_rows_avx512(const float *p, ptrdiff_t p_stride, ptrdiff_t groups, ptrdiff_t count,
                                         const float *v, ptrdiff_t v_stride, ptrdiff_t width, float *out,
                                         ptrdiff_t out_stride, int accumulate) {
    for (ptrdiff_t g0 = 0; g0 < groups; g0 += 8) {
        ptrdiff_t gs = groups - g0 < 8 ? groups - g0 : 8;
        for (ptrdiff_t d0 = 0; d0 < width; d0 += 32) {
            ptrdiff_t left = width - d0;
            __mmask16 m0 = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            __mmask16 m1 = left >= 32 ? (__mmask16)0xFFFF : left <= 16 ? (__mmask16)0 : (__mmask16)((1u << (left - 16)) - 1);
            __m512 acc[8][2];
            for (int g = 0; g < 8; g++) acc[g][0] = acc[g][1] = _mm512_setzero_ps();
            const float *pg = p + g0 * p_stride;
            if (gs == 8) {
                for (ptrdiff_t j = 0; j < count; j++) {
                    const float *vj = v + j * v_stride + d0;
                    __m512 v0 = _mm512_maskz_loadu_ps(m0, vj), v1 = _mm512_maskz_loadu_ps(m1, vj + 16);
                    for (int g = 0; g < 8; g++) {
                        __m512 pj = _mm512_set1_ps(pg[g * p_stride + j]);
                        acc[g][0] = _mm512_fmadd_ps(pj, v0, acc[g][0]);
                        acc[g][1] = _mm512_fmadd_ps(pj, v1, acc[g][1]);
                    }
                }
            } else {
                for (ptrdiff_t j = 0; j < count; j++) {
                    const float *vj = v + j * v_stride + d0;
                    __m512 v0 = _mm512_maskz_loadu_ps(m0, vj), v1 = _mm512_maskz_loadu_ps(m1, vj + 16);
                    for (int g = 0; g < gs; g++) {
                        __m512 pj = _mm512_set1_ps(pg[g * p_stride + j]);
                        acc[g][0] = _mm512_fmadd_ps(pj, v0, acc[g][0]);
                        acc[g][1] = _mm512_fmadd_ps(pj, v1, acc[g][1]);
                    }
                }
            }
            for (ptrdiff_t g = 0; g < gs; g++) {
                float *o = out + (g0 + g) * out_stride + d0;
                __m512 r0 = acc[g][0], r1 = acc[g][1];
                if (accumulate) {
                    r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, o));
                    r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, o + 16));
                }
                _mm512_mask_storeu_ps(o, m0, r0);
                _mm512_mask_storeu_ps(o + 16, m1, r1);
            }
        }
    }
}

#else

int qwenkit_avx512_usable(void) { return 0; }

void qwenkit_gemm_f32_avx512(const float *w, ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t batch,
                             float *y, ptrdiff_t y_stride) {
    (void)w; (void)rows; (void)n; (void)x; (void)batch; (void)y; (void)y_stride;
    abort();
}

void qwenkit_gemm_strided_avx512(const float *w, ptrdiff_t w_stride, ptrdiff_t rows, ptrdiff_t n, const float *x,
                                 ptrdiff_t x_stride, ptrdiff_t batch, float *y, ptrdiff_t y_stride) {
    (void)w; (void)w_stride; (void)rows; (void)n; (void)x; (void)x_stride; (void)batch; (void)y; (void)y_stride;
    abort();
}

void qwenkit_softmax_scaled_avx512(float *x, ptrdiff_t n, float scale) { (void)x; (void)n; (void)scale; abort(); }
void qwenkit_silu_multiply_avx512(float *x, const float *y, ptrdiff_t n) { (void)x; (void)y; (void)n; abort(); }

void qwenkit_weighted_rows_avx512(const float *p, ptrdiff_t p_stride, ptrdiff_t groups, ptrdiff_t count,
                                  const float *v, ptrdiff_t v_stride, ptrdiff_t width, float *out,
                                  ptrdiff_t out_stride, int accumulate) {
    (void)p; (void)p_stride; (void)groups; (void)count; (void)v; (void)v_stride; (void)width; (void)out;
    (void)out_stride; (void)accumulate;
    abort();
}

#endif
