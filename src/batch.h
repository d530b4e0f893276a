/*-------------------------------------------------------------------------
 *
 * batch.h
 *	  Batch top-n scoring of many users at once (recommend_all).
 *
 * Pure C (libc, pthreads), like als.h: no PostgreSQL headers, so worker
 * threads can run it and it can be tested alone.  It runs on the thread
 * runner of parallel.h (included through als.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_BATCH_H
#define RECO_BATCH_H

#include <stdint.h>

#include "als.h"
#include "diversity.h"
#include "topk.h"

/* What to score: every user against every item, minus per-user exclusions. */
typedef struct RecoBatchInput
{
	const float *items;			/* n_items x k, row-major */
	const int64_t *item_ids;	/* n_items, ascending */
	const float *item_norms;	/* n_items Euclidean norms */
	const int32_t *norm_order;	/* item rows by descending norm */
	const int32_t *norm_rank;	/* inverse of norm_order */
	const float *norm_head;		/* rows norm_order[0 .. n_head) contiguous, or NULL */
	int64_t		n_head;
	int64_t		n_items;
	int			k;
	const float *users;			/* n_users x k */
	int64_t		n_users;
	const int64_t *excl_ptr;	/* n_users + 1 offsets into excl_ids, or NULL */
	const int64_t *excl_ids;	/* item ids to leave out (unknown ids ignored) */
	int			n;				/* best entries per user, >= 1 */
	float		diversity;		/* > 0: MMR re-ranks each user's n best (diversity.h) */
	int			pick;			/* ... down to this many rows (1 .. n; with diversity > 0) */
	int			threads;		/* total threads including the caller */
	const float *mask;			/* n_items: -INFINITY leaves an item out for every user; NULL: none */
} RecoBatchInput;

/*
 * Fills out[u * n .. u * n + found[u]) with user u's best items (indices
 * into the item arrays), best first, ties by lower index.  Items are scored
 * in descending norm order and a user stops once its n-th best score beats
 * |user| x |next item| (Cauchy-Schwarz, with a margin for rounding): an
 * exact answer that usually scores a fraction of the catalogue.  With
 * diversity > 0, each user's n best (the MMR candidates) are then re-ranked
 * by RecoMmrRerank down to found[u] <= pick entries, in pick order, still
 * at out[u * n]: the same picks for any thread count.
 */
extern RecoStatus RecoBatchTopN(const RecoBatchInput *in,
								   const RecoHooks *hooks,
								   RecoScored *out, int *found);

#endif							/* RECO_BATCH_H */
