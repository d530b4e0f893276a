/*-------------------------------------------------------------------------
 *
 * explore.c
 *	  Exploratory top-n of one user: a Thompson draw from the user's
 *	  approximate posterior, then ε-slots of under-exposed items (explore.h).
 *
 * One call: the draw x̃ (RecoExploreSample: the row's exact system factored
 * by RecoAlsRowFactor, one back substitution), the eligible rows (the mask),
 * their sampled scores by RecoAlsScoreRows (the serving dot product, so
 * σ = 0 ranks exactly as reco.recommend) and a bounded heap of the best m;
 * the plain top-m of x_u the same way (for the "explored" flags; the same
 * heap when σ = 0); then the ε-slots from the less popular half of the
 * eligible rows.  Every buffer is malloc'ed and freed in the call; nothing
 * is shared, so calls on different threads with their own RecoRng are
 * independent.
 *
 *-------------------------------------------------------------------------
 */
#include "explore.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"

/* The buffers of one call, in one allocation. */
typedef struct RecoExploreWork
{
	int32_t    *rows;			/* eligible rows, ascending (h) */
	int32_t    *pop;			/* eligible rows in popularity order (h) */
	float	   *scores;			/* sampled scores of rows (h) */
	float	   *x;				/* the sampled vector (k) */
	RecoScored *top;			/* the best m by sampled score */
	RecoScored *plain;			/* the best m by x_u (top itself when σ = 0) */
	int32_t    *picks;			/* ε-slot rows (m) */
	int32_t    *pos;			/* slot positions (m) */
	unsigned char *flags;		/* per item row: RECO_EXPLORE_* bits */
	void	   *mem;
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
						  in->alpha, in->regularization, U))
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

/* Allocates the call's buffers for h eligible rows and m slots; false if out of memory. */
static bool
RecoExploreWorkAlloc(RecoExploreWork *w, int64_t n_items, int64_t h, int m, int k)
{
	size_t		hh = (size_t) (h > 0 ? h : 1);
	size_t		nf = (size_t) (n_items > 0 ? n_items : 1);
	size_t		bytes = sizeof(RecoScored) * 2 * (size_t) m + sizeof(int32_t) * 2 * (hh + (size_t) m) +
		sizeof(float) * (hh + (size_t) k) + nf;
	char	   *p = malloc(bytes);

	if (p == NULL)
		return false;
	/* 4-byte-aligned parts first, the byte flags last */
	w->mem = p;
	w->top = RecoExploreCarve(&p, sizeof(RecoScored) * (size_t) m);
	w->plain = RecoExploreCarve(&p, sizeof(RecoScored) * (size_t) m);
	w->rows = RecoExploreCarve(&p, sizeof(int32_t) * hh);
	w->pop = RecoExploreCarve(&p, sizeof(int32_t) * hh);
	w->picks = RecoExploreCarve(&p, sizeof(int32_t) * (size_t) m);
	w->pos = RecoExploreCarve(&p, sizeof(int32_t) * (size_t) m);
	w->scores = RecoExploreCarve(&p, sizeof(float) * hh);
	w->x = RecoExploreCarve(&p, sizeof(float) * (size_t) k);
	w->flags = RecoExploreCarve(&p, nf);
	memset(w->flags, 0, nf);
	return true;
}

/* The best m of the eligible rows by vector v into heap (best first, ties by lower row). */
static void
RecoExploreTop(const RecoExploreInput *in, RecoExploreWork *w, int64_t h, const float *v,
			   int m, RecoScored *heap)
{
	int			size = 0;

	RecoAlsScoreRows(in->items, w->rows, h, in->k, v, w->scores);
	RecoTopKPushMapped(heap, &size, m, w->scores, h, w->rows);
	RecoTopKSort(heap, size);
}

/* An unknown user's best-sellers: the first m eligible rows of the popularity order. */
static void
RecoExplorePopular(const RecoExploreInput *in, const RecoExploreWork *w, int m, RecoScored *heap)
{
	int			i;

	for (i = 0; i < m; i++)
	{
		heap[i].index = w->pop[i];
		heap[i].score = (float) in->popularity[w->pop[i]];
	}
}

/*
 * Draws up to e ε-slot rows into w->picks, uniformly without repeats from
 * the less popular half of the eligible rows (w->pop, popularity order),
 * skipping the first m − e sampled items; returns how many it drew.
 */
