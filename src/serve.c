/*-------------------------------------------------------------------------
 *
 * serve.c
 *	  Argument checks, id lists and result rows shared by the serving
 *	  functions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "serve.h"
#include "topk.h"

/* Errors out (22004) on a NULL argument that has no meaning as "nothing". */
void
RecoRequireArg(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* Checks a requested result count (22023 unless positive); returns it. */
int
RecoCheckN(int n)
{
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

/* SPI_connect, or a loud error (a bug, not a user error). */
void
RecoSpiConnect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "reco: SPI_connect failed, please report a bug");
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
