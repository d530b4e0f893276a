/*-------------------------------------------------------------------------
 *
 * scatter.h
 *	  The stable counting-sort scatter of the build, on several threads,
 *	  and the dense id map of the build's sides, one side per thread.
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
 * [lo, lo + span)): pass 1 marks the ids present and numbers them in id
 * order (distinct: how many); pass 2 writes the distinct ids ascending to
 * sorted (distinct int64s, allocated between the passes) and each row's
 * dense index (0-based) to index.  index may be ids itself (the int32s
 * then fill the int64 array's first half): row r's index is written only
 * after ids[r] was read for the last time, and 4r <= 8r.
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
} RecoIdMap;

/*
 * Runs pass 1 (second_pass false) or pass 2 of n_maps id maps, one map per
 * thread on up to `threads` threads: the same output as one thread.  Polls
 * hooks every RECO_BUILD_POLL_ROWS rows; RECO_STATUS_STOPPED if they say
 * stop (the output is then partial).
 */
extern RecoStatus RecoIdMapRun(RecoIdMap *maps, int n_maps, bool second_pass, int threads, const RecoHooks *hooks);

#endif							/* RECO_SCATTER_H */
