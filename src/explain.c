/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  reco.explain: which of a user's own items drive an item's score;
 *	  reco.explain_features: which features, for an entity placed from them.
 *
 * As the `implicit` library's explain does: with A the user's weighted
 * least-squares system (the exact solve of training, item factors fixed)
 * and b = Σ c⁺ y_i, the user vector is x = A⁻¹b, so the item's score
 * y · x = Σ_i c⁺_i (A⁻¹y) · y_i: one term per item the user interacted
 * with, summing exactly to the score of the exactly folded-in user (what
 * reco.recommend_for_items gives for the user's training items).
 *
 * reco.explain_features splits a score over features instead: an item
 * placed from features has y = W_intercept + Σ_f W_f·value_f, so
 * x · y = x · W_intercept + Σ_f x · W_f·value_f, one term per feature (a user
 * placed from a profile likewise, with the item's factors).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "als.h"
#include "cache.h"
#include "feature_map.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

/*
 * Emits the n largest contributions of the user's training items (the one
 * user of `user`, all of whose items the model must know) to the score of
 * item row `target`, largest first.
 */
static void
RecoEmitContributions(ReturnSetInfo *rsinfo, const RecoModelInfo *model, RecoFactorSet *items,
					  const RecoUserSet *user, int64 target, int n)
{
	int64		n_seen = user->seen_ptr[1];
	int32	   *indices = palloc(sizeof(int32) * Max(n_seen, 1));
	float	   *weights = palloc(sizeof(float) * Max(n_seen, 1));
	double	   *contrib = palloc(sizeof(double) * Max(n_seen, 1));
	float	   *scores = palloc(sizeof(float) * Max(n_seen, 1));
	RecoIdColumn column = RecoSetColumn(items);
	RecoAlsRowParams rp = RecoModelRowParams(model, items->n);
	int64		i;

	/* every training item, in order (an item the version lacks: XX001) */
	n_seen = RecoUserRow(items, user, 0, model->model_id, indices, weights);
	if (!RecoAlsExplainRow(RecoFactorGram(items), items->factors, items->k, indices,
						   weights, n_seen, &rp, items->factors + target * items->k, contrib))
		ereport(ERROR,
				(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
				 errmsg("the user's least-squares system is not positive definite")));
	for (i = 0; i < n_seen; i++)
		scores[i] = (float) contrib[i];
	column.rows = indices;		/* contribution i is of item row indices[i] */
	RecoEmitTop(rsinfo, &column, scores, n_seen, n);
}

PG_FUNCTION_INFO_V1(reco_explain);

/*
 * reco.explain(model, user_id, item_id, n): the user's n training items with
 * the largest contributions to the item's score, largest first.  Unknown
 * user or item: no rows.  The ids bigint, or text (then returned as text).
 */
Datum
reco_explain(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			n = RecoArgN(fcinfo, 3);
	int64		target = -1;

	RecoServeBegin(&ctx, fcinfo, name, true);
	RecoRequireImplicitModel(&ctx.model, "reco.explain");
	if (!PG_ARGISNULL(2) && RecoServeUserArg(&ctx, fcinfo, 1, true))
		RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
	RecoServeEnd(&ctx);
	if (ctx.factors != NULL)
		target = RecoFindIdDatum(ctx.factors, PG_GETARG_DATUM(2), RecoArgType(fcinfo, 2));
	if (target < 0)
		return (Datum) 0;		/* NULL or unknown user or item: no rows */

	RecoEmitContributions(ctx.rsinfo, &ctx.model, ctx.factors, &ctx.users, target, n);
	return (Datum) 0;
}

/* One row of explain_features: a feature and its share of the score. */
typedef struct RecoFeatureShare
{
	const char *feature;
	float		contribution;
} RecoFeatureShare;

static int	RecoCompareFeatureShares(const void *a, const void *b);

/*
 * Emits (side, feature, contribution) rows splitting other · x, x the
 * factors `map` gives `features`: the intercept as feature '', each known
 * feature (a dense embedding summed into one row), largest |contribution|
 * first, then by feature name.
 */
static void
RecoEmitFeatureShares(ReturnSetInfo *rsinfo, const char *side, const RecoFeatureMap *map, Jsonb *features,
					  const float *other)
{
	RecoFeatureTerm *terms;
	int			n = RecoFeatureTerms(map, features, &terms);
	RecoFeatureShare *shares = palloc(sizeof(RecoFeatureShare) * (n + 1));
	double	   *acc = palloc(sizeof(double) * map->k);
	int			t,
				c;

	for (t = 0; t <= n; t++)
	{
		double		dot = 0.0;

		for (c = 0; c < map->k; c++)
			acc[c] = t == 0 ? map->intercept[c] : 0.0;
		if (t > 0)
			RecoFeatureTermVector(map, &terms[t - 1], acc);
		for (c = 0; c < map->k; c++)
			dot += acc[c] * other[c];
		shares[t].feature = t == 0 ? "" : terms[t - 1].column->name;
		shares[t].contribution = (float) dot;
	}
	qsort(shares, n + 1, sizeof(RecoFeatureShare), RecoCompareFeatureShares);
	for (t = 0; t <= n; t++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(side);
		values[1] = CStringGetTextDatum(shares[t].feature);
		values[2] = Float4GetDatum(shares[t].contribution);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* qsort order of feature shares: larger |contribution| first, then feature name. */
static int
RecoCompareFeatureShares(const void *a, const void *b)
{
	const RecoFeatureShare *x = (const RecoFeatureShare *) a;
	const RecoFeatureShare *y = (const RecoFeatureShare *) b;
	float		ax = fabsf(x->contribution),
				ay = fabsf(y->contribution);

	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(x->feature, y->feature);
}

PG_FUNCTION_INFO_V1(reco_explain_features);

/*
 * reco.explain_features(model, user_id, item_id) (ids bigint, text or
 * uuid): when the item was placed from features, the user's score for it
 * split over the item's features (side 'item'); else when the user was
 * placed from a profile, split over the profile (side 'user'); else, or for
 * a NULL or unknown user or item, no rows.  Any algorithm.
 */
Datum
reco_explain_features(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int64		target = -1;
	Jsonb	   *features = NULL;
	RecoFeatureMap *map = NULL;
	const float *other = NULL;
	const char *side = NULL;
	MemoryContext old_cxt;

	RecoServeBegin(&ctx, fcinfo, name, true);
	if (!PG_ARGISNULL(2) && RecoServeUserArg(&ctx, fcinfo, 1, false))
	{
		RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
		target = RecoFindIdDatum(ctx.factors, PG_GETARG_DATUM(2), RecoArgType(fcinfo, 2));
	}
	if (target >= 0)
	{
		old_cxt = MemoryContextSwitchTo(ctx.call_cxt);
		features = RecoStoredFeatures(&ctx.model, RECO_SIDE_ITEMS, ctx.factors->ids[target], ctx.call_cxt);
		if (features != NULL)
		{
			map = RecoFeatureMapFor(&ctx.model, RECO_SIDE_ITEMS, true);
			other = ctx.users.factors;
			side = "item";
		}
		else if ((features = RecoStoredFeatures(&ctx.model, RECO_SIDE_USERS, ctx.users.ids[0], ctx.call_cxt)) != NULL)
		{
			map = RecoFeatureMapFor(&ctx.model, RECO_SIDE_USERS, true);
			other = ctx.factors->factors + target * ctx.factors->k;
			side = "user";
		}
		/* the split is computed while the map is sure to be this call's */
		if (features != NULL)
			RecoEmitFeatureShares(ctx.rsinfo, side, map, features, other);
		MemoryContextSwitchTo(old_cxt);
	}
	RecoServeEnd(&ctx);
	return (Datum) 0;
}
