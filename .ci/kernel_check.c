// kernel_check: compares this machine's fast kernel set (ck_kernel_set(): "neon" on aarch64,
// "avx2-fma" on x86_64 CPUs with AVX2 and FMA) with the portable C kernels and with a Double
// reference, on awkward shapes: the GEMM micro-kernels called directly (every row count, k = 0,
// odd k, padded ldb and ldc), ck_sgemm (vectors, sizes that are not multiples of the 6×16 tile or
// of the cache blocks, transposed and strided operands, alpha and beta variants), and the direct
// 3×3 convolution's forward, backward-input and backward-filter passes (1×1 images, single rows
// and columns, odd channel counts, several images).
//
// Every result must be within the rounding bound of the Double reference,
//     |computed − exact| ≤ (terms + 2) · 2⁻²³ · Σ |term|
// (twice the worst case of recursive Float summation), and the fast and portable results within
// twice that of each other. A dropped k step, a wrong lane or a wrong tile edge is off by a whole
// term, far above it. With beta = 0, C starts as NaN (the kernels must not read it); outputs
// start as NaN (every element must be written); cells past a tile's rows and columns hold a
// sentinel that must survive bit for bit.
//
// Not part of the Swift package: .ci/arm64-kernels cross-compiles it with Sources/CKernels/*.c
// for aarch64 and runs it under qemu-aarch64, and also runs it natively. By hand:
//     cc -O2 -Wall -Wextra -Werror -pthread -ISources/CKernels -ISources/CKernels/include
//        Sources/CKernels/*.c .ci/kernel_check.c -lm -o kernel_check && ./kernel_check
// Prints each failure, then "<arch> kernels (<set> vs portable): N checks passed, M failed";
// exits with status 1 if anything failed.
#include "CKernels.h"
#include "ck_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__)
#define ARCHITECTURE "arm64"
#elif defined(__x86_64__)
#define ARCHITECTURE "x86_64"
#else
#define ARCHITECTURE "other"
#endif

static int passed, failed;

// MARK: - Data

static uint64_t random_state = 0x243F6A8885A308D3u;

/// SplitMix64, mapped to a float uniform in [-1, 1).
static float random_float(void) {
    uint64_t z = (random_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (float)(int32_t)(uint32_t)(z >> 32) / 2147483648.0f;
}

/// Zeroed memory for `count` elements of `size` bytes (at least one); exits if there is none.
static void *allocate(int64_t count, size_t size) {
    void *data = calloc((size_t)(count > 0 ? count : 1), size);
    if (!data) {
        fputs("kernel_check: out of memory\n", stderr);
        exit(2);
    }
    return data;
}

static float *random_floats(int64_t count) {
    float *data = allocate(count, sizeof(float));
    for (int64_t i = 0; i < count; i++) data[i] = random_float();
    return data;
}

static const float SENTINEL = -12345.5f;

/// The rounding bound for a sum of `terms` terms whose absolute values add up to `magnitude`.
static double bound(int64_t terms, double magnitude) { return (double)(terms + 2) * ldexp(1.0, -23) * magnitude; }

// MARK: - Comparison

/// One check in progress: its label, and how many mismatches it found (the first 3 are printed).
typedef struct {
    const char *label;
    int errors;
} comparison;

static void mismatch(comparison *c, const char *what, int64_t row, int64_t column, double got, double expected,
                     double allowed) {
    if (c->errors++ < 3)
        printf("FAIL %s: %s[%lld][%lld] = %.9g, expected %.9g (allowed error %.3g)\n", c->label, what, (long long)row,
               (long long)column, got, expected, allowed);
}

static void finish(comparison *c) {
    if (c->errors) {
        if (c->errors > 3) printf("FAIL %s: %d mismatches in all\n", c->label, c->errors);
        failed++;
    } else {
        passed++;
    }
}

/// One check: every got[r·ld + j] (r < rows, j < columns) within tolerance[r·columns + j]·scale of
/// expected[r·columns + j] (NaN never is).
static void check_close(const char *label, const char *what, const float *got, int64_t ld, const double *expected,
                        const double *tolerance, double scale, int64_t rows, int64_t columns) {
    comparison c = {label, 0};
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < columns; j++) {
            double value = got[r * ld + j], want = expected[r * columns + j], allowed = tolerance[r * columns + j] * scale;
            if (!(fabs(value - want) <= allowed)) mismatch(&c, what, r, j, value, want, allowed);
        }
    finish(&c);
}

