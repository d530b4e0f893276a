/*-------------------------------------------------------------------------
 *
 * similar.c
 *	  reco.similar_items and reco.similar_users: cosine similarity over a
 *	  model's factors.
 *
 * The query row's dot products with every row of the same side come from
 * the kernel's dot product (RecoAlsScoreRows) and are divided by the two
 * norms (cached with the matrix); a row with a zero vector has similarity 0
 * to everything.  The query row itself is never returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "als.h"
#include "cache.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

/*
 * Emits the n rows of `set` most similar to row `self` by cosine, only among
 * `candidates` if given, never `self` itself.
 */
static void
RecoEmitSimilar(ReturnSetInfo *rsinfo, RecoFactorSet *set, int64 self, int n,
				const RecoIdList *candidates)
{
	const float *norms = RecoFactorNorms(set);
	double		self_norm = norms[self];
	float	   *scores = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(set->n, 1));
	RecoIdColumn column;
	int64		i;

	RecoAlsScoreRows(set->factors, NULL, set->n, set->k, set->factors + self * set->k, scores);
	for (i = 0; i < set->n; i++)
	{
		double		cosine = (self_norm > 0 && norms[i] > 0) ? scores[i] / (self_norm * norms[i]) : 0.0;

		/* rounding can step just outside [-1, 1] */
		scores[i] = (float) Max(-1.0, Min(1.0, cosine));
	}
	if (candidates != NULL)
	{
		bool	   *keep = palloc0(sizeof(bool) * Max(set->n, 1));

		for (i = 0; i < candidates->n; i++)
		{
			int64		idx = RecoFindId(set->ids, set->n, candidates->ids[i]);

			if (idx >= 0)
				keep[idx] = true;
		}
		for (i = 0; i < set->n; i++)
			if (!keep[i])
				scores[i] = -INFINITY;
	}
	scores[self] = -INFINITY;
	column = RecoSetColumn(set);
	RecoEmitTop(rsinfo, &column, scores, set->n, n);
}

/*
 * The body of both similar_* functions and their text and uuid forms:
 * (model, id, n[, candidates]) over the rows of `side`, the id and the
 * candidates read as the side's id type.  A NULL or unknown id gives no
 * rows.
 */
static Datum
RecoSimilar(FunctionCallInfo fcinfo, RecoSide side)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			n = RecoArgN(fcinfo, 2);
	RecoIdList	candidates;
	bool		has_candidates = PG_NARGS() > 3 && !PG_ARGISNULL(3);	/* similar_users has no such argument */
	int64		self = -1;

	RecoArgIdList(fcinfo, 3, &candidates);

	RecoServeBegin(&ctx, fcinfo, name, true);
	if (!PG_ARGISNULL(1))
		RecoServeFactors(&ctx, side);
	RecoServeEnd(&ctx);
	if (ctx.factors != NULL)
	{
		self = RecoFindIdDatum(ctx.factors, PG_GETARG_DATUM(1), RecoArgType(fcinfo, 1));
		RecoResolveIdList(ctx.factors, &candidates);
	}
	if (self < 0)
		return (Datum) 0;		/* NULL or unknown id: no rows */

	RecoEmitSimilar(ctx.rsinfo, ctx.factors, self, n, has_candidates ? &candidates : NULL);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(reco_similar_items);

/* reco.similar_items(model, item_id, n, candidates): the n items closest by cosine (item_id bigint, text or uuid). */
Datum
reco_similar_items(PG_FUNCTION_ARGS)
{
	return RecoSimilar(fcinfo, RECO_SIDE_ITEMS);
}

PG_FUNCTION_INFO_V1(reco_similar_users);

/* reco.similar_users(model, user_id, n): the n users closest by cosine (user_id bigint, text or uuid). */
Datum
reco_similar_users(PG_FUNCTION_ARGS)
{
	return RecoSimilar(fcinfo, RECO_SIDE_USERS);
}
