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
 * The settings whose effect evaluate measures change the lists, never the
 * scores: with diversity > 0 a user's list is reco.recommend's with that
 * diversity (the exact top RecoMmrCandidates(k) re-ranked by MMR, diversity.h);
 * with explore it is reco.explore's for (seed, sigma, epsilon) (explore.h:
 * a Thompson draw from the user's posterior and ε-slots, the generator keyed
 * by the seed and the user id's text form, so the metrics are deterministic
 * and evaluate stays STABLE).  Precision, recall, MAP, NDCG, coverage and
 * the beyond-accuracy metrics below are those of these lists, in their
 * order; AUC stays a property of the model's plain scores (x_u . y over
 * every rankable item), the same for every setting.
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
 * Beyond accuracy, on the same top-k lists (a list L of m items):
 *	 intra-list diversity = mean over the users whose list has m >= 2 items of
 *		   1 - (sum over the m(m-1)/2 pairs i < j of L of cos(i, j)) / (m(m-1)/2),
 *		   cos the cosine of the two items' factor vectors (0 if either is the
 *		   zero vector, as in similar_items); NULL if no list has two items.
 *		   The pair sum is computed as (|sum of the unit vectors|^2 - the
 *		   number of non-zero vectors) / 2, in double, O(m) per list instead of
 *		   O(m^2) (k goes up to 10,000);
 *	 novelty = mean over every entry of every list (an item recommended to u
 *		   users counts u times) of -log2(max(popularity, 1) / n_users), where
 *		   popularity is the item's training users with a positive weight
 *		   (reco.item_factors.popularity) and n_users the version's training
 *		   users (reco.models.n_users): an item nobody bought counts as bought
 *		   by one user, the largest finite novelty log2(n_users); a share above
 *		   1 (possible after forget_user) counts as 1, novelty 0;
 *	 gini = Gini index of exposure over every item of the model: with c_1 <=
 *		   ... <= c_n the number of lists item i appears in, sorted ascending,
 *		   gini = sum over i of (2i - n - 1) c_i / (n sum c); 0 when every item
 *		   is shown equally often, (n - 1) / n when one item takes all.
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
#include "cache.h"
#include "diversity.h"
#include "explore.h"
#include "reco.h"
#include "serve.h"
#include "store.h"
#include "topk.h"

/* Users scored per block: their rows of item scores are held at once. */
#define RECO_EVAL_BLOCK_USERS 64

/* Item factor floats per tile: one tile stays in cache while a block of users passes over it. */
#define RECO_EVAL_TILE_FLOATS (64 * 1024)

/* The columns of evaluate_pairs' result, and how many of the leading ones are metrics. */
#define RECO_EVAL_COLUMNS 12
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
	double		ild;			/* sum of the lists' intra-list diversity */
	int64		ild_users;		/* users whose list has two items or more */
	double		novelty;		/* sum of the novelty of every list entry */
	int64		entries;		/* list entries */
} RecoMetricSums;

/*
 * What evaluating every user reads and writes: the model's items, buffers
 * sized once per call, the running sums and each item's exposure.
 */
typedef struct RecoEvalState
{
	const RecoFactorSet *items;
	const float *norms;			/* items' Euclidean norms */
	double	   *novelty;		/* per item: -log2 of its popularity share */
	int			k;
	RecoScored *top;			/* k: the user's list */
	float	   *pos_scores;		/* items->n: scores of the rankable relevant items */
	double	   *direction;		/* items->k: the sum of the list's unit vectors */
	int64	   *exposure;		/* items->n: lists each item appears in */
	RecoMetricSums sums;

	/* diversity > 0: the user's exact top candidates, re-ranked by MMR into top */
	float		diversity;
	RecoScored *candidates;		/* n_candidates */
	int			n_candidates;

	/* explore: the kernel's input (the call's fields), its slots and the user's row */
	bool		explore;
	uint64		seed;
	int64		model_id;		/* the served version (RecoUserRow's XX001 names it) */
	RecoExploreInput explore_in;
	RecoExploreSlot *slots;		/* explore_in.n */
	int32	   *seen_rows;		/* the user's training items (rows) and weights */
	float	   *seen_weights;
	float	   *explore_mask;	/* items->n: 0, the user's seen items -INFINITY during its call */
} RecoEvalState;

