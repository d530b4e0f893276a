/*-------------------------------------------------------------------------
 *
 * test_parallel.c
 *	  Standalone TAP unit tests of the thread runner (src/parallel.c) and of
 *	  batch scoring through it (src/batch.c).
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 * The runner tests count what ran where (also of the calling thread's own
 * work, and of the exact side solve that hands its rows on through it); the
 * batch tests compare the pruned,
 * threaded top-n with a brute-force top-n of the same scores, and its MMR
 * re-ranking with RecoMmrRerank applied afterwards.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "als.h"
#include "batch.h"
#include "tap.h"

#define TEST_PLAN 39

/* Sleeps about `us` microseconds. */
static void
sleep_us(long us)
{
	struct timespec ts;

	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------------
 * Runner tests
 * ------------------------------------------------------------------------
 */

/* What the test tasks share: per-task run counts, how to misbehave, the outcome. */
typedef struct Counts
{
	int64_t		n;
	int		   *runs;			/* atomic: times each task ran */
	int			inits;			/* atomic: init_state calls */
	int			frees;			/* atomic: free_state calls */
	int			bad_state;		/* atomic: a task saw a state its init did not set */
	int64_t		fail_task;		/* this task fails (-1: none) ... */
	RecoStatus fail_status;	/* ... with this status */
	int64_t		fail_task2;		/* a second, later failure (-1: none) */
	int			fail_init;		/* init_state fails for this thread (-1: none) */
	long		task_us;		/* each task sleeps this long ... */
	int			caller_fast;	/* ... but on the calling thread (caller) when set */
	pthread_t	caller;
	int			caller_runs;	/* atomic: task runs on the calling thread (caller) */
	int			long_tasks;		/* tasks poll until told to stop */
	HookState	hook;
	/* outcome, filled by counts_run */
	RecoStatus status;
	int64_t		once;			/* tasks that ran exactly once */
	int64_t		ran;			/* tasks that ran at all */
	int64_t		twice;			/* tasks that ran more than once */
} Counts;

/* Per-thread test state: the thread number init_state saw. */
typedef struct TestState
{
	int			thread;
	int			magic;
} TestState;

/* init_state of the tests: records the thread, fails where asked. */
static RecoStatus
count_init(void *arg, void *state, int thread)
{
	Counts	   *c = (Counts *) arg;
	TestState  *s = (TestState *) state;

	__atomic_fetch_add(&c->inits, 1, __ATOMIC_RELAXED);
	if (thread == c->fail_init)
		return RECO_STATUS_NO_MEMORY;
	s->thread = thread;
	s->magic = 12345;
	return RECO_STATUS_OK;
}

/* free_state of the tests. */
static void
count_free(void *arg, void *state, int thread)
{
	(void) state;
	(void) thread;
	__atomic_fetch_add(&((Counts *) arg)->frees, 1, __ATOMIC_RELAXED);
}

/* The test task: counts itself, sleeps, fails or polls as asked. */
static RecoStatus
count_task(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	Counts	   *c = (Counts *) arg;
	TestState  *s = (TestState *) state;

	if (s->magic != 12345)
		__atomic_store_n(&c->bad_state, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->runs[task], 1, __ATOMIC_RELAXED);
	if (pthread_equal(pthread_self(), c->caller))
		__atomic_fetch_add(&c->caller_runs, 1, __ATOMIC_RELAXED);
	if (task == c->fail_task)
		return c->fail_status;
	if (task == c->fail_task2)
	{
		sleep_us(100000);
		return RECO_STATUS_NO_MEMORY;
	}
	if (c->long_tasks)
	{
		while (!RecoParallelPoll(worker, true))
			sleep_us(100);
		return RECO_STATUS_STOPPED;
	}
	if (c->task_us > 0 && !(c->caller_fast && pthread_equal(pthread_self(), c->caller)))
		sleep_us(c->task_us);
	return RECO_STATUS_OK;
}

/* Fresh counts: n tasks of task_us each; the hook says stop after stop_after calls (< 0: never). */
static void
counts_init(Counts *c, int64_t n, long task_us, long stop_after)
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	c->runs = calloc(n > 0 ? n : 1, sizeof(int));
	c->task_us = task_us;
	c->fail_task = -1;
	c->fail_task2 = -1;
	c->fail_init = -1;
	c->hook = hook_state(stop_after);
}

/* Runs the tasks on `threads` threads with the test hook, tallies the runs and frees them. */
static void
counts_run(Counts *c, int threads)
{
	RecoHooks hooks = {test_hook, &c->hook, NULL};
	RecoParallelJob job = {
		.n_tasks = c->n, .threads = threads, .run_task = count_task,
		.state_size = sizeof(TestState), .init_state = count_init,
		.free_state = count_free, .arg = c, .hooks = &hooks
	};
	int64_t		i;

	c->status = RecoParallelRun(&job);
	for (i = 0; i < c->n; i++)
	{
		c->once += c->runs[i] == 1;
		c->ran += c->runs[i] >= 1;
		c->twice += c->runs[i] > 1;
	}
	free(c->runs);
	c->runs = NULL;
}

/* Every task runs exactly once, whatever the thread count; states set up and freed once each. */
static void
test_each_task_once(void)
{
	static const int thread_counts[] = {1, 2, 3, 8};
	int			i,
				all = 1;

	for (i = 0; i < 4; i++)
	{
		Counts		c;
		int			t = thread_counts[i];

		counts_init(&c, 1000, 20, -1);
		counts_run(&c, t);
		if (c.status != RECO_STATUS_OK || c.once != c.n || c.inits != t || c.frees != t ||
			c.bad_state || c.hook.wrong_thread || c.hook.calls < 1)
		{
			printf("# threads %d: status %d, once %lld, inits %d, frees %d\n", t, (int) c.status,
				   (long long) c.once, c.inits, c.frees);
			all = 0;
		}
	}
	ok(all, "runner: every task runs exactly once with 1, 2, 3 and 8 threads, states set up and freed");
}

