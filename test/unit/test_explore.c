/*-------------------------------------------------------------------------
 *
 * test_explore.c
 *	  Standalone TAP unit tests of the exploration kernel (src/explore.c)
 *	  and the row factor it samples with (RecoAlsRowFactor, src/als.c).
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 * Exact checks where the definition is exact (σ = 0 is the plain top-n,
 * the same generator state gives the same list, filters and slot counts),
 * invariants in double for the numerics (UᵀU = A_u; the draws' mean
 * Mahalanobis norm E[(x̃ − x_u)ᵀ A_u (x̃ − x_u)] = σ² k).
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"
#include "tap.h"
#include "topk.h"

#define T_ITEMS 400
#define T_K 16

/* A test model: item factors, their gram, popularity and its order, one user. */
typedef struct TModel
{
	float		items[T_ITEMS * T_K];
	float		gram[T_K * T_K];
	int64_t		popularity[T_ITEMS];
	int32_t		pop_order[T_ITEMS];
	float		user[T_K];
	int32_t		seen[8];
	float		seen_w[8];
} TModel;

static TModel tm;

/* qsort order of rows by descending popularity, ties by lower row. */
static int
cmp_pop(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a,
				y = *(const int32_t *) b;

	if (tm.popularity[x] != tm.popularity[y])
		return tm.popularity[x] > tm.popularity[y] ? -1 : 1;
	return x < y ? -1 : (x > y);
}

/* Fills the test model (deterministic): items near a few directions, a user solved exactly. */
static void
make_model(void)
{
	int			i,
				j;
	RecoAlsRowParams rp = {2.0f, 0.5f, 0.0f, 1.0f, T_ITEMS};

	rng_state = 777;
	for (i = 0; i < T_ITEMS; i++)
	{
		for (j = 0; j < T_K; j++)
			tm.items[i * T_K + j] = (float) (0.2 * (rnd_uniform() - 0.5) + (j == i % 4 ? 0.5 : 0.0));
		tm.popularity[i] = (int64_t) (1000.0 / (1 + i % 97));
		tm.pop_order[i] = i;
	}
	qsort(tm.pop_order, T_ITEMS, sizeof(int32_t), cmp_pop);
	RecoAlsGram(tm.items, T_ITEMS, T_K, tm.gram);
	for (i = 0; i < 8; i++)
	{
		tm.seen[i] = 3 + 7 * i;
		tm.seen_w[i] = i == 5 ? -0.5f : 1.0f + (float) i;
	}
	if (!RecoAlsSolveRowExact(tm.gram, tm.items, T_K, tm.seen, tm.seen_w, 8, &rp, tm.user))
		printf("# could not solve the test user\n");
}

/* The input for the test user with these settings (mask NULL). */
static RecoExploreInput
input(float sigma, float epsilon, int n)
{
	RecoExploreInput in;

	memset(&in, 0, sizeof(in));
	in.items = tm.items;
	in.n_items = T_ITEMS;
	in.k = T_K;
	in.gram = tm.gram;
	in.popularity_order = tm.pop_order;
	in.popularity = tm.popularity;
	in.user = tm.user;
	in.seen = tm.seen;
	in.seen_weights = tm.seen_w;
	in.n_seen = 8;
	in.alpha = 2.0f;
	in.regularization = 0.5f;
	in.reg_exponent = 0.0f;
	in.unobserved_weight = 1.0f;
	in.sigma = sigma;
	in.epsilon = epsilon;
	in.n = n;
	return in;
}

/* A_u in double from the definition: α0·YᵀY + λ·(n + α0·N)^ν I + Σ (|c| − α0) y yᵀ. */
static void
reference_system(const RecoExploreInput *in, double *A)
{
	int			a,
				b;
	int64_t		i;

	for (a = 0; a < T_K; a++)
		for (b = 0; b < T_K; b++)
		{
			double		s = a == b ? in->regularization *
				pow(in->n_seen + (double) in->unobserved_weight * T_ITEMS, in->reg_exponent) : 0.0;

			for (i = 0; i < T_ITEMS; i++)
				s += (double) in->unobserved_weight * tm.items[i * T_K + a] * tm.items[i * T_K + b];
			for (i = 0; i < in->n_seen; i++)
			{
				const float *y = tm.items + (size_t) in->seen[i] * T_K;

				s += (fabs((double) in->alpha * in->seen_weights[i]) - in->unobserved_weight) * y[a] * y[b];
			}
			A[a * T_K + b] = s;
		}
}

