/*-------------------------------------------------------------------------
 *
 * test_als.c
 *	  Standalone TAP unit tests of the iALS solver (src/als.c) and its
 *	  kernels (src/kernels.c, src/kernels_avx2.c).
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 * Every check compares against values computed independently here, in
 * double precision, from the definitions (implicit 0.7 conventions).
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "kernels.h"
#include "kernels_impl.h"
#include "tap.h"

/* A test problem: CSR of users, CSC of items, both owned. */
typedef struct Problem
{
	int64_t		m,
				n;
	int64_t    *rp;
	int32_t    *ri;
	float	   *rw;
	int64_t    *cp;
	int32_t    *ci;
	float	   *cw;
	RecoSparse	users;
	RecoSparse	items;
} Problem;

/*
 * Random m x n problem: each user gets about `density` of the items (at
 * least min_per_user), weights 1..5; with neg_every > 0 every neg_every-th
 * entry is negated.
 */
static void
make_problem(Problem *p, int64_t m, int64_t n, double density,
			 int min_per_user, int neg_every)
{
	int64_t		u,
				i,
				nnz = 0,
				cap = (int64_t) (m * n * density) + m * (min_per_user + 1) + 16;
	int64_t    *fill;

	p->m = m;
	p->n = n;
	p->rp = calloc(m + 1, sizeof(int64_t));
	p->ri = malloc(sizeof(int32_t) * cap);
	p->rw = malloc(sizeof(float) * cap);
	for (u = 0; u < m; u++)
	{
		int64_t		have = 0;

		if (min_per_user == 0 && u % 50 == 49)
		{
			p->rp[u + 1] = nnz; /* every 50th user is empty */
			continue;
		}
		for (i = 0; i < n && nnz < cap; i++)
		{
			int64_t		left = n - i;
			int64_t		need = min_per_user - have;

			if (rnd_uniform() < density || (need > 0 && need >= left))
			{
				p->ri[nnz] = (int32_t) i;
				p->rw[nnz] = (float) (1 + rnd() % 5);
				if (neg_every > 0 && nnz % neg_every == neg_every - 1)
					p->rw[nnz] = -p->rw[nnz];
				nnz++;
				have++;
			}
		}
		p->rp[u + 1] = nnz;
	}
	p->cp = calloc(n + 1, sizeof(int64_t));
	p->ci = malloc(sizeof(int32_t) * (nnz + 1));
	p->cw = malloc(sizeof(float) * (nnz + 1));
	for (i = 0; i < nnz; i++)
		p->cp[p->ri[i] + 1]++;
	for (i = 0; i < n; i++)
		p->cp[i + 1] += p->cp[i];
	fill = malloc(sizeof(int64_t) * (n + 1));
	memcpy(fill, p->cp, sizeof(int64_t) * (n + 1));
	for (u = 0; u < m; u++)
		for (i = p->rp[u]; i < p->rp[u + 1]; i++)
		{
			int64_t		pos = fill[p->ri[i]]++;

			p->ci[pos] = (int32_t) u;
			p->cw[pos] = p->rw[i];
		}
	free(fill);
	p->users = (RecoSparse) {m, n, p->rp, p->ri, p->rw};
	p->items = (RecoSparse) {n, m, p->cp, p->ci, p->cw};
}

/* Frees a problem. */
static void
free_problem(Problem *p)
{
	free(p->rp);
	free(p->ri);
	free(p->rw);
	free(p->cp);
	free(p->ci);
	free(p->cw);
}

/* Initial factors for both sides with ids 0.. (users stream 0, items 1). */
static void
init_factors(const Problem *p, int k, float **X, float **Y, uint64_t seed)
{
	int64_t		i,
				mx = p->m > p->n ? p->m : p->n;
	int64_t    *ids = malloc(sizeof(int64_t) * mx);

	for (i = 0; i < mx; i++)
		ids[i] = i;
	*X = malloc(sizeof(float) * p->m * k);
	*Y = malloc(sizeof(float) * p->n * k);
	RecoAlsInitFactors(*X, p->m, k, ids, seed, 0);
	RecoAlsInitFactors(*Y, p->n, k, ids, seed, 1);
	free(ids);
}

/* A config with the usual test values. */
static RecoAlsConfig
config(int k, RecoSolver solver, int cg_steps, int threads, float reg,
	   float alpha)
{
	RecoAlsConfig c;

	c.factors = k;
	c.regularization = reg;
	c.alpha = alpha;
	c.cg_steps = cg_steps;
	c.solver = solver;
	c.threads = threads;
	c.reg_exponent = 0.0f;		/* implicit's system */
	c.unobserved_weight = 1.0f;
	c.cg_vectors = RECO_CG_VECTORS_HALF;	/* the half A·p passes (training's from k 64) at every k */
	return c;
}

/* The single-row system of a model with these values (n_fixed rows on the other side). */
static RecoAlsRowParams
row_params(float alpha, float reg, float nu, float a0, int64_t n_fixed)
{
	RecoAlsRowParams rp = {alpha, reg, nu, a0, n_fixed};

	return rp;
}

/*
 * Builds, in double, the system of row r of `rows` given fixed F (N rows):
 * A = α0·FᵀF + λ_u I + Σ (|c| − α0) f fᵀ, b = Σ c⁺ f, λ_u = λ·(n_r + α0·N)^ν
 * (FtF: FᵀF in double, or NULL: computed here).
 */
static void
ref_system_gram(const RecoSparse *rows, const float *F, const double *FtF,
				int k, int64_t r, double alpha, double reg, double nu,
				double a0, double *A, double *b)
{
	double		lambda = reg * pow((double) (rows->indptr[r + 1] - rows->indptr[r]) +
								   a0 * (double) rows->n_cols, nu);

	int64_t		i,
				e;
	int			a,
				c;

	memset(A, 0, sizeof(double) * k * k);
	memset(b, 0, sizeof(double) * k);
	for (i = 0; FtF == NULL && i < rows->n_cols; i++)
		for (a = 0; a < k; a++)
			for (c = 0; c < k; c++)
				A[a * k + c] += a0 * F[i * k + a] * F[i * k + c];
	for (a = 0; FtF != NULL && a < k * k; a++)
		A[a] = a0 * FtF[a];
	for (a = 0; a < k; a++)
		A[a * k + a] += lambda;
	for (e = rows->indptr[r]; e < rows->indptr[r + 1]; e++)
	{
		const float *f = F + (size_t) rows->indices[e] * k;
		double		conf = alpha * rows->weights[e];
		double		pref = conf > 0 ? conf : 0;

		conf = fabs(conf);
		for (a = 0; a < k; a++)
		{
			b[a] += pref * f[a];
			for (c = 0; c < k; c++)
				A[a * k + c] += (conf - a0) * f[a] * f[c];
		}
	}
}

/* ref_system_gram computing FᵀF itself. */
static void
ref_system(const RecoSparse *rows, const float *F, int k, int64_t r,
		   double alpha, double reg, double nu, double a0, double *A, double *b)
{
	ref_system_gram(rows, F, NULL, k, r, alpha, reg, nu, a0, A, b);
}

/* Relative residual |A x − b| / |b| in double. */
static double
ref_residual(const double *A, const double *b, const float *x, int k)
{
	double		num = 0,
				den = 0;
	int			a,
				c;

	for (a = 0; a < k; a++)
	{
		double		s = -b[a];

		for (c = 0; c < k; c++)
			s += A[a * k + c] * x[c];
		num += s * s;
		den += b[a] * b[a];
	}
	return sqrt(num) / (sqrt(den) + 1e-30);
}

/* implicit's least_squares_cg for one row, in double, from x (updated). */
static void
ref_cg_row(const double *A, const double *b, double *x, int k, int steps)
{
	double	   *r = malloc(sizeof(double) * k),
			   *p = malloc(sizeof(double) * k),
			   *Ap = malloc(sizeof(double) * k);
	double		rsold = 0,
				rsnew;
	int			a,
				c,
				it;

	for (a = 0; a < k; a++)
	{
		r[a] = b[a];
		for (c = 0; c < k; c++)
			r[a] -= A[a * k + c] * x[c];
		p[a] = r[a];
		rsold += r[a] * r[a];
	}
	if (rsold >= 1e-20)
		for (it = 0; it < steps; it++)
		{
			double		pAp = 0,
						al;

			for (a = 0; a < k; a++)
			{
				Ap[a] = 0;
				for (c = 0; c < k; c++)
					Ap[a] += A[a * k + c] * p[c];
				pAp += p[a] * Ap[a];
			}
			al = rsold / pAp;
			rsnew = 0;
			for (a = 0; a < k; a++)
			{
				x[a] += al * p[a];
				r[a] -= al * Ap[a];
				rsnew += r[a] * r[a];
			}
			if (rsnew < 1e-20)
				break;
			for (a = 0; a < k; a++)
				p[a] = r[a] + rsnew / rsold * p[a];
			rsold = rsnew;
		}
	free(r);
	free(p);
	free(Ap);
}

/*
 * Loss by brute force over every (user, item) pair, in double: unobserved
 * pairs weigh α0, a row's ridge λ·(n + α0·N)^ν; with half, an observed
 * pair's y·x reads y rounded to half (the CG loss with half passes: the
 * pair's α0·(y·x)² inside α0·xᵀYᵀYx stays float).
 */
static double
ref_loss(const Problem *p, const float *X, const float *Y, int k, double reg,
		 double alpha, double nu, double a0, bool half)
{
	double		loss = 0,
				conf_sum = 0,
				norms = 0;
	int64_t		u,
				i,
				e;
	int			j;

	for (u = 0; u < p->m; u++)
	{
		e = p->rp[u];
		for (i = 0; i < p->n; i++)
		{
			double		s = 0,
						sh = 0,
						pref = 0,
						conf = a0;

			for (j = 0; j < k; j++)
			{
				s += (double) X[u * k + j] * Y[i * k + j];
				sh += (double) X[u * k + j] *
					(half ? RecoHalfToFloat(RecoFloatToHalf(Y[i * k + j])) : Y[i * k + j]);
			}
			if (e < p->rp[u + 1] && p->ri[e] == i)
			{
				double		c = alpha * p->rw[e];

				pref = c > 0 ? 1 : 0;
				conf = fabs(c);
				conf_sum += conf;
				e++;
				/* the observed pair's term from sh, its share of α0·xᵀYᵀYx from s */
				loss += conf * (pref - sh) * (pref - sh) + a0 * (s * s - sh * sh);
				continue;
			}
			loss += conf * (pref - s) * (pref - s);
		}
	}
	for (u = 0; u < p->m; u++)
		for (j = 0; j < k; j++)
			norms += pow((double) (p->rp[u + 1] - p->rp[u]) + a0 * p->n, nu) *
				X[u * k + j] * X[u * k + j];
	for (i = 0; i < p->n; i++)
		for (j = 0; j < k; j++)
			norms += pow((double) (p->cp[i + 1] - p->cp[i]) + a0 * p->m, nu) *
				Y[i * k + j] * Y[i * k + j];
	return (loss + reg * norms) /
		(conf_sum + a0 * ((double) p->m * p->n - (double) p->rp[p->m]));
}

/* Max |a − b| / (max |b| + tiny) over n values. */
static double
rel_diff(const float *a, const float *b, int64_t n)
{
	double		d = 0,
				mx = 0;
	int64_t		i;

	for (i = 0; i < n; i++)
	{
		if (fabs((double) a[i] - b[i]) > d)
			d = fabs((double) a[i] - b[i]);
		if (fabs((double) b[i]) > mx)
			mx = fabs((double) b[i]);
	}
	return d / (mx + 1e-30);
}

/* Runs `iters` full ALS iterations; returns the first non-OK status. */
static RecoStatus
train(const Problem *p, float *X, float *Y, const RecoAlsConfig *cfg,
	  int iters, const RecoHooks *hooks)
{
	int			it;
	RecoStatus st = RECO_STATUS_OK;

	for (it = 0; it < iters && st == RECO_STATUS_OK; it++)
	{
		st = RecoAlsSolveSide(&p->users, Y, X, cfg, hooks);
		if (st == RECO_STATUS_OK)
			st = RecoAlsSolveSide(&p->items, X, Y, cfg, hooks);
	}
	return st;
}

/*
 * The threaded initial factors (training's) equal RecoAlsInitFactors bit for
 * bit with 1, 2 and 3 threads: 0 and 1 rows, rows a multiple of a task's
 * and not, k 1 .. 1024; should_stop is asked on the calling thread only,
 * and a stop is RECO_STATUS_STOPPED.
 */
static void
test_init_threaded(void)
{
	int64_t		sizes[7] = {0, 1, 10007, 9000, 4096, 4097, 8192};	/* tasks are 4096 rows */
	int			ks[7] = {13, 1, 64, 1024, 8, 3, 16};
	int64_t    *ids = malloc(sizeof(int64_t) * 10007);
	HookState	h = hook_state(0),
				polled = hook_state(-1);
	RecoHooks	hooks = {test_hook, &h, NULL},
				poll_hooks = {test_hook, &polled, NULL};
	float	   *x = malloc(sizeof(float) * 10007 * 4);
	bool		same = true;
	int			c,
				t;
	int64_t		r;

	for (r = 0; r < 10007; r++)
		ids[r] = r * 7919 - 5000;
	for (c = 0; c < 7; c++)
	{
		size_t		bytes = sizeof(float) * (size_t) (sizes[c] > 0 ? sizes[c] : 1) * ks[c];
		float	   *want = malloc(bytes);
		float	   *got = malloc(bytes);

		RecoAlsInitFactors(want, sizes[c], ks[c], ids, 42, 1);
		for (t = 1; t <= 3; t++)
		{
			memset(got, 0, bytes);
			if (RecoAlsInitFactorsThreaded(got, sizes[c], ks[c], ids, 42, 1, t, NULL) != RECO_STATUS_OK ||
				memcmp(want, got, sizeof(float) * (size_t) sizes[c] * ks[c]) != 0)
				same = false;
		}
		free(want);
		free(got);
	}
	ok(same, "init: the threaded initial factors equal RecoAlsInitFactors bit for bit (1-3 threads; 0, 1, 4096, 4097, 8192, 9000, 10007 rows; k 1, 3, 8, 13, 16, 64, 1024)");
	ok(RecoAlsInitFactorsThreaded(x, 10007, 4, ids, 42, 1, 3, &poll_hooks) == RECO_STATUS_OK &&
	   polled.calls >= 1 && !polled.wrong_thread,
	   "init: the threaded initial factors poll should_stop, only on the calling thread (3 threads)");
	ok(RecoAlsInitFactorsThreaded(x, 10007, 4, ids, 42, 1, 2, &hooks) == RECO_STATUS_STOPPED,
	   "init: should_stop stops the threaded initial factors (RECO_STATUS_STOPPED)");
	free(x);
	free(ids);
}

/* Initialisation: range, determinism, dependence only on (seed, stream, id). */
static void
test_init(void)
{
	int64_t		ids1[3] = {7, 1000000007, -3};
	int64_t		ids2[3] = {-3, 5, 7};
	float		a[3 * 16],
				b[3 * 16],
				c[3 * 16],
				d[3 * 16];
	int			i,
				inrange = 1,
				distinct = 0;

	RecoAlsInitFactors(a, 3, 16, ids1, 42, 0);
	RecoAlsInitFactors(b, 3, 16, ids2, 42, 0);
	RecoAlsInitFactors(c, 3, 16, ids1, 43, 0);
	RecoAlsInitFactors(d, 3, 16, ids1, 42, 1);
	for (i = 0; i < 48; i++)
	{
		if (!(a[i] >= 0.0f && a[i] < 0.01f))
			inrange = 0;
		if (a[i] != a[0])
			distinct = 1;
	}
	ok(inrange && distinct, "init: values in [0, 0.01) and not constant");
	ok(memcmp(a, b + 32, 16 * sizeof(float)) == 0 &&
	   memcmp(a + 32, b, 16 * sizeof(float)) == 0,
	   "init: a row depends on its id, not its position");
	ok(memcmp(a, c, sizeof(a)) != 0 && memcmp(a, d, sizeof(a)) != 0 &&
	   memcmp(a + 16, b + 16, 16 * sizeof(float)) != 0,
	   "init: seed, stream and id each change the values");
	RecoAlsInitFactors(c, 3, 16, ids1, 42, 0);
	ok(memcmp(a, c, sizeof(a)) == 0, "init: same inputs, bit-identical output");
	test_init_threaded();
}

/* The tiny tests' one user: item 0 at weight 3. */
static int64_t tiny_ip[2] = {0, 1};
static int32_t tiny_ix[1] = {0};
static float tiny_w[1] = {3.0f};

/*
 * k = 1, one user whose single entry is item 0 (index ix[0]) of the fixed
 * side y (s->n_cols rows): the Cholesky side solve, one CG step from 0 and
 * SolveRowExact each give `want` (three checks named after `label`).
 */
static void
tiny_solves(const RecoSparse *s, const float *y, RecoAlsConfig cfg, double want,
			const char *label)
{
	float		x[1] = {0.0f},
				xe[1],
				gram[1];
	RecoAlsRowParams rp = row_params(cfg.alpha, cfg.regularization, cfg.reg_exponent,
									 cfg.unobserved_weight, s->n_cols);
	RecoStatus st;
	char		name[160];

	cfg.solver = RECO_SOLVER_CHOLESKY;
	st = RecoAlsSolveSide(s, y, x, &cfg, NULL);
	snprintf(name, sizeof(name), "%s: Cholesky gives the closed form", label);
	ok(st == RECO_STATUS_OK && fabs(x[0] - want) < 1e-6 * want, name);
	diag("tiny want", want);
	diag("tiny cholesky", x[0]);
	x[0] = 0.0f;
	cfg.solver = RECO_SOLVER_CG;
	cfg.cg_steps = 1;
	st = RecoAlsSolveSide(s, y, x, &cfg, NULL);
	snprintf(name, sizeof(name), "%s: one CG step from 0 is exact for k = 1", label);
	ok(st == RECO_STATUS_OK && fabs(x[0] - want) < 1e-6 * want, name);
	RecoAlsGram(y, s->n_cols, 1, gram);
	snprintf(name, sizeof(name), "%s: SolveRowExact gives the closed form", label);
	ok(RecoAlsSolveRowExact(gram, y, 1, s->indices, s->weights, 1, &rp, xe) &&
	   fabs(xe[0] - want) < 1e-6 * want, name);
}

/* 1 user x 1 item, k = 1: x = c y / (c y² + λ) in closed form. */
static void
test_tiny(void)
{
	RecoSparse	s = {1, 1, tiny_ip, tiny_ix, tiny_w};
	float		y[1] = {0.5f},
				x[1] = {0.0f};
	double		alpha = 2.0,
				reg = 0.1,
				c = alpha * 3.0,
				want = c * 0.5 / (c * 0.25 + reg);
	RecoAlsConfig cfg = config(1, RECO_SOLVER_CHOLESKY, 0, 1, (float) reg, (float) alpha);
	RecoStatus st;

	tiny_solves(&s, y, cfg, want, "tiny (c y / (c y^2 + lambda))");
	/* weight with c < 1 (alpha 0.1 x 3 = 0.3) still uses preference 1 */
	cfg.alpha = 0.1f;
	st = RecoAlsSolveSide(&s, y, x, &cfg, NULL);
	want = 0.3 * 0.5 / (0.3 * 0.25 + reg);
	ok(st == RECO_STATUS_OK && fabs(x[0] - want) < 1e-5 * want,
	   "tiny: confidence below 1 (alpha 0.1) is still preference 1");
}

/*
 * Frequency-scaled ridge and unobserved weight by hand: k = 1, items
 * y = (0.5, 0.3), one user with item 0 at weight 3, alpha 2 (c = 6),
 * λ = 0.1, ν = 1, α0 = 0.5: λ_u = 0.1·(1 + 0.5·2) = 0.2 and
 * A = 0.5·(0.25 + 0.09) + (6 − 0.5)·0.25 + 0.2 = 1.745, b = 6·0.5 = 3.
 */
static void
test_tiny_freq(void)
{
	RecoSparse	s = {1, 2, tiny_ip, tiny_ix, tiny_w};
	float		y[2] = {0.5f, 0.3f},
				gram[1];
	double		U[1];
	RecoAlsConfig cfg = config(1, RECO_SOLVER_CHOLESKY, 0, 1, 0.1f, 2.0f);
	RecoAlsRowParams rp = row_params(2.0f, 0.1f, 1.0f, 0.5f, 2);

	cfg.reg_exponent = 1.0f;
	cfg.unobserved_weight = 0.5f;
	ok(RecoAlsRowLambda(0.1f, 1.0f, 0.5f, 2, 1) == (float) (0.1 * 2.0) &&
	   RecoAlsRowLambda(0.1f, 0.0f, 0.5f, 2, 1) == 0.1f &&
	   fabs(RecoAlsRowLambda(0.1f, 0.5f, 0.25f, 8, 2) - 0.2) < 1e-7,
	   "freq tiny: lambda_u = lambda (n + a0 N)^nu (0.2; nu 0 gives lambda)");
	tiny_solves(&s, y, cfg, 3.0 / 1.745, "freq tiny (c y / (a0 |Y|^2 + (c - a0) y^2 + lambda_u))");
	RecoAlsGram(y, 2, 1, gram);
	ok(RecoAlsRowFactor(gram, y, 1, tiny_ix, tiny_w, 1, &rp, U) &&
	   fabs(U[0] * U[0] - 1.745) < 1e-6, "freq tiny: RowFactor's U^2 is A = 1.745");
}

