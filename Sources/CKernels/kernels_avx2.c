// AVX2+FMA GEMM pieces for x86_64: the 6×16 micro-kernel in inline assembly (fast even at -O0,
// so debug builds and `swift test` are not slowed down) and packing routines using intrinsics
// under a per-function target attribute. No compiler flags are needed; the driver calls these
// only when ck_has_avx2_fma() is 1.
#include "ck_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

// One k step for the first 4 rows of the tile: two 8-float loads of the B row (b advances by
// b_stride bytes), four broadcasts of the packed A column (byte offset U·24 for step U of the
// unrolled loop), eight FMAs into ymm0..ymm7 (row r of the tile lives in ymm(2r), ymm(2r+1)), and
// PREFETCH: CK_PREFETCH or "".
#define CK_STEP4(U, PREFETCH) \
    "vmovups (%[b]), %%ymm12\n\t" \
    "vmovups 32(%[b]), %%ymm13\n\t" \
    "add %[b_stride], %[b]\n\t" \
    "vbroadcastss " #U "*24(%[a]), %%ymm14\n\t" \
    "vbroadcastss " #U "*24+4(%[a]), %%ymm15\n\t" \
    "vfmadd231ps %%ymm12, %%ymm14, %%ymm0\n\t" \
    "vfmadd231ps %%ymm13, %%ymm14, %%ymm1\n\t" \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm2\n\t" \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm3\n\t" \
    PREFETCH \
    "vbroadcastss " #U "*24+8(%[a]), %%ymm14\n\t" \
    "vbroadcastss " #U "*24+12(%[a]), %%ymm15\n\t" \
    "vfmadd231ps %%ymm12, %%ymm14, %%ymm4\n\t" \
    "vfmadd231ps %%ymm13, %%ymm14, %%ymm5\n\t" \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm6\n\t" \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm7\n\t"

// The whole 6-row k step: CK_STEP4, then rows 4 and 5 into ymm8..ymm11.
#define CK_STEP(U, PREFETCH) \
    CK_STEP4(U, PREFETCH) \
    "vbroadcastss " #U "*24+16(%[a]), %%ymm14\n\t" \
    "vbroadcastss " #U "*24+20(%[a]), %%ymm15\n\t" \
    "vfmadd231ps %%ymm12, %%ymm14, %%ymm8\n\t" \
    "vfmadd231ps %%ymm13, %%ymm14, %%ymm9\n\t" \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm10\n\t" \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm11\n\t"

// One prefetch of the caller's stream; its stride drops to 0 (%[row] holds 0 then) once pf_count
// prefetches are issued, so later ones repeat the last address.
#define CK_PREFETCH \
    "prefetcht0 (%[pf])\n\t" \
    "dec %[pf_count]\n\t" \
    "cmovz %[row], %[pf_stride]\n\t" \
    "add %[pf_stride], %[pf]\n\t"

// Stores row r (registers R0, R1) of the result, C = beta · C + (alpha · acc) with one rounding
// when beta is used; after the last of the mr rows, jumps to the end.
#define CK_STORE_BETA(R0, R1) \
    "vfmadd231ps (%[c]), %%ymm15, %%ymm" #R0 "\n\t" \
    "vfmadd231ps 32(%[c]), %%ymm15, %%ymm" #R1 "\n\t" \
    "vmovups %%ymm" #R0 ", (%[c])\n\t" \
    "vmovups %%ymm" #R1 ", 32(%[c])\n\t" \
    "add %[ldc], %[c]\n\t" \
    "dec %[mr]\n\t" \
    "jz 6f\n\t"

#define CK_STORE(R0, R1) \
    "vmovups %%ymm" #R0 ", (%[c])\n\t" \
    "vmovups %%ymm" #R1 ", 32(%[c])\n\t" \
    "add %[ldc], %[c]\n\t" \
    "dec %[mr]\n\t" \
    "jz 6f\n\t"

