/*-------------------------------------------------------------------------
 *
 * test_segments.c
 *	  Standalone TAP unit tests of the customer-segment clustering
 *	  (src/segments.c): a planted clustering recovered, thread-count
 *	  independence, empty clusters, zero-norm points, bad input, stopping.
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segments.h"
#include "tap.h"

#define TEST_PLAN 25

/* One clustering's output arrays. */
typedef struct Result
{
	RecoSegmentOutput out;
	int64_t		n;
	int			k;
	int			clusters;
} Result;

/* Allocates the output arrays of a clustering of n points of k floats into `clusters`. */
static Result
result_new(int64_t n, int k, int clusters)
{
	Result		r;

	memset(&r, 0, sizeof(r));
	r.n = n;
	r.k = k;
	r.clusters = clusters;
	r.out.assign = calloc(n, sizeof(int32_t));
	r.out.distance = calloc(n, sizeof(float));
	r.out.centroids = calloc((size_t) clusters * k, sizeof(float));
	r.out.means = calloc((size_t) clusters * k, sizeof(float));
	r.out.sizes = calloc(clusters, sizeof(int64_t));
	return r;
}

/* Frees a result's arrays. */
static void
result_free(Result *r)
{
	free(r->out.assign);
	free(r->out.distance);
	free(r->out.centroids);
	free(r->out.means);
	free(r->out.sizes);
}

/* Two results are identical bit for bit. */
static int
result_equal(const Result *a, const Result *b)
{
	return a->out.iterations == b->out.iterations && a->out.converged == b->out.converged &&
		memcmp(a->out.assign, b->out.assign, sizeof(int32_t) * a->n) == 0 &&
		memcmp(a->out.distance, b->out.distance, sizeof(float) * a->n) == 0 &&
		memcmp(a->out.centroids, b->out.centroids, sizeof(float) * a->clusters * a->k) == 0 &&
		memcmp(a->out.means, b->out.means, sizeof(float) * a->clusters * a->k) == 0 &&
		memcmp(a->out.sizes, b->out.sizes, sizeof(int64_t) * a->clusters) == 0;
}

/* Clusters points into r with the given seed and threads, stopping as reco.segment_users does. */
static RecoStatus
run(const float *points, Result *r, uint64_t seed, int threads, const RecoHooks *hooks)
{
	RecoSegmentInput in = {points, r->n, r->k, r->clusters, seed, RECO_SEGMENT_MAX_ITERATIONS, threads,
	RECO_SEGMENT_MOVED_FRACTION, RECO_SEGMENT_TOLERANCE, RECO_SEGMENT_MIN_GAIN};

	return RecoSegmentPoints(&in, hooks, &r->out);
}

/* Clusters points into r stopping only when no point moves (or at `max_iterations`). */
static RecoStatus
run_exact(const float *points, Result *r, uint64_t seed, int threads, int max_iterations)
{
	RecoSegmentInput in = {points, r->n, r->k, r->clusters, seed, max_iterations, threads, 0.0, 0.0, 0.0};

	return RecoSegmentPoints(&in, NULL, &r->out);
}

/* Every cluster non-empty, sizes sum to n and match the assignments, in size-descending order. */
static int
result_consistent(const Result *r)
{
	int64_t    *count = calloc(r->clusters, sizeof(int64_t));
	int64_t		i,
				total = 0;
	int			c,
				good = 1;

	for (i = 0; i < r->n; i++)
	{
		if (r->out.assign[i] < 0 || r->out.assign[i] >= r->clusters ||
			!(r->out.distance[i] >= 0.0f && r->out.distance[i] <= 2.0f))
			good = 0;
		else
			count[r->out.assign[i]]++;
	}
	for (c = 0; c < r->clusters; c++)
	{
		total += r->out.sizes[c];
		if (r->out.sizes[c] < 1 || count[c] != r->out.sizes[c] ||
			(c > 0 && r->out.sizes[c] > r->out.sizes[c - 1]))
			good = 0;
	}
	free(count);
	return good && total == r->n;
}

/*
 * Planted data: n points in `groups` clear directions (group g points mostly
 * along axis g), each with random norm 0.5 .. 5 and a little noise; group[i]
 * gets each point's group.  Groups have different sizes (group g has weight
 * g + 1), so the output order is known: largest group first.
 */
