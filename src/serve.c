/*-------------------------------------------------------------------------
 *
 * serve.c
 *	  The opening and closing of every serving call, and the argument
 *	  checks, id lists and result rows the serving functions share.
 *
 * Every serving function has the shape of contrib/bloom's callbacks, which
 * all start from initBloomState: check the arguments (RecoArgModel,
 * RecoArgN, RecoArgIdList, before anything is allocated or connected), then
 *
 *		RecoServeBegin(&ctx, fcinfo, name, true);	materialized SRF, SPI, model
 *		... RecoServeUsers / RecoServeUserArg, RecoServeFactors ...
 *		RecoServeEnd(&ctx);						SPI disconnected
 *
 * and only then score: every SPI_finish of the serving code is the one in
 * RecoServeEnd, and a call with nothing to serve (a NULL or unknown user or
 * item) still passes through it before returning no rows (or the
 * best-sellers, which RecoServePopular reads before it).  Loaded matrices
 * and users live in the call's memory context (the cache's matrices are
 * pinned for as long as that context lives, see cache.c), so they outlive
 * SPI's contexts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "cache.h"
#include "serve.h"
#include "topk.h"

/*
 * Opens a serving call: the materialized result (if materialize), SPI, and
 * the served version of model `model` (NULL: the default model, reco.model
 * or the only one).  Errors 42704 for an unknown model.
 */
void
RecoServeBegin(RecoServeContext *ctx, FunctionCallInfo fcinfo, const char *model, bool materialize)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->call_cxt = CurrentMemoryContext;
	if (materialize)
	{
		InitMaterializedSRF(fcinfo, 0);
		ctx->rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	}
	RecoSpiConnect();
	ctx->connected = true;
	if (model == NULL)
		model = RecoDefaultModelName();
	RecoLookupModel(model, &ctx->model);
}

/* Loads one side's factor matrix of the served version (through the cache) into ctx->factors. */
RecoFactorSet *
RecoServeFactors(RecoServeContext *ctx, RecoSide side)
{
	Assert(ctx->connected);
	ctx->factors = RecoCacheFactors(&ctx->model, side, ctx->call_cxt);
	return ctx->factors;
}

/*
 * Loads the listed users (ascending ids; NULL: every user) with their
 * training items (and weights if asked) into ctx->users; returns whether
 * the model knows any of them.
 */
bool
RecoServeUsers(RecoServeContext *ctx, const int64 *user_ids, int64 n, bool with_weights)
{
	Assert(ctx->connected);
	RecoLoadUsers(&ctx->model, user_ids, n, with_weights, &ctx->users, ctx->call_cxt);
	return ctx->users.n > 0;
}

/* Loads the one user of bigint argument `arg`; false if the argument is NULL or the user unknown. */
bool
RecoServeUserArg(RecoServeContext *ctx, FunctionCallInfo fcinfo, int arg, bool with_weights)
{
	int64		user_id;

	if (PG_ARGISNULL(arg))
		return false;
	user_id = PG_GETARG_INT64(arg);
	return RecoServeUsers(ctx, &user_id, 1, with_weights);
}

/*
 * The best-seller fallback: emits the served version's n most popular items
 * (reco.item_factors.popularity, ties by lower item id) as (item_id, score)
 * rows whose score is the popularity, only `candidates` if not NULL, never
 * an id of `exclude`.  Runs between RecoServeBegin and RecoServeEnd; the
 * popularity comes with the cached item matrix and is ordered once per
 * matrix, so a fallback costs a walk down that order, not a query.
 */
void
RecoServePopular(RecoServeContext *ctx, int n, const RecoIdList *candidates, const RecoIdList *exclude)
{
	RecoFactorSet *items = ctx->factors != NULL ? ctx->factors : RecoServeFactors(ctx, RECO_SIDE_ITEMS);
	const int32 *order = RecoFactorPopularityOrder(items);
	bool	   *skip = palloc(sizeof(bool) * Max(items->n, 1));
	int64		i;
	int			emitted = 0;

	memset(skip, candidates != NULL, sizeof(bool) * Max(items->n, 1));
	for (i = 0; candidates != NULL && i < candidates->n; i++)
	{
		int64		idx = RecoFindId(items->ids, items->n, candidates->ids[i]);

		if (idx >= 0)
			skip[idx] = false;
	}
	for (i = 0; exclude != NULL && i < exclude->n; i++)
	{
		int64		idx = RecoFindId(items->ids, items->n, exclude->ids[i]);

		if (idx >= 0)
			skip[idx] = true;
	}
	for (i = 0; i < items->n && emitted < n; i++)
	{
		Datum		row[2];
		bool		row_nulls[2] = {false, false};

		if (skip[order[i]])
			continue;
		row[0] = Int64GetDatum(items->ids[order[i]]);
		row[1] = Float4GetDatum((float) items->popularity[order[i]]);
		tuplestore_putvalues(ctx->rsinfo->setResult, ctx->rsinfo->setDesc, row, row_nulls);
		emitted++;
	}
}

