/*-------------------------------------------------------------------------
 *
 * train.c
 *	  The reco.fit aggregate: collects interactions, trains, stores a version.
 *
 * Transition (one call per input row, in the aggregate's memory context):
 * the first row fixes the model name and parses the options (so a bad option
 * fails before millions of rows are read); every row is appended to three
 * growing arrays; rows with a NULL user, item or weight are counted and
 * skipped; a NaN or infinite weight is an error naming the ids.  The text
 * aggregate (ids as text) reads each side as its id type: a bigint side is
 * parsed, a text or uuid side's key (a uuid canonical) is interned
 * (RecoKeyTable) and the row holds the key's provisional id; before the build
 * the keys are sorted and provisional ids become codes (1-based ranks), so
 * training from there on is the bigint training of the codes, bit for bit.
 * The aggregates with an event time (either id type) also keep each row's
 * time; a row with a NULL time, or one after an explicit as_of, is skipped
 * and counted, and before the build every weight decays by its age
 * (RecoTrainDecay, decay.h).
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
 *	 3. final pass (RecoTrainFinalPass): one exact solve of the user side,
 *		this thread storing meanwhile the item rows and then the user rows
 *		solved so far, taking the pass's tasks only when no solved row is
 *		left to store (RecoTrainStoreReady; an error there is raised once
 *		the pass's threads have joined);
 *	 4. store (RecoTrainStore): the factor rows left and the reco.models row
 *		(store.c), pruning old versions, then the summary NOTICE unless
 *		reco.progress is none; the new row is returned.
 * All training arrays live in one memory context ("reco training") that is
 * deleted at the end, or with its parent on error, so nothing leaks.
 *
 * The direct read (reco_fit_table, 0.8.0): reco.train gives a plain table's
 * rows to the same state and final phases without the executor, by a heap
 * scan in the sequential scan's order, where store.c's direct-read opener
 * allows it and the query's plan is that sequential scan (else reco.train
 * runs the aggregate's query).  Its prefault thread (hugepage.c), once the
 * row arrays are mapped ahead, maps the buffer pool's pages into this
 * backend, so that the store's writes through them do not fault each page.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "als.h"
#include "bpr.h"
#include "decay.h"
#include "explicit.h"
#include "feature_train.h"
#include "ids.h"
#include "interactions.h"
#include "options.h"
#include "progress.h"
#include "reco.h"
#include "store.h"

/* The aggregate's arguments: state, model, user, item, weight, [event time,] [options]. */
#define RECO_FIT_ARG_TIME 5
#define RECO_FIT_TIMED_NARGS 7

/* The random streams of the initial user and item factors (one seed, two streams). */
#define RECO_SEED_STREAM_USERS 1
#define RECO_SEED_STREAM_ITEMS 2

/* The aggregate's state. */
typedef struct RecoFitState
{
	text	   *model;			/* name, from the first row */
	bool		model_stable;	/* the name is a constant or parameter: no other row can differ */
	RecoTrainOptions options;	/* from the first row */
	RecoRows	rows;
	int64		rows_read;
	int64		rows_skipped;
	instr_time	first_row;		/* start of the read phase */
	TimestampTz read_started;	/* the reading statement's start: its snapshot is no older */
	bool		text_ids;		/* the text aggregate: ids arrive as text */
	RecoKeyTable *user_keys;		/* a text or uuid user side's keys, else NULL */
	RecoKeyTable *item_keys;		/* a text or uuid item side's keys, else NULL */
	bool		timed;			/* the aggregate with an event time (decay) */
	int64		events_without_time;	/* timed: rows skipped, their event time NULL */
	int64		events_after_as_of; /* timed: rows skipped, their event time after as_of */
	bool		direct_read;	/* read by reco_fit_table's heap scan, not through the executor */
} RecoFitState;

/* One training run: what its phases hand to each other. */
typedef struct RecoTrainRun
{
	const char *name;			/* the model name */
	const RecoTrainOptions *options;
	RecoRows   *rows;			/* the aggregate's rows, consumed by the build */
	RecoKeyTable *user_keys;		/* the aggregate's keys, coded by the build */
	RecoKeyTable *item_keys;
	RecoAlsConfig cfg;			/* the kernel's view of the options */
	RecoHooks hooks;			/* cancel/timeout polling */
	int64		rows_read;
	int64		rows_skipped;
	int64		rows_used;
	bool		timed;
	int64		events_without_time;
	int64		events_after_as_of;
	bool		direct_read;
	RecoInteractions data;		/* built: ids and sparse matrices */
	Size		memory_estimate;	/* bytes, as checked against reco.max_memory */
	Size		key_bytes;		/* held by the keys of text and uuid sides */
	float	   *X;				/* users x factors */
	float	   *Y;				/* items x factors */
	double	   *loss;			/* per iteration (als: the training RMSE) */
	double		global_mean;	/* als: μ, the mean training rating */
	double	   *iteration_seconds;	/* per iteration */
	double		read_seconds;
	TimestampTz read_started;	/* the aggregate's */
	double		build_seconds;
	double		final_solve_seconds;	/* the final pass, the store's part inside it included */
	double		store_seconds;	/* from the end of the final pass to the end of the store */
	double		store_overlapped_seconds;	/* the backend's time storing inside the final pass */
	RecoFactorStore *store;		/* the factor rows' store, once started */
	int64		versions_pruned;
	instr_time	started;		/* end of the read phase */
	RecoVersionRow row;			/* the stored version */
	RecoSideFeatures *features[2];	/* by RecoSide: the side's features, or NULL */
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

/* The bigint aggregate reads only bigint ids: an id type option saying otherwise is an error (22023). */
static void
RecoCheckBigintIdTypes(const RecoTrainOptions *options)
{
	const char *option = options->user_id_type != RECO_ID_BIGINT ? "user_id_type"
		: options->item_id_type != RECO_ID_BIGINT ? "item_id_type" : NULL;

	if (option != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be \"bigint\" when the ids are bigint", option),
				 errhint("To train with text or uuid ids, pass the ids as text: reco.fit(model, user_id::text, item_id::text, weight, options).")));
}

/*
 * The time options fit the aggregate (22023): the one with an event time
 * needs a half_life (a time that changed nothing would hide a mistake); the
 * one without takes none of time_col, half_life, as_of.
 */
static void
RecoCheckTimeOptions(const RecoTrainOptions *options, bool timed)
{
	const char *option = options->time_col != NULL ? "time_col"
		: options->half_life != NULL ? "half_life"
		: options->as_of != RECO_AS_OF_NEWEST ? "as_of" : NULL;

	if (timed && options->half_life == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reco.fit with an event time needs the option \"half_life\""),
				 errhint("Pass the half-life of the decay, e.g. '{\"half_life\": \"90 days\"}', or train without the event time.")));
	if (!timed && option != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" needs an event time", option),
				 errhint("Pass each row's event time: reco.fit(model, user_id, item_id, weight, event_time, options).")));
}

/*
 * Whether the aggregate's model name is a constant or a parameter (as
 * reco.train passes it), the same in every row: then only the first row's
 * is read.  The transition function's own fn_expr cannot say (its
 * arguments are placeholders): the Aggref's first argument is looked at.
 */
