/*-------------------------------------------------------------------------
 *
 * test_ridge.c
 *	  Standalone TAP unit tests of the features-to-factors ridge regression
 *	  (src/ridge.c): against a scalar reference solve on the explicitly
 *	  centered matrix (k = 1, a single feature, a feature on one row only,
 *	  sparse + dense), features carrying no information (exactly the mean),
 *	  placement, a singular system, stopping, bad input.
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

#include "ridge.h"
#include "tap.h"

#define TEST_PLAN 24

/* A problem with its own arrays. */
typedef struct Problem
{
	RecoRidgeProblem pr;
	int64_t    *indptr;
	int32_t    *cols;
	double	   *values;
	double	   *dense;
	float	   *targets;
} Problem;

/*
 * A random problem: each sparse column present on a row with probability
 * density (value 1 + a uniform), dense values uniform, targets uniform.
 */
static Problem
problem_new(int64_t m, int ns, int nd, int k, double density, double lambda)
{
	Problem		p;
	int64_t		r;
	int64_t		e = 0;
	int			c;

	memset(&p, 0, sizeof(p));
	p.indptr = calloc((size_t) m + 1, sizeof(int64_t));
	p.cols = calloc((size_t) (m * (ns + 1)), sizeof(int32_t));
	p.values = calloc((size_t) (m * (ns + 1)), sizeof(double));
	p.dense = nd > 0 ? calloc((size_t) (m * nd), sizeof(double)) : NULL;
	p.targets = calloc((size_t) (m * k), sizeof(float));
	for (r = 0; r < m; r++)
	{
		for (c = 0; c < ns; c++)
			if (rnd_uniform() < density)
			{
				p.cols[e] = c;
				p.values[e++] = 1.0 + rnd_uniform();
			}
		p.indptr[r + 1] = e;
		for (c = 0; c < nd; c++)
			p.dense[r * nd + c] = rnd_uniform() * 2 - 1;
		for (c = 0; c < k; c++)
			p.targets[r * k + c] = (float) (rnd_uniform() * 2 - 1);
	}
	p.pr.m = m;
	p.pr.n_sparse = ns;
	p.pr.n_dense = nd;
	p.pr.k = k;
	p.pr.indptr = p.indptr;
	p.pr.cols = p.cols;
	p.pr.values = p.values;
	p.pr.dense = p.dense;
	p.pr.targets = p.targets;
	p.pr.lambda = lambda;
	return p;
}

/* Frees a problem's arrays. */
static void
problem_free(Problem *p)
{
	free(p->indptr);
	free(p->cols);
	free(p->values);
	free(p->dense);
	free(p->targets);
}

/*
 * The reference: F dense (m x p), explicitly centered, (FcᵀFc + λI) W =
 * FcᵀYc by Gaussian elimination with partial pivoting, b = ȳ - Wᵀf̄.
 */
static void
reference_fit(const RecoRidgeProblem *pr, double *w, double *b)
{
	int64_t		m = pr->m;
	int			p = pr->n_sparse + pr->n_dense;
	int			k = pr->k;
	double	   *f = calloc((size_t) (m * p), sizeof(double));
	double	   *fm = calloc((size_t) p, sizeof(double));
	double	   *ym = calloc((size_t) k, sizeof(double));
	double	   *a = calloc((size_t) (p * (p + k)), sizeof(double));
	int64_t		r;
	int			i;
	int			j;
	int			c;

	for (r = 0; r < m; r++)
	{
		for (int64_t e = pr->indptr[r]; e < pr->indptr[r + 1]; e++)
			f[r * p + pr->cols[e]] = pr->values[e];
		for (j = 0; j < pr->n_dense; j++)
			f[r * p + pr->n_sparse + j] = pr->dense[r * pr->n_dense + j];
	}
	for (r = 0; r < m; r++)
	{
		for (j = 0; j < p; j++)
			fm[j] += f[r * p + j] / (double) m;
		for (j = 0; j < k; j++)
			ym[j] += pr->targets[r * k + j] / (double) m;
	}
	/* augmented [G | B], p rows of p + k */
	for (r = 0; r < m; r++)
		for (i = 0; i < p; i++)
		{
			double		fi = f[r * p + i] - fm[i];

			for (j = 0; j < p; j++)
				a[i * (p + k) + j] += fi * (f[r * p + j] - fm[j]);
			for (j = 0; j < k; j++)
				a[i * (p + k) + p + j] += fi * (pr->targets[r * k + j] - ym[j]);
		}
	for (i = 0; i < p; i++)
		a[i * (p + k) + i] += pr->lambda;
	for (c = 0; c < p; c++)
	{
		int			best = c;

		for (i = c + 1; i < p; i++)
			if (fabs(a[i * (p + k) + c]) > fabs(a[best * (p + k) + c]))
				best = i;
		for (j = 0; j < p + k; j++)
		{
			double		t = a[c * (p + k) + j];

			a[c * (p + k) + j] = a[best * (p + k) + j];
			a[best * (p + k) + j] = t;
		}
		for (i = 0; i < p; i++)
			if (i != c)
			{
				double		factor = a[i * (p + k) + c] / a[c * (p + k) + c];

				for (j = c; j < p + k; j++)
					a[i * (p + k) + j] -= factor * a[c * (p + k) + j];
			}
	}
	for (i = 0; i < p; i++)
		for (j = 0; j < k; j++)
			w[i * k + j] = a[i * (p + k) + p + j] / a[i * (p + k) + i];
	for (j = 0; j < k; j++)
	{
		b[j] = ym[j];
		for (i = 0; i < p; i++)
			b[j] -= fm[i] * w[i * k + j];
	}
	free(f);
	free(fm);
	free(ym);
	free(a);
}

