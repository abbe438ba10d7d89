// The GEMM driver: Goto/BLIS loop nest around a 6×16 micro-kernel, packing into per-thread
// buffers that persist, and the split of large products over the thread pool.
#include "CKernels.h"
#include "ck_internal.h"
#include <string.h>

// Cache blocking. A KC×16 panel of packed B (16 KB) stays in L1 while the micro-kernel streams
// MC×KC of packed A (144 KB) from L2; a KC×NC block of packed B (2 MB) lives in L2/L3.
// Blocks are balanced (K = 257 gives two blocks of 129 and 128, not 256 and 1).
enum { KC = 256, MC = 144, NC = 2048 };

// Problems below this many floating-point operations are not split over threads: a wake-up
// costs tens of µs, and halves of < 1 MFLOP take ~10 µs.
#define PARALLEL_MIN_FLOPS 2e6
// No thread gets less than this much work.
#define CHUNK_MIN_FLOPS 1e6

typedef struct {
    ck_microkernel kernel;
    ck_microkernel kernel4;  // for tiles of at most 4 rows
    ck_pack_a pack_a;
    ck_pack_b pack_b;
    const char *name;
} implementation;

static const implementation portable_implementation = {
    ck_microkernel_portable, ck_microkernel_portable, ck_pack_a_portable, ck_pack_b_portable, "portable-c 6x16"};
#if defined(__x86_64__)
static const implementation avx2_implementation = {
    ck_microkernel_avx2, ck_microkernel4_avx2, ck_pack_a_avx2, ck_pack_b_avx2, "avx2-fma-asm 6x16"};
#endif
#if defined(__aarch64__)
static const implementation neon_implementation = {
    ck_microkernel_neon, ck_microkernel4_neon, ck_pack_a_neon, ck_pack_b_neon, "neon-intrinsics 6x16"};
#endif

static const implementation *native_implementation(void) {
    switch (ck_native_kernels()) {
#if defined(__x86_64__)
    case CK_KERNELS_AVX2_FMA: return &avx2_implementation;
#endif
#if defined(__aarch64__)
    case CK_KERNELS_NEON: return &neon_implementation;
#endif
    default: return &portable_implementation;
    }
}

const char *ck_sgemm_kernel_name(void) { return native_implementation()->name; }

// Packing buffers: per thread, MC×KC as MC/6 panels of 6×KC plus 2 floats the A packing may
// overrun, and KC×NC as NC/16 panels of KC×16.
enum { PACKED_A_FLOATS = MC * KC + 16, PACKED_B_FLOATS = KC * NC };

// MARK: The serial loop nest

typedef struct {
    const implementation *impl;
    int64_t M, N, K;
    float alpha;
    const float *A;
    int64_t rsA, csA;
    const float *B;
    int64_t rsB, csB;
    float beta;
    float *C;
    int64_t ldc;
} problem;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// The block size that splits `total` into the fewest blocks of at most `limit`, as evenly as
// possible, rounded up to a multiple of `multiple` (so tiles start at the same places in any
// sub-problem that starts on a multiple).
static int64_t balanced_block(int64_t total, int64_t limit, int64_t multiple) {
    int64_t blocks = (total + limit - 1) / limit;
    int64_t size = (total + blocks - 1) / blocks;
    return (size + multiple - 1) / multiple * multiple;
}

// A tile cut by the edge of C: the kernel writes a full 6×16 tile into a local buffer (holding a
// copy of C's part when beta != 0), so its arithmetic is identical to an interior tile's.
static void edge_tile(const implementation *impl, int64_t mr, int64_t nr, int64_t kc,
                      const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta) {
    float tile[CK_MR * CK_NR] __attribute__((aligned(64)));
    memset(tile, 0, sizeof tile);
    if (beta != 0.0f)
        for (int64_t i = 0; i < mr; i++) memcpy(tile + i * CK_NR, c + i * ldc, (size_t)nr * sizeof(float));
    (mr <= 4 ? impl->kernel4 : impl->kernel)(kc, a, b, CK_NR, tile, CK_NR, mr, alpha, beta, NULL, 0, 0);
    for (int64_t i = 0; i < mr; i++) memcpy(c + i * ldc, tile + i * CK_NR, (size_t)nr * sizeof(float));
}

