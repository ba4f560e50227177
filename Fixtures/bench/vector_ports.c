// How many 512-bit vector operations of each kind this core issues per cycle, alone and in pairs: fused multiply-adds,
// vpermps (the generation kernels' table lookups) and vpsrld (their nibble shifts). Eight independent chains per kind,
// written in assembly so that the compiler neither drops nor reorders them; ns per instruction, and instructions per
// nanosecond for the pairs. It answers how many vector operations per weight the float32 generation kernels can
// afford (README, "Running a model": what bounds Q4_K and IQ4_XS). Not a test.
//
//     clang -O2 -o vector_ports Fixtures/bench/vector_ports.c && ./vector_ports

#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define EIGHT(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FMA(i) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #i "\n"
#define PERM(i) "vpermps %%zmm30, %%zmm1" #i ", %%zmm1" #i "\n"
#define SHIFT(i) "vpsrld $1, %%zmm2" #i ", %%zmm2" #i "\n"
#define CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm10", "xmm11", "xmm12", "xmm13", \
    "xmm14", "xmm15", "xmm16", "xmm17", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27"
#define RUN(name, body, count)                                                                                           \
    {                                                                                                                  \
        long n = 50000000;                                                                                             \
        double start = now();                                                                                          \
        __asm__ volatile("mov %0, %%rcx\n1:\n" body "dec %%rcx\njnz 1b\n" ::"r"(n)                                     \
                         : "rcx", "memory", CLOBBERS);                                                                 \
        double ns = (now() - start) * 1e9 / (n * (double)(count));                                                     \
        printf("%-14s %.3f ns per instruction, %.2f per ns\n", name, ns, 1 / ns);                                    \
    }

int main(void) {
    __asm__ volatile("vxorps %%zmm30, %%zmm30, %%zmm30\nvxorps %%zmm31, %%zmm31, %%zmm31\n" ::: "xmm30", "xmm31");
    for (int round = 0; round < 2; round++) {
        RUN("fma", EIGHT(FMA), 8)
        RUN("vpermps", EIGHT(PERM), 8)
        RUN("vpsrld", EIGHT(SHIFT), 8)
        RUN("fma+vpermps", EIGHT(FMA) EIGHT(PERM), 16)
        RUN("fma+vpsrld", EIGHT(FMA) EIGHT(SHIFT), 16)
        RUN("vpermps+vpsrld", EIGHT(PERM) EIGHT(SHIFT), 16)
    }
    return 0;
}
