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
//
// Stride 2 (the first convolution of a downsampling stage) on even sides: output (i, j) reads
// x(2i + kh − 1, 2j + kw − 1), a pixel of one of the image's four phases P_ab(i, j) = x(2i + a,
// 2j + b) at a shift of 0 or −1. Copies of the phases on the output's grid (the odd-column ones
// also with their last column zeroed) make every tap a fixed offset again, so the same kernels
// run forward and backward-filter; backward-input gathers each phase of ∂x from ∂y and
// interleaves them.
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
// With `single` the accumulators start at zero and the call ends by writing their 12 lane sums
// to acc[0..11] (a tile computed in one call), else they are loaded from and stored back to acc.
typedef void (*correlate_kernel)(int64_t vectors, const float *dy, int64_t ldd, const float *x, const int64_t *offsets,
                                 float *acc, int single);

/// acc[v] = the sum of the 8 lanes of accumulator v < 12 of acc[12][8], by halving (the order
/// the AVX2 kernel's horizontal adds use).
static void sum_lanes_in_place(float *acc) {
    float sums[TILE_ROWS * 3];
    for (int v = 0; v < TILE_ROWS * 3; v++) {
        const float *l = acc + v * LANES;
        sums[v] = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
    memcpy(acc, sums, sizeof sums);
}

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
                               float *acc, int single) {
    if (single) memset(acc, 0, sizeof(float) * TILE_ROWS * 3 * LANES);
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 3; t++) {
            float *lanes = acc + (3 * r + t) * LANES;
            const float *a = dy + r * ldd, *b = x + offsets[t];
            for (int64_t v = 0; v < vectors; v++)
                for (int l = 0; l < LANES; l++) lanes[l] += a[v * LANES + l] * b[v * LANES + l];
        }
    if (single) sum_lanes_in_place(acc);
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

// The lane sums of ymmA..ymmD (in that order) stored at acc + BYTES; clobbers A, B, C.
#define HORIZONTAL_SUMS(A, B, C, D, BYTES) \
    "vhaddps %%ymm" #B ", %%ymm" #A ", %%ymm" #A "\n\t" \
    "vhaddps %%ymm" #D ", %%ymm" #C ", %%ymm" #C "\n\t" \
    "vhaddps %%ymm" #C ", %%ymm" #A ", %%ymm" #A "\n\t" \
    "vextractf128 $1, %%ymm" #A ", %%xmm" #B "\n\t" \
    "vaddps %%xmm" #B ", %%xmm" #A ", %%xmm" #A "\n\t" \
    "vmovups %%xmm" #A ", " #BYTES "(%[acc])\n\t"

