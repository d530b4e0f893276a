/*-------------------------------------------------------------------------
 *
 * segments.c
 *	  Customer segments: seeded cosine k-means (k-means++ then Lloyd) of the
 *	  user factors on the thread runner.
 *
 * Cosine k-means.  Every point x is read as its direction x / |x| (the
 * normalized factors: raw k-means on ALS factors mostly separates heavy
 * from light users, since a user's norm grows with activity), and a
 * centroid is the normalized sum of its members' directions (spherical
 * k-means, Dhillon & Modha 2001): for unit vectors the squared Euclidean
 * distance is 2 - 2 cos, so nearest centroid = largest cosine.  A point's
 * distance is reported as 1 - cos, in [0, 2].
 *
 * Zero-norm points (a user whose factors are all zero has no direction):
 * their cosine with every centroid counts as 0, so they join the first
 * cluster of the internal order (ties go to the lower index), at distance
 * 1; they add nothing to a centroid, are never drawn as a seed while any
 * other point can be, and are moved into an empty cluster only when no
 * other point can be.
 *
 * Seeding is k-means++ (Arthur & Vassilvitskii 2007): the first centre is a
 * uniform draw among the non-zero points, each next one a draw with
 * probability proportional to D(x)^2 = min over chosen centres of
 * (2 - 2 cos), all draws from one rng.h stream of the seed.  When every D^2
 * is 0 (fewer distinct directions than clusters) the lowest-index point not
 * yet chosen is taken.
 *
 * Lloyd iterations then alternate: assign every point to its nearest
 * centroid (ties to the lower index); fill each empty cluster with the
 * farthest point (largest distance to its own centroid, ties to the lower
 * index) of a cluster that keeps at least one member, which deterministically
 * re-seeds it where the clustering fits worst; recompute the centroids.  It
 * stops after an iteration that re-seeded nothing and either changed no
 * assignment or moved at most moved_fraction of the points and the
 * centroids by at most tolerance (mean over clusters of |new - old|^2, unit
 * centroids), or after max_iterations; converged says the rule stopped it.
 * Lloyd on ALS factors converges slowly: on the 10M synthetic set's model
 * (199,803 users, 64 factors, k 64) a few hundred users still move after
 * 100 iterations while the objective (sum of 1 - cos) gains ~0.01 % per
 * iteration, so "no change" would run the cap; with moved_fraction 0.5 %
 * and tolerance 1e-4 (reco_limits.h) it stops near 50 iterations within
 * 0.1 % of the 100-iteration objective (the scikit-learn-style rule on the
 * centroid shift alone needs a scale; the moved fraction has none, and the
 * shift keeps a run whose few movers still drag a centroid going).  Since
 * clusters <= n, no cluster is ever left empty.  A last pass computes each cluster's mean raw point (the segment's
 * average user, for scoring items) and each point's distance.
 *
 * Determinism and threads.  Every sum that decides anything has a fixed
 * order whatever the thread count: the D^2 total of seeding is summed per
 * block of RECO_SEGMENT_BLOCK points in index order (one runner task per
 * block; block boundaries depend on n only), in double, and the block sums
 * are merged in block order on the calling thread; a centroid is summed by
 * one task (a range of clusters, whose size may follow the thread count)
 * over its members in index order, in double, and so is its squared
 * movement, merged in cluster order (the
 * stopping rule reads that and the change count, an integer).  Assignment
 * scores a tile of points against all centroids with one sgemm, and a
 * score does not depend on the tile.  So the output is bit for bit the
 * same for 1 or 256 threads.  Pure C: no PostgreSQL headers or calls.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "kernels.h"
#include "rng.h"
#include "segments.h"

/* Points per runner task (seeding and assignment); fixes the summation blocks. */
#define RECO_SEGMENT_BLOCK 1024
/* Score cells (rows x clusters) of one assignment gemm, at most (a thread's scratch). */
#ifndef RECO_SEGMENT_TILE
#define RECO_SEGMENT_TILE 65536
#endif
/* Independent maxima of the arg-max scan (one AVX register of floats). */
#define RECO_SEGMENT_LANES 8
/* Double sums of one update task at most (its range of clusters x 2 k). */
#define RECO_SEGMENT_SUMS 131072
/* The rng.h stream of the seed that k-means++ draws from. */
#define RECO_SEGMENT_RNG_STREAM UINT64_C(0x5345474D454E5453)	/* "SEGMENTS" */
/* Sort key of a zero-norm point when an empty cluster takes the farthest point. */
#define RECO_SEGMENT_ZERO_KEY (-2.0f)

