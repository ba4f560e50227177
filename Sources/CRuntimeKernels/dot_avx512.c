// AVX-512 dot products of one stored weight row with float32 activations, for generation (one token per step:
// every weight is read once per token, so these loops stream bytes). Each block's values are rebuilt as ggml's
// dequantize_row_* builds them and multiplied into float32 accumulators, as the portable Swift kernels in
// Sources/Qwen2Runtime/Kernels/RowKernels.swift do, 16 lanes at a time; the 4- and 5-bit 32-value blocks multiply by
// their scale once per block instead of once per value (below). See include/runtime_kernels.h.

#include "runtime_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,bmi2")))

/// How far ahead the loops prefetch: 3 KB (the Swift kernels use 2 KB, see CPrefetch; on one thread over 400 MB of
/// rows, 3 KB read Q8_0 at 11.4-11.6 GB/s against 10.5-10.9 at 2 KB and 9.3 at 1 KB, 4 KB 11.2-11.3, and the 4-bit
/// blocks gained 2-6% likewise).
#define AHEAD 3072

/// The f16 at p in every lane. A whole-register broadcast: a scalar conversion (_cvtsh_ss, or _mm_cvtph_ps of a
/// scalar) compiles to a vpinsrw into whatever register is free, an accumulator's included, which chained every block
/// on the previous block's sum (Q8_0 generation ran at two thirds of the portable kernel's speed).
TARGET static inline __m512 half_vector(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _mm512_cvtph_ps(_mm256_set1_epi16((short)h));
}

/// acc + a · *s in every lane, *s read by the fused product as a broadcast memory operand (a load, no shuffle). Written
/// out because clang otherwise loads neighbouring scales together and broadcasts them from registers, a shuffle-port
/// operation each.
TARGET static inline __m512 fmadd_broadcast(__m512 a, const float *s, __m512 acc) {
    __asm__("vfmadd231ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*s));
    return acc;
}

/// *s in every lane, by a broadcast load (a load, no shuffle); written out for the same reason.
TARGET static inline __m512 broadcast_load(const float *s) {
    __m512 v;
    __asm__("vbroadcastss %1, %0" : "=v"(v) : "m"(*s));
    return v;
}

/// *s in every 32-bit lane, by a broadcast load: a value computed in general registers reaches a vector register
/// through a store and this load, not vpbroadcastd from the register (a shuffle-port operation).
TARGET static inline __m512i broadcast_load_epi32(const uint32_t *s) {
    __m512i v;
    __asm__("vpbroadcastd %1, %0" : "=v"(v) : "m"(*s));
    return v;
}

/// 16 unsigned bytes as floats.
TARGET static inline __m512 floats_u8(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)); }

/// 16 16-bit floats as floats: F16 through vcvtph2ps, BF16 (`brain`) moved to the top half of each float.
TARGET static inline __m512 widen16(__m256i h, int brain) {
    return brain ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)) : _mm512_cvtph_ps(h);
}

/// F16 and BF16 rows: 16 values widened per load, four accumulators (`brain` is a constant in each caller, so each
/// gets its own loop). Like every `*_lanes` kernel below it returns the row's 16 partial sums; the dot is their
/// horizontal sum (`_mm512_reduce_add_ps`, or `reduce16` for 16 rows at once).
TARGET static inline __m512 halves_lanes(const void *row, const float *x, ptrdiff_t n, int brain) {
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
    return _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
}

TARGET float qwenkit_dot_f16_avx512(const void *row, const float *x, ptrdiff_t n) {
    return _mm512_reduce_add_ps(halves_lanes(row, x, n, 0));
}
TARGET float qwenkit_dot_bf16_avx512(const void *row, const float *x, ptrdiff_t n) {
    return _mm512_reduce_add_ps(halves_lanes(row, x, n, 1));
}

// The 4- and 5-bit 32-value block types (Q4_0, Q5_0, Q5_1, IQ4_NL) and IQ4_XS's 32-value sub-blocks take their scale
// out of the block's sum: Σ d·v_j·x_j = d · Σ v_j·x_j, with v_j the block's integer values (minus their offset) as
// floats, which are exact (Q5_1 adds m · Σ x_j). A block then costs its values' widening, one product or fused product
// per 16 values and one fused product by d, where multiplying every value by d first cost 16 lanes' worth per 16 values
// more. 4-bit indices become floats through vpermps over a 16-float table (vpermps reads the low 4 bits of each lane, so
// the low nibble needs no mask), not vpshufb then a widening then a conversion. Float32 throughout; the sums differ from
// multiplying the dequantized weights by float rounding only (measured on one thread over 400 MB of 896-column rows,
// 2026-12-07, prefetching 2 KB ahead: IQ4_NL 6.2 -> 9.5 GB/s, Q5_0 6.2 -> 8.7, Q4_0 6.3 -> 9.5, and IQ4_XS on
// 4,864-column rows 5.4 -> 8.3, where a plain read of the same buffer ran at 11.5).
//
// These loops are bound by the two ports that 512-bit operations use (vpmovzxbd, vpermps and the other shuffles on only
// one of them: one per cycle), not by memory: the same rows from L1 run no faster. Each block's f16 scale is therefore read as a float from a 65,536-entry
// table (`half_table`, as ggml's ggml_table_f32_f16) by the block's fused product, as a broadcast memory operand: a
// load, no vector operation. Converting 16 scales at a time (a gather, vpmovdw, vcvtph2ps, a store) cost 0.5 cycles per
// block, 10% of IQ4_NL's block (4.6 -> 4.1 cycles per block in a loop over L1-resident blocks), and the per-block
// broadcast and conversion before that three vector operations. Only the scales a model uses are read: a few KB of it.

/// The float value of every f16 bit pattern (vcvtph2ps's), filled by qwenkit_avx512_usable() before any kernel runs.
static float half_table[65536];

TARGET void qwenkit_fill_half_table(void) {
    for (int i = 0; i < 65536; i += 16) {
        __m512i h = _mm512_add_epi32(_mm512_set1_epi32(i), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        _mm512_storeu_ps(half_table + i, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
    }
}

/// The f16 at p as a float, from the table.
static inline float half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return half_table[h];
}

/// Σ table[index_j]·x_j over one block's 16 bytes of 4-bit indices at q (element j the low nibble of byte j, element
/// j + 16 its high nibble).
TARGET static inline __m512 nibbles_sum(const uint8_t *q, const float *x, __m512 table) {
    __m512i i = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)q));
    __m512 w0 = _mm512_permutexvar_ps(i, table), w1 = _mm512_permutexvar_ps(_mm512_srli_epi32(i, 4), table);
    return _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(x)));
}

