/*-------------------------------------------------------------------------
 *
 * recommend.c
 *	  reco.recommend: exact top-n items for a stored user.
 *
 * The newest committed version of the model is looked up (one SPI query),
 * its item matrix comes from the per-backend cache (cache.c), the user's
 * factors and training items from reco.user_factors (one SPI query).  All
 * items are scored with one sgemv (or, with `candidates`, only those items,
 * one dot product each), excluded items get -INFINITY, and a bounded heap
 * selects the best n: higher score first, ties by lower item id.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <cblas.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "cache.h"
#include "reco.h"
#include "store.h"
#include "topk.h"

/* The non-NULL elements of a bigint[] (NULL array: none); sets *n. */
static int64 *
RecoBigintElements(ArrayType *array, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			count,
				i;
	int64	   *out;

	*n = 0;
	if (array == NULL)
		return NULL;
	deconstruct_array(array, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &count);
	out = palloc(sizeof(int64) * Max(count, 1));
	for (i = 0; i < count; i++)
		if (!nulls[i])
			out[(*n)++] = DatumGetInt64(elems[i]);
	return out;
}

/* Sets scores[i] = -INFINITY for every listed id the item set holds. */
static void
RecoExcludeIds(const RecoItemSet *items, const int64 *ids, int64 n, float *scores)
{
	int64		i;

	for (i = 0; i < n; i++)
	{
		int64		idx = RecoFindId(items->ids, items->n, ids[i]);

		if (idx >= 0)
			scores[idx] = -INFINITY;
	}
}

/* Errors out on a NULL argument that has no meaning as "nothing". */
static void
RecoRequireArg(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

PG_FUNCTION_INFO_V1(reco_recommend);

/*
 * reco.recommend(model, user_id, n, exclude_seen, candidates, exclude):
 * the user's n best items, best first.  Unknown user: no rows.
 */
Datum
reco_recommend(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext call_cxt = CurrentMemoryContext;
	char	   *name;
	int64		user_id;
	int			n;
	bool		exclude_seen;
	int			n_candidates = 0,
				n_exclude = 0;
	int64	   *candidates,
			   *exclude;
	RecoModelInfo model;
	const RecoItemSet *items;
	RecoUserSet user;
	float	   *scores;
	RecoScored *top;
	int			found,
				i;

	RecoRequireArg(fcinfo, 0, "model");
	RecoRequireArg(fcinfo, 2, "n");
	RecoRequireArg(fcinfo, 3, "exclude_seen");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	n = PG_GETARG_INT32(2);
	exclude_seen = PG_GETARG_BOOL(3);
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be positive, not %d", n)));
	candidates = RecoBigintElements(PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4), &n_candidates);
	exclude = RecoBigintElements(PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5), &n_exclude);

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "reco: SPI_connect failed, please report a bug");
	RecoLookupModel(name, &model);
	if (PG_ARGISNULL(1))
	{
		SPI_finish();
		return (Datum) 0;
	}
	user_id = PG_GETARG_INT64(1);
	RecoLoadUsers(&model, &user_id, 1, &user, call_cxt);
	if (user.n == 0)
	{
		SPI_finish();
		return (Datum) 0;
	}
	items = RecoCacheItems(&model, call_cxt);
	SPI_finish();

	scores = MemoryContextAllocHuge(call_cxt, sizeof(float) * Max(items->n, 1));
	if (PG_ARGISNULL(4))
	{
		if (items->n > 0)
			cblas_sgemv(CblasRowMajor, CblasNoTrans, (int) items->n, items->k, 1.0f,
						items->factors, items->k, user.factors, 1, 0.0f, scores, 1);
	}
	else
	{
		/* only the candidates are scored; everything else stays excluded */
		for (i = 0; i < items->n; i++)
			scores[i] = -INFINITY;
		for (i = 0; i < n_candidates; i++)
		{
			int64		idx = RecoFindId(items->ids, items->n, candidates[i]);

			if (idx >= 0)
				scores[idx] = cblas_sdot(items->k, items->factors + idx * items->k, 1,
										 user.factors, 1);
		}
	}
	if (exclude_seen)
		RecoExcludeIds(items, user.seen_items, user.seen_ptr[1] - user.seen_ptr[0], scores);
	RecoExcludeIds(items, exclude, n_exclude, scores);

	n = (int) Min((int64) n, items->n);
	top = palloc(sizeof(RecoScored) * Max(n, 1));
	found = RecoTopK(scores, items->n, n, top);
	for (i = 0; i < found; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int64GetDatum(items->ids[top[i].index]);
		values[1] = Float4GetDatum(top[i].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