// Software prefetch of the next blocks' sources, spread over the micro-kernel calls of the
// current block so that their memory traffic overlaps arithmetic. Blocks are read as many short
// runs (rows of row-major B, k-runs of transposed B, ...): each run starts cold, hardware
// prefetchers hardly help, and prefetching a block in one burst just stalls.
//
// A block's source X[r·rs + c·cs] (r < rows, c < cols) with rs or cs == 1 is a set of runs:
// runs[i] = base + i·stride, each `bytes` long. Line l of every run forms a "column" of
// addresses with a constant stride, a piece of which one micro-kernel call walks, a prefetch
// every 2 k steps.
typedef struct {
    const char *base;
    int64_t stride, bytes, runs;  // runs == 0: nothing to prefetch
    int64_t lines;                // lines to visit per run (one more when runs are misaligned)
    int64_t line, run;            // progress: next column and position in it
} prefetch_walk;

static void prefetch_plan(prefetch_walk *w, const float *X, int64_t rs, int64_t cs,
                          int64_t rows, int64_t cols) {
    *w = (prefetch_walk){.base = (const char *)X};
    if (rows <= 0 || cols <= 0) return;
    if (cs == 1) {
        w->runs = rows, w->bytes = cols * (int64_t)sizeof(float), w->stride = rs * (int64_t)sizeof(float);
    } else if (rs == 1) {
        w->runs = cols, w->bytes = rows * (int64_t)sizeof(float), w->stride = cs * (int64_t)sizeof(float);
    } else {
        return;
    }
    int aligned = ((uintptr_t)X % 64 == 0) && (w->stride % 64 == 0);
    w->lines = (w->bytes + 63) / 64 + !aligned;
}

// The next piece of a column, at most `limit` addresses, for a micro-kernel call.
static void prefetch_column(prefetch_walk *w, int64_t limit, const float **pf, int64_t *stride, int64_t *count) {
    *count = 0;
    if (w->line >= w->lines) return;
    int64_t n = min64(limit, w->runs - w->run);
    *pf = (const float *)(w->base + w->run * w->stride + w->line * 64);
    *stride = w->stride;
    *count = n;
    w->run += n;
    if (w->run == w->runs) w->run = 0, w->line++;
}

// Issues up to `lines` prefetches of the walk directly (for the A block, whose lines are few).
static void prefetch_lines(prefetch_walk *w, int64_t lines) {
    for (; lines > 0 && w->line < w->lines; lines--) {
        __builtin_prefetch(w->base + w->run * w->stride + w->line * 64);
        if (++w->run == w->runs) w->run = 0, w->line++;
    }
}

// One packed MC×KC block of A times one KC×NC block of B, into C. B is either packed (panel
// jr at b + jr·kc, rows 16 apart) or read in place from row-major B (panel jr at b + jr, rows
// ldb apart) except for a partial last panel, which is then packed at b_tail.
typedef struct {
    const implementation *impl;
    const float *a, *b, *b_tail;
    int64_t ldb, b_panel_step;
    float *c;  // C[ic][jc]
    int64_t ldc, mc, nc, kc;
    float alpha, beta;
    prefetch_walk *next_a, *next_b;
    int64_t a_lines_per_call, b_lines_per_call;
} block;

static void block_tile(const block *k, int64_t ir, int64_t jr) {
    int64_t mr = min64(CK_MR, k->mc - ir), nr = min64(CK_NR, k->nc - jr);
    const float *a = k->a + ir * k->kc, *b = k->b + jr * k->b_panel_step;
    float *c = k->c + ir * k->ldc + jr;
    const float *pf = NULL;
    int64_t pf_stride = 0, pf_count;
    prefetch_lines(k->next_a, k->a_lines_per_call);
    prefetch_column(k->next_b, k->b_lines_per_call, &pf, &pf_stride, &pf_count);
    if (nr == CK_NR)
        (mr <= 4 ? k->impl->kernel4 : k->impl->kernel)(k->kc, a, b, k->ldb, c, k->ldc, mr, k->alpha, k->beta,
                                                        pf, pf_stride, pf_count);
    else
        edge_tile(k->impl, mr, nr, k->kc, a, k->b_tail ? k->b_tail : b, c, k->ldc, k->alpha, k->beta);
}

// Below this kc the tiles are visited row strip by row strip, so C is written along its rows
// (C traffic dominates); otherwise column strip by column strip, so the 16-column panel of B
// stays in L1 while the 6-row panels of A stream from L2.
enum { ROW_ORDER_MAX_KC = 64 };

static void block_multiply(const block *k) {
    if (k->kc < ROW_ORDER_MAX_KC) {
        for (int64_t ir = 0; ir < k->mc; ir += CK_MR)
            for (int64_t jr = 0; jr < k->nc; jr += CK_NR) block_tile(k, ir, jr);
    } else {
        for (int64_t jr = 0; jr < k->nc; jr += CK_NR)
            for (int64_t ir = 0; ir < k->mc; ir += CK_MR) block_tile(k, ir, jr);
    }
}

