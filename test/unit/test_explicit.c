/*-------------------------------------------------------------------------
 *
 * test_explicit.c
 *	  Standalone TAP unit tests of explicit-ratings ALS with biases
 *	  (src/explicit.c): a rank-1 matrix recovered, biases of an additive
 *	  matrix, empty rows, thread-count independence, stored vectors,
 *	  stopping, bad input.
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

#include "explicit.h"
#include "tap.h"

#define TEST_PLAN 19

/* A ratings matrix in both orientations, built from a dense matrix and a mask. */
typedef struct Ratings
{
	int64_t		n_users;
	int64_t		n_items;
	int64_t		nnz;
	int64_t    *user_ptr;
	int32_t    *user_idx;
	float	   *user_w;
	int64_t    *item_ptr;
	int32_t    *item_idx;
	float	   *item_w;
	int64_t    *user_ids;
	int64_t    *item_ids;
} Ratings;

/* Builds CSR and CSC of dense[u * n_items + i] where mask is set (mask NULL: all). */
static Ratings
ratings_new(int64_t n_users, int64_t n_items, const float *dense, const char *mask)
{
	Ratings		r;
	int64_t		u,
				i,
				p = 0;

	memset(&r, 0, sizeof(r));
	r.n_users = n_users;
	r.n_items = n_items;
	r.user_ptr = calloc(n_users + 1, sizeof(int64_t));
	r.item_ptr = calloc(n_items + 1, sizeof(int64_t));
	r.user_idx = malloc(sizeof(int32_t) * (n_users * n_items + 1));
	r.user_w = malloc(sizeof(float) * (n_users * n_items + 1));
	r.item_idx = malloc(sizeof(int32_t) * (n_users * n_items + 1));
	r.item_w = malloc(sizeof(float) * (n_users * n_items + 1));
	r.user_ids = malloc(sizeof(int64_t) * n_users);
	r.item_ids = malloc(sizeof(int64_t) * n_items);
	for (u = 0; u < n_users; u++)
	{
		r.user_ids[u] = 100 + u;
		for (i = 0; i < n_items; i++)
			if (mask == NULL || mask[u * n_items + i])
			{
				r.user_idx[p] = (int32_t) i;
				r.user_w[p++] = dense[u * n_items + i];
			}
		r.user_ptr[u + 1] = p;
	}
	r.nnz = p;
	p = 0;
	for (i = 0; i < n_items; i++)
	{
		r.item_ids[i] = 500 + i;
		for (u = 0; u < n_users; u++)
			if (mask == NULL || mask[u * n_items + i])
			{
				r.item_idx[p] = (int32_t) u;
				r.item_w[p++] = dense[u * n_items + i];
			}
		r.item_ptr[i + 1] = p;
	}
	return r;
}

/* Frees a ratings matrix. */
static void
ratings_free(Ratings *r)
{
	free(r->user_ptr);
	free(r->user_idx);
	free(r->user_w);
	free(r->item_ptr);
	free(r->item_idx);
	free(r->item_w);
	free(r->user_ids);
	free(r->item_ids);
}

/* The user-major view. */
static RecoSparse
by_user(const Ratings *r)
{
	RecoSparse	m = {r->n_users, r->n_items, r->user_ptr, r->user_idx, r->user_w};

	return m;
}

/* The item-major view. */
static RecoSparse
by_item(const Ratings *r)
{
	RecoSparse	m = {r->n_items, r->n_users, r->item_ptr, r->item_idx, r->item_w};

	return m;
}

/* A trained model: rows of stride D, the mean, the last RMSE. */
typedef struct Model
{
	float	   *X;
	float	   *Y;
	double		mean;
	double		rmse;
	RecoStatus	status;
} Model;

