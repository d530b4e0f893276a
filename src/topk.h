/*-------------------------------------------------------------------------
 *
 * topk.h
 *	  Partial selection of the n best scores and id look-up (pure C, no
 *	  PostgreSQL calls: usable from worker threads).
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

extern void RecoTopKPush(RecoScored *heap, int *size, int k, float score, int32_t index);
extern void RecoTopKPushAll(RecoScored *heap, int *size, int k, const float *scores,
							int64_t n, int32_t offset);
extern void RecoTopKPushMapped(RecoScored *heap, int *size, int k, const float *scores,
							   int64_t n, const int32_t *rows);
extern void RecoTopKSort(RecoScored *heap, int size);
extern int	RecoTopK(const float *scores, int64_t n, int k, RecoScored *out);
extern int64_t RecoFindId(const int64_t *ids, int64_t n, int64_t id);

#endif							/* RECO_TOPK_H */