// With few rows of A, a packed B panel would serve only a few micro-kernel calls, so row-major B
// is read in place instead of being copied (the prefetch brings it to L2) -- unless its rows
// fall into too few L1 sets (a row stride that is a multiple of 4 KB puts all of them in one set
// of a 32 KB 8-way L1, and every load would miss).
enum { DIRECT_B_MAX_M = 6 * CK_MR };

// Whether the 16-float pieces of `rows` rows `stride` floats apart fall into enough L1 sets
// (of 64, with 64-byte lines) to fill at most a quarter of their 8 ways.
static int spreads_over_l1(const float *B, int64_t stride, int64_t rows) {
    uint64_t sets = 0;
    for (int64_t k = 0; k < rows; k++) {
        uintptr_t first = (uintptr_t)(B + k * stride) / 64, last = (uintptr_t)(B + k * stride + CK_NR - 1) / 64;
        sets |= (uint64_t)1 << (first % 64) | (uint64_t)1 << (last % 64);
    }
    return (int64_t)__builtin_popcountll(sets) * 8 >= 2 * rows;
}

// C = alpha·op(A)·op(B) + beta·C on the calling thread, for K > 0.
// Loops, outermost first: jc over NC columns, pc over KC of the sum (beta applies to the first
// block only; packs a KC×NC block of B), ic over MC rows (packs an MC×KC block of A), then the
// 6×16 micro-tiles of the MC×NC block of C. Each micro-kernel call prefetches part of the next B
// block; the next A block is prefetched a few lines before each call.
static void gemm_serial(const problem *p) {
    const implementation *impl = p->impl;
    float *packed_a = ck_thread_buffer(CK_BUFFER_GEMM_A, PACKED_A_FLOATS);
    float *packed_b = ck_thread_buffer(CK_BUFFER_GEMM_B, PACKED_B_FLOATS);
    int64_t nc_block = balanced_block(p->N, NC, CK_NR);
    int64_t kc_block = balanced_block(p->K, KC, 1);
    int64_t mc_block = balanced_block(p->M, MC, CK_MR);
    int direct_b = p->csB == 1 && p->M <= DIRECT_B_MAX_M && spreads_over_l1(p->B, p->rsB, kc_block);
    prefetch_walk next_a, next_b;
    for (int64_t jc = 0; jc < p->N; jc += nc_block) {
        int64_t nc = min64(nc_block, p->N - jc);
        for (int64_t pc = 0; pc < p->K; pc += kc_block) {
            int64_t kc = min64(kc_block, p->K - pc);
            const float *b_source = p->B + pc * p->rsB + jc * p->csB;
            if (!direct_b) impl->pack_b(nc, kc, b_source, p->rsB, p->csB, packed_b);
            else if (nc % CK_NR) impl->pack_b(nc % CK_NR, kc, b_source + nc / CK_NR * CK_NR, p->rsB, 1, packed_b);
            // The next (jc, pc) block, if any.
            int64_t next_jc = jc, next_pc = pc + kc;
            if (next_pc >= p->K) next_jc += nc, next_pc = 0;
            int has_next = next_jc < p->N;
            int64_t next_kc = min64(kc_block, p->K - next_pc);
            prefetch_plan(&next_b, p->B + next_pc * p->rsB + next_jc * p->csB, p->rsB, p->csB,
                          has_next ? next_kc : 0, min64(nc_block, p->N - next_jc));
            for (int64_t ic = 0; ic < p->M; ic += mc_block) {
                int64_t mc = min64(mc_block, p->M - ic);
                impl->pack_a(mc, kc, p->A + ic * p->rsA + pc * p->csA, p->rsA, p->csA, packed_a);
                // The next A block: the next ic, or the first of the next (jc, pc).
                int64_t next_ic = ic + mc < p->M ? ic + mc : 0;
                prefetch_plan(&next_a, p->A + next_ic * p->rsA + (next_ic ? pc : next_pc) * p->csA, p->rsA, p->csA,
                              next_ic || has_next ? min64(mc_block, p->M - next_ic) : 0, next_ic ? kc : next_kc);
                int64_t calls = ((nc + CK_NR - 1) / CK_NR) * ((mc + CK_MR - 1) / CK_MR);
                int64_t b_calls = ((nc + CK_NR - 1) / CK_NR) * ((p->M - ic + CK_MR - 1) / CK_MR);
                block k = {impl, packed_a, direct_b ? b_source : packed_b, direct_b ? packed_b : NULL,
                           direct_b ? p->rsB : CK_NR, direct_b ? 1 : kc,
                           p->C + ic * p->ldc + jc, p->ldc, mc, nc, kc,
                           p->alpha, pc == 0 ? p->beta : 1.0f, &next_a, &next_b,
                           (next_a.runs * next_a.lines + calls - 1) / calls,
                           min64(CK_PREFETCH_SLOTS(kc), (next_b.runs * next_b.lines - next_b.line * next_b.runs - next_b.run + b_calls - 1) / b_calls)};
                block_multiply(&k);
            }
        }
    }
}

