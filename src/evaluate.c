/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *	  reco.evaluate_pairs: ranking metrics of a model on held-out pairs.
 *
 * The served version's item matrix (through the serving cache) and the test
 * users' factors and training items are loaded once, through the serving
 * opening (serve.c).  Every item is scored for every test user with the
 * serving dot product, RecoAlsScoreRows, blocks of users passing over
 * cache-sized tiles of the item matrix; the user's training items are
 * excluded and the top k is selected by RecoTopK, whose order (higher score
 * first, ties by lower item index, i.e. lower item id) is the one
 * reco.recommend uses.  So evaluate measures exactly the lists reco.recommend
 * serves, bit for bit, near-ties included.  All scores are needed, not only
 * the top k, because AUC ranks every item.
 *
 * Definitions (those of the `implicit` library's ranking_metrics_at_k): for
 * a user with R relevant (held-out) items and h hits in the top k,
 *	 precision@k = h / k, recall@k = h / R,
 *	 AP@k = (sum over the 1-based positions i of the hits of
 *			(hits at positions 1..i) / i) / min(k, R),
 *	 NDCG@k = DCG / IDCG with binary gains, DCG = sum over hits of
 *			  1 / log2(i + 1), IDCG the same over min(k, R) positions,
 *	 capped precision = sum of h / sum of min(k, R) (over all users),
 *	 AUC = share of (relevant, non-relevant) pairs of rankable items that the
 *		   full ranking orders correctly (ties count one half);
 * each mean is over the users evaluated (test users the model knows);
 * coverage = distinct items recommended / items in the model.
 * Relevant items the model does not know still count in R: they are misses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "als.h"
#include "reco.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

/* Users scored per block: their rows of item scores are held at once. */
#define RECO_EVAL_BLOCK_USERS 64

/* Item factor floats per tile: one tile stays in cache while a block of users passes over it. */
#define RECO_EVAL_TILE_FLOATS (64 * 1024)

/* The columns of evaluate_pairs' result, and how many of them are metrics. */
#define RECO_EVAL_COLUMNS 9
#define RECO_EVAL_METRICS 7

/* One held-out pair. */
typedef struct RecoPair
{
	int64		user;
	int64		item;
} RecoPair;

/* Running sums of the metrics. */
typedef struct RecoMetricSums
{
	double		precision;
	double		recall;
	double		ap;
	double		ndcg;
	double		hits;
	double		capped_total;
	double		auc;
	int64		auc_users;
	int64		users;
} RecoMetricSums;

/* Orders pairs by user, then item. */
static int
RecoComparePair(const void *a, const void *b)
{
	const RecoPair *x = a;
	const RecoPair *y = b;

	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	return (x->item > y->item) - (x->item < y->item);
}

/* Orders floats ascending. */
static int
RecoCompareFloat(const void *a, const void *b)
{
	float		x = *(const float *) a;
	float		y = *(const float *) b;

	return (x > y) - (x < y);
}

/* Number of entries of sorted[0..n) below v, plus half of those equal to v. */
static double
RecoCountBelow(const float *sorted, int n, float v)
{
	int			lo = 0,
				hi = n;
	int			below,
				upto;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (sorted[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	below = lo;
	hi = n;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (sorted[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	upto = lo;
	return below + 0.5 * (upto - below);
}

/*
 * Scores one user (scores: its row of item scores, seen items already set to
 * -INFINITY; relevant: flags of its known held-out items) and adds its
 * metrics to sums; marks the recommended items in recommended[].
 */
static void
RecoScoreUser(float *scores, int64 n_items, const int32 *relevant_idx, int n_known, int n_relevant,
			  const bool *relevant, int k, RecoScored *top, float *pos_scores,
			  bool *recommended, RecoMetricSums *sums)
{
	int			got = RecoTopK(scores, n_items, k, top);
	int			cap = Min(k, n_relevant);
	double		hits = 0,
				ap = 0,
				dcg = 0,
				idcg = 0;
	int			i,
				n_pos = 0;
	int64		j,
				n_neg = 0;
	double		misordered = 0;

	for (i = 0; i < got; i++)
	{
		recommended[top[i].index] = true;
		if (relevant[top[i].index])
		{
			hits += 1;
			ap += hits / (i + 1);
			dcg += 1.0 / log2(i + 2.0);
		}
	}
	for (i = 0; i < cap; i++)
		idcg += 1.0 / log2(i + 2.0);
	sums->precision += hits / k;
	sums->recall += hits / n_relevant;
	sums->ap += ap / cap;
	sums->ndcg += dcg / idcg;
	sums->hits += hits;
	sums->capped_total += cap;
	sums->users++;

	/* AUC over the full ranking of rankable (not seen) items */
	for (i = 0; i < n_known; i++)
		if (scores[relevant_idx[i]] != -INFINITY)
			pos_scores[n_pos++] = scores[relevant_idx[i]];
	if (n_pos == 0)
		return;
	qsort(pos_scores, n_pos, sizeof(float), RecoCompareFloat);
	for (j = 0; j < n_items; j++)
	{
		if (scores[j] == -INFINITY || relevant[j])
			continue;
		n_neg++;
		misordered += RecoCountBelow(pos_scores, n_pos, scores[j]);
	}
	if (n_neg > 0)
	{
		sums->auc += 1.0 - misordered / ((double) n_pos * n_neg);
		sums->auc_users++;
	}
}

/* Reads the two parallel id arrays into sorted, de-duplicated pairs. */
static RecoPair *
RecoReadPairs(ArrayType *users, ArrayType *items, int64 *n_out)
{
	int			n = ArrayGetNItems(ARR_NDIM(users), ARR_DIMS(users));
	RecoPair   *pairs;
	const int64 *u;
	const int64 *v;
	int64		i,
				kept = 0;

	if (ARR_NDIM(users) > 1 || ARR_NDIM(items) > 1 ||
		n != ArrayGetNItems(ARR_NDIM(items), ARR_DIMS(items)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("users and items must be one-dimensional arrays of the same length")));
	if (array_contains_nulls(users) || array_contains_nulls(items))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("users and items must not contain NULL values")));
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the test set has no (user, item) pairs")));
	u = (const int64 *) ARR_DATA_PTR(users);
	v = (const int64 *) ARR_DATA_PTR(items);
	pairs = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(RecoPair) * n);
	for (i = 0; i < n; i++)
	{
		pairs[i].user = u[i];
		pairs[i].item = v[i];
	}
	qsort(pairs, n, sizeof(RecoPair), RecoComparePair);
	for (i = 0; i < n; i++)
		if (kept == 0 || RecoComparePair(&pairs[kept - 1], &pairs[i]) != 0)
			pairs[kept++] = pairs[i];
	*n_out = kept;
	return pairs;
}

/* The distinct users of pairs sorted by user, ascending; count in *n_out. */
static int64 *
RecoPairUsers(const RecoPair *pairs, int64 n_pairs, int64 *n_out)
{
	int64	   *users = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n_pairs);
	int64		n = 0,
				p;

	for (p = 0; p < n_pairs; p++)
		if (p == 0 || pairs[p].user != pairs[p - 1].user)
			users[n++] = pairs[p].user;
	*n_out = n;
	return users;
}

/*
 * Scores every item for users [u0, u0 + block) into the rows of `scores`
 * (block x items->n) with the serving dot product, a tile of item rows at a
 * time; each score is bit for bit the one reco.recommend computes (the
 * kernel's result for a row does not depend on where the row sits in a call).
 */
static void
RecoScoreBlock(const RecoFactorSet *items, const RecoUserSet *users, int64 u0, int block,
			   float *scores)
{
	int64		tile = Max(RECO_EVAL_TILE_FLOATS / items->k, 1);
	int64		t0;

	for (t0 = 0; t0 < items->n; t0 += tile)
	{
		int64		tn = Min(tile, items->n - t0);
		int			r;

		for (r = 0; r < block; r++)
			RecoAlsScoreRows(items->factors + t0 * items->k, NULL, tn, items->k,
							 users->factors + (u0 + r) * users->k, scores + (int64) r * items->n + t0);
	}
}

/*
 * Adds the metrics of every loaded user to sums and marks the items some
 * user got in its top k in recommended[]; pairs are the held-out pairs,
 * sorted by user.
 */
static void
RecoEvaluateUsers(const RecoFactorSet *items, const RecoUserSet *users, const RecoPair *pairs,
				  int64 n_pairs, int k, bool *recommended, RecoMetricSums *sums)
{
	float	   *scores = MemoryContextAllocHuge(CurrentMemoryContext,
												mul_size(sizeof(float) * RECO_EVAL_BLOCK_USERS, Max(items->n, 1)));
	bool	   *relevant = palloc0(sizeof(bool) * Max(items->n, 1));
	int32	   *relevant_idx = palloc(sizeof(int32) * Max(items->n, 1));
	float	   *pos_scores = palloc(sizeof(float) * Max(items->n, 1));
	RecoScored *top = palloc(sizeof(RecoScored) * k);
	int64		p = 0,
				b;

	for (b = 0; b < users->n; b += RECO_EVAL_BLOCK_USERS)
	{
		int			block = (int) Min(RECO_EVAL_BLOCK_USERS, users->n - b);
		int			r;

		CHECK_FOR_INTERRUPTS();
		RecoScoreBlock(items, users, b, block, scores);
		for (r = 0; r < block; r++)
		{
			int64		user = b + r;
			float	   *row = scores + (int64) r * items->n;
			int			n_relevant = 0,
						n_known = 0,
						i;
			int64		s;

			/* the user's held-out items (pairs are sorted by user) */
			while (pairs[p].user < users->ids[user])
				p++;
			for (; p < n_pairs && pairs[p].user == users->ids[user]; p++)
			{
				int64		idx = RecoFindId(items->ids, items->n, pairs[p].item);

				n_relevant++;
				if (idx >= 0)
				{
					relevant[idx] = true;
					relevant_idx[n_known++] = (int32) idx;
				}
			}
			for (s = users->seen_ptr[user]; s < users->seen_ptr[user + 1]; s++)
			{
				int64		idx = RecoFindId(items->ids, items->n, users->seen_items[s]);

				if (idx >= 0)
					row[idx] = -INFINITY;
			}
			RecoScoreUser(row, items->n, relevant_idx, n_known, n_relevant, relevant, k, top,
						  pos_scores, recommended, sums);
			for (i = 0; i < n_known; i++)
				relevant[relevant_idx[i]] = false;
		}
	}
}

/* The result row of evaluate_pairs: means of the sums (NULL if nobody was evaluated). */
static Datum
RecoMetricsRow(FunctionCallInfo fcinfo, const RecoMetricSums *sums, const bool *recommended,
			   int64 n_items, int64 users_unknown)
{
	TupleDesc	tupdesc;
	Datum		values[RECO_EVAL_COLUMNS];
	bool		nulls[RECO_EVAL_COLUMNS] = {false};
	int64		covered = 0,
				i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "reco: evaluate_pairs must return a record, please report a bug");
	for (i = 0; i < n_items; i++)
		covered += recommended[i] ? 1 : 0;
	if (sums->users == 0)
	{
		for (i = 0; i < RECO_EVAL_METRICS; i++)
			nulls[i] = true;
	}
	else
	{
		values[0] = Float8GetDatum(sums->precision / sums->users);
		values[1] = Float8GetDatum(sums->recall / sums->users);
		values[2] = Float8GetDatum(sums->ap / sums->users);
		values[3] = Float8GetDatum(sums->ndcg / sums->users);
		values[4] = Float8GetDatum(sums->hits / sums->capped_total);
		values[5] = Float8GetDatum(sums->auc_users ? sums->auc / sums->auc_users : 0.5);
		values[6] = Float8GetDatum(n_items ? (double) covered / n_items : 0.0);
	}
	values[7] = Int64GetDatum(sums->users);
	values[8] = Int64GetDatum(users_unknown);
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

PG_FUNCTION_INFO_V1(reco_evaluate_pairs);

/* reco.evaluate_pairs(model, users[], items[], k): ranking metrics (see file header). */
Datum
reco_evaluate_pairs(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	RecoMetricSums sums;
	RecoPair   *pairs;
	int64	   *test_users;
	int64		n_pairs,
				n_test_users;
	int			k;
	bool	   *recommended;
	char	   *name;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model, users, items and k must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	k = PG_GETARG_INT32(3);
	if (k < RECO_MIN_EVALUATE_K || k > RECO_MAX_EVALUATE_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between %d and %d, not %d", RECO_MIN_EVALUATE_K, RECO_MAX_EVALUATE_K, k)));
	pairs = RecoReadPairs(PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_ARRAYTYPE_P(2), &n_pairs);
	test_users = RecoPairUsers(pairs, n_pairs, &n_test_users);

	RecoServeBegin(&ctx, fcinfo, name, false);
	RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
	RecoServeUsers(&ctx, test_users, n_test_users, false);
	RecoServeEnd(&ctx);

	memset(&sums, 0, sizeof(sums));
	recommended = palloc0(sizeof(bool) * Max(ctx.factors->n, 1));
	RecoEvaluateUsers(ctx.factors, &ctx.users, pairs, n_pairs, k, recommended, &sums);
	PG_RETURN_DATUM(RecoMetricsRow(fcinfo, &sums, recommended, ctx.factors->n,
								   n_test_users - ctx.users.n));
}