/// A 5-bit block's qh (32 bits, bit j the fifth bit of element j) at qh and its 16 bytes of low nibbles at q: each
/// element's 5-bit value indexes a 32-float table (vpermt2ps: `table` for 0-15, `high` = table + 16 for 16-31). The
/// fifth bits reach bit 4 of the indices without mask registers and without the shuffle port. Lane j of the widened
/// bytes i holds element j's nibble (bits 0-3) and element 16 + j's (bits 4-7). qh is rearranged in general registers
/// (two pdep: byte k of w = qh's nibble k | qh's nibble 4 + k << 4, so that qh bits j and 16 + j sit 4 apart at bits
/// s_j and s_j + 4, s_j = 8·(j / 4) + j % 4), broadcast from memory, and rotated per lane so that bit s_j lands on bit 4
/// and bit s_j + 4 on bit 8. One vpternlogd then takes i's bits 0-3 and the rest from the rotated w (element j's index;
/// vpermt2ps ignores bits 5-31), another i's bits 4-7 and the rest from w, shifted right by 4 (element 16 + j's).
///
/// Per block 10 vector operations, three of them on the shuffle port (the widening and the two lookups), where
/// rotating qh once per half took 11. Masks loaded from qh (kmovw k, m16, or kmovd from a general register) and
/// masked adds of 16 ran a loop over L1-resident blocks at 6.4-6.7 cycles per block against 4.1 without the fifth bits:
/// moving bits into mask registers takes the shuffle port, which the widening and the lookups already fill.
/// vpmultishiftqb (AVX-512 VBMI) picks both bits for a lane in one operation too, but runs on the shuffle port
/// (measured here: it and vpermps share one port at one per cycle): Q5_0 5.92 against 5.99 cycles per block over
/// L1-resident 4,864-column rows, where this way measured 5.71.
TARGET static inline __m512 fives_sum(const uint8_t *qh, const uint8_t *q, const float *x, __m512 table, __m512 high) {
    // Lane j: rotate bit s_j = 8·(j / 4) + j % 4 to bit 4.
    const __m512i rotate = _mm512_setr_epi32(4, 3, 2, 1, 28, 27, 26, 25, 20, 19, 18, 17, 12, 11, 10, 9);
    const __m512i low_nibble = _mm512_set1_epi32(0x0F), high_nibble = _mm512_set1_epi32(0xF0);
    uint32_t bits;
    memcpy(&bits, qh, 4);
    uint32_t w = _pdep_u32(bits, 0x0F0F0F0Fu) | _pdep_u32(bits >> 16, 0xF0F0F0F0u);
    __m512i f = _mm512_rolv_epi32(broadcast_load_epi32(&w), rotate);
    __m512i i = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)q));
    // 0xCA: where the first operand has a bit, take i's, elsewhere f's.
    __m512i i0 = _mm512_ternarylogic_epi32(low_nibble, i, f, 0xCA);
    __m512i i1 = _mm512_srli_epi32(_mm512_ternarylogic_epi32(high_nibble, i, f, 0xCA), 4);
    __m512 w0 = _mm512_permutex2var_ps(table, i0, high), w1 = _mm512_permutex2var_ps(table, i1, high);
    return _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(x)));
}

/// Q4_0 (d, 16 bytes of nibbles; value d·(q − 8)), Q5_0 (d, qh, nibbles; d·(q − 16)), Q5_1 (d, m, qh, nibbles; d·q + m)
/// and IQ4_NL (d, nibbles indexing kvalues_iq4nl).
enum block_kind { KIND_Q4_0, KIND_Q5_0, KIND_Q5_1, KIND_IQ4_NL };

/// One block's Σ v_j·x_j for the kind (a constant in each caller, so each gets its own loop).
TARGET static inline __m512 block_sum(enum block_kind kind, const uint8_t *b, const float *x, __m512 table, __m512 high) {
    switch (kind) {
    case KIND_Q5_0: return fives_sum(b + 2, b + 6, x, table, high);
    case KIND_Q5_1: return fives_sum(b + 4, b + 8, x, table, high);
    default: return nibbles_sum(b + 2, x, table);
    }
}

/// Σ row·x over the n / 32 blocks of `bytes` bytes, each starting with its f16 scale (Q5_1's min after it): two blocks
/// per step into two accumulators.
TARGET static inline __m512 scaled_blocks_lanes(enum block_kind kind, const uint8_t *b, ptrdiff_t bytes, const float *x,
                                                 ptrdiff_t n, __m512 table) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), mins = _mm512_setzero_ps();
    const int with_min = kind == KIND_Q5_1;
    const __m512 high = _mm512_add_ps(table, _mm512_set1_ps(16.0f));
    ptrdiff_t blocks = n / 32, i = 0;
    for (; i + 2 <= blocks; i += 2, b += 2 * bytes, x += 64) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        acc0 = _mm512_fmadd_ps(block_sum(kind, b, x, table, high), _mm512_set1_ps(half_at(b)), acc0);
        acc1 = _mm512_fmadd_ps(block_sum(kind, b + bytes, x + 32, table, high), _mm512_set1_ps(half_at(b + bytes)), acc1);
        if (with_min) {
            // m · Σ x over each block
            mins = _mm512_fmadd_ps(_mm512_add_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)), _mm512_set1_ps(half_at(b + 2)), mins);
            mins = _mm512_fmadd_ps(_mm512_add_ps(_mm512_loadu_ps(x + 32), _mm512_loadu_ps(x + 48)),
                                   _mm512_set1_ps(half_at(b + bytes + 2)), mins);
        }
    }
    if (i < blocks) {
        acc0 = _mm512_fmadd_ps(block_sum(kind, b, x, table, high), _mm512_set1_ps(half_at(b)), acc0);
        if (with_min) mins = _mm512_fmadd_ps(_mm512_add_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)), _mm512_set1_ps(half_at(b + 2)), mins);
    }
    return _mm512_add_ps(_mm512_add_ps(acc0, acc1), mins);
}

/// kvalues_iq4nl as 16 floats.
TARGET static inline __m512 iq4_table(uint64_t table_lo, uint64_t table_hi) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_set_epi64x((long long)table_hi, (long long)table_lo)));
}

/// The floats i − offset for i < 16 (Q4_0's and Q5_0's low nibbles minus their offset, exact).
TARGET static inline __m512 offset_table(float offset) {
    return _mm512_sub_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_ps(offset));
}

// Q5_0 and Q5_1 in pairs of blocks, repacked once at load (`qwenkit_pack_q5_pairs`). In the file's layout a block's 32
// 5-bit values take a widening, a rotate of the fifth bits, two merges and a shift before their two lookups (10 vector
// operations per block with the products, 6.0 cycles from memory, where the read speed needs about 5). Repacked, two
// blocks take the bytes they took before: their headers (Q5_0: d; Q5_1: d, m; f16), 16 little-endian words W_j = q0_j
// | q0_{16+j} << 5 | (q1_{16+j} >> 4) << 10 | q1_j << 11, and one 64-bit word Q of the other 16 low nibbles of block 1's
// second half, nibble k (bits 4k to 4k + 3) for element 16 + 2k and nibble 8 + k for 16 + 2k + 1, where q is a block's
// 5-bit value (0-31). One widening of W gives block 0's first half in bits 0-4 (vpermt2ps reads only those), shifts by
// 5 and 11 give block 0's second half and block 1's first; a broadcast of Q shifted per 64-bit lane by 4k puts nibble k
// in 32-bit lane 2k and nibble 8 + k in lane 2k + 1, and one merge adds bit 10 of W (shifted by 6) as the fifth bit. 8
// vector operations per block: 16 per pair, 5 on the shuffle port. The lookups, products and sums are the file layout's
// (`fives_sum`, two blocks per step into two accumulators, Q5_1's minimum times the block's Σx into a third), so every
// sum is the same float. A row with an odd number of blocks keeps its last block in the file's layout.

