/*-------------------------------------------------------------------------
 *
 * reco.c
 *	  Module initialisation: settings (GUCs) and the version function.
 *
 * Nothing here allocates or starts threads: _PG_init only registers
 * settings (and, when preloaded, the shared memory hooks of progress.c), so
 * loading reco into any backend is cheap and safe.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <unistd.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "progress.h"
#include "reco.h"
#include "shared_cache.h"

PG_MODULE_MAGIC;

int			reco_threads = 0;
int			reco_max_memory_kb = RECO_DEFAULT_MAX_MEMORY_KB;
int			reco_cache_size_kb = RECO_DEFAULT_CACHE_SIZE_KB;
char	   *reco_model = NULL;
int			reco_progress = RECO_PROGRESS_SUMMARY;

/* The values of reco.progress. */
static const struct config_enum_entry reco_progress_options[] = {
	{"none", RECO_PROGRESS_NONE, false},
	{"summary", RECO_PROGRESS_SUMMARY, false},
	{"iterations", RECO_PROGRESS_ITERATIONS, false},
	{NULL, 0, false}
};

void		_PG_init(void);

/* Registers reco's settings and reserves the "reco." prefix. */
void
_PG_init(void)
{
	DefineCustomIntVariable("reco.threads",
							"Threads used by training and batch scoring (0 = number of online cores).",
							NULL,
							&reco_threads,
							RECO_DEFAULT_THREADS, 0, RECO_MAX_THREADS,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("reco.max_memory",
							"Largest memory estimate a training may have before it is refused.",
							NULL,
							&reco_max_memory_kb,
							RECO_DEFAULT_MAX_MEMORY_KB, RECO_MIN_MAX_MEMORY_KB, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("reco.cache_size",
							"Memory each backend may use to cache the factors of served models.",
							NULL,
							&reco_cache_size_kb,
							RECO_DEFAULT_CACHE_SIZE_KB, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomStringVariable("reco.model",
							   "Model used by reco.recommend(user_id, n) when no model is named.",
							   NULL,
							   &reco_model,
							   NULL,
							   PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomEnumVariable("reco.progress",
							 "What reco.fit reports while training: none, summary or iterations.",
							 "summary: one NOTICE per trained model at the end; iterations: one per iteration too.",
							 &reco_progress,
							 RECO_PROGRESS_SUMMARY,
							 reco_progress_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	/* the shared copies of served matrices: reco.shared_cache_size, and shared memory when preloaded */
	RecoSharedCacheInit();
	MarkGUCPrefixReserved("reco");
	RecoProgressShmemInit();	/* reco.training_progress, when preloaded */
}

/* Resolves a requested thread count: <= 0 means reco.threads, then the cores. */
int
RecoEffectiveThreads(int requested)
{
	int			threads = requested > 0 ? requested : reco_threads;

	if (threads <= 0)
	{
		long		cores = sysconf(_SC_NPROCESSORS_ONLN);

		threads = cores > 0 ? (int) Min(cores, RECO_MAX_THREADS) : 1;
	}
	return threads;
}

/* Rejects an empty or over-long model name (22023). */
void
RecoCheckModelName(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (len > RECO_MAX_MODEL_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name is too long (%zu bytes)", len),
				 errdetail("A model name has at most %d bytes.", RECO_MAX_MODEL_NAME)));
}

PG_FUNCTION_INFO_V1(reco_version);

/* reco.version(): the version of the loaded shared library. */
Datum
reco_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(RECO_VERSION));
}

/* Polled by the kernels on the backend's thread: has a cancel, timeout or termination arrived? */
bool
RecoInterruptPending(void *arg)
{
	return QueryCancelPending || ProcDiePending;
}

/*
 * Turns the outcomes every threaded kernel can have into the right error
 * (`work` names it: "training", "batch scoring"); returns on RECO_STATUS_OK.
 * Kernel-specific outcomes are the caller's to report first.
 */
void
RecoReportKernelStatus(RecoStatus status, const char *work)
{
	switch (status)
	{
		case RECO_STATUS_OK:
			return;
		case RECO_STATUS_STOPPED:
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("%s was interrupted", work)));
			break;
		case RECO_STATUS_NO_MEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory in %s", work)));
			break;
		case RECO_STATUS_THREAD_ERROR:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("could not start threads for %s", work),
					 errhint("Set reco.threads to 1 to run on the backend's own thread.")));
			break;
		default:
			elog(ERROR, "reco: %s failed (%s), please report a bug", work, RecoStatusString(status));
	}
}
