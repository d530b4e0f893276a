/*-------------------------------------------------------------------------
 *
 * parallel.h
 *	  The one thread runner of reco: numbered tasks on the calling thread
 *	  plus worker pthreads, with a stop flag and a cancellation hook.
 *
 * Pure C (libc, pthreads): no PostgreSQL headers.  Training (als.c), batch
 * scoring (batch.c) and every later threaded computation run through
 * RecoParallelRun; see parallel.c for what runs on which thread.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_PARALLEL_H
#define RECO_PARALLEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reco_limits.h"

/* Outcome of a kernel call or of a runner task (every threaded computation). */
typedef enum RecoStatus
{
	RECO_STATUS_OK,
	RECO_STATUS_STOPPED,		/* should_stop returned true */
	RECO_STATUS_NO_MEMORY,		/* malloc failed */
	RECO_STATUS_NOT_FINITE,		/* a solved value (or the loss) is NaN/Inf */
	RECO_STATUS_THREAD_ERROR,	/* pthread_create failed */
	RECO_STATUS_NOT_POSITIVE_DEFINITE,	/* Cholesky failed (e.g. regularization 0) */
	RECO_STATUS_INVALID_ARGUMENT	/* factors/cg_steps out of range, NULL input */
} RecoStatus;

/* Cancellation (and progress) hooks, called only on the calling thread. */
typedef struct RecoHooks
{
	bool		(*should_stop) (void *arg); /* true => stop as soon as possible */
	void	   *arg;
	/* NULL, or told the tasks finished of the run's total whenever should_stop is asked */
	void		(*progress) (void *arg, int64_t done, int64_t total);
} RecoHooks;

/* One thread of a run, as its tasks see it (opaque). */
typedef struct RecoParallelWorker RecoParallelWorker;

/*
 * Runs task number `task` with this thread's state; returns RECO_STATUS_OK or
 * the failure that stops the run.  Runs on any thread: no PostgreSQL calls.
 */
typedef RecoStatus (*RecoParallelTaskFn) (void *arg, void *state,
											 int64_t task,
											 RecoParallelWorker *worker);

/*
 * Sets up one thread's state (zeroed before the call); runs on the calling
 * thread before any worker starts.  A non-OK status aborts the run.
 */
typedef RecoStatus (*RecoParallelInitFn) (void *arg, void *state, int thread);

/* Releases one thread's state; calling thread, after every worker joined. */
typedef void (*RecoParallelFreeFn) (void *arg, void *state, int thread);

/*
 * The calling thread's own work besides tasks (in the server: PostgreSQL
 * work only the backend may do, e.g. storing rows that finished tasks
 * solved); called only on the calling thread, between the tasks it runs and
 * while it waits for the workers, never after the run stopped.  Sets *more
 * when it has more to do right away (the runner then calls it again before
 * it takes a task, while workers run, and before waiting).  The run still
 * ends once every task is done, with its work left for later.  A non-OK
 * status stops the run like a failed task.
 */
typedef RecoStatus (*RecoParallelCallerFn) (void *arg, bool *more);

/* What to run: tasks 0 .. n_tasks - 1, each exactly once unless stopped. */
typedef struct RecoParallelJob
{
	int64_t		n_tasks;
	int			threads;		/* total incl. the caller; capped, see
								 * RecoParallelThreads */
	RecoParallelTaskFn run_task;
	size_t		state_size;		/* bytes of one thread's state (may be 0) */
	RecoParallelInitFn init_state;	/* NULL: the zeroed state is enough */
	RecoParallelFreeFn free_state;	/* NULL: nothing to release */
	void	   *arg;			/* shared by every task, owned by the caller */
	const RecoHooks *hooks;	/* NULL: never stopped from outside */
	RecoParallelCallerFn caller_work;	/* NULL: the calling thread only runs tasks */
	void	   *caller_arg;		/* caller_work's argument */
} RecoParallelJob;

/*
 * Runs every task on the calling thread plus RecoParallelThreads(...) - 1
 * workers and returns RECO_STATUS_OK or the first failure (a task's status,
 * RECO_STATUS_STOPPED, RECO_STATUS_NO_MEMORY, RECO_STATUS_THREAD_ERROR).  Tasks are
 * handed out in increasing order; every state was freed and every worker
 * joined when it returns.
 */
extern RecoStatus RecoParallelRun(const RecoParallelJob *job);

/* Threads a run uses: `requested` clamped to 1 .. RECO_MAX_THREADS and to n_tasks. */
extern int	RecoParallelThreads(int requested, int64_t n_tasks);

/* Upper bound of the bytes the runner allocates for `threads` states of state_size. */
extern size_t RecoParallelBytes(int threads, size_t state_size);

/*
 * For long tasks: true if the run must stop (return RECO_STATUS_STOPPED then).
 * On the calling thread with ask_hook, also asks hooks->should_stop (and
 * stops the run if it says so); elsewhere only reads the shared flag.
 */
extern bool RecoParallelPoll(RecoParallelWorker *worker, bool ask_hook);

/*
 * For a calling thread that leaves a job's caller_work without returning
 * (the process exits): stops that run, and the runs whose caller_work it
 * was started from, and joins their workers; nothing if it is in no
 * caller_work.
 */
extern void RecoParallelStopCallerRun(void);

/*
 * pthread_create with every signal blocked in the new thread, so that
 * PostgreSQL's signal handlers run only on the backend's own thread; every
 * thread reco starts goes through it.  Returns 0 or pthread_create's error.
 */
extern int	RecoThreadCreate(pthread_t *thread, void *(*fn) (void *), void *arg);

/* Short English text for a status, for error messages. */
extern const char *RecoStatusString(RecoStatus status);

#endif							/* RECO_PARALLEL_H */
