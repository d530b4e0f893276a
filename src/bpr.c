/*-------------------------------------------------------------------------
 *
 * bpr.c
 *	  Bayesian Personalized Ranking by deterministic mini-batch SGD on the
 *	  thread runner (see bpr.h for the model and the determinism argument).
 *
 * One batch is two runs of the runner:
 *	 A. score: tasks are chunks of RECO_BPR_CHUNK samples of the batch.
 *		Sample number s of the epoch draws its positive entry and its
 *		negative item from its own RNG stream (seed, epoch, s), verifies the
 *		negative, and computes against the batch-start parameters
 *		z = 1 − σ(x_u·(y_i − y_j) + b_i − b_j), the difference y_i − y_j
 *		(with the bias) and a copy of x_u, into the batch's scratch; each
 *		chunk sums its loss and correct count for the epoch's statistics.
 *	 B. apply: task t of P (P = the threads the run uses) owns the users and
 *		the items whose row number is t modulo P and applies, in sample
 *		order, every update of the batch to its rows:
 *			x_u += lr (z (y_i − y_j) − λ x_u)
 *			y_i += lr (z x_u − λ y_i),	b_i += lr (z − λ b_i)
 *			y_j += lr (−z x_u − λ y_j),	b_j += lr (−z − λ b_j)
 *		with y_i − y_j and x_u from A.  Each row is written by one task only
 *		and reads nothing another task writes, and its updates happen in
 *		sample order: the result does not depend on P.
 * The hook is asked between batches and by the runner before each task.
 *
 *-------------------------------------------------------------------------
 */
#include "bpr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Salt of the sample streams (distinct from the initial factors' streams). */
#define RECO_BPR_SAMPLE_SALT UINT64_C(0xB9B0B9B0B9B0B9B0)

/* One batch's scratch and what both phases share. */
typedef struct RecoBprBatch
{
	const RecoSparse *users;
	const RecoBprPositives *positives;
	float	   *X;
	float	   *Y;
	const RecoBprConfig *cfg;
	uint64_t	epoch_seed;		/* keys the sample streams of this epoch */
	int64_t		start;			/* first sample number of the batch */
	int			count;			/* samples in the batch */
	int			owners;			/* P of phase B */
	int32_t    *u;				/* per sample: user row */
	int32_t    *i;				/* positive item row */
	int32_t    *j;				/* negative item row, −1: skipped */
	float	   *z;				/* 1 − σ(x_uij) */
	float	   *diff;			/* count x (k + 1): y_i − y_j, bias last */
	float	   *snap;			/* count x k: x_u at the batch start */
	double	   *chunk_loss;		/* per chunk of the batch */
	int64_t    *chunk_correct;
	int64_t    *chunk_skipped;
} RecoBprBatch;

/* Entries with weight > 0 in `users` (CSR); fill `out` with them if its arrays are set. */
int64_t
RecoBprCountPositives(const RecoSparse *users, RecoBprPositives *out)
{
	int64_t		n = 0;
	int64_t		r,
				p;

	for (r = 0; r < users->n_rows; r++)
		for (p = users->indptr[r]; p < users->indptr[r + 1]; p++)
			if (users->weights[p] > 0)
			{
				if (out != NULL && out->users != NULL)
				{
					out->users[n] = (int32_t) r;
					out->items[n] = users->indices[p];
				}
				n++;
			}
	if (out != NULL)
		out->n = n;
	return n;
}

/* Deterministic initial factors as implicit's, keyed by (seed, stream, id, column). */
void
RecoBprInitFactors(float *factors, int64_t n, int k, const int64_t *ids,
				   const int64_t *count, bool user_side,
				   uint64_t seed, uint64_t stream)
{
	uint64_t	base = RecoSplitMix64(RecoSplitMix64(seed) ^ stream);
	int64_t		r;
	int			c;

	for (r = 0; r < n; r++)
	{
		float	   *row = factors + (size_t) r * (k + 1);
		RecoRng		rng = RecoRngStart(base, (uint64_t) ids[r]);

		for (c = 0; c <= k; c++)
			row[c] = count[r] > 0 ? (float) (RecoRngUniform(&rng) - 0.5) / (float) k : 0.0f;
		if (user_side)
			row[k] = 1.0f;
	}
}