/// One check: the fast and portable results agree within twice the reference bound.
static void check_agree(const char *label, const float *fast, const float *portable, int64_t ld,
                        const double *tolerance, int64_t rows, int64_t columns) {
    comparison c = {label, 0};
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < columns; j++) {
            double a = fast[r * ld + j], b = portable[r * ld + j], allowed = 2 * tolerance[r * columns + j];
            if (!(fabs(a - b) <= allowed)) mismatch(&c, "fast vs portable", r, j, a, b, allowed);
        }
    finish(&c);
}

/// One check: cells of a rows×ld buffer outside the first `valid_rows` × `valid_columns` still
/// hold the sentinel, bit for bit.
static void check_untouched(const char *label, const float *buffer, int64_t ld, int64_t rows, int64_t valid_rows,
                            int64_t valid_columns) {
    comparison c = {label, 0};
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < ld; j++)
            if ((r >= valid_rows || j >= valid_columns) && memcmp(&buffer[r * ld + j], &SENTINEL, sizeof(float)) != 0)
                mismatch(&c, "cell outside the result (sentinel overwritten)", r, j, buffer[r * ld + j], SENTINEL, 0);
    finish(&c);
}

/// One check: two results are identical bit for bit.
static void check_identical(const char *label, const float *a, const float *b, int64_t count) {
    comparison c = {label, 0};
    for (int64_t i = 0; i < count; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) mismatch(&c, "bits differ", i, 0, a[i], b[i], 0);
    finish(&c);
}

// MARK: - GEMM micro-kernels

typedef struct {
    const char *name;
    ck_microkernel kernel;
    int64_t max_rows;
} microkernel_entry;

/// Calls `kernel` on one tile (k steps, mr rows, B rows ldb apart, C rows ldc apart) and checks it
/// against the reference and against the portable micro-kernel.
static void check_microkernel(const microkernel_entry *entry, int64_t k, int64_t mr, int64_t ldb, int64_t ldc,
                              float alpha, float beta) {
    char label[160];
    snprintf(label, sizeof label, "microkernel %s k=%lld mr=%lld ldb=%lld ldc=%lld alpha=%g beta=%g", entry->name,
             (long long)k, (long long)mr, (long long)ldb, (long long)ldc, alpha, beta);
    float *a = random_floats(k * CK_MR + 8), *b = random_floats(k * ldb + 16);
    float *initial = random_floats(CK_MR * ldc);
    for (int64_t r = 0; r < CK_MR; r++)
        for (int64_t j = 0; j < ldc; j++)
            if (r >= mr || j >= CK_NR) initial[r * ldc + j] = SENTINEL;
            else if (beta == 0.0f) initial[r * ldc + j] = NAN;
    double *expected = allocate(CK_MR * CK_NR, sizeof(double)), *tolerance = allocate(CK_MR * CK_NR, sizeof(double));
    for (int64_t r = 0; r < mr; r++)
        for (int64_t j = 0; j < CK_NR; j++) {
            double sum = 0, magnitude = 0;
            for (int64_t p = 0; p < k; p++) {
                double term = (double)a[p * CK_MR + r] * b[p * ldb + j];
                sum += term;
                magnitude += fabs(term);
            }
            double c0 = beta == 0.0f ? 0 : initial[r * ldc + j];
            expected[r * CK_NR + j] = alpha * sum + beta * c0;
            tolerance[r * CK_NR + j] = bound(k, fabs(alpha) * magnitude + fabs(beta * c0));
        }
    float *fast = allocate(CK_MR * ldc, sizeof(float)), *portable = allocate(CK_MR * ldc, sizeof(float));
    memcpy(fast, initial, sizeof(float) * CK_MR * ldc);
    memcpy(portable, initial, sizeof(float) * CK_MR * ldc);
    // A prefetch stream inside b, as many addresses as the contract allows.
    entry->kernel(k, a, b, ldb, fast, ldc, mr, alpha, beta, b, 16, CK_PREFETCH_SLOTS(k));
    ck_microkernel_portable(k, a, b, ldb, portable, ldc, mr, alpha, beta, NULL, 0, 0);
    check_close(label, "C", fast, ldc, expected, tolerance, 1, mr, CK_NR);
    check_close(label, "portable C", portable, ldc, expected, tolerance, 1, mr, CK_NR);
    check_agree(label, fast, portable, ldc, tolerance, mr, CK_NR);
    check_untouched(label, fast, ldc, CK_MR, mr, CK_NR);
    free(a), free(b), free(initial), free(expected), free(tolerance), free(fast), free(portable);
}

