/*-------------------------------------------------------------------------
 *
 * test_build.c
 *	  Standalone TAP unit tests of the build (src/interactions.c,
 *	  RecoBuildInteractions): its result against a reference built by a
 *	  plain sort, and its paths against each other.
 *
 *   make unit    (builds it with the kernel sources and interactions.c
 *				  against the server's headers; no server runs: the few
 *				  backend functions the build calls are stubbed below)
 *
 * The build takes one of several paths: both sides dense (the id maps side
 * by side) or not (RecoMapSide: the dense map or the hash table per side),
 * and, with reserved raw rows (RecoRowsReserve: a direct read of more than
 * 4096 rows), the sorts into arrays already mapped ("in place": the sort by
 * user into the raw items' and weights' arrays, both sides dense also the
 * sort by item into the id arrays' second halves).  Every case builds the
 * same rows (unsorted, with duplicates, net-zero pairs and weight-0 rows)
 * through the plain path on one thread, checks it against the reference
 * (ids, CSR, CSC, counts), then through the reserved path and on 2 and 3
 * threads, and asserts every array and count identical to the plain
 * path's.  The id maps: negative ids, ids spread too far for the dense map
 * (the hash path, extremes of int64 included), a single id, no row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/hashfn.h"
#include "miscadmin.h"

#include "ids.h"
#include "interactions.h"
#include "reco.h"
#include "tap.h"

#define TEST_PLAN 25

/* ------------------------------------------------------------------------
 * The backend functions the build calls, on malloc and without errors
 * (an error the build raises aborts the test).
 * ------------------------------------------------------------------------
 */
MemoryContext CurrentMemoryContext = NULL;
volatile sig_atomic_t InterruptPending = false;

/* Never called: no interrupt is ever pending. */
void
ProcessInterrupts(void)
{
}

/* A failed allocation or an error of the build: the test cannot go on. */
static void
test_abort(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* malloc that never returns NULL for a request (abort instead). */
static void *
test_alloc(Size size, bool zero)
{
	void	   *p = zero ? calloc(Max(size, 1), 1) : malloc(Max(size, 1));

	if (p == NULL)
		test_abort("out of memory");
	return p;
}

/* palloc. */
void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return test_alloc(size, false);
}

/* palloc0. */
void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return test_alloc(size, true);
}

/* palloc_huge. */
void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return test_alloc(size, false);
}

/* palloc_extended: zeroed or not; NULL on failure only if asked. */
void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	void	   *p = (flags & MCXT_ALLOC_ZERO) ? calloc(Max(size, 1), 1) : malloc(Max(size, 1));

	if (p == NULL && !(flags & MCXT_ALLOC_NO_OOM))
		test_abort("out of memory");
	return p;
}

/* repalloc_huge. */
void *
repalloc_huge(void *pointer, Size size)
{
	void	   *p = realloc(pointer, Max(size, 1));

	if (p == NULL)
		test_abort("out of memory");
	return p;
}

/* pfree. */
void
pfree(void *pointer)
{
	free(pointer);
}

/* No context is ever reset here: the callback is not needed. */
void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *cb)
{
}

/* add_size, abort on overflow. */
Size
add_size(Size s1, Size s2)
{
	if (s1 + s2 < s1)
		test_abort("size overflow");
	return s1 + s2;
}

/* mul_size, abort on overflow. */
Size
mul_size(Size s1, Size s2)
{
	if (s1 != 0 && (s1 * s2) / s1 != s2)
		test_abort("size overflow");
	return s1 * s2;
}

/* An ereport(ERROR) of the build: bail out. */
bool
errstart_cold(int elevel, const char *domain)
{
	test_abort("the build raised an error");
	return false;
}

/* Never reached (errstart_cold bails out). */
void
errfinish(const char *filename, int lineno, const char *funcname)
{
}

/* Never reached. */
int
errcode(int sqlerrcode)
{
	return 0;
}

/* Never reached. */
int
errmsg(const char *fmt,...)
{
	return 0;
}

/* Never reached. */
int
errmsg_internal(const char *fmt,...)
{
	return 0;
}

/* Never reached. */
int
errdetail(const char *fmt,...)
{
	return 0;
}

