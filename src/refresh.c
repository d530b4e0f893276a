/*-------------------------------------------------------------------------
 *
 * refresh.c
 *	  reco.refresh_users and reco.refresh_items: re-solve some users or items
 *	  of the served version in place, from their current rows in the source.
 *
 * A refresh of one side (the solved side: users, or items) against the
 * other (the fixed side, whose factors do not change):
 *	 0. the model's lock (reco.lock_model: trainings' store step, other
 *		refreshes and forget_user wait for each other), then a new snapshot,
 *		so the newest committed version and source rows are read;
 *	 1. the source (the argument, or the one the model remembers in params)
 *		is read filtered to the listed ids: SELECT ... FROM (source) AS src
 *		WHERE src.<col> = ANY($1), which the planner pushes down to an index
 *		on the column, so one customer's refresh reads that customer's rows
 *		and not the table; ids are read as the model's id types, weights by
 *		RecoRefreshWeight, the one place a row's weight is made;
 *	 2. each id's rows are merged as training merges them (duplicates summed,
 *		net-zero pairs dropped, rows of ids the fixed side does not know left
 *		out, as a fold-in leaves them out);
 *	 3. every id with pairs is solved exactly as training's final pass solves
 *		a user (RecoAlsSolveRowsExact: the Cholesky side solve with the fixed
 *		side's cached Gram matrix, on reco.threads threads): a
 *		refreshed user is bit for bit the fold-in (recommend_for_items) of
 *		the same rows, and explain still sums to its score;
 *	 4. its rows are replaced (DELETE, then the INSERT training's store
 *		uses), the ids without rows removed (users only), and the models row
 *		records the counts and a new generation of the side (the serving
 *		cache's invalidation, cache.c).
 * Everything happens in the caller's transaction: readers see the old or
 * the new rows, never a mix, and an error changes nothing.
 *
 * Codes: a new text or uuid key gets the side's highest code + 1 (new keys
 * numbered in key order), so after a refresh code order is no longer key
 * order; key lookups go through a key-order permutation (store.h, RecoKeys).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "als.h"
#include "cache.h"
#include "decay.h"
#include "feature_map.h"
#include "ids.h"
#include "interactions.h"
#include "options.h"
#include "reco.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

/* Source rows fetched per cursor batch. */
#define RECO_REFRESH_FETCH_ROWS 8192

/* One usable source row: the solved id's ref, the fixed side's row, the weight, the read order. */
typedef struct RecoRefreshRow
{
	int64		ref;
	int32		fixed;
	float		weight;
	int64		seq;
} RecoRefreshRow;

/* A row of the solved side the version already has. */
typedef struct RecoRefreshExisting
{
	int64		ref;
	int64		code;			/* its stored id */
	int64		seen;			/* users: stored interactions; items: 0 */
	bool		placed;			/* placed from features (its features column is set) */
} RecoRefreshExisting;

/* One refresh call: what its steps hand to each other. */
typedef struct RecoRefreshRun
{
	RecoSide	side;			/* the side re-solved */
	const char *name;
	MemoryContext cxt;			/* the call's: what outlives a fetched batch */
	RecoModelInfo model;
	RecoIdType	id_type;		/* the solved side's id type */
	bool		keyed;			/* id_type is text or uuid */
	RecoIdType	fixed_type;		/* the fixed side's id type */
	RecoFactorSet *fixed;		/* the fixed side's factors (pinned cache entry) */
	char	   *from_clause;	/* the source as a FROM item */
	char	   *user_col;
	char	   *item_col;
	char	   *weight_col;		/* NULL: every row weighs 1 */
	char	   *time_sql;		/* a time-decayed model: its event time expression, else NULL */
	double		half_life_seconds;	/* with time_sql: the model's half_life */
	TimestampTz as_of;			/* with time_sql: the version's as_of */
	RecoKeyTable *keys;			/* keyed: solved keys -> refs (provisional ids) */
	bool		all;			/* no list: every id of the version and of the source */
	int64		n_listed;
	int64	   *listed;			/* refs of the listed ids */
	Datum	   *filter;			/* the listed ids as the source is filtered by them */
	RecoRefreshExisting *existing;
	int64		n_existing;
	int64		max_code;		/* keyed: the side's highest code */
	RecoRefreshRow *rows;
	int64		n_rows;
	int64		rows_capacity;
	/* the result */
	int64		refreshed;
	int64		added;
	int64		removed;
	int64		skipped;
} RecoRefreshRun;

