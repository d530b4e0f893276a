/*-------------------------------------------------------------------------
 *
 * test_diversity.c
 *	  Standalone TAP unit tests of MMR re-ranking (src/diversity.c).
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 * A hand-derived four-item case at several diversities, a hand-derived
 * nearly collinear case (where the normalized redundancy matters), the tie rule, the
 * scale invariance of the min-max relevance, the candidate count rule, and
 * a comparison with a naive MMR (every similarity recomputed at every pick)
 * on random factors, below and above the stack scratch size.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diversity.h"
#include "kernels.h"
#include "reco_limits.h"
#include "tap.h"

#define TEST_PLAN 16

/*
 * The hand model, k = 2 (rows; norms; cosines):
 *   row 0 (1, 0)      norm 1
 *   row 1 (0.8, 0.6)  norm 1    cos(1,0) = 0.8
 *   row 2 (0, 1)      norm 1    cos(2,0) = 0,  cos(2,1) = 0.6
 *   row 3 (0, 0)      norm 0    cosine 0 with everything
 * Candidates, best first: row 0 score 4, row 1 score 3, row 2 score 2,
 * row 3 score 0; min-max relevance 1, 0.75, 0.5, 0.
 * Redundancy red = the largest cosine to the picks, min-max normalized over
 * the candidates not yet picked (0 for all when they are equal).
 */
static const float hand_factors[] = {1, 0, 0.8f, 0.6f, 0, 1, 0, 0};
static const float hand_norms[] = {1, 1, 1, 0};
static const RecoScored hand_candidates[] = {{4, 0}, {3, 1}, {2, 2}, {0, 3}};

/* True when out[0..count) has the rows `rows` and each its original score. */
static int
picks_are(const RecoScored *out, int count, const int *rows, int n_rows)
{
	int			i,
				j;

	if (count != n_rows)
		return 0;
	for (i = 0; i < count; i++)
	{
		if (out[i].index != rows[i])
			return 0;
		for (j = 0; j < 4; j++)
			if (hand_candidates[j].index == rows[i] && hand_candidates[j].score != out[i].score)
				return 0;
	}
	return 1;
}

/* The hand-derived picks. */
static void
test_hand(void)
{
	RecoScored	out[4];
	int			count;

	/* diversity 0: the candidates as they are, truncated to n */
	count = RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 0.0f, 3, out);
	ok(picks_are(out, count, (int[]) {0, 1, 2}, 3), "diversity 0 returns the first n candidates unchanged");

	/*
	 * diversity 0.1: value = 0.9 rel - 0.1 red.  Pick 1: every red 0, row 0
	 * (0.9).  Pick 2: largest cosines row 1 0.8, row 2 0, row 3 0, span 0..0.8
	 * -> red 1, 0, 0: row 1 0.675 - 0.1 = 0.575, row 2 0.45, row 3 0 -> row 1.
	 * Pick 3: row 2 max(0, 0.6) = 0.6, row 3 0 -> red 1, 0: row 2 0.45 - 0.1
	 * = 0.35, row 3 0 -> row 2; then row 3.
	 */
	count = RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 0.1f, 4, out);
	ok(picks_are(out, count, (int[]) {0, 1, 2, 3}, 4), "diversity 0.1 keeps the relevance order");

	/*
	 * diversity 0.5: value = 0.5 rel - 0.5 red.  Pick 1: row 0 (0.5).
	 * Pick 2: red 1, 0, 0 as above: row 1 0.375 - 0.5 = -0.125, row 2 0.25,
	 * row 3 0 -> row 2.  Pick 3: largest cosines row 1 max(0.8, 0.6) = 0.8,
	 * row 3 0 -> red 1, 0: row 1 -0.125, row 3 0 -> row 3 (the zero vector,
	 * similar to nothing); then row 1.
	 */
	count = RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 0.5f, 4, out);
	ok(picks_are(out, count, (int[]) {0, 2, 3, 1}, 4), "diversity 0.5: rows 0, 2, 3, 1 as derived by hand");

	/* n below the candidate count: the same first picks */
	count = RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 0.5f, 2, out);
	ok(picks_are(out, count, (int[]) {0, 2}, 2), "n = 2 at diversity 0.5: rows 0, 2");

	/*
	 * diversity 1: value = -red.  Pick 1: every value 0, the tie goes to
	 * the earliest candidate, row 0.  Pick 2: row 1 -1, rows 2 and 3 0 ->
	 * row 2 (earlier).  Pick 3: row 1 -1, row 3 0 -> row 3; then row 1.
	 */
	count = RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 1.0f, 4, out);
	ok(picks_are(out, count, (int[]) {0, 2, 3, 1}, 4), "diversity 1: the best first, then the least similar");

	/* more rows asked than candidates: every candidate once */
	count = RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 0.5f, 10, out);
	ok(count == 4, "n above the candidate count returns every candidate");
}