/* Gram matrix against a double computation. */
static void
test_gram(void)
{
	int			n = 1000,
				k = 24,
				i,
				a,
				b;
	float	   *Y = malloc(sizeof(float) * n * k),
			   *G = malloc(sizeof(float) * k * k);
	double		err = 0;

	for (i = 0; i < n * k; i++)
		Y[i] = (float) (rnd_uniform() - 0.5);
	RecoAlsGram(Y, n, k, G);
	for (a = 0; a < k; a++)
		for (b = 0; b < k; b++)
		{
			double		s = 0;

			for (i = 0; i < n; i++)
				s += (double) Y[i * k + a] * Y[i * k + b];
			if (fabs(s - G[a * k + b]) > err)
				err = fabs(s - G[a * k + b]);
		}
	ok(err < 1e-3, "gram: YᵀY matches double computation, symmetric");
	free(Y);
	free(G);
}

/* Cholesky rows satisfy the normal equations; CG converges to them; CG matches implicit's. */
/*
 * An 80 x 50 problem (weights 1..5, every neg_every-th negated) after two
 * CG iterations from seed 42, so that Y is a realistic, non-tiny matrix;
 * returns the config (k, λ 0.1, α 2, ν, α0; CG, 3 steps, 1 thread).
 */
static RecoAlsConfig
trained_problem(Problem *p, int k, float nu, float a0, int neg_every, float **X, float **Y)
{
	RecoAlsConfig cfg;

	make_problem(p, 80, 50, 0.15, 1, neg_every);
	init_factors(p, k, X, Y, 42);
	cfg = config(k, RECO_SOLVER_CG, 3, 1, 0.1f, 2.0f);
	cfg.reg_exponent = nu;
	cfg.unobserved_weight = a0;
	(void) train(p, *X, *Y, &cfg, 2, NULL);
	return cfg;
}

static void
test_solvers(int k, const char *label, float nu, float a0)
{
	Problem		p;
	float	   *X,
			   *Y,
			   *Xc,
			   *Xg,
			   *Xr;
	double	   *A = malloc(sizeof(double) * k * k),
			   *b = malloc(sizeof(double) * k),
			   *xd = malloc(sizeof(double) * k);
	double		worst = 0,
				cgdiff,
				refdiff;
	RecoAlsConfig cfg;
	RecoStatus st1,
				st2,
				st3;
	char		name[200];
	int64_t		u;
	int			j;

	cfg = trained_problem(&p, k, nu, a0, 7, &X, &Y);
	Xc = malloc(sizeof(float) * p.m * k);
	Xg = malloc(sizeof(float) * p.m * k);
	Xr = malloc(sizeof(float) * p.m * k);
	memcpy(Xc, X, sizeof(float) * p.m * k);
	memcpy(Xg, X, sizeof(float) * p.m * k);
	memcpy(Xr, X, sizeof(float) * p.m * k);

	cfg.solver = RECO_SOLVER_CHOLESKY;
	st1 = RecoAlsSolveSide(&p.users, Y, Xc, &cfg, NULL);
	for (u = 0; u < p.m; u++)
	{
		double		res;

		ref_system(&p.users, Y, k, u, 2.0, 0.1, nu, a0, A, b);
		res = ref_residual(A, b, Xc + u * k, k);
		if (res > worst)
			worst = res;
	}
	snprintf(name, sizeof(name), "%s: Cholesky rows solve the normal equations (double residual)", label);
	ok(st1 == RECO_STATUS_OK && worst < 1e-4, name);
	diag("worst relative residual", worst);

	cfg.solver = RECO_SOLVER_CG;
	cfg.cg_steps = 3 * k < RECO_MAX_CG_STEPS ? 3 * k : RECO_MAX_CG_STEPS;
	st2 = RecoAlsSolveSide(&p.users, Y, Xg, &cfg, NULL);
	cgdiff = rel_diff(Xg, Xc, p.m * k);
	snprintf(name, sizeof(name), "%s: CG with many steps converges to the Cholesky solution", label);
	ok(st2 == RECO_STATUS_OK && cgdiff < 2e-3, name);
	diag("max relative difference", cgdiff);

	/* 3 CG steps against implicit's algorithm run in double (implicit's passes are float32) */
	cfg.cg_steps = 3;
	cfg.cg_vectors = RECO_CG_VECTORS_FLOAT;
	st3 = RecoAlsSolveSide(&p.users, Y, Xr, &cfg, NULL);
	refdiff = 0;
	for (u = 0; u < p.m; u++)
	{
		ref_system(&p.users, Y, k, u, 2.0, 0.1, nu, a0, A, b);
		for (j = 0; j < k; j++)
			xd[j] = X[u * k + j];
		ref_cg_row(A, b, xd, k, 3);
		for (j = 0; j < k; j++)
		{
			double		d = fabs(xd[j] - Xr[u * k + j]) / (fabs(xd[j]) + 1e-2);

			if (d > refdiff)
				refdiff = d;
		}
	}
	snprintf(name, sizeof(name), "%s: 3 warm-started CG steps (float32 A·p passes) match implicit's least_squares_cg", label);
	ok(st3 == RECO_STATUS_OK && refdiff < 1e-2, name);
	diag("max relative difference", refdiff);

	free(A);
	free(b);
	free(xd);
	free(X);
	free(Y);
	free(Xc);
	free(Xg);
	free(Xr);
	free_problem(&p);
}

/*
 * The loss tests' problem: 60 x 40 with negative feedback, factors from
 * `seed` after one iteration of cfg with ν and α0 set (both written to cfg).
 */
static void
loss_problem(Problem *p, RecoAlsConfig *cfg, float nu, float a0, uint64_t seed,
			 float **X, float **Y)
{
	cfg->reg_exponent = nu;
	cfg->unobserved_weight = a0;
	make_problem(p, 60, 40, 0.2, 1, 5);
	init_factors(p, cfg->factors, X, Y, seed);
	(void) train(p, *X, *Y, cfg, 1, NULL);
}

/* Loss formula, and non-increasing loss over Cholesky iterations (with ν and α0). */
static void
test_loss(float nu, float a0)
{
	Problem		p;
	float	   *X,
			   *Y;
	int			k = 8,
				it,
				monotone = 1;
	double		l,
				prev = INFINITY,
				want;
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CHOLESKY, 3, 1, 0.5f, 3.0f);
	RecoStatus st;
	char		name[160];

	loss_problem(&p, &cfg, nu, a0, 1, &X, &Y);
	st = RecoAlsLoss(&p.users, X, Y, &cfg, NULL, &l);
	want = ref_loss(&p, X, Y, k, 0.5, 3.0, nu, a0, false);
	snprintf(name, sizeof(name), "loss (nu %g, a0 %g): equals brute force over all pairs (with negative feedback)",
			 nu, a0);
	ok(st == RECO_STATUS_OK && fabs(l - want) < 1e-6 * fabs(want) + 1e-9, name);
	diag("loss", l);
	diag("brute force", want);

	for (it = 0; it < 8; it++)
	{
		(void) train(&p, X, Y, &cfg, 1, NULL);
		st = RecoAlsLoss(&p.users, X, Y, &cfg, NULL, &l);
		if (st != RECO_STATUS_OK || l > prev * (1 + 1e-6))
			monotone = 0;
		prev = l;
	}
	snprintf(name, sizeof(name), "loss (nu %g, a0 %g): non-increasing over Cholesky iterations", nu, a0);
	ok(monotone, name);
	free(X);
	free(Y);
	free_problem(&p);
}

/*
 * The CG solver's loss with half passes (RecoAlsLoss, as the fused user step
 * forms it): each observed pair's y·x from y rounded to half, the rest
 * (YᵀY, the norms) from Y in float.  Checked against that formula by brute
 * force in double, and against the float32 objective (the Cholesky
 * solver's loss, and the CG's with float passes) within 1e-4 relative.
 */
static void
test_loss_half(int k, float nu, float a0)
{
	Problem		p;
	float	   *X,
			   *Y;
	double		l_half,
				l_float,
				l_cg_float,
				want;
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 2, 0.5f, 3.0f),
				chol,
				cgf;
	RecoStatus	st1,
				st2,
				st3;
	char		name[200];

	loss_problem(&p, &cfg, nu, a0, 3, &X, &Y);
	chol = cgf = cfg;
	chol.solver = RECO_SOLVER_CHOLESKY;
	cgf.cg_vectors = RECO_CG_VECTORS_FLOAT;
	st1 = RecoAlsLoss(&p.users, X, Y, &cfg, NULL, &l_half);
	st2 = RecoAlsLoss(&p.users, X, Y, &chol, NULL, &l_float);
	st3 = RecoAlsLoss(&p.users, X, Y, &cgf, NULL, &l_cg_float);
	want = ref_loss(&p, X, Y, k, 0.5, 3.0, nu, a0, true);
	snprintf(name, sizeof(name), "CG loss with half passes (k %d, nu %g, a0 %g): y·x of observed pairs from y rounded to half (brute force)",
			 k, nu, a0);
	ok(st1 == RECO_STATUS_OK && fabs(l_half - want) < 1e-6 * fabs(want), name);
	diag("loss, half passes", l_half);
	diag("brute force", want);
	snprintf(name, sizeof(name), "CG loss with half passes (k %d): within 1e-4 of the float32 objective, which CG with float passes gives bit for bit", k);
	ok(st2 == RECO_STATUS_OK && st3 == RECO_STATUS_OK &&
	   memcmp(&l_float, &l_cg_float, sizeof(double)) == 0 &&
	   fabs(l_half - l_float) < 1e-4 * fabs(l_float) && l_half != l_float, name);
	diag("float32 objective", l_float);
	diag("relative difference", fabs(l_half - l_float) / fabs(l_float));
	free(X);
	free(Y);
	free_problem(&p);
}

/* Bit-identical results for the same inputs, and across thread counts. */
static void
test_determinism(void)
{
	Problem		p;
	float	   *X1,
			   *Y1,
			   *X2,
			   *Y2,
			   *X3,
			   *Y3;
	int			k = 32;
	double		l1,
				l2,
				l3;
	RecoAlsConfig c1 = config(k, RECO_SOLVER_CG, 3, 1, 0.05f, 1.0f);
	RecoAlsConfig c2 = c1,
				c3 = c1;
	RecoStatus s1,
				s2,
				s3;

	c2.threads = 2;
	c3.threads = 3;
	/* big enough for many chunks, skewed: item 0..9 in everyone's list */
	make_problem(&p, 4000, 600, 0.05, 10, 0);
	init_factors(&p, k, &X1, &Y1, 9);
	init_factors(&p, k, &X2, &Y2, 9);
	init_factors(&p, k, &X3, &Y3, 9);
	s1 = train(&p, X1, Y1, &c1, 3, NULL);
	s2 = train(&p, X2, Y2, &c2, 3, NULL);
	s3 = train(&p, X3, Y3, &c3, 3, NULL);
	ok(s1 == RECO_STATUS_OK && s2 == RECO_STATUS_OK && s3 == RECO_STATUS_OK &&
	   memcmp(X1, X2, sizeof(float) * p.m * k) == 0 &&
	   memcmp(Y1, Y2, sizeof(float) * p.n * k) == 0 &&
	   memcmp(X1, X3, sizeof(float) * p.m * k) == 0 &&
	   memcmp(Y1, Y3, sizeof(float) * p.n * k) == 0,
	   "determinism: CG factors bit-identical with 1, 2 and 3 threads");
	s1 = RecoAlsLoss(&p.users, X1, Y1, &c1, NULL, &l1);
	s2 = RecoAlsLoss(&p.users, X1, Y1, &c2, NULL, &l2);
	s3 = RecoAlsLoss(&p.users, X1, Y1, &c3, NULL, &l3);
	ok(s1 == RECO_STATUS_OK && s2 == RECO_STATUS_OK && s3 == RECO_STATUS_OK &&
	   memcmp(&l1, &l2, sizeof(double)) == 0 && memcmp(&l1, &l3, sizeof(double)) == 0,
	   "determinism: loss bit-identical with 1, 2 and 3 threads");
	free(X2);
	free(Y2);
	init_factors(&p, k, &X2, &Y2, 9);
	s2 = train(&p, X2, Y2, &c2, 3, NULL);
	ok(s2 == RECO_STATUS_OK && memcmp(X1, X2, sizeof(float) * p.m * k) == 0 &&
	   memcmp(Y1, Y2, sizeof(float) * p.n * k) == 0,
	   "determinism: same seed, same threads, rerun bit-identical");

	c1.solver = c2.solver = RECO_SOLVER_CHOLESKY;
	s1 = RecoAlsSolveSide(&p.items, X1, Y1, &c1, NULL);
	s2 = RecoAlsSolveSide(&p.items, X1, Y2, &c2, NULL);
	ok(s1 == RECO_STATUS_OK && s2 == RECO_STATUS_OK &&
	   memcmp(Y1, Y2, sizeof(float) * p.n * k) == 0,
	   "determinism: Cholesky side bit-identical with 1 and 2 threads");
	free(X1);
	free(Y1);
	free(X2);
	free(Y2);
	free(X3);
	free(Y3);
	free_problem(&p);
}

/* SolveRowExact is bit-identical to the Cholesky side solve (ν and α0 as given). */
static void
test_row_exact(int k, float nu, float a0)
{
	Problem		p;
	float	   *X,
			   *Y,
			   *gram = malloc(sizeof(float) * k * k),
			   *x = malloc(sizeof(float) * k);
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CHOLESKY, 3, 2, 0.2f, 1.5f);
	RecoAlsRowParams rp = row_params(1.5f, 0.2f, nu, a0, 70);
	int			same = 1;
	int64_t		u;
	char		name[160];

	cfg.reg_exponent = nu;
	cfg.unobserved_weight = a0;
	make_problem(&p, 50, 70, 0.2, 0, 9);
	init_factors(&p, k, &X, &Y, 3);
	(void) train(&p, X, Y, &cfg, 2, NULL);
	(void) RecoAlsSolveSide(&p.users, Y, X, &cfg, NULL);
	RecoAlsGram(Y, p.n, k, gram);
	for (u = 0; u < p.m; u++)
	{
		int64_t		s = p.rp[u];

		if (!RecoAlsSolveRowExact(gram, Y, k, p.ri + s, p.rw + s,
								  p.rp[u + 1] - s, &rp, x) ||
			memcmp(x, X + u * k, sizeof(float) * k) != 0)
			same = 0;
	}
	snprintf(name, sizeof(name), "row exact (k=%d, nu %g, a0 %g): bit-identical to the Cholesky side solve",
			 k, nu, a0);
	ok(same, name);
	/* the threaded solve with a given Gram matrix (refresh_users) gives the same rows */
	{
		float	   *X2 = malloc(sizeof(float) * p.m * k);
		RecoStatus	st = RecoAlsSolveRowsExact(&p.users, gram, Y, X2, &cfg, NULL);

		snprintf(name, sizeof(name), "rows exact (k=%d, nu %g, a0 %g, 2 threads, given Gram): bit-identical to the side solve",
				 k, nu, a0);
		ok(st == RECO_STATUS_OK && memcmp(X2, X, sizeof(float) * p.m * k) == 0, name);
		free(X2);
	}
	free(gram);
	free(x);
	free(X);
	free(Y);
	free_problem(&p);
}


/* Solves the k x k SPD system A x = b in double (plain Cholesky, scalar); false if not SPD. */
static bool
ref_solve(const double *A, const double *b, int k, double *x)
{
	double	   *L = malloc(sizeof(double) * k * k);
	int			i,
				j,
				l;
	bool		good = true;

	for (i = 0; i < k && good; i++)
		for (j = 0; j <= i && good; j++)
		{
			double		v = A[i * k + j];

			for (l = 0; l < j; l++)
				v -= L[i * k + l] * L[j * k + l];
			if (i == j)
			{
				good = v > 0;
				L[i * k + i] = sqrt(v > 0 ? v : 1);
			}
			else
				L[i * k + j] = v / L[j * k + j];
		}
	for (i = 0; i < k && good; i++)
	{
		double		v = b[i];

		for (l = 0; l < i; l++)
			v -= L[i * k + l] * x[l];
		x[i] = v / L[i * k + i];
	}
	for (i = k - 1; i >= 0 && good; i--)
	{
		double		v = x[i];

		for (l = i + 1; l < k; l++)
			v -= L[l * k + i] * x[l];
		x[i] = v / L[i * k + i];
	}
	free(L);
	return good;
}

/*
 * The exact row solve (short rows by Woodbury, long ones by the explicit
 * system) against a scalar double reference, for rows of 0, 1, k − 1, k and
 * k + 3 entries (and a short row with c < 1, which takes the explicit path);
 * explain's terms sum to target · x.  Items are n_items rows of F.
 */
static void
test_exact_vs_reference(int k, int n_items, const char *label, float nu, float a0,
						float alpha)
{
	float	   *F = malloc(sizeof(float) * n_items * k),
			   *gram = malloc(sizeof(float) * k * k),
			   *x = malloc(sizeof(float) * k),
			   *t = malloc(sizeof(float) * k);
	double	   *G = calloc((size_t) k * k, sizeof(double)),
			   *A = malloc(sizeof(double) * k * k),
			   *b = malloc(sizeof(double) * k),
			   *xr = malloc(sizeof(double) * k),
			   *contrib = malloc(sizeof(double) * (2 * k + 5));
	int64_t    *ids = malloc(sizeof(int64_t) * n_items);
	int32_t    *idx = malloc(sizeof(int32_t) * (2 * k + 5));
	float	   *w = malloc(sizeof(float) * (2 * k + 5));
	int			lens[8] = {0, 1, k - 1, k, k + 3, k - 1,
		2 * k + 5 < n_items - 1 ? 2 * k + 5 : n_items - 1, 1};
	double		worst = 0,
				worst_explain = 0;
	float		reg = 0.5f;
	RecoAlsRowParams rp = row_params(alpha, reg, nu, a0, n_items);
	bool		all_ok = true,
				zero_ok = true;
	int			c,
				i,
				j,
				l;

	for (i = 0; i < n_items; i++)
		ids[i] = i;
	RecoAlsInitFactors(F, n_items, k, ids, 11, 1);
	for (i = 0; i < n_items * k; i++)
		F[i] = F[i] * 100.0f - 0.5f;	/* centred, magnitude ~0.5 */
	for (j = 0; j < k; j++)
		t[j] = F[(size_t) (n_items - 1) * k + j];
	RecoAlsGram(F, n_items, k, gram);
	for (i = 0; i < n_items; i++)
		for (j = 0; j < k; j++)
			for (l = 0; l <= j; l++)
				G[j * k + l] += (double) F[(size_t) i * k + j] * F[(size_t) i * k + l];
	for (c = 0; c < 8; c++)
	{
		int			n = lens[c];
		double		num = 0,
					den = 0,
					score = 0,
					sum = 0;

		if (n < 0)
			continue;
		for (i = 0; i < n; i++)
		{
			idx[i] = (int32_t) ((i * 7 + c) % (n_items - 1));
			w[i] = (float) (1 + (i + c) % 5);
		}
		/* distinct, ascending item ids */
		for (i = 0; i < n; i++)
			idx[i] = (int32_t) (i * ((n_items - 1) / (n > 0 ? n : 1)) + c % 2);
		if (c == 5 && n > 0)
			w[0] = 0.2f;		/* c = 0.4 < 1: the explicit path */
		for (i = 0; c >= 6 && i < n; i++)
			w[i] = c == 6 && i % 4 == 0 ? 3.0f : 1.0f;
		memset(A, 0, sizeof(double) * k * k);
		for (j = 0; j < k; j++)
		{
			for (l = 0; l <= j; l++)
				A[j * k + l] = A[l * k + j] = a0 * G[j * k + l];
			A[j * k + j] += reg * pow(n + (double) a0 * n_items, nu);
			b[j] = 0;
		}
		for (i = 0; i < n; i++)
		{
			const float *y = F + (size_t) idx[i] * k;
			double		conf = (double) alpha * w[i];

			for (j = 0; j < k; j++)
			{
				b[j] += conf * y[j];
				for (l = 0; l < k; l++)
					A[j * k + l] += (conf - a0) * y[j] * y[l];
			}
		}
		if (!ref_solve(A, b, k, xr) ||
			!RecoAlsSolveRowExact(gram, F, k, idx, w, n, &rp, x) ||
			!RecoAlsExplainRow(gram, F, k, idx, w, n, &rp, t, contrib))
		{
			all_ok = false;
			continue;
		}
		for (j = 0; j < k; j++)
		{
			num += ((double) x[j] - xr[j]) * ((double) x[j] - xr[j]);
			den += xr[j] * xr[j];
			score += (double) x[j] * t[j];
			if (n == 0 && x[j] != 0.0f)
				zero_ok = false;
		}
		for (i = 0; i < n; i++)
			sum += contrib[i];
		if (n > 0 && sqrt(num / den) > worst)
			worst = sqrt(num / den);
		if (fabs(sum - score) / (fabs(score) + 1e-3) > worst_explain)
			worst_explain = fabs(sum - score) / (fabs(score) + 1e-3);
	}
	{
		char		name[160];

		snprintf(name, sizeof(name),
				 "exact row %s: rows of 0, 1, k-1, k, k+3, 2k+5 entries match a double reference", label);
		ok(all_ok && zero_ok && worst < 1e-4, name);
		snprintf(name, sizeof(name), "explain %s: terms sum to target . x", label);
		ok(all_ok && worst_explain < 1e-4, name);
	}
	diag("worst relative error", worst);
	diag("worst explain gap", worst_explain);
	free(F);
	free(gram);
	free(x);
	free(t);
	free(G);
	free(A);
	free(b);
	free(xr);
	free(contrib);
	free(ids);
	free(idx);
	free(w);
}

