/*-------------------------------------------------------------------------
 *
 * serve_floor.c
 *	  The in-process scoring floor of reco.recommend (BENCHMARKS.md, serving):
 *	  one cblas_sgemv of a user vector over a random float32 item matrix
 *	  (items x k, row-major, as reco's cache holds it) plus RecoTopK for the
 *	  top 10, timed per call for OpenBLAS threads 1 and 2.  No server needed.
 *
 *	  gcc -O3 -Wall -Wextra -I src $(pkg-config --cflags openblas) \
 *	      -o /tmp/serve_floor test/bench/serve_floor.c src/topk.c \
 *	      $(pkg-config --libs openblas) -lm
 *	  /tmp/serve_floor [-k 64] [-n 10] [-r 2000] [-t 1,2] ITEMS...   (default 50000 100000)
 *
 *	  Output, one line per configuration (key=value, times in ms per call):
 *	  floor items=100000 k=64 threads=1 reps=2000 median_ms=0.571 p99_ms=0.700
 *	        sgemv_median_ms=... topk_median_ms=...
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "bench_util.h"

#include "topk.h"

#define MAX_THREAD_CONFIGS 16
#define WARMUP_CALLS 50

/* Settings from the command line. */
typedef struct FloorOptions
{
	int			k;				/* factors per vector */
	int			n;				/* items selected per call */
	int			reps;			/* timed calls per configuration */
	int			threads[MAX_THREAD_CONFIGS];	/* OpenBLAS thread counts to try */
	int			n_threads;
} FloorOptions;

/* Keeps the results observable so no call can be optimized away. */
static volatile float sink;

/* A uniform float in [-0.5, 0.5) from a 64-bit xorshift state. */
static float
next_uniform(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (float) ((*state >> 40) * (1.0 / 16777216.0)) - 0.5f;
}

/* Fills count floats with uniform values from state. */
static void
fill_random(float *x, int64_t count, uint64_t *state)
{
	int64_t		i;

	for (i = 0; i < count; i++)
		x[i] = next_uniform(state);
}

/* The q-quantile (0..1) of sorted[0..n), nearest rank. */
static double
quantile(const double *sorted, int n, double q)
{
	int			rank = (int) (q * n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

/* Prints the usage line and exits with status. */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
			"usage: serve_floor [-k FACTORS] [-n TOPN] [-r REPS] [-t THREADS,...] ITEMS...\n"
			"       defaults: -k 64 -n 10 -r 2000 -t 1,2, ITEMS 50000 100000\n");
	exit(status);
}

/* Times reps calls of sgemv + top-n over an items x k matrix for one thread count. */
static void
run_config(const float *matrix, const float *users, int64_t items, int threads,
		   const FloorOptions *opts)
{
	float	   *scores = xmalloc(sizeof(float) * items, "serve_floor");
	RecoScored *top = xmalloc(sizeof(RecoScored) * opts->n, "serve_floor");
	double	   *total = xmalloc(sizeof(double) * opts->reps, "serve_floor");
	double	   *gemv = xmalloc(sizeof(double) * opts->reps, "serve_floor");
	double	   *select = xmalloc(sizeof(double) * opts->reps, "serve_floor");
	int			i;

	openblas_set_num_threads(threads);
	for (i = -WARMUP_CALLS; i < opts->reps; i++)
	{
		const float *user = users + (int64_t) ((i + opts->reps) % opts->reps) * opts->k;
		double		t0,
					t1,
					t2;
		int			found;

		t0 = now_seconds();
		cblas_sgemv(CblasRowMajor, CblasNoTrans, (int) items, opts->k, 1.0f, matrix, opts->k,
					user, 1, 0.0f, scores, 1);
		t1 = now_seconds();
		found = RecoTopK(scores, items, opts->n, top);
		t2 = now_seconds();
		sink += found > 0 ? top[0].score : 0.0f;
		if (i >= 0)
		{
			total[i] = (t2 - t0) * 1e3;
			gemv[i] = (t1 - t0) * 1e3;
			select[i] = (t2 - t1) * 1e3;
		}
	}
	qsort(total, opts->reps, sizeof(double), compare_double);
	qsort(gemv, opts->reps, sizeof(double), compare_double);
	qsort(select, opts->reps, sizeof(double), compare_double);
	printf("floor items=%lld k=%d n=%d threads=%d reps=%d median_ms=%.4f p99_ms=%.4f "
		   "sgemv_median_ms=%.4f topk_median_ms=%.4f\n",
		   (long long) items, opts->k, opts->n, openblas_get_num_threads(), opts->reps,
		   quantile(total, opts->reps, 0.5), quantile(total, opts->reps, 0.99),
		   quantile(gemv, opts->reps, 0.5), quantile(select, opts->reps, 0.5));
	fflush(stdout);
	free(scores);
	free(top);
	free(total);
	free(gemv);
	free(select);
}

/* Parses options, then measures every (items, threads) configuration. */
int
main(int argc, char **argv)
{
	FloorOptions opts = {.k = 64, .n = 10, .reps = 2000, .threads = {1, 2}, .n_threads = 2};
	int64_t		default_items[] = {50000, 100000};
	int64_t    *sizes;
	int			n_sizes,
				c,
				a;
	uint64_t	state = 0x9E3779B97F4A7C15ULL;

	while ((c = getopt(argc, argv, "k:n:r:t:h")) != -1)
	{
		switch (c)
		{
			case 'k':
				opts.k = atoi(optarg);
				break;
			case 'n':
				opts.n = atoi(optarg);
				break;
			case 'r':
				opts.reps = atoi(optarg);
				break;
			case 't':
				if ((opts.n_threads = parse_thread_list(optarg, opts.threads, MAX_THREAD_CONFIGS)) == 0)
					usage(2);
				break;
			case 'h':
				usage(0);
				break;
			default:
				usage(2);
		}
	}
	if (opts.k < 1 || opts.n < 1 || opts.reps < 1)
		usage(2);

	n_sizes = optind < argc ? argc - optind : 2;
	sizes = xmalloc(sizeof(int64_t) * n_sizes, "serve_floor");
	for (a = 0; a < n_sizes; a++)
	{
		sizes[a] = optind < argc ? atoll(argv[optind + a]) : default_items[a];
		if (sizes[a] < 1 || sizes[a] > INT32_MAX)
		{
			fprintf(stderr, "serve_floor: bad item count \"%s\"\n", argv[optind + a]);
			return 2;
		}
	}

	printf("openblas_config %s\n", openblas_get_config());
	printf("openblas_corename %s\n", openblas_get_corename());
	for (a = 0; a < n_sizes; a++)
	{
		int64_t		items = sizes[a];
		float	   *matrix,
				   *users;
		int			t;

		matrix = xmalloc(sizeof(float) * items * opts.k, "serve_floor");
		users = xmalloc(sizeof(float) * opts.reps * opts.k, "serve_floor");
		fill_random(matrix, items * opts.k, &state);
		fill_random(users, (int64_t) opts.reps * opts.k, &state);
		for (t = 0; t < opts.n_threads; t++)
			run_config(matrix, users, items, opts.threads[t], &opts);
		free(matrix);
		free(users);
	}
	free(sizes);
	return 0;
}
