// The runtime's generation kernels alone (Sources/CRuntimeKernels/dot_avx512.c, the rows kernels `qwenkit run` calls
// for one token; dot_avx2.c's on CPUs without AVX-512, or with --avx2), against a plain AVX-512 (AVX2) read loop: GB/s of weights read from memory (a 512 MB buffer) and from L2
// (512 KB, read over and over), on one and on two threads. `make bench-kernels` builds and runs it; it is not a test.
//
// What it answers: how close a kernel comes to the read loop when both stream from memory, and whether its arithmetic
// alone (from L2) is faster than memory at all. The rows are random bytes whose every byte is 0x10-0x3F, so that any
// f16 or bf16 scale read from them is a small normal number (no NaN, infinity or subnormal anywhere); the sums are
// meaningless and only their speed is measured. Rows are 896 columns for the 32-weight blocks and 4,864 for the
// 256-weight ones, as in Qwen2-0.5B. Each figure is the best of --repeat passes (default 7). The buffer has 4 KB pages,
// as mapped weights do; --huge-pages asks for 2 MB pages (madvise), as `qwenkit run --no-mmap` does.
//
//     clang -O3 -I Sources/CRuntimeKernels/include Fixtures/bench/kernel_bandwidth.c \
//        Sources/CRuntimeKernels/dot_avx512.c Sources/CRuntimeKernels/dot_avx2.c Sources/CRuntimeKernels/gemm_avx512.c -lpthread -lm
//     ./kernel_bandwidth [--repeat N] [--huge-pages] [--avx2]

#include "runtime_kernels.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { READ_LOOP = -1 };

typedef struct {
    const char *name;
    int block_bytes, block_weights, columns;
} Kind;

// kvalues_iq4nl as two little-endian words, as the runtime passes them.
static const uint64_t iq4_lo = 0xf6eaddcfbfad9881ull, iq4_hi = 0x7159453526190d01ull;

static const Kind kinds[] = {
    {"read loop", 64, 16, 896},     {"F16", 2, 1, 896},      {"BF16", 2, 1, 896},     {"Q8_0", 34, 32, 896},
    {"Q5_0 (pairs)", 22, 32, 896}, {"IQ4_NL", 18, 32, 896}, {"Q4_K", 144, 256, 4864}, {"Q6_K", 210, 256, 4864},
    {"IQ4_XS", 136, 256, 4864},
};

// The AVX2 kernels: the same kinds' slots (Q5_0 in the file's layout; F16, BF16 and Q8_0 have none, and are skipped).
static int avx2 = 0;

typedef struct {
    int kind;
    const uint8_t *rows;
    ptrdiff_t row_bytes, count;
    const float *x;
    float *y;
    long passes;
} Job;

__attribute__((target("avx2"))) static float read_loop_avx2(const uint8_t *p, ptrdiff_t n) {
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i + 64 <= n; i += 64) {
        a = _mm256_add_ps(a, _mm256_load_ps((const float *)(p + i)));
        b = _mm256_add_ps(b, _mm256_load_ps((const float *)(p + i + 32)));
    }
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(_mm256_add_ps(a, b)), _mm256_extractf128_ps(_mm256_add_ps(a, b), 1));
    return s[0] + s[1] + s[2] + s[3];
}

__attribute__((target("avx512f"))) static float read_loop(const uint8_t *p, ptrdiff_t n) {
    if (avx2) return read_loop_avx2(p, n);
    __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i + 128 <= n; i += 128) {
        a = _mm512_add_ps(a, _mm512_load_ps((const float *)(p + i)));
        b = _mm512_add_ps(b, _mm512_load_ps((const float *)(p + i + 64)));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a, b));
}

static volatile float sink;

static void run_rows(const Job *j) {
    const Kind *k = &kinds[j->kind];
    ptrdiff_t n = k->columns;
    if (avx2) {
        switch (j->kind) {
        case 0: sink = read_loop(j->rows, j->row_bytes * j->count); break;
        case 4: qwenkit_rows_q5_0_avx2(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
        case 5: qwenkit_rows_iq4_nl_avx2(j->rows, j->row_bytes, j->count, j->x, n, j->y, iq4_lo, iq4_hi); break;
        case 6: qwenkit_rows_q4_K_avx2(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
        case 7: qwenkit_rows_q6_K_avx2(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
        case 8: qwenkit_rows_iq4_xs_avx2(j->rows, j->row_bytes, j->count, j->x, n, j->y, iq4_lo, iq4_hi); break;
        }
        return;
    }
    switch (j->kind) {
    case 0: sink = read_loop(j->rows, j->row_bytes * j->count); break;
    case 1: qwenkit_rows_f16_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
    case 2: qwenkit_rows_bf16_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
    case 3: qwenkit_rows_q8_0_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
    case 4: qwenkit_rows_q5_pairs_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y, 0); break;
    case 5: qwenkit_rows_iq4_nl_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y, iq4_lo, iq4_hi); break;
    case 6: qwenkit_rows_q4_K_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
    case 7: qwenkit_rows_q6_K_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y); break;
    case 8: qwenkit_rows_iq4_xs_avx512(j->rows, j->row_bytes, j->count, j->x, n, j->y, iq4_lo, iq4_hi); break;
    }
}

