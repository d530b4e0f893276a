/*-------------------------------------------------------------------------
 *
 * scatter.c
 *	  The stable counting-sort scatter of the build, on several threads.
 *
 * The build (interactions.c) sorts its rows three times by counting: by
 * item, by user, and the item-major copy.  Each sort's scatter writes every
 * entry to a random place of an array as large as the input, so its time
 * goes to cache misses.  Here each thread owns a range of buckets (about
 * n / threads entries) and walks every entry in order, writing only those of
 * its buckets: each bucket is written by one thread, in entry order, so the
 * result is the one-thread loop's bit for bit, whatever the thread count.
 *
 * The id maps of the build's two sides (serial ids: one slot per possible
 * id) are independent: RecoIdMapRun runs them one per thread (their ids'
 * ranges too).  The duplicate merge (RecoMergeRun) runs on ranges of users,
 * one per thread, and also drops net-zero pairs and counts each item's
 * pairs (the item-major copy's histogram) and the users with a positive
 * pair.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "scatter.h"

/* A run's shared arguments: the scatter and each task's first bucket (threads + 1 bounds). */
typedef struct RecoScatterJob
{
	const RecoScatter *s;
	const int64_t *bounds;
} RecoScatterJob;

/* Writes the entries [begin, end) of group g (tag NULL) or explicit tags whose bucket is in [lo, hi). */
static inline void
RecoScatterSpan(const RecoScatter *s, int64_t begin, int64_t end, int32_t group, int32_t lo, int32_t hi)
{
	int64_t		p;

	for (p = begin; p < end; p++)
	{
		int32_t		b = s->key[p];

		if (b >= lo && b < hi)
		{
			int64_t		dst = s->cursor[b]++;

			s->out_tag[dst] = s->tag != NULL ? s->tag[p] : group;
			s->out_weight[dst] = s->weight[p];
		}
	}
}

/* Task t: every entry whose bucket lies in [bounds[t], bounds[t + 1]), polling every RECO_BUILD_POLL_ROWS entries. */
static RecoStatus
RecoScatterTask(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	const RecoScatterJob *job = arg;
	const RecoScatter *s = job->s;
	int32_t		lo = (int32_t) job->bounds[task];
	int32_t		hi = (int32_t) job->bounds[task + 1];
	int64_t		g = 0;
	int64_t		p = 0;
	int64_t		next_poll = RECO_BUILD_POLL_ROWS;

	(void) state;
	if (lo >= hi)
		return RECO_STATUS_OK;
	while (p < s->n)
	{
		/* a span: the rest of entry p's group (or of the entries), up to the next poll */
		int64_t		end = s->n;

		if (s->tag == NULL)
		{
			while (s->group_end[g] <= p)
				g++;			/* empty groups; p < n = the last group's end */
			end = s->group_end[g];
		}
		if (end > next_poll)
			end = next_poll;
		RecoScatterSpan(s, p, end, (int32_t) g, lo, hi);
		p = end;
		if (p == next_poll)
		{
			if (RecoParallelPoll(worker, true))
				return RECO_STATUS_STOPPED;
			next_poll += RECO_BUILD_POLL_ROWS;
		}
	}
	return RECO_STATUS_OK;
}

/*
 * The first bucket of each of `parts` ranges of about n / parts entries
 * each (cursor holds the buckets' starts, ascending): bounds[0] = 0,
 * bounds[parts] = n_buckets.
 */
static void
RecoScatterBounds(const RecoScatter *s, int parts, int64_t *bounds)
{
	int64_t		b = 0;
	int			t;

	bounds[0] = 0;
	for (t = 1; t < parts; t++)
	{
		int64_t		target = s->n / parts * t;

		while (b < s->n_buckets && s->cursor[b] < target)
			b++;
		bounds[t] = b;
	}
	bounds[parts] = s->n_buckets;
}

/* See scatter.h. */
RecoStatus
RecoScatterRun(const RecoScatter *s, int threads, const RecoHooks *hooks)
{
	int64_t		bounds[RECO_MAX_THREADS + 1];
	RecoScatterJob job = {s, bounds};
	RecoParallelJob run = {0};
	int			parts = RecoParallelThreads(threads, s->n / RECO_SCATTER_MIN_ENTRIES + 1);

	RecoScatterBounds(s, parts, bounds);
	run.n_tasks = parts;
	run.threads = parts;
	run.run_task = RecoScatterTask;
	run.arg = &job;
	run.hooks = hooks;
	return RecoParallelRun(&run);
}

