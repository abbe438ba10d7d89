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

// Packs `count` rows of a k-long operand (element (i, k) at src[i·across + k·along]) into panels
// of `width` rows, k-major inside a panel and zero-padded, reading the source in the order that
// is sequential: along k for panels whose source is contiguous across rows, across panels
// otherwise.
static void pack_panels(int64_t count, int64_t kc, const float *src, int64_t across, int64_t along, int64_t width, float *dst) {
    if (across == 1) {
        for (int64_t k = 0; k < kc; k++)
            for (int64_t i = 0; i < count; i += width) {
                int64_t rows = count - i < width ? count - i : width;
                memcpy(dst + i * kc + k * width, src + k * along + i, (size_t)rows * sizeof(float));
                memset(dst + i * kc + k * width + rows, 0, (size_t)(width - rows) * sizeof(float));
            }
        return;
    }
    for (int64_t i = 0; i < count; i += width, dst += width * kc)
        for (int64_t k = 0; k < kc; k++)
            for (int64_t r = 0; r < width; r++)
                dst[k * width + r] = i + r < count ? src[(i + r) * across + k * along] : 0.0f;
}

void ck_pack_a_portable(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst) {
    pack_panels(mc, kc, A, rs, cs, CK_MR, dst);
}

void ck_pack_b_portable(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst) {
    pack_panels(nc, kc, B, cs, rs, CK_NR, dst);
}