/// The bytes before a block's qh: Q5_0's d, Q5_1's d and m.
static inline ptrdiff_t q5_header(int with_min) { return with_min ? 4 : 2; }

/// A block's values (0-31) in the file's layout: elements 0-15 in *low's lanes, 16-31 in *high's.
TARGET static inline void q5_value_lanes(const uint8_t *block, int with_min, __m512i *low, __m512i *high) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), one = _mm512_set1_epi32(1);
    const uint8_t *qh = block + q5_header(with_min);
    uint32_t bits;
    memcpy(&bits, qh, 4);
    __m512i all = _mm512_set1_epi32((int)bits);
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 4)));
    __m512i fifth0 = _mm512_and_si512(_mm512_srlv_epi32(all, lane), one);
    __m512i fifth1 = _mm512_and_si512(_mm512_srlv_epi32(all, _mm512_add_epi32(lane, _mm512_set1_epi32(16))), one);
    *low = _mm512_or_si512(_mm512_and_si512(q, _mm512_set1_epi32(0x0F)), _mm512_slli_epi32(fifth0, 4));
    *high = _mm512_or_si512(_mm512_srli_epi32(q, 4), _mm512_slli_epi32(fifth1, 4));
}

/// 4k in each 64-bit lane k: how far nibbles k and 8 + k of a packed pair's Q sit from bits 0 and 32 of lane k
/// (store_packed64 shifts them up by it, pair_indices down).
TARGET static inline __m512i nibble_shifts(void) { return _mm512_setr_epi64(0, 4, 8, 12, 16, 20, 24, 28); }

/// 64 values (0-31) as the packed layout stores them at w: lanes of v0 in W's bits 0-4, v1 in bits 5-9, v2 in bits
/// 11-15, v3's fifth bits in bit 10 and its low nibbles in Q (32 bytes on: nibble k for lane 2k, nibble 8 + k for lane
/// 2k + 1).
TARGET static inline void store_packed64(uint8_t *w, __m512i v0, __m512i v1, __m512i v2, __m512i v3) {
    __m512i words = _mm512_or_si512(_mm512_or_si512(v0, _mm512_slli_epi32(v1, 5)),
                                    _mm512_or_si512(_mm512_slli_epi32(_mm512_srli_epi32(v3, 4), 10), _mm512_slli_epi32(v2, 11)));
    _mm256_storeu_si256((__m256i *)w, _mm512_cvtepi32_epi16(words));
    // 32-bit lanes 2k and 2k + 1 are 64-bit lane k: nibble k at bit 4k, nibble 8 + k at bit 32 + 4k.
    uint64_t q = (uint64_t)_mm512_reduce_or_epi64(_mm512_sllv_epi64(_mm512_and_si512(v3, _mm512_set1_epi32(0x0F)), nibble_shifts()));
    memcpy(w + 32, &q, 8);
}

TARGET void qwenkit_pack_q5_pairs(const void *source, void *destination, ptrdiff_t rows, ptrdiff_t blocks, int with_min) {
    const ptrdiff_t header = q5_header(with_min), block = header + 20;
    const uint8_t *s = (const uint8_t *)source;
    uint8_t *d = (uint8_t *)destination;
    for (ptrdiff_t r = 0; r < rows; r++) {
        ptrdiff_t i = 0;
        for (; i + 2 <= blocks; i += 2, s += 2 * block, d += 2 * block) {
            __m512i a0, a1, b0, b1;
            q5_value_lanes(s, with_min, &a0, &a1);
            q5_value_lanes(s + block, with_min, &b0, &b1);
            memcpy(d, s, (size_t)header);
            memcpy(d + header, s + block, (size_t)header);
            store_packed64(d + 2 * header, a0, a1, b0, b1);
        }
        if (i < blocks) {
            memcpy(d, s, (size_t)block);
            s += block;
            d += block;
        }
    }
}

/// The four 16-value index vectors of the pair whose W starts at w (bits 0-4 of each 32-bit lane: elements 0-15 and
/// 16-31 of block 0, then of block 1).
TARGET static inline void pair_indices(const uint8_t *words, __m512i idx[4]) {
    __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)words));
    __m512i q;
    __asm__("vpbroadcastq %1, %0" : "=v"(q) : "m"(*(const uint64_t *)(words + 32)));
    idx[0] = w;
    idx[1] = _mm512_srli_epi32(w, 5);
    idx[2] = _mm512_srli_epi32(w, 11);
    // 0xCA: where the first operand has a bit, take the second's, elsewhere the third's.
    idx[3] = _mm512_ternarylogic_epi32(_mm512_set1_epi32(0x0F), _mm512_srlv_epi64(q, nibble_shifts()), _mm512_srli_epi32(w, 6), 0xCA);
}

/// Σ row·x over a packed Q5_0 (with_min 0: value d·(q − 16)) or Q5_1 (d·q + m) row, as scaled_blocks_lanes sums the
/// row before packing.
TARGET static inline __m512 q5_pairs_lanes(const uint8_t *b, int with_min, const float *x, ptrdiff_t n) {
    const __m512 table = offset_table(with_min ? 0 : 16), high = _mm512_add_ps(table, _mm512_set1_ps(16.0f));
    const ptrdiff_t header = q5_header(with_min);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), mins = _mm512_setzero_ps();
    ptrdiff_t blocks = n / 32, i = 0;
    for (; i + 2 <= blocks; i += 2, b += 2 * header + 40, x += 64) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __m512i idx[4];
        pair_indices(b + 2 * header, idx);
        __m512 w0 = _mm512_permutex2var_ps(table, idx[0], high), w1 = _mm512_permutex2var_ps(table, idx[1], high);
        __m512 w2 = _mm512_permutex2var_ps(table, idx[2], high), w3 = _mm512_permutex2var_ps(table, idx[3], high);
        __m512 s0 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(x)));
        __m512 s1 = _mm512_fmadd_ps(w3, _mm512_loadu_ps(x + 48), _mm512_mul_ps(w2, _mm512_loadu_ps(x + 32)));
        acc0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(half_at(b)), acc0);
        acc1 = _mm512_fmadd_ps(s1, _mm512_set1_ps(half_at(b + header)), acc1);
        if (with_min) {
            mins = _mm512_fmadd_ps(_mm512_add_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)), _mm512_set1_ps(half_at(b + 2)), mins);
            mins = _mm512_fmadd_ps(_mm512_add_ps(_mm512_loadu_ps(x + 32), _mm512_loadu_ps(x + 48)), _mm512_set1_ps(half_at(b + 6)), mins);
        }
    }
    if (i < blocks) {
        acc0 = _mm512_fmadd_ps(block_sum(with_min ? KIND_Q5_1 : KIND_Q5_0, b, x, table, high), _mm512_set1_ps(half_at(b)), acc0);
        if (with_min) mins = _mm512_fmadd_ps(_mm512_add_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)), _mm512_set1_ps(half_at(b + 2)), mins);
    }
    return _mm512_add_ps(_mm512_add_ps(acc0, acc1), mins);
}