/* Whether item j is a positive entry (weight > 0) of user row u (indices ascending). */
static bool
RecoBprIsPositive(const RecoSparse *users, int64_t u, int32_t j)
{
	int64_t		lo = users->indptr[u];
	int64_t		hi = users->indptr[u + 1];

	while (lo < hi)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (users->indices[mid] < j)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < users->indptr[u + 1] && users->indices[lo] == j && users->weights[lo] > 0;
}

/* −ln σ(x), without overflow for large |x|. */
static double
RecoBprLogLoss(float x)
{
	return x > 0 ? log1p(exp(-(double) x)) : -(double) x + log1p(exp((double) x));
}

/* Asks the cache for the k + 1 floats of a factor row (a hint: no effect on any result). */
static inline void
RecoBprPrefetchRow(const float *row, int k)
{
	size_t		off;

	for (off = 0; off < (size_t) (k + 1) * sizeof(float); off += 64)
		__builtin_prefetch((const char *) row + off);
}

/*
 * Phase A, one chunk: draws, verifies and scores its samples against the
 * batch-start parameters.  Three passes over the chunk so that the random
 * reads overlap: draw (prefetching the entries), read the entries
 * (prefetching the rows), score.
 */
static RecoStatus
RecoBprScoreChunk(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	RecoBprBatch *b = (RecoBprBatch *) arg;
	const RecoBprPositives *pos = b->positives;
	int			k = b->cfg->factors;
	int			first = (int) task * RECO_BPR_CHUNK;
	int			last = first + RECO_BPR_CHUNK < b->count ? first + RECO_BPR_CHUNK : b->count;
	int64_t		entry[RECO_BPR_CHUNK];
	double		loss = 0;
	int64_t		correct = 0,
				skipped = 0;
	int			s,
				c;

	(void) state;
	(void) worker;
	for (s = first; s < last; s++)
	{
		RecoRng		rng = RecoRngStart(b->epoch_seed, (uint64_t) (b->start + s));

		entry[s - first] = (int64_t) RecoRngBelow(&rng, (uint64_t) pos->n);
		b->j[s] = (int32_t) RecoRngBelow(&rng, (uint64_t) b->users->n_cols);
		__builtin_prefetch(&pos->users[entry[s - first]]);
		__builtin_prefetch(&pos->items[entry[s - first]]);
	}
	for (s = first; s < last; s++)
	{
		b->u[s] = pos->users[entry[s - first]];
		b->i[s] = pos->items[entry[s - first]];
		__builtin_prefetch(&b->users->indptr[b->u[s]]);
		RecoBprPrefetchRow(b->X + (size_t) b->u[s] * (k + 1), k);
		RecoBprPrefetchRow(b->Y + (size_t) b->i[s] * (k + 1), k);
		RecoBprPrefetchRow(b->Y + (size_t) b->j[s] * (k + 1), k);
	}
	for (s = first; s < last; s++)
	{
		const float *xu = b->X + (size_t) b->u[s] * (k + 1);
		const float *yi = b->Y + (size_t) b->i[s] * (k + 1);
		const float *yj = b->Y + (size_t) b->j[s] * (k + 1);
		float	   *d = b->diff + (size_t) s * (k + 1);
		float		score = 0;

		if (RecoBprIsPositive(b->users, b->u[s], b->j[s]))
		{
			b->j[s] = -1;
			skipped++;
			continue;
		}
		for (c = 0; c <= k; c++)
			d[c] = yi[c] - yj[c];
		for (c = 0; c <= k; c++)
			score += xu[c] * d[c];
		if (!isfinite(score))
			return RECO_STATUS_NOT_FINITE;
		memcpy(b->snap + (size_t) s * k, xu, sizeof(float) * k);
		b->z[s] = 1.0f / (1.0f + expf(score));
		loss += RecoBprLogLoss(score);
		correct += score > 0;
	}
	b->chunk_loss[task] = loss;
	b->chunk_correct[task] = correct;
	b->chunk_skipped[task] = skipped;
	return RECO_STATUS_OK;
}

