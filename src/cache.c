/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of the factor matrices of served models.
 *
 * Serving scores every item of a model, so each backend (and each parallel
 * worker: the cache is plain process memory) keeps the item matrix of the
 * models it serves (and the user matrix, for similar_users), contiguous, in
 * one memory context per matrix under TopMemoryContext, with the norms
 * (cosine similarity) and the Gram matrix FᵀF (fold-in, explain) computed on
 * first use.  A side with text or uuid ids also holds its keys, in code
 * order, with a key-order permutation when a refresh has given a new key the
 * next code (store.h, RecoKeys), so a key is found by binary search, and they
 * count against the budget; an item side with items placed from features
 * (reco.place_item, training with item_features) holds their flags too.
 * Entries are keyed by (model_id, side): a retrain
 * creates a new model_id, so a cached matrix can never be stale; the old one
 * simply ages out.  Two changes update an existing version in place:
 * forget_user removes user rows, lowers the models row's n_users and sets
 * its stats user_generation to the negated transaction id, and
 * reco.refresh_users / refresh_items rewrite factor rows and set the models
 * row's stats user_generation / item_generation to a new value from the
 * models sequence (neither is ever reused, not even after a rollback, and
 * the two never meet, so an entry loaded inside a transaction that aborted
 * can never match a later generation).  So an entry records the row count, factor count and
 * generation it was loaded for, RecoLookupModel reads them on every call
 * with the models row, and a difference in any reloads the side: every
 * backend serves a refresh from its next call on, and a reader whose
 * snapshot still predates the refresh reloads the old version (never a mix:
 * the models row and the factor rows are read in one snapshot).  The total is
 * bounded by reco.cache_size with least-recently-used eviction; a matrix
 * larger than the whole budget is loaded for the call only (into the caller's
 * context) and not cached, and the backend warns once per version and side
 * that it does not fit (a WARNING naming the size to set).
 *
 * A matrix is loaded into a context that is a child of the caller's context
 * and moved under TopMemoryContext only once loading has succeeded, so an
 * error or cancel while loading leaks nothing.
 *
 * Who owns what, and why a returned pointer stays valid: every entry is one
 * memory context holding the entry itself and its arrays, allocated
 * individually (the cache's array holds only pointers to entries), so growing
 * the array or evicting another entry never moves an entry.  And an entry in
 * use is never freed: RecoCacheFactors pins the entry it returns for as long
 * as the caller's memory context lives (a reset callback on that context
 * unpins it), and eviction, whether by LRU, a changed row count or
 * reco.cache_reset(), only unlinks a pinned entry from the cache; the last
 * unpin frees it.  So no later load, not even one run from inside the
 * caller's own SPI queries (a policy function that serves another model,
 * say), can free or move a matrix a serving call is still scoring with.
 * A pin rather than a copy: copying the matrix would cost what the cache
 * saves.  An unlinked pinned entry no longer counts against
 * reco.cache_size; it lives at most until its caller's context is reset,
 * which for a set-returning function is right after the call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cblas.h>

#include "fmgr.h"
#include "funcapi.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "als.h"
#include "cache.h"
#include "reco.h"
#include "shared_cache.h"

/* One cached factor matrix, allocated in its own context `cxt`. */
typedef struct RecoCacheEntry
{
	int64		model_id;
	RecoSide	side;
	int32		version;
	int64		rows;			/* the models row's n_items or n_users when loaded */
	int64		generation;		/* the models row's item_generation or user_generation */
	RecoFactorSet set;
	MemoryContext cxt;			/* owns this entry and the set's arrays */
	Size		bytes;			/* ids, keys, factors, norms and Gram matrix */
	uint64		last_used;		/* LRU clock */
	TimestampTz loaded_at;
	int64		hits;
	int			pins;			/* callers whose context still uses the set */
	bool		unlinked;		/* evicted while pinned: the last unpin frees it */
	RecoSharedRef shared;		/* the shared copy the set points into (segment NULL: private) */
} RecoCacheEntry;