/* More threads than tasks, and no tasks at all. */
static void
test_few_tasks(void)
{
	Counts		c;

	counts_init(&c, 3, 1000, -1);
	counts_run(&c, 8);
	ok(c.status == RECO_STATUS_OK && c.once == 3 && c.inits == 3 && c.frees == 3,
	   "runner: 8 threads for 3 tasks start 3 threads, each task once");

	counts_init(&c, 0, 0, -1);
	counts_run(&c, 4);
	ok(c.status == RECO_STATUS_OK && c.inits == 1 && c.frees == 1 && c.hook.calls == 1,
	   "runner: no tasks: only the caller, which asks the hook once");

	ok(RecoParallelThreads(0, 10) == 1 && RecoParallelThreads(-3, 0) == 1 &&
	   RecoParallelThreads(4, 2) == 2 && RecoParallelThreads(4, 100) == 4 &&
	   RecoParallelThreads(100000, INT64_MAX) == RECO_MAX_THREADS,
	   "runner: thread count clamped to 1 .. RECO_MAX_THREADS and to the task count");
}

/* A failing task's status is returned and the tasks not yet started never start. */
static void
test_failure(void)
{
	Counts		c;

	counts_init(&c, 500, 0, -1);
	c.fail_task = 10;
	c.fail_status = RECO_STATUS_NOT_FINITE;
	counts_run(&c, 1);
	ok(c.status == RECO_STATUS_NOT_FINITE && c.ran == 11 && c.twice == 0 && c.frees == 1,
	   "runner: 1 thread: the failing task's status, nothing after it runs");

	counts_init(&c, 5000, 200, -1);
	c.fail_task = 40;
	c.fail_status = RECO_STATUS_NOT_POSITIVE_DEFINITE;
	counts_run(&c, 3);
	ok(c.status == RECO_STATUS_NOT_POSITIVE_DEFINITE && c.ran < c.n && c.twice == 0 && c.frees == 3,
	   "runner: 3 threads: the failing task's status wins and stops the rest");
	printf("# tasks run before the stop: %lld of %lld\n", (long long) c.ran, (long long) c.n);

	counts_init(&c, 100, 0, -1);
	c.fail_task = 1;
	c.fail_status = RECO_STATUS_NOT_FINITE;
	c.fail_task2 = 0;			/* starts first, fails 100 ms later */
	counts_run(&c, 2);
	ok(c.status == RECO_STATUS_NOT_FINITE, "runner: the first failure wins over a later one");

	counts_init(&c, 100, 0, -1);
	c.fail_init = 2;
	counts_run(&c, 4);
	ok(c.status == RECO_STATUS_NO_MEMORY && c.ran == 0 && c.inits == 3 && c.frees == 3,
	   "runner: a failed init_state runs no task and frees every state it set up");
}

/* The hook stops a run, and is only ever called on the calling thread. */
static void
test_stop(void)
{
	Counts		c;

	counts_init(&c, 1000, 1000, 0);
	counts_run(&c, 2);
	ok(c.status == RECO_STATUS_STOPPED && c.hook.calls == 1 && c.ran < c.n,
	   "runner: a hook true at once stops the run");

	counts_init(&c, 5000, 200, 20);
	counts_run(&c, 3);
	ok(c.status == RECO_STATUS_STOPPED && c.ran < c.n && c.twice == 0 && !c.hook.wrong_thread &&
	   c.hook.calls == c.hook.stop_after + 1,
	   "runner: a hook true mid-run stops it after that call, on the calling thread only");

	/* long tasks: every thread polls inside its task until the hook says stop */
	counts_init(&c, 50, 0, 30);
	c.long_tasks = 1;
	counts_run(&c, 4);
	ok(c.status == RECO_STATUS_STOPPED && !c.hook.wrong_thread &&
	   c.hook.calls == c.hook.stop_after + 1 && c.ran <= 4,
	   "runner: long tasks polling inside themselves are stopped by the hook");
}

/* Which pthread used each thread state. */
typedef struct OwnerCheck
{
	pthread_t	owners[8];
	int			used[8];
	int			shared;			/* atomic: a state was used by two threads */
} OwnerCheck;

/* init_state: nothing but the thread number. */
static RecoStatus
owner_init(void *arg, void *state, int thread)
{
	(void) arg;
	*(int *) state = thread;
	return RECO_STATUS_OK;
}

/* Task: a state must always be used by the same pthread. */
static RecoStatus
owner_task(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	OwnerCheck *oc = (OwnerCheck *) arg;
	int			t = *(int *) state;

	(void) task;
	(void) worker;
	if (!oc->used[t])
	{
		oc->owners[t] = pthread_self();
		oc->used[t] = 1;
	}
	else if (!pthread_equal(oc->owners[t], pthread_self()))
		__atomic_store_n(&oc->shared, 1, __ATOMIC_RELAXED);
	sleep_us(50);
	return RECO_STATUS_OK;
}

/* Each thread keeps its own state; thread 0 is the calling thread. */
static void
test_states(void)
{
	OwnerCheck	oc;
	RecoParallelJob job = {
		.n_tasks = 400, .threads = 8, .run_task = owner_task,
		.state_size = sizeof(int), .init_state = owner_init, .arg = &oc
	};

	memset(&oc, 0, sizeof(oc));
	ok(RecoParallelRun(&job) == RECO_STATUS_OK && !oc.shared && oc.used[0] &&
	   pthread_equal(oc.owners[0], pthread_self()),
	   "runner: one state per thread, thread 0's on the calling thread (no free_state)");
}

/* What the caller_work tests share. */
typedef struct CallerCheck
{
	Counts		counts;			/* the tasks (count_task) */
	pthread_t	owner;			/* the calling thread */
	int			wrong_thread;	/* caller_work ran on another thread */
	long		calls;			/* caller_work calls */
	long		fail_at;		/* this call fails (< 0: none) */
	long		after_stop;		/* calls once the run was told to stop */
	long		more_left;		/* calls it still says it has more for */
	long		finished_seen;	/* most tasks it saw finished (max over calls) */
	long		tasks_at_failure;	/* task runs counted when it failed */
	int			stopped;
} CallerCheck;

