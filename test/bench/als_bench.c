/*-------------------------------------------------------------------------
 *
 * als_bench.c
 *	  Standalone speed benchmark of the iALS kernel on synthetic data.
 *
 * Generates a data set shaped like the shared scale set (default 200,000
 * users x 50,000 items, exactly 10,000,000 distinct pairs, Zipf(1.0) item
 * popularity with ranks shuffled over item ids, lognormal(0, 1) user
 * activity, integer weights 1..5; deterministic from the seed), then times
 * full ALS iterations (user side + item side) for every combination of
 * solver, k and thread count asked for, and prints the median seconds per
 * half-iteration and per iteration, GFLOP/s by the BENCHMARKS.md formula
 * and the fraction of an sgemm peak measured in the same run.
 *
 *   make bench-als && ./test/bench/als_bench [options]
 *     -u USERS -i ITEMS -n NNZ   size (default 200000 50000 10000000)
 *     -k 64,128                  factor counts
 *     -t 1,2                     thread counts
 *     -s cg,cholesky             solvers
 *     -r 5                       CG iterations timed (median reported)
 *     -R 2                       Cholesky iterations timed
 *     -c 3                       CG steps
 *     -l 0.05                    regularization
 *     -e 0                       reg_exponent ν (λ_u = λ·(n_u + α0·N)^ν)
 *     -w 1                       unobserved_weight α0
 *     -S 7                       seed
 *     -L                         also time and print the loss; with CG, also
 *                                the user step with the loss fused
 *                                (RecoAlsSolveSideLoss) beside the plain one
 *                                and RecoAlsLoss, 3 interleaved rounds, wall
 *                                and CPU medians
 *     -F                         after the CG iterations, time the exact user
 *                                pass that ends reco.train (final pass), wall
 *                                and CPU, beside the CG iterations' medians
 *     -P 1                       with -F: run the exact pass this many times
 *                                from the same X and Y (each pass's CPU and
 *                                their median printed; factors of the last)
 *     -D FILE                    with -F: write the pass's user factors there
 *                                (raw floats, users x k; one k per file)
 *     -C FILE                    cache of the generated data: read it if it
 *                                exists (same size and seed), else write it
 *     -T FILE                    read the data from FILE instead ("user<TAB>item<TAB>
 *                                weight" lines, the scale set gen_synth.py
 *                                writes), numbered in id order as reco.train
 *                                numbers a table's (-u -i -n -S -C ignored)
 *     -O PREFIX                  write each configuration's final factors to
 *                                PREFIX-SOLVER-kK-tT.bin (X then Y, float32)
 *     -H 1                       transparent huge pages for the sparse arrays
 *                                and the factors as reco.train asks for them
 *                                (hugepage.c): 1 advise (default), 0 do not,
 *                                2 advise but disable THP for the process
 *                                (prctl PR_SET_THP_DISABLE: the fallback path)
 *     -A 0|1                     CG A·p passes over the fixed side in float32
 *                                (0) or half precision (1); without -A,
 *                                reco.train's choice (half from k 64 on:
 *                                RecoAlsConfig.cg_vectors)
 *
 * Every configuration also prints how much of the process's anonymous memory
 * is backed by huge pages (AnonHugePages of /proc/self/smaps_rollup) and
 * the median CPU seconds of an iteration
 * (CLOCK_PROCESS_CPUTIME_ID, every thread: the figure to compare on a shared
 * machine) and an FNV-1a hash of the final factors (equal hashes: bit-identical
 * factors, e.g. across thread counts).
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
#include <math.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "als.h"
#include "hugepage.h"

/* xoshiro256** state. */
typedef struct BenchRng
{
	uint64_t	s[4];
} BenchRng;