/* What a matrix larger than reco.cache_size costs. */
#define RECO_CACHE_RELOAD_DETAIL "Every call that scores with it reads it from the table again, which is slow."

/* Initial number of entry slots (a backend serves a handful of models). */
#define RECO_CACHE_INITIAL_SLOTS 4

/* How many (model version, side) pairs the backend remembers having warned about. */
#define RECO_CACHE_WARNED_SLOTS 16

/* The cache: a small array of pointers to individually allocated entries. */
static RecoCacheEntry **reco_cache = NULL;
static int	reco_cache_len = 0;
static int	reco_cache_cap = 0;
static uint64 reco_cache_clock = 0;

/*
 * Bytes a factor set occupies once its norms, norm order and Gram matrix
 * (and, for items, popularity and its order) are computed.
 */
static Size
RecoFactorSetBytes(RecoSide side, int64 n, int k)
{
	Size		per_row = sizeof(int64) + sizeof(float) * (k + 1) + 2 * sizeof(int32);

	if (side == RECO_SIDE_ITEMS)
		per_row += sizeof(int64) + sizeof(int32);

	return add_size(mul_size(per_row, n), sizeof(float) * (Size) k * k);
}

/* The versions and sides warned about as too large (a ring, slot = count % size). */
static int64 reco_cache_warned_ids[RECO_CACHE_WARNED_SLOTS];
static RecoSide reco_cache_warned_sides[RECO_CACHE_WARNED_SLOTS];
static int	reco_cache_warned_count = 0;

/*
 * Warns, once per backend and version side, that a matrix of `bytes` does not
 * fit the budget of setting `guc` (reco.cache_size: it is read from the table
 * on every call; reco.shared_cache_size: every backend keeps its own copy);
 * a budget of 0 turns caching off on purpose: no warning.
 */
static void
RecoCacheWarnTooLarge(const RecoModelInfo *model, RecoSide side, Size bytes, Size budget,
					  const char *guc, const char *detail)
{
	int			i;

	if (budget == 0)
		return;
	for (i = 0; i < Min(reco_cache_warned_count, RECO_CACHE_WARNED_SLOTS); i++)
		if (reco_cache_warned_ids[i] == model->model_id && reco_cache_warned_sides[i] == side)
			return;
	i = reco_cache_warned_count++ % RECO_CACHE_WARNED_SLOTS;
	reco_cache_warned_ids[i] = model->model_id;
	reco_cache_warned_sides[i] = side;
	ereport(WARNING,
			(errmsg("the %s matrix of model \"%s\" version %d (%zu kB) does not fit %s (%zu kB)",
					side == RECO_SIDE_ITEMS ? "item" : "user", model->name, model->version,
					(bytes + 1023) / 1024, guc, budget / 1024),
			 errdetail("%s", detail),
			 errhint("Set %s to at least %zuMB (README, \"Memory and threads\").",
					 guc, (bytes + (Size) 1024 * 1024 - 1) / ((Size) 1024 * 1024))));
}

/* Total bytes cached privately (a mapped shared copy is not this backend's memory). */
static Size
RecoCacheBytes(void)
{
	Size		total = 0;
	int			i;

	for (i = 0; i < reco_cache_len; i++)
		if (reco_cache[i]->shared.segment == NULL)
			total = add_size(total, reco_cache[i]->bytes);
	return total;
}

/* Frees an entry: ends its use of a shared copy's mapping, then deletes its context. */
static void
RecoCacheFree(RecoCacheEntry *entry)
{
	if (entry->shared.segment != NULL)
		RecoSharedCacheRelease(&entry->shared);
	MemoryContextDelete(entry->cxt);
}

/* Removes entry i from the cache and frees it, or leaves that to its last unpin. */
static void
RecoCacheEvict(int i)
{
	RecoCacheEntry *entry = reco_cache[i];

	reco_cache[i] = reco_cache[reco_cache_len - 1];
	reco_cache_len--;
	if (entry->pins > 0)
		entry->unlinked = true;
	else
		RecoCacheFree(entry);
}