static bool
RecoFitModelStable(FunctionCallInfo fcinfo)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	Node	   *arg;

	if (aggref == NULL || list_length(aggref->args) < 1)
		return false;
	arg = (Node *) ((TargetEntry *) linitial(aggref->args))->expr;
	return IsA(arg, Const) || (IsA(arg, Param) && ((Param *) arg)->paramkind == PARAM_EXTERN);
}

/*
 * Creates the state, in cxt, on the first row: the model name (22004 if
 * NULL), stable or not, the id kind (text_ids), with or without an event
 * time, the options parsed and checked; the read phase starts.
 */
static RecoFitState *
RecoFitStateCreate(MemoryContext cxt, Datum model, bool model_isnull, bool model_stable, bool text_ids,
				   bool timed, Datum options, bool options_isnull)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	RecoFitState *state = palloc0(sizeof(RecoFitState));
	char	   *name;

	if (model_isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	state->model = DatumGetTextPCopy(model);
	state->model_stable = model_stable;
	name = text_to_cstring(state->model);
	RecoCheckModelName(name);
	state->text_ids = text_ids;
	state->timed = timed;
	state->rows.timed = state->timed;
	RecoParseTrainOptions(options_isnull ? NULL : DatumGetJsonbP(options),
						  state->text_ids ? RECO_ID_TEXT : RECO_ID_BIGINT, &state->options);
	RecoCheckTrainPrivileges(state->options.item_features != NIL || state->options.user_features != NIL);
	RecoCheckTimeOptions(&state->options, state->timed);
	state->rows.ratings = state->options.algorithm == RECO_ALGORITHM_ALS;
	if (!state->text_ids)
		RecoCheckBigintIdTypes(&state->options);
	if (state->options.user_id_type != RECO_ID_BIGINT)
		state->user_keys = RecoKeyTableCreate(cxt);
	if (state->options.item_id_type != RECO_ID_BIGINT)
		state->item_keys = RecoKeyTableCreate(cxt);
	INSTR_TIME_SET_CURRENT(state->first_row);
	state->read_started = GetCurrentStatementStartTimestamp();
	MemoryContextSwitchTo(old);
	RecoProgressBegin(name, RecoAlgorithmName(state->options.algorithm), state->options.iterations, 0,
					  RECO_TRAIN_PHASE_READING);
	RecoProgressClearOnReset(cxt);
	return state;
}

/* Creates the aggregate's state on the first row (RecoFitStateCreate) from the call's arguments. */
static RecoFitState *
RecoFitStart(FunctionCallInfo fcinfo, MemoryContext aggcontext)
{
	bool		with_options = PG_NARGS() > RECO_FIT_ARG_TIME && !PG_ARGISNULL(PG_NARGS() - 1);

	return RecoFitStateCreate(aggcontext, PG_GETARG_DATUM(1), PG_ARGISNULL(1), RecoFitModelStable(fcinfo),
							  get_fn_expr_argtype(fcinfo->flinfo, 2) == TEXTOID,
							  PG_NARGS() == RECO_FIT_TIMED_NARGS,
							  with_options ? PG_GETARG_DATUM(PG_NARGS() - 1) : (Datum) 0, !with_options);
}

/* Whether len bytes are a uuid in canonical form (lower-case hex, hyphens at 8, 13, 18, 23). */
static bool
RecoIsCanonicalUuid(const char *s, int len)
{
	int			i;

	if (len != 36)
		return false;
	for (i = 0; i < len; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/*
 * The id of a row's user or item given as text (a non-NULL argument of the
 * text aggregate): on a bigint side the bigint it reads as (22P02, 22003),
 * on a text or uuid side the provisional id of its key, interned in keys
 * (a uuid canonicalized; 22P02 if it is not one).
 */
static int64
RecoFitTextId(RecoIdType type, RecoKeyTable *keys, text *arg)
{
	char	   *key;

	if (type == RECO_ID_BIGINT)
		return RecoIdBigintFromText(text_to_cstring(arg));
	if (type == RECO_ID_TEXT || RecoIsCanonicalUuid(VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg)))
		return RecoKeyTableIntern(keys, VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg));
	key = RecoIdKeyFromText(type, text_to_cstring(arg));
	return RecoKeyTableIntern(keys, key, strlen(key));
}

/* A row's user or item id as an error message prints it: a key quoted, a bigint as is. */
static char *
RecoFitIdLabel(const RecoKeyTable *keys, int64 id)
{
	return keys != NULL ? psprintf("\"%s\"", keys->keys[id]) : psprintf(INT64_FORMAT, id);
}

/*
 * Whether a timed row with this event time trains: a NULL time or one after
 * an explicit as_of is skipped and counted; a time that is not finite is an
 * error (22008).
 */
static bool
RecoFitTimeUsable(FunctionCallInfo fcinfo, RecoFitState *state, int64 *time)
{
	if (PG_ARGISNULL(RECO_FIT_ARG_TIME))
	{
		state->events_without_time++;
		return false;
	}
	*time = PG_GETARG_TIMESTAMPTZ(RECO_FIT_ARG_TIME);
	if (TIMESTAMP_NOT_FINITE(*time))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("event time is infinite"),
				 errhint("Event times must be finite; to skip rows, filter them out or make their time NULL.")));
	if (state->options.as_of != RECO_AS_OF_NEWEST && *time > state->options.as_of)
	{
		state->events_after_as_of++;
		return false;
	}
	return true;
}

/*
 * Appends a row whose ids and weight are not NULL, in cxt; a NaN or
 * infinite weight is an error naming the ids (22000).
 */
static void
RecoFitAppend(RecoFitState *state, MemoryContext cxt, int64 user, int64 item, float weight, int64 time)
{
	MemoryContext old;

	if (isnan(weight) || isinf(weight))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("weight of user %s and item %s is %s",
						RecoFitIdLabel(state->user_keys, user), RecoFitIdLabel(state->item_keys, item),
						isnan(weight) ? "NaN" : "infinite"),
				 errhint("Weights must be finite numbers.")));
	old = MemoryContextSwitchTo(cxt);
	RecoRowsAppend(&state->rows, user, item, weight, time);
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(reco_fit_transfn);

/* reco.fit transition: appends one (user, item, weight[, event time]) row; ids bigint or, for the text aggregate, text. */
Datum
reco_fit_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	RecoFitState *state;
	float		weight;
	int64		user;
	int64		item;
	int64		time = 0;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "reco_fit_transfn called in non-aggregate context");
	if (PG_ARGISNULL(0))
		state = RecoFitStart(fcinfo, aggcontext);
	else
	{
		state = (RecoFitState *) PG_GETARG_POINTER(0);
		/* reco.train passes the name as a parameter: compared on the first row only */
		if (!state->model_stable &&
			(PG_ARGISNULL(1) ||
			VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) != VARSIZE_ANY_EXHDR(state->model) ||
			memcmp(VARDATA_ANY(PG_GETARG_TEXT_PP(1)), VARDATA_ANY(state->model),
				   VARSIZE_ANY_EXHDR(state->model)) != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model name must be the same in every row of a group"),
					 errhint("Use GROUP BY to train one model per name.")));
	}
	state->rows_read++;
	RecoProgressRows(state->rows_read);
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		state->rows_skipped++;
		PG_RETURN_POINTER(state);
	}
	if (state->timed && !RecoFitTimeUsable(fcinfo, state, &time))
		PG_RETURN_POINTER(state);
	weight = PG_GETARG_FLOAT4(4);
	if (state->text_ids)
	{
		user = RecoFitTextId(state->options.user_id_type, state->user_keys, PG_GETARG_TEXT_PP(2));
		item = RecoFitTextId(state->options.item_id_type, state->item_keys, PG_GETARG_TEXT_PP(3));
	}
	else
	{
		user = PG_GETARG_INT64(2);
		item = PG_GETARG_INT64(3);
	}
	RecoFitAppend(state, aggcontext, user, item, weight, time);
	PG_RETURN_POINTER(state);
}