/*
 * RecoAlsRowFactor: UᵀU = A_u (relative 1e-5), U upper triangular, for a
 * row, for n = 0, and for a row with ν = 0.7 and α0 = 0.4.
 */
static void
test_row_factor(void)
{
	static double U[T_K * T_K],
				A[T_K * T_K];
	static const char *const names[3] = {"row factor: a row with a negative weight factors",
		"row factor: n = 0 factors", "row factor: a row with nu 0.7, a0 0.4 factors"};
	int			pass;

	for (pass = 0; pass < 3; pass++)
	{
		RecoExploreInput in = input(1.0f, 0.0f, 10);
		RecoAlsRowParams rp;
		double		worst = 0.0;
		bool		lower_zero = true;
		int			a,
					b,
					l;

		in.n_seen = pass == 1 ? 0 : 8;
		if (pass == 2)
		{
			in.reg_exponent = 0.7f;
			in.unobserved_weight = 0.4f;
		}
		rp = (RecoAlsRowParams) {in.alpha, in.regularization, in.reg_exponent,
		in.unobserved_weight, in.n_items};
		reference_system(&in, A);
		if (!ok(RecoAlsRowFactor(tm.gram, tm.items, T_K, in.seen, in.seen_weights, in.n_seen,
								 &rp, U), names[pass]))
			continue;
		for (a = 0; a < T_K; a++)
			for (b = 0; b < T_K; b++)
			{
				double		s = 0.0;

				for (l = 0; l < T_K; l++)
					s += U[l * T_K + a] * U[l * T_K + b];
				worst = fmax(worst, fabs(s - A[a * T_K + b]) / fabs(A[a * T_K + a]));
				if (b < a && U[a * T_K + b] != 0.0)
					lower_zero = false;
			}
		diag("row factor: worst |UᵀU − A| / A_aa", worst);
		ok(worst < 1e-5 && lower_zero, "row factor: UᵀU equals A_u, lower triangle zero");
	}
}

/* σ = 0 draws nothing and returns x_u bit for bit; σ > 0 draws have E[dᵀ A d] = σ² k. */
static void
test_sample(void)
{
	static double A[T_K * T_K];
	RecoExploreInput in = input(0.0f, 0.0f, 10);
	RecoRng		rng = RecoRngStart(5, 1),
				before = rng;
	float		x[T_K];
	double		sum = 0.0;
	int			t,
				a,
				b,
				draws = 20000;

	ok(RecoExploreSample(&in, &rng, x) == RECO_STATUS_OK && memcmp(x, tm.user, sizeof(x)) == 0 &&
	   rng.state == before.state, "sample: sigma 0 is x_u exactly and draws nothing");
	in.sigma = 0.7f;
	reference_system(&in, A);
	for (t = 0; t < draws; t++)
	{
		double		q = 0.0;

		if (RecoExploreSample(&in, &rng, x) != RECO_STATUS_OK)
			break;
		for (a = 0; a < T_K; a++)
			for (b = 0; b < T_K; b++)
				q += ((double) x[a] - tm.user[a]) * A[a * T_K + b] * ((double) x[b] - tm.user[b]);
		sum += q;
	}
	/* dᵀAd / σ² is χ²_k: mean k, sd sqrt(2k / draws) of the mean */
	diag("sample: mean dᵀ A d / (σ² k)", sum / draws / (0.49 * T_K));
	ok(t == draws && fabs(sum / draws / (0.49 * T_K) - 1.0) < 0.03,
	   "sample: the draws have covariance σ² A_u⁻¹ (mean Mahalanobis norm σ² k within 3 %)");
}

/* Runs the kernel from generator (seed, 0); returns the found count. */
static int
run(const RecoExploreInput *in, uint64_t seed, RecoExploreSlot *out)
{
	RecoRng		rng = RecoRngStart(seed, 0);
	int			found = -1;

	if (RecoExploreUser(in, &rng, out, &found) != RECO_STATUS_OK)
		return -1;
	return found;
}

