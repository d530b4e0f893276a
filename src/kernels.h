/*-------------------------------------------------------------------------
 *
 * kernels.h
 *	  Vector kernels of reco: dot and axpy blocks, symmetric matrix-vector
 *	  product, rank-K update, Cholesky solve and factorization, row
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
#include <stddef.h>
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
/*
 * Lower-triangle rank-K update of the m x m C (row stride ldc):
 * C[a][b] += Σ_{t<K} P[t][a] Q[t][b] for b <= a, every entry summed in t
 * order from its old value (so splitting K into calls changes nothing);
 * entries a < b < (a + 6 rounded up to a multiple of 8) may be written too.  P and Q have K
 * rows of stride ld; ld and ldc are multiples of 8 and rows are readable up
 * to column m rounded up to 8.
 */
typedef void (*RecoSyrkFn) (int m, int K, const float *P, const float *Q,
							int ld, float *C, int ldc);

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
 * not finite.  n need not be k.  Every code path gives the result of
 * RecoCholFactorInline compiled for it, bit for bit (the lower triangle is
 * neither read nor written).
 */
typedef bool (*RecoCholFactorFn) (int n, double *U);
/*
 * Solves Uᵀ z = z (forward) or U z = z (back) in place, U n x n upper,
 * double; back_t solves U z = z given Uᵀ (row-major lower) instead of U.
 */
typedef void (*RecoTriSolveFn) (int n, const double *U, double *z);
/* out[i] = Z[idx[i]] · v (double) for i < n (rows of stride k). */
typedef void (*RecoDotRowsFn) (int k, int n, const float *Z,
							   const int32_t *idx, const double *v,
							   double *out);
/* v += Σ_i coef[i] Z[idx[i]] (double), i in order (rows of stride k). */
typedef void (*RecoAxpyRowsFn) (int k, int n, const float *Z,
								const int32_t *idx, const double *coef,
								double *v);
/*
 * Factors N = I + S M S (n x n, into the upper triangle of N, double; M the
 * float lower triangle of stride n, S = diag(sv)); false if that fails.
 */
typedef bool (*RecoShortFactorFn) (int n, const float *M, const double *sv,
								   double *N);
/*
 * Exact pass: the lower triangle of Z_w Z_wᵀ (m x m, stride m) for the
 * rows Z[idx[i]] (stride k), i < m: M[i][j] = z_i · z_j for j <= i, each
 * entry bit for bit the dot_block value of that pair; the other entries of
 * M are left alone.
 */
typedef void (*RecoRowsGramFn) (int k, int m, const float *Z,
								const int32_t *idx, float *M);

/* The most short rows one short_lanes call solves together: one per SIMD lane of doubles. */
#define RECO_SHORT_LANES 8

/*
 * Exact pass, several short rows at once (lanes <= RECO_SHORT_LANES, one
 * row per lane): for lane b, N_b = I + S_b M_b S_b (n[b] x n[b]; M[b] the
 * float lower triangle of stride n[b], S_b = diag(sv[b])) is factored as
 * UᵀU and q[b] <- N_b⁻¹ q[b] (n[b] doubles).  Each lane's q and failure
 * are bit for bit what short_factor, forward and back give for that row
 * alone, whatever the other lanes hold.  W: scratch of
 * RECO_SHORT_LANES·m·(m + 1) doubles, m the largest n[b].  Returns the
 * mask of lanes (bit b) whose N is not positive definite (or not finite).
 */
typedef unsigned (*RecoShortLanesFn) (int lanes, const int *n,
									  const float *const *M,
									  const double *const *sv,
									  double *const *q, double *W);

/*
 * How many rows short_lanes solves in one sweep of its vectors (4 or
 * RECO_SHORT_LANES): a call of more rows costs more than one of this many.
 */
typedef int (*RecoLanesWidthFn) (void);

/*
 * back_t for cnt <= RECO_SHORT_LANES vectors at once: z[c] <- U⁻¹ z[c]
 * given L = Uᵀ (n x n, row-major lower), each z[c] bit for bit what back_t
 * gives it alone (L read once for all of them).
 */
typedef void (*RecoTriSolveRowsFn) (int n, const double *L, double *const *z,
									int cnt);

