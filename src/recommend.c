/*-------------------------------------------------------------------------
 *
 * recommend.c
 *	  reco.recommend (long and short form), reco.recommend_for_items and
 *	  reco.recommend_all: exact top-n items for users.
 *
 * The newest committed version of the model is looked up (one saved-plan
 * SPI query), its item matrix comes from the per-backend cache (cache.c),
 * the user's factors and training items from reco.user_factors (one more).
 * Every item (or, with `candidates`, every candidate) is scored with the
 * kernel's dot product (RecoAlsScoreRows), excluded items get -INFINITY, and
 * a bounded heap selects the best n: higher score first, ties by lower item
 * id.  recommend_for_items first folds the given interactions into a user
 * vector with the exact least-squares step of training; recommend_all
 * scores blocks of users on the thread pool (batch.c) with the same dot
 * product, so its answers are recommend's, bit for bit.
 *
 * Each entry point also serves the text and uuid forms (recommend with a
 * text or uuid user_id, recommend_for_items_text, recommend_all_text): ids
 * come in as the call's argument types and are read as the model's id
 * types, and go out as the result's column types (serve.c); the scoring is
 * the same.
 *
 * Diversity (the last argument of each long form, default 0): with a
 * diversity > 0 the exact top RecoMmrCandidates(n) are selected as above and
 * re-ranked by MMR (diversity.c) down to n, emitted in pick order with their
 * own scores; recommend_all re-ranks each user inside the batch (batch.c).
 * Diversity 0 takes exactly the path it always took.  Best-sellers of the
 * fallback are never re-ranked (they have no model score).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "als.h"
#include "batch.h"
#include "cache.h"
#include "diversity.h"
#include "feature_map.h"
#include "reco.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

/* recommend_all: heap entries per batch call (bounds its memory), and the fewest users per call. */
#define RECO_ALL_CHUNK_ENTRIES (4 * 1024 * 1024)
#define RECO_ALL_MIN_CHUNK_USERS 64

/* Unknown fold-in items listed by id in the NOTICE (the rest are "..."). */
#define RECO_NOTICE_MAX_IDS 10

/* Points a batch input at a model's item matrix (norms and norm order computed on first use). */
static void
RecoBatchItems(RecoBatchInput *in, RecoFactorSet *items)
{
	memset(in, 0, sizeof(*in));
	in->norm_order = RecoFactorNormOrder(items);
	in->norm_rank = items->norm_rank;
	in->norm_head = items->norm_head;
	in->n_head = items->norm_head != NULL ? items->n_head : 0;
	in->item_norms = items->norms;
	in->items = items->factors;
	in->item_ids = items->ids;
	in->n_items = items->n;
	in->k = items->k;
}

/*
 * Emits the MMR re-ranking of the best RecoMmrCandidates(n) of scores[] (one
 * per item, -INFINITY excluded) down to n rows, in pick order.
 */
