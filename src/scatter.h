/*-------------------------------------------------------------------------
 *
 * scatter.h
 *	  The stable counting-sort scatter of the build, on several threads,
 *	  the dense id map of the build's sides, one side per thread, and the
 *	  duplicate merge, on ranges of users.
 *
 * Pure C (libc, the runner): no PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_SCATTER_H
#define RECO_SCATTER_H

#include <stdint.h>

#include "parallel.h"

/*
 * One scatter: entry p (0 .. n - 1, in order) goes to bucket key[p] at
 * cursor[key[p]]++, writing its tag and weight there.  The tag is tag[p],
 * or (tag NULL) the entry's group: g with group_end[g - 1] <= p <
 * group_end[g] (group_end[-1] = 0; n_groups groups covering 0 .. n).
 * cursor holds every bucket's start on entry and its end on return.
 */
typedef struct RecoScatter
{
	int64_t		n;				/* entries */
	const int32_t *key;			/* n: the bucket of each entry */
	const int32_t *tag;			/* n: what entry p writes, or NULL: its group */
	const int64_t *group_end;	/* with tag NULL: n_groups ends of the groups */
	int64_t		n_groups;
	const float *weight;		/* n */
	int64_t    *cursor;			/* n_buckets starts (advanced to the ends) */
	int64_t		n_buckets;
	int32_t    *out_tag;		/* n */
	float	   *out_weight;		/* n */
} RecoScatter;

/*
 * Runs the scatter on up to `threads` threads (each owns a range of buckets
 * holding about the same number of entries, reads every entry and writes
 * its own): the same output as the one-thread loop, bit for bit.  Polls
 * hooks every RECO_BUILD_POLL_ROWS entries; RECO_STATUS_STOPPED if they say
 * stop (the output is then partial).
 */
extern RecoStatus RecoScatterRun(const RecoScatter *s, int threads, const RecoHooks *hooks);

/*
 * One side's id map through one slot per possible id (ids within
 * [lo, lo + span)): the range pass sets min and max of the ids (n > 0);
 * pass 1 marks the ids present and numbers them in id order (distinct:
 * how many); pass 2 writes the distinct ids ascending to sorted (distinct
 * int64s, allocated between the passes) and each row's dense index
 * (0-based) to index.  index may be ids itself (the int32s then fill the
 * int64 array's first half): row r's index is written only after ids[r]
 * was read for the last time, and 4r <= 8r.
 */
typedef struct RecoIdMap
{
	const int64_t *ids;			/* n raw ids */
	int32_t    *index;			/* n dense indices (pass 2) */
	int64_t		n;
	int64_t		lo;
	int64_t		span;
	int32_t    *slot;			/* span int32s, zeroed before pass 1 */
	int64_t		distinct;		/* set by pass 1 */
	int64_t    *sorted;			/* distinct int64s (pass 2) */
	int64_t		min;			/* set by the range pass */
	int64_t		max;
} RecoIdMap;

/* The passes of RecoIdMapRun, in the order the build runs them. */
typedef enum RecoIdMapPass
{
	RECO_ID_MAP_RANGE,			/* min and max of the ids */
	RECO_ID_MAP_MARK,			/* pass 1: slots marked and numbered */
	RECO_ID_MAP_WRITE			/* pass 2: sorted ids and indices */
} RecoIdMapPass;

/*
 * Runs one pass of n_maps id maps, one map per thread on up to `threads`
 * threads: the same output as one thread.  Polls hooks every
 * RECO_BUILD_POLL_ROWS rows; RECO_STATUS_STOPPED if they say stop (the
 * output is then partial).
 */
extern RecoStatus RecoIdMapRun(RecoIdMap *maps, int n_maps, RecoIdMapPass pass, int threads, const RecoHooks *hooks);

/*
 * The duplicate merge of the build, on user-major pairs (each user's items
 * ascending, duplicates adjacent in input order): every run of one item's
 * duplicates becomes one pair whose weight is their sum, added in order
 * (ratings: then divided by their count, their mean); without ratings a
 * pair whose merged weight is 0 is dropped.  indptr, items and weights are
 * compacted in place.  item_counts (parts * n_items int64s, zeroed;
 * RecoMergeParts), if not NULL, returns in its first n_items how many kept
 * pairs each item has.  Sets nnz (kept pairs), merged (pairs after the merge, before
 * the drop) and users_positive (users with a kept pair above 0; ratings:
 * with a pair).
 */
typedef struct RecoMerge
{
	int64_t		n_users;
	int64_t    *indptr;			/* n_users + 1 */
	int32_t    *items;
	float	   *weights;
	int64_t		n_items;
	int			ratings;		/* nonzero: average duplicates, keep pairs of weight 0 */
	int64_t    *item_counts;	/* parts * n_items, zeroed; or NULL */
	int64_t		nnz;			/* set by the run */
	int64_t		merged;
	int64_t		users_positive;
} RecoMerge;

/* How many parts (threads) RecoMergeRun splits n_pairs pairs into for `threads` threads. */
extern int	RecoMergeParts(int64_t n_pairs, int threads);

/*
 * Runs the merge on RecoMergeParts(indptr[n_users], threads) threads, each
 * on a range of users holding about the same number of pairs, then closes
 * the gaps between the ranges: the same output as one thread, bit for bit.
 * Polls hooks every RECO_BUILD_POLL_ROWS pairs; RECO_STATUS_STOPPED if
 * they say stop (the arrays are then partial).
 */
extern RecoStatus RecoMergeRun(RecoMerge *m, int threads, const RecoHooks *hooks);

#endif							/* RECO_SCATTER_H */
