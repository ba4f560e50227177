#ifndef QWENKIT_RUNTIME_KERNELS_H
#define QWENKIT_RUNTIME_KERNELS_H

// The runtime's AVX-512 kernels, and AVX2 ones for generation on CPUs without AVX-512, chosen at run time. Release
// builds target haswell (AVX2) so that the binary runs on every x86 server of the last decade; code for wider registers
// has to be compiled for them function by function and called only where the CPU has them. Swift has no per-function
// target attribute, so these few kernels are C (clang's `target` attribute and intrinsics). The portable Swift kernels
// stay, and the tests run all three.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU and OS run the AVX-512 kernels (AVX-512 F, BW, VL, DQ and the ZMM state enabled), else 0.
/// Unset environment variable QWENKIT_NO_AVX512 aside: with it set (any value) this returns 0, so that what a CPU
/// without AVX-512 runs (the AVX2 kernels below, the portable Swift ones) can be run and measured on any machine.
int qwenkit_avx512_usable(void);

/// Fills the f16 -> float table the generation kernels read their block scales from; qwenkit_avx512_usable() calls it
/// when it returns 1 (once per process is enough; calling it again rewrites the same values).
void qwenkit_fill_half_table(void);

/// y[t·y_stride + r] = Σ_c w[r·n + c] · x[t·n + c] for every row r < rows and token t < batch: float32 rows (decoded
/// weights) times float32 activations, float32 accumulation. Tiles of 8 rows × 3 tokens (24 accumulators) over column
/// blocks of about 1,024 (the rows' block stays in L1), then 4 × 4 tiles and single rows for what is left; 16 lanes per
/// register, masked loads for the last n % 16 columns. Call only when qwenkit_avx512_usable() is 1.
void qwenkit_gemm_f32_avx512(const float *w, ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t batch,
                             float *y, ptrdiff_t y_stride);

/// The same with row strides: y[t·y_stride + r] = Σ_c w[r·w_stride + c] · x[t·x_stride + c] (attention's scores: keys
/// in the cache, a group's queries side by side).
void qwenkit_gemm_strided_avx512(const float *w, ptrdiff_t w_stride, ptrdiff_t rows, ptrdiff_t n, const float *x,
                                 ptrdiff_t x_stride, ptrdiff_t batch, float *y, ptrdiff_t y_stride);

/// x[i] = e^{scale·(x[i] − max)} / Σ for i < n (scale > 0): softmax of the scaled scores, the exponential a polynomial
/// within 2 ulp (libm's expf, which the portable path calls once per score, was most of a long prompt's time).
void qwenkit_softmax_scaled_avx512(float *x, ptrdiff_t n, float scale);

/// x[i] = x[i] / (1 + e^{−x[i]}) · y[i] for i < n (SwiGLU: silu of the gate times the up projection), the exponential
/// the softmax's polynomial (within 2 ulp of expf's, which the portable path calls once per value).
void qwenkit_silu_multiply_avx512(float *x, const float *y, ptrdiff_t n);

/// out[g·out_stride + d] (+)= Σ_{j < count} p[g·p_stride + j] · v[j·v_stride + d] for g < groups, d < width (attention's
/// weighted sum of value rows for the query rows sharing them; `accumulate` adds to out instead of storing). 8 rows ×
/// 32 columns per pass over the values.
void qwenkit_weighted_rows_avx512(const float *p, ptrdiff_t p_stride, ptrdiff_t groups, ptrdiff_t count,
                                  const float *v, ptrdiff_t v_stride, ptrdiff_t width, float *out,
                                  ptrdiff_t out_stride, int accumulate);

/// Σ row · x over n elements (any n) of a stored F16 or BF16 row.
float qwenkit_dot_f16_avx512(const void *row, const float *x, ptrdiff_t n);
float qwenkit_dot_bf16_avx512(const void *row, const float *x, ptrdiff_t n);

/// Σ row · x over n elements (a multiple of the type's block) of a stored Q8_0, Q4_0, Q5_0, Q4_K or Q6_K row: each block's values
/// rebuilt as ggml's dequantize_row_* builds them (Q4_0, Q5_0, Q5_1, Q6_K and the IQ4 types: the block's integer
/// values, their sum then multiplied by the block's scale, and for Q5_1 a min times the activations' sum; Q4_K and Q5_K:
/// each sub-block's values looked up in a table of d·scale·q − dmin·min), float32 accumulation, 16 lanes. Generation's
/// kernels (one token: the weights stream by once). Call only when qwenkit_avx512_usable() is 1 (which also fills the
/// f16 table their scales are read from).
float qwenkit_dot_q8_0_avx512(const void *row, const float *x, ptrdiff_t n);
float qwenkit_dot_q4_0_avx512(const void *row, const float *x, ptrdiff_t n);
float qwenkit_dot_q5_0_avx512(const void *row, const float *x, ptrdiff_t n);