/* The phases a job's tasks run. */
typedef enum RecoSegmentPhase
{
	RECO_SEGMENT_SEED,			/* tasks = blocks: D^2 against the newest centre */
	RECO_SEGMENT_ASSIGN,		/* tasks = blocks: nearest centroid */
	RECO_SEGMENT_UPDATE,		/* tasks = clusters: centroid from the members */
	RECO_SEGMENT_FINAL			/* tasks = clusters: centroid, mean and distances */
} RecoSegmentPhase;

/* What the tasks of a clustering share. */
typedef struct RecoSegmentJob
{
	const RecoSegmentInput *in;
	RecoSegmentPhase phase;
	int64_t		n_blocks;
	float	   *inv_norm;		/* n: 1 / |x|, 0 for a zero-norm point */
	float	   *centroids;		/* clusters x k, internal order */
	float	   *means;			/* clusters x k, internal order */
	int			newest;			/* seeding: the centre just chosen */
	double	   *weight;			/* n: seeding's D^2 */
	const char *chosen;			/* n: 1 for a point already drawn as a centre */
	double	   *block_sum;		/* n_blocks: sum of weight per block */
	int32_t    *assign;			/* n: cluster, internal order (-1 before the first) */
	float	   *cosine;			/* n: cosine with the assigned centroid */
	int			range;			/* clusters per update task */
	int64_t    *block_changes;	/* n_blocks: assignments changed */
	double	   *block_cosine;	/* n_blocks: sum of the cosines with the assigned centroids */
	double	   *shift;			/* clusters: squared movement of the centroid in the update */
	int64_t    *member_ptr;		/* clusters + 1 offsets into members */
	int64_t    *members;		/* n: point indices by cluster, ascending in each */
	float	   *distance;		/* n: the output distances (final phase) */
} RecoSegmentJob;

/* One thread's scratch (its runner state). */
typedef struct RecoSegmentScratch
{
	float	   *scores;			/* max(TILE, BLOCK, clusters): a tile or block of scores */
	double	   *sum;			/* 2 range k: unit and raw sums of a range of clusters */
} RecoSegmentScratch;

/* Runner init_state: one thread's score and sum buffers. */
static RecoStatus
RecoSegmentScratchInit(void *arg, void *state, int thread)
{
	const RecoSegmentInput *in = ((RecoSegmentJob *) arg)->in;
	RecoSegmentScratch *s = (RecoSegmentScratch *) state;
	int			scores = in->clusters > RECO_SEGMENT_TILE ? in->clusters : RECO_SEGMENT_TILE;

	(void) thread;
	if (scores < RECO_SEGMENT_BLOCK)
		scores = RECO_SEGMENT_BLOCK;	/* seeding scores a block */
	s->scores = (float *) malloc(sizeof(float) * scores);
	s->sum = (double *) malloc(sizeof(double) * 2 * ((RecoSegmentJob *) arg)->range * in->k);
	return s->scores != NULL && s->sum != NULL ? RECO_STATUS_OK : RECO_STATUS_NO_MEMORY;
}