static void correlate_avx2(int64_t vectors, const float *dy, int64_t ldd, const float *x, const int64_t *offsets,
                           float *acc, int single) {
    const float *x0 = x + offsets[0], *x1 = x + offsets[1], *x2 = x + offsets[2];
    const float *dy3 = dy + 3 * ldd;
    int64_t ldd_bytes = ldd * (int64_t)sizeof(float), zero = single;
    __asm__ volatile(
        "test %[zero], %[zero]\n\t"
        "jz 3f\n\t"
        CK_ZERO_YMM0_TO_11
        "jmp 4f\n"
        "3:\n\t"
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
        "vmovups 352(%[acc]), %%ymm11\n"
        "4:\n\t"
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
        "test %[zero], %[zero]\n\t"
        "jz 5f\n\t"
        // Lane sums of four accumulators at a time: hadd(a, b) = a₀+a₁, a₂+a₃, b₀+b₁, b₂+b₃ per
        // 128-bit half; twice, then the halves added, gives the four sums in one xmm.
        HORIZONTAL_SUMS(0, 1, 2, 3, 0)
        HORIZONTAL_SUMS(4, 5, 6, 7, 16)
        HORIZONTAL_SUMS(8, 9, 10, 11, 32)
        "jmp 6f\n"
        "5:\n\t"
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
        "vmovups %%ymm11, 352(%[acc])\n"
        "6:\n\t"
        "vzeroupper\n\t"
        : [vectors] "+r"(vectors), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [dy] "+r"(dy), [dy3] "+r"(dy3)
        : [ldd] "r"(ldd_bytes), [acc] "r"(acc), [zero] "r"(zero)
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
                           float *acc, int single) {
    if (single) memset(acc, 0, sizeof(float) * TILE_ROWS * 3 * LANES);
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
    if (single) sum_lanes_in_place(acc);
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

/// Layout of the zero-guarded copies of `channels` channels of one image, on the output's grid
/// of height × width pixels. Stride 1: three copies of the image (kw = 0: last column zeroed,
/// 1: as is, 2: first column zeroed). Stride 2: the image split into its four phases
/// P_ab(i, j) = x(2i + a, 2j + b), each on the output grid, and the two odd-column phases again
/// with their last column zeroed: six copies. Either way a tap is one fixed offset into a copy.
typedef struct {
    int64_t height, width, pixels;   // the output grid
    int64_t stride;                  // 1 or 2
    int64_t lead;                    // zeros before each channel's pixels: one row and one pixel
    int64_t channel_size;            // lead + pixels + trailing zeros (room for a tile's over-read)
    int64_t copy_size;               // channels · channel_size
} shifted_layout;

static shifted_layout make_layout(int64_t channels, int64_t height, int64_t width, int64_t stride) {
    shifted_layout layout;
    layout.height = height;
    layout.width = width;
    layout.pixels = height * width;
    layout.stride = stride;
    layout.lead = width + 1;
    layout.channel_size = layout.lead + layout.pixels + width + 1 + TILE_PIXELS;
    layout.copy_size = channels * layout.channel_size;
    return layout;
}

/// How many copies: 3 for stride 1, 6 for stride 2.
static int64_t copy_count(const shifted_layout *layout) { return layout->stride == 1 ? 3 : 6; }

/// Pixels of one input channel: the output grid's, times stride².
static int64_t source_pixels(const shifted_layout *layout) { return layout->pixels * layout->stride * layout->stride; }

/// Writes copy `q` of one input channel `source` into `pixels` (the output grid's count).
static void write_copy(const shifted_layout *layout, int q, const float *source, float *pixels) {
    const int64_t height = layout->height, width = layout->width;
    if (layout->stride == 1) {
        memcpy(pixels, source, sizeof(float) * layout->pixels);
        if (q == 0)
            for (int64_t y = 0; y < height; y++) pixels[y * width + width - 1] = 0;
        if (q == 2)
            for (int64_t y = 0; y < height; y++) pixels[y * width] = 0;
        return;
    }
    // Phase (a, b) of copy q = 3a + r: b = 0 for r = 0, else 1; r = 2 zeroes the last column.
    const int64_t a = q / 3, r = q % 3, b = r == 0 ? 0 : 1;
    for (int64_t i = 0; i < height; i++) {
        const float *row = source + (2 * i + a) * 2 * width + b;
        for (int64_t j = 0; j < width; j++) pixels[i * width + j] = row[2 * j];
        if (r == 2) pixels[i * width + width - 1] = 0;
    }
}

/// Writes copies `first` … last of `channels` channels of one image, with their guards, copy q
/// at position q − first.
static void make_shifted_copies(const shifted_layout *layout, int first, int64_t channels, const float *image, float *copies) {
    const int64_t trailing = layout->channel_size - layout->lead - layout->pixels;
    for (int q = first; q < copy_count(layout); q++)
        for (int64_t ch = 0; ch < channels; ch++) {
            float *row = copies + (q - first) * layout->copy_size + ch * layout->channel_size;
            memset(row, 0, sizeof(float) * layout->lead);
            write_copy(layout, q, image + ch * source_pixels(layout), row + layout->lead);
            memset(row + layout->lead + layout->pixels, 0, sizeof(float) * trailing);
        }
}

/// Where tap (kh, kw) of channel 0 starts, relative to output pixel 0 after the lead. Stride 1:
/// copy kw, shifted by (kh − 1, kw − 1). Stride 2: output (i, j) reads x(2i + kh − 1, 2j + kw − 1),
/// which is phase (kh ≠ 1, kw ≠ 1) at (i − [kh = 0], j − [kw = 0]); a column shift of −1 reads
/// the copy with the last column zeroed, so that the wrap into the row before reads a zero.
static int64_t tap_offset(const shifted_layout *layout, int kh, int kw) {
    if (layout->stride == 1) return kw * layout->copy_size + (kh - 1) * layout->width + (kw - 1);
    const int64_t a = kh != 1, q = 3 * a + (kw == 1 ? 0 : kw == 2 ? 1 : 2);
    return q * layout->copy_size - (kh == 0 ? layout->width : 0) - (kw == 0 ? 1 : 0);
}

/// offsets[ch·9 + kh·3 + kw]: where tap (kh, kw) of channel ch starts, relative to output pixel 0.
static void make_offsets(const shifted_layout *layout, int64_t channels, int64_t *offsets) {
    for (int64_t ch = 0; ch < channels; ch++)
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
                offsets[ch * 9 + kh * 3 + kw] = ch * layout->channel_size + layout->lead + tap_offset(layout, kh, kw);
}

int ck_conv2d_is_direct_3x3(const ck_conv_geometry *g) {
    if (!(g->kh == 3 && g->kw == 3 && g->pad_h == 1 && g->pad_w == 1 && g->dilation_h == 1 && g->dilation_w == 1 &&
          g->groups == 1 && g->h > 0 && g->w > 0))
        return 0;
    if (g->stride_h == 1 && g->stride_w == 1) return g->ho == g->h && g->wo == g->w;
    // Stride 2 on even sides: every phase has exactly the output's ho × wo pixels.
    return g->stride_h == 2 && g->stride_w == 2 && g->h % 2 == 0 && g->w % 2 == 0 && g->ho == g->h / 2 && g->wo == g->w / 2;
}

// MARK: - Forward and backward-input: out[n][m] = Σ_{c, tap} packed weight · shifted in[n][c]

/// output[m][p] = Σ_s packed[m/4][s][m%4] · copies[offsets[s] + p] (+ bias[m] unless bias is NULL)
/// for m < outputs, p < pixels, in 4-channel × 24-pixel tiles.
static void gather_tiles(gather_kernel kernel, int64_t steps, const float *copies, const int64_t *offsets,
                         const float *packed, const float *bias, int64_t outputs, int64_t pixels, float *output) {
    const int64_t blocks = (outputs + TILE_ROWS - 1) / TILE_ROWS;
    float tile[TILE_ROWS * TILE_PIXELS];
    for (int64_t p = 0; p < pixels; p += TILE_PIXELS) {
        const int64_t width = pixels - p < TILE_PIXELS ? pixels - p : TILE_PIXELS;
        for (int64_t block = 0; block < blocks; block++) {
            const float *weights = packed + block * steps * TILE_ROWS;
            float *target = output + block * TILE_ROWS * pixels + p;
            if (width == TILE_PIXELS && (block + 1) * TILE_ROWS <= outputs) {
                kernel(steps, copies + p, offsets, weights, target, pixels);
                if (bias) ck_add_bias_rows(bias + block * TILE_ROWS, TILE_ROWS, TILE_PIXELS, target, pixels);
                continue;
            }
            // A partial tile: sum into `tile`, keep the rows and pixels that exist.
            kernel(steps, copies + p, offsets, weights, tile, TILE_PIXELS);
            const int64_t rows = outputs - block * TILE_ROWS < TILE_ROWS ? outputs - block * TILE_ROWS : TILE_ROWS;
            if (bias) ck_add_bias_rows(bias + block * TILE_ROWS, rows, width, tile, TILE_PIXELS);
            for (int64_t r = 0; r < rows; r++)
                memcpy(target + r * pixels, tile + r * TILE_PIXELS, sizeof(float) * width);
        }
    }
}

/// Weights packed for `gather_tiles`: packed[m/4][s][m%4] = weight(m, s) for m < outputs, s < steps.
static float *pack_weights(int64_t outputs, int64_t steps, float (*weight)(const void *, int64_t, int64_t), const void *context) {
    const int64_t blocks = (outputs + TILE_ROWS - 1) / TILE_ROWS;
    float *packed = calloc((size_t)(blocks * steps * TILE_ROWS), sizeof(float));
    if (!packed) {
        fputs("CKernels: cannot allocate convolution weights\n", stderr);
        abort();
    }
    for (int64_t m = 0; m < outputs; m++)
        for (int64_t s = 0; s < steps; s++) packed[((m / TILE_ROWS) * steps + s) * TILE_ROWS + m % TILE_ROWS] = weight(context, m, s);
    return packed;
}

typedef struct {
    gather_kernel kernel;
    shifted_layout layout;
    int64_t in_channels, out_channels;
    const float *input;    // [n][in_channels][source pixels]
    float *output;         // [n][out_channels][pixels]
    const float *packed;   // [ceil(out/4)][in_channels·9][4]
    const float *bias;     // [out_channels] or NULL
    const int64_t *offsets;
} gather_task;

static void gather_image(void *context, int64_t image) {
    const gather_task *t = context;
    const shifted_layout *layout = &t->layout;
    float *copies = ck_thread_buffer(CK_BUFFER_CONVOLUTION, copy_count(layout) * layout->copy_size);
    make_shifted_copies(layout, 0, t->in_channels, t->input + image * t->in_channels * source_pixels(layout), copies);
    gather_tiles(t->kernel, t->in_channels * 9, copies, t->offsets, t->packed, t->bias, t->out_channels, layout->pixels,
                 t->output + image * t->out_channels * layout->pixels);
}

typedef struct {
    const float *filter;
    int64_t in_channels, out_channels;
} filter_view;

/// Forward: weight(m, c·9 + tap) = filter[m][c][tap].
static float forward_weight(const void *context, int64_t m, int64_t s) {
    const filter_view *f = context;
    return f->filter[m * f->in_channels * 9 + s];
}

/// Backward-input at stride 1, the filter [in'][out'] transposed and flipped:
/// weight(m, c·9 + tap) = filter[c][m][8 − tap].
static float flipped_weight(const void *context, int64_t m, int64_t s) {
    const filter_view *f = context;
    return f->filter[((s / 9) * f->out_channels + m) * 9 + 8 - s % 9];
}

/// Runs the gather pass over `images` with the given weights (and bias, or NULL), reading inputs
/// laid out by `layout`.
static void run_gather(int64_t images, shifted_layout layout, int64_t in_channels, int64_t out_channels,
                       const float *input, float *output, float (*weight)(const void *, int64_t, int64_t), const filter_view *filter,
                       const float *bias) {
    const int64_t steps = in_channels * 9;
    float *packed = pack_weights(out_channels, steps, weight, filter);
    int64_t *offsets = malloc(sizeof(int64_t) * (size_t)steps);
    if (!offsets) {
        fputs("CKernels: cannot allocate convolution offsets\n", stderr);
        abort();
    }
    make_offsets(&layout, in_channels, offsets);
    gather_task task = {native_gather(), layout, in_channels, out_channels, input, output, packed, bias, offsets};
    ck_parallel_for(images, gather_image, &task);
    free(packed);
    free(offsets);
}

void ck_conv2d_direct_3x3_forward(const ck_conv_geometry *g, const float *x, const float *filter, const float *bias, float *y) {
    const filter_view view = {filter, g->c, g->o};
    run_gather(g->n, make_layout(g->c, g->ho, g->wo, g->stride_h), g->c, g->o, x, y, forward_weight, &view, bias);
}

// Backward-input at stride 2: each phase (a, b) of ∂x is a gather over ∂y. ∂x(2i + a, 2j + b)
// = Σ_o Σ_{taps of the phase} filter[o][c][kh][kw] · ∂y(o, i + [kh = 0], j + [kw = 0]), the taps
// of the phase being kh ∈ {1} for a = 0, {0, 2} for a = 1 (kw likewise with b). ∂y is copied as
// is and with its first column zeroed (the read one column right wraps into a zero), on the
// stride-1 layout of its own grid; each phase is gathered into a buffer, then interleaved.

typedef struct {
    gather_kernel kernel;
    shifted_layout layout;   // ∂y's grid, stride 1; only copies 1 (as is) and 2 (first column zeroed) are made
    int64_t in_channels, out_channels;   // of the convolution: ∂x has in_channels, ∂y out_channels
    const float *dy;
    float *dx;
    const float *packed[4];
    const int64_t *offsets[4];
    int64_t steps[4];
} phase_task;

/// The taps of phase (a, b) in order, as kh·3 + kw; returns how many.
static int phase_taps(int a, int b, int taps[4]) {
    const int rows[2][2] = {{1, 1}, {0, 2}}, row_count = a ? 2 : 1, column_count = b ? 2 : 1;
    int count = 0;
    for (int i = 0; i < row_count; i++)
        for (int j = 0; j < column_count; j++) taps[count++] = rows[a][i] * 3 + rows[b][j];
    return count;
}

typedef struct {
    const float *filter;
    int64_t in_channels, tap_count;
    int taps[4];
} phase_view;

/// weight(c, o·taps + t) = filter[o][c][taps[t]].
static float phase_weight(const void *context, int64_t c, int64_t s) {
    const phase_view *f = context;
    return f->filter[((s / f->tap_count) * f->in_channels + c) * 9 + f->taps[s % f->tap_count]];
}

static void gather_phases_image(void *context, int64_t image) {
    const phase_task *t = context;
    const shifted_layout *layout = &t->layout;
    const int64_t copies_size = 2 * layout->copy_size, pixels = layout->pixels, width = layout->width;
    float *copies = ck_thread_buffer(CK_BUFFER_CONVOLUTION, copies_size + t->in_channels * pixels);
    float *phase = copies + copies_size;
    make_shifted_copies(layout, 1, t->out_channels, t->dy + image * t->out_channels * pixels, copies);
    float *dx = t->dx + image * t->in_channels * 4 * pixels;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            const int p = 2 * a + b;
            gather_tiles(t->kernel, t->steps[p], copies, t->offsets[p], t->packed[p], NULL, t->in_channels, pixels, phase);
            for (int64_t c = 0; c < t->in_channels; c++)
                for (int64_t i = 0; i < layout->height; i++) {
                    float *row = dx + (c * 2 * layout->height + 2 * i + a) * 2 * width + b;
                    const float *source = phase + c * pixels + i * width;
                    for (int64_t j = 0; j < width; j++) row[2 * j] = source[j];
                }
        }
}

static void backward_input_stride2(const ck_conv_geometry *g, const float *dy, const float *filter, float *dx) {
    phase_task task = {native_gather(), make_layout(g->o, g->ho, g->wo, 1), g->c, g->o, dy, dx, {0}, {0}, {0}};
    int64_t *offsets[4];
    float *packed[4];
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            const int p = 2 * a + b;
            phase_view view = {filter, g->c, 0, {0}};
            view.tap_count = phase_taps(a, b, view.taps);
            task.steps[p] = g->o * view.tap_count;
            offsets[p] = malloc(sizeof(int64_t) * (size_t)task.steps[p]);
            if (!offsets[p]) {
                fputs("CKernels: cannot allocate convolution offsets\n", stderr);
                abort();
            }
            for (int64_t o = 0; o < g->o; o++)
                for (int64_t t = 0; t < view.tap_count; t++) {
                    const int kh = view.taps[t] / 3, kw = view.taps[t] % 3;
                    // Read ∂y at (i + [kh = 0], j + [kw = 0]): one column right from the first-column-zeroed copy.
                    offsets[p][o * view.tap_count + t] = (kw == 0 ? 1 : 0) * task.layout.copy_size + o * task.layout.channel_size +
                                                         task.layout.lead + (kh == 0 ? task.layout.width : 0) + (kw == 0 ? 1 : 0);
                }
            packed[p] = pack_weights(g->c, task.steps[p], phase_weight, &view);
            task.offsets[p] = offsets[p];
            task.packed[p] = packed[p];
        }
    ck_parallel_for(g->n, gather_phases_image, &task);
    for (int p = 0; p < 4; p++) {
        free(offsets[p]);
        free(packed[p]);
    }
}

