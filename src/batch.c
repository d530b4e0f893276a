/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  Batch top-n scoring of many users at once (recommend_all).
 *
 * Users are handed out in blocks to the calling thread plus (threads - 1)
 * worker threads.  A block walks the items in descending norm order, a tile
 * at a time (gathered contiguously, so the tile stays in cache while every
 * user of the block passes over it); each user keeps a bounded heap and
 * drops out once its n-th best score is larger than |user| x |next item|,
 * which bounds every remaining score (Cauchy-Schwarz; the margin covers the
 * dot product's rounding).  Scores come from RecoAlsScoreRows, the dot
 * product every serving function uses, so answers are identical to scoring
 * each user against the whole catalogue.
 *
 * Worker threads never call PostgreSQL and block all signals; only the
 * calling thread polls the hooks (between blocks) and tells the others to
 * stop.  Pure C: no PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

/* Users per block handed to a thread, and items per cache-resident tile. */
#define RECO_BATCH_USERS 32
#define RECO_BATCH_TILE 1024

/* What the threads of one call share. */
typedef struct RecoBatchJob
{
	const RecoBatchInput *in;
	RecoScored *out;
	int		   *found;
	int64_t		next_block;		/* atomic: first user of the next block */
	int			stop;			/* atomic: 1 once everyone must stop */
} RecoBatchJob;

/* One worker thread and its scratch. */
typedef struct RecoBatchWorker
{
	RecoBatchJob *job;
	pthread_t	thread;
	float	   *tile;			/* RECO_BATCH_TILE x k gathered item rows */
	float	   *scores;			/* RECO_BATCH_TILE */
	float	   *user_norms;		/* RECO_BATCH_USERS */
	char	   *active;			/* RECO_BATCH_USERS */
	int64_t    *excl_ptr;		/* RECO_BATCH_USERS + 1 offsets into excl_rank */
	int32_t    *excl_rank;		/* norm ranks of the block's excluded items */
	int64_t		excl_cap;
	int			failed;			/* out of memory growing excl_rank */
} RecoBatchWorker;

/* Relative slack on |u| |y| that covers the float rounding of a k-term dot product. */
static inline float
reco_bound_margin(int k)
{
	return 1.0f + 4e-6f * (float) k;
}

/* Collects the norm ranks of the block's excluded items; false if out of memory. */
static bool
reco_batch_exclusions(const RecoBatchInput *in, RecoBatchWorker *wk, int64_t u0, int64_t u1)
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
				int64_t		cap = wk->excl_cap * 2 + 1024;
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

/* Scores users [u0, u1) tile by tile in norm order into their heaps, until each is done. */
static void
reco_batch_block(RecoBatchJob *job, RecoBatchWorker *wk, int64_t u0, int64_t u1)
{
	const RecoBatchInput *in = job->in;
	int			k = in->k;
	int64_t		t0,
				u;
	int			n_active = (int) (u1 - u0);
	float		margin = reco_bound_margin(k);

	if (!reco_batch_exclusions(in, wk, u0, u1))
	{
		wk->failed = 1;
		__atomic_store_n(&job->stop, 1, __ATOMIC_RELEASE);
		return;
	}
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
			else
				RecoAlsScoreRows(in->items, rows, tn, k, in->users + (size_t) u * k, wk->scores);
			for (e = wk->excl_ptr[u - u0]; e < wk->excl_ptr[u - u0 + 1]; e++)
				if (wk->excl_rank[e] >= t0 && wk->excl_rank[e] < t1)
					wk->scores[wk->excl_rank[e] - t0] = -INFINITY;
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
		RecoTopKSort(job->out + (size_t) u * in->n, job->found[u]);
}

/* Takes blocks until none is left or the job stops; the caller also polls the hooks. */
static void
reco_batch_loop(RecoBatchWorker *wk, const RecoAlsHooks *hooks)
{
	RecoBatchJob *job = wk->job;

	for (;;)
	{
		int64_t		u0;

		if (__atomic_load_n(&job->stop, __ATOMIC_ACQUIRE))
			return;
		if (hooks != NULL && hooks->should_stop != NULL && hooks->should_stop(hooks->arg))
		{
			__atomic_store_n(&job->stop, 1, __ATOMIC_RELEASE);
			return;
		}
		u0 = __atomic_fetch_add(&job->next_block, RECO_BATCH_USERS, __ATOMIC_ACQ_REL);
		if (u0 >= job->in->n_users)
			return;
		reco_batch_block(job, wk, u0,
						 u0 + RECO_BATCH_USERS < job->in->n_users ? u0 + RECO_BATCH_USERS
						 : job->in->n_users);
	}
}

/* Worker thread body. */
static void *
reco_batch_worker_main(void *arg)
{
	reco_batch_loop((RecoBatchWorker *) arg, NULL);
	return NULL;
}

/* Batch top-n of every user (see batch.h). */
RecoAlsStatus
RecoBatchTopN(const RecoBatchInput *in, const RecoAlsHooks *hooks,
			  RecoScored *out, int *found)
{
	RecoBatchJob job;
	RecoBatchWorker *workers;
	int			threads = in->threads < 1 ? 1 : in->threads;
	int			started = 0,
				i;
	RecoAlsStatus status = RECO_ALS_OK;

	if (in->n < 1 || in->k < 1 || in->k > RECO_MAX_FACTORS || in->n_users < 0 || in->n_items < 0)
		return RECO_ALS_INVALID_ARGUMENT;
	if (threads > RECO_MAX_THREADS)
		threads = RECO_MAX_THREADS;
	if ((int64_t) threads > (in->n_users + RECO_BATCH_USERS - 1) / RECO_BATCH_USERS)
		threads = (int) ((in->n_users + RECO_BATCH_USERS - 1) / RECO_BATCH_USERS);
	if (threads < 1)
		threads = 1;

	job.in = in;
	job.out = out;
	job.found = found;
	job.next_block = 0;
	job.stop = 0;
	workers = (RecoBatchWorker *) calloc((size_t) threads, sizeof(RecoBatchWorker));
	if (workers == NULL)
		return RECO_ALS_NO_MEMORY;
	for (i = 0; i < threads; i++)
	{
		workers[i].job = &job;
		/* a single user reads rows in place: no tile to gather (serving's common case) */
		workers[i].tile = in->n_users > 1 ? (float *) malloc(sizeof(float) * RECO_BATCH_TILE * in->k) : NULL;
		workers[i].scores = (float *) malloc(sizeof(float) * RECO_BATCH_TILE);
		workers[i].user_norms = (float *) malloc(sizeof(float) * RECO_BATCH_USERS);
		workers[i].active = (char *) malloc(RECO_BATCH_USERS);
		workers[i].excl_ptr = (int64_t *) malloc(sizeof(int64_t) * (RECO_BATCH_USERS + 1));
		if ((in->n_users > 1 && workers[i].tile == NULL) || workers[i].scores == NULL || workers[i].user_norms == NULL ||
			workers[i].active == NULL || workers[i].excl_ptr == NULL)
		{
			status = RECO_ALS_NO_MEMORY;
			goto cleanup;
		}
	}
	if (threads > 1)
	{
		sigset_t	all,
					old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (i = 1; i < threads; i++)
		{
			if (pthread_create(&workers[i].thread, NULL, reco_batch_worker_main, &workers[i]) != 0)
			{
				status = RECO_ALS_THREAD_ERROR;
				__atomic_store_n(&job.stop, 1, __ATOMIC_RELEASE);
				break;
			}
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (status == RECO_ALS_OK)
		reco_batch_loop(&workers[0], hooks);
	for (i = 1; i <= started; i++)
		pthread_join(workers[i].thread, NULL);
	for (i = 0; i < threads; i++)
		if (workers[i].failed)
			status = RECO_ALS_NO_MEMORY;
	if (status == RECO_ALS_OK && __atomic_load_n(&job.stop, __ATOMIC_ACQUIRE))
		status = RECO_ALS_STOPPED;

cleanup:
	for (i = 0; i < threads; i++)
	{
		free(workers[i].tile);
		free(workers[i].scores);
		free(workers[i].user_norms);
		free(workers[i].active);
		free(workers[i].excl_ptr);
		free(workers[i].excl_rank);
	}
	free(workers);
	return status;
}