static void
RecoEmitDiverse(ReturnSetInfo *rsinfo, const RecoIdColumn *column, RecoFactorSet *items,
				const float *scores, int n, float diversity)
{
	int			n_candidates = (int) Min((int64) RecoMmrCandidates(n), Max(items->n, 1));
	RecoScored *top = palloc(sizeof(RecoScored) * n_candidates);
	RecoScored *picks = palloc(sizeof(RecoScored) * Min(n, n_candidates));
	int			found = RecoTopK(scores, items->n, n_candidates, top);
	int			picked = RecoMmrRerank(items->factors, RecoFactorNorms(items), items->k, top, found,
									   diversity, Min(n, n_candidates), picks);

	if (picked < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for the diversity re-ranking")));
	RecoEmitScored(rsinfo, column, picks, picked);
}

/*
 * The ids of the scan's rows top[0..found) into ids: from the norm head's ids
 * for rows among its first positions (a hash of the rows, then a walk down
 * the head's part of the norm order until all are found), else from the
 * set's ids.  On a freshly mapped shared copy this touches the head's pages,
 * which the scan has read, instead of a page of ids per row.
 */
static void
RecoHeadRowIds(const RecoFactorSet *items, const RecoScored *top, int found, int64 *ids)
{
	uint32		cap = pg_nextpower2_32((uint32) Max(2 * (int64) found, 16));
	int32	   *slot_row = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * (Size) cap);
	int		   *slot_top = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * (Size) cap);
	bool	   *resolved = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * Max(found, 1));
	int			remaining = found;
	int64		pos;
	int			i;

	memset(slot_row, -1, sizeof(int32) * (Size) cap);
	memset(resolved, 0, sizeof(bool) * Max(found, 1));
	for (i = 0; i < found; i++)
	{
		uint32		h = murmurhash32((uint32) top[i].index) & (cap - 1);

		while (slot_row[h] >= 0)
			h = (h + 1) & (cap - 1);
		slot_row[h] = top[i].index;
		slot_top[h] = i;
	}
	for (pos = 0; pos < items->n_head && remaining > 0; pos++)
	{
		int32		row = items->norm_order[pos];
		uint32		h = murmurhash32((uint32) row) & (cap - 1);

		for (; slot_row[h] >= 0; h = (h + 1) & (cap - 1))
			if (slot_row[h] == row)
			{
				ids[slot_top[h]] = items->norm_head_ids[pos];
				resolved[slot_top[h]] = true;
				remaining--;
				break;
			}
	}
	for (i = 0; i < found; i++)
		if (!resolved[i])
			ids[i] = items->ids[top[i].index];
}

/*
 * RecoEmitTopItems without candidates or diversity on a shared bigint item
 * copy (norm head ids kept) and at most RECO_LAZY_EXCLUDE_MAX_IDS excluded
 * ids excl[0..n_excl): the best n + n_excl items of all, from which the
 * excluded ones are dropped by id.  The same rows in the same order as
 * excluding them from the scan: at most n_excl of the best n + n_excl are
 * excluded, and dropping keeps the order (score, then lower id).
 */
static void
RecoEmitTopItemsLazy(ReturnSetInfo *rsinfo, RecoFactorSet *items, const float *vec, int n,
					 int64 *excl, int64 n_excl)
{
	RecoBatchInput in;
	int64		excl_ptr[2] = {0, 0};
	RecoScored *top;
	RecoScored *kept;
	int64	   *ids;
	RecoIdColumn column;
	int			found = 0;
	int			n_kept = 0;
	int			i;

	n_excl = RecoSortUnique(excl, n_excl);
	RecoBatchItems(&in, items);
	in.users = vec;
	in.n_users = 1;
	in.excl_ptr = excl_ptr;
	in.excl_ids = excl;
	in.n = (int) Min((int64) n + n_excl, items->n);
	in.threads = 1;
	top = palloc(sizeof(RecoScored) * in.n);
	RecoReportKernelStatus(RecoBatchTopN(&in, NULL, top, &found), "batch scoring");
	ids = palloc(sizeof(int64) * Max(found, 1));
	RecoHeadRowIds(items, top, found, ids);
	kept = palloc(sizeof(RecoScored) * Max(found, 1));
	for (i = 0; i < found && n_kept < n; i++)
		if (bsearch(&ids[i], excl, n_excl, sizeof(int64), RecoCompareInt64) == NULL)
		{
			kept[n_kept].score = top[i].score;
			kept[n_kept++].index = i;
		}
	column.ids = ids;
	column.keys = NULL;
	column.rows = NULL;
	RecoEmitScored(rsinfo, &column, kept, n_kept);
}

/*
 * Scores the eligible items for user vector `vec` and emits the best n as
 * (item_id, score) rows: all items (in norm order, stopping once nothing
 * left can enter the top n), or only `candidates` if given; minus `seen`
 * and `exclude`.  With diversity > 0: the best RecoMmrCandidates(n) of
 * them, re-ranked by MMR down to n, in pick order.
 */