/* Runner free_state: frees one thread's buffers. */
static void
RecoSegmentScratchFree(void *arg, void *state, int thread)
{
	RecoSegmentScratch *s = (RecoSegmentScratch *) state;

	(void) arg;
	(void) thread;
	free(s->scores);
	free(s->sum);
}

/* Seeding task: lowers each point's D^2 of block `block` to the newest centre; sums the block. */
static void
RecoSegmentSeedBlock(RecoSegmentJob *job, RecoSegmentScratch *s, int64_t block)
{
	const RecoSegmentInput *in = job->in;
	int64_t		i0 = block * RECO_SEGMENT_BLOCK,
				i1 = i0 + RECO_SEGMENT_BLOCK < in->n ? i0 + RECO_SEGMENT_BLOCK : in->n,
				i;
	double		sum = 0.0;

	RecoAlsScoreRows(in->points + (size_t) i0 * in->k, NULL, i1 - i0, in->k,
					 job->centroids + (size_t) job->newest * in->k, s->scores);
	for (i = i0; i < i1; i++)
	{
		double		d2 = 2.0 - 2.0 * (double) s->scores[i - i0] * job->inv_norm[i];

		if (job->inv_norm[i] == 0.0f || job->chosen[i])
			d2 = 0.0;			/* never drawn (again) while another point can be */
		if (d2 < 0.0)
			d2 = 0.0;
		if (job->newest == 0 || d2 < job->weight[i])
			job->weight[i] = d2;
		sum += job->weight[i];
	}
	job->block_sum[block] = sum;
}

/*
 * Assignment task: each point of block `block` to its nearest centroid (ties
 * to the lower index).  The raw scores x . c of a tile of rows against all
 * centroids are one cblas_sgemm (rows x clusters = points x centroidsᵀ),
 * tiles of RECO_SEGMENT_TILE score cells at most; the arg-max of a row is
 * that of its cosines (the same positive 1/|x| scales the row).  A score
 * depends only on the two vectors (gemm sums over the factors, never splits
 * them), so the tiling changes no result.
 */
static void
RecoSegmentAssignBlock(RecoSegmentJob *job, RecoSegmentScratch *s, int64_t block)
{
	const RecoSegmentInput *in = job->in;
	int64_t		i0 = block * RECO_SEGMENT_BLOCK,
				i1 = i0 + RECO_SEGMENT_BLOCK < in->n ? i0 + RECO_SEGMENT_BLOCK : in->n,
				t0,
				changes = 0;
	int64_t		tile = RECO_SEGMENT_TILE / in->clusters > 0 ? RECO_SEGMENT_TILE / in->clusters : 1;
	double		cosine = 0.0;

	for (t0 = i0; t0 < i1; t0 += tile)
	{
		int64_t		t1 = t0 + tile < i1 ? t0 + tile : i1,
					i;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) (t1 - t0), in->clusters, in->k,
					1.0f, in->points + (size_t) t0 * in->k, in->k, job->centroids, in->k,
					0.0f, s->scores, in->clusters);
		for (i = t0; i < t1; i++)
		{
			const float *row = s->scores + (size_t) (i - t0) * in->clusters;
			int32_t		best = 0;
			int			c;

			if (job->inv_norm[i] != 0.0f)
			{
				float		lane[RECO_SEGMENT_LANES],
							top;
				int			l;

				/* the maximum first (exact in any order: lanes that vectorize), then its lowest index */
				for (l = 0; l < RECO_SEGMENT_LANES; l++)
					lane[l] = row[0];
				for (c = 0; c + RECO_SEGMENT_LANES <= in->clusters; c += RECO_SEGMENT_LANES)
					for (l = 0; l < RECO_SEGMENT_LANES; l++)
						lane[l] = row[c + l] > lane[l] ? row[c + l] : lane[l];
				for (; c < in->clusters; c++)
					lane[0] = row[c] > lane[0] ? row[c] : lane[0];
				top = lane[0];
				for (l = 1; l < RECO_SEGMENT_LANES; l++)
					top = lane[l] > top ? lane[l] : top;
				while (row[best] != top)
					best++;
				job->cosine[i] = top * job->inv_norm[i];
			}
			else
				job->cosine[i] = 0.0f;
			if (job->assign[i] != best)
				changes++;
			job->assign[i] = best;
			cosine += job->cosine[i];
		}
	}
	job->block_changes[block] = changes;
	job->block_cosine[block] = cosine;
}