/*
 * Bytes training on the built matrices needs besides them, by algorithm:
 * the factors (ials: and its kernel's scratch, the items' prior means; bpr:
 * positives and counts; als: the solved rows and then their stored copies,
 * both held at the end) and the store's batch (held with the final pass's
 * scratch, which stores the rows it has solved).
 */
static Size
RecoTrainingBytes(const RecoTrainRun *run, const RecoInteractions *sizes)
{
	int64		ids = sizes->n_users + sizes->n_items;
	int64		longest = Max(sizes->n_users, sizes->n_items);
	int			k = run->options->factors;
	Size		bytes;

	switch (run->options->algorithm)
	{
		case RECO_ALGORITHM_BPR:
			{
				RecoBprConfig cfg = {k, run->options->learning_rate, run->options->regularization,
					RECO_BPR_BATCH, run->cfg.threads};

				/* a positive (user, item) per pair at most; counts; [x, 1] and [y, b] */
				bytes = mul_size(run->rows_used, 2 * sizeof(int32));
				bytes = add_size(bytes, mul_size(ids, sizeof(int64) + sizeof(float) * (k + 1)));
				bytes = add_size(bytes, RecoBprScratchBytes(&cfg));
				break;
			}
		case RECO_ALGORITHM_ALS:
			bytes = mul_size(ids, sizeof(float) * (RecoExplicitStride(k) + k + RECO_EXPLICIT_STORED_EXTRA));
			bytes = add_size(bytes, RecoExplicitScratchBytes(k, RecoParallelThreads(run->cfg.threads, INT64_MAX)));
			bytes = add_size(bytes, mul_size(longest + 2, sizeof(int64)));	/* a side's chunk bounds */
			break;
		default:
			bytes = mul_size(mul_size(ids, k), sizeof(float));
			/* Z of the exact solves: both sides' with cholesky, else the final pass's (items) */
			bytes = add_size(bytes, RecoAlsScratchBytes(&run->cfg, longest,
														run->cfg.solver == RECO_SOLVER_CHOLESKY ? longest : sizes->n_items));
			if (run->cfg.solver == RECO_SOLVER_CG)	/* the user step's loss terms (RecoAlsSolveSideLoss) */
				bytes = add_size(bytes, RecoAlsSolveLossBytes(&run->cfg, sizes->n_users, sizes->n_items));
			if (run->options->feature_mapping == RECO_FEATURE_MAPPING_PRIOR)	/* the items' prior means */
				bytes = add_size(bytes, mul_size(mul_size(sizes->n_items, k), sizeof(float)));
	}
	return add_size(bytes, 2 * RECO_STORE_BULK_BYTES);
}

/*
 * Estimates the most memory the training holds at once and refuses it above
 * reco.max_memory (53200): the keys of text and uuid sides, and the largest
 * of the read (the raw rows), the build (RecoInteractionsBytes) and training
 * on the built matrices (RecoTrainingBytes), plus RECO_MEMORY_SLACK_PERCENT
 * of that largest and the backend's own (RECO_MEMORY_BACKEND_BYTES).
 * Measured against the backend's peak (VmHWM less shared memory) in
 * README's "Limits of a training".
 */
static void
RecoCheckMemory(const RecoInteractions *sizes, void *arg)
{
	RecoTrainRun *run = (RecoTrainRun *) arg;
	Size		held;
	Size		read = mul_size(run->rows_used, RECO_ROW_BYTES + (run->timed ? RECO_ROW_TIME_BYTES : 0));
	Size		build = RecoInteractionsBytes(sizes, run->rows_used, run->cfg.threads, &held);
	Size		training = add_size(held, RecoTrainingBytes(run, sizes));
	Size		arrays = Max(read, Max(build, training));
	Size		bytes = add_size(add_size(arrays, arrays / 100 * RECO_MEMORY_SLACK_PERCENT),
								 add_size(run->key_bytes, RECO_MEMORY_BACKEND_BYTES));
	Size		limit = (Size) reco_max_memory_kb * 1024;

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
 * The decay of a timed aggregate's rows, before the build: as_of resolved
 * (the newest event time unless given; recorded in params), every weight
 * multiplied by 2^(-age/half_life) (RecoDecayWeight), then the event times
 * freed.
 */
static void
RecoTrainDecay(RecoFitState *state)
{
	RecoRows   *rows = &state->rows;
	double		half_life = RecoIntervalSeconds(state->options.half_life);
	int64		i;

	if (state->options.as_of == RECO_AS_OF_NEWEST)
	{
		TimestampTz newest = rows->times[0];

		for (i = 1; i < rows->count; i++)
			newest = Max(newest, rows->times[i]);
		state->options.as_of = newest;
	}
	for (i = 0; i < rows->count; i++)
		rows->weights[i] = RecoDecayWeight(rows->weights[i], rows->times[i], state->options.as_of, half_life);
	RecoRowsFreeTimes(rows);
}

/* The error of a training that read no row at all (22023). */
static void
RecoFitNoRows(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("reco.fit received no rows"),
			 errhint("Check the query's FROM and WHERE clauses: a model needs at least one interaction.")));
}

/*
 * Starts a run from a state that read its rows (the aggregate's, or the
 * direct read's): errors out (22023) if there was no usable row; the read
 * phase ends here.
 */
static void
RecoTrainStart(RecoFitState *state, RecoTrainRun *run)
{
	memset(run, 0, sizeof(*run));
	run->name = text_to_cstring(state->model);
	run->options = &state->options;
	run->rows = &state->rows;
	run->user_keys = state->user_keys;
	run->item_keys = state->item_keys;
	if (run->user_keys != NULL)
		run->key_bytes = add_size(run->key_bytes, RecoKeyTableBytes(run->user_keys));
	if (run->item_keys != NULL)
		run->key_bytes = add_size(run->key_bytes, RecoKeyTableBytes(run->item_keys));
	RecoAlsConfigFromOptions(&state->options, &run->cfg);
	run->hooks.should_stop = RecoInterruptPending;
	run->hooks.progress = RecoProgressChunks;	/* reco.training_progress inside a pass */
	run->rows_read = state->rows_read;
	run->rows_skipped = state->rows_skipped;
	run->rows_used = state->rows.count;
	run->timed = state->timed;
	run->direct_read = state->direct_read;
	run->events_without_time = state->events_without_time;
	run->events_after_as_of = state->events_after_as_of;
	if (run->rows_used == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reco.fit received no usable rows for model \"%s\"", run->name),
				 run->timed
				 ? errdetail(INT64_FORMAT " rows were skipped because the user, the item or the weight was NULL, "
							 INT64_FORMAT " because the event time was NULL, " INT64_FORMAT " because it was after as_of.",
							 run->rows_skipped, run->events_without_time, run->events_after_as_of)
				 : errdetail(INT64_FORMAT " rows were skipped because the user, the item or the weight was NULL.",
							 run->rows_skipped)));
	if (run->timed)
		RecoTrainDecay(state);
	run->read_seconds = RecoSecondsSince(state->first_row);
	run->read_started = state->read_started;
	INSTR_TIME_SET_CURRENT(run->started);
}