/*
 * Copies the entries of (idx, w, n) whose weight passes keep (0: |α·w| ≠ α0,
 * 1: not (α·w < 0 and |α·w| = α0)) to (idx2, w2); returns how many.
 */
static int64_t
alpha0_subrow(const int32_t *idx, const float *w, int64_t n, float alpha,
			  float a0, int keep, int32_t *idx2, float *w2)
{
	int64_t		i,
				m = 0;

	for (i = 0; i < n; i++)
	{
		float		c = alpha * w[i];
		bool		equal = fabsf(c) == a0;

		if (keep == 0 ? equal : (equal && c < 0))
			continue;
		idx2[m] = idx[i];
		w2[m++] = w[i];
	}
	return m;
}

/*
 * The exact pass's explicit system with entries of |c| = α0 (the ones the
 * rank-K update leaves out), bit for bit: adversarial rows of 300 entries
 * (a first block of 128 all |c| = α0 with either sign, then mixed with
 * |c| < α0 entries that force the explicit path, the last entry |c| = α0).
 * With ν 0 (λ_u not depending on n): the row's factor equals the factor of
 * the row without its |c| = α0 entries, and rows of only such entries (1,
 * 128, 129, 300) give the factor of the empty row; dropping the entries with
 * c = −α0 (c⁺ = 0: they add exact zeros to b as well) changes neither the
 * solve nor explain's other terms.  With ν 0 and 0.5 the threaded exact
 * solve equals the single-row solve on these rows, lengths 0 and 1 included.
 */
static void
test_alpha0_entries(int k)
{
	int			n_items = 400,
				nmax = 300;
	float		alpha = 2.0f,
				a0 = 0.3f,
				weq = 0.15f;	/* 2 · 0.15f == 0.3f exactly */
	float	   *F = malloc(sizeof(float) * n_items * k),
			   *gram = malloc(sizeof(float) * k * k),
			   *x1 = malloc(sizeof(float) * k),
			   *x2 = malloc(sizeof(float) * k);
	double	   *U1 = malloc(sizeof(double) * k * k),
			   *U2 = malloc(sizeof(double) * k * k),
			   *c1 = malloc(sizeof(double) * nmax),
			   *c2 = malloc(sizeof(double) * nmax);
	int64_t    *ids = malloc(sizeof(int64_t) * n_items);
	int32_t    *idx = malloc(sizeof(int32_t) * nmax),
			   *idx2 = malloc(sizeof(int32_t) * nmax);
	float	   *w = malloc(sizeof(float) * nmax),
			   *w2 = malloc(sizeof(float) * nmax);
	RecoAlsRowParams rp = row_params(alpha, 0.5f, 0.0f, a0, n_items);
	bool		factor_same = true,
				only_same = true,
				solve_same = true,
				batch_same = true;
	int64_t		i,
				m,
				e,
				lens[4] = {1, 128, 129, 300};
	int			j,
				nu_i;
	char		name[200];

	if (alpha * weq != a0)
		abort();			/* the test needs |c| = α0 exactly */
	for (i = 0; i < n_items; i++)
		ids[i] = i;
	RecoAlsInitFactors(F, n_items, k, ids, 5, 1);
	for (i = 0; i < (int64_t) n_items * k; i++)
		F[i] = F[i] * 100.0f - 0.5f;
	RecoAlsGram(F, n_items, k, gram);
	for (i = 0; i < nmax; i++)
	{
		idx[i] = (int32_t) i;
		if (i < 128 || i % 3 == 0 || i == nmax - 1)
			w[i] = i % 2 ? -weq : weq;
		else if (i % 3 == 1)
			w[i] = i % 4 == 1 ? 0.05f : -0.05f;	/* |c| = 0.1 < α0 */
		else
			w[i] = 0.5f + (float) (i % 7);
	}

	/* A: the |c| = α0 entries add nothing (ν 0) */
	m = alpha0_subrow(idx, w, nmax, alpha, a0, 0, idx2, w2);
	if (!RecoAlsRowFactor(gram, F, k, idx, w, nmax, &rp, U1) ||
		!RecoAlsRowFactor(gram, F, k, idx2, w2, m, &rp, U2) ||
		memcmp(U1, U2, sizeof(double) * k * k) != 0)
		factor_same = false;
	if (!RecoAlsRowFactor(gram, F, k, idx, w, 0, &rp, U2))
		only_same = false;
	for (j = 0; j < 4; j++)
	{
		for (i = 0; i < lens[j]; i++)
		{
			idx2[i] = (int32_t) (i + 50);
			w2[i] = (i * 5) % 3 ? -weq : weq;
		}
		if (!RecoAlsRowFactor(gram, F, k, idx2, w2, lens[j], &rp, U1) ||
			memcmp(U1, U2, sizeof(double) * k * k) != 0)
			only_same = false;
	}

	/* b: dropping the c = −α0 entries changes no bit of the solve or explain */
	m = alpha0_subrow(idx, w, nmax, alpha, a0, 1, idx2, w2);
	if (!RecoAlsSolveRowExact(gram, F, k, idx, w, nmax, &rp, x1) ||
		!RecoAlsSolveRowExact(gram, F, k, idx2, w2, m, &rp, x2) ||
		memcmp(x1, x2, sizeof(float) * k) != 0 ||
		!RecoAlsExplainRow(gram, F, k, idx, w, nmax, &rp, F, c1) ||
		!RecoAlsExplainRow(gram, F, k, idx2, w2, m, &rp, F, c2))
		solve_same = false;
	for (i = 0, e = 0; solve_same && i < nmax; i++)
	{
		if (e < m && idx2[e] == idx[i])
			solve_same = memcmp(&c1[i], &c2[e++], sizeof(double)) == 0;
		else
			solve_same = c1[i] == 0.0;
	}

	/* the threaded exact solve equals the single-row solve on these rows */
	for (nu_i = 0; nu_i < 2; nu_i++)
	{
		int64_t		indptr[8];
		int32_t    *ind = malloc(sizeof(int32_t) * 4 * nmax);
		float	   *wt = malloc(sizeof(float) * 4 * nmax),
				   *X = malloc(sizeof(float) * 7 * k);
		int64_t		starts[7] = {0, 0, 0, 1, 2, 3, 4};	/* which source row */
		int64_t		sl[7] = {0, 1, 300, 300, 129, 300, 1};
		RecoAlsConfig cfg = config(k, RECO_SOLVER_CHOLESKY, 3, 2, 0.5f, alpha);
		RecoSparse	rows;
		int			r;

		cfg.reg_exponent = nu_i ? 0.5f : 0.0f;
		cfg.unobserved_weight = a0;
		rp.reg_exponent = cfg.reg_exponent;
		indptr[0] = 0;
		for (r = 0; r < 7; r++)
		{
			int64_t		len = sl[r];

			for (i = 0; i < len; i++)
			{
				/* 0: the adversarial row; 1: all |c| = α0; 2: none; 3: c = α0 only */
				ind[indptr[r] + i] = idx[i];
				wt[indptr[r] + i] = starts[r] == 0 ? w[i] :
					starts[r] == 1 ? (i % 2 ? -weq : weq) :
					starts[r] == 2 ? 0.5f + (float) (i % 5) : weq;
			}
			indptr[r + 1] = indptr[r] + len;
			if (indptr[r + 1] > 4 * nmax)
				abort();
		}
		rows.n_rows = 7;
		rows.n_cols = n_items;
		rows.indptr = indptr;
		rows.indices = ind;
		rows.weights = wt;
		if (RecoAlsSolveRowsExact(&rows, gram, F, X, &cfg, NULL) != RECO_STATUS_OK)
			batch_same = false;
		for (r = 0; batch_same && r < 7; r++)
			if (!RecoAlsSolveRowExact(gram, F, k, ind + indptr[r], wt + indptr[r],
									  indptr[r + 1] - indptr[r], &rp, x1) ||
				memcmp(x1, X + (size_t) r * k, sizeof(float) * k) != 0)
				batch_same = false;
		free(ind);
		free(wt);
		free(X);
	}
	snprintf(name, sizeof(name), "alpha0 entries k=%d: a row's factor equals its factor without the |c| = a0 entries (nu 0, bit for bit)", k);
	ok(factor_same, name);
	snprintf(name, sizeof(name), "alpha0 entries k=%d: rows of only |c| = a0 entries (1, 128, 129, 300) give the empty row's factor", k);
	ok(only_same, name);
	snprintf(name, sizeof(name), "alpha0 entries k=%d: dropping the c = -a0 entries changes no bit of the solve or of explain", k);
	ok(solve_same, name);
	snprintf(name, sizeof(name), "alpha0 entries k=%d: the threaded exact solve equals the single-row solve (nu 0 and 0.5; rows of 0, 1, 129, 300)", k);
	ok(batch_same, name);
	free(F);
	free(gram);
	free(x1);
	free(x2);
	free(U1);
	free(U2);
	free(c1);
	free(c2);
	free(ids);
	free(idx);
	free(idx2);
	free(w);
	free(w2);
}

/* Calls of posix_memalign left before the one that fails (0: none fails); atomic. */
static int	memalign_countdown = 0;

/* The test binary's posix_memalign: fails once its countdown reaches 0, else aligned_alloc. */
int
posix_memalign(void **p, size_t align, size_t size)
{
	if (__atomic_load_n(&memalign_countdown, __ATOMIC_ACQUIRE) > 0 &&
		__atomic_sub_fetch(&memalign_countdown, 1, __ATOMIC_ACQ_REL) == 0)
		return ENOMEM;
	*p = aligned_alloc(align, (size + align - 1) / align * align + align);
	return *p != NULL ? 0 : ENOMEM;
}

/*
 * The exact pass short of memory at each of its first aligned allocations
 * (the shared factor, the z rows, their job's thread states, the pass's):
 * it fails with RECO_STATUS_NO_MEMORY, or solves every row (the explicit
 * path when the z rows could not be computed) close to the reference —
 * never against z rows that were not computed.
 */
static void
test_exact_short_of_memory(int k)
{
	Problem		p;
	float	   *X,
			   *Y,
			   *ref;
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CHOLESKY, 3, 2, 0.1f, 1.0f);
	int			nth,
				wrong = 0,
				failed = 0,
				solved = 0;
	char		name[200];

	make_problem(&p, 3000, 400, (double) k / 400.0, 1, 0);
	init_factors(&p, k, &ref, &Y, 21);
	X = malloc(sizeof(float) * p.m * k);
	if (RecoAlsSolveSide(&p.users, Y, ref, &cfg, NULL) != RECO_STATUS_OK)
		wrong++;
	for (nth = 1; nth <= 12; nth++)
	{
		RecoStatus	st;
		double		worst = 0.0,
					top = 0.0;
		int64_t		i;

		memset(X, 0, sizeof(float) * p.m * k);
		__atomic_store_n(&memalign_countdown, nth, __ATOMIC_RELEASE);
		st = RecoAlsSolveSide(&p.users, Y, X, &cfg, NULL);
		__atomic_store_n(&memalign_countdown, 0, __ATOMIC_RELEASE);
		for (i = 0; st == RECO_STATUS_OK && i < p.m * k; i++)
		{
			if (fabs((double) ref[i]) > top)
				top = fabs((double) ref[i]);
			if (!(fabs((double) X[i] - ref[i]) <= worst))
				worst = isfinite(X[i]) ? fabs((double) X[i] - ref[i]) : INFINITY;
		}
		if (st == RECO_STATUS_NO_MEMORY)
			failed++;
		else if (st == RECO_STATUS_OK && worst <= 1e-3 * top + 1e-6)
			solved++;
		else
			wrong++;
	}
	snprintf(name, sizeof(name), "exact pass k=%d short of memory at its n-th allocation (n 1-12): "
			 "NO_MEMORY or the rows solved (%d failed, %d solved)", k, failed, solved);
	ok(wrong == 0 && failed > 0 && solved > 0, name);
	free(X);
	free(Y);
	free(ref);
	free_problem(&p);
}

/* The exact side solve of short rows: same bits with 1, 2 and 3 threads and as single rows. */
static void
test_short_rows_batch(int k, float nu, float a0)
{
	Problem		p;
	float	   *X1,
			   *Y,
			   *X2,
			   *X3,
			   *gram = malloc(sizeof(float) * k * k),
			   *x = malloc(sizeof(float) * k);
	RecoAlsConfig c1 = config(k, RECO_SOLVER_CHOLESKY, 3, 1, 0.1f, 1.0f);
	RecoAlsConfig c2,
				c3;
	RecoAlsRowParams rp = row_params(1.0f, 0.1f, nu, a0, 400);
	int64_t		u,
				short_rows = 0;
	bool		same = true;
	char		name[160];

	c1.reg_exponent = nu;
	c1.unobserved_weight = a0;
	c2 = c1;
	c3 = c1;
	c2.threads = 2;
	c3.threads = 3;
	make_problem(&p, 3000, 400, (double) k / 400.0, 1, 0);
	init_factors(&p, k, &X1, &Y, 21);
	X2 = malloc(sizeof(float) * p.m * k);
	X3 = malloc(sizeof(float) * p.m * k);
	ok(RecoAlsSolveSide(&p.users, Y, X1, &c1, NULL) == RECO_STATUS_OK &&
	   RecoAlsSolveSide(&p.users, Y, X2, &c2, NULL) == RECO_STATUS_OK &&
	   RecoAlsSolveSide(&p.users, Y, X3, &c3, NULL) == RECO_STATUS_OK &&
	   memcmp(X1, X2, sizeof(float) * p.m * k) == 0 &&
	   memcmp(X1, X3, sizeof(float) * p.m * k) == 0,
	   (snprintf(name, sizeof(name), "exact pass k=%d nu %g a0 %g: bit-identical with 1, 2 and 3 threads",
				 k, nu, a0), name));
	RecoAlsGram(Y, p.n, k, gram);
	for (u = 0; u < p.m; u++)
	{
		int64_t		s = p.rp[u];

		short_rows += p.rp[u + 1] - s < k;
		if (!RecoAlsSolveRowExact(gram, Y, k, p.ri + s, p.rw + s, p.rp[u + 1] - s,
								  &rp, x) ||
			memcmp(x, X1 + u * k, sizeof(float) * k) != 0)
			same = false;
	}
	snprintf(name, sizeof(name), "exact pass k=%d nu %g a0 %g: every row equals its single-row solve (%lld short rows)",
			 k, nu, a0, (long long) short_rows);
	ok(same && short_rows > p.m / 4 && short_rows < p.m * 3 / 4, name);
	free(X1);
	free(X2);
	free(X3);
	free(Y);
	free(gram);
	free(x);
	free_problem(&p);
}

/* max |(UᵀU)[a][b] − A[a][b]| over b >= a, U upper (row-major n x n), in double. */
static double
factor_error(int n, const double *U, const double *A)
{
	double		worst = 0;
	int			a,
				b,
				t;

	for (a = 0; a < n; a++)
		for (b = a; b < n; b++)
		{
			double		r = 0;

			for (t = 0; t <= a; t++)
				r += U[t * n + a] * U[t * n + b];
			if (fabs(r - A[a * n + b]) > worst)
				worst = fabs(r - A[a * n + b]);
		}
	return worst;
}

/*
 * The exact pass's kernels against scalar double references, on the table
 * for each k (AVX2 for multiples of 8 where available, portable for 12 and
 * 13): the rank-K update for K = 0, 1, 37 and 300 (all lower entries), the
 * Cholesky factorization (UᵀU = A) and the forward / back substitutions.
 */
static void
test_exact_kernels(void)
{
	int			ks[6] = {1, 8, 12, 13, 64, 1024};
	int			Ks[4] = {0, 1, 37, 300};
	double		worst_syrk = 0,
				worst_chol = 0,
				worst_tri = 0;
	bool		same_syrk = true;
	int			c,
				z0;

	for (c = 0; c < 6; c++)
	{
		int			k = ks[c],
					ld = (k + 7) & ~7,
					kc,
					a,
					b,
					t;
		const RecoKernels *kern = RecoKernelsFor(k);
		float	   *P = malloc(sizeof(float) * 300 * ld),
				   *Q = malloc(sizeof(float) * 300 * ld),
				   *C = malloc(sizeof(float) * ld * ld);
		double	   *R = malloc(sizeof(double) * k * k),
				   *U = malloc(sizeof(double) * k * k),
				   *Ut = malloc(sizeof(double) * k * k),
				   *z = malloc(sizeof(double) * k),
				   *y = malloc(sizeof(double) * k),
				   *w = malloc(sizeof(double) * k);

		for (t = 0; t < 300 * ld; t++)
		{
			P[t] = (float) (rnd_uniform() - 0.5);
			Q[t] = (float) (rnd_uniform() - 0.5);
		}
		for (kc = 0; kc < 4; kc++)
		{
			int			K = k == 1024 && Ks[kc] == 300 ? 40 : Ks[kc];

			/* an AVX2 table, with zmm tiles and without: each entry a fused chain in t order */
			for (z0 = 0; z0 < 2 && strncmp(kern->name, "avx2", 4) == 0; z0++)
			{
#ifdef RECO_HAVE_AVX2_PATH
				RecoKernelsAvx2UseZmm(z0 == 1 && __builtin_cpu_supports("avx512f"));
#endif
				for (a = 0; a < ld * ld; a++)
					C[a] = 0.25f;
				kern->syrk(k, K, P, Q, ld, C, ld);
				for (a = 0; a < k; a++)
					for (b = 0; b < ld; b++)
					{
						float		acc = 0.25f;

						for (t = 0; t < K && b <= a; t++)
							acc = fmaf(P[t * ld + a], Q[t * ld + b], acc);
						if (b <= a || b >= ((a + 13) & ~7))
							same_syrk = same_syrk && C[a * ld + b] == acc;
					}
			}
#ifdef RECO_HAVE_AVX2_PATH
			RecoKernelsAvx2UseZmm(__builtin_cpu_supports("avx512f"));
#endif
			for (a = 0; a < ld * ld; a++)
				C[a] = 0.25f;
			kern->syrk(k, K, P, Q, ld, C, ld);
			for (a = 0; a < k; a++)
				for (b = 0; b <= a; b++)
				{
					double		r = 0.25,
								scale = 0.25;

					for (t = 0; t < K; t++)
					{
						r += (double) P[t * ld + a] * Q[t * ld + b];
						scale += fabs((double) P[t * ld + a] * Q[t * ld + b]);
					}
					if (fabs(C[a * ld + b] - r) / scale > worst_syrk)
						worst_syrk = fabs(C[a * ld + b] - r) / scale;
				}
		}
		/* A = I + PᵀP (k x k, symmetric positive definite) */
		for (a = 0; a < k; a++)
			for (b = 0; b < k; b++)
			{
				double		r = a == b ? 1.0 : 0.0;

				for (t = 0; t < 40; t++)
					r += (double) P[t * ld + a] * P[t * ld + b];
				R[a * k + b] = r;
				U[a * k + b] = r;
			}
		if (!kern->chol_factor(k, U))
			worst_chol = 1;
		if (worst_chol < 1 && factor_error(k, U, R) > worst_chol)
			worst_chol = factor_error(k, U, R);
		/* forward then back (both forms) solve A z = y */
		for (a = 0; a < k; a++)
		{
			y[a] = rnd_uniform() - 0.5;
			z[a] = w[a] = y[a];
			for (b = 0; b < k; b++)
				Ut[a * k + b] = b <= a ? U[b * k + a] : 0.0;
		}
		kern->forward(k, U, z);
		kern->forward(k, U, w);
		kern->back(k, U, z);
		kern->back_t(k, Ut, w);
		for (a = 0; a < k; a++)
		{
			double		rz = -y[a],
						rw = -y[a];

			for (b = 0; b < k; b++)
			{
				rz += R[a * k + b] * z[b];
				rw += R[a * k + b] * w[b];
			}
			if (fabs(rz) > worst_tri)
				worst_tri = fabs(rz);
			if (fabs(rw) > worst_tri)
				worst_tri = fabs(rw);
		}
		free(P);
		free(Q);
		free(C);
		free(R);
		free(U);
		free(Ut);
		free(z);
		free(y);
		free(w);
	}
	ok(worst_syrk < 1e-6,
	   "kernels: rank-K update equals a double sum (k 1, 8, 12, 13, 64, 1024; K 0, 1, 37, 300)");
	ok(same_syrk, "exact kernels: the AVX2 rank-K update, ymm and zmm tiles, gives each lower entry its fused chain in t order bit for bit (k 8, 64, 1024; K 0, 1, 37, 300), columns from (a + 13) rounded down to 8 untouched");
	ok(worst_chol < 1e-9 && worst_tri < 1e-9,
	   "kernels: Cholesky factor, forward and both back substitutions solve A z = y in double");
	diag("worst rank-K error (relative)", worst_syrk);
	diag("worst |UᵀU - A|", worst_chol);
	diag("worst |A z - y|", worst_tri);
}