/*
 * Update task: the centroids of clusters task x range .. + range - 1, each
 * its members' normalized sum (kept if that sum is zero), summed in one
 * sequential pass over the points (a cluster's members in index order, as
 * a pass over its member list would, without gathering scattered rows); the
 * final phase also computes each cluster's mean raw point and each member's
 * distance to the new centroid.
 */
static void
RecoSegmentUpdateRange(RecoSegmentJob *job, RecoSegmentScratch *s, int64_t task)
{
	const RecoSegmentInput *in = job->in;
	int			k = in->k,
				c0 = (int) (task * job->range),
				c1 = c0 + job->range < in->clusters ? c0 + job->range : in->clusters,
				c,
				j;
	bool		final = job->phase == RECO_SEGMENT_FINAL;
	double	   *unit = s->sum,
			   *raw = s->sum + (size_t) job->range * k;
	int64_t		i;

	memset(s->sum, 0, sizeof(double) * 2 * job->range * k);
	for (i = 0; i < in->n; i++)
	{
		const float *x = in->points + (size_t) i * k;
		double		inv = job->inv_norm[i];
		double	   *u,
				   *r;

		c = job->assign[i];
		if (c < c0 || c >= c1)
			continue;
		u = unit + (size_t) (c - c0) * k;
		for (j = 0; j < k; j++)
			u[j] += x[j] * inv;
		if (!final)
			continue;
		r = raw + (size_t) (c - c0) * k;
		for (j = 0; j < k; j++)
			r[j] += x[j];
	}
	for (c = c0; c < c1; c++)
	{
		float	   *centroid = job->centroids + (size_t) c * k;
		const double *u = unit + (size_t) (c - c0) * k;
		int64_t		size = job->member_ptr[c + 1] - job->member_ptr[c];
		double		sq = 0.0,
					shift = 0.0;

		for (j = 0; j < k; j++)
			sq += u[j] * u[j];
		if (sq > 0.0)
			for (j = 0; j < k; j++)
			{
				float		v = (float) (u[j] / sqrt(sq));

				shift += ((double) v - centroid[j]) * ((double) v - centroid[j]);
				centroid[j] = v;
			}
		job->shift[c] = shift;
		if (final)
			for (j = 0; j < k; j++)
				job->means[(size_t) c * k + j] = size > 0 ? (float) (raw[(size_t) (c - c0) * k + j] / (double) size) : 0.0f;
	}
	if (!final)
		return;
	for (i = 0; i < in->n; i++)
	{
		float		dot;
		double		d;

		c = job->assign[i];
		if (c < c0 || c >= c1)
			continue;
		RecoAlsScoreRows(job->centroids + (size_t) c * k, NULL, 1, k, in->points + (size_t) i * k, &dot);
		d = 1.0 - (double) dot * job->inv_norm[i];
		job->distance[i] = (float) (d < 0.0 ? 0.0 : d > 2.0 ? 2.0 : d);
	}
}

/* Runner task: one block or one range of clusters of the job's phase. */
static RecoStatus
RecoSegmentTask(void *arg, void *state, int64_t task, RecoParallelWorker *worker)
{
	RecoSegmentJob *job = (RecoSegmentJob *) arg;

	if (RecoParallelPoll(worker, false))
		return RECO_STATUS_STOPPED;
	switch (job->phase)
	{
		case RECO_SEGMENT_SEED:
			RecoSegmentSeedBlock(job, (RecoSegmentScratch *) state, task);
			break;
		case RECO_SEGMENT_ASSIGN:
			RecoSegmentAssignBlock(job, (RecoSegmentScratch *) state, task);
			break;
		case RECO_SEGMENT_UPDATE:
		case RECO_SEGMENT_FINAL:
			RecoSegmentUpdateRange(job, (RecoSegmentScratch *) state, task);
			break;
	}
	return RECO_STATUS_OK;
}