/* The stored table, id column and key column of a side. */
static const char *const reco_side_table[2] = {"item_factors", "user_factors"};
static const char *const reco_side_id[2] = {"item_id", "user_id"};
static const char *const reco_side_key[2] = {"item_key", "user_key"};
static const char *const reco_side_word[2] = {"items", "users"};
static const char *const reco_side_generation[2] = {"item_generation", "user_generation"};

/*
 * The weight of one source row (22000 if not finite); false if it is NULL
 * and the row is skipped, as training skips it.  Every weight a refresh
 * uses is made here.  A time-decayed model's weight decays as training's
 * did, from the version's as_of: a row without a time is skipped (as
 * training skips it), and an event after as_of, which the training could
 * not have seen, counts at age 0 (full weight) until a training moves as_of.
 */
static bool
RecoRefreshWeight(const RecoRefreshRun *run, HeapTuple tuple, TupleDesc desc, float *weight)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, 3, &isnull);
	TimestampTz time = 0;

	if (isnull)
		return false;
	/* the time first, in training's order (train.c, RecoFitTimeUsable) */
	if (run->time_sql != NULL)
	{
		Datum		time_value = SPI_getbinval(tuple, desc, 4, &isnull);

		if (isnull)
			return false;
		time = DatumGetTimestampTz(time_value);
		if (TIMESTAMP_NOT_FINITE(time))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("an event time of model \"%s\"'s source is infinite", run->name),
					 errhint("Event times must be finite; to skip rows, filter them out or make their time NULL.")));
	}
	*weight = DatumGetFloat4(value);
	if (isnan(*weight) || isinf(*weight))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("a weight of model \"%s\"'s source is %s", run->name, isnan(*weight) ? "NaN" : "infinite"),
				 errhint("Weights must be finite numbers.")));
	if (run->time_sql != NULL)
		*weight = RecoDecayWeight(*weight, Min(time, run->as_of), run->as_of, run->half_life_seconds);
	return true;
}

/* The ref of a solved id read from text (a key interned; a bigint parsed). */
static int64
RecoRefreshRef(RecoRefreshRun *run, const char *text)
{
	char	   *key;
	int64		ref;

	if (!run->keyed)
		return RecoIdBigintFromText(text);
	key = RecoIdKeyFromText(run->id_type, text);
	ref = RecoKeyTableIntern(run->keys, key, strlen(key));
	pfree(key);
	return ref;
}

/*
 * Argument 1, the ids to refresh (bigint[] or text[], read as the model's
 * id type; NULLs ignored): their refs and the filter array; a NULL argument
 * means every id.
 */
static void
RecoRefreshListed(FunctionCallInfo fcinfo, RecoRefreshRun *run)
{
	RecoIdList	list;
	int64		n,
				i;

	if (PG_ARGISNULL(1))
	{
		run->all = true;
		return;
	}
	RecoArgIdList(fcinfo, 1, &list);
	n = list.texts != NULL ? list.n_texts : list.n;
	run->listed = palloc(sizeof(int64) * Max(n, 1));
	run->filter = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		char		decimal[MAXINT8LEN + 1];
		const char *text = list.texts != NULL ? list.texts[i] : NULL;

		if (text == NULL && !run->keyed)
			run->listed[i] = list.ids[i];
		else
		{
			if (text == NULL)
			{
				pg_lltoa(list.ids[i], decimal);
				text = decimal;
			}
			run->listed[i] = RecoRefreshRef(run, text);
		}
		run->filter[i] = run->keyed ? CStringGetTextDatum(run->keys->keys[run->listed[i]])
			: Int64GetDatum(run->listed[i]);
	}
	run->n_listed = n;
}

/*
 * Reads where the model's interactions are: the source argument (2) or
 * params source; the columns from params (reco.train's defaults if absent);
 * for a time-decayed model its time column, half_life and as_of.  22023 if
 * there is no source, or a half_life without a recorded time column.
 */
