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
 * Final function (once per group, on the backend's thread):
 *	 1. take an advisory lock on the model name (a second training of the same
 *		name waits for the first to commit or abort);
 *	 2. build id maps and sparse matrices (interactions.c), refusing above
 *		reco.max_memory with the estimate before the big arrays exist;
 *	 3. train with the kernel (als.c): its worker threads never touch
 *		PostgreSQL; this thread polls for cancel/statement_timeout between
 *		chunks through RecoShouldStop and raises the error after the kernel
 *		has joined its threads and freed its memory;
 *	 4. store the factors and the reco.models row (store.c), prune old
 *		versions, and return the new row.
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

/* What the memory check needs to know. */
typedef struct RecoMemoryCheck
{
	const RecoTrainOptions *options;
	int			threads;
	int64		rows;
	Size		estimate;		/* out: bytes */
} RecoMemoryCheck;

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
	RecoMemoryCheck *check = (RecoMemoryCheck *) arg;
	RecoAlsConfig cfg;
	int64		ids = sizes->n_users + sizes->n_items;
	Size		bytes;
	Size		limit = (Size) reco_max_memory_kb * 1024;

	memset(&cfg, 0, sizeof(cfg));
	cfg.factors = check->options->factors;
	cfg.solver = check->options->solver;
	cfg.cg_steps = check->options->cg_steps;
	cfg.threads = check->threads;
	bytes = mul_size(check->rows, sizeof(int64) * 2 + sizeof(float));	/* raw rows, held */
	bytes = add_size(bytes, RecoInteractionsBytes(sizes->n_users, sizes->n_items, check->rows));
	bytes = add_size(bytes, mul_size(mul_size(ids, check->options->factors), sizeof(float)));
	bytes = add_size(bytes, RecoAlsScratchBytes(&cfg, Max(sizes->n_users, sizes->n_items)));
	check->estimate = bytes;
	if (bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("training would need about %zu MB, more than reco.max_memory (%zu MB)",
						bytes / (1024 * 1024), limit / (1024 * 1024)),
				 errdetail(INT64_FORMAT " rows, " INT64_FORMAT " users, " INT64_FORMAT " items, %d factors.",
						   check->rows, sizes->n_users, sizes->n_items, check->options->factors),
				 errhint("Raise reco.max_memory, or train with fewer factors or on less data.")));
}