static void check_microkernels(void) {
    microkernel_entry entries[2];
    int count = 0;
#if defined(__aarch64__)
    entries[count++] = (microkernel_entry){"neon", ck_microkernel_neon, 6};
    entries[count++] = (microkernel_entry){"neon4", ck_microkernel4_neon, 4};
#elif defined(__x86_64__)
    if (ck_has_avx2_fma()) {
        entries[count++] = (microkernel_entry){"avx2", ck_microkernel_avx2, 6};
        entries[count++] = (microkernel_entry){"avx2-4", ck_microkernel4_avx2, 4};
    }
#endif
    const int64_t ks[] = {0, 1, 2, 3, 5, 8, 17};
    const float alphas[] = {1, -0.5f, 1, 2}, betas[] = {0, 0, 1, -0.25f};
    for (int e = 0; e < count; e++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
            for (int64_t mr = 1; mr <= entries[e].max_rows; mr++)
                for (int v = 0; v < 4; v++) {
                    // Packed B (ldb 16) with a tight C, and B read in place (ldb 21) with a padded C.
                    check_microkernel(&entries[e], ks[ki], mr, 16, 16, alphas[v], betas[v]);
                    check_microkernel(&entries[e], ks[ki], mr, 21, 19, alphas[v], betas[v]);
                }
}

// MARK: - ck_sgemm

typedef enum { ROW_MAJOR, COLUMN_MAJOR, STRIDED } layout;
static const char *layout_names[] = {"row-major", "column-major", "strided"};

/// Strides of a rows×columns operand: element (i, j) at i·rs + j·cs.
static void strides(layout l, int64_t rows, int64_t columns, int64_t *rs, int64_t *cs) {
    switch (l) {
    case ROW_MAJOR: *rs = columns, *cs = 1; break;
    case COLUMN_MAJOR: *rs = 1, *cs = rows; break;
    case STRIDED: *rs = 2 * columns + 3, *cs = 2; break;
    }
}

static int64_t extent(int64_t rows, int64_t columns, int64_t rs, int64_t cs) {
    return rows == 0 || columns == 0 ? 1 : (rows - 1) * rs + (columns - 1) * cs + 1;
}

typedef void (*sgemm_function)(int64_t, int64_t, int64_t, float, const float *, int64_t, int64_t, const float *,
                               int64_t, int64_t, float, float *, int64_t);

/// C = alpha·op(A)·op(B) + beta·C with ck_sgemm and ck_sgemm_portable, C rows padded by 3 cells
/// that must keep their sentinel.
static void check_sgemm(int64_t m, int64_t n, int64_t k, float alpha, float beta, layout la, layout lb) {
    char label[160];
    snprintf(label, sizeof label, "sgemm M=%lld N=%lld K=%lld alpha=%g beta=%g A %s B %s", (long long)m,
             (long long)n, (long long)k, alpha, beta, layout_names[la], layout_names[lb]);
    int64_t rsA, csA, rsB, csB, ldc = n + 3;
    strides(la, m, k, &rsA, &csA);
    strides(lb, k, n, &rsB, &csB);
    float *A = random_floats(extent(m, k, rsA, csA)), *B = random_floats(extent(k, n, rsB, csB));
    float *initial = random_floats(m * ldc);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++)
            if (j >= n) initial[i * ldc + j] = SENTINEL;
            else if (beta == 0.0f) initial[i * ldc + j] = NAN;
    double *expected = allocate(m * n, sizeof(double)), *tolerance = allocate(m * n, sizeof(double));
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0, magnitude = 0;
            for (int64_t p = 0; p < k; p++) {
                double term = (double)A[i * rsA + p * csA] * B[p * rsB + j * csB];
                sum += term;
                magnitude += fabs(term);
            }
            double c0 = beta == 0.0f ? 0 : initial[i * ldc + j];
            expected[i * n + j] = alpha * sum + beta * c0;
            tolerance[i * n + j] = bound(k, fabs(alpha) * magnitude + fabs(beta * c0));
        }
    float *fast = allocate(m * ldc, sizeof(float)), *portable = allocate(m * ldc, sizeof(float));
    memcpy(fast, initial, sizeof(float) * (size_t)(m * ldc));
    memcpy(portable, initial, sizeof(float) * (size_t)(m * ldc));
    ck_sgemm(m, n, k, alpha, A, rsA, csA, B, rsB, csB, beta, fast, ldc);
    ck_sgemm_portable(m, n, k, alpha, A, rsA, csA, B, rsB, csB, beta, portable, ldc);
    check_close(label, "C", fast, ldc, expected, tolerance, 1, m, n);
    check_close(label, "portable C", portable, ldc, expected, tolerance, 1, m, n);
    check_agree(label, fast, portable, ldc, tolerance, m, n);
    check_untouched(label, fast, ldc, m, m, n);
    free(A), free(B), free(initial), free(expected), free(tolerance), free(fast), free(portable);
}

