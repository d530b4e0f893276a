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
 * id) are independent: RecoIdMapRun runs them one per thread.
 *
 *-------------------------------------------------------------------------
 */
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
	bool		second_pass;
} RecoIdMapJob;

/* Task t: pass 1 or 2 of map t. */
static RecoStatus
RecoIdMapTask(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	const RecoIdMapJob *job = arg;
	RecoIdMap  *m = job->maps + task;
	int64_t		r;

	(void) state;
	if (!job->second_pass)
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
RecoIdMapRun(RecoIdMap *maps, int n_maps, bool second_pass, int threads, const RecoHooks *hooks)
{
	RecoIdMapJob job = {maps, second_pass};
	RecoParallelJob run = {0};

	run.n_tasks = n_maps;
	run.threads = RecoParallelThreads(threads, n_maps);
	run.run_task = RecoIdMapTask;
	run.arg = &job;
	run.hooks = hooks;
	return RecoParallelRun(&run);
}