static float *
planted(int64_t n, int k, int groups, int *group, double noise)
{
	float	   *p = malloc(sizeof(float) * n * k);
	int64_t		i;
	int			total = groups * (groups + 1) / 2;

	for (i = 0; i < n; i++)
	{
		int			slot = (int) (i * 7919 % total),
					g = 0,
					j;
		double		norm = 0.5 + 4.5 * rnd_uniform();

		while (slot >= g + 1)
		{
			slot -= g + 1;
			g++;
		}
		group[i] = g;
		for (j = 0; j < k; j++)
			p[i * k + j] = (float) (norm * ((j == g ? 1.0 : 0.0) + noise * (rnd_uniform() - 0.5)));
	}
	return p;
}

/* Every planted group maps to exactly one cluster and back; largest group = cluster 0. */
static int
recovered(const Result *r, const int *group, int groups)
{
	int		   *to = malloc(sizeof(int) * groups);
	int		   *from = malloc(sizeof(int) * r->clusters);
	int64_t		i;
	int			g,
				good = 1;

	for (g = 0; g < groups; g++)
		to[g] = -1;
	for (g = 0; g < r->clusters; g++)
		from[g] = -1;
	for (i = 0; i < r->n; i++)
	{
		int			c = r->out.assign[i];

		if (to[group[i]] < 0 && from[c] < 0)
		{
			to[group[i]] = c;
			from[c] = group[i];
		}
		if (to[group[i]] != c || from[c] != group[i])
			good = 0;
	}
	/* group g has weight g + 1: the last group is the largest */
	if (to[groups - 1] != 0)
		good = 0;
	free(to);
	free(from);
	return good;
}

/* Largest absolute difference between the cluster's stored mean and the mean of its members. */
static double
mean_error(const float *points, const Result *r, int c)
{
	double		worst = 0.0;
	int			j;

	for (j = 0; j < r->k; j++)
	{
		double		sum = 0.0;
		int64_t		i;

		for (i = 0; i < r->n; i++)
			if (r->out.assign[i] == c)
				sum += points[i * r->k + j];
		sum /= (double) r->out.sizes[c];
		if (fabs(sum - r->out.means[c * r->k + j]) > worst)
			worst = fabs(sum - r->out.means[c * r->k + j]);
	}
	return worst;
}

/* Largest deviation of a centroid's norm from 1. */
static double
centroid_norm_error(const Result *r)
{
	double		worst = 0.0;
	int			c,
				j;

	for (c = 0; c < r->clusters; c++)
	{
		double		sq = 0.0;

		for (j = 0; j < r->k; j++)
			sq += (double) r->out.centroids[c * r->k + j] * r->out.centroids[c * r->k + j];
		if (fabs(sqrt(sq) - 1.0) > worst)
			worst = fabs(sqrt(sq) - 1.0);
	}
	return worst;
}

/* The planted clustering is recovered exactly, with consistent output. */
static void
test_planted(void)
{
	int64_t		n = 6000;
	int			k = 8,
				groups = 5;
	int		   *group = malloc(sizeof(int) * n);
	float	   *p = planted(n, k, groups, group, 0.3);
	Result		r = result_new(n, k, groups);
	RecoStatus	status = run(p, &r, 42, 2, NULL);
	int64_t		i;
	int			near = 1;

	ok(status == RECO_STATUS_OK, "planted: clustering succeeds");
	ok(recovered(&r, group, groups), "planted: every planted group is exactly one cluster, largest first");
	ok(r.out.converged && r.out.iterations >= 1, "planted: converges before the cap");
	ok(result_consistent(&r), "planted: every cluster non-empty, sizes sum to n, size-descending order");
	ok(mean_error(p, &r, 0) < 1e-5 && mean_error(p, &r, groups - 1) < 1e-5,
	   "planted: means are the mean raw point of each cluster");
	ok(centroid_norm_error(&r) < 1e-5, "planted: centroids have unit norm");
	for (i = 0; i < n; i++)
		if (r.out.distance[i] > 0.1f)
			near = 0;
	ok(near, "planted: every point lies within cosine distance 0.1 of its centroid");
	free(p);
	free(group);
	result_free(&r);
}

/* Sum of the cosine distances (the k-means objective). */
static double
objective(const Result *r)
{
	double		sum = 0.0;
	int64_t		i;

	for (i = 0; i < r->n; i++)
		sum += r->out.distance[i];
	return sum;
}