static void check_sgemms(void) {
    // Vectors, sizes off the 6×16 tile, K over one 256-deep block, M over the 36 rows that read B
    // in place and over the 144-row block, N over the 2048-column block.
    const int64_t shapes[][3] = {{1, 1, 1},   {7, 17, 5},    {13, 33, 65}, {1, 17, 5},  {17, 1, 33},
                                 {5, 33, 1},  {6, 16, 8},    {4, 16, 9},   {7, 17, 257}, {37, 50, 300},
                                 {150, 40, 100}, {3, 2100, 3}, {2, 19, 0}};
    const float alphas[] = {1, -0.5f, 1, 2, 0}, betas[] = {0, 0, 1, -0.25f, 0.5f};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int v = 0; v < 5; v++) check_sgemm(shapes[s][0], shapes[s][1], shapes[s][2], alphas[v], betas[v], ROW_MAJOR, ROW_MAJOR);
    // Transposed and strided operands go through the other packing paths.
    for (int la = 0; la < 3; la++)
        for (int lb = 0; lb < 3; lb++) {
            check_sgemm(7, 37, 19, 1, 0, (layout)la, (layout)lb);
            check_sgemm(40, 18, 130, -0.5f, 1, (layout)la, (layout)lb);
        }
}

/// A product big enough to be split over threads gives the same bits with 1 and with 3 threads.
static void check_sgemm_thread_independence(void) {
    const int64_t m = 96, n = 160, k = 200;
    float *A = random_floats(m * k), *B = random_floats(k * n);
    float *one = allocate(m * n, sizeof(float)), *three = allocate(m * n, sizeof(float));
    ck_set_num_threads(1);
    ck_sgemm(m, n, k, 1, A, k, 1, B, n, 1, 0, one, n);
    ck_set_num_threads(3);
    ck_sgemm(m, n, k, 1, A, k, 1, B, n, 1, 0, three, n);
    ck_set_num_threads(0);
    check_identical("sgemm 96×160×200: 1 thread vs 3 threads", one, three, m * n);
    free(A), free(B), free(one), free(three);
}

// MARK: - Direct 3×3 convolution

/// A 3×3 convolution with padding 1 at `stride` (1, or 2 on even sides).
static ck_conv_geometry geometry_3x3(int64_t n, int64_t c, int64_t o, int64_t h, int64_t w, int64_t stride) {
    return (ck_conv_geometry){.n = n, .c = c, .h = h, .w = w, .o = o, .kh = 3, .kw = 3, .ho = h / stride, .wo = w / stride,
                              .stride_h = stride, .stride_w = stride, .pad_h = 1, .pad_w = 1,
                              .dilation_h = 1, .dilation_w = 1, .groups = 1};
}

/// in[image][channel][y][x] with zero padding outside the image.
static double pixel(const float *image, int64_t h, int64_t w, int64_t y, int64_t x) {
    return y < 0 || y >= h || x < 0 || x >= w ? 0 : image[y * w + x];
}

typedef enum { FORWARD, BACKWARD_INPUT, BACKWARD_FILTER } pass;
static const char *pass_names[] = {"forward", "backward-input", "backward-filter"};

/// Runs one pass with the fast kernels or the portable ones into out (filled with NaN first).
static void run_pass(pass which, const ck_conv_geometry *g, const float *x, const float *filter, const float *bias,
                     const float *dy, float *out, int64_t count, int portable) {
    for (int64_t i = 0; i < count; i++) out[i] = NAN;
    ck_conv2d_use_portable_kernels_on_this_thread(portable);
    switch (which) {
    case FORWARD: ck_conv2d_forward(g, x, filter, bias, out); break;
    case BACKWARD_INPUT: ck_conv2d_backward_input(g, dy, filter, out); break;
    case BACKWARD_FILTER: ck_conv2d_backward_filter(g, x, dy, out); break;
    }
    ck_conv2d_use_portable_kernels_on_this_thread(0);
}

