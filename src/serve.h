/*-------------------------------------------------------------------------
 *
 * serve.h
 *	  Argument checks, id lists and result rows shared by the serving
 *	  functions (recommend.c, similar.c, explain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_SERVE_H
#define RECO_SERVE_H

#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"

#include "store.h"
#include "topk.h"

/* A list of ids taken from a bigint[] argument or a stored row. */
typedef struct RecoIdList
{
	int64	   *ids;
	int64		n;
} RecoIdList;

/* One entry of a fold-in row: a dense item index and its weight. */
typedef struct RecoWeightedIndex
{
	int32		index;
	float		weight;
} RecoWeightedIndex;

extern void RecoRequireArg(FunctionCallInfo fcinfo, int arg, const char *name);
extern int	RecoCheckN(int n);
extern void RecoArgIdList(FunctionCallInfo fcinfo, int arg, RecoIdList *list);
extern void RecoRequireFlatArray(ArrayType *array);
extern int64 RecoSortUnique(int64 *ids, int64 n);
extern int	RecoCompareInt64(const void *a, const void *b);
extern int	RecoCompareWeightedIndex(const void *a, const void *b);
extern void RecoSpiConnect(void);
extern void RecoExcludeIds(const RecoFactorSet *set, const RecoIdList *ids, float *scores);
extern void RecoEmitScored(ReturnSetInfo *rsinfo, const int64 *ids, const RecoScored *top, int found);
extern void RecoEmitTop(ReturnSetInfo *rsinfo, const int64 *ids, const float *scores, int64 count,
						int n);

#endif							/* RECO_SERVE_H */