static void
RecoEmitTopItems(ReturnSetInfo *rsinfo, RecoFactorSet *items, const float *vec, int n,
				 const RecoIdList *candidates, const RecoIdList *seen, const RecoIdList *exclude,
				 float diversity)
{
	int64		n_seen = seen != NULL ? seen->n : 0;
	int64		n_exclude = exclude != NULL ? exclude->n : 0;
	RecoIdColumn column = RecoSetColumn(items);

	if (candidates == NULL)
	{
		RecoBatchInput in;
		int64		excl_ptr[2] = {0, n_seen + n_exclude};
		int64	   *excl = palloc(sizeof(int64) * Max(n_seen + n_exclude, 1));
		RecoScored *top;
		int			found = 0;

		if (items->n == 0)
			return;
		if (n_seen > 0)
			memcpy(excl, seen->ids, sizeof(int64) * n_seen);
		if (n_exclude > 0)
			memcpy(excl + n_seen, exclude->ids, sizeof(int64) * n_exclude);
		if (diversity == 0.0f && items->norm_head_ids != NULL && items->id_type == RECO_ID_BIGINT &&
			n_seen + n_exclude <= RECO_LAZY_EXCLUDE_MAX_IDS)
		{
			RecoEmitTopItemsLazy(rsinfo, items, vec, n, excl, n_seen + n_exclude);
			return;
		}
		RecoBatchItems(&in, items);
		in.users = vec;
		in.n_users = 1;
		in.excl_ptr = excl_ptr;
		in.excl_ids = excl;
		in.n = (int) Min((int64) n, items->n);
		if (diversity > 0.0f)
		{
			in.diversity = diversity;
			in.pick = in.n;
			in.n = (int) Min((int64) RecoMmrCandidates(n), items->n);
		}
		in.threads = 1;
		top = palloc(sizeof(RecoScored) * in.n);
		RecoReportKernelStatus(RecoBatchTopN(&in, NULL, top, &found), "batch scoring");
		RecoEmitScored(rsinfo, &column, top, found);
	}
	else
	{
		float	   *scores = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(items->n, 1));
		int32	   *rows = palloc(sizeof(int32) * Max(candidates->n, 1));
		float	   *cand_scores = palloc(sizeof(float) * Max(candidates->n, 1));
		int			n_rows = 0,
					i;

		/* only the candidates are scored; everything else stays excluded */
		for (i = 0; i < items->n; i++)
			scores[i] = -INFINITY;
		for (i = 0; i < candidates->n; i++)
		{
			int64		idx = RecoFindId(items->ids, items->n, candidates->ids[i]);

			if (idx >= 0)
				rows[n_rows++] = (int32) idx;
		}
		RecoAlsScoreRows(items->factors, rows, n_rows, items->k, vec, cand_scores);
		for (i = 0; i < n_rows; i++)
			scores[rows[i]] = cand_scores[i];
		if (seen != NULL)
			RecoExcludeIds(items, seen, scores);
		if (exclude != NULL)
			RecoExcludeIds(items, exclude, scores);
		if (diversity > 0.0f)
			RecoEmitDiverse(rsinfo, &column, items, scores, n, diversity);
		else
			RecoEmitTop(rsinfo, &column, scores, items->n, n);
	}
}

/*
 * The shared body of both recommend forms: model `name` (NULL: the default
 * model), arguments from position `first` on are (user_id, n, exclude_seen,
 * candidates, exclude, fallback, diversity, include_new); n is checked by the
 * caller; missing trailing ones take their defaults.  A NULL or unknown user
 * gets the best-sellers unless fallback is 'none'; include_new false excludes
 * the items placed from features and serves a user placed from a profile as
 * an unknown one.
 */