static void check_convolution(int64_t n, int64_t c, int64_t o, int64_t h, int64_t w, int64_t stride) {
    const ck_conv_geometry g = geometry_3x3(n, c, o, h, w, stride);
    const int64_t s = stride, ho = g.ho, wo = g.wo;
    if (!ck_conv2d_is_direct_3x3(&g)) {
        printf("FAIL conv %lldx%lldx%lldx%lld: not taken by the direct 3×3 path\n", (long long)n, (long long)c,
               (long long)h, (long long)w);
        failed++;
        return;
    }
    const int64_t pixels = h * w, outputs = ho * wo;
    float *x = random_floats(n * c * pixels), *filter = random_floats(o * c * 9), *dy = random_floats(n * o * outputs);
    float *bias = random_floats(o);   // forward: added to every tile
    for (int which = FORWARD; which <= BACKWARD_FILTER; which++) {
        // The result as rows × columns: [n·o][pixels], [n·c][pixels] or [o][c·9].
        int64_t rows = which == FORWARD ? n * o : which == BACKWARD_INPUT ? n * c : o;
        int64_t columns = which == BACKWARD_FILTER ? c * 9 : which == FORWARD ? outputs : pixels;
        double *expected = allocate(rows * columns, sizeof(double));
        double *tolerance = allocate(rows * columns, sizeof(double));
        int64_t terms = which == FORWARD ? c * 9 + 1 : which == BACKWARD_INPUT ? o * 9 : n * outputs + 32;
        for (int64_t row = 0; row < rows; row++)
            for (int64_t col = 0; col < columns; col++) {
                double sum = 0, magnitude = 0;
                if (which == FORWARD) {
                    // y[i][m][py][px] = Σ_{ch, kh, kw} filter[m][ch][kh][kw] · x[i][ch][s·py + kh − 1][s·px + kw − 1] + bias[m]
                    const int64_t i = row / o, m = row % o, py = col / wo, px = col % wo;
                    sum = bias[m], magnitude = fabs(bias[m]);
                    for (int64_t ch = 0; ch < c; ch++)
                        for (int t = 0; t < 9; t++) {
                            double term = filter[(m * c + ch) * 9 + t] *
                                          pixel(x + (i * c + ch) * pixels, h, w, s * py + t / 3 - 1, s * px + t % 3 - 1);
                            sum += term, magnitude += fabs(term);
                        }
                } else if (which == BACKWARD_INPUT) {
                    // dx[i][ch][py][px] = Σ_{m, kh, kw} filter[m][ch][kh][kw] · dy[i][m][qy][qx] over the
                    // (qy, qx) with s·qy + kh − 1 = py and s·qx + kw − 1 = px
                    const int64_t i = row / c, ch = row % c, py = col / w, px = col % w;
                    for (int64_t m = 0; m < o; m++)
                        for (int t = 0; t < 9; t++) {
                            const int64_t ny = py - t / 3 + 1, nx = px - t % 3 + 1;
                            if (ny < 0 || nx < 0 || ny % s != 0 || nx % s != 0) continue;
                            double term = filter[(m * c + ch) * 9 + t] * pixel(dy + (i * o + m) * outputs, ho, wo, ny / s, nx / s);
                            sum += term, magnitude += fabs(term);
                        }
                } else {
                    // dfilter[m][ch][kh][kw] = Σ_{i, py, px} dy[i][m][py][px] · x[i][ch][s·py + kh − 1][s·px + kw − 1]
                    const int64_t m = row, ch = col / 9, t = col % 9;
                    for (int64_t i = 0; i < n; i++)
                        for (int64_t p = 0; p < outputs; p++) {
                            double term = dy[(i * o + m) * outputs + p] *
                                          pixel(x + (i * c + ch) * pixels, h, w, s * (p / wo) + t / 3 - 1, s * (p % wo) + t % 3 - 1);
                            sum += term, magnitude += fabs(term);
                        }
                }
                expected[row * columns + col] = sum;
                tolerance[row * columns + col] = bound(terms, magnitude);
            }
        float *fast = allocate(rows * columns, sizeof(float));
        float *portable = allocate(rows * columns, sizeof(float));
        run_pass((pass)which, &g, x, filter, bias, dy, fast, rows * columns, 0);
        run_pass((pass)which, &g, x, filter, bias, dy, portable, rows * columns, 1);
        char label[160];
        snprintf(label, sizeof label, "conv3x3 %s n=%lld c=%lld o=%lld %lldx%lld stride %lld", pass_names[which], (long long)n,
                 (long long)c, (long long)o, (long long)h, (long long)w, (long long)s);
        check_close(label, "out", fast, columns, expected, tolerance, 1, rows, columns);
        check_close(label, "portable out", portable, columns, expected, tolerance, 1, rows, columns);
        check_agree(label, fast, portable, columns, tolerance, rows, columns);
        free(expected), free(tolerance), free(fast), free(portable);
    }
    free(x), free(filter), free(dy), free(bias);
}

