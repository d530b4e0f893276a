/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  Batch top-n scoring of many users at once (recommend_all).
 *
 * Users are handed out in blocks to the calling thread plus (threads - 1)
 * worker threads.  A block is scored a tile of items at a time, so the
 * tile's item vectors stay in cache while every user of the block passes
 * over them; each user keeps a bounded heap across tiles.  Scores come from
 * RecoAlsScoreRows, the same dot product single-user serving uses, so the
 * answers are identical to scoring each user alone.
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

#include "batch.h"

/* Users per block handed to a thread, and items per cache-resident tile. */
#define RECO_BATCH_USERS 32
#define RECO_BATCH_TILE 1024
#define RECO_BATCH_MAX_THREADS 256

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
	float	   *scores;			/* RECO_BATCH_TILE */
	int64_t    *cursor;			/* RECO_BATCH_USERS: next exclusion per user */
} RecoBatchWorker;

/* Scores users [u0, u1) against every item, tile by tile, into their heaps. */
static void
reco_batch_block(RecoBatchJob *job, RecoBatchWorker *wk, int64_t u0, int64_t u1)
{
	const RecoBatchInput *in = job->in;
	int64_t		t0,
				u;

	for (u = u0; u < u1; u++)
	{
		job->found[u] = 0;
		wk->cursor[u - u0] = in->excl_ptr != NULL ? in->excl_ptr[u] : 0;
	}
	for (t0 = 0; t0 < in->n_items; t0 += RECO_BATCH_TILE)
	{
		int64_t		tn = in->n_items - t0 < RECO_BATCH_TILE ? in->n_items - t0 : RECO_BATCH_TILE;
		int64_t		t_last_id = in->item_ids[t0 + tn - 1];

		for (u = u0; u < u1; u++)
		{
			RecoAlsScoreRows(in->items + (size_t) t0 * in->k, NULL, tn, in->k,
							 in->users + (size_t) u * in->k, wk->scores);
			if (in->excl_ptr != NULL)
			{
				int64_t    *c = &wk->cursor[u - u0];

				/* the user's exclusions that fall in this tile (both ascending) */
				for (; *c < in->excl_ptr[u + 1] && in->excl_ids[*c] <= t_last_id; (*c)++)
				{
					int64_t		idx = RecoFindId(in->item_ids + t0, tn, in->excl_ids[*c]);

					if (idx >= 0)
						wk->scores[idx] = -INFINITY;
				}
			}
			RecoTopKPushAll(job->out + (size_t) u * in->n, &job->found[u], in->n,
							wk->scores, tn, (int32_t) t0);
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

	if (in->n < 1 || in->k < 1 || in->k > RECO_ALS_MAX_FACTORS || in->n_users < 0 || in->n_items < 0)
		return RECO_ALS_INVALID_ARGUMENT;
	if (threads > RECO_BATCH_MAX_THREADS)
		threads = RECO_BATCH_MAX_THREADS;
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
		workers[i].scores = (float *) malloc(sizeof(float) * RECO_BATCH_TILE);
		workers[i].cursor = (int64_t *) malloc(sizeof(int64_t) * RECO_BATCH_USERS);
		if (workers[i].scores == NULL || workers[i].cursor == NULL)
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
	if (status == RECO_ALS_OK && __atomic_load_n(&job.stop, __ATOMIC_ACQUIRE))
		status = RECO_ALS_STOPPED;

cleanup:
	for (i = 0; i < threads; i++)
	{
		free(workers[i].scores);
		free(workers[i].cursor);
	}
	free(workers);
	return status;
}
