/*-------------------------------------------------------------------------
 *
 * import.c
 *	  reco.import_model: a new model version from factors trained elsewhere.
 *
 * reco.import_model (plpgsql, reco--0.8.0.sql) reads the options, resolves
 * the sources and hands this file three queries: the users' and the items'
 * (id, factors real[]) rows ordered by id (bigint, or a text or uuid key in
 * byte order, COLLATE "C", which is RecoCompareKeys' order), and optionally
 * the interactions (user, item, summed weight) merged as training merges
 * them (duplicates summed, net-zero pairs dropped), ordered by user then item.
 * reco_import_factors then, in the caller's transaction:
 *	 0. takes the model name's lock (the one training and refreshes take);
 *	 1. reads both sides, validating every row (a non-NULL id, unique; one
 *		factor count for every row of both sides, 1 .. RECO_MAX_FACTORS;
 *		finite values), keys of a text or uuid side getting codes 1 .. n in
 *		key order as training gives them;
 *	 2. reads the interactions into the user-major matrix (pairs of a user or
 *		an item the factors do not have are skipped and counted), then the
 *		item-major copy (interactions.c), so popularity and seen lists are
 *		what training would store for them;
 *	 3. stores the version with store.c's writers, every user included (a
 *		user without interactions has an empty seen list), prunes old
 *		versions, inserts the models row (params "imported": true).
 * Any bad row raises its error before anything is written, and everything
 * runs in the caller's transaction: an error leaves no trace.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ids.h"
#include "interactions.h"
#include "options.h"
#include "reco.h"
#include "serve.h"
#include "store.h"

/* Rows a side's arrays start with (then doubled), and rows fetched per cursor batch. */
#define RECO_IMPORT_INITIAL_ROWS 1024
#define RECO_IMPORT_FETCH_ROWS 8192

/* One side's imported rows, in id (key) order. */
typedef struct RecoImportSide
{
	const char *name;			/* "user" or "item" */
	bool		keyed;			/* ids are text or uuid keys */
	int64		n;
	int64		capacity;
	int64	   *ids;			/* bigint ids, or codes 1 .. n */
	char	  **keys;			/* keyed: code - 1 -> key */
	float	   *factors;		/* n x k */
} RecoImportSide;

/* One import: what its steps hand to each other. */
typedef struct RecoImportRun
{
	const char *name;
	RecoAlgorithm algorithm;
	bool		has_system;		/* regularization and alpha given (ials) */
	double		regularization;
	double		alpha;
	int			keep_versions;
	int			k;				/* factors per row; 0 until the first row */
	char	   *first_label;	/* the row that fixed k, for the error message */
	RecoImportSide users;
	RecoImportSide items;
	RecoInteractions data;
	int64		interactions_read;	/* merged pairs read */
	int64		interactions_skipped;	/* of a user or item without factors */
	double		read_seconds;
	double		store_seconds;
	int64		versions_pruned;
} RecoImportRun;

/* Seconds elapsed since start. */
static double
RecoImportSeconds(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_DOUBLE(now);
}

/* A row's id as messages print it: a key quoted, a bigint as is. */
static char *
RecoImportLabel(const RecoImportSide *side, Datum id)
{
	return side->keyed ? psprintf("%s \"%s\"", side->name, TextDatumGetCString(id))
		: psprintf("%s " INT64_FORMAT, side->name, DatumGetInt64(id));
}

/*
 * Reads the numeric options (NULL: absent) and checks them (22023): the
 * algorithm a word of options.c; regularization and alpha both or neither,
 * only for ials, within training's limits; keep_versions an integer 0 ..
 * RECO_MAX_KEEP_VERSIONS.
 */