/*
 * The exact pass's kernels as the template each replaces, instantiated as
 * the table's code path does (AVX2+FMA: fused true, each a −= b·c one
 * explicit fused multiply-subtract, at any -O level or -ffp-contract): the
 * reference results the tiled kernels must give bit for bit.
 */
#ifdef RECO_HAVE_AVX2_PATH
#define TEST_AVX2 __attribute__((target("avx2,fma")))
#else
#define TEST_AVX2
#endif

/* RecoCholFactorInline compiled for AVX2+FMA (avx2) or portably. */
TEST_AVX2 static bool
ref_factor_avx2(int n, double *U)
{
	return RecoCholFactorInline(true, n, U);
}

/* Portable RecoCholFactorInline. */
static bool
ref_factor_generic(int n, double *U)
{
	return RecoCholFactorInline(false, n, U);
}

/* RecoCholForwardInline then RecoCholBackTInline with fused multiply-adds (the AVX2 tables'). */
TEST_AVX2 static void
ref_tri_fma(int n, const double *U, const double *L, double *f, double *b)
{
	RecoCholForwardInline(true, n, U, f);
	RecoCholBackTInline(true, n, L, b);
}

/* Portable RecoCholForwardInline then RecoCholBackTInline. */
static void
ref_tri_generic(int n, const double *U, const double *L, double *f, double *b)
{
	RecoCholForwardInline(false, n, U, f);
	RecoCholBackTInline(false, n, L, b);
}

/*
 * kern's forward substitution on f1 and transposed back substitution on b1,
 * the reference's (ref_tri_fma for an AVX2 table, else the template) on f2
 * and b2 (the same values as f1 and b1); true if they agree bit for bit.
 */
static bool
tri_same(const RecoKernels *kern, bool avx2, int n, const double *U,
		 const double *L, double *f1, double *f2, double *b1, double *b2)
{
	double	   *r[RECO_SHORT_LANES + 1],
			   *e[RECO_SHORT_LANES + 1];
	bool		same;
	int			c,
				cnt;

	/* r[0]: b1's values, r[1 ..]: back_t_rows' vectors, e[1 ..]: their own back_t */
	for (c = 0; c <= RECO_SHORT_LANES; c++)
	{
		r[c] = malloc(sizeof(double) * (n + 1));
		e[c] = malloc(sizeof(double) * (n + 1));
	}
	memcpy(r[0], b1, sizeof(double) * n);
	kern->forward(n, U, f1);
	kern->back_t(n, L, b1);
	if (avx2)
		ref_tri_fma(n, U, L, f2, b2);
	else
		ref_tri_generic(n, U, L, f2, b2);
	same = memcmp(f1, f2, sizeof(double) * n) == 0 &&
		memcmp(b1, b2, sizeof(double) * n) == 0;
	/* back_t_rows on 1 .. RECO_SHORT_LANES different vectors: each its own back_t's bits */
	for (cnt = 1; cnt <= RECO_SHORT_LANES; cnt++)
	{
		for (c = 1; c <= cnt; c++)
		{
			int			i;

			for (i = 0; i < n; i++)
				r[c][i] = r[0][i] * (1.0 + 0.25 * c) - 0.5 * c * (i % 3);
			memcpy(e[c], r[c], sizeof(double) * n);
			kern->back_t(n, L, e[c]);
		}
		kern->back_t_rows(n, L, r + 1, cnt);
		for (c = 1; c <= cnt; c++)
			same = same && memcmp(r[c], e[c], sizeof(double) * n) == 0;
	}
	for (c = 0; c <= RECO_SHORT_LANES; c++)
	{
		free(r[c]);
		free(e[c]);
	}
	return same;
}

/* RecoCholSolveInline for AVX2+FMA (avx2) or portably. */
TEST_AVX2 static bool
ref_solve_avx2(int k, const float *A, const float *b, double *U, double *z, float *x)
{
	return RecoCholSolveInline(true, k, A, b, U, z, x);
}

/* Portable RecoCholSolveInline. */
static bool
ref_solve_generic(int k, const float *A, const float *b, double *U, double *z, float *x)
{
	return RecoCholSolveInline(false, k, A, b, U, z, x);
}

/* RecoShortFactorInline for AVX2+FMA (avx2) or portably. */
TEST_AVX2 static bool
ref_short_avx2(int n, const float *M, const double *sv, double *N)
{
	return RecoShortFactorInline(true, n, M, sv, N);
}

/* Portable RecoShortFactorInline. */
static bool
ref_short_generic(int n, const float *M, const double *sv, double *N)
{
	return RecoShortFactorInline(false, n, M, sv, N);
}

/* Chooses the kernels with AVX-512 zmm tiles (where the CPU has them) or without. */
static void
kernels_with_zmm(bool zmm)
{
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsInit();
	RecoKernelsAvx2UseZmm(zmm && __builtin_cpu_supports("avx512f"));
#else
	(void) zmm;
#endif
}

/*
 * The exact pass's kernels of each table (factorization, the tiled forward
 * and transposed back substitutions, back_t_rows on 1 to RECO_SHORT_LANES
 * vectors, Cholesky solve, short-row factor, the tiled Gram of rows), with
 * AVX-512 zmm tiles and without, against their templates bit for bit (the AVX2
 * substitutions against ref_tri_fma, so at any -O level) and against
 * double references, for sizes around the tiles' edges, k not a multiple
 * of 8, k = 1 and k = 1024, and Gram rows of length 0 and 1; entries
 * outside a kernel's output are left alone.
 */
static void
test_tiled_kernels(void)
{
	int			ns[16] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 24, 64, 100, 128, 136, 256, 1024};
	int			ms[10] = {0, 1, 2, 5, 8, 12, 13, 16, 40, 127};
	int			ks[8] = {1, 8, 12, 13, 64, 128, 136, 1024};
	bool		same_factor = true,
				same_tri = true,
				same_solve = true,
				same_short = true,
				same_gram = true,
				untouched = true;
	double		worst_gram = 0,
				worst_fac = 0;
	int			c,
				z;

	/* every kernel with AVX-512 zmm tiles (where the CPU has it) and without */
	for (z = 0; z < 2; z++)
	{
		kernels_with_zmm(z == 1);
		for (c = 0; c < 16; c++)
		{
			int			n = ns[c],
						kk = n,
						a,
						b,
						t;
			const RecoKernels *kern = RecoKernelsFor(kk);
			bool		avx2 = strncmp(kern->name, "avx2", 4) == 0;
			double	   *A = malloc(sizeof(double) * n * n),
					   *U = malloc(sizeof(double) * n * n),
					   *R = malloc(sizeof(double) * n * n),
					   *L = malloc(sizeof(double) * n * n),
					   *f1 = malloc(sizeof(double) * n),
					   *f2 = malloc(sizeof(double) * n),
					   *b1 = malloc(sizeof(double) * n),
					   *b2 = malloc(sizeof(double) * n),
					   *sv = malloc(sizeof(double) * n);
			float	   *Af = malloc(sizeof(float) * n * n),
					   *bf = malloc(sizeof(float) * n),
					   *x1 = malloc(sizeof(float) * n),
					   *x2 = malloc(sizeof(float) * n),
					   *M = malloc(sizeof(float) * n * n);
			bool		ok1,
						ok2;

			/* A = I + BᵀB for a random n x 12 B, lower triangle a sentinel */
			for (a = 0; a < n; a++)
				for (b = 0; b < n; b++)
					A[a * n + b] = a == b ? 1.0 : 0.0;
			for (t = 0; t < 12; t++)
			{
				double		col[1024];

				for (a = 0; a < n; a++)
					col[a] = rnd_uniform() - 0.5;
				for (a = 0; a < n; a++)
					for (b = 0; b < n; b++)
						A[a * n + b] += col[a] * col[b];
			}
			for (a = 0; a < n; a++)
				for (b = 0; b < n; b++)
				{
					Af[a * n + b] = (float) A[a * n + b];
					M[a * n + b] = (float) (A[a * n + b] - (a == b ? 1.0 : 0.0));
					U[a * n + b] = b >= a ? A[a * n + b] : -7.0;
					R[a * n + b] = U[a * n + b];
				}
			for (a = 0; a < n; a++)
			{
				bf[a] = (float) (rnd_uniform() - 0.5);
				f1[a] = f2[a] = b1[a] = b2[a] = rnd_uniform() - 0.5;
				sv[a] = 0.5 + rnd_uniform();
			}

			ok1 = kern->chol_factor(n, U);
			ok2 = avx2 ? ref_factor_avx2(n, R) : ref_factor_generic(n, R);
			same_factor = same_factor && ok1 && ok2 &&
				memcmp(U, R, sizeof(double) * n * n) == 0;
			for (a = 0; a < n; a++)
				for (b = 0; b < a; b++)
					untouched = untouched && U[a * n + b] == -7.0;
			/* UᵀU = A in double */
			if (ok1 && factor_error(n, U, A) > worst_fac)
				worst_fac = factor_error(n, U, A);

			for (a = 0; a < n; a++)
				for (b = 0; b < n; b++)
					L[a * n + b] = b <= a ? U[b * n + a] : 0.0;
			same_tri = same_tri && tri_same(kern, avx2, n, U, L, f1, f2, b1, b2);

			/* the Cholesky solve only exists per k: kk = n */
			ok1 = kern->chol_solve(n, Af, bf, U, f1, x1);
			ok2 = avx2 ? ref_solve_avx2(n, Af, bf, R, f2, x2) :
				ref_solve_generic(n, Af, bf, R, f2, x2);
			same_solve = same_solve && ok1 == ok2 && memcmp(x1, x2, sizeof(float) * n) == 0;

			ok1 = kern->short_factor(n, M, sv, U);
			ok2 = avx2 ? ref_short_avx2(n, M, sv, R) : ref_short_generic(n, M, sv, R);
			for (a = 0; a < n; a++)
				for (b = a; b < n; b++)
					same_short = same_short && ok1 && ok2 && U[a * n + b] == R[a * n + b];

			free(A);
			free(U);
			free(R);
			free(L);
			free(f1);
			free(f2);
			free(b1);
			free(b2);
			free(sv);
			free(Af);
			free(bf);
			free(x1);
			free(x2);
			free(M);
		}

		for (c = 0; c < 8; c++)
		{
			int			k = ks[c],
						mc,
						t;
			const RecoKernels *kern = RecoKernelsFor(k);
			int			rows = 200;
			float	   *Z = malloc(sizeof(float) * rows * k);
			int32_t		idx[127];

			for (t = 0; t < rows * k; t++)
				Z[t] = (float) (rnd_uniform() - 0.5);
			for (t = 0; t < 127; t++)
				idx[t] = (int32_t) ((t * 37 + 11) % rows);
			for (mc = 0; mc < 10; mc++)
			{
				int			m = ms[mc] < k ? ms[mc] : k;
				float	   *M = malloc(sizeof(float) * (m * m + 1));
				int			i,
							j;

				for (i = 0; i < m * m + 1; i++)
					M[i] = -7.0f;
				kern->rows_gram(k, m, Z, idx, M);
				for (i = 0; i < m; i++)
					for (j = 0; j < m; j++)
					{
						float		want;
						double		r = 0,
									scale = 0;
						int			l;

						if (j > i)
						{
							untouched = untouched && M[i * m + j] == -7.0f;
							continue;
						}
						kern->dot_block(k, Z, idx + j, 1, Z + (size_t) idx[i] * k, &want);
						same_gram = same_gram && M[i * m + j] == want;
						for (l = 0; l < k; l++)
						{
							r += (double) Z[(size_t) idx[i] * k + l] * Z[(size_t) idx[j] * k + l];
							scale += fabs((double) Z[(size_t) idx[i] * k + l] * Z[(size_t) idx[j] * k + l]);
						}
						if (fabs(M[i * m + j] - r) / scale > worst_gram)
							worst_gram = fabs(M[i * m + j] - r) / scale;
					}
				untouched = untouched && M[m * m] == -7.0f;
				free(M);
			}
			free(Z);
		}
	}
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsAvx2UseZmm(__builtin_cpu_supports("avx512f"));
#endif
	ok(same_factor && same_tri && same_solve && same_short && worst_fac < 1e-9,
	   "exact kernels: factorization, tiled forward / transposed back substitution, Cholesky solve and short-row factor equal their templates bit for bit (n 1 .. 1024), UᵀU = A");
	ok(same_gram && worst_gram < 1e-5 && untouched,
	   "exact kernels: tiled Gram of rows equals dot_block bit for bit and a double sum (k 1, 8, 12, 13, 64, 128, 136, 1024; rows 0, 1, 2, 5, 8, 12, 13, 16, 40, 127, zmm on and off); nothing outside the output written");
	diag("worst |UᵀU - A| (every table)", worst_fac);
	diag("worst Gram error (relative)", worst_gram);
	if (!(same_factor && same_tri && same_solve && same_short))
		printf("# factor %d tri %d solve %d short %d\n", same_factor, same_tri,
			   same_solve, same_short);
}

/* RecoDotRowsInline (dot) or RecoAxpyRowsInline (in: v, out: coef) compiled for AVX2+FMA. */
TEST_AVX2 static void
ref_rows_avx2(bool dot, int k, int n, const float *Z, const int32_t *idx,
			  const double *in, double *out)
{
	if (dot)
		RecoDotRowsInline(true, k, n, Z, idx, in, out);
	else
		RecoAxpyRowsInline(true, k, n, Z, idx, in, out);
}

/* The same templates compiled portably. */
static void
ref_rows_generic(bool dot, int k, int n, const float *Z, const int32_t *idx,
				 const double *in, double *out)
{
	if (dot)
		RecoDotRowsInline(false, k, n, Z, idx, in, out);
	else
		RecoAxpyRowsInline(false, k, n, Z, idx, in, out);
}

/*
 * axpy_rows of each table against its template bit for bit, with zmm
 * (v's columns held in registers over all rows) and without: k 1, 8, 13,
 * 56, 64, 100, 128, 136 and 1024 (every zmm column step of the AVX2
 * tables, k a multiple of 8; the others the portable table), rows 0 to 9
 * and 37 (the sweeps and their tails), v[k] untouched; dot_rows the same.
 */
static void
test_axpy_rows(void)
{
	int			ks[9] = {1, 8, 13, 56, 64, 100, 128, 136, 1024};
	int			ns[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 37};
	bool		same = true,
				same_dot = true;
	int			c,
				d,
				i;

	for (c = 0; c < 18; c++)
	{
		int			k = ks[c % 9];
		const RecoKernels *kern = RecoKernelsFor(k);
		bool		avx2 = strncmp(kern->name, "avx2", 4) == 0;
		float	   *Z = malloc(sizeof(float) * 50 * k);
		double	   *v1 = malloc(sizeof(double) * (k + 1)),
				   *v2 = malloc(sizeof(double) * (k + 1)),
					coef[38],
					o1[38],
					o2[38];
		int32_t		idx[37];

		kernels_with_zmm(c >= 9);
		for (i = 0; i < 50 * k; i++)
			Z[i] = (float) (rnd_uniform() - 0.5);
		memset(coef, 0, sizeof(coef));
		for (d = 0; d < 11; d++)
		{
			int			n = ns[d];

			for (i = 0; i < n; i++)
			{
				idx[i] = (int32_t) (rnd_uniform() * 50) % 50;
				coef[i] = rnd_uniform() * 3.0 - 1.0;
			}
			for (i = 0; i <= k; i++)
				v1[i] = v2[i] = rnd_uniform() - 0.5;
			/* dot_rows first (into coef's place: n + 1 outputs, the last untouched) */
			memcpy(o1, coef, sizeof(coef));
			memcpy(o2, coef, sizeof(coef));
			kern->dot_rows(k, n, Z, idx, v1, o1);
			(avx2 ? ref_rows_avx2 : ref_rows_generic) (true, k, n, Z, idx, v2, o2);
			same_dot = same_dot && memcmp(o1, o2, sizeof(o1)) == 0;
			kern->axpy_rows(k, n, Z, idx, coef, v1);
			(avx2 ? ref_rows_avx2 : ref_rows_generic) (false, k, n, Z, idx, coef, v2);
			same = same && memcmp(v1, v2, sizeof(double) * (k + 1)) == 0;
		}
		free(Z);
		free(v1);
		free(v2);
	}
	ok(same, "axpy_rows of each table bit for bit its template (k 1, 8, 13, 56, 64, 100, 128, 136, 1024; rows 0-9, 37; zmm on and off), v[k] untouched");
	ok(same_dot, "dot_rows of each table bit for bit its template (k 1, 8, 13, 56, 64, 100, 128, 136, 1024; rows 0-9, 37; zmm on and off), out[n] untouched");
}

/*
 * The factorization and the short-row factor of the table k = 64 uses
 * (AVX2: four-row panels in register tiles, whatever n: production factors
 * short rows' N of any size) for every n from 1 to 300 and 1024, so every
 * tile shape, the last panel of 1-3 rows and the n mod 4 last columns all
 * run: bit for bit against the template compiled the same way, the lower
 * triangle untouched, and a matrix that is not positive definite refused
 * by both.
 */
static void
test_factor_sizes(void)
{
	const RecoKernels *kern = RecoKernelsFor(64);
	bool		avx2 = strncmp(kern->name, "avx2", 4) == 0;
	bool		same = true,
				refused = true;
	int			n;

	for (n = 1; n <= 301; n++)
	{
		int			nn = n == 301 ? 1024 : n,
					a,
					b,
					t;
		double	   *A = calloc((size_t) nn * nn, sizeof(double)),
				   *U = malloc(sizeof(double) * nn * nn),
				   *R = malloc(sizeof(double) * nn * nn),
				   *sv = malloc(sizeof(double) * nn);
		float	   *M = malloc(sizeof(float) * nn * nn);
		bool		ok1,
					ok2;

		/* A = I + BᵀB for a random n x 6 B */
		for (a = 0; a < nn; a++)
			A[(size_t) a * nn + a] = 1.0;
		for (t = 0; t < 6; t++)
		{
			double	   *col = malloc(sizeof(double) * nn);

			for (a = 0; a < nn; a++)
				col[a] = rnd_uniform() - 0.5;
			for (a = 0; a < nn; a++)
				for (b = 0; b < nn; b++)
					A[(size_t) a * nn + b] += col[a] * col[b];
			free(col);
		}
		for (a = 0; a < nn; a++)
		{
			sv[a] = 0.5 + rnd_uniform();
			for (b = 0; b < nn; b++)
			{
				U[(size_t) a * nn + b] = b >= a ? A[(size_t) a * nn + b] : -7.0;
				R[(size_t) a * nn + b] = U[(size_t) a * nn + b];
				M[(size_t) a * nn + b] = (float) (A[(size_t) a * nn + b] - (a == b ? 1.0 : 0.0));
			}
		}
		ok1 = kern->chol_factor(nn, U);
		ok2 = avx2 ? ref_factor_avx2(nn, R) : ref_factor_generic(nn, R);
		same = same && ok1 && ok2 && memcmp(U, R, sizeof(double) * nn * nn) == 0;

		ok1 = kern->short_factor(nn, M, sv, U);
		ok2 = avx2 ? ref_short_avx2(nn, M, sv, R) : ref_short_generic(nn, M, sv, R);
		for (a = 0; a < nn; a++)
			for (b = a; b < nn; b++)
				same = same && ok1 && ok2 && U[(size_t) a * nn + b] == R[(size_t) a * nn + b];

		/* a negative pivot in the last row: both refuse */
		for (a = 0; a < nn; a++)
			for (b = a; b < nn; b++)
				U[(size_t) a * nn + b] = A[(size_t) a * nn + b];
		U[(size_t) (nn - 1) * nn + nn - 1] = -1.0;
		refused = refused && !kern->chol_factor(nn, U);
		free(A);
		free(U);
		free(R);
		free(sv);
		free(M);
	}
	ok(same, "chol_factor and short_factor (table k=64) bit for bit their template, every n 1-300 and 1024, lower triangle untouched");
	ok(refused, "chol_factor (table k=64) refuses a negative last pivot, every n");
}

