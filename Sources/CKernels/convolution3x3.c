// Direct 3×3 convolution, stride 1, padding 1 (the shape of almost every convolution in the
// residual networks this package studies), without an im2col buffer.
//
// One image at a time, each input channel is copied three times into a zero-guarded scratch row
// of H·W pixels: as is, with its last column zeroed, and with its first column zeroed. Seen as
// one flat row, the 3×3 window then becomes nine fixed offsets (kh−1)·W + (kw−1) into the copy
// for kw, and the zeroed columns stand in for the left and right padding (the guards for the top
// and bottom). Every output channel is then a sum over (input channel, tap) steps of a weight
// times a shifted contiguous run of pixels: a GEMM whose B operand is read straight from the
// copies. The backward-input pass is the same convolution of ∂y with the filter transposed and
// flipped; the backward-filter pass correlates ∂y with the same shifted runs.
#include "CKernelsConvolution.h"
#include "CKernels.h"
#include "ck_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Register tile of the forward kernel: 4 output channels × 24 pixels (3 ymm registers each with
// AVX2, 6 q registers with NEON).
enum { TILE_ROWS = 4, TILE_PIXELS = 24, LANES = 8 };

// out[r·ldo + j] = Σ_{s < steps} w[s·4 + r] · x[offsets[s] + j] for r < 4, j < 24.
typedef void (*gather_kernel)(int64_t steps, const float *x, const int64_t *offsets, const float *w, float *out,
                              int64_t ldo);

// acc[(3r + t)·8 + l] += Σ_{v < vectors} dy[r·ldd + 8v + l] · x[offsets[t] + 8v + l] for r < 4, t < 3, l < 8.
typedef void (*correlate_kernel)(int64_t vectors, const float *dy, int64_t ldd, const float *x, const int64_t *offsets,
                                 float *acc);

static void gather_portable(int64_t steps, const float *x, const int64_t *offsets, const float *w, float *out,
                            int64_t ldo) {
    for (int r = 0; r < TILE_ROWS; r++) memset(out + r * ldo, 0, sizeof(float) * TILE_PIXELS);
    for (int64_t s = 0; s < steps; s++) {
        const float *run = x + offsets[s];
        for (int r = 0; r < TILE_ROWS; r++) {
            const float weight = w[s * TILE_ROWS + r];
            for (int j = 0; j < TILE_PIXELS; j++) out[r * ldo + j] += weight * run[j];
        }
    }
}

static void correlate_portable(int64_t vectors, const float *dy, int64_t ldd, const float *x, const int64_t *offsets,
                               float *acc) {
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 3; t++) {
            float *lanes = acc + (3 * r + t) * LANES;
            const float *a = dy + r * ldd, *b = x + offsets[t];
            for (int64_t v = 0; v < vectors; v++)
                for (int l = 0; l < LANES; l++) lanes[l] += a[v * LANES + l] * b[v * LANES + l];
        }
}

#if defined(__x86_64__)
// Inline assembly runs at full speed even in debug builds (-O0), like the GEMM micro-kernel.

// One step: three 8-pixel runs at x + offsets[s], four broadcast weights, twelve FMAs.
#define GATHER_ROW(W_OFFSET, A0, A1, A2) \
    "vbroadcastss " #W_OFFSET "(%[w]), %%ymm15\n\t" \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm" #A0 "\n\t" \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm" #A1 "\n\t" \
    "vfmadd231ps %%ymm14, %%ymm15, %%ymm" #A2 "\n\t"