/*
 * The fallback argument `arg`: true for 'popular', false for 'none'; 22004
 * if NULL, 22023 for any other word.  A function without that argument gets
 * `if_absent`: the short recommend has none and always falls back, while a
 * long form without it is a 0.2.0 SQL definition still bound to this library
 * before ALTER EXTENSION reco UPDATE, which keeps 0.2.0's answer (no rows).
 */
bool
RecoArgFallback(FunctionCallInfo fcinfo, int arg, bool if_absent)
{
	char	   *word;

	if (arg >= PG_NARGS())
		return if_absent;
	RecoRequireArg(fcinfo, arg, "fallback");
	word = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	if (strcmp(word, "popular") == 0)
		return true;
	if (strcmp(word, "none") == 0)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown fallback \"%s\"", word),
			 errhint("The fallbacks are: popular, none.")));
	return false;				/* not reached */
}

/* Closes the SPI part of a serving call; what was loaded stays valid. */
void
RecoServeEnd(RecoServeContext *ctx)
{
	Assert(ctx->connected);
	RecoSpiFinish();
	ctx->connected = false;
}

/* Errors out (22004) on a NULL argument that has no meaning as "nothing". */
void
RecoRequireArg(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* The model name of argument 0 (22004 if NULL), as a C string. */
char *
RecoArgModel(FunctionCallInfo fcinfo)
{
	RecoRequireArg(fcinfo, 0, "model");
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/* The result count of integer argument `arg`: 22004 if NULL, 22023 unless positive. */
int
RecoArgN(FunctionCallInfo fcinfo, int arg)
{
	int			n;

	RecoRequireArg(fcinfo, arg, "n");
	n = PG_GETARG_INT32(arg);
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be positive, not %d", n)));
	return n;
}

/*
 * The non-NULL elements of bigint[] argument `arg`, in array order; a NULL
 * argument, or one past the call's arguments, gives an empty list.
 */
void
RecoArgIdList(FunctionCallInfo fcinfo, int arg, RecoIdList *list)
{
	Datum	   *elems;
	bool	   *nulls;
	int			count,
				i;

	list->ids = NULL;
	list->n = 0;
	if (arg >= PG_NARGS() || PG_ARGISNULL(arg))
		return;
	RecoRequireFlatArray(PG_GETARG_ARRAYTYPE_P(arg));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &count);
	list->ids = palloc(sizeof(int64) * Max(count, 1));
	for (i = 0; i < count; i++)
		if (!nulls[i])
			list->ids[list->n++] = DatumGetInt64(elems[i]);
}

/* Errors out (22023) unless an id or weight array argument has at most one dimension. */
void
RecoRequireFlatArray(ArrayType *array)
{
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("array arguments must be one-dimensional, not %d-dimensional", ARR_NDIM(array))));
}

/* qsort order of int64 values. */
int
RecoCompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* qsort order of fold-in entries: by item index. */
int
RecoCompareWeightedIndex(const void *a, const void *b)
{
	int32		x = ((const RecoWeightedIndex *) a)->index;
	int32		y = ((const RecoWeightedIndex *) b)->index;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Sorts ids ascending and drops duplicates; returns the new count. */
int64
RecoSortUnique(int64 *ids, int64 n)
{
	int64		i,
				out = 0;

	qsort(ids, n, sizeof(int64), RecoCompareInt64);
	for (i = 0; i < n; i++)
		if (out == 0 || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	return out;
}

/* Sets scores[i] = -INFINITY for every listed id the set holds. */
void
RecoExcludeIds(const RecoFactorSet *set, const RecoIdList *ids, float *scores)
{
	int64		i;

	for (i = 0; i < ids->n; i++)
	{
		int64		idx = RecoFindId(set->ids, set->n, ids->ids[i]);

		if (idx >= 0)
			scores[idx] = -INFINITY;
	}
}

/* Emits (ids[top[i].index], top[i].score) rows for i < found. */
void
RecoEmitScored(ReturnSetInfo *rsinfo, const int64 *ids, const RecoScored *top, int found)
{
	int			i;

	for (i = 0; i < found; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int64GetDatum(ids[top[i].index]);
		values[1] = Float4GetDatum(top[i].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * Emits the best n of scores[0..count) as (id, score) rows, best first, ties
 * by lower index; -INFINITY entries are never emitted.
 */
void
RecoEmitTop(ReturnSetInfo *rsinfo, const int64 *ids, const float *scores, int64 count, int n)
{
	RecoScored *top;

	n = (int) Min((int64) n, count);
	top = palloc(sizeof(RecoScored) * Max(n, 1));
	RecoEmitScored(rsinfo, ids, top, RecoTopK(scores, count, n, top));
}