/*
 * Phase 1: the codes of text and uuid keys (rows' provisional ids become
 * codes), then the id maps and sparse matrices, the memory budget checked
 * before they are allocated.
 */
static void
RecoTrainBuild(RecoTrainRun *run)
{
	instr_time	phase;

	INSTR_TIME_SET_CURRENT(phase);
	if (run->user_keys != NULL)
		RecoKeyTableAssignCodes(run->user_keys, run->rows->users, run->rows->count);
	if (run->item_keys != NULL)
		RecoKeyTableAssignCodes(run->item_keys, run->rows->items, run->rows->count);
	RecoBuildInteractions(run->rows, &run->data, run->cfg.threads, RecoCheckMemory, run);
	run->data.user_keys = run->user_keys != NULL ? run->user_keys->keys : NULL;
	run->data.item_keys = run->item_keys != NULL ? run->item_keys->keys : NULL;
	if (run->data.users_positive == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no user of model \"%s\" has a positive net weight", run->name),
				 errdetail(INT64_FORMAT " pairs had a net weight of 0, " INT64_FORMAT " users had none above 0.",
						   run->data.pairs_net_zero, run->data.users_without_positive),
				 errhint("A model learns from what users did: at least one (user, item) pair must sum to a weight above 0.")));
	run->build_seconds = RecoSecondsSince(phase);
}

/*
 * Phase 1b (cold start): the item and user feature sources, read and
 * checked against the built ids before any iteration (feature_train.c).
 */
static void
RecoTrainReadFeatures(RecoTrainRun *run)
{
	if (run->options->item_features != NIL)
		run->features[RECO_SIDE_ITEMS] = RecoReadFeatures(RECO_SIDE_ITEMS, run->options->item_features,
														  run->options->item_id_type, &run->data, run->item_keys);
	if (run->options->user_features != NIL)
		run->features[RECO_SIDE_USERS] = RecoReadFeatures(RECO_SIDE_USERS, run->options->user_features,
														  run->options->user_id_type, &run->data, run->user_keys);
}

/* Whether the item steps use the feature-aware prior (feature_mapping "prior", ials). */
static bool
RecoTrainWithPrior(const RecoTrainRun *run)
{
	return run->options->feature_mapping == RECO_FEATURE_MAPPING_PRIOR &&
		run->options->algorithm == RECO_ALGORITHM_IALS && run->features[RECO_SIDE_ITEMS] != NULL;
}

/*
 * Phase 4b (cold start): each side's mapping from features to the stored
 * factors, its feature_weights rows and the placed entities of the version.
 */
static void
RecoTrainStoreFeatures(RecoTrainRun *run)
{
	int			side;

	for (side = RECO_SIDE_ITEMS; side <= RECO_SIDE_USERS; side++)
	{
		RecoSideFeatures *features = run->features[side];

		if (features == NULL)
			continue;
		/* with the prior, the item mapping is the last refit, on these very factors */
		if (!(side == RECO_SIDE_ITEMS && RecoTrainWithPrior(run)))
			RecoFitFeatures(features, side == RECO_SIDE_ITEMS ? run->Y : run->X, run->cfg.factors,
							run->options->feature_regularization, run->memory_estimate, false);
		if (side == RECO_SIDE_ITEMS)
			run->row.n_items += RecoStoreFeatures(features, run->row.model_id);
		else
			run->row.n_users += RecoStoreFeatures(features, run->row.model_id);
	}
}

/* The NOTICE of iteration `it` (0-based) when reco.progress is iterations. */
static void
RecoTrainReportIteration(const RecoTrainRun *run, int it)
{
	RecoProgressLoss(run->loss[it]);
	if (reco_progress == RECO_PROGRESS_ITERATIONS)
		ereport(NOTICE,
				(errmsg("reco.fit \"%s\": iteration %d/%d, loss %.6g",
						run->name, it + 1, run->options->iterations, run->loss[it]),
				 errdetail("The iteration took %.3f s.", run->iteration_seconds[it])));
}

/* Memory context callback: the side solves' kept half buffer is freed (the end of the iterations, an error or a cancel). */
static void
RecoTrainHalfBufferCallback(void *arg)
{
	RecoAlsKeepHalfBuffer(false);
}

/*
 * The side solves keep their half copy's buffer from one to the next until
 * RecoAlsKeepHalfBuffer(false) or a reset of cxt frees it.
 */
static void
RecoTrainKeepHalfBuffer(MemoryContext cxt)
{
	MemoryContextCallback *cb = MemoryContextAllocZero(cxt, sizeof(MemoryContextCallback));

	cb->func = RecoTrainHalfBufferCallback;
	MemoryContextRegisterResetCallback(cxt, cb);
	RecoAlsKeepHalfBuffer(true);
}

/*
 * Phase 2: seeded initial factors, then the iterations (both sides, then the
 * loss).  The loss of iteration it (its X and Y) is what the user step of
 * iteration it + 1 starts from: with the CG solver that step computes it on
 * the way (RecoAlsSolveSideLoss, bit for bit RecoAlsLoss; from k 64 its
 * y·x read the item vectors rounded to half, as the CG passes do), so iteration it
 * is reported (NOTICE, progress) once that step is done; the last
 * iteration's loss, and every loss of the Cholesky solver, is RecoAlsLoss
 * after the iteration.  With feature_mapping "prior" each item step after
 * the first solves every item that has features toward its mapped vector
 * m_i (the right-hand side gains λ'_i·m_i, λ'_i its own penalty: als.h),
 * and the item mapping is refitted (the ridge of feature_train.c) on the new
 * item factors after every item step; the first item step has no prior
 * (m = 0: the initial factors are noise, nothing to map).  The loss stays
 * iALS's own (the prior changes the item steps only, so it fuses too).
 */
