/*-------------------------------------------------------------------------
 *
 * bpr.h
 *	  Bayesian Personalized Ranking (Rendle et al. 2009) by mini-batch SGD:
 *	  sampling, the threaded epoch, initial factors.
 *
 * Pure C (libc, pthreads): no PostgreSQL headers.  The model follows the
 * `implicit` library's BayesianPersonalizedRanking (0.7): a user row is
 * [x_u, 1] and an item row [y_i, b_i] (k + 1 floats each), so that
 * user · item = x_u·y_i + b_i; one sample is a user u, one of u's
 * positive items i and a negative item j that is verified not to be one of
 * u's positives (a sample whose j is one is skipped, as implicit's
 * verify_negative_samples does); SGD ascends ln σ(x_u·(y_i − y_j) + b_i − b_j)
 * with an L2 penalty on every vector a sample touches.
 *
 * Determinism.  An epoch is cut into mini-batches of RecoBprConfig.batch
 * samples.  Within a batch every sample's score and gradient are computed
 * against the parameters at the batch's start (in parallel, chunks of
 * samples drawn from RNG streams keyed by seed, epoch and chunk number),
 * then the updates are applied in sample order, each vector by the one
 * thread that owns it.  So every float operation and its order depend on the
 * seed and the batch size, never on the thread count or the scheduling: the
 * factors are bit-identical at any number of threads.  batch = 1 is plain
 * sequential SGD.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_BPR_H
#define RECO_BPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "als.h"

/* BPR's parameters. */
typedef struct RecoBprConfig
{
	int			factors;		/* k; stored rows have k + 1 floats */
	float		learning_rate;	/* SGD step, > 0 */
	float		regularization; /* L2 penalty, >= 0 */
	int			batch;			/* samples per mini-batch, >= 1 */
	int			threads;		/* total threads incl. the caller */
} RecoBprConfig;

/* The positive (user, item) entries samples are drawn from. */
typedef struct RecoBprPositives
{
	int64_t		n;				/* entries with weight > 0 */
	int32_t    *users;			/* n user rows, caller-allocated */
	int32_t    *items;			/* n item rows, caller-allocated */
} RecoBprPositives;

/* What one epoch measured (on its non-skipped samples, at batch-start parameters). */
typedef struct RecoBprEpochStats
{
	int64_t		samples;		/* drawn: the number of positive entries */
	int64_t		skipped;		/* the negative was a positive of the user */
	double		loss;			/* mean −ln σ(x_uij) */
	double		correct;		/* fraction with x_uij > 0 (implicit's train AUC) */
} RecoBprEpochStats;

/* Entries with weight > 0 in `users` (CSR); fill `out` with them if its arrays are set. */
extern int64_t RecoBprCountPositives(const RecoSparse *users, RecoBprPositives *out);

/*
 * Initial factors as implicit's: uniform (−0.5, 0.5) / k in every one of the
 * k + 1 columns, keyed by (seed, stream, ids[r], column) so a row's start
 * ignores row order; a user row's last column is 1; rows whose `count` is 0
 * (no positive entry) are zero (users: [0, 1]).
 */
extern void RecoBprInitFactors(float *factors, int64_t n, int k, const int64_t *ids,
							   const int64_t *count, bool user_side,
							   uint64_t seed, uint64_t stream);

/*
 * One epoch: positives->n samples in mini-batches, updating X (users x k+1)
 * and Y (items x k+1) in place.  Returns RECO_STATUS_OK, STOPPED (the hook,
 * polled between batches and by the runner), NO_MEMORY, NOT_FINITE (a score
 * is NaN/Inf: the step diverged), THREAD_ERROR or INVALID_ARGUMENT.
 */
extern RecoStatus RecoBprEpoch(const RecoSparse *users, const RecoBprPositives *positives,
							   float *X, float *Y, const RecoBprConfig *cfg,
							   uint64_t seed, int epoch, const RecoHooks *hooks,
							   RecoBprEpochStats *stats);

/* Scratch bytes one RecoBprEpoch call allocates (for a memory estimate). */
extern size_t RecoBprScratchBytes(const RecoBprConfig *cfg);

#endif							/* RECO_BPR_H */
