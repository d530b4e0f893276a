/*
 * explicit_grid.c — the grid search behind algorithm "als"'s defaults:
 * trains the explicit kernel (src/explicit.c) on MovieLens 100K's uN.base
 * and scores RMSE/MAE on uN.test (the same fallbacks as reco.predict:
 * unknown user μ + b_i, unknown item μ + b_u), for every configuration
 * given, five folds, printing one line per configuration with the five-fold
 * means.  No PostgreSQL: the kernel only.
 *
 *   gcc -O3 -I src -o /tmp/explicit_grid test/bench/explicit_grid.c $(KERNEL_SRCS) -lopenblas -lpthread -lm
 *   /tmp/explicit_grid DATA_DIR "k lambda nu iterations" ...
 *   /tmp/explicit_grid FILE.tsv "k lambda nu iterations threads" ...   (timing: seconds per iteration)
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "explicit.h"

/* Ids are below this (ML-100K: 943 users, 1682 items; the 10M synthetic set: 200,000 users). */
#define MAX_ID 200000

/* One file's ratings. */
typedef struct Split
{
	int64_t		n;
	int32_t    *user;
	int32_t    *item;
	float	   *rating;
} Split;

/* Reads "user item rating time" lines. */
static Split
read_split(const char *path)
{
	FILE	   *f = fopen(path, "r");
	Split		s = {0, NULL, NULL, NULL};
	int64_t		cap = 1 << 24;
	long		u,
				i,
				t;
	double		r;

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	s.user = xmalloc(sizeof(int32_t) * cap, "explicit_grid");
	s.item = xmalloc(sizeof(int32_t) * cap, "explicit_grid");
	s.rating = xmalloc(sizeof(float) * cap, "explicit_grid");
	char		line[256];

	while (fgets(line, sizeof(line), f) != NULL && s.n < cap)
	{
		if (sscanf(line, "%ld %ld %lf %ld", &u, &i, &r, &t) < 3)
			continue;
		s.user[s.n] = (int32_t) u;
		s.item[s.n] = (int32_t) i;
		s.rating[s.n++] = (float) r;
	}
	fclose(f);
	return s;
}

/* CSR of a split by `rows` (dense ids 0..MAX_ID), columns `cols`. */
static RecoSparse
csr(const Split *s, const int32_t *rows, const int32_t *cols, int64_t **ptr_out)
{
	int64_t    *ptr = calloc(MAX_ID + 2, sizeof(int64_t));
	int64_t    *fill = calloc(MAX_ID + 1, sizeof(int64_t));
	int32_t    *idx = xmalloc(sizeof(int32_t) * s->n, "explicit_grid");
	float	   *w = xmalloc(sizeof(float) * s->n, "explicit_grid");
	RecoSparse	m;
	int64_t		p;

	for (p = 0; p < s->n; p++)
		ptr[rows[p] + 1]++;
	for (p = 0; p < MAX_ID + 1; p++)
		ptr[p + 1] += ptr[p];
	for (p = 0; p < s->n; p++)
	{
		int64_t		dst = ptr[rows[p]] + fill[rows[p]]++;

		idx[dst] = cols[p];
		w[dst] = s->rating[p];
	}
	free(fill);
	m.n_rows = MAX_ID + 1;
	m.n_cols = MAX_ID + 1;
	m.indptr = ptr;
	m.indices = idx;
	m.weights = w;
	*ptr_out = ptr;
	return m;
}

/* Trains one fold and scores its test split: rmse, mae, seconds. */
static void
run_fold(const char *dir, int fold, const RecoExplicitConfig *cfg, int iterations, double out[3])
{
	char		path[1024];
	Split		train,
				test;
	RecoSparse	bu,
				bi;
	int64_t    *pu,
			   *pi,
				ids[MAX_ID + 1],
				p;
	int			d = RecoExplicitStride(cfg->factors);
	int			k = cfg->factors;
	float	   *X = xmalloc(sizeof(float) * d * (MAX_ID + 1), "explicit_grid");
	float	   *Y = xmalloc(sizeof(float) * d * (MAX_ID + 1), "explicit_grid");
	double		mean,
				se = 0,
				ae = 0,
				t0;
	int			it;

	snprintf(path, sizeof(path), "%s/u%d.base", dir, fold);
	train = read_split(path);
	snprintf(path, sizeof(path), "%s/u%d.test", dir, fold);
	test = read_split(path);
	t0 = now_seconds();
	bu = csr(&train, train.user, train.item, &pu);
	bi = csr(&train, train.item, train.user, &pi);
	for (p = 0; p <= MAX_ID; p++)
		ids[p] = p;
	mean = RecoExplicitMean(&bu);
	RecoExplicitInit(X, MAX_ID + 1, k, ids, 42, 1);
	RecoExplicitInit(Y, MAX_ID + 1, k, ids, 42, 2);
	for (it = 0; it < iterations; it++)
		if (RecoExplicitSolveSide(&bu, Y, X, mean, cfg, NULL) != RECO_STATUS_OK ||
			RecoExplicitSolveSide(&bi, X, Y, mean, cfg, NULL) != RECO_STATUS_OK)
		{
			fprintf(stderr, "solve failed\n");
			exit(1);
		}
	out[2] = now_seconds() - t0;
	for (p = 0; p < test.n; p++)
	{
		int			u = test.user[p],
					i = test.item[p];
		bool		ku = pu[u + 1] > pu[u],
					ki = pi[i + 1] > pi[i];
		double		pred = mean;
		int			j;

		if (ku)
			pred += X[(size_t) u * d + k];
		if (ki)
			pred += Y[(size_t) i * d + k];
		for (j = 0; ku && ki && j < k; j++)
			pred += (double) X[(size_t) u * d + j] * Y[(size_t) i * d + j];
		se += (pred - test.rating[p]) * (pred - test.rating[p]);
		ae += fabs(pred - test.rating[p]);
	}
	out[0] = sqrt(se / test.n);
	out[1] = ae / test.n;
	free(X);
	free(Y);
}

