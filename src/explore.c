/*-------------------------------------------------------------------------
 *
 * explore.c
 *	  Exploratory top-n of one user: a Thompson draw from the user's
 *	  approximate posterior, then ε-slots of under-exposed items (explore.h).
 *
 * One call: the draw x̃ (RecoExploreSample: the row's exact system factored
 * by RecoAlsRowFactor, one back substitution), then the best m items by
 * x̃ · y, scored by RecoAlsScoreRows (the serving dot product, so σ = 0
 * ranks exactly as reco.recommend): through RecoBatchTopN's norm-order early
 * stop when the caller gives the norms, else over every eligible row; the
 * plain top-m of x_u the same way (for the "explored" flags; the same list
 * when σ = 0); then the ε-slots from the less popular half of the eligible
 * rows.  Every buffer is malloc'ed and freed in the call (the per-item flags
 * by calloc, so only the pages touched are ever written); nothing is
 * shared, so calls on different threads with their own RecoRng are
 * independent.
 *
 *-------------------------------------------------------------------------
 */
#include "explore.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "topk.h"

/* The buffers of one call. */
typedef struct RecoExploreWork
{
	float	   *x;				/* the sampled vector (k) */
	RecoScored *top;			/* the best m by sampled score (or the best-sellers) */
	RecoScored *plain;			/* the best m by x_u (top itself when σ = 0) */
	int32_t    *picks;			/* ε-slot rows (m) */
	float	   *pick_scores;	/* their scores x̃ · y (m) */
	int32_t    *pos;			/* slot positions (m) */
	void	   *mem;			/* the single allocation behind the six above */
	unsigned char *flags;		/* per item row: RECO_EXPLORE_* bits (calloc) */
	int32_t    *rows;			/* eligible rows (h), for a direct scan; or NULL */
	float	   *scores;			/* their scores (h); or NULL */
	int32_t    *tail;			/* the tail's rows in popularity order; or NULL */
} RecoExploreWork;

/* flags bits of an item row: in the plain top-m, among the first m − e sampled, an ε pick. */
#define RECO_EXPLORE_PLAIN 1
#define RECO_EXPLORE_EXPLOIT 2
#define RECO_EXPLORE_PICK 4

/* ε m is rounded to this many decimals (a power of ten) before its stochastic rounding. */
#define RECO_EXPLORE_SLOT_SCALE 1e6

/* Whether the input's scalar arguments are usable (see explore.h). */
static bool
RecoExploreArgsOk(const RecoExploreInput *in)
{
	return in != NULL && in->n >= 1 && in->k >= RECO_MIN_FACTORS &&
		in->k <= RECO_MAX_FACTORS && in->n_items >= 0 && in->n_items <= INT32_MAX &&
		isfinite(in->sigma) && in->sigma >= 0.0f &&
		in->epsilon >= 0.0f && in->epsilon <= 1.0f &&
		!(in->epsilon > 0.0f && in->popularity_order == NULL) &&
		!(in->user == NULL && (in->popularity_order == NULL || in->popularity == NULL)) &&
		!(in->user != NULL && in->n_items > 0 && in->items == NULL) &&
		!(in->user != NULL && in->sigma > 0.0f && in->gram == NULL) &&
		in->n_seen >= 0;
}

/* The Thompson draw x_u + σ U⁻¹ z (UᵀU = A_u), or x_u itself when σ = 0. */
RecoStatus
RecoExploreSample(const RecoExploreInput *in, RecoRng *rng, float *x_out)
{
	int			k,
				j;
	double	   *U;
	double	   *z;
	RecoAlsRowParams rp = {in->alpha, in->regularization, in->reg_exponent,
	in->unobserved_weight, in->n_items};

	if (!RecoExploreArgsOk(in) || in->user == NULL || rng == NULL || x_out == NULL)
		return RECO_STATUS_INVALID_ARGUMENT;
	k = in->k;
	memcpy(x_out, in->user, sizeof(float) * k);
	if (in->sigma == 0.0f)
		return RECO_STATUS_OK;
	U = malloc(sizeof(double) * ((size_t) k * k + k));
	if (U == NULL)
		return RECO_STATUS_NO_MEMORY;
	z = U + (size_t) k * k;
	if (!RecoAlsRowFactor(in->gram, in->items, k, in->seen, in->seen_weights, in->n_seen,
						  &rp, U))
	{
		free(U);
		return RECO_STATUS_NOT_POSITIVE_DEFINITE;
	}
	for (j = 0; j < k; j++)
		z[j] = RecoRngNormal(rng);
	/* U w = z: w = U⁻¹ z has covariance U⁻¹U⁻ᵀ = A_u⁻¹ */
	RecoKernelsFor(k)->back(k, U, z);
	for (j = 0; j < k; j++)
		x_out[j] = (float) ((double) in->user[j] + (double) in->sigma * z[j]);
	free(U);
	for (j = 0; j < k; j++)
		if (!isfinite(x_out[j]))
			return RECO_STATUS_NOT_FINITE;
	return RECO_STATUS_OK;
}

