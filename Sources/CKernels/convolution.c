// Convolution lowered to GEMM one image at a time (the column buffer of one image stays in the
// L2 cache), with images spread over the thread pool. 1×1 convolutions with stride 1 and no
// padding skip im2col (the image is its own column matrix); 3×3 convolutions with padding 1 at
// stride 1 (or 2, on even sides) take the direct path of convolution3x3.c instead.
#include "CKernelsConvolution.h"
#include "CKernels.h"
#include "ck_internal.h"
#include <stdlib.h>
#include <string.h>

static int64_t patch(const ck_conv_geometry *g) { return (g->c / g->groups) * g->kh * g->kw; }
static int64_t pixels(const ck_conv_geometry *g) { return g->ho * g->wo; }

/// A 1×1 convolution without padding, at any stride (the ResNets' projection shortcuts): im2col
/// only subsamples the image, every read in range, and every input pixel feeds at most one output.
static int is_subsampling(const ck_conv_geometry *g) {
    return g->kh == 1 && g->kw == 1 && g->pad_h == 0 && g->pad_w == 0;
}

/// Unfolds one group of one image into columns [patch, ho·wo] (zeros where padded).
static void im2col(const ck_conv_geometry *g, const float *image, float *columns) {
    const int64_t channels = g->c / g->groups, p = pixels(g);
    if (is_subsampling(g)) {
        // columns[ch][oy·wo + ox] = image[ch][s·oy][s·ox]: no padding, no bounds to test.
        for (int64_t ch = 0; ch < channels; ch++)
            for (int64_t oy = 0; oy < g->ho; oy++) {
                const float *source = image + (ch * g->h + oy * g->stride_h) * g->w;
                float *out = columns + ch * p + oy * g->wo;
                for (int64_t ox = 0; ox < g->wo; ox++) out[ox] = source[ox * g->stride_w];
            }
        return;
    }
    for (int64_t ch = 0; ch < channels; ch++)
    for (int64_t i = 0; i < g->kh; i++)
    for (int64_t j = 0; j < g->kw; j++) {
        float *row = columns + ((ch * g->kh + i) * g->kw + j) * p;
        for (int64_t oy = 0; oy < g->ho; oy++) {
            const int64_t y = oy * g->stride_h - g->pad_h + i * g->dilation_h;
            float *out = row + oy * g->wo;
            if (y < 0 || y >= g->h) { memset(out, 0, sizeof(float) * g->wo); continue; }
            const float *source = image + (ch * g->h + y) * g->w;
            const int64_t offset = j * g->dilation_w - g->pad_w;
            if (g->stride_w == 1) {
                // Valid range of ox: 0 ≤ ox + offset < w.
                int64_t first = offset < 0 ? -offset : 0, last = g->w - offset;
                if (first > g->wo) first = g->wo;
                if (last > g->wo) last = g->wo;
                if (last < first) last = first;
                memset(out, 0, sizeof(float) * first);
                memcpy(out + first, source + first + offset, sizeof(float) * (last - first));
                memset(out + last, 0, sizeof(float) * (g->wo - last));
            } else {
                for (int64_t ox = 0; ox < g->wo; ox++) {
                    const int64_t x = ox * g->stride_w + offset;
                    out[ox] = x >= 0 && x < g->w ? source[x] : 0.0f;
                }
            }
        }
    }
}

/// Adds columns [patch, ho·wo] back into one group of one image: the adjoint of im2col.
static void col2im(const ck_conv_geometry *g, const float *columns, float *image) {
    const int64_t channels = g->c / g->groups, p = pixels(g);
    for (int64_t ch = 0; ch < channels; ch++)
    for (int64_t i = 0; i < g->kh; i++)
    for (int64_t j = 0; j < g->kw; j++) {
        const float *row = columns + ((ch * g->kh + i) * g->kw + j) * p;
        for (int64_t oy = 0; oy < g->ho; oy++) {
            const int64_t y = oy * g->stride_h - g->pad_h + i * g->dilation_h;
            if (y < 0 || y >= g->h) continue;
            float *target = image + (ch * g->h + y) * g->w;
            const float *source = row + oy * g->wo;
            const int64_t offset = j * g->dilation_w - g->pad_w;
            if (g->stride_w == 1) {
                int64_t first = offset < 0 ? -offset : 0, last = g->w - offset;
                if (last > g->wo) last = g->wo;
                float *shifted = target + offset;
                for (int64_t ox = first; ox < last; ox++) shifted[ox] += source[ox];
            } else {
                for (int64_t ox = 0; ox < g->wo; ox++) {
                    const int64_t x = ox * g->stride_w + offset;
                    if (x >= 0 && x < g->w) target[x] += source[ox];
                }
            }
        }
    }
}

/// Writes one group of one image's ∂x from the columns of a subsampling convolution: the adjoint
/// of its im2col, each pixel written once (zero where no output reads it), with no clearing pass.
static void scatter_subsampled(const ck_conv_geometry *g, const float *columns, float *image) {
    const int64_t channels = g->c / g->groups, p = pixels(g);
    for (int64_t ch = 0; ch < channels; ch++)
        for (int64_t y = 0; y < g->h; y++) {
            float *row = image + (ch * g->h + y) * g->w;
            memset(row, 0, sizeof(float) * g->w);
            if (y % g->stride_h != 0) continue;
            const float *source = columns + ch * p + (y / g->stride_h) * g->wo;   // y / stride < ho: no padding
            for (int64_t ox = 0; ox < g->wo; ox++) row[ox * g->stride_w] = source[ox];
        }
}

