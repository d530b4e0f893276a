/*-------------------------------------------------------------------------
 *
 * serve.h
 *	  The opening and closing every serving function starts and ends with,
 *	  and the argument checks, id lists and result rows they share
 *	  (recommend.c, similar.c, explain.c, evaluate.c, explore_serve.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_SERVE_H
#define RECO_SERVE_H

#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"

#include "parallel.h"
#include "store.h"
#include "topk.h"

/*
 * One serving call, from its opening to its closing.  RecoServeBegin sets up
 * the materialized result, connects SPI and looks up the served version;
 * RecoServeFactors and RecoServeUsers load what the call scores with;
 * RecoServeEnd disconnects SPI.  What is loaded lives in the call's memory
 * context (or in the pinned cache), so it stays usable after RecoServeEnd.
 */
typedef struct RecoServeContext
{
	ReturnSetInfo *rsinfo;		/* the materialized result, or NULL */
	MemoryContext call_cxt;		/* the call's memory: everything loaded */
	RecoModelInfo model;		/* the served (newest) version */
	RecoFactorSet *factors;		/* the side loaded by RecoServeFactors, or NULL */
	RecoUserSet users;			/* the users loaded by RecoServeUsers (n = 0: none) */
	bool		connected;		/* SPI connected: between Begin and End */
} RecoServeContext;

/*
 * A list of ids taken from a bigint[] or text[] argument or a stored row.
 * A text[] argument's elements wait in `texts` until RecoResolveIdList
 * reads them as the model's ids (ids and n hold only the resolved ones).
 */
typedef struct RecoIdList
{
	int64	   *ids;
	int64		n;
	char	  **texts;			/* a text[] argument's non-NULL elements, or NULL */
	int64		n_texts;
} RecoIdList;

/*
 * How a result column writes the ids of one side: row i is ids[rows[i]]
 * (rows NULL: ids[i]); a bigint column gets the id (or code), a text column
 * the key on a text or uuid side, a bigint id's decimal text on a bigint side.
 */
typedef struct RecoIdColumn
{
	const int64 *ids;
	const RecoKeys *keys;		/* NULL on a bigint side */
	const int32 *rows;
} RecoIdColumn;

/* One entry of a fold-in row: a dense item index and its weight. */
typedef struct RecoWeightedIndex
{
	int32		index;
	float		weight;
} RecoWeightedIndex;

extern void RecoServeBegin(RecoServeContext *ctx, FunctionCallInfo fcinfo, const char *model,
						   bool materialize);
extern RecoFactorSet *RecoServeFactors(RecoServeContext *ctx, RecoSide side);
extern bool RecoServeUsers(RecoServeContext *ctx, const int64 *user_ids, int64 n, bool with_weights);
extern bool RecoServeUserArg(RecoServeContext *ctx, FunctionCallInfo fcinfo, int arg, bool with_weights);
extern bool RecoServeUserList(RecoServeContext *ctx, RecoIdList *list, bool with_weights);
extern void RecoServePopular(RecoServeContext *ctx, int n, const RecoIdList *candidates,
							 const RecoIdList *exclude);
extern void RecoServeEnd(RecoServeContext *ctx);
extern bool RecoArgIncludeNew(FunctionCallInfo fcinfo, int arg);
extern void RecoExcludePlaced(const RecoFactorSet *items, RecoIdList *exclude, MemoryContext cxt);
extern RecoAlsRowParams RecoModelRowParams(const RecoModelInfo *model, int64 n_fixed);
extern void RecoRequireImplicitModel(const RecoModelInfo *model, const char *what);
extern bool RecoArgFallback(FunctionCallInfo fcinfo, int arg, bool if_absent);
extern float RecoArgDiversity(FunctionCallInfo fcinfo, int arg, int64 rows);
extern float RecoArgSigma(FunctionCallInfo fcinfo, int arg);
extern float RecoArgEpsilon(FunctionCallInfo fcinfo, int arg);
extern uint64 RecoUserStream(const RecoUserSet *users, int64 user, const char *text);
extern int64 RecoUserRow(const RecoFactorSet *items, const RecoUserSet *users, int64 user,
						 int64 model_id, int32 *rows, float *weights);
extern void RecoReportExploreStatus(RecoStatus status, const RecoUserSet *users, int64 user);

extern void RecoRequireArg(FunctionCallInfo fcinfo, int arg, const char *name);
extern char *RecoArgModel(FunctionCallInfo fcinfo);
extern int	RecoArgN(FunctionCallInfo fcinfo, int arg);
extern void RecoArgIdList(FunctionCallInfo fcinfo, int arg, RecoIdList *list);
extern void RecoRequireFlatArray(ArrayType *array);
extern int64 RecoSortUnique(int64 *ids, int64 n);
extern int	RecoCompareInt64(const void *a, const void *b);
extern int	RecoCompareWeightedIndex(const void *a, const void *b);
extern Oid	RecoArgType(FunctionCallInfo fcinfo, int arg);
extern void RecoDeconstructIds(ArrayType *array, Datum **elems, bool **nulls, int *count);
extern int64 RecoFindIdText(const RecoFactorSet *set, const char *text);
extern int64 RecoFindIdDatum(const RecoFactorSet *set, Datum value, Oid type);
extern void RecoResolveIdList(const RecoFactorSet *set, RecoIdList *list);
extern void RecoExcludeIds(const RecoFactorSet *set, const RecoIdList *ids, float *scores);
extern RecoIdColumn RecoSetColumn(const RecoFactorSet *set);
extern Datum RecoIdColumnDatum(const RecoIdColumn *column, int64 i, Oid type);
extern void RecoEmitScored(ReturnSetInfo *rsinfo, const RecoIdColumn *ids, const RecoScored *top, int found);
extern void RecoEmitTop(ReturnSetInfo *rsinfo, const RecoIdColumn *ids, const float *scores, int64 count,
						int n);

#endif							/* RECO_SERVE_H */