/* Polls the run every RECO_BUILD_POLL_ROWS steps of a loop; true if it must stop. */
static inline bool
RecoIdMapPoll(RecoParallelWorker *worker, int64_t r)
{
	return (r & (RECO_BUILD_POLL_ROWS - 1)) == 0 && r > 0 && RecoParallelPoll(worker, true);
}

/* A run of id maps: the maps and the pass. */
typedef struct RecoIdMapJob
{
	RecoIdMap  *maps;
	RecoIdMapPass pass;
} RecoIdMapJob;

/* Task t: the job's pass of map t. */
static RecoStatus
RecoIdMapTask(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	const RecoIdMapJob *job = arg;
	RecoIdMap  *m = job->maps + task;
	int64_t		r;

	(void) state;
	if (job->pass == RECO_ID_MAP_RANGE)
	{
		int64_t		min = INT64_MAX;
		int64_t		max = INT64_MIN;

		for (r = 0; r < m->n; r += RECO_BUILD_POLL_ROWS)
		{
			/* a block between polls: a plain loop the compiler vectorizes */
			int64_t		end = m->n - r < RECO_BUILD_POLL_ROWS ? m->n : r + RECO_BUILD_POLL_ROWS;
			int64_t		i;

			if (RecoIdMapPoll(worker, r))
				return RECO_STATUS_STOPPED;
			for (i = r; i < end; i++)
			{
				min = m->ids[i] < min ? m->ids[i] : min;
				max = m->ids[i] > max ? m->ids[i] : max;
			}
		}
		m->min = min;
		m->max = max;
		return RECO_STATUS_OK;
	}
	if (job->pass == RECO_ID_MAP_MARK)
	{
		int64_t		n = 0;

		for (r = 0; r < m->n; r++)
		{
			if (RecoIdMapPoll(worker, r))
				return RECO_STATUS_STOPPED;
			m->slot[m->ids[r] - m->lo] = 1;
		}
		for (r = 0; r < m->span; r++)
			if (m->slot[r] != 0)
				m->slot[r] = (int32_t) ++n;	/* 1-based: 0 stays "absent" */
		m->distinct = n;
		return RECO_STATUS_OK;
	}
	for (r = 0; r < m->span; r++)
		if (m->slot[r] != 0)
			m->sorted[m->slot[r] - 1] = m->lo + r;
	for (r = 0; r < m->n; r++)
	{
		if (RecoIdMapPoll(worker, r))
			return RECO_STATUS_STOPPED;
		m->index[r] = m->slot[m->ids[r] - m->lo] - 1;
	}
	return RECO_STATUS_OK;
}

/* See scatter.h. */
RecoStatus
RecoIdMapRun(RecoIdMap *maps, int n_maps, RecoIdMapPass pass, int threads, const RecoHooks *hooks)
{
	RecoIdMapJob job = {maps, pass};
	RecoParallelJob run = {0};

	run.n_tasks = n_maps;
	run.threads = RecoParallelThreads(threads, n_maps);
	run.run_task = RecoIdMapTask;
	run.arg = &job;
	run.hooks = hooks;
	return RecoParallelRun(&run);
}

/* A run of the merge: the merge, each part's first user and first pair (parts + 1 bounds), each part's results. */
typedef struct RecoMergeJob
{
	RecoMerge  *m;
	int64_t		user_bound[RECO_MAX_THREADS + 1];
	int64_t		pair_bound[RECO_MAX_THREADS + 1];
	int64_t		kept_end[RECO_MAX_THREADS];
	int64_t		merged[RECO_MAX_THREADS];
	int64_t		positive[RECO_MAX_THREADS];
} RecoMergeJob;

/* See scatter.h. */
int
RecoMergeParts(int64_t n_pairs, int threads)
{
	return RecoParallelThreads(threads, n_pairs / RECO_SCATTER_MIN_ENTRIES + 1);
}