static void
RecoImportOptions(FunctionCallInfo fcinfo, RecoImportRun *run)
{
	char	   *algorithm = text_to_cstring(PG_GETARG_TEXT_PP(4));
	bool		has_reg = !PG_ARGISNULL(5);
	bool		has_alpha = !PG_ARGISNULL(6);

	if (!RecoParseAlgorithm(algorithm, &run->algorithm))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", algorithm),
				 errhint("The algorithms are: ials, als, bpr.")));
	if (has_reg != has_alpha)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" needs option \"%s\"", has_reg ? "regularization" : "alpha",
						has_reg ? "alpha" : "regularization"),
				 errhint("Give both, as the model was trained with them, for the fold-in (recommend_for_items, explain); or neither.")));
	if (has_reg && run->algorithm != RECO_ALGORITHM_IALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options \"regularization\" and \"alpha\" are options of algorithm \"ials\", not \"%s\"",
						algorithm)));
	run->has_system = has_reg;
	if (has_reg)
	{
		run->regularization = PG_GETARG_FLOAT8(5);
		run->alpha = PG_GETARG_FLOAT8(6);
		if (!(run->regularization >= 0 && run->regularization <= RECO_MAX_REGULARIZATION))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"regularization\" must be between 0 and %g", RECO_MAX_REGULARIZATION)));
		if (!(run->alpha > 0 && run->alpha <= RECO_MAX_ALPHA))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"alpha\" must be above 0 and at most %g", RECO_MAX_ALPHA)));
	}
	run->keep_versions = RECO_DEFAULT_KEEP_VERSIONS;
	if (!PG_ARGISNULL(7))
	{
		double		keep = PG_GETARG_FLOAT8(7);

		if (!(keep >= 0 && keep <= RECO_MAX_KEEP_VERSIONS && keep == floor(keep)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"keep_versions\" must be an integer between 0 and %d", RECO_MAX_KEEP_VERSIONS)));
		run->keep_versions = (int) keep;
	}
}

/*
 * Checks a row's factor array (22004 NULL; 22023 not one-dimensional, with
 * a NULL, a count out of 1 .. RECO_MAX_FACTORS or unlike the first row's;
 * 22000 a value not finite) and returns it (detoasted: a copy unless value is
 * the array itself).
 */
static ArrayType *
RecoImportFactors(RecoImportRun *run, const RecoImportSide *side, Datum id, Datum value, bool isnull)
{
	ArrayType  *array;
	int			n;
	const float *values;
	int			j;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the factors of %s are NULL", RecoImportLabel(side, id))));
	array = DatumGetArrayTypeP(value);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the factors of %s are a %d-dimensional array", RecoImportLabel(side, id), ARR_NDIM(array)),
				 errhint("Factors are a one-dimensional real[] per row.")));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the factors of %s contain a NULL", RecoImportLabel(side, id))));
	n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	if (n < RECO_MIN_FACTORS || n > RECO_MAX_FACTORS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has %d factors", RecoImportLabel(side, id), n),
				 errdetail("A model has %d to %d factors.", RECO_MIN_FACTORS, RECO_MAX_FACTORS)));
	if (run->k == 0)
	{
		/* an explicit model's stored vectors end with b, 1, 1 (users) and 1, b, mu (items): predict reads them */
		if (run->algorithm == RECO_ALGORITHM_ALS && n <= RECO_EXPLICIT_STORED_EXTRA)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s has %d factors, too few for algorithm \"als\"", RecoImportLabel(side, id), n),
					 errdetail("An als model stores k + %d floats per vector: users [x, b_u, 1, 1], items [y, 1, b_i, mu].",
							   RECO_EXPLICIT_STORED_EXTRA)));
		run->k = n;
		run->first_label = RecoImportLabel(side, id);
	}
	else if (n != run->k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has %d factors, but %s has %d", RecoImportLabel(side, id), n, run->first_label, run->k),
				 errhint("Every user and every item of a model has the same number of factors.")));
	values = (const float *) ARR_DATA_PTR(array);
	for (j = 0; j < n; j++)
		if (!isfinite(values[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("factor %d of %s is %s", j + 1, RecoImportLabel(side, id), isnan(values[j]) ? "NaN" : "infinite"),
					 errhint("Factors must be finite numbers.")));
	return array;
}

