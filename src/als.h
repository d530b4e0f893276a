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
 * and confidence α0 (unobserved_weight, 1 in `implicit`).  A row u of n_u
 * entries against a fixed side Y of N rows solves
 *	 A_u x_u = b_u,  A_u = α0·YᵀY + Σ_obs (|c| − α0) y yᵀ + λ_u I,  b_u = Σ c⁺ y,
 * with the frequency-scaled ridge λ_u = λ·(n_u + α0·N)^ν (ν = reg_exponent;
 * iALS revisited, Rendle et al. 2022).  α0 = 1 and ν = 0 are `implicit`'s
 * system, and give bit for bit the factors of the code before they existed.
 * Including this header also declares the vector kernels
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

/* The fixed side's vectors a CG solve's passes read (als.c's header). */
typedef enum RecoCgVectors
{
	RECO_CG_VECTORS_AUTO = 0,	/* half from RECO_CG_HALF_MIN_FACTORS on, else float32 */
	RECO_CG_VECTORS_FLOAT,		/* float32 */
	RECO_CG_VECTORS_HALF		/* rounded to IEEE half, at every k */
} RecoCgVectors;

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
	float		reg_exponent;	/* ν >= 0: λ_u = λ·(n_u + α0·N)^ν (0: λ) */
	float		unobserved_weight;	/* α0 > 0: confidence of unobserved pairs */
	RecoCgVectors cg_vectors;	/* CG: what the passes read (als.c) */
} RecoAlsConfig;

/*
 * What the exact single-row functions need of a model besides its factors:
 * the system of one row as training's final pass builds it.
 */
typedef struct RecoAlsRowParams
{
	float		alpha;			/* confidence = alpha * weight */
	float		regularization; /* λ */
	float		reg_exponent;	/* ν */
	float		unobserved_weight;	/* α0 */
	int64_t		n_fixed;		/* N: rows of the fixed side (the model's items) */
} RecoAlsRowParams;


/*
 * Fills n x k row-major factors with uniform [0, 0.01) values that depend
 * only on (seed, stream, ids[r], j): a row's start ignores row order.
 */
extern void RecoAlsInitFactors(float *factors, int64_t n, int k,
							   const int64_t *ids, uint64_t seed,
							   uint64_t stream);

/*
 * RecoAlsInitFactors on `threads` threads (the same bits); polls hooks
 * between blocks of rows.
 */
extern RecoStatus RecoAlsInitFactorsThreaded(float *factors, int64_t n, int k,
											 const int64_t *ids, uint64_t seed,
											 uint64_t stream, int threads,
											 const RecoHooks *hooks);

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
 * What RecoAlsSolveSideReady tells the calling thread: fn(arg, rows_ready,
 * &more) between the tasks it runs and while it waits, rows 0 .. rows_ready
 * − 1 of `solve` being final (rows_ready never decreases; 0 until the first
 * rows are solved).  fn does some of its own work (e.g. stores those rows)
 * and sets *more when it has more to do at once; a non-OK status stops the
 * solve, which returns it once every worker has joined.
 */
typedef struct RecoRowsReady
{
	RecoStatus	(*fn) (void *arg, int64_t rows_ready, bool *more);
	void	   *arg;
} RecoRowsReady;

/*
 * RecoAlsSolveSide with the Cholesky solver (cfg->solver must say so) that
 * hands the solved rows on as they are done, in row order (ready): the same
 * rows bit for bit, the calling thread sharing its time between its own
 * work and the solve.  Rows solved after the last call of ready->fn are
 * told to nobody: all are final once it returns RECO_STATUS_OK.
 */
extern RecoStatus RecoAlsSolveSideReady(const RecoSparse *rows,
										const float *fixed, float *solve,
										const RecoAlsConfig *cfg,
										const RecoHooks *hooks,
										const RecoRowsReady *ready);

/*
 * RecoAlsSolveSide with a prior mean per row: when prior (rows->n_rows x k)
 * is not NULL, row u solves A_u x_u = b_u + λ_u·m_u, m_u = prior row u and
 * λ_u the penalty its system already has (so its ridge λ_u|x_u − m_u|²
 * pulls it toward m_u; the feature-aware prior of cold start).  A zero m_u
 * gives bit for bit the row of RecoAlsSolveSide; rows without entries are
 * still set to zero.  NULL is RecoAlsSolveSide.
 */
extern RecoStatus RecoAlsSolveSidePrior(const RecoSparse *rows,
										const float *fixed, float *solve,
										const RecoAlsConfig *cfg,
										const RecoHooks *hooks,
										const float *prior);