void ck_microkernel_avx2(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                         int64_t mr, float alpha, float beta,
                         const float *pf, int64_t pf_stride, int64_t pf_count) {
    int64_t quads = k / 4, rest = k % 4;
    int64_t ldc_bytes = ldc * (int64_t)sizeof(float);
    int64_t b_stride = ldb * (int64_t)sizeof(float);
    if (pf_count <= 0) pf = b, pf_stride = 0;
    float *row;
    __asm__ volatile(
        // Bring the C tile towards L1 while the products are summed.
        "mov %[c], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t"
        "xor %[row], %[row]\n\t"
        CK_ZERO_YMM0_TO_11
        "test %[quads], %[quads]\n\t"
        "jz 2f\n\t"
        ".p2align 5\n"
        "1:\n\t"
        CK_STEP(0, CK_PREFETCH) CK_STEP(1, "") CK_STEP(2, CK_PREFETCH) CK_STEP(3, "")
        "add $96, %[a]\n\t"
        "dec %[quads]\n\t"
        "jnz 1b\n"
        "2:\n\t"
        "test %[rest], %[rest]\n\t"
        "jz 4f\n"
        "3:\n\t"
        CK_STEP(0, "")
        "add $24, %[a]\n\t"
        "dec %[rest]\n\t"
        "jnz 3b\n"
        "4:\n\t"
        "vbroadcastss %[alpha], %%ymm14\n\t"
        "vmulps %%ymm14, %%ymm0, %%ymm0\n\t"
        "vmulps %%ymm14, %%ymm1, %%ymm1\n\t"
        "vmulps %%ymm14, %%ymm2, %%ymm2\n\t"
        "vmulps %%ymm14, %%ymm3, %%ymm3\n\t"
        "vmulps %%ymm14, %%ymm4, %%ymm4\n\t"
        "vmulps %%ymm14, %%ymm5, %%ymm5\n\t"
        "vmulps %%ymm14, %%ymm6, %%ymm6\n\t"
        "vmulps %%ymm14, %%ymm7, %%ymm7\n\t"
        "vmulps %%ymm14, %%ymm8, %%ymm8\n\t"
        "vmulps %%ymm14, %%ymm9, %%ymm9\n\t"
        "vmulps %%ymm14, %%ymm10, %%ymm10\n\t"
        "vmulps %%ymm14, %%ymm11, %%ymm11\n\t"
        "testl $0x7fffffff, %[beta]\n\t"  // beta is +0 or -0
        "jz 5f\n\t"
        "vbroadcastss %[beta], %%ymm15\n\t"
        CK_STORE_BETA(0, 1) CK_STORE_BETA(2, 3) CK_STORE_BETA(4, 5)
        CK_STORE_BETA(6, 7) CK_STORE_BETA(8, 9) CK_STORE_BETA(10, 11)
        "5:\n\t"
        CK_STORE(0, 1) CK_STORE(2, 3) CK_STORE(4, 5)
        CK_STORE(6, 7) CK_STORE(8, 9) CK_STORE(10, 11)
        "6:\n\t"
        "vzeroupper\n\t"
        : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [quads] "+r"(quads), [rest] "+r"(rest),
          [mr] "+r"(mr), [pf] "+r"(pf), [pf_stride] "+r"(pf_stride), [pf_count] "+r"(pf_count),
          [row] "=&r"(row)
        : [ldc] "r"(ldc_bytes), [b_stride] "r"(b_stride),
          [alpha] "m"(alpha), [beta] "m"(beta)
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
          "cc", "memory");
}

