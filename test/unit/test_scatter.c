/*-------------------------------------------------------------------------
 *
 * test_scatter.c
 *	  Standalone TAP unit tests of the build's threaded counting-sort
 *	  scatter (src/scatter.c) against the one-thread loop, and of its dense
 *	  id maps (RecoIdMapRun) against a sort of the distinct ids.
 *
 *   make unit    (builds it with the kernel sources; no PostgreSQL needed)
 *
 * Every case scatters random entries (explicit tags, or groups with empty
 * groups among them) with 1 to 4 threads and compares the output arrays and
 * the advanced cursors bit for bit with the scalar reference; sizes cover no
 * entry, one entry, one bucket, a single group longer than a poll, and
 * enough entries for several threads; a hook that says stop stops the run.
 * The id maps: no row, one row, every row the same id, ids with gaps (one
 * slot per possible id, most empty), two maps side by side on 1 and 2
 * threads, indices written over the ids themselves (the int64 array's first
 * half, as the build does), rows longer than a poll, and a stop; their
 * range pass (min and max).  The merge
 * against the one-thread merge-then-drop: no user, users with no pair,
 * one pair, net-zero pairs, ratings, 1 to 4 threads, a user longer than a
 * poll, and a stop.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scatter.h"
#include "tap.h"

#define TEST_PLAN 25

/* One test input: entries, their buckets, tags or groups, and the bucket starts. */
typedef struct Input
{
	RecoScatter s;
	int64_t    *start;			/* n_buckets: the buckets' starts */
	int32_t    *key;
	int32_t    *tag;
	int64_t    *group_end;
	float	   *weight;
} Input;

/*
 * A random input of n entries over n_buckets buckets; explicit tags, or
 * (groups > 0) `groups` groups of random lengths, some empty.
 */
static Input
make_input(int64_t n, int64_t n_buckets, int64_t groups)
{
	Input		in;
	int64_t		p,
				b,
				total = 0;

	memset(&in, 0, sizeof(in));
	in.key = malloc(sizeof(int32_t) * (n + 1));
	in.weight = malloc(sizeof(float) * (n + 1));
	in.start = calloc(n_buckets + 1, sizeof(int64_t));
	for (p = 0; p < n; p++)
	{
		in.key[p] = (int32_t) (rnd() % (uint64_t) n_buckets);
		in.weight[p] = (float) (rnd_uniform() * 10.0 - 5.0);
		in.start[in.key[p]]++;
	}
	for (b = 0; b < n_buckets; b++)
	{
		int64_t		c = in.start[b];

		in.start[b] = total;
		total += c;
	}
	if (groups > 0)
	{
		/* group ends: random cut points, sorted, the last at n (repeats make empty groups) */
		int64_t		g;

		in.group_end = malloc(sizeof(int64_t) * groups);
		for (g = 0; g < groups - 1; g++)
			in.group_end[g] = (int64_t) (rnd() % (uint64_t) (n + 1));
		in.group_end[groups - 1] = n;
		for (g = 1; g < groups; g++)
		{
			int64_t		v = in.group_end[g],
						h = g - 1;

			while (h >= 0 && in.group_end[h] > v)
			{
				in.group_end[h + 1] = in.group_end[h];
				h--;
			}
			in.group_end[h + 1] = v;
		}
	}
	else
	{
		in.tag = malloc(sizeof(int32_t) * (n + 1));
		for (p = 0; p < n; p++)
			in.tag[p] = (int32_t) (rnd() & 0x7fffffff);
	}
	in.s.n = n;
	in.s.key = in.key;
	in.s.tag = in.tag;
	in.s.group_end = in.group_end;
	in.s.n_groups = groups;
	in.s.weight = in.weight;
	in.s.n_buckets = n_buckets;
	return in;
}

