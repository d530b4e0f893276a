/*-------------------------------------------------------------------------
 *
 * scatter.h
 *	  The stable counting-sort scatter of the build, on several threads.
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

#endif							/* RECO_SCATTER_H */