/*
 * ⌊ε m⌋ plus one with probability frac(ε m): one uniform draw when ε > 0.
 * ε m is rounded to 6 decimals (RECO_EXPLORE_SLOT_SCALE) first, so that a real
 * ε such as 0.3 (0.30000001 as a float) gives exactly 3 slots of 10.
 */
int
RecoExploreEpsilonCount(float epsilon, int m, RecoRng *rng)
{
	double		want = round((double) epsilon * m * RECO_EXPLORE_SLOT_SCALE) / RECO_EXPLORE_SLOT_SCALE;
	int			e = (int) floor(want);

	if (!(epsilon > 0.0f) || m < 1)
		return 0;
	if (RecoRngUniform(rng) < want - e)
		e++;
	return e < m ? e : m;
}

/* Returns *p and moves *p past `bytes` bytes: one buffer carved from the call's allocation. */
static void *
RecoExploreCarve(char **p, size_t bytes)
{
	void	   *at = *p;

	*p += bytes;
	return at;
}

/* Allocates the call's small buffers for m slots and the item flags; false if out of memory. */
static bool
RecoExploreWorkAlloc(RecoExploreWork *w, int64_t n_items, int m, int k)
{
	size_t		bytes = sizeof(RecoScored) * 2 * (size_t) m + sizeof(int32_t) * 2 * (size_t) m +
		sizeof(float) * ((size_t) m + k);
	char	   *p;

	memset(w, 0, sizeof(*w));
	p = malloc(bytes);
	w->flags = calloc((size_t) (n_items > 0 ? n_items : 1), 1);
	if (p == NULL || w->flags == NULL)
	{
		free(p);
		free(w->flags);
		return false;
	}
	w->mem = p;
	w->top = RecoExploreCarve(&p, sizeof(RecoScored) * (size_t) m);
	w->plain = RecoExploreCarve(&p, sizeof(RecoScored) * (size_t) m);
	w->picks = RecoExploreCarve(&p, sizeof(int32_t) * (size_t) m);
	w->pos = RecoExploreCarve(&p, sizeof(int32_t) * (size_t) m);
	w->pick_scores = RecoExploreCarve(&p, sizeof(float) * (size_t) m);
	w->x = RecoExploreCarve(&p, sizeof(float) * (size_t) k);
	return true;
}

/* Frees every buffer of the call. */
static void
RecoExploreWorkFree(RecoExploreWork *w)
{
	free(w->mem);
	free(w->flags);
	free(w->rows);
	free(w->scores);
	free(w->tail);
}

/* Whether item row i passes the mask. */
static inline bool
RecoExploreEligible(const RecoExploreInput *in, int64_t i)
{
	return in->mask == NULL || in->mask[i] != -INFINITY;
}

/*
 * The best m of the h eligible rows by vector v into heap (best first, ties
 * by lower row), *found of them: batch.h's early-stopping scan in norm order
 * when the norms are given and the mask leaves at least a quarter of the
 * items, else the eligible rows scored directly.  Same answer either way.
 * A row whose score is -INFINITY (a dot product that overflowed) is left
 * out, as the mask's rows are and as reco.recommend leaves it out, so
 * *found can be less than min(m, h).
 */