/* Fraction of the points that two clusterings put in the same cluster. */
static double
agreement(const Result *a, const Result *b)
{
	int64_t		i,
				same = 0;

	for (i = 0; i < a->n; i++)
		same += a->out.assign[i] == b->out.assign[i];
	return (double) same / (double) a->n;
}

/* Each planted group's most common cluster is distinct, and holds most of the group. */
static int
majority_recovered(const Result *r, const int *group, int groups)
{
	int64_t    *count = calloc((size_t) groups * r->clusters, sizeof(int64_t));
	int64_t    *total = calloc(groups, sizeof(int64_t));
	int		   *taken = calloc(r->clusters, sizeof(int));
	int64_t		i;
	int			g,
				c,
				good = 1;

	for (i = 0; i < r->n; i++)
	{
		count[(size_t) group[i] * r->clusters + r->out.assign[i]]++;
		total[group[i]]++;
	}
	for (g = 0; g < groups; g++)
	{
		int			best = 0;

		for (c = 1; c < r->clusters; c++)
			if (count[(size_t) g * r->clusters + c] > count[(size_t) g * r->clusters + best])
				best = c;
		if (taken[best]++ || 2 * count[(size_t) g * r->clusters + best] <= total[g])
			good = 0;
	}
	free(count);
	free(total);
	free(taken);
	return good;
}

/*
 * The early stop: noisy planted groups whose boundary points keep moving
 * for a while; the rule stops sooner than "no point moved" with the same
 * planted answer, nearly the same objective, and the same output for any
 * thread count.
 */
static void
test_tolerance(void)
{
	const int	k = 8,
				groups = 5;
	const int64_t n = 20000;
	int		   *group = malloc(sizeof(int) * n);
	float	   *p = planted(n, k, groups, group, 1.4);	/* overlapping groups: a slow tail */
	Result		rule = result_new(n, k, groups);
	Result		rule3 = result_new(n, k, groups);
	Result		exact = result_new(n, k, groups);

	ok(run(p, &rule, 42, 1, NULL) == RECO_STATUS_OK && run_exact(p, &exact, 42, 1, RECO_SEGMENT_MAX_ITERATIONS) == RECO_STATUS_OK,
	   "tolerance: the rule and the exact stop both succeed");
	printf("# rule %d iterations, exact %d; objectives %.3f %.3f; agreement %.4f\n",
		   rule.out.iterations, exact.out.iterations, objective(&rule), objective(&exact),
		   agreement(&rule, &exact));
	ok(rule.out.converged && exact.out.converged && rule.out.iterations < exact.out.iterations,
	   "tolerance: the rule stops before no point moves, and says it converged");
	ok(agreement(&rule, &exact) >= 0.99 && majority_recovered(&rule, group, groups),
	   "tolerance: the same answer on 99 % of the points, each planted group the majority of its own cluster");
	ok(objective(&rule) <= objective(&exact) * 1.001, "tolerance: the objective within 0.1 % of the exact stop's");
	ok(run(p, &rule3, 42, 3, NULL) == RECO_STATUS_OK && result_equal(&rule, &rule3),
	   "tolerance: 3 threads stop at the same iteration with the same output bit for bit");
	free(p);
	free(group);
	result_free(&rule);
	result_free(&rule3);
	result_free(&exact);
}

/* The output is bit for bit the same for 1, 2, 3 and 8 threads, and for the same seed. */
static void
test_threads(void)
{
	int64_t		n = 5000;		/* five blocks */
	int			k = 16,
				clusters = 12,
				t;
	float	   *p = malloc(sizeof(float) * n * k);
	Result		one = result_new(n, k, clusters);
	Result		again = result_new(n, k, clusters);
	Result		other_seed = result_new(n, k, clusters);
	int			same = 1;
	int64_t		i;

	for (i = 0; i < n * k; i++)
		p[i] = (float) (rnd_uniform() - 0.5);
	ok(run(p, &one, 7, 1, NULL) == RECO_STATUS_OK, "threads: one thread succeeds");
	ok(result_consistent(&one), "threads: random data gives a consistent clustering");
	for (t = 2; t <= 8; t *= 2)
	{
		Result		r = result_new(n, k, clusters);

		if (run(p, &r, 7, t, NULL) != RECO_STATUS_OK || !result_equal(&one, &r))
			same = 0;
		result_free(&r);
	}
	{
		Result		r = result_new(n, k, clusters);

		if (run(p, &r, 7, 3, NULL) != RECO_STATUS_OK || !result_equal(&one, &r))
			same = 0;
		result_free(&r);
	}
	ok(same, "threads: 2, 4, 8 and 3 threads give the 1-thread output bit for bit");
	ok(run(p, &again, 7, 2, NULL) == RECO_STATUS_OK && result_equal(&one, &again),
	   "threads: the same seed gives the same output");
	ok(run(p, &other_seed, 8, 2, NULL) == RECO_STATUS_OK && !result_equal(&one, &other_seed),
	   "threads: another seed gives another clustering of unstructured data");
	free(p);
	result_free(&one);
	result_free(&again);
	result_free(&other_seed);
}

