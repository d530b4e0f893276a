/*-------------------------------------------------------------------------
 *
 * test_bpr.c
 *	  Standalone TAP unit tests of the BPR kernel (src/bpr.c): a planted
 *	  preference ranked above the rest, bit-identical factors at any thread
 *	  count, the loss falling, one SGD step checked by hand, skipped
 *	  negatives, the initial factors, refusals and the stop hook.
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpr.h"
#include "tap.h"

#define TEST_PLAN 17

/* A user x item data set in CSR with its positives and factors. */
typedef struct Data
{
	int64_t		n_users;
	int64_t		n_items;
	int64_t    *indptr;
	int32_t    *indices;
	float	   *weights;
	RecoSparse	users;
	RecoBprPositives pos;
	int64_t    *user_ids;
	int64_t    *item_ids;
	int64_t    *user_count;
	int64_t    *item_count;
	float	   *X;
	float	   *Y;
	int			k;
} Data;

/* Builds Data from a dense 0/1/−1 matrix m (n_users x n_items; 0 = no entry). */
static void
data_from_dense(Data *d, const signed char *m, int64_t n_users, int64_t n_items, int k)
{
	int64_t		u,
				i,
				n = 0,
				p;

	memset(d, 0, sizeof(*d));
	d->n_users = n_users;
	d->n_items = n_items;
	d->k = k;
	d->indptr = calloc(n_users + 1, sizeof(int64_t));
	d->indices = malloc(sizeof(int32_t) * (n_users * n_items + 1));
	d->weights = malloc(sizeof(float) * (n_users * n_items + 1));
	for (u = 0; u < n_users; u++)
	{
		for (i = 0; i < n_items; i++)
			if (m[u * n_items + i] != 0)
			{
				d->indices[n] = (int32_t) i;
				d->weights[n] = (float) m[u * n_items + i];
				n++;
			}
		d->indptr[u + 1] = n;
	}
	d->users = (RecoSparse) {n_users, n_items, d->indptr, d->indices, d->weights};
	d->pos.n = RecoBprCountPositives(&d->users, NULL);
	d->pos.users = malloc(sizeof(int32_t) * (d->pos.n + 1));
	d->pos.items = malloc(sizeof(int32_t) * (d->pos.n + 1));
	RecoBprCountPositives(&d->users, &d->pos);
	d->user_ids = malloc(sizeof(int64_t) * n_users);
	d->item_ids = malloc(sizeof(int64_t) * n_items);
	d->user_count = calloc(n_users, sizeof(int64_t));
	d->item_count = calloc(n_items, sizeof(int64_t));
	for (u = 0; u < n_users; u++)
		d->user_ids[u] = 1000 + u;
	for (i = 0; i < n_items; i++)
		d->item_ids[i] = 5000 + i;
	for (p = 0; p < d->pos.n; p++)
	{
		d->user_count[d->pos.users[p]]++;
		d->item_count[d->pos.items[p]]++;
	}
	d->X = malloc(sizeof(float) * n_users * (k + 1));
	d->Y = malloc(sizeof(float) * n_items * (k + 1));
}

/* Seeded initial factors of d. */
static void
data_init(Data *d, uint64_t seed)
{
	RecoBprInitFactors(d->X, d->n_users, d->k, d->user_ids, d->user_count, true, seed, 1);
	RecoBprInitFactors(d->Y, d->n_items, d->k, d->item_ids, d->item_count, false, seed, 2);
}

/* Frees d. */
static void
data_free(Data *d)
{
	void	   *blocks[] = {d->indptr, d->indices, d->weights, d->pos.users, d->pos.items,
		d->user_ids, d->item_ids, d->user_count, d->item_count, d->X, d->Y};
	size_t		b;

	for (b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++)
		free(blocks[b]);
}

/* Trains `epochs` epochs from the seed's start; the last epoch's statistics in *last. */
static RecoStatus
train(Data *d, const RecoBprConfig *cfg, uint64_t seed, int epochs, RecoBprEpochStats *first,
	  RecoBprEpochStats *last)
{
	int			e;
	RecoStatus	st = RECO_STATUS_OK;

	data_init(d, seed);
	for (e = 0; e < epochs && st == RECO_STATUS_OK; e++)
	{
		st = RecoBprEpoch(&d->users, &d->pos, d->X, d->Y, cfg, seed, e, NULL, last);
		if (e == 0 && first != NULL)
			*first = *last;
	}
	return st;
}

