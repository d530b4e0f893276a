/*-------------------------------------------------------------------------
 *
 * shared_unpublish.c
 *	  Frees the shared copies of a dropped, pruned or changed model version
 *	  at the commit that drops or changes it.
 *
 * A shared copy (shared_cache.c) is keyed by model_id, row count and
 * generation, so a stale copy is never served; but a copy nobody asks for
 * again would hold its share of reco.shared_cache_size until the next publish
 * sweeps it or LRU eviction reaches it.  So triggers on reco.models (the
 * script's "Shared copies freed at commit") call reco_internal.
 * unpublish_shared_copies for every deleted row (reco.drop_model, the pruning
 * of old versions by a training, an import or reco.tune, a losing tune trial,
 * a hand-written DELETE) and for every update that gives a side a new key
 * (forget_user, refresh_users / refresh_items: a new row count or
 * generation).  The trigger only records (database, model_id, side) in this
 * backend, with the subtransaction level it happened in; a subtransaction that
 * aborts forgets its records, one that commits hands them to its parent, and
 * at the top-level commit (XACT_EVENT_COMMIT: the drop is visible to every
 * new snapshot) the copies are unpublished: their budget is free at once, and
 * each segment goes with its last mapping.  An aborted transaction
 * unpublishes nothing; nor does a prepared one (its copies are swept by the
 * next publish, as before).  A backend still scoring with an unpublished copy
 * keeps it until its call ends, as with any eviction; one whose snapshot
 * still sees the dropped version (a repeatable-read transaction begun before
 * the drop) builds and publishes it again, and the next publish sweeps that.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "reco.h"
#include "shared_cache.h"

/* One version side to unpublish at commit (side -1: both sides). */
typedef struct RecoUnpublishRecord
{
	Oid			dbid;
	int64		model_id;
	int			side;
	int			level;			/* the (sub)transaction nesting level that recorded it */
} RecoUnpublishRecord;

static RecoUnpublishRecord *reco_unpublish = NULL;
static int	reco_unpublish_len = 0;
static int	reco_unpublish_cap = 0;
static bool reco_unpublish_registered = false;

/* Unpublishes what the committed transaction recorded, or forgets it (any other end). */
static void
RecoUnpublishXactCallback(XactEvent event, void *arg)
{
	int			i;

	if (event == XACT_EVENT_COMMIT)
		for (i = 0; i < reco_unpublish_len; i++)
			RecoSharedCacheUnpublish(reco_unpublish[i].dbid, reco_unpublish[i].model_id, reco_unpublish[i].side);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		reco_unpublish_len = 0;
}

/* A subtransaction's end: an abort forgets its records, a commit hands them to its parent. */
static void
RecoUnpublishSubXactCallback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
							 void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	int			i = 0;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (i = 0; i < reco_unpublish_len; i++)
			if (reco_unpublish[i].level >= level)
				reco_unpublish[i].level = level - 1;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (i < reco_unpublish_len)
			if (reco_unpublish[i].level >= level)
				reco_unpublish[i] = reco_unpublish[--reco_unpublish_len];
			else
				i++;
	}
}

/* Records a version side to unpublish when the transaction commits. */
static void
RecoUnpublishAtCommit(int64 model_id, int side)
{
	RecoUnpublishRecord *r;

	if (!reco_unpublish_registered)
	{
		RegisterXactCallback(RecoUnpublishXactCallback, NULL);
		RegisterSubXactCallback(RecoUnpublishSubXactCallback, NULL);
		reco_unpublish_registered = true;
	}
	if (reco_unpublish_len == reco_unpublish_cap)
	{
		int			cap = Max(8, reco_unpublish_cap * 2);

		reco_unpublish = reco_unpublish == NULL
			? MemoryContextAlloc(TopMemoryContext, sizeof(RecoUnpublishRecord) * cap)
			: repalloc(reco_unpublish, sizeof(RecoUnpublishRecord) * cap);
		reco_unpublish_cap = cap;
	}
	r = &reco_unpublish[reco_unpublish_len++];
	r->dbid = MyDatabaseId;
	r->model_id = model_id;
	r->side = side;
	r->level = GetCurrentTransactionNestLevel();
}

PG_FUNCTION_INFO_V1(reco_unpublish_shared_copies);

/*
 * reco_internal.unpublish_shared_copies(side): an AFTER ... FOR EACH ROW
 * trigger on reco.models (side 'all', 'items' or 'users'): the old row's
 * version side is unpublished from the shared cache if the transaction
 * commits.  39P01 anywhere else.
 */
Datum
reco_unpublish_shared_copies(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *) fcinfo->context;
	const char *side;
	int			column;
	bool		isnull;
	Datum		model_id;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigger->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigger->tg_event) || TRIGGER_FIRED_BY_INSERT(trigger->tg_event) ||
		trigger->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reco_internal.unpublish_shared_copies must be fired AFTER DELETE or UPDATE FOR EACH ROW with one argument")));
	side = trigger->tg_trigger->tgargs[0];
	column = SPI_fnumber(trigger->tg_relation->rd_att, "model_id");
	/*
	 * only reco.models: EXECUTE is PUBLIC's, so on a table of one's own with
	 * a model_id column the trigger would unpublish any version's copies
	 */
	if (RelationGetNamespace(trigger->tg_relation) != get_namespace_oid("reco", true) ||
		strcmp(RelationGetRelationName(trigger->tg_relation), "models") != 0 ||
		column <= 0 || SPI_gettypeid(trigger->tg_relation->rd_att, column) != INT8OID ||
		(strcmp(side, "all") != 0 && strcmp(side, "items") != 0 && strcmp(side, "users") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reco_internal.unpublish_shared_copies fires on reco.models with the argument all, items or users")));
	model_id = heap_getattr(trigger->tg_trigtuple, column, trigger->tg_relation->rd_att, &isnull);
	if (!isnull)
		RecoUnpublishAtCommit(DatumGetInt64(model_id),
							  side[0] == 'a' ? -1 : side[0] == 'i' ? (int) RECO_SIDE_ITEMS : (int) RECO_SIDE_USERS);
	return PointerGetDatum(NULL);
}