/* The largest |x - y| over n pairs, relative to 1 + the largest |y|. */
static double
max_diff(const double *x, const double *y, int64_t n)
{
	double		worst = 0;
	double		scale = 1;
	int64_t		i;

	for (i = 0; i < n; i++)
		scale = fmax(scale, 1 + fabs(y[i]));
	for (i = 0; i < n; i++)
		worst = fmax(worst, fabs(x[i] - y[i]));
	return worst / scale;
}

/* Fits p with the kernel and the reference; true if they agree within 1e-9 (weights and intercept). */
static int
agrees(const Problem *p, const char *name)
{
	int			cols = p->pr.n_sparse + p->pr.n_dense;
	double	   *w = calloc((size_t) (cols * p->pr.k), sizeof(double));
	double	   *b = calloc((size_t) p->pr.k, sizeof(double));
	double	   *rw = calloc((size_t) (cols * p->pr.k), sizeof(double));
	double	   *rb = calloc((size_t) p->pr.k, sizeof(double));
	RecoStatus	status = RecoRidgeFit(&p->pr, NULL, w, b);
	double		dw;
	double		db;
	int			good;

	reference_fit(&p->pr, rw, rb);
	dw = max_diff(w, rw, (int64_t) cols * p->pr.k);
	db = max_diff(b, rb, p->pr.k);
	good = status == RECO_STATUS_OK && dw < 1e-9 && db < 1e-9;
	if (!good)
	{
		diag("status", status);
		diag("weights max diff", dw);
		diag("intercept max diff", db);
	}
	ok(good, name);
	free(w);
	free(b);
	free(rw);
	free(rb);
	return good;
}

/* Sparse + dense, several factors, against the reference. */
static void
test_reference(void)
{
	Problem		p = problem_new(60, 7, 3, 5, 0.4, 0.5);

	agrees(&p, "sparse + dense, k = 5: the reference solve");
	p.pr.lambda = 0;
	agrees(&p, "the same with lambda 0 (independent columns): the reference solve");
	problem_free(&p);
	p = problem_new(60, 7, 3, 1, 0.4, 2.0);
	agrees(&p, "k = 1: the reference solve");
	problem_free(&p);
	p = problem_new(30, 1, 0, 4, 0.5, 1.0);
	agrees(&p, "a single sparse feature: the reference solve");
	problem_free(&p);
	p = problem_new(30, 0, 4, 3, 0, 0.1);
	agrees(&p, "dense only: the reference solve");
	problem_free(&p);
}

/* A feature present on one row only: the reference, and that row's placement moves toward its target. */
static void
test_one_row_feature(void)
{
	Problem		p = problem_new(20, 3, 0, 2, 0.5, 0.01);
	int64_t		r;
	double		w[4 * 2];
	double		b[2];

	/* columns 0..2 random; column 3 only on row 7 */
	p.cols = realloc(p.cols, sizeof(int32_t) * (size_t) (p.indptr[20] + 1));
	p.values = realloc(p.values, sizeof(double) * (size_t) (p.indptr[20] + 1));
	/* shift the entries of rows 8.. by one, then insert column 3 at the end of row 7 */
	memmove(p.cols + p.indptr[8] + 1, p.cols + p.indptr[8], sizeof(int32_t) * (size_t) (p.indptr[20] - p.indptr[8]));
	memmove(p.values + p.indptr[8] + 1, p.values + p.indptr[8], sizeof(double) * (size_t) (p.indptr[20] - p.indptr[8]));
	p.cols[p.indptr[8]] = 3;
	p.values[p.indptr[8]] = 1.0;
	for (r = 8; r <= 20; r++)
		p.indptr[r]++;
	p.pr.cols = p.cols;
	p.pr.values = p.values;
	p.pr.n_sparse = 4;
	agrees(&p, "a feature on one row only: the reference solve");
	/* with a tiny penalty the one-row feature absorbs that row's residual: its placement is (nearly) its target */
	RecoRidgeFit(&p.pr, NULL, w, b);
	{
		float		fw[4 * 2];
		float		fb[2];
		float		out[2];
		int			i;

		for (i = 0; i < 8; i++)
			fw[i] = (float) w[i];
		fb[0] = (float) b[0];
		fb[1] = (float) b[1];
		RecoRidgePlace(fw, fb, 2, (int) (p.indptr[8] - p.indptr[7]), p.cols + p.indptr[7], p.values + p.indptr[7],
					   4, 0, NULL, out);
		ok(fabs(out[0] - p.targets[7 * 2]) < 0.05 && fabs(out[1] - p.targets[7 * 2 + 1]) < 0.05,
		   "a feature on one row only: that row placed (almost) at its own factors");
	}
	problem_free(&p);
}

