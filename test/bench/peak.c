/*-------------------------------------------------------------------------
 *
 * peak.c
 *	  The machine's ceilings for the benchmark report (BENCHMARKS.md): OpenBLAS
 *	  sgemm GFLOP/s and streaming memory bandwidth (a read and a STREAM-style
 *	  triad), each for the requested thread counts, as the median of several
 *	  runs.  Also prints the OpenBLAS build and the core type it selected
 *	  (openblas_get_corename(), which follows OPENBLAS_CORETYPE).  No server
 *	  needed.
 *
 *	  gcc -O3 -Wall -Wextra $(pkg-config --cflags openblas) \
 *	      -o /tmp/peak test/bench/peak.c $(pkg-config --libs openblas) -lpthread
 *	  /tmp/peak [-n SGEMM_SIZE] [-m STREAM_MB] [-r RUNS] [-t THREADS,...]
 *	            (defaults: -n 2048 -m 256 -r 7 -t 1,2)
 *
 *	  Output, one line per measurement (key=value):
 *	  sgemm n=2048 threads=1 runs=7 median_gflops=110.2 min_gflops=... max_gflops=...
 *	  stream kernel=read threads=1 mb=256 runs=7 median_gbs=... min_gbs=... max_gbs=...
 *	  (read: bytes read per second; triad a = b + s c: 3 arrays of MB each per
 *	  pass, counted as STREAM does, the write-allocate traffic not included)
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "bench_util.h"

#define MAX_THREAD_CONFIGS 16
#define MAX_RUNS 1000

/* Settings from the command line. */
typedef struct PeakOptions
{
	int			sgemm_size;		/* n of the n x n x n sgemm */
	int			stream_mb;		/* MB per stream array */
	int			runs;			/* timed runs per measurement */
	int			threads[MAX_THREAD_CONFIGS];	/* thread counts to try */
	int			n_threads;
} PeakOptions;

/* The streaming kernels. */
typedef enum StreamKernel
{
	STREAM_READ,
	STREAM_TRIAD
} StreamKernel;

/* One thread's share of a streaming pass. */
typedef struct StreamSlice
{
	StreamKernel kernel;
	uint64_t   *words;			/* read: the words to sum */
	double	   *a;				/* triad: a = b + s c */
	const double *b;
	const double *c;
	size_t		begin;
	size_t		end;
	uint64_t	sum;			/* read: the result, kept observable */
} StreamSlice;

/* Keeps results observable so no pass can be optimized away. */
static volatile uint64_t sink;

/* Sorts x[0..n) and returns its median (the lower one for even n). */
static double
sorted_median(double *x, int n)
{
	qsort(x, n, sizeof(double), compare_double);
	return x[(n - 1) / 2];
}

/* Prints the usage line and exits with status. */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
			"usage: peak [-n SGEMM_SIZE] [-m STREAM_MB] [-r RUNS] [-t THREADS,...]\n"
			"       defaults: -n 2048 -m 256 -r 7 -t 1,2\n");
	exit(status);
}

/* Times runs sgemm calls (n x n times n x n) on a given OpenBLAS thread count. */
static void
measure_sgemm(int n, int threads, int runs)
{
	size_t		cells = (size_t) n * n;
	float	   *a = xmalloc(sizeof(float) * cells, "peak");
	float	   *b = xmalloc(sizeof(float) * cells, "peak");
	float	   *c = xmalloc(sizeof(float) * cells, "peak");
	double		gflops[MAX_RUNS];
	double		work = 2.0 * n * (double) n * n;
	size_t		i;
	int			r;

	for (i = 0; i < cells; i++)
	{
		a[i] = (float) (i % 97) * 0.01f;
		b[i] = (float) (i % 89) * 0.01f;
		c[i] = 0.0f;
	}
	openblas_set_num_threads(threads);
	/* one untimed call: thread start-up, page faults, caches */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
				0.0f, c, n);
	for (r = 0; r < runs; r++)
	{
		double		t0 = now_seconds();

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
					0.0f, c, n);
		gflops[r] = work / (now_seconds() - t0) * 1e-9;
	}
	sink += (uint64_t) c[cells / 2];
	{
		double		median = sorted_median(gflops, runs);

		printf("sgemm n=%d threads=%d runs=%d median_gflops=%.1f min_gflops=%.1f max_gflops=%.1f\n",
			   n, openblas_get_num_threads(), runs, median, gflops[0], gflops[runs - 1]);
	}
	fflush(stdout);
	free(a);
	free(b);
	free(c);
}