// MARK: Splitting over threads

// Chunks are runs of whole 16-column (or 6-row) tile strips starting on tile boundaries, so each
// element of C is computed exactly as in the serial loop nest.
typedef struct {
    problem whole;
    int split_columns;  // 1: chunks of columns, 0: chunks of rows
    int64_t strips, chunks;
} split;

static void run_chunk(void *context, int64_t index) {
    const split *sp = context;
    problem sub = sp->whole;
    int64_t first = index * sp->strips / sp->chunks, end = (index + 1) * sp->strips / sp->chunks;
    if (sp->split_columns) {
        int64_t j0 = first * CK_NR, j1 = min64(end * CK_NR, sub.N);
        sub.N = j1 - j0;
        sub.B += j0 * sub.csB;
        sub.C += j0;
    } else {
        int64_t i0 = first * CK_MR, i1 = min64(end * CK_MR, sub.M);
        sub.M = i1 - i0;
        sub.A += i0 * sub.rsA;
        sub.C += i0 * sub.ldc;
    }
    if (sub.M > 0 && sub.N > 0) gemm_serial(&sub);
}

// Chooses between splitting columns and rows with a rough per-thread time, in units of one
// packed element (~1 cycle): the largest chunk's micro-kernel work (16 multiply-adds per cycle)
// plus its packing (a column split repacks all of A in every chunk, a row split all of B).
static void gemm_parallel(const problem *p, int64_t threads) {
    int64_t column_strips = (p->N + CK_NR - 1) / CK_NR, row_strips = (p->M + CK_MR - 1) / CK_MR;
    int64_t column_chunks = min64(threads, column_strips), row_chunks = min64(threads, row_strips);
    double padded_rows = (double)(row_strips * CK_MR), padded_columns = (double)(column_strips * CK_NR);
    double by_columns = padded_rows * (double)((column_strips + column_chunks - 1) / column_chunks * CK_NR)
                            * (double)p->K / 16
                        + (double)p->M * (double)p->K + (double)p->K * (double)p->N / (double)column_chunks;
    double by_rows = (double)((row_strips + row_chunks - 1) / row_chunks * CK_MR) * padded_columns
                         * (double)p->K / 16
                     + (double)p->K * (double)p->N + (double)p->M * (double)p->K / (double)row_chunks;
    split sp = {.whole = *p};
    sp.split_columns = by_columns <= by_rows;
    sp.strips = sp.split_columns ? column_strips : row_strips;
    sp.chunks = sp.split_columns ? column_chunks : row_chunks;
    if (sp.chunks <= 1)
        gemm_serial(p);
    else
        ck_parallel_for(sp.chunks, run_chunk, &sp);
}

static void gemm(const implementation *impl, int64_t M, int64_t N, int64_t K, float alpha,
                 const float *A, int64_t rsA, int64_t csA, const float *B, int64_t rsB, int64_t csB,
                 float beta, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        for (int64_t i = 0; i < M; i++) {
            float *c = C + i * ldc;
            if (beta == 0.0f)
                memset(c, 0, (size_t)N * sizeof(float));
            else if (beta != 1.0f)
                for (int64_t j = 0; j < N; j++) c[j] *= beta;
        }
        return;
    }
    problem p = {impl, M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, ldc};
    double flops = 2.0 * (double)M * (double)N * (double)K;
    int64_t threads = flops >= PARALLEL_MIN_FLOPS && ck_pool_can_split() ? ck_num_threads() : 1;
    if (threads > (int64_t)(flops / CHUNK_MIN_FLOPS)) threads = (int64_t)(flops / CHUNK_MIN_FLOPS);
    if (threads > 1)
        gemm_parallel(&p, threads);
    else
        gemm_serial(&p);
}

void ck_sgemm(int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t rsA, int64_t csA,
              const float *B, int64_t rsB, int64_t csB,
              float beta, float *C, int64_t ldc) {
    gemm(native_implementation(), M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, ldc);
}

void ck_sgemm_portable(int64_t M, int64_t N, int64_t K, float alpha,
                       const float *A, int64_t rsA, int64_t csA,
                       const float *B, int64_t rsB, int64_t csB,
                       float beta, float *C, int64_t ldc) {
    gemm(&portable_implementation, M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, ldc);
}