/*
 * The forward and transposed back substitutions of the table k = 64 uses
 * (AVX2 tiled when the CPU has it, whatever n: production calls them with
 * any row length) for every n from 0 to 70 and a few large ones, so the
 * four-row tiles' remainder rows and the scalar tails all run: bit for bit
 * against the fma() reference (AVX2) or the template (portable), Uᵀ f = f₀
 * and U b = b₀ in double, z[n] untouched.
 */
static void
test_substitution_sizes(void)
{
	int			big[6] = {127, 129, 255, 257, 1023, 1025};
	const RecoKernels *kern = RecoKernelsFor(64);
	bool		avx2 = strncmp(kern->name, "avx2", 4) == 0;
	bool		same = true,
				untouched = true;
	double		worst = 0;
	int			c;

	for (c = 0; c <= 70 + 6; c++)
	{
		int			n = c <= 70 ? c : big[c - 71],
					a,
					b;
		double	   *U = malloc(sizeof(double) * n * n + 1),
				   *L = malloc(sizeof(double) * n * n + 1),
				   *f0 = malloc(sizeof(double) * (n + 1)),
				   *f1 = malloc(sizeof(double) * (n + 1)),
				   *f2 = malloc(sizeof(double) * (n + 1)),
				   *b1 = malloc(sizeof(double) * (n + 1)),
				   *b2 = malloc(sizeof(double) * (n + 1));

		/* upper U: diagonal in [1, 2), off-diagonal small enough to stay tame */
		for (a = 0; a < n; a++)
			for (b = 0; b < n; b++)
			{
				U[a * n + b] = b < a ? 0.0 : b == a ? 1.0 + rnd_uniform() :
					(rnd_uniform() - 0.5) * 2.0 / (n + 1);
				L[b * n + a] = U[a * n + b];
			}
		for (a = 0; a <= n; a++)
			f0[a] = f1[a] = f2[a] = b1[a] = b2[a] = a < n ? rnd_uniform() - 0.5 : -7.0;
		same = same && tri_same(kern, avx2, n, U, L, f1, f2, b1, b2);
		untouched = untouched && f1[n] == -7.0 && b1[n] == -7.0;
		for (a = 0; a < n; a++)
		{
			double		uf = 0,
						ub = 0;

			for (b = 0; b <= a; b++)
				uf += U[b * n + a] * f1[b];	/* (Uᵀ f)_a */
			for (b = a; b < n; b++)
				ub += U[a * n + b] * b1[b];	/* (U b)_a */
			if (fabs(uf - f0[a]) > worst)
				worst = fabs(uf - f0[a]);
			if (fabs(ub - f0[a]) > worst)
				worst = fabs(ub - f0[a]);
		}
		free(U);
		free(L);
		free(f0);
		free(f1);
		free(f2);
		free(b1);
		free(b2);
	}
	ok(same && untouched,
	   "substitutions of the k=64 table (AVX2 tiled when available): forward and transposed back equal the reference bit for bit for n 0 .. 70, 127, 129, 255, 257, 1023, 1025; z[n] untouched");
	ok(worst < 1e-12, "substitutions of the k=64 table: Uᵀ f = f₀ and U b = b₀ within 1e-12 (n 0 .. 70 and large)");
	diag("worst substitution residual", worst);
	printf("# substitution kernels: %s\n", kern->name);
}

/* Negative feedback lowers an item's score compared to positive and to none. */
static void
test_negative(void)
{
	Problem		p;
	float	   *X,
			   *Y;
	int			k = 16,
				j;
	float	   *gram = malloc(sizeof(float) * k * k);
	float		xp[16],
				xn[16],
				xa[16];
	int32_t		idx[3] = {2, 5, 9};
	float		wp[3] = {3, 3, 3},
				wn[3] = {3, 3, -3};
	double		sp = 0,
				sn = 0,
				sa = 0;
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 1, 0.1f, 1.0f);
	RecoAlsRowParams rp = row_params(1.0f, 0.1f, 0.0f, 1.0f, 30);
	bool		r1,
				r2,
				r3;

	make_problem(&p, 100, 30, 0.2, 2, 0);
	init_factors(&p, k, &X, &Y, 5);
	(void) train(&p, X, Y, &cfg, 5, NULL);
	RecoAlsGram(Y, p.n, k, gram);
	r1 = RecoAlsSolveRowExact(gram, Y, k, idx, wp, 3, &rp, xp);
	r2 = RecoAlsSolveRowExact(gram, Y, k, idx, wn, 3, &rp, xn);
	r3 = RecoAlsSolveRowExact(gram, Y, k, idx, wn, 2, &rp, xa);
	for (j = 0; j < k; j++)
	{
		sp += (double) xp[j] * Y[9 * k + j];
		sn += (double) xn[j] * Y[9 * k + j];
		sa += (double) xa[j] * Y[9 * k + j];
	}
	ok(r1 && r2 && r3 && sn < sp && sn < sa,
	   "negative weight: item scores below positive and below absent");
	diag("score positive", sp);
	diag("score absent", sa);
	diag("score negative", sn);
	free(gram);
	free(X);
	free(Y);
	free_problem(&p);
}

/* should_stop: immediate and mid-run stops, polled only on the calling thread. */
static void
test_stop(void)
{
	Problem		p;
	float	   *X,
			   *Y;
	int			k = 32;
	HookState	h;
	RecoHooks hooks = {test_hook, &h, NULL};
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 2, 0.05f, 1.0f);
	RecoStatus st;
	double		l;
	long		total_calls;

	make_problem(&p, 4000, 600, 0.05, 10, 0);
	init_factors(&p, k, &X, &Y, 9);

	h = hook_state(-1);
	st = train(&p, X, Y, &cfg, 1, &hooks);
	total_calls = h.calls;
	ok(st == RECO_STATUS_OK && h.calls > 2 && !h.wrong_thread,
	   "stop: hook polled repeatedly, only on the calling thread");
	diag("polls in one iteration", (double) total_calls);

	h.calls = 0;
	h.stop_after = 0;
	ok(RecoAlsSolveSide(&p.users, Y, X, &cfg, &hooks) == RECO_STATUS_STOPPED,
	   "stop: should_stop true at once => RECO_STATUS_STOPPED (2 threads)");
	cfg.threads = 1;
	h.calls = 0;
	ok(RecoAlsSolveSide(&p.items, X, Y, &cfg, &hooks) == RECO_STATUS_STOPPED,
	   "stop: should_stop true at once => RECO_STATUS_STOPPED (1 thread)");
	h.calls = 0;
	ok(RecoAlsLoss(&p.users, X, Y, &cfg, &hooks, &l) == RECO_STATUS_STOPPED,
	   "stop: loss returns RECO_STATUS_STOPPED");

	cfg.threads = 2;
	h.calls = 0;
	h.stop_after = total_calls / 4 > 1 ? total_calls / 4 : 1;
	st = RecoAlsSolveSide(&p.users, Y, X, &cfg, &hooks);
	ok(st == RECO_STATUS_STOPPED && h.calls == h.stop_after + 1 && !h.wrong_thread,
	   "stop: stopping mid-run returns RECO_STATUS_STOPPED after that poll");
	free(X);
	free(Y);
	free_problem(&p);
}

/*
 * A single very long row is polled inside the row and can be stopped there.
 * Polls before the row: one per ssyrk block of the Gram matrix (16384 rows
 * each at k = 64) and one before the first chunk.
 */
static void
test_long_row(void)
{
	int64_t		n = 300000,
				i;
	int			k = 64;
	long		before_row = (long) ((n + 16383) / 16384) + 1;
	int64_t		ip[2] = {0, n};
	int32_t    *ix = malloc(sizeof(int32_t) * n);
	float	   *w = malloc(sizeof(float) * n);
	float	   *F = malloc(sizeof(float) * n * k);
	float		x[64] = {0};
	int64_t    *ids = malloc(sizeof(int64_t) * n);
	RecoSparse	s;
	HookState	h;
	RecoHooks hooks = {test_hook, &h, NULL};
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 1, 0.05f, 1.0f);
	RecoStatus st;
	long		outside,
				total_calls;

	for (i = 0; i < n; i++)
	{
		ix[i] = (int32_t) i;
		w[i] = 1.0f;
		ids[i] = i;
	}
	RecoAlsInitFactors(F, n, k, ids, 1, 1);
	s.n_rows = 1;
	s.n_cols = n;
	s.indptr = ip;
	s.indices = ix;
	s.weights = w;
	h = hook_state(-1);
	st = RecoAlsSolveSide(&s, F, x, &cfg, &hooks);
	ok(st == RECO_STATUS_OK && h.calls >= before_row + 1 + 4,
	   "long row: should_stop polled inside a single 300,000-entry row (CG)");
	diag("polls", (double) h.calls);
	diag("polls outside the row", (double) before_row + 1);
	/*
	 * The exact pass also polls while it computes Z (U⁻ᵀ y for every item):
	 * count the polls outside the row on the same side with an empty row.
	 */
	cfg.solver = RECO_SOLVER_CHOLESKY;
	ip[1] = 0;
	h = hook_state(-1);
	st = RecoAlsSolveSide(&s, F, x, &cfg, &hooks);
	outside = h.calls;
	ip[1] = n;
	h = hook_state(-1);
	(void) RecoAlsSolveSide(&s, F, x, &cfg, &hooks);
	total_calls = h.calls;
	h = hook_state(outside + 1);
	st = RecoAlsSolveSide(&s, F, x, &cfg, &hooks);
	ok(st == RECO_STATUS_STOPPED && h.calls == outside + 2 && outside + 2 < total_calls,
	   "long row: a stop requested inside the row is honoured (Cholesky)");
	diag("polls outside the row (Cholesky)", (double) outside);
	diag("polls in all (Cholesky)", (double) total_calls);
	free(ix);
	free(w);
	free(F);
	free(ids);
}

/* NaN or infinite inputs give RECO_STATUS_NOT_FINITE; empty rows give zeros. */
static void
test_not_finite(void)
{
	Problem		p;
	float	   *X,
			   *Y;
	int			k = 16,
				j,
				zero = 1;
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 2, 0.1f, 1.0f);
	float		saved;
	double		l;
	int64_t		u,
				empty = -1;

	make_problem(&p, 200, 60, 0.1, 0, 0);
	init_factors(&p, k, &X, &Y, 4);
	for (u = 0; u < p.m; u++)
		if (p.rp[u + 1] == p.rp[u])
		{
			empty = u;
			break;
		}
	ok(train(&p, X, Y, &cfg, 1, NULL) == RECO_STATUS_OK && empty >= 0,
	   "finite: clean input trains (and has an empty user)");
	for (j = 0; j < k; j++)
		if (X[empty * k + j] != 0.0f)
			zero = 0;
	ok(zero, "empty row: factors set to zero, as implicit does");

	saved = p.rw[p.rp[p.m] / 2];
	p.rw[p.rp[p.m] / 2] = NAN;
	ok(RecoAlsSolveSide(&p.users, Y, X, &cfg, NULL) == RECO_STATUS_NOT_FINITE,
	   "finite: NaN weight => RECO_STATUS_NOT_FINITE (CG)");
	cfg.solver = RECO_SOLVER_CHOLESKY;
	ok(RecoAlsSolveSide(&p.users, Y, X, &cfg, NULL) == RECO_STATUS_NOT_FINITE,
	   "finite: NaN weight => RECO_STATUS_NOT_FINITE (Cholesky)");
	ok(RecoAlsLoss(&p.users, X, Y, &cfg, NULL, &l) == RECO_STATUS_NOT_FINITE,
	   "finite: NaN weight => loss RECO_STATUS_NOT_FINITE");
	p.rw[p.rp[p.m] / 2] = saved;
	free(X);
	free(Y);
	init_factors(&p, k, &X, &Y, 4);
	Y[3 * k + 1] = INFINITY;
	cfg.solver = RECO_SOLVER_CG;
	ok(RecoAlsSolveSide(&p.users, Y, X, &cfg, NULL) == RECO_STATUS_NOT_FINITE,
	   "finite: infinite fixed factor => RECO_STATUS_NOT_FINITE");
	cfg.factors = 0;
	ok(RecoAlsSolveSide(&p.users, Y, X, &cfg, NULL) == RECO_STATUS_INVALID_ARGUMENT,
	   "config: factors 0 => RECO_STATUS_INVALID_ARGUMENT");
	cfg.factors = 64;
	cfg.threads = 2;
	ok(RecoAlsScratchBytes(&cfg, 1000, 1000) > (size_t) 2 * 64 * 64 * 8,
	   "scratch estimate covers two Cholesky work areas");
	free(X);
	free(Y);
	free_problem(&p);
}

/* Runs every test; exit status 1 if any failed. */
/*
 * The prior mean of a side solve (RecoAlsSolveSidePrior, the feature-aware
 * prior of cold start) on the item side, both solvers: a zero prior gives
 * bit for bit the plain solve; a random prior m is solved exactly (A x =
 * b + λ_u m, the row's own penalty λ_u); with a huge λ every row lands on m.
 * k 24, ν 0 takes the short-row exact path; ν > 0 the explicit system.
 */
static void
test_prior(int k, float nu, float a0, const char *label)
{
	Problem		p;
	float	   *X,
			   *Y,
			   *Y0,
			   *Y1,
			   *M,
			   *Z;
	double	   *A = malloc(sizeof(double) * k * k),
			   *b = malloc(sizeof(double) * k);
	RecoAlsConfig cfg;
	char		name[200];
	int			solver;
	int64_t		i;
	int			j;

	cfg = trained_problem(&p, k, nu, a0, 0, &X, &Y);
	/* one block: the plain solve, the prior's, the prior means, a zero prior */
	Y0 = calloc((size_t) 4 * p.n * k, sizeof(float));
	Y1 = Y0 + p.n * k;
	M = Y1 + p.n * k;
	Z = M + p.n * k;
	for (i = 0; i < p.n * k; i++)
		M[i] = (float) (rnd_uniform() - 0.5);
	for (solver = 0; solver < 2; solver++)
	{
		const char *sname = solver == 0 ? "CG" : "Cholesky";
		double		worst = 0,
					far = 0;
		RecoStatus	st0,
					st1;

		cfg.solver = solver == 0 ? RECO_SOLVER_CG : RECO_SOLVER_CHOLESKY;
		cfg.cg_steps = 3;
		cfg.regularization = 0.1f;
		memcpy(Y0, Y, sizeof(float) * p.n * k);
		memcpy(Y1, Y, sizeof(float) * p.n * k);
		st0 = RecoAlsSolveSide(&p.items, X, Y0, &cfg, NULL);
		st1 = RecoAlsSolveSidePrior(&p.items, X, Y1, &cfg, NULL, Z);
		snprintf(name, sizeof(name), "%s %s: a zero prior gives the plain solve bit for bit", label, sname);
		ok(st0 == RECO_STATUS_OK && st1 == RECO_STATUS_OK &&
		   memcmp(Y0, Y1, sizeof(float) * p.n * k) == 0, name);

		/* a random prior: CG with 3k steps or Cholesky solves A x = b + λ_u m */
		cfg.cg_steps = 3 * k;
		memcpy(Y1, Y, sizeof(float) * p.n * k);
		st1 = RecoAlsSolveSidePrior(&p.items, X, Y1, &cfg, NULL, M);
		for (i = 0; i < p.n; i++)
		{
			float		lam = RecoAlsRowLambda(cfg.regularization, nu, a0, p.m,
											   p.items.indptr[i + 1] - p.items.indptr[i]);
			double		res;

			ref_system(&p.items, X, k, i, 2.0, 0.1, nu, a0, A, b);
			for (j = 0; j < k; j++)
				b[j] += (double) lam * M[i * k + j];
			res = ref_residual(A, b, Y1 + i * k, k);
			if (res > worst)
				worst = res;
		}
		snprintf(name, sizeof(name), "%s %s: each row solves A x = b + lambda_u m", label, sname);
		ok(st1 == RECO_STATUS_OK && worst < (solver == 0 ? 2e-3 : 1e-4), name);
		diag("worst relative residual", worst);

		/* a huge penalty: every row lands on its prior mean */
		cfg.regularization = 1e7f;
		memcpy(Y1, Y, sizeof(float) * p.n * k);
		st1 = RecoAlsSolveSidePrior(&p.items, X, Y1, &cfg, NULL, M);
		for (i = 0; i < p.n * k; i++)
			if (fabs(Y1[i] - M[i]) > far)
				far = fabs(Y1[i] - M[i]);
		snprintf(name, sizeof(name), "%s %s: with a huge lambda every row lands on m", label, sname);
		ok(st1 == RECO_STATUS_OK && far < 1e-3, name);
		diag("max |x - m|", far);
	}
	free(A);
	free(b);
	free(X);
	free(Y);
	free(Y0);
	free_problem(&p);
}

/* Bitwise equality of n floats. */
static bool
same_bits(const float *a, const float *b, int64_t n)
{
	return memcmp(a, b, sizeof(float) * (size_t) n) == 0;
}

/*
 * The multi-row symv (CG kernels) against the one-row symv of the same
 * kernel set, bit for bit: portable k (1, 5, 12) and AVX2 k (8, 24, 64,
 * 128, 1024 when the CPU has it), every row count 0 .. 13 (whole tiles of
 * 6 and every remainder), a stride that is not k.
 */
static void
test_symv_rows(void)
{
	int			ks[] = {1, 5, 12, 8, 24, 64, 128, 1024};
	bool		same[2] = {true, true};
	int			a,
				c;

	for (a = 0; a < 8; a++)
	{
		int			k = ks[a];
		size_t		ld = (size_t) k + 3;
		const RecoKernels *kern = RecoKernelsFor(k);
		float	   *G = malloc(sizeof(float) * k * k);
		float	   *V = malloc(sizeof(float) * ld * 13);
		float	   *out = malloc(sizeof(float) * ld * 13);
		float	   *one = malloc(sizeof(float) * k);
		size_t		i;

		for (i = 0; i < (size_t) k * k; i++)
			G[i] = (float) ((i * 7919) % 1009) / 1009.0f - 0.5f;
		for (i = 0; i < ld * 13; i++)
			V[i] = (float) ((i * 104729) % 2003) / 2003.0f - 0.3f;
		for (c = 0; c <= 13; c++)
		{
			int			b;

			memset(out, 0xff, sizeof(float) * ld * 13);
			kern->symv_rows(k, c, G, V, ld, out);
			for (b = 0; b < c; b++)
			{
				kern->symv(k, G, V + b * ld, one);
				if (!same_bits(one, out + b * ld, k))
					same[a < 3 ? 0 : 1] = false;
			}
			/* rows past n are untouched */
			for (i = (size_t) c * ld; i < ld * 13; i++)
				if (!isnan(out[i]))
					same[a < 3 ? 0 : 1] = false;
		}
		free(G);
		free(V);
		free(out);
		free(one);
	}
	ok(same[0], "symv_rows: k 1, 5, 12 (portable) equal symv row by row, bit for bit, 0 to 13 rows");
	ok(same[1], "symv_rows: k 8, 24, 64, 128, 1024 equal symv row by row, bit for bit, 0 to 13 rows");
}

