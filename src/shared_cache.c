/*-------------------------------------------------------------------------
 *
 * shared_cache.c
 *	  One shared copy of each served factor matrix, in dynamic shared memory,
 *	  for every backend (when reco is in shared_preload_libraries).
 *
 * Without preloading every backend keeps its own copy (cache.c).  When reco
 * is preloaded, a small fixed registry in the main shared memory (one slot
 * per published copy, RECO_SHARED_CACHE_SLOTS of them, under one LWLock of
 * the tranche "reco_shared_cache") names, for every (database, model_id,
 * side, row count, factor count, generation) that some backend has served,
 * one DSM segment holding the whole factor set: ids, factors, norms, norm
 * order and rank, Gram matrix, popularity, its order, the placed flags and
 * the norm head with its ids (items), and the keys of a text or uuid side, each at an offset from the
 * segment's start (a segment maps at a different address in every backend).  The key is what
 * cache.c validates a private copy on, so a retrain (a new model_id) and a
 * refresh or forget_user (a new generation or row count) are a new key: they
 * are served at once, never from a stale copy.
 *
 * Publishing.  A backend that finds no copy builds the set privately exactly
 * as without preloading (cache.c computes everything that is otherwise
 * computed lazily), copies it into a new segment, and only then, under the
 * lock, pins the segment (dsm_pin_segment: it outlives every backend) and
 * fills a slot.  Until then the segment is this backend's alone: if it
 * errors, is cancelled or terminated, the segment is detached and destroyed
 * with it, and a crash (SIGKILL) makes the postmaster reinitialise all
 * shared memory, the registry with it.  So nothing half-built is ever
 * visible.  Two backends that build the same key at once both build; the
 * second to publish finds the first's slot, maps it and drops its own.
 *
 * Using.  A backend maps a published segment (dsm_attach under the lock, so
 * the segment cannot be unpinned between finding and mapping it) for the
 * rest of its life or until its cache entry goes (cache.c pins entries in
 * use, so a mapping a call scores with is never detached); mappings are
 * counted per backend, as PostgreSQL refuses to map a segment twice.  Every
 * call that uses a mapping checks, under the lock in shared mode, that its
 * slot still holds the segment (bumping its last-use clock), and cache.c
 * checks the caller's SELECT privilege on the factor table before each use:
 * the copy may have been built by another role.
 *
 * Budget and eviction.  reco.shared_cache_size (PGC_SIGHUP) bounds the sum
 * of the published segments; publishing evicts least-recently-used slots
 * until the new copy fits (and a free slot exists).  Evicting is only
 * removing the slot and dsm_unpin_segment: a backend still mapping the
 * segment keeps it valid until it detaches, which it does at its next call
 * (its check fails) or when its call's pin ends, so eviction never breaks a
 * running call and needs no cross-backend reference counts; the memory of an
 * evicted copy is freed by its last user.  Publishing also evicts the copies
 * of this database whose version no longer exists (dropped, pruned), the
 * older versions of the model being published (replaced by a retrain) and
 * the copies of the same version side for another generation (refreshed,
 * users forgotten).  A set larger than the whole budget, or one /dev/shm has
 * no room for, is not shared: cache.c keeps it per backend as without
 * preloading, and a WARNING says so once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <sys/statvfs.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "port/atomics.h"
#include "storage/dsm_impl.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "reco.h"
#include "shared_cache.h"

/* One published copy (handle DSM_HANDLE_INVALID: a free slot). */
typedef struct RecoSharedSlot
{
	Oid			dbid;
	int64		model_id;
	int32		version;
	RecoSide	side;
	int64		rows;
	int			k;
	int64		generation;
	char		name[NAMEDATALEN];
	dsm_handle	handle;
	Size		bytes;
	TimestampTz created_at;
	pg_atomic_uint64 last_used; /* LRU clock */
	pg_atomic_uint64 last_used_at;	/* a TimestampTz */
	pg_atomic_uint64 hits;		/* mappings and uses */
} RecoSharedSlot;

/* The registry, in the main shared memory. */
typedef struct RecoSharedRegistry
{
	LWLock	   *lock;
	pg_atomic_uint64 clock;
	Size		used;			/* bytes of the published segments (under the lock) */
	RecoSharedSlot slots[RECO_SHARED_CACHE_SLOTS];
} RecoSharedRegistry;

