/*-------------------------------------------------------------------------
 *
 * explore_serve.c
 *	  reco.explore: exploratory recommendations for one user (Thompson
 *	  sampling and ε-slots, the kernel of explore.h).
 *
 * The call is reco.recommend's (serve.c's opening and closing, the same
 * argument checks, filters and id forms), with the user's training items
 * and weights loaded too: they make the user's exact system A_u, whose
 * Cholesky factor shapes the draw.  Every filter becomes a -INFINITY entry
 * of one mask over the item rows, which the kernel never crosses.
 *
 * Randomness.  The generator is RecoRngStart(seed, stream), stream
 * RecoUserStream's hash of the user id's text form (the stored key or the
 * decimal id of a known user, the argument's text for an unknown one, 0 for
 * NULL; reco.evaluate's explore lists take the same), so one seed
 * gives each user an independent, reproducible draw.  Without a seed, the
 * seed comes from pg_strong_random: a fresh draw per call.  Nothing is
 * shared between calls or processes, hence VOLATILE but PARALLEL SAFE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cache.h"
#include "explore.h"
#include "reco.h"
#include "serve.h"
#include "store.h"

/* A fresh seed for a call without one: strong random bits, else the clock and the process. */
static uint64
RecoFreshSeed(void)
{
	uint64		seed;

	if (!pg_strong_random(&seed, sizeof(seed)))
		seed = RecoSplitMix64((uint64) GetCurrentTimestamp() ^ ((uint64) MyProcPid << 32));
	return seed;
}

/*
 * The mask of the call's filters over the item rows: 0, or -INFINITY for an
 * item outside `candidates` (if given), in `exclude`, or seen with a
 * positive weight (if exclude_seen and the user is known).
 */
static float *
RecoExploreMask(const RecoFactorSet *items, const RecoUserSet *user, bool exclude_seen,
				const RecoIdList *candidates, const RecoIdList *exclude)
{
	float	   *mask = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(items->n, 1));
	int64		i;

	for (i = 0; i < items->n; i++)
		mask[i] = candidates != NULL ? -INFINITY : 0.0f;
	for (i = 0; candidates != NULL && i < candidates->n; i++)
	{
		int64		idx = RecoFindId(items->ids, items->n, candidates->ids[i]);

		if (idx >= 0)
			mask[idx] = 0.0f;
	}
	RecoExcludeIds(items, exclude, mask);
	for (i = 0; exclude_seen && user != NULL && i < user->seen_ptr[1]; i++)
	{
		int64		idx;

		if (!(user->seen_weights[i] > 0))
			continue;			/* as recommend: only positive net weights are "seen" */
		idx = RecoFindId(items->ids, items->n, user->seen_items[i]);
		if (idx >= 0)
			mask[idx] = -INFINITY;
	}
	return mask;
}

/* Emits the kernel's slots as (item_id, score, explored) rows, in display order. */
static void
RecoEmitExplored(ReturnSetInfo *rsinfo, const RecoFactorSet *items, const RecoExploreSlot *slots,
				 int found)
{
	RecoIdColumn column = RecoSetColumn(items);
	Oid			type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
	int			i;

	for (i = 0; i < found; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = RecoIdColumnDatum(&column, slots[i].index, type);
		values[1] = Float4GetDatum(slots[i].score);
		values[2] = BoolGetDatum(slots[i].explored);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(reco_explore);

/*
 * reco.explore(model, user_id, n, seed, sigma, epsilon, exclude_seen,
 * candidates, exclude): n exploratory items for the user, in display order
 * (user_id bigint, text or uuid; candidates and exclude bigint[] or
 * text[]).  A NULL or unknown user gets the best-sellers with ε-slots.
 */
Datum
reco_explore(PG_FUNCTION_ARGS)
{
	char	   *name = RecoArgModel(fcinfo);
	int			n = RecoArgN(fcinfo, 2);
	float		sigma = RecoArgSigma(fcinfo, 4);
	float		epsilon = RecoArgEpsilon(fcinfo, 5);
	uint64		seed = PG_ARGISNULL(3) ? RecoFreshSeed() : (uint64) PG_GETARG_INT64(3);
	bool		exclude_seen;
	bool		has_candidates = !PG_ARGISNULL(7);
	RecoIdList	candidates,
				exclude;
	RecoFactorSet *items;
	RecoExploreInput in;
	RecoExploreSlot *slots;
	RecoRng		rng;
	RecoServeContext ctx;
	bool		known;
	int			found;
	RecoStatus	status;

	RecoRequireArg(fcinfo, 6, "exclude_seen");
	exclude_seen = PG_GETARG_BOOL(6);
	RecoArgIdList(fcinfo, 7, &candidates);
	RecoArgIdList(fcinfo, 8, &exclude);

	RecoServeBegin(&ctx, fcinfo, name, true);
	RecoRequireImplicitModel(&ctx.model, "reco.explore");
	known = RecoServeUserArg(&ctx, fcinfo, 1, true);
	items = RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
	RecoResolveIdList(items, &candidates);
	RecoResolveIdList(items, &exclude);
	RecoServeEnd(&ctx);

	memset(&in, 0, sizeof(in));
	in.items = items->factors;
	in.n_items = items->n;
	in.k = items->k;
	/* the Gram matrix only for a draw: a known user and sigma > 0 */
	in.gram = known && sigma > 0.0f ? RecoFactorGram(items) : NULL;
	in.popularity = items->popularity;
	in.popularity_order = RecoFactorPopularityOrder(items);
	in.norm_order = RecoFactorNormOrder(items);	/* computes items->norms too */
	in.item_norms = items->norms;
	in.alpha = ctx.model.alpha;
	in.regularization = ctx.model.regularization;
	in.reg_exponent = ctx.model.reg_exponent;
	in.unobserved_weight = ctx.model.unobserved_weight;
	in.sigma = sigma;
	in.epsilon = epsilon;
	in.n = (int) Min((int64) n, Max(items->n, 1));
	in.mask = RecoExploreMask(items, known ? &ctx.users : NULL, exclude_seen,
							  has_candidates ? &candidates : NULL, &exclude);
	if (known)
	{
		int64		n_seen = ctx.users.seen_ptr[1];
		int32	   *rows = palloc(sizeof(int32) * Max(n_seen, 1));
		float	   *weights = palloc(sizeof(float) * Max(n_seen, 1));

		in.user = ctx.users.factors;
		in.n_seen = RecoUserRow(items, &ctx.users, 0, ctx.model.model_id, rows, weights);
		in.seen = rows;
		in.seen_weights = weights;
	}
	rng = RecoRngStart(seed, RecoUserStream(&ctx.users, known ? 0 : -1,
											PG_ARGISNULL(1) ? NULL :
											RecoIdDatumText(PG_GETARG_DATUM(1), RecoArgType(fcinfo, 1))));
	slots = palloc(sizeof(RecoExploreSlot) * in.n);
	status = RecoExploreUser(&in, &rng, slots, &found);
	RecoReportExploreStatus(status, &ctx.users, 0);
	RecoEmitExplored(ctx.rsinfo, items, slots, found);
	return (Datum) 0;
}