/*
 * Nearly collinear factors, as ALS gives them at a strong regularization:
 *   row 0 (1, 0), row 1 (0.96, 0.28), row 2 (0.8, 0.6), all norm 1;
 *   cos(1,0) = 0.96, cos(2,0) = 0.8, cos(2,1) = 0.768 + 0.168 = 0.936.
 * Scores 3, 2, 1: relevance 1, 0.5, 0.  diversity 0.5: pick 1 row 0.
 * Pick 2: largest cosines 0.96, 0.8, span 0.8..0.96 -> red 1, 0: row 1
 * 0.25 - 0.5 = -0.25, row 2 0 -> row 2; then row 1.  (A raw cosine term,
 * 0.25 - 0.48 = -0.23 against 0 - 0.4 = -0.4, would keep row 1 second.)
 */
static void
test_collinear(void)
{
	static const float f[] = {1, 0, 0.96f, 0.28f, 0.8f, 0.6f};
	static const float norms[] = {1, 1, 1};
	static const RecoScored c[] = {{3, 0}, {2, 1}, {1, 2}};
	RecoScored	out[3];
	int			count = RecoMmrRerank(f, norms, 2, c, 3, 0.5f, 3, out);

	ok(count == 3 && out[0].index == 0 && out[1].index == 2 && out[2].index == 1,
	   "collinear factors at diversity 0.5: rows 0, 2, 1 as derived by hand");
}

/* Ties, scale invariance, edge counts. */
static void
test_rules(void)
{
	/* rows 0 and 1 of `same` are the same vector; every score equal */
	static const float same[] = {1, 0, 1, 0, 0, 1};
	static const float same_norms[] = {1, 1, 1};
	RecoScored	equal[] = {{2, 0}, {2, 1}, {2, 2}};
	RecoScored	scaled[4];
	RecoScored	out[4],
				ref[4];
	int			count,
				i;

	/*
	 * Equal scores: relevance 1 for all.  diversity 0.5: pick 1 row 0 (tie,
	 * earliest); pick 2: largest cosines row 1 1, row 2 0 -> red 1, 0:
	 * row 1 0.5 - 0.5 = 0, row 2 0.5 -> row 2; then row 1.
	 */
	count = RecoMmrRerank(same, same_norms, 2, equal, 3, 0.5f, 3, out);
	ok(count == 3 && out[0].index == 0 && out[1].index == 2 && out[2].index == 1,
	   "equal scores: the lower row first, then the dissimilar one");
	/* diversity 1: after row 0, row 1 (a copy, red 1, value -1) loses to row 2 (orthogonal, 0) */
	count = RecoMmrRerank(same, same_norms, 2, equal, 3, 1.0f, 3, out);
	ok(count == 3 && out[0].index == 0 && out[1].index == 2 && out[2].index == 1,
	   "diversity 1 with equal scores: rows 0, 2, 1");

	/* any affine rescaling of the scores (positive factor) gives the same picks */
	for (i = 0; i < 4; i++)
	{
		scaled[i].score = hand_candidates[i].score * 1000.0f - 77.0f;
		scaled[i].index = hand_candidates[i].index;
	}
	RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 0.3f, 4, ref);
	count = RecoMmrRerank(hand_factors, hand_norms, 2, scaled, 4, 0.3f, 4, out);
	for (i = 0; i < count; i++)
		if (out[i].index != ref[i].index || out[i].score != scaled[ref[i].index].score)
			break;
	ok(count == 4 && i == 4, "rescaled scores: the same picks, each with its own original score");

	ok(RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 0, 0.5f, 3, out) == 0 &&
	   RecoMmrRerank(hand_factors, hand_norms, 2, hand_candidates, 4, 0.5f, 0, out) == 0,
	   "no candidates or n = 0: nothing");
}

/* The candidate count rule. */
static void
test_candidates(void)
{
	ok(RecoMmrCandidates(1) == RECO_MMR_MIN_CANDIDATES &&
	   RecoMmrCandidates(10) == RECO_MMR_MIN_CANDIDATES,
	   "small n: at least RECO_MMR_MIN_CANDIDATES candidates");
	ok(RecoMmrCandidates(20) == 20 * RECO_MMR_CANDIDATE_FACTOR &&
	   RecoMmrCandidates(RECO_MMR_MAX_CANDIDATES) == RECO_MMR_MAX_CANDIDATES,
	   "RECO_MMR_CANDIDATE_FACTOR x n, capped at RECO_MMR_MAX_CANDIDATES");
	ok(RecoMmrCandidates(5000) == 5000 && RecoMmrCandidates(INT_MAX) == INT_MAX,
	   "never fewer than n, no overflow");
}