/* Features that carry no information: W = 0 and b = the mean exactly; every placement is the mean. */
static void
test_no_information(void)
{
	Problem		p = problem_new(37, 0, 0, 6, 0, 10.0);
	double		w[2 * 6];
	double		b[6];
	float		fw[2 * 6];
	float		fb[6];
	float		out[6];
	double		mean[6] = {0};
	int32_t		cols[2] = {0, 1};
	double		values[2] = {1.0, 1.0};
	int64_t		r;
	int			zero = 1;
	int			is_mean = 1;
	int			placed = 1;
	int			t;

	/* two sparse features, both value 1 on every row */
	free(p.cols);
	free(p.values);
	p.cols = calloc(2 * 37, sizeof(int32_t));
	p.values = calloc(2 * 37, sizeof(double));
	for (r = 0; r < 37; r++)
	{
		p.cols[2 * r] = 0;
		p.cols[2 * r + 1] = 1;
		p.values[2 * r] = p.values[2 * r + 1] = 1.0;
		p.indptr[r + 1] = 2 * (r + 1);
	}
	p.pr.cols = p.cols;
	p.pr.values = p.values;
	p.pr.n_sparse = 2;
	ok(RecoRidgeFit(&p.pr, NULL, w, b) == RECO_STATUS_OK, "no information: fitted");
	for (r = 0; r < 37; r++)
		for (t = 0; t < 6; t++)
			mean[t] += p.targets[r * 6 + t];
	for (t = 0; t < 6; t++)
	{
		mean[t] /= 37.0;
		zero &= w[t] == 0.0 && w[6 + t] == 0.0;
		is_mean &= b[t] == mean[t];
		fw[t] = (float) w[t];
		fw[6 + t] = (float) w[6 + t];
		fb[t] = (float) b[t];
	}
	ok(zero, "no information: every weight is exactly 0");
	ok(is_mean, "no information: the intercept is exactly the mean");
	RecoRidgePlace(fw, fb, 6, 2, cols, values, 2, 0, NULL, out);
	for (t = 0; t < 6; t++)
		placed &= out[t] == (float) mean[t];
	ok(placed, "no information: an entity with those features is placed exactly on the mean");
	p.pr.lambda = 0;
	ok(RecoRidgeFit(&p.pr, NULL, w, b) == RECO_STATUS_NOT_POSITIVE_DEFINITE,
	   "no information with lambda 0: the system is singular");
	problem_free(&p);
}

/* Placement is b + Σ v·W + Σ e·W in the stored float32 weights. */
static void
test_place(void)
{
	float		w[3 * 2] = {1, 2, 3, 4, 0.5f, -1};
	float		b[2] = {10, 20};
	int32_t		cols[1] = {1};
	double		values[1] = {2};
	double		dense[1] = {4};
	float		out[2];

	RecoRidgePlace(w, b, 2, 1, cols, values, 2, 1, dense, out);
	ok(out[0] == 10 + 2 * 3 + 4 * 0.5f && out[1] == 20 + 2 * 4 + 4 * -1, "placement: intercept + value x weights + embedding x weights");
	RecoRidgePlace(w, b, 2, 0, NULL, NULL, 2, 0, NULL, out);
	ok(out[0] == 10 && out[1] == 20, "placement without features: the intercept");
}

