#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H
// Declarations shared between the C files of CKernels; not part of the public API.
#include <stdint.h>

// The kernel sets (ck_kernel_set names them); ck_native_kernels() is the one this CPU runs,
// resolved once.
typedef enum { CK_KERNELS_PORTABLE, CK_KERNELS_AVX2_FMA, CK_KERNELS_NEON } ck_kernels;
ck_kernels ck_native_kernels(void);

// GEMM register tile: the micro-kernel computes an MR×NR block of C.
enum { CK_MR = 6, CK_NR = 16 };

// How many prefetches a micro-kernel call over k steps can issue.
#define CK_PREFETCH_SLOTS(k) ((k) / 4 * 2)

// Micro-kernel: rows [0, mr) (1 <= mr <= 6) of the 6×16 tile
// C[r][j] = c[r·ldc + j] = alpha · Σ_k a[k·6 + r] · b[k·ldb + j] + beta · C[r][j], where a is a
// packed 6×k panel (k-major, 6 floats per k) and b a k×16 panel with rows ldb floats apart
// (16 when packed); beta == 0 stores without reading c. While summing, it prefetches the bytes at
// pf + i·pf_stride for i in [0, pf_count), pf_count <= CK_PREFETCH_SLOTS(k), one every 2 k steps:
// a stream of the next block's source, spread over the arithmetic.
typedef void (*ck_microkernel)(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                               int64_t mr, float alpha, float beta,
                               const float *pf, int64_t pf_stride, int64_t pf_count);

// Packs an mc×kc block of op(A)[i][k] = A[i·rs + k·cs] into ceil(mc/6) k-major panels:
// dst[p·6·kc + k·6 + r] = op(A)[6p + r][k], rows past mc zero. May write 2 floats past the end.
typedef void (*ck_pack_a)(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst);

// Packs a kc×nc block of op(B)[k][j] = B[k·rs + j·cs] into ceil(nc/16) k-major panels:
// dst[p·16·kc + k·16 + c] = op(B)[k][16p + c], columns past nc zero.
typedef void (*ck_pack_b)(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst);

// The AVX2+FMA versions (x86_64 only; call only when ck_has_avx2_fma() is 1).
void ck_microkernel_avx2(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                         int64_t mr, float alpha, float beta,
                         const float *pf, int64_t pf_stride, int64_t pf_count);
// The same for tiles of mr <= 4 rows, doing only those rows' arithmetic.
void ck_microkernel4_avx2(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                          int64_t mr, float alpha, float beta,
                          const float *pf, int64_t pf_stride, int64_t pf_count);
void ck_pack_a_avx2(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst);
void ck_pack_b_avx2(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst);

// The NEON versions (aarch64 only; kernels_neon.c): the same contracts and packed layouts.
void ck_microkernel_neon(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                         int64_t mr, float alpha, float beta,
                         const float *pf, int64_t pf_stride, int64_t pf_count);
void ck_microkernel4_neon(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                          int64_t mr, float alpha, float beta,
                          const float *pf, int64_t pf_stride, int64_t pf_count);
void ck_pack_a_neon(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst);
void ck_pack_b_neon(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst);

// The portable C versions.
void ck_microkernel_portable(int64_t k, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                             int64_t mr, float alpha, float beta,
                             const float *pf, int64_t pf_stride, int64_t pf_count);
void ck_pack_a_portable(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *dst);
void ck_pack_b_portable(int64_t nc, int64_t kc, const float *B, int64_t rs, int64_t cs, float *dst);

// 1 when a parallel region started now by the calling thread could use more than one thread
// (the pool has > 1 thread and the caller is not already inside a region); else 0.
int ck_pool_can_split(void);

// Per-thread scratch (scratch.c): this thread's buffer for `slot`, at least `count` floats,
// 64-byte aligned, kept between calls (contents unspecified) and freed when the thread exits.
typedef enum { CK_BUFFER_GEMM_A, CK_BUFFER_GEMM_B, CK_BUFFER_CONVOLUTION, CK_BUFFER_SLOTS } ck_buffer_slot;
float *ck_thread_buffer(ck_buffer_slot slot, int64_t count);

// Zeroes the twelve accumulators ymm0..ymm11 of the AVX2 kernels (inline assembly text).
#define CK_ZERO_YMM0_TO_11 \
    "vxorps %%ymm0, %%ymm0, %%ymm0\n\t" "vxorps %%ymm1, %%ymm1, %%ymm1\n\t" "vxorps %%ymm2, %%ymm2, %%ymm2\n\t" \
    "vxorps %%ymm3, %%ymm3, %%ymm3\n\t" "vxorps %%ymm4, %%ymm4, %%ymm4\n\t" "vxorps %%ymm5, %%ymm5, %%ymm5\n\t" \
    "vxorps %%ymm6, %%ymm6, %%ymm6\n\t" "vxorps %%ymm7, %%ymm7, %%ymm7\n\t" "vxorps %%ymm8, %%ymm8, %%ymm8\n\t" \
    "vxorps %%ymm9, %%ymm9, %%ymm9\n\t" "vxorps %%ymm10, %%ymm10, %%ymm10\n\t" "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"

// Filter gradients sum the batch in this many fixed ranges of images (fewer for small batches),
// one partial sum each, added in order: the result does not depend on the thread count.
enum { CK_FILTER_GRADIENT_CHUNKS = 16 };

/// The number of image ranges a filter gradient over `images` images is split into.
static inline int64_t ck_filter_gradient_chunks(int64_t images) {
    return images < CK_FILTER_GRADIENT_CHUNKS ? (images > 0 ? images : 1) : CK_FILTER_GRADIENT_CHUNKS;
}

/// Adds bias[r] to `rows` rows of `width` floats, `stride` apart: a convolution's bias, added to
/// a register tile (direct 3×3) or an image (im2col + GEMM) while it is in cache.
static inline void ck_add_bias_rows(const float *bias, int64_t rows, int64_t width, float *target, int64_t stride) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t q = 0; q < width; q++) target[r * stride + q] += bias[r];
}

// Direct 3×3 convolution (convolution3x3.c): 1 when g is a 3×3 convolution with stride 1,
// padding 1, no dilation and one group (output size = input size), which these handle.
#include "CKernelsConvolution.h"
int ck_conv2d_is_direct_3x3(const ck_conv_geometry *g);
void ck_conv2d_direct_3x3_forward(const ck_conv_geometry *g, const float *x, const float *filter, const float *bias, float *y);
void ck_conv2d_direct_3x3_backward_input(const ck_conv_geometry *g, const float *dy, const float *filter, float *dx);
void ck_conv2d_direct_3x3_backward_filter(const ck_conv_geometry *g, const float *x, const float *dy, float *dfilter);

#endif
