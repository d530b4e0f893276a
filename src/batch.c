/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  Batch top-n scoring of many users at once (recommend_all).
 *
 * Users are split into blocks of RECO_BATCH_USERS; block b is task b of the
 * thread runner (parallel.c), which hands the blocks out to the calling
 * thread plus (threads - 1) worker threads.  A block walks the items in
 * descending norm order, a tile at a time (gathered contiguously, so the
 * tile stays in cache while every user of the block passes over it); each
 * user keeps a bounded heap and drops out once its n-th best score is larger
 * than |user| x |next item|, which bounds every remaining score
 * (Cauchy-Schwarz; the margin covers the dot product's rounding).  Scores
 * come from RecoAlsScoreRows, the dot product every serving function uses,
 * so answers are identical to scoring each user against the whole catalogue.
 *
 * Threads and memory.  The runner starts the workers with all signals
 * blocked; only the calling thread polls the hooks (between blocks and
 * while it waits for the workers) and sets the runner's stop flag, which
 * blocks check between tiles.  Each thread's tile, score and exclusion
 * buffers are its runner state, one block malloc'ed by the calling thread
 * before the workers start and freed after they joined; only the list of
 * excluded items grows (realloc) inside a task.  A block writes only its
 * own users' heaps and counts in the caller's out and found, so the answer
 * never depends on the thread count.  With a diversity, a user's sorted top
 * list is re-ranked by MMR (diversity.c) into the thread's pick buffer and
 * copied back over the list: sequential per user, so deterministic too.  Pure C: no PostgreSQL headers, no
 * PostgreSQL calls.
 *
 *-------------------------------------------------------------------------
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* posix_memalign */
#endif

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

/* Users per block handed to a thread, and items per cache-resident tile. */
#define RECO_BATCH_USERS 32
#define RECO_BATCH_TILE 1024
/* The exclusion list grows to twice its size plus this many entries. */
#define RECO_BATCH_EXCL_GROWTH 1024
/* Alignment of a thread's buffer block (a cache line). */
#define RECO_BATCH_ALIGN 64
_Static_assert((RECO_BATCH_TILE + RECO_BATCH_USERS) % 2 == 0,
			   "a thread's floats end on an 8-byte boundary (its offsets follow)");
/* Relative rounding slack per dot-product term on the |u| |y| bound. */
#define RECO_BATCH_BOUND_SLACK 4e-6f

/* What the tasks of one call share: the input and where the answers go. */
typedef struct RecoBatchJob
{
	const RecoBatchInput *in;
	RecoScored *out;
	int		   *found;
} RecoBatchJob;

/* One thread's scratch (its runner state). */
typedef struct RecoBatchWorker
{
	void	   *mem;			/* the single allocation behind the next five */
	float	   *tile;			/* RECO_BATCH_TILE x k gathered item rows (none for a single user) */
	float	   *scores;			/* RECO_BATCH_TILE */
	float	   *user_norms;		/* RECO_BATCH_USERS */
	int64_t    *excl_ptr;		/* RECO_BATCH_USERS + 1 offsets into excl_rank */
	char	   *active;			/* RECO_BATCH_USERS */
	RecoScored *picks;			/* n MMR picks of one user (with a diversity only) */
	int32_t    *excl_rank;		/* norm ranks of the block's excluded items (grows) */
	int64_t		excl_cap;
} RecoBatchWorker;

/* Relative slack on |u| |y| that covers the float rounding of a k-term dot product. */
static inline float
RecoBoundMargin(int k)
{
	return 1.0f + RECO_BATCH_BOUND_SLACK * (float) k;
}

/* Collects the norm ranks of the block's excluded items; false if out of memory. */
static bool
RecoBatchExclusions(const RecoBatchInput *in, RecoBatchWorker *wk, int64_t u0, int64_t u1)
{
	int64_t		u,
				used = 0;

	wk->excl_ptr[0] = 0;
	for (u = u0; u < u1; u++)
	{
		int64_t		e;

		for (e = in->excl_ptr != NULL ? in->excl_ptr[u] : 0;
			 in->excl_ptr != NULL && e < in->excl_ptr[u + 1]; e++)
		{
			int64_t		idx = RecoFindId(in->item_ids, in->n_items, in->excl_ids[e]);

			if (idx < 0)
				continue;
			if (used == wk->excl_cap)
			{
				int64_t		cap = wk->excl_cap * 2 + RECO_BATCH_EXCL_GROWTH;
				int32_t    *grown = (int32_t *) realloc(wk->excl_rank, sizeof(int32_t) * cap);

				if (grown == NULL)
					return false;
				wk->excl_rank = grown;
				wk->excl_cap = cap;
			}
			wk->excl_rank[used++] = in->norm_rank[idx];
		}
		wk->excl_ptr[u - u0 + 1] = used;
	}
	return true;
}

/*
 * Runner task: scores the users of block `task` tile by tile in norm order
 * into their heaps, until each is done.
 */
static RecoStatus
RecoBatchBlock(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	RecoBatchJob *job = (RecoBatchJob *) arg;
	RecoBatchWorker *wk = (RecoBatchWorker *) state;
	const RecoBatchInput *in = job->in;
	int			k = in->k;
	int64_t		u0 = task * RECO_BATCH_USERS,
				u1 = u0 + RECO_BATCH_USERS < in->n_users ? u0 + RECO_BATCH_USERS : in->n_users;
	int64_t		t0,
				u;
	int			n_active = (int) (u1 - u0);
	float		margin = RecoBoundMargin(k);

	if (!RecoBatchExclusions(in, wk, u0, u1))
		return RECO_STATUS_NO_MEMORY;
	for (u = u0; u < u1; u++)
	{
		const float *x = in->users + (size_t) u * k;
		double		sq = 0.0;
		int			j;

		for (j = 0; j < k; j++)
			sq += (double) x[j] * x[j];
		wk->user_norms[u - u0] = (float) sqrt(sq);
		wk->active[u - u0] = 1;
		job->found[u] = 0;
	}
	for (t0 = 0; t0 < in->n_items && n_active > 0; t0 += RECO_BATCH_TILE)
	{
		int64_t		tn = in->n_items - t0 < RECO_BATCH_TILE ? in->n_items - t0 : RECO_BATCH_TILE;
		int64_t		t1 = t0 + tn;
		const int32_t *rows = in->norm_order + t0;
		float		next_norm = t1 < in->n_items ? in->item_norms[in->norm_order[t1]] : 0.0f;
		int64_t		i;

		if (RecoParallelPoll(worker, false))
			return RECO_STATUS_STOPPED;
		/* one user: read the rows in place; several: gather the tile once for all */
		if (n_active > 1)
			for (i = 0; i < tn; i++)
				memcpy(wk->tile + (size_t) i * k, in->items + (size_t) rows[i] * k, sizeof(float) * k);
		for (u = u0; u < u1; u++)
		{
			RecoScored *heap = job->out + (size_t) u * in->n;
			int		   *found = &job->found[u];
			int64_t		e;

			if (!wk->active[u - u0])
				continue;
			if (n_active > 1)
				RecoAlsScoreRows(wk->tile, NULL, tn, k, in->users + (size_t) u * k, wk->scores);
			else if (t1 <= in->n_head)
				/* the same rows, contiguous: fewer pages to touch (a fresh mapping faults per page) */
				RecoAlsScoreRows(in->norm_head + (size_t) t0 * k, NULL, tn, k, in->users + (size_t) u * k,
								 wk->scores);
			else
				RecoAlsScoreRows(in->items, rows, tn, k, in->users + (size_t) u * k, wk->scores);
			for (e = wk->excl_ptr[u - u0]; e < wk->excl_ptr[u - u0 + 1]; e++)
				if (wk->excl_rank[e] >= t0 && wk->excl_rank[e] < t1)
					wk->scores[wk->excl_rank[e] - t0] = -INFINITY;
			for (i = 0; in->mask != NULL && i < tn; i++)
				if (in->mask[rows[i]] == -INFINITY)
					wk->scores[i] = -INFINITY;
			RecoTopKPushMapped(heap, found, in->n, wk->scores, tn, rows);
			if (t1 == in->n_items ||
				(*found == in->n && heap[0].score > wk->user_norms[u - u0] * next_norm * margin))
			{
				wk->active[u - u0] = 0;
				n_active--;
			}
		}
	}
	for (u = u0; u < u1; u++)
	{
		RecoScored *top = job->out + (size_t) u * in->n;

		RecoTopKSort(top, job->found[u]);
		if (in->diversity > 0.0f)
		{
			int			picked = RecoMmrRerank(in->items, in->item_norms, k, top, job->found[u],
											   in->diversity, in->pick, wk->picks);

			if (picked < 0)
				return RECO_STATUS_NO_MEMORY;
			memcpy(top, wk->picks, sizeof(RecoScored) * picked);
			job->found[u] = picked;
		}
	}
	return RECO_STATUS_OK;
}

/* Runner init_state: allocates one thread's buffers in one block (a single user needs no tile). */
static RecoStatus
RecoBatchWorkerInit(void *arg, void *state, int thread)
{
	const RecoBatchInput *in = ((RecoBatchJob *) arg)->in;
	RecoBatchWorker *wk = (RecoBatchWorker *) state;
	/* a single user reads rows in place: no tile to gather (serving's common case) */
	size_t		tile_floats = in->n_users > 1 ? (size_t) RECO_BATCH_TILE * in->k : 0;
	(void) thread;
	if (posix_memalign(&wk->mem, RECO_BATCH_ALIGN,
					   sizeof(float) * (tile_floats + RECO_BATCH_TILE + RECO_BATCH_USERS) +
					   sizeof(int64_t) * (RECO_BATCH_USERS + 1) + RECO_BATCH_USERS) != 0)
	{
		wk->mem = NULL;
		return RECO_STATUS_NO_MEMORY;
	}
	/* floats first (a whole number of 8-byte words), then the offsets, then the flags */
	wk->tile = tile_floats > 0 ? (float *) wk->mem : NULL;
	wk->scores = (float *) wk->mem + tile_floats;
	wk->user_norms = wk->scores + RECO_BATCH_TILE;
	wk->excl_ptr = (int64_t *) (wk->user_norms + RECO_BATCH_USERS);
	wk->active = (char *) (wk->excl_ptr + RECO_BATCH_USERS + 1);
	if (in->diversity > 0.0f)
	{
		wk->picks = (RecoScored *) malloc(sizeof(RecoScored) * in->pick);
		if (wk->picks == NULL)
			return RECO_STATUS_NO_MEMORY;
	}
	return RECO_STATUS_OK;
}

/* Runner free_state: frees one thread's buffers. */
static void
RecoBatchWorkerFree(void *arg, void *state, int thread)
{
	RecoBatchWorker *wk = (RecoBatchWorker *) state;

	(void) arg;
	(void) thread;
	free(wk->mem);
	free(wk->picks);
	free(wk->excl_rank);
}

/* Batch top-n of every user (see batch.h): one runner task per block of users. */
RecoStatus
RecoBatchTopN(const RecoBatchInput *in, const RecoHooks *hooks,
			  RecoScored *out, int *found)
{
	RecoBatchJob job = {in, out, found};
	RecoParallelJob pj = {
		.n_tasks = (in->n_users + RECO_BATCH_USERS - 1) / RECO_BATCH_USERS,
		.threads = in->threads,
		.run_task = RecoBatchBlock,
		.state_size = sizeof(RecoBatchWorker),
		.init_state = RecoBatchWorkerInit,
		.free_state = RecoBatchWorkerFree,
		.arg = &job,
		.hooks = hooks
	};

	if (in->n < 1 || in->k < 1 || in->k > RECO_MAX_FACTORS || in->n_users < 0 || in->n_items < 0)
		return RECO_STATUS_INVALID_ARGUMENT;
	if (in->diversity > 0.0f && (in->diversity > 1.0f || in->pick < 1 || in->pick > in->n))
		return RECO_STATUS_INVALID_ARGUMENT;
	return RecoParallelRun(&pj);
}