static void
RecoRefreshSource(FunctionCallInfo fcinfo, RecoRefreshRun *run)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run->model.model_id)};
	TupleDesc	desc;
	HeapTuple	tuple;
	char	   *source;
	char	   *half_life;
	char	   *time_col;
	char	   *as_of;
	bool		isnull;

	RecoExecuteArgs("SELECT params->>'source', params->>'user_col', params->>'item_col', params->>'weight_col', "
					"params->>'half_life', params->>'time_col', params->>'as_of' FROM reco.models WHERE model_id = $1",
					1, types, values, true);
	if (SPI_processed != 1)
		elog(ERROR, "reco: model " INT64_FORMAT " vanished during a refresh, please report a bug",
			 run->model.model_id);
	desc = SPI_tuptable->tupdesc;
	tuple = SPI_tuptable->vals[0];
	half_life = SPI_getvalue(tuple, desc, 5);
	time_col = SPI_getvalue(tuple, desc, 6);
	as_of = SPI_getvalue(tuple, desc, 7);
	if (half_life != NULL && (time_col == NULL || as_of == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" was trained with a half_life but does not record its time column", run->name),
				 errhint("Train it with reco.train(..., time_col => ...), or pass the option {\"time_col\": ...} to the reco.fit aggregate.")));
	source = PG_ARGISNULL(2) ? SPI_getvalue(tuple, desc, 1) : text_to_cstring(PG_GETARG_TEXT_PP(2));
	run->user_col = SPI_getvalue(tuple, desc, 2);
	run->item_col = SPI_getvalue(tuple, desc, 3);
	run->weight_col = SPI_getvalue(tuple, desc, 4);
	if (run->user_col == NULL)
		run->user_col = "user_id";
	if (run->item_col == NULL)
		run->item_col = "item_id";
	if (source == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" does not record its source", run->name),
				 errhint("Pass one: reco.refresh_%s(model, ids, source => 'orders'); a model trained by the reco.fit "
						 "aggregate records it with the options {\"source\": ..., \"user_col\": ..., \"item_col\": ..., \"weight_col\": ...}.",
						 reco_side_word[run->side])));
	types[0] = TEXTOID;
	values[0] = CStringGetTextDatum(source);
	RecoExecuteArgs("SELECT reco_internal.source_from_item($1)", 1, types, values, false);
	run->from_clause = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (half_life != NULL)
	{
		Oid			time_types[2] = {TEXTOID, TEXTOID};
		Datum		time_values[2] = {CStringGetTextDatum(run->from_clause), CStringGetTextDatum(time_col)};

		run->half_life_seconds = RecoIntervalSeconds(DatumGetIntervalP(
			DirectFunctionCall3(interval_in, CStringGetDatum(half_life), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1))));
		run->as_of = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(as_of),
															 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		RecoExecuteArgs("SELECT reco_internal.event_time_sql($1, $2)", 2, time_types, time_values, false);
		run->time_sql = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
}

