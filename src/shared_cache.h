/*-------------------------------------------------------------------------
 *
 * shared_cache.h
 *	  One shared copy of each served factor matrix, in dynamic shared memory,
 *	  for every backend (when reco is in shared_preload_libraries).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_SHARED_CACHE_H
#define RECO_SHARED_CACHE_H

#include "postgres.h"

#include "storage/dsm.h"

#include "store.h"

/* A backend's use of one published shared copy (segment NULL: none). */
typedef struct RecoSharedRef
{
	dsm_segment *segment;		/* this backend's mapping (reference-counted per backend) */
	dsm_handle	handle;
	int			slot;			/* the registry slot it was published in */
	Size		bytes;			/* the segment's size */
} RecoSharedRef;

extern int	reco_shared_cache_size_kb;

extern void RecoSharedCacheInit(void);
extern bool RecoSharedCacheEnabled(void);
extern Size RecoSharedCacheBudget(void);
extern bool RecoSharedCacheAttach(const RecoModelInfo *model, RecoSide side, RecoFactorSet *set,
								  RecoSharedRef *ref);
extern bool RecoSharedCachePublish(const RecoModelInfo *model, RecoSide side, const RecoFactorSet *built,
								   RecoFactorSet *set, RecoSharedRef *ref);
extern bool RecoSharedCacheTouch(const RecoSharedRef *ref);
extern bool RecoSharedCachePublished(const RecoSharedRef *ref);
extern void RecoSharedCacheRelease(RecoSharedRef *ref);
extern int	RecoSharedCacheReset(void);
extern void RecoSharedCacheUnpublish(Oid dbid, int64 model_id, int side);

#endif							/* RECO_SHARED_CACHE_H */