/* Runs one phase of the job on the runner: blocks or clusters as tasks. */
static RecoStatus
RecoSegmentRunPhase(RecoSegmentJob *job, RecoSegmentPhase phase, const RecoHooks *hooks)
{
	RecoParallelJob pj = {
		.n_tasks = phase == RECO_SEGMENT_SEED || phase == RECO_SEGMENT_ASSIGN ? job->n_blocks :
		(job->in->clusters + job->range - 1) / job->range,
		.threads = job->in->threads,
		.run_task = RecoSegmentTask,
		.state_size = sizeof(RecoSegmentScratch),
		.init_state = RecoSegmentScratchInit,
		.free_state = RecoSegmentScratchFree,
		.arg = job,
		.hooks = hooks
	};

	job->phase = phase;
	return RecoParallelRun(&pj);
}

/* Sets centre c to point i's direction (a zero point gives a zero centre). */
static void
RecoSegmentSetCentre(RecoSegmentJob *job, int c, int64_t i)
{
	int			k = job->in->k,
				j;

	for (j = 0; j < k; j++)
		job->centroids[(size_t) c * k + j] = job->in->points[(size_t) i * k + j] * job->inv_norm[i];
}

/*
 * The point of a D^2 draw: r uniform in [0, total), walked through the block
 * sums in block order, then through the block's weights in index order (the
 * last positive weight if rounding runs past the end).
 */
static int64_t
RecoSegmentDrawPoint(const RecoSegmentJob *job, double r)
{
	int64_t		b,
				i,
				last = -1;
	double		acc = 0.0;

	for (b = 0; b < job->n_blocks - 1 && acc + job->block_sum[b] <= r; b++)
		acc += job->block_sum[b];
	r -= acc;
	acc = 0.0;
	for (i = b * RECO_SEGMENT_BLOCK; i < job->in->n && i < (b + 1) * RECO_SEGMENT_BLOCK; i++)
	{
		if (job->weight[i] <= 0.0)
			continue;
		last = i;
		acc += job->weight[i];
		if (acc > r)
			return i;
	}
	return last;
}

/* k-means++ seeding of every centre (see the file header); chosen[] marks the centres' points. */
static RecoStatus
RecoSegmentSeed(RecoSegmentJob *job, const RecoHooks *hooks, char *chosen, int64_t *directions)
{
	const RecoSegmentInput *in = job->in;
	RecoRng		rng = RecoRngStart(in->seed, RECO_SEGMENT_RNG_STREAM);
	int64_t		nonzero = 0,
				i,
				pick = 0;
	int			c;

	job->chosen = chosen;
	for (i = 0; i < in->n; i++)
		nonzero += job->inv_norm[i] != 0.0f;
	if (nonzero > 0)
	{
		int64_t		target = (int64_t) RecoRngBelow(&rng, (uint64_t) nonzero);

		for (i = 0; i < in->n; i++)
			if (job->inv_norm[i] != 0.0f && target-- == 0)
				break;
		pick = i;
	}
	for (c = 0;; c++)
	{
		double		total = 0.0;
		int64_t		b;
		RecoStatus	status;

		RecoSegmentSetCentre(job, c, pick);
		chosen[pick] = 1;
		if (c == in->clusters - 1)
			return RECO_STATUS_OK;
		job->newest = c;
		status = RecoSegmentRunPhase(job, RECO_SEGMENT_SEED, hooks);
		if (status != RECO_STATUS_OK)
			return status;
		for (b = 0; b < job->n_blocks; b++)
			total += job->block_sum[b];
		if (total <= RECO_SEGMENT_SAME_DIRECTION * (double) (nonzero > 0 ? nonzero : 1))
		{
			/* every user sits on a centre: fewer distinct directions than clusters */
			*directions = c + 1;
			return RECO_STATUS_INVALID_ARGUMENT;
		}
		pick = RecoSegmentDrawPoint(job, RecoRngUniform(&rng) * total);
		if (pick < 0 || chosen[pick])
			for (pick = 0; chosen[pick]; pick++)
				;				/* all D^2 zero: the lowest point not yet a centre */
	}
}

