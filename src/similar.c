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
 * reco.similar_to_features scores the same way a vector mapped from
 * features (feature_map.c): "similar to this draft product".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "als.h"
#include "cache.h"
#include "feature_map.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

/*
 * Emits the n rows of `set` most similar by cosine to the vector `query`
 * (row `self` of the set, or self -1 for a vector of its own), only among
 * `candidates` if given, never `self` itself, nor an item placed from
 * features if exclude_placed.
 */
static void
RecoEmitSimilar(ReturnSetInfo *rsinfo, RecoFactorSet *set, const float *query, int64 self, int n,
				const RecoIdList *candidates, bool exclude_placed)
{
	const float *norms = RecoFactorNorms(set);
	double		self_norm = self >= 0 ? norms[self] : cblas_snrm2(set->k, query, 1);
	float	   *scores = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(set->n, 1));
	RecoIdColumn column;
	int64		i;

	RecoAlsScoreRows(set->factors, NULL, set->n, set->k, query, scores);
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
	for (i = 0; exclude_placed && set->placed != NULL && i < set->n; i++)
		if (set->placed[i])
			scores[i] = -INFINITY;
	if (self >= 0)
		scores[self] = -INFINITY;
	column = RecoSetColumn(set);
	RecoEmitTop(rsinfo, &column, scores, set->n, n);
}

/*
 * The body of both similar_* functions and their text and uuid forms:
 * (model, id, n[, candidates, include_new]) over the rows of `side`, the id
 * and the candidates read as the side's id type.  A NULL or unknown id gives
 * no rows.
 */
static Datum
RecoSimilar(FunctionCallInfo fcinfo, RecoSide side)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			n = RecoArgN(fcinfo, 2);
	RecoIdList	candidates;
	bool		has_candidates = PG_NARGS() > 3 && !PG_ARGISNULL(3);	/* similar_users has no such argument */
	bool		include_new = RecoArgIncludeNew(fcinfo, 4);
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

	RecoEmitSimilar(ctx.rsinfo, ctx.factors, ctx.factors->factors + self * ctx.factors->k, self, n,
					has_candidates ? &candidates : NULL, !include_new);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(reco_similar_items);

/*
 * reco.similar_items(model, item_id, n, candidates, include_new): the n items
 * closest by cosine (item_id bigint, text or uuid); include_new false leaves
 * out the items placed from features.
 */
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

PG_FUNCTION_INFO_V1(reco_similar_to_features);

/*
 * reco.similar_to_features(model, features, n, candidates, include_new) and
 * reco.similar_to_features_text: the n items closest by cosine to the
 * factors the version's item mapping gives the features (a draft product);
 * NULL features give no rows, a version without an item mapping 22023.
 */
Datum
reco_similar_to_features(PG_FUNCTION_ARGS)
{
	float	   *query = NULL;	/* the mapped features: NULL for NULL features */
	bool		include_new = RecoArgIncludeNew(fcinfo, 4);
	bool		has_candidates = !PG_ARGISNULL(3);
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			n = RecoArgN(fcinfo, 2);
	RecoIdList	candidates;
	MemoryContext old_cxt;

	RecoArgIdList(fcinfo, 3, &candidates);

	RecoServeBegin(&ctx, fcinfo, name, true);
	if (!PG_ARGISNULL(1))
	{
		RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
		old_cxt = MemoryContextSwitchTo(ctx.call_cxt);
		query = palloc(sizeof(float) * ctx.factors->k);
		RecoMapFeatures(RecoFeatureMapFor(&ctx.model, RECO_SIDE_ITEMS, true), PG_GETARG_JSONB_P(1), query);
		MemoryContextSwitchTo(old_cxt);
		RecoResolveIdList(ctx.factors, &candidates);
	}
	RecoServeEnd(&ctx);
	if (query == NULL)
		return (Datum) 0;		/* NULL features: no rows */

	RecoEmitSimilar(ctx.rsinfo, ctx.factors, query, -1, n, has_candidates ? &candidates : NULL, !include_new);
	return (Datum) 0;
}
