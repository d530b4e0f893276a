/*-------------------------------------------------------------------------
 *
 * train.c
 *	  The reco.fit aggregate: collects interactions, trains, stores a version.
 *
 * Transition (one call per input row, in the aggregate's memory context):
 * the first row fixes the model name and parses the options (so a bad option
 * fails before millions of rows are read); every row is appended to three
 * growing arrays; rows with a NULL user, item or weight are counted and
 * skipped; a NaN or infinite weight is an error naming the ids.
 *
 * Final function (once per group, on the backend's thread), one function
 * per phase, all sharing one RecoTrainRun:
 *	 0. take an advisory lock on the model name (a second training of the same
 *		name waits for the first to commit or abort);
 *	 1. build (RecoTrainBuild): id maps and sparse matrices (interactions.c),
 *		refusing above reco.max_memory with the estimate before the big
 *		arrays exist;
 *	 2. train (RecoTrainIterate): the kernel's side solves (als.c); its
 *		worker threads never touch PostgreSQL; this thread polls for
 *		cancel/statement_timeout between chunks through RecoInterruptPending
 *		and raises the error after the kernel has joined its threads and
 *		freed its memory;
 *	 3. final pass (RecoTrainFinalPass): one exact solve of the user side;
 *	 4. store (RecoTrainStore): the factors and the reco.models row
 *		(store.c), pruning old versions, then the summary NOTICE unless
 *		reco.progress is none; the new row is returned.
 * All training arrays live in one memory context ("reco training") that is
 * deleted at the end, or with its parent on error, so nothing leaks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "als.h"
#include "interactions.h"
#include "options.h"
#include "reco.h"
#include "store.h"

/* The random streams of the initial user and item factors (one seed, two streams). */
#define RECO_SEED_STREAM_USERS 1
#define RECO_SEED_STREAM_ITEMS 2

/* The aggregate's state. */
typedef struct RecoFitState
{
	text	   *model;			/* name, from the first row */
	RecoTrainOptions options;	/* from the first row */
	RecoRows	rows;
	int64		rows_read;
	int64		rows_skipped;
	instr_time	first_row;		/* start of the read phase */
} RecoFitState;

/* One training run: what its phases hand to each other. */
typedef struct RecoTrainRun
{
	const char *name;			/* the model name */
	const RecoTrainOptions *options;
	RecoRows   *rows;			/* the aggregate's rows, consumed by the build */
	RecoAlsConfig cfg;			/* the kernel's view of the options */
	RecoHooks hooks;			/* cancel/timeout polling */
	int64		rows_read;
	int64		rows_skipped;
	int64		rows_used;
	RecoInteractions data;		/* built: ids and sparse matrices */
	Size		memory_estimate;	/* bytes, as checked against reco.max_memory */
	float	   *X;				/* users x factors */
	float	   *Y;				/* items x factors */
	double	   *loss;			/* per iteration */
	double	   *iteration_seconds;	/* per iteration */
	double		read_seconds;
	double		build_seconds;
	double		final_solve_seconds;
	double		store_seconds;
	int64		versions_pruned;
	instr_time	started;		/* end of the read phase */
	RecoVersionRow row;			/* the stored version */
} RecoTrainRun;

/* Seconds elapsed since start. */
static double
RecoSecondsSince(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_DOUBLE(now);
}

/* Creates the state on the first row: model name and options. */
static RecoFitState *
RecoFitStart(FunctionCallInfo fcinfo, MemoryContext aggcontext)
{
	MemoryContext old = MemoryContextSwitchTo(aggcontext);
	RecoFitState *state = palloc0(sizeof(RecoFitState));
	char	   *name;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	state->model = PG_GETARG_TEXT_P_COPY(1);
	name = text_to_cstring(state->model);
	RecoCheckModelName(name);
	RecoCheckTrainPrivileges();
	RecoParseTrainOptions(PG_NARGS() > 5 && !PG_ARGISNULL(5) ? PG_GETARG_JSONB_P(5) : NULL,
						  &state->options);
	INSTR_TIME_SET_CURRENT(state->first_row);
	MemoryContextSwitchTo(old);
	return state;
}

PG_FUNCTION_INFO_V1(reco_fit_transfn);