/// Q5_0 (with_min 0) and Q5_1 (with_min 1) repacked for generation (dot_avx512.c says why and how): `rows` rows of
/// `blocks` blocks each, from the file's layout at `source` into `destination` (the same number of bytes). Call only
/// when qwenkit_avx512_usable() is 1, as for the kernels that read it.
void qwenkit_pack_q5_pairs(const void *source, void *destination, ptrdiff_t rows, ptrdiff_t blocks, int with_min);
/// A repacked row's n values as floats (those of the portable decoders); the rows kernel is below (the same floats as
/// qwenkit_rows_q5_0_avx512 or qwenkit_rows_q5_1_avx512 on the rows before repacking).
void qwenkit_decode_q5_pairs_avx512(const void *row, float *out, ptrdiff_t n, int with_min);
/// Q5_K repacked the same way (dot_avx512.c): `super_blocks` super-blocks of 176 bytes into as many; the portable
/// decoder's floats (its rows kernel is below, the same floats as qwenkit_rows_q5_K_avx512 before repacking).
void qwenkit_pack_q5_K(const void *source, void *destination, ptrdiff_t super_blocks);
void qwenkit_decode_q5_K_packed_avx512(const void *row, float *out, ptrdiff_t n);
float qwenkit_dot_q4_K_avx512(const void *row, const float *x, ptrdiff_t n);
/// Q5_1 and Q5_K rows (no portable fused kernel: the portable path decodes them, then multiplies).
float qwenkit_dot_q5_1_avx512(const void *row, const float *x, ptrdiff_t n);
float qwenkit_dot_q5_K_avx512(const void *row, const float *x, ptrdiff_t n);
float qwenkit_dot_q6_K_avx512(const void *row, const float *x, ptrdiff_t n);
/// The same for IQ4_NL and IQ4_XS rows; `table_lo`, `table_hi` hold kvalues_iq4nl, value i in byte i % 8 of word
/// i / 8 (Quantization's IQ4PackedValues.littleEndianHalves).
float qwenkit_dot_iq4_nl_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi);
float qwenkit_dot_iq4_xs_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi);
/// y[r] = Σ row_r · x over n elements for r < rows, row r's bytes at base + r·row_bytes: generation's matrix products,
/// one call per range of rows. Each y[r] is the same float as the type's qwenkit_dot_*_avx512 of the row (the rows'
/// horizontal sums are done 16 rows at a time, pairing the lanes the same way). Call only when qwenkit_avx512_usable() is 1.
void qwenkit_rows_f16_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_bf16_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q8_0_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q4_0_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q5_0_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q5_pairs_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                  int with_min);
void qwenkit_rows_q5_1_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q4_K_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q5_K_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q5_K_packed_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q6_K_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_iq4_nl_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                uint64_t table_lo, uint64_t table_hi);
void qwenkit_rows_iq4_xs_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                uint64_t table_lo, uint64_t table_hi);
/// IQ4_NL and IQ4_XS rows decoded to `n` floats (the prompt tiles' input), the values the portable decoders give.
void qwenkit_decode_iq4_nl_avx512(const void *row, float *out, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi);
void qwenkit_decode_iq4_xs_avx512(const void *row, float *out, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi);
/// Q6_K rows decoded to `n` floats (the output matrix of the K-quant mixes), the portable decoder's values.
void qwenkit_decode_q6_K_avx512(const void *row, float *out, ptrdiff_t n);

// AVX2 kernels for CPUs without AVX-512 (dot_avx2.c), chosen at run time the same way.

/// 1 when this CPU runs the AVX2 kernels (AVX2 and FMA), else 0; fills their f16 -> float table when it returns 1.
int qwenkit_avx2_usable(void);
/// Generation's matrix products for the 4-, 5- and 6-bit types: y[r] = row r · x for r < rows, row r at base + r·row_bytes,
/// n columns; each y[r] the same float whatever `rows` is (a row's sum does not depend on its neighbours). The IQ4
/// kernels take kvalues_iq4nl as 16 int8 in two little-endian words, as the AVX-512 ones. Call only when
/// qwenkit_avx2_usable() is 1.
void qwenkit_rows_q4_K_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
/// y[t·y_stride + r] = Σ_c w[r·n + c] · x[t·n + c] for r < rows, t < batch (the batch path's decoded rows, as
/// qwenkit_gemm_f32_avx512): tiles of 4 rows × 3 tokens over column blocks of about 1,024. Call only when
/// qwenkit_avx2_usable() is 1.
void qwenkit_gemm_f32_avx2(const float *w, ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t batch, float *y,
                           ptrdiff_t y_stride);
void qwenkit_rows_q5_0_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_q6_K_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y);
void qwenkit_rows_iq4_nl_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                              uint64_t table_lo, uint64_t table_hi);
void qwenkit_rows_iq4_xs_avx2(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                              uint64_t table_lo, uint64_t table_hi);

#ifdef __cplusplus
}
#endif

#endif