static void check_convolutions(void) {
    // {n, c, o, h, w}: 1×1 images, single rows and columns, odd channel counts (partial 4-channel
    // tiles), pixel counts below, at and above the 24-pixel tile and the 8-lane vector, and
    // ∂y read in place (pixels a multiple of 8, o a multiple of 4).
    const int64_t shapes[][5] = {{1, 1, 1, 1, 1}, {2, 3, 5, 1, 1},  {1, 2, 3, 1, 9},  {2, 3, 2, 9, 1},
                                 {3, 5, 7, 5, 7}, {2, 3, 4, 6, 8},  {1, 4, 4, 4, 6},  {2, 7, 9, 3, 11},
                                 {1, 16, 8, 8, 8}, {4, 1, 2, 2, 3}, {1, 3, 6, 13, 11}, {17, 2, 3, 4, 5}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        check_convolution(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4], 1);
    // Stride 2 on even sides (the four phases): 2×2 images, single phase rows, partial tiles, a
    // batch of 17 (images side by side in the filter gradient).
    const int64_t strided[][5] = {{1, 1, 1, 2, 2}, {2, 3, 5, 2, 8}, {1, 5, 7, 6, 4}, {3, 4, 4, 10, 12}, {17, 2, 3, 4, 6}};
    for (size_t s = 0; s < sizeof strided / sizeof strided[0]; s++)
        check_convolution(strided[s][0], strided[s][1], strided[s][2], strided[s][3], strided[s][4], 2);
}

/// The filter gradient over 20 images is the same bits with 1 and with 3 threads.
static void check_convolution_thread_independence(void) {
    const ck_conv_geometry g = geometry_3x3(20, 3, 5, 6, 7, 1);
    float *x = random_floats(20 * 3 * 42), *dy = random_floats(20 * 5 * 42);
    float *one = allocate(5 * 27, sizeof(float)), *three = allocate(5 * 27, sizeof(float));
    ck_set_num_threads(1);
    ck_conv2d_backward_filter(&g, x, dy, one);
    ck_set_num_threads(3);
    ck_conv2d_backward_filter(&g, x, dy, three);
    ck_set_num_threads(0);
    check_identical("conv3x3 backward-filter n=20: 1 thread vs 3 threads", one, three, 5 * 27);
    free(x), free(dy), free(one), free(three);
}

// MARK: - Kernel set and peak loop

static void check_kernel_set(void) {
    const char *set = ck_kernel_set();
#if defined(__aarch64__)
    const char *expected = "neon", *sgemm = "neon-intrinsics 6x16";
    const double flops_per_iteration = 24 * 4 * 2;
#elif defined(__x86_64__)
    const int avx2 = ck_has_avx2_fma();
    const char *expected = avx2 ? "avx2-fma" : "portable", *sgemm = avx2 ? "avx2-fma-asm 6x16" : "portable-c 6x16";
    const double flops_per_iteration = avx2 ? 12 * 8 * 2 : 8 * 4 * 2;
#else
    const char *expected = "portable", *sgemm = "portable-c 6x16";
    const double flops_per_iteration = 8 * 4 * 2;
#endif
    comparison c = {"kernel set", 0};
    if (strcmp(set, expected) != 0) printf("FAIL kernel set: ck_kernel_set() = \"%s\", expected \"%s\"\n", set, expected), c.errors++;
    if (strcmp(ck_sgemm_kernel_name(), sgemm) != 0)
        printf("FAIL kernel set: ck_sgemm_kernel_name() = \"%s\", expected \"%s\"\n", ck_sgemm_kernel_name(), sgemm), c.errors++;
    double flops = ck_fma_loop(1000);
    if (flops != 1000 * flops_per_iteration)
        printf("FAIL peak loop: ck_fma_loop(1000) = %g flops, expected %g\n", flops, 1000 * flops_per_iteration), c.errors++;
    finish(&c);
}

int main(void) {
    check_kernel_set();
    check_microkernels();
    check_sgemms();
    check_sgemm_thread_independence();
    check_convolutions();
    check_convolution_thread_independence();
    printf("%s kernels (%s vs portable): %d checks passed, %d failed\n", ARCHITECTURE, ck_kernel_set(), passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