/* splitmix64 step, used to seed xoshiro. */
static uint64_t
bench_splitmix(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Seeds the generator. */
static void
bench_rng_init(BenchRng *r, uint64_t seed)
{
	int			i;

	for (i = 0; i < 4; i++)
		r->s[i] = bench_splitmix(&seed);
}

/* Rotate left. */
static uint64_t
bench_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits (xoshiro256**). */
static uint64_t
bench_next(BenchRng *r)
{
	uint64_t	result = bench_rotl(r->s[1] * 5, 7) * 9;
	uint64_t	t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = bench_rotl(r->s[3], 45);
	return result;
}

/* Uniform double in [0, 1). */
static double
bench_uniform(BenchRng *r)
{
	return (double) (bench_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller). */
static double
bench_normal(BenchRng *r)
{
	double		u1 = bench_uniform(r),
				u2 = bench_uniform(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Index of the first cdf entry > u (cdf ascending, last entry 1). */
static int64_t
bench_pick(const double *cdf, int64_t n, double u)
{
	int64_t		lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int64_t		mid = (lo + hi) / 2;

		if (cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* qsort comparator for int64 keys. */
static int
bench_cmp_i64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Sorts and removes duplicates; returns the new length. */
static int64_t
bench_sort_unique(int64_t *keys, int64_t n)
{
	int64_t		i,
				m = 0;

	qsort(keys, (size_t) n, sizeof(int64_t), bench_cmp_i64);
	for (i = 0; i < n; i++)
		if (m == 0 || keys[i] != keys[m - 1])
			keys[m++] = keys[i];
	return m;
}

/* A CSR matrix with its own storage. */
typedef struct BenchCsr
{
	RecoSparse	sp;
	int64_t    *indptr;
	int32_t    *indices;
	float	   *weights;
} BenchCsr;

/* Wall-clock seconds. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU seconds of the whole process (every thread). */
static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Exits with a message if p is NULL. */
static void *
bench_check(void *p)
{
	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

/* -H: 0 no huge-page advice, 1 advise (as reco.train), 2 advise with THP disabled. */
static int	bench_huge = 1;

/* malloc (exits on failure) with reco.train's huge-page advice (-H) before the first write. */
static void *
bench_alloc(size_t bytes)
{
	void	   *p = bench_check(malloc(bytes > 0 ? bytes : 1));

	if (bench_huge > 0)
		RecoAdviseHugePages(p, bytes);
	return p;
}

/* kB of the process's anonymous memory in huge pages (smaps_rollup), or -1. */
static long
bench_anon_huge_kb(void)
{
	FILE	   *f = fopen("/proc/self/smaps_rollup", "r");
	char		line[256];
	long		kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "AnonHugePages:", 14) == 0)
			kb = atol(line + 14);
	fclose(f);
	return kb;
}

/*
 * Builds the user-major CSR and the item-major CSC of nnz sorted distinct
 * keys u·n_items + i, with weights w (in key order), or, w NULL, drawn
 * 1..5 from rng in key order (the generator's).
 */
static void
bench_build(const int64_t *keys, const float *w, BenchRng *rng, int64_t n_users,
			int64_t n_items, int64_t nnz, BenchCsr *csr, BenchCsr *csc)
{
	int64_t    *fill;
	int64_t		i;

	csr->indptr = bench_alloc(sizeof(int64_t) * (n_users + 1));
	csr->indices = bench_alloc(sizeof(int32_t) * nnz);
	csr->weights = bench_alloc(sizeof(float) * nnz);
	csc->indptr = bench_alloc(sizeof(int64_t) * (n_items + 1));
	csc->indices = bench_alloc(sizeof(int32_t) * nnz);
	csc->weights = bench_alloc(sizeof(float) * nnz);
	memset(csr->indptr, 0, sizeof(int64_t) * (n_users + 1));
	memset(csc->indptr, 0, sizeof(int64_t) * (n_items + 1));
	for (i = 0; i < nnz; i++)
	{
		int64_t		u = keys[i] / n_items,
					it = keys[i] % n_items;

		csr->indptr[u + 1]++;
		csc->indptr[it + 1]++;
		csr->indices[i] = (int32_t) it;
		csr->weights[i] = w != NULL ? w[i] : (float) (1 + bench_next(rng) % 5);
	}
	for (i = 0; i < n_users; i++)
		csr->indptr[i + 1] += csr->indptr[i];
	for (i = 0; i < n_items; i++)
		csc->indptr[i + 1] += csc->indptr[i];
	fill = bench_check(malloc(sizeof(int64_t) * n_items));
	memcpy(fill, csc->indptr, sizeof(int64_t) * n_items);
	for (i = 0; i < nnz; i++)
	{
		int64_t		u = keys[i] / n_items,
					it = keys[i] % n_items;
		int64_t		pos = fill[it]++;

		csc->indices[pos] = (int32_t) u;
		csc->weights[pos] = csr->weights[i];
	}
	csr->sp.n_rows = n_users;
	csr->sp.n_cols = n_items;
	csr->sp.indptr = csr->indptr;
	csr->sp.indices = csr->indices;
	csr->sp.weights = csr->weights;
	csc->sp.n_rows = n_items;
	csc->sp.n_cols = n_users;
	csc->sp.indptr = csc->indptr;
	csc->sp.indices = csc->indices;
	csc->sp.weights = csc->weights;
	free(fill);
}

/*
 * Generates exactly nnz distinct (user, item) pairs the way gen_synth.py
 * does and builds the user-major CSR and the item-major CSC.
 */
static void
bench_generate(int64_t n_users, int64_t n_items, int64_t nnz, uint64_t seed,
			   BenchCsr *csr, BenchCsr *csc)
{
	BenchRng	rng;
	double	   *cdf_item = bench_check(malloc(sizeof(double) * n_items));
	double	   *cdf_user = bench_check(malloc(sizeof(double) * n_users));
	int64_t    *item_of_rank = bench_check(malloc(sizeof(int64_t) * n_items));
	int64_t    *keys = NULL;
	int64_t		have = 0,
				i;
	double		sum;

	bench_rng_init(&rng, seed);
	sum = 0;
	for (i = 0; i < n_items; i++)
		cdf_item[i] = (sum += 1.0 / (double) (i + 1));
	for (i = 0; i < n_items; i++)
		cdf_item[i] /= sum;
	cdf_item[n_items - 1] = 1.0;
	for (i = 0; i < n_items; i++)
		item_of_rank[i] = i;
	for (i = n_items - 1; i > 0; i--)
	{
		int64_t		j = (int64_t) (bench_next(&rng) % (uint64_t) (i + 1));
		int64_t		t = item_of_rank[i];

		item_of_rank[i] = item_of_rank[j];
		item_of_rank[j] = t;
	}
	sum = 0;
	for (i = 0; i < n_users; i++)
		cdf_user[i] = (sum += exp(bench_normal(&rng)));
	for (i = 0; i < n_users; i++)
		cdf_user[i] /= sum;
	cdf_user[n_users - 1] = 1.0;

	/* draw with replacement, dedupe, top up until >= nnz */
	while (have < nnz)
	{
		int64_t		m = (int64_t) ((nnz - have) * 1.25) + 1000;

		keys = bench_check(realloc(keys, sizeof(int64_t) * (have + m)));
		for (i = 0; i < m; i++)
		{
			int64_t		u = bench_pick(cdf_user, n_users, bench_uniform(&rng));
			int64_t		it = item_of_rank[bench_pick(cdf_item, n_items, bench_uniform(&rng))];

			keys[have + i] = u * n_items + it;
		}
		have = bench_sort_unique(keys, have + m);
		if (have < nnz && have + m > n_users * n_items)
		{
			fprintf(stderr, "cannot draw %lld distinct pairs\n", (long long) nnz);
			exit(1);
		}
	}
	/* keep a random subset of exactly nnz (partial Fisher-Yates), re-sort */
	for (i = 0; i < nnz; i++)
	{
		int64_t		j = i + (int64_t) (bench_next(&rng) % (uint64_t) (have - i));
		int64_t		t = keys[i];

		keys[i] = keys[j];
		keys[j] = t;
	}
	qsort(keys, (size_t) nnz, sizeof(int64_t), bench_cmp_i64);
	bench_build(keys, NULL, &rng, n_users, n_items, nnz, csr, csc);
	free(keys);
	free(item_of_rank);
	free(cdf_user);
	free(cdf_item);
}

/* One row of a -T file: the ids, the weight and the row's place in the file. */
typedef struct BenchTsvRow
{
	int64_t		user;
	int64_t		item;
	int64_t		seq;
	float		weight;
} BenchTsvRow;

/* qsort comparator of -T rows: by user, item, then place in the file. */
static int
bench_cmp_tsv(const void *a, const void *b)
{
	const BenchTsvRow *x = a,
			   *y = b;

	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* Index of id in the sorted distinct ids (present). */
static int64_t
bench_find_id(const int64_t *ids, int64_t n, int64_t id)
{
	const int64_t *p = bsearch(&id, ids, (size_t) n, sizeof(int64_t), bench_cmp_i64);

	return p - ids;
}

/*
 * Reads a file of "user<TAB>item<TAB>weight" lines (bigint ids; the shared
 * scale set of gen_synth.py) as reco.train reads a table: duplicates summed
 * in file order, pairs summing to 0 dropped, then users and items numbered
 * in id order (only those left with a pair).  Sets the sizes; exits on a
 * line it cannot read.
 */
static void
bench_read_tsv(const char *path, int64_t *n_users, int64_t *n_items,
			   int64_t *nnz, BenchCsr *csr, BenchCsr *csc)
{
	FILE	   *f = fopen(path, "r");
	char		line[256];
	BenchTsvRow *rows = NULL;
	int64_t    *items,
			   *keys;
	float	   *w;
	int64_t		n = 0,
				cap = 0,
				m = 0,
				nu = 0,
				ni,
				i;

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f))
	{
		char	   *p = line,
				   *e;

		if (n == cap)
			rows = bench_check(realloc(rows, sizeof(BenchTsvRow) * (cap = cap ? 2 * cap : 1 << 20)));
		rows[n].user = strtoll(p, &e, 10);
		if (e == p || *e != '\t')
			break;
		rows[n].item = strtoll(p = e + 1, &e, 10);
		if (e == p || *e != '\t')
			break;
		rows[n].weight = strtof(p = e + 1, &e);
		if (e == p)
			break;
		rows[n].seq = n;
		n++;
	}
	if (!feof(f))
	{
		fprintf(stderr, "%s: cannot read line %lld\n", path, (long long) n + 1);
		exit(1);
	}
	fclose(f);
	qsort(rows, (size_t) n, sizeof(BenchTsvRow), bench_cmp_tsv);
	for (i = 0; i < n; i++)
	{
		if (m > 0 && rows[m - 1].user == rows[i].user && rows[m - 1].item == rows[i].item)
			rows[m - 1].weight += rows[i].weight;
		else
			rows[m++] = rows[i];
		if (m > 0 && rows[m - 1].weight == 0.0f && (i + 1 == n || rows[i + 1].user != rows[m - 1].user ||
													rows[i + 1].item != rows[m - 1].item))
			m--;
	}
	items = bench_check(malloc(sizeof(int64_t) * (m > 0 ? m : 1)));
	for (i = 0; i < m; i++)
		items[i] = rows[i].item;
	ni = bench_sort_unique(items, m);
	keys = bench_check(malloc(sizeof(int64_t) * (m > 0 ? m : 1)));
	w = bench_check(malloc(sizeof(float) * (m > 0 ? m : 1)));
	for (i = 0; i < m; i++)
	{
		if (i > 0 && rows[i].user != rows[i - 1].user)
			nu++;
		keys[i] = nu * ni + bench_find_id(items, ni, rows[i].item);
		w[i] = rows[i].weight;
	}
	*n_users = m > 0 ? nu + 1 : 0;
	*n_items = ni;
	*nnz = m;
	bench_build(keys, w, NULL, *n_users, ni, m, csr, csc);
	free(w);
	free(keys);
	free(items);
	free(rows);
}

/* Median of n doubles (sorts in place). */
static double
bench_median(double *v, int n)
{
	int			i,
				j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--)
		{
			double		t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* FNV-1a hash of n floats' bytes (equal hashes: bit-identical factors). */
static uint64_t
bench_hash(const float *v, int64_t n, uint64_t h)
{
	const unsigned char *b = (const unsigned char *) v;
	int64_t		i;

	for (i = 0; i < n * (int64_t) sizeof(float); i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001B3);
	return h;
}

/* Reads or writes n elements of size sz; false on a short read or write. */
static bool
bench_io(FILE *f, void *p, size_t sz, int64_t n, bool write)
{
	return (write ? fwrite(p, sz, (size_t) n, f) : fread(p, sz, (size_t) n, f)) == (size_t) n;
}

/* Reads (write false) or writes one CSR's arrays; false on a short transfer. */
static bool
bench_io_csr(FILE *f, BenchCsr *c, int64_t rows, int64_t cols, int64_t nnz,
			 bool write)
{
	if (!write)
	{
		c->indptr = bench_alloc(sizeof(int64_t) * (rows + 1));
		c->indices = bench_alloc(sizeof(int32_t) * nnz);
		c->weights = bench_alloc(sizeof(float) * nnz);
		c->sp.n_rows = rows;
		c->sp.n_cols = cols;
		c->sp.indptr = c->indptr;
		c->sp.indices = c->indices;
		c->sp.weights = c->weights;
	}
	return bench_io(f, c->indptr, sizeof(int64_t), rows + 1, write) &&
		bench_io(f, c->indices, sizeof(int32_t), nnz, write) &&
		bench_io(f, c->weights, sizeof(float), nnz, write);
}

/*
 * Loads the data from the cache file if it holds this size and seed (true),
 * else returns false; with write, stores the generated data there instead.
 */
static bool
bench_cache(const char *path, int64_t n_users, int64_t n_items, int64_t nnz,
			uint64_t seed, BenchCsr *csr, BenchCsr *csc, bool write)
{
	int64_t		head[4] = {n_users, n_items, nnz, (int64_t) seed},
				got[4];
	FILE	   *f;
	bool		ok;

	if (path == NULL || (f = fopen(path, write ? "wb" : "rb")) == NULL)
		return false;
	if (write)
		ok = bench_io(f, head, sizeof(int64_t), 4, true);
	else
		ok = bench_io(f, got, sizeof(int64_t), 4, false) &&
			memcmp(got, head, sizeof(head)) == 0;
	ok = ok && bench_io_csr(f, csr, n_users, n_items, nnz, write) &&
		bench_io_csr(f, csc, n_items, n_users, nnz, write);
	if (fclose(f) != 0)
		ok = false;
	if (!ok && !write)
	{
		fprintf(stderr, "cache %s does not hold this data set\n", path);
		exit(1);
	}
	return ok;
}

/* Best-of-3 sgemm GFLOP/s (n x n x n) with the current OpenBLAS threads. */
static double
bench_sgemm_peak(void)
{
	int			n = 2048,
				rep;
	float	   *a = bench_check(malloc(sizeof(float) * n * n));
	float	   *b = bench_check(malloc(sizeof(float) * n * n));
	float	   *c = bench_check(malloc(sizeof(float) * n * n));
	double		best = 0;
	int			i;

	for (i = 0; i < n * n; i++)
	{
		a[i] = (float) (i % 7) * 0.1f;
		b[i] = (float) (i % 5) * 0.1f;
	}
	for (rep = 0; rep < 4; rep++)
	{
		double		t0 = bench_now(),
					g;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
					a, n, b, n, 0.0f, c, n);
		g = 2.0 * n * (double) n * n / (bench_now() - t0) / 1e9;
		if (rep > 0 && g > best)
			best = g;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

/* Parses "a,b,c" into ints; returns the count. */
static int
bench_parse_list(const char *s, int *out, int max)
{
	int			n = 0;

	while (*s && n < max)
	{
		out[n++] = atoi(s);
		s = strchr(s, ',');
		if (s == NULL)
			break;
		s++;
	}
	return n;
}

/* ν and α0 of every configuration (-e, -w): implicit's system by default. */
static float bench_reg_exponent = 0.0f;
static float bench_unobserved_weight = 1.0f;
/* -A: 1 the CG A·p passes read half vectors (the default), 0 float32. */
static int	bench_half = -1;
/* -D: file the final pass's user factors are written to (raw floats), or NULL. */
static const char *bench_final_dump = NULL;

/* -P: times the exact pass runs (from the same X and Y). */
static int	bench_final_reps = 1;

/* Stop hook that never stops but counts its calls. */
static bool
bench_never_stop(void *arg)
{
	(*(long *) arg)++;
	return false;
}

/*
 * Times, in 3 interleaved rounds from the same X, the plain CG user step,
 * the same step with the loss fused (RecoAlsSolveSideLoss) and RecoAlsLoss;
 * prints wall and CPU medians and whether the fused step gives the loss and
 * factors of the other two bit for bit.
 */
static void
bench_fused_loss(const RecoSparse *users, const float *X, const float *Y,
				 const RecoAlsConfig *cfg, const RecoHooks *hooks)
{
	size_t		bytes = sizeof(float) * users->n_rows * cfg->factors;
	float	   *Xa = bench_check(malloc(bytes));
	float	   *Xb = bench_check(malloc(bytes));
	double		w[3][3],
				c[3][3],
				lf = 0,
				l = 0;
	bool		same = true;
	int			r,
				j;

	for (r = 0; r < 3; r++)
	{
		for (j = 0; j < 3; j++)
		{
			double		w0 = bench_now(),
						c0 = bench_cpu();

			if (j < 2)
				memcpy(j == 0 ? Xa : Xb, X, bytes);
			if (j == 0)
				(void) RecoAlsSolveSide(users, Y, Xa, cfg, hooks);
			else if (j == 1)
				(void) RecoAlsSolveSideLoss(users, Y, Xb, cfg, hooks, &lf);
			else
				(void) RecoAlsLoss(users, X, Y, cfg, hooks, &l);
			w[j][r] = bench_now() - w0;
			c[j][r] = bench_cpu() - c0;
		}
		same = same && memcmp(Xa, Xb, bytes) == 0 && memcmp(&l, &lf, sizeof(double)) == 0;
	}
	printf("         user step: plain %.3f s (cpu %.3f), with the loss fused %.3f s (cpu %.3f), "
		   "RecoAlsLoss %.3f s (cpu %.3f) (medians of 3); fused = plain + loss bit for bit: %s\n",
		   bench_median(w[0], 3), bench_median(c[0], 3), bench_median(w[1], 3),
		   bench_median(c[1], 3), bench_median(w[2], 3), bench_median(c[2], 3),
		   same ? "yes" : "NO");
	free(Xa);
	free(Xb);
}

/* Runs and prints one configuration. */
static void
bench_run(const BenchCsr *csr, const BenchCsr *csc, int k, int threads,
		  RecoSolver solver, int iters, int cg_steps, float reg, bool loss,
		  bool final, double peak, const char *dump)
{
	int64_t		m = csr->sp.n_rows,
				n = csc->sp.n_rows,
				nnz = csr->sp.indptr[m];
	float	   *X = bench_alloc(sizeof(float) * m * k);
	float	   *Y = bench_alloc(sizeof(float) * n * k);
	int64_t    *ids = bench_check(malloc(sizeof(int64_t) * (m > n ? m : n)));
	double	   *tu = bench_check(malloc(sizeof(double) * iters));
	double	   *ti = bench_check(malloc(sizeof(double) * iters));
	double	   *tt = bench_check(malloc(sizeof(double) * iters));
	double	   *cu = bench_check(malloc(sizeof(double) * iters));
	double	   *ci = bench_check(malloc(sizeof(double) * iters));
	double	   *ct = bench_check(malloc(sizeof(double) * iters));
	RecoAlsConfig cfg;
	RecoHooks hooks;
	long		polls = 0;
	double		gflop,
				med,
				total_time = 0;
	int64_t		i;
	int			it;

	for (i = 0; i < (m > n ? m : n); i++)
		ids[i] = i;
	RecoAlsInitFactors(X, m, k, ids, 42, 0);
	RecoAlsInitFactors(Y, n, k, ids, 42, 1);
	cfg.factors = k;
	cfg.regularization = reg;
	cfg.alpha = 1.0f;
	cfg.cg_steps = cg_steps;
	cfg.solver = solver;
	cfg.threads = threads;
	cfg.reg_exponent = bench_reg_exponent;
	cfg.unobserved_weight = bench_unobserved_weight;
	cfg.cg_vectors = bench_half < 0 ? RECO_CG_VECTORS_AUTO :
		(bench_half == 0 ? RECO_CG_VECTORS_FLOAT : RECO_CG_VECTORS_HALF);
	memset(&hooks, 0, sizeof(hooks));
	hooks.should_stop = bench_never_stop;
	hooks.arg = &polls;
	hooks.progress = NULL;

	/* the iterations keep their buffers and products between solves, as reco.train's do */
	RecoAlsKeepHalfBuffer(true);
	for (it = 0; it < iters; it++)
	{
		double		c0 = bench_cpu(),
					t0 = bench_now(),
					c1,
					t1,
					c2,
					t2;
		RecoStatus st;

		st = RecoAlsSolveSide(&csr->sp, Y, X, &cfg, &hooks);
		t1 = bench_now();
		c1 = bench_cpu();
		if (st == RECO_STATUS_OK)
			st = RecoAlsSolveSide(&csc->sp, X, Y, &cfg, &hooks);
		t2 = bench_now();
		c2 = bench_cpu();
		cu[it] = c1 - c0;
		ci[it] = c2 - c1;
		ct[it] = c2 - c0;
		if (st != RECO_STATUS_OK)
		{
			fprintf(stderr, "solve failed: %s\n", RecoStatusString(st));
			exit(1);
		}
		tu[it] = t1 - t0;
		ti[it] = t2 - t1;
		tt[it] = t2 - t0;
		total_time += t2 - t0;
	}
	RecoAlsKeepHalfBuffer(false);
	if (solver == RECO_SOLVER_CG)
		gflop = ((double) nnz * k * (2.0 * cg_steps + 2) * 2 +
				 (double) (m + n) * k * k * 2 * cg_steps) / 1e9;
	else
		gflop = ((double) nnz * k * k + (double) (m + n) * k * k * k / 3.0) / 1e9;
	{
		double		mu = bench_median(tu, iters),
					mi = bench_median(ti, iters);

		med = bench_median(tt, iters);
		printf("%-8s k=%-4d threads=%d  users %.3f s  items %.3f s  iteration %.3f s (median of %d)  "
			   "%.1f GFLOP/s (%.1f GFLOP/iter, %.0f%% of sgemm peak)  polls/s %.0f  [%s]\n",
			   solver == RECO_SOLVER_CG ? "cg" : "cholesky", k, threads, mu, mi,
			   med, iters, gflop / med, gflop, 100.0 * gflop / med / peak,
			   polls / total_time, RecoAlsKernelName(k));
		printf("         cpu: users %.3f s  items %.3f s  iteration %.3f s (medians)  "
			   "%.1f GFLOP per cpu-second  factors fnv %016llx\n",
			   bench_median(cu, iters), bench_median(ci, iters),
			   bench_median(ct, iters), gflop / bench_median(ct, iters),
			   (unsigned long long) bench_hash(Y, n * k, bench_hash(X, m * k, UINT64_C(0xcbf29ce484222325))));
		printf("         huge pages (-H %d): AnonHugePages %ld kB  A·p passes (-A %d): %s\n",
			   bench_huge, bench_anon_huge_kb(), bench_half,
			   bench_half < 0 ? (k >= RECO_CG_HALF_MIN_FACTORS ? "half (reco.train's at this k)" : "float32 (reco.train's at this k)") :
			   (bench_half ? "half" : "float32"));
	}
	if (dump != NULL)
	{
		char		path[4096];
		FILE	   *f;

		snprintf(path, sizeof(path), "%s-%s-k%d-t%d.bin", dump,
				 solver == RECO_SOLVER_CG ? "cg" : "cholesky", k, threads);
		f = fopen(path, "wb");
		if (f == NULL || !bench_io(f, X, sizeof(float), m * k, true) ||
			!bench_io(f, Y, sizeof(float), n * k, true) || fclose(f) != 0)
			fprintf(stderr, "could not write %s\n", path);
	}
	if (final && solver == RECO_SOLVER_CG)
	{
		RecoAlsConfig exact = cfg;
		float	   *X0 = bench_alloc(sizeof(float) * m * k);
		double	   *wf = bench_check(malloc(sizeof(double) * bench_final_reps));
		double	   *cf = bench_check(malloc(sizeof(double) * bench_final_reps));
		double		tf,
					c0;
		RecoStatus	st = RECO_STATUS_OK;
		int			r;

		exact.solver = RECO_SOLVER_CHOLESKY;
		memcpy(X0, X, sizeof(float) * m * k);
		for (r = 0; r < bench_final_reps; r++)
		{
			double		c1 = bench_cpu(),
						t1 = bench_now();

			memcpy(X, X0, sizeof(float) * m * k);
			st = RecoAlsSolveSide(&csr->sp, Y, X, &exact, &hooks);
			wf[r] = bench_now() - t1;
			cf[r] = bench_cpu() - c1;
			if (bench_final_reps > 1)
				printf("         exact pass %d: cpu %.3f s  wall %.3f s\n", r + 1, cf[r], wf[r]);
		}
		tf = bench_median(wf, bench_final_reps);
		c0 = bench_median(cf, bench_final_reps);
		printf("final    k=%-4d threads=%d  exact user pass %.3f s (%s) = %.2f CG iterations  "
			   "(cpu %.3f s = %.2f CG iterations' cpu %.3f s)%s\n",
			   k, threads, tf, RecoStatusString(st), tf / med, c0,
			   c0 / bench_median(ct, iters), bench_median(ct, iters),
			   bench_final_reps > 1 ? " (medians)" : "");
		free(X0);
		free(wf);
		free(cf);
		if (bench_final_dump != NULL)
		{
			FILE	   *df = fopen(bench_final_dump, "wb");

			if (df == NULL || fwrite(X, sizeof(float) * k, (size_t) m, df) != (size_t) m ||
				fclose(df) != 0)
			{
				fprintf(stderr, "cannot write %s\n", bench_final_dump);
				exit(1);
			}
		}
	}
	if (loss)
	{
		double		l,
					t0 = bench_now();
		RecoStatus st = RecoAlsLoss(&csr->sp, X, Y, &cfg, &hooks, &l);

		printf("         loss %.6g (%s) in %.3f s\n", l, RecoStatusString(st),
			   bench_now() - t0);
		if (solver == RECO_SOLVER_CG)
		{
			RecoAlsConfig fcfg = cfg;
			double		lf;

			/* the float32 objective (the Cholesky solver's loss) beside the CG's own */
			fcfg.solver = RECO_SOLVER_CHOLESKY;
			if (RecoAlsLoss(&csr->sp, X, Y, &fcfg, &hooks, &lf) == RECO_STATUS_OK)
				printf("         float32 objective %.9g, CG loss %.9g: relative difference %.2e\n",
					   lf, l, fabs(l - lf) / lf);
			bench_fused_loss(&csr->sp, X, Y, &cfg, &hooks);
		}
	}
	fflush(stdout);
	free(X);
	free(Y);
	free(ids);
	free(tu);
	free(ti);
	free(tt);
	free(cu);
	free(ci);
	free(ct);
}

/* Parses options, generates data, runs every configuration. */
int
main(int argc, char **argv)
{
	int64_t		n_users = 200000,
				n_items = 50000,
				nnz = 10000000;
	int			ks[8] = {64, 128},
				nk = 2,
				ts[8] = {1, 2},
				nt = 2;
	bool		do_cg = true,
				do_chol = true,
				loss = false,
				final = false;
	int			iters = 5,
				chol_iters = 2,
				cg_steps = 3,
				opt,
				a,
				b;
	float		reg = 0.05f;
	uint64_t	seed = 7;
	BenchCsr	csr,
				csc;
	double		t0,
				peak[8];
	const char *core = getenv("OPENBLAS_CORETYPE");
	const char *cache = NULL,
			   *dump = NULL,
			   *tsv = NULL;
	bool		cached = false;
	char		model[256] = "?";
	FILE	   *f;

	while ((opt = getopt(argc, argv, "u:i:n:k:t:s:r:R:c:l:e:w:S:LFP:D:C:O:T:H:A:")) != -1)
	{
		switch (opt)
		{
			case 'u':
				n_users = atoll(optarg);
				break;
			case 'i':
				n_items = atoll(optarg);
				break;
			case 'n':
				nnz = atoll(optarg);
				break;
			case 'k':
				nk = bench_parse_list(optarg, ks, 8);
				break;
			case 't':
				nt = bench_parse_list(optarg, ts, 8);
				break;
			case 's':
				do_cg = strstr(optarg, "cg") != NULL;
				do_chol = strstr(optarg, "chol") != NULL;
				break;
			case 'r':
				iters = atoi(optarg);
				break;
			case 'R':
				chol_iters = atoi(optarg);
				break;
			case 'c':
				cg_steps = atoi(optarg);
				break;
			case 'l':
				reg = (float) atof(optarg);
				break;
			case 'e':
				bench_reg_exponent = (float) atof(optarg);
				break;
			case 'w':
				bench_unobserved_weight = (float) atof(optarg);
				break;
			case 'S':
				seed = strtoull(optarg, NULL, 10);
				break;
			case 'L':
				loss = true;
				break;
			case 'F':
				final = true;
				break;
			case 'P':
				bench_final_reps = atoi(optarg) > 0 ? atoi(optarg) : 1;
				break;
			case 'D':
				bench_final_dump = optarg;
				break;
			case 'C':
				cache = optarg;
				break;
			case 'O':
				dump = optarg;
				break;
			case 'T':
				tsv = optarg;
				break;
			case 'H':
				bench_huge = atoi(optarg);
				break;
			case 'A':
				bench_half = atoi(optarg);
				break;
			default:
				fprintf(stderr, "usage: %s [-u users] [-i items] [-n nnz] [-k 64,128] [-t 1,2] "
						"[-s cg,cholesky] [-r iters] [-R chol_iters] [-c cg_steps] [-l reg] [-e reg_exponent] [-w unobserved_weight] [-S seed] [-L] [-F] [-P reps] [-D file] [-C cache] [-O prefix] [-T file] [-H 0|1|2] [-A 0|1]\n",
						argv[0]);
				return 2;
		}
	}
	if (iters < 1)
		iters = 1;
	if (bench_huge == 2 && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0)
		perror("prctl(PR_SET_THP_DISABLE)");
	if (chol_iters < 1)
		chol_iters = 1;

	f = fopen("/proc/cpuinfo", "r");
	if (f != NULL)
	{
		char		line[512];

		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "model name", 10) == 0)
			{
				char	   *p = strchr(line, ':');

				if (p != NULL)
				{
					snprintf(model, sizeof(model), "%s", p + 2);
					model[strcspn(model, "\n")] = 0;
				}
				break;
			}
		fclose(f);
	}
	printf("# machine: %s, %ld online cpus, OPENBLAS_CORETYPE=%s, %s\n", model,
		   sysconf(_SC_NPROCESSORS_ONLN), core ? core : "(unset)", openblas_get_config());

	t0 = bench_now();
	if (tsv != NULL)
		bench_read_tsv(tsv, &n_users, &n_items, &nnz, &csr, &csc);
	else if (cache != NULL && access(cache, R_OK) == 0)
		cached = bench_cache(cache, n_users, n_items, nnz, seed, &csr, &csc, false);
	else
	{
		bench_generate(n_users, n_items, nnz, seed, &csr, &csc);
		if (cache != NULL && !bench_cache(cache, n_users, n_items, nnz, seed, &csr, &csc, true))
			fprintf(stderr, "could not write the cache %s\n", cache);
	}
	{
		int64_t		maxu = 0,
					maxi = 0,
					i;
		char		origin[64] = "";

		for (i = 0; i < n_users; i++)
			if (csr.indptr[i + 1] - csr.indptr[i] > maxu)
				maxu = csr.indptr[i + 1] - csr.indptr[i];
		for (i = 0; i < n_items; i++)
			if (csc.indptr[i + 1] - csc.indptr[i] > maxi)
				maxi = csc.indptr[i + 1] - csc.indptr[i];
		if (tsv == NULL)
			snprintf(origin, sizeof(origin), " (seed %llu)", (unsigned long long) seed);
		printf("# data: %lld users x %lld items, %lld nnz%s, max per user %lld, max per item %lld, %s%s in %.1f s\n",
			   (long long) n_users, (long long) n_items, (long long) nnz, origin,
			   (long long) maxu, (long long) maxi, tsv != NULL ? "read from " : "",
			   tsv != NULL ? tsv : cached ? "read from the cache" : "generated", bench_now() - t0);
	}
	for (b = 0; b < nt; b++)
	{
		openblas_set_num_threads(ts[b]);
		peak[b] = bench_sgemm_peak();
		printf("# sgemm 2048^3 peak, %d OpenBLAS thread(s): %.1f GFLOP/s\n", ts[b], peak[b]);
	}
	printf("# CG: %d steps, regularization %g, alpha 1; GFLOP/iter = nnz*k*(2*cg+2)*2 + (m+n)*k^2*2*cg\n",
		   cg_steps, reg);
	fflush(stdout);
	for (a = 0; a < nk; a++)
		for (b = 0; b < nt; b++)
		{
			openblas_set_num_threads(ts[b]);
			if (do_cg)
				bench_run(&csr, &csc, ks[a], ts[b], RECO_SOLVER_CG, iters,
						  cg_steps, reg, loss, final, peak[b], dump);
			if (do_chol)
				bench_run(&csr, &csc, ks[a], ts[b], RECO_SOLVER_CHOLESKY,
						  chol_iters, cg_steps, reg, loss, false, peak[b], dump);
		}
	free(csr.indptr);
	free(csr.indices);
	free(csr.weights);
	free(csc.indptr);
	free(csc.indices);
	free(csc.weights);
	return 0;
}
