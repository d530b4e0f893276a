/*-------------------------------------------------------------------------
 *
 * interactions.c
 *	  From the aggregate's raw rows to the sparse matrices the kernel trains on.
 *
 * The aggregate appends (user, item, weight) rows into three growing arrays.
 * The final function then
 *	 1. maps ids to dense indices, in place over the raw ids (one slot per
 *		possible id when the ids are dense, else a hash table per side, then
 *		the distinct ids are sorted), so that index order = id order,
 *		whatever the input order; when both sides are dense their maps run
 *		side by side on two threads (scatter.c);
 *	 2. builds the user-major matrix (CSR) by two stable counting sorts, first
 *		by item then by user, so every user's items come out ascending with
 *		duplicates adjacent in input order; duplicates are summed in place
 *		(explicit ratings, rows->ratings: averaged, a rating read twice is
 *		one rating of their mean);
 *	 3. drops the pairs whose summed weight is 0 (bought 2, returned 2; or a
 *		weight-0 row), and the users and items left with no pair (not for
 *		ratings: a rating of 0 is a rating);
 *	 4. builds the item-major matrix (CSC) from the CSR by one counting sort.
 * The counting sorts' scatters (1, 2, 4) run on the training's threads
 * (scatter.c: each thread writes its own buckets, so the result does not
 * depend on the thread count), and so do the id maps' ranges and the merge
 * with the drop (2, 3: on ranges of users, each counting its items' pairs,
 * the histogram of 4).  The sorts write into arrays already mapped where
 * they can, since a fresh page costs a fault and its zeroing: the item-major
 * copy into the arrays of the sort by item; with reserved raw rows (huge
 * pages; 4 kB pages' random writes cost more than the faults) the sort by
 * user into the raw items' and weights' arrays and, both sides dense, the
 * sort by item into the id arrays' second halves (dead after the id maps).
 * The read's appends have their pages mapped ahead by a prefault thread
 * (hugepage.c, RecoRowsStartPrefault)
 * while the backend reads.  A reader that knows about how many rows come
 * (the direct read, from the table's size) reserves the row arrays up front
 * (RecoRowsReserve), on huge pages; arrays that grow from their first 4096
 * rows stay on 4 kB pages (test/bench/results/read-build-2026-12-02.md).
 * Everything is O(rows) except sorting sparse distinct ids, so 10M rows build
 * in well under a second; the random writes of the counting sorts make larger
 * builds slower per row (2M users: 5.6 s CPU for 30M rows, against 1.0 s for
 * 10M rows of 200k users).  Text and uuid keys (RecoKeyTable) are interned as rows
 * arrive, each distinct key copied once into 64 kB blocks, and turned into
 * codes (1-based ranks in key order) before step 1, which then maps codes as
 * it maps bigint ids.  All memory is palloc'd in the caller's context (huge
 * allocations allowed); the raw rows are released as soon as they are used.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "port/pg_bitutils.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "hugepage.h"
#include "ids.h"
#include "interactions.h"
#include "reco.h"
#include "scatter.h"

/* Rows the aggregate's arrays start with (then doubled), and ids a side's id map starts with. */
#define RECO_ROWS_INITIAL_CAPACITY 4096
#define RECO_ID_MAP_INITIAL_SIZE 1024

/* A hash table entry: an id and its provisional (first-seen) index. */
typedef struct RecoIdEntry
{
	int64		id;
	int32		index;
	char		status;
} RecoIdEntry;

/* A cancel or a terminate is answered every RECO_BUILD_POLL_ROWS steps of a loop over rows. */
#define RECO_BUILD_POLL(r) \
	do { if (((r) & (RECO_BUILD_POLL_ROWS - 1)) == 0) CHECK_FOR_INTERRUPTS(); } while (0)

/* Mixes a 64-bit id into a 32-bit hash (fmix64, the finalizer of MurmurHash3's 128-bit hash). */
static inline uint32
RecoHashId(int64 id)
{
	uint64		h = (uint64) id;

	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

#define SH_PREFIX recoid
#define SH_ELEMENT_TYPE RecoIdEntry
#define SH_KEY_TYPE int64
#define SH_KEY id
#define SH_HASH_KEY(tb, key) RecoHashId(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Bytes of the blocks the keys of a side are copied into, and keys a side's key table starts with. */
#define RECO_KEY_BLOCK_SIZE (64 * 1024)
#define RECO_KEY_TABLE_INITIAL_SIZE 1024

/* A key being looked up: its bytes (not NUL-terminated) and length. */
typedef struct RecoKeyRef
{
	const char *data;
	int			len;
} RecoKeyRef;

/* A key table entry: the key (its bytes in a block, NUL-terminated) and its provisional id. */
typedef struct RecoKeyEntry
{
	RecoKeyRef	key;
	uint32		hash;
	char		status;
	int64		id;
} RecoKeyEntry;

#define SH_PREFIX recokey
#define SH_ELEMENT_TYPE RecoKeyEntry
#define SH_KEY_TYPE RecoKeyRef
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).data, (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).data, (b).data, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* A key with its provisional id, for sorting the distinct keys. */
typedef struct RecoKeyRank
{
	const char *key;
	int64		provisional;
} RecoKeyRank;