static void
RecoTrainIterate(RecoTrainRun *run)
{
	RecoInteractions *data = &run->data;
	RecoAlsConfig *cfg = &run->cfg;
	int			iterations = run->options->iterations;
	uint64		seed = (uint64) run->options->seed;
	RecoSparse	by_user = RecoUserMatrix(data);
	RecoSparse	by_item = RecoItemMatrix(data);
	float	   *prior = NULL;	/* the items' prior means, once a mapping exists */
	bool		with_prior = RecoTrainWithPrior(run);
	bool		fuse_loss = cfg->solver == RECO_SOLVER_CG;
	RecoHooks	init_hooks = run->hooks;
	int			it;

	run->X = RecoAllocArray(mul_size(data->n_users, cfg->factors), sizeof(float));
	run->Y = RecoAllocArray(mul_size(data->n_items, cfg->factors), sizeof(float));
	run->loss = palloc(sizeof(double) * iterations);
	run->iteration_seconds = palloc(sizeof(double) * iterations);
	/* the initial factors on the training's threads: polled, but no pass's progress to show */
	init_hooks.progress = NULL;
	RecoCheckKernelStatus(RecoAlsInitFactorsThreaded(run->X, data->n_users, cfg->factors, data->user_ids, seed,
													 RECO_SEED_STREAM_USERS, cfg->threads, &init_hooks), 0);
	RecoCheckKernelStatus(RecoAlsInitFactorsThreaded(run->Y, data->n_items, cfg->factors, data->item_ids, seed,
													 RECO_SEED_STREAM_ITEMS, cfg->threads, &init_hooks), 0);
	RecoTrainKeepHalfBuffer(CurrentMemoryContext);
	for (it = 0; it < iterations; it++)
	{
		instr_time	phase;

		CHECK_FOR_INTERRUPTS();
		RecoProgressIteration(it + 1);
		INSTR_TIME_SET_CURRENT(phase);
		if (fuse_loss && it > 0)
		{
			RecoCheckKernelStatus(RecoAlsSolveSideLoss(&by_user, run->Y, run->X, cfg, &run->hooks,
													   &run->loss[it - 1]), it + 1);
			RecoTrainReportIteration(run, it - 1);
		}
		else
			RecoCheckKernelStatus(RecoAlsSolveSide(&by_user, run->Y, run->X, cfg, &run->hooks), it + 1);
		RecoCheckKernelStatus(RecoAlsSolveSidePrior(&by_item, run->X, run->Y, cfg, &run->hooks, prior), it + 1);
		if (with_prior)
		{
			RecoFitFeatures(run->features[RECO_SIDE_ITEMS], run->Y, cfg->factors,
							run->options->feature_regularization, run->memory_estimate, true);
			if (prior == NULL && it + 1 < iterations)
				prior = MemoryContextAllocExtended(CurrentMemoryContext, mul_size(mul_size(data->n_items, cfg->factors), sizeof(float)),
												   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
			if (prior != NULL && it + 1 < iterations)
				RecoFeaturePrior(run->features[RECO_SIDE_ITEMS], prior);
		}
		run->iteration_seconds[it] = RecoSecondsSince(phase);
		if (!fuse_loss || it + 1 == iterations)
		{
			RecoCheckKernelStatus(RecoAlsLoss(&by_user, run->X, run->Y, cfg, &run->hooks, &run->loss[it]), it + 1);
			RecoTrainReportIteration(run, it);
		}
	}
	RecoAlsKeepHalfBuffer(false);	/* not held through the final pass */
}

/*
 * Phase 2 of a BPR model (bpr.h): positives, implicit's initial factors,
 * then the epochs, each recording its mean sampled −ln σ as the loss.  The
 * vectors are k + 1 long (user [x_u, 1], item [y_i, b_i]): from here on
 * cfg.factors is that stored length (params keeps the k asked for).
 */
static void
RecoTrainBpr(RecoTrainRun *run)
{
	RecoInteractions *data = &run->data;
	int			k = run->cfg.factors;
	int			iterations = run->options->iterations;
	uint64		seed = (uint64) run->options->seed;
	RecoSparse	by_user = RecoUserMatrix(data);
	RecoBprConfig cfg = {k, run->options->learning_rate, run->options->regularization,
		RECO_BPR_BATCH, run->cfg.threads};
	RecoBprPositives positives;
	/* huge: more than 134M users is more than palloc's 1 GB (ials trains them) */
	int64	   *user_count = MemoryContextAllocExtended(CurrentMemoryContext, mul_size(sizeof(int64), data->n_users),
														MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	int64	   *item_count = MemoryContextAllocExtended(CurrentMemoryContext, mul_size(sizeof(int64), data->n_items),
														MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	int64		p;
	int			it;

	positives.n = RecoBprCountPositives(&by_user, NULL);
	positives.users = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(positives.n, sizeof(int32)));
	positives.items = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(positives.n, sizeof(int32)));
	RecoBprCountPositives(&by_user, &positives);
	for (p = 0; p < positives.n; p++)
	{
		user_count[positives.users[p]]++;
		item_count[positives.items[p]]++;
	}
	run->X = RecoAllocArray(mul_size(data->n_users, k + 1), sizeof(float));
	run->Y = RecoAllocArray(mul_size(data->n_items, k + 1), sizeof(float));
	run->loss = palloc(sizeof(double) * iterations);
	run->iteration_seconds = palloc(sizeof(double) * iterations);
	RecoBprInitFactors(run->X, data->n_users, k, data->user_ids, user_count, true, seed, RECO_SEED_STREAM_USERS);
	RecoBprInitFactors(run->Y, data->n_items, k, data->item_ids, item_count, false, seed, RECO_SEED_STREAM_ITEMS);
	for (it = 0; it < iterations; it++)
	{
		instr_time	phase;
		RecoBprEpochStats epoch;

		CHECK_FOR_INTERRUPTS();
		RecoProgressIteration(it + 1);
		INSTR_TIME_SET_CURRENT(phase);
		RecoCheckKernelStatus(RecoBprEpoch(&by_user, &positives, run->X, run->Y, &cfg, seed, it,
										   &run->hooks, &epoch), it + 1);
		run->iteration_seconds[it] = RecoSecondsSince(phase);
		run->loss[it] = epoch.loss;
		RecoProgressLoss(run->loss[it]);
		if (reco_progress == RECO_PROGRESS_ITERATIONS)
			ereport(NOTICE,
					(errmsg("reco.fit \"%s\": epoch %d/%d, loss %.6g, %.4f of the samples ordered right",
							run->name, it + 1, iterations, epoch.loss, epoch.correct),
					 errdetail("The epoch took %.3f s; " INT64_FORMAT " of " INT64_FORMAT " negatives were positives (skipped).",
							   run->iteration_seconds[it], epoch.skipped, epoch.samples)));
	}
	run->cfg.factors = k + 1;
}

/*
 * Phase 2 (and 3) of algorithm "als": explicit ALS-WR with biases
 * (explicit.h) from seeded normal factors, the training RMSE as each
 * iteration's loss; then run->X and run->Y become the stored vectors (user
 * [x, b_u, 1, 1], item [y, 1, b_i, μ]) and run->cfg.factors their length
 * k + 3, which the store writes as reco.models.factors.
 */
static void
RecoTrainIterateExplicit(RecoTrainRun *run)
{
	RecoInteractions *data = &run->data;
	int			k = run->options->factors;
	int			stride = RecoExplicitStride(k);
	int			width = k + RECO_EXPLICIT_STORED_EXTRA;
	RecoExplicitConfig cfg = {k, run->options->regularization, run->options->reg_exponent, run->cfg.threads};
	RecoSparse	by_user = RecoUserMatrix(data);
	RecoSparse	by_item = RecoItemMatrix(data);
	uint64		seed = (uint64) run->options->seed;
	float	   *X = RecoAllocArray(mul_size(data->n_users, stride), sizeof(float));
	float	   *Y = RecoAllocArray(mul_size(data->n_items, stride), sizeof(float));
	int			it;

	run->loss = palloc(sizeof(double) * run->options->iterations);
	run->iteration_seconds = palloc(sizeof(double) * run->options->iterations);
	run->global_mean = RecoExplicitMean(&by_user);
	RecoExplicitInit(X, data->n_users, k, data->user_ids, seed, RECO_SEED_STREAM_USERS);
	RecoExplicitInit(Y, data->n_items, k, data->item_ids, seed, RECO_SEED_STREAM_ITEMS);
	for (it = 0; it < run->options->iterations; it++)
	{
		instr_time	phase;

		CHECK_FOR_INTERRUPTS();
		RecoProgressIteration(it + 1);
		INSTR_TIME_SET_CURRENT(phase);
		RecoCheckKernelStatus(RecoExplicitSolveSide(&by_user, Y, X, run->global_mean, &cfg, &run->hooks), it + 1);
		RecoCheckKernelStatus(RecoExplicitSolveSide(&by_item, X, Y, run->global_mean, &cfg, &run->hooks), it + 1);
		run->iteration_seconds[it] = RecoSecondsSince(phase);
		RecoCheckKernelStatus(RecoExplicitRmse(&by_user, X, Y, run->global_mean, &cfg, &run->hooks, &run->loss[it]), it + 1);
		RecoTrainReportIteration(run, it);
	}
	run->X = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(mul_size(data->n_users, width), sizeof(float)));
	run->Y = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(mul_size(data->n_items, width), sizeof(float)));
	RecoExplicitStoredRows(X, data->n_users, k, run->global_mean, true, run->X);
	RecoExplicitStoredRows(Y, data->n_items, k, run->global_mean, false, run->Y);
	pfree(X);
	pfree(Y);
	run->cfg.factors = width;
}