/* Trains `iterations` user-then-item iterations from seed 7. */
static Model
train(const Ratings *r, const RecoExplicitConfig *cfg, int iterations, const RecoHooks *hooks)
{
	int			d = RecoExplicitStride(cfg->factors);
	RecoSparse	u = by_user(r);
	RecoSparse	i = by_item(r);
	Model		m;
	int			it;

	m.X = malloc(sizeof(float) * d * (r->n_users + 1));
	m.Y = malloc(sizeof(float) * d * (r->n_items + 1));
	m.mean = RecoExplicitMean(&u);
	m.rmse = -1;
	RecoExplicitInit(m.X, r->n_users, cfg->factors, r->user_ids, 7, 1);
	RecoExplicitInit(m.Y, r->n_items, cfg->factors, r->item_ids, 7, 2);
	m.status = RECO_STATUS_OK;
	for (it = 0; it < iterations && m.status == RECO_STATUS_OK; it++)
	{
		m.status = RecoExplicitSolveSide(&u, m.Y, m.X, m.mean, cfg, hooks);
		if (m.status == RECO_STATUS_OK)
			m.status = RecoExplicitSolveSide(&i, m.X, m.Y, m.mean, cfg, hooks);
	}
	if (m.status == RECO_STATUS_OK)
		m.status = RecoExplicitRmse(&u, m.X, m.Y, m.mean, cfg, hooks, &m.rmse);
	return m;
}

/* Frees a model. */
static void
model_free(Model *m)
{
	free(m->X);
	free(m->Y);
}

/* Dot product of two stored vectors of width w. */
static double
dot(const float *a, const float *b, int w)
{
	double		s = 0;
	int			j;

	for (j = 0; j < w; j++)
		s += (double) a[j] * b[j];
	return s;
}

/* A rank-1 matrix with biases, fully observed, is recovered; so is it with a third of the entries missing. */
static void
test_rank_one(void)
{
	enum
	{
		U = 12, I = 9
	};
	float		dense[U * I];
	char		mask[U * I];
	RecoExplicitConfig cfg = {1, 1e-6f, 1.0f, 1};
	Ratings		r;
	Model		m;
	int			u,
				i;

	for (u = 0; u < U; u++)
		for (i = 0; i < I; i++)
		{
			dense[u * I + i] = 3.0f + 0.1f * (u % 3) - 0.2f * (i % 2) + (0.5f + 0.1f * u) * (1.0f - 0.15f * i);
			mask[u * I + i] = (u + 2 * i) % 3 != 0;
		}
	r = ratings_new(U, I, dense, NULL);
	m = train(&r, &cfg, 200, NULL);
	ok(m.status == RECO_STATUS_OK && m.rmse < 1e-3, "rank-1 + biases, fully observed, k 1: training RMSE ~ 0");
	diag("rmse", m.rmse);
	model_free(&m);
	ratings_free(&r);

	cfg.factors = 2;
	r = ratings_new(U, I, dense, mask);
	m = train(&r, &cfg, 200, NULL);
	ok(m.status == RECO_STATUS_OK && m.rmse < 1e-3, "rank-1 + biases, two thirds observed, k 2: training RMSE ~ 0");
	diag("rmse", m.rmse);
	model_free(&m);
	ratings_free(&r);
}

/*
 * Biases alone: with zero initial factors the factors stay 0 and a user's
 * first solve is b_u = Σ (r − μ) / (n_u (1 + λ)), its mean rating less μ
 * (λ tiny); on the additive 2 x 2 matrix [[1, 3], [3, 5]] (μ = 3) one
 * iteration gives the exact biases ±1 and predictions equal to the ratings.
 * On a 3 x 3 matrix with two missing entries the user biases are the users'
 * means less μ after the first user solve.
 */