/* Turns a training kernel status into the right error; returns on success. */
static void
RecoCheckKernelStatus(RecoAlsStatus status, int iteration)
{
	switch (status)
	{
		case RECO_ALS_NOT_FINITE:
			ereport(ERROR,
					(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
					 errmsg("training diverged: factors are not finite after iteration %d", iteration),
					 errhint("Use a larger regularization or a smaller alpha, or check the weights' scale.")));
			break;
		case RECO_ALS_NOT_POSITIVE_DEFINITE:
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

PG_FUNCTION_INFO_V1(reco_fit_finalfn);

/* reco.fit final function: trains, stores and returns the new reco.models row. */
Datum
reco_fit_finalfn(PG_FUNCTION_ARGS)
{
	RecoFitState *state;
	MemoryContext aggcontext;
	MemoryContext train_cxt;
	MemoryContext old;
	RecoInteractions data;
	RecoMemoryCheck check;
	RecoAlsConfig cfg;
	RecoAlsHooks hooks = {RecoInterruptPending, NULL};
	RecoSparse by_user;
	RecoSparse by_item;
	RecoVersionRow row;
	StringInfoData stats;
	char	   *name;
	float	   *X;
	float	   *Y;
	double	   *loss;
	double	   *seconds;
	double		read_seconds,
				build_seconds,
				final_solve_seconds = 0,
				store_seconds;
	instr_time	started,
				phase;
	int64		rows_read,
				rows_skipped,
				rows_used,
				pruned;
	int			it;
	Datum		result;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "reco_fit_finalfn called in non-aggregate context");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reco.fit received no rows"),
				 errhint("Check the query's FROM and WHERE clauses: a model needs at least one interaction.")));
	state = (RecoFitState *) PG_GETARG_POINTER(0);
	name = text_to_cstring(state->model);
	rows_read = state->rows_read;
	rows_skipped = state->rows_skipped;
	rows_used = state->rows.count;
	if (rows_used == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reco.fit received no usable rows for model \"%s\"", name),
				 errdetail(INT64_FORMAT " rows were skipped because the user, the item or the weight was NULL.",
						   rows_skipped)));
	read_seconds = RecoSecondsSince(state->first_row);
	INSTR_TIME_SET_CURRENT(started);

	train_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco training", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "reco: SPI_connect failed, please report a bug");
	RecoLockModelName(name);

	/* build the sparse matrices, checking the memory budget first */
	INSTR_TIME_SET_CURRENT(phase);
	check.options = &state->options;
	check.threads = RecoEffectiveThreads(state->options.threads);
	check.rows = rows_used;
	old = MemoryContextSwitchTo(train_cxt);
	RecoBuildInteractions(&state->rows, &data, RecoCheckMemory, &check);
	build_seconds = RecoSecondsSince(phase);

	/* train */
	memset(&cfg, 0, sizeof(cfg));
	cfg.factors = state->options.factors;
	cfg.regularization = state->options.regularization;
	cfg.alpha = state->options.alpha;
	cfg.cg_steps = state->options.cg_steps;
	cfg.solver = state->options.solver;
	cfg.threads = check.threads;
	X = MemoryContextAllocHuge(train_cxt, mul_size(mul_size(data.n_users, cfg.factors), sizeof(float)));
	Y = MemoryContextAllocHuge(train_cxt, mul_size(mul_size(data.n_items, cfg.factors), sizeof(float)));
	loss = palloc(sizeof(double) * state->options.iterations);
	seconds = palloc(sizeof(double) * state->options.iterations);
	RecoAlsInitFactors(X, data.n_users, cfg.factors, data.user_ids, (uint64) state->options.seed, 1);
	RecoAlsInitFactors(Y, data.n_items, cfg.factors, data.item_ids, (uint64) state->options.seed, 2);
	by_user = RecoUserMatrix(&data);
	by_item = RecoItemMatrix(&data);
	for (it = 0; it < state->options.iterations; it++)
	{
		CHECK_FOR_INTERRUPTS();
		INSTR_TIME_SET_CURRENT(phase);
		RecoCheckKernelStatus(RecoAlsSolveSide(&by_user, Y, X, &cfg, &hooks), it + 1);
		RecoCheckKernelStatus(RecoAlsSolveSide(&by_item, X, Y, &cfg, &hooks), it + 1);
		seconds[it] = RecoSecondsSince(phase);
		RecoCheckKernelStatus(RecoAlsLoss(&by_user, X, Y, &cfg, &hooks, &loss[it]), it + 1);
		ereport(NOTICE,
				(errmsg("reco.fit \"%s\": iteration %d/%d, loss %.6g, %.3f s",
						name, it + 1, state->options.iterations, loss[it], seconds[it])));
	}

	/*
	 * One last exact (Cholesky) solve of the user side against the final item
	 * factors: the stored user vectors are then exactly what folding their
	 * training items in gives (recommend_for_items, explain), whichever
	 * solver trained.  Positive definite whenever regularization > 0.
	 */
	if (cfg.regularization > 0)
	{
		RecoAlsConfig exact = cfg;

		INSTR_TIME_SET_CURRENT(phase);
		exact.solver = RECO_SOLVER_CHOLESKY;
		RecoCheckKernelStatus(RecoAlsSolveSide(&by_user, Y, X, &exact, &hooks), state->options.iterations);
		final_solve_seconds = RecoSecondsSince(phase);
	}

	/* store the new version */
	INSTR_TIME_SET_CURRENT(phase);
	memset(&row, 0, sizeof(row));
	row.model_id = RecoNewModelId();
	row.name = name;
	row.version = RecoNextVersion(name);
	RecoStoreItemFactors(row.model_id, &data, Y, cfg.factors);
	RecoStoreUserFactors(row.model_id, &data, X, cfg.factors);
	store_seconds = RecoSecondsSince(phase);
	pruned = RecoPruneVersions(name, row.version, state->options.keep_versions);

	initStringInfo(&stats);
	appendStringInfo(&stats,
					 "{\"rows_read\": " INT64_FORMAT ", \"rows_skipped\": " INT64_FORMAT
					 ", \"duplicates_merged\": " INT64_FORMAT ", \"users\": " INT64_FORMAT
					 ", \"items\": " INT64_FORMAT ", \"read_seconds\": %.6f, \"build_seconds\": %.6f, ",
					 rows_read, rows_skipped, data.duplicates_merged, data.n_users, data.n_items,
					 read_seconds, build_seconds);
	RecoAppendJsonArray(&stats, "iteration_seconds", seconds, state->options.iterations);
	appendStringInfoString(&stats, ", ");
	RecoAppendJsonArray(&stats, "loss", loss, state->options.iterations);
	appendStringInfo(&stats,
					 ", \"final_solve_seconds\": %.6f, \"store_seconds\": %.6f, \"threads\": %d"
					 ", \"memory_bytes\": %zu, \"versions_pruned\": " INT64_FORMAT "}",
					 final_solve_seconds, store_seconds, cfg.threads, check.estimate, pruned);
	row.params_json = RecoTrainOptionsToJson(&state->options);
	row.n_users = data.n_users;
	row.n_items = data.n_items;
	row.n_interactions = data.nnz;
	row.factors = cfg.factors;
	row.loss = loss;
	row.iterations = state->options.iterations;
	row.train_seconds = read_seconds + RecoSecondsSince(started);
	row.stats_json = stats.data;
	RecoInsertVersion(&row);
	MemoryContextSwitchTo(old);
	result = RecoFetchVersionRow(row.model_id);
	SPI_finish();
	MemoryContextDelete(train_cxt);
	PG_RETURN_DATUM(result);
}
