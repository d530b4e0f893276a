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

#include "executor/spi.h"
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
 * Emits the n rows of `side` most similar to row `id` (none if the model
 * does not know it), only among `candidates` if given.
 */
static Datum
RecoSimilar(FunctionCallInfo fcinfo, RecoSide side)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext call_cxt = CurrentMemoryContext;
	char	   *name;
	int			n;
	int64		id,
				self,
				i;
	RecoIdList	candidates;
	RecoModelInfo model;
	RecoFactorSet *set;
	const float *norms;
	float	   *scores;
	double		self_norm;
	bool		has_candidates;

	RecoRequireArg(fcinfo, 0, "model");
	RecoRequireArg(fcinfo, 2, "n");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	n = RecoCheckN(PG_GETARG_INT32(2));
	RecoArgIdList(fcinfo, 3, &candidates);
	has_candidates = PG_NARGS() > 3 && !PG_ARGISNULL(3);	/* similar_users has no such argument */

	InitMaterializedSRF(fcinfo, 0);
	RecoSpiConnect();
	RecoLookupModel(name, &model);
	if (PG_ARGISNULL(1))
	{
		SPI_finish();
		return (Datum) 0;
	}
	id = PG_GETARG_INT64(1);
	set = RecoCacheFactors(&model, side, call_cxt);
	SPI_finish();

	self = RecoFindId(set->ids, set->n, id);
	if (self < 0)
		return (Datum) 0;
	norms = RecoFactorNorms(set);
	self_norm = norms[self];
	scores = MemoryContextAllocHuge(call_cxt, sizeof(float) * Max(set->n, 1));
	RecoAlsScoreRows(set->factors, NULL, set->n, set->k, set->factors + self * set->k, scores);
	for (i = 0; i < set->n; i++)
	{
		double		cosine = (self_norm > 0 && norms[i] > 0) ? scores[i] / (self_norm * norms[i]) : 0.0;

		/* rounding can step just outside [-1, 1] */
		scores[i] = (float) Max(-1.0, Min(1.0, cosine));
	}
	if (has_candidates)
	{
		bool	   *keep = palloc0(sizeof(bool) * Max(set->n, 1));

		for (i = 0; i < candidates.n; i++)
		{
			int64		idx = RecoFindId(set->ids, set->n, candidates.ids[i]);

			if (idx >= 0)
				keep[idx] = true;
		}
		for (i = 0; i < set->n; i++)
			if (!keep[i])
				scores[i] = -INFINITY;
	}
	scores[self] = -INFINITY;
	RecoEmitTop(rsinfo, set->ids, scores, set->n, n);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(reco_similar_items);

/* reco.similar_items(model, item_id, n, candidates): the n items closest by cosine. */
Datum
reco_similar_items(PG_FUNCTION_ARGS)
{
	return RecoSimilar(fcinfo, RECO_SIDE_ITEMS);
}

PG_FUNCTION_INFO_V1(reco_similar_users);

/* reco.similar_users(model, user_id, n): the n users closest by cosine. */
Datum
reco_similar_users(PG_FUNCTION_ARGS)
{
	return RecoSimilar(fcinfo, RECO_SIDE_USERS);
}