/* user · item over the k + 1 stored columns. */
static float
score(const Data *d, int64_t u, int64_t i)
{
	float		s = 0;
	int			c;

	for (c = 0; c <= d->k; c++)
		s += d->X[u * (d->k + 1) + c] * d->Y[i * (d->k + 1) + c];
	return s;
}

/*
 * Planted: 120 users, 80 items; users of group g (u % 2) like a random 12 of
 * the 40 items of half g and never one of the other half.
 */
static void
planted(Data *d, int k)
{
	int64_t		nu = 120,
				ni = 80,
				u;
	signed char *m = calloc(nu * ni, 1);

	rng_state = 777;
	for (u = 0; u < nu; u++)
	{
		int			got = 0;

		while (got < 12)
		{
			int64_t		i = (u % 2) * 40 + (int64_t) (rnd() % 40);

			if (!m[u * ni + i])
			{
				m[u * ni + i] = 1;
				got++;
			}
		}
	}
	data_from_dense(d, m, nu, ni, k);
	free(m);
}

/* A planted group preference is learned: unseen items of the user's half rank above the other half's. */
static void
test_planted(void)
{
	Data		d;
	RecoBprConfig cfg = {16, 0.05f, 0.01f, 64, 2};
	RecoBprEpochStats first,
				last;
	int64_t		u,
				i,
				right_top = 0,
				pairs = 0,
				pairs_right = 0;

	planted(&d, 16);
	ok(train(&d, &cfg, 42, 60, &first, &last) == RECO_STATUS_OK, "planted: 60 epochs train");
	for (u = 0; u < d.n_users; u++)
	{
		int64_t		best = -1;

		for (i = 0; i < d.n_items; i++)
		{
			int64_t		p;
			int			seen = 0;

			for (p = d.indptr[u]; p < d.indptr[u + 1]; p++)
				seen |= d.indices[p] == i;
			if (seen)
				continue;
			if (best < 0 || score(&d, u, i) > score(&d, u, best))
				best = i;
			if (i / 40 == u % 2)
			{
				int64_t		o;

				for (o = (1 - u % 2) * 40; o < (1 - u % 2) * 40 + 40; o++)
				{
					pairs++;
					pairs_right += score(&d, u, i) > score(&d, u, o);
				}
			}
		}
		right_top += best / 40 == u % 2;
	}
	diag("planted: users whose top unseen item is of their half", (double) right_top / d.n_users);
	diag("planted: (own unseen, other) pairs ordered right", (double) pairs_right / pairs);
	ok(right_top == d.n_users, "planted: every user's top unseen item is of the user's half");
	ok((double) pairs_right / pairs > 0.99, "planted: > 99 % of (own unseen item, other item) pairs ordered right");
	diag("planted: loss epoch 1", first.loss);
	diag("planted: loss epoch 60", last.loss);
	diag("planted: ordered right epoch 1", first.correct);
	diag("planted: ordered right epoch 60", last.correct);
	ok(last.loss < 0.5 * first.loss && last.correct > first.correct && last.correct > 0.9,
	   "planted: the loss halves and the fraction ordered right rises above 0.9");
	ok(first.samples == d.pos.n && d.pos.n == 120 * 12 && first.skipped > 0 && first.skipped < first.samples / 4,
	   "planted: an epoch draws one sample per positive; some negatives are positives and skipped");
	data_free(&d);
}