/*
 * Part t: merges the users [user_bound[t], user_bound[t + 1]) in place from
 * their first pair on, counting its kept pairs per item in its own counts;
 * kept_end[t] is where its pairs end.
 */
static RecoStatus
RecoMergeTask(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	RecoMergeJob *job = arg;
	RecoMerge  *m = job->m;
	int64_t    *counts = m->item_counts ? m->item_counts + task * m->n_items : NULL;
	int64_t		last_user = job->user_bound[task + 1];
	int64_t		nnz = job->pair_bound[task];
	int64_t		merged = 0;
	int64_t		positive = 0;
	int64_t		u;

	(void) state;
	for (u = job->user_bound[task]; u < last_user; u++)
	{
		int64_t		begin = m->indptr[u];
		int64_t		end = u + 1 < last_user ? m->indptr[u + 1] : job->pair_bound[task + 1];
		int64_t		first = nnz;
		int64_t		copies = 0;
		int			has_positive = 0;
		int64_t		p;

		m->indptr[u] = first;
		for (p = begin; p <= end; p++)
		{
			if (p < end && RecoIdMapPoll(worker, p))
				return RECO_STATUS_STOPPED;
			if (p < end && nnz > first && m->items[nnz - 1] == m->items[p])
			{
				m->weights[nnz - 1] += m->weights[p];
				copies++;
				continue;
			}
			if (nnz > first && copies > 0)
			{
				/* the pair before p is complete */
				int64_t		q = nnz - 1;

				merged++;
				if (m->ratings && copies > 1)
					m->weights[q] /= (float) copies;
				if (!m->ratings && m->weights[q] == 0)
					nnz--;		/* net zero: dropped */
				else
				{
					if (counts)
						counts[m->items[q]]++;
					has_positive |= m->ratings || m->weights[q] > 0;
				}
			}
			if (p == end)
				break;
			m->items[nnz] = m->items[p];
			m->weights[nnz] = m->weights[p];
			nnz++;
			copies = 1;
		}
		positive += has_positive;
	}
	job->kept_end[task] = nnz;
	job->merged[task] = merged;
	job->positive[task] = positive;
	return RECO_STATUS_OK;
}

/* See scatter.h. */
RecoStatus
RecoMergeRun(RecoMerge *m, int threads, const RecoHooks *hooks)
{
	RecoMergeJob job;
	RecoParallelJob run = {0};
	int64_t		n_pairs = m->indptr[m->n_users];
	int			parts = RecoMergeParts(n_pairs, threads);
	int64_t		u = 0;
	int64_t		nnz = 0;
	RecoStatus	status;
	int			t;

	job.m = m;
	for (t = 0; t < parts; t++)
	{
		int64_t		target = n_pairs / parts * t;

		while (u < m->n_users && m->indptr[u] < target)
			u++;
		job.user_bound[t] = u;
		job.pair_bound[t] = m->indptr[u];
	}
	job.user_bound[parts] = m->n_users;
	job.pair_bound[parts] = n_pairs;
	run.n_tasks = parts;
	run.threads = parts;
	run.run_task = RecoMergeTask;
	run.arg = &job;
	run.hooks = hooks;
	status = RecoParallelRun(&run);
	if (status != RECO_STATUS_OK)
		return status;
	m->merged = 0;
	m->users_positive = 0;
	for (t = 0; t < parts; t++)
	{
		int64_t		start = job.pair_bound[t];
		int64_t		kept = job.kept_end[t] - start;
		int64_t		i;

		if (start != nnz)
		{
			/* close the gap the parts before left */
			memmove(m->items + nnz, m->items + start, sizeof(int32_t) * kept);
			memmove(m->weights + nnz, m->weights + start, sizeof(float) * kept);
			for (i = job.user_bound[t]; i < job.user_bound[t + 1]; i++)
				m->indptr[i] -= start - nnz;
		}
		if (t > 0 && m->item_counts)
			for (i = 0; i < m->n_items; i++)
				m->item_counts[i] += m->item_counts[t * m->n_items + i];
		nnz += kept;
		m->merged += job.merged[t];
		m->users_positive += job.positive[t];
	}
	m->indptr[m->n_users] = nnz;
	m->nnz = nnz;
	return RECO_STATUS_OK;
}
