// CPU feature detection, the choice of kernel set, and the register-resident loop that measures
// the multiply-add peak.
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

ck_kernels ck_native_kernels(void) {
#if defined(__x86_64__)
    return ck_has_avx2_fma() ? CK_KERNELS_AVX2_FMA : CK_KERNELS_PORTABLE;
#elif defined(__aarch64__)
    // NEON (Advanced SIMD) is part of the base AArch64 architecture: no run-time check needed.
    return CK_KERNELS_NEON;
#else
    return CK_KERNELS_PORTABLE;
#endif
}

const char *ck_kernel_set(void) {
    switch (ck_native_kernels()) {
    case CK_KERNELS_AVX2_FMA: return "avx2-fma";
    case CK_KERNELS_NEON: return "neon";
    case CK_KERNELS_PORTABLE: break;
    }
    return "portable";
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

#if defined(__aarch64__)
// 24 independent accumulators v0..v23 (acc += v24 · v25, 4 lanes each): FMA latency is 4 cycles,
// and Apple's big cores have four FMA pipes, Neoverse cores two or four, so 16 chains are the
// least that keeps them all busy. Inline assembly, so it runs at full speed at -O0 too.
#define CK_FMLA(R) "fmla v" #R ".4s, v24.4s, v25.4s\n\t"
static void fma_loop_neon(int64_t iterations) {
    __asm__ volatile(
        "movi v0.4s, #0\n\t" "movi v1.4s, #0\n\t" "movi v2.4s, #0\n\t" "movi v3.4s, #0\n\t"
        "movi v4.4s, #0\n\t" "movi v5.4s, #0\n\t" "movi v6.4s, #0\n\t" "movi v7.4s, #0\n\t"
        "movi v8.4s, #0\n\t" "movi v9.4s, #0\n\t" "movi v10.4s, #0\n\t" "movi v11.4s, #0\n\t"
        "movi v12.4s, #0\n\t" "movi v13.4s, #0\n\t" "movi v14.4s, #0\n\t" "movi v15.4s, #0\n\t"
        "movi v16.4s, #0\n\t" "movi v17.4s, #0\n\t" "movi v18.4s, #0\n\t" "movi v19.4s, #0\n\t"
        "movi v20.4s, #0\n\t" "movi v21.4s, #0\n\t" "movi v22.4s, #0\n\t" "movi v23.4s, #0\n\t"
        "movi v24.4s, #0\n\t" "movi v25.4s, #0\n\t"
        ".p2align 5\n"
        "1:\n\t"
        CK_FMLA(0) CK_FMLA(1) CK_FMLA(2) CK_FMLA(3) CK_FMLA(4) CK_FMLA(5)
        CK_FMLA(6) CK_FMLA(7) CK_FMLA(8) CK_FMLA(9) CK_FMLA(10) CK_FMLA(11)
        CK_FMLA(12) CK_FMLA(13) CK_FMLA(14) CK_FMLA(15) CK_FMLA(16) CK_FMLA(17)
        CK_FMLA(18) CK_FMLA(19) CK_FMLA(20) CK_FMLA(21) CK_FMLA(22) CK_FMLA(23)
        "subs %[n], %[n], #1\n\t"
        "b.ne 1b\n\t"
        : [n] "+r"(iterations)
        :
        : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12",
          "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "cc");
}
#undef CK_FMLA
#endif

#if !defined(__aarch64__)
// 8 independent 4-lane chains acc = acc·m + a (SSE on x86_64, the target's vectors elsewhere).
// m and a are read through volatile and the accumulators handed to an empty asm statement, so the
// compiler can neither fold nor drop the loop.
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
#endif

double ck_fma_loop(int64_t iterations) {
    if (iterations <= 0) return 0;
#if defined(__x86_64__)
    if (ck_has_avx2_fma()) {
        fma_loop_avx2(iterations);
        return (double)iterations * 12 * 8 * 2;
    }
#endif
#if defined(__aarch64__)
    fma_loop_neon(iterations);
    return (double)iterations * 24 * 4 * 2;
#else
    fma_loop_portable(iterations);
    return (double)iterations * 8 * 4 * 2;
#endif
}