/* The key tables' hash (not used by bigint ids): FNV-1a. */
uint32
hash_bytes(const unsigned char *k, int keylen)
{
	uint32		h = 2166136261u;
	int			i;

	for (i = 0; i < keylen; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* pg_qsort (port.h makes every qsort one): libc's, past the macro. */
void
pg_qsort(void *base, size_t nel, size_t elsize, int (*cmp) (const void *, const void *))
{
	(qsort) (base, nel, elsize, cmp);
}

/* port.h makes printf pg_printf (the TAP lines' too) and the v-forms pg_v-forms: below, libc's. */
#undef vprintf
#undef vsnprintf

/* pg_printf: libc's. */
int
pg_printf(const char *fmt,...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vprintf(fmt, args);
	va_end(args);
	return n;
}

/* pg_snprintf: libc's. */
int
pg_snprintf(char *str, size_t count, const char *fmt,...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsnprintf(str, count, fmt, args);
	va_end(args);
	return n;
}

/* Key order (ids.c): bytewise. */
int
RecoCompareKeys(const char *a, const char *b)
{
	return strcmp(a, b);
}

/* No cancel here. */
bool
RecoInterruptPending(void *arg)
{
	return false;
}

/* Any status but OK bails out. */
void
RecoReportKernelStatus(RecoStatus status, const char *work)
{
	if (status != RECO_STATUS_OK)
		test_abort(work);
}

/* ------------------------------------------------------------------------
 * Inputs and the reference
 * ------------------------------------------------------------------------
 */

/* Raw rows of a case (kept: every build consumes a copy). */
typedef struct Input
{
	int64		n;
	int64	   *users;
	int64	   *items;
	float	   *weights;
	bool		ratings;
} Input;

/* How a side's ids are drawn. */
typedef enum IdKind
{
	IDS_DENSE,					/* lo .. lo + span - 1 */
	IDS_SPREAD					/* span ids anywhere in int64 (the extremes among them) */
} IdKind;

/* A pool of `span` ids of a kind starting at lo (dense) or spread over int64. */
static int64 *
make_pool(IdKind kind, int64 lo, int64 span)
{
	int64	   *pool = malloc(sizeof(int64) * span);
	int64		i;

	for (i = 0; i < span; i++)
		pool[i] = kind == IDS_DENSE ? lo + i : (int64) rnd();
	if (kind == IDS_SPREAD && span >= 2)
	{
		pool[0] = PG_INT64_MIN;
		pool[1] = PG_INT64_MAX;
	}
	return pool;
}

/*
 * n rows (n even, about) in random order: half of them drawn from the
 * pools with weights of a few kinds (small integers, fractions, 0, rarely
 * negative), and with every fourth drawn row a second row of the same pair
 * of minus its weight (a net-zero pair, unless the pair has more rows);
 * the rest duplicates of earlier rows with fresh weights.
 */
static Input
make_input(int64 n, IdKind users, int64 user_lo, int64 user_span, IdKind items, int64 item_lo, int64 item_span,
		   bool ratings)
{
	Input		in;
	int64	   *user_pool = make_pool(users, user_lo, user_span);
	int64	   *item_pool = make_pool(items, item_lo, item_span);
	int64		r = 0;

	in.n = n;
	in.users = malloc(sizeof(int64) * Max(n, 1));
	in.items = malloc(sizeof(int64) * Max(n, 1));
	in.weights = malloc(sizeof(float) * Max(n, 1));
	in.ratings = ratings;
	while (r < n)
	{
		uint64		kind = rnd() % 8;
		float		w = kind < 4 ? (float) (rnd() % 5 + 1) : kind < 6 ? (float) rnd_uniform() * 3.0f :
			kind == 6 ? 0.0f : -(float) (rnd() % 3 + 1);

		if (r > 0 && rnd() % 4 == 0)
		{
			/* a duplicate of an earlier row */
			int64		e = (int64) (rnd() % (uint64) r);

			in.users[r] = in.users[e];
			in.items[r] = in.items[e];
		}
		else
		{
			in.users[r] = user_pool[rnd() % (uint64) user_span];
			in.items[r] = item_pool[rnd() % (uint64) item_span];
		}
		in.weights[r] = w;
		r++;
		if (r < n && rnd() % 4 == 0)
		{
			/* its net-zero twin */
			in.users[r] = in.users[r - 1];
			in.items[r] = in.items[r - 1];
			in.weights[r] = -w;
			r++;
		}
	}
	/* unsorted: a shuffle (Fisher-Yates) */
	for (r = n - 1; r > 0; r--)
	{
		int64		e = (int64) (rnd() % (uint64) (r + 1));
		int64		u = in.users[r],
					i = in.items[r];
		float		w = in.weights[r];

		in.users[r] = in.users[e];
		in.items[r] = in.items[e];
		in.weights[r] = in.weights[e];
		in.users[e] = u;
		in.items[e] = i;
		in.weights[e] = w;
	}
	free(user_pool);
	free(item_pool);
	return in;
}

/* The raw rows of a build: fresh copies of the input, reserved (exactly n rows) or not. */
static RecoRows
input_rows(const Input *in, bool reserved)
{
	RecoRows	rows;

	memset(&rows, 0, sizeof(rows));
	rows.count = rows.capacity = in->n;
	rows.users = test_alloc(sizeof(int64) * in->n, false);
	rows.items = test_alloc(sizeof(int64) * in->n, false);
	rows.weights = test_alloc(sizeof(float) * in->n, false);
	memcpy(rows.users, in->users, sizeof(int64) * in->n);
	memcpy(rows.items, in->items, sizeof(int64) * in->n);
	memcpy(rows.weights, in->weights, sizeof(float) * in->n);
	rows.ratings = in->ratings;
	rows.reserved = reserved;
	return rows;
}

/* The memory check of the build: nothing refused. */
static void
no_check(const RecoInteractions *sizes, void *arg)
{
}

/* RecoBuildInteractions of the input, reserved or not, on `threads` threads. */
static RecoInteractions
build(const Input *in, bool reserved, int threads)
{
	RecoRows	rows = input_rows(in, reserved);
	RecoInteractions out;

	RecoBuildInteractions(&rows, &out, threads, no_check, NULL);
	return out;
}

/* Frees a build's arrays. */
static void
free_build(RecoInteractions *out)
{
	free(out->user_ids);
	free(out->item_ids);
	free(out->user_indptr);
	free(out->user_items);
	free(out->user_weights);
	free(out->item_indptr);
	free(out->item_users);
	free(out->item_weights);
}

/* A row in the reference's sort: its ids, weight and input position. */
typedef struct RefRow
{
	int64		user;
	int64		item;
	float		weight;
	int64		at;
} RefRow;

/* Orders rows by user, item, then input position. */
static int
ref_row_cmp(const void *a, const void *b)
{
	const RefRow *x = a,
			   *y = b;

	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return (x->at > y->at) - (x->at < y->at);
}

/* Orders int64s. */
static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Whether a build is the reference's: the rows sorted by (user, item, input
 * position), each pair's weights summed in input order (ratings: then
 * averaged), pairs of sum 0 dropped (not ratings), the ids those left,
 * the CSR in (user, item) order, the CSC its transpose with users
 * ascending, and the counts.
 */