static RecoStatus
RecoExploreTop(const RecoExploreInput *in, RecoExploreWork *w, int64_t h, const float *v,
			   int m, RecoScored *heap, int *found)
{
	int64_t		i;

	*found = 0;

	if (in->item_norms != NULL && in->norm_order != NULL && h * 4 >= in->n_items)
	{
		RecoBatchInput b;

		memset(&b, 0, sizeof(b));
		b.items = in->items;
		b.item_norms = in->item_norms;
		b.norm_order = in->norm_order;
		b.n_items = in->n_items;
		b.k = in->k;
		b.users = v;
		b.n_users = 1;
		b.n = m;
		b.threads = 1;
		b.mask = in->mask;
		return RecoBatchTopN(&b, NULL, heap, found);
	}
	if (w->rows == NULL)
	{
		int64_t		r = 0;

		w->rows = malloc(sizeof(int32_t) * (size_t) (h > 0 ? h : 1));
		w->scores = malloc(sizeof(float) * (size_t) (h > 0 ? h : 1));
		if (w->rows == NULL || w->scores == NULL)
			return RECO_STATUS_NO_MEMORY;
		for (i = 0; i < in->n_items; i++)
			if (RecoExploreEligible(in, i))
				w->rows[r++] = (int32_t) i;
	}
	RecoAlsScoreRows(in->items, w->rows, h, in->k, v, w->scores);
	RecoTopKPushMapped(heap, found, m, w->scores, h, w->rows);
	RecoTopKSort(heap, *found);
	return RECO_STATUS_OK;
}

/* An unknown user's best-sellers: the first m eligible rows of the popularity order; returns how many. */
static int
RecoExplorePopular(const RecoExploreInput *in, int m, RecoScored *heap)
{
	int64_t		i;
	int			found = 0;

	for (i = 0; i < in->n_items && found < m; i++)
	{
		int32_t		row = in->popularity_order[i];

		if (!RecoExploreEligible(in, row))
			continue;
		heap[found].index = row;
		heap[found].score = (float) in->popularity[row];
		found++;
	}
	return found;
}

/*
 * Draws up to e ε-slot rows into w->picks (their scores into
 * w->pick_scores: x̃ · y, or the popularity for an unknown user), uniformly
 * without repeats from the less popular half (the last h − ⌊h / 2⌋) of the
 * h eligible rows in popularity order, skipping the first m − e exploit
 * items and, with σ = 0, a row whose score is -INFINITY (left out as
 * RecoExploreTop leaves it out); returns how many it drew, -1 if out of
 * memory, -2 if a sampled score (σ > 0) is not finite.
 */
static int
RecoExploreDrawTail(const RecoExploreInput *in, RecoExploreWork *w, int64_t h, int m, int e,
					RecoRng *rng)
{
	int64_t		tail = h - h / 2;
	int64_t		s,
				c = 0,
				i;
	int			picks = 0;

	w->tail = malloc(sizeof(int32_t) * (size_t) (tail > 0 ? tail : 1));
	if (w->tail == NULL)
		return -1;
	/* the tail, read from the least popular end, stored in popularity order */
	for (i = in->n_items - 1; i >= 0 && c < tail; i--)
	{
		int32_t		row = in->popularity_order[i];

		if (RecoExploreEligible(in, row))
			w->tail[tail - 1 - c++] = row;
	}
	for (i = 0; i < m - e; i++)
		w->flags[w->top[i].index] |= RECO_EXPLORE_EXPLOIT;
	for (s = 0; s < tail && picks < e; s++)
	{
		int64_t		j = s + (int64_t) RecoRngBelow(rng, (uint64_t) (tail - s));
		int32_t		row = w->tail[j];
		float		score;

		w->tail[j] = w->tail[s];
		w->tail[s] = row;
		if (w->flags[row] & RECO_EXPLORE_EXPLOIT)
			continue;
		if (in->user != NULL)
			RecoAlsScoreRows(in->items, &row, 1, in->k, w->x, &score);
		else
			score = (float) in->popularity[row];
		if (in->user != NULL && in->sigma > 0.0f && !isfinite(score))
			return -2;
		if (score == -INFINITY)
			continue;
		w->flags[row] |= RECO_EXPLORE_PICK;
		w->pick_scores[picks] = score;
		w->picks[picks++] = row;
	}
	return picks;
}

/*
 * Lays out the m slots: `picks` ε positions drawn without repeats, filled
 * with the ε picks in draw order; the others with the exploit ranking
 * (w->top, m entries) best first, skipping ε picks (at most `picks` of its
 * entries are, so it never runs out); the flags of the plain ranking mark
 * what is not explored.
 */