/*
 * Fills each empty cluster with the farthest point of a cluster that keeps
 * a member (ties to the lower index; zero-norm points last); returns
 * whether any point moved.
 */
static bool
RecoSegmentFillEmpty(RecoSegmentJob *job, int64_t *sizes)
{
	const RecoSegmentInput *in = job->in;
	bool		moved = false;
	int			c;

	for (c = 0; c < in->clusters; c++)
	{
		int64_t		i,
					far = -1;
		float		far_key = 0.0f;

		if (sizes[c] > 0)
			continue;
		for (i = 0; i < in->n; i++)
		{
			float		key = job->inv_norm[i] != 0.0f ? 1.0f - job->cosine[i] : RECO_SEGMENT_ZERO_KEY;

			if (sizes[job->assign[i]] > 1 && (far < 0 || key > far_key))
			{
				far = i;
				far_key = key;
			}
		}
		/* clusters <= n: while a cluster is empty another has two members */
		sizes[job->assign[far]]--;
		job->assign[far] = c;
		job->cosine[far] = 1.0f;
		sizes[c] = 1;
		RecoSegmentSetCentre(job, c, far);
		moved = true;
	}
	return moved;
}

/* Counts the members of each cluster. */
static void
RecoSegmentCount(const RecoSegmentJob *job, int64_t *sizes)
{
	int64_t		i;

	memset(sizes, 0, sizeof(int64_t) * job->in->clusters);
	for (i = 0; i < job->in->n; i++)
		sizes[job->assign[i]]++;
}

/* Lists each cluster's members in index order (a counting sort by cluster). */
static void
RecoSegmentMembers(RecoSegmentJob *job, const int64_t *sizes)
{
	int64_t		i;
	int			c;

	job->member_ptr[0] = 0;
	for (c = 0; c < job->in->clusters; c++)
		job->member_ptr[c + 1] = job->member_ptr[c] + sizes[c];
	for (i = job->in->n - 1; i >= 0; i--)
		job->members[--job->member_ptr[job->assign[i] + 1]] = i;
	/* each start was moved down by the cluster's size: back to the starts */
	for (c = 0; c < job->in->clusters; c++)
		job->member_ptr[c + 1] = job->member_ptr[c] + sizes[c];
}

/* A cluster's place in the output order: size descending, then lowest member index. */
typedef struct RecoSegmentRank
{
	int64_t		size;
	int64_t		first;
	int			cluster;
} RecoSegmentRank;

/* qsort comparator of RecoSegmentRank: larger size first, then lower first member. */
static int
RecoCompareSegmentRank(const void *a, const void *b)
{
	const RecoSegmentRank *x = (const RecoSegmentRank *) a,
			   *y = (const RecoSegmentRank *) b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first ? 1 : 0;
}

