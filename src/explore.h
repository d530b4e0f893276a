/*-------------------------------------------------------------------------
 *
 * explore.h
 *	  Exploratory top-n of one user: Thompson sampling from the user's
 *	  approximate posterior and ε-slots of under-exposed items.
 *
 * Pure C (libc, OpenBLAS through als.h): no PostgreSQL headers, so the
 * kernel can be unit-tested and called from any thread.  Randomness comes
 * only from the caller's RecoRng (rng.h): the same generator state gives
 * the same list.
 *
 * Thompson sampling.  The user's factor x_u is the exact solve of the
 * weighted least-squares system A_u x = b_u of training (als.h:
 * A_u = YᵀY + λI + Yᵀ(C_u − I)Y).  Read as a Gaussian model, the posterior of
 * the user vector is N(x_u, σ² A_u⁻¹); the kernel draws one vector from it,
 * x̃ = x_u + σ U⁻¹ z with A_u = UᵀU (RecoAlsRowFactor, the same system
 * builder as the solves) and z ~ N(0, I) (k RecoRngNormal draws, in order),
 * and ranks the items by the sampled score x̃ · y.  σ = 0 draws nothing and
 * scores with x_u itself, bit for bit as reco.recommend does.
 *
 * ε-slots.  Of the m = min(n, eligible items) slots, e = ⌊ε m⌋ + (u < frac(ε m))
 * (one uniform draw u: stochastic rounding, so e = ε m exactly when ε m is
 * whole and ε m on average otherwise; m = 1 is classic ε-greedy; ε m is
 * first rounded to 6 decimals, so that the float 0.3 gives 3 of 10) go to
 * under-exposed items: the items drawn uniformly, without repeats, from the
 * less popular half (⌈h / 2⌉ items) of the h eligible items, in the
 * popularity order (descending popularity, ties by lower row: the order of
 * the best-seller fallback), leaving out the exploit items.  The other m − e
 * slots hold the best items by sampled score.  If the tail runs out, the
 * remaining ε-slots go to the next best sampled items.  The ε-slots sit at
 * positions drawn uniformly among the m (without repeats); the exploit items
 * fill the other positions best first.  Every slot's score is its sampled
 * score x̃ · y.
 *
 * Draw order (part of the interface: a seed's list must not change): k
 * normals (σ > 0 only), then, if ε > 0: one uniform for the rounding, one
 * RecoRngBelow per tail draw, one per ε position.  (The rankings draw
 * nothing: the rounding is drawn after them, of the m they found.)
 *
 * Scoring.  With item_norms and norm_order (the serving cache has both),
 * each ranking is batch.h's exact top-n with the Cauchy-Schwarz early stop,
 * as reco.recommend ranks (unless the mask leaves fewer than a quarter of the
 * items: then the eligible rows are scored directly); without them every
 * eligible row is scored.  The answer is the same either way.
 *
 * Filters.  The caller applies every filter (exclude_seen, candidates,
 * exclude) as a mask: mask[i] == -INFINITY excludes item row i, any other
 * value leaves it eligible (NULL: every item eligible).  No excluded item is
 * ever returned, in any slot.
 *
 * Unknown user (user NULL): no Thompson draw; the exploit slots are the
 * first eligible rows of popularity_order (reco.recommend's best-seller
 * fallback) and every slot's score is its item's popularity.
 *
 * "explored": a slot is explored when its item is not in the plain top-m of
 * x_u under the same mask (what reco.recommend returns for the same call).
 *
 * Overflow.  Factors are finite, but a dot product can overflow float.  As
 * in reco.recommend, an item whose score is -INFINITY is left out (the
 * mask's sentinel: it is neither an exploit item nor an ε pick) and one
 * whose score is +INFINITY ranks first: so σ = 0 with ε = 0 stays
 * reco.recommend's list, which can then be shorter than min(n, eligible).
 * With σ > 0 a sampled score that is not finite (an exploit item's or an
 * ε pick's, or an eligible item left out of the ranking) makes the call
 * fail with RECO_STATUS_NOT_FINITE: the draw, not the model, is unusable.
 *
 * The slot count m is min(n, eligible items), less the items left out for
 * an overflow (σ = 0 only); the ε count e is taken of that m.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_EXPLORE_H
#define RECO_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>

#include "als.h"
#include "rng.h"

/* One user's exploration problem; everything is read-only for the kernel. */
typedef struct RecoExploreInput
{
	const float *items;			/* n_items x k item factors Y, row-major */
	int64_t		n_items;
	int			k;
	const float *gram;			/* k x k YᵀY of items (full symmetric) */
	const int32_t *popularity_order;	/* n_items rows by descending popularity,
										 * ties by lower row; may be NULL when
										 * epsilon == 0 */
	const int64_t *popularity;	/* n_items popularities: the scores when user is NULL */
	const float *user;			/* x_u: the user's stored factor (k); NULL: an
								 * unknown user, whose exploit slots are the
								 * best-sellers (popularity_order, score the
								 * popularity, never sampled) */
	const int32_t *seen;		/* the user's fold-in row: item rows, ascending, */
	const float *seen_weights;	/* no duplicates, with their summed weights */
	int64_t		n_seen;			/* 0: the prior's covariance (YᵀY + λI)⁻¹ */
	float		alpha;			/* the model's confidence scale */
	float		regularization; /* the model's λ */
	float		reg_exponent;	/* the model's ν (0: a plain λ) */
	float		unobserved_weight;	/* the model's α0 (1: implicit's) */
	float		sigma;			/* >= 0, finite: posterior scale (0: no sampling) */
	float		epsilon;		/* 0 .. 1: fraction of ε-slots */
	const float *mask;			/* n_items: -INFINITY excludes a row; NULL: none */
	int			n;				/* slots wanted, >= 1 */
	/* optional, both or neither (zeroed: every eligible item is scored) */
	const float *item_norms;	/* n_items Euclidean norms of the item rows */
	const int32_t *norm_order;	/* item rows by descending norm */
} RecoExploreInput;