void ck_conv2d_direct_3x3_backward_input(const ck_conv_geometry *g, const float *dy, const float *filter, float *dx) {
    if (g->stride_h == 2) {
        backward_input_stride2(g, dy, filter, dx);
        return;
    }
    const filter_view view = {filter, g->o, g->c};   // the filter seen as [in'][out'] = [o][c]
    run_gather(g->n, make_layout(g->o, g->h, g->w, 1), g->o, g->c, dy, dx, flipped_weight, &view, NULL);
}

// MARK: - Backward-filter: ∂w[o][c][tap] = Σ_n Σ_p ∂y[n][o][p] · shifted x[n][c] at tap
//
// The kernel keeps a 4 × 3-tap accumulator tile in registers while it runs along a row, and loads
// and stores it around every call. One image's row of an 8×8 stage is only 8 vectors, so the
// images of a chunk are laid side by side in groups: each channel's row holds `group` images'
// pixels `spacing` = ho·wo + wo + 1 apart, each followed by wo + 1 zeros (a tap reaching past an
// image's edge reads those zeros, never the next image), and ∂y is copied into the same places
// with zeros between. One call then runs over the whole group; the products of the zeros add
// nothing.

typedef struct {
    correlate_kernel kernel;
    shifted_layout layout;   // per channel: lead, then `group` segments `spacing` apart, then guards
    int64_t images, chunks, channels, outputs;
    int64_t group, spacing;  // images per kernel call and the distance between their pixels
    int64_t span;            // group · spacing rounded up to whole vectors: one call's length
    const float *x, *dy;
    const int64_t *offsets;
    float *partials;         // per chunk: ∂w summed over the chunk's images, [o][c·9]
} correlate_task;