/* The rows the version has of the listed ids (every row if all), with their refs. */
static void
RecoRefreshLoadExisting(RecoRefreshRun *run)
{
	Oid			types[2] = {INT8OID, run->keyed ? TEXTARRAYOID : INT8ARRAYOID};
	Datum		values[2];
	char	   *sql;
	uint64		r;
	bool		isnull;

	values[0] = Int64GetDatum(run->model.model_id);
	sql = psprintf("SELECT %s, %s, %s, %s FROM reco.%s WHERE model_id = $1%s%s%s",
				   reco_side_id[run->side], run->keyed ? reco_side_key[run->side] : "NULL::text",
				   run->side == RECO_SIDE_USERS ? "pg_catalog.cardinality(seen_items)::bigint" : "0::bigint",
				   RecoSchemaHasFeatures() ? "features IS NOT NULL" : "false",
				   reco_side_table[run->side], run->all ? "" : " AND ",
				   run->all ? "" : (run->keyed ? reco_side_key[run->side] : reco_side_id[run->side]),
				   run->all ? "" : " = ANY($2)");
	if (!run->all)
		values[1] = PointerGetDatum(construct_array(run->filter, (int) run->n_listed,
													run->keyed ? TEXTOID : INT8OID,
													run->keyed ? -1 : 8, run->keyed ? false : FLOAT8PASSBYVAL,
													run->keyed ? TYPALIGN_INT : TYPALIGN_DOUBLE));
	RecoExecuteArgs(sql, run->all ? 1 : 2, types, values, true);
	run->n_existing = (int64) SPI_processed;
	run->existing = palloc(sizeof(RecoRefreshExisting) * Max(run->n_existing, 1));
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[r];
		RecoRefreshExisting *e = &run->existing[r];

		e->code = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
		e->seen = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull));
		e->placed = DatumGetBool(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 4, &isnull));
		if (run->keyed)
		{
			char	   *key = SPI_getvalue(tuple, SPI_tuptable->tupdesc, 2);

			if (key == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("%s " INT64_FORMAT " of model " INT64_FORMAT " has no key, but the model's %s are keys",
								reco_side_id[run->side], e->code, run->model.model_id, reco_side_word[run->side])));
			e->ref = RecoKeyTableIntern(run->keys, key, strlen(key));
		}
		else
			e->ref = e->code;
	}
	SPI_freetuptable(SPI_tuptable);
	if (run->keyed)
	{
		RecoExecuteArgs(psprintf("SELECT pg_catalog.max(%s) FROM reco.%s WHERE model_id = $1",
								 reco_side_id[run->side], reco_side_table[run->side]),
						1, types, values, true);
		values[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		run->max_code = isnull ? 0 : DatumGetInt64(values[0]);
	}
}

/* The fixed side's row of a fixed id read from the source, or -1 if the version does not know it. */
static int64
RecoRefreshFixedRow(const RecoRefreshRun *run, HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, 2, &isnull);

	if (run->fixed_type == RECO_ID_BIGINT)
		return RecoFindId(run->fixed->ids, run->fixed->n, DatumGetInt64(value));
	return RecoFindKey(&run->fixed->keys, run->fixed->n, TextDatumGetCString(value));
}

/* Appends one usable row. */
static void
RecoRefreshAppend(RecoRefreshRun *run, int64 ref, int32 fixed, float weight)
{
	if (run->n_rows == run->rows_capacity)
	{
		run->rows_capacity = Max(1024, run->rows_capacity * 2);
		run->rows = run->rows == NULL
			? MemoryContextAllocHuge(run->cxt, sizeof(RecoRefreshRow) * run->rows_capacity)
			: repalloc_huge(run->rows, sizeof(RecoRefreshRow) * run->rows_capacity);
	}
	run->rows[run->n_rows].ref = ref;
	run->rows[run->n_rows].fixed = fixed;
	run->rows[run->n_rows].weight = weight;
	run->rows[run->n_rows].seq = run->n_rows;
	run->n_rows++;
}

/*
 * Reads the source's rows of the listed ids (every row if all): (solved id,
 * fixed id, weight) read as the model's id types; rows with a NULL are
 * skipped, rows whose fixed id the version does not know are left out.
 * 42703 if the source lacks a column (from the query itself).
 */