/* The scalar reference: the build's one-thread loop, into out_tag/out_weight with cursor. */
static void
reference(const Input *in, int64_t *cursor, int32_t *out_tag, float *out_weight)
{
	int64_t		p,
				g = 0;

	memcpy(cursor, in->start, sizeof(int64_t) * in->s.n_buckets);
	for (p = 0; p < in->s.n; p++)
	{
		int64_t		dst = cursor[in->key[p]]++;

		if (in->tag == NULL)
			while (in->group_end[g] <= p)
				g++;
		out_tag[dst] = in->tag != NULL ? in->tag[p] : (int32_t) g;
		out_weight[dst] = in->weight[p];
	}
}

/* Whether RecoScatterRun with 1 to 4 threads gives the reference's arrays and cursors, bit for bit. */
static int
same_as_reference(Input *in)
{
	int64_t		n = in->s.n;
	int64_t    *ref_cursor = malloc(sizeof(int64_t) * (in->s.n_buckets + 1));
	int32_t    *ref_tag = malloc(sizeof(int32_t) * (n + 1));
	float	   *ref_weight = malloc(sizeof(float) * (n + 1));
	int			threads,
				same = 1;

	reference(in, ref_cursor, ref_tag, ref_weight);
	for (threads = 1; threads <= 4; threads++)
	{
		int64_t    *cursor = malloc(sizeof(int64_t) * (in->s.n_buckets + 1));
		int32_t    *out_tag = calloc(n + 1, sizeof(int32_t));
		float	   *out_weight = calloc(n + 1, sizeof(float));

		memcpy(cursor, in->start, sizeof(int64_t) * in->s.n_buckets);
		in->s.cursor = cursor;
		in->s.out_tag = out_tag;
		in->s.out_weight = out_weight;
		if (RecoScatterRun(&in->s, threads, NULL) != RECO_STATUS_OK ||
			memcmp(cursor, ref_cursor, sizeof(int64_t) * in->s.n_buckets) != 0 ||
			memcmp(out_tag, ref_tag, sizeof(int32_t) * n) != 0 ||
			memcmp(out_weight, ref_weight, sizeof(float) * n) != 0)
			same = 0;
		free(cursor);
		free(out_tag);
		free(out_weight);
	}
	free(ref_cursor);
	free(ref_tag);
	free(ref_weight);
	return same;
}

/* Frees an input. */
static void
free_input(Input *in)
{
	void	   *parts[] = {in->key, in->weight, in->start, in->tag, in->group_end};
	size_t		i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		free(parts[i]);
}

/* Runs one case: an input of n entries, n_buckets buckets, groups (0: explicit tags). */
static void
check_case(int64_t n, int64_t n_buckets, int64_t groups, const char *name)
{
	Input		in = make_input(n, n_buckets, groups);

	ok(same_as_reference(&in), name);
	free_input(&in);
}