/* A planted linear relation is recovered with a small penalty. */
static void
test_planted(void)
{
	Problem		p = problem_new(200, 4, 2, 3, 0.5, 1e-6);
	double		truth[6 * 3];
	double		w[6 * 3];
	double		b[3];
	int64_t		r;
	int			c;
	int			t;
	double		worst = 0;

	for (c = 0; c < 6 * 3; c++)
		truth[c] = rnd_uniform() * 2 - 1;
	for (r = 0; r < 200; r++)
		for (t = 0; t < 3; t++)
		{
			double		y = 0.25 * (t + 1);

			for (int64_t e = p.indptr[r]; e < p.indptr[r + 1]; e++)
				y += p.values[e] * truth[p.cols[e] * 3 + t];
			for (c = 0; c < 2; c++)
				y += p.dense[r * 2 + c] * truth[(4 + c) * 3 + t];
			p.targets[r * 3 + t] = (float) y;
		}
	ok(RecoRidgeFit(&p.pr, NULL, w, b) == RECO_STATUS_OK, "planted: fitted");
	for (c = 0; c < 6 * 3; c++)
		worst = fmax(worst, fabs(w[c] - truth[c]));
	for (t = 0; t < 3; t++)
		worst = fmax(worst, fabs(b[t] - 0.25 * (t + 1)));
	if (worst >= 1e-4)
		diag("planted max error", worst);
	ok(worst < 1e-4, "planted: the weights and intercept are recovered");
	problem_free(&p);
}

/* The stop hook stops the fit; bad input is refused. */
static void
test_stop_and_bad_input(void)
{
	HookState	h = hook_state(1);
	RecoHooks	hooks = {test_hook, &h, NULL};
	Problem		p = problem_new(3000, 5, 2, 4, 0.3, 1.0);
	double		b[4];
	double		w[7 * 4];

	ok(RecoRidgeFit(&p.pr, &hooks, w, b) == RECO_STATUS_STOPPED && h.calls == 2,
	   "stop: stopped at the second poll (row 1024)");
	h = hook_state(-1);
	ok(RecoRidgeFit(&p.pr, &hooks, w, b) == RECO_STATUS_OK && h.calls == 3 && !h.wrong_thread,
	   "the hook is polled every 1024 rows, on the calling thread");
	p.pr.lambda = -1;
	ok(RecoRidgeFit(&p.pr, NULL, w, b) == RECO_STATUS_INVALID_ARGUMENT, "a negative lambda is refused");
	p.pr.lambda = 1;
	p.pr.m = 0;
	ok(RecoRidgeFit(&p.pr, NULL, w, b) == RECO_STATUS_INVALID_ARGUMENT, "no rows is refused");
	problem_free(&p);
}

/* Refits with a kept factor (the feature-aware prior): the same bits as fresh fits, for new targets too. */
static void
test_refit(void)
{
	Problem		p = problem_new(60, 7, 3, 5, 0.4, 0.5);
	int			cols = p.pr.n_sparse + p.pr.n_dense;
	size_t		nw = (size_t) cols * p.pr.k;
	double	   *factor = malloc(sizeof(double) * (size_t) cols * (size_t) cols);
	double	   *w = calloc(nw, sizeof(double));
	double	   *b = calloc((size_t) p.pr.k, sizeof(double));
	double	   *fw = calloc(nw, sizeof(double));
	double	   *fb = calloc((size_t) p.pr.k, sizeof(double));
	int			factored = 0;
	RecoRidgeProblem kept = p.pr;
	int64_t		i;

	kept.factor = factor;
	kept.factored = &factored;
	ok(RecoRidgeFit(&kept, NULL, w, b) == RECO_STATUS_OK && factored == 1 &&
	   RecoRidgeFit(&p.pr, NULL, fw, fb) == RECO_STATUS_OK &&
	   memcmp(w, fw, sizeof(double) * nw) == 0 && memcmp(b, fb, sizeof(double) * p.pr.k) == 0,
	   "refit: the first fit with a kept factor equals a fresh fit bit for bit, and keeps the factor");
	for (i = 0; i < p.pr.m * p.pr.k; i++)
		p.targets[i] = p.targets[i] * 0.5f + (float) (i % 7) * 0.125f;
	ok(RecoRidgeFit(&kept, NULL, w, b) == RECO_STATUS_OK && RecoRidgeFit(&p.pr, NULL, fw, fb) == RECO_STATUS_OK &&
	   memcmp(w, fw, sizeof(double) * nw) == 0 && memcmp(b, fb, sizeof(double) * p.pr.k) == 0,
	   "refit: new targets through the kept factor equal a fresh fit bit for bit");
	kept.factored = NULL;
	ok(RecoRidgeFit(&kept, NULL, w, b) == RECO_STATUS_INVALID_ARGUMENT, "refit: a factor without its flag is refused");
	free(factor);
	free(w);
	free(b);
	free(fw);
	free(fb);
	problem_free(&p);
}

/* Runs every test. */
int
main(void)
{
	printf("1..%d\n", TEST_PLAN);
	test_reference();
	test_one_row_feature();
	test_no_information();
	test_place();
	test_planted();
	test_stop_and_bad_input();
	test_refit();
	ok(RecoRidgeBytes(100, 8) >= sizeof(double) * (100 * 100 + 100 * 8), "the byte estimate covers the p x p system");
	return tap_exit_status(TEST_PLAN);
}
