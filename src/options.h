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

#include "utils/jsonb.h"

#include "als.h"
#include "ids.h"

typedef struct RecoTrainOptions
{
	int			factors;
	float		regularization;
	float		alpha;
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
} RecoTrainOptions;

extern void RecoParseTrainOptions(Jsonb *options, RecoIdType default_id_type, RecoTrainOptions *out);
extern char *RecoTrainOptionsToJson(const RecoTrainOptions *options);
extern void RecoAlsConfigFromOptions(const RecoTrainOptions *options, RecoAlsConfig *cfg);

#endif							/* RECO_OPTIONS_H */