/* ---- CG kernels (lockstep rows) ---- */
/*
 * out_b = G v_b for b < n: rows v_b = V + b·ld and out_b = out + b·ld (ld
 * floats apart), each out_b bit for bit what symv gives for v_b.
 */
typedef void (*RecoSymvRowsFn) (int k, int n, const float *G, const float *V,
								size_t ld, float *out);

/* ---- CG kernels over IEEE half-precision vectors (binary16 bits in uint16_t) ---- */
/*
 * s[t] = float(Yh[idx[t]]) · v for t < cnt (cnt <= RECO_KERNEL_BLOCK): the
 * dot block's sums over the vectors widened to float exactly.
 */
typedef void (*RecoDotBlockHalfFn) (int k, const uint16_t *Yh, const int32_t *idx,
									int cnt, const float *v, float *s);
/* out += Σ_t coef[t] float(Yh[idx[t]]): the multi-axpy over widened vectors. */
typedef void (*RecoAxpyBlockHalfFn) (int k, const uint16_t *Yh, const int32_t *idx,
									 int cnt, const float *coef, float *out);
/*
 * Two rows' multi-axpys at once: out_a += Σ_t coef_a[t] float(Ya[idx[t]])
 * and out_b += Σ_t coef_b[t] float(Yb[idx[t]]), each bit for bit what
 * axpy_block_h gives it alone (the two rows' FMA chains interleaved where
 * one row's alone would wait on their latency).  NULL in the tables of
 * k 32, 64 and 128 (their half axpy is bound by its conversions) and in the
 * portable one; without AVX-512 the AVX2 table's pair is two ymm calls.
 */
typedef void (*RecoAxpyPairHalfFn) (int k, const uint16_t *Ya, const uint16_t *Yb,
									const int32_t *idx, int cnt,
									const float *coef_a, const float *coef_b,
									float *out_a, float *out_b);
/*
 * dst[j] = src[j] rounded to half, to nearest even (RecoFloatToHalf's bits
 * on every code path), for j < n; true if every value is finite and below
 * half's overflow (|src[j]| < 65520, which rounds to at most 65504).
 */
typedef bool (*RecoToHalfFn) (int64_t n, const float *src, uint16_t *dst);
/*
 * hdst + t·k = Yh[idx[t]] (k halves, copied as they are) for t < cnt: the
 * CG residual pass's copy of a block of half vectors it gathers.
 */
typedef void (*RecoGatherBlockHalfFn) (int k, const uint16_t *Yh, const int32_t *idx,
									   int cnt, uint16_t *hdst);

/* One code path's kernels, all for the same k. */
typedef struct RecoKernels
{
	const char *name;			/* "generic", "avx2-fma-k64", ... */
	RecoDotBlockFn dot_block;
	RecoAxpyBlockFn axpy_block;
	RecoSymvFn	symv;
	RecoSyrkFn	syrk;
	RecoCholSolveFn chol_solve;
	RecoCholFactorFn chol_factor;
	RecoTriSolveFn forward;
	RecoTriSolveFn back;
	RecoTriSolveFn back_t;
	RecoDotRowsFn dot_rows;
	RecoAxpyRowsFn axpy_rows;
	RecoShortFactorFn short_factor;
	RecoRowsGramFn rows_gram;	/* exact pass (a separate block) */
	RecoSymvRowsFn symv_rows;	/* CG kernels (lockstep rows) */
	RecoShortLanesFn short_lanes;	/* exact pass: short rows in lanes */
	RecoDotBlockHalfFn dot_block_h; /* CG A·p passes over half vectors */
	RecoAxpyBlockHalfFn axpy_block_h;
	RecoToHalfFn to_half;
	RecoTriSolveRowsFn back_t_rows; /* exact pass: a lane group's back_t */
	RecoLanesWidthFn short_lanes_width;	/* exact pass: rows per sweep of short_lanes */
	RecoAxpyPairHalfFn axpy_pair_h; /* CG A·p passes: two rows of a lockstep group, or NULL */
	RecoGatherBlockHalfFn gather_block_h;	/* CG residual pass: the copy of gathered half vectors */
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