/* A float from its bits. */
static float
float_of_bits(uint32_t x)
{
	float		f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

/*
 * Float to half: RecoFloatToHalf (the scalar reference), the portable
 * to_half and the AVX2 (F16C) to_half give the same bits for every half
 * value, every midpoint between neighbours (ties to even) and one float
 * either side of it, the subnormal range, the overflow edge and NaNs;
 * widening is exact (every half round-trips, and the half kernels widen as
 * RecoHalfToFloat does); to_half's flag is false exactly when a value is
 * not finite or |v| >= 65520, in the 8-wide part and in the tail alike.
 */
static void
test_half_convert(void)
{
	const RecoKernels *gen = RecoKernelsFor(5);	/* k not a multiple of 8: portable */
	const RecoKernels *wide = RecoKernelsFor(64);
	int64_t		n = 0,
				cap = 65536 * 4 + 64,
				i;
	float	   *f = malloc(sizeof(float) * cap);
	uint16_t   *hg = malloc(sizeof(uint16_t) * cap),
			   *hw = malloc(sizeof(uint16_t) * cap);
	bool		same = true,
				exact = true,
				flags = true;
	int			h;

	for (h = 0; h < 65536; h++)
	{
		float		a = RecoHalfToFloat((uint16_t) h);

		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0)
			continue;			/* NaN */
		f[n++] = a;
		if ((h & 0x7fff) < 0x7c00)
		{
			float		b = RecoHalfToFloat((uint16_t) (h + 1));
			uint32_t	mb;

			if ((h & 0x7fff) == 0x7bff)	/* past 65504: the overflow edge */
				b = h & 0x8000 ? -65536.0f : 65536.0f;
			{
				float		mid = (float) (((double) a + (double) b) / 2);

				memcpy(&mb, &mid, sizeof(mb));
				f[n++] = mid;	/* the tie (exact in float) */
				f[n++] = float_of_bits(mb + 1);
				f[n++] = float_of_bits(mb - 1);
			}
		}
		if (RecoFloatToHalf(a) != h)
			exact = false;
	}
	f[n++] = float_of_bits(0x7fc00000);	/* quiet NaN */
	f[n++] = float_of_bits(0x7f800001);	/* signalling NaN */
	f[n++] = float_of_bits(0xffd12345);
	f[n++] = 1e-30f;			/* below half's smallest subnormal */
	f[n++] = -3e-8f;			/* about half of it: rounds to ±2^-24 or 0 */
	f[n++] = float_of_bits(0x00000001);	/* a float subnormal */
	f[n++] = 65519.996f;
	f[n++] = 65520.0f;
	f[n++] = 1e10f;
	for (i = 0; i < 4096; i++)	/* random floats of every exponent */
		f[n++] = float_of_bits((uint32_t) rnd());
	(void) gen->to_half(n, f, hg);
	(void) wide->to_half(n, f, hw);
	for (i = 0; i < n; i++)
		if (hg[i] != RecoFloatToHalf(f[i]) || hw[i] != hg[i])
			same = false;
	ok(same, "float to half: portable and F16C to_half equal RecoFloatToHalf bit for bit (every half, ties, neighbours, subnormals, overflow, NaN)");
	diag("values compared", (double) n);

	/* widening: the half kernels' A·p values are RecoHalfToFloat's (axpy of 1 onto 0) */
	for (h = 0; h < 65536; h += 8)
	{
		uint16_t	v8[8];
		float		out[8] = {0, 0, 0, 0, 0, 0, 0, 0},
					one = 1.0f;
		int32_t		zero = 0;
		int			l;

		for (l = 0; l < 8; l++)
			v8[l] = (uint16_t) (h + l);
		if ((h & 0x7c00) == 0x7c00)
			continue;			/* infinities and NaNs */
		RecoKernelsFor(8)->axpy_block_h(8, v8, &zero, 1, &one, out);	/* a k 8 table: its k is fixed */
		for (l = 0; l < 8; l++)
			if (out[l] != RecoHalfToFloat(v8[l]))
				exact = false;
		memset(out, 0, sizeof(out));
		gen->axpy_block_h(8, v8, &zero, 1, &one, out);
		for (l = 0; l < 8; l++)
			if (out[l] != RecoHalfToFloat(v8[l]))
				exact = false;
	}
	ok(exact, "half to float is exact: every half round-trips, the half kernels widen as RecoHalfToFloat");

	/* the range flag, at every position of arrays of 1 .. 19 values */
	{
		float		bad[] = {65520.0f, -65520.0f, INFINITY, -INFINITY, NAN};
		float		good[] = {65519.996f, -65504.0f, 1e-30f, 0.0f, -0.0f};
		int			len,
					pos,
					b;

		for (len = 1; len <= 19; len++)
			for (pos = 0; pos < len; pos++)
				for (b = 0; b < 5; b++)
				{
					for (i = 0; i < len; i++)
						f[i] = 0.25f * (float) i;
					f[pos] = good[b];
					if (!gen->to_half(len, f, hg) || !wide->to_half(len, f, hw))
						flags = false;
					f[pos] = bad[b];
					if (gen->to_half(len, f, hg) || wide->to_half(len, f, hw))
						flags = false;
				}
	}
	ok(flags, "to_half is false exactly when a value is not finite or |v| >= 65520 (65519.996 rounds to 65504: true), portable and F16C, 1 to 19 values");
	free(f);
	free(hg);
	free(hw);
}

/*
 * The half kernels: dot_block_h and axpy_block_h over half vectors equal
 * dot_block and axpy_block over the same values widened to float, bit for
 * bit (the same FMA chains), through an index list and contiguous; and
 * gather_block_h copies the half vectors as they are (ymm and zmm moves),
 * writing nothing past its cnt vectors.  k 1, 5, 12, 13
 * (portable), 8, 24, 64, 128, 136, 1024; blocks of 0, 1, 2, 3, 4, 5, 7, 8,
 * 9, 13, 31, 32 vectors.
 */
static void
test_half_kernels(void)
{
	int			ks[] = {1, 5, 12, 13, 8, 24, 64, 128, 136, 1024};
	int			cnts[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 31, 32};
	int			rows = 50;
	bool		same_dot = true,
				same_gather = true;
	double		worst = 0;
	int			a,
				c,
				z;

	for (a = 0; a < 10; a++)
	{
		int			k = ks[a];
		const RecoKernels *kern = RecoKernelsFor(k);
		float	   *F = malloc(sizeof(float) * rows * k),
				   *W = malloc(sizeof(float) * rows * k),
				   *v = malloc(sizeof(float) * k),
				   *o1 = malloc(sizeof(float) * k),
				   *o2 = malloc(sizeof(float) * k);
		uint16_t   *H = malloc(sizeof(uint16_t) * rows * k),
				   *C = malloc(sizeof(uint16_t) * (RECO_KERNEL_BLOCK + 1) * k);
		int32_t		idx[RECO_KERNEL_BLOCK];
		float		coef[RECO_KERNEL_BLOCK],
					s1[RECO_KERNEL_BLOCK],
					s2[RECO_KERNEL_BLOCK];
		int64_t		i;

		for (i = 0; i < (int64_t) rows * k; i++)
			F[i] = (float) ((rnd_uniform() - 0.5) * (i % 7 == 0 ? 1e-5 : 0.2));
		(void) kern->to_half((int64_t) rows * k, F, H);
		for (i = 0; i < (int64_t) rows * k; i++)
			W[i] = RecoHalfToFloat(H[i]);
		for (i = 0; i < k; i++)
			v[i] = (float) (rnd_uniform() - 0.5);
		for (i = 0; i < RECO_KERNEL_BLOCK; i++)
		{
			idx[i] = (int32_t) ((i * 17 + 3) % rows);
			coef[i] = (float) (rnd_uniform() - 0.5);
		}
		for (c = 0; c < 12; c++)
		{
			int			cnt = cnts[c],
						t,
						j;

			/* through idx, then contiguous */
			kern->dot_block_h(k, H, idx, cnt, v, s1);
			kern->dot_block(k, W, idx, cnt, v, s2);
			if (!same_bits(s1, s2, cnt))
				same_dot = false;
			kern->dot_block_h(k, H, RecoKernelIota, cnt, v, s1);
			kern->dot_block(k, W, RecoKernelIota, cnt, v, s2);
			if (!same_bits(s1, s2, cnt))
				same_dot = false;
			for (t = 0; t < cnt; t++)
			{
				double		r = 0,
							sc = 1e-30;

				for (j = 0; j < k; j++)
				{
					r += (double) W[(size_t) t * k + j] * v[j];
					sc += fabs((double) W[(size_t) t * k + j] * v[j]);
				}
				if (fabs(s1[t] - r) / sc > worst)
					worst = fabs(s1[t] - r) / sc;
			}
			for (j = 0; j < k; j++)
				o1[j] = o2[j] = (float) j * 0.01f;
			kern->axpy_block_h(k, H, idx, cnt, coef, o1);
			kern->axpy_block(k, W, idx, cnt, coef, o2);
			if (!same_bits(o1, o2, k))
				same_dot = false;
			/* the gathered copy of half vectors, with ymm and (where the CPU has them) zmm moves */
			for (z = 0; z < 2; z++)
			{
#ifdef RECO_HAVE_AVX2_PATH
				RecoKernelsAvx2UseZmm(z == 1 && __builtin_cpu_supports("avx512f"));
#endif
				memset(C, 0xab, sizeof(uint16_t) * (RECO_KERNEL_BLOCK + 1) * k);
				kern->gather_block_h(k, H, idx, cnt, C);
				for (t = 0; t < cnt; t++)
					if (memcmp(H + (size_t) idx[t] * k, C + (size_t) t * k, sizeof(uint16_t) * k) != 0)
						same_gather = false;
				for (i = (int64_t) cnt * k; i < (int64_t) (RECO_KERNEL_BLOCK + 1) * k; i++)
					if (C[i] != 0xabab)
						same_gather = false;
			}
		}
		free(F);
		free(W);
		free(v);
		free(o1);
		free(o2);
		free(H);
		free(C);
	}
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsInit();
	RecoKernelsAvx2UseZmm(__builtin_cpu_supports("avx512f"));
#endif
	ok(same_dot && worst < 1e-5, "half kernels: dot_block_h / axpy_block_h equal dot_block / axpy_block over the widened values bit for bit (k 1, 5, 12, 13, 8, 24, 64, 128, 136, 1024; 0 to 32 vectors; idx and contiguous), within 1e-5 of a double sum");
	diag("worst dot_block_h error / sum of |terms|", worst);
	ok(same_gather, "gather_block_h copies each gathered half vector as it is (ymm and zmm moves), nothing written past its vectors");
}

/* a·b + c as the kernels for k form it: fused (fmaf) on the AVX2 path (k a multiple of 8), else rounded twice (portable C). */
static float
RecoRefMulAdd(int k, float a, float b, float c)
{
	volatile float p = a * b;

	return k % 8 == 0 ? fmaf(a, b, c) : p + c;
}

/*
 * The vector kernels with and without AVX-512 (RecoKernelsAvx2UseZmm):
 * dot_block and dot_block_h equal the ymm kernels', and axpy_block,
 * axpy_block_h, symv and symv_rows, bit for bit, a scalar
 * reference that chains the terms in order from the same start (RecoRefMulAdd),
 * for k 1, 5, 12, 13 (portable), 8, 16, 24, 32, 40, 48, 56, 64, 72, 88, 104,
 * 120, 128, 136, 1024 (every size of the AVX-512 axpy's last pass),
 * 0, 1, 7 and 32 vectors (idx and contiguous), 0 to 13 symv rows.
 */
static void
test_zmm_kernels(void)
{
	int			ks[] = {1, 5, 12, 13, 8, 16, 24, 32, 40, 48, 56, 64, 72, 88, 104, 120,
	128, 136, 1024};
	int			cnts[] = {0, 1, 7, 16, 17, 23, RECO_KERNEL_BLOCK};
	bool		same_axpy = true,
				same_dot = true,
				same_symv = true;
	float		dots[2][128];
	int			a,
				z;

	for (a = 0; a < (int) (sizeof(ks) / sizeof(ks[0])); a++)
	{
		int			k = ks[a];
		int			nv = 2 * RECO_KERNEL_BLOCK;
		size_t		ld = (size_t) k + 3;
		float	   *Y = malloc(sizeof(float) * nv * k);
		uint16_t   *H = malloc(sizeof(uint16_t) * nv * k);
		float	   *G = malloc(sizeof(float) * k * k);
		float	   *V = malloc(sizeof(float) * ld * 13);
		float	   *out = malloc(sizeof(float) * ld * 13);
		float	   *o = malloc(sizeof(float) * k);
		float	   *want = malloc(sizeof(float) * k);
		float		coef[RECO_KERNEL_BLOCK];
		int32_t		idx[RECO_KERNEL_BLOCK];
		size_t		i;
		int			t,
					j,
					c,
					b;

		for (i = 0; i < (size_t) nv * k; i++)
		{
			Y[i] = (float) ((i * 7919) % 1013) / 1013.0f - 0.45f;
			H[i] = RecoFloatToHalf(Y[i]);
		}
		for (i = 0; i < (size_t) k * k; i++)
			G[i] = (float) ((i * 7919) % 1009) / 1009.0f - 0.5f;
		for (i = 0; i < ld * 13; i++)
			V[i] = (float) ((i * 104729) % 2003) / 2003.0f - 0.3f;
		for (t = 0; t < RECO_KERNEL_BLOCK; t++)
		{
			coef[t] = (float) (t * 37 % 17) / 7.0f - 1.1f;
			idx[t] = (t * 13 + 5) % nv;
		}
		for (z = 0; z < 2; z++)
		{
			const RecoKernels *kern;

			kernels_with_zmm(z == 1);
			kern = RecoKernelsFor(k);
			for (c = 0; c < 7; c++)
			{
				int			cnt = cnts[c],
							h,
							contiguous;

				for (h = 0; h < 2; h++)
					for (contiguous = 0; contiguous < 2; contiguous++)
					{
						const int32_t *ix = contiguous ? RecoKernelIota : idx;

						for (j = 0; j < k; j++)
							o[j] = want[j] = (float) j * 0.01f - 0.2f;
						for (t = 0; t < cnt; t++)
							for (j = 0; j < k; j++)
							{
								size_t		at = (size_t) ix[t] * k + j;

								want[j] = RecoRefMulAdd(k, coef[t], h ? RecoHalfToFloat(H[at]) : Y[at], want[j]);
							}
						if (h)
							kern->axpy_block_h(k, H, ix, cnt, coef, o);
						else
							kern->axpy_block(k, Y, ix, cnt, coef, o);
						if (!same_bits(o, want, k))
							same_axpy = false;
						/* the dots: the ymm kernels' (z 0) are the reference of the AVX-512 ones */
						if (h)
							kern->dot_block_h(k, H, ix, cnt, V, dots[z] + 64 * h + 32 * contiguous + 0);
						else
							kern->dot_block(k, Y, ix, cnt, V, dots[z] + 64 * h + 32 * contiguous + 0);
						if (z == 1 && !same_bits(dots[0] + 64 * h + 32 * contiguous,
												 dots[1] + 64 * h + 32 * contiguous, cnt))
							same_dot = false;
					}
			}
			for (c = 0; c <= 13; c++)
			{
				memset(out, 0xff, sizeof(float) * ld * 13);
				kern->symv_rows(k, c, G, V, ld, out);
				for (b = 0; b < c; b++)
				{
					for (j = 0; j < k; j++)
					{
						float		acc = 0.0f;
						int			r;

						for (r = 0; r < k; r++)
							acc = RecoRefMulAdd(k, V[b * ld + r], G[(size_t) r * k + j], acc);
						want[j] = acc;
					}
					if (!same_bits(out + b * ld, want, k))
						same_symv = false;
					kern->symv(k, G, V + b * ld, o);
					if (!same_bits(o, want, k))
						same_symv = false;
				}
				for (i = (size_t) c * ld; i < ld * 13; i++)
					if (!isnan(out[i]))
						same_symv = false;
			}
		}
		free(Y);
		free(H);
		free(G);
		free(V);
		free(out);
		free(o);
		free(want);
	}
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsAvx2UseZmm(__builtin_cpu_supports("avx512f"));
#endif
	ok(same_axpy, "axpy_block / axpy_block_h (ymm and AVX-512) equal a scalar chain bit for bit (k 1 .. 1024, 0 to 32 vectors, idx and contiguous)");
	ok(same_dot, "dot_block / dot_block_h with AVX-512 equal the ymm kernels bit for bit (k 1 .. 1024, 0 to 32 vectors, idx and contiguous)");
	ok(same_symv, "symv / symv_rows (ymm and AVX-512) equal a scalar chain bit for bit (k 1 .. 1024, 0 to 13 rows)");
}

/*
 * axpy_pair_h (ymm and AVX-512, in the tables that have it: the AVX2 one
 * for k other than 32, 64, 128): each of its two rows equals a scalar
 * chain of its terms in order (RecoRefMulAdd) and axpy_block_h of that row
 * alone, bit for bit, for k 8 to 136 (every size of the last pass after the
 * 128- and 64-column steps) and 1024, 0, 1, 7, 16,
 * 17, 23 and 32 vectors, idx and contiguous; nothing past k is written.
 */
static void
test_axpy_pair_h(void)
{
	int			ks[] = {1, 5, 12, 13, 8, 16, 24, 32, 40, 48, 56, 64, 72, 88, 104, 120,
	128, 136, 1024};
	int			cnts[] = {0, 1, 7, 16, 17, 23, RECO_KERNEL_BLOCK};
	bool		same = true;
	int			a,
				z,
				c,
				contiguous,
				tested = 0;

	for (a = 0; a < (int) (sizeof(ks) / sizeof(ks[0])); a++)
	{
		int			k = ks[a],
					nv = 2 * RECO_KERNEL_BLOCK;
		uint16_t   *H = malloc(sizeof(uint16_t) * 2 * nv * k);
		float	   *o = malloc(sizeof(float) * 4 * (k + 1));
		float		coef[2][RECO_KERNEL_BLOCK];
		int32_t		idx[RECO_KERNEL_BLOCK];
		size_t		i;
		int			t,
					j,
					r;

		for (i = 0; i < (size_t) 2 * nv * k; i++)
			H[i] = RecoFloatToHalf((float) ((i * 7919) % 1013) / 1013.0f - 0.45f);
		for (t = 0; t < RECO_KERNEL_BLOCK; t++)
		{
			coef[0][t] = (float) (t * 37 % 17) / 7.0f - 1.1f;
			coef[1][t] = (float) (t * 29 % 13) / 5.0f - 1.3f;
			idx[t] = (t * 13 + 5) % nv;
		}
		for (z = 0; z < 2; z++)
		{
			const RecoKernels *kern;

			kernels_with_zmm(z == 1);
			kern = RecoKernelsFor(k);
			if (kern->axpy_pair_h == NULL)
				continue;
			tested++;
			for (c = 0; c < (int) (sizeof(cnts) / sizeof(cnts[0])); c++)
				for (contiguous = 0; contiguous < 2; contiguous++)
				{
					const int32_t *ix = contiguous ? RecoKernelIota : idx;
					const uint16_t *Y[2] = {H, H + (size_t) nv * k};
					/* rows' outputs o[r], a guard after each; the rows alone at o[2 + r] */
					float	   *out[4];

					for (r = 0; r < 4; r++)
					{
						out[r] = o + (size_t) r * (k + 1);
						for (j = 0; j < k; j++)
							out[r][j] = (float) j * 0.01f - 0.2f * (r % 2 + 1);
						out[r][k] = 7.0f;
					}
					kern->axpy_pair_h(k, Y[0], Y[1], ix, cnts[c], coef[0], coef[1],
									  out[0], out[1]);
					for (r = 0; r < 2; r++)
					{
						kern->axpy_block_h(k, Y[r], ix, cnts[c], coef[r], out[2 + r]);
						if (!same_bits(out[r], out[2 + r], k) || out[r][k] != 7.0f)
							same = false;
						for (j = 0; j < k; j++)
						{
							float		want = (float) j * 0.01f - 0.2f * (r + 1);

							for (t = 0; t < cnts[c]; t++)
								want = RecoRefMulAdd(k, coef[r][t],
													 RecoHalfToFloat(Y[r][(size_t) ix[t] * k + j]), want);
							if (memcmp(&want, out[r] + j, sizeof(float)) != 0)
								same = false;
						}
					}
				}
		}
		free(H);
		free(o);
	}
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsAvx2UseZmm(__builtin_cpu_supports("avx512f"));
#endif
#ifdef RECO_HAVE_AVX2_PATH
	same = same && tested == 2 * 12;	/* the tables of every k but 1, 5, 12, 13, 32, 64, 128 */
#endif
	ok(same, "axpy_pair_h (ymm and AVX-512, where a table has it): each row equals a scalar chain and axpy_block_h alone bit for bit (k 8 .. 136, 1024; 0 to 32 vectors, idx and contiguous), nothing past k written");
}

/*
 * The half A·p passes in a solve (an 80 x 50 problem after two CG
 * iterations, trained_problem; k 8, 13 portable, 64):
 * - the fixed point: started from the Cholesky solution of its system, the
 *   3-step CG leaves every row within 1e-3 (relative) of it, the float path
 *   within 1e-5 (every pass of the half path, the residual's too, reads the
 *   vectors rounded to half, 2^-12 relative per entry: it solves that
 *   rounded system, whose solution moves by about as much);
 * - the residual of the solved systems (double, ref_residual) with 3k
 *   steps stays below 2e-3 (the float path's is far smaller; half's
 *   rounding, 2^-12 relative per vector entry, bounds it);
 * - 1, 2 and 3 threads give the same bits, and the half path is in use
 *   (it differs from the float path's bits somewhere);
 * - a fixed side with a value out of half's range (|y| >= 65520) takes the
 *   float path: bit for bit the float path's result.
 */