/// The portable decoders' floats: Q5_0 d·(q − 16), which their fused q·d + (−16·d) rounds once and makes +0 where q is
/// 16 (a plain product is −0 there when d is negative; adding +0 turns −0 into +0 and changes nothing else); Q5_1
/// q·d, rounded, plus m.
TARGET void qwenkit_decode_q5_pairs_avx512(const void *row, float *out, ptrdiff_t n, int with_min) {
    const uint8_t *b = (const uint8_t *)row;
    const __m512 table = offset_table(with_min ? 0 : 16), high = _mm512_add_ps(table, _mm512_set1_ps(16.0f));
    const ptrdiff_t header = q5_header(with_min);
    ptrdiff_t blocks = n / 32, i = 0;
    for (; i + 2 <= blocks; i += 2, b += 2 * header + 40, out += 64) {
        __m512i idx[4];
        pair_indices(b + 2 * header, idx);
        __m512 d0 = _mm512_set1_ps(half_at(b)), d1 = _mm512_set1_ps(half_at(b + header));
        // Q5_1's m, or +0
        __m512 m0 = _mm512_set1_ps(with_min ? half_at(b + 2) : 0.0f), m1 = _mm512_set1_ps(with_min ? half_at(b + 6) : 0.0f);
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_mul_ps(_mm512_permutex2var_ps(table, idx[0], high), d0), m0));
        _mm512_storeu_ps(out + 16, _mm512_add_ps(_mm512_mul_ps(_mm512_permutex2var_ps(table, idx[1], high), d0), m0));
        _mm512_storeu_ps(out + 32, _mm512_add_ps(_mm512_mul_ps(_mm512_permutex2var_ps(table, idx[2], high), d1), m1));
        _mm512_storeu_ps(out + 48, _mm512_add_ps(_mm512_mul_ps(_mm512_permutex2var_ps(table, idx[3], high), d1), m1));
    }
    // A last block in the file's layout, its values looked up the same way.
    if (i < blocks) {
        __m512i low, top;
        q5_value_lanes(b, with_min, &low, &top);
        __m512 d = _mm512_set1_ps(half_at(b)), m = _mm512_set1_ps(with_min ? half_at(b + 2) : 0.0f);
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_mul_ps(_mm512_permutex2var_ps(table, low, high), d), m));
        _mm512_storeu_ps(out + 16, _mm512_add_ps(_mm512_mul_ps(_mm512_permutex2var_ps(table, top, high), d), m));
    }
}

/// Q8_0 keeps d·q per value: it reads 34 bytes per 32 values and is bound by memory either way (the scale taken out
/// of the sum measured the same on 896-column rows and 14% slower on 4,864-column ones, its scale gathers running
/// ahead of the prefetches). d comes from the f16 table by a broadcast load: from L2 5.0 cycles per block instead of
/// 6.6 (vpbroadcastw and vcvtph2ps were three shuffle-port and vector operations); from memory the same 12 GB/s.
TARGET static inline __m512 q8_0_lanes(const void *row, const float *x, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n / 32; i++, b += 34) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        uint16_t h;
        memcpy(&h, b, 2);
        __m512 d = broadcast_load(half_table + h);
        __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 2))));
        __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 18))));
        acc0 = _mm512_fmadd_ps(_mm512_mul_ps(d, q0), _mm512_loadu_ps(x + 32 * i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_mul_ps(d, q1), _mm512_loadu_ps(x + 32 * i + 16), acc1);
    }
    return _mm512_add_ps(acc0, acc1);
}

TARGET float qwenkit_dot_q8_0_avx512(const void *row, const float *x, ptrdiff_t n) { return _mm512_reduce_add_ps(q8_0_lanes(row, x, n)); }

TARGET float qwenkit_dot_q4_0_avx512(const void *row, const float *x, ptrdiff_t n) {
    return _mm512_reduce_add_ps(scaled_blocks_lanes(KIND_Q4_0, (const uint8_t *)row, 18, x, n, offset_table(8)));
}

TARGET float qwenkit_dot_q5_0_avx512(const void *row, const float *x, ptrdiff_t n) {
    return _mm512_reduce_add_ps(scaled_blocks_lanes(KIND_Q5_0, (const uint8_t *)row, 22, x, n, offset_table(16)));
}

TARGET float qwenkit_dot_q5_1_avx512(const void *row, const float *x, ptrdiff_t n) {
    return _mm512_reduce_add_ps(scaled_blocks_lanes(KIND_Q5_1, (const uint8_t *)row, 24, x, n, offset_table(0)));
}

/// IQ4_NL: d (f16), 16 bytes of 4-bit indices into the 16 int8 values `table` (kvalues_iq4nl, passed in so that the
/// table has one source); element j = d · value[low nibble of byte j], element j + 16 the high nibble's.
TARGET float qwenkit_dot_iq4_nl_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi) {
    return _mm512_reduce_add_ps(scaled_blocks_lanes(KIND_IQ4_NL, (const uint8_t *)row, 18, x, n, iq4_table(table_lo, table_hi)));
}

/// IQ4_XS: d (f16), scales_h (16 bits: bits 2k, 2k + 1 the high bits of sub-block k's scale), scales_l[4] (low
/// nibbles, sub-block 2k's first), 128 bytes; sub-block k of 32 has dl = d · (ls − 32) and an IQ4_NL block's layout.
/// The eight dl of a super-block are computed together (8 lanes) and each sub-block's sum multiplied by its dl.
TARGET static inline __m512 iq4_xs_lanes(const void *row, const float *x, ptrdiff_t n, __m512 table) {
    const uint8_t *b = (const uint8_t *)row;
    const __m256i low_shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28), high_shifts = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    float dl[8];
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 136, x += 256) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        uint16_t h;
        memcpy(&h, b, 2);
        // scales_l (4 bytes at b + 4) and scales_h (2 bytes at b + 2; the 2 above it are shifted out) broadcast from
        // memory, and d from the f16 table: loads, where broadcasts from general registers and vcvtph2ps were shuffles
        // (39.8 -> 36.4 cycles per super-block from L1).
        __m256i ls = _mm256_or_si256(
            _mm256_and_si256(_mm256_srlv_epi32(_mm256_broadcastd_epi32(_mm_loadu_si32(b + 4)), low_shifts), _mm256_set1_epi32(0xF)),
            _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_broadcastd_epi32(_mm_loadu_si32(b + 2)), high_shifts),
                                               _mm256_set1_epi32(3)), 4));
        __m256 d = _mm512_castps512_ps256(broadcast_load(half_table + h));
        _mm256_storeu_ps(dl, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_sub_epi32(ls, _mm256_set1_epi32(32)))));
        for (int k = 0; k < 8; k += 2) {
            acc0 = fmadd_broadcast(nibbles_sum(b + 8 + 16 * k, x + 32 * k, table), dl + k, acc0);
            acc1 = fmadd_broadcast(nibbles_sum(b + 24 + 16 * k, x + 32 * k + 32, table), dl + k + 1, acc1);
        }
    }
    return _mm512_add_ps(acc0, acc1);
}

