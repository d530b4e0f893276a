/*-------------------------------------------------------------------------
 *
 * ridge.h
 *	  The ridge regression from features to factors (cold start): normal
 *	  equations in double, solved with LAPACK's Cholesky (pure C, no
 *	  PostgreSQL calls).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_RIDGE_H
#define RECO_RIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "parallel.h"

/*
 * The problem: m rows (entities with interactions and features), each with
 * sparse entries (column < n_sparse, at most one entry per column in a row)
 * and n_dense dense values; the targets are the rows' k factors.  The
 * columns are the n_sparse sparse ones, then the n_dense dense ones.
 */
typedef struct RecoRidgeProblem
{
	int64_t		m;
	int			n_sparse;
	int			n_dense;
	int			k;
	const int64_t *indptr;		/* m + 1 offsets into cols and values */
	const int32_t *cols;		/* sparse column per entry */
	const double *values;		/* sparse value per entry */
	const double *dense;		/* m x n_dense, row-major; NULL when n_dense is 0 */
	const float *targets;		/* m x k, row-major */
	double		lambda;			/* the penalty of every column (not the intercept), >= 0 */
	/*
	 * NULL, or p x p doubles the caller keeps across fits of the same rows
	 * and penalty whose targets change (the feature-aware prior refits after
	 * every item step): the first fit factors the system into it and sets
	 * *factored; later fits reuse the factor and only form FcᵀYc.
	 */
	double	   *factor;
	int		   *factored;
} RecoRidgeProblem;

extern size_t RecoRidgeBytes(int columns, int k);
extern RecoStatus RecoRidgeFit(const RecoRidgeProblem *problem, const RecoHooks *hooks,
							   double *weights, double *intercept);
extern void RecoRidgePlace(const float *weights, const float *intercept, int k,
						   int n_entries, const int32_t *cols, const double *values,
						   int dense_first, int n_dense, const double *dense, float *out);

#endif							/* RECO_RIDGE_H */