static void
test_half_solve(int k, const char *label)
{
	Problem		p;
	float	   *X,
			   *Y,
			   *Xc,
			   *Xh,
			   *Xf,
			   *X2,
			   *Yb;
	double	   *A = malloc(sizeof(double) * k * k),
			   *b = malloc(sizeof(double) * k);
	double		fixed_half,
				fixed_float,
				worst = 0;
	RecoAlsConfig cfg;
	RecoStatus	st[8];
	bool		threads_same,
				used,
				fallback;
	char		name[200];
	int64_t		u;
	int			i;

	cfg = trained_problem(&p, k, 0.0f, 1.0f, 7, &X, &Y);
	Xc = malloc(sizeof(float) * p.m * k);
	Xh = malloc(sizeof(float) * p.m * k);
	Xf = malloc(sizeof(float) * p.m * k);
	X2 = malloc(sizeof(float) * p.m * k);
	Yb = malloc(sizeof(float) * p.n * k);
	memcpy(Xc, X, sizeof(float) * p.m * k);
	cfg.solver = RECO_SOLVER_CHOLESKY;
	st[0] = RecoAlsSolveSide(&p.users, Y, Xc, &cfg, NULL);
	cfg.solver = RECO_SOLVER_CG;
	memcpy(Xh, Xc, sizeof(float) * p.m * k);
	st[1] = RecoAlsSolveSide(&p.users, Y, Xh, &cfg, NULL);
	memcpy(Xf, Xc, sizeof(float) * p.m * k);
	cfg.cg_vectors = RECO_CG_VECTORS_FLOAT;
	st[2] = RecoAlsSolveSide(&p.users, Y, Xf, &cfg, NULL);
	cfg.cg_vectors = RECO_CG_VECTORS_HALF;
	fixed_half = rel_diff(Xh, Xc, p.m * k);
	fixed_float = rel_diff(Xf, Xc, p.m * k);
	snprintf(name, sizeof(name), "%s: half passes keep the exact solution (warm start) within 1e-3, float ones within 1e-5", label);
	ok(st[0] == RECO_STATUS_OK && st[1] == RECO_STATUS_OK && st[2] == RECO_STATUS_OK &&
	   fixed_half < 1e-3 && fixed_float < 1e-5, name);
	diag("half: max relative move", fixed_half);
	diag("float: max relative move", fixed_float);

	/* many steps from the trained start: the residual of the solved systems */
	cfg.cg_steps = 3 * k < RECO_MAX_CG_STEPS ? 3 * k : RECO_MAX_CG_STEPS;
	memcpy(Xh, X, sizeof(float) * p.m * k);
	st[3] = RecoAlsSolveSide(&p.users, Y, Xh, &cfg, NULL);
	for (u = 0; u < p.m; u++)
	{
		double		res;

		ref_system(&p.users, Y, k, u, 2.0, 0.1, 0.0, 1.0, A, b);
		res = ref_residual(A, b, Xh + u * k, k);
		if (res > worst)
			worst = res;
	}
	snprintf(name, sizeof(name), "%s: half A·p passes, 3k CG steps: relative residual of every row's system < 2e-3", label);
	ok(st[3] == RECO_STATUS_OK && worst < 2e-3, name);
	diag("worst relative residual", worst);

	/* threads, and the half path in use */
	cfg.cg_steps = 3;
	memcpy(Xh, X, sizeof(float) * p.m * k);
	memcpy(X2, X, sizeof(float) * p.m * k);
	memcpy(Xf, X, sizeof(float) * p.m * k);
	st[4] = RecoAlsSolveSide(&p.users, Y, Xh, &cfg, NULL);
	cfg.threads = 2;
	st[5] = RecoAlsSolveSide(&p.users, Y, X2, &cfg, NULL);
	threads_same = same_bits(Xh, X2, p.m * k);
	memcpy(X2, X, sizeof(float) * p.m * k);
	cfg.threads = 3;
	st[6] = RecoAlsSolveSide(&p.users, Y, X2, &cfg, NULL);
	threads_same = threads_same && same_bits(Xh, X2, p.m * k);
	cfg.threads = 1;
	cfg.cg_vectors = RECO_CG_VECTORS_FLOAT;
	st[7] = RecoAlsSolveSide(&p.users, Y, Xf, &cfg, NULL);
	used = !same_bits(Xh, Xf, p.m * k);
	snprintf(name, sizeof(name), "%s: half A·p passes: 1, 2 and 3 threads bit-identical, and not the float path's bits", label);
	ok(st[4] == RECO_STATUS_OK && st[5] == RECO_STATUS_OK && st[6] == RECO_STATUS_OK &&
	   st[7] == RECO_STATUS_OK && threads_same && used, name);

	/* a value beyond half's range: the whole solve takes the float passes */
	memcpy(Yb, Y, sizeof(float) * p.n * k);
	Yb[(p.n / 2) * k] = 65520.0f;
	memcpy(Xh, X, sizeof(float) * p.m * k);
	memcpy(Xf, X, sizeof(float) * p.m * k);
	st[0] = RecoAlsSolveSide(&p.users, Yb, Xf, &cfg, NULL);	/* float32 */
	cfg.cg_vectors = RECO_CG_VECTORS_HALF;
	st[1] = RecoAlsSolveSide(&p.users, Yb, Xh, &cfg, NULL);
	fallback = same_bits(Xh, Xf, p.m * k);
	/* ... and just inside it (65519.996 rounds to 65504), the half passes */
	Yb[(p.n / 2) * k] = 65519.996f;
	memcpy(Xh, X, sizeof(float) * p.m * k);
	memcpy(Xf, X, sizeof(float) * p.m * k);
	st[2] = RecoAlsSolveSide(&p.users, Yb, Xh, &cfg, NULL);
	cfg.cg_vectors = RECO_CG_VECTORS_FLOAT;
	st[3] = RecoAlsSolveSide(&p.users, Yb, Xf, &cfg, NULL);
	for (i = 0; i < 4; i++)
		if (st[i] != RECO_STATUS_OK)
			fallback = false;
	snprintf(name, sizeof(name), "%s: a fixed value of 65520 (beyond half) makes the solve take the float passes, bit for bit; 65519.996 does not", label);
	ok(fallback && !same_bits(Xh, Xf, p.m * k), name);

	free(A);
	free(b);
	free(X);
	free(Y);
	free(Xc);
	free(Xh);
	free(Xf);
	free(X2);
	free(Yb);
	free_problem(&p);
}

/* A sorted random subset of about len of 0 .. n − 1 into idx; returns its size. */
static int64_t
random_row(int64_t n, int64_t len, uint64_t *state, int32_t *idx)
{
	int64_t		i,
				cnt = 0;

	for (i = 0; i < n; i++)
	{
		*state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		if ((int64_t) ((*state >> 33) % (uint64_t) n) < len)
			idx[cnt++] = (int32_t) i;
	}
	return cnt;
}

/*
 * Every row of s again, through the per-row CG that does not group
 * (RecoCgRow, which RecoCgBlock runs for a row whose indices are not
 * ascending): each non-empty row gets its last index once more with the
 * weight −α0/α, whose confidence is α0 (coefficients exactly 0 in every
 * pass, so the sums are those of the row itself, in the same order; with
 * ν = 0 the ridge does not depend on the count).  The rows must equal the
 * lockstep ones (X1, from X0) bit for bit.
 */
static void
test_cg_ungrouped(const RecoSparse *s, const float *F, const float *X0,
				  const float *X1, const RecoAlsConfig *cfg, const char *label)
{
	int64_t		m = s->n_rows,
				k = cfg->factors,
				u;
	int64_t    *ip = malloc(sizeof(int64_t) * (m + 1));
	int32_t    *ix = malloc(sizeof(int32_t) * (s->indptr[m] + m));
	float	   *w = malloc(sizeof(float) * (s->indptr[m] + m));
	float	   *Xp = malloc(sizeof(float) * m * k);
	float		neutral = -cfg->unobserved_weight / cfg->alpha;
	RecoSparse	pad = {m, s->n_cols, ip, ix, w};
	RecoStatus	st;
	char		name[200];

	ip[0] = 0;
	for (u = 0; u < m; u++)
	{
		int64_t		len = s->indptr[u + 1] - s->indptr[u];

		memcpy(ix + ip[u], s->indices + s->indptr[u], sizeof(int32_t) * len);
		memcpy(w + ip[u], s->weights + s->indptr[u], sizeof(float) * len);
		if (len > 0)
		{
			ix[ip[u] + len] = ix[ip[u] + len - 1];
			w[ip[u] + len] = neutral;
			len++;
		}
		ip[u + 1] = ip[u] + len;
	}
	memcpy(Xp, X0, sizeof(float) * m * k);
	st = RecoAlsSolveSide(&pad, F, Xp, cfg, NULL);
	snprintf(name, sizeof(name), "%s: lockstep CG rows equal the per-row CG (RecoCgRow, no grouping, no windows), bit for bit", label);
	ok(st == RECO_STATUS_OK && cfg->alpha * neutral == -cfg->unobserved_weight &&
	   same_bits(Xp, X1, m * k), name);
	free(ip);
	free(ix);
	free(w);
	free(Xp);
}

/*
 * The CG solve with the fused loss (RecoAlsSolveSideLoss) from X0 against F:
 * its loss is RecoAlsLoss(X0, F) bit for bit with 1 and 3 threads (so
 * within any relative bound, 1e-12 included), and its factors are the plain
 * solve's (X1, from X0) bit for bit.
 */
static void
check_fused_loss(const RecoSparse *s, const float *F, const float *X0,
				 const float *X1, const RecoAlsConfig *cfg, const char *label)
{
	int			k = cfg->factors;
	float	   *Xf = malloc(sizeof(float) * (s->n_rows > 0 ? s->n_rows : 1) * k);
	RecoAlsConfig c1 = *cfg,
				c3 = *cfg;
	double		want = NAN,
				got1 = NAN,
				got3 = NAN;
	RecoStatus	st0,
				st1,
				st3;
	bool		same_x;
	char		name[200];

	c1.threads = 1;
	c3.threads = 3;
	st0 = RecoAlsLoss(s, X0, F, &c1, NULL, &want);
	memcpy(Xf, X0, sizeof(float) * s->n_rows * k);
	st1 = RecoAlsSolveSideLoss(s, F, Xf, &c1, NULL, &got1);
	same_x = same_bits(Xf, X1, s->n_rows * k);
	memcpy(Xf, X0, sizeof(float) * s->n_rows * k);
	st3 = RecoAlsSolveSideLoss(s, F, Xf, &c3, NULL, &got3);
	same_x = same_x && same_bits(Xf, X1, s->n_rows * k);
	snprintf(name, sizeof(name), "%s: the CG solve's fused loss equals RecoAlsLoss of its start bit for bit (1 and 3 threads)", label);
	ok(st0 == RECO_STATUS_OK && st1 == RECO_STATUS_OK && st3 == RECO_STATUS_OK &&
	   memcmp(&want, &got1, sizeof(double)) == 0 && memcmp(&want, &got3, sizeof(double)) == 0 &&
	   fabs(got1 - want) <= 1e-12 * fabs(want), name);
	diag("RecoAlsLoss", want);
	diag("fused, 1 thread", got1);
	diag("fused, 3 threads", got3);
	diag("|fused − RecoAlsLoss| / RecoAlsLoss", fabs(got1 - want) / fabs(want));
	snprintf(name, sizeof(name), "%s: the solve with the fused loss gives the plain solve's factors bit for bit", label);
	ok(same_x, name);
	free(Xf);
}

/*
 * CG in lockstep (RecoCgBlock): long rows (more than 256 KB of vectors) in
 * blocks over windows of the fixed side, the other rows — lengths 0, 1,
 * 2, ... — in lockstep groups.  Every row must come out bit for bit as
 * when it is solved alone (its own call), whatever the thread count, and
 * match implicit's algorithm run in double.  A long row whose indices are
 * not ascending (outside RecoSparse's contract) still gets its CG.  The
 * same solve with the fused loss (check_fused_loss) gives RecoAlsLoss of
 * its start and the same factors, bit for bit.
 */
static void
test_cg_lockstep(int k, int64_t n_fixed, int64_t long_len, float nu, float a0,
				 const char *label)
{
	int			n_long = 16,
				n_short = 48;
	int64_t		m = n_long + n_short + 1,
				cap = (int64_t) n_long * n_fixed + n_short * n_short + n_fixed,
				u,
				e;
	int64_t    *ip = malloc(sizeof(int64_t) * (m + 1));
	int32_t    *ix = malloc(sizeof(int32_t) * cap);
	float	   *w = malloc(sizeof(float) * cap);
	float	   *F = malloc(sizeof(float) * n_fixed * k);
	float	   *X0 = malloc(sizeof(float) * m * k);
	float	   *X1 = malloc(sizeof(float) * m * k);
	float	   *X3 = malloc(sizeof(float) * m * k);
	float	   *Xs = malloc(sizeof(float) * m * k);
	double	   *FtF = calloc((size_t) k * k, sizeof(double));
	double	   *xd = malloc(sizeof(double) * k);
	double	   *A = malloc(sizeof(double) * k * k);
	double	   *bv = malloc(sizeof(double) * k);
	int64_t    *ids = malloc(sizeof(int64_t) * (n_fixed > m ? n_fixed : m));
	uint64_t	state = 12345;
	RecoSparse	s;
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 1, 0.1f, 2.0f);
	RecoStatus	st1,
				st3,
				sts = RECO_STATUS_OK;
	bool		alone = true;
	double		refdiff = 0;
	char		name[200];
	int			a,
				c;

	cfg.reg_exponent = nu;
	cfg.unobserved_weight = a0;
	ip[0] = 0;
	for (u = 0; u < m; u++)
	{
		int64_t		len;

		if (u < n_long)			/* long rows of alike lengths, by position */
			len = random_row(n_fixed, long_len + (u * long_len) / (4 * n_long), &state, ix + ip[u]);
		else if (u < n_long + n_short)	/* lengths 0, 1, 2, ..., spread out */
		{
			len = u - n_long;
			for (e = 0; e < len; e++)
				ix[ip[u] + e] = (int32_t) ((e * n_fixed) / len + (u % 3));
		}
		else					/* a long row with two indices swapped */
		{
			int32_t		t;

			len = random_row(n_fixed, long_len, &state, ix + ip[u]);
			t = ix[ip[u] + 1];
			ix[ip[u] + 1] = ix[ip[u] + 2];
			ix[ip[u] + 2] = t;
		}
		ip[u + 1] = ip[u] + len;
	}
	s.n_rows = m;
	s.n_cols = n_fixed;
	s.indptr = ip;
	s.indices = ix;
	s.weights = w;
	for (e = 0; e < ip[m]; e++)
		w[e] = (float) (1 + (e * 7) % 5) * ((e % 11) == 3 ? -1.0f : 1.0f);
	for (u = 0; u < (n_fixed > m ? n_fixed : m); u++)
		ids[u] = u;
	RecoAlsInitFactors(F, n_fixed, k, ids, 3, 1);
	RecoAlsInitFactors(X0, m, k, ids, 3, 0);
	memcpy(X1, X0, sizeof(float) * m * k);
	memcpy(X3, X0, sizeof(float) * m * k);
	memcpy(Xs, X0, sizeof(float) * m * k);
	st1 = RecoAlsSolveSide(&s, F, X1, &cfg, NULL);
	cfg.threads = 3;
	st3 = RecoAlsSolveSide(&s, F, X3, &cfg, NULL);
	cfg.threads = 1;
	/* every row alone: a one-row matrix over the same fixed side */
	for (u = 0; u < m; u++)
	{
		int64_t		one[2] = {0, ip[u + 1] - ip[u]};
		RecoSparse	r1 = {1, n_fixed, one, ix + ip[u], w + ip[u]};
		RecoStatus	st = RecoAlsSolveSide(&r1, F, Xs + u * k, &cfg, NULL);

		if (st != RECO_STATUS_OK)
			sts = st;
		if (!same_bits(Xs + u * k, X1 + u * k, k))
			alone = false;
	}
	snprintf(name, sizeof(name), "%s: lockstep CG rows equal each row solved alone, bit for bit", label);
	ok(st1 == RECO_STATUS_OK && sts == RECO_STATUS_OK && alone, name);
	snprintf(name, sizeof(name), "%s: lockstep CG bit-identical with 1 and 3 threads", label);
	ok(st3 == RECO_STATUS_OK && same_bits(X1, X3, m * k), name);
	if (nu == 0.0f)
		test_cg_ungrouped(&s, F, X0, X1, &cfg, label);
	check_fused_loss(&s, F, X0, X1, &cfg, label);
	/* implicit's passes are float32: compare it with the float path (Xs, reused) */
	memcpy(Xs, X0, sizeof(float) * m * k);
	cfg.cg_vectors = RECO_CG_VECTORS_FLOAT;
	sts = RecoAlsSolveSide(&s, F, Xs, &cfg, NULL);
	cfg.cg_vectors = RECO_CG_VECTORS_HALF;
	diag("half against float32 A·p passes: max relative difference", rel_diff(X1, Xs, m * k));

	for (u = 0; u < n_fixed; u++)
		for (a = 0; a < k; a++)
			for (c = 0; c < k; c++)
				FtF[a * k + c] += (double) F[u * k + a] * F[u * k + c];
	for (u = 0; u < m; u++)
	{
		for (a = 0; a < k; a++)
			xd[a] = X0[u * k + a];
		if (ip[u + 1] == ip[u])
			for (a = 0; a < k; a++)
				xd[a] = 0;
		else
		{
			ref_system_gram(&s, F, FtF, k, u, 2.0, 0.1, nu, a0, A, bv);
			ref_cg_row(A, bv, xd, k, 3);
		}
		{
			double		num = 0,
						den = 0;

			for (a = 0; a < k; a++)
			{
				num += (xd[a] - Xs[u * k + a]) * (xd[a] - Xs[u * k + a]);
				den += xd[a] * xd[a];
			}
			if (sqrt(num) / (sqrt(den) + 1e-6) > refdiff)
				refdiff = sqrt(num) / (sqrt(den) + 1e-6);
		}
	}
	snprintf(name, sizeof(name), "%s: lockstep CG (float32 A·p passes) matches implicit's least_squares_cg (double), |x − x_ref| / |x_ref| < 1e-2 per row", label);
	ok(sts == RECO_STATUS_OK && refdiff < 1e-2, name);
	diag("max row-wise relative difference", refdiff);
	diag("long row length", (double) (ip[1] - ip[0]));
	free(ip);
	free(ix);
	free(w);
	free(F);
	free(X0);
	free(X1);
	free(X3);
	free(Xs);
	free(FtF);
	free(xd);
	free(A);
	free(bv);
	free(ids);
}

/*
 * The fused loss of training's CG user step (RecoAlsSolveSideLoss) on a
 * matrix of many loss chunks (the rows' terms are summed as the loss job's
 * chunks sum them, not the CG job's): mostly rows of length 0, 1 and 2,
 * negative feedback, after a CG iteration (as training calls it).  Also:
 * the Cholesky solver (RecoAlsLoss first, then its solve), NULL loss_out
 * (the plain solve) and a stop.
 */
static void
test_fused_loss(int k, float nu, float a0, const char *label)
{
	Problem		p;
	float	   *X,
			   *Y,
			   *X1,
			   *X2;
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 2, 0.05f, 2.0f);
	RecoAlsConfig chol;
	HookState	h;
	RecoHooks	hooks = {test_hook, &h, NULL};
	RecoStatus	st1,
				st2,
				st3;
	double		want = NAN,
				got = NAN;
	char		name[200];

	make_problem(&p, 20000, 600, 0.003, 0, 7);
	X1 = malloc(sizeof(float) * p.m * k);
	X2 = malloc(sizeof(float) * p.m * k);
	cfg.reg_exponent = nu;
	cfg.unobserved_weight = a0;
	/* the factors a user step starts from in training: after one iteration */
	init_factors(&p, k, &X, &Y, 5);
	(void) train(&p, X, Y, &cfg, 1, NULL);
	memcpy(X1, X, sizeof(float) * p.m * k);
	st1 = RecoAlsSolveSide(&p.users, Y, X1, &cfg, NULL);
	ok(st1 == RECO_STATUS_OK, "fused loss: the plain CG user step runs");
	check_fused_loss(&p.users, Y, X, X1, &cfg, label);

	chol = cfg;
	chol.solver = RECO_SOLVER_CHOLESKY;
	memcpy(X1, X, sizeof(float) * p.m * k);
	memcpy(X2, X, sizeof(float) * p.m * k);
	st1 = RecoAlsLoss(&p.users, X, Y, &chol, NULL, &want);
	st2 = RecoAlsSolveSide(&p.users, Y, X1, &chol, NULL);
	st3 = RecoAlsSolveSideLoss(&p.users, Y, X2, &chol, NULL, &got);
	snprintf(name, sizeof(name), "%s: with the Cholesky solver the same loss and factors, bit for bit", label);
	ok(st1 == RECO_STATUS_OK && st2 == RECO_STATUS_OK && st3 == RECO_STATUS_OK &&
	   memcmp(&want, &got, sizeof(double)) == 0 && same_bits(X1, X2, p.m * k), name);

	memcpy(X1, X, sizeof(float) * p.m * k);
	memcpy(X2, X, sizeof(float) * p.m * k);
	st1 = RecoAlsSolveSide(&p.users, Y, X1, &cfg, NULL);
	st2 = RecoAlsSolveSideLoss(&p.users, Y, X2, &cfg, NULL, NULL);
	h = hook_state(0);
	st3 = RecoAlsSolveSideLoss(&p.users, Y, X, &cfg, &hooks, &got);
	snprintf(name, sizeof(name), "%s: NULL loss_out is the plain solve; should_stop stops the fused one (RECO_STATUS_STOPPED)", label);
	ok(st1 == RECO_STATUS_OK && st2 == RECO_STATUS_OK && same_bits(X1, X2, p.m * k) &&
	   st3 == RECO_STATUS_STOPPED, name);
	free(X);
	free(Y);
	free(X1);
	free(X2);
	free_problem(&p);
}