/* Makes room for one more row of a side (arrays doubled). */
static void
RecoImportGrow(RecoImportSide *side, int k)
{
	if (side->n < side->capacity)
		return;
	side->capacity = side->capacity == 0 ? RECO_IMPORT_INITIAL_ROWS : side->capacity * 2;
	if (side->ids == NULL)
	{
		side->ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * side->capacity);
		side->keys = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(char *) * side->capacity);
		side->factors = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(sizeof(float) * k, side->capacity));
		return;
	}
	side->ids = repalloc_huge(side->ids, sizeof(int64) * side->capacity);
	side->keys = repalloc_huge(side->keys, sizeof(char *) * side->capacity);
	side->factors = repalloc_huge(side->factors, mul_size(sizeof(float) * k, side->capacity));
}

/*
 * Reads one side's (id, factors) rows from `sql` (ordered by id; id bigint,
 * or text for a key) into side, every row checked: 22004 a NULL id, 23505
 * an id twice, RecoImportFactors' errors, 22023 no row at all.
 */
static void
RecoImportSideRows(RecoImportRun *run, RecoImportSide *side, const char *name, const char *sql)
{
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, 0, NULL, NULL, NULL, false, 0);
	Datum		previous = (Datum) 0;
	char	   *previous_key = NULL;

	memset(side, 0, sizeof(*side));
	side->name = name;
	for (;;)
	{
		uint64		r;

		SPI_cursor_fetch(portal, true, RECO_IMPORT_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		side->keyed = SPI_gettypeid(SPI_tuptable->tupdesc, 1) == TEXTOID;
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[r];
			bool		isnull;
			Datum		id = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull);
			Datum		factors;
			ArrayType  *array;
			char	   *key;

			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s_factors has a row whose id is NULL", name),
						 errhint("Every row needs an id: leave out or fix the rows whose id is NULL.")));
			key = side->keyed ? TextDatumGetCString(id) : NULL;
			if (side->n > 0 && (side->keyed ? strcmp(previous_key, key) == 0
								: DatumGetInt64(previous) == DatumGetInt64(id)))
				ereport(ERROR,
						(errcode(ERRCODE_UNIQUE_VIOLATION),
						 errmsg("%s appears twice in %s_factors", RecoImportLabel(side, id), name),
						 errhint("An id has one row of factors.")));
			factors = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull);
			array = RecoImportFactors(run, side, id, factors, isnull);
			RecoImportGrow(side, run->k);
			memcpy(side->factors + side->n * run->k, ARR_DATA_PTR(array), sizeof(float) * run->k);
			if ((Pointer) array != DatumGetPointer(factors))
				pfree(array);
			if (side->keyed)
			{
				previous_key = key;
				side->keys[side->n] = key;
				side->ids[side->n] = side->n + 1;	/* the code: the key's rank */
			}
			else
			{
				previous = id;
				side->ids[side->n] = DatumGetInt64(id);
			}
			side->n++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	if (side->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s_factors has no rows", name),
				 errhint("A model needs the factors of at least one user and one item.")));
	if (side->n > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many %ss for one model", name),
				 errdetail("A model holds at most %d %ss.", PG_INT32_MAX, name)));
}

/* bsearch order of keys given by their pointers. */
static int
RecoImportCompareKeys(const void *a, const void *b)
{
	return RecoCompareKeys(*(char *const *) a, *(char *const *) b);
}

/* The row of an id (int8, or text for a key) on a side, or -1 (bsearch: rows are in id order). */
static int64
RecoImportFind(const RecoImportSide *side, Datum id)
{
	char	   *key;
	int64		value;
	void	   *found;

	if (side->keyed)
	{
		key = TextDatumGetCString(id);
		found = bsearch(&key, side->keys, side->n, sizeof(char *), RecoImportCompareKeys);
		pfree(key);
		return found != NULL ? (char **) found - side->keys : -1;
	}
	value = DatumGetInt64(id);
	found = bsearch(&value, side->ids, side->n, sizeof(int64), RecoCompareInt64);
	return found != NULL ? (int64 *) found - side->ids : -1;
}

/*
 * The matrices of the stored version: the id maps of both sides and, from
 * the (user, item, weight) rows of `sql` (NULL: none; merged pairs ordered
 * by user then item), the user-major matrix and its item-major copy.  A
 * weight that is not finite is 22000; a pair of a user or item without
 * factors is skipped.
 */