/* How evaluate_pairs ranks each user's list: its arguments after k. */
typedef struct RecoEvalSettings
{
	float		diversity;		/* 0 .. 1; 0: the exact ranking */
	bool		explore;		/* rank by reco.explore's draw instead */
	float		sigma;			/* explore: posterior scale, 0 .. RECO_MAX_EXPLORE_SIGMA */
	float		epsilon;		/* explore: share of under-exposed slots, 0 .. 1 */
	int64		seed;			/* explore: the generator's seed */
} RecoEvalSettings;

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
 * Adds the accuracy metrics of one user's list top[0..got) (relevant: flags
 * of its known held-out items, n_relevant counting the unknown ones too) to
 * the sums, with the list's novelty and its items' exposure.
 */
static void
RecoListAccuracy(RecoEvalState *state, const RecoScored *top, int got, const bool *relevant,
				 int n_relevant)
{
	RecoMetricSums *sums = &state->sums;
	int			cap = Min(state->k, n_relevant);
	double		hits = 0,
				ap = 0,
				dcg = 0,
				idcg = 0;
	int			i;

	for (i = 0; i < got; i++)
	{
		state->exposure[top[i].index]++;
		sums->novelty += state->novelty[top[i].index];
		if (relevant[top[i].index])
		{
			hits += 1;
			ap += hits / (i + 1);
			dcg += 1.0 / log2(i + 2.0);
		}
	}
	for (i = 0; i < cap; i++)
		idcg += 1.0 / log2(i + 2.0);
	sums->precision += hits / state->k;
	sums->recall += hits / n_relevant;
	sums->ap += ap / cap;
	sums->ndcg += dcg / idcg;
	sums->hits += hits;
	sums->capped_total += cap;
	sums->entries += got;
	sums->users++;
}

/*
 * Adds the intra-list diversity of one user's list top[0..got) to the sums
 * (lists of fewer than two items have none): the mean pairwise cosine comes
 * from the sum s of the items' unit vectors, since |s|^2 = (the number of
 * non-zero vectors) + 2 (sum over pairs of their cosine).
 */
static void
RecoListDiversity(RecoEvalState *state, const RecoScored *top, int got)
{
	const RecoFactorSet *items = state->items;
	double	   *s = state->direction;
	double		square = 0;
	int			nonzero = 0,
				i,
				f;

	if (got < 2)
		return;
	memset(s, 0, sizeof(double) * items->k);
	for (i = 0; i < got; i++)
	{
		const float *v = items->factors + (int64) top[i].index * items->k;
		double		norm = state->norms[top[i].index];

		if (norm <= 0)
			continue;
		nonzero++;
		for (f = 0; f < items->k; f++)
			s[f] += v[f] / norm;
	}
	for (f = 0; f < items->k; f++)
		square += s[f] * s[f];
	state->sums.ild += 1.0 - ((square - nonzero) / 2) / ((double) got * (got - 1) / 2);
	state->sums.ild_users++;
}

/*
 * Adds one user's AUC to the sums: the share of (relevant, non-relevant)
 * pairs of rankable items (score not -INFINITY) that its scores order
 * correctly, ties counting one half.
 */
static void
RecoUserAuc(RecoEvalState *state, const float *scores, const int32 *relevant_idx, int n_known,
			const bool *relevant)
{
	float	   *pos_scores = state->pos_scores;
	int64		n_items = state->items->n;
	int			i,
				n_pos = 0;
	int64		j,
				n_neg = 0;
	double		misordered = 0;

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
		state->sums.auc += 1.0 - misordered / ((double) n_pos * n_neg);
		state->sums.auc_users++;
	}
}

/*
 * The user's list by reco.explore's kernel into state->top: a Thompson draw
 * from its posterior and ε-slots, the generator keyed by (seed, user);
 * returns the list's length.  The kernel's mask is reco.explore's, the
 * user's seen items (positive weights) alone: not the score row, whose
 * -INFINITY also marks a score that overflowed, an item reco.explore counts
 * as eligible (explore.h "Overflow").
 */
