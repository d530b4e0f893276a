/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  reco.explain: which of a user's own items drive an item's score.
 *
 * As the `implicit` library's explain does: with A the user's weighted
 * least-squares system (the exact solve of training, item factors fixed)
 * and b = Σ c⁺ y_i, the user vector is x = A⁻¹b, so the item's score
 * y · x = Σ_i c⁺_i (A⁻¹y) · y_i: one term per item the user interacted
 * with, summing exactly to the score of the exactly folded-in user (what
 * reco.recommend_for_items gives for the user's training items).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "als.h"
#include "cache.h"
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