TARGET float qwenkit_dot_iq4_xs_avx512(const void *row, const float *x, ptrdiff_t n, uint64_t table_lo, uint64_t table_hi) {
    return _mm512_reduce_add_ps(iq4_xs_lanes(row, x, n, iq4_table(table_lo, table_hi)));
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

/// The eight (scale, min) pairs of a Q4_K or Q5_K super-block as floats d·scale (s[0..7]) and dmin·min (s[8..15]),
/// ggml's get_scale_min_k4 layout: for j < 4, scale j = q[j] & 63 and min j = q[j + 4] & 63; scale j + 4 =
/// (q[j + 8] & 15) | (q[j] >> 6) << 4 and min j + 4 = (q[j + 8] >> 4) | (q[j + 4] >> 6) << 4, q the 12 bytes at b + 4.
/// All 16 at once in one register: lane l's low byte is the byte its low bits come from, its second byte the byte
/// whose top two bits it takes (one vpshufb of the 12 bytes broadcast to every 128-bit lane), then a per-lane shift
/// (by 4 for the mins j + 4), one vpternlogd taking the low bits from it and bits 4-5 from the second byte shifted
/// down by 10, a conversion and one product by [d ×8, dmin ×8]. Seven vector operations where unpacking the 6-bit
/// integers in general registers took about 40 scalar operations and 16 stores. Q4_K, one thread, 4,864-column rows
/// through the rows kernel (min of 5, cycles per super-block): 45.5-46.3 -> 43.4 from L1, 47.3-47.7 -> 46.0-46.5 from
/// memory. The floats are the same.
TARGET static inline void k_scales(const uint8_t *b, float *s) {
    // lane l: byte 0 <- q[low[l]], byte 1 <- q[top[l]] (0x80: zero)
    const __m512i gather = _mm512_setr_epi32(0x80808000, 0x80808001, 0x80808002, 0x80808003, 0x80800008, 0x80800109, 0x8080020A,
                                             0x8080030B, 0x80808004, 0x80808005, 0x80808006, 0x80808007, 0x80800408, 0x80800509,
                                             0x8080060A, 0x8080070B);
    const __m512i shift = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4);
    const __m512i low_bits = _mm512_setr_epi32(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15);
    __m512i v = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(b + 4))), gather);
    // where low_bits has a bit, the shifted low byte's; elsewhere the second byte's bits 6-7 at bits 4-5 (bits 6-31
    // of v >> 10 are zero, and its bits 0-3 fall under low_bits in the lanes that have a second byte)
    __m512i q = _mm512_ternarylogic_epi32(low_bits, _mm512_srlv_epi32(v, shift), _mm512_srli_epi32(v, 10), 0xCA);
    uint16_t d, dmin;
    memcpy(&d, b, 2);
    memcpy(&dmin, b + 2, 2);
    __m512 scale = _mm512_mask_mov_ps(broadcast_load(half_table + d), 0xFF00, broadcast_load(half_table + dmin));
    _mm512_storeu_ps(s, _mm512_mul_ps(scale, _mm512_cvtepi32_ps(q)));
}

/// Q4_K (144 bytes: d, dmin, scales[12], qs[128]) and Q5_K (176 bytes: the same with qh[32] before qs; bit 2j of qh[l]
/// is the fifth bit of sub-block 2j's element l, bit 2j + 1 that of sub-block 2j + 1's) super-blocks of 256: element l
/// of sub-block s is d·scale_s·q − dmin·min_s. Each 64-value step builds the two sub-blocks' 16-float tables
/// d·scale_s·i − dmin·min_s (one fused product each), looks 32 bytes of nibbles up in them (low nibbles sub-block 2j,
/// high nibbles 2j + 1), adds 16·d·scale_s under qh's bits for Q5_K, and multiplies the weights into the activations:
/// 14 vector operations per 64 values, where multiplying each sub-block's Σ q·x by its scale and subtracting min times
/// the activations' sum took 18 (Q4_K 53 -> 46 cycles per super-block from L1, at -O2 and, with the broadcasts written
/// out, at -O3).
TARGET static inline __m512 k_nibbles_lanes(const uint8_t *b, const float *x, ptrdiff_t n, int five) {
    const __m512 identity = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), sixteen = _mm512_set1_ps(16.0f);
    const ptrdiff_t bytes = five ? 176 : 144, qs = five ? 48 : 16;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    // Each super-block's scales are computed and stored one super-block ahead: the broadcast loads that read them
    // right after the 64-byte store waited for it (store-to-load forwarding). One thread, 4,864-column rows through the
    // rows kernel (min of 5, cycles per super-block): Q4_K 43.3-43.4 -> 36.4 from L1, 46.1-46.5 -> 40.8-41.0 from
    // memory; Q5_K 73.4-73.6 -> 66.5-66.9 from L1. (IQ4_XS's eight dl and Q6_K's 16 scales the same way measured no
    // faster: 36.1-36.2 and 52 cycles either way.)
    float sc[2][16];
    if (n >= 256) k_scales(b, sc[0]);
    for (ptrdiff_t i = 0; i < n / 256; i++, b += bytes, x += 256) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        const float *dsc = sc[i & 1], *dmin_m = sc[i & 1] + 8;
        if (i + 1 < n / 256) k_scales(b + bytes, sc[(i + 1) & 1]);
        __m128i qh0 = _mm_setzero_si128(), qh1 = _mm_setzero_si128();
        if (five) {
            qh0 = _mm_loadu_si128((const __m128i *)(b + 16));
            qh1 = _mm_loadu_si128((const __m128i *)(b + 32));
        }
        for (int j = 0; j < 4; j++) {
            const float *xj = x + 64 * j;
            // Sub-blocks 2j and 2j + 1 as 16-float tables: d·scale·i − dmin·min for each nibble value i.
            __m512 t0 = _mm512_fmsub_ps(identity, broadcast_load(dsc + 2 * j), broadcast_load(dmin_m + 2 * j));
            __m512 t1 = _mm512_fmsub_ps(identity, broadcast_load(dsc + 2 * j + 1), broadcast_load(dmin_m + 2 * j + 1));
            __m512i qa = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + qs + 32 * j)));
            __m512i qb = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + qs + 32 * j + 16)));
            __m512 lo0 = _mm512_permutexvar_ps(qa, t0), lo1 = _mm512_permutexvar_ps(qb, t0);
            __m512 hi0 = _mm512_permutexvar_ps(_mm512_srli_epi32(qa, 4), t1);
            __m512 hi1 = _mm512_permutexvar_ps(_mm512_srli_epi32(qb, 4), t1);
            if (five) {
                const __m128i u1 = _mm_set1_epi8((char)(1 << (2 * j))), u2 = _mm_set1_epi8((char)(2 << (2 * j)));
                const __m512 s0 = _mm512_mul_ps(broadcast_load(dsc + 2 * j), sixteen);
                const __m512 s1 = _mm512_mul_ps(broadcast_load(dsc + 2 * j + 1), sixteen);
                lo0 = _mm512_mask_add_ps(lo0, _mm_test_epi8_mask(qh0, u1), lo0, s0);
                lo1 = _mm512_mask_add_ps(lo1, _mm_test_epi8_mask(qh1, u1), lo1, s0);
                hi0 = _mm512_mask_add_ps(hi0, _mm_test_epi8_mask(qh0, u2), hi0, s1);
                hi1 = _mm512_mask_add_ps(hi1, _mm_test_epi8_mask(qh1, u2), hi1, s1);
            }
            acc0 = _mm512_fmadd_ps(lo0, _mm512_loadu_ps(xj), acc0);
            acc1 = _mm512_fmadd_ps(lo1, _mm512_loadu_ps(xj + 16), acc1);
            acc2 = _mm512_fmadd_ps(hi0, _mm512_loadu_ps(xj + 32), acc2);
            acc3 = _mm512_fmadd_ps(hi1, _mm512_loadu_ps(xj + 48), acc3);
        }
    }
    return _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
}