static void *run_job(void *arg) {
    Job *j = arg;
    for (long p = 0; p < j->passes; p++) run_rows(j);
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/// GB/s of `kind` over `bytes` of `buffer` on `threads` threads (each its own half), `passes` passes per timing, best of
/// `repeat`.
static double measure(int kind, const uint8_t *buffer, size_t bytes, int threads, long passes, int repeat, const float *x,
                      float *y) {
    const Kind *k = &kinds[kind];
    ptrdiff_t row_bytes = (ptrdiff_t)k->block_bytes * k->columns / k->block_weights;
    ptrdiff_t rows = (ptrdiff_t)(bytes / (size_t)row_bytes) / threads * threads;
    if (kind == 0) { row_bytes = (ptrdiff_t)bytes / threads / 128 * 128; rows = threads; }
    ptrdiff_t share = rows / threads;
    double best = 1e30;
    for (int r = 0; r < repeat; r++) {
        Job jobs[2];
        pthread_t worker;
        for (int t = 0; t < threads; t++) {
            jobs[t] = (Job){kind, buffer + (size_t)(t * share * row_bytes), row_bytes, share, x, y + t * share, passes};
            if (kind == 0) jobs[t].count = 1;
        }
        double start = now();
        if (threads == 2 && pthread_create(&worker, NULL, run_job, &jobs[1]) != 0) { perror("pthread_create"); exit(1); }
        run_job(&jobs[0]);
        if (threads == 2) pthread_join(worker, NULL);
        double elapsed = now() - start;
        if (elapsed < best) best = elapsed;
    }
    return (double)(rows * row_bytes) * (double)passes / best / 1e9;
}

int main(int argc, char **argv) {
    int repeat = 7, huge = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--huge-pages") == 0) {
            huge = 1;
        } else if (strcmp(argv[i], "--avx2") == 0) {
            avx2 = 1;
        } else {
            fprintf(stderr, "usage: %s [--repeat N] [--huge-pages] [--avx2]\n", argv[0]);
            return 2;
        }
    }
    if (!avx2 && !qwenkit_avx512_usable()) avx2 = 1;
    if (avx2 && !qwenkit_avx2_usable()) {
        fprintf(stderr, "kernel_bandwidth: this CPU runs neither the AVX-512 nor the AVX2 kernels\n");
        return 1;
    }
    const size_t memory = (size_t)512 << 20, cached = (size_t)512 << 10;
    uint8_t *buffer = aligned_alloc((size_t)2 << 20, memory);
    float *x = aligned_alloc(64, 8192 * sizeof(float)), *y = aligned_alloc(64, (memory / 64) * sizeof(float));
    if (!buffer || !x || !y) { fprintf(stderr, "kernel_bandwidth: cannot allocate 512 MB\n"); return 1; }
    if (huge && madvise(buffer, memory, MADV_HUGEPAGE) != 0) perror("kernel_bandwidth: madvise(MADV_HUGEPAGE)");
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < memory; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        buffer[i] = (uint8_t)(0x10 | (state & 0x2F));
    }
    for (int i = 0; i < 8192; i++) x[i] = (float)((i * 37) % 2001 - 1000) / 997.0f;

    printf("%s kernels, %s pages\n%-13s %14s %14s %14s %14s\n", avx2 ? "AVX2" : "AVX-512", huge ? "2 MB" : "4 KB", "GB/s", "memory, 1 t", "memory, 2 t", "L2, 1 t",
           "L2, 2 t");
    for (int kind = 0; kind < (int)(sizeof kinds / sizeof kinds[0]); kind++) {
        if (avx2 && kind >= 1 && kind <= 3) continue;
        double m1 = measure(kind, buffer, memory, 1, 1, repeat, x, y);
        double m2 = measure(kind, buffer, memory, 2, 1, repeat, x, y);
        // From L2: each thread its own 512 KB, read 400 times per timing.
        double c1 = measure(kind, buffer, cached, 1, 400, repeat, x, y);
        double c2 = measure(kind, buffer, 2 * cached, 2, 400, repeat, x, y);
        printf("%-13s %14.1f %14.1f %14.1f %14.1f\n", avx2 && kind == 4 ? "Q5_0" : kinds[kind].name, m1, m2, c1, c2);
        fflush(stdout);
    }
    free(buffer);
    free(x);
    free(y);
    return 0;
}
