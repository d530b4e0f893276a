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

/* Bytes a raw row holds (user and item ids, weight), and an event time more. */
#define RECO_ROW_BYTES (2 * sizeof(int64) + sizeof(float))
#define RECO_ROW_TIME_BYTES sizeof(int64)

/* Rows as the aggregate received them (growing arrays, no per-row palloc). */
typedef struct RecoRows
{
	int64		count;			/* rows held */
	int64		capacity;
	int64	   *users;
	int64	   *items;
	float	   *weights;
	bool		timed;			/* set before the first row: rows carry event times */
	bool		ratings;		/* set before the first row: explicit ratings (algorithm als) */
	bool		reserved;		/* the arrays were reserved up front (RecoRowsReserve): huge pages */
	int64	   *times;			/* timed rows: event time (TimestampTz) per row */
	struct RecoPrefaultGuard *prefault; /* NULL, or the thread mapping the arrays' next pages (hugepage.c) */
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
	bool		ratings;		/* explicit ratings: duplicates averaged, every pair kept, every user "positive" */
	int64	   *user_ids;		/* dense user index -> id, ascending */
	int64	   *item_ids;		/* dense item index -> id, ascending */
	int64	   *user_indptr;	/* CSR: n_users + 1 */
	int32	   *user_items;		/* CSR: item index per pair, ascending per user */
	float	   *user_weights;	/* CSR: summed weight per pair */
	int64	   *item_indptr;	/* CSC: n_items + 1 */
	int32	   *item_users;		/* CSC: user index per pair, ascending per item */
	float	   *item_weights;	/* CSC: summed weight per pair */
	char	  **user_keys;		/* text/uuid users: code - 1 -> key; NULL for bigint ids */
	char	  **item_keys;		/* text/uuid items: code - 1 -> key; NULL for bigint ids */
	Size		build_bytes;	/* the id maps' peak, raw rows included (known when check_sizes runs) */
} RecoInteractions;

/*
 * The distinct keys of one side of a training with text or uuid ids, interned
 * as rows arrive: a row holds its key's provisional id (first-seen order,
 * from 0) until RecoKeyTableAssignCodes turns provisional ids into codes.
 */
typedef struct RecoKeyTable
{
	struct recokey_hash *table; /* key -> provisional id; NULL once coded */
	MemoryContext cxt;			/* owns the table, the key bytes and the arrays */
	char	  **keys;			/* provisional id -> key; after coding, code - 1 -> key */
	int64		n;				/* distinct keys */
	int64		capacity;		/* of keys */
	char	   *block;			/* the current block of key bytes */
	Size		block_free;		/* bytes left in it */
	Size		bytes;			/* key bytes and blocks allocated, for the memory estimate */
} RecoKeyTable;

/* Whether dense user u has a positive pair (is stored and served); with ratings, any rating. */
static inline bool
RecoUserHasPositive(const RecoInteractions *data, int64 u)
{
	int64		p;

	if (data->ratings)
		return data->user_indptr[u + 1] > data->user_indptr[u];
	for (p = data->user_indptr[u]; p < data->user_indptr[u + 1]; p++)
		if (data->user_weights[p] > 0)
			return true;
	return false;
}

extern void *RecoAllocArray(int64 n, Size size);
extern RecoKeyTable *RecoKeyTableCreate(MemoryContext cxt);
extern int64 RecoKeyTableIntern(RecoKeyTable *keys, const char *key, int len);
extern Size RecoKeyTableBytes(const RecoKeyTable *keys);
extern void RecoKeyTableAssignCodes(RecoKeyTable *keys, int64 *ids, int64 n);
extern void RecoRowsGrow(RecoRows *rows);
extern void RecoRowsReserve(RecoRows *rows, int64 rows_expected);
extern void RecoRowsStartPrefault(RecoRows *rows, MemoryContext cxt);
extern void RecoRowsAdvancePrefault(RecoRows *rows);
extern void RecoRowsPrefaultTouch(RecoRows *rows, const void *base, size_t bytes);
extern void RecoRowsStopPrefault(RecoRows *rows);
extern void RecoRowsFreeTimes(RecoRows *rows);
extern void RecoRowsFree(RecoRows *rows);

/*
 * Appends one row (its event time kept only if the rows are timed), the
 * arrays doubled when full; inline: the aggregate calls it once a row.
 */
static inline void
RecoRowsAppend(RecoRows *rows, int64 user, int64 item, float weight, int64 time)
{
	if (rows->count == rows->capacity)
		RecoRowsGrow(rows);
	rows->users[rows->count] = user;
	rows->items[rows->count] = item;
	rows->weights[rows->count] = weight;
	if (rows->timed)
		rows->times[rows->count] = time;
	rows->count++;
}
extern Size RecoInteractionsBytes(const RecoInteractions *sizes, int64 rows, int threads, Size *held);
extern void RecoBuildInteractions(RecoRows *rows, RecoInteractions *out, int threads,
								  void (*check_sizes) (const RecoInteractions *sizes, void *arg),
								  void *arg);
extern void RecoBuildItemMajor(RecoInteractions *out, int64 *indptr);
extern RecoSparse RecoUserMatrix(const RecoInteractions *data);
extern RecoSparse RecoItemMatrix(const RecoInteractions *data);

#endif							/* RECO_INTERACTIONS_H */
