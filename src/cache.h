/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  Per-backend cache of the factor matrices of served models.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_CACHE_H
#define RECO_CACHE_H

#include "postgres.h"

#include "store.h"

extern RecoFactorSet *RecoCacheFactors(const RecoModelInfo *model, RecoSide side,
									   MemoryContext call_cxt);
extern const float *RecoFactorNorms(RecoFactorSet *set);
extern const int32 *RecoFactorNormOrder(RecoFactorSet *set);
extern void RecoFactorNormHead(RecoFactorSet *set);
extern const float *RecoFactorGram(RecoFactorSet *set);
extern const int32 *RecoFactorPopularityOrder(RecoFactorSet *set);

#endif							/* RECO_CACHE_H */
