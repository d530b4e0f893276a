/*-------------------------------------------------------------------------
 *
 * feature_map.h
 *	  A model version's mapping from features to factors (reco.feature_weights)
 *	  and the features jsonb it maps: what serving cold entities builds on.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_FEATURE_MAP_H
#define RECO_FEATURE_MAP_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "store.h"

/* One feature of a mapping: a sparse feature (dims 1) or a dense embedding column. */
typedef struct RecoFeatureColumn
{
	char	   *name;
	bool		dense;
	int			dims;			/* sparse: 1; dense: the embedding's length */
	float	   *weights;		/* dims x k, dimension-major */
} RecoFeatureColumn;

/* The mapping of one side of a model version, columns sorted by name (strcmp). */
typedef struct RecoFeatureMap
{
	int64		model_id;
	RecoSide	side;
	int64		generation;		/* the side's generation it was loaded for */
	int			k;
	float	   *intercept;		/* k (zeros without an intercept row) */
	int			n;
	RecoFeatureColumn *columns;
	MemoryContext cxt;			/* owns the map and its arrays */
} RecoFeatureMap;

/* One known key of a features jsonb: its column and its value(s), in double. */
typedef struct RecoFeatureTerm
{
	const RecoFeatureColumn *column;
	double	   *values;			/* column->dims values */
} RecoFeatureTerm;

extern RecoFeatureMap *RecoFeatureMapFor(const RecoModelInfo *model, RecoSide side, bool required);
extern int	RecoFeatureTerms(const RecoFeatureMap *map, Jsonb *features, RecoFeatureTerm **terms_out);
extern void RecoFeatureTermVector(const RecoFeatureMap *map, const RecoFeatureTerm *term, double *acc);
extern void RecoMapFeatures(const RecoFeatureMap *map, Jsonb *features, float *out);
extern bool RecoSchemaHasFeatures(void);
extern Jsonb *RecoStoredFeatures(const RecoModelInfo *model, RecoSide side, int64 id, MemoryContext mcxt);

#endif							/* RECO_FEATURE_MAP_H */
