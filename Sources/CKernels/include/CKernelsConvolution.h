#ifndef CKERNELS_CONVOLUTION_H
#define CKERNELS_CONVOLUTION_H
#include <stdint.h>

/// Geometry of a 2-D convolution on contiguous NCHW input [n, c, h, w] with filters
/// [o, c/groups, kh, kw] and output [n, o, ho, wo].
typedef struct {
    int64_t n, c, h, w, o, kh, kw, ho, wo;
    int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups;
} ck_conv_geometry;

/// y = conv2d(x, filter) + bias (bias [o] added per output channel, or NULL for none). 3×3 filters with padding 1 (and no dilation or groups) at stride 1, or
/// at stride 2 on even sides, run a direct convolution over shifted copies of each image (at
/// stride 2: of its four phases), with no im2col buffer; every
/// other geometry runs im2col per image and group, then one GEMM. Images are spread over the
/// thread pool; each image's result is computed the same way whatever the thread count (bit for bit).
/// The bias is added to each register tile (direct path) or image (GEMM path) while it is in
/// cache: y = (Σ w·x) + b, rounded as a separate add would round it.
void ck_conv2d_forward(const ck_conv_geometry *g, const float *x, const float *filter, const float *bias, float *y);

/// dx = the adjoint of conv2d in its input: filterᵀ·dy per image, folded back by col2im (for
/// the direct 3×3 geometry: the convolution of dy with the transposed, flipped filter; at stride
/// 2 one such gather per phase of dx).
/// dx is overwritten.
void ck_conv2d_backward_input(const ck_conv_geometry *g, const float *dy, const float *filter, float *dx);

/// dfilter = Σ_images dy·im2col(x)ᵀ (for the direct 3×3 geometry: dy correlated with the
/// shifted copies of x). The batch is split into at most 16 fixed ranges of images, each summed
/// into its own buffer by whichever thread is free; the buffers are added in order, so the result
/// does not depend on the thread count, bit for bit. dfilter is overwritten.
void ck_conv2d_backward_filter(const ck_conv_geometry *g, const float *x, const float *dy, float *dfilter);

/// With enable != 0, the direct 3×3 convolutions started from the calling thread use the portable
/// C kernels instead of AVX2+FMA (for tests of the fallback; results differ only by rounding).
void ck_conv2d_use_portable_kernels_on_this_thread(int enable);

#endif