/*
 * Starts the store of the version (store.c's RecoFactorStore): its model id
 * and version number, nothing written yet.
 */
static void
RecoTrainStoreBegin(RecoTrainRun *run)
{
	RecoVersionRow *row = &run->row;

	memset(row, 0, sizeof(*row));
	row->model_id = RecoNewModelId();
	row->name = run->name;
	row->version = RecoNextVersion(run->name);
	run->store = RecoFactorStoreBegin(row->model_id, &run->data, run->X, run->Y, run->cfg.factors);
}

/* The store's share of the final pass: RecoTrainStoreReady's state. */
typedef struct RecoTrainOverlap
{
	RecoFactorStore *store;
	MemoryContext cxt;			/* where the store's error is copied to */
	ErrorData  *error;			/* the store's error, raised once the pass's threads joined */
	double		seconds;		/* spent storing */
} RecoTrainOverlap;

/*
 * The final pass's RecoRowsReady (calling thread, between its tasks, the
 * workers running): stores up to RECO_STORE_OVERLAP_ROWS rows of those
 * ready.  An error (a cancel included) must not leave this thread while the
 * workers run: it is caught and copied, the pass stops (every worker
 * joined) and RecoTrainFinalPass raises it again.  A FATAL error (a
 * terminate) exits the process from here: RecoTrainStopPassAtExit joins
 * the workers first.
 */