static void
RecoRefreshReadSource(RecoRefreshRun *run)
{
	const char *solved_col = run->side == RECO_SIDE_USERS ? run->user_col : run->item_col;
	const char *fixed_col = run->side == RECO_SIDE_USERS ? run->item_col : run->user_col;
	char	   *weight = run->weight_col != NULL ? psprintf("src.%s::real", quote_identifier(run->weight_col))
		: "1::real";
	char	   *filter = "";
	Oid			types[1];
	Datum		values[1];
	Portal		portal;
	MemoryContext batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco refresh batch",
													ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;

	if (!run->all)
	{
		const char *cast = "";

		/*
		 * A key list is cast to the id column's type (its type read with
		 * LIMIT 0, which reads no row), so that an index on the column
		 * serves the = ANY: a uuid column compares with a uuid[].  A bigint
		 * list compares with any integer column as it is.
		 */
		if (run->keyed)
		{
			Oid			column_type;
			Oid			array_type;

			RecoExecuteArgs(psprintf("SELECT src.%s FROM %s AS src LIMIT 0", quote_identifier(solved_col),
									 run->from_clause), 0, NULL, NULL, true);
			column_type = SPI_gettypeid(SPI_tuptable->tupdesc, 1);
			array_type = get_array_type(column_type);
			if (OidIsValid(array_type) && column_type != TEXTOID)
				cast = psprintf("::%s", format_type_with_typemod(array_type, -1));	/* bpchar[], not char(1)[] */
		}
		filter = psprintf(" WHERE src.%s OPERATOR(pg_catalog.=) ANY ($1%s)", quote_identifier(solved_col), cast);
		types[0] = run->keyed ? TEXTARRAYOID : INT8ARRAYOID;
		values[0] = PointerGetDatum(construct_array(run->filter, (int) run->n_listed,
													run->keyed ? TEXTOID : INT8OID,
													run->keyed ? -1 : 8, run->keyed ? false : FLOAT8PASSBYVAL,
													run->keyed ? TYPALIGN_INT : TYPALIGN_DOUBLE));
	}
	portal = SPI_cursor_open_with_args(NULL,
									   psprintf("SELECT src.%s::%s, src.%s::%s, %s, %s FROM %s AS src%s",
												quote_identifier(solved_col), run->keyed ? "text" : "bigint",
												quote_identifier(fixed_col),
												run->fixed_type != RECO_ID_BIGINT ? "text" : "bigint",
												weight, run->time_sql != NULL ? run->time_sql : "NULL::timestamptz",
												run->from_clause, filter),
									   run->all ? 0 : 1, types, values, NULL, true, 0);
	for (;;)
	{
		uint64		r;

		SPI_cursor_fetch(portal, true, RECO_REFRESH_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		/* the keys read from a batch's rows are copies: freed with the batch */
		old = MemoryContextSwitchTo(batch_cxt);
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		null_solved,
						null_fixed;
			Datum		solved = SPI_getbinval(tuple, desc, 1, &null_solved);
			int64		fixed;
			float		w;

			(void) SPI_getbinval(tuple, desc, 2, &null_fixed);
			if (null_solved || null_fixed || !RecoRefreshWeight(run, tuple, desc, &w))
				continue;		/* as training skips it */
			fixed = RecoRefreshFixedRow(run, tuple, desc);

			/*
			 * A row whose fixed id the version does not know is left out of
			 * the solve, as a fold-in leaves it out; it is kept as a marker
			 * (fixed -1) so that an id with only such rows is not taken for
			 * one without rows (step 2).
			 */
			RecoRefreshAppend(run, run->keyed ? RecoRefreshRef(run, TextDatumGetCString(solved))
							  : DatumGetInt64(solved), (int32) Max(fixed, -1), fixed < 0 ? 0 : w);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(batch_cxt);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(batch_cxt);
}

/* qsort order of rows: by ref, then fixed row, then read order (duplicates sum in it). */
static int
RecoCompareRefreshRows(const void *a, const void *b)
{
	const RecoRefreshRow *x = (const RecoRefreshRow *) a;
	const RecoRefreshRow *y = (const RecoRefreshRow *) b;

	if (x->ref != y->ref)
		return x->ref < y->ref ? -1 : 1;
	if (x->fixed != y->fixed)
		return x->fixed < y->fixed ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* qsort order of existing rows: by ref. */
static int
RecoCompareExisting(const void *a, const void *b)
{
	int64		x = ((const RecoRefreshExisting *) a)->ref;
	int64		y = ((const RecoRefreshExisting *) b)->ref;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* The existing row of a ref, or NULL. */
static RecoRefreshExisting *
RecoRefreshFindExisting(RecoRefreshRun *run, int64 ref)
{
	RecoRefreshExisting key;

	key.ref = ref;
	return bsearch(&key, run->existing, run->n_existing, sizeof(RecoRefreshExisting), RecoCompareExisting);
}

/* qsort_arg order of refs by their keys (arg: the key table). */
static int
RecoCompareRefKeys(const void *a, const void *b, void *arg)
{
	const RecoKeyTable *keys = (const RecoKeyTable *) arg;

	return RecoCompareKeys(keys->keys[*(const int64 *) a], keys->keys[*(const int64 *) b]);
}

/*
 * Steps 2 to 4: merges each id's rows, solves the ids that keep rows,
 * replaces their stored rows, removes users left without a positive pair,
 * and records the refresh in the models row.
 */
static void
RecoRefreshApply(RecoRefreshRun *run)
{
	int			k = run->model.factors;
	int64		n_refs = run->n_listed + run->n_existing + run->n_rows;
	int64	   *refs = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(n_refs, 1));
	int64	   *indptr;
	int32	   *pair_fixed;
	float	   *pair_weight;
	int64	   *codes;
	int64	   *new_refs;
	int64	   *gone;
	float	   *solved;
	int64		n_ids,
				n = 0,
				n_new = 0,
				n_gone = 0,
				nnz = 0,
				seen_delta = 0,
				row = 0,
				i;
	RecoInteractions data;
	char	  **key_of_code = NULL;

	/* every id: listed, stored, or in the source's rows */
	if (run->n_listed > 0)
		memcpy(refs, run->listed, sizeof(int64) * run->n_listed);
	for (i = 0; i < run->n_existing; i++)
		refs[run->n_listed + i] = run->existing[i].ref;
	for (i = 0; i < run->n_rows; i++)
		refs[run->n_listed + run->n_existing + i] = run->rows[i].ref;
	n_ids = RecoSortUnique(refs, n_refs);
	qsort(run->existing, run->n_existing, sizeof(RecoRefreshExisting), RecoCompareExisting);
	qsort(run->rows, run->n_rows, sizeof(RecoRefreshRow), RecoCompareRefreshRows);

	/* 2. merged pairs of the ids that keep some (in place of refs: n <= id) */
	indptr = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (n_ids + 1));
	codes = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(n_ids, 1));
	new_refs = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(n_ids, 1));
	gone = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(n_ids, 1));
	pair_fixed = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(run->n_rows, 1));
	pair_weight = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(run->n_rows, 1));
	indptr[0] = 0;
	for (i = 0; i < n_ids; i++)
	{
		int64		ref = refs[i];
		int64		begin = nnz;
		bool		positive = false;
		bool		unknown_rows = false;
		RecoRefreshExisting *stored = RecoRefreshFindExisting(run, ref);

		for (; row < run->n_rows && run->rows[row].ref == ref; row++)
		{
			if (run->rows[row].fixed < 0)
			{
				unknown_rows = true;	/* sorted first: a fixed id the version lacks */
				continue;
			}
			if (nnz > begin && pair_fixed[nnz - 1] == run->rows[row].fixed)
				pair_weight[nnz - 1] += run->rows[row].weight;
			else
			{
				pair_fixed[nnz] = run->rows[row].fixed;
				pair_weight[nnz] = run->rows[row].weight;
				nnz++;
			}
		}
		/* net-zero pairs are dropped, as training drops them */
		{
			int64		kept = begin,
						p;

			for (p = begin; p < nnz; p++)
				if (pair_weight[p] != 0)
				{
					pair_fixed[kept] = pair_fixed[p];
					pair_weight[kept] = pair_weight[p];
					positive |= pair_weight[p] > 0;
					kept++;
				}
			nnz = kept;
		}
		/*
		 * A user needs a positive pair to be stored; an item any pair.  A
		 * stored user without one is removed, unless the source still has
		 * rows of theirs that name items the version lacks (a customer who
		 * bought only new products): those keep their factors, skipped,
		 * until refresh_items or a training knows the items.  A user placed
		 * from a profile (no interactions by definition) keeps its placement,
		 * skipped, as a placed item does.
		 */
		if (run->side == RECO_SIDE_USERS ? !positive : nnz == begin)
		{
			nnz = begin;
			if (stored != NULL && run->side == RECO_SIDE_USERS && !unknown_rows && !stored->placed)
			{
				gone[n_gone++] = stored->code;
				seen_delta -= stored->seen;
				run->removed++;
			}
			else
				run->skipped++;
			continue;
		}
		if (stored != NULL)
		{
			codes[n] = stored->code;
			gone[n_gone++] = stored->code;
			seen_delta -= stored->seen;
			run->refreshed++;
		}
		else
		{
			codes[n] = run->keyed ? -1 : ref;	/* a new key's code comes below */
			new_refs[n_new++] = ref;
			run->added++;
		}
		seen_delta += nnz - begin;
		refs[n] = ref;
		indptr[++n] = nnz;
	}

	/* new keys: the next codes, in key order */
	if (run->keyed && n_new > 0)
	{
		qsort_arg(new_refs, n_new, sizeof(int64), RecoCompareRefKeys, run->keys);
		for (i = 0; i < n; i++)
			if (codes[i] < 0)
			{
				int64	   *at = bsearch_arg(&refs[i], new_refs, n_new, sizeof(int64), RecoCompareRefKeys, run->keys);

				codes[i] = run->max_code + 1 + (at - new_refs);
			}
	}

	/* 3. the exact solves, on reco.threads threads */
	solved = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * k * Max(n, 1));
	if (n > 0)
	{
		RecoSparse	rows = {n, run->fixed->n, indptr, pair_fixed, pair_weight};
		RecoAlsConfig cfg = {k, run->model.regularization, run->model.alpha, RECO_MIN_CG_STEPS,
			RECO_SOLVER_CHOLESKY, RecoEffectiveThreads(0), run->model.reg_exponent,
		run->model.unobserved_weight, RECO_CG_VECTORS_AUTO};
		RecoHooks	hooks = {RecoInterruptPending, NULL};
		RecoStatus	status = RecoAlsSolveRowsExact(&rows, RecoFactorGram(run->fixed), run->fixed->factors,
												   solved, &cfg, &hooks);

		if (status == RECO_STATUS_NOT_POSITIVE_DEFINITE || status == RECO_STATUS_NOT_FINITE)
			ereport(ERROR,
					(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
					 errmsg("the least-squares system of a refreshed %s is not positive definite",
							run->side == RECO_SIDE_USERS ? "user" : "item"),
					 errhint("A model trained with regularization 0 cannot be refreshed; check very large negative weights.")));
		RecoReportKernelStatus(status, "refresh");
	}

	/* 4. the rows: the old ones out, the solved ones in through training's store */
	if (n_gone > 0)
	{
		Oid			types[2] = {INT8OID, INT8ARRAYOID};
		Datum		values[2];
		Datum	   *ids = palloc(sizeof(Datum) * n_gone);

		for (i = 0; i < n_gone; i++)
			ids[i] = Int64GetDatum(gone[i]);
		values[0] = Int64GetDatum(run->model.model_id);
		values[1] = PointerGetDatum(construct_array(ids, (int) n_gone, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		RecoExecuteArgs(psprintf("DELETE FROM reco.%s WHERE model_id = $1 AND %s = ANY($2)",
								 reco_side_table[run->side], reco_side_id[run->side]),
						2, types, values, false);
	}
	if (run->keyed && n > 0)
	{
		int64		top = run->max_code + n_new;

		key_of_code = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(char *) * Max(top, 1));
		for (i = 0; i < n; i++)
			key_of_code[codes[i] - 1] = run->keys->keys[refs[i]];
	}
	memset(&data, 0, sizeof(data));
	if (run->side == RECO_SIDE_USERS)
	{
		data.n_users = data.users_positive = n;
		data.user_ids = codes;
		data.user_indptr = indptr;
		data.user_items = pair_fixed;
		data.user_weights = pair_weight;
		data.user_keys = key_of_code;
		data.n_items = run->fixed->n;
		data.item_ids = run->fixed->ids;
		RecoStoreUserFactors(run->model.model_id, &data, solved, k);
	}
	else
	{
		data.n_items = n;
		data.item_ids = codes;
		data.item_indptr = indptr;
		data.item_users = pair_fixed;
		data.item_weights = pair_weight;
		data.item_keys = key_of_code;
		RecoStoreItemFactors(run->model.model_id, &data, solved, k);
	}

	/* the models row: counts, when, and a new generation of the side (cache.c) */
	if (n > 0 || n_gone > 0)
	{
		const char *word = reco_side_word[run->side];
		Oid			types[5] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
		Datum		values[5];

		values[0] = Int64GetDatum(run->model.model_id);
		values[1] = Int64GetDatum(run->added - run->removed);
		values[2] = Int64GetDatum(run->side == RECO_SIDE_USERS ? seen_delta : 0);
		values[3] = Int64GetDatum(run->refreshed);
		values[4] = Int64GetDatum(run->added);
		RecoExecuteArgs(psprintf("UPDATE reco.models SET n_%s = n_%s + $2, "
								 "n_interactions = GREATEST(n_interactions + $3, 0), "
								 "stats = stats || pg_catalog.jsonb_build_object('refreshed_at', pg_catalog.now(), "
								 "'%s_refreshed', COALESCE((stats->>'%s_refreshed')::bigint, 0) + $4, "
								 "'%s_added', COALESCE((stats->>'%s_added')::bigint, 0) + $5, "
								 "'%s_removed', COALESCE((stats->>'%s_removed')::bigint, 0) + %s, "
								 "'%s', pg_catalog.nextval('reco.models_model_id_seq')) "
								 "WHERE model_id = $1",
								 word, word, word, word, word, word, word, word,
								 run->side == RECO_SIDE_USERS ? psprintf(INT64_FORMAT, run->removed) : "0",
								 reco_side_generation[run->side]),
						5, types, values, false);
	}
}

