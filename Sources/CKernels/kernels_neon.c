// NEON GEMM pieces for aarch64 (Apple silicon, Graviton, any ARMv8-A CPU: Advanced SIMD is part
// of the base architecture, so no run-time check and no compiler flags are needed): the 6×16
// micro-kernels and the packing of operands contiguous along k. Same contracts and packed layouts
// as the AVX2 and portable versions (ck_internal.h).
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

// In-register 4×4 transpose: on return r[j] holds lane j of the four inputs.
static inline __attribute__((always_inline)) void transpose4(float32x4_t r[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);  // [r0j r1j r0j' r1j']
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

// Packs `lines` (<= width) lines contiguous in k, line i at source + i·stride, into a k-major
// panel of `width` (6 or 16) floats per k: dst[k·width + i] = source[i·stride + k], lines past
// `lines` zero. Four k at a time, lines in groups of 4 (missing ones zero) are transposed and
// stored k by k; with width 6 the second group's store also writes lanes 6 and 7, i.e. the next
// k's first two floats, which that k's own store then overwrites -- and 2 floats past the panel
// at its end.
static void transpose_lines(const float *source, int64_t stride, int64_t lines, int64_t kc, float *dst, int64_t width) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    const int64_t groups = (width + 3) / 4;
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4) {
        float32x4_t r[4][4];
        for (int64_t g = 0; g < groups; g++) {
            for (int64_t i = 0; i < 4; i++) {
                const int64_t line = 4 * g + i;
                r[g][i] = line < lines ? vld1q_f32(source + line * stride + k) : zero;
            }
            transpose4(r[g]);
        }
        for (int64_t j = 0; j < 4; j++)
            for (int64_t g = 0; g < groups; g++) vst1q_f32(dst + (k + j) * width + 4 * g, r[g][j]);
    }
    for (; k < kc; k++)
        for (int64_t i = 0; i < width; i++) dst[k * width + i] = i < lines ? source[i * stride + k] : 0.0f;
}

// Row-major A (cs == 1) is transposed into 6-row panels; other layouts are packed by the portable
// code. May write 2 floats past the end, as the contract allows.
void ck_pack_a_neon(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst) {
    if (cs != 1) {
        ck_pack_a_portable(mc, kc, A, rs, cs, dst);
        return;
    }
    for (int64_t i = 0; i < mc; i += CK_MR, dst += CK_MR * kc)
        transpose_lines(A + i * rs, rs, mc - i < CK_MR ? mc - i : CK_MR, kc, dst, CK_MR);
}

// Column-major B (rs == 1, a transposed view) is transposed into 16-column panels; row-major B is
// already copied a row at a time by the portable code, which handles the other layouts too.
void ck_pack_b_neon(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst) {
    if (rs != 1 || cs == 1) {
        ck_pack_b_portable(nc, kc, B, rs, cs, dst);
        return;
    }
    for (int64_t j = 0; j < nc; j += CK_NR, dst += CK_NR * kc)
        transpose_lines(B + j * cs, cs, nc - j < CK_NR ? nc - j : CK_NR, kc, dst, CK_NR);
}

#endif