TARGET float qwenkit_dot_q4_K_avx512(const void *row, const float *x, ptrdiff_t n) {
    return _mm512_reduce_add_ps(k_nibbles_lanes(row, x, n, 0));
}
TARGET float qwenkit_dot_q5_K_avx512(const void *row, const float *x, ptrdiff_t n) {
    return _mm512_reduce_add_ps(k_nibbles_lanes(row, x, n, 1));
}

// Q5_K repacked at load like Q5_0 and Q5_1 (`qwenkit_pack_q5_K`): a super-block keeps its 176 bytes, the first 16 (d,
// dmin, scales) as stored, then for each 64-value step j the 64 5-bit values in the packed layout (40 bytes: elements 0-15
// and 16-31 of sub-block 2j, then of sub-block 2j + 1). Each step's two sub-blocks become 32-float tables (d·scale·i −
// dmin·min, one fused product, and the same plus 16·d·scale for i ≥ 16, the sum k_nibbles_lanes adds under qh's bits),
// so a value is one vpermt2ps: 20 vector operations per 64 values where the file's layout takes 24 with four mask tests
// on the shuffle port. The same floats as k_nibbles_lanes.

/// Sub-block 2j's and 2j + 1's values (0-31) of the Q5_K super-block at b, as store_packed64 takes them.
TARGET static inline void q5_K_value_lanes(const uint8_t *b, int j, __m512i v[4]) {
    const __m512i low = _mm512_set1_epi32(0x0F), one = _mm512_set1_epi32(1);
    const uint8_t *qh = b + 16, *ql = b + 48 + 32 * j;
    __m512i qa = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)ql));
    __m512i qb = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16)));
    __m512i h0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)qh));
    __m512i h1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16)));
    __m512i low_bit = _mm512_set1_epi32(2 * j), high_bit = _mm512_set1_epi32(2 * j + 1);
    v[0] = _mm512_or_si512(_mm512_and_si512(qa, low), _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(h0, low_bit), one), 4));
    v[1] = _mm512_or_si512(_mm512_and_si512(qb, low), _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(h1, low_bit), one), 4));
    v[2] = _mm512_or_si512(_mm512_srli_epi32(qa, 4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(h0, high_bit), one), 4));
    v[3] = _mm512_or_si512(_mm512_srli_epi32(qb, 4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(h1, high_bit), one), 4));
}

TARGET void qwenkit_pack_q5_K(const void *source, void *destination, ptrdiff_t super_blocks) {
    const uint8_t *s = (const uint8_t *)source;
    uint8_t *d = (uint8_t *)destination;
    for (ptrdiff_t i = 0; i < super_blocks; i++, s += 176, d += 176) {
        memcpy(d, s, 16);
        for (int j = 0; j < 4; j++) {
            __m512i v[4];
            q5_K_value_lanes(s, j, v);
            store_packed64(d + 16 + 40 * j, v[0], v[1], v[2], v[3]);
        }
    }
}

TARGET static inline __m512 q5_K_packed_lanes(const uint8_t *b, const float *x, ptrdiff_t n) {
    const __m512 identity = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), sixteen = _mm512_set1_ps(16.0f);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    // The scales one super-block ahead, as k_nibbles_lanes computes them.
    float sc[2][16];
    if (n >= 256) k_scales(b, sc[0]);
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 176, x += 256) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        const float *dsc = sc[i & 1], *dmin_m = sc[i & 1] + 8;
        if (i + 1 < n / 256) k_scales(b + 176, sc[(i + 1) & 1]);
        for (int j = 0; j < 4; j++) {
            const float *xj = x + 64 * j;
            __m512 t0 = _mm512_fmsub_ps(identity, broadcast_load(dsc + 2 * j), broadcast_load(dmin_m + 2 * j));
            __m512 t1 = _mm512_fmsub_ps(identity, broadcast_load(dsc + 2 * j + 1), broadcast_load(dmin_m + 2 * j + 1));
            __m512 h0 = _mm512_add_ps(t0, _mm512_mul_ps(broadcast_load(dsc + 2 * j), sixteen));
            __m512 h1 = _mm512_add_ps(t1, _mm512_mul_ps(broadcast_load(dsc + 2 * j + 1), sixteen));
            __m512i idx[4];
            pair_indices(b + 16 + 40 * j, idx);
            acc0 = _mm512_fmadd_ps(_mm512_permutex2var_ps(t0, idx[0], h0), _mm512_loadu_ps(xj), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_permutex2var_ps(t0, idx[1], h0), _mm512_loadu_ps(xj + 16), acc1);
            acc2 = _mm512_fmadd_ps(_mm512_permutex2var_ps(t1, idx[2], h1), _mm512_loadu_ps(xj + 32), acc2);
            acc3 = _mm512_fmadd_ps(_mm512_permutex2var_ps(t1, idx[3], h1), _mm512_loadu_ps(xj + 48), acc3);
        }
    }
    return _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
}

/// The portable decoder's floats: d·scale·q, rounded, minus dmin·min.
TARGET void qwenkit_decode_q5_K_packed_avx512(const void *row, float *out, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    const __m512 identity = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 high = _mm512_add_ps(identity, _mm512_set1_ps(16.0f));
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 176, out += 256) {
        float sc[16];
        k_scales(b, sc);
        for (int j = 0; j < 4; j++) {
            __m512i idx[4];
            pair_indices(b + 16 + 40 * j, idx);
            for (int k = 0; k < 4; k++) {
                int s = 2 * j + k / 2;
                __m512 q = _mm512_permutex2var_ps(identity, idx[k], high);
                _mm512_storeu_ps(out + 64 * j + 16 * k, _mm512_sub_ps(_mm512_mul_ps(broadcast_load(sc + s), q), broadcast_load(sc + 8 + s)));
            }
        }
    }
}

/// Q6_K's weights 16·k + l ... of the half block at ql/qh with scales sc, for sub-block pair si (l = 16·si), in w[0..3]:
/// the two high bits of each value moved to bits 4 and 5, then d·scale·(q − 32) as q·(d·scale) + (−32·d·scale) with one
/// rounding, the portable decoder's values (the prompt's decoder; the dot factors the scales out instead).
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

