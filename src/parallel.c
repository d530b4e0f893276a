/*-------------------------------------------------------------------------
 *
 * parallel.c
 *	  The one thread runner: numbered tasks on the calling thread plus
 *	  worker pthreads, with a stop flag and a cancellation hook.
 *
 * Design
 * ------
 * A run is n numbered tasks (a chunk of rows, a block of users, ...); what
 * a task number means belongs to the caller.  The calling thread (in the
 * server, a PostgreSQL backend) sets up every thread's state through
 * init_state, then starts threads - 1 pthreads with all signals blocked (so
 * the backend's signal handlers only ever run on the backend thread), then
 * works too.  Every thread takes the next task number from an atomic
 * counter until none is left, so tasks start in increasing order and each
 * runs exactly once; a caller that wants the expensive tasks first numbers
 * them that way.  Which thread runs a task never matters to the results as
 * long as a task's output depends only on its number (als.c and batch.c
 * keep that rule, so results do not depend on the thread count).
 *
 * Stopping.  A shared stop flag and a first-failure status: the first task
 * that fails, the first failed pthread_create and a true from the hook set
 * both; the status keeps the first failure.  Every thread checks the flag
 * before each task, and long tasks check it inside through
 * RecoParallelPoll.  Only the calling thread calls hooks->should_stop:
 * before each of its tasks and each caller_work call, when a long task
 * asks, and every RECO_PARALLEL_WAIT_NS while it waits for the workers to
 * finish, so a cancel is seen within a task's polling interval, one
 * caller_work call or 5 ms of waiting.
 * Each time, it also tells hooks->progress (if set) how many tasks have
 * finished of the run's total (reco.training_progress shows it).
 *
 * The caller's own work.  A job may give caller_work: work that only the
 * calling thread may do while the workers run tasks (training's store of the
 * rows the final pass has solved: PostgreSQL calls).  The calling thread
 * calls it before each task it takes, again at once while it says it has
 * more (with workers running: it takes a task only once it has none), and
 * while it waits for the workers at the end (from when every task is taken):
 * again at once while it says it has more, else after each
 * RECO_PARALLEL_WAIT_NS wait.  The run ends when the tasks are done, however
 * much of its own work is left (the next run, or the caller after it, goes
 * on with it), so no worker idles while it works.  So its own work,
 * which only it can do, comes first and the workers take the tasks
 * meanwhile; it takes tasks when its work waits on them, and the tasks
 * never wait for it.  A non-OK status from it stops the run like a failed
 * task (every worker stops and is joined before RecoParallelRun returns
 * it); it is never called once the run stopped.  Workers never call it.
 * Should the calling thread leave it without returning (a PostgreSQL FATAL
 * error exits the process from inside it), RecoParallelStopCallerRun,
 * called on the way out, stops the run and joins its workers.
 *
 * Memory.  The runner mallocs its thread table and one block of states on
 * the calling thread before any worker starts and frees them (after
 * free_state, after every join) before it returns; workers never allocate
 * through the runner.  It never calls PostgreSQL: errors come back as a
 * status for the caller to report once every thread has joined.
 *
 *-------------------------------------------------------------------------
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* pthread_sigmask, clock_gettime */
#endif

#include "parallel.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long the calling thread waits for workers between two polls of the hook. */
#define RECO_PARALLEL_WAIT_NS (5 * 1000 * 1000)
#define RECO_NS_PER_SECOND (1000 * 1000 * 1000)

/* Thread states start at multiples of this many bytes (a cache line). */
#define RECO_PARALLEL_STATE_ALIGN 64

/* What every thread of one run shares. */
typedef struct RecoParallelRunState
{
	const RecoParallelJob *job;
	int64_t		next_task;		/* atomic: the next task number to hand out */
	int64_t		finished;		/* atomic: tasks finished (for hooks->progress) */
	int			stop;			/* atomic: 1 once every thread must stop */
	int			status;			/* atomic: first non-OK status */
	pthread_mutex_t mutex;
	pthread_cond_t done_cond;
	int			n_done;			/* workers finished (under mutex) */
	struct RecoParallelWorker *workers; /* workers[1 .. started] run */
	int			started;
	struct RecoParallelRunState *outer; /* inside caller_work: the run whose caller_work runs this one, or NULL */
} RecoParallelRunState;