/// The register tiles' accumulators of one chunk: [ceil(o/4)][c·3][12·8].
static int64_t accumulator_count(const correlate_task *t) {
    return (t->outputs + TILE_ROWS - 1) / TILE_ROWS * t->channels * 3 * 12 * LANES;
}

/// Writes every copy of `count` ≤ group images starting at `images`, side by side `spacing`
/// apart, zeros elsewhere.
static void make_grouped_copies(const correlate_task *t, int64_t count, const float *images, float *copies) {
    const shifted_layout *layout = &t->layout;
    for (int q = 0; q < copy_count(layout); q++)
        for (int64_t ch = 0; ch < t->channels; ch++) {
            float *row = copies + q * layout->copy_size + ch * layout->channel_size;
            memset(row, 0, sizeof(float) * layout->channel_size);
            for (int64_t i = 0; i < count; i++)
                write_copy(layout, q, images + (i * t->channels + ch) * source_pixels(layout), row + layout->lead + i * t->spacing);
        }
}

/// Writes the lane sums of one accumulator tile (block of 4 output channels, triple of taps)
/// into the chunk's ∂w[o][c·9 + k]: row r, tap t of the tile is o = 4·block + r, k = 3·triple + t.
/// Writes a tile's 12 sums (row r, tap t at 3r + t) into the chunk's ∂w[o][c·9 + k]: o = 4·block + r,
/// k = 3·triple + t.
static void store_sums(const correlate_task *t, const float *sums, int64_t block, int64_t triple, float *partial) {
    for (int64_t r = 0; r < TILE_ROWS && block * TILE_ROWS + r < t->outputs; r++)
        for (int64_t tap = 0; tap < 3; tap++) partial[(block * TILE_ROWS + r) * t->channels * 9 + triple * 3 + tap] = sums[r * 3 + tap];
}