/* Writes the internal clusters to the output in its order (sizes, centroids, means, assignments). */
static RecoStatus
RecoSegmentRenumber(const RecoSegmentJob *job, const int64_t *sizes, RecoSegmentOutput *out)
{
	const RecoSegmentInput *in = job->in;
	RecoSegmentRank *rank = (RecoSegmentRank *) malloc(sizeof(RecoSegmentRank) * in->clusters);
	int32_t    *to = (int32_t *) malloc(sizeof(int32_t) * in->clusters);
	int64_t		i;
	int			c;

	if (rank == NULL || to == NULL)
	{
		free(rank);
		free(to);
		return RECO_STATUS_NO_MEMORY;
	}
	for (c = 0; c < in->clusters; c++)
	{
		rank[c].size = sizes[c];
		rank[c].first = job->members[job->member_ptr[c]];	/* members ascend: the lowest */
		rank[c].cluster = c;
	}
	qsort(rank, in->clusters, sizeof(RecoSegmentRank), RecoCompareSegmentRank);
	for (c = 0; c < in->clusters; c++)
	{
		int			from = rank[c].cluster;

		to[from] = c;
		out->sizes[c] = rank[c].size;
		memcpy(out->centroids + (size_t) c * in->k, job->centroids + (size_t) from * in->k, sizeof(float) * in->k);
		memcpy(out->means + (size_t) c * in->k, job->means + (size_t) from * in->k, sizeof(float) * in->k);
	}
	for (i = 0; i < in->n; i++)
		out->assign[i] = to[job->assign[i]];
	free(rank);
	free(to);
	return RECO_STATUS_OK;
}

/*
 * Whether Lloyd stops after an iteration that moved `changes` points and
 * the centroids by `shift` (sum over clusters of the squared movement): no
 * re-seeding, and no point moved, or at most moved_fraction of the points
 * moved and the centroids moved by at most tolerance each on average.
 */
static bool
RecoSegmentSettled(const RecoSegmentInput *in, int64_t changes, bool reseeded, double shift,
				   double gain, double cost)
{
	if (reseeded)
		return false;
	if (changes == 0)
		return true;
	return (double) changes <= in->moved_fraction * (double) in->n &&
		shift <= in->tolerance * (double) in->clusters && gain <= in->min_gain * cost;
}

#ifndef RECO_SEGMENT_TRACE
#define RECO_SEGMENT_TRACE(it, changes, cost, shift) ((void) 0)
#endif