/*
 * The run whose calling thread is inside caller_work (which may leave it
 * without returning: RecoParallelStopCallerRun), or NULL; a run started
 * from inside caller_work (a training run by the store's own SQL) chains
 * the one around it (outer).  Only calling threads touch it.
 */
static RecoParallelRunState *reco_parallel_caller_run = NULL;

/* One thread of a run. */
struct RecoParallelWorker
{
	RecoParallelRunState *run;
	void	   *state;			/* this thread's part of the state block */
	bool		is_caller;		/* the calling thread: the only one that asks the hook */
	pthread_t	thread;
};

/* Threads a run uses: `requested` clamped to 1 .. RECO_MAX_THREADS and to n_tasks. */
int
RecoParallelThreads(int requested, int64_t n_tasks)
{
	int			t = requested;

	if (t < 1)
		t = 1;
	if (t > RECO_MAX_THREADS)
		t = RECO_MAX_THREADS;
	if ((int64_t) t > n_tasks)
		t = n_tasks > 0 ? (int) n_tasks : 1;
	return t;
}

/* Bytes of one state rounded up to whole cache lines (0 stays 0). */
static size_t
RecoParallelStateStride(size_t state_size)
{
	return (state_size + RECO_PARALLEL_STATE_ALIGN - 1) &
		~(size_t) (RECO_PARALLEL_STATE_ALIGN - 1);
}

/* Upper bound of the bytes the runner allocates for `threads` states of state_size. */
size_t
RecoParallelBytes(int threads, size_t state_size)
{
	if (threads < 1)
		threads = 1;
	return (size_t) threads * (sizeof(RecoParallelWorker) +
							   RecoParallelStateStride(state_size)) +
		RECO_PARALLEL_STATE_ALIGN;
}