/* Reset callback of a caller's context: releases its pin on an entry. */
static void
RecoCacheUnpin(void *arg)
{
	RecoCacheEntry *entry = (RecoCacheEntry *) arg;

	entry->pins--;
	if (entry->pins == 0 && entry->unlinked)
		RecoCacheFree(entry);
}

/* Pins an entry until call_cxt is reset or deleted; returns its set. */
static RecoFactorSet *
RecoCachePin(RecoCacheEntry *entry, MemoryContext call_cxt)
{
	MemoryContextCallback *unpin = MemoryContextAlloc(call_cxt, sizeof(MemoryContextCallback));

	unpin->func = RecoCacheUnpin;
	unpin->arg = entry;
	MemoryContextRegisterResetCallback(call_cxt, unpin);
	entry->pins++;
	return &entry->set;
}

/* Evicts least-recently-used private entries until `needed` more bytes fit the budget. */
static void
RecoCacheMakeRoom(Size needed, Size budget)
{
	while (add_size(RecoCacheBytes(), needed) > budget)
	{
		int			lru = -1;
		int			i;

		for (i = 0; i < reco_cache_len; i++)
			if (reco_cache[i]->shared.segment == NULL &&
				(lru < 0 || reco_cache[i]->last_used < reco_cache[lru]->last_used))
				lru = i;
		if (lru < 0)
			break;
		RecoCacheEvict(lru);
	}
}

/* A new, empty entry in its own context, a child of `parent`. */
static RecoCacheEntry *
RecoCacheNewEntry(MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "reco factor cache", ALLOCSET_DEFAULT_SIZES);
	RecoCacheEntry *entry = MemoryContextAllocZero(cxt, sizeof(RecoCacheEntry));

	entry->cxt = cxt;
	return entry;
}

/* Adds a loaded or mapped entry to the cache (moving it under TopMemoryContext) and pins it for call_cxt. */
static RecoFactorSet *
RecoCacheInsert(RecoCacheEntry *entry, const RecoModelInfo *model, RecoSide side, Size bytes,
				MemoryContext call_cxt)
{
	if (reco_cache_len == reco_cache_cap)
	{
		int			cap = Max(RECO_CACHE_INITIAL_SLOTS, reco_cache_cap * 2);

		reco_cache = reco_cache == NULL
			? MemoryContextAlloc(TopMemoryContext, sizeof(RecoCacheEntry *) * cap)
			: repalloc(reco_cache, sizeof(RecoCacheEntry *) * cap);
		reco_cache_cap = cap;
	}
	MemoryContextSetParent(entry->cxt, TopMemoryContext);
	entry->model_id = model->model_id;
	entry->side = side;
	entry->version = model->version;
	entry->rows = side == RECO_SIDE_ITEMS ? model->n_items : model->n_users;
	entry->generation = side == RECO_SIDE_ITEMS ? model->item_generation : model->user_generation;
	entry->bytes = bytes;
	entry->last_used = ++reco_cache_clock;
	entry->loaded_at = GetCurrentTimestamp();
	entry->hits = 0;
	reco_cache[reco_cache_len++] = entry;
	return RecoCachePin(entry, call_cxt);
}

/*
 * The shared copy of a model version's side (reco preloaded): mapped if
 * published, else built here, everything computed, and published.  Returns
 * the new entry mapping it, or NULL when the set is not shared (larger than
 * reco.shared_cache_size, or no segment left); then *loaded is the set if it
 * was already loaded (for the private cache), else NULL.
 */