/* Whether two lists are the same rows with the same scores and flags. */
static bool
same_list(const RecoExploreSlot *a, const RecoExploreSlot *b, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (a[i].index != b[i].index || memcmp(&a[i].score, &b[i].score, sizeof(float)) != 0 ||
			a[i].epsilon != b[i].epsilon || a[i].explored != b[i].explored)
			return false;
	return true;
}

/* σ = 0, ε = 0 is the plain top-n of x_u under the mask (RecoTopK over the dot products). */
static void
test_plain(void)
{
	static float scores[T_ITEMS],
				mask[T_ITEMS];
	RecoExploreInput in = input(0.0f, 0.0f, 10);
	RecoExploreSlot out[10];
	RecoScored	top[10];
	bool		same = true;
	int			i,
				found,
				want;

	RecoAlsScoreRows(tm.items, NULL, T_ITEMS, T_K, tm.user, scores);
	for (i = 0; i < T_ITEMS; i++)
		mask[i] = i % 3 == 0 ? -INFINITY : 0.0f;
	for (i = 0; i < T_ITEMS; i++)
		if (mask[i] == -INFINITY)
			scores[i] = -INFINITY;
	want = RecoTopK(scores, T_ITEMS, 10, top);
	in.mask = mask;
	found = run(&in, 1, out);
	for (i = 0; i < want && found == want; i++)
		if (out[i].index != top[i].index || out[i].score != top[i].score || out[i].epsilon ||
			out[i].explored)
			same = false;
	ok(found == 10 && same, "plain: sigma 0 and epsilon 0 give the exact masked top-n, nothing explored");
}

/* The same generator state gives the same list; different seeds give different lists. */
static void
test_seeds(void)
{
	RecoExploreInput in = input(1.0f, 0.2f, 10);
	RecoExploreSlot a[10],
				b[10];
	int			s,
				distinct = 0,
				explored = 0;

	ok(run(&in, 42, a) == 10 && run(&in, 42, b) == 10 && same_list(a, b, 10),
	   "seeds: the same seed gives the same list, bit for bit");
	for (s = 0; s < 50; s++)
	{
		int			i;

		run(&in, 1000 + s, b);
		if (!same_list(a, b, 10))
			distinct++;
		for (i = 0; i < 10; i++)
			explored += b[i].explored;
	}
	diag("seeds: lists differing from seed 42's of 50", distinct);
	diag("seeds: explored slots of 500", explored);
	ok(distinct >= 45 && explored > 0, "seeds: different seeds give different lists");
}

/* Filters hold in every slot on many seeds; ε-slots come from the less popular half. */
static void
test_filters(void)
{
	static float mask[T_ITEMS];
	static int	pop_rank[T_ITEMS];
	RecoExploreInput in = input(3.0f, 0.5f, 20);
	RecoExploreSlot out[20];
	bool		good = true,
				tail = true,
				distinct = true;
	int			i,
				s,
				h = 0,
				rank = 0;

	for (i = 0; i < T_ITEMS; i++)
		mask[i] = (i % 5 == 1 || i < 30) ? -INFINITY : 0.0f;
	for (i = 0; i < T_ITEMS; i++)
		if (mask[tm.pop_order[i]] != -INFINITY)
		{
			pop_rank[tm.pop_order[i]] = rank++;
			h++;
		}
	in.mask = mask;
	for (s = 0; s < 300; s++)
	{
		int			j;

		if (run(&in, (uint64_t) s, out) != 20)
			good = false;
		for (i = 0; i < 20; i++)
		{
			if (mask[out[i].index] == -INFINITY)
				good = false;
			if (out[i].epsilon && pop_rank[out[i].index] < h / 2)
				tail = false;
			for (j = 0; j < i; j++)
				if (out[j].index == out[i].index)
					distinct = false;
		}
	}
	ok(good, "filters: no masked item in any slot, 300 seeds");
	ok(tail && distinct, "filters: epsilon-slots from the less popular half, no item twice");
}

