#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>

// Hot loops for Tape, in C. The GEMM micro-kernel and the direct 3×3 convolution's tiles come
// in three kernel sets, chosen once at run time (`ck_kernel_set`): AVX2+FMA inline assembly on
// x86_64 CPUs that have it, NEON intrinsics on every aarch64 CPU, and portable C everywhere
// else; no compiler flags are needed. All functions are safe to call from several threads at once.

/// The kernel set the GEMM micro-kernel and the direct 3×3 convolution use on this machine, as a
/// static string: "avx2-fma" (x86_64 with AVX2 and FMA), "neon" (aarch64) or "portable" (plain C).
const char *ck_kernel_set(void);

// MARK: - Matrix product

/// Row-major general matrix product, C[M×N] = alpha · op(A)·op(B) + beta · C, where
/// op(A)[i][k] = A[i·rsA + k·csA] and op(B)[k][j] = B[k·rsB + j·csB] (any strides, so
/// transposed views need no copy) and C[i][j] = C[i·ldc + j]. beta == 0 ignores C's contents
/// (NaN in C does not leak); K == 0 or alpha == 0 gives beta · C without reading A or B.
///
/// Packed, cache-blocked (Goto/BLIS) with a 6×16 register-blocked micro-kernel. Problems of
/// at least ~2 MFLOP are split over the thread pool (`ck_set_num_threads`) by blocks of whole
/// output tiles, so every element of C is summed in the same order whatever the thread count:
/// the result does not depend on the number of threads, bit for bit.
void ck_sgemm(int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t rsA, int64_t csA,
              const float *B, int64_t rsB, int64_t csB,
              float beta, float *C, int64_t ldc);

/// `ck_sgemm` restricted to the portable C micro-kernel and packing routines, whatever the CPU
/// supports. Same arguments and layouts. For tests and benchmarks of the fallback path; the
/// results differ from `ck_sgemm` only by rounding (no fused multiply-add).
void ck_sgemm_portable(int64_t M, int64_t N, int64_t K, float alpha,
                       const float *A, int64_t rsA, int64_t csA,
                       const float *B, int64_t rsB, int64_t csB,
                       float beta, float *C, int64_t ldc);

/// A static, human-readable name of the micro-kernel `ck_sgemm` uses on this CPU:
/// "avx2-fma-asm 6x16", "neon-intrinsics 6x16" or "portable-c 6x16".
const char *ck_sgemm_kernel_name(void);

// MARK: - Thread pool

/// Sets the number of threads parallel regions use, the caller included.
/// n <= 0 restores the default: the number of CPUs this process may run on
/// (sched_getaffinity, else the online CPUs). At most 256.
void ck_set_num_threads(int n);

/// The number of threads parallel regions use, the caller included (>= 1).
int ck_num_threads(void);

/// Runs fn(ctx, i) for every i in [0, n) exactly once, across the pool, and returns when all
/// calls are done. The calling thread takes part; indices are handed out one at a time to
/// whichever thread is free, so callers must not rely on which thread runs which index.
/// Workers spin for ~50 µs after a region, then sleep on a condition variable.
/// Regions run one at a time: a call made while another thread's region is running, or from
/// inside fn (nesting), runs all its indices serially on the calling thread instead of waiting.
void ck_parallel_for(int64_t n, void (*fn)(void *ctx, int64_t i), void *ctx);

// MARK: - Peak measurement

/// 1 if the CPU (and OS) support AVX2 and FMA, the instruction sets the fast kernels use; else 0.
int ck_has_avx2_fma(void);

/// Runs a register-resident multiply-add loop for `iterations` iterations on the calling thread
/// and returns the number of floating-point operations performed (2 per lane per multiply-add).
/// With AVX2+FMA: 12 independent ymm accumulators, one vfmadd231ps each per iteration
/// (192 flops per iteration), i.e. the 256-bit FMA peak the kernels are measured against, even
/// on CPUs that also have AVX-512. On aarch64: 24 independent 128-bit accumulators, one NEON fmla
/// each per iteration (192 flops per iteration; enough chains for four FMA pipes). Otherwise: 8
/// independent 4-lane vector multiply-add chains in portable C (64 flops per iteration).
/// `ck_kernel_set` tells which one ran.
double ck_fma_loop(int64_t iterations);

#include "CKernelsConvolution.h"

#endif