static RecoCacheEntry *
RecoCacheFromShared(const RecoModelInfo *model, RecoSide side, Size estimate, RecoCacheEntry **loaded)
{
	RecoCacheEntry *entry = RecoCacheNewEntry(CurrentMemoryContext);
	RecoCacheEntry *built;

	*loaded = NULL;
	/* a shared item copy also keeps its norm head (RecoFactorNormHead) */
	if (side == RECO_SIDE_ITEMS)
		estimate = add_size(estimate, mul_size(sizeof(float) * model->factors + sizeof(int64),
											   Min(model->n_items, RECO_SHARED_NORM_HEAD_ROWS)));
	/* the copy may have been built by another role: check this one's privilege on every use */
	RecoCheckPrivilege(side == RECO_SIDE_ITEMS ? "item_factors" : "user_factors", ACL_SELECT);
	if (!RecoSharedCacheAttach(model, side, &entry->set, &entry->shared))
	{
		if (estimate > RecoSharedCacheBudget())
		{
			RecoCacheWarnTooLarge(model, side, estimate, RecoSharedCacheBudget(), "reco.shared_cache_size",
								  "Every backend that serves it keeps its own copy (reco.cache_size).");
			MemoryContextDelete(entry->cxt);
			return NULL;
		}
		built = RecoCacheNewEntry(CurrentMemoryContext);
		RecoLoadFactors(model, side, &built->set, built->cxt);
		/* a shared copy is read-only: compute now what a private one computes on first use */
		(void) RecoFactorNormOrder(&built->set);
		(void) RecoFactorGram(&built->set);
		if (side == RECO_SIDE_ITEMS)
		{
			(void) RecoFactorPopularityOrder(&built->set);
			RecoFactorNormHead(&built->set);
		}
		if (!RecoSharedCachePublish(model, side, &built->set, &entry->set, &entry->shared))
		{
			MemoryContextDelete(entry->cxt);
			*loaded = built;
			return NULL;
		}
		MemoryContextDelete(built->cxt);
	}
	entry->set.cxt = entry->cxt;
	return entry;
}

/*
 * Evicts the entries whose shared copy is no longer published (a retrain,
 * refresh, drop, prune or eviction unpublished it): the segment is freed by
 * its last mapping, and an entry of an old version is never looked up again.
 */
static void
RecoCacheDropUnpublished(void)
{
	int			i = 0;

	while (i < reco_cache_len)
		if (reco_cache[i]->shared.segment != NULL && !RecoSharedCachePublished(&reco_cache[i]->shared))
			RecoCacheEvict(i);	/* moves the last entry to i */
		else
			i++;
}

/*
 * One side's factor matrix of a model version: from the cache, or loaded
 * through SPI (the caller must be SPI-connected) and cached if it fits
 * reco.cache_size; otherwise loaded into call_cxt for this call only.  A
 * cached matrix is pinned until call_cxt is reset or deleted (see the file
 * header), so the pointer is valid for as long as call_cxt is.
 */