static void
RecoImportInteractions(RecoImportRun *run, const char *sql)
{
	RecoInteractions *data = &run->data;
	int64		capacity = RECO_IMPORT_INITIAL_ROWS;
	int64		last_user = -1;
	int64		u;
	Portal		portal;

	memset(data, 0, sizeof(*data));
	data->n_users = run->users.n;
	data->n_items = run->items.n;
	data->user_ids = run->users.ids;
	data->item_ids = run->items.ids;
	data->user_keys = run->users.keyed ? run->users.keys : NULL;
	data->item_keys = run->items.keyed ? run->items.keys : NULL;
	data->user_indptr = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (data->n_users + 1));
	data->user_items = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * capacity);
	data->user_weights = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * capacity);
	data->user_indptr[0] = 0;
	if (sql != NULL)
	{
		portal = SPI_cursor_open_with_args(NULL, sql, 0, NULL, NULL, NULL, false, 0);
		for (;;)
		{
			uint64		r;

			SPI_cursor_fetch(portal, true, RECO_IMPORT_FETCH_ROWS);
			if (SPI_processed == 0)
				break;
			for (r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tuple = SPI_tuptable->vals[r];
				bool		isnull;
				Datum		user_id = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull);
				Datum		item_id = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull);
				float		weight = DatumGetFloat4(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull));
				int64		user = RecoImportFind(&run->users, user_id);
				int64		item = RecoImportFind(&run->items, item_id);

				run->interactions_read++;
				if (!isfinite(weight))
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("the weight of %s and %s is %s", RecoImportLabel(&run->users, user_id),
									RecoImportLabel(&run->items, item_id), isnan(weight) ? "NaN" : "infinite"),
							 errhint("Weights must be finite numbers.")));
				if (user < 0 || item < 0)
				{
					run->interactions_skipped++;
					continue;
				}
				if (user < last_user)
					elog(ERROR, "reco: import interactions are not ordered by user, please report a bug");
				for (u = last_user + 1; u <= user; u++)
					data->user_indptr[u] = data->nnz;	/* users up to this one start here */
				last_user = user;
				if (data->nnz == capacity)
				{
					capacity *= 2;
					data->user_items = repalloc_huge(data->user_items, sizeof(int32) * capacity);
					data->user_weights = repalloc_huge(data->user_weights, sizeof(float) * capacity);
				}
				data->user_items[data->nnz] = (int32) item;
				data->user_weights[data->nnz] = weight;
				data->nnz++;
			}
			SPI_freetuptable(SPI_tuptable);
			CHECK_FOR_INTERRUPTS();
		}
		SPI_cursor_close(portal);
	}
	for (u = last_user + 1; u <= data->n_users; u++)
		data->user_indptr[u] = data->nnz;
	RecoBuildItemMajor(data, NULL);
}