/* Orders int32s. */
static int
cmp_int32(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a;
	int32_t		y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

/* Orders int64s. */
static int
cmp_int64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a;
	int64_t		y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/*
 * n random ids in [lo, lo + span) (span 1: all the same), in a fresh
 * array of n + 1 int64s; *distinct_out the sorted distinct ids (caller frees).
 */
static int64_t *
make_ids(int64_t n, int64_t lo, int64_t span, int64_t **distinct_out, int64_t *n_distinct)
{
	int64_t    *ids = malloc(sizeof(int64_t) * (n + 1));
	int64_t    *d = malloc(sizeof(int64_t) * (n + 1));
	int64_t		r,
				k = 0;

	for (r = 0; r < n; r++)
		ids[r] = lo + (int64_t) (rnd() % (uint64_t) span);
	memcpy(d, ids, sizeof(int64_t) * n);
	qsort(d, n, sizeof(int64_t), cmp_int64);
	for (r = 0; r < n; r++)
		if (k == 0 || d[k - 1] != d[r])
			d[k++] = d[r];
	*distinct_out = d;
	*n_distinct = k;
	return ids;
}

/*
 * Maps n_maps sides of n random ids each (in place over the ids when
 * in_place) on `threads` threads; true if the range pass found every
 * map's min and max, every map's sorted ids are the distinct ids and every
 * row's index is its id's rank among them.
 */
static bool
id_maps_exact(int n_maps, int64_t n, int64_t lo, int64_t span, bool in_place, int threads)
{
	RecoIdMap	maps[2];
	int64_t    *copy[2],
			   *distinct[2],
				n_distinct[2];
	bool		exact = true;
	int			m;
	int64_t		r;

	for (m = 0; m < n_maps; m++)
	{
		int64_t    *ids = make_ids(n, lo + m * 1000, span, &distinct[m], &n_distinct[m]);

		copy[m] = malloc(sizeof(int64_t) * (n + 1));
		memcpy(copy[m], ids, sizeof(int64_t) * n);
		memset(&maps[m], 0, sizeof(RecoIdMap));
		maps[m].ids = ids;
		maps[m].index = in_place ? (int32_t *) ids : malloc(sizeof(int32_t) * (n + 1));
		maps[m].n = n;
		maps[m].lo = lo + m * 1000;
		maps[m].span = span;
		maps[m].slot = calloc(span, sizeof(int32_t));
	}
	exact = RecoIdMapRun(maps, n_maps, RECO_ID_MAP_RANGE, threads, NULL) == RECO_STATUS_OK;
	for (m = 0; m < n_maps && n > 0; m++)
		exact = exact && maps[m].min == distinct[m][0] && maps[m].max == distinct[m][n_distinct[m] - 1];
	exact = exact && RecoIdMapRun(maps, n_maps, RECO_ID_MAP_MARK, threads, NULL) == RECO_STATUS_OK;
	for (m = 0; m < n_maps; m++)
	{
		exact = exact && maps[m].distinct == n_distinct[m];
		maps[m].sorted = malloc(sizeof(int64_t) * (maps[m].distinct + 1));
	}
	exact = exact && RecoIdMapRun(maps, n_maps, RECO_ID_MAP_WRITE, threads, NULL) == RECO_STATUS_OK;
	for (m = 0; m < n_maps; m++)
	{
		exact = exact && memcmp(maps[m].sorted, distinct[m], sizeof(int64_t) * n_distinct[m]) == 0;
		for (r = 0; r < n && exact; r++)
			exact = maps[m].index[r] >= 0 && maps[m].index[r] < n_distinct[m] &&
				distinct[m][maps[m].index[r]] == copy[m][r];
		if (!in_place)
			free(maps[m].index);
		free((void *) maps[m].ids);
		free(maps[m].slot);
		free(maps[m].sorted);
		free(copy[m]);
		free(distinct[m]);
	}
	return exact;
}

/* The id map's cases (RecoIdMapRun). */
static void
test_id_maps(void)
{
	HookState	h = hook_state(0);
	RecoHooks	hooks = {test_hook, &h, NULL};
	int64_t		n = (int64_t) RECO_BUILD_POLL_ROWS * 2 + 5;
	int64_t    *distinct;
	int64_t		n_distinct;
	int64_t    *ids = make_ids(n, 0, 1000, &distinct, &n_distinct);
	int32_t    *index = malloc(sizeof(int32_t) * n);
	RecoIdMap	map = {ids, index, n, 0, 1000, calloc(1000, sizeof(int32_t)), 0, NULL, 0, 0};

	ok(id_maps_exact(1, 0, 7, 1, false, 1), "id map: no row, no distinct id");
	ok(id_maps_exact(1, 1, -5, 1, true, 1), "id map: one row (a negative id), in place");
	ok(id_maps_exact(2, 1000, 42, 1, false, 2), "id maps: every row the same id, two maps on 2 threads");
	ok(id_maps_exact(1, 5000, 1000000, 20000, true, 1), "id map: ids with gaps (most slots empty), in place");
	ok(id_maps_exact(2, 300000, 1, 200003, true, 2),
	   "two maps of 300k rows side by side on 2 threads, in place: the sort's ranks");
	ok(id_maps_exact(2, (int64_t) RECO_BUILD_POLL_ROWS * 2 + 3, 10, 50000, false, 1),
	   "two maps of rows longer than two polls on 1 thread");
	ok(RecoIdMapRun(&map, 1, RECO_ID_MAP_MARK, 2, &hooks) == RECO_STATUS_STOPPED && h.calls >= 1 && !h.wrong_thread,
	   "a hook saying stop stops an id map (RECO_STATUS_STOPPED), asked on the calling thread only");
	free(ids);
	free(index);
	free(map.slot);
	free(distinct);
}


/* A merge input: user-major pairs, each user's items ascending with duplicates adjacent. */
typedef struct MergeInput
{
	int64_t		n_users;
	int64_t		n_items;
	int64_t    *indptr;
	int32_t    *items;
	float	   *weights;
} MergeInput;

/*
 * A random merge input: users of 0 to 2 * mean_pairs pairs (user `long_user`,
 * if >= 0, of long_pairs), items drawn from n_items and sorted, weights from
 * a few values that often cancel (1 and -1, 0.5 and -0.5, 0).
 */
static MergeInput
make_merge_input(int64_t n_users, int64_t n_items, int64_t mean_pairs, int64_t long_user, int64_t long_pairs)
{
	static const float values[] = {1.0f, -1.0f, 0.5f, -0.5f, 0.0f, 2.0f, 0.25f};
	MergeInput	in;
	int64_t		u,
				p,
				total = 0;

	in.n_users = n_users;
	in.n_items = n_items;
	in.indptr = malloc(sizeof(int64_t) * (n_users + 1));
	for (u = 0; u < n_users; u++)
	{
		in.indptr[u] = total;
		total += u == long_user ? long_pairs : (int64_t) (rnd() % (uint64_t) (2 * mean_pairs + 1));
	}
	in.indptr[n_users] = total;
	in.items = malloc(sizeof(int32_t) * (total + 1));
	in.weights = malloc(sizeof(float) * (total + 1));
	for (u = 0; u < n_users; u++)
	{
		int64_t		begin = in.indptr[u],
					end = in.indptr[u + 1];

		for (p = begin; p < end; p++)
		{
			/* few distinct items per user: many duplicates */
			in.items[p] = (int32_t) (rnd() % (uint64_t) (n_items < 8 ? n_items : (end - begin) / 2 + 1 < n_items ? (end - begin) / 2 + 1 : n_items));
			in.weights[p] = values[rnd() % 7];
		}
		qsort(in.items + begin, end - begin, sizeof(int32_t), cmp_int32);
	}
	return in;
}

/* The one-thread merge as the build ran it: merge, then drop net-zero pairs; counts items and positive users. */
static void
merge_reference(MergeInput *in, int ratings, int64_t *counts, int64_t *merged, int64_t *positive)
{
	int64_t		nnz = 0,
				kept = 0,
				u,
				p;

	for (u = 0; u < in->n_users; u++)
	{
		int64_t		begin = in->indptr[u],
					end = in->indptr[u + 1],
					copies = 0;

		in->indptr[u] = nnz;
		for (p = begin; p < end; p++)
		{
			if (nnz > in->indptr[u] && in->items[nnz - 1] == in->items[p])
			{
				in->weights[nnz - 1] += in->weights[p];
				copies++;
				continue;
			}
			if (ratings && copies > 1)
				in->weights[nnz - 1] /= (float) copies;
			in->items[nnz] = in->items[p];
			in->weights[nnz] = in->weights[p];
			nnz++;
			copies = 1;
		}
		if (ratings && copies > 1)
			in->weights[nnz - 1] /= (float) copies;
	}
	in->indptr[in->n_users] = nnz;
	*merged = nnz;
	*positive = 0;
	for (u = 0; u < in->n_users; u++)
	{
		int64_t		begin = in->indptr[u],
					end = in->indptr[u + 1];
		int			has_positive = 0;

		in->indptr[u] = kept;
		for (p = begin; p < end; p++)
		{
			if (!ratings && in->weights[p] == 0)
				continue;
			in->items[kept] = in->items[p];
			in->weights[kept] = in->weights[p];
			counts[in->items[p]]++;
			has_positive |= ratings || in->weights[p] > 0;
			kept++;
		}
		*positive += has_positive;
	}
	in->indptr[in->n_users] = kept;
}

/*
 * Merges a random input on `threads` threads, counting items unless
 * no_counts; true if it is the reference's bit for bit.
 */
static bool
merge_exact_counts(int64_t n_users, int64_t n_items, int64_t mean_pairs, int64_t long_user, int64_t long_pairs,
				   int ratings, int threads, bool no_counts)
{
	MergeInput	in = make_merge_input(n_users, n_items, mean_pairs, long_user, long_pairs);
	int64_t		total = in.indptr[n_users];
	MergeInput	ref = in;
	int64_t    *ref_counts = calloc(n_items + 1, sizeof(int64_t));
	int64_t		merged,
				positive;
	RecoMerge	m = {n_users, in.indptr, in.items, in.weights, n_items, ratings, NULL, 0, 0, 0};
	bool		exact;

	ref.indptr = malloc(sizeof(int64_t) * (n_users + 1));
	ref.items = malloc(sizeof(int32_t) * (total + 1));
	ref.weights = malloc(sizeof(float) * (total + 1));
	memcpy(ref.indptr, in.indptr, sizeof(int64_t) * (n_users + 1));
	memcpy(ref.items, in.items, sizeof(int32_t) * total);
	memcpy(ref.weights, in.weights, sizeof(float) * total);
	merge_reference(&ref, ratings, ref_counts, &merged, &positive);
	m.item_counts = no_counts ? NULL : calloc((n_items + 1) * RecoMergeParts(total, threads), sizeof(int64_t));
	exact = RecoMergeRun(&m, threads, NULL) == RECO_STATUS_OK &&
		m.nnz == ref.indptr[n_users] && m.merged == merged && m.users_positive == positive &&
		memcmp(in.indptr, ref.indptr, sizeof(int64_t) * (n_users + 1)) == 0 &&
		memcmp(in.items, ref.items, sizeof(int32_t) * m.nnz) == 0 &&
		memcmp(in.weights, ref.weights, sizeof(float) * m.nnz) == 0 &&
		(no_counts || memcmp(m.item_counts, ref_counts, sizeof(int64_t) * n_items) == 0);
	free(m.item_counts);
	free(ref_counts);
	free(ref.indptr);
	free(ref.items);
	free(ref.weights);
	free(in.indptr);
	free(in.items);
	free(in.weights);
	return exact;
}

/* merge_exact_counts with the item counts. */
static bool
merge_exact(int64_t n_users, int64_t n_items, int64_t mean_pairs, int64_t long_user, int64_t long_pairs,
			int ratings, int threads)
{
	return merge_exact_counts(n_users, n_items, mean_pairs, long_user, long_pairs, ratings, threads, false);
}

/* The merge's cases (RecoMergeRun). */
static void
test_merge(void)
{
	HookState	h = hook_state(0);
	RecoHooks	hooks = {test_hook, &h, NULL};
	MergeInput	in = make_merge_input(4, 100, 0, 1, (int64_t) RECO_BUILD_POLL_ROWS * 3);
	RecoMerge	m = {in.n_users, in.indptr, in.items, in.weights, in.n_items, 0, NULL, 0, 0, 0};

	ok(merge_exact(0, 1, 3, -1, 0, 0, 2) && merge_exact(5, 3, 0, -1, 0, 0, 2),
	   "merge: no user; users with no pair");
	ok(merge_exact(1, 1, 0, 0, 1, 0, 1) && merge_exact(1, 1, 0, 0, 1, 1, 1),
	   "merge: one user of one pair (weights and ratings)");
	ok(merge_exact(3000, 50, 20, -1, 0, 0, 1), "merge: short input on one thread, net-zero pairs dropped");
	ok(merge_exact(200003, 5000, 8, -1, 0, 0, 2) && merge_exact(200003, 5000, 8, -1, 0, 0, 4) &&
	   merge_exact(200003, 5000, 8, -1, 0, 0, 3),
	   "merge: 1.6M pairs of 200k users on 2, 4 and 3 threads: the gaps closed, the one-thread output");
	ok(merge_exact(200003, 5000, 8, -1, 0, 1, 2), "merge: ratings (averaged, zeros kept) on 2 threads");
	ok(merge_exact(7, 1000, 2, 3, (int64_t) RECO_BUILD_POLL_ROWS * 2 + 9, 0, 2),
	   "merge: a user longer than two polls among short ones, on 2 threads");
	ok(merge_exact_counts(200003, 5000, 8, -1, 0, 0, 2, true) && merge_exact_counts(3000, 50, 20, -1, 0, 1, 1, true),
	   "merge: without item counts (NULL: many items on many threads), the same pairs on 2 threads and 1");
	m.item_counts = calloc((in.n_items + 1) * RecoMergeParts(in.indptr[in.n_users], 2), sizeof(int64_t));
	ok(RecoMergeRun(&m, 2, &hooks) == RECO_STATUS_STOPPED && h.calls >= 1 && !h.wrong_thread,
	   "a hook saying stop stops the merge (RECO_STATUS_STOPPED), asked on the calling thread only");
	free(m.item_counts);
	free(in.indptr);
	free(in.items);
	free(in.weights);
}

int
main(void)
{
	Input		in;
	HookState	h = hook_state(0);
	RecoHooks	hooks = {test_hook, &h, NULL};

	printf("1..%d\n", TEST_PLAN);
	check_case(0, 5, 0, "no entry, explicit tags");
	check_case(0, 5, 1, "no entry, one empty group");
	check_case(1, 3, 0, "one entry, explicit tags");
	check_case(1, 3, 2, "one entry, two groups (one empty)");
	check_case(1000, 1, 17, "one bucket: every entry in order");
	check_case(5000, 700, 300, "short input: one thread, groups with empty ones");
	check_case(1300000, 200003, 0, "1.3M entries over 200k buckets, explicit tags, several threads");
	check_case(1300000, 50000, 50000, "1.3M entries in 50k groups over 50k buckets, several threads");
	check_case((int64_t) RECO_BUILD_POLL_ROWS * 2 + 77, 1000, 2,
			   "a group longer than two polls (split at the poll)");

	/* a hook that says stop at its first poll: the run stops */
	in = make_input((int64_t) RECO_BUILD_POLL_ROWS * 3, 100, 0);
	in.s.cursor = malloc(sizeof(int64_t) * 100);
	memcpy(in.s.cursor, in.start, sizeof(int64_t) * 100);
	in.s.out_tag = malloc(sizeof(int32_t) * in.s.n);
	in.s.out_weight = malloc(sizeof(float) * in.s.n);
	ok(RecoScatterRun(&in.s, 2, &hooks) == RECO_STATUS_STOPPED && h.calls >= 1 && !h.wrong_thread,
	   "a hook saying stop stops the scatter (RECO_STATUS_STOPPED), asked on the calling thread only");
	free(in.s.cursor);
	free(in.s.out_tag);
	free(in.s.out_weight);
	free_input(&in);
	test_id_maps();
	test_merge();
	return tap_exit_status(TEST_PLAN);
}
