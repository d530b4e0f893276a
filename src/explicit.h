/*-------------------------------------------------------------------------
 *
 * explicit.h
 *	  Explicit-ratings ALS with biases (algorithm "als"): rating ≈ μ + b_u +
 *	  b_i + x_u·y_i fitted on the observed ratings only (ALS-WR).
 *
 * Pure C (libc, pthreads): no PostgreSQL headers.  While training, a side's
 * rows are held with stride RecoExplicitStride(k) floats: [x (k), b, 0 ...]
 * (the factor vector, the bias, zero padding to a multiple of 8).  A side
 * solve fixes the other side and solves, for every row, the ridge regression
 * of dimension k + 1 with the other side augmented by a constant 1:
 * unknown [x_u, b_u], regressors ỹ_i = [y_i, 1], targets r_ui − μ − b_i,
 * A = Σ ỹỹᵀ + λ·n_u^ν I (n_u the row's ratings), by Cholesky in double.
 * RecoExplicitStoredRows turns the rows into the stored (served) vectors
 * whose dot product is the predicted rating: user [x_u, b_u, 1, 1], item
 * [y_i, 1, b_i, μ].
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_EXPLICIT_H
#define RECO_EXPLICIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "als.h"

/* Training parameters of the explicit side solves. */
typedef struct RecoExplicitConfig
{
	int			factors;		/* k, 1 .. RECO_MAX_FACTORS - RECO_EXPLICIT_STORED_EXTRA */
	float		regularization; /* λ > 0 */
	float		reg_exponent;	/* ν: a row's ridge is λ·n^ν */
	int			threads;		/* total threads incl. the caller */
} RecoExplicitConfig;

/* Floats per row of a side while training: k + 1 rounded up to a multiple of 8. */
extern int	RecoExplicitStride(int k);

/* Mean of the ratings of a sparse matrix (0 if it has none), in double. */
extern double RecoExplicitMean(const RecoSparse *rows);

/*
 * Fills n rows of stride RecoExplicitStride(k) with factors drawn from
 * N(0, (RECO_EXPLICIT_INIT_SCALE)² / k), biases and padding 0; a row's draw
 * depends only on (seed, stream, ids[r]).
 */
extern void RecoExplicitInit(float *rows, int64_t n, int k, const int64_t *ids,
							 uint64_t seed, uint64_t stream);

/*
 * Solves every row of `rows` (ratings as weights) against the fixed side
 * (rows->n_cols rows of stride RecoExplicitStride(k)), writing `solve`
 * (rows->n_rows rows of the same stride); a row without ratings gets zero
 * factors and bias 0.  Threaded on the runner; bit-identical for any thread
 * count.  On a status other than RECO_STATUS_OK `solve` is unspecified.
 */
extern RecoStatus RecoExplicitSolveSide(const RecoSparse *rows, const float *fixed,
										float *solve, double mean,
										const RecoExplicitConfig *cfg,
										const RecoHooks *hooks);

/*
 * Training RMSE of the user rows X and item rows Y over the ratings of
 * `users` (deterministic: per-chunk sums added in row order).
 */
extern RecoStatus RecoExplicitRmse(const RecoSparse *users, const float *X,
								   const float *Y, double mean,
								   const RecoExplicitConfig *cfg,
								   const RecoHooks *hooks, double *rmse_out);

/*
 * The stored vectors (k + RECO_EXPLICIT_STORED_EXTRA floats each) of n
 * training rows: users [x, b, 1, 1], items [y, 1, b, μ].
 */
extern void RecoExplicitStoredRows(const float *rows, int64_t n, int k,
								   double mean, bool users, float *out);

/* Bytes RecoExplicitSolveSide allocates besides the factor matrices, for `threads` threads. */
extern size_t RecoExplicitScratchBytes(int k, int threads);

#endif							/* RECO_EXPLICIT_H */