/* Phase B, owner `task` of P: applies the batch's updates to its users and items in sample order. */
static RecoStatus
RecoBprApplyOwner(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	RecoBprBatch *b = (RecoBprBatch *) arg;
	int			k = b->cfg->factors;
	float		lr = b->cfg->learning_rate;
	float		reg = b->cfg->regularization;
	int			P = b->owners;
	int			s,
				c;

	(void) state;
	(void) worker;
	for (s = 0; s < b->count; s++)
	{
		float		z = b->z[s];
		const float *snap = b->snap + (size_t) s * k;

		if (b->j[s] < 0)
			continue;
		if (b->u[s] % P == task)
		{
			float	   *xu = b->X + (size_t) b->u[s] * (k + 1);
			const float *d = b->diff + (size_t) s * (k + 1);

			for (c = 0; c < k; c++)
				xu[c] += lr * (z * d[c] - reg * xu[c]);
		}
		if (b->i[s] % P == task)
		{
			float	   *yi = b->Y + (size_t) b->i[s] * (k + 1);

			for (c = 0; c < k; c++)
				yi[c] += lr * (z * snap[c] - reg * yi[c]);
			yi[k] += lr * (z - reg * yi[k]);
		}
		if (b->j[s] % P == task)
		{
			float	   *yj = b->Y + (size_t) b->j[s] * (k + 1);

			for (c = 0; c < k; c++)
				yj[c] += lr * (-z * snap[c] - reg * yj[c]);
			yj[k] += lr * (-z - reg * yj[k]);
		}
	}
	return RECO_STATUS_OK;
}

/* Chunks of phase A in a batch of `count` samples. */
static int
RecoBprChunks(int count)
{
	return (count + RECO_BPR_CHUNK - 1) / RECO_BPR_CHUNK;
}

/* Scratch bytes one RecoBprEpoch call allocates (for a memory estimate). */
size_t
RecoBprScratchBytes(const RecoBprConfig *cfg)
{
	size_t		batch = (size_t) (cfg->batch > 0 ? cfg->batch : 1);
	size_t		chunks = (size_t) RecoBprChunks((int) batch);

	return batch * (3 * sizeof(int32_t) + sizeof(float) * (2 * (size_t) cfg->factors + 2)) +
		chunks * (sizeof(double) + 2 * sizeof(int64_t)) +
		2 * RecoParallelBytes(cfg->threads, 0);
}

/* Whether an epoch's arguments are usable. */
static bool
RecoBprArgsOk(const RecoSparse *users, const RecoBprPositives *positives,
			  const float *X, const float *Y, const RecoBprConfig *cfg)
{
	return users != NULL && positives != NULL && X != NULL && Y != NULL && cfg != NULL &&
		cfg->factors >= RECO_MIN_FACTORS && cfg->factors < RECO_MAX_FACTORS &&
		cfg->batch >= 1 && cfg->batch <= RECO_BPR_MAX_BATCH &&
		isfinite(cfg->learning_rate) && cfg->learning_rate > 0 &&
		isfinite(cfg->regularization) && cfg->regularization >= 0 &&
		users->n_cols > 0 && users->n_cols <= INT32_MAX && users->n_rows <= INT32_MAX &&
		(positives->n == 0 || (positives->users != NULL && positives->items != NULL));
}

