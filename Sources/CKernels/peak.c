// CPU feature detection and the register-resident loop that measures the multiply-add peak.
#include "CKernels.h"
#include "ck_internal.h"
#include <stdatomic.h>

int ck_has_avx2_fma(void) {
#if defined(__x86_64__)
    // Resolved once: -1 unknown, else 0 or 1. __builtin_cpu_supports also checks that the OS
    // saves ymm registers (XGETBV), so a 1 means the instructions can really be used.
    static atomic_int cached = -1;
    int value = atomic_load_explicit(&cached, memory_order_relaxed);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        atomic_store_explicit(&cached, value, memory_order_relaxed);
    }
    return value;
#else
    return 0;
#endif
}

#if defined(__x86_64__)
// 12 independent accumulators hide the FMA latency (4–5 cycles) on two FMA pipes.
static void fma_loop_avx2(int64_t iterations) {
    __asm__ volatile(
        CK_ZERO_YMM0_TO_11
        "vxorps %%ymm12, %%ymm12, %%ymm12\n\t"
        "vxorps %%ymm13, %%ymm13, %%ymm13\n\t"
        ".p2align 5\n"
        "1:\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm0\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm1\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm2\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm3\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm4\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm5\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm6\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm7\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm8\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm9\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm10\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm11\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : [n] "+r"(iterations)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "cc");
}
#endif

// 8 independent 4-lane chains acc = acc·m + a (SSE on x86_64, NEON on aarch64). m and a are
// read through volatile and the accumulators handed to an empty asm statement, so the compiler
// can neither fold nor drop the loop.
typedef float vector4 __attribute__((vector_size(16)));

static void fma_loop_portable(int64_t iterations) {
    volatile float m_source = 1.0f, a_source = 0.0f;
    vector4 m = {m_source, m_source, m_source, m_source};
    vector4 a = {a_source, a_source, a_source, a_source};
    vector4 acc[8] = {{0}};
    for (int64_t i = 0; i < iterations; i++)
        for (int j = 0; j < 8; j++) acc[j] = acc[j] * m + a;
    __asm__ volatile("" : : "m"(acc));
}

double ck_fma_loop(int64_t iterations) {
    if (iterations <= 0) return 0;
#if defined(__x86_64__)
    if (ck_has_avx2_fma()) {
        fma_loop_avx2(iterations);
        return (double)iterations * 12 * 8 * 2;
    }
#endif
    fma_loop_portable(iterations);
    return (double)iterations * 8 * 4 * 2;
}
