/*-------------------------------------------------------------------------
 *
 * diversity.c
 *	  Maximal Marginal Relevance re-ranking of an exact top list.
 *
 * Greedy MMR (Carbonell & Goldstein 1998): pick after pick, the candidate
 * maximizing (1 - diversity) x relevance - diversity x redundancy.
 * Relevance is the model score min-max normalized over the candidates;
 * redundancy is the candidate's largest cosine to an item already picked,
 * min-max normalized over the candidates still unpicked at that step, so
 * both terms span 0..1 and the knob acts across 0..1: ALS item factors are
 * often nearly collinear (cosines 0.8..1 on MovieLens 100K at the default
 * regularization), and a raw cosine term then moved nothing below diversity
 * 0.5 (test/bench/results/diversity-*.md).  The cosine of the item
 * factors comes from the serving dot product (RecoAlsScoreRows: one vectorized
 * pass over the unpicked candidates' rows per pick).  Each candidate keeps
 * its largest cosine to the picks so far, updated once per pick (the span of
 * those cosines in the same pass), so n picks out of C candidates cost
 * O(n x C x k).
 * Everything is sequential and in a fixed order: the same input gives the
 * same picks on any thread.  Pure C, no PostgreSQL header.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diversity.h"
#include "kernels.h"
#include "reco_limits.h"

/* How many exact top candidates MMR re-ranks to return n rows (see diversity.h). */
int
RecoMmrCandidates(int n)
{
	int64_t		wanted = (int64_t) n * RECO_MMR_CANDIDATE_FACTOR;
	int64_t		cap = n > RECO_MMR_MAX_CANDIDATES ? n : RECO_MMR_MAX_CANDIDATES;

	if (wanted < RECO_MMR_MIN_CANDIDATES)
		wanted = RECO_MMR_MIN_CANDIDATES;
	if (wanted > cap)
		wanted = cap;
	return (int) wanted;
}

/* Re-ranks candidates by MMR into out (see diversity.h); returns the count, or -1 out of memory. */
int
RecoMmrRerank(const float *factors, const float *norms, int k,
			  const RecoScored *candidates, int n_candidates, float diversity,
			  int n, RecoScored *out)
{
	double		stack_sim[RECO_MMR_STACK_CANDIDATES];
	bool		stack_picked[RECO_MMR_STACK_CANDIDATES];
	int32_t		stack_rows[RECO_MMR_STACK_CANDIDATES];
	float		stack_dots[RECO_MMR_STACK_CANDIDATES];
	double	   *max_sim = stack_sim;
	bool	   *picked = stack_picked;
	int32_t    *rows = stack_rows;	/* the unpicked candidates' item rows */
	float	   *dots = stack_dots;	/* their dot products with the last pick */
	double		lo,
				range,
				sim_lo = 0.0,	/* the unpicked candidates' largest cosines */
				sim_range = 0.0,	/* span [sim_lo, sim_lo + sim_range] */
				lambda = diversity;
	int			count = n < n_candidates ? n : n_candidates;
	int			p,
				i;

	if (count <= 0)
		return 0;
	if (diversity <= 0.0f)
	{
		memcpy(out, candidates, sizeof(RecoScored) * count);
		return count;
	}
	if (n_candidates > RECO_MMR_STACK_CANDIDATES)
	{
		max_sim = (double *) malloc(sizeof(double) * n_candidates);
		picked = (bool *) malloc(sizeof(bool) * n_candidates);
		rows = (int32_t *) malloc(sizeof(int32_t) * n_candidates);
		dots = (float *) malloc(sizeof(float) * n_candidates);
		if (max_sim == NULL || picked == NULL || rows == NULL || dots == NULL)
		{
			free(max_sim);
			free(picked);
			free(rows);
			free(dots);
			return -1;
		}
	}
	/* sorted best first: the first score is the largest, the last the smallest */
	lo = candidates[n_candidates - 1].score;
	range = (double) candidates[0].score - lo;
	for (i = 0; i < n_candidates; i++)
	{
		max_sim[i] = 0.0;		/* nothing picked yet: no similarity penalty */
		picked[i] = false;
	}
	for (p = 0; p < count; p++)
	{
		int			best = -1,
					m = 0;
		double		best_value = 0.0,
					best_norm,
					sim_hi;

		for (i = 0; i < n_candidates; i++)
		{
			double		rel,
						red,
						value;

			if (picked[i])
				continue;
			rel = range > 0.0 ? (candidates[i].score - lo) / range : 1.0;
			red = sim_range > 0.0 ? (max_sim[i] - sim_lo) / sim_range : 0.0;
			value = (1.0 - lambda) * rel - lambda * red;
			/* strictly greater: a tie stays with the earlier candidate */
			if (best < 0 || value > best_value)
			{
				best = i;
				best_value = value;
			}
		}
		picked[best] = true;
		out[p] = candidates[best];
		if (p + 1 == count)
			break;
		/* cosines of every unpicked candidate with the new pick (0 for a zero vector) */
		for (i = 0; i < n_candidates; i++)
			if (!picked[i])
				rows[m++] = candidates[i].index;
		RecoAlsScoreRows(factors, rows, m, k, factors + (size_t) candidates[best].index * k, dots);
		best_norm = norms[candidates[best].index];
		m = 0;
		sim_lo = sim_hi = 0.0;
		for (i = 0; i < n_candidates; i++)
		{
			double		norm,
						sim;

			if (picked[i])
				continue;
			norm = norms[candidates[i].index];
			sim = norm > 0.0 && best_norm > 0.0 ? dots[m] / (norm * best_norm) : 0.0;
			m++;
			if (p == 0 || sim > max_sim[i])
				max_sim[i] = sim;
			/* the span of the next pick's redundancy, over the candidates still unpicked */
			if (m == 1 || max_sim[i] < sim_lo)
				sim_lo = max_sim[i];
			if (m == 1 || max_sim[i] > sim_hi)
				sim_hi = max_sim[i];
		}
		sim_range = sim_hi - sim_lo;
	}
	if (max_sim != stack_sim)
	{
		free(max_sim);
		free(picked);
		free(rows);
		free(dots);
	}
	return count;
}