static Datum
RecoRecommendUser(FunctionCallInfo fcinfo, const char *name, int first, int n)
{
	RecoServeContext ctx;
	bool		exclude_seen = true;
	RecoIdList	candidates,
				exclude,
				seen;
	bool		has_candidates = PG_NARGS() > first + 3 && !PG_ARGISNULL(first + 3);
	bool		fallback;
	bool		known;
	bool		include_new;
	float		diversity;

	if (PG_NARGS() > first + 2)
	{
		RecoRequireArg(fcinfo, first + 2, "exclude_seen");
		exclude_seen = PG_GETARG_BOOL(first + 2);
	}
	RecoArgIdList(fcinfo, first + 3, &candidates);
	RecoArgIdList(fcinfo, first + 4, &exclude);
	/* first == 0: the short form, which has no fallback argument and always falls back */
	fallback = RecoArgFallback(fcinfo, first + 5, first == 0);
	diversity = RecoArgDiversity(fcinfo, first + 6, n);
	include_new = RecoArgIncludeNew(fcinfo, first + 7);

	RecoServeBegin(&ctx, fcinfo, name, true);
	known = RecoServeUserArg(&ctx, fcinfo, first, false);
	/* include_new => false: a user placed from a profile is served as an unknown one */
	if (known && !include_new &&
		RecoStoredFeatures(&ctx.model, RECO_SIDE_USERS, ctx.users.ids[0], ctx.call_cxt) != NULL)
		known = false;
	if (known || fallback)
	{
		RecoFactorSet *items = RecoServeFactors(&ctx, RECO_SIDE_ITEMS);

		RecoResolveIdList(items, &candidates);
		RecoResolveIdList(items, &exclude);
		if (!include_new)
			RecoExcludePlaced(items, &exclude, ctx.call_cxt);
		if (!known)
			RecoServePopular(&ctx, n, has_candidates ? &candidates : NULL, &exclude);
	}
	RecoServeEnd(&ctx);
	if (!known)
		return (Datum) 0;		/* NULL or unknown user: best-sellers or no rows */

	seen.ids = ctx.users.seen_items;
	seen.n = ctx.users.seen_ptr[1];
	RecoEmitTopItems(ctx.rsinfo, ctx.factors, ctx.users.factors, n,
					 has_candidates ? &candidates : NULL, exclude_seen ? &seen : NULL, &exclude,
					 diversity);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(reco_recommend);

/*
 * reco.recommend(model, user_id, n, exclude_seen, candidates, exclude,
 * fallback, diversity, include_new): the user's n best items, best first (in MMR pick
 * order with a diversity).  Unknown user: the
 * best-sellers, or no rows with fallback 'none'.  user_id bigint, text or
 * uuid (candidates and exclude bigint[] or text[]).
 */
Datum
reco_recommend(PG_FUNCTION_ARGS)
{
	char	   *name = RecoArgModel(fcinfo);

	return RecoRecommendUser(fcinfo, name, 1, RecoArgN(fcinfo, 2));
}

PG_FUNCTION_INFO_V1(reco_recommend_default);

/*
 * reco.recommend(user_id, n): the short form (user_id bigint or uuid),
 * serving the model named by reco.model, or the only model there is; an
 * unknown user gets the best-sellers.
 */
Datum
reco_recommend_default(PG_FUNCTION_ARGS)
{
	int64		n;

	RecoRequireArg(fcinfo, 1, "n");
	n = PG_GETARG_INT64(1);
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be positive, not " INT64_FORMAT, n)));
	/* more than the catalogue means every eligible item */
	return RecoRecommendUser(fcinfo, NULL, 0, (int) Min(n, PG_INT32_MAX));
}

/*
 * Turns items[] / weights[] into the row of an exact fold-in: dense item
 * indices (ascending, duplicates summed) and weights; `given` gets the ids
 * of the known items with a positive net weight, ascending.  Unknown items
 * are reported in one NOTICE; NULL items are skipped.  Returns the entry count.
 */
static int64
RecoFoldInRow(FunctionCallInfo fcinfo, const RecoFactorSet *items, int32 **indices_out,
			  float **weights_out, RecoIdList *given)
{
	Datum	   *item_elems,
			   *weight_elems = NULL;
	bool	   *item_nulls,
			   *weight_nulls = NULL;
	int			n_elems,
				n_weights = 0,
				i;
	RecoWeightedIndex *entries;
	int64		n = 0,
				out = 0,
				unknown = 0;
	StringInfoData unknown_list;
	int32	   *indices;
	float	   *weights;

	Oid			item_type = ARR_ELEMTYPE(PG_GETARG_ARRAYTYPE_P(1));

	RecoDeconstructIds(PG_GETARG_ARRAYTYPE_P(1), &item_elems, &item_nulls, &n_elems);
	if (!PG_ARGISNULL(2))
	{
		RecoRequireFlatArray(PG_GETARG_ARRAYTYPE_P(2));
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), FLOAT4OID, 4, true, TYPALIGN_INT,
						  &weight_elems, &weight_nulls, &n_weights);
		if (n_weights != n_elems)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("items and weights must have the same length, not %d and %d", n_elems, n_weights)));
	}
	entries = palloc(sizeof(RecoWeightedIndex) * Max(n_elems, 1));
	given->ids = palloc(sizeof(int64) * Max(n_elems, 1));
	given->n = 0;
	initStringInfo(&unknown_list);
	for (i = 0; i < n_elems; i++)
	{
		int64		idx;
		float		w = 1.0f;

		if (weight_elems != NULL)
		{
			if (weight_nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("weights must not contain NULL values")));
			w = DatumGetFloat4(weight_elems[i]);
			if (!isfinite(w))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("weights must be finite, not %g (element %d)", w, i + 1)));
		}
		if (item_nulls[i])
			continue;
		idx = RecoFindIdDatum(items, item_elems[i], item_type);
		if (idx < 0)
		{
			if (unknown++ < RECO_NOTICE_MAX_IDS)
				appendStringInfo(&unknown_list, "%s%s", unknown > 1 ? ", " : "",
								 RecoIdDatumText(item_elems[i], item_type));
			continue;
		}
		entries[n].index = (int32) idx;
		entries[n].weight = w;
		n++;
	}
	if (unknown > 0)
		ereport(NOTICE,
				(errmsg("ignored " INT64_FORMAT " item%s the model does not know: %s%s",
						unknown, unknown > 1 ? "s" : "", unknown_list.data, unknown > RECO_NOTICE_MAX_IDS ? ", ..." : "")));
	qsort(entries, n, sizeof(RecoWeightedIndex), RecoCompareWeightedIndex);
	indices = palloc(sizeof(int32) * Max(n, 1));
	weights = palloc(sizeof(float) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (out > 0 && indices[out - 1] == entries[i].index)
			weights[out - 1] += entries[i].weight;	/* duplicates are summed, as in training */
		else
		{
			indices[out] = entries[i].index;
			weights[out] = entries[i].weight;
			out++;
		}
	}
	/* exclude_seen excludes the given items with a positive net weight */
	given->n = 0;
	for (i = 0; i < out; i++)
		if (weights[i] > 0)
			given->ids[given->n++] = items->ids[indices[i]];
	*indices_out = indices;
	*weights_out = weights;
	return out;
}