static bool
matches_reference(const Input *in, const RecoInteractions *out)
{
	RefRow	   *rows = malloc(sizeof(RefRow) * Max(in->n, 1));
	int64	   *kept_items = malloc(sizeof(int64) * Max(in->n, 1));
	int64	   *col_fill;
	int64		r,
				nnz = 0,
				merged = 0,
				n_users = 0,
				n_items = 0,
				input_users = 0,
				positive = 0,
				first = 0,
				u,
				p;
	bool		same = true,
				user_positive = false;

	for (r = 0; r < in->n; r++)
	{
		rows[r].user = in->users[r];
		rows[r].item = in->items[r];
		rows[r].weight = in->weights[r];
		rows[r].at = r;
	}
	qsort(rows, in->n, sizeof(RefRow), ref_row_cmp);
	for (r = 0; r < in->n; r++)
		if (r == 0 || rows[r].user != rows[r - 1].user)
			input_users++;
	/* the kept items' ids, to number them */
	for (r = 0; r < in->n;)
	{
		int64		e = r + 1;
		float		w = rows[r].weight;

		while (e < in->n && rows[e].user == rows[r].user && rows[e].item == rows[r].item)
			w += rows[e++].weight;
		if (in->ratings || w != 0)
			kept_items[n_items++] = rows[r].item;
		r = e;
	}
	qsort(kept_items, n_items, sizeof(int64), int64_cmp);
	for (r = 0, p = 0; r < n_items; r++)
		if (r == 0 || kept_items[r] != kept_items[r - 1])
			kept_items[p++] = kept_items[r];
	n_items = p;
	same &= out->n_items == n_items && memcmp(out->item_ids, kept_items, sizeof(int64) * n_items) == 0;

	/* the CSR, pair by pair; a user's pairs end where the next user's rows begin */
	for (r = 0; r < in->n && same;)
	{
		int64		e = r + 1,
					copies = 1;
		float		w = rows[r].weight;

		if (r == 0 || rows[r].user != rows[r - 1].user)
		{
			first = nnz;
			user_positive = false;
		}
		while (e < in->n && rows[e].user == rows[r].user && rows[e].item == rows[r].item)
		{
			w += rows[e++].weight;
			copies++;
		}
		merged++;
		if (in->ratings && copies > 1)
			w /= (float) copies;
		if (in->ratings || w != 0)
		{
			same &= nnz < out->nnz && n_users < out->n_users &&
				out->user_ids[n_users] == rows[r].user &&
				out->item_ids[out->user_items[nnz]] == rows[r].item &&
				memcmp(&out->user_weights[nnz], &w, sizeof(float)) == 0;
			user_positive |= in->ratings || w > 0;
			nnz++;
		}
		if (e == in->n || rows[e].user != rows[r].user)
		{
			/* the user's last pair */
			if (same && nnz > first)
			{
				same &= out->user_indptr[n_users] == first && out->user_indptr[n_users + 1] == nnz;
				n_users++;
			}
			positive += user_positive;
		}
		r = e;
	}
	same &= out->nnz == nnz && out->n_users == n_users &&
		out->duplicates_merged == in->n - merged && out->pairs_net_zero == merged - nnz &&
		out->users_positive == positive && out->users_without_positive == input_users - positive &&
		out->ratings == in->ratings;

	/* the CSC: the CSR's transpose, users ascending per item */
	if (same)
	{
		col_fill = calloc(n_items + 1, sizeof(int64));
		for (p = 0; p < nnz; p++)
			col_fill[out->user_items[p] + 1]++;
		for (r = 0; r < n_items; r++)
			col_fill[r + 1] += col_fill[r];
		same &= memcmp(out->item_indptr, col_fill, sizeof(int64) * (n_items + 1)) == 0;
		for (u = 0; u < n_users && same; u++)
			for (p = out->user_indptr[u]; p < out->user_indptr[u + 1]; p++)
			{
				int64		q = col_fill[out->user_items[p]]++;

				same &= out->item_users[q] == u &&
					memcmp(&out->item_weights[q], &out->user_weights[p], sizeof(float)) == 0;
			}
		free(col_fill);
	}
	free(rows);
	free(kept_items);
	return same;
}