/* The params jsonb text of the stored version: the options in effect, then what the caller recorded (`extra`). */
static char *
RecoImportParamsJson(const RecoImportRun *run, Datum extra)
{
	StringInfoData params;
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		values[2];
	bool		isnull;

	initStringInfo(&params);
	appendStringInfo(&params, "{\"imported\": true, \"algorithm\": \"%s\", \"factors\": %d, \"keep_versions\": %d",
					 RecoAlgorithmName(run->algorithm), run->k, run->keep_versions);
	if (run->has_system)
		appendStringInfo(&params, ", \"regularization\": %.9g, \"alpha\": %.9g", run->regularization, run->alpha);
	appendStringInfoChar(&params, '}');
	values[0] = CStringGetTextDatum(params.data);
	values[1] = extra;
	RecoExecuteArgs("SELECT ($1::jsonb OPERATOR(pg_catalog.||) $2)::text", 2, types, values, true);
	return TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The stats jsonb text of the stored version. */
static char *
RecoImportStatsJson(const RecoImportRun *run)
{
	return psprintf("{\"imported\": true, \"users\": " INT64_FORMAT ", \"items\": " INT64_FORMAT
					", \"interactions_read\": " INT64_FORMAT ", \"interactions_skipped\": " INT64_FORMAT
					", \"read_seconds\": %.6f, \"store_seconds\": %.6f, \"versions_pruned\": " INT64_FORMAT "}",
					run->users.n, run->items.n, run->interactions_read, run->interactions_skipped,
					run->read_seconds, run->store_seconds, run->versions_pruned);
}

/* Stores the version: both sides (every user), the pruning, the models row; returns its model_id. */
static int64
RecoImportStore(RecoImportRun *run, Datum extra_params)
{
	RecoVersionRow row;
	instr_time	phase;

	INSTR_TIME_SET_CURRENT(phase);
	memset(&row, 0, sizeof(row));
	row.model_id = RecoNewModelId();
	row.name = run->name;
	row.version = RecoNextVersion(run->name);
	RecoStoreItemFactors(row.model_id, &run->data, run->items.factors, run->k);
	RecoStoreEveryUserFactors(row.model_id, &run->data, run->users.factors, run->k);
	run->store_seconds = RecoImportSeconds(phase);
	run->versions_pruned = RecoPruneVersions(run->name, row.version, run->keep_versions);
	row.algorithm = RecoAlgorithmName(run->algorithm);
	row.params_json = RecoImportParamsJson(run, extra_params);
	row.n_users = run->users.n;
	row.n_items = run->items.n;
	row.n_interactions = run->data.nnz;
	row.factors = run->k;
	row.loss = NULL;
	row.iterations = 0;
	row.train_seconds = run->read_seconds + run->store_seconds;
	row.stats_json = RecoImportStatsJson(run);
	RecoInsertVersion(&row);
	if (reco_progress != RECO_PROGRESS_NONE)
		ereport(NOTICE,
				(errmsg("reco.import_model \"%s\": version %d, " INT64_FORMAT " users, " INT64_FORMAT " items, %d factors, "
						INT64_FORMAT " interactions",
						run->name, row.version, row.n_users, row.n_items, row.factors, row.n_interactions),
				 errdetail("Imported in %.3f s; the statistics are in reco.models.", row.train_seconds)));
	return row.model_id;
}

PG_FUNCTION_INFO_V1(reco_import_factors);

/*
 * reco_internal.import_factors(model, users_sql, items_sql, interactions_sql,
 * algorithm, regularization, alpha, keep_versions, params): the work of
 * reco.import_model (which builds the queries); returns the new models row.
 */
Datum
reco_import_factors(PG_FUNCTION_ARGS)
{
	RecoImportRun run;
	MemoryContext import_cxt;
	MemoryContext old;
	instr_time	started;
	int64		model_id;
	Datum		result;
	int			arg;

	for (arg = 0; arg < 5; arg++)
		if (arg != 3 && PG_ARGISNULL(arg))	/* 3: no interactions */
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of reco_internal.import_factors must not be NULL", arg + 1)));
	memset(&run, 0, sizeof(run));
	run.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	RecoCheckModelName(run.name);
	RecoImportOptions(fcinfo, &run);
	INSTR_TIME_SET_CURRENT(started);
	import_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco import", ALLOCSET_DEFAULT_SIZES);
	RecoSpiConnect();
	RecoCheckTrainPrivileges(false);
	RecoLockModelName(run.name);
	old = MemoryContextSwitchTo(import_cxt);
	RecoImportSideRows(&run, &run.users, "user", text_to_cstring(PG_GETARG_TEXT_PP(1)));
	RecoImportSideRows(&run, &run.items, "item", text_to_cstring(PG_GETARG_TEXT_PP(2)));
	RecoImportInteractions(&run, PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	run.read_seconds = RecoImportSeconds(started);
	model_id = RecoImportStore(&run, PG_ARGISNULL(8) ? DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))
							   : PG_GETARG_DATUM(8));
	MemoryContextSwitchTo(old);
	result = RecoFetchVersionRow(model_id);
	RecoSpiFinish();
	MemoryContextDelete(import_cxt);
	PG_RETURN_DATUM(result);
}