/// Q6_K (ql[128], qh[64], scales[16] int8, d): in each half of 128, element l + 32·k (l < 32, k < 4) is
/// d·scale·(q − 32) with q's low 4 bits from ql (byte l for k = 0 and 2, l + 32 for 1 and 3; low nibble for k < 2) and
/// its high 2 bits from bits 2k, 2k + 1 of qh[l]; scale is scales[l / 16 + 2k], so element e of a half has scale e / 16.
/// The dot builds a half's 128 values q − 32 as bytes, 64 per register: ql's 64 bytes hold elements 0-63's low nibbles
/// and elements 64-127's high nibbles, in order, and qh's 32 bytes, repeated in both halves of a register and shifted
/// per 16-bit lane (left by 4 and 2 for elements 0-31 and 32-63, right by 0 and 2 for 64-95 and 96-127), hold their
/// high bits at bits 4-5; one vpternlogd merges nibbles and high bits, one vpsubb takes 32. A dword permutation then
/// puts each 16-value group's four dwords into the four 128-bit lanes, so that vpshufb (in-lane) can move each value to
/// the top byte of its own dword with zeros below: as int32 that is (q − 32)·2^24, converted exactly, and the 2^−24 is
/// folded into the scales d·scale (a power of two: the products round as without it). Per 16 values a shuffle, a
/// conversion, a product with the activations and a fused product by the scale: 43 vector operations per half against
/// 56 for two table lookups per 16 values (vpermps of the low nibbles through the identity and of the high bits through
/// 16·i − 32, all on the one shuffle port). One thread, 400 MB of 4,864-column rows, built as the release build builds
/// (-O3): 7.3 -> 10.6 GB/s; from L1, 84 -> 51 cycles per super-block (the read speed is about 50). The values are the
/// same exact floats; the sums differ from the float64 reference by 1.4e-8 of the sum of magnitudes (1.3e-8 before).
TARGET static inline __m512 q6_K_lanes(const void *row, const float *x, ptrdiff_t n) {
    const uint8_t *b = (const uint8_t *)row;
    const __m512i nibble = _mm512_set1_epi8(0x0F), high_bits = _mm512_set1_epi8(0x30), offset = _mm512_set1_epi8(32);
    const __m512i left = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i right = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
    // dword 4L + c <- dword 4c + L: 128-bit lane L then holds dword c's four values of each 16-value group c
    const __m512i transpose = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    // in every 128-bit lane, byte p of dword c to the top byte of dword p, zeros below
    __m512i spread[4];
    for (int c = 0; c < 4; c++) {
        int32_t idx[16];
        for (int k = 0; k < 16; k++) idx[k] = (int32_t)(0x808080u | ((uint32_t)(4 * c + k % 4) << 24));
        spread[c] = _mm512_loadu_si512(idx);
    }
    const __m512 unit = _mm512_set1_ps(1.0f / 16777216.0f);
    __m512i transpose_r = transpose;
    // Opaque to the compiler: it would otherwise lower the dword permutation as two half permutations and an insert.
    __asm__("" : "+v"(transpose_r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    float s[16];
    for (ptrdiff_t i = 0; i < n / 256; i++, b += 210) {
        __builtin_prefetch(b + AHEAD, 0, 3);
        __builtin_prefetch(b + AHEAD + 64, 0, 3);
        __builtin_prefetch(b + AHEAD + 128, 0, 3);
        __builtin_prefetch(b + AHEAD + 192, 0, 3);
        __m512 scales = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 192))));
        _mm512_storeu_ps(s, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(half_at(b + 208)), unit), scales));
        for (int h = 0; h < 2; h++, x += 128) {
            __m512i ql = _mm512_loadu_si512(b + 64 * h);
            __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h)));
            __m512i low = _mm512_ternarylogic_epi32(nibble, ql, _mm512_and_si512(_mm512_sllv_epi16(qh, left), high_bits), 0xCA);
            __m512i upper = _mm512_ternarylogic_epi32(nibble, _mm512_srli_epi16(ql, 4),
                                                      _mm512_and_si512(_mm512_srlv_epi16(qh, right), high_bits), 0xCA);
            low = _mm512_permutexvar_epi32(transpose_r, _mm512_sub_epi8(low, offset));
            upper = _mm512_permutexvar_epi32(transpose_r, _mm512_sub_epi8(upper, offset));
            const float *sc = s + 8 * h;
            __m512 v0 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(low, spread[0]));
            __m512 v1 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(low, spread[1]));
            __m512 v2 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(low, spread[2]));
            __m512 v3 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(low, spread[3]));
            acc0 = fmadd_broadcast(_mm512_mul_ps(v0, _mm512_loadu_ps(x)), sc + 0, acc0);
            acc1 = fmadd_broadcast(_mm512_mul_ps(v1, _mm512_loadu_ps(x + 16)), sc + 1, acc1);
            acc2 = fmadd_broadcast(_mm512_mul_ps(v2, _mm512_loadu_ps(x + 32)), sc + 2, acc2);
            acc3 = fmadd_broadcast(_mm512_mul_ps(v3, _mm512_loadu_ps(x + 48)), sc + 3, acc3);
            v0 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(upper, spread[0]));
            v1 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(upper, spread[1]));
            v2 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(upper, spread[2]));
            v3 = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(upper, spread[3]));
            acc0 = fmadd_broadcast(_mm512_mul_ps(v0, _mm512_loadu_ps(x + 64)), sc + 4, acc0);
            acc1 = fmadd_broadcast(_mm512_mul_ps(v1, _mm512_loadu_ps(x + 80)), sc + 5, acc1);
            acc2 = fmadd_broadcast(_mm512_mul_ps(v2, _mm512_loadu_ps(x + 96)), sc + 6, acc2);
            acc3 = fmadd_broadcast(_mm512_mul_ps(v3, _mm512_loadu_ps(x + 112)), sc + 7, acc3);
        }
    }
    return _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
}

TARGET float qwenkit_dot_q6_K_avx512(const void *row, const float *x, ptrdiff_t n) { return _mm512_reduce_add_ps(q6_K_lanes(row, x, n)); }

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

// Generation multiplies every row of a range by one activation vector. A row's dot ends in a horizontal sum of its
// 16 partial sums: nine vector operations on one dependency chain of about 30 cycles, after which the call returns
// the float. At 896 columns (28 blocks of Q5_0, about 180 cycles of work) that tail was 17% of the Q5_0 kernel's
// samples in `perf` (Q4_K_M generation, one thread): the next row's work does not fit beside it in the reorder buffer.
// The rows kernels keep each row's 16 partial sums and add 16 rows' together (`reduce16`: 46 operations for 16
// rows, no chain between rows). They pair the lanes as _mm512_reduce_add_ps does, so each y[r] is the same float
// as the row's dot. One thread, 400 MB of 896-column rows, a call per row against one call for all (min of 5, cycles
// per block at 2.97 GHz): Q5_0 7.2 -> 6.4, IQ4_NL 4.8 -> 4.6, Q8_0 8.5 -> 8.3 (memory-bound); 4,864-column rows
// (Q4_K, Q6_K) the same. The rows past the last 16 go through reduce16 too, beside zero vectors (two threads take
// ranges of at least 16 KB: 26 Q5_0 rows): Q5_0 in calls of 26 rows from L2 5.97-6.07 -> 5.73-5.87 cycles per block
// against a horizontal sum per leftover row.

