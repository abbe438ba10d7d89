#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>

/// Row-major general matrix product, C[M×N] = alpha · op(A)·op(B) + beta · C, where
/// op(A)[i][k] = A[i·rsA + k·csA] and op(B)[k][j] = B[k·rsB + j·csB] (any strides, so
/// transposed views need no copy) and C[i][j] = C[i·ldc + j]. beta == 0 ignores C's contents.
void ck_sgemm(int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t rsA, int64_t csA,
              const float *B, int64_t rsB, int64_t csB,
              float beta, float *C, int64_t ldc);

#endif