static void
RecoExploreLayout(RecoExploreWork *w, int m, int picks, RecoRng *rng, RecoExploreSlot *out)
{
	int			slot,
				next_pick = 0,
				next_top = 0;

	for (slot = 0; slot < m; slot++)
	{
		w->pos[slot] = slot;
		out[slot].epsilon = false;
	}
	for (slot = 0; slot < picks; slot++)
	{
		int			j = slot + (int) RecoRngBelow(rng, (uint64_t) (m - slot));
		int32_t		p = w->pos[j];

		w->pos[j] = w->pos[slot];
		w->pos[slot] = p;
		out[p].epsilon = true;
	}
	for (slot = 0; slot < m; slot++)
	{
		RecoExploreSlot *o = &out[slot];

		if (o->epsilon)
		{
			o->index = w->picks[next_pick];
			o->score = w->pick_scores[next_pick++];
		}
		else
		{
			while (w->flags[w->top[next_top].index] & RECO_EXPLORE_PICK)
				next_top++;
			o->index = w->top[next_top].index;
			o->score = w->top[next_top].score;
			next_top++;
		}
		o->explored = !(w->flags[o->index] & RECO_EXPLORE_PLAIN);
	}
}

/*
 * Whether a sampled ranking (σ > 0) met a score that is not finite: one of
 * its `found` entries, or an eligible row it had to leave out (-INFINITY or
 * NaN: fewer than `want` found).
 */
static bool
RecoExploreTopNotFinite(const RecoScored *top, int found, int want)
{
	int			i;

	if (found < want)
		return true;
	for (i = 0; i < found; i++)
		if (!isfinite(top[i].score))
			return true;
	return false;
}

/* The exploratory list of one user (explore.h). */
RecoStatus
RecoExploreUser(const RecoExploreInput *in, RecoRng *rng, RecoExploreSlot *out, int *found)
{
	RecoExploreWork w;
	RecoStatus	st = RECO_STATUS_OK;
	int64_t		h = 0,
				i;
	int			m,
				e,
				plain_found = 0,
				picks = 0;
	bool		sampled;

	if (found != NULL)
		*found = 0;
	if (!RecoExploreArgsOk(in) || rng == NULL || out == NULL || found == NULL)
		return RECO_STATUS_INVALID_ARGUMENT;
	for (i = 0; i < in->n_items; i++)
		if (RecoExploreEligible(in, i))
			h++;
	m = h < in->n ? (int) h : in->n;
	if (!RecoExploreWorkAlloc(&w, in->n_items, m, in->k))
		return RECO_STATUS_NO_MEMORY;
	sampled = in->user != NULL && in->sigma > 0.0f;

	/*
	 * The draw (the normals), then the exploit ranking (sampled, or the
	 * best-sellers): it draws nothing, so the ε rounding below still comes
	 * right after the normals, as explore.h's draw order says.  m becomes
	 * what the ranking found: with σ = 0 an item whose score overflowed to
	 * -INFINITY is left out as reco.recommend leaves it out; with σ > 0 a
	 * sampled score that is not finite is an error.
	 */
	if (in->user != NULL)
		st = RecoExploreSample(in, rng, w.x);
	if (st == RECO_STATUS_OK && m > 0 && in->user != NULL)
	{
		int			top_found;

		st = RecoExploreTop(in, &w, h, w.x, m, w.top, &top_found);
		if (st == RECO_STATUS_OK && sampled && RecoExploreTopNotFinite(w.top, top_found, m))
			st = RECO_STATUS_NOT_FINITE;
		m = top_found;
	}
	else if (m > 0 && in->user == NULL)
		m = RecoExplorePopular(in, m, w.top);

	/* the plain ranking of x_u (the exploit ranking itself when nothing was drawn) */
	w.plain = sampled ? w.plain : w.top;
	plain_found = m;
	if (st == RECO_STATUS_OK && m > 0 && sampled)
		st = RecoExploreTop(in, &w, h, in->user, m, w.plain, &plain_found);
	for (i = 0; st == RECO_STATUS_OK && i < plain_found; i++)
		w.flags[w.plain[i].index] |= RECO_EXPLORE_PLAIN;

	/* ε-slots: the count, the rows, then the layout */
	if (st == RECO_STATUS_OK)
	{
		e = RecoExploreEpsilonCount(in->epsilon, m, rng);
		if (e > 0)
			picks = RecoExploreDrawTail(in, &w, h, m, e, rng);
		if (picks == -1)
			st = RECO_STATUS_NO_MEMORY;
		else if (picks == -2)
			st = RECO_STATUS_NOT_FINITE;
	}
	if (st == RECO_STATUS_OK)
	{
		RecoExploreLayout(&w, m, picks, rng, out);
		*found = m;
	}
	RecoExploreWorkFree(&w);
	return st;
}