/* reco.fit transition: appends one (user, item, weight) row. */
Datum
reco_fit_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	RecoFitState *state;
	float		weight;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "reco_fit_transfn called in non-aggregate context");
	if (PG_ARGISNULL(0))
		state = RecoFitStart(fcinfo, aggcontext);
	else
	{
		state = (RecoFitState *) PG_GETARG_POINTER(0);
		if (PG_ARGISNULL(1) ||
			VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) != VARSIZE_ANY_EXHDR(state->model) ||
			memcmp(VARDATA_ANY(PG_GETARG_TEXT_PP(1)), VARDATA_ANY(state->model),
				   VARSIZE_ANY_EXHDR(state->model)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model name must be the same in every row of a group"),
					 errhint("Use GROUP BY to train one model per name.")));
	}
	state->rows_read++;
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		state->rows_skipped++;
		PG_RETURN_POINTER(state);
	}
	weight = PG_GETARG_FLOAT4(4);
	if (isnan(weight) || isinf(weight))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("weight of user " INT64_FORMAT " and item " INT64_FORMAT " is %s",
						PG_GETARG_INT64(2), PG_GETARG_INT64(3), isnan(weight) ? "NaN" : "infinite"),
				 errhint("Weights must be finite numbers.")));
	{
		MemoryContext old = MemoryContextSwitchTo(aggcontext);

		RecoRowsAppend(&state->rows, PG_GETARG_INT64(2), PG_GETARG_INT64(3), weight);
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_POINTER(state);
}

/* Estimates the training's memory and refuses it above reco.max_memory (53200). */
static void
RecoCheckMemory(const RecoInteractions *sizes, void *arg)
{
	RecoTrainRun *run = (RecoTrainRun *) arg;
	int64		ids = sizes->n_users + sizes->n_items;
	Size		bytes;
	Size		limit = (Size) reco_max_memory_kb * 1024;

	bytes = mul_size(run->rows_used, sizeof(int64) * 2 + sizeof(float));	/* raw rows, held */
	bytes = add_size(bytes, RecoInteractionsBytes(sizes->n_users, sizes->n_items, run->rows_used));
	bytes = add_size(bytes, mul_size(mul_size(ids, run->cfg.factors), sizeof(float)));
	bytes = add_size(bytes, RecoAlsScratchBytes(&run->cfg, Max(sizes->n_users, sizes->n_items),
												 Max(sizes->n_users, sizes->n_items)));
	run->memory_estimate = bytes;
	if (bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("training would need about %zu MB, more than reco.max_memory (%zu MB)",
						bytes / (1024 * 1024), limit / (1024 * 1024)),
				 errdetail(INT64_FORMAT " rows, " INT64_FORMAT " users, " INT64_FORMAT " items, %d factors.",
						   run->rows_used, sizes->n_users, sizes->n_items, run->cfg.factors),
				 errhint("Raise reco.max_memory, or train with fewer factors or on less data.")));
}

/* Turns a training kernel status into the right error; returns on success. */
static void
RecoCheckKernelStatus(RecoStatus status, int iteration)
{
	switch (status)
	{
		case RECO_STATUS_NOT_FINITE:
			ereport(ERROR,
					(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
					 errmsg("training diverged: factors are not finite after iteration %d", iteration),
					 errhint("Use a larger regularization or a smaller alpha, or check the weights' scale.")));
			break;
		case RECO_STATUS_NOT_POSITIVE_DEFINITE:
			ereport(ERROR,
					(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
					 errmsg("a least-squares system is not positive definite in iteration %d", iteration),
					 errhint("Use a regularization above 0, or the cg solver.")));
			break;
		default:
			RecoReportKernelStatus(status, "training");
	}
}

/* Appends a JSON array of doubles. */
static void
RecoAppendJsonArray(StringInfo buf, const char *key, const double *values, int n)
{
	int			i;

	appendStringInfo(buf, "\"%s\": [", key);
	for (i = 0; i < n; i++)
		appendStringInfo(buf, "%s%.6g", i ? ", " : "", values[i]);
	appendStringInfoString(buf, "]");
}

/*
 * Starts a run from the aggregate's state: errors out (22023) if the group
 * had no usable row; the read phase ends here.
 */