RecoFactorSet *
RecoCacheFactors(const RecoModelInfo *model, RecoSide side, MemoryContext call_cxt)
{
	Size		budget = (Size) reco_cache_size_kb * 1024;
	int64		rows = side == RECO_SIDE_ITEMS ? model->n_items : model->n_users;
	int64		generation = side == RECO_SIDE_ITEMS ? model->item_generation : model->user_generation;
	Size		bytes = RecoFactorSetBytes(side, rows, model->factors);
	RecoCacheEntry *entry;
	RecoCacheEntry *loaded = NULL;
	RecoFactorSet *uncached;
	int			i;

	for (i = 0; i < reco_cache_len; i++)
	{
		entry = reco_cache[i];
		if (entry->model_id == model->model_id && entry->side == side)
		{
			if (entry->rows != rows || entry->set.k != model->factors || entry->generation != generation)
			{
				/* refreshed or users forgotten since it was loaded (or the row was edited) */
				RecoCacheEvict(i);
				break;
			}
			if (entry->shared.segment != NULL && !RecoSharedCacheTouch(&entry->shared))
			{
				/* evicted from the shared cache: let the mapping go, find or build it again */
				RecoCacheEvict(i);
				break;
			}
			/* a hit skips SPI's privilege check: another role may have loaded it */
			RecoCheckPrivilege(side == RECO_SIDE_ITEMS ? "item_factors" : "user_factors", ACL_SELECT);
			entry->last_used = ++reco_cache_clock;
			entry->hits++;
			return RecoCachePin(entry, call_cxt);
		}
	}

	if (RecoSharedCacheEnabled())
	{
		entry = RecoCacheFromShared(model, side, bytes, &loaded);
		RecoCacheDropUnpublished();
		if (entry != NULL)
			return RecoCacheInsert(entry, model, side, entry->shared.bytes, call_cxt);
	}

	if (loaded == NULL)
	{
		if (bytes > budget)
		{
			RecoCacheWarnTooLarge(model, side, bytes, budget, "reco.cache_size",
								  RECO_CACHE_RELOAD_DETAIL);
			uncached = MemoryContextAlloc(call_cxt, sizeof(RecoFactorSet));
			RecoLoadFactors(model, side, uncached, call_cxt);
			return uncached;
		}
		/* load under the caller's context first: an error here frees it all */
		loaded = RecoCacheNewEntry(CurrentMemoryContext);
		RecoLoadFactors(model, side, &loaded->set, loaded->cxt);
	}
	entry = loaded;
	/* a text or uuid side's keys are known only once loaded */
	if (entry->set.keys.data != NULL)
		bytes = add_size(bytes, add_size(entry->set.keys.bytes,
										 mul_size(sizeof(int64), entry->set.n * (entry->set.keys.order != NULL ? 2 : 1))));
	/* and whether any item was placed from features */
	if (entry->set.placed != NULL)
		bytes = add_size(bytes, sizeof(bool) * entry->set.n);
	if (bytes > budget)
	{
		/* too large with its keys: for this call only, freed with call_cxt */
		RecoCacheWarnTooLarge(model, side, bytes, budget, "reco.cache_size",
							  RECO_CACHE_RELOAD_DETAIL);
		MemoryContextSetParent(entry->cxt, call_cxt);
		return &entry->set;
	}

	RecoCacheMakeRoom(bytes, budget);
	return RecoCacheInsert(entry, model, side, bytes, call_cxt);
}

/* The Euclidean norm of every row of a set, computed once into the set's context. */
const float *
RecoFactorNorms(RecoFactorSet *set)
{
	if (set->norms == NULL)
	{
		float	   *norms = MemoryContextAllocHuge(set->cxt, sizeof(float) * Max(set->n, 1));
		int64		i;

		for (i = 0; i < set->n; i++)
			norms[i] = cblas_snrm2(set->k, set->factors + i * set->k, 1);
		set->norms = norms;
	}
	return set->norms;
}

