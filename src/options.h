/*-------------------------------------------------------------------------
 *
 * options.h
 *	  Training options: defaults, parsing from jsonb, validation, and the
 *	  jsonb form stored in reco.models.params.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_OPTIONS_H
#define RECO_OPTIONS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#include "als.h"
#include "ids.h"

/* How training learns the item mapping from features (option feature_mapping). */
typedef enum RecoFeatureMapping
{
	RECO_FEATURE_MAPPING_RIDGE,	/* a ridge fit on the trained factors, once */
	RECO_FEATURE_MAPPING_PRIOR	/* ials: item factors regularized toward it, refitted every item step */
} RecoFeatureMapping;

typedef struct RecoTrainOptions
{
	RecoAlgorithm algorithm;
	int			factors;
	float		regularization;
	float		alpha;
	float		learning_rate;	/* bpr */
	float		reg_exponent;	/* ials, als */
	float		unobserved_weight;	/* ials */
	int			iterations;
	int64		seed;
	int			cg_steps;
	RecoSolver	solver;
	int			threads;		/* as requested; 0 = reco.threads / cores */
	int			keep_versions;	/* 0 = keep every version */
	RecoIdType	user_id_type;
	RecoIdType	item_id_type;
	char	   *source;			/* what reco.refresh_users/items read: NULL if not recorded */
	char	   *user_col;
	char	   *item_col;
	char	   *weight_col;
	char	   *time_col;		/* the event time column reco.train read (recorded), or NULL */
	Interval   *half_life;		/* decay half-life (> 0), or NULL: no decay */
	TimestampTz as_of;			/* the decay's reference time, or RECO_AS_OF_NEWEST */
	List	   *item_features;	/* the item feature sources (char *), NIL = none */
	List	   *user_features;	/* the user feature sources (char *), NIL = none */
	float		feature_regularization; /* the ridge mapping's penalty (feature_train.c) */
	RecoFeatureMapping feature_mapping; /* how the item mapping is learned */
} RecoTrainOptions;

/* as_of not given: the newest event time of the training data. */
#define RECO_AS_OF_NEWEST DT_NOBEGIN

extern void RecoParseTrainOptions(Jsonb *options, RecoIdType default_id_type, RecoTrainOptions *out);
extern char *RecoTrainOptionsToJson(const RecoTrainOptions *options);
extern double RecoIntervalSeconds(const Interval *interval);
extern const char *RecoAlgorithmName(RecoAlgorithm algorithm);
extern bool RecoParseAlgorithm(const char *name, RecoAlgorithm *out);
extern void RecoAlsConfigFromOptions(const RecoTrainOptions *options, RecoAlsConfig *cfg);

#endif							/* RECO_OPTIONS_H */
