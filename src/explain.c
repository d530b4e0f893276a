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

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "als.h"
#include "cache.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

PG_FUNCTION_INFO_V1(reco_explain);

/*
 * reco.explain(model, user_id, item_id, n): the user's n training items with
 * the largest contributions to the item's score, largest first.  Unknown
 * user or item: no rows.
 */
Datum
reco_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext call_cxt = CurrentMemoryContext;
	char	   *name;
	int			n;
	int64		user_id,
				target,
				n_seen,
				i;
	RecoModelInfo model;
	RecoFactorSet *items;
	RecoUserSet user;
	int32	   *indices;
	double	   *contrib;
	float	   *scores;

	RecoRequireArg(fcinfo, 0, "model");
	RecoRequireArg(fcinfo, 3, "n");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	n = RecoCheckN(PG_GETARG_INT32(3));

	InitMaterializedSRF(fcinfo, 0);
	RecoSpiConnect();
	RecoLookupModel(name, &model);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		SPI_finish();
		return (Datum) 0;
	}
	user_id = PG_GETARG_INT64(1);
	RecoLoadUsers(&model, &user_id, 1, true, &user, call_cxt);
	if (user.n == 0)
	{
		SPI_finish();
		return (Datum) 0;
	}
	items = RecoCacheFactors(&model, RECO_SIDE_ITEMS, call_cxt);
	SPI_finish();
	target = RecoFindId(items->ids, items->n, PG_GETARG_INT64(2));
	if (target < 0)
		return (Datum) 0;

	n_seen = user.seen_ptr[1];
	indices = palloc(sizeof(int32) * Max(n_seen, 1));
	for (i = 0; i < n_seen; i++)
	{
		int64		idx = RecoFindId(items->ids, items->n, user.seen_items[i]);

		if (idx < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("item " INT64_FORMAT " of user " INT64_FORMAT " is not in model " INT64_FORMAT,
							user.seen_items[i], user_id, model.model_id)));
		indices[i] = (int32) idx;
	}
	contrib = palloc(sizeof(double) * Max(n_seen, 1));
	if (!RecoAlsExplainRow(RecoFactorGram(items), items->factors, items->k, indices,
						   user.seen_weights, n_seen, model.alpha, model.regularization,
						   items->factors + target * items->k, contrib))
		ereport(ERROR,
				(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
				 errmsg("the user's least-squares system is not positive definite")));
	scores = palloc(sizeof(float) * Max(n_seen, 1));
	for (i = 0; i < n_seen; i++)
		scores[i] = (float) contrib[i];
	RecoEmitTop(rsinfo, user.seen_items, scores, n_seen, n);
	return (Datum) 0;
}