static void
test_biases_alone(void)
{
	float		dense[4] = {1, 3, 3, 5};
	float		dense3[9] = {5, 3, 0, 4, 0, 1, 2, 2, 2};
	char		mask3[9] = {1, 1, 0, 1, 0, 1, 1, 1, 1};
	RecoExplicitConfig cfg = {4, 1e-7f, 1.0f, 1};
	int			d = RecoExplicitStride(4);
	Ratings		r = ratings_new(2, 2, dense, NULL);
	RecoSparse	u = by_user(&r);
	RecoSparse	i = by_item(&r);
	float	   *X = calloc(3 * d, sizeof(float));
	float	   *Y = calloc(3 * d, sizeof(float));
	double		mean = RecoExplicitMean(&u),
				rmse = -1,
				xnorm = 0;
	int			j;

	ok(RecoExplicitSolveSide(&u, Y, X, mean, &cfg, NULL) == RECO_STATUS_OK &&
	   RecoExplicitSolveSide(&i, X, Y, mean, &cfg, NULL) == RECO_STATUS_OK &&
	   RecoExplicitRmse(&u, X, Y, mean, &cfg, NULL, &rmse) == RECO_STATUS_OK && mean == 3.0,
	   "additive 2 x 2: one iteration from zero factors, mean 3");
	ok(fabs(X[4] + 1) < 1e-5 && fabs(X[d + 4] - 1) < 1e-5 && fabs(Y[4] + 1) < 1e-5 && fabs(Y[d + 4] - 1) < 1e-5,
	   "additive 2 x 2: user and item biases are -1 and +1");
	for (j = 0; j < 4; j++)
		xnorm += fabs(X[j]) + fabs(X[d + j]) + fabs(Y[j]) + fabs(Y[d + j]);
	ok(xnorm == 0 && rmse < 1e-5, "additive 2 x 2: factors stay 0, predictions = ratings");
	ratings_free(&r);

	r = ratings_new(3, 3, dense3, mask3);
	u = by_user(&r);
	memset(X, 0, 3 * d * sizeof(float));
	memset(Y, 0, 3 * d * sizeof(float));
	mean = RecoExplicitMean(&u);	/* 19 / 7 */
	ok(RecoExplicitSolveSide(&u, Y, X, mean, &cfg, NULL) == RECO_STATUS_OK &&
	   fabs(mean - 19.0 / 7) < 1e-12 &&
	   fabs(mean + X[4] - 4.0) < 1e-5 && fabs(mean + X[d + 4] - 2.5) < 1e-5 && fabs(mean + X[2 * d + 4] - 2.0) < 1e-5,
	   "3 x 3 with gaps: mu + b_u = the users' mean ratings 4, 2.5, 2");
	ratings_free(&r);
	free(X);
	free(Y);
}

/* A huge λ shrinks everything to 0: every prediction is μ, the RMSE the ratings' standard deviation. */
static void
test_huge_regularization(void)
{
	float		dense[4] = {1, 2, 4, 5};
	RecoExplicitConfig cfg = {3, 1e9f, 1.0f, 1};
	int			d = RecoExplicitStride(3);
	Ratings		r = ratings_new(2, 2, dense, NULL);
	Model		m = train(&r, &cfg, 5, NULL);
	double		maxabs = 0;
	int			j;

	for (j = 0; j < 2 * d; j++)
		maxabs = fmax(maxabs, fmax(fabs(m.X[j]), fabs(m.Y[j])));
	ok(m.status == RECO_STATUS_OK && maxabs < 1e-6, "lambda 1e9: factors and biases ~0");
	ok(fabs(m.rmse - sqrt(2.5)) < 1e-5, "lambda 1e9: RMSE = the ratings' standard deviation (sqrt 2.5)");
	model_free(&m);
	ratings_free(&r);
}

/* A user and an item without ratings get zero rows; the others are finite. */
static void
test_empty_rows(void)
{
	float		dense[9] = {4, 3, 0, 5, 1, 0, 0, 0, 0};
	char		mask[9] = {1, 1, 0, 1, 1, 0, 0, 0, 0};
	RecoExplicitConfig cfg = {5, 0.1f, 1.0f, 2};
	int			d = RecoExplicitStride(5);
	Ratings		r = ratings_new(3, 3, dense, mask);
	Model		m = train(&r, &cfg, 3, NULL);
	int			j,
				zero = 1,
				finite = 1;

	for (j = 0; j < d; j++)
	{
		zero &= m.X[2 * d + j] == 0.0f && m.Y[2 * d + j] == 0.0f;
		finite &= isfinite(m.X[j]) && isfinite(m.Y[d + j]);
	}
	ok(m.status == RECO_STATUS_OK && zero, "rows without ratings: zero factors and bias");
	ok(finite, "rows with ratings: finite");
	model_free(&m);
	ratings_free(&r);
}