/* Task runs counted so far (runs of every task). */
static long
caller_task_runs(Counts *c)
{
	long		total = 0;
	int64_t		i;

	for (i = 0; i < c->n; i++)
		total += __atomic_load_n(&c->runs[i], __ATOMIC_RELAXED);
	return total;
}

/* The test caller_work: checks its thread, counts, says "more" more_left times, fails where asked. */
static RecoStatus
caller_work(void *arg, bool *more)
{
	CallerCheck *cc = (CallerCheck *) arg;
	long		seen = caller_task_runs(&cc->counts);

	if (!pthread_equal(pthread_self(), cc->owner))
		cc->wrong_thread = 1;
	if (cc->stopped)
		cc->after_stop++;
	cc->calls++;
	if (seen > cc->finished_seen)
		cc->finished_seen = seen;
	*more = cc->more_left > 0;
	if (cc->more_left > 0)
		cc->more_left--;
	if (cc->calls == cc->fail_at)
	{
		cc->stopped = 1;
		cc->tasks_at_failure = seen;
		return RECO_STATUS_NOT_FINITE;
	}
	return RECO_STATUS_OK;
}

/* Runs n tasks of task_us on `threads` threads with caller_work; fills the outcome. */
static void
caller_run(CallerCheck *cc, int64_t n, long task_us, int threads, long fail_at, long more_left,
		   int caller_fast)
{
	RecoHooks	hooks;
	RecoParallelJob job = {
		.n_tasks = n, .threads = threads, .run_task = count_task,
		.state_size = sizeof(TestState), .init_state = count_init,
		.free_state = count_free, .arg = &cc->counts, .hooks = &hooks,
		.caller_work = caller_work, .caller_arg = cc
	};
	int64_t		i;

	memset(cc, 0, sizeof(*cc));
	counts_init(&cc->counts, n, task_us, -1);
	hooks.should_stop = test_hook;
	hooks.arg = &cc->counts.hook;
	hooks.progress = NULL;
	cc->owner = pthread_self();
	cc->counts.caller = pthread_self();
	cc->counts.caller_fast = caller_fast;
	cc->fail_at = fail_at;
	cc->more_left = more_left;
	cc->counts.status = RecoParallelRun(&job);
	for (i = 0; i < n; i++)
	{
		cc->counts.once += cc->counts.runs[i] == 1;
		cc->counts.ran += cc->counts.runs[i] >= 1;
	}
	free(cc->counts.runs);
	cc->counts.runs = NULL;
}

/*
 * caller_work: only on the calling thread, before each of its tasks and
 * while it waits (again at once while it says "more"), every task still
 * once; a failure from it stops the run with its status, every worker
 * joined and every state freed, and it is never called again.
 */
static void
test_caller_work(void)
{
	static const int thread_counts[] = {1, 2, 4};
	CallerCheck cc;
	int			i,
				all = 1;

	for (i = 0; i < 3; i++)
	{
		caller_run(&cc, 300, 200, thread_counts[i], -1, 0, 0);
		all &= cc.counts.status == RECO_STATUS_OK && cc.counts.once == 300 && !cc.wrong_thread &&
			cc.calls >= 1 && cc.counts.inits == cc.counts.frees && !cc.counts.hook.wrong_thread;
		/* one thread: exactly one call before each task, and one that finds none left */
		if (thread_counts[i] == 1)
			all &= cc.calls == 301;
	}
	ok(all, "caller_work: on the calling thread only, every task once (1, 2, 4 threads; on one, once per task and once at the end)");

	/* tasks long on the workers only: the caller works on while it waits for them ... */
	caller_run(&cc, 4, 200000, 4, -1, 1000000, 1);
	ok(cc.counts.status == RECO_STATUS_OK && cc.counts.once == 4 && cc.calls > 1000 && !cc.wrong_thread,
	   "caller_work: called again at once while it has more, also while the caller waits");
	printf("# caller_work calls with more: %ld\n", cc.calls);
	/* while it has more, the caller takes no task: the workers run them all */
	caller_run(&cc, 40, 2000, 2, -1, 1000000000L, 0);
	ok(cc.counts.status == RECO_STATUS_OK && cc.counts.once == 40 && cc.counts.caller_runs == 0 &&
	   cc.calls > 40 && cc.calls < 1000000000L && !cc.wrong_thread,
	   "caller_work: while it has more, the workers take every task, and the run ends when they are done (2 threads)");
	/* one thread: "more" never keeps the caller from its tasks */
	caller_run(&cc, 40, 200, 1, -1, 1000000000L, 0);
	ok(cc.counts.status == RECO_STATUS_OK && cc.counts.once == 40 && cc.counts.caller_runs == 40 &&
	   cc.calls == 41,
	   "caller_work: on one thread, with more always, the caller runs every task (once per task and at the end)");
	/* once it has none, it takes tasks again */
	caller_run(&cc, 40, 2000, 2, -1, 3, 0);
	ok(cc.counts.status == RECO_STATUS_OK && cc.counts.once == 40 && cc.counts.caller_runs > 0 &&
	   cc.calls >= 4,
	   "caller_work: once it has no more, the caller takes tasks too");
	printf("# tasks the caller ran after 3 calls with more: %d of 40\n", cc.counts.caller_runs);
	/* ... and without "more", every wait of the hook's interval: a few calls only */
	caller_run(&cc, 4, 200000, 4, -1, 0, 1);
	ok(cc.counts.status == RECO_STATUS_OK && cc.calls >= 2 && cc.calls < 1000,
	   "caller_work: without more, called after each wait");
	printf("# caller_work calls without more: %ld\n", cc.calls);

	/* a failure: the run stops with its status, joined, states freed, no call after it */
	caller_run(&cc, 2000, 500, 2, 5, 0, 0);
	ok(cc.counts.status == RECO_STATUS_NOT_FINITE && cc.after_stop == 0 && cc.calls == 5 &&
	   cc.counts.ran < 2000 && cc.counts.inits == 2 && cc.counts.frees == 2,
	   "caller_work: its failure stops the run (its status, no later call, states freed)");
	printf("# tasks run before caller_work's failure: %ld of 2000\n", (long) cc.counts.ran);
}