// The micro-kernel for tiles of at most 4 rows (the last row panel when M % 6 is 1..4): the
// same contract and packed layout, 8 accumulators, a third less arithmetic than 6 rows.
void ck_microkernel4_avx2(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                          int64_t mr, float alpha, float beta,
                          const float *pf, int64_t pf_stride, int64_t pf_count) {
    int64_t quads = k / 4, rest = k % 4;
    int64_t ldc_bytes = ldc * (int64_t)sizeof(float);
    int64_t b_stride = ldb * (int64_t)sizeof(float);
    if (pf_count <= 0) pf = b, pf_stride = 0;
    float *row;
    __asm__ volatile(
        "mov %[c], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t" "add %[ldc], %[row]\n\t"
        "prefetcht0 (%[row])\n\t" "prefetcht0 60(%[row])\n\t"
        "xor %[row], %[row]\n\t"
        "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
        "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"
        "vxorps %%ymm2, %%ymm2, %%ymm2\n\t"
        "vxorps %%ymm3, %%ymm3, %%ymm3\n\t"
        "vxorps %%ymm4, %%ymm4, %%ymm4\n\t"
        "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"
        "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"
        "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"
        "test %[quads], %[quads]\n\t"
        "jz 2f\n\t"
        ".p2align 5\n"
        "1:\n\t"
        CK_STEP4(0, CK_PREFETCH) CK_STEP4(1, "") CK_STEP4(2, CK_PREFETCH) CK_STEP4(3, "")
        "add $96, %[a]\n\t"
        "dec %[quads]\n\t"
        "jnz 1b\n"
        "2:\n\t"
        "test %[rest], %[rest]\n\t"
        "jz 4f\n"
        "3:\n\t"
        CK_STEP4(0, "")
        "add $24, %[a]\n\t"
        "dec %[rest]\n\t"
        "jnz 3b\n"
        "4:\n\t"
        "vbroadcastss %[alpha], %%ymm14\n\t"
        "vmulps %%ymm14, %%ymm0, %%ymm0\n\t"
        "vmulps %%ymm14, %%ymm1, %%ymm1\n\t"
        "vmulps %%ymm14, %%ymm2, %%ymm2\n\t"
        "vmulps %%ymm14, %%ymm3, %%ymm3\n\t"
        "vmulps %%ymm14, %%ymm4, %%ymm4\n\t"
        "vmulps %%ymm14, %%ymm5, %%ymm5\n\t"
        "vmulps %%ymm14, %%ymm6, %%ymm6\n\t"
        "vmulps %%ymm14, %%ymm7, %%ymm7\n\t"
        "testl $0x7fffffff, %[beta]\n\t"  // beta is +0 or -0
        "jz 5f\n\t"
        "vbroadcastss %[beta], %%ymm15\n\t"
        CK_STORE_BETA(0, 1) CK_STORE_BETA(2, 3) CK_STORE_BETA(4, 5) CK_STORE_BETA(6, 7)
        "5:\n\t"
        CK_STORE(0, 1) CK_STORE(2, 3) CK_STORE(4, 5) CK_STORE(6, 7)
        "6:\n\t"
        "vzeroupper\n\t"
        : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [quads] "+r"(quads), [rest] "+r"(rest),
          [mr] "+r"(mr), [pf] "+r"(pf), [pf_stride] "+r"(pf_stride), [pf_count] "+r"(pf_count),
          [row] "=&r"(row)
        : [ldc] "r"(ldc_bytes), [b_stride] "r"(b_stride),
          [alpha] "m"(alpha), [beta] "m"(beta)
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
}

// In-register 8×8 transpose: on return r[j] holds lane j of the eight inputs.
__attribute__((target("avx2,fma")))
static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Sources contiguous in k (row-major A, column-major B) need a transpose: 8 lines of 8 k are
// loaded (missing lines zero), transposed, and stored as 8 k-rows of the panel.
__attribute__((target("avx2,fma")))
static inline void transpose_lines(const float *source, int64_t stride, int64_t lines, int64_t kc,
                                   float *dst, int64_t width) {
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256 r[8];
        for (int64_t i = 0; i < 8; i++)
            r[i] = i < lines ? _mm256_loadu_ps(source + i * stride + k) : _mm256_setzero_ps();
        transpose8(r);
        for (int64_t j = 0; j < 8; j++) _mm256_storeu_ps(dst + (k + j) * width, r[j]);
    }
    for (; k < kc; k++)
        for (int64_t i = 0; i < 8; i++) dst[k * width + i] = i < lines ? source[i * stride + k] : 0.0f;
}

// A 6-row panel is transposed as 8 lines (2 zero), each 8-float store overlapping the next k's
// by 2 floats; the last one writes 2 floats past the panel.
__attribute__((target("avx2,fma")))
void ck_pack_a_avx2(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst) {
    if (cs != 1) {
        ck_pack_a_portable(mc, kc, A, rs, cs, dst);
        return;
    }
    for (int64_t i = 0; i < mc; i += CK_MR, dst += CK_MR * kc)
        transpose_lines(A + i * rs, rs, mc - i < CK_MR ? mc - i : CK_MR, kc, dst, CK_MR);
}

// Row-major B (cs == 1) is copied a row at a time, 16 floats per panel.
__attribute__((target("avx2,fma")))
void ck_pack_b_avx2(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst) {
    if (cs == 1) {
        int64_t full = nc / CK_NR * CK_NR;
        for (int64_t k = 0; k < kc; k++) {
            const float *row = B + k * rs;
            float *out = dst + k * CK_NR;
            for (int64_t j = 0; j < full; j += CK_NR) {
                _mm256_storeu_ps(out + j * kc, _mm256_loadu_ps(row + j));
                _mm256_storeu_ps(out + j * kc + 8, _mm256_loadu_ps(row + j + 8));
            }
            for (int64_t c = 0; c < CK_NR && full < nc; c++) out[full * kc + c] = full + c < nc ? row[full + c] : 0.0f;
        }
        return;
    }
    if (rs != 1) {
        ck_pack_b_portable(nc, kc, B, rs, cs, dst);
        return;
    }
    for (int64_t j = 0; j < nc; j += CK_NR, dst += CK_NR * kc)
        for (int64_t half = 0; half < CK_NR; half += 8) {
            int64_t lines = nc - j - half;
            transpose_lines(B + (j + half) * cs, cs, lines < 0 ? 0 : lines < 8 ? lines : 8, kc, dst + half, CK_NR);
        }
}

#endif
