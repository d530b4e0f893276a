/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  reco.training_progress: training phases published in shared memory.
 *
 * Preloaded (shared_preload_libraries), reco requests one RecoProgressSlot
 * per backend through its own shmem_request_hook / shmem_startup_hook
 * (chained to the previous hooks).  A backend writes only its own slot
 * (indexed by its backend id), bracketing every change with a change count
 * that is odd while the slot is being written, as PgBackendStatus's
 * st_changecount does; readers copy a slot and retry until they saw an even,
 * unchanged count, so nobody takes a lock and a training never waits for a
 * reader.
 *
 * A slot is cleared when the training ends or fails: the aggregate's state
 * and the training's memory context carry a reset callback (an error or a
 * cancel deletes them), and a backend that exits clears its slot.  A crash
 * re-creates shared memory, so no slot survives it; a slot whose pid is no
 * longer a live backend is never shown.
 *
 * Not preloaded, the slots do not exist: every function here returns at
 * once and the view is empty.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "progress.h"
#include "reco_limits.h"

/* One backend's training, as the view shows it. */
typedef struct RecoProgressSlot
{
	uint32		changecount;	/* odd while the owner writes */
	int			pid;			/* 0: no training */
	Oid			dbid;
	Oid			userid;
	RecoTrainPhase phase;
	int			iteration;		/* the iteration running (1-based), 0 before */
	int			iterations;		/* of the training's options */
	bool		has_loss;
	double		loss;			/* after the last finished iteration */
	int64		rows_read;
	int64		chunks_done;	/* of the current pass (a kernel run), 0 of 0: none */
	int64		chunks_total;
	TimestampTz started;		/* the training statement's start */
	char		model[RECO_MAX_MODEL_NAME + 1];
	char		algorithm[NAMEDATALEN];
} RecoProgressSlot;

/* The phases' names, in RecoTrainPhase order. */
static const char *const reco_train_phase_names[] = {
	"reading", "waiting", "building", "iterating", "final pass", "storing"
};

/* The slots (MaxBackends of them), or NULL when reco is not preloaded. */
static RecoProgressSlot *reco_progress_slots = NULL;

static shmem_request_hook_type reco_prev_shmem_request_hook = NULL;
static shmem_startup_hook_type reco_prev_shmem_startup_hook = NULL;
static bool reco_progress_exit_registered = false;

/* Bytes of the slot array. */
static Size
RecoProgressShmemSize(void)
{
	return mul_size(MaxBackends, sizeof(RecoProgressSlot));
}

/* shmem_request_hook: reserves the slots. */
static void
RecoProgressShmemRequest(void)
{
	if (reco_prev_shmem_request_hook)
		reco_prev_shmem_request_hook();
	RequestAddinShmemSpace(RecoProgressShmemSize());
}

/* shmem_startup_hook: creates (zeroed) or attaches the slots. */
static void
RecoProgressShmemStartup(void)
{
	bool		found;
	RecoProgressSlot *slots;

	if (reco_prev_shmem_startup_hook)
		reco_prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	slots = ShmemInitStruct("reco training progress", RecoProgressShmemSize(), &found);
	if (!found)
		memset(slots, 0, RecoProgressShmemSize());
	LWLockRelease(AddinShmemInitLock);
	reco_progress_slots = slots;
}

/* From _PG_init: installs the shared memory hooks, only while preloading. */
void
RecoProgressShmemInit(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	reco_prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = RecoProgressShmemRequest;
	reco_prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = RecoProgressShmemStartup;
}

/* This backend's slot, or NULL (not preloaded, or no backend id). */
static volatile RecoProgressSlot *
RecoProgressMySlot(void)
{
	if (reco_progress_slots == NULL || MyBackendId < 1 || MyBackendId > MaxBackends)
		return NULL;
	return &reco_progress_slots[MyBackendId - 1];
}

/* Starts a change of the slot: readers retry until it ends. */
#define RECO_PROGRESS_WRITE_BEGIN(slot) \
	do { (slot)->changecount++; pg_write_barrier(); } while (0)
/* Ends a change of the slot. */
#define RECO_PROGRESS_WRITE_END(slot) \
	do { pg_write_barrier(); (slot)->changecount++; } while (0)

/* before_shmem_exit callback: an exiting backend leaves no slot behind. */
static void
RecoProgressOnExit(int code, Datum arg)
{
	RecoProgressEnd();
}

/*
 * Publishes a training of this backend: model, algorithm, total iterations,
 * rows read so far and phase; the start is the statement's.
 */
void
RecoProgressBegin(const char *model, const char *algorithm, int iterations,
				  int64 rows_read, RecoTrainPhase phase)
{
	volatile RecoProgressSlot *slot = RecoProgressMySlot();

	if (slot == NULL)
		return;
	if (!reco_progress_exit_registered)
	{
		before_shmem_exit(RecoProgressOnExit, (Datum) 0);
		reco_progress_exit_registered = true;
	}
	RECO_PROGRESS_WRITE_BEGIN(slot);
	slot->pid = MyProcPid;
	slot->dbid = MyDatabaseId;
	slot->userid = GetUserId();
	slot->phase = phase;
	slot->iteration = 0;
	slot->iterations = iterations;
	slot->has_loss = false;
	slot->loss = 0;
	slot->rows_read = rows_read;
	slot->chunks_done = 0;
	slot->chunks_total = 0;
	slot->started = GetCurrentStatementStartTimestamp();
	strlcpy((char *) slot->model, model, sizeof(slot->model));
	strlcpy((char *) slot->algorithm, algorithm, sizeof(slot->algorithm));
	RECO_PROGRESS_WRITE_END(slot);
}