/* Timing on one file of ratings: seconds of each iteration (both sides), the RMSE after. */
static void
run_timing(const char *path, const RecoExplicitConfig *cfg, int iterations)
{
	Split		train = read_split(path);
	int64_t    *pu,
			   *pi,
				p;
	int64_t    *ids = xmalloc(sizeof(int64_t) * (MAX_ID + 1), "explicit_grid");
	RecoSparse	bu = csr(&train, train.user, train.item, &pu);
	RecoSparse	bi = csr(&train, train.item, train.user, &pi);
	int			d = RecoExplicitStride(cfg->factors);
	float	   *X = xmalloc(sizeof(float) * d * (MAX_ID + 1), "explicit_grid");
	float	   *Y = xmalloc(sizeof(float) * d * (MAX_ID + 1), "explicit_grid");
	double		mean = RecoExplicitMean(&bu),
				rmse = 0;
	int			it;

	for (p = 0; p <= MAX_ID; p++)
		ids[p] = p;
	RecoExplicitInit(X, MAX_ID + 1, cfg->factors, ids, 42, 1);
	RecoExplicitInit(Y, MAX_ID + 1, cfg->factors, ids, 42, 2);
	printf("%s: %ld ratings, k %d, threads %d:", path, (long) train.n, cfg->factors, cfg->threads);
	for (it = 0; it < iterations; it++)
	{
		double		t0 = now_seconds();

		if (RecoExplicitSolveSide(&bu, Y, X, mean, cfg, NULL) != RECO_STATUS_OK ||
			RecoExplicitSolveSide(&bi, X, Y, mean, cfg, NULL) != RECO_STATUS_OK)
			exit(1);
		printf(" %.2f", now_seconds() - t0);
		fflush(stdout);
	}
	RecoExplicitRmse(&bu, X, Y, mean, cfg, NULL, &rmse);
	printf(" s per iteration; training RMSE %.4f\n", rmse);
}

/* Each argument after the data directory: "k lambda nu iterations [threads]". */
int
main(int argc, char **argv)
{
	int			a;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s DATA_DIR \"k lambda nu iterations [threads]\" ...\n", argv[0]);
		return 2;
	}
	if (strstr(argv[1], ".tsv") != NULL)
	{
		for (a = 2; a < argc; a++)
		{
			RecoExplicitConfig cfg = {0, 0, 1, 1};
			int			iterations = 0;

			if (sscanf(argv[a], "%d %f %f %d %d", &cfg.factors, &cfg.regularization, &cfg.reg_exponent,
					   &iterations, &cfg.threads) < 5)
				return 2;
			run_timing(argv[1], &cfg, iterations);
		}
		return 0;
	}
	printf("k\tlambda\tnu\titer\trmse_mean\tmae_mean\tseconds_mean\trmse_folds\n");
	for (a = 2; a < argc; a++)
	{
		RecoExplicitConfig cfg = {0, 0, 1, 1};
		int			iterations = 0,
					fold;
		double		sum[3] = {0, 0, 0};
		char		folds[256] = "";

		if (sscanf(argv[a], "%d %f %f %d %d", &cfg.factors, &cfg.regularization, &cfg.reg_exponent,
				   &iterations, &cfg.threads) < 4)
			return 2;
		for (fold = 1; fold <= 5; fold++)
		{
			double		r[3];

			run_fold(argv[1], fold, &cfg, iterations, r);
			sum[0] += r[0];
			sum[1] += r[1];
			sum[2] += r[2];
			snprintf(folds + strlen(folds), sizeof(folds) - strlen(folds), "%s%.4f", fold > 1 ? " " : "", r[0]);
		}
		printf("%d\t%g\t%g\t%d\t%.4f\t%.4f\t%.3f\t%s\n", cfg.factors, cfg.regularization, cfg.reg_exponent,
			   iterations, sum[0] / 5, sum[1] / 5, sum[2] / 5, folds);
		fflush(stdout);
	}
	return 0;
}