/* Cosine k-means of the points (see segments.h and the file header). */
RecoStatus
RecoSegmentPoints(const RecoSegmentInput *in, const RecoHooks *hooks, RecoSegmentOutput *out)
{
	RecoSegmentJob job;
	int64_t    *sizes;
	char	   *chosen;
	RecoStatus	status = RECO_STATUS_OK;
	int64_t		i;
	int			it;
	double		last_cost = 0.0;

	if (in == NULL || out == NULL || in->points == NULL || in->n < 1 || in->k < RECO_MIN_FACTORS ||
		in->k > RECO_MAX_FACTORS || in->clusters < 1 || in->clusters > RECO_MAX_SEGMENTS ||
		in->clusters > in->n || in->max_iterations < 1 || out->assign == NULL ||
		out->distance == NULL || out->centroids == NULL || out->means == NULL || out->sizes == NULL)
		return RECO_STATUS_INVALID_ARGUMENT;
	out->directions = 0;
	memset(&job, 0, sizeof(job));
	job.in = in;
	job.n_blocks = (in->n + RECO_SEGMENT_BLOCK - 1) / RECO_SEGMENT_BLOCK;
	/* as many update tasks as threads, fewer sums than RECO_SEGMENT_SUMS a task */
	job.range = in->threads > 1 ? (in->clusters + in->threads - 1) / in->threads : in->clusters;
	if ((int64_t) job.range * 2 * in->k > RECO_SEGMENT_SUMS)
		job.range = RECO_SEGMENT_SUMS / (2 * in->k) > 0 ? RECO_SEGMENT_SUMS / (2 * in->k) : 1;
	job.distance = out->distance;
	job.assign = out->assign;	/* internal numbers until RecoSegmentRenumber */
	job.inv_norm = (float *) malloc(sizeof(float) * in->n);
	job.centroids = (float *) malloc(sizeof(float) * in->clusters * in->k);
	job.means = (float *) malloc(sizeof(float) * in->clusters * in->k);
	job.weight = (double *) malloc(sizeof(double) * in->n);
	job.block_sum = (double *) malloc(sizeof(double) * job.n_blocks);
	job.cosine = (float *) malloc(sizeof(float) * in->n);
	job.block_changes = (int64_t *) malloc(sizeof(int64_t) * job.n_blocks);
	job.block_cosine = (double *) malloc(sizeof(double) * job.n_blocks);
	job.shift = (double *) malloc(sizeof(double) * in->clusters);
	job.member_ptr = (int64_t *) malloc(sizeof(int64_t) * (in->clusters + 1));
	job.members = (int64_t *) malloc(sizeof(int64_t) * in->n);
	sizes = (int64_t *) malloc(sizeof(int64_t) * in->clusters);
	chosen = (char *) calloc(in->n, 1);
	if (job.inv_norm == NULL || job.centroids == NULL || job.means == NULL || job.weight == NULL ||
		job.block_sum == NULL || job.cosine == NULL || job.block_changes == NULL ||
		job.block_cosine == NULL || job.shift == NULL ||
		job.member_ptr == NULL || job.members == NULL || sizes == NULL || chosen == NULL)
		status = RECO_STATUS_NO_MEMORY;
	for (i = 0; status == RECO_STATUS_OK && i < in->n; i++)
	{
		const float *x = in->points + (size_t) i * in->k;
		double		sq = 0.0;
		int			j;

		for (j = 0; j < in->k; j++)
			sq += (double) x[j] * x[j];
		job.inv_norm[i] = sq > 0.0 ? (float) (1.0 / sqrt(sq)) : 0.0f;
		job.assign[i] = -1;
	}
	if (status == RECO_STATUS_OK)
		status = RecoSegmentSeed(&job, hooks, chosen, &out->directions);
	out->iterations = 0;
	out->converged = false;
	for (it = 1; status == RECO_STATUS_OK && it <= in->max_iterations; it++)
	{
		int64_t		changes = 0,
					b;
		double		shift = 0.0,
					cosine = 0.0,
					cost;
		bool		reseeded;
		int			c;

		status = RecoSegmentRunPhase(&job, RECO_SEGMENT_ASSIGN, hooks);
		if (status != RECO_STATUS_OK)
			break;
		for (b = 0; b < job.n_blocks; b++)
		{
			changes += job.block_changes[b];
			cosine += job.block_cosine[b];
		}
		cost = (double) in->n - cosine;	/* the objective: sum of 1 - cos */
		RecoSegmentCount(&job, sizes);
		reseeded = RecoSegmentFillEmpty(&job, sizes);
		RecoSegmentMembers(&job, sizes);
		status = RecoSegmentRunPhase(&job, RECO_SEGMENT_UPDATE, hooks);
		if (status != RECO_STATUS_OK)
			break;
		for (c = 0; c < in->clusters; c++)
			shift += job.shift[c];
		out->iterations = it;
		RECO_SEGMENT_TRACE(it, changes, cost, shift);
		if (RecoSegmentSettled(in, changes, reseeded, shift, it > 1 ? last_cost - cost : 0.0, cost))
		{
			out->converged = true;
			break;
		}
		last_cost = cost;
	}
	if (status == RECO_STATUS_OK)
		status = RecoSegmentRunPhase(&job, RECO_SEGMENT_FINAL, hooks);
	if (status == RECO_STATUS_OK)
		status = RecoSegmentRenumber(&job, sizes, out);
	free(job.inv_norm);
	free(job.centroids);
	free(job.means);
	free(job.weight);
	free(job.block_sum);
	free(job.cosine);
	free(job.block_changes);
	free(job.block_cosine);
	free(job.shift);
	free(job.member_ptr);
	free(job.members);
	free(sizes);
	free(chosen);
	return status;
}
