/*-------------------------------------------------------------------------
 *
 * als.h
 *	  Implicit-feedback ALS solver: per-row CG / Cholesky solves, loss, init.
 *
 * Pure C (libc, pthreads, OpenBLAS cblas): no PostgreSQL headers, so the
 * solver can be unit-tested and benchmarked outside the server.  The math
 * follows the conventions of the Python `implicit` library (0.7): confidence
 * c = alpha * weight; c > 0 means preference 1 with confidence c, c <= 0
 * means preference 0 with confidence |c|; unobserved pairs have preference 0
 * and confidence 1.  Including this header also declares the vector kernels
 * (kernels.h: row scoring, kernel names) and the thread runner with its
 * status and hooks (parallel.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_ALS_H
#define RECO_ALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "parallel.h"
#include "reco_limits.h"

/* Compressed rows: CSR of users, or CSC of the same data viewed as item rows. */
typedef struct RecoSparse
{
	int64_t		n_rows;			/* rows being solved */
	int64_t		n_cols;			/* rows of the fixed side */
	const int64_t *indptr;		/* n_rows + 1 offsets */
	const int32_t *indices;		/* nnz column indices, ascending in a row, no
								 * duplicates */
	const float *weights;		/* nnz raw weights (already summed) */
} RecoSparse;

/* Per-row least-squares solver. */
typedef enum RecoSolver
{
	RECO_SOLVER_CG,				/* conjugate gradient, warm-started */
	RECO_SOLVER_CHOLESKY		/* exact: Cholesky in double (short rows by Woodbury) */
} RecoSolver;

/* What a model learns (reco.models.algorithm; the option "algorithm"). */
typedef enum RecoAlgorithm
{
	RECO_ALGORITHM_IALS,		/* implicit feedback, weighted ALS (Hu, Koren, Volinsky) */
	RECO_ALGORITHM_ALS,			/* explicit ratings with biases (ALS-WR) */
	RECO_ALGORITHM_BPR			/* Bayesian Personalized Ranking */
} RecoAlgorithm;

#define RECO_N_ALGORITHMS 3

/* Training parameters shared by the side solves and the loss. */
typedef struct RecoAlsConfig
{
	int			factors;		/* k, 1 .. RECO_MAX_FACTORS */
	float		regularization; /* lambda */
	float		alpha;			/* confidence = alpha * weight */
	int			cg_steps;		/* CG iterations per row and half-iteration */
	RecoSolver	solver;
	int			threads;		/* total threads incl. the caller; <= 1: none
								 * extra */
} RecoAlsConfig;


/*
 * Fills n x k row-major factors with uniform [0, 0.01) values that depend
 * only on (seed, stream, ids[r], j): a row's start ignores row order.
 */
extern void RecoAlsInitFactors(float *factors, int64_t n, int k,
							   const int64_t *ids, uint64_t seed,
							   uint64_t stream);

/*
 * Solves every row of `rows` given the fixed factors (rows->n_cols x k),
 * updating `solve` (rows->n_rows x k) in place (CG warm-starts from it).
 * Rows without entries are set to zero, as `implicit` does.  On any status
 * other than RECO_STATUS_OK the contents of `solve` are unspecified.
 */
extern RecoStatus RecoAlsSolveSide(const RecoSparse *rows,
									  const float *fixed, float *solve,
									  const RecoAlsConfig *cfg,
									  const RecoHooks *hooks);

/*
 * Training loss of `implicit` (calculate_loss) for the user-side matrix X
 * (users->n_rows x k) and item matrix Y (users->n_cols x k), accumulated in
 * double; independent of thread count and scheduling.
 */
extern RecoStatus RecoAlsLoss(const RecoSparse *users, const float *X,
								 const float *Y, const RecoAlsConfig *cfg,
								 const RecoHooks *hooks, double *loss_out);

/*
 * Exact solve of one row given gram = YᵀY (k x k): the same code path as the
 * Cholesky side solve, so results are bit-identical to it.  n == 0 gives the
 * zero vector.  Returns false if the system is not positive definite or the
 * result is not finite.
 */
extern bool RecoAlsSolveRowExact(const float *gram, const float *fixed, int k,
								 const int32_t *indices, const float *weights,
								 int64_t n, float alpha, float regularization,
								 float *x_out);

/*
 * "Because you ...": splits target · x, x the exact solve of the row as
 * above, into n terms contrib_out[i] (one per entry, in entry order; 0 for
 * entries whose confidence is not positive) that sum to it.  Returns false if
 * the system is not positive definite or a value is not finite.
 */
extern bool RecoAlsExplainRow(const float *gram, const float *fixed, int k,
							  const int32_t *indices, const float *weights,
							  int64_t n, float alpha, float regularization,
							  const float *target, double *contrib_out);

/*
 * The Cholesky factor of the row's exact system A = YᵀY + λI + Yᵀ(C − I)Y
 * (the matrix RecoAlsSolveRowExact solves, built by the same routine):
 * U_out (k x k doubles, row-major, upper triangular: the lower part zeroed)
 * with UᵀU = A.  n == 0 gives the factor of YᵀY + λI.  Returns false if A
 * is not positive definite or a value is not finite.
 */
extern bool RecoAlsRowFactor(const float *gram, const float *fixed, int k,
							 const int32_t *indices, const float *weights,
							 int64_t n, float alpha, float regularization,
							 double *U_out);

/*
 * The Cholesky side solve of every row of `rows` given gram = YᵀY (k x k) of
 * the fixed factors, on the thread runner (cfg->threads): row for row
 * bit-identical to RecoAlsSolveRowExact and to RecoAlsSolveSide with the
 * Cholesky solver, without computing the Gram matrix again.
 */
extern RecoStatus RecoAlsSolveRowsExact(const RecoSparse *rows, const float *gram,
										const float *fixed, float *solve,
										const RecoAlsConfig *cfg,
										const RecoHooks *hooks);

/* Computes gram = YᵀY (k x k, full symmetric) of an n x k matrix. */
extern void RecoAlsGram(const float *fixed, int64_t n, int k, float *gram);

/*
 * Estimated scratch bytes RecoAlsSolveSide / RecoAlsLoss allocate with
 * either solver, for rows of at most max_row_nnz entries and a fixed side of
 * at most n_fixed rows.
 */
extern size_t RecoAlsScratchBytes(const RecoAlsConfig *cfg,
								  int64_t max_row_nnz, int64_t n_fixed);

#endif							/* RECO_ALS_H */