/* This backend's slot while it shows a training, else NULL. */
static volatile RecoProgressSlot *
RecoProgressActiveSlot(void)
{
	volatile RecoProgressSlot *slot = RecoProgressMySlot();

	return slot != NULL && slot->pid != 0 ? slot : NULL;
}

/* Runs the assignments (to slot->...) as one change of this backend's slot, if it shows a training. */
#define RECO_PROGRESS_SET(assignments) \
	do { \
		volatile RecoProgressSlot *slot = RecoProgressActiveSlot(); \
		if (slot != NULL) \
		{ \
			RECO_PROGRESS_WRITE_BEGIN(slot); \
			assignments; \
			RECO_PROGRESS_WRITE_END(slot); \
		} \
	} while (0)

/* The rows the aggregate has read so far. */
void
RecoProgressRows(int64 rows_read)
{
	RECO_PROGRESS_SET(slot->rows_read = rows_read);
}

/* The training's new phase. */
void
RecoProgressPhase(RecoTrainPhase phase)
{
	RECO_PROGRESS_SET(slot->phase = phase; slot->chunks_done = 0; slot->chunks_total = 0);
}

/* The iteration (1-based) that starts now. */
void
RecoProgressIteration(int iteration)
{
	RECO_PROGRESS_SET(slot->phase = RECO_TRAIN_PHASE_ITERATING; slot->iteration = iteration;
					  slot->chunks_done = 0; slot->chunks_total = 0);
}

/*
 * RecoHooks.progress of a training's kernels: `done` chunks of rows of the
 * current pass (one side's solve, the loss, an epoch's batch) finished of
 * `total`; called on the backend's thread whenever the runner polls for a
 * cancel (every task it runs and every 5 ms while it waits), so the view
 * moves inside one long iteration and the final pass.
 */
void
RecoProgressChunks(void *arg, int64_t done, int64_t total)
{
	RECO_PROGRESS_SET(slot->chunks_done = done; slot->chunks_total = total);
}

/* The loss after the iteration that just finished. */
void
RecoProgressLoss(double loss)
{
	RECO_PROGRESS_SET(slot->loss = loss; slot->has_loss = true);
}

/* Clears this backend's slot: its training ended, failed or was cancelled. */
void
RecoProgressEnd(void)
{
	RECO_PROGRESS_SET(slot->pid = 0);
}

/* Memory context reset callback: the training's memory is gone, so is its slot. */
static void
RecoProgressResetCallback(void *arg)
{
	RecoProgressEnd();
}

/* Clears the slot when cxt is reset or deleted (the end, an error or a cancel). */
void
RecoProgressClearOnReset(MemoryContext cxt)
{
	MemoryContextCallback *cb;

	if (RecoProgressMySlot() == NULL)
		return;
	cb = MemoryContextAllocZero(cxt, sizeof(MemoryContextCallback));
	cb->func = RecoProgressResetCallback;
	MemoryContextRegisterResetCallback(cxt, cb);
}

/* A consistent copy of slot i: retries while its owner writes it. */
static void
RecoProgressReadSlot(int i, RecoProgressSlot *copy)
{
	volatile RecoProgressSlot *slot = &reco_progress_slots[i];

	for (;;)
	{
		uint32		before = slot->changecount;
		uint32		after;

		pg_read_barrier();
		memcpy(copy, (const void *) slot, sizeof(*copy));
		pg_read_barrier();
		after = slot->changecount;
		if (before == after && (before & 1) == 0)
			return;
		CHECK_FOR_INTERRUPTS();
	}
}

/* Columns of reco_internal.training_progress(). */
#define RECO_PROGRESS_COLUMNS 13

PG_FUNCTION_INFO_V1(reco_training_progress);

/*
 * reco_internal.training_progress(): one row per backend that is training.
 * Like pg_stat_progress_*: another role's training (unless the caller has
 * its privileges or pg_read_all_stats) shows only its pid and database.
 */
Datum
reco_training_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (reco_progress_slots == NULL)
		return (Datum) 0;
	for (i = 0; i < MaxBackends; i++)
	{
		RecoProgressSlot s;
		Datum		values[RECO_PROGRESS_COLUMNS];
		bool		nulls[RECO_PROGRESS_COLUMNS];
		int			c;

		RecoProgressReadSlot(i, &s);
		if (s.pid == 0 || BackendPidGetProc(s.pid) == NULL)
			continue;
		memset(nulls, 0, sizeof(nulls));
		values[0] = Int32GetDatum(s.pid);
		values[1] = ObjectIdGetDatum(s.dbid);
		if (!has_privs_of_role(GetUserId(), s.userid) &&
			!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		{
			for (c = 2; c < RECO_PROGRESS_COLUMNS; c++)
				nulls[c] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		values[2] = CStringGetTextDatum(s.model);
		values[3] = CStringGetTextDatum(s.algorithm);
		values[4] = CStringGetTextDatum(reco_train_phase_names[s.phase]);
		values[5] = Int32GetDatum(s.iteration);
		nulls[5] = s.iteration == 0;
		values[6] = Int32GetDatum(s.iterations);
		values[7] = Float8GetDatum(s.loss);
		nulls[7] = !s.has_loss;
		values[8] = Int64GetDatum(s.rows_read);
		values[9] = TimestampTzGetDatum(s.started);
		values[10] = Float8GetDatum((double) (now - s.started) / USECS_PER_SEC);
		values[11] = Int64GetDatum(s.chunks_done);
		nulls[11] = s.chunks_total == 0;
		values[12] = Int64GetDatum(s.chunks_total);
		nulls[12] = s.chunks_total == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
