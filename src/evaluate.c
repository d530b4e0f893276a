/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *	  reco.evaluate_pairs: ranking metrics of a model on held-out pairs.
 *
 * The served version's item matrix and the test users' factors and training
 * items are loaded once; users are scored in blocks with one sgemm per block
 * (block x items), their training items are excluded, and the top k is
 * compared with their held-out items.  Definitions (as the implicit library's
 * ranking_metrics_at_k, see BENCHMARKS.md): for a user with R relevant items
 * and h hits in the top k,
 *	 precision@k = h / k, recall@k = h / R,
 *	 AP@k = sum over hit positions i (1-based) of hits-so-far / i, / min(k, R),
 *	 NDCG@k = DCG / IDCG with binary gains, IDCG over min(k, R) positions,
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
#include <cblas.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "reco.h"
#include "store.h"
#include "topk.h"

#define RECO_EVAL_BLOCK 64

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

PG_FUNCTION_INFO_V1(reco_evaluate_pairs);

/* reco.evaluate_pairs(model, users[], items[], k): ranking metrics (see file header). */
Datum
reco_evaluate_pairs(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	TupleDesc	tupdesc;
	RecoModelInfo model;
	RecoFactorSet items;
	RecoUserSet users;
	RecoMetricSums sums;
	RecoPair   *pairs;
	int64	   *test_users;
	int64		n_pairs,
				n_test_users = 0,
				p,
				b,
				covered = 0;
	int			k;
	float	   *scores;
	bool	   *relevant;
	bool	   *recommended;
	int32	   *relevant_idx;
	float	   *pos_scores;
	RecoScored *top;
	Datum		values[9];
	bool		nulls[9] = {false};
	char	   *name;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model, users, items and k must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	k = PG_GETARG_INT32(3);
	if (k < 1 || k > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and 10000, not %d", k)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "reco: evaluate_pairs must return a record, please report a bug");
	pairs = RecoReadPairs(PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_ARRAYTYPE_P(2), &n_pairs);
	test_users = palloc(sizeof(int64) * n_pairs);
	for (p = 0; p < n_pairs; p++)
		if (p == 0 || pairs[p].user != pairs[p - 1].user)
			test_users[n_test_users++] = pairs[p].user;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "reco: SPI_connect failed, please report a bug");
	RecoLookupModel(name, &model);
	RecoLoadFactors(&model, RECO_SIDE_ITEMS, &items, outer);
	RecoLoadUsers(&model, test_users, n_test_users, false, &users, outer);
	SPI_finish();

	scores = MemoryContextAllocHuge(outer, mul_size(sizeof(float) * RECO_EVAL_BLOCK, Max(items.n, 1)));
	relevant = palloc0(sizeof(bool) * Max(items.n, 1));
	recommended = palloc0(sizeof(bool) * Max(items.n, 1));
	relevant_idx = palloc(sizeof(int32) * Max(items.n, 1));
	pos_scores = palloc(sizeof(float) * Max(items.n, 1));
	top = palloc(sizeof(RecoScored) * k);
	memset(&sums, 0, sizeof(sums));

	p = 0;
	for (b = 0; b < users.n; b += RECO_EVAL_BLOCK)
	{
		int			block = (int) Min(RECO_EVAL_BLOCK, users.n - b);
		int			r;

		CHECK_FOR_INTERRUPTS();
		if (items.n > 0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, block, (int) items.n, items.k,
						1.0f, users.factors + b * users.k, users.k, items.factors, items.k,
						0.0f, scores, (int) items.n);
		for (r = 0; r < block; r++)
		{
			int64		user = b + r;
			float	   *row = scores + (int64) r * items.n;
			int			n_relevant = 0,
						n_known = 0,
						i;
			int64		s;

			/* the user's held-out items (pairs are sorted by user) */
			while (pairs[p].user < users.ids[user])
				p++;
			for (; p < n_pairs && pairs[p].user == users.ids[user]; p++)
			{
				int64		idx = RecoFindId(items.ids, items.n, pairs[p].item);

				n_relevant++;
				if (idx >= 0)
				{
					relevant[idx] = true;
					relevant_idx[n_known++] = (int32) idx;
				}
			}
			for (s = users.seen_ptr[user]; s < users.seen_ptr[user + 1]; s++)
			{
				int64		idx = RecoFindId(items.ids, items.n, users.seen_items[s]);

				if (idx >= 0)
					row[idx] = -INFINITY;
			}
			RecoScoreUser(row, items.n, relevant_idx, n_known, n_relevant, relevant, k, top,
						  pos_scores, recommended, &sums);
			for (i = 0; i < n_known; i++)
				relevant[relevant_idx[i]] = false;
		}
	}
	for (p = 0; p < items.n; p++)
		covered += recommended[p] ? 1 : 0;

	if (sums.users == 0)
	{
		int			i;

		for (i = 0; i < 7; i++)
			nulls[i] = true;
	}
	else
	{
		values[0] = Float8GetDatum(sums.precision / sums.users);
		values[1] = Float8GetDatum(sums.recall / sums.users);
		values[2] = Float8GetDatum(sums.ap / sums.users);
		values[3] = Float8GetDatum(sums.ndcg / sums.users);
		values[4] = Float8GetDatum(sums.hits / sums.capped_total);
		values[5] = Float8GetDatum(sums.auc_users ? sums.auc / sums.auc_users : 0.5);
		values[6] = Float8GetDatum(items.n ? (double) covered / items.n : 0.0);
	}
	values[7] = Int64GetDatum(sums.users);
	values[8] = Int64GetDatum(n_test_users - users.n);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