/*
 * Adds to a folded-in user vector `vec` the pull of a profile: with A the
 * cart's system (RecoAlsRowFactor) and P = α0·YᵀY + λ_0·I its no-data part
 * (λ_0 the row λ of an empty row), the fold-in with P·x_profile added to its
 * right-hand side is vec + A⁻¹·P·x_profile (the system is linear), so the
 * cart's own solve stays the one of a call without a profile.
 */
static void
RecoAddProfilePull(const RecoModelInfo *model, RecoFactorSet *items, const int32 *indices,
				   const float *weights, int64 n_entries, const float *profile, float *vec)
{
	int			k = items->k;
	const float *gram = RecoFactorGram(items);
	RecoAlsRowParams rp = RecoModelRowParams(model, items->n);
	double	   *U = palloc(sizeof(double) * k * k);
	double	   *z = palloc(sizeof(double) * k);
	double		lambda0 = RecoAlsRowLambda(rp.regularization, rp.reg_exponent, rp.unobserved_weight,
										   rp.n_fixed, 0);
	int			i,
				j;

	if (!RecoAlsRowFactor(gram, items->factors, k, indices, weights, n_entries, &rp, U))
		ereport(ERROR,
				(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
				 errmsg("the fold-in least-squares system is not positive definite"),
				 errhint("Check the weights: very large negative weights can make it indefinite.")));
	for (i = 0; i < k; i++)
	{
		double		r = lambda0 * profile[i];

		for (j = 0; j < k; j++)
			r += (double) rp.unobserved_weight * gram[i * k + j] * profile[j];
		z[i] = r;
	}
	/* A = UᵀU: solve Uᵀw = P·x_profile, then U·z = w */
	cblas_dtrsv(CblasRowMajor, CblasUpper, CblasTrans, CblasNonUnit, k, U, k, z, 1);
	cblas_dtrsv(CblasRowMajor, CblasUpper, CblasNoTrans, CblasNonUnit, k, U, k, z, 1);
	for (i = 0; i < k; i++)
		vec[i] = (float) ((double) vec[i] + z[i]);
}