static RecoStatus
RecoTrainStoreReady(void *arg, int64_t rows_ready, bool *more)
{
	RecoTrainOverlap *overlap = (RecoTrainOverlap *) arg;
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool left = false;
	instr_time	start;

	INSTR_TIME_SET_CURRENT(start);
	PG_TRY();
	{
		left = RecoFactorStoreStep(overlap->store, rows_ready, RECO_STORE_OVERLAP_ROWS);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(overlap->cxt);
		overlap->error = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	overlap->seconds += RecoSecondsSince(start);
	*more = left;
	return overlap->error != NULL ? RECO_STATUS_STOPPED : RECO_STATUS_OK;
}

/* before_shmem_exit callback: a process exiting from inside the store's share of the pass joins its workers first. */
static void
RecoTrainStopPassAtExit(int code, Datum arg)
{
	RecoParallelStopCallerRun();
}

/*
 * Phase 3: one last exact (Cholesky) solve of the user side against the
 * final item factors: the stored user vectors are then exactly what folding
 * their training items in gives (recommend_for_items, explain), whichever
 * solver trained.  Positive definite whenever regularization > 0.  The
 * backend meanwhile starts the store (RecoTrainStoreReady): the item rows,
 * then the user rows as the pass solves them, taking the pass's tasks only
 * when it has caught up with them (parallel.c); phase 4 stores the rest.
 */
static void
RecoTrainFinalPass(RecoTrainRun *run)
{
	RecoAlsConfig exact = run->cfg;
	RecoSparse	by_user = RecoUserMatrix(&run->data);
	RecoTrainOverlap overlap = {0};
	RecoRowsReady ready = {RecoTrainStoreReady, &overlap};
	RecoStatus	status;
	instr_time	phase;
	static bool exit_callback = false;	/* RecoTrainStopPassAtExit registered */

	if (run->cfg.regularization <= 0)
		return;
	if (!exit_callback)
	{
		before_shmem_exit(RecoTrainStopPassAtExit, (Datum) 0);
		exit_callback = true;
	}
	RecoTrainStoreBegin(run);
	overlap.store = run->store;
	overlap.cxt = CurrentMemoryContext;
	INSTR_TIME_SET_CURRENT(phase);
	exact.solver = RECO_SOLVER_CHOLESKY;
	status = RecoAlsSolveSideReady(&by_user, run->Y, run->X, &exact, &run->hooks, &ready);
	if (overlap.error != NULL)
	{
		elog(DEBUG1, "reco: the store failed inside the final pass, whose threads have stopped");
		ReThrowError(overlap.error);
	}
	RecoCheckKernelStatus(status, run->options->iterations);
	run->final_solve_seconds = RecoSecondsSince(phase);
	run->store_overlapped_seconds = overlap.seconds;
}

/* The stats jsonb text of a stored run (reco.models.stats). */
static char *
RecoTrainStatsJson(const RecoTrainRun *run)
{
	StringInfoData stats;
	int			side;

	initStringInfo(&stats);
	appendStringInfo(&stats,
					 "{\"rows_read\": " INT64_FORMAT ", \"rows_skipped\": " INT64_FORMAT
					 ", \"duplicates_merged\": " INT64_FORMAT ", \"pairs_net_zero\": " INT64_FORMAT
					 ", \"users\": " INT64_FORMAT ", \"users_without_positive\": " INT64_FORMAT
					 ", \"items\": " INT64_FORMAT ", ",
					 run->rows_read, run->rows_skipped, run->data.duplicates_merged, run->data.pairs_net_zero,
					 run->data.n_users, run->data.users_without_positive, run->data.n_items);
	if (run->timed)
		appendStringInfo(&stats, "\"events_without_time\": " INT64_FORMAT ", \"events_after_as_of\": " INT64_FORMAT ", ",
						 run->events_without_time, run->events_after_as_of);
	appendStringInfo(&stats, "\"read_path\": \"%s\", \"read_seconds\": %.6f, \"build_seconds\": %.6f, ",
					 run->direct_read ? "direct" : "executor", run->read_seconds, run->build_seconds);
	RecoAppendJsonArray(&stats, "iteration_seconds", run->iteration_seconds, run->options->iterations);
	appendStringInfoString(&stats, ", ");
	RecoAppendJsonArray(&stats, "loss", run->loss, run->options->iterations);
	appendStringInfo(&stats,
					 ", \"final_solve_seconds\": %.6f, \"store_seconds\": %.6f, \"store_overlapped_seconds\": %.6f"
					 ", \"threads\": %d, \"memory_bytes\": %zu, \"versions_pruned\": " INT64_FORMAT,
					 run->final_solve_seconds, run->store_seconds, run->store_overlapped_seconds,
					 run->cfg.threads, run->memory_estimate, run->versions_pruned);
	if (run->options->algorithm == RECO_ALGORITHM_ALS)
		appendStringInfo(&stats, ", \"global_mean\": %.9g", run->global_mean);
	for (side = RECO_SIDE_ITEMS; side <= RECO_SIDE_USERS; side++)
		if (run->features[side] != NULL)
		{
			appendStringInfoString(&stats, ", ");
			RecoAppendFeatureStats(&stats, run->features[side]);
		}
	/* a refresh committed after this may be missing from the version (README, refresh) */
	appendStringInfo(&stats, ", \"read_started_at\": \"%s\"}", timestamptz_to_str(run->read_started));
	return stats.data;
}

/*
 * Phase 4: the factors (those the final pass did not store), the pruning of
 * old versions and the new reco.models row; then the summary NOTICE
 * (reco.progress), timings in its DETAIL so that a test can leave them out
 * (VERBOSITY terse).
 */
static void
RecoTrainStore(RecoTrainRun *run)
{
	RecoVersionRow *row = &run->row;
	instr_time	phase;

	INSTR_TIME_SET_CURRENT(phase);
	if (run->store == NULL)
		RecoTrainStoreBegin(run);
	RecoFactorStoreFinish(run->store);
	run->store = NULL;
	row->n_users = run->data.users_positive;
	row->n_items = run->data.n_items;
	RecoTrainStoreFeatures(run);	/* adds the placed entities to n_users, n_items */
	run->store_seconds = RecoSecondsSince(phase);
	run->versions_pruned = RecoPruneVersions(run->name, row->version, run->options->keep_versions);

	row->algorithm = RecoAlgorithmName(run->options->algorithm);
	row->params_json = RecoTrainOptionsToJson(run->options);
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

/*
 * Phases 0 to 4 of a started run: the model's lock, the build, training,
 * the store; returns the new reco.models row.
 */
static Datum
RecoTrainFinish(RecoTrainRun *run)
{
	MemoryContext train_cxt;
	MemoryContext old;
	Datum		result;

	RecoProgressBegin(run->name, RecoAlgorithmName(run->options->algorithm), run->options->iterations,
					  run->rows_read, RECO_TRAIN_PHASE_WAITING);
	train_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco training", ALLOCSET_DEFAULT_SIZES);
	RecoProgressClearOnReset(train_cxt);	/* also on an error or a cancel */
	RecoSpiConnect();
	RecoLockModelName(run->name);
	old = MemoryContextSwitchTo(train_cxt);
	RecoProgressPhase(RECO_TRAIN_PHASE_BUILDING);
	RecoTrainBuild(run);
	RecoTrainReadFeatures(run);
	switch (run->options->algorithm)
	{
		case RECO_ALGORITHM_BPR:
			RecoTrainBpr(run);	/* no final pass: BPR's vectors are no least-squares solve */
			break;
		case RECO_ALGORITHM_ALS:
			RecoTrainIterateExplicit(run);	/* each side solved exactly: no final pass */
			break;
		default:
			RecoTrainIterate(run);
			RecoProgressPhase(RECO_TRAIN_PHASE_FINAL_PASS);
			RecoTrainFinalPass(run);
	}
	RecoProgressPhase(RECO_TRAIN_PHASE_STORING);
	RecoTrainStore(run);
	MemoryContextSwitchTo(old);
	result = RecoFetchVersionRow(run->row.model_id);
	RecoSpiFinish();
	MemoryContextDelete(train_cxt);
	return result;
}

PG_FUNCTION_INFO_V1(reco_fit_finalfn);

/* reco.fit final function: trains, stores and returns the new reco.models row. */
Datum
reco_fit_finalfn(PG_FUNCTION_ARGS)
{
	RecoTrainRun run;
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "reco_fit_finalfn called in non-aggregate context");
	if (PG_ARGISNULL(0))
		RecoFitNoRows();
	RecoTrainStart((RecoFitState *) PG_GETARG_POINTER(0), &run);
	PG_RETURN_DATUM(RecoTrainFinish(&run));
}

/* The direct read's columns: user, item and (optional) weight. */
#define RECO_DIRECT_COLUMNS 3

/*
 * The attribute number of rel's column `name` if the direct read converts
 * its type as reco.train's casts do (ids ::bigint: smallint, integer,
 * bigint; a weight ::real: those or real, double precision), else
 * InvalidAttrNumber: the query decides.  Sets *type.
 */
static AttrNumber
RecoDirectColumn(Relation rel, const char *name, bool weight, Oid *type)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), name);

	if (att <= 0)
		return InvalidAttrNumber;
	*type = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid;
	if (*type == INT2OID || *type == INT4OID || *type == INT8OID ||
		(weight && (*type == FLOAT4OID || *type == FLOAT8OID)))
		return (AttrNumber) att;
	return InvalidAttrNumber;
}

/*
 * Whether the executor would read rel's rows in heap order: the plan (made
 * here, not run) of reco.train's query SELECT reco.fit($1, src.user::bigint,
 * src.item::bigint, src.weight::real (or 1::real), $2) FROM rel AS src is an
 * aggregate over a sequential scan of rel.  Another plan (an index-only scan
 * of an index that covers the columns: on wide rows, or with enable_seqscan
 * off) reads them in the index's order, which sums a pair's weights in
 * another order and so gives other factors: then the query must read them.
 */
static bool
RecoDirectPlanIsSeqScan(Relation rel, const char *const *names)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "reco direct read plan", ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Oid			types[2] = {TEXTOID, JSONBOID};
	char	   *sql;
	List	   *queries;
	PlannedStmt *stmt;
	Plan	   *scan;
	bool		seq;

	sql = psprintf("SELECT reco.fit($1, src.%s::bigint, src.%s::bigint, %s, $2) FROM %s AS src",
				   quote_identifier(names[0]), quote_identifier(names[1]),
				   names[2] != NULL ? psprintf("src.%s::real", quote_identifier(names[2])) : "1::real",
				   quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											  RelationGetRelationName(rel)));
	queries = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, pg_parse_query(sql)), sql, types, 2, NULL);
	stmt = pg_plan_query(linitial_node(Query, queries), sql, CURSOR_OPT_PARALLEL_OK, NULL);
	scan = stmt->planTree->lefttree;
	seq = list_length(queries) == 1 && IsA(stmt->planTree, Agg) && scan != NULL && IsA(scan, SeqScan) &&
		rt_fetch(((Scan *) scan)->scanrelid, stmt->rtable)->relid == RelationGetRelid(rel);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return seq;
}

/* A non-NULL id column's value as bigint (its ::bigint cast: exact). */
static inline int64
RecoDirectId(Datum value, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(value);
		case INT4OID:
			return DatumGetInt32(value);
		default:
			return DatumGetInt64(value);
	}
}

/*
 * A non-NULL weight column's value as real, as its ::real cast computes it
 * (double precision through float4(float8) itself: its overflow and
 * underflow errors, 22003).
 */
static inline float
RecoDirectWeight(Datum value, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return (float) DatumGetInt16(value);
		case INT4OID:
			return (float) DatumGetInt32(value);
		case INT8OID:
			return (float) DatumGetInt64(value);
		case FLOAT8OID:
			return DatumGetFloat4(DirectFunctionCall1(dtof, value));
		default:
			return DatumGetFloat4(value);
	}
}

