// Portable C GEMM pieces: the fallback 6×16 micro-kernel and the packing routines, used on CPUs
// without AVX2+FMA, on other architectures, and by ck_sgemm_portable.
#include "ck_internal.h"
#include <string.h>

void ck_microkernel_portable(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                             int64_t mr, float alpha, float beta,
                             const float *pf, int64_t pf_stride, int64_t pf_count) {
    float acc[CK_MR][CK_NR];
    memset(acc, 0, sizeof acc);
    const char *prefetch = (const char *)pf;
    for (int64_t p = 0; p < k; p++) {
        if (p % 2 == 0 && p / 2 < pf_count) __builtin_prefetch(prefetch + p / 2 * pf_stride);
        const float *bp = b + p * ldb;
        for (int r = 0; r < CK_MR; r++) {
            float ar = a[p * CK_MR + r];
            for (int j = 0; j < CK_NR; j++) acc[r][j] += ar * bp[j];
        }
    }
    for (int64_t r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < CK_NR; j++) cr[j] = alpha * acc[r][j];
        else
            for (int j = 0; j < CK_NR; j++) cr[j] = beta * cr[j] + alpha * acc[r][j];
    }
}

// Packs a panel row or column at a time in the order that reads the source sequentially:
// along k for panels whose source is contiguous in k, across panels otherwise.
static void copy_padded(float *dst, const float *src, int64_t count, int64_t width) {
    memcpy(dst, src, (size_t)count * sizeof(float));
    memset(dst + count, 0, (size_t)(width - count) * sizeof(float));
}

void ck_pack_a_portable(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst) {
    if (rs == 1) {  // column-major: each k is a contiguous column of mc floats
        for (int64_t k = 0; k < kc; k++)
            for (int64_t i = 0; i < mc; i += CK_MR) {
                int64_t mr = mc - i < CK_MR ? mc - i : CK_MR;
                copy_padded(dst + i * kc + k * CK_MR, A + k * cs + i, mr, CK_MR);
            }
        return;
    }
    for (int64_t i = 0; i < mc; i += CK_MR, dst += CK_MR * kc)
        for (int64_t k = 0; k < kc; k++)
            for (int64_t r = 0; r < CK_MR; r++)
                dst[k * CK_MR + r] = i + r < mc ? A[(i + r) * rs + k * cs] : 0.0f;
}

void ck_pack_b_portable(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst) {
    if (cs == 1) {  // row-major: each k is a contiguous row of nc floats
        for (int64_t k = 0; k < kc; k++)
            for (int64_t j = 0; j < nc; j += CK_NR) {
                int64_t nr = nc - j < CK_NR ? nc - j : CK_NR;
                copy_padded(dst + j * kc + k * CK_NR, B + k * rs + j, nr, CK_NR);
            }
        return;
    }
    for (int64_t j = 0; j < nc; j += CK_NR, dst += CK_NR * kc)
        for (int64_t k = 0; k < kc; k++)
            for (int64_t c = 0; c < CK_NR; c++)
                dst[k * CK_NR + c] = j + c < nc ? B[k * rs + (j + c) * cs] : 0.0f;
}