PG_FUNCTION_INFO_V1(reco_recommend_for_items);

/*
 * reco.recommend_for_items(model, items, weights, n, exclude_seen,
 * candidates, exclude, fallback, diversity, include_new, profile) and
 * reco.recommend_for_items_text (the ids text[]): folds the interactions
 * into a user vector (the exact solve of training, item factors fixed) and
 * recommends for it.  A profile (user features, mapped with the version's
 * user mapping) centres the fold-in's prior on its mapped vector: an empty
 * cart with a profile is served the mapped vector itself (any algorithm).
 * A cart with no item the model knows and no profile gets the best-sellers,
 * or no rows with fallback 'none'.
 */
Datum
reco_recommend_for_items(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			n;
	bool		exclude_seen;
	RecoIdList	candidates,
				exclude,
				given;
	RecoFactorSet *items;
	int32	   *indices;
	float	   *weights;
	float	   *vec;
	float	   *profile = NULL;
	RecoAlsRowParams rp;
	int64		n_entries;
	bool		fallback;
	bool		include_new;
	bool		has_profile = PG_NARGS() > 10 && !PG_ARGISNULL(10);
	float		diversity;
	MemoryContext old_cxt;

	RecoRequireArg(fcinfo, 1, "items");
	RecoRequireArg(fcinfo, 3, "n");
	RecoRequireArg(fcinfo, 4, "exclude_seen");
	n = RecoArgN(fcinfo, 3);
	exclude_seen = PG_GETARG_BOOL(4);
	RecoArgIdList(fcinfo, 5, &candidates);
	RecoArgIdList(fcinfo, 6, &exclude);
	fallback = RecoArgFallback(fcinfo, 7, false);
	diversity = RecoArgDiversity(fcinfo, 8, n);
	include_new = RecoArgIncludeNew(fcinfo, 9);

	RecoServeBegin(&ctx, fcinfo, name, true);
	if (!has_profile)
		RecoRequireImplicitModel(&ctx.model, "reco.recommend_for_items");
	items = RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
	RecoResolveIdList(items, &candidates);
	RecoResolveIdList(items, &exclude);
	if (!include_new)
		RecoExcludePlaced(items, &exclude, ctx.call_cxt);
	/* the cart and the profile are read before SPI closes: with no known item it gets the best-sellers */
	old_cxt = MemoryContextSwitchTo(ctx.call_cxt);
	if (has_profile)
	{
		profile = palloc(sizeof(float) * items->k);
		RecoMapFeatures(RecoFeatureMapFor(&ctx.model, RECO_SIDE_USERS, true), PG_GETARG_JSONB_P(10), profile);
	}
	n_entries = RecoFoldInRow(fcinfo, items, &indices, &weights, &given);
	MemoryContextSwitchTo(old_cxt);
	if (has_profile && n_entries > 0)
		RecoRequireImplicitModel(&ctx.model, "reco.recommend_for_items with items");
	if (n_entries == 0 && !has_profile && fallback)
		RecoServePopular(&ctx, n, PG_ARGISNULL(5) ? NULL : &candidates, &exclude);
	RecoServeEnd(&ctx);
	if (n_entries == 0 && !has_profile)
		return (Datum) 0;		/* empty or unknown cart: best-sellers or no rows */
	vec = palloc(sizeof(float) * items->k);
	if (n_entries == 0)
		memcpy(vec, profile, sizeof(float) * items->k);	/* the prior's centre, exactly */
	else
	{
		rp = RecoModelRowParams(&ctx.model, items->n);
		if (!RecoAlsSolveRowExact(RecoFactorGram(items), items->factors, items->k, indices, weights,
								  n_entries, &rp, vec))
			ereport(ERROR,
					(errcode(ERRCODE_FLOATING_POINT_EXCEPTION),
					 errmsg("the fold-in least-squares system is not positive definite"),
					 errhint("Check the weights: very large negative weights can make it indefinite.")));
		if (has_profile)
			RecoAddProfilePull(&ctx.model, items, indices, weights, n_entries, profile, vec);
	}
	RecoEmitTopItems(ctx.rsinfo, items, vec, n, PG_ARGISNULL(5) ? NULL : &candidates,
					 exclude_seen ? &given : NULL, &exclude, diversity);
	return (Datum) 0;
}