/* Whether two builds are the same, every count and array bit for bit. */
static bool
same_build(const RecoInteractions *a, const RecoInteractions *b)
{
	return a->n_users == b->n_users && a->n_items == b->n_items && a->nnz == b->nnz &&
		a->duplicates_merged == b->duplicates_merged && a->pairs_net_zero == b->pairs_net_zero &&
		a->users_without_positive == b->users_without_positive && a->users_positive == b->users_positive &&
		a->ratings == b->ratings && a->build_bytes == b->build_bytes &&
		memcmp(a->user_ids, b->user_ids, sizeof(int64) * a->n_users) == 0 &&
		memcmp(a->item_ids, b->item_ids, sizeof(int64) * a->n_items) == 0 &&
		memcmp(a->user_indptr, b->user_indptr, sizeof(int64) * (a->n_users + 1)) == 0 &&
		memcmp(a->user_items, b->user_items, sizeof(int32) * a->nnz) == 0 &&
		memcmp(a->user_weights, b->user_weights, sizeof(float) * a->nnz) == 0 &&
		memcmp(a->item_indptr, b->item_indptr, sizeof(int64) * (a->n_items + 1)) == 0 &&
		memcmp(a->item_users, b->item_users, sizeof(int32) * a->nnz) == 0 &&
		memcmp(a->item_weights, b->item_weights, sizeof(float) * a->nnz) == 0;
}