/// y[r] = the horizontal sum of v[r] for r < 16, each pairing the lanes as _mm512_reduce_add_ps does: b_i = v_i + v_{i+8},
/// c_i = b_i + b_{i+4}, d_i = c_i + c_{i+2}, then d_0 + d_1.
TARGET static inline void reduce16(const __m512 *v, float *y) {
    __m512 w[8], z[4], s[2];
    for (int k = 0; k < 8; k++) {
        // [row 2k's lanes 0-7 + 8-15, row 2k+1's]
        w[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    }
    for (int m = 0; m < 4; m++) {
        // 128-bit lane j: row 4m + j's c_0..c_3
        z[m] = _mm512_add_ps(_mm512_shuffle_f32x4(w[2 * m], w[2 * m + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(w[2 * m], w[2 * m + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    }
    for (int q = 0; q < 2; q++) {
        // lane j: row 8q + j's d_0, d_1, then row 8q + 4 + j's
        s[q] = _mm512_add_ps(_mm512_shuffle_ps(z[2 * q], z[2 * q + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(z[2 * q], z[2 * q + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    }
    // element 4j + i: row j + 4i
    __m512 e = _mm512_add_ps(_mm512_shuffle_ps(s[0], s[1], _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_ps(s[0], s[1], _MM_SHUFFLE(3, 1, 3, 1)));
    _mm512_storeu_ps(y, _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), e));
}

/// y[r] = Σ row_r · x for r < rows, row r at b + r·row_bytes; LANES is the type's `*_lanes` call on `row`. Rows go 16
/// at a time; the last group's sums go through reduce16 beside zeros (each row's lanes are summed on their own).
#define ROWS(LANES)                                                                                                   \
    do {                                                                                                              \
        const uint8_t *b = (const uint8_t *)base;                                                                    \
        __m512 v[16];                                                                                                 \
        for (ptrdiff_t r = 0; r < rows; r += 16) {                                                                    \
            int k = rows - r < 16 ? (int)(rows - r) : 16;                                                             \
            _Pragma("clang loop unroll(disable)") for (int i = 0; i < k; i++) {                                       \
                const uint8_t *row = b + (r + i) * row_bytes;                                                         \
                v[i] = LANES;                                                                                         \
            }                                                                                                         \
            if (k == 16) {                                                                                            \
                reduce16(v, y + r);                                                                                   \
            } else {                                                                                                  \
                float last[16];                                                                                       \
                for (int z = k; z < 16; z++) v[z] = _mm512_setzero_ps();                                              \
                reduce16(v, last);                                                                                    \
                for (int z = 0; z < k; z++) y[r + z] = last[z];                                                       \
            }                                                                                                         \
        }                                                                                                             \
    } while (0)

#define ROWS_ARGS const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y

TARGET void qwenkit_rows_f16_avx512(ROWS_ARGS) { ROWS(halves_lanes(row, x, n, 0)); }
TARGET void qwenkit_rows_bf16_avx512(ROWS_ARGS) { ROWS(halves_lanes(row, x, n, 1)); }
TARGET void qwenkit_rows_q8_0_avx512(ROWS_ARGS) { ROWS(q8_0_lanes(row, x, n)); }
TARGET void qwenkit_rows_q4_0_avx512(ROWS_ARGS) { ROWS(scaled_blocks_lanes(KIND_Q4_0, row, 18, x, n, offset_table(8))); }
TARGET void qwenkit_rows_q5_0_avx512(ROWS_ARGS) { ROWS(scaled_blocks_lanes(KIND_Q5_0, row, 22, x, n, offset_table(16))); }
TARGET void qwenkit_rows_q5_pairs_avx512(ROWS_ARGS, int with_min) { ROWS(q5_pairs_lanes(row, with_min, x, n)); }
TARGET void qwenkit_rows_q5_1_avx512(ROWS_ARGS) { ROWS(scaled_blocks_lanes(KIND_Q5_1, row, 24, x, n, offset_table(0))); }
TARGET void qwenkit_rows_q4_K_avx512(ROWS_ARGS) { ROWS(k_nibbles_lanes(row, x, n, 0)); }
TARGET void qwenkit_rows_q5_K_avx512(ROWS_ARGS) { ROWS(k_nibbles_lanes(row, x, n, 1)); }
TARGET void qwenkit_rows_q5_K_packed_avx512(ROWS_ARGS) { ROWS(q5_K_packed_lanes(row, x, n)); }
TARGET void qwenkit_rows_q6_K_avx512(ROWS_ARGS) { ROWS(q6_K_lanes(row, x, n)); }
TARGET void qwenkit_rows_iq4_nl_avx512(ROWS_ARGS, uint64_t table_lo, uint64_t table_hi) {
    const __m512 table = iq4_table(table_lo, table_hi);
    ROWS(scaled_blocks_lanes(KIND_IQ4_NL, row, 18, x, n, table));
}
TARGET void qwenkit_rows_iq4_xs_avx512(ROWS_ARGS, uint64_t table_lo, uint64_t table_hi) {
    const __m512 table = iq4_table(table_lo, table_hi);
    ROWS(iq4_xs_lanes(row, x, n, table));
}

#else

#include <stdint.h>
#include <stdlib.h>

#define ROWS_STUB(name) \
    void name(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y) { \
        (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; abort(); \
    }
ROWS_STUB(qwenkit_rows_f16_avx512)
ROWS_STUB(qwenkit_rows_bf16_avx512)
ROWS_STUB(qwenkit_rows_q8_0_avx512)
ROWS_STUB(qwenkit_rows_q4_0_avx512)
ROWS_STUB(qwenkit_rows_q5_0_avx512)
void qwenkit_rows_q5_pairs_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                  int with_min) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; (void)with_min; abort();
}
ROWS_STUB(qwenkit_rows_q5_1_avx512)
ROWS_STUB(qwenkit_rows_q4_K_avx512)
ROWS_STUB(qwenkit_rows_q5_K_avx512)
ROWS_STUB(qwenkit_rows_q5_K_packed_avx512)
ROWS_STUB(qwenkit_rows_q6_K_avx512)
void qwenkit_rows_iq4_nl_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                uint64_t lo, uint64_t hi) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; (void)lo; (void)hi; abort();
}
void qwenkit_rows_iq4_xs_avx512(const void *base, ptrdiff_t row_bytes, ptrdiff_t rows, const float *x, ptrdiff_t n, float *y,
                                uint64_t lo, uint64_t hi) {
    (void)base; (void)row_bytes; (void)rows; (void)x; (void)n; (void)y; (void)lo; (void)hi; abort();
}

void qwenkit_fill_half_table(void) {}
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
float qwenkit_dot_q5_1_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
void qwenkit_decode_q5_pairs_avx512(const void *row, float *out, ptrdiff_t n, int with_min) {
    (void)row; (void)out; (void)n; (void)with_min; abort();
}
void qwenkit_pack_q5_pairs(const void *source, void *destination, ptrdiff_t rows, ptrdiff_t blocks, int with_min) {
    (void)source; (void)destination; (void)rows; (void)blocks; (void)with_min; abort();
}
float qwenkit_dot_q5_K_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
void qwenkit_decode_q5_K_packed_avx512(const void *row, float *out, ptrdiff_t n) { (void)row; (void)out; (void)n; abort(); }
void qwenkit_pack_q5_K(const void *source, void *destination, ptrdiff_t super_blocks) {
    (void)source; (void)destination; (void)super_blocks; abort();
}
void qwenkit_decode_iq4_nl_avx512(const void *row, float *out, ptrdiff_t n, uint64_t lo, uint64_t hi) {
    (void)row; (void)out; (void)n; (void)lo; (void)hi; abort();
}
void qwenkit_decode_iq4_xs_avx512(const void *row, float *out, ptrdiff_t n, uint64_t lo, uint64_t hi) {
    (void)row; (void)out; (void)n; (void)lo; (void)hi; abort();
}
float qwenkit_dot_q4_K_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }
float qwenkit_dot_q6_K_avx512(const void *row, const float *x, ptrdiff_t n) { (void)row; (void)x; (void)n; abort(); }

#endif