/// A 1×1 convolution with stride 1 and no padding: im2col of an image is the image itself, so
/// the GEMMs read and write the images in place.
static int is_pointwise(const ck_conv_geometry *g) {
    return g->kh == 1 && g->kw == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 0 && g->pad_w == 0 &&
           g->ho == g->h && g->wo == g->w;
}

typedef struct {
    const ck_conv_geometry *g;
    const float *a, *b;
    float *out;
    int64_t chunks;
    const float *bias;   // forward: [o] or NULL
} conv_task;

static void forward_image(void *context, int64_t image) {
    const conv_task *t = context;
    const ck_conv_geometry *g = t->g;
    const int64_t k = patch(g), p = pixels(g), og = g->o / g->groups, cg = g->c / g->groups;
    const int pointwise = is_pointwise(g);
    float *columns = pointwise ? NULL : malloc(sizeof(float) * (k * p > 0 ? k * p : 1));
    for (int64_t group = 0; group < g->groups; group++) {
        const float *source = t->a + (image * g->c + group * cg) * g->h * g->w;
        if (!pointwise) im2col(g, source, columns);
        ck_sgemm(og, p, k, 1.0f, t->b + group * og * k, k, 1, pointwise ? source : columns, p, 1, 0.0f,
                 t->out + (image * g->o + group * og) * p, p);
    }
    free(columns);
    if (t->bias) ck_add_bias_rows(t->bias, g->o, p, t->out + image * g->o * p, p);   // while the image is in cache
}

void ck_conv2d_forward(const ck_conv_geometry *g, const float *x, const float *filter, const float *bias, float *y) {
    if (ck_conv2d_is_direct_3x3(g)) { ck_conv2d_direct_3x3_forward(g, x, filter, bias, y); return; }
    conv_task task = {g, x, filter, y, 0, bias};
    ck_parallel_for(g->n, forward_image, &task);
}

static void backward_input_image(void *context, int64_t image) {
    const conv_task *t = context;
    const ck_conv_geometry *g = t->g;
    const int64_t k = patch(g), p = pixels(g), og = g->o / g->groups, cg = g->c / g->groups;
    const int pointwise = is_pointwise(g), subsampling = !pointwise && is_subsampling(g);
    float *columns = pointwise ? NULL : malloc(sizeof(float) * (k * p > 0 ? k * p : 1));
    if (!pointwise && !subsampling) memset(t->out + image * g->c * g->h * g->w, 0, sizeof(float) * g->c * g->h * g->w);
    for (int64_t group = 0; group < g->groups; group++) {
        float *target = t->out + (image * g->c + group * cg) * g->h * g->w;
        // Pointwise, col2im is the identity: the GEMM writes ∂x itself.
        ck_sgemm(k, p, og, 1.0f, t->b + group * og * k, 1, k, t->a + (image * g->o + group * og) * p, p, 1,
                 0.0f, pointwise ? target : columns, p);
        if (subsampling) scatter_subsampled(g, columns, target);
        else if (!pointwise) col2im(g, columns, target);
    }
    free(columns);
}

void ck_conv2d_backward_input(const ck_conv_geometry *g, const float *dy, const float *filter, float *dx) {
    if (ck_conv2d_is_direct_3x3(g)) { ck_conv2d_direct_3x3_backward_input(g, dy, filter, dx); return; }
    conv_task task = {g, dy, filter, dx, 0, NULL};
    ck_parallel_for(g->n, backward_input_image, &task);
}

static void backward_filter_chunk(void *context, int64_t chunk) {
    const conv_task *t = context;
    const ck_conv_geometry *g = t->g;
    const int64_t k = patch(g), p = pixels(g), og = g->o / g->groups, cg = g->c / g->groups;
    const int64_t size = g->o * k;
    float *partial = t->out + chunk * size;
    memset(partial, 0, sizeof(float) * size);
    const int64_t begin = g->n * chunk / t->chunks, end = g->n * (chunk + 1) / t->chunks;
    const int pointwise = is_pointwise(g);
    float *columns = pointwise ? NULL : malloc(sizeof(float) * (k * p > 0 ? k * p : 1));
    for (int64_t image = begin; image < end; image++)
        for (int64_t group = 0; group < g->groups; group++) {
            const float *source = t->a + (image * g->c + group * cg) * g->h * g->w;
            if (!pointwise) im2col(g, source, columns);
            ck_sgemm(og, k, p, 1.0f, t->b + (image * g->o + group * og) * p, p, 1, pointwise ? source : columns, 1, p, 1.0f,
                     partial + group * og * k, k);
        }
    free(columns);
}

void ck_conv2d_backward_filter(const ck_conv_geometry *g, const float *x, const float *dy, float *dfilter) {
    if (ck_conv2d_is_direct_3x3(g)) { ck_conv2d_direct_3x3_backward_filter(g, x, dy, dfilter); return; }
    const int64_t chunks = ck_filter_gradient_chunks(g->n);
    const int64_t size = g->o * patch(g);
    float *partials = malloc(sizeof(float) * size * chunks);
    conv_task task = {g, x, dy, partials, chunks, NULL};
    ck_parallel_for(chunks, backward_filter_chunk, &task);
    memcpy(dfilter, partials, sizeof(float) * size);
    for (int64_t chunk = 1; chunk < chunks; chunk++)
        for (int64_t i = 0; i < size; i++) dfilter[i] += partials[chunk * size + i];
    free(partials);
}