/* qsort_arg order of row positions: larger norm first, then lower position. */
static int
RecoCompareByNorm(const void *a, const void *b, void *arg)
{
	const float *norms = (const float *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	if (norms[x] != norms[y])
		return norms[x] > norms[y] ? -1 : 1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The rows of a set by descending norm, and each row's place in that order,
 * computed once into the set's context: serving scores the largest rows
 * first and stops when no remaining row can reach the top n.
 */
const int32 *
RecoFactorNormOrder(RecoFactorSet *set)
{
	if (set->norm_order == NULL)
	{
		const float *norms = RecoFactorNorms(set);
		int32	   *order = MemoryContextAllocHuge(set->cxt, sizeof(int32) * Max(set->n, 1));
		int32	   *rank = MemoryContextAllocHuge(set->cxt, sizeof(int32) * Max(set->n, 1));
		int64		i;

		for (i = 0; i < set->n; i++)
			order[i] = (int32) i;
		qsort_arg(order, set->n, sizeof(int32), RecoCompareByNorm, (void *) norms);
		for (i = 0; i < set->n; i++)
			rank[order[i]] = (int32) i;
		set->norm_rank = rank;
		set->norm_order = order;
	}
	return set->norm_order;
}

/*
 * Copies the first RECO_SHARED_NORM_HEAD_ROWS rows of the norm order,
 * contiguous, with their ids, into the set's context (norm_head,
 * norm_head_ids; a shared item copy only): a top-n scan reads them first,
 * and on a freshly mapped copy reading them in place costs a page fault per
 * row, and finding their ids a binary search over every id.
 */
void
RecoFactorNormHead(RecoFactorSet *set)
{
	const int32 *order = RecoFactorNormOrder(set);
	int64		n_head = Min(set->n, RECO_SHARED_NORM_HEAD_ROWS);
	float	   *head = MemoryContextAllocHuge(set->cxt, mul_size(sizeof(float) * set->k, Max(n_head, 1)));
	int64	   *head_ids = MemoryContextAllocHuge(set->cxt, sizeof(int64) * Max(n_head, 1));
	int64		i;

	for (i = 0; i < n_head; i++)
	{
		memcpy(head + i * set->k, set->factors + (Size) order[i] * set->k, sizeof(float) * set->k);
		head_ids[i] = set->ids[order[i]];
	}
	set->norm_head = head;
	set->norm_head_ids = head_ids;
	set->n_head = n_head;
}

/* qsort_arg order of item positions: more popular first, then lower position (= lower id). */
static int
RecoCompareByPopularity(const void *a, const void *b, void *arg)
{
	const int64 *popularity = (const int64 *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	if (popularity[x] != popularity[y])
		return popularity[x] > popularity[y] ? -1 : 1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The items of a set by descending popularity, ties by lower id, computed
 * once into the set's context (the best-seller fallback walks it).
 */
const int32 *
RecoFactorPopularityOrder(RecoFactorSet *set)
{
	Assert(set->popularity != NULL);
	if (set->popularity_order == NULL)
	{
		int32	   *order = MemoryContextAllocHuge(set->cxt, sizeof(int32) * Max(set->n, 1));
		int64		i;

		for (i = 0; i < set->n; i++)
			order[i] = (int32) i;
		qsort_arg(order, set->n, sizeof(int32), RecoCompareByPopularity, set->popularity);
		set->popularity_order = order;
	}
	return set->popularity_order;
}

/* FᵀF of a set (k x k), computed once into the set's context, as training computes it. */
const float *
RecoFactorGram(RecoFactorSet *set)
{
	if (set->gram == NULL)
	{
		float	   *gram = MemoryContextAlloc(set->cxt, sizeof(float) * set->k * set->k);

		RecoAlsGram(set->factors, set->n, set->k, gram);
		set->gram = gram;
	}
	return set->gram;
}

PG_FUNCTION_INFO_V1(reco_cache_info);

/* reco.cache_info(): one row per cached factor matrix of this backend. */
Datum
reco_cache_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < reco_cache_len; i++)
	{
		RecoCacheEntry *e = reco_cache[i];
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		values[0] = Int64GetDatum(e->model_id);
		values[1] = Int32GetDatum(e->version);
		values[2] = CStringGetTextDatum(e->side == RECO_SIDE_ITEMS ? "items" : "users");
		values[3] = Int64GetDatum(e->set.n);
		values[4] = Int32GetDatum(e->set.k);
		values[5] = Int64GetDatum((int64) e->bytes);
		values[6] = Int64GetDatum(e->hits);
		values[7] = TimestampTzGetDatum(e->loaded_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(reco_cache_reset);

/*
 * reco.cache_reset(): frees every cached factor matrix of this backend (its
 * mappings of shared copies too) and unpublishes the shared copies of this
 * database's models, so the next call reads the tables again.
 */
Datum
reco_cache_reset(PG_FUNCTION_ARGS)
{
	int			n = reco_cache_len;

	while (reco_cache_len > 0)
		RecoCacheEvict(reco_cache_len - 1);
	(void) RecoSharedCacheReset();
	PG_RETURN_INT32(n);
}
