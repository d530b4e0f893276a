/*-------------------------------------------------------------------------
 *
 * diversity.h
 *	  Maximal Marginal Relevance re-ranking of an exact top list (pure C,
 *	  no PostgreSQL header: callable from worker threads).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_DIVERSITY_H
#define RECO_DIVERSITY_H

#include "topk.h"

/*
 * How many exact top candidates MMR re-ranks to return n rows:
 * min(max(RECO_MMR_CANDIDATE_FACTOR x n, RECO_MMR_MIN_CANDIDATES),
 *     max(n, RECO_MMR_MAX_CANDIDATES)).
 * Why: MMR trades relevance for dissimilarity only among items that are
 * still relevant; with relevance min-max normalized over the candidates, an
 * item far below the top-n has a relevance term near 0 and wins a slot only
 * at a diversity close to 1, so a pool a few times n (at least
 * RECO_MMR_MIN_CANDIDATES for small n) is where every pick happens at
 * moderate diversity.  A larger pool costs twice: the exact top-C scan
 * stops later (its bound must beat the C-th best score, not the n-th) and
 * the re-ranking is O(n x C x k), so the callers refuse diversity for more
 * than RECO_MMR_MAX_ROWS rows (serve.c, RecoArgDiversity).  Never fewer
 * than n.
 */
extern int	RecoMmrCandidates(int n);

/*
 * Re-ranks candidates (sorted best first, as RecoTopKSort leaves them;
 * .index = row of the item matrix) by Maximal Marginal Relevance (Carbonell
 * & Goldstein 1998) with cosine of the item factors (factors n x k
 * row-major, norms per row) as similarity; writes min(n, n_candidates)
 * chosen entries to out in pick order, each with its ORIGINAL score and
 * index; diversity 0 returns the first n candidates unchanged.  Returns the
 * count, or -1 if scratch memory could not be allocated (more than
 * RECO_MMR_STACK_CANDIDATES candidates only).
 *
 * Each pick maximizes (1 - diversity) x rel(i) - diversity x red(i), where
 * rel(i) = (score(i) - min) / (max - min) over all the candidates (1 for all
 * when every score is equal) and red(i) = (s(i) - min) / (max - min) of
 * s(i) = max_{j picked} cos(i, j) over the candidates not yet picked at that
 * step (0 for all when every s is equal): both terms span 0..1 whatever
 * the scale of the scores and however collinear the item factors are (a
 * raw cosine of nearly parallel ALS factors moves nothing below diversity
 * 0.5), so the knob acts across 0..1.  The first pick is always the best
 * candidate (nothing is picked yet: every red is 0).  Equal values go to
 * the earlier candidate, i.e. the
 * higher score, then the lower row (lower item id).  A zero-norm item has
 * cosine 0 with everything.
 */
extern int	RecoMmrRerank(const float *factors, const float *norms, int k,
						  const RecoScored *candidates, int n_candidates, float diversity,
						  int n, RecoScored *out);

#endif							/* RECO_DIVERSITY_H */