/* A prefault thread stopped when a memory context goes (RecoStartPrefault). */
typedef struct RecoPrefaultGuard
{
	RecoPrefault *thread;
	MemoryContextCallback callback;
} RecoPrefaultGuard;

static RecoPrefaultGuard *RecoStartPrefault(MemoryContext cxt);
static void RecoStopPrefault(RecoPrefaultGuard *guard);

/* An id with its provisional index, for sorting the distinct ids. */
typedef struct RecoIdRank
{
	int64		id;
	int32		provisional;
} RecoIdRank;

/*
 * Allocates a huge-capable array of n elements of the given size, backed by
 * transparent huge pages where the kernel grants them (hugepage.c: advised
 * before the first write; no extra memory, no change where refused).
 */
void *
RecoAllocArray(int64 n, Size size)
{
	Size		bytes = mul_size(Max(n, 1), size);
	void	   *p = MemoryContextAllocHuge(CurrentMemoryContext, bytes);

	RecoAdviseHugePages(p, bytes);
	return p;
}

/* An empty set of keys whose memory lives in cxt. */
RecoKeyTable *
RecoKeyTableCreate(MemoryContext cxt)
{
	RecoKeyTable   *keys = MemoryContextAllocZero(cxt, sizeof(RecoKeyTable));

	keys->cxt = cxt;
	keys->table = recokey_create(cxt, RECO_KEY_TABLE_INITIAL_SIZE, NULL);
	return keys;
}

/* Copies len bytes of a key, NUL-terminated, into the keys' blocks. */
static char *
RecoKeysCopy(RecoKeyTable *keys, const char *key, int len)
{
	Size		need = (Size) len + 1;
	char	   *copy;

	if (need > keys->block_free)
	{
		Size		size = Max(need, RECO_KEY_BLOCK_SIZE);

		copy = MemoryContextAlloc(keys->cxt, size);
		keys->bytes += size;
		if (size > need)
		{
			/* a block for the following keys too */
			keys->block = copy + need;
			keys->block_free = size - need;
		}
	}
	else
	{
		copy = keys->block;
		keys->block += need;
		keys->block_free -= need;
	}
	memcpy(copy, key, len);
	copy[len] = '\0';
	return copy;
}

/* The provisional id of a key (len bytes, no NUL): the key's first-seen order, from 0. */
int64
RecoKeyTableIntern(RecoKeyTable *keys, const char *key, int len)
{
	RecoKeyRef	ref = {key, len};
	bool		found;
	RecoKeyEntry *entry = recokey_insert(keys->table, ref, &found);

	if (!found)
	{
		if (keys->n == keys->capacity)
		{
			keys->capacity = keys->capacity == 0 ? RECO_KEY_TABLE_INITIAL_SIZE : keys->capacity * 2;
			keys->keys = keys->keys == NULL
				? MemoryContextAllocHuge(keys->cxt, sizeof(char *) * keys->capacity)
				: repalloc_huge(keys->keys, sizeof(char *) * keys->capacity);
		}
		entry->key.data = RecoKeysCopy(keys, key, len);
		entry->id = keys->n;
		keys->keys[keys->n++] = (char *) entry->key.data;
	}
	return entry->id;
}

/* Bytes the keys hold (their bytes, the table and the arrays), for the memory estimate. */
Size
RecoKeyTableBytes(const RecoKeyTable *keys)
{
	Size		per_key = sizeof(char *) + 2 * sizeof(RecoKeyEntry) + sizeof(RecoKeyRank) + sizeof(int64);

	return add_size(keys->bytes, mul_size(keys->n, per_key));
}

/* Orders keys by RecoCompareKeys. */
static int
RecoCompareKeyRank(const void *a, const void *b)
{
	return RecoCompareKeys(((const RecoKeyRank *) a)->key, ((const RecoKeyRank *) b)->key);
}

/*
 * Sorts the distinct keys (RecoCompareKeys) and rewrites the n provisional
 * ids of `ids` into codes, the keys' 1-based ranks; keys->keys[code - 1] is
 * then the key of a code.  The key table is freed.
 */
void
RecoKeyTableAssignCodes(RecoKeyTable *keys, int64 *ids, int64 n)
{
	RecoKeyRank *ranks = RecoAllocArray(keys->n, sizeof(RecoKeyRank));
	int64	   *code_of = RecoAllocArray(keys->n, sizeof(int64));
	int64		i;

	recokey_destroy(keys->table);
	keys->table = NULL;
	for (i = 0; i < keys->n; i++)
	{
		ranks[i].key = keys->keys[i];
		ranks[i].provisional = i;
	}
	qsort(ranks, keys->n, sizeof(RecoKeyRank), RecoCompareKeyRank);
	for (i = 0; i < keys->n; i++)
	{
		code_of[ranks[i].provisional] = i + 1;
		keys->keys[i] = (char *) ranks[i].key;
	}
	pfree(ranks);
	for (i = 0; i < n; i++)
		ids[i] = code_of[ids[i]];
	pfree(code_of);
}