/// Writes the lane sums of an accumulator tile [12][8] (block of 4 output channels, triple of
/// taps) into the chunk's ∂w (`store_sums`).
static void flush_tile(const correlate_task *t, float *tile, int64_t block, int64_t triple, float *partial) {
    sum_lanes_in_place(tile);
    store_sums(t, tile, block, triple, partial);
}

/// Where a group's ∂y rows are read: `rows` (row r of output block b at rows + (4b + r)·stride), a
/// run of `vectors` vectors each.
typedef struct {
    const float *rows;
    int64_t stride, vectors;
} gradient_rows;

/// Copies `count` images from `first` on into the group layout, and their ∂y too — except for a
/// single image whose pixels fill whole vectors and whose outputs fill whole 4-row tiles: its own
/// ∂y is read in place, over its pixels only (the taps past them read the copies' zeros).
static gradient_rows load_group(const correlate_task *t, int64_t first, int64_t count, float *copies, float *gradient,
                                int64_t gradient_size) {
    const shifted_layout *layout = &t->layout;
    make_grouped_copies(t, count, t->x + first * t->channels * source_pixels(layout), copies);
    if (count == 1 && layout->pixels % LANES == 0 && t->outputs % TILE_ROWS == 0)
        return (gradient_rows){t->dy + first * t->outputs * layout->pixels, layout->pixels, layout->pixels / LANES};
    memset(gradient, 0, sizeof(float) * gradient_size);
    for (int64_t i = 0; i < count; i++)
        for (int64_t o = 0; o < t->outputs; o++)
            memcpy(gradient + o * t->span + i * t->spacing, t->dy + ((first + i) * t->outputs + o) * layout->pixels,
                   sizeof(float) * layout->pixels);
    return (gradient_rows){gradient, t->span, t->span / LANES};
}