static int
RecoExploreList(RecoEvalState *state, const RecoUserSet *users, int64 user)
{
	const RecoFactorSet *items = state->items;
	RecoExploreInput in = state->explore_in;
	RecoRng		rng = RecoRngStart(state->seed, RecoUserStream(users, user, NULL));
	RecoStatus	status;
	int64		s;
	int			found,
				i;

	in.user = users->factors + user * users->k;
	in.mask = state->explore_mask;
	in.seen = state->seen_rows;
	in.seen_weights = state->seen_weights;
	in.n_seen = RecoUserRow(items, users, user, state->model_id, state->seen_rows, state->seen_weights);
	for (s = 0; s < in.n_seen; s++)
		if (state->seen_weights[s] > 0)
			state->explore_mask[state->seen_rows[s]] = -INFINITY;
	status = RecoExploreUser(&in, &rng, state->slots, &found);
	for (s = 0; s < in.n_seen; s++)
		state->explore_mask[state->seen_rows[s]] = 0.0f;
	RecoReportExploreStatus(status, users, user);
	for (i = 0; i < found; i++)
	{
		state->top[i].score = state->slots[i].score;
		state->top[i].index = state->slots[i].index;
	}
	return found;
}

/*
 * The user's top k into state->top (scores: its row, seen items -INFINITY):
 * reco.recommend's exact ranking, its MMR re-ranking with `diversity`, or
 * reco.explore's list; returns the list's length.
 */
static int
RecoRankUser(RecoEvalState *state, const RecoUserSet *users, int64 user, const float *scores)
{
	int			found,
				picked;

	if (state->explore)
		return RecoExploreList(state, users, user);
	if (state->diversity == 0.0f)
		return RecoTopK(scores, state->items->n, state->k, state->top);
	found = RecoTopK(scores, state->items->n, state->n_candidates, state->candidates);
	picked = RecoMmrRerank(state->items->factors, state->norms, state->items->k, state->candidates,
						   found, state->diversity, Min(state->k, state->n_candidates), state->top);
	if (picked < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for the diversity re-ranking")));
	return picked;
}

/*
 * Evaluates one user (scores: its row of item scores, seen items already set
 * to -INFINITY; relevant: flags of its known held-out items): ranks its list
 * (RecoRankUser) and adds every metric to the sums; AUC always ranks the
 * plain scores.
 */
static void
RecoScoreUser(RecoEvalState *state, const RecoUserSet *users, int64 user, float *scores,
			  const int32 *relevant_idx, int n_known, int n_relevant, const bool *relevant)
{
	int			got = RecoRankUser(state, users, user, scores);

	RecoListAccuracy(state, state->top, got, relevant, n_relevant);
	RecoListDiversity(state, state->top, got);
	RecoUserAuc(state, scores, relevant_idx, n_known, relevant);
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
 * Adds the metrics of every loaded user to the state's sums and exposure;
 * pairs are the held-out pairs, sorted by user.
 */
static void
RecoEvaluateUsers(RecoEvalState *state, const RecoUserSet *users, const RecoPair *pairs,
				  int64 n_pairs)
{
	const RecoFactorSet *items = state->items;
	float	   *scores = MemoryContextAllocHuge(CurrentMemoryContext,
												mul_size(sizeof(float) * RECO_EVAL_BLOCK_USERS, Max(items->n, 1)));
	bool	   *relevant = palloc0(sizeof(bool) * Max(items->n, 1));
	int32	   *relevant_idx = palloc(sizeof(int32) * Max(items->n, 1));
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

				/* with weights loaded (explore) every row is there: only positive ones are seen */
				if (idx >= 0 && (users->seen_weights == NULL || users->seen_weights[s] > 0))
					row[idx] = -INFINITY;
			}
			RecoScoreUser(state, users, user, row, relevant_idx, n_known, n_relevant, relevant);
			for (i = 0; i < n_known; i++)
				relevant[relevant_idx[i]] = false;
		}
	}
}

/*
 * Sets up the state of one evaluation: buffers, a zero exposure, and every
 * item's novelty -log2(max(popularity, 1) / n_users), at least 0 (see the
 * file header), from the version's training user count.
 */
