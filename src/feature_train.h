/*-------------------------------------------------------------------------
 *
 * feature_train.h
 *	  Training with features (cold start): reading a side's feature sources,
 *	  fitting the mapping from features to factors, storing it and placing
 *	  the entities that have features but no interactions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_FEATURE_TRAIN_H
#define RECO_FEATURE_TRAIN_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "ids.h"
#include "interactions.h"
#include "store.h"

/* One side's features of a training (opaque: feature_train.c). */
typedef struct RecoSideFeatures RecoSideFeatures;

extern RecoSideFeatures *RecoReadFeatures(RecoSide side, List *sources, RecoIdType id_type,
										  const RecoInteractions *data, const RecoKeyTable *keys);
extern void RecoFitFeatures(RecoSideFeatures *features, const float *factors, int k,
							double lambda, Size memory_used, bool refits);
extern void RecoFeaturePrior(const RecoSideFeatures *features, float *prior);
extern int64 RecoStoreFeatures(RecoSideFeatures *features, int64 model_id);
extern void RecoAppendFeatureStats(StringInfo buf, const RecoSideFeatures *features);

#endif							/* RECO_FEATURE_TRAIN_H */