/*
 * Training loss of `implicit` (calculate_loss) for the user-side matrix X
 * (users->n_rows x k) and item matrix Y (users->n_cols x k), accumulated in
 * double; independent of thread count and scheduling.  When cfg's CG passes
 * read the fixed side rounded to half (the CG solver from k =
 * RECO_CG_HALF_MIN_FACTORS, or cg_vectors half), each observed pair's y·x
 * reads y rounded to half as those passes do (YᵀY and the norms stay
 * float32): about 1e-6 relative from the float32 objective on the 10M set.
 */
extern RecoStatus RecoAlsLoss(const RecoSparse *users, const float *X,
								 const float *Y, const RecoAlsConfig *cfg,
								 const RecoHooks *hooks, double *loss_out);

/*
 * While keep is true, the side solves (and RecoAlsLoss) of the calling
 * thread hand their half copy's buffer on to the next one instead of
 * freeing it (a training's iterations: no fresh pages to fault in per
 * solve), and a CG solve forms YᵀY and the half copy of the side it
 * writes while it runs, for the solves and losses that read that side
 * next (the same bits as forming them there); false frees them.  Meanwhile
 * the factor matrices may change only through the side solves.  Call it
 * from the thread that calls the solves.
 */
extern void RecoAlsKeepHalfBuffer(bool keep);

/*
 * RecoAlsSolveSide that also sets *loss_out to RecoAlsLoss(rows, solve,
 * fixed, ...) of the factors `solve` holds on entry, bit for bit (the same
 * value whatever the threads).  With the CG solver the loss is fused into
 * the solve: each row's residual already forms G x and its y·x, all the
 * loss needs.  Other solvers (and no rows) compute RecoAlsLoss first.
 * NULL loss_out is RecoAlsSolveSide.
 */
extern RecoStatus RecoAlsSolveSideLoss(const RecoSparse *rows,
									   const float *fixed, float *solve,
									   const RecoAlsConfig *cfg,
									   const RecoHooks *hooks,
									   double *loss_out);

/*
 * λ_u = λ·(n + α0·N)^ν of a row of n entries (λ when ν is 0), computed in
 * double and rounded to float: the one routine behind the solves, the loss
 * and every fold-in.
 */
extern float RecoAlsRowLambda(float regularization, float reg_exponent,
							  float unobserved_weight, int64_t n_fixed,
							  int64_t n);

/*
 * Exact solve of one row given gram = YᵀY (k x k) of the rp->n_fixed rows of
 * `fixed`: the same code path as the Cholesky side solve, so results are
 * bit-identical to it.  n == 0 gives the zero vector.  Returns false if the
 * system is not positive definite or the result is not finite.
 */
extern bool RecoAlsSolveRowExact(const float *gram, const float *fixed, int k,
								 const int32_t *indices, const float *weights,
								 int64_t n, const RecoAlsRowParams *rp,
								 float *x_out);

/*
 * "Because you ...": splits target · x, x the exact solve of the row as
 * above, into n terms contrib_out[i] (one per entry, in entry order; 0 for
 * entries whose confidence is not positive) that sum to it.  Returns false if
 * the system is not positive definite or a value is not finite.
 */
extern bool RecoAlsExplainRow(const float *gram, const float *fixed, int k,
							  const int32_t *indices, const float *weights,
							  int64_t n, const RecoAlsRowParams *rp,
							  const float *target, double *contrib_out);

/*
 * The Cholesky factor of the row's exact system A = α0·YᵀY + λ_u I +
 * Σ (|c| − α0) y yᵀ (the matrix RecoAlsSolveRowExact solves, built by the
 * same routine): U_out (k x k doubles, row-major, upper triangular: the lower
 * part zeroed) with UᵀU = A.  n == 0 gives the factor of α0·YᵀY + λ_0 I.
 * Returns false if A is not positive definite or a value is not finite.
 */
extern bool RecoAlsRowFactor(const float *gram, const float *fixed, int k,
							 const int32_t *indices, const float *weights,
							 int64_t n, const RecoAlsRowParams *rp,
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

/*
 * Bytes a CG training's side solves hold (RecoAlsSolveSideLoss for n_rows
 * users over n_fixed items, and with the half A·p passes the half copy's
 * buffer, kept between the solves: the larger side's) beyond what
 * RecoAlsScratchBytes(cfg, ..., n_fixed) estimates (0 when the exact pass's
 * share of that estimate, never held during a CG solve, covers them).
 */
extern size_t RecoAlsSolveLossBytes(const RecoAlsConfig *cfg, int64_t n_rows,
									int64_t n_fixed);

#endif							/* RECO_ALS_H */
