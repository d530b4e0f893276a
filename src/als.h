/*-------------------------------------------------------------------------
 *
 * als.h
 *	  Implicit-feedback ALS kernel: per-row CG / Cholesky solves, loss, init.
 *
 * Pure C (libc, pthreads, OpenBLAS cblas): no PostgreSQL headers, so the
 * kernel can be unit-tested and benchmarked outside the server.  The math
 * follows the conventions of the Python `implicit` library (0.7): confidence
 * c = alpha * weight; c > 0 means preference 1 with confidence c, c <= 0
 * means preference 0 with confidence |c|; unobserved pairs have preference 0
 * and confidence 1.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_ALS_H
#define RECO_ALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	RECO_SOLVER_CHOLESKY		/* exact: explicit A, Cholesky in double */
} RecoSolver;

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

/* Cancellation hook, called only on the calling thread. */
typedef struct RecoAlsHooks
{
	bool		(*should_stop) (void *arg); /* true => stop as soon as possible */
	void	   *arg;
} RecoAlsHooks;

/* Outcome of a kernel call. */
typedef enum RecoAlsStatus
{
	RECO_ALS_OK,
	RECO_ALS_STOPPED,			/* should_stop returned true */
	RECO_ALS_NO_MEMORY,			/* malloc failed */
	RECO_ALS_NOT_FINITE,		/* a solved value (or the loss) is NaN/Inf */
	RECO_ALS_THREAD_ERROR,		/* pthread_create failed */
	RECO_ALS_NOT_POSITIVE_DEFINITE, /* Cholesky failed (e.g. regularization 0) */
	RECO_ALS_INVALID_ARGUMENT	/* factors/cg_steps out of range, NULL input */
} RecoAlsStatus;


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
 * other than RECO_ALS_OK the contents of `solve` are unspecified.
 */
extern RecoAlsStatus RecoAlsSolveSide(const RecoSparse *rows,
									  const float *fixed, float *solve,
									  const RecoAlsConfig *cfg,
									  const RecoAlsHooks *hooks);

/*
 * Training loss of `implicit` (calculate_loss) for the user-side matrix X
 * (users->n_rows x k) and item matrix Y (users->n_cols x k), accumulated in
 * double; independent of thread count and scheduling.
 */
extern RecoAlsStatus RecoAlsLoss(const RecoSparse *users, const float *X,
								 const float *Y, const RecoAlsConfig *cfg,
								 const RecoAlsHooks *hooks, double *loss_out);

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
 * out[i] = v · Y[rows[i]] (rows NULL: row i) for i < n; each score is
 * computed identically wherever it appears, so rankings agree exactly
 * across single and batch scoring.
 */
extern void RecoAlsScoreRows(const float *Y, const int32_t *rows, int64_t n,
							 int k, const float *v, float *out);

/* Computes gram = YᵀY (k x k, full symmetric) of an n x k matrix. */
extern void RecoAlsGram(const float *fixed, int64_t n, int k, float *gram);

/* Estimated scratch bytes RecoAlsSolveSide / RecoAlsLoss allocate. */
extern size_t RecoAlsScratchBytes(const RecoAlsConfig *cfg,
								  int64_t max_row_nnz);

/* Name of the inner-loop code path used for k factors ("avx2-fma-k64", "generic", ...). */
extern const char *RecoAlsKernelName(int k);

/* Short English text for a status, for error messages. */
extern const char *RecoAlsStatusString(RecoAlsStatus status);

#endif							/* RECO_ALS_H */
