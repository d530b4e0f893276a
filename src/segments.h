/*-------------------------------------------------------------------------
 *
 * segments.h
 *	  Customer segments: seeded cosine k-means (k-means++ then Lloyd) of the
 *	  user factors, threaded and independent of the thread count.
 *
 * Pure C (libc, pthreads): no PostgreSQL headers, so it runs on the thread
 * runner of parallel.h and is tested alone (test/unit/test_segments.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_SEGMENTS_H
#define RECO_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "parallel.h"

/* What to cluster: n points of k floats (the raw user factors, any norm). */
typedef struct RecoSegmentInput
{
	const float *points;		/* n x k, row-major */
	int64_t		n;
	int			k;
	int			clusters;		/* 1 .. min(n, RECO_MAX_SEGMENTS) */
	uint64_t	seed;			/* the k-means++ draws (rng.h) */
	int			max_iterations; /* Lloyd iterations at most, >= 1 */
	int			threads;		/* total threads including the caller */
	double		moved_fraction; /* stop when at most this fraction of the points moved ... */
	double		tolerance;		/* ... and the mean squared centroid movement is at most this ... */
	double		min_gain;		/* ... and the objective fell by at most this fraction (0, 0, 0: no point moved) */
} RecoSegmentInput;

/*
 * The clustering, in the caller's arrays.  Clusters are numbered 0 ..
 * clusters - 1 by size descending, then by their lowest member index; no
 * cluster is empty.
 */
typedef struct RecoSegmentOutput
{
	int32_t    *assign;			/* n: each point's cluster */
	float	   *distance;		/* n: cosine distance (1 - cos) to its centroid, in [0, 2] */
	float	   *centroids;		/* clusters x k: unit-norm centroids (cosine) */
	float	   *means;			/* clusters x k: mean of the members' raw points */
	int64_t    *sizes;			/* clusters: members of each */
	int			iterations;		/* Lloyd iterations run */
	bool		converged;		/* stopped by the rule (moved_fraction, tolerance), not the cap */
	int64_t		directions;		/* > 0: seeding found only this many distinct directions
								 * (fewer than clusters; RECO_STATUS_INVALID_ARGUMENT) */
} RecoSegmentOutput;

/*
 * Clusters the points (see segments.c): RECO_STATUS_OK, or
 * RECO_STATUS_INVALID_ARGUMENT, RECO_STATUS_NO_MEMORY, RECO_STATUS_STOPPED,
 * RECO_STATUS_THREAD_ERROR.  The same input gives the same output bit for
 * bit whatever in->threads is.
 */
extern RecoStatus RecoSegmentPoints(const RecoSegmentInput *in, const RecoHooks *hooks,
									RecoSegmentOutput *out);

#endif							/* RECO_SEGMENTS_H */