/*
 * About how many rows rel holds, for the row arrays' room (0: unknown): its
 * rows per page when last vacuumed or analyzed (reltuples / relpages, at
 * most a page's line pointers) times its pages now, as the planner scales
 * them, and 1/32 more.
 */
static int64
RecoDirectRowsExpected(Relation rel)
{
	double		tuples = rel->rd_rel->reltuples;
	double		pages = rel->rd_rel->relpages;
	double		expected;

	if (tuples <= 0 || pages <= 0)
		return 0;
	expected = Min(tuples / pages, (double) MaxHeapTuplesPerPage) * RelationGetNumberOfBlocks(rel);
	expected += expected / 32;
	return expected < (double) (MaxAllocHugeSize / sizeof(int64)) ? (int64) expected : 0;
}

/*
 * Reads every row of rel (a heap) in heap order, as the aggregate's
 * sequential scan does, into a state created in cxt on the first row as
 * the aggregate creates its own (nothing is checked before a row is read):
 * rows with a NULL user, item or weight counted and skipped, the weight
 * converted first (the query casts every argument before the aggregate
 * sees the row).  atts[2] InvalidAttrNumber: every weight is 1.  Returns
 * NULL if the table has no row.  A cancel is answered and the progress
 * updated every RECO_READ_POLL_ROWS rows.
 */
static RecoFitState *
RecoFitReadTable(Relation rel, const AttrNumber *atts, const Oid *types, MemoryContext cxt,
				 Datum model, bool model_isnull, Datum options, bool options_isnull)
{
	TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		with_weight = atts[2] != InvalidAttrNumber;
	RecoFitState *state = NULL;
	HeapTuple	tuple;
	MemoryContext old;

	/*
	 * heap_getnext: the sequential scan's own page-at-a-time loop, without a
	 * slot (no buffer pin and no deform of every column per row); the
	 * columns are fetched by heap_getattr, at their cached offsets.
	 */
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Datum		values[RECO_DIRECT_COLUMNS];
		bool		nulls[RECO_DIRECT_COLUMNS] = {false, false, false};
		float		weight = 1.0f;
		int			c;

		for (c = 0; c < RECO_DIRECT_COLUMNS; c++)
			if (atts[c] != InvalidAttrNumber)
				values[c] = heap_getattr(tuple, atts[c], desc, &nulls[c]);
		if (with_weight && !nulls[2])
			weight = RecoDirectWeight(values[2], types[2]);
		if (state == NULL)
		{
			state = RecoFitStateCreate(cxt, model, model_isnull, true, false, false, options, options_isnull);
			state->direct_read = true;
			old = MemoryContextSwitchTo(cxt);
			RecoRowsReserve(&state->rows, RecoDirectRowsExpected(rel));
			MemoryContextSwitchTo(old);
			RecoRowsStartPrefault(&state->rows, cxt);
#ifndef USE_VALGRIND			/* a valgrind build marks unpinned buffers no-access */
			/* the store writes through the buffer pool: its pages mapped while the read runs */
			RecoRowsPrefaultTouch(&state->rows, BufferBlocks,
								  Min((Size) NBuffers * BLCKSZ, RECO_STORE_TOUCH_MAX_BYTES));
#endif
		}
		state->rows_read++;
		if ((state->rows_read & (RECO_READ_POLL_ROWS - 1)) == 0)
		{
			CHECK_FOR_INTERRUPTS();
			RecoProgressRows(state->rows_read);
			RecoRowsAdvancePrefault(&state->rows);
		}
		if (nulls[0] || nulls[1] || nulls[2])
		{
			state->rows_skipped++;
			continue;
		}
		RecoFitAppend(state, cxt, RecoDirectId(values[0], types[0]), RecoDirectId(values[1], types[1]), weight, 0);
	}
	table_endscan(scan);
	if (state != NULL)
	{
		RecoRowsStopPrefault(&state->rows);
		RecoProgressRows(state->rows_read);
	}
	return state;
}

PG_FUNCTION_INFO_V1(reco_fit_table);

/*
 * reco_internal.fit_table(model, source regclass, user_col, item_col,
 * weight_col, options): what reco.train's query
 *	 SELECT reco.fit(model, src.user_col::bigint, src.item_col::bigint,
 *					 src.weight_col::real (or 1), options) FROM source AS src
 * computes, its rows read by a heap scan instead of the executor: the same
 * rows in the same order, so the same build, factors and stored version
 * (stats read_path "direct").  Returns NULL, having read nothing, where the
 * scan would not be what the query reads: RecoOpenDirectRelation's cases
 * (not a plain table, row security, inheritance children, no table-wide
 * SELECT, ...), a table that is not a heap, a column missing or of a type
 * RecoDirectColumn does not convert, or a plan of the query that does not
 * read the table by a sequential scan (RecoDirectPlanIsSeqScan); reco.train
 * then runs the query.
 */
Datum
reco_fit_table(PG_FUNCTION_ARGS)
{
	const char *names[RECO_DIRECT_COLUMNS];
	AttrNumber	atts[RECO_DIRECT_COLUMNS] = {InvalidAttrNumber, InvalidAttrNumber, InvalidAttrNumber};
	Oid			types[RECO_DIRECT_COLUMNS] = {InvalidOid, InvalidOid, InvalidOid};
	Relation	rel;
	MemoryContext cxt;
	RecoFitState *state;
	RecoTrainRun run;
	Datum		result;
	bool		usable;
	int			c;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	rel = RecoOpenDirectRelation(PG_GETARG_OID(1));
	if (rel == NULL)
		PG_RETURN_NULL();
	names[0] = text_to_cstring(PG_GETARG_TEXT_PP(2));
	names[1] = text_to_cstring(PG_GETARG_TEXT_PP(3));
	names[2] = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	usable = rel->rd_rel->relam == HEAP_TABLE_AM_OID;
	for (c = 0; c < RECO_DIRECT_COLUMNS && usable; c++)
		if (names[c] != NULL)
			usable = (atts[c] = RecoDirectColumn(rel, names[c], c == 2, &types[c])) != InvalidAttrNumber;
	if (!usable || !RecoDirectPlanIsSeqScan(rel, names))
	{
		table_close(rel, AccessShareLock);
		PG_RETURN_NULL();
	}
	cxt = AllocSetContextCreate(CurrentMemoryContext, "reco reading", ALLOCSET_DEFAULT_SIZES);
	state = RecoFitReadTable(rel, atts, types, cxt, PG_GETARG_DATUM(0), PG_ARGISNULL(0),
							 PG_GETARG_DATUM(5), PG_ARGISNULL(5));
	table_close(rel, NoLock);	/* the lock is kept until the transaction ends, as the query's */
	if (state == NULL)
		RecoFitNoRows();
	RecoTrainStart(state, &run);
	result = RecoTrainFinish(&run);
	MemoryContextDelete(cxt);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(reco_id_type_of);

/* reco_internal.id_type_of(regtype): the id type a column of that SQL type trains as (bigint, text or uuid). */
Datum
reco_id_type_of(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(RecoIdTypeName(RecoIdTypeOfSqlType(PG_GETARG_OID(0)))));
}
