/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  Per-backend cache of the item matrices of served models.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_CACHE_H
#define RECO_CACHE_H

#include "postgres.h"

#include "store.h"

extern const RecoItemSet *RecoCacheItems(const RecoModelInfo *model, MemoryContext fallback);

#endif							/* RECO_CACHE_H */