static void
RecoTrainStart(FunctionCallInfo fcinfo, RecoTrainRun *run)
{
	RecoFitState *state;
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "reco_fit_finalfn called in non-aggregate context");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reco.fit received no rows"),
				 errhint("Check the query's FROM and WHERE clauses: a model needs at least one interaction.")));
	state = (RecoFitState *) PG_GETARG_POINTER(0);
	memset(run, 0, sizeof(*run));
	run->name = text_to_cstring(state->model);
	run->options = &state->options;
	run->rows = &state->rows;
	RecoAlsConfigFromOptions(&state->options, &run->cfg);
	run->hooks.should_stop = RecoInterruptPending;
	run->rows_read = state->rows_read;
	run->rows_skipped = state->rows_skipped;
	run->rows_used = state->rows.count;
	if (run->rows_used == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reco.fit received no usable rows for model \"%s\"", run->name),
				 errdetail(INT64_FORMAT " rows were skipped because the user, the item or the weight was NULL.",
						   run->rows_skipped)));
	run->read_seconds = RecoSecondsSince(state->first_row);
	INSTR_TIME_SET_CURRENT(run->started);
}

/* Phase 1: the id maps and sparse matrices, the memory budget checked before they are allocated. */
static void
RecoTrainBuild(RecoTrainRun *run)
{
	instr_time	phase;

	INSTR_TIME_SET_CURRENT(phase);
	RecoBuildInteractions(run->rows, &run->data, RecoCheckMemory, run);
	if (run->data.users_positive == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no user of model \"%s\" has a positive net weight", run->name),
				 errdetail(INT64_FORMAT " pairs had a net weight of 0, " INT64_FORMAT " users had none above 0.",
						   run->data.pairs_net_zero, run->data.users_without_positive),
				 errhint("A model learns from what users did: at least one (user, item) pair must sum to a weight above 0.")));
	run->build_seconds = RecoSecondsSince(phase);
}

/* Phase 2: seeded initial factors, then the iterations (both sides, then the loss). */
static void
RecoTrainIterate(RecoTrainRun *run)
{
	RecoInteractions *data = &run->data;
	RecoAlsConfig *cfg = &run->cfg;
	int			iterations = run->options->iterations;
	uint64		seed = (uint64) run->options->seed;
	RecoSparse	by_user = RecoUserMatrix(data);
	RecoSparse	by_item = RecoItemMatrix(data);
	int			it;

	run->X = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(mul_size(data->n_users, cfg->factors), sizeof(float)));
	run->Y = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(mul_size(data->n_items, cfg->factors), sizeof(float)));
	run->loss = palloc(sizeof(double) * iterations);
	run->iteration_seconds = palloc(sizeof(double) * iterations);
	RecoAlsInitFactors(run->X, data->n_users, cfg->factors, data->user_ids, seed, RECO_SEED_STREAM_USERS);
	RecoAlsInitFactors(run->Y, data->n_items, cfg->factors, data->item_ids, seed, RECO_SEED_STREAM_ITEMS);
	for (it = 0; it < iterations; it++)
	{
		instr_time	phase;

		CHECK_FOR_INTERRUPTS();
		INSTR_TIME_SET_CURRENT(phase);
		RecoCheckKernelStatus(RecoAlsSolveSide(&by_user, run->Y, run->X, cfg, &run->hooks), it + 1);
		RecoCheckKernelStatus(RecoAlsSolveSide(&by_item, run->X, run->Y, cfg, &run->hooks), it + 1);
		run->iteration_seconds[it] = RecoSecondsSince(phase);
		RecoCheckKernelStatus(RecoAlsLoss(&by_user, run->X, run->Y, cfg, &run->hooks, &run->loss[it]), it + 1);
		if (reco_progress == RECO_PROGRESS_ITERATIONS)
			ereport(NOTICE,
					(errmsg("reco.fit \"%s\": iteration %d/%d, loss %.6g",
							run->name, it + 1, iterations, run->loss[it]),
					 errdetail("The iteration took %.3f s.", run->iteration_seconds[it])));
	}
}

/*
 * Phase 3: one last exact (Cholesky) solve of the user side against the
 * final item factors: the stored user vectors are then exactly what folding
 * their training items in gives (recommend_for_items, explain), whichever
 * solver trained.  Positive definite whenever regularization > 0.
 */
static void
RecoTrainFinalPass(RecoTrainRun *run)
{
	RecoAlsConfig exact = run->cfg;
	RecoSparse	by_user = RecoUserMatrix(&run->data);
	instr_time	phase;

	if (run->cfg.regularization <= 0)
		return;
	INSTR_TIME_SET_CURRENT(phase);
	exact.solver = RECO_SOLVER_CHOLESKY;
	RecoCheckKernelStatus(RecoAlsSolveSide(&by_user, run->Y, run->X, &exact, &run->hooks),
						  run->options->iterations);
	run->final_solve_seconds = RecoSecondsSince(phase);
}