static void correlate_chunk(void *context, int64_t chunk) {
    const correlate_task *t = context;
    const shifted_layout *layout = &t->layout;
    const int64_t blocks = (t->outputs + TILE_ROWS - 1) / TILE_ROWS, triples = t->channels * 3;
    const int64_t copies_size = copy_count(layout) * layout->copy_size, gradient_size = blocks * TILE_ROWS * t->span;
    const int64_t begin = t->images * chunk / t->chunks, end = t->images * (chunk + 1) / t->chunks;
    float *partial = t->partials + chunk * t->outputs * t->channels * 9;
    if (end - begin <= t->group) {
        // One group (small images): each tile's single call is final, so it starts from zero in
        // L1 and is summed at once, with no chunk-wide accumulator array to clear and reread.
        float *copies = ck_thread_buffer(CK_BUFFER_CONVOLUTION, copies_size + gradient_size);
        float *gradient = copies + copies_size;
        const gradient_rows dy = load_group(t, begin, end - begin, copies, gradient, gradient_size);
        float tile[12 * LANES];
        for (int64_t block = 0; block < blocks; block++)
            for (int64_t triple = 0; triple < triples; triple++) {
                t->kernel(dy.vectors, dy.rows + block * TILE_ROWS * dy.stride, dy.stride, copies, t->offsets + triple * 3, tile, 1);
                store_sums(t, tile, block, triple, partial);
            }
        return;
    }
    float *copies = ck_thread_buffer(CK_BUFFER_CONVOLUTION, copies_size + gradient_size + accumulator_count(t));
    float *gradient = copies + copies_size;   // [blocks·4][span]: ∂y of the group, zeros between and after
    float *acc = gradient + gradient_size;
    memset(acc, 0, sizeof(float) * accumulator_count(t));
    for (int64_t first = begin; first < end; first += t->group) {
        const gradient_rows dy = load_group(t, first, end - first < t->group ? end - first : t->group, copies, gradient, gradient_size);
        for (int64_t block = 0; block < blocks; block++)
            for (int64_t triple = 0; triple < triples; triple++)
                t->kernel(dy.vectors, dy.rows + block * TILE_ROWS * dy.stride, dy.stride, copies, t->offsets + triple * 3,
                          acc + (block * triples + triple) * 12 * LANES, 0);
    }
    for (int64_t block = 0; block < blocks; block++)
        for (int64_t triple = 0; triple < triples; triple++) flush_tile(t, acc + (block * triples + triple) * 12 * LANES, block, triple, partial);
}