/* Records a failure (the first one wins) and tells every thread to stop. */
static void
RecoParallelFail(RecoParallelRunState *run, RecoStatus status)
{
	int			expected = RECO_STATUS_OK;

	__atomic_compare_exchange_n(&run->status, &expected, (int) status, false,
								__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
}

/* True if the run must stop; on the calling thread with ask_hook, also asks the hook. */
bool
RecoParallelPoll(RecoParallelWorker *worker, bool ask_hook)
{
	RecoParallelRunState *run = worker->run;
	const RecoHooks *hooks = run->job->hooks;

	if (__atomic_load_n(&run->stop, __ATOMIC_ACQUIRE))
		return true;
	if (worker->is_caller && ask_hook && hooks != NULL &&
		hooks->should_stop != NULL && hooks->should_stop(hooks->arg))
	{
		RecoParallelFail(run, RECO_STATUS_STOPPED);
		return true;
	}
	if (worker->is_caller && ask_hook && hooks != NULL && hooks->progress != NULL)
		hooks->progress(hooks->arg, __atomic_load_n(&run->finished, __ATOMIC_RELAXED), run->job->n_tasks);
	return false;
}

/*
 * Calls the job's caller_work once (calling thread, run not stopped); sets
 * *more as it says.  Returns false if it failed (the run then stops).
 */
static bool
RecoParallelCallerWork(RecoParallelRunState *run, bool *more)
{
	const RecoParallelJob *job = run->job;
	RecoStatus	st;

	*more = false;
	if (job->caller_work == NULL || __atomic_load_n(&run->stop, __ATOMIC_ACQUIRE))
		return true;
	run->outer = reco_parallel_caller_run;
	reco_parallel_caller_run = run;
	st = job->caller_work(job->caller_arg, more);
	reco_parallel_caller_run = run->outer;
	if (st == RECO_STATUS_OK)
		return true;
	*more = false;
	RecoParallelFail(run, st);
	return false;
}

/*
 * For a calling thread that leaves caller_work without returning (in the
 * server: the process exits on a FATAL error): stops the run it is in, if
 * any, and the runs around it (from the innermost), and joins their
 * workers, so no worker outlives it.  The runs' memory is left to the
 * exiting process.
 */
void
RecoParallelStopCallerRun(void)
{
	RecoParallelRunState *run = reco_parallel_caller_run;
	int			i;

	reco_parallel_caller_run = NULL;
	for (; run != NULL; run = run->outer)
	{
		RecoParallelFail(run, RECO_STATUS_STOPPED);
		for (i = 1; i <= run->started; i++)
			pthread_join(run->workers[i].thread, NULL);
		run->started = 0;
	}
}

/*
 * Takes tasks until none is left or the run stops; the caller also asks the
 * hook and does its own work, taking a task only once it has none.
 */
static void
RecoParallelLoop(RecoParallelWorker *worker)
{
	RecoParallelRunState *run = worker->run;
	const RecoParallelJob *job = run->job;

	for (;;)
	{
		int64_t		task;
		RecoStatus st;
		bool		more;

		if (RecoParallelPoll(worker, true))
			break;
		if (worker->is_caller && !RecoParallelCallerWork(run, &more))
			break;
		/*
		 * its own work first: the workers take the tasks while it has more;
		 * once every task is taken it waits for them (RecoParallelWait goes
		 * on with its work), so the run ends when they finish
		 */
		if (worker->is_caller && more && run->started > 0 &&
			__atomic_load_n(&run->next_task, __ATOMIC_RELAXED) < job->n_tasks)
			continue;
		task = __atomic_fetch_add(&run->next_task, 1, __ATOMIC_RELAXED);
		if (task >= job->n_tasks)
			break;
		st = job->run_task(job->arg, worker->state, task, worker);
		if (st != RECO_STATUS_OK)
		{
			RecoParallelFail(run, st);
			break;
		}
		__atomic_fetch_add(&run->finished, 1, __ATOMIC_RELAXED);
	}
}

/* Entry point of a worker thread (started with all signals blocked). */
static void *
RecoParallelWorkerMain(void *arg)
{
	RecoParallelWorker *worker = (RecoParallelWorker *) arg;
	RecoParallelRunState *run = worker->run;

	RecoParallelLoop(worker);
	pthread_mutex_lock(&run->mutex);
	run->n_done++;
	pthread_cond_signal(&run->done_cond);
	pthread_mutex_unlock(&run->mutex);
	return NULL;
}

/* pthread_create with every signal blocked in the new thread (parallel.h). */
int
RecoThreadCreate(pthread_t *thread, void *(*fn) (void *), void *arg)
{
	sigset_t	all,
				old;
	int			rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/*
 * Starts workers 1 .. threads - 1 with every signal blocked (on failure the
 * run is told to stop); returns how many started.
 */
static int
RecoParallelStart(RecoParallelWorker *workers, int threads)
{
	int			i,
				started = 0;

	for (i = 1; i < threads; i++)
	{
		if (RecoThreadCreate(&workers[i].thread, RecoParallelWorkerMain, &workers[i]) != 0)
		{
			RecoParallelFail(workers[0].run, RECO_STATUS_THREAD_ERROR);
			break;
		}
		started++;
	}
	return started;
}

/*
 * Waits until `started` workers are done, still asking the hook and doing
 * the caller's own work (again at once while it has more, else after each
 * wait; the hook asked before each call), then joins them.
 */
static void
RecoParallelWait(RecoParallelWorker *workers, int started)
{
	RecoParallelRunState *run = workers[0].run;
	bool		more = true;
	int			i;

	pthread_mutex_lock(&run->mutex);
	while (run->n_done < started)
	{
		struct timespec ts;

		if (more)
		{
			/* the workers only need the mutex to say they are done */
			pthread_mutex_unlock(&run->mutex);
			more = false;
			if (!RecoParallelPoll(&workers[0], true))
				(void) RecoParallelCallerWork(run, &more);
			pthread_mutex_lock(&run->mutex);
			continue;
		}

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += RECO_PARALLEL_WAIT_NS;
		if (ts.tv_nsec >= RECO_NS_PER_SECOND)
		{
			ts.tv_sec++;
			ts.tv_nsec -= RECO_NS_PER_SECOND;
		}
		pthread_cond_timedwait(&run->done_cond, &run->mutex, &ts);
		if (run->n_done < started)
			more = !RecoParallelPoll(&workers[0], true) && run->job->caller_work != NULL;
	}
	pthread_mutex_unlock(&run->mutex);
	for (i = 1; i <= started; i++)
		pthread_join(workers[i].thread, NULL);
}

/* Runs the tasks on the caller plus workers (see parallel.h and the essay above). */
RecoStatus
RecoParallelRun(const RecoParallelJob *job)
{
	RecoParallelRunState run;
	RecoParallelWorker *workers;
	char	   *states = NULL;
	size_t		stride = RecoParallelStateStride(job->state_size);
	int			threads = RecoParallelThreads(job->threads, job->n_tasks);
	int			i,
				n_init = 0;
	RecoStatus result = RECO_STATUS_OK;

	workers = (RecoParallelWorker *) calloc((size_t) threads, sizeof(RecoParallelWorker));
	if (workers == NULL)
		return RECO_STATUS_NO_MEMORY;
	if (stride > 0 &&
		(posix_memalign((void **) &states, RECO_PARALLEL_STATE_ALIGN,
						stride * (size_t) threads) != 0))
	{
		free(workers);
		return RECO_STATUS_NO_MEMORY;
	}
	if (states != NULL)
		memset(states, 0, stride * (size_t) threads);

	memset(&run, 0, sizeof(run));
	run.job = job;
	run.status = RECO_STATUS_OK;
	for (i = 0; i < threads && result == RECO_STATUS_OK; i++)
	{
		workers[i].run = &run;
		workers[i].state = states != NULL ? states + stride * (size_t) i : NULL;
		workers[i].is_caller = (i == 0);
		n_init++;
		if (job->init_state != NULL)
			result = job->init_state(job->arg, workers[i].state, i);
	}
	if (result != RECO_STATUS_OK)
		goto cleanup;

	if (threads > 1)
	{
		int			started;

		if (pthread_mutex_init(&run.mutex, NULL) != 0)
		{
			result = RECO_STATUS_THREAD_ERROR;
			goto cleanup;
		}
		if (pthread_cond_init(&run.done_cond, NULL) != 0)
		{
			pthread_mutex_destroy(&run.mutex);
			result = RECO_STATUS_THREAD_ERROR;
			goto cleanup;
		}
		started = RecoParallelStart(workers, threads);
		run.workers = workers;
		run.started = started;
		RecoParallelLoop(&workers[0]);
		RecoParallelWait(workers, started);
		pthread_cond_destroy(&run.done_cond);
		pthread_mutex_destroy(&run.mutex);
	}
	else
		RecoParallelLoop(&workers[0]);
	result = (RecoStatus) __atomic_load_n(&run.status, __ATOMIC_ACQUIRE);

cleanup:
	for (i = 0; i < n_init; i++)
		if (job->free_state != NULL)
			job->free_state(job->arg, workers[i].state, i);
	free(states);
	free(workers);
	return result;
}

/* Short English description of a status. */
const char *
RecoStatusString(RecoStatus status)
{
	switch (status)
	{
		case RECO_STATUS_OK:
			return "ok";
		case RECO_STATUS_STOPPED:
			return "stopped on request";
		case RECO_STATUS_NO_MEMORY:
			return "out of memory";
		case RECO_STATUS_NOT_FINITE:
			return "a factor or the loss is not finite (NaN or infinite input or overflow)";
		case RECO_STATUS_THREAD_ERROR:
			return "could not start a worker thread";
		case RECO_STATUS_NOT_POSITIVE_DEFINITE:
			return "a least-squares system is not positive definite (increase regularization)";
		case RECO_STATUS_INVALID_ARGUMENT:
			return "invalid argument";
	}
	return "unknown status";
}
