/*-------------------------------------------------------------------------
 *
 * bulk_insert.c
 *	  COPY-style bulk insertion of a training's factor rows.
 *
 * A training stores millions of factor rows; an INSERT through SPI forms,
 * WAL-logs and indexes them one at a time through the executor.  Here rows
 * are gathered in slots and written RECO_STORE_BULK_ROWS at a time by
 * table_multi_insert (one WAL record per filled page, the target page kept
 * pinned) with their index entries (ExecInsertIndexTuples, unique and partial
 * indexes as an INSERT checks them), as COPY FROM does.
 *
 * Only where that is exactly what an INSERT would do: RecoBulkBegin returns
 * the reason to take the SPI path instead (whose INSERT then raises the
 * right error or runs the table's rules) when the role lacks INSERT on the
 * table, the table has row security, triggers (which include foreign keys
 * and deferred unique checks), CHECK constraints, is not a plain table or a
 * partition, or its columns are not the ones expected (a caller's column
 * missing or of another type; any other column with a default, an identity,
 * a generation expression or NOT NULL: it would not be NULL after INSERT).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/hio.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "bulk_insert.h"

/*
 * Why the columns of rel are not what the caller's insertion expects, or
 * NULL when they are; fills column_of.
 */
static const char *
RecoBulkCheckColumns(RecoBulkInsert *bulk, Relation rel, const char *const *columns, const Oid *types)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			c,
				a;

	for (c = 0; c < bulk->ncolumns; c++)
		bulk->column_of[c] = -1;
	for (a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attisdropped)
			continue;
		for (c = 0; c < bulk->ncolumns; c++)
			if (strcmp(NameStr(att->attname), columns[c]) == 0)
				break;
		if (c < bulk->ncolumns)
		{
			if (att->atttypid != types[c] || att->attgenerated)
				return "a column has another type";
			bulk->column_of[c] = a;
		}
		else if (att->atthasdef || att->attidentity || att->attgenerated || att->attnotnull)
			return "a column has a default";
	}
	for (c = 0; c < bulk->ncolumns; c++)
		if (bulk->column_of[c] < 0)
			return "a column is missing";
	if (desc->constr != NULL && desc->constr->num_check > 0)
		return "the table has CHECK constraints";
	return NULL;
}

/*
 * Opens a bulk insertion of rows of the given columns (names and types)
 * into reco.`relname` and returns NULL, or returns why an INSERT through
 * SPI must store them instead (then nothing is open).
 */
const char *
RecoBulkBegin(RecoBulkInsert *bulk, const char *relname, const char *const *columns,
			  const Oid *types, int ncolumns)
{
	Oid			relid = get_relname_relid(relname, get_namespace_oid("reco", false));
	Relation	rel;
	const char *reason = NULL;

	Assert(ncolumns <= RECO_BULK_MAX_COLUMNS);
	memset(bulk, 0, sizeof(*bulk));
	bulk->ncolumns = ncolumns;
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
		return "not a plain table";
	if (pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		return "no INSERT privilege on the table";
	rel = table_open(relid, RowExclusiveLock);
	if (rel->rd_rel->relrowsecurity)
		reason = "row security";
	else if (rel->trigdesc != NULL)
		reason = "triggers";
	else if (rel->rd_rel->relispartition)
		reason = "a partition";
	else if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		reason = "another table access method";	/* the BulkInsertState below is heap's */
	else if (rel->rd_rules != NULL)
		reason = "rules";
	else
		reason = RecoBulkCheckColumns(bulk, rel, columns, types);
	if (reason != NULL)
	{
		table_close(rel, RowExclusiveLock);
		return reason;
	}
	bulk->rel = rel;
	bulk->estate = CreateExecutorState();
	bulk->result = makeNode(ResultRelInfo);
	InitResultRelInfo(bulk->result, rel, 1, NULL, 0);
	ExecOpenIndices(bulk->result, false);
	/*
	 * The BulkInsertState keeps the target page pinned between rows, but not
	 * COPY's 16 MB ring of buffers: the new version's pages stay in shared
	 * buffers as an INSERT leaves them (its first serving calls read them
	 * there), and the statement does not write and flush WAL for each reused
	 * ring buffer; the checkpointer writes them.
	 */
	bulk->bistate = GetBulkInsertState();
	FreeAccessStrategy(bulk->bistate->strategy);
	bulk->bistate->strategy = NULL;
	bulk->cid = GetCurrentCommandId(true);
	bulk->batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco bulk insert batch",
											ALLOCSET_DEFAULT_SIZES);
	return NULL;
}

/* Writes the gathered rows and their index entries, then frees their values; checks for cancel. */
static void
RecoBulkFlush(RecoBulkInsert *bulk)
{
	int			i;

	if (bulk->used > 0)
	{
		/* table_multi_insert leaks (its tuple array, toasted copies): COPY's short-lived context */
		MemoryContext old = MemoryContextSwitchTo(bulk->batch_cxt);

		table_multi_insert(bulk->rel, bulk->slots, bulk->used, bulk->cid, 0, bulk->bistate);
		for (i = 0; i < bulk->used; i++)
		{
			if (bulk->result->ri_NumIndices > 0)
				list_free(ExecInsertIndexTuples(bulk->result, bulk->slots[i], bulk->estate,
												false, false, NULL, NIL));
			ExecClearTuple(bulk->slots[i]);
			ResetPerTupleExprContext(bulk->estate);
		}
		bulk->used = 0;
		MemoryContextSwitchTo(old);
	}
	MemoryContextReset(bulk->batch_cxt);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Adds one row: values[c] of the caller's column c, none NULL, allocated in
 * bulk->batch_cxt (freed once written).  Rows are written every
 * RECO_STORE_BULK_ROWS rows or RECO_STORE_BULK_BYTES bytes of values.
 */
void
RecoBulkAdd(RecoBulkInsert *bulk, const Datum *values)
{
	TupleTableSlot *slot;
	int			c;

	if (bulk->slots[bulk->used] == NULL)
		bulk->slots[bulk->used] = table_slot_create(bulk->rel, NULL);
	slot = bulk->slots[bulk->used];
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	for (c = 0; c < bulk->ncolumns; c++)
	{
		slot->tts_values[bulk->column_of[c]] = values[c];
		slot->tts_isnull[bulk->column_of[c]] = false;
	}
	ExecStoreVirtualTuple(slot);
	bulk->used++;
	if (bulk->used == RECO_STORE_BULK_ROWS ||
		MemoryContextMemAllocated(bulk->batch_cxt, true) > RECO_STORE_BULK_BYTES)
		RecoBulkFlush(bulk);
}

/* Writes what is left and closes the insertion; the rows are visible to the next command. */
void
RecoBulkEnd(RecoBulkInsert *bulk)
{
	int			i;

	RecoBulkFlush(bulk);
	FreeBulkInsertState(bulk->bistate);
	table_finish_bulk_insert(bulk->rel, 0);
	for (i = 0; i < RECO_STORE_BULK_ROWS && bulk->slots[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(bulk->slots[i]);
	ExecCloseIndices(bulk->result);
	FreeExecutorState(bulk->estate);
	table_close(bulk->rel, NoLock);
	MemoryContextDelete(bulk->batch_cxt);
	CommandCounterIncrement();
}
