/*-------------------------------------------------------------------------
 *
 * store.h
 *	  Reading and writing the model tables (reco.models, reco.user_factors,
 *	  reco.item_factors) through SPI.  Callers must be SPI-connected.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_STORE_H
#define RECO_STORE_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "utils/relcache.h"

#include "ids.h"
#include "interactions.h"

/* The served (newest committed) version of a model. */
typedef struct RecoModelInfo
{
	char		name[NAMEDATALEN];	/* the model's name (at most RECO_MAX_MODEL_NAME bytes) */
	int64		model_id;
	int32		version;
	RecoAlgorithm algorithm;	/* reco.models.algorithm */
	int			factors;
	int64		n_users;
	int64		n_items;
	float		alpha;
	float		regularization;
	float		reg_exponent;	/* params reg_exponent (ν); absent: 0 */
	float		unobserved_weight;	/* params unobserved_weight (α0); absent: 1 */
	RecoIdType	user_id_type;	/* params user_id_type; absent: bigint */
	RecoIdType	item_id_type;	/* params item_id_type; absent: bigint */
	int64		user_generation;	/* stats user_generation: changed by every refresh_users */
	int64		item_generation;	/* stats item_generation: changed by every refresh_items */
	bool		fold_in;		/* false: imported without its regularization and alpha (import.c) */
} RecoModelInfo;

/*
 * The keys of a text or uuid side, by row: key i is data + offsets[i], a
 * NUL-terminated string; rows are in code order.  A trained model's codes
 * are its keys' ranks, but a key refreshed in later (refresh_users,
 * refresh_items) gets the next code whatever its place, so code order is key
 * order only until then: `order` then lists the rows in key order (NULL while
 * code order is key order), and RecoFindKey searches through it.  On a bigint
 * side data, offsets and order are NULL.
 */
typedef struct RecoKeys
{
	char	   *data;
	int64	   *offsets;		/* n offsets into data */
	int64	   *order;			/* n rows in key order, or NULL if that is code order */
	Size		bytes;			/* data's used length */
} RecoKeys;

/* The two sides of a model. */
typedef enum RecoSide
{
	RECO_SIDE_ITEMS = 0,
	RECO_SIDE_USERS = 1
} RecoSide;

/* One side's factors of a model, contiguous, ordered by id. */
typedef struct RecoFactorSet
{
	int64		n;
	int			k;
	int64	   *ids;			/* ascending */
	RecoIdType	id_type;		/* the side's id type: ids are codes unless bigint */
	RecoKeys	keys;			/* the keys of a text or uuid side */
	float	   *factors;		/* n x k, row-major */
	float	   *norms;			/* n Euclidean norms; NULL until computed */
	int32	   *norm_order;		/* rows by descending norm; NULL until computed */
	int32	   *norm_rank;		/* inverse of norm_order */
	float	   *norm_head;		/* rows norm_order[0 .. n_head) contiguous (shared copies); NULL: none */
	int64	   *norm_head_ids;	/* their ids, in that order (with norm_head) */
	int64		n_head;
	float	   *gram;			/* k x k FᵀF; NULL until computed */
	int64	   *popularity;		/* items: n training users with a positive weight; users: NULL */
	int32	   *popularity_order;	/* items by descending popularity, then id; NULL until computed */
	bool	   *placed;			/* items: true = placed from features; NULL when none is */
	MemoryContext cxt;			/* owns the arrays above */
} RecoFactorSet;

/* Factors and training interactions of a set of users, ordered by user id. */
typedef struct RecoUserSet
{
	int64		n;
	int			k;
	int64	   *ids;			/* ascending */
	RecoKeys	keys;			/* the keys of a text or uuid user side */
	float	   *factors;		/* n x k */
	int64	   *seen_ptr;		/* n + 1 offsets into seen_items */
	int64	   *seen_items;		/* item ids, ascending per user: all training
								 * items with weights, else only the positive */
	float	   *seen_weights;	/* their summed weights, or NULL if not loaded */
} RecoUserSet;

/* What a new version's models row records. */
typedef struct RecoVersionRow
{
	int64		model_id;
	const char *name;
	int32		version;
	const char *algorithm;		/* reco.models.algorithm: "ials", "als", "bpr" */
	const char *params_json;
	int64		n_users;
	int64		n_items;
	int64		n_interactions;
	int			factors;
	const double *loss;
	int			iterations;
	double		train_seconds;
	const char *stats_json;
} RecoVersionRow;

extern void RecoSpiConnect(void);
extern void RecoSpiFinish(void);
extern void RecoCheckPrivilege(const char *relname, AclMode mode);
extern void RecoCheckTrainPrivileges(bool with_features);
extern void RecoLockModelName(const char *name);
extern Relation RecoOpenDirectRelation(Oid relid);
extern void RecoBeginInPlace(const char *function, const char *table, AclMode mode, const char *name,
							 RecoModelInfo *model);
extern int	RecoExecuteArgs(const char *sql, int nargs, Oid *types, Datum *values, bool read_only);
extern int32 RecoNextVersion(const char *name);
extern int64 RecoNewModelId(void);
extern void RecoStoreItemFactors(int64 model_id, const RecoInteractions *data, const float *factors, int k);
extern void RecoStoreUserFactors(int64 model_id, const RecoInteractions *data, const float *factors, int k);
extern void RecoStoreEveryUserFactors(int64 model_id, const RecoInteractions *data, const float *factors, int k);
/* The factor rows of a training, stored as its final pass solves them (store.c). */
typedef struct RecoFactorStore RecoFactorStore;

extern RecoFactorStore *RecoFactorStoreBegin(int64 model_id, const RecoInteractions *data, const float *X,
											 const float *Y, int k);
extern bool RecoFactorStoreStep(RecoFactorStore *store, int64 users_ready, int64 max_rows);
extern void RecoFactorStoreFinish(RecoFactorStore *store);
extern void RecoInsertVersion(const RecoVersionRow *row);
extern int64 RecoPruneVersions(const char *name, int32 newest, int keep);
extern Datum RecoFetchVersionRow(int64 model_id);

extern void RecoLookupModel(const char *name, RecoModelInfo *info);
extern char *RecoDefaultModelName(void);
extern void RecoLoadFactors(const RecoModelInfo *model, RecoSide side, RecoFactorSet *set,
							MemoryContext mcxt);
extern void RecoLoadUsers(const RecoModelInfo *model, const int64 *user_ids, int64 n,
						  bool with_weights, RecoUserSet *users, MemoryContext mcxt);
extern void RecoLoadUsersByKey(const RecoModelInfo *model, const char *const *keys, int64 n,
							   bool with_weights, RecoUserSet *users, MemoryContext mcxt);
extern const char *RecoKeyAt(const RecoKeys *keys, int64 row);
extern int64 RecoFindKey(const RecoKeys *keys, int64 n, const char *key);

#endif							/* RECO_STORE_H */