/* The same seed gives bit-identical factors at 1, 2 and 3 threads; another seed does not. */
static void
test_threads(void)
{
	Data		d;
	RecoBprConfig cfg = {16, 0.05f, 0.01f, 100, 1};
	RecoBprEpochStats s1,
				s2,
				s3;
	size_t		xb,
				yb;
	float	   *X1,
			   *Y1;
	int			same2,
				same3;

	planted(&d, 16);
	xb = sizeof(float) * d.n_users * 17;
	yb = sizeof(float) * d.n_items * 17;
	X1 = malloc(xb);
	Y1 = malloc(yb);
	train(&d, &cfg, 7, 10, NULL, &s1);
	memcpy(X1, d.X, xb);
	memcpy(Y1, d.Y, yb);
	cfg.threads = 2;
	train(&d, &cfg, 7, 10, NULL, &s2);
	same2 = memcmp(X1, d.X, xb) == 0 && memcmp(Y1, d.Y, yb) == 0 && s1.loss == s2.loss;
	cfg.threads = 3;
	train(&d, &cfg, 7, 10, NULL, &s3);
	same3 = memcmp(X1, d.X, xb) == 0 && memcmp(Y1, d.Y, yb) == 0 && s1.loss == s3.loss &&
		s1.skipped == s3.skipped;
	ok(same2 && same3, "determinism: same seed, bit-identical factors and loss at 1, 2 and 3 threads");
	train(&d, &cfg, 8, 10, NULL, &s3);
	ok(memcmp(X1, d.X, xb) != 0, "determinism: another seed gives other factors");
	free(X1);
	free(Y1);
	data_free(&d);
}

/* One sample by hand: implicit's SGD step on a user, its positive and the negative. */
static void
test_one_step(void)
{
	signed char m[3] = {1, 0, 0};
	Data		d;
	RecoBprConfig cfg = {4, 0.1f, 0.02f, 1, 1};
	RecoBprEpochStats st;
	float		x0[5],
				y0[15],
				z,
				s = 0;
	uint64_t	seed;
	int			c,
				j = -1,
				good = 1;

	data_from_dense(&d, m, 1, 3, 4);
	for (seed = 1; seed < 100; seed++)
	{
		data_init(&d, seed);
		memcpy(x0, d.X, sizeof(x0));
		memcpy(y0, d.Y, sizeof(y0));
		if (RecoBprEpoch(&d.users, &d.pos, d.X, d.Y, &cfg, seed, 0, NULL, &st) == RECO_STATUS_OK &&
			st.skipped == 0)
			break;
	}
	/* items 1 and 2 have no positive: zero rows; the negative is whichever changed */
	j = memcmp(d.Y + 5, y0 + 5, sizeof(float) * 5) != 0 ? 1 : 2;
	for (c = 0; c < 5; c++)
		s += x0[c] * (y0[c] - y0[j * 5 + c]);
	z = 1.0f / (1.0f + expf(s));
	for (c = 0; c < 4; c++)
	{
		good &= fabsf(d.X[c] - (x0[c] + 0.1f * (z * (y0[c] - y0[j * 5 + c]) - 0.02f * x0[c]))) < 1e-7f;
		good &= fabsf(d.Y[c] - (y0[c] + 0.1f * (z * x0[c] - 0.02f * y0[c]))) < 1e-7f;
		good &= fabsf(d.Y[j * 5 + c] - (y0[j * 5 + c] + 0.1f * (-z * x0[c] - 0.02f * y0[j * 5 + c]))) < 1e-7f;
	}
	good &= d.X[4] == 1.0f;
	good &= fabsf(d.Y[4] - (y0[4] + 0.1f * (z - 0.02f * y0[4]))) < 1e-7f;
	good &= fabsf(d.Y[j * 5 + 4] - (y0[j * 5 + 4] + 0.1f * (-z - 0.02f * y0[j * 5 + 4]))) < 1e-7f;
	ok(seed < 100 && st.samples == 1 && good,
	   "one step: x_u, y_i, b_i, y_j, b_j move as implicit's SGD step; the user's bias column stays 1");
	ok(fabs(st.loss - log1p(exp(-(double) s))) < 1e-6 && st.correct == (s > 0 ? 1.0 : 0.0),
	   "one step: the epoch's loss is −ln σ(x_uij) of the sample");
	data_free(&d);
}

/* A user who has every item: each negative is one of the user's positives and skipped. */
static void
test_all_skipped(void)
{
	signed char m[6] = {1, 1, 1, -1, 0, 1};
	Data		d;
	RecoBprConfig cfg = {3, 0.05f, 0.01f, 2, 2};
	RecoBprEpochStats st;
	float		before[8];

	/* user 0 has items 0..2; user 1 has item 2 (item 0 with weight −1: not a positive) */
	data_from_dense(&d, m, 2, 3, 3);
	data_init(&d, 3);
	memcpy(before, d.X, sizeof(before));
	ok(d.pos.n == 4 && d.pos.users[3] == 1 && d.pos.items[3] == 2,
	   "positives: entries with weight > 0 only (a −1 entry is not one)");
	ok(RecoBprEpoch(&d.users, &d.pos, d.X, d.Y, &cfg, 3, 0, NULL, &st) == RECO_STATUS_OK &&
	   st.samples == 4 && st.skipped >= 3 && memcmp(before, d.X, sizeof(float) * 4) == 0,
	   "skipped: user 0's samples are all skipped and leave x_0 unchanged");
	data_free(&d);
}