/* One epoch of mini-batch SGD (see the file header); statistics in *stats. */
RecoStatus
RecoBprEpoch(const RecoSparse *users, const RecoBprPositives *positives,
			 float *X, float *Y, const RecoBprConfig *cfg,
			 uint64_t seed, int epoch, const RecoHooks *hooks,
			 RecoBprEpochStats *stats)
{
	RecoBprBatch b;
	RecoParallelJob score_job;
	RecoParallelJob apply_job;
	RecoStatus	status = RECO_STATUS_OK;
	int			k;
	int			max_chunks;
	double		loss = 0;
	int64_t		correct = 0,
				skipped = 0;
	int64_t		scored;

	memset(stats, 0, sizeof(*stats));
	if (!RecoBprArgsOk(users, positives, X, Y, cfg))
		return RECO_STATUS_INVALID_ARGUMENT;
	stats->samples = positives->n;
	if (positives->n == 0)
		return RECO_STATUS_OK;
	k = cfg->factors;
	memset(&b, 0, sizeof(b));
	b.users = users;
	b.positives = positives;
	b.X = X;
	b.Y = Y;
	b.cfg = cfg;
	b.epoch_seed = RecoSplitMix64(RecoSplitMix64(seed ^ RECO_BPR_SAMPLE_SALT) ^ (uint64_t) epoch);
	max_chunks = RecoBprChunks(cfg->batch);
	b.u = malloc(sizeof(int32_t) * cfg->batch);
	b.i = malloc(sizeof(int32_t) * cfg->batch);
	b.j = malloc(sizeof(int32_t) * cfg->batch);
	b.z = malloc(sizeof(float) * cfg->batch);
	b.diff = malloc(sizeof(float) * (size_t) cfg->batch * (k + 1));
	b.snap = malloc(sizeof(float) * (size_t) cfg->batch * k);
	b.chunk_loss = malloc(sizeof(double) * max_chunks);
	b.chunk_correct = malloc(sizeof(int64_t) * max_chunks);
	b.chunk_skipped = malloc(sizeof(int64_t) * max_chunks);
	if (!b.u || !b.i || !b.j || !b.z || !b.diff || !b.snap ||
		!b.chunk_loss || !b.chunk_correct || !b.chunk_skipped)
		status = RECO_STATUS_NO_MEMORY;

	memset(&score_job, 0, sizeof(score_job));
	score_job.threads = cfg->threads;
	score_job.run_task = RecoBprScoreChunk;
	score_job.arg = &b;
	score_job.hooks = hooks;
	apply_job = score_job;
	apply_job.run_task = RecoBprApplyOwner;

	for (b.start = 0; status == RECO_STATUS_OK && b.start < positives->n; b.start += b.count)
	{
		int			chunks;
		int			t;

		if (hooks != NULL && hooks->should_stop != NULL && hooks->should_stop(hooks->arg))
		{
			status = RECO_STATUS_STOPPED;
			break;
		}
		b.count = (int) (positives->n - b.start < cfg->batch ? positives->n - b.start : cfg->batch);
		chunks = RecoBprChunks(b.count);
		score_job.n_tasks = chunks;
		status = RecoParallelRun(&score_job);
		if (status != RECO_STATUS_OK)
			break;
		for (t = 0; t < chunks; t++)
		{
			loss += b.chunk_loss[t];
			correct += b.chunk_correct[t];
			skipped += b.chunk_skipped[t];
		}
		b.owners = RecoParallelThreads(cfg->threads, b.count);
		apply_job.n_tasks = b.owners;
		status = RecoParallelRun(&apply_job);
	}

	free(b.u);
	free(b.i);
	free(b.j);
	free(b.z);
	free(b.diff);
	free(b.snap);
	free(b.chunk_loss);
	free(b.chunk_correct);
	free(b.chunk_skipped);
	stats->skipped = skipped;
	scored = positives->n - skipped;
	stats->loss = scored > 0 ? loss / (double) scored : 0;
	stats->correct = scored > 0 ? (double) correct / (double) scored : 0;
	return status;
}
