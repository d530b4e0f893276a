/*-------------------------------------------------------------------------
 *
 * topk.h
 *	  Partial selection of the n best scores (pure C, no PostgreSQL calls).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_TOPK_H
#define RECO_TOPK_H

#include <stdint.h>

/* One selected entry: its score and its index in the scored array. */
typedef struct RecoScored
{
	float		score;
	int32_t		index;
} RecoScored;

extern int	RecoTopK(const float *scores, int64_t n, int k, RecoScored *out);

#endif							/* RECO_TOPK_H */