/*
 * One case (2 tests, or 4 with `paths`): the plain build on one thread
 * against the reference; with `paths`, the reserved build (in place) on 1
 * thread, then the plain and the reserved builds on 2 and 3 threads,
 * against the plain one-thread build.
 */
static void
check_case(const char *name, const Input *in, bool paths)
{
	RecoInteractions plain = build(in, false, 1);
	char		label[200];

	snprintf(label, sizeof(label), "%s: the plain build is the reference's", name);
	ok(matches_reference(in, &plain), label);
	if (paths)
	{
		RecoInteractions other = build(in, true, 1);
		bool		same_threads = true;
		int			threads;

		snprintf(label, sizeof(label), "%s: the reserved build (in place) is the plain build's", name);
		ok(same_build(&plain, &other), label);
		free_build(&other);
		for (threads = 2; threads <= 3; threads++)
		{
			int			reserved;

			for (reserved = 0; reserved <= 1; reserved++)
			{
				other = build(in, reserved, threads);
				same_threads &= same_build(&plain, &other);
				free_build(&other);
			}
		}
		snprintf(label, sizeof(label), "%s: plain and reserved on 2 and 3 threads are the one-thread build", name);
		ok(same_threads, label);
	}
	else
	{
		RecoInteractions other = build(in, true, 2);

		snprintf(label, sizeof(label), "%s: the reserved build on 2 threads is the plain build's", name);
		ok(same_build(&plain, &other), label);
		free_build(&other);
	}
	free_build(&plain);
}

/* Frees an input. */
static void
free_input(Input *in)
{
	free(in->users);
	free(in->items);
	free(in->weights);
}

int
main(void)
{
	/* enough rows for 3 parts of every threaded pass (RECO_SCATTER_MIN_ENTRIES each) */
	int64		big = 3 * RECO_SCATTER_MIN_ENTRIES + 1000;
	Input		in;

	printf("1..%d\n", TEST_PLAN);

	/* both sides dense: the id maps side by side, reserved: both sorts in place */
	in = make_input(big, IDS_DENSE, 1, 40000, IDS_DENSE, 1, 3000, false);
	check_case("dense sides", &in, true);
	free_input(&in);

	/* negative dense ids */
	in = make_input(big, IDS_DENSE, -20000, 40000, IDS_DENSE, -1500, 3000, false);
	check_case("negative dense ids", &in, true);
	free_input(&in);

	/* users spread over int64 (hash path; reserved: the sort by user in place), items dense */
	in = make_input(big, IDS_SPREAD, 0, 50000, IDS_DENSE, 7, 2000, false);
	check_case("spread users", &in, true);
	free_input(&in);

	/* items spread (hash path), users dense */
	in = make_input(big, IDS_DENSE, 100, 60000, IDS_SPREAD, 0, 1500, false);
	check_case("spread items", &in, true);
	free_input(&in);

	/* ratings: duplicates averaged, every pair kept */
	in = make_input(big, IDS_DENSE, 1, 40000, IDS_DENSE, 1, 3000, true);
	check_case("ratings", &in, true);
	free_input(&in);

	/* a range just too wide for the dense map on one side: hash path */
	in = make_input(5000, IDS_DENSE, -3000, 3000, IDS_DENSE, 0, 4 * 5000, false);
	check_case("a range past the dense map's", &in, false);
	free_input(&in);

	/* a single user, a single item, one row, no row */
	in = make_input(20000, IDS_DENSE, -42, 1, IDS_DENSE, 1, 500, false);
	check_case("one user", &in, false);
	free_input(&in);
	in = make_input(20000, IDS_SPREAD, 0, 300, IDS_DENSE, PG_INT64_MAX, 1, false);
	check_case("one item (the largest id)", &in, false);
	free_input(&in);
	in = make_input(1, IDS_DENSE, PG_INT64_MIN, 1, IDS_DENSE, 5, 1, false);
	check_case("one row", &in, false);
	free_input(&in);
	in = make_input(0, IDS_DENSE, 0, 1, IDS_DENSE, 0, 1, false);
	check_case("no row", &in, false);
	free_input(&in);

	return tap_exit_status(TEST_PLAN);
}