/* Initial factors: implicit's scale, the user's bias column 1, rows without positives zero, row order ignored. */
static void
test_init(void)
{
	int64_t		ids[3] = {10, 20, 30};
	int64_t		rev[3] = {30, 20, 10};
	int64_t		count[3] = {1, 0, 2};
	int64_t		rcount[3] = {2, 0, 1};
	float		a[3 * 9],
				b[3 * 9];
	int			c,
				good = 1;

	RecoBprInitFactors(a, 3, 8, ids, count, true, 5, 1);
	RecoBprInitFactors(b, 3, 8, rev, rcount, true, 5, 1);
	for (c = 0; c < 8; c++)
		good &= fabsf(a[c]) < 0.5f / 8 && fabsf(a[18 + c]) < 0.5f / 8 && a[9 + c] == 0.0f;
	good &= a[8] == 1.0f && a[17] == 1.0f && a[26] == 1.0f;
	ok(good, "init: |v| < 0.5/k, a user's last column 1, a row without positives [0, 1]");
	ok(memcmp(a, b + 18, sizeof(float) * 9) == 0 && memcmp(a + 18, b, sizeof(float) * 9) == 0,
	   "init: a row's start depends on its id, not its position");
	RecoBprInitFactors(b, 3, 8, ids, count, false, 5, 1);
	ok(memcmp(a, b, sizeof(float) * 8) == 0 && b[8] != 1.0f && fabsf(b[8]) < 0.5f / 8,
	   "init: an item's bias column starts random like its factors");
}

/* Bad arguments are refused; the hook stops an epoch. */
static void
test_refusals(void)
{
	Data		d;
	RecoBprConfig cfg = {16, 0.05f, 0.01f, 8, 2};
	RecoBprConfig bad;
	RecoBprEpochStats st;
	HookState	h = hook_state(3);
	RecoHooks	hooks = {test_hook, &h, NULL};
	int			refused = 1;

	planted(&d, 16);
	data_init(&d, 1);
	bad = cfg;
	bad.learning_rate = 0;
	refused &= RecoBprEpoch(&d.users, &d.pos, d.X, d.Y, &bad, 1, 0, NULL, &st) == RECO_STATUS_INVALID_ARGUMENT;
	bad = cfg;
	bad.batch = 0;
	refused &= RecoBprEpoch(&d.users, &d.pos, d.X, d.Y, &bad, 1, 0, NULL, &st) == RECO_STATUS_INVALID_ARGUMENT;
	bad = cfg;
	bad.regularization = NAN;
	refused &= RecoBprEpoch(&d.users, &d.pos, d.X, d.Y, &bad, 1, 0, NULL, &st) == RECO_STATUS_INVALID_ARGUMENT;
	refused &= RecoBprEpoch(&d.users, &d.pos, NULL, d.Y, &cfg, 1, 0, NULL, &st) == RECO_STATUS_INVALID_ARGUMENT;
	ok(refused, "refusals: learning rate 0, batch 0, NaN regularization, NULL factors");
	ok(RecoBprEpoch(&d.users, &d.pos, d.X, d.Y, &cfg, 1, 0, &hooks, &st) == RECO_STATUS_STOPPED &&
	   h.wrong_thread == 0, "stop: the hook stops an epoch (asked on the calling thread only)");
	bad = cfg;
	bad.learning_rate = 1e30f;
	data_init(&d, 1);
	ok(train(&d, &bad, 1, 5, NULL, &st) == RECO_STATUS_NOT_FINITE,
	   "diverged: a huge learning rate ends in RECO_STATUS_NOT_FINITE");
	data_free(&d);
}

/* Runs every test; exit status 0 if all passed. */
int
main(void)
{
	printf("1..%d\n", TEST_PLAN);
	test_planted();
	test_threads();
	test_one_step();
	test_all_skipped();
	test_init();
	test_refusals();
	return tap_exit_status(TEST_PLAN);
}