/* Tells the prefault thread (if any) where the row arrays are now. */
static void
RecoRowsDescribePrefault(RecoRows *rows)
{
	void	   *bases[RECO_PREFAULT_MAX_ARRAYS] = {rows->users, rows->items, rows->weights, rows->times};
	size_t		sizes[RECO_PREFAULT_MAX_ARRAYS] = {sizeof(int64), sizeof(int64), sizeof(float), sizeof(int64)};

	if (rows->prefault != NULL && rows->capacity > 0)
		RecoPrefaultArrays(rows->prefault->thread, bases, sizes, rows->timed ? 4 : 3, rows->capacity, rows->count);
}

/* Doubles the row arrays if they are full (RecoRowsAppend, interactions.h, appends). */
void
RecoRowsGrow(RecoRows *rows)
{
	if (rows->count == rows->capacity)
	{
		int64		capacity = rows->capacity == 0 ? RECO_ROWS_INITIAL_CAPACITY : rows->capacity * 2;

		if (capacity > (int64) (MaxAllocHugeSize / sizeof(int64)))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many interactions for one model")));
		if (rows->prefault != NULL)
			RecoPrefaultArrays(rows->prefault->thread, NULL, NULL, 0, 0, 0);	/* the arrays move */
		if (rows->capacity == 0)
		{
			rows->users = RecoAllocArray(capacity, sizeof(int64));
			rows->items = RecoAllocArray(capacity, sizeof(int64));
			rows->weights = RecoAllocArray(capacity, sizeof(float));
			if (rows->timed)
				rows->times = RecoAllocArray(capacity, sizeof(int64));
		}
		else
		{
			rows->users = repalloc_huge(rows->users, capacity * sizeof(int64));
			rows->items = repalloc_huge(rows->items, capacity * sizeof(int64));
			rows->weights = repalloc_huge(rows->weights, capacity * sizeof(float));
			if (rows->timed)
				rows->times = repalloc_huge(rows->times, capacity * sizeof(int64));
			rows->reserved = false; /* moved: no longer known to be on huge pages */
		}
		rows->capacity = capacity;
		RecoRowsDescribePrefault(rows);
	}
}

/*
 * Gives the row arrays room for `rows_expected` rows before the first row,
 * for a reader that knows about how many will come: arrays that large are
 * on huge pages (RecoAllocArray), whose first touches, by the appends and
 * again by the build's passes over the rows, cost far less than those of
 * 4 kB pages on a virtual machine, and they are never moved.  Pages beyond
 * the rows written are never touched, so never resident.  Arrays that grow
 * instead keep the pages of their small start: re-advising them as realloc
 * moves them made the read slower, the moved huge pages split
 * (test/bench/results/read-build-2026-12-02.md).  Where the room cannot be
 * had (a wrong estimate, a strict overcommit), nothing is reserved and the
 * arrays grow as for any reader.
 */
