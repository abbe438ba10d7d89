// NEON GEMM micro-kernels for aarch64 (Apple silicon, Graviton, any ARMv8-A CPU: Advanced SIMD is
// part of the base architecture, so no run-time check and no compiler flags are needed). Same
// contract and packed layouts as the AVX2 and portable kernels (ck_internal.h); the packing
// routines are the portable ones.
#include "ck_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

// C[r][4q .. 4q+3] = alpha · acc, or beta · C + alpha · acc (one rounding for the beta product)
// when beta != 0: stores one row of the tile.
static inline __attribute__((always_inline)) void
store_row(float *row, float32x4_t acc0, float32x4_t acc1, float32x4_t acc2, float32x4_t acc3, float alpha, float beta) {
    float32x4_t v0 = vmulq_n_f32(acc0, alpha), v1 = vmulq_n_f32(acc1, alpha);
    float32x4_t v2 = vmulq_n_f32(acc2, alpha), v3 = vmulq_n_f32(acc3, alpha);
    if (beta != 0.0f) {
        v0 = vfmaq_n_f32(v0, vld1q_f32(row), beta);
        v1 = vfmaq_n_f32(v1, vld1q_f32(row + 4), beta);
        v2 = vfmaq_n_f32(v2, vld1q_f32(row + 8), beta);
        v3 = vfmaq_n_f32(v3, vld1q_f32(row + 12), beta);
    }
    vst1q_f32(row, v0);
    vst1q_f32(row + 4, v1);
    vst1q_f32(row + 8, v2);
    vst1q_f32(row + 12, v3);
}

// Row r of the tile lives in four q registers cR0..cR3 (columns 4q .. 4q+3): 24 accumulators for
// 6 rows, plus 4 for the B row and 2 for the A column, 30 of the 32 v registers. One k step:
//     cRq += a[k·6 + r] · b[k·ldb + 4q .. 4q+3]      (fmla by element, r < rows)
// `rows` is a constant (6 or 4) in each caller, so the unused rows vanish. Named variables rather
// than an array, so that no compiler is tempted to keep the accumulators in memory.
#define CK_ROW_ACCUMULATORS(R) float32x4_t c##R##0 = zero, c##R##1 = zero, c##R##2 = zero, c##R##3 = zero;
#define CK_ROW_STEP(R, A, LANE, FMLA) \
    c##R##0 = FMLA(c##R##0, b0, A, LANE); \
    c##R##1 = FMLA(c##R##1, b1, A, LANE); \
    c##R##2 = FMLA(c##R##2, b2, A, LANE); \
    c##R##3 = FMLA(c##R##3, b3, A, LANE);
#define CK_ROW_STORE(R) \
    if (R < rows && R < mr) store_row(c + R * ldc, c##R##0, c##R##1, c##R##2, c##R##3, alpha, beta);

static inline __attribute__((always_inline)) void
microkernel(int rows, int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
            int64_t mr, float alpha, float beta, const float *pf, int64_t pf_stride, int64_t pf_count) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    CK_ROW_ACCUMULATORS(0) CK_ROW_ACCUMULATORS(1) CK_ROW_ACCUMULATORS(2)
    CK_ROW_ACCUMULATORS(3) CK_ROW_ACCUMULATORS(4) CK_ROW_ACCUMULATORS(5)
    const char *prefetch = (const char *)pf;
    for (int64_t p = 0; p < k; p++, a += CK_MR, b += ldb) {
        // One prefetch of the caller's stream every 2 k steps, pf_count in all.
        if (p % 2 == 0 && pf_count > 0) {
            __builtin_prefetch(prefetch);
            prefetch += pf_stride;
            pf_count--;
        }
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
        const float32x4_t a0123 = vld1q_f32(a);
        CK_ROW_STEP(0, a0123, 0, vfmaq_laneq_f32)
        CK_ROW_STEP(1, a0123, 1, vfmaq_laneq_f32)
        CK_ROW_STEP(2, a0123, 2, vfmaq_laneq_f32)
        CK_ROW_STEP(3, a0123, 3, vfmaq_laneq_f32)
        if (rows > 4) {
            const float32x2_t a45 = vld1_f32(a + 4);
            CK_ROW_STEP(4, a45, 0, vfmaq_lane_f32)
            CK_ROW_STEP(5, a45, 1, vfmaq_lane_f32)
        }
    }
    CK_ROW_STORE(0) CK_ROW_STORE(1) CK_ROW_STORE(2) CK_ROW_STORE(3) CK_ROW_STORE(4) CK_ROW_STORE(5)
}

#undef CK_ROW_ACCUMULATORS
#undef CK_ROW_STEP
#undef CK_ROW_STORE

void ck_microkernel_neon(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                         int64_t mr, float alpha, float beta,
                         const float *pf, int64_t pf_stride, int64_t pf_count) {
    microkernel(CK_MR, k, a, b, ldb, c, ldc, mr, alpha, beta, pf, pf_stride, pf_count);
}

// Tiles of at most 4 rows (the last row panel when M % 6 is 1..4): 16 accumulators, a third less
// arithmetic than 6 rows.
void ck_microkernel4_neon(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                          int64_t mr, float alpha, float beta,
                          const float *pf, int64_t pf_stride, int64_t pf_count) {
    microkernel(4, k, a, b, ldb, c, ldc, mr, alpha, beta, pf, pf_stride, pf_count);
}

#endif