/* Threads of this process now (/proc/self/task), or -1. */
static int
thread_count(void)
{
	DIR		   *d = opendir("/proc/self/task");
	struct dirent *e;
	int			n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static jmp_buf exit_jump;

/* caller_work that leaves without returning, as a FATAL error's exit does, after RecoParallelStopCallerRun. */
static RecoStatus
caller_exits(void *arg, bool *more)
{
	long	   *calls = (long *) arg;

	*more = false;
	if (++*calls == 3)
	{
		RecoParallelStopCallerRun();
		longjmp(exit_jump, 1);
	}
	return RECO_STATUS_OK;
}

/* caller_work of a nested run: counts its calls. */
static RecoStatus
caller_counts(void *arg, bool *more)
{
	*more = false;
	++*(long *) arg;
	return RECO_STATUS_OK;
}

/* The nested run of caller_nests: its status, tasks and caller_work calls. */
static long nest_inner_calls;
static RecoStatus nest_inner_status;
static Counts nest_inner;

/*
 * caller_work that, on its second call, runs a whole run with its own
 * caller_work (a training started by the store's SQL), then leaves without
 * returning, as a FATAL error's exit does.
 */
static RecoStatus
caller_nests(void *arg, bool *more)
{
	RecoParallelJob inner = {
		.n_tasks = 200, .threads = 3, .run_task = count_task,
		.state_size = sizeof(TestState), .init_state = count_init,
		.arg = &nest_inner, .caller_work = caller_counts, .caller_arg = &nest_inner_calls
	};

	*more = false;
	if (++*(long *) arg == 2)
	{
		nest_inner_status = RecoParallelRun(&inner);
		RecoParallelStopCallerRun();
		longjmp(exit_jump, 1);
	}
	return RECO_STATUS_OK;
}

/*
 * RecoParallelStopCallerRun from inside caller_work `work` (caller_exits,
 * or caller_nests: right after a whole run it started from there): the
 * run's workers are stopped and joined (the thread count is back to the
 * count before the run, no task starts any more); outside any caller_work
 * it does nothing.
 */
static void
test_stop_caller_run(RecoParallelCallerFn work, const char *name)
{
	static Counts c;			/* static: kept across the longjmp */
	static long calls;
	static int	before;
	static long ran_at_exit;
	RecoParallelJob job = {
		.n_tasks = 100000, .threads = 4, .run_task = count_task,
		.state_size = sizeof(TestState), .init_state = count_init,
		.arg = &c, .caller_work = work, .caller_arg = &calls
	};
	int			after;
	bool		nested = work == caller_nests;

	RecoParallelStopCallerRun();	/* in no run: nothing */
	counts_init(&c, job.n_tasks, 100, -1);
	counts_init(&nest_inner, 200, 10, -1);
	nest_inner_calls = 0;
	nest_inner_status = RECO_STATUS_THREAD_ERROR;
	calls = 0;
	before = thread_count();
	if (setjmp(exit_jump) == 0)
	{
		(void) RecoParallelRun(&job);
		ok(0, name);
		return;
	}
	after = thread_count();
	ran_at_exit = caller_task_runs(&c);
	sleep_us(50000);
	ok(before > 0 && after == before && caller_task_runs(&c) == ran_at_exit && ran_at_exit < job.n_tasks &&
	   (!nested || (nest_inner_status == RECO_STATUS_OK && caller_task_runs(&nest_inner) == 200 &&
					nest_inner_calls > 0)), name);
	printf("# threads before the run %d, after leaving it %d; tasks run %ld\n", before, after, ran_at_exit);
	free(nest_inner.runs);
	free(c.runs);				/* the run's own memory is the exiting process's: leaked here */
}

/* ------------------------------------------------------------------------
 * The exact side solve handing its rows on (RecoAlsSolveSideReady)
 * ------------------------------------------------------------------------
 */

/* What the ready tests' callback checks: the rows it is told are final are the reference's. */
typedef struct ReadyCheck
{
	const float *solve;			/* the solve in progress */
	const float *ref;			/* the same rows solved by RecoAlsSolveSide */
	int64_t		m;
	int			k;
	int64_t		last;			/* rows_ready of the previous call */
	int64_t		calls;
	int			went_back;		/* rows_ready decreased or passed m */
	int			not_final;		/* a row below rows_ready differed from ref */
	pthread_t	owner;
	int			wrong_thread;
	int64_t		fail_at;		/* this call fails (0: none) */
} ReadyCheck;

/* A fresh check of the rows of solve against ref (m x k), on this thread, failing at call fail_at (0: never). */
static void
ready_reset(ReadyCheck *rc, const float *solve, const float *ref, int64_t m, int k, int64_t fail_at)
{
	memset(rc, 0, sizeof(*rc));
	rc->solve = solve;
	rc->ref = ref;
	rc->m = m;
	rc->k = k;
	rc->owner = pthread_self();
	rc->fail_at = fail_at;
}

/* RecoRowsReady.fn of the tests: checks the new rows against the reference. */
static RecoStatus
ready_check(void *arg, int64_t rows_ready, bool *more)
{
	ReadyCheck *rc = (ReadyCheck *) arg;

	*more = false;
	rc->calls++;
	if (!pthread_equal(pthread_self(), rc->owner))
		rc->wrong_thread = 1;
	if (rows_ready < rc->last || rows_ready > rc->m)
		rc->went_back = 1;
	else if (rows_ready > rc->last &&
			 memcmp(rc->solve + (size_t) rc->last * rc->k, rc->ref + (size_t) rc->last * rc->k,
					sizeof(float) * (size_t) (rows_ready - rc->last) * rc->k) != 0)
		rc->not_final = 1;
	if (rows_ready > rc->last)
		rc->last = rows_ready;
	return rc->calls == rc->fail_at ? RECO_STATUS_NO_MEMORY : RECO_STATUS_OK;
}

/*
 * What the "more" test's callback does, as the backend's store does: copies
 * the told rows out, one a call, and says more while told rows wait; counts
 * each row's copies and its answers of more.
 */
typedef struct ReadyStore
{
	const float *solve;			/* the solve in progress */
	const float *ref;			/* the same rows solved by RecoAlsSolveSide */
	float	   *copy;			/* the rows copied out (m x k) */
	int		   *copies;			/* per row: how many times copied */
	int64_t		m;
	int			k;
	int64_t		told;			/* the largest rows_ready so far */
	int64_t		stored;			/* rows 0 .. stored - 1 copied */
	int64_t		calls;
	int64_t		mores;			/* calls that said more */
	int			went_back;		/* rows_ready decreased or passed m */
	int			not_final;		/* a row copied differed from ref */
} ReadyStore;

/* Copies rows rs->stored .. end - 1 out of the solve (each checked against the reference). */
static void
ready_store_rows(ReadyStore *rs, int64_t end)
{
	size_t		row = (size_t) rs->k;

	for (; rs->stored < end; rs->stored++)
	{
		rs->copies[rs->stored]++;
		if (memcmp(rs->solve + rs->stored * row, rs->ref + rs->stored * row, sizeof(float) * row) != 0)
			rs->not_final = 1;
		memcpy(rs->copy + rs->stored * row, rs->solve + rs->stored * row, sizeof(float) * row);
	}
}

/* RecoRowsReady.fn of the "more" test: one told row a call, more while some wait. */
static RecoStatus
ready_store(void *arg, int64_t rows_ready, bool *more)
{
	ReadyStore *rs = (ReadyStore *) arg;

	rs->calls++;
	if (rows_ready < rs->told || rows_ready > rs->m)
		rs->went_back = 1;
	else
		rs->told = rows_ready;
	ready_store_rows(rs, rs->stored < rs->told ? rs->stored + 1 : rs->told);
	*more = rs->stored < rs->told;
	rs->mores += *more;
	return RECO_STATUS_OK;
}

/*
 * Users with 13 or so items each, with `heavy` every 101st with all n (a
 * row costlier than a chunk's target at k 128: one of the chunks that run
 * first), weights 1 .. 5, every 7th negative; CSR, row-major.
 */
static RecoSparse
ready_matrix(int64_t m, int64_t n, bool heavy, int64_t **indptr, int32_t **indices, float **weights)
{
	int64_t		u,
				i,
				nnz = 0;

	*indptr = malloc(sizeof(int64_t) * (size_t) (m + 1));
	*indices = malloc(sizeof(int32_t) * (size_t) (m * n));
	*weights = malloc(sizeof(float) * (size_t) (m * n));
	(*indptr)[0] = 0;
	for (u = 0; u < m; u++)
	{
		for (i = 0; i < n; i++)
			if ((heavy && u % 101 == 7) || (i * 7 + u) % 53 == 0)
			{
				(*indices)[nnz] = (int32_t) i;
				(*weights)[nnz] = (float) (1 + (u + i) % 5) * (nnz % 7 == 6 ? -1.0f : 1.0f);
				nnz++;
			}
		(*indptr)[u + 1] = nnz;
	}
	return (RecoSparse) {m, n, *indptr, *indices, *weights};
}

/* A problem of the ready tests: ready_matrix's rows, item factors, the reference rows, the rows solved. */
typedef struct ReadyProblem
{
	int64_t		m;
	int			k;
	int64_t    *indptr;
	int32_t    *indices;
	float	   *weights;
	RecoSparse	rows;
	float	   *Y;				/* n x k */
	float	   *ref;			/* m x k: RecoAlsSolveSide's rows */
	float	   *X;				/* m x k: the ready solve's */
	RecoAlsConfig cfg;			/* Cholesky, 1 thread */
} ReadyProblem;

/* Sets up a ready problem (ready_matrix(m, n, heavy), k factors) and solves the reference; its status. */
static RecoStatus
ready_problem(ReadyProblem *p, int64_t m, int64_t n, int k, bool heavy)
{
	RecoAlsConfig cfg = {k, 0.1f, 2.0f, 0, RECO_SOLVER_CHOLESKY, 1, 0.0f, 1.0f, RECO_CG_VECTORS_AUTO};
	int64_t    *ids = malloc(sizeof(int64_t) * (size_t) n);
	int64_t		i;

	p->m = m;
	p->k = k;
	p->rows = ready_matrix(m, n, heavy, &p->indptr, &p->indices, &p->weights);
	p->Y = malloc(sizeof(float) * (size_t) (n * k));
	p->ref = calloc((size_t) (m * k), sizeof(float));
	p->X = malloc(sizeof(float) * (size_t) (m * k));
	p->cfg = cfg;
	for (i = 0; i < n; i++)
		ids[i] = i;
	RecoAlsInitFactors(p->Y, n, k, ids, 5, 1);
	free(ids);
	return RecoAlsSolveSide(&p->rows, p->Y, p->ref, &p->cfg, NULL);
}

/* The ready solve of a problem on `threads` threads, its rows NaNs until solved. */
static RecoStatus
ready_solve(ReadyProblem *p, int threads, const RecoRowsReady *ready)
{
	p->cfg.threads = threads;
	memset(p->X, 0xff, sizeof(float) * (size_t) (p->m * p->k));
	return RecoAlsSolveSideReady(&p->rows, p->Y, p->X, &p->cfg, NULL, ready);
}

/* Whether m x k rows are the reference's bit for bit. */
static bool
ready_same(const ReadyProblem *p, const float *rows)
{
	return memcmp(rows, p->ref, sizeof(float) * (size_t) (p->m * p->k)) == 0;
}

/* Frees a ready problem. */
static void
ready_problem_free(ReadyProblem *p)
{
	free(p->indptr);
	free(p->indices);
	free(p->weights);
	free(p->Y);
	free(p->ref);
	free(p->X);
}

/*
 * RecoAlsSolveSideReady: on 1, 2 and 3 threads the rows bit for bit those
 * of RecoAlsSolveSide (Cholesky), told in row order on the calling thread,
 * each row final when told (the store relies on it); on one thread the last
 * call tells every row; a failure from the callback stops the solve with its
 * status; CG or no callback is an invalid argument.
 */
static void
test_ready_solve(void)
{
	ReadyProblem p;
	ReadyCheck	rc;
	RecoRowsReady ready = {ready_check, &rc};
	int			all = 1,
				t;
	int64_t		i;

	ok(ready_problem(&p, 3000, 700, 128, true) == RECO_STATUS_OK, "ready: the reference solve");
	for (t = 1; t <= 3; t++)
	{
		RecoStatus	st;

		ready_reset(&rc, p.X, p.ref, p.m, p.k, 0);
		st = ready_solve(&p, t, &ready);
		all &= st == RECO_STATUS_OK && ready_same(&p, p.X) &&
			!rc.went_back && !rc.not_final && !rc.wrong_thread && rc.calls > 1 && (t > 1 || rc.last == p.m);
		printf("# ready, %d thread(s): %ld calls, last told %ld of %ld rows\n", t, (long) rc.calls,
			   (long) rc.last, (long) p.m);
	}
	ok(all, "ready: rows bit for bit RecoAlsSolveSide's on 1, 2, 3 threads, told in order and final when told");

	/* the first call comes while the z rows are computed (before any row is solved), the third later */
	for (i = 1; i <= 3; i += 2)
	{
		ready_reset(&rc, p.X, p.ref, p.m, p.k, i);
		all &= ready_solve(&p, 2, &ready) == RECO_STATUS_NO_MEMORY && rc.calls == i;
	}
	ok(all, "ready: the callback's failure (its first or third call) stops the solve with its status, no call after it");
	p.cfg.solver = RECO_SOLVER_CG;
	ok(ready_solve(&p, 1, &ready) == RECO_STATUS_INVALID_ARGUMENT &&
	   (p.cfg.solver = RECO_SOLVER_CHOLESKY, ready_solve(&p, 1, NULL) == RECO_STATUS_INVALID_ARGUMENT),
	   "ready: the CG solver or no callback is an invalid argument");
	ready_problem_free(&p);
}

/*
 * RecoAlsSolveSideReady with a callback that says more (ready_store: one
 * told row a call, the rest once the solve returned, as the backend's store
 * goes on after it), on rows of alike cost in a dozen chunks (they run in
 * row order, so rows are told while tasks remain): on 1, 2 and 3 threads
 * the rows bit for bit RecoAlsSolveSide's, each row copied exactly once and
 * final when copied, and the callback said more at least 3 times in each
 * solve (with workers running, the runner calls it again at once).
 */
static void
test_ready_more(void)
{
	ReadyProblem p;
	int			all,
				t;
	int64_t		i;

	all = ready_problem(&p, 5000, 3200, 128, false) == RECO_STATUS_OK;
	for (t = 1; t <= 3; t++)
	{
		ReadyStore	rs;
		RecoRowsReady store = {ready_store, &rs};
		RecoStatus	st;
		int64_t		during;
		int			once = 1;

		memset(&rs, 0, sizeof(rs));
		rs.solve = p.X;
		rs.ref = p.ref;
		rs.copy = malloc(sizeof(float) * (size_t) (p.m * p.k));
		rs.copies = calloc((size_t) p.m, sizeof(int));
		rs.m = p.m;
		rs.k = p.k;
		st = ready_solve(&p, t, &store);
		during = rs.stored;
		ready_store_rows(&rs, p.m);
		for (i = 0; i < p.m; i++)
			once &= rs.copies[i] == 1;
		all &= st == RECO_STATUS_OK && ready_same(&p, p.X) && ready_same(&p, rs.copy) && once &&
			!rs.went_back && !rs.not_final && rs.mores >= 3;
		printf("# ready with more, %d thread(s): %ld calls, %ld said more, %ld rows copied during the solve\n", t,
			   (long) rs.calls, (long) rs.mores, (long) during);
		free(rs.copy);
		free(rs.copies);
	}
	ok(all, "ready: a callback saying more (a row a call) on 1, 2, 3 threads: the rows bit for bit RecoAlsSolveSide's, each copied once and final when copied");
	ready_problem_free(&p);
}

/* ------------------------------------------------------------------------
 * Batch scoring tests
 * ------------------------------------------------------------------------
 */

/* Uniform in [-1, 1). */
static float
rnd_signed(void)
{
	return (float) (2.0 * rnd_uniform() - 1.0);
}

static const float *sort_norms;

/* qsort order: larger norm first, then lower row (as the serving cache orders). */
static int
by_norm(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a;
	int32_t		y = *(const int32_t *) b;

	if (sort_norms[x] != sort_norms[y])
		return sort_norms[x] > sort_norms[y] ? -1 : 1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/* A batch problem: items with norms and norm order, users, exclusions; one allocation. */
typedef struct Batch
{
	RecoBatchInput in;
	char	   *mem;			/* every array below */
	size_t		used;
	float	   *items;
	int64_t    *ids;
	float	   *norms;
	int32_t    *order;
	int32_t    *rank;
	float	   *users;
	int64_t    *excl_ptr;
	int64_t    *excl_ids;
} Batch;

/* The next `bytes` of the batch's allocation (8-byte aligned). */
static void *
batch_take(Batch *b, size_t bytes)
{
	void	   *p = b->mem + b->used;

	b->used += (bytes + 7) & ~(size_t) 7;
	return p;
}

/* Random n_users x n_items problem with k factors, a few exclusions per user. */
static void
make_batch(Batch *b, int64_t n_users, int64_t n_items, int k, int n)
{
	int64_t		i,
				u,
				e = 0;
	int			j;

	memset(b, 0, sizeof(*b));
	b->mem = malloc((sizeof(float) * k + sizeof(int64_t) + sizeof(float) + 2 * sizeof(int32_t)) * n_items +
					(sizeof(float) * k + 6 * sizeof(int64_t)) * n_users + 64);
	b->items = batch_take(b, sizeof(float) * n_items * k);
	b->ids = batch_take(b, sizeof(int64_t) * n_items);
	b->norms = batch_take(b, sizeof(float) * n_items);
	b->order = batch_take(b, sizeof(int32_t) * n_items);
	b->rank = batch_take(b, sizeof(int32_t) * n_items);
	b->users = batch_take(b, sizeof(float) * n_users * k);
	b->excl_ptr = batch_take(b, sizeof(int64_t) * (n_users + 1));
	b->excl_ids = batch_take(b, sizeof(int64_t) * n_users * 5);
	for (i = 0; i < n_items; i++)
	{
		double		sq = 0.0;
		/* a spread of norms, so the bound prunes */
		float		scale = 0.2f + 3.0f * (float) (rnd() % 1000) / 1000.0f;

		for (j = 0; j < k; j++)
		{
			b->items[i * k + j] = scale * rnd_signed();
			sq += (double) b->items[i * k + j] * b->items[i * k + j];
		}
		b->norms[i] = (float) sqrt(sq);
		b->ids[i] = 10 + 3 * i;
		b->order[i] = (int32_t) i;
	}
	/* a few exact ties of score: item 1 repeats item 0 */
	memcpy(b->items + k, b->items, sizeof(float) * k);
	b->norms[1] = b->norms[0];
	sort_norms = b->norms;
	qsort(b->order, n_items, sizeof(int32_t), by_norm);
	for (i = 0; i < n_items; i++)
		b->rank[b->order[i]] = (int32_t) i;
	b->excl_ptr[0] = 0;
	for (u = 0; u < n_users; u++)
	{
		int			x,
					n_excl = (int) (rnd() % 5);

		for (j = 0; j < k; j++)
			b->users[u * k + j] = rnd_signed();
		for (x = 0; x < n_excl; x++)
			/* an id of the catalogue, or (rarely) one that is not */
			b->excl_ids[e++] = rnd() % 7 == 0 ? 1 : b->ids[rnd() % n_items];
		b->excl_ptr[u + 1] = e;
	}
	b->in = (RecoBatchInput) {
		.items = b->items, .item_ids = b->ids, .item_norms = b->norms,
		.norm_order = b->order, .norm_rank = b->rank, .n_items = n_items, .k = k,
		.users = b->users, .n_users = n_users, .excl_ptr = b->excl_ptr,
		.excl_ids = b->excl_ids, .n = n, .threads = 1
	};
}

/* True if out/found equal a brute-force top-n of every user: all items scored, exclusions removed. */
static bool
batch_equals_brute_force(const Batch *b, const RecoScored *out, const int *found)
{
	const RecoBatchInput *in = &b->in;
	float	   *scores = malloc(sizeof(float) * in->n_items);
	RecoScored *want = malloc(sizeof(RecoScored) * in->n);
	bool		same = true;
	int64_t		u;

	for (u = 0; u < in->n_users && same; u++)
	{
		int64_t		e;
		int			got,
					t;

		RecoAlsScoreRows(in->items, NULL, in->n_items, in->k, in->users + u * in->k, scores);
		for (e = in->excl_ptr[u]; e < in->excl_ptr[u + 1]; e++)
		{
			int64_t		idx = RecoFindId(in->item_ids, in->n_items, in->excl_ids[e]);

			if (idx >= 0)
				scores[idx] = -INFINITY;
		}
		got = RecoTopK(scores, in->n_items, in->n, want);
		if (got != found[u])
			same = false;
		for (t = 0; same && t < got; t++)
			if (want[t].index != out[u * in->n + t].index ||
				want[t].score != out[u * in->n + t].score)
				same = false;
	}
	free(scores);
	free(want);
	return same;
}

/* Batch top-n through the runner: same answer for 1 and 4 threads, equal to brute force. */
static void
test_batch(int k, const char *label)
{
	Batch		b;
	RecoScored *out1,
			   *out4;
	int		   *found1,
			   *found4;
	RecoStatus s1,
				s4;
	int64_t		n_users = 300;
	char		name[160];

	make_batch(&b, n_users, 3000, k, 10);
	out1 = calloc(n_users * b.in.n, sizeof(RecoScored));
	out4 = calloc(n_users * b.in.n, sizeof(RecoScored));
	found1 = calloc(n_users, sizeof(int));
	found4 = calloc(n_users, sizeof(int));
	b.in.threads = 1;
	s1 = RecoBatchTopN(&b.in, NULL, out1, found1);
	b.in.threads = 4;
	s4 = RecoBatchTopN(&b.in, NULL, out4, found4);
	snprintf(name, sizeof(name), "batch %s: 1 and 4 threads give the same top-n", label);
	ok(s1 == RECO_STATUS_OK && s4 == RECO_STATUS_OK &&
	   memcmp(found1, found4, sizeof(int) * n_users) == 0 &&
	   memcmp(out1, out4, sizeof(RecoScored) * n_users * b.in.n) == 0, name);
	snprintf(name, sizeof(name), "batch %s: equals a brute-force top-n (exclusions, ties)", label);
	ok(batch_equals_brute_force(&b, out1, found1), name);
	free(out1);
	free(out4);
	free(found1);
	free(found4);
	free(b.mem);
}

/* Batch top-n for k = 32, 12 (the portable path) and 64. */
static void
test_batch_ks(void)
{
	test_batch(32, "k=32");
	test_batch(12, "k=12 (portable path)");
	test_batch(64, "k=64");
}

/* Batch edge cases: one user, n larger than the catalogue, a stop, bad input. */
static void
test_batch_edges(void)
{
	Batch		b;
	RecoScored *out;
	int		   *found;
	HookState	h = hook_state(0);
	RecoHooks hooks = {test_hook, &h, NULL};

	make_batch(&b, 40, 25, 16, 30);
	out = calloc(40 * 30, sizeof(RecoScored));
	found = calloc(40, sizeof(int));
	b.in.threads = 3;
	ok(RecoBatchTopN(&b.in, NULL, out, found) == RECO_STATUS_OK &&
	   batch_equals_brute_force(&b, out, found) && found[0] <= 25,
	   "batch: n larger than the catalogue gives every eligible item");
	b.in.n_users = 1;
	b.in.threads = 4;
	ok(RecoBatchTopN(&b.in, NULL, out, found) == RECO_STATUS_OK &&
	   batch_equals_brute_force(&b, out, found),
	   "batch: a single user (serving's case, rows read in place)");
	b.in.n_users = 40;
	ok(RecoBatchTopN(&b.in, &hooks, out, found) == RECO_STATUS_STOPPED && !h.wrong_thread,
	   "batch: the hook stops batch scoring");
	b.in.n = 0;
	ok(RecoBatchTopN(&b.in, NULL, out, found) == RECO_STATUS_INVALID_ARGUMENT,
	   "batch: n = 0 is an invalid argument");
	free(out);
	free(found);
	free(b.mem);
}

/*
 * Batch with MMR diversity: each user's top 50 re-ranked down to 10 inside the
 * batch equals the plain top 50 re-ranked by RecoMmrRerank afterwards, for 1
 * and 4 threads; a pick above n is an invalid argument.
 */
static void
test_batch_diversity(void)
{
	Batch		b;
	int64_t		n_users = 200,
				u;
	int			n = 50,
				pick = 10,
				threads[] = {1, 4},
				t;
	RecoScored *plain = calloc(n_users * n, sizeof(RecoScored));
	RecoScored *diverse = calloc(n_users * n, sizeof(RecoScored));
	RecoScored	want[10];
	int		   *found_plain = calloc(n_users, sizeof(int));
	int		   *found = calloc(n_users, sizeof(int));
	bool		same = true;

	make_batch(&b, n_users, 2000, 16, n);
	b.in.threads = 1;
	same = RecoBatchTopN(&b.in, NULL, plain, found_plain) == RECO_STATUS_OK;
	b.in.diversity = 0.3f;
	b.in.pick = pick;
	for (t = 0; t < 2 && same; t++)
	{
		b.in.threads = threads[t];
		same = RecoBatchTopN(&b.in, NULL, diverse, found) == RECO_STATUS_OK;
		for (u = 0; u < n_users && same; u++)
		{
			int			got = RecoMmrRerank(b.in.items, b.in.item_norms, b.in.k, plain + u * n,
											found_plain[u], 0.3f, pick, want);

			same = got == found[u] && memcmp(want, diverse + u * n, sizeof(RecoScored) * got) == 0;
		}
	}
	ok(same, "batch with diversity 0.3: the plain top 50 re-ranked by MMR, for 1 and 4 threads");
	b.in.pick = n + 1;
	ok(RecoBatchTopN(&b.in, NULL, diverse, found) == RECO_STATUS_INVALID_ARGUMENT,
	   "batch: a diversity pick above n is an invalid argument");
	free(plain);
	free(diverse);
	free(found_plain);
	free(found);
	free(b.mem);
}

/* The new thread's view of its signal mask: SIGINT, SIGTERM and SIGUSR1 all blocked. */
static void *
signals_blocked_main(void *arg)
{
	sigset_t	cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	*(bool *) arg = sigismember(&cur, SIGINT) == 1 && sigismember(&cur, SIGTERM) == 1 &&
		sigismember(&cur, SIGUSR1) == 1;
	return NULL;
}

/* RecoThreadCreate's thread has every signal blocked, and the caller's mask is as before. */
static void
test_thread_create(void)
{
	bool		blocked = false;
	sigset_t	before,
				after;
	pthread_t	thread;

	pthread_sigmask(SIG_BLOCK, NULL, &before);
	ok(RecoThreadCreate(&thread, signals_blocked_main, &blocked) == 0 &&
	   pthread_join(thread, NULL) == 0 && blocked &&
	   pthread_sigmask(SIG_BLOCK, NULL, &after) == 0 &&
	   sigismember(&after, SIGINT) == sigismember(&before, SIGINT),
	   "parallel: RecoThreadCreate's thread blocks every signal (the prefault thread and the workers), the caller's mask unchanged");
}

/* Runs every test; exit status 1 if any failed. */
int
main(void)
{
	printf("1..%d\n", TEST_PLAN);
	test_each_task_once();		/* 1 */
	test_few_tasks();			/* 3 */
	test_failure();				/* 4 */
	test_stop();				/* 3 */
	test_states();				/* 1 */
	test_caller_work();			/* 7 */
	test_ready_solve();			/* 4 */
	test_ready_more();			/* 1 */
	test_stop_caller_run(caller_exits,
						 "parallel: RecoParallelStopCallerRun joins the workers of the run left from caller_work");	/* 1 */
	test_stop_caller_run(caller_nests,
						 "parallel: RecoParallelStopCallerRun joins the outer run's workers after a nested run ended");	/* 1 */
	test_batch_ks();			/* 6 */
	test_batch_edges();			/* 4 */
	test_batch_diversity();		/* 2 */
	test_thread_create();		/* 1 */
	/* total 39 */
	return tap_exit_status(TEST_PLAN);
}