/* ε-slot counts: exact when ε n is whole, ε n on average otherwise; ε = 1 fills every slot. */
static void
test_epsilon_count(void)
{
	RecoExploreInput in = input(0.5f, 0.3f, 10);
	RecoExploreSlot out[10];
	bool		exact = true;
	long		total = 0;
	int			s,
				i,
				runs = 4000;

	for (s = 0; s < 200; s++)
	{
		int			c = 0;

		run(&in, (uint64_t) s, out);
		for (i = 0; i < 10; i++)
			c += out[i].epsilon;
		if (c != 3)
			exact = false;
	}
	ok(exact, "epsilon count: n 10, epsilon 0.3 gives exactly 3 epsilon-slots on 200 seeds");
	in.epsilon = 0.25f;
	for (s = 0; s < runs; s++)
	{
		run(&in, (uint64_t) s, out);
		for (i = 0; i < 10; i++)
			total += out[i].epsilon;
	}
	diag("epsilon count: mean epsilon-slots at n 10, epsilon 0.25", (double) total / runs);
	ok(fabs((double) total / runs - 2.5) < 0.05, "epsilon count: n 10, epsilon 0.25 gives 2.5 on average");
	in.epsilon = 1.0f;
	run(&in, 3, out);
	total = 0;
	for (i = 0; i < 10; i++)
		total += out[i].epsilon;
	ok(total == 10, "epsilon count: epsilon 1 fills every slot");
}

/* A tail too small for the ε-slots: the rest go to the best sampled items; all distinct. */
static void
test_small_tail(void)
{
	static float mask[T_ITEMS];
	RecoExploreInput in = input(0.0f, 1.0f, 5);
	RecoExploreSlot out[5];
	int			i,
				eps = 0,
				found;

	for (i = 0; i < T_ITEMS; i++)
		mask[i] = i == 10 || i == 20 || i == 30 ? 0.0f : -INFINITY;
	in.mask = mask;
	found = run(&in, 9, out);
	for (i = 0; i < found; i++)
		eps += out[i].epsilon;
	/* h = 3: the tail is the 2 less popular, the third slot is the best sampled one */
	ok(found == 3 && eps == 2 && out[0].index + out[1].index + out[2].index == 60,
	   "small tail: 3 eligible items, epsilon 1: 2 epsilon-slots and the best item");
}

/* Unknown user: the best-sellers (scores the popularity), ε-slots as usual. */
static void
test_unknown(void)
{
	RecoExploreInput in = input(1.0f, 0.0f, 10);
	RecoExploreSlot out[10];
	bool		same = true;
	int			i;

	in.user = NULL;
	run(&in, 4, out);
	for (i = 0; i < 10; i++)
		if (out[i].index != tm.pop_order[i] || out[i].score != (float) tm.popularity[tm.pop_order[i]] ||
			out[i].explored)
			same = false;
	ok(same, "unknown user: the best-sellers in popularity order, nothing explored");
}

static float t_norms[T_ITEMS];
static int32_t t_norm_order[T_ITEMS];

/* qsort order of rows by descending norm, ties by lower row. */
static int
cmp_norm(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a,
				y = *(const int32_t *) b;

	if (t_norms[x] != t_norms[y])
		return t_norms[x] > t_norms[y] ? -1 : 1;
	return x < y ? -1 : (x > y);
}

/* With the norms given (batch.h's early stop), every list equals the direct scan's. */
static void
test_norm_path(void)
{
	static float mask[T_ITEMS];
	RecoExploreSlot a[12],
				b[12];
	bool		same = true;
	int			i,
				s;

	for (i = 0; i < T_ITEMS; i++)
	{
		double		q = 0.0;
		int			j;

		for (j = 0; j < T_K; j++)
			q += (double) tm.items[i * T_K + j] * tm.items[i * T_K + j];
		t_norms[i] = (float) sqrt(q);
		t_norm_order[i] = i;
		mask[i] = i % 7 == 2 ? -INFINITY : 0.0f;
	}
	qsort(t_norm_order, T_ITEMS, sizeof(int32_t), cmp_norm);
	for (s = 0; s < 60; s++)
	{
		RecoExploreInput in = input(s % 3 == 0 ? 0.0f : 1.5f, s % 2 == 0 ? 0.0f : 0.3f, 12);
		int			fa,
					fb;

		in.mask = s % 4 < 2 ? mask : NULL;
		fa = run(&in, (uint64_t) s, a);
		in.item_norms = t_norms;
		in.norm_order = t_norm_order;
		fb = run(&in, (uint64_t) s, b);
		if (fa != 12 || fb != 12 || !same_list(a, b, 12))
			same = false;
	}
	ok(same, "norm path: the early-stopping ranking gives the direct scan's lists, 60 seeds");
}