/*
 * Emits (user_id, rank, item_id, score) rows of the best n items of every
 * user of `users`, users in id order, scoring chunks of users on the thread
 * pool (batch.c) with the serving dot product; with diversity > 0 each
 * user's best RecoMmrCandidates(n) re-ranked by MMR down to n, in pick order.
 */
static void
RecoEmitAllUsers(ReturnSetInfo *rsinfo, RecoFactorSet *items, const RecoUserSet *users, int n,
				 bool exclude_seen, float diversity)
{
	RecoBatchInput in;
	RecoHooks hooks = {RecoInterruptPending, NULL};
	int64		chunk,
				u0;
	RecoScored *top;
	int		   *found;
	RecoIdColumn user_column = {users->ids, users->keys.data != NULL ? &users->keys : NULL, NULL};
	RecoIdColumn item_column = RecoSetColumn(items);
	Oid			user_type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
	Oid			item_type = TupleDescAttr(rsinfo->setDesc, 2)->atttypid;

	n = (int) Min((int64) n, Max(items->n, 1));
	RecoBatchItems(&in, items);
	in.excl_ids = users->seen_items;
	in.n = n;
	if (diversity > 0.0f)
	{
		in.diversity = diversity;
		in.pick = n;
		in.n = (int) Min((int64) RecoMmrCandidates(n), Max(items->n, 1));
	}
	/* the heaps hold in.n entries per user; the first found[u] are the answer */
	chunk = Max(RECO_ALL_CHUNK_ENTRIES / in.n, RECO_ALL_MIN_CHUNK_USERS);
	top = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(sizeof(RecoScored) * in.n, chunk));
	found = palloc(sizeof(int) * chunk);
	in.threads = RecoEffectiveThreads(0);
	for (u0 = 0; u0 < users->n; u0 += chunk)
	{
		int64		u;

		in.users = users->factors + u0 * users->k;
		in.n_users = Min(chunk, users->n - u0);
		in.excl_ptr = exclude_seen ? users->seen_ptr + u0 : NULL;
		RecoReportKernelStatus(RecoBatchTopN(&in, &hooks, top, found), "batch scoring");
		for (u = 0; u < in.n_users; u++)
		{
			int			r;

			for (r = 0; r < found[u]; r++)
			{
				Datum		values[4];
				bool		nulls[4] = {false, false, false, false};
				RecoScored *entry = &top[u * in.n + r];

				values[0] = RecoIdColumnDatum(&user_column, u0 + u, user_type);
				values[1] = Int32GetDatum(r + 1);
				values[2] = RecoIdColumnDatum(&item_column, entry->index, item_type);
				values[3] = Float4GetDatum(entry->score);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
}

PG_FUNCTION_INFO_V1(reco_recommend_all);

/*
 * reco.recommend_all(model, n, users, exclude_seen, diversity) and
 * reco.recommend_all_text (users text[], ids returned as text): (user_id,
 * rank, item_id, score) for every known user of the list (NULL: every user
 * of the model), users in id (code) order, each exactly as reco.recommend
 * ranks them.
 */
Datum
reco_recommend_all(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	char	   *name = RecoArgModel(fcinfo);
	int			n;
	bool		exclude_seen;
	RecoIdList	wanted;
	float		diversity;

	RecoRequireArg(fcinfo, 1, "n");
	RecoRequireArg(fcinfo, 3, "exclude_seen");
	n = RecoArgN(fcinfo, 1);
	exclude_seen = PG_GETARG_BOOL(3);
	diversity = RecoArgDiversity(fcinfo, 4, n);
	RecoArgIdList(fcinfo, 2, &wanted);

	RecoServeBegin(&ctx, fcinfo, name, true);
	RecoServeUserList(&ctx, &wanted, false);
	RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
	RecoServeEnd(&ctx);

	RecoEmitAllUsers(ctx.rsinfo, ctx.factors, &ctx.users, n, exclude_seen, diversity);
	return (Datum) 0;
}