/*
 * Naive MMR: every maximal similarity recomputed from the picks at every
 * step (same dot product), then min-max normalized over the unpicked.
 */
static int
naive_mmr(const float *f, const float *norms, int k, const RecoScored *c, int nc, double lambda,
		  int n, RecoScored *out)
{
	char	   *picked = calloc(nc, 1);
	double	   *ms = calloc(nc, sizeof(double));
	int			count = n < nc ? n : nc,
				p,
				i,
				q;
	double		lo = c[nc - 1].score,
				range = (double) c[0].score - lo;

	for (p = 0; p < count; p++)
	{
		int			best = -1,
					first = 1;
		double		best_value = 0,
					ms_lo = 0,
					ms_hi = 0;

		for (i = 0; i < nc; i++)
		{
			if (picked[i])
				continue;
			ms[i] = 0;
			for (q = 0; q < p; q++)
			{
				float		dot;
				double		cs;

				/* the serving dot product, as the kernel's similarity */
				RecoAlsScoreRows(f, &c[i].index, 1, k, f + (size_t) out[q].index * k, &dot);
				cs = norms[c[i].index] > 0 && norms[out[q].index] > 0 ?
					dot / ((double) norms[c[i].index] * norms[out[q].index]) : 0;
				if (q == 0 || cs > ms[i])
					ms[i] = cs;
			}
			if (first || ms[i] < ms_lo)
				ms_lo = ms[i];
			if (first || ms[i] > ms_hi)
				ms_hi = ms[i];
			first = 0;
		}
		for (i = 0; i < nc; i++)
		{
			double		value;

			if (picked[i])
				continue;
			value = (1 - lambda) * (range > 0 ? (c[i].score - lo) / range : 1.0) -
				lambda * (ms_hi > ms_lo ? (ms[i] - ms_lo) / (ms_hi - ms_lo) : 0.0);
			if (best < 0 || value > best_value)
			{
				best = i;
				best_value = value;
			}
		}
		picked[best] = 1;
		out[p] = c[best];
	}
	free(picked);
	free(ms);
	return count;
}

/* Random factors: the incremental MMR equals the naive one, stack and heap scratch. */
static void
test_random(void)
{
	int			sizes[] = {300, RECO_MMR_STACK_CANDIDATES + 500};
	int			s;

	for (s = 0; s < 2; s++)
	{
		int			nc = sizes[s],
					k = 8,
					n = 40,
					i,
					j,
					a,
					b;
		float	   *f = malloc(sizeof(float) * nc * k);
		float	   *norms = malloc(sizeof(float) * nc);
		RecoScored *c = malloc(sizeof(RecoScored) * nc);
		RecoScored *out = malloc(sizeof(RecoScored) * n);
		RecoScored *ref = malloc(sizeof(RecoScored) * n);
		char		name[100];

		for (i = 0; i < nc; i++)
		{
			double		sq = 0;

			for (j = 0; j < k; j++)
			{
				f[i * k + j] = (float) (rnd_uniform() * 2 - 1);
				sq += (double) f[i * k + j] * f[i * k + j];
			}
			norms[i] = (float) sqrt(sq);
			c[i].index = i;
			c[i].score = (float) (nc - i) + (float) rnd_uniform() * 0.5f;	/* descending */
		}
		a = RecoMmrRerank(f, norms, k, c, nc, 0.3f, n, out);
		b = naive_mmr(f, norms, k, c, nc, 0.3f, n, ref);
		for (i = 0; i < n; i++)
			if (out[i].index != ref[i].index || out[i].score != ref[i].score)
				break;
		snprintf(name, sizeof(name), "%d random candidates: the naive MMR's %d picks", nc, n);
		ok(a == n && b == n && i == n, name);
		free(f);
		free(norms);
		free(c);
		free(out);
		free(ref);
	}
}

/* Runs every test; exit status 1 if any failed. */
int
main(void)
{
	printf("1..%d\n", TEST_PLAN);
	test_hand();				/* 6 */
	test_collinear();			/* 1 */
	test_rules();				/* 4 */
	test_candidates();			/* 3 */
	test_random();				/* 2 */
	/* total 16 */
	return tap_exit_status(TEST_PLAN);
}
