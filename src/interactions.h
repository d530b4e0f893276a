/*-------------------------------------------------------------------------
 *
 * interactions.h
 *	  The training input: rows appended by the reco.fit aggregate, then
 *	  turned into dense id maps and compressed sparse rows/columns.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_INTERACTIONS_H
#define RECO_INTERACTIONS_H

#include "postgres.h"

#include "als.h"

/* Rows as the aggregate received them (growing arrays, no per-row palloc). */
typedef struct RecoRows
{
	int64		count;			/* rows held */
	int64		capacity;
	int64	   *users;
	int64	   *items;
	float	   *weights;
} RecoRows;

/* The sparse matrix of a training run, in both orientations. */
typedef struct RecoInteractions
{
	int64		n_users;
	int64		n_items;
	int64		nnz;			/* distinct (user, item) pairs */
	int64		duplicates_merged;
	int64		pairs_net_zero;	/* pairs dropped: their weights summed to 0 */
	int64		users_without_positive; /* input users with no positive pair: not stored */
	int64		users_positive;	/* users with a positive pair: stored and served */
	int64	   *user_ids;		/* dense user index -> id, ascending */
	int64	   *item_ids;		/* dense item index -> id, ascending */
	int64	   *user_indptr;	/* CSR: n_users + 1 */
	int32	   *user_items;		/* CSR: item index per pair, ascending per user */
	float	   *user_weights;	/* CSR: summed weight per pair */
	int64	   *item_indptr;	/* CSC: n_items + 1 */
	int32	   *item_users;		/* CSC: user index per pair, ascending per item */
	float	   *item_weights;	/* CSC: summed weight per pair */
} RecoInteractions;

/* Whether dense user u has a positive pair (is stored and served). */
static inline bool
RecoUserHasPositive(const RecoInteractions *data, int64 u)
{
	int64		p;

	for (p = data->user_indptr[u]; p < data->user_indptr[u + 1]; p++)
		if (data->user_weights[p] > 0)
			return true;
	return false;
}

extern void RecoRowsAppend(RecoRows *rows, int64 user, int64 item, float weight);
extern void RecoRowsFree(RecoRows *rows);
extern Size RecoInteractionsBytes(int64 n_users, int64 n_items, int64 rows);
extern void RecoBuildInteractions(RecoRows *rows, RecoInteractions *out,
								  void (*check_sizes) (const RecoInteractions *sizes, void *arg),
								  void *arg);
extern RecoSparse RecoUserMatrix(const RecoInteractions *data);
extern RecoSparse RecoItemMatrix(const RecoInteractions *data);

#endif							/* RECO_INTERACTIONS_H */