/* The arrays of a set stored in a segment, in this order (RecoSharedArrays). */
#define RECO_SHARED_ARRAYS 14

/* A segment's header: where each array starts (0: absent), and the scalars of the set. */
typedef struct RecoSharedHeader
{
	int64		n;
	int32		k;
	int32		id_type;
	int64		n_head;
	Size		keys_bytes;
	Size		offsets[RECO_SHARED_ARRAYS];
} RecoSharedHeader;

/* Alignment of every array in a segment (a cache line). */
#define RECO_SHARED_ALIGN 64

/* This backend's mapping of one segment, with the cache entries using it. */
typedef struct RecoSharedMapping
{
	dsm_handle	handle;
	dsm_segment *segment;
	int			refs;
} RecoSharedMapping;

#define RECO_SHARED_TRANCHE "reco_shared_cache"

int			reco_shared_cache_size_kb = RECO_DEFAULT_SHARED_CACHE_SIZE_KB;

static RecoSharedRegistry *reco_shared = NULL;
static shmem_request_hook_type reco_prev_shmem_request_hook = NULL;
static shmem_startup_hook_type reco_prev_shmem_startup_hook = NULL;
static RecoSharedMapping *reco_mappings = NULL;
static int	reco_mappings_len = 0;
static int	reco_mappings_cap = 0;

/* shmem_request_hook: reserves the registry and its lock. */
static void
RecoSharedShmemRequest(void)
{
	if (reco_prev_shmem_request_hook)
		reco_prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RecoSharedRegistry)));
	RequestNamedLWLockTranche(RECO_SHARED_TRANCHE, 1);
}