void
RecoRowsReserve(RecoRows *rows, int64 rows_expected)
{
	Size		sizes[RECO_PREFAULT_MAX_ARRAYS] = {sizeof(int64), sizeof(int64), sizeof(float), sizeof(int64)};
	void	   *arrays[RECO_PREFAULT_MAX_ARRAYS] = {NULL, NULL, NULL, NULL};
	int			n = rows->timed ? 4 : 3,
				a;

	if (rows->capacity > 0 || rows_expected <= RECO_ROWS_INITIAL_CAPACITY ||
		rows_expected > (int64) (MaxAllocHugeSize / sizeof(int64)))
		return;
	/* a wrong estimate must not fail a training that growth would finish */
	for (a = 0; a < n; a++)
	{
		arrays[a] = MemoryContextAllocExtended(CurrentMemoryContext, (Size) rows_expected * sizes[a],
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (arrays[a] == NULL)
		{
			while (--a >= 0)
				pfree(arrays[a]);
			return;
		}
		RecoAdviseHugePages(arrays[a], (Size) rows_expected * sizes[a]);
	}
	rows->users = arrays[0];
	rows->items = arrays[1];
	rows->weights = arrays[2];
	rows->times = rows->timed ? arrays[3] : NULL;
	rows->capacity = rows_expected;
	rows->reserved = true;
	RecoRowsDescribePrefault(rows);
}

/* Stops a guarded prefault thread (a memory context callback, or RecoStopPrefault). */
static void
RecoPrefaultGuardCallback(void *arg)
{
	RecoPrefaultGuard *guard = arg;

	RecoPrefaultStop(guard->thread);
	guard->thread = NULL;
}

/*
 * Starts a prefault thread (hugepage.c; thread NULL if it could not start)
 * that is stopped by RecoStopPrefault or, on an error, before cxt's arrays
 * are freed.
 */
static RecoPrefaultGuard *
RecoStartPrefault(MemoryContext cxt)
{
	RecoPrefaultGuard *guard = MemoryContextAllocZero(cxt, sizeof(RecoPrefaultGuard));

	guard->thread = RecoPrefaultStart();
	guard->callback.func = RecoPrefaultGuardCallback;
	guard->callback.arg = guard;
	MemoryContextRegisterResetCallback(cxt, &guard->callback);
	return guard;
}

/* Stops the thread of RecoStartPrefault now. */
static void
RecoStopPrefault(RecoPrefaultGuard *guard)
{
	RecoPrefaultGuardCallback(guard);
}

/*
 * Starts a thread that maps the pages of the rows' next rows ahead of the
 * appends, told where the appends are by RecoRowsAdvancePrefault; stopped
 * by RecoRowsStopPrefault or when cxt (holding rows) is reset or deleted,
 * e.g. by an error, before the arrays are freed.  Without a thread the
 * appends fault their pages themselves.
 */
void
RecoRowsStartPrefault(RecoRows *rows, MemoryContext cxt)
{
	Assert(rows->prefault == NULL);
	rows->prefault = RecoStartPrefault(cxt);
	RecoRowsDescribePrefault(rows);
	RecoRowsAdvancePrefault(rows);
}

/* Tells the prefault thread how many rows are appended. */
void
RecoRowsAdvancePrefault(RecoRows *rows)
{
	if (rows->prefault != NULL)
		RecoPrefaultAdvance(rows->prefault->thread, rows->count);
}

/*
 * Gives the prefault thread, if any, shared memory to read a byte a page of
 * when it has no rows to map (RecoPrefaultTouch): pages this backend will
 * write, mapped ahead.
 */
void
RecoRowsPrefaultTouch(RecoRows *rows, const void *base, size_t bytes)
{
	if (rows->prefault != NULL)
		RecoPrefaultTouch(rows->prefault->thread, base, bytes);
}

/* Stops the prefault thread, if any. */
void
RecoRowsStopPrefault(RecoRows *rows)
{
	if (rows->prefault != NULL)
		RecoStopPrefault(rows->prefault);
	rows->prefault = NULL;
}

/* Releases the event times (once the weights have decayed). */
void
RecoRowsFreeTimes(RecoRows *rows)
{
	if (rows->times)
		pfree(rows->times);
	rows->times = NULL;
}

/* Releases the raw rows. */
void
RecoRowsFree(RecoRows *rows)
{
	if (rows->users)
		pfree(rows->users);
	if (rows->items)
		pfree(rows->items);
	if (rows->weights)
		pfree(rows->weights);
	rows->users = rows->items = NULL;
	rows->weights = NULL;
	RecoRowsFreeTimes(rows);
	rows->count = rows->capacity = 0;
	rows->reserved = false;
}

/*
 * How many per-part item counts the merge keeps (RecoMerge.item_counts):
 * its parts, or 0 (the item-major build counts instead) when they would
 * take more than half a row's 8 bytes, i.e. many items on many threads.
 */
static int
RecoMergeCountParts(int64 n_rows, int64 n_items, int threads)
{
	int			parts = RecoMergeParts(n_rows, threads);

	return (double) parts * Max(n_items, 1) <= (double) n_rows / 2 ? parts : 0;
}

/*
 * The memory estimate of a build of `rows` rows (sizes: its id maps, as
 * check_sizes sees them): returns the most the build holds at once, the raw
 * rows and the id maps' peak (sizes->build_bytes) included, and sets *held
 * to what its matrices and id arrays hold from then on (through training
 * and the store).  Per row: the id maps hold the raw 20 bytes; the counting
 * sorts 12 + 8 (indices and weight, one sorted copy), 20 in all while the
 * sort by user writes into the raw arrays (reserved ones: their id arrays
 * are kept whole until it ends); the result 16 (CSR allocated for every
 * row, CSC for every pair).  Per id: its id, offsets and the counting
 * sorts' cursors; the merge on `threads` threads holds its item counts once
 * per part (RecoMergeCountParts: none with many items on many threads).
 */
Size
RecoInteractionsBytes(const RecoInteractions *sizes, int64 rows, int threads, Size *held)
{
	Size		ids = sizeof(int64) * (sizes->n_users + sizes->n_items);
	Size		by_item = add_size(mul_size(rows, 2 * sizeof(int32) + sizeof(float) + sizeof(int32) + sizeof(float)),
								   add_size(ids, mul_size(sizes->n_items, sizeof(int64))));
	Size		by_user = add_size(mul_size(rows, RECO_ROW_BYTES),
								   add_size(mul_size(ids, 3), mul_size(sizes->n_items, sizeof(int64))));
	Size		merge = add_size(mul_size(rows, 2 * (sizeof(int32) + sizeof(float))),
								 add_size(mul_size(ids, 2),
										  mul_size(mul_size(sizes->n_items, sizeof(int64)),
												   RecoMergeCountParts(rows, sizes->n_items, threads))));

	*held = add_size(mul_size(rows, 2 * (sizeof(int32) + sizeof(float))), mul_size(ids, 2));
	return Max(sizes->build_bytes, Max(Max(by_item, merge), Max(by_user, add_size(*held, ids))));
}

/* Orders id ranks by id. */
static int
RecoCompareIdRank(const void *a, const void *b)
{
	int64		x = ((const RecoIdRank *) a)->id;
	int64		y = ((const RecoIdRank *) b)->id;

	return (x > y) - (x < y);
}

/* The error of a side with more distinct ids than a dense index holds (54000). */
static void
RecoTooManyIds(const char *side)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("too many distinct %ss for one model", side),
			 errdetail("A model holds at most %d %ss.", PG_INT32_MAX, side)));
}