/* Bad inputs are refused with RECO_STATUS_INVALID_ARGUMENT and found 0. */
static void
test_bad(void)
{
	RecoExploreSlot out[10];
	RecoRng		rng = RecoRngStart(1, 0);
	int			found = 7,
				bad = 0,
				c;

	for (c = 0; c < 7; c++)
	{
		RecoExploreInput in = input(1.0f, 0.1f, 10);

		switch (c)
		{
			case 0: in.n = 0; break;
			case 1: in.sigma = -1.0f; break;
			case 2: in.sigma = NAN; break;
			case 3: in.sigma = INFINITY; break;
			case 4: in.epsilon = 1.5f; break;
			case 5: in.epsilon = NAN; break;
			case 6: in.popularity_order = NULL; break;
		}
		if (RecoExploreUser(&in, &rng, out, &found) == RECO_STATUS_INVALID_ARGUMENT && found == 0)
			bad++;
		found = 7;
	}
	ok(bad == 7, "bad inputs: n 0, sigma < 0 / NaN / inf, epsilon > 1 / NaN, no popularity order");
}

/*
 * Dot products that overflow float: items (1e19, 0) and (-1e19, 0) (their
 * Gram matrix 2e38 is still finite), user (1e20, 0): the scores are +inf and
 * -inf.  σ = 0 leaves the -inf item out as reco.recommend does (one slot of
 * n 5, never an unfilled one), also as an ε pick; σ > 0 reports the
 * non-finite sampled scores.
 */
static void
test_overflow(void)
{
	static const float items[4] = {1e19f, 0.0f, -1e19f, 0.0f};
	static const float user[2] = {1e20f, 0.0f};
	static const int64_t popularity[2] = {2, 1};
	static const int32_t pop_order[2] = {0, 1};
	static const int32_t seen[1] = {0};
	static const float seen_w[1] = {1.0f};
	float		gram[4];
	RecoExploreInput in = {.items = items, .n_items = 2, .k = 2, .gram = gram, .n = 5,
		.popularity_order = pop_order, .popularity = popularity, .user = user, .seen = seen,
	.seen_weights = seen_w, .n_seen = 1, .alpha = 1.0f, .regularization = 0.01f, .unobserved_weight = 1.0f};
	RecoExploreSlot out[5];
	RecoRng		rng;
	int			found = -1;
	RecoStatus	st;

	RecoAlsGram(items, 2, 2, gram);
	memset(out, 0x7f, sizeof(out));
	rng = RecoRngStart(1, 0);
	st = RecoExploreUser(&in, &rng, out, &found);
	ok(st == RECO_STATUS_OK && found == 1 && out[0].index == 0 && out[0].score == INFINITY &&
	   !out[0].explored, "overflow: sigma 0 leaves the -inf item out: one slot, the +inf item");
	in.epsilon = 1.0f;
	found = -1;
	rng = RecoRngStart(1, 0);
	st = RecoExploreUser(&in, &rng, out, &found);
	ok(st == RECO_STATUS_OK && found == 1 && out[0].index == 0,
	   "overflow: sigma 0, epsilon 1: the -inf tail item is no epsilon pick either");
	in.epsilon = 0.0f;
	in.sigma = 1.0f;
	found = -1;
	rng = RecoRngStart(1, 0);
	st = RecoExploreUser(&in, &rng, out, &found);
	ok(st == RECO_STATUS_NOT_FINITE && found == 0, "overflow: sigma > 0 reports the non-finite sampled scores");
	in.n = 1;
	found = -1;
	rng = RecoRngStart(1, 0);
	st = RecoExploreUser(&in, &rng, out, &found);
	ok(st == RECO_STATUS_NOT_FINITE && found == 0, "overflow: also when the full list holds only the +inf item");
}

/* Runs every test; exit status 1 if any failed. */
int
main(void)
{
	printf("1..24\n");
	make_model();
	test_row_factor();			/* 6 */
	test_sample();				/* 2 */
	test_plain();				/* 1 */
	test_seeds();				/* 2 */
	test_filters();				/* 2 */
	test_epsilon_count();		/* 3 */
	test_small_tail();			/* 1 */
	test_unknown();				/* 1 */
	test_norm_path();			/* 1 */
	test_bad();					/* 1 */
	test_overflow();			/* 4 */
	return tap_exit_status(24);
}