/* Runs one thread's share of a streaming pass. */
static void *
stream_slice(void *arg)
{
	StreamSlice *s = arg;
	size_t		i;

	if (s->kernel == STREAM_READ)
	{
		uint64_t	sum = 0;

		/* integer sums are associative, so the compiler vectorizes this loop */
		for (i = s->begin; i < s->end; i++)
			sum += s->words[i];
		s->sum = sum;
	}
	else
	{
		for (i = s->begin; i < s->end; i++)
			s->a[i] = s->b[i] + 3.0 * s->c[i];
	}
	return NULL;
}

/* One streaming pass over count elements split among threads; returns its seconds. */
static double
stream_pass(StreamKernel kernel, uint64_t *words, double *a, const double *b,
			const double *c, size_t count, int threads)
{
	pthread_t	tid[MAX_THREAD_CONFIGS * 16];
	StreamSlice slice[MAX_THREAD_CONFIGS * 16];
	double		t0;
	int			t;

	t0 = now_seconds();
	for (t = 0; t < threads; t++)
	{
		slice[t] = (StreamSlice) {
			.kernel = kernel,.words = words,.a = a,.b = b,.c = c,
			.begin = count * t / threads,.end = count * (t + 1) / threads
		};
		if (t > 0 && pthread_create(&tid[t], NULL, stream_slice, &slice[t]) != 0)
		{
			fprintf(stderr, "peak: cannot start a thread\n");
			exit(1);
		}
	}
	stream_slice(&slice[0]);
	for (t = 1; t < threads; t++)
		pthread_join(tid[t], NULL);
	for (t = 0; t < threads; t++)
		sink += slice[t].sum;
	return now_seconds() - t0;
}

/* Times runs read and triad passes over arrays of mb MB each, for one thread count. */
static void
measure_stream(int mb, int threads, int runs)
{
	size_t		bytes = (size_t) mb << 20;
	size_t		count = bytes / sizeof(double);
	double	   *a = xmalloc(bytes, "peak");
	double	   *b = xmalloc(bytes, "peak");
	double	   *c = xmalloc(bytes, "peak");
	double		gbs[MAX_RUNS];
	StreamKernel kernel;
	size_t		i;
	int			r;

	for (i = 0; i < count; i++)
	{
		a[i] = 0.0;
		b[i] = (double) (i % 1000);
		c[i] = 1.0;
	}
	for (kernel = STREAM_READ; kernel <= STREAM_TRIAD; kernel++)
	{
		double		moved = kernel == STREAM_READ ? (double) bytes : 3.0 * bytes;

		/* one untimed pass */
		stream_pass(kernel, (uint64_t *) b, a, b, c, count, threads);
		for (r = 0; r < runs; r++)
			gbs[r] = moved / stream_pass(kernel, (uint64_t *) b, a, b, c, count, threads) * 1e-9;
		{
			double		median = sorted_median(gbs, runs);

			printf("stream kernel=%s threads=%d mb=%d runs=%d median_gbs=%.1f min_gbs=%.1f max_gbs=%.1f\n",
				   kernel == STREAM_READ ? "read" : "triad", threads, mb, runs, median,
				   gbs[0], gbs[runs - 1]);
		}
		fflush(stdout);
	}
	sink += (uint64_t) a[count / 2];
	free(a);
	free(b);
	free(c);
}

/* Parses options, prints the OpenBLAS identity, then every measurement. */
int
main(int argc, char **argv)
{
	PeakOptions opts = {.sgemm_size = 2048,.stream_mb = 256,.runs = 7,
	.threads = {1, 2},.n_threads = 2};
	int			c,
				t;

	while ((c = getopt(argc, argv, "n:m:r:t:h")) != -1)
	{
		switch (c)
		{
			case 'n':
				opts.sgemm_size = atoi(optarg);
				break;
			case 'm':
				opts.stream_mb = atoi(optarg);
				break;
			case 'r':
				opts.runs = atoi(optarg);
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
	if (opts.sgemm_size < 16 || opts.stream_mb < 1 || opts.runs < 1 || opts.runs > MAX_RUNS ||
		optind != argc)
		usage(2);
	for (t = 0; t < opts.n_threads; t++)
		if (opts.threads[t] > MAX_THREAD_CONFIGS * 16)
			usage(2);

	printf("openblas_config %s\n", openblas_get_config());
	printf("openblas_corename %s\n", openblas_get_corename());
	fflush(stdout);
	for (t = 0; t < opts.n_threads; t++)
		measure_sgemm(opts.sgemm_size, opts.threads[t], opts.runs);
	for (t = 0; t < opts.n_threads; t++)
		measure_stream(opts.stream_mb, opts.threads[t], opts.runs);
	return 0;
}