static void gather_avx2(int64_t steps, const float *x, const int64_t *offsets, const float *w, float *out,
                        int64_t ldo) {
    int64_t ldo_bytes = ldo * (int64_t)sizeof(float);
    __asm__ volatile(
        CK_ZERO_YMM0_TO_11
        "test %[steps], %[steps]\n\t"
        "jz 2f\n\t"
        ".p2align 5\n"
        "1:\n\t"
        "mov (%[offsets]), %%rax\n\t"
        "vmovups (%[x],%%rax,4), %%ymm12\n\t"
        "vmovups 32(%[x],%%rax,4), %%ymm13\n\t"
        "vmovups 64(%[x],%%rax,4), %%ymm14\n\t"
        GATHER_ROW(0, 0, 1, 2)
        GATHER_ROW(4, 3, 4, 5)
        GATHER_ROW(8, 6, 7, 8)
        GATHER_ROW(12, 9, 10, 11)
        "add $8, %[offsets]\n\t"
        "add $16, %[w]\n\t"
        "dec %[steps]\n\t"
        "jnz 1b\n"
        "2:\n\t"
        "vmovups %%ymm0, (%[out])\n\t"
        "vmovups %%ymm1, 32(%[out])\n\t"
        "vmovups %%ymm2, 64(%[out])\n\t"
        "add %[ldo], %[out]\n\t"
        "vmovups %%ymm3, (%[out])\n\t"
        "vmovups %%ymm4, 32(%[out])\n\t"
        "vmovups %%ymm5, 64(%[out])\n\t"
        "add %[ldo], %[out]\n\t"
        "vmovups %%ymm6, (%[out])\n\t"
        "vmovups %%ymm7, 32(%[out])\n\t"
        "vmovups %%ymm8, 64(%[out])\n\t"
        "add %[ldo], %[out]\n\t"
        "vmovups %%ymm9, (%[out])\n\t"
        "vmovups %%ymm10, 32(%[out])\n\t"
        "vmovups %%ymm11, 64(%[out])\n\t"
        "vzeroupper\n\t"
        : [steps] "+r"(steps), [offsets] "+r"(offsets), [w] "+r"(w), [out] "+r"(out)
        : [x] "r"(x), [ldo] "r"(ldo_bytes)
        : "rax", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

// One ∂y row (already in ymm15) times the three runs in ymm12..14.
#define CORRELATE_ROW(A0, A1, A2) \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm" #A0 "\n\t" \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm" #A1 "\n\t" \
    "vfmadd231ps %%ymm14, %%ymm15, %%ymm" #A2 "\n\t"

static void correlate_avx2(int64_t vectors, const float *dy, int64_t ldd, const float *x, const int64_t *offsets,
                           float *acc) {
    const float *x0 = x + offsets[0], *x1 = x + offsets[1], *x2 = x + offsets[2];
    const float *dy3 = dy + 3 * ldd;
    int64_t ldd_bytes = ldd * (int64_t)sizeof(float);
    __asm__ volatile(
        "vmovups (%[acc]), %%ymm0\n\t"
        "vmovups 32(%[acc]), %%ymm1\n\t"
        "vmovups 64(%[acc]), %%ymm2\n\t"
        "vmovups 96(%[acc]), %%ymm3\n\t"
        "vmovups 128(%[acc]), %%ymm4\n\t"
        "vmovups 160(%[acc]), %%ymm5\n\t"
        "vmovups 192(%[acc]), %%ymm6\n\t"
        "vmovups 224(%[acc]), %%ymm7\n\t"
        "vmovups 256(%[acc]), %%ymm8\n\t"
        "vmovups 288(%[acc]), %%ymm9\n\t"
        "vmovups 320(%[acc]), %%ymm10\n\t"
        "vmovups 352(%[acc]), %%ymm11\n\t"
        "test %[vectors], %[vectors]\n\t"
        "jz 2f\n\t"
        ".p2align 5\n"
        "1:\n\t"
        "vmovups (%[x0]), %%ymm12\n\t"
        "vmovups (%[x1]), %%ymm13\n\t"
        "vmovups (%[x2]), %%ymm14\n\t"
        "vmovups (%[dy]), %%ymm15\n\t"
        CORRELATE_ROW(0, 1, 2)
        "vmovups (%[dy],%[ldd]), %%ymm15\n\t"
        CORRELATE_ROW(3, 4, 5)
        "vmovups (%[dy],%[ldd],2), %%ymm15\n\t"
        CORRELATE_ROW(6, 7, 8)
        "vmovups (%[dy3]), %%ymm15\n\t"
        CORRELATE_ROW(9, 10, 11)
        "add $32, %[x0]\n\t"
        "add $32, %[x1]\n\t"
        "add $32, %[x2]\n\t"
        "add $32, %[dy]\n\t"
        "add $32, %[dy3]\n\t"
        "dec %[vectors]\n\t"
        "jnz 1b\n"
        "2:\n\t"
        "vmovups %%ymm0, (%[acc])\n\t"
        "vmovups %%ymm1, 32(%[acc])\n\t"
        "vmovups %%ymm2, 64(%[acc])\n\t"
        "vmovups %%ymm3, 96(%[acc])\n\t"
        "vmovups %%ymm4, 128(%[acc])\n\t"
        "vmovups %%ymm5, 160(%[acc])\n\t"
        "vmovups %%ymm6, 192(%[acc])\n\t"
        "vmovups %%ymm7, 224(%[acc])\n\t"
        "vmovups %%ymm8, 256(%[acc])\n\t"
        "vmovups %%ymm9, 288(%[acc])\n\t"
        "vmovups %%ymm10, 320(%[acc])\n\t"
        "vmovups %%ymm11, 352(%[acc])\n\t"
        "vzeroupper\n\t"
        : [vectors] "+r"(vectors), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [dy] "+r"(dy), [dy3] "+r"(dy3)
        : [ldd] "r"(ldd_bytes), [acc] "r"(acc)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
#endif

#if defined(__aarch64__)
#include <arm_neon.h>
// NEON intrinsics (every aarch64 CPU has them). Accumulators are named variables, so they stay
// in v registers: 24 of the 32 in both kernels.

// Output row R, pixels 4i .. 4i+3 in oR{i}; one step adds weight w[s·4 + R] (lane R of wv) times
// the six 4-pixel vectors x0..x5 of the run at x + offsets[s].
#define GATHER_ROW(R) \
    o##R##0 = vfmaq_laneq_f32(o##R##0, x0, wv, R); \
    o##R##1 = vfmaq_laneq_f32(o##R##1, x1, wv, R); \
    o##R##2 = vfmaq_laneq_f32(o##R##2, x2, wv, R); \
    o##R##3 = vfmaq_laneq_f32(o##R##3, x3, wv, R); \
    o##R##4 = vfmaq_laneq_f32(o##R##4, x4, wv, R); \
    o##R##5 = vfmaq_laneq_f32(o##R##5, x5, wv, R);
#define GATHER_ZERO(R) float32x4_t o##R##0 = zero, o##R##1 = zero, o##R##2 = zero, o##R##3 = zero, \
                                   o##R##4 = zero, o##R##5 = zero;
#define GATHER_STORE(R) \
    vst1q_f32(out + R * ldo, o##R##0); \
    vst1q_f32(out + R * ldo + 4, o##R##1); \
    vst1q_f32(out + R * ldo + 8, o##R##2); \
    vst1q_f32(out + R * ldo + 12, o##R##3); \
    vst1q_f32(out + R * ldo + 16, o##R##4); \
    vst1q_f32(out + R * ldo + 20, o##R##5);

static void gather_neon(int64_t steps, const float *x, const int64_t *offsets, const float *w, float *out,
                        int64_t ldo) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    GATHER_ZERO(0) GATHER_ZERO(1) GATHER_ZERO(2) GATHER_ZERO(3)
    for (int64_t s = 0; s < steps; s++) {
        const float *run = x + offsets[s];
        const float32x4_t x0 = vld1q_f32(run), x1 = vld1q_f32(run + 4), x2 = vld1q_f32(run + 8);
        const float32x4_t x3 = vld1q_f32(run + 12), x4 = vld1q_f32(run + 16), x5 = vld1q_f32(run + 20);
        const float32x4_t wv = vld1q_f32(w + s * TILE_ROWS);
        GATHER_ROW(0) GATHER_ROW(1) GATHER_ROW(2) GATHER_ROW(3)
    }
    GATHER_STORE(0) GATHER_STORE(1) GATHER_STORE(2) GATHER_STORE(3)
}

#undef GATHER_ROW
#undef GATHER_ZERO
#undef GATHER_STORE

// Lanes 0..3 of acc row (3R + T) live in aRT_0, lanes 4..7 in aRT_1. Half H of a vector step adds
// dy[R·ldd + 8v + 4H + l] · x[offsets[T] + 8v + 4H + l] to aRT_H.
#define CORRELATE_LOAD(R, T) \
    float32x4_t a##R##T##_0 = vld1q_f32(acc + (3 * R + T) * LANES), a##R##T##_1 = vld1q_f32(acc + (3 * R + T) * LANES + 4);
#define CORRELATE_ROW(R, H) \
    d = vld1q_f32(dy + R * ldd + 4 * H); \
    a##R##0_##H = vfmaq_f32(a##R##0_##H, d, t0); \
    a##R##1_##H = vfmaq_f32(a##R##1_##H, d, t1); \
    a##R##2_##H = vfmaq_f32(a##R##2_##H, d, t2);
#define CORRELATE_HALF(H) \
    t0 = vld1q_f32(x0 + 4 * H), t1 = vld1q_f32(x1 + 4 * H), t2 = vld1q_f32(x2 + 4 * H); \
    CORRELATE_ROW(0, H) CORRELATE_ROW(1, H) CORRELATE_ROW(2, H) CORRELATE_ROW(3, H)
#define CORRELATE_STORE(R, T) \
    vst1q_f32(acc + (3 * R + T) * LANES, a##R##T##_0); \
    vst1q_f32(acc + (3 * R + T) * LANES + 4, a##R##T##_1);

static void correlate_neon(int64_t vectors, const float *dy, int64_t ldd, const float *x, const int64_t *offsets,
                           float *acc) {
    const float *x0 = x + offsets[0], *x1 = x + offsets[1], *x2 = x + offsets[2];
    CORRELATE_LOAD(0, 0) CORRELATE_LOAD(0, 1) CORRELATE_LOAD(0, 2)
    CORRELATE_LOAD(1, 0) CORRELATE_LOAD(1, 1) CORRELATE_LOAD(1, 2)
    CORRELATE_LOAD(2, 0) CORRELATE_LOAD(2, 1) CORRELATE_LOAD(2, 2)
    CORRELATE_LOAD(3, 0) CORRELATE_LOAD(3, 1) CORRELATE_LOAD(3, 2)
    for (int64_t v = 0; v < vectors; v++, dy += LANES, x0 += LANES, x1 += LANES, x2 += LANES) {
        float32x4_t t0, t1, t2, d;
        CORRELATE_HALF(0)
        // A compiler barrier: without it both halves' loads are hoisted together, 24 accumulators
        // plus 8 loaded vectors need all 32 registers, and the loop spills.
        __asm__ volatile("" ::: "memory");
        CORRELATE_HALF(1)
    }
    CORRELATE_STORE(0, 0) CORRELATE_STORE(0, 1) CORRELATE_STORE(0, 2)
    CORRELATE_STORE(1, 0) CORRELATE_STORE(1, 1) CORRELATE_STORE(1, 2)
    CORRELATE_STORE(2, 0) CORRELATE_STORE(2, 1) CORRELATE_STORE(2, 2)
    CORRELATE_STORE(3, 0) CORRELATE_STORE(3, 1) CORRELATE_STORE(3, 2)
}

#undef CORRELATE_LOAD
#undef CORRELATE_ROW
#undef CORRELATE_HALF
#undef CORRELATE_STORE
#endif

static _Thread_local int portable_requested;

void ck_conv2d_use_portable_kernels_on_this_thread(int enable) { portable_requested = enable; }

static gather_kernel native_gather(void) {
    if (portable_requested) return gather_portable;
    switch (ck_native_kernels()) {
#if defined(__x86_64__)
    case CK_KERNELS_AVX2_FMA: return gather_avx2;
#endif
#if defined(__aarch64__)
    case CK_KERNELS_NEON: return gather_neon;
#endif
    default: return gather_portable;
    }
}

static correlate_kernel native_correlate(void) {
    if (portable_requested) return correlate_portable;
    switch (ck_native_kernels()) {
#if defined(__x86_64__)
    case CK_KERNELS_AVX2_FMA: return correlate_avx2;
#endif
#if defined(__aarch64__)
    case CK_KERNELS_NEON: return correlate_neon;
#endif
    default: return correlate_portable;
    }
}

// MARK: - Shifted copies

/// Layout of the three zero-guarded copies of `channels` channels of one H×W image.
typedef struct {
    int64_t height, width, pixels;
    int64_t lead;          // zeros before each channel's pixels: one row and one pixel
    int64_t channel_size;  // lead + pixels + trailing zeros (room for a tile's over-read)
    int64_t copy_size;     // channels · channel_size
} shifted_layout;

static shifted_layout make_layout(int64_t channels, int64_t height, int64_t width) {
    shifted_layout layout;
    layout.height = height;
    layout.width = width;
    layout.pixels = height * width;
    layout.lead = width + 1;
    layout.channel_size = layout.lead + layout.pixels + width + 1 + TILE_PIXELS;
    layout.copy_size = channels * layout.channel_size;
    return layout;
}

/// Writes the copies for kw = 0 (last column zeroed), 1 (as is) and 2 (first column zeroed).
static void make_shifted_copies(const shifted_layout *layout, int64_t channels, const float *image, float *copies) {
    const int64_t trailing = layout->channel_size - layout->lead - layout->pixels;
    for (int kw = 0; kw < 3; kw++)
        for (int64_t ch = 0; ch < channels; ch++) {
            float *row = copies + kw * layout->copy_size + ch * layout->channel_size;
            memset(row, 0, sizeof(float) * layout->lead);
            float *pixels = row + layout->lead;
            memcpy(pixels, image + ch * layout->pixels, sizeof(float) * layout->pixels);
            memset(pixels + layout->pixels, 0, sizeof(float) * trailing);
            if (kw == 0)
                for (int64_t y = 0; y < layout->height; y++) pixels[y * layout->width + layout->width - 1] = 0;
            if (kw == 2)
                for (int64_t y = 0; y < layout->height; y++) pixels[y * layout->width] = 0;
        }
}

/// offsets[ch·9 + kh·3 + kw]: where tap (kh, kw) of channel ch starts, relative to output pixel 0.
static void make_offsets(const shifted_layout *layout, int64_t channels, int64_t *offsets) {
    for (int64_t ch = 0; ch < channels; ch++)
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
                offsets[ch * 9 + kh * 3 + kw] = kw * layout->copy_size + ch * layout->channel_size + layout->lead +
                                                (kh - 1) * layout->width + (kw - 1);
}

int ck_conv2d_is_direct_3x3(const ck_conv_geometry *g) {
    return g->kh == 3 && g->kw == 3 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 1 && g->pad_w == 1 &&
           g->dilation_h == 1 && g->dilation_w == 1 && g->groups == 1 && g->ho == g->h && g->wo == g->w &&
           g->h > 0 && g->w > 0;
}

// MARK: - Forward and backward-input: out[n][m] = Σ_{c, tap} packed weight · shifted in[n][c]

typedef struct {
    gather_kernel kernel;
    shifted_layout layout;
    int64_t in_channels, out_channels;
    const float *input;    // [n][in_channels][pixels]
    float *output;         // [n][out_channels][pixels]
    const float *packed;   // [ceil(out/4)][in_channels·9][4]
    const int64_t *offsets;
} gather_task;

static void gather_image(void *context, int64_t image) {
    const gather_task *t = context;
    const shifted_layout *layout = &t->layout;
    const int64_t steps = t->in_channels * 9, blocks = (t->out_channels + TILE_ROWS - 1) / TILE_ROWS;
    float *copies = ck_thread_buffer(CK_BUFFER_CONVOLUTION, 3 * layout->copy_size);
    make_shifted_copies(layout, t->in_channels, t->input + image * t->in_channels * layout->pixels, copies);
    float *output = t->output + image * t->out_channels * layout->pixels;
    float tile[TILE_ROWS * TILE_PIXELS];
    for (int64_t p = 0; p < layout->pixels; p += TILE_PIXELS) {
        const int64_t width = layout->pixels - p < TILE_PIXELS ? layout->pixels - p : TILE_PIXELS;
        for (int64_t block = 0; block < blocks; block++) {
            const float *weights = t->packed + block * steps * TILE_ROWS;
            float *target = output + block * TILE_ROWS * layout->pixels + p;
            if (width == TILE_PIXELS && (block + 1) * TILE_ROWS <= t->out_channels) {
                t->kernel(steps, copies + p, t->offsets, weights, target, layout->pixels);
                continue;
            }
            // A partial tile: sum into `tile`, keep the rows and pixels that exist.
            t->kernel(steps, copies + p, t->offsets, weights, tile, TILE_PIXELS);
            for (int64_t r = 0; r < TILE_ROWS && block * TILE_ROWS + r < t->out_channels; r++)
                memcpy(target + r * layout->pixels, tile + r * TILE_PIXELS, sizeof(float) * width);
        }
    }
}

/// Runs the gather pass with weights weight(m, c, tap) for output channel m, input channel c.
static void run_gather(int64_t images, int64_t in_channels, int64_t out_channels, int64_t height, int64_t width,
                       const float *input, float *output, const float *filter, int transposed_flipped) {
    const int64_t steps = in_channels * 9, blocks = (out_channels + TILE_ROWS - 1) / TILE_ROWS;
    float *packed = calloc((size_t)(blocks * steps * TILE_ROWS), sizeof(float));
    int64_t *offsets = malloc(sizeof(int64_t) * (size_t)steps);
    if (!packed || !offsets) {
        fputs("CKernels: cannot allocate convolution weights\n", stderr);
        abort();
    }
    for (int64_t m = 0; m < out_channels; m++)
        for (int64_t c = 0; c < in_channels; c++)
            for (int tap = 0; tap < 9; tap++) {
                // Forward: filter[m][c][tap]. Backward-input: filter[c][m][8 − tap] (filter is [in'][out'] there).
                const float weight = transposed_flipped ? filter[(c * out_channels + m) * 9 + 8 - tap]
                                                        : filter[(m * in_channels + c) * 9 + tap];
                packed[((m / TILE_ROWS) * steps + c * 9 + tap) * TILE_ROWS + m % TILE_ROWS] = weight;
            }
    gather_task task = {native_gather(), make_layout(in_channels, height, width), in_channels, out_channels,
                        input, output, packed, offsets};
    make_offsets(&task.layout, in_channels, offsets);
    ck_parallel_for(images, gather_image, &task);
    free(packed);
    free(offsets);
}

void ck_conv2d_direct_3x3_forward(const ck_conv_geometry *g, const float *x, const float *filter, float *y) {
    run_gather(g->n, g->c, g->o, g->h, g->w, x, y, filter, 0);
}

void ck_conv2d_direct_3x3_backward_input(const ck_conv_geometry *g, const float *dy, const float *filter, float *dx) {
    run_gather(g->n, g->o, g->c, g->h, g->w, dy, dx, filter, 1);
}

// MARK: - Backward-filter: ∂w[o][c][tap] = Σ_n Σ_p ∂y[n][o][p] · shifted x[n][c] at tap
//
// The kernel keeps a 4 × 3-tap accumulator tile in registers while it runs along a row, and loads
// and stores it around every call. One image's row of an 8×8 stage is only 8 vectors, so the
// images of a chunk are laid side by side in groups: each channel's row holds `group` images'
// pixels `stride` = H·W + W + 1 apart, each followed by W + 1 zeros (a tap reaching past an
// image's edge reads those zeros, never the next image), and ∂y is copied into the same places
// with zeros between. One call then runs over the whole group; the products of the zeros add
// nothing.

typedef struct {
    correlate_kernel kernel;
    shifted_layout layout;   // per channel: lead, then `group` segments of `stride`, then guards
    int64_t images, chunks, channels, outputs;
    int64_t group, stride;   // images per kernel call and the distance between their pixels
    int64_t span;            // group · stride rounded up to whole vectors: one call's length
    const float *x, *dy;
    const int64_t *offsets;
    float *partials;         // per chunk: ∂w summed over the chunk's images, [o][c·9]
} correlate_task;

/// The register tiles' accumulators of one chunk: [ceil(o/4)][c·3][12·8].
static int64_t accumulator_count(const correlate_task *t) {
    return (t->outputs + TILE_ROWS - 1) / TILE_ROWS * t->channels * 3 * 12 * LANES;
}

/// Writes the three copies (kw = 0: last column zeroed, 1: as is, 2: first column zeroed) of
/// `count` ≤ group images starting at `images`, side by side `stride` apart, zeros elsewhere.
static void make_grouped_copies(const correlate_task *t, int64_t count, const float *images, float *copies) {
    const shifted_layout *layout = &t->layout;
    for (int kw = 0; kw < 3; kw++)
        for (int64_t ch = 0; ch < t->channels; ch++) {
            float *row = copies + kw * layout->copy_size + ch * layout->channel_size;
            memset(row, 0, sizeof(float) * layout->channel_size);
            for (int64_t i = 0; i < count; i++) {
                float *pixels = row + layout->lead + i * t->stride;
                memcpy(pixels, images + (i * t->channels + ch) * layout->pixels, sizeof(float) * layout->pixels);
                if (kw == 0)
                    for (int64_t y = 0; y < layout->height; y++) pixels[y * layout->width + layout->width - 1] = 0;
                if (kw == 2)
                    for (int64_t y = 0; y < layout->height; y++) pixels[y * layout->width] = 0;
            }
        }
}

static void correlate_chunk(void *context, int64_t chunk) {
    const correlate_task *t = context;
    const shifted_layout *layout = &t->layout;
    const int64_t blocks = (t->outputs + TILE_ROWS - 1) / TILE_ROWS, triples = t->channels * 3;
    const int64_t copies_size = 3 * layout->copy_size, gradient_size = blocks * TILE_ROWS * t->span;
    float *copies = ck_thread_buffer(CK_BUFFER_CONVOLUTION, copies_size + gradient_size + accumulator_count(t));
    float *gradient = copies + copies_size;   // [blocks·4][span]: ∂y of the group, zeros between and after
    float *acc = gradient + gradient_size;
    memset(acc, 0, sizeof(float) * accumulator_count(t));
    const int64_t begin = t->images * chunk / t->chunks, end = t->images * (chunk + 1) / t->chunks;
    for (int64_t first = begin; first < end; first += t->group) {
        const int64_t count = end - first < t->group ? end - first : t->group;
        make_grouped_copies(t, count, t->x + first * t->channels * layout->pixels, copies);
        memset(gradient, 0, sizeof(float) * gradient_size);
        for (int64_t i = 0; i < count; i++)
            for (int64_t o = 0; o < t->outputs; o++)
                memcpy(gradient + o * t->span + i * t->stride, t->dy + ((first + i) * t->outputs + o) * layout->pixels,
                       sizeof(float) * layout->pixels);
        for (int64_t block = 0; block < blocks; block++)
            for (int64_t triple = 0; triple < triples; triple++)
                t->kernel(t->span / LANES, gradient + block * TILE_ROWS * t->span, t->span, copies, t->offsets + triple * 3,
                          acc + (block * triples + triple) * 12 * LANES);
    }
    // The chunk's ∂w[o][c·9 + k]: the lane sum of accumulator (block o/4, triple k/3, row o%4, tap k%3).
    float *partial = t->partials + chunk * t->outputs * t->channels * 9;
    for (int64_t o = 0; o < t->outputs; o++)
        for (int64_t k = 0; k < t->channels * 9; k++) {
            const float *lanes = acc + (((o / TILE_ROWS) * triples + k / 3) * 12 + (o % TILE_ROWS) * 3 + k % 3) * LANES;
            float sum = 0;
            for (int l = 0; l < LANES; l++) sum += lanes[l];
            partial[o * t->channels * 9 + k] = sum;
        }
}

/// Images per kernel call: enough for a run of about 512 floats (64 vectors), at most a chunk's.
static int64_t correlate_group(int64_t stride, int64_t images, int64_t chunks) {
    const int64_t wanted = (512 + stride - 1) / stride, per_chunk = (images + chunks - 1) / chunks;
    return wanted < per_chunk ? wanted : (per_chunk > 0 ? per_chunk : 1);
}

void ck_conv2d_direct_3x3_backward_filter(const ck_conv_geometry *g, const float *x, const float *dy, float *dfilter) {
    const int64_t chunks = ck_filter_gradient_chunks(g->n);
    const int64_t pixels = g->h * g->w, stride = pixels + g->w + 1, group = correlate_group(stride, g->n, chunks);
    const int64_t span = (group * stride + LANES - 1) / LANES * LANES;
    shifted_layout layout = make_layout(g->c, g->h, g->w);
    // A channel's row: the lead, the group's segments (the last one's trailing zeros included),
    // and room for the last vector's over-read past `span` and the taps' reach of W + 1.
    layout.channel_size = layout.lead + span + g->w + 1 + LANES;
    layout.copy_size = g->c * layout.channel_size;
    correlate_task task = {native_correlate(), layout, g->n, chunks, g->c, g->o, group, stride, span, x, dy, NULL, NULL};
    const int64_t size = g->o * g->c * 9;
    int64_t *offsets = malloc(sizeof(int64_t) * (size_t)(g->c * 9));
    float *partials = malloc(sizeof(float) * (size_t)(size * chunks));
    if (!offsets || !partials) {
        fputs("CKernels: cannot allocate convolution partial sums\n", stderr);
        abort();
    }
    make_offsets(&task.layout, g->c, offsets);
    task.offsets = offsets;
    task.partials = partials;
    ck_parallel_for(chunks, correlate_chunk, &task);
    // Chunks in order, so the sum does not depend on how many threads ran them.
    memcpy(dfilter, partials, sizeof(float) * (size_t)size);
    for (int64_t chunk = 1; chunk < chunks; chunk++)
        for (int64_t i = 0; i < size; i++) dfilter[i] += partials[chunk * size + i];
    free(offsets);
    free(partials);
}