static void
RecoEvalStart(RecoEvalState *state, RecoFactorSet *items, int64 n_users, int k)
{
	double		users = (double) Max(n_users, 1);
	int64		i;

	memset(state, 0, sizeof(*state));
	state->items = items;
	state->norms = RecoFactorNorms(items);
	state->k = k;
	state->top = palloc(sizeof(RecoScored) * k);
	state->pos_scores = palloc(sizeof(float) * Max(items->n, 1));
	state->direction = palloc(sizeof(double) * items->k);
	state->exposure = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(items->n, 1));
	memset(state->exposure, 0, sizeof(int64) * Max(items->n, 1));
	state->novelty = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(items->n, 1));
	for (i = 0; i < items->n; i++)
	{
		double		share = (double) Max(items->popularity[i], 1) / users;

		state->novelty[i] = share >= 1 ? 0.0 : -log2(share);
	}
}

/*
 * Prepares the ranking of the settings: the candidate buffer of MMR, or the
 * fixed fields of the exploration kernel's input (the model's Gram matrix,
 * popularity order, alpha and regularization) and its buffers.
 */
static void
RecoEvalRanking(RecoEvalState *state, RecoFactorSet *items, const RecoModelInfo *model,
				const RecoUserSet *users, const RecoEvalSettings *settings)
{
	RecoExploreInput *in = &state->explore_in;
	int64		most_seen = 0,
				u;

	state->diversity = settings->diversity;
	state->explore = settings->explore;
	state->seed = (uint64) settings->seed;
	state->model_id = model->model_id;
	if (settings->diversity > 0.0f)
	{
		state->n_candidates = (int) Min((int64) RecoMmrCandidates(state->k), Max(items->n, 1));
		state->candidates = palloc(sizeof(RecoScored) * state->n_candidates);
	}
	if (!settings->explore)
		return;
	memset(in, 0, sizeof(*in));
	in->items = items->factors;
	in->n_items = items->n;
	in->k = items->k;
	in->gram = settings->sigma > 0.0f ? RecoFactorGram(items) : NULL;	/* only for a draw */
	in->popularity = items->popularity;
	in->popularity_order = RecoFactorPopularityOrder(items);
	in->alpha = model->alpha;
	in->regularization = model->regularization;
	in->reg_exponent = model->reg_exponent;
	in->unobserved_weight = model->unobserved_weight;
	in->sigma = settings->sigma;
	in->epsilon = settings->epsilon;
	in->n = (int) Min((int64) state->k, Max(items->n, 1));
	state->slots = palloc(sizeof(RecoExploreSlot) * in->n);
	for (u = 0; u < users->n; u++)
		most_seen = Max(most_seen, users->seen_ptr[u + 1] - users->seen_ptr[u]);
	state->seen_rows = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(most_seen, 1));
	state->seen_weights = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(most_seen, 1));
	state->explore_mask = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(items->n, 1));
	memset(state->explore_mask, 0, sizeof(float) * Max(items->n, 1));
}

/*
 * The Gini index of exposure over every item (see the file header); sorts
 * the exposure counts in place.  The caller makes sure some list has an entry.
 */
static double
RecoExposureGini(int64 *exposure, int64 n)
{
	double		weighted = 0,
				total = 0;
	int64		i;

	qsort(exposure, n, sizeof(int64), RecoCompareInt64);
	for (i = 0; i < n; i++)
	{
		weighted += (double) (2 * (i + 1) - n - 1) * exposure[i];
		total += exposure[i];
	}
	return weighted / ((double) n * total);
}