/* shmem_startup_hook: creates (or, in a backend, finds) the registry. */
static void
RecoSharedShmemStartup(void)
{
	bool		found;

	if (reco_prev_shmem_startup_hook)
		reco_prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	reco_shared = ShmemInitStruct("reco shared cache", sizeof(RecoSharedRegistry), &found);
	if (!found)
	{
		int			i;

		memset(reco_shared, 0, sizeof(RecoSharedRegistry));
		reco_shared->lock = &(GetNamedLWLockTranche(RECO_SHARED_TRANCHE))->lock;
		pg_atomic_init_u64(&reco_shared->clock, 0);
		for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
		{
			reco_shared->slots[i].handle = DSM_HANDLE_INVALID;
			pg_atomic_init_u64(&reco_shared->slots[i].last_used, 0);
			pg_atomic_init_u64(&reco_shared->slots[i].last_used_at, 0);
			pg_atomic_init_u64(&reco_shared->slots[i].hits, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Registers reco.shared_cache_size and, while preloading, the shared memory hooks (from _PG_init). */
void
RecoSharedCacheInit(void)
{
	DefineCustomIntVariable("reco.shared_cache_size",
							"Memory for the shared copies of served factor matrices (reco in shared_preload_libraries).",
							"0 turns sharing off: every backend keeps its own copy, bounded by reco.cache_size.",
							&reco_shared_cache_size_kb,
							RECO_DEFAULT_SHARED_CACHE_SIZE_KB, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	reco_prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = RecoSharedShmemRequest;
	reco_prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = RecoSharedShmemStartup;
}

/* Is sharing on: reco preloaded, a server process, and a budget above 0? */
bool
RecoSharedCacheEnabled(void)
{
	return reco_shared != NULL && IsUnderPostmaster && reco_shared_cache_size_kb > 0;
}

/* reco.shared_cache_size in bytes. */
Size
RecoSharedCacheBudget(void)
{
	return (Size) reco_shared_cache_size_kb * 1024;
}

/*
 * The arrays of a set, in segment order: the address of each pointer field
 * of `set` and, from `set`, each array's length in bytes (0 with a NULL
 * pointer: absent).
 */
static void
RecoSharedArrays(RecoFactorSet *set, void **fields[RECO_SHARED_ARRAYS], Size lengths[RECO_SHARED_ARRAYS])
{
	Size		n = (Size) set->n;
	int			i;

	/* first what a top-n scan reads, contiguous after the header: a fresh mapping faults in 64 kB runs */
	fields[0] = (void **) &set->norm_head;
	lengths[0] = mul_size(sizeof(float) * set->k, (Size) set->n_head);
	fields[1] = (void **) &set->norm_head_ids;
	lengths[1] = sizeof(int64) * (Size) set->n_head;
	fields[2] = (void **) &set->norm_order;
	lengths[2] = sizeof(int32) * n;
	fields[3] = (void **) &set->norms;
	lengths[3] = sizeof(float) * n;
	fields[4] = (void **) &set->ids;
	lengths[4] = sizeof(int64) * n;
	fields[5] = (void **) &set->factors;
	lengths[5] = mul_size(sizeof(float) * set->k, n);
	fields[6] = (void **) &set->norm_rank;
	lengths[6] = sizeof(int32) * n;
	fields[7] = (void **) &set->gram;
	lengths[7] = sizeof(float) * set->k * set->k;
	fields[8] = (void **) &set->popularity;
	lengths[8] = sizeof(int64) * n;
	fields[9] = (void **) &set->popularity_order;
	lengths[9] = sizeof(int32) * n;
	fields[10] = (void **) &set->keys.data;
	lengths[10] = set->keys.bytes;
	fields[11] = (void **) &set->keys.offsets;
	lengths[11] = sizeof(int64) * n;
	fields[12] = (void **) &set->keys.order;
	lengths[12] = sizeof(int64) * n;
	fields[13] = (void **) &set->placed;
	lengths[13] = sizeof(bool) * n;
	for (i = 0; i < RECO_SHARED_ARRAYS; i++)
		if (*fields[i] == NULL)
			lengths[i] = 0;
}

/* Lays a built set out in a segment: fills header's offsets; returns the segment's size. */
static Size
RecoSharedLayout(const RecoFactorSet *built, RecoSharedHeader *header)
{
	RecoFactorSet copy = *built;
	void	  **fields[RECO_SHARED_ARRAYS];
	Size		lengths[RECO_SHARED_ARRAYS];
	Size		at = TYPEALIGN(RECO_SHARED_ALIGN, sizeof(RecoSharedHeader));
	int			i;

	RecoSharedArrays(&copy, fields, lengths);
	memset(header, 0, sizeof(*header));
	header->n = built->n;
	header->k = built->k;
	header->id_type = (int32) built->id_type;
	header->n_head = built->n_head;
	header->keys_bytes = built->keys.bytes;
	for (i = 0; i < RECO_SHARED_ARRAYS; i++)
	{
		if (*fields[i] == NULL)
			continue;
		header->offsets[i] = at;
		at = add_size(at, TYPEALIGN(RECO_SHARED_ALIGN, lengths[i]));
	}
	return at;
}

/* Points a set at the arrays of a mapped segment (read-only: everything is computed). */
static void
RecoSharedSetFrom(char *base, RecoFactorSet *set)
{
	const RecoSharedHeader *header = (const RecoSharedHeader *) base;
	void	  **fields[RECO_SHARED_ARRAYS];
	Size		lengths[RECO_SHARED_ARRAYS];
	int			i;

	memset(set, 0, sizeof(*set));
	set->n = header->n;
	set->k = header->k;
	set->id_type = (RecoIdType) header->id_type;
	set->n_head = header->n_head;
	set->keys.bytes = header->keys_bytes;
	set->cxt = CurrentMemoryContext;
	RecoSharedArrays(set, fields, lengths);
	for (i = 0; i < RECO_SHARED_ARRAYS; i++)
		*fields[i] = header->offsets[i] != 0 ? (void *) (base + header->offsets[i]) : NULL;
}

/* Copies a built set into a segment laid out by header. */
static void
RecoSharedCopy(const RecoFactorSet *built, const RecoSharedHeader *header, char *base)
{
	RecoFactorSet copy = *built;
	void	  **fields[RECO_SHARED_ARRAYS];
	Size		lengths[RECO_SHARED_ARRAYS];
	int			i;

	memcpy(base, header, sizeof(*header));
	RecoSharedArrays(&copy, fields, lengths);
	for (i = 0; i < RECO_SHARED_ARRAYS; i++)
		if (header->offsets[i] != 0 && lengths[i] > 0)
			memcpy(base + header->offsets[i], *fields[i], lengths[i]);
}

/* The registry slot of a model version's side as the caller sees it, or -1 (lock held). */
static int
RecoSharedFind(const RecoModelInfo *model, RecoSide side)
{
	int64		rows = side == RECO_SIDE_ITEMS ? model->n_items : model->n_users;
	int64		generation = side == RECO_SIDE_ITEMS ? model->item_generation : model->user_generation;
	int			i;

	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
	{
		RecoSharedSlot *s = &reco_shared->slots[i];

		if (s->handle != DSM_HANDLE_INVALID && s->dbid == MyDatabaseId && s->model_id == model->model_id &&
			s->side == side && s->rows == rows && s->k == model->factors && s->generation == generation)
			return i;
	}
	return -1;
}

/* Records a use of slot i (lock held in any mode). */
static void
RecoSharedTouchSlot(int i)
{
	RecoSharedSlot *s = &reco_shared->slots[i];

	pg_atomic_write_u64(&s->last_used, pg_atomic_add_fetch_u64(&reco_shared->clock, 1));
	pg_atomic_write_u64(&s->last_used_at, (uint64) GetCurrentTimestamp());
	pg_atomic_fetch_add_u64(&s->hits, 1);
}

/* Removes slot i and unpins its segment: its last user frees it (lock held exclusively). */
static void
RecoSharedEvict(int i)
{
	RecoSharedSlot *s = &reco_shared->slots[i];

	dsm_unpin_segment(s->handle);
	reco_shared->used -= s->bytes;
	s->handle = DSM_HANDLE_INVALID;
}

/* Makes room for one more mapping in this backend's list (before taking the lock). */
static void
RecoSharedReserveMapping(void)
{
	int			cap;

	if (reco_mappings_len < reco_mappings_cap)
		return;
	cap = Max(4, reco_mappings_cap * 2);
	reco_mappings = reco_mappings == NULL
		? MemoryContextAlloc(TopMemoryContext, sizeof(RecoSharedMapping) * cap)
		: repalloc(reco_mappings, sizeof(RecoSharedMapping) * cap);
	reco_mappings_cap = cap;
}

/* Adds a mapping, pinned for the backend's life, to this backend's list with no use yet (room reserved). */
static void
RecoSharedAddMapping(dsm_handle handle, dsm_segment *segment)
{
	Assert(reco_mappings_len < reco_mappings_cap);
	dsm_pin_mapping(segment);
	reco_mappings[reco_mappings_len].handle = handle;
	reco_mappings[reco_mappings_len].segment = segment;
	reco_mappings[reco_mappings_len].refs = 0;
	reco_mappings_len++;
}

/*
 * One more use of this backend's mapping of a segment: found, or mapped now
 * (the caller holds the lock, so the segment exists, and reserved room).
 */
static dsm_segment *
RecoSharedMap(dsm_handle handle)
{
	dsm_segment *segment;
	int			i;

	for (i = 0; i < reco_mappings_len; i++)
		if (reco_mappings[i].handle == handle)
		{
			reco_mappings[i].refs++;
			return reco_mappings[i].segment;
		}
	segment = dsm_attach(handle);
	if (segment == NULL)
		elog(ERROR, "reco: could not map shared factor segment %u, please report a bug", handle);
	RecoSharedAddMapping(handle, segment);
	reco_mappings[reco_mappings_len - 1].refs = 1;
	return segment;
}

/* Ends one use of this backend's mapping of a segment; the last detaches it. */
void
RecoSharedCacheRelease(RecoSharedRef *ref)
{
	int			i;

	for (i = 0; i < reco_mappings_len; i++)
		if (reco_mappings[i].segment == ref->segment)
		{
			if (--reco_mappings[i].refs == 0)
			{
				dsm_detach(reco_mappings[i].segment);
				reco_mappings[i] = reco_mappings[--reco_mappings_len];
			}
			break;
		}
	ref->segment = NULL;
}

/* Fills ref and set from slot i, mapping its segment (lock held). */
static void
RecoSharedUse(int i, RecoFactorSet *set, RecoSharedRef *ref)
{
	RecoSharedSlot *s = &reco_shared->slots[i];

	ref->segment = RecoSharedMap(s->handle);
	ref->handle = s->handle;
	ref->slot = i;
	ref->bytes = s->bytes;
	RecoSharedTouchSlot(i);
	RecoSharedSetFrom(dsm_segment_address(ref->segment), set);
}

/*
 * Takes the lock in `mode` (the caller releases it) and, if a model version's
 * side is published, maps it into set and ref and returns true.
 */
static bool
RecoSharedLockAndUse(const RecoModelInfo *model, RecoSide side, LWLockMode mode, RecoFactorSet *set,
					 RecoSharedRef *ref)
{
	int			i;

	RecoSharedReserveMapping();
	LWLockAcquire(reco_shared->lock, mode);
	i = RecoSharedFind(model, side);
	if (i >= 0)
		RecoSharedUse(i, set, ref);
	return i >= 0;
}

/*
 * Maps the published copy of a model version's side, if there is one: fills
 * set (pointing into the mapping) and ref, and returns true.
 */
bool
RecoSharedCacheAttach(const RecoModelInfo *model, RecoSide side, RecoFactorSet *set, RecoSharedRef *ref)
{
	bool		found = RecoSharedLockAndUse(model, side, LW_SHARED, set, ref);

	LWLockRelease(reco_shared->lock);
	return found;
}

/* Is the segment a backend maps still published (then counts a use)? */
bool
RecoSharedCacheTouch(const RecoSharedRef *ref)
{
	bool		published;

	LWLockAcquire(reco_shared->lock, LW_SHARED);
	published = reco_shared->slots[ref->slot].handle == ref->handle;
	if (published)
		RecoSharedTouchSlot(ref->slot);
	LWLockRelease(reco_shared->lock);
	return published;
}

/* Is the segment a backend maps still published (no use counted)? */
bool
RecoSharedCachePublished(const RecoSharedRef *ref)
{
	bool		published;

	LWLockAcquire(reco_shared->lock, LW_SHARED);
	published = reco_shared->slots[ref->slot].handle == ref->handle;
	LWLockRelease(reco_shared->lock);
	return published;
}

/*
 * Evicts the copies of this database that are no longer worth keeping: of a
 * version that no longer exists (dropped, pruned) or an older version of the
 * model being published (replaced by a retrain).  Reads reco.models through
 * SPI (the caller is connected).
 */
static void
RecoSharedSweep(const RecoModelInfo *model)
{
	int64		ids[RECO_SHARED_CACHE_SLOTS];
	dsm_handle	handles[RECO_SHARED_CACHE_SLOTS];
	bool		exists[RECO_SHARED_CACHE_SLOTS];
	StringInfoData list;
	int			n = 0;
	int			i;
	uint64		r;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	LWLockAcquire(reco_shared->lock, LW_SHARED);
	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
	{
		RecoSharedSlot *s = &reco_shared->slots[i];

		if (s->handle == DSM_HANDLE_INVALID || s->dbid != MyDatabaseId)
			continue;
		handles[n] = s->handle;
		/* an older version of the model being published: -1 is no model_id, so it goes */
		ids[n] = (strcmp(s->name, model->name) == 0 && s->model_id < model->model_id) ? -1 : s->model_id;
		exists[n] = false;
		n++;
	}
	LWLockRelease(reco_shared->lock);
	if (n == 0)
		return;

	initStringInfo(&list);
	appendStringInfoChar(&list, '{');
	for (i = 0; i < n; i++)
		appendStringInfo(&list, "%s" INT64_FORMAT, i > 0 ? "," : "", ids[i]);
	appendStringInfoChar(&list, '}');
	values[0] = CStringGetTextDatum(list.data);
	RecoExecuteArgs("SELECT model_id FROM reco.models WHERE model_id = ANY ($1::bigint[])", 1, types, values, true);
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));

		for (i = 0; i < n; i++)
			if (ids[i] == id)
				exists[i] = true;
	}
	SPI_freetuptable(SPI_tuptable);

	LWLockAcquire(reco_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
	{
		int			j;

		if (reco_shared->slots[i].handle == DSM_HANDLE_INVALID)
			continue;
		for (j = 0; j < n; j++)
			if (handles[j] == reco_shared->slots[i].handle && !exists[j])
				RecoSharedEvict(i);
	}
	LWLockRelease(reco_shared->lock);
}

/* The least-recently-used published slot, or -1 if none (lock held). */
static int
RecoSharedLeastRecent(void)
{
	int			lru = -1;
	int			i;

	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
		if (reco_shared->slots[i].handle != DSM_HANDLE_INVALID &&
			(lru < 0 || pg_atomic_read_u64(&reco_shared->slots[i].last_used) <
			 pg_atomic_read_u64(&reco_shared->slots[lru].last_used)))
			lru = i;
	return lru;
}

/*
 * Is there room for a new segment of `bytes`?  POSIX segments live in
 * /dev/shm, often small in containers (64 MB by default in Docker), and a
 * segment it has no room for is an error; so check its free space first and,
 * if short, say so once per backend (other DSM kinds: assume room).
 */
static bool
RecoSharedRoomFor(Size bytes)
{
	static bool warned = false;
	struct statvfs fs;

	if (dynamic_shared_memory_type != DSM_IMPL_POSIX || statvfs("/dev/shm", &fs) != 0 ||
		(Size) fs.f_bavail * fs.f_frsize >= bytes)
		return true;
	if (!warned)
		ereport(WARNING,
				(errmsg("/dev/shm has no room for a shared factor copy of %zu kB", (bytes + 1023) / 1024),
				 errdetail("Models are served from a copy per backend (reco.cache_size) until it has."),
				 errhint("Give /dev/shm at least reco.shared_cache_size (README, \"One shared copy\").")));
	warned = true;
	return false;
}

/*
 * Publishes a privately built set (norms, orders and Gram matrix computed)
 * as the shared copy of a model version's side and maps it: fills set and
 * ref and returns true.  If another backend published it meanwhile, maps
 * that one instead.  Returns false, publishing nothing, when the set does not
 * fit reco.shared_cache_size, /dev/shm or the segments PostgreSQL allows.
 */
bool
RecoSharedCachePublish(const RecoModelInfo *model, RecoSide side, const RecoFactorSet *built,
					   RecoFactorSet *set, RecoSharedRef *ref)
{
	RecoSharedHeader header;
	Size		bytes = RecoSharedLayout(built, &header);
	dsm_segment *segment;
	RecoSharedSlot *s;
	int			i;

	if (bytes > RecoSharedCacheBudget())
		return false;
	RecoSharedSweep(model);
	if (!RecoSharedRoomFor(bytes))
		return false;
	segment = dsm_create(bytes, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (segment == NULL)
		return false;
	RecoSharedCopy(built, &header, dsm_segment_address(segment));

	if (RecoSharedLockAndUse(model, side, LW_EXCLUSIVE, set, ref))
	{
		/* published by another backend while this one built: use that copy */
		LWLockRelease(reco_shared->lock);
		dsm_detach(segment);
		return true;
	}
	/* the copies of this version side for another generation: refreshed, or users forgotten */
	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
		if (reco_shared->slots[i].handle != DSM_HANDLE_INVALID && reco_shared->slots[i].dbid == MyDatabaseId &&
			reco_shared->slots[i].model_id == model->model_id && reco_shared->slots[i].side == side)
			RecoSharedEvict(i);
	for (;;)
	{
		int			lru;

		for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
			if (reco_shared->slots[i].handle == DSM_HANDLE_INVALID)
				break;
		if (i < RECO_SHARED_CACHE_SLOTS && reco_shared->used + bytes <= RecoSharedCacheBudget())
			break;
		lru = RecoSharedLeastRecent();
		Assert(lru >= 0);
		RecoSharedEvict(lru);
	}
	s = &reco_shared->slots[i];
	dsm_pin_segment(segment);
	s->dbid = MyDatabaseId;
	s->model_id = model->model_id;
	s->version = model->version;
	s->side = side;
	s->rows = side == RECO_SIDE_ITEMS ? model->n_items : model->n_users;
	s->k = model->factors;
	s->generation = side == RECO_SIDE_ITEMS ? model->item_generation : model->user_generation;
	strlcpy(s->name, model->name, NAMEDATALEN);
	s->bytes = bytes;
	s->created_at = GetCurrentTimestamp();
	pg_atomic_write_u64(&s->hits, 0);
	s->handle = dsm_segment_handle(segment);
	reco_shared->used += bytes;
	/* the creator's mapping becomes this backend's counted mapping */
	RecoSharedAddMapping(s->handle, segment);
	RecoSharedUse(i, set, ref);
	LWLockRelease(reco_shared->lock);
	return true;
}

/*
 * Unpublishes every shared copy of this database's models (reco.cache_reset:
 * the next call reads the tables again, as without preloading); returns how
 * many there were.  A backend still mapping one keeps it until it detaches.
 * Only a role that may serve (SELECT on reco.item_factors) unpublishes: any
 * other would only make every serving backend rebuild.
 */
int
RecoSharedCacheReset(void)
{
	int			n = 0;
	int			i;
	Oid			relid;

	if (reco_shared == NULL)
		return 0;
	relid = get_relname_relid("item_factors", get_namespace_oid("reco", true));
	if (!OidIsValid(relid) || pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return 0;
	LWLockAcquire(reco_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
		if (reco_shared->slots[i].handle != DSM_HANDLE_INVALID && reco_shared->slots[i].dbid == MyDatabaseId)
		{
			RecoSharedEvict(i);
			n++;
		}
	LWLockRelease(reco_shared->lock);
	return n;
}

PG_FUNCTION_INFO_V1(reco_shared_cache_info);

/*
 * reco.shared_cache_info(): one row per shared copy of this database's
 * models, for a role that may read reco.models (42501 otherwise).
 */
Datum
reco_shared_cache_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	RecoCheckPrivilege("models", ACL_SELECT);
	InitMaterializedSRF(fcinfo, 0);
	if (reco_shared == NULL)
		return (Datum) 0;
	LWLockAcquire(reco_shared->lock, LW_SHARED);
	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
	{
		RecoSharedSlot *s = &reco_shared->slots[i];
		Datum		values[11];
		bool		nulls[11] = {false, false, false, false, false, false, false, false, false, false, false};
		int			j;
		bool		mapped = false;

		if (s->handle == DSM_HANDLE_INVALID || s->dbid != MyDatabaseId)
			continue;
		for (j = 0; j < reco_mappings_len; j++)
			if (reco_mappings[j].handle == s->handle && reco_mappings[j].refs > 0)
				mapped = true;
		values[0] = CStringGetTextDatum(s->name);
		values[1] = Int32GetDatum(s->version);
		values[2] = Int64GetDatum(s->model_id);
		values[3] = CStringGetTextDatum(s->side == RECO_SIDE_ITEMS ? "items" : "users");
		values[4] = Int64GetDatum(s->rows);
		values[5] = Int32GetDatum(s->k);
		values[6] = Int64GetDatum((int64) s->bytes);
		values[7] = Int64GetDatum((int64) pg_atomic_read_u64(&s->hits));
		values[8] = TimestampTzGetDatum(s->created_at);
		values[9] = TimestampTzGetDatum((TimestampTz) pg_atomic_read_u64(&s->last_used_at));
		values[10] = BoolGetDatum(mapped);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(reco_shared->lock);
	return (Datum) 0;
}

/*
 * Unpublishes the shared copies of one model version of database dbid, one
 * side or both (side < 0): at the commit of a transaction that dropped,
 * pruned or changed it (shared_unpublish.c).  As an eviction, a backend still
 * scoring with a copy keeps it until its call ends.  Never errors.
 */
void
RecoSharedCacheUnpublish(Oid dbid, int64 model_id, int side)
{
	int			i;

	if (reco_shared == NULL)
		return;
	LWLockAcquire(reco_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < RECO_SHARED_CACHE_SLOTS; i++)
	{
		RecoSharedSlot *s = &reco_shared->slots[i];

		if (s->handle != DSM_HANDLE_INVALID && s->dbid == dbid && s->model_id == model_id &&
			(side < 0 || (int) s->side == side))
			RecoSharedEvict(i);
	}
	LWLockRelease(reco_shared->lock);
}