/*
 * Fewer distinct directions than clusters: 10 points in 2 directions into 5
 * clusters is refused (RECO_STATUS_INVALID_ARGUMENT) with the 2 directions
 * seeding found, instead of re-seeding duplicate centres until the cap; into
 * 2 clusters it works, and a zero-norm point has distance 1.
 */
static void
test_degenerate(void)
{
	float		p[11 * 2];
	float		q[3 * 2] = {1.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f};
	Result		r = result_new(11, 2, 5);
	Result		two = result_new(11, 2, 2);
	Result		all = result_new(3, 2, 3);
	int			i;

	for (i = 0; i < 10; i++)
	{
		p[2 * i] = i % 2 == 0 ? (float) (i + 1) : 0.0f;
		p[2 * i + 1] = i % 2 == 0 ? 0.0f : (float) (i + 1);
	}
	p[20] = p[21] = 0.0f;		/* point 10: zero norm */
	ok(run(p, &r, 1, 2, NULL) == RECO_STATUS_INVALID_ARGUMENT && r.out.directions == 2,
	   "degenerate: 2 directions in 5 clusters: refused, 2 directions found");
	ok(run(p, &two, 1, 2, NULL) == RECO_STATUS_OK && result_consistent(&two) && two.out.directions == 0 &&
	   two.out.sizes[0] + two.out.sizes[1] == 11,
	   "degenerate: 2 directions in 2 clusters: every point placed");
	ok(two.out.distance[10] == 1.0f, "degenerate: a zero-norm point has cosine distance 1");
	/* as many clusters as points in distinct directions: each point alone */
	ok(run(q, &all, 3, 1, NULL) == RECO_STATUS_OK && result_consistent(&all) &&
	   all.out.sizes[0] == 1 && all.out.assign[0] == 0 && all.out.assign[1] == 1 && all.out.assign[2] == 2,
	   "degenerate: clusters = n puts each point alone, numbered by index on equal sizes");
	result_free(&r);
	result_free(&two);
	result_free(&all);
}

/* Bad input is refused, and a stop from the hook stops the run. */
static void
test_refusals(void)
{
	int64_t		n = 3000;
	int			k = 4;
	float	   *p = malloc(sizeof(float) * n * k);
	Result		r = result_new(n, k, 8);
	Result		small = result_new(2, k, 3);
	HookState	h = hook_state(2);
	RecoHooks	hooks = {test_hook, &h, NULL};
	RecoSegmentInput zero = {p, n, k, 0, 1, 10, 1, 0.0, 0.0, 0.0};
	int64_t		i;

	for (i = 0; i < n * k; i++)
		p[i] = (float) (rnd_uniform() - 0.5);
	ok(run(p, &small, 1, 1, NULL) == RECO_STATUS_INVALID_ARGUMENT, "refusals: more clusters than points");
	ok(RecoSegmentPoints(&zero, NULL, &r.out) == RECO_STATUS_INVALID_ARGUMENT, "refusals: zero clusters");
	ok(run(p, &r, 1, 2, &hooks) == RECO_STATUS_STOPPED && h.wrong_thread == 0,
	   "refusals: a stop from the hook stops the run (hook on the calling thread only)");
	ok(run(p, &r, 1, 2, NULL) == RECO_STATUS_OK && result_consistent(&r), "refusals: the same input runs after a stop");
	free(p);
	result_free(&r);
	result_free(&small);
}

int
main(void)
{
	printf("1..%d\n", TEST_PLAN);
	test_planted();
	test_threads();
	test_tolerance();
	test_degenerate();
	test_refusals();
	return tap_exit_status(TEST_PLAN);
}