/// Images per kernel call: enough for a run of about 512 floats (64 vectors), at most a chunk's.
static int64_t correlate_group(int64_t spacing, int64_t images, int64_t chunks) {
    const int64_t wanted = (512 + spacing - 1) / spacing, per_chunk = (images + chunks - 1) / chunks;
    return wanted < per_chunk ? wanted : (per_chunk > 0 ? per_chunk : 1);
}

void ck_conv2d_direct_3x3_backward_filter(const ck_conv_geometry *g, const float *x, const float *dy, float *dfilter) {
    const int64_t chunks = ck_filter_gradient_chunks(g->n);
    const int64_t pixels = g->ho * g->wo, spacing = pixels + g->wo + 1, group = correlate_group(spacing, g->n, chunks);
    const int64_t span = (group * spacing + LANES - 1) / LANES * LANES;
    shifted_layout layout = make_layout(g->c, g->ho, g->wo, g->stride_h);
    // A channel's row: the lead, the group's segments (the last one's trailing zeros included),
    // and room for the last vector's over-read past `span` and the taps' reach of wo + 1.
    layout.channel_size = layout.lead + span + g->wo + 1 + LANES;
    layout.copy_size = g->c * layout.channel_size;
    correlate_task task = {native_correlate(), layout, g->n, chunks, g->c, g->o, group, spacing, span, x, dy, NULL, NULL};
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
