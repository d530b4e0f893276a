/*-------------------------------------------------------------------------
 *
 * bulk_insert.h
 *	  COPY-style bulk insertion of a training's factor rows (bulk_insert.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_BULK_INSERT_H
#define RECO_BULK_INSERT_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"

#include "reco_limits.h"

/* The most columns a bulk insertion supplies. */
#define RECO_BULK_MAX_COLUMNS 8

/*
 * An open bulk insertion into one reco table: rows gathered in slots, then
 * written by table_multi_insert with their index entries, as COPY FROM does.
 */
typedef struct RecoBulkInsert
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *result;
	struct BulkInsertStateData *bistate;
	CommandId	cid;
	TupleTableSlot *slots[RECO_STORE_BULK_ROWS];
	int			used;			/* slots holding a row not yet written */
	int			ncolumns;
	int			column_of[RECO_BULK_MAX_COLUMNS];	/* the caller's column c -> attribute index */
	MemoryContext batch_cxt;	/* the caller's values of the gathered rows */
} RecoBulkInsert;

extern const char *RecoBulkBegin(RecoBulkInsert *bulk, const char *relname, const char *const *columns,
								 const Oid *types, int ncolumns);
extern void RecoBulkAdd(RecoBulkInsert *bulk, const Datum *values);
extern void RecoBulkEnd(RecoBulkInsert *bulk);

#endif							/* RECO_BULK_INSERT_H */