/* One slot of the exploratory list. */
typedef struct RecoExploreSlot
{
	float		score;			/* the sampled score x̃ · y */
	int32_t		index;			/* the item's row */
	bool		epsilon;		/* an ε-slot (an under-exposed item drawn at random) */
	bool		explored;		/* not in the plain top-m of x_u under the mask */
} RecoExploreSlot;

/*
 * Fills out[0 .. *found) (out has room for n slots) with the user's
 * exploratory list, in display order.  *found = m (see "Overflow" above:
 * min(n, eligible items) unless σ = 0 scores overflowed to -INFINITY);
 * nothing past *found is written.  Returns RECO_STATUS_INVALID_ARGUMENT for
 * bad inputs (n < 1, k out of range, σ < 0 or not finite, ε outside [0, 1]
 * or NaN, a missing popularity order with ε > 0),
 * RECO_STATUS_NOT_POSITIVE_DEFINITE if A_u does not factor (σ > 0 only),
 * RECO_STATUS_NOT_FINITE if the draw or a sampled score is not finite
 * (σ > 0 only), RECO_STATUS_NO_MEMORY; *found is 0 then.
 */
extern RecoStatus RecoExploreUser(const RecoExploreInput *in, RecoRng *rng,
								  RecoExploreSlot *out, int *found);

/*
 * The Thompson draw alone: x_out (k) = x_u + σ U⁻¹ z, consuming k normals
 * (none, and x_out = x_u exactly, when σ == 0).  Same statuses.
 */
extern RecoStatus RecoExploreSample(const RecoExploreInput *in, RecoRng *rng,
									float *x_out);

/*
 * The ε-slot count for m slots: ⌊ε m⌋ plus one with probability frac(ε m),
 * consuming one uniform draw when ε > 0 (none when ε == 0).
 */
extern int	RecoExploreEpsilonCount(float epsilon, int m, RecoRng *rng);

#endif							/* RECO_EXPLORE_H */