/* A random sparse matrix trains bit-identically on 1 and 3 threads; stored vectors' dot = prediction. */
static void
test_threads_and_storage(void)
{
	enum
	{
		U = 300, I = 200, K = 10
	};
	float	   *dense = malloc(sizeof(float) * U * I);
	char	   *mask = malloc(U * I);
	RecoExplicitConfig cfg = {K, 0.05f, 1.0f, 1};
	int			d = RecoExplicitStride(K);
	int			w = K + RECO_EXPLICIT_STORED_EXTRA;
	Ratings		r;
	Model		a,
				b;
	float	   *su = malloc(sizeof(float) * U * w);
	float	   *si = malloc(sizeof(float) * I * w);
	double		worst = 0;
	int			u,
				i;

	for (u = 0; u < U * I; u++)
	{
		dense[u] = (float) (1 + (int) (rnd_uniform() * 5));
		mask[u] = rnd_uniform() < 0.1;
	}
	r = ratings_new(U, I, dense, mask);
	a = train(&r, &cfg, 4, NULL);
	cfg.threads = 3;
	b = train(&r, &cfg, 4, NULL);
	ok(a.status == RECO_STATUS_OK && b.status == RECO_STATUS_OK &&
	   memcmp(a.X, b.X, sizeof(float) * d * U) == 0 && memcmp(a.Y, b.Y, sizeof(float) * d * I) == 0 &&
	   a.rmse == b.rmse, "threads 1 and 3: bit-identical factors and RMSE");
	ok(a.rmse > 0 && a.rmse < 1.5, "random ratings: RMSE finite and below the spread");
	RecoExplicitStoredRows(a.X, U, K, a.mean, true, su);
	RecoExplicitStoredRows(a.Y, I, K, a.mean, false, si);
	for (u = 0; u < U; u++)
		for (i = 0; i < I; i++)
		{
			double		pred = a.mean + a.X[u * d + K] + a.Y[i * d + K] + dot(a.X + u * d, a.Y + i * d, K);

			worst = fmax(worst, fabs(dot(su + u * w, si + i * w, w) - pred));
		}
	ok(worst < 1e-5, "stored vectors: user . item = mu + b_u + b_i + x . y");
	ok(su[K + 1] == 1.0f && su[K + 2] == 1.0f && si[K] == 1.0f && si[K + 2] == (float) a.mean,
	   "stored vectors: user [x, b, 1, 1], item [y, 1, b, mu]");
	model_free(&a);
	model_free(&b);
	ratings_free(&r);
	free(dense);
	free(mask);
	free(su);
	free(si);
}

/* A hook that says stop makes the side solve return RECO_STATUS_STOPPED, polled on the calling thread only. */
static void
test_stop(void)
{
	enum
	{
		U = 2000, I = 50
	};
	float	   *dense = malloc(sizeof(float) * U * I);
	RecoExplicitConfig cfg = {32, 0.1f, 1.0f, 2};
	HookState	h = hook_state(0);
	RecoHooks	hooks = {test_hook, &h, NULL};
	Ratings		r;
	Model		m;
	int			j;

	for (j = 0; j < U * I; j++)
		dense[j] = (float) (j % 5 + 1);
	r = ratings_new(U, I, dense, NULL);
	m = train(&r, &cfg, 1, &hooks);
	ok(m.status == RECO_STATUS_STOPPED && h.calls >= 1 && !h.wrong_thread, "stop hook: stopped, asked on the calling thread");
	model_free(&m);
	ratings_free(&r);
	free(dense);
}

/* Bad arguments are refused. */
static void
test_bad_input(void)
{
	float		dense[1] = {3};
	Ratings		r = ratings_new(1, 1, dense, NULL);
	RecoSparse	u = by_user(&r);
	float		X[16] = {0},
				Y[16] = {0};
	double		rmse;
	RecoExplicitConfig cfg = {0, 0.1f, 1.0f, 1};

	ok(RecoExplicitSolveSide(&u, Y, X, 3.0, &cfg, NULL) == RECO_STATUS_INVALID_ARGUMENT, "factors 0: invalid");
	cfg.factors = RECO_MAX_FACTORS - 2;
	ok(RecoExplicitSolveSide(&u, Y, X, 3.0, &cfg, NULL) == RECO_STATUS_INVALID_ARGUMENT,
	   "factors above the stored limit: invalid");
	cfg.factors = 2;
	cfg.regularization = -1;
	ok(RecoExplicitRmse(&u, X, Y, 3.0, &cfg, NULL, &rmse) == RECO_STATUS_INVALID_ARGUMENT, "negative lambda: invalid");
	cfg.regularization = 0;
	ok(RecoExplicitSolveSide(&u, Y, X, 3.0, &cfg, NULL) == RECO_STATUS_NOT_POSITIVE_DEFINITE,
	   "lambda 0 on a row with fewer ratings than k + 1: not positive definite");
	ratings_free(&r);
}

/* Runs every test. */
int
main(void)
{
	printf("1..%d\n", TEST_PLAN);
	test_rank_one();
	test_biases_alone();
	test_huge_regularization();
	test_empty_rows();
	test_threads_and_storage();
	test_stop();
	test_bad_input();
	return tap_exit_status(TEST_PLAN);
}