static int
RecoExploreDrawTail(RecoExploreWork *w, int64_t h, int m, int e, RecoRng *rng)
{
	int64_t		t0 = h / 2;
	int64_t		tail = h - t0;
	int64_t		s;
	int			picks = 0,
				i;

	for (i = 0; i < m - e; i++)
		w->flags[w->top[i].index] |= RECO_EXPLORE_EXPLOIT;
	for (s = 0; s < tail && picks < e; s++)
	{
		int64_t		j = s + (int64_t) RecoRngBelow(rng, (uint64_t) (tail - s));
		int32_t		row = w->pop[t0 + j];

		w->pop[t0 + j] = w->pop[t0 + s];
		w->pop[t0 + s] = row;
		if (w->flags[row] & RECO_EXPLORE_EXPLOIT)
			continue;
		w->flags[row] |= RECO_EXPLORE_PICK;
		w->picks[picks++] = row;
	}
	return picks;
}

/* The exploratory list of one user (explore.h). */
RecoStatus
RecoExploreUser(const RecoExploreInput *in, RecoRng *rng, RecoExploreSlot *out, int *found)
{
	RecoExploreWork w;
	int64_t		h = 0,
				i;
	int			m,
				e,
				picks,
				next_pick = 0,
				next_top = 0,
				slot;

	if (found != NULL)
		*found = 0;
	if (!RecoExploreArgsOk(in) || rng == NULL || out == NULL || found == NULL)
		return RECO_STATUS_INVALID_ARGUMENT;
	for (i = 0; i < in->n_items; i++)
		if (in->mask == NULL || in->mask[i] != -INFINITY)
			h++;
	m = h < in->n ? (int) h : in->n;
	if (!RecoExploreWorkAlloc(&w, in->n_items, h, m, in->k))
		return RECO_STATUS_NO_MEMORY;
	h = 0;
	for (i = 0; i < in->n_items; i++)
		if (in->mask == NULL || in->mask[i] != -INFINITY)
			w.rows[h++] = (int32_t) i;
	if (in->popularity_order != NULL)
	{
		int64_t		p = 0;

		for (i = 0; i < in->n_items; i++)
		{
			int32_t		row = in->popularity_order[i];

			if (in->mask == NULL || in->mask[row] != -INFINITY)
				w.pop[p++] = row;
		}
	}

	/* the exploit ranking (sampled, or the best-sellers) and the plain one */
	w.plain = in->user != NULL && in->sigma > 0.0f ? w.plain : w.top;
	if (in->user != NULL)
	{
		RecoStatus	st = RecoExploreSample(in, rng, w.x);

		if (st != RECO_STATUS_OK)
		{
			free(w.mem);
			return st;
		}
		if (m > 0)
			RecoExploreTop(in, &w, h, w.x, m, w.top);
		if (m > 0 && w.plain != w.top)
			RecoExploreTop(in, &w, h, in->user, m, w.plain);
	}
	else if (m > 0)
		RecoExplorePopular(in, &w, m, w.top);
	for (i = 0; i < m; i++)
		w.flags[w.plain[i].index] |= RECO_EXPLORE_PLAIN;

	/* ε-slots: the rows, then their positions */
	e = RecoExploreEpsilonCount(in->epsilon, m, rng);
	picks = e > 0 ? RecoExploreDrawTail(&w, h, m, e, rng) : 0;
	for (slot = 0; slot < m; slot++)
		w.pos[slot] = slot;
	for (slot = 0; slot < picks; slot++)
	{
		int			j = slot + (int) RecoRngBelow(rng, (uint64_t) (m - slot));
		int32_t		p = w.pos[j];

		w.pos[j] = w.pos[slot];
		w.pos[slot] = p;
	}
	for (slot = 0; slot < m; slot++)
		out[slot].epsilon = false;
	for (slot = 0; slot < picks; slot++)
		out[w.pos[slot]].epsilon = true;

	/* fill: ε positions in draw order, the others best first (skipping ε picks) */
	for (slot = 0; slot < m; slot++)
	{
		RecoExploreSlot *o = &out[slot];

		if (o->epsilon)
		{
			o->index = w.picks[next_pick++];
			if (in->user != NULL)
				RecoAlsScoreRows(in->items, &o->index, 1, in->k, w.x, &o->score);
			else
				o->score = (float) in->popularity[o->index];
		}
		else
		{
			while (w.flags[w.top[next_top].index] & RECO_EXPLORE_PICK)
				next_top++;
			o->index = w.top[next_top].index;
			o->score = w.top[next_top].score;
			next_top++;
		}
		o->explored = !(w.flags[o->index] & RECO_EXPLORE_PLAIN);
	}
	*found = m;
	free(w.mem);
	return RECO_STATUS_OK;
}