/* The result row of evaluate_pairs: means of the sums (NULL if nobody was evaluated). */
static Datum
RecoMetricsRow(FunctionCallInfo fcinfo, RecoEvalState *state, int64 users_unknown)
{
	const RecoMetricSums *sums = &state->sums;
	int64		n_items = state->items->n;
	TupleDesc	tupdesc;
	Datum		values[RECO_EVAL_COLUMNS];
	bool		nulls[RECO_EVAL_COLUMNS] = {false};
	int64		covered = 0,
				i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "reco: evaluate_pairs must return a record, please report a bug");
	for (i = 0; i < n_items; i++)
		covered += state->exposure[i] > 0 ? 1 : 0;
	values[7] = Int64GetDatum(sums->users);
	values[8] = Int64GetDatum(users_unknown);
	if (sums->users == 0)
	{
		for (i = 0; i < RECO_EVAL_COLUMNS; i++)
			nulls[i] = (i < RECO_EVAL_METRICS || i > 8);
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
		values[9] = Float8GetDatum(sums->ild_users ? sums->ild / sums->ild_users : 0);
		nulls[9] = sums->ild_users == 0;
		values[10] = Float8GetDatum(sums->entries ? sums->novelty / sums->entries : 0);
		nulls[10] = sums->entries == 0;
		values[11] = Float8GetDatum(sums->entries ? RecoExposureGini(state->exposure, n_items) : 0);
		nulls[11] = sums->entries == 0;
	}
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/*
 * The ranking settings of evaluate_pairs (arguments 4 ..; absent ones take
 * the defaults): NULL 22004; diversity outside 0 .. 1 or NaN, sigma NaN or
 * outside 0 .. RECO_MAX_EXPLORE_SIGMA, epsilon outside 0 .. 1 or NaN,
 * diversity above 0 with k above RECO_MMR_MAX_ROWS, or diversity with
 * explore 22023.
 */
static void
RecoEvalArgs(FunctionCallInfo fcinfo, int k, RecoEvalSettings *settings)
{
	settings->diversity = RecoArgDiversity(fcinfo, 4, k);
	settings->explore = false;
	settings->sigma = RECO_DEFAULT_EXPLORE_SIGMA;
	settings->epsilon = RECO_DEFAULT_EXPLORE_EPSILON;
	settings->seed = RECO_DEFAULT_SEED;
	if (PG_NARGS() < 9)
		return;
	RecoRequireArg(fcinfo, 5, "explore");
	RecoRequireArg(fcinfo, 6, "sigma");
	RecoRequireArg(fcinfo, 7, "epsilon");
	RecoRequireArg(fcinfo, 8, "seed");
	settings->explore = PG_GETARG_BOOL(5);
	settings->sigma = RecoArgSigma(fcinfo, 6);
	settings->epsilon = RecoArgEpsilon(fcinfo, 7);
	settings->seed = PG_GETARG_INT64(8);
	if (settings->explore && settings->diversity > 0.0f)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("diversity and explore cannot be evaluated together"),
				 errhint("Evaluate diversity > 0 with explore => false, or explore with diversity => 0.")));
}

PG_FUNCTION_INFO_V1(reco_evaluate_pairs);

/*
 * reco.evaluate_pairs(model, users[], items[], k, diversity, explore, sigma,
 * epsilon, seed): ranking metrics (see file header).
 */
Datum
reco_evaluate_pairs(PG_FUNCTION_ARGS)
{
	RecoServeContext ctx;
	RecoEvalSettings settings;
	RecoEvalState state;
	RecoPair   *pairs;
	int64	   *test_users;
	int64		n_pairs,
				n_test_users;
	int			k;
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
	RecoEvalArgs(fcinfo, k, &settings);
	pairs = RecoReadPairs(PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_ARRAYTYPE_P(2), &n_pairs);
	test_users = RecoPairUsers(pairs, n_pairs, &n_test_users);

	RecoServeBegin(&ctx, fcinfo, name, false);
	if (settings.explore)
		RecoRequireImplicitModel(&ctx.model, "reco.evaluate with explore");
	RecoServeFactors(&ctx, RECO_SIDE_ITEMS);
	RecoServeUsers(&ctx, test_users, n_test_users, settings.explore);
	RecoServeEnd(&ctx);

	RecoEvalStart(&state, ctx.factors, ctx.model.n_users, k);
	RecoEvalRanking(&state, ctx.factors, &ctx.model, &ctx.users, &settings);
	RecoEvaluateUsers(&state, &ctx.users, pairs, n_pairs);
	PG_RETURN_DATUM(RecoMetricsRow(fcinfo, &state, n_test_users - ctx.users.n));
}
