/*-------------------------------------------------------------------------
 *
 * kernels.h
 *	  Vector kernels of reco: dot and axpy blocks, symmetric matrix-vector
 *	  product, rank-block update, Cholesky solve and factorization, row
 *	  scoring.
 *
 * Pure C (libc, pthreads): no PostgreSQL headers, callable from any thread.
 * A kernel set (RecoKernels) is a table of functions specialised for one
 * code path: portable C (kernels.c) or AVX2+FMA intrinsics (kernels_avx2.c,
 * specialised for k = 32, 64, 128 and any multiple of 8).  The CPU features
 * are read once per process, then RecoKernelsFor(k) picks the table for k.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_KERNELS_H
#define RECO_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* Items handled per dot/axpy/rank block (kept in L1 between passes). */
#define RECO_KERNEL_BLOCK 32

/* s[t] = Y[idx[t]] · v for t < cnt (cnt <= RECO_KERNEL_BLOCK). */
typedef void (*RecoDotBlockFn) (int k, const float *Y, const int32_t *idx,
								int cnt, const float *v, float *s);
/* out += Σ_t coef[t] Y[idx[t]]. */
typedef void (*RecoAxpyBlockFn) (int k, const float *Y, const int32_t *idx,
								 int cnt, const float *coef, float *out);
/* out = G v for a symmetric k x k G. */
typedef void (*RecoSymvFn) (int k, const float *G, const float *v, float *out);
/* Lower triangle (rounded up to 8 columns) of A += Σ_t coef[t] y_t y_tᵀ. */
typedef void (*RecoRankBlockFn) (int k, const float *Y, const int32_t *idx,
								 int cnt, const float *coef, float *A);

/*
 * Cholesky-solves A x = b (A: float k x k, lower triangle used) in double;
 * false if A is not positive definite or x is not finite.  U (k x k) and z
 * (k) are double scratch.
 */
typedef bool (*RecoCholSolveFn) (int k, const float *A, const float *b,
								 double *U, double *z, float *x);

/*
 * Factors in place the n x n symmetric matrix held (row-major) in the upper
 * triangle of U as UᵀU, in double; false if it is not positive definite or
 * not finite.  n need not be k.
 */
typedef bool (*RecoCholFactorFn) (int n, double *U);

/* One code path's kernels, all for the same k. */
typedef struct RecoKernels
{
	const char *name;			/* "generic", "avx2-fma-k64", ... */
	RecoDotBlockFn dot_block;
	RecoAxpyBlockFn axpy_block;
	RecoSymvFn	symv;
	RecoRankBlockFn rank_block;
	RecoCholSolveFn chol_solve;
	RecoCholFactorFn chol_factor;
} RecoKernels;

/* idx 0 .. RECO_KERNEL_BLOCK - 1: a block of contiguous item vectors. */
extern const int32_t RecoKernelIota[RECO_KERNEL_BLOCK];

/*
 * Chooses the code path from the CPU features and RECO_ALS_GENERIC=1 (which
 * forces the portable one).  Runs once per process (pthread_once); every
 * other function of this header calls it, so calling it is optional.
 */
extern void RecoKernelsInit(void);

/* The kernel set for k factors on this CPU (never NULL). */
extern const RecoKernels *RecoKernelsFor(int k);

/*
 * out[i] = v · Y[rows[i]] (rows NULL: row i) for i < n; each score is
 * computed identically wherever it appears, so rankings agree exactly
 * across single and batch scoring.
 */
extern void RecoAlsScoreRows(const float *Y, const int32_t *rows, int64_t n,
							 int k, const float *v, float *out);

/* Name of the inner-loop code path used for k factors ("avx2-fma-k64", "generic", ...). */
extern const char *RecoAlsKernelName(int k);

#endif							/* RECO_KERNELS_H */