/*
 * Whether the ids of a side, from min to max over `rows` rows, take the
 * direct map (RecoMapSidesDirect): they span at most
 * RECO_ID_DIRECT_SPAN_PER_ROW slots per row (serial ids, codes of keys);
 * sets *lo and *span (max - min + 1) then.
 */
static bool
RecoIdRangeDirect(int64 min, int64 max, int64 rows, int64 *lo, int64 *span)
{
	/* max - min in uint64: no overflow whatever the ids */
	if (rows == 0 || (uint64) max - (uint64) min >= (uint64) Min(PG_INT32_MAX - 1, rows * RECO_ID_DIRECT_SPAN_PER_ROW + 1024))
		return false;
	*lo = min;
	*span = (int64) ((uint64) max - (uint64) min) + 1;
	return true;
}

/*
 * The id maps of sides whose ids are dense (RecoIdRangeDirect: maps[s].ids,
 * n, lo, span, index set), one per thread on up to `threads` threads
 * (scatter.c): one slot per possible id (span int32s, no hashing, no sort)
 * marks the ids present, a walk over the slots numbers them in id order;
 * the same indices as the hash path.  Sets each map's sorted ids and
 * distinct count; returns the bytes held besides ids and indices at the
 * largest, sorted ids included.
 */
static Size
RecoMapSidesDirect(RecoIdMap *maps, int n_maps, int threads)
{
	RecoHooks	hooks = {RecoInterruptPending, NULL, NULL};
	Size		scratch = 0;
	int			s;

	for (s = 0; s < n_maps; s++)
	{
		maps[s].slot = MemoryContextAllocExtended(CurrentMemoryContext, mul_size(Max(maps[s].span, 1), sizeof(int32)),
												  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		scratch += sizeof(int32) * maps[s].span;
	}
	RecoReportKernelStatus(RecoIdMapRun(maps, n_maps, RECO_ID_MAP_MARK, threads, &hooks), "the build");
	for (s = 0; s < n_maps; s++)
	{
		maps[s].sorted = RecoAllocArray(maps[s].distinct, sizeof(int64));
		scratch += sizeof(int64) * maps[s].distinct;
	}
	RecoReportKernelStatus(RecoIdMapRun(maps, n_maps, RECO_ID_MAP_WRITE, threads, &hooks), "the build");
	for (s = 0; s < n_maps; s++)
		pfree(maps[s].slot);
	return scratch;
}

/*
 * Bytes the hash path of RecoMapSide holds at its largest for n distinct
 * ids: the table while it doubles (its old and new arrays) and the ranks,
 * or, once sorted, the ranks, rank_of and the sorted ids.
 */
static Size
RecoMapHashBytes(int64 n)
{
	/* simplehash's fill factor is 0.9 */
	Size		table = sizeof(RecoIdEntry) * pg_nextpower2_64((uint64) ((double) n / 0.9) + 2);
	Size		ranks = sizeof(RecoIdRank) * pg_nextpower2_64((uint64) Max(n, RECO_ID_MAP_INITIAL_SIZE));

	return Max(table + table / 2 + ranks, ranks + (sizeof(int32) + sizeof(int64)) * n);
}

/*
 * Maps one side's ids (map: ids, index, n, and min and max from the range
 * pass, RECO_ID_MAP_RANGE) to dense indices in ascending id order: fills
 * map->index[r] and returns the sorted distinct ids (count in *n_out);
 * *scratch is what the mapping held besides ids and indices at its
 * largest, sorted ids included.  The index array may be the ids' own (the
 * int64 array then holds int32 indices in its first half): index r is
 * written only after ids[r] was read for the last time, and 4r <= 8r.
 * Dense ids (RecoIdRangeDirect) take RecoMapSidesDirect, linear and
 * cache-friendly; sparse ids a hash table, then a sort of the distinct ids.
 */
static int64 *
RecoMapSide(RecoIdMap *map, int64 *n_out, const char *side, Size *scratch)
{
	const int64 *ids = map->ids;
	int32	   *index_of_row = map->index;
	int64		rows = map->n;
	recoid_hash *table;
	RecoIdRank *ranks;
	int32	   *rank_of;
	int64	   *sorted;
	int64		n = 0;
	int64		capacity = RECO_ID_MAP_INITIAL_SIZE;
	int64		r;

	if (RecoIdRangeDirect(map->min, map->max, rows, &map->lo, &map->span))
	{
		*scratch = RecoMapSidesDirect(map, 1, 1);
		*n_out = map->distinct;
		return map->sorted;
	}

	table = recoid_create(CurrentMemoryContext, RECO_ID_MAP_INITIAL_SIZE, NULL);
	ranks = RecoAllocArray(capacity, sizeof(RecoIdRank));
	for (r = 0; r < rows; r++)
	{
		bool		found;
		RecoIdEntry *entry;

		RECO_BUILD_POLL(r);
		entry = recoid_insert(table, ids[r], &found);

		if (!found)
		{
			if (n == PG_INT32_MAX)
				RecoTooManyIds(side);
			if (n == capacity)
			{
				capacity *= 2;
				ranks = repalloc_huge(ranks, capacity * sizeof(RecoIdRank));
			}
			entry->index = (int32) n;
			ranks[n].id = ids[r];
			ranks[n].provisional = (int32) n;
			n++;
		}
		index_of_row[r] = entry->index;
	}
	recoid_destroy(table);

	qsort(ranks, n, sizeof(RecoIdRank), RecoCompareIdRank);
	rank_of = RecoAllocArray(n, sizeof(int32));
	sorted = RecoAllocArray(n, sizeof(int64));
	for (r = 0; r < n; r++)
	{
		rank_of[ranks[r].provisional] = (int32) r;
		sorted[r] = ranks[r].id;
	}
	pfree(ranks);
	for (r = 0; r < rows; r++)
		index_of_row[r] = rank_of[index_of_row[r]];
	pfree(rank_of);
	*scratch = RecoMapHashBytes(n);
	*n_out = n;
	return sorted;
}

/* Turns counts[0..n) into start offsets; returns the total. */
static int64
RecoPrefixSum(int64 *offsets, int64 n)
{
	int64		total = 0;
	int64		i;

	for (i = 0; i < n; i++)
	{
		int64		count = offsets[i];

		offsets[i] = total;
		total += count;
	}
	offsets[n] = total;
	return total;
}

/*
 * Once the merge dropped the CSR's pairs whose summed weight is 0 (as if
 * they had never been read; not yet the CSC), drops the users and items
 * left with no pair (the id maps stay ascending; the initial factors are
 * seeded per id, so the others' do not change).
 */
static void
RecoDropEmpty(RecoInteractions *out)
{
	int64		nnz = out->nnz;
	int64		u,
				p,
				i,
				n;
	int32	   *new_index;
	int64	   *count;

	/* users with no pair left (indptr and ids shift down in place) */
	n = 0;
	for (u = 0; u < out->n_users; u++)
	{
		int64		begin = out->user_indptr[u];

		if (out->user_indptr[u + 1] == begin)
			continue;
		out->user_ids[n] = out->user_ids[u];
		out->user_indptr[n] = begin;
		n++;
	}
	out->user_indptr[n] = nnz;
	out->n_users = n;

	/* items with no pair left */
	count = RecoAllocArray(out->n_items, sizeof(int64));
	memset(count, 0, sizeof(int64) * out->n_items);
	for (p = 0; p < nnz; p++)
		count[out->user_items[p]]++;
	new_index = RecoAllocArray(out->n_items, sizeof(int32));
	n = 0;
	for (i = 0; i < out->n_items; i++)
	{
		new_index[i] = (int32) n;
		if (count[i] > 0)
			out->item_ids[n++] = out->item_ids[i];
	}
	for (p = 0; p < nnz; p++)
		out->user_items[p] = new_index[out->user_items[p]];
	out->n_items = n;
	pfree(count);
	pfree(new_index);
}

static void RecoBuildItemMajorThreads(RecoInteractions *out, int64 *indptr, bool counted, int32 *users, float *weights,
									  int threads);

/*
 * Runs one counting-sort scatter of the build on up to `threads` threads
 * (scatter.c), answering a cancel within RECO_BUILD_POLL_ROWS entries.
 */
static void
RecoBuildScatter(const RecoScatter *scatter, int threads)
{
	RecoHooks	hooks = {RecoInterruptPending, NULL, NULL};

	RecoReportKernelStatus(RecoScatterRun(scatter, threads, &hooks), "the build");
}

/*
 * Builds both matrices from the raw rows and releases the raw rows, the
 * counting sorts' scatters, the id maps and the merge on up to `threads`
 * threads.  The id maps come first: check_sizes(out, arg) is then called
 * with n_users and n_items known, before the big arrays are allocated, so
 * that the caller can refuse a training over its memory budget.
 */
void
RecoBuildInteractions(RecoRows *rows, RecoInteractions *out, int threads,
					  void (*check_sizes) (const RecoInteractions *sizes, void *arg), void *arg)
{
	RecoHooks	hooks = {RecoInterruptPending, NULL, NULL};
	int64		n_rows = rows->count;
	int32	   *row_user;
	int32	   *row_item;
	int64	   *cursor;
	int32	   *by_item_user;
	float	   *by_item_weight;
	float	   *raw_weights = NULL;
	bool		reserved;
	bool		in_place = false;
	RecoIdMap	maps[2] = {{rows->users, (int32 *) rows->users, rows->count}, {rows->items, (int32 *) rows->items, rows->count}};
	int			map_threads = n_rows < RECO_SCATTER_MIN_ENTRIES ? 1 : threads;
	int64		n_users_input;
	Size		scratch;
	int64		p;

	memset(out, 0, sizeof(*out));

	/*
	 * The dense indices replace the ids in place (RecoMapSide, or both sides
	 * at once: RecoMapSidesDirect), each id array then shrunk to its int32
	 * half: the raw rows' 20 bytes a row are the most the build holds, never
	 * more.  Both sides' ranges are found side by side, once: RecoMapSide
	 * reads them too.
	 */
	if (n_rows > 0)
		RecoReportKernelStatus(RecoIdMapRun(maps, 2, RECO_ID_MAP_RANGE, map_threads, &hooks), "the build");
	if (n_rows > 0 &&
		RecoIdRangeDirect(maps[0].min, maps[0].max, n_rows, &maps[0].lo, &maps[0].span) &&
		RecoIdRangeDirect(maps[1].min, maps[1].max, n_rows, &maps[1].lo, &maps[1].span))
	{
		/* both sides dense: their maps run side by side */
		scratch = RecoMapSidesDirect(maps, 2, map_threads);
		out->user_ids = maps[0].sorted;
		out->n_users = maps[0].distinct;
		out->item_ids = maps[1].sorted;
		out->n_items = maps[1].distinct;
		out->build_bytes = RECO_ROW_BYTES * n_rows + scratch;
		/* reserved arrays are kept whole: the sort by item writes into their second halves */
		in_place = rows->reserved;
		row_user = in_place ? (int32 *) rows->users : repalloc_huge(rows->users, sizeof(int32) * Max(n_rows, 1));
	}
	else
	{
		out->user_ids = RecoMapSide(&maps[0], &out->n_users, "user", &scratch);
		out->build_bytes = RECO_ROW_BYTES * n_rows + scratch;
		row_user = repalloc_huge(rows->users, sizeof(int32) * Max(n_rows, 1));
		rows->users = NULL;
		out->item_ids = RecoMapSide(&maps[1], &out->n_items, "item", &scratch);
		out->build_bytes = Max(out->build_bytes, (RECO_ROW_BYTES - sizeof(int32)) * n_rows +
							   sizeof(int64) * out->n_users + scratch);
	}
	rows->users = NULL;
	row_item = in_place ? (int32 *) rows->items : repalloc_huge(rows->items, sizeof(int32) * Max(n_rows, 1));
	rows->items = NULL;
	n_users_input = out->n_users;
	check_sizes(out, arg);
	CHECK_FOR_INTERRUPTS();

	/* 1. stable counting sort of the rows by item */
	cursor = RecoAllocArray(out->n_items + 1, sizeof(int64));
	memset(cursor, 0, sizeof(int64) * (out->n_items + 1));
	for (p = 0; p < n_rows; p++)
		cursor[row_item[p]]++;
	RecoPrefixSum(cursor, out->n_items);
	if (in_place)
	{
		/* the ids' second halves, mapped already (dead since the id maps) */
		by_item_user = row_user + n_rows;
		by_item_weight = (float *) (row_item + n_rows);
	}
	else
	{
		by_item_user = RecoAllocArray(n_rows, sizeof(int32));
		by_item_weight = RecoAllocArray(n_rows, sizeof(float));
	}
	{
		RecoScatter by_item = {n_rows, row_item, row_user, NULL, 0, rows->weights, cursor, out->n_items,
			by_item_user, by_item_weight};

		RecoBuildScatter(&by_item, threads);
	}
	/* cursor[i] is now the end of item i, i.e. the start of item i + 1 */
	if (rows->reserved)
	{
		/* kept for the sort by user to write into */
		raw_weights = rows->weights;
		rows->weights = NULL;
	}
	else
	{
		pfree(row_item);
		row_item = NULL;
	}
	reserved = rows->reserved;
	RecoRowsFree(rows);
	CHECK_FOR_INTERRUPTS();

	/* 2. stable counting sort by user, walking items in order */
	out->user_indptr = RecoAllocArray(out->n_users + 1, sizeof(int64));
	memset(out->user_indptr, 0, sizeof(int64) * (out->n_users + 1));
	for (p = 0; p < n_rows; p++)
		out->user_indptr[row_user[p]]++;
	if (!in_place)
		pfree(row_user);
	RecoPrefixSum(out->user_indptr, out->n_users);
	if (reserved)
	{
		/*
		 * into the raw items' and weights' arrays, mapped already (on huge
		 * pages: arrays that grew are on 4 kB pages, whose random writes cost
		 * more than fresh pages' faults)
		 */
		out->user_items = row_item;
		out->user_weights = repalloc_huge(raw_weights, sizeof(float) * Max(n_rows, 1));
	}
	else
	{
		out->user_items = RecoAllocArray(n_rows, sizeof(int32));
		out->user_weights = RecoAllocArray(n_rows, sizeof(float));
	}
	{
		int64	   *fill = RecoAllocArray(out->n_users, sizeof(int64));
		RecoScatter by_user = {n_rows, by_item_user, NULL, cursor, out->n_items, by_item_weight, fill, out->n_users,
			out->user_items, out->user_weights};

		memcpy(fill, out->user_indptr, sizeof(int64) * out->n_users);
		RecoBuildScatter(&by_user, threads);
		pfree(fill);
	}
	pfree(cursor);
	if (in_place)
	{
		/* the sort by item's weights leave the items' array; the item-major users go into the users' */
		out->user_items = repalloc_huge(out->user_items, sizeof(int32) * Max(n_rows, 1));
		by_item_weight = NULL;
		by_item_user = row_user;
	}
	CHECK_FOR_INTERRUPTS();

	/*
	 * 3. merge duplicate (user, item) pairs, now adjacent, summing weights
	 * (ratings: averaging); without ratings, drop the pairs whose sum is 0
	 * (bought 2, returned 2), then the users and items left with no pair.
	 * The merge counts each item's pairs: the item-major copy's histogram.
	 */
	out->ratings = rows->ratings;
	{
		RecoMerge	merge = {out->n_users, out->user_indptr, out->user_items, out->user_weights, out->n_items,
			out->ratings};
		int			parts = RecoMergeCountParts(n_rows, out->n_items, threads);

		merge.item_counts = parts == 0 ? NULL :
			MemoryContextAllocExtended(CurrentMemoryContext,
									   mul_size(mul_size(Max(out->n_items, 1), parts), sizeof(int64)),
									   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		RecoReportKernelStatus(RecoMergeRun(&merge, threads, &hooks), "the build");
		out->nnz = merge.nnz;
		out->duplicates_merged = n_rows - merge.merged;
		out->pairs_net_zero = merge.merged - merge.nnz;
		out->users_positive = merge.users_positive;
		out->users_without_positive = n_users_input - merge.users_positive;
		if (out->pairs_net_zero > 0 || merge.item_counts == NULL)
		{
			/* the drop renumbers the items: the item-major build counts again */
			if (merge.item_counts != NULL)
				pfree(merge.item_counts);
			if (out->pairs_net_zero > 0)
				RecoDropEmpty(out);
			cursor = NULL;
		}
		else
			cursor = repalloc_huge(merge.item_counts, sizeof(int64) * (out->n_items + 1));
	}

	/* 4. the item-major copy, into arrays of the sort by item (mapped already) */
	RecoBuildItemMajorThreads(out, cursor, cursor != NULL, by_item_user, by_item_weight, threads);
}

/*
 * Builds the item-major copy (CSC) of out's user-major matrix, users
 * ascending within each item, by one counting sort on up to `threads`
 * threads; item_indptr is `indptr` (n_items + 1 int64s, the caller's to
 * give up; if `counted`, it holds each item's pairs already) or, if NULL,
 * a new array; item_users and item_weights are `users` and `weights` (at
 * least nnz each, the caller's to give up; shrunk to nnz) or, if NULL, new
 * arrays.
 */
static void
RecoBuildItemMajorThreads(RecoInteractions *out, int64 *indptr, bool counted, int32 *users, float *weights,
						  int threads)
{
	int64		nnz = out->nnz;
	int64	   *fill;
	int64		p;

	out->item_indptr = indptr != NULL ? indptr : RecoAllocArray(out->n_items + 1, sizeof(int64));
	if (!counted)
	{
		memset(out->item_indptr, 0, sizeof(int64) * (out->n_items + 1));
		for (p = 0; p < nnz; p++)
			out->item_indptr[out->user_items[p]]++;
	}
	RecoPrefixSum(out->item_indptr, out->n_items);
	out->item_users = users != NULL ? repalloc_huge(users, sizeof(int32) * Max(nnz, 1)) : RecoAllocArray(nnz, sizeof(int32));
	out->item_weights = weights != NULL ? repalloc_huge(weights, sizeof(float) * Max(nnz, 1)) : RecoAllocArray(nnz, sizeof(float));
	fill = RecoAllocArray(out->n_items, sizeof(int64));
	memcpy(fill, out->item_indptr, sizeof(int64) * out->n_items);
	{
		RecoScatter by_item = {nnz, out->user_items, NULL, out->user_indptr + 1, out->n_users, out->user_weights,
			fill, out->n_items, out->item_users, out->item_weights};

		RecoBuildScatter(&by_item, threads);
	}
	pfree(fill);
}

/* RecoBuildItemMajorThreads on the backend's thread alone. */
void
RecoBuildItemMajor(RecoInteractions *out, int64 *indptr)
{
	RecoBuildItemMajorThreads(out, indptr, false, NULL, NULL, 1);
}

/* The user-major view the kernel solves users with. */
RecoSparse
RecoUserMatrix(const RecoInteractions *data)
{
	RecoSparse	m;

	m.n_rows = data->n_users;
	m.n_cols = data->n_items;
	m.indptr = data->user_indptr;
	m.indices = data->user_items;
	m.weights = data->user_weights;
	return m;
}

/* The item-major view the kernel solves items with. */
RecoSparse
RecoItemMatrix(const RecoInteractions *data)
{
	RecoSparse	m;

	m.n_rows = data->n_items;
	m.n_cols = data->n_users;
	m.indptr = data->item_indptr;
	m.indices = data->item_users;
	m.weights = data->item_weights;
	return m;
}
