// AVX2 float32 matrix product for the batch path (prompt processing) on CPUs without AVX-512: decoded weight rows times
// a batch of activations, in tiles of 4 rows × 3 tokens (12 accumulators, 3 activation registers and one weight
// register: all 16) over column blocks of about 1,024, so that the tile's rows stay in L1 while every token's slice
// streams by. The portable Swift path multiplies 4 rows by 2 tokens over whole rows. See include/runtime_kernels.h.

#include "runtime_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>

#define TARGET __attribute__((target("avx2,fma")))

/// Columns per pass over the tokens (4 rows of 1,024 floats: 16 KB).
#define COLUMN_BLOCK 1024

/// 8 lanes on, then 8 off: the mask for the last m < 8 columns starts at 8 − m.
static const int32_t tail_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

TARGET static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Rows 0 … R−1 (stride n) times tokens 0 … T−1 (stride xs) over columns [k0, k1): each sum stored (`first`) or added
/// to y[t·ys + r]. R ≤ 4 and T ≤ 3 are constants in each caller.
TARGET static inline void tile(const float *w, ptrdiff_t n, const float *x, ptrdiff_t xs, float *y, ptrdiff_t ys, ptrdiff_t k0,
                               ptrdiff_t k1, int first, const int R, const int T) {
    __m256 acc[4][3];
    for (int r = 0; r < R; r++) for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    ptrdiff_t i = k0;
    for (; i + 8 <= k1; i += 8) {
        __m256 v[3];
        for (int t = 0; t < T; t++) v[t] = _mm256_loadu_ps(x + t * xs + i);
        for (int r = 0; r < R; r++) {
            __m256 q = _mm256_loadu_ps(w + r * n + i);
            for (int t = 0; t < T; t++) acc[r][t] = _mm256_fmadd_ps(q, v[t], acc[r][t]);
        }
    }
    if (i < k1) {
        __m256i m = _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - (k1 - i)));
        __m256 v[3];
        for (int t = 0; t < T; t++) v[t] = _mm256_maskload_ps(x + t * xs + i, m);
        for (int r = 0; r < R; r++) {
            __m256 q = _mm256_maskload_ps(w + r * n + i, m);
            for (int t = 0; t < T; t++) acc[r][t] = _mm256_fmadd_ps(q, v[t], acc[r][t]);
        }
    }
    for (int t = 0; t < T; t++) {
        for (int r = 0; r < R; r++) {
            float s = hsum8(acc[r][t]), *out = y + t * ys + r;
            *out = first ? s : *out + s;
        }
    }
}

#define TILE(R, T) tile(w, n, x, xs, y, ys, k0, k1, first, R, T)

/// `tile` with R and T as constants.
TARGET static void tile_any(const float *w, ptrdiff_t n, const float *x, ptrdiff_t xs, float *y, ptrdiff_t ys, ptrdiff_t k0,
                            ptrdiff_t k1, int first, int R, int T) {
    switch (R * 4 + T) {
    case 4 + 1: TILE(1, 1); break;
    case 4 + 2: TILE(1, 2); break;
    case 4 + 3: TILE(1, 3); break;
    case 8 + 1: TILE(2, 1); break;
    case 8 + 2: TILE(2, 2); break;
    case 8 + 3: TILE(2, 3); break;
    case 12 + 1: TILE(3, 1); break;
    case 12 + 2: TILE(3, 2); break;
    case 12 + 3: TILE(3, 3); break;
    case 16 + 1: TILE(4, 1); break;
    case 16 + 2: TILE(4, 2); break;
    default: TILE(4, 3); break;
    }
}

TARGET void qwenkit_gemm_f32_avx2(const float *w, ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t batch, float *y,
                                  ptrdiff_t y_stride) {
    if (rows <= 0 || n <= 0 || batch <= 0) return;
    // Column blocks of about COLUMN_BLOCK, multiples of 8, as even as possible.
    ptrdiff_t blocks = (n + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    ptrdiff_t width = ((n + blocks - 1) / blocks + 7) / 8 * 8;
    for (ptrdiff_t r = 0; r < rows; r += 4) {
        int R = rows - r < 4 ? (int)(rows - r) : 4;
        for (ptrdiff_t k0 = 0; k0 < n; k0 += width) {
            ptrdiff_t k1 = k0 + width < n ? k0 + width : n;
            ptrdiff_t t = 0;
            for (; t + 3 <= batch; t += 3) tile_any(w + r * n, n, x + t * n, n, y + t * y_stride + r, y_stride, k0, k1, k0 == 0, R, 3);
            if (t < batch) tile_any(w + r * n, n, x + t * n, n, y + t * y_stride + r, y_stride, k0, k1, k0 == 0, R, (int)(batch - t));
        }
    }
}

#else

#include <stdlib.h>

void qwenkit_gemm_f32_avx2(const float *w, ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t batch, float *y,
                           ptrdiff_t y_stride) {
    (void)w; (void)rows; (void)n; (void)x; (void)batch; (void)y; (void)y_stride; abort();
}

#endif