/*
 * The body of refresh_users / refresh_items (model, ids, source) and their
 * _text twins: returns the row (refreshed, added, removed, skipped).
 */
static Datum
RecoRefresh(FunctionCallInfo fcinfo, RecoSide side)
{
	RecoRefreshRun run;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *name = RecoArgModel(fcinfo);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "reco: refresh called in a context that cannot accept a record, please report a bug");
	memset(&run, 0, sizeof(run));
	run.side = side;
	run.cxt = CurrentMemoryContext;
	run.name = name;
	RecoBeginInPlace(psprintf("reco.refresh_%s", reco_side_word[side]), reco_side_table[side],
					 ACL_SELECT | ACL_INSERT | ACL_DELETE, name, &run.model);
	RecoRequireImplicitModel(&run.model, side == RECO_SIDE_USERS ? "reco.refresh_users" : "reco.refresh_items");
	run.id_type = side == RECO_SIDE_USERS ? run.model.user_id_type : run.model.item_id_type;
	run.fixed_type = side == RECO_SIDE_USERS ? run.model.item_id_type : run.model.user_id_type;
	run.keyed = run.id_type != RECO_ID_BIGINT;
	if (run.keyed)
		run.keys = RecoKeyTableCreate(CurrentMemoryContext);
	RecoRefreshSource(fcinfo, &run);
	RecoRefreshListed(fcinfo, &run);
	run.fixed = RecoCacheFactors(&run.model, side == RECO_SIDE_USERS ? RECO_SIDE_ITEMS : RECO_SIDE_USERS,
								 CurrentMemoryContext);
	if (run.all || run.n_listed > 0)
	{
		RecoRefreshLoadExisting(&run);
		RecoRefreshReadSource(&run);
		RecoRefreshApply(&run);
	}
	PopActiveSnapshot();
	RecoSpiFinish();
	values[0] = Int64GetDatum(run.refreshed);
	values[1] = Int64GetDatum(run.added);
	values[2] = Int64GetDatum(run.removed);
	values[3] = Int64GetDatum(run.skipped);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(reco_refresh_users);

/*
 * reco.refresh_users(model, user_ids, source) and refresh_users_text:
 * re-solves the listed users (NULL: all) of the served version from their
 * rows in the source; returns (refreshed, added, removed, skipped).
 */
Datum
reco_refresh_users(PG_FUNCTION_ARGS)
{
	return RecoRefresh(fcinfo, RECO_SIDE_USERS);
}

PG_FUNCTION_INFO_V1(reco_refresh_items);

/*
 * reco.refresh_items(model, item_ids, source) and refresh_items_text:
 * re-solves the listed items (NULL: all) against the user factors; returns
 * (refreshed, added, removed, skipped).
 */
Datum
reco_refresh_items(PG_FUNCTION_ARGS)
{
	return RecoRefresh(fcinfo, RECO_SIDE_ITEMS);
}