/*
 * One short_lanes call of kern on lanes rows of sizes n[] against the
 * one-row kernels (short_factor, forward, back) bit for bit: random Gram
 * matrices M (rank 3 + trial mod 5), q entries of +0 and −0 every fifth
 * trial (signed zeros must come out as the row alone gives them), lane 0's
 * N indefinite on trials 5 mod 11 (only its bit set, the other lanes
 * unchanged).  Clears *same or *masks on a difference.
 */
static void
short_lanes_trial(const RecoKernels *kern, int lanes, const int *n, int trial,
				  bool *same, bool *masks)
{
	float	   *M[RECO_SHORT_LANES] = {NULL};
	double	   *sv[RECO_SHORT_LANES] = {NULL},
			   *q[RECO_SHORT_LANES] = {NULL},
			   *ref[RECO_SHORT_LANES] = {NULL};
	double	   *W,
			   *N;
	unsigned	want = 0,
				got;
	int			m = 0,
				b,
				i,
				j,
				t;

	for (b = 0; b < lanes; b++)
		if (n[b] > m)
			m = n[b];
	for (b = 0; b < lanes; b++)
	{
		int			nb = n[b];
		int			r = 3 + trial % 5;

		M[b] = malloc(sizeof(float) * (nb * nb + 1));
		sv[b] = malloc(sizeof(double) * (nb + 1));
		q[b] = malloc(sizeof(double) * (nb + 1));
		ref[b] = malloc(sizeof(double) * (nb + 1));
		/* M = BBᵀ for a random nb x r B (a Gram, as the pass makes it) */
		for (i = 0; i < nb * nb; i++)
			M[b][i] = 0.0f;
		for (t = 0; t < r; t++)
		{
			float		col[300];

			for (i = 0; i < nb; i++)
				col[i] = (float) (rnd_uniform() - 0.5);
			for (i = 0; i < nb; i++)
				for (j = 0; j <= i; j++)
					M[b][i * nb + j] += col[i] * col[j];
		}
		for (i = 0; i < nb; i++)
		{
			sv[b][i] = 0.2 + 2.0 * rnd_uniform();
			q[b][i] = trial % 5 == 4 ? (i % 2 ? -0.0 : 0.0) : rnd_uniform() - 0.5;
		}
		if (b == 0 && nb > 0 && trial % 11 == 5)
			M[b][(nb - 1) * nb + nb - 1] = -1.0e6f;
		memcpy(ref[b], q[b], sizeof(double) * nb);
		N = malloc(sizeof(double) * (nb * nb + 1));
		if (kern->short_factor(nb, M[b], sv[b], N))
		{
			kern->forward(nb, N, ref[b]);
			kern->back(nb, N, ref[b]);
		}
		else
			want |= 1u << b;
		free(N);
	}
	W = malloc(sizeof(double) * (RECO_SHORT_LANES * m * (m + 1) + 1));
	got = kern->short_lanes(lanes, n, (const float *const *) M,
							(const double *const *) sv, q, W);
	*masks = *masks && got == want;
	for (b = 0; b < lanes; b++)
	{
		if (!(want & (1u << b)))
			*same = *same && memcmp(q[b], ref[b], sizeof(double) * n[b]) == 0;
		free(M[b]);
		free(sv[b]);
		free(q[b]);
		free(ref[b]);
	}
	free(W);
}

/*
 * short_lanes of each table against the one-row kernels bit for bit
 * (short_lanes_trial), with AVX-512 (the eight-lane zmm kernel, where the
 * CPU has it) and without (four-lane ymm calls), for groups of 1 ..
 * RECO_SHORT_LANES rows: of equal n (0, 1, around the tiles' edges, 127,
 * 300) and mixed n in every table, and in an AVX2 table every n from 0 to
 * 300 (equal in a group of 1 + n mod 8, and eight lanes of n, n − 3, ...).
 */
static void
test_short_lanes(void)
{
	int			ns[16] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 31, 64, 100, 127, 200, 300};
	int			ks[4] = {1, 13, 64, 1024};	/* portable tables (k 1, 13), AVX2 ones (64, any k) */
	bool		same = true,
				masks = true;
	int			c,
				z,
				trial;

	for (z = 0; z < 2; z++)
	{
		kernels_with_zmm(z == 1);
		for (c = 0; c < 4; c++)
		{
			const RecoKernels *kern = RecoKernelsFor(ks[c]);

			for (trial = 0; trial < 288; trial++)
			{
				int			lanes = 1 + trial % RECO_SHORT_LANES;
				int			n[RECO_SHORT_LANES],
							b;

				/* trials 0..127: equal n in a group of each size; later ones: mixed */
				for (b = 0; b < lanes; b++)
					n[b] = ns[(trial < 128 ? trial / RECO_SHORT_LANES : trial * 7 + b * 5) % 16];
				short_lanes_trial(kern, lanes, n, trial, &same, &masks);
			}
		}
		for (trial = 0; trial <= 300; trial++)
		{
			const RecoKernels *kern = RecoKernelsFor(64);
			int			n[RECO_SHORT_LANES],
						b;

			for (b = 0; b < RECO_SHORT_LANES; b++)
				n[b] = trial;
			short_lanes_trial(kern, 1 + trial % RECO_SHORT_LANES, n, trial, &same, &masks);
			for (b = 0; b < RECO_SHORT_LANES; b++)
				n[b] = trial - 3 * b > 0 ? trial - 3 * b : 0;
			short_lanes_trial(kern, RECO_SHORT_LANES, n, trial + 1, &same, &masks);
		}
	}
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsAvx2UseZmm(__builtin_cpu_supports("avx512f"));
#endif
	ok(same, "short_lanes: every lane bit for bit its row alone (short_factor, forward, back), zmm and ymm, groups of 1-8 rows, equal and mixed n 0-300 (every n in an AVX2 table), signed zeros");
	ok(masks, "short_lanes: the failure mask names exactly the rows whose N does not factor");
}

/*
 * A training's kept half buffer (RecoAlsKeepHalfBuffer): CG iterations over
 * sides of different sizes (the larger side's buffer then serves the
 * smaller), a solve stopped while it fills its half copy, and the loss give
 * the factors and loss they give when every solve allocates its own.
 */
static void
test_keep_half_buffer(void)
{
	Problem		p;
	int			k = 64,
				pass;
	float	   *X[2],
			   *Y[2];
	double		loss[2] = {0, 0};
	RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, 2, 0.1f, 2.0f);
	HookState	h = hook_state(0);
	RecoHooks	stop = {test_hook, &h, NULL};
	RecoStatus	st = RECO_STATUS_OK,
				stopped = RECO_STATUS_OK;

	make_problem(&p, 300, 90, 0.1, 1, 0);
	for (pass = 0; pass < 2; pass++)
	{
		init_factors(&p, k, &X[pass], &Y[pass], 5);
		RecoAlsKeepHalfBuffer(pass == 1);
		if (pass == 1)
			stopped = RecoAlsSolveSide(&p.items, X[pass], Y[pass], &cfg, &stop);
		if (st == RECO_STATUS_OK)
			st = train(&p, X[pass], Y[pass], &cfg, 3, NULL);
		if (st == RECO_STATUS_OK)
			st = RecoAlsSolveSideLoss(&p.users, Y[pass], X[pass], &cfg, NULL, &loss[pass]);
		RecoAlsKeepHalfBuffer(false);
	}
	ok(st == RECO_STATUS_OK && stopped == RECO_STATUS_STOPPED &&
	   same_bits(X[0], X[1], p.m * k) && same_bits(Y[0], Y[1], p.n * k) &&
	   memcmp(&loss[0], &loss[1], sizeof(double)) == 0,
	   "kept half buffer: CG iterations over both sides, a stopped solve and the fused loss give the bits of solves that allocate their own");
	for (pass = 0; pass < 2; pass++)
	{
		free(X[pass]);
		free(Y[pass]);
	}
	free_problem(&p);
}

/*
 * One training-like sequence of side solves over p (keep: with the buffers
 * and products kept between them, as reco.train's iterations): CG users
 * (forms X's products), CG items (reads them, windowed rows, forms Y's),
 * CG users with the fused loss and RecoAlsLoss (read Y's), a Cholesky users
 * solve (X's products are stale from there), CG items (X's afresh), an
 * items solve stopped after `stop_after` hook calls (counted from its last
 * when negative; its products dropped, Y put back as it was), the items
 * again, the loss and a second fused one (its terms in the kept buffer).  Returns the first
 * failure, a missed stop as INVALID_ARGUMENT.
 */
static RecoStatus
kept_products_sequence(const Problem *p, float *X, float *Y, const RecoAlsConfig *cfg,
					   bool keep, long stop_after, double *loss)
{
	RecoAlsConfig exact = *cfg;
	HookState	h = hook_state(stop_after);
	RecoHooks	stop = {test_hook, &h, NULL};
	RecoStatus	st,
				stopped;
	float	   *saved = malloc(sizeof(float) * p->n * cfg->factors);

	exact.solver = RECO_SOLVER_CHOLESKY;
	RecoAlsKeepHalfBuffer(keep);
	st = RecoAlsSolveSide(&p->users, Y, X, cfg, NULL);
	if (st == RECO_STATUS_OK)
		st = RecoAlsSolveSide(&p->items, X, Y, cfg, NULL);
	if (st == RECO_STATUS_OK)
		st = RecoAlsSolveSideLoss(&p->users, Y, X, cfg, NULL, &loss[0]);
	if (st == RECO_STATUS_OK)
		st = RecoAlsLoss(&p->users, X, Y, cfg, NULL, &loss[1]);
	if (st == RECO_STATUS_OK)
		st = RecoAlsSolveSide(&p->users, Y, X, &exact, NULL);
	if (st == RECO_STATUS_OK)
		st = RecoAlsSolveSide(&p->items, X, Y, cfg, NULL);
	if (st == RECO_STATUS_OK && stop_after < 0)
	{
		/* counted from the end: the calls of the same solve run on a copy of Y */
		HookState	count = hook_state(-1);
		RecoHooks	counter = {test_hook, &count, NULL};

		memcpy(saved, Y, sizeof(float) * p->n * cfg->factors);
		st = RecoAlsSolveSide(&p->items, X, saved, cfg, &counter);
		h = hook_state(count.calls + stop_after);
	}
	if (st == RECO_STATUS_OK)
	{
		/* which rows a stopped solve wrote depends on the task order: put Y back */
		memcpy(saved, Y, sizeof(float) * p->n * cfg->factors);
		stopped = RecoAlsSolveSide(&p->items, X, Y, cfg, &stop);
		memcpy(Y, saved, sizeof(float) * p->n * cfg->factors);
		st = stopped == RECO_STATUS_STOPPED ? RECO_STATUS_OK : RECO_STATUS_INVALID_ARGUMENT;
	}
	if (st == RECO_STATUS_OK)
		st = RecoAlsSolveSide(&p->items, X, Y, cfg, NULL);
	if (st == RECO_STATUS_OK)
		st = RecoAlsLoss(&p->users, X, Y, cfg, NULL, &loss[2]);
	if (st == RECO_STATUS_OK)
		st = RecoAlsSolveSideLoss(&p->users, Y, X, cfg, NULL, &loss[3]);
	RecoAlsKeepHalfBuffer(false);
	free(saved);
	return st;
}

/*
 * The products of a solved side formed while its CG solve runs (YᵀY and the
 * half copy, kept for the solves that read that side) give every later
 * solve and loss the bits of solves that form their own: k 256 (the users'
 * Gram in five blocks, formed as their chunks finish), items of about 2,500
 * users each (windowed blocks of long rows), 1 and 3 threads, stops at
 * several points of a solve (before and while its products form, and in
 * what is left of them after the run), and a side too large for half (its
 * solves read float).
 */
static void
test_kept_products(void)
{
	/* threads, the stopped solve's stop (hook calls; < 0 from its last: 1 thread only, where they are fixed), X beyond half */
	struct
	{
		int			threads;
		long		stop;
		bool		beyond_half;
	}			variants[] = {
		{1, 0, false}, {1, 3, false}, {1, -2, false}, {1, -1, false}, {1, 0, true},
		{3, 0, false}, {3, 3, false}, {3, 0, true}
	};
	Problem		p;
	int			k = 256,
				v,
				pass;
	bool		same = true;
	RecoStatus	st = RECO_STATUS_OK;

	make_problem(&p, 5000, 60, 0.5, 1, 0);
	for (v = 0; v < (int) (sizeof(variants) / sizeof(variants[0])); v++)
	{
		RecoAlsConfig cfg = config(k, RECO_SOLVER_CG, 3, variants[v].threads, 0.1f, 2.0f);
		float	   *X[2],
				   *Y[2];
		double		loss[2][4] = {{0}};
		int64_t		i;

		for (pass = 0; pass < 2; pass++)
		{
			init_factors(&p, k, &X[pass], &Y[pass], 11);
			if (variants[v].beyond_half)	/* tiny items, so huge users */
			{
				cfg.regularization = 1e-12f;
				for (i = 0; i < p.n * k; i++)
					Y[pass][i] *= 1e-5f;
			}
			if (st == RECO_STATUS_OK)
				st = kept_products_sequence(&p, X[pass], Y[pass], &cfg, pass == 1,
											variants[v].stop, loss[pass]);
		}
		same = same && same_bits(X[0], X[1], p.m * k) && same_bits(Y[0], Y[1], p.n * k) &&
			memcmp(loss[0], loss[1], sizeof(loss[0])) == 0;
		for (pass = 0; pass < 2; pass++)
		{
			free(X[pass]);
			free(Y[pass]);
		}
	}
	ok(st == RECO_STATUS_OK && same,
	   "kept products: solves and losses that read a side's YᵀY and half copy formed while its solve ran give the bits of solves that form their own (k 256, windowed rows, 1 and 3 threads, stops, a side beyond half)");
	free_problem(&p);
}

/* The number of tests main runs: its plan line and its exit status. */
#define TEST_ALS_PLAN 231

int
main(void)
{
	printf("1..%d\n", TEST_ALS_PLAN);
	printf("# kernels: k=8 %s, k=12 %s, k=64 %s\n", RecoAlsKernelName(8),
		   RecoAlsKernelName(12), RecoAlsKernelName(64));
	test_init();				/* 7 */
	test_tiny();				/* 4 */
	test_tiny_freq();			/* 5 */
	test_gram();				/* 1 */
	test_solvers(8, "k=8", 0.0f, 1.0f);	/* 3 */
	test_solvers(12, "k=12 (portable path)", 0.0f, 1.0f);	/* 3 */
	test_solvers(64, "k=64", 0.0f, 1.0f);	/* 3 */
	test_solvers(16, "k=16 nu 1 a0 0.3", 1.0f, 0.3f);	/* 3 */
	test_loss(0.0f, 1.0f);		/* 2 */
	test_loss(0.8f, 0.2f);		/* 2 */
	test_determinism();			/* 4 */
	test_row_exact(16, 0.0f, 1.0f);	/* 2 */
	test_row_exact(13, 0.0f, 1.0f);	/* 2 */
	test_row_exact(16, 1.0f, 0.3f);	/* 2 */
	test_row_exact(13, 0.5f, 2.0f);	/* 2 */
	test_negative();			/* 1 */
	test_stop();				/* 5 */
	test_long_row();			/* 2 */
	test_not_finite();			/* 8 */
	test_exact_vs_reference(1, 40, "k=1", 0.0f, 1.0f, 2.0f);	/* 2 */
	test_exact_vs_reference(12, 300, "k=12 (portable path)", 0.0f, 1.0f, 2.0f);	/* 2 */
	test_exact_vs_reference(64, 500, "k=64", 0.0f, 1.0f, 2.0f);	/* 2 */
	test_exact_vs_reference(1024, 1400, "k=1024", 0.0f, 1.0f, 2.0f);	/* 2 */
	test_exact_vs_reference(12, 300, "k=12 nu 1 a0 0.1", 1.0f, 0.1f, 2.0f);	/* 2 */
	test_exact_vs_reference(64, 500, "k=64 nu 0 a0 0.05 (short rows)", 0.0f, 0.05f, 2.0f);	/* 2 */
	test_exact_vs_reference(1, 40, "k=1 alpha 1 (weight-1 entries add nothing to A)", 0.0f, 1.0f, 1.0f);	/* 2 */
	test_exact_vs_reference(13, 300, "k=13 alpha 1 (portable path)", 0.0f, 1.0f, 1.0f);	/* 2 */
	test_exact_vs_reference(64, 500, "k=64 alpha 1", 0.0f, 1.0f, 1.0f);	/* 2 */
	test_exact_vs_reference(1024, 2100, "k=1024 alpha 1", 0.0f, 1.0f, 1.0f);	/* 2 */
	test_alpha0_entries(1);		/* 4 */
	test_alpha0_entries(13);	/* 4 */
	test_alpha0_entries(64);	/* 4 */
	test_alpha0_entries(128);	/* 4 */
	test_short_rows_batch(24, 0.0f, 1.0f);	/* 2 */
	test_short_rows_batch(24, 0.0f, 0.5f);	/* 2 */
	test_short_rows_batch(24, 1.0f, 0.5f);	/* 2 */
	/* short rows solved in lanes (groups of 2-4, any mix of sizes) equal their single-row solves */
	test_short_rows_batch(64, 0.0f, 1.0f);	/* 2 */
	test_short_rows_batch(128, 0.0f, 1.0f);	/* 2 */
	test_short_rows_batch(13, 0.0f, 1.0f);	/* 2 */
	test_exact_short_of_memory(64);	/* 1 */
	test_exact_kernels();		/* 2 */
	test_tiled_kernels();		/* 2 */
	test_short_lanes();			/* 2 */
	test_prior(24, 0.0f, 1.0f, "prior k=24 (short rows)");	/* 6 */
	test_prior(16, 1.0f, 0.3f, "prior k=16 nu 1 a0 0.3");	/* 6 */
	test_symv_rows();			/* 2 */
	test_cg_lockstep(1, 300000, 70000, 0.0f, 1.0f, "k=1");	/* 6 */
	test_cg_lockstep(13, 25000, 5500, 0.0f, 1.0f, "k=13 (portable path)");	/* 6 */
	test_cg_lockstep(64, 3000, 1400, 0.0f, 1.0f, "k=64");	/* 6 */
	test_cg_lockstep(64, 3000, 1400, 1.0f, 0.3f, "k=64 nu 1 a0 0.3");	/* 5 */
	test_cg_lockstep(1024, 300, 100, 0.0f, 1.0f, "k=1024");	/* 6 */
	test_cg_lockstep(64, 3000, 1400, 0.0f, 0.5f, "k=64 a0 0.5");	/* 6 */
	/* long rows too sparse over 200,000 fixed rows to window (RECO_WINDOW_MIN_REUSE): each runs alone (RecoCgRow) */
	test_cg_lockstep(64, 200000, 1400, 0.0f, 1.0f, "k=64 sparse long rows");	/* 6 */
	/* k 128 (training's half passes, the AVX2 table's k 128 kernels): three windows, lockstep groups */
	test_cg_lockstep(128, 3000, 700, 0.0f, 1.0f, "k=128");	/* 6 */
	/* k 88 (the AVX2 table for any k): lockstep groups' A·p passes two rows at a time (axpy_pair_h, odd groups and finished rows alone) */
	test_cg_lockstep(88, 3000, 1200, 0.0f, 1.0f, "k=88");	/* 6 */
	test_substitution_sizes();	/* 2 */
	test_factor_sizes();		/* 2 */
	test_axpy_rows();			/* 1 */
	test_fused_loss(64, 0.0f, 1.0f, "fused loss k=64");	/* 5 */
	test_fused_loss(13, 0.5f, 0.3f, "fused loss k=13 nu 0.5 a0 0.3");	/* 5 */
	test_half_convert();		/* 3 */
	test_half_kernels();		/* 2 */
	test_zmm_kernels();			/* 3 */
	test_axpy_pair_h();			/* 1 */
	test_half_solve(8, "half k=8");	/* 4 */
	test_half_solve(13, "half k=13 (portable path)");	/* 4 */
	test_half_solve(64, "half k=64");	/* 4 */
	/* again on the ymm tiles alone: every AVX2 CPU without AVX-512F runs them for every n */
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsAvx2UseZmm(false);
#endif
	test_short_rows_batch(64, 0.0f, 1.0f);	/* 2 */
	test_factor_sizes();		/* 2 */
#ifdef RECO_HAVE_AVX2_PATH
	RecoKernelsAvx2UseZmm(__builtin_cpu_supports("avx512f"));
#endif
	/* last: their problems draw from the shared generator, which the tests above replay */
	test_loss_half(13, 0.0f, 1.0f);	/* 2 */
	test_loss_half(64, 0.8f, 0.2f);	/* 2 */
	test_keep_half_buffer();	/* 1 */
	test_kept_products();		/* 1 */
	return tap_exit_status(TEST_ALS_PLAN);
}