/* The stats jsonb text of a stored run (reco.models.stats). */
static char *
RecoTrainStatsJson(const RecoTrainRun *run)
{
	StringInfoData stats;

	initStringInfo(&stats);
	appendStringInfo(&stats,
					 "{\"rows_read\": " INT64_FORMAT ", \"rows_skipped\": " INT64_FORMAT
					 ", \"duplicates_merged\": " INT64_FORMAT ", \"pairs_net_zero\": " INT64_FORMAT
					 ", \"users\": " INT64_FORMAT ", \"users_without_positive\": " INT64_FORMAT
					 ", \"items\": " INT64_FORMAT ", \"read_seconds\": %.6f, \"build_seconds\": %.6f, ",
					 run->rows_read, run->rows_skipped, run->data.duplicates_merged, run->data.pairs_net_zero,
					 run->data.n_users, run->data.users_without_positive,
					 run->data.n_items, run->read_seconds, run->build_seconds);
	RecoAppendJsonArray(&stats, "iteration_seconds", run->iteration_seconds, run->options->iterations);
	appendStringInfoString(&stats, ", ");
	RecoAppendJsonArray(&stats, "loss", run->loss, run->options->iterations);
	appendStringInfo(&stats,
					 ", \"final_solve_seconds\": %.6f, \"store_seconds\": %.6f, \"threads\": %d"
					 ", \"memory_bytes\": %zu, \"versions_pruned\": " INT64_FORMAT "}",
					 run->final_solve_seconds, run->store_seconds, run->cfg.threads,
					 run->memory_estimate, run->versions_pruned);
	return stats.data;
}

/*
 * Phase 4: the factors, the pruning of old versions and the new reco.models
 * row; then the summary NOTICE (reco.progress), timings in its DETAIL so
 * that a test can leave them out (VERBOSITY terse).
 */
static void
RecoTrainStore(RecoTrainRun *run)
{
	RecoVersionRow *row = &run->row;
	instr_time	phase;

	INSTR_TIME_SET_CURRENT(phase);
	memset(row, 0, sizeof(*row));
	row->model_id = RecoNewModelId();
	row->name = run->name;
	row->version = RecoNextVersion(run->name);
	RecoStoreItemFactors(row->model_id, &run->data, run->Y, run->cfg.factors);
	RecoStoreUserFactors(row->model_id, &run->data, run->X, run->cfg.factors);
	run->store_seconds = RecoSecondsSince(phase);
	run->versions_pruned = RecoPruneVersions(run->name, row->version, run->options->keep_versions);

	row->params_json = RecoTrainOptionsToJson(run->options);
	row->n_users = run->data.users_positive;
	row->n_items = run->data.n_items;
	row->n_interactions = run->data.nnz;
	row->factors = run->cfg.factors;
	row->loss = run->loss;
	row->iterations = run->options->iterations;
	row->train_seconds = run->read_seconds + RecoSecondsSince(run->started);
	row->stats_json = RecoTrainStatsJson(run);
	RecoInsertVersion(row);
	if (reco_progress != RECO_PROGRESS_NONE)
		ereport(NOTICE,
				(errmsg("reco.fit \"%s\": version %d, " INT64_FORMAT " users, " INT64_FORMAT " items, %d iterations, loss %.4g",
						run->name, row->version, row->n_users, row->n_items, row->iterations,
						row->iterations > 0 ? run->loss[row->iterations - 1] : 0.0),
				 errdetail("Trained in %.3f s; the statistics are in reco.models.", row->train_seconds)));
}

PG_FUNCTION_INFO_V1(reco_fit_finalfn);

/* reco.fit final function: trains, stores and returns the new reco.models row. */
Datum
reco_fit_finalfn(PG_FUNCTION_ARGS)
{
	RecoTrainRun run;
	MemoryContext train_cxt;
	MemoryContext old;
	Datum		result;

	RecoTrainStart(fcinfo, &run);
	train_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco training", ALLOCSET_DEFAULT_SIZES);
	RecoSpiConnect();
	RecoLockModelName(run.name);
	old = MemoryContextSwitchTo(train_cxt);
	RecoTrainBuild(&run);
	RecoTrainIterate(&run);
	RecoTrainFinalPass(&run);
	RecoTrainStore(&run);
	MemoryContextSwitchTo(old);
	result = RecoFetchVersionRow(run.row.model_id);
	RecoSpiFinish();
	MemoryContextDelete(train_cxt);
	PG_RETURN_DATUM(result);
}
