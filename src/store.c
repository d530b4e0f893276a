/*-------------------------------------------------------------------------
 *
 * store.c
 *	  Reading and writing the model tables through SPI.
 *
 * Writes go through ordinary INSERT/DELETE statements, so privileges,
 * indexes, MVCC and WAL behave as for any table: a new version becomes
 * visible atomically at commit and never blocks readers of the old one.
 * A version's factor rows are written in bulk (bulk_insert.c: as COPY FROM
 * does, with the indexes maintained) unless the table needs an INSERT
 * (triggers, row security, ...); then they are sent in batches: one
 * INSERT ... SELECT FROM unnest(arrays) per few thousand rows, never one
 * round trip per row, the training interactions of a user (seen_items,
 * seen_weights) sliced out of one flat array per batch.
 *
 * Reads use read-only SPI (the caller's snapshot) and a cursor, so loading a
 * large item matrix never materializes all its rows at once.  Results are
 * allocated in the memory context given by the caller (SPI's own contexts
 * vanish at SPI_finish).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/transam.h"
#include "access/xlog.h"

#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "bulk_insert.h"
#include "feature_map.h"
#include "model.h"
#include "reco.h"
#include "options.h"
#include "store.h"

/* Rows per INSERT batch, and flat seen-item elements per user batch. */
#define RECO_STORE_BATCH_ROWS 8192
#define RECO_STORE_BATCH_SEEN (1024 * 1024)
#define RECO_LOAD_BATCH_ROWS 8192

/* The columns every user load reads, in this order (RecoLoadUserRows); %s: the key column. */
#define RECO_USER_COLUMNS "user_id, factors, seen_items, seen_weights, %s"

/* Seen-item elements RecoLoadUsers starts with (then doubled). */
#define RECO_LOAD_SEEN_INITIAL 1024

/* SPI_connect, or a loud error (a bug, not a user error). */
void
RecoSpiConnect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "reco: SPI_connect failed, please report a bug");
}

/* SPI_finish, or a loud error (a bug, not a user error). */
void
RecoSpiFinish(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "reco: SPI_finish failed, please report a bug");
}

/* Prepares a statement or fails loudly (a bug, not a user error). */
static SPIPlanPtr
RecoPrepare(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "reco: could not prepare \"%s\": %s, please report a bug",
			 sql, SPI_result_code_string(SPI_result));
	return plan;
}

/* Runs a prepared statement and checks its result code. */
static void
RecoExecute(SPIPlanPtr plan, Datum *values, bool read_only, int expected)
{
	int			rc = SPI_execute_plan(plan, values, NULL, read_only, 0);

	if (rc != expected)
		elog(ERROR, "reco: SPI_execute_plan returned %s, please report a bug",
			 SPI_result_code_string(rc));
}

/* Runs a one-off statement with arguments; returns SPI's result code. */
int
RecoExecuteArgs(const char *sql, int nargs, Oid *types, Datum *values, bool read_only)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, read_only, 0);

	if (rc < 0)
		elog(ERROR, "reco: \"%s\" failed: %s, please report a bug", sql, SPI_result_code_string(rc));
	return rc;
}

/* Reads column col of row 0 of the last result (NULL-checked by the caller's query). */
static Datum
RecoResultValue(int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);
}

/* Builds a one-dimensional array of fixed-width values. */
static Datum
RecoArrayOf(Datum *values, int64 n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(values, (int) n, type, typlen, typbyval, typalign));
}

/*
 * Opens a change of the served version in place (refresh_users/items,
 * place_item/user): READ COMMITTED only (0A000 naming `function`: the
 * snapshot taken after the lock must see what committed while waiting),
 * SPI, the privileges `mode` on reco.`table` and those the models row's
 * update needs, the model's lock, then that snapshot (the caller pops it)
 * and the newest version into *model.
 */
void
RecoBeginInPlace(const char *function, const char *table, AclMode mode, const char *name, RecoModelInfo *model)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s needs READ COMMITTED", function),
				 errdetail("Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot would not see a version "
						   "stored or rows committed while it waited for the model's lock."),
				 errhint("Run it in a READ COMMITTED transaction.")));
	RecoSpiConnect();
	RecoCheckPrivilege(table, mode);
	RecoCheckPrivilege("models", ACL_SELECT | ACL_UPDATE);
	RecoCheckPrivilege("models_model_id_seq", ACL_USAGE);
	RecoLockModelName(name);
	PushActiveSnapshot(GetTransactionSnapshot());
	RecoLookupModel(name, model);
}

/* Serializes trainings of the same model name until the end of the transaction. */
void
RecoLockModelName(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};

	RecoExecuteArgs("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('reco.models'), "
					"pg_catalog.hashtext($1))", 1, types, values, false);
}

/*
 * Errors out (25006) where reco's tables cannot be written: on a hot standby
 * (recovery in progress) or in a read-only transaction.  Checked with the
 * write privileges, so training, refresh and segmentation refuse before they
 * read a row rather than failing at their first write after the whole
 * computation.
 */
static void
RecoCheckWritable(void)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot change reco's models on a standby server"),
				 errdetail("The server is in recovery (a hot standby): it serves models but cannot store them."),
				 errhint("Train, refresh and segment on the primary; the new rows reach the standby by replication.")));
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot change reco's models in a read-only transaction"),
				 errhint("Run it in a read-write transaction (default_transaction_read_only, SET TRANSACTION READ WRITE).")));
}

/*
 * Errors out (42501) unless the current role has every privilege of `mode` on
 * the reco table or sequence `relname`; a mode that writes also needs a
 * writable server and transaction (25006, RecoCheckWritable).
 */
void
RecoCheckPrivilege(const char *relname, AclMode mode)
{
	Oid			relid = get_relname_relid(relname, get_namespace_oid("reco", false));

	if (mode & (ACL_INSERT | ACL_UPDATE | ACL_DELETE))
		RecoCheckWritable();
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("reco.%s is missing: is the extension installed correctly?", relname)));
	/* pg_class_aclcheck accepts any one of the bits: ask for all of them */
	if (pg_class_aclmask(relid, GetUserId(), mode, ACLMASK_ALL) != mode)
		aclcheck_error(ACLCHECK_NO_PRIV,
					   get_rel_relkind(relid) == RELKIND_SEQUENCE ? OBJECT_SEQUENCE : OBJECT_TABLE,
					   relname);
}

/*
 * Errors out unless the current role may store a new version (and prune old
 * ones): checked before training, so a role that may not store fails at once
 * rather than after the whole computation.  Only a training with feature
 * sources writes reco.feature_weights, so only it needs rights there: a role
 * that trained before 0.7.0 keeps training without a new grant (pruning a
 * version that has a mapping checks them when it deletes it).
 */
void
RecoCheckTrainPrivileges(bool with_features)
{
	RecoCheckPrivilege("models", ACL_SELECT | ACL_INSERT | ACL_DELETE);
	RecoCheckPrivilege("models_model_id_seq", ACL_USAGE);
	RecoCheckPrivilege("user_factors", ACL_INSERT | ACL_DELETE);
	RecoCheckPrivilege("item_factors", ACL_INSERT | ACL_DELETE);
	if (with_features)
		RecoCheckPrivilege("feature_weights", ACL_INSERT | ACL_DELETE);
}

/* The version number the next training of this name gets. */
int32
RecoNextVersion(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	RecoExecuteArgs("SELECT COALESCE(pg_catalog.max(version), 0) + 1 FROM reco.models WHERE name = $1",
					1, types, values, false);
	return DatumGetInt32(RecoResultValue(1, &isnull));
}

/* Draws the next model_id from the models sequence. */
int64
RecoNewModelId(void)
{
	bool		isnull;

	RecoExecuteArgs("SELECT pg_catalog.nextval('reco.models_model_id_seq')", 0, NULL, NULL, false);
	return DatumGetInt64(RecoResultValue(1, &isnull));
}

/*
 * The arguments every factor INSERT starts with: $1 model_id, $2 the ids and
 * $3 the encoded factors of the batch's n rows (arrays built in the current
 * memory context).
 */
static void
RecoFactorArgs(Datum *args, int64 model_id, Datum *ids, Datum *factors, int64 n)
{
	args[0] = Int64GetDatum(model_id);
	args[1] = RecoArrayOf(ids, n, INT8OID);
	args[2] = RecoArrayOf(factors, n, BYTEAOID);
}

/* Runs one batch INSERT, then frees the batch's memory. */
static void
RecoInsertBatch(SPIPlanPtr plan, Datum *args, MemoryContext batch_cxt)
{
	RecoExecute(plan, args, false, SPI_OK_INSERT);
	MemoryContextReset(batch_cxt);
	CHECK_FOR_INTERRUPTS();
}

/* How many of n weights are positive. */
static int64
RecoPositiveCount(const float *weights, int64 n)
{
	int64		count = 0;
	int64		i;

	for (i = 0; i < n; i++)
		count += weights[i] > 0;
	return count;
}

/* The keys of a batch's n codes (int8 Datums) as a text[] (keys: code - 1 -> key), in the current memory context. */
static Datum
RecoKeyArray(char *const *keys, const Datum *codes, int64 n)
{
	Datum	   *values = palloc(sizeof(Datum) * Max(n, 1));
	int64		j;

	for (j = 0; j < n; j++)
		values[j] = CStringGetTextDatum(keys[DatumGetInt64(codes[j]) - 1]);
	return RecoArrayOf(values, n, TEXTOID);
}

/* The popularity of dense item i: its users with a positive weight. */
static int64
RecoItemPopularity(const RecoInteractions *data, int64 item)
{
	return RecoPositiveCount(data->item_weights + data->item_indptr[item],
							 data->item_indptr[item + 1] - data->item_indptr[item]);
}

/*
 * Opens the bulk insertion of reco.`relname`'s rows (RecoBulkBegin) and
 * returns true, or logs (DEBUG1) why they are stored by INSERT instead and
 * returns false.
 */
static bool
RecoStoreInBulk(RecoBulkInsert *bulk, const char *relname, const char *const *columns, const Oid *types,
				int ncolumns)
{
	const char *reason = RecoBulkBegin(bulk, relname, columns, types, ncolumns);

	if (reason != NULL)
		elog(DEBUG1, "reco: storing reco.%s by INSERT: %s", relname, reason);
	return reason == NULL;
}

/*
 * RecoStoreItemFactors through SPI: one INSERT ... SELECT FROM unnest(...)
 * per batch of items.
 */
static void
RecoStoreItemFactorsSpi(int64 model_id, const RecoInteractions *data, const float *factors, int k)
{
	bool		keyed = data->item_keys != NULL;
	Oid			types[5] = {INT8OID, INT8ARRAYOID, BYTEAARRAYOID, INT8ARRAYOID, TEXTARRAYOID};
	SPIPlanPtr	plan = RecoPrepare(psprintf("INSERT INTO reco.item_factors (model_id, item_id, factors, popularity%s) "
											"SELECT $1, u.i, u.f, u.p%s FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), "
											"pg_catalog.unnest($4)%s) AS u(i, f, p%s)",
											keyed ? ", item_key" : "", keyed ? ", u.k" : "",
											keyed ? ", pg_catalog.unnest($5)" : "", keyed ? ", k" : ""),
								   keyed ? 5 : 4, types);
	MemoryContext batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco store batch",
													ALLOCSET_DEFAULT_SIZES);
	Datum	   *ids = palloc(sizeof(Datum) * RECO_STORE_BATCH_ROWS);
	Datum	   *values = palloc(sizeof(Datum) * RECO_STORE_BATCH_ROWS);
	Datum	   *popularity = palloc(sizeof(Datum) * RECO_STORE_BATCH_ROWS);
	int64		start;

	for (start = 0; start < data->n_items; start += RECO_STORE_BATCH_ROWS)
	{
		int64		n = Min(RECO_STORE_BATCH_ROWS, data->n_items - start);
		MemoryContext old = MemoryContextSwitchTo(batch_cxt);
		Datum		args[5];
		int64		j;

		for (j = 0; j < n; j++)
		{
			int64		item = start + j;

			ids[j] = Int64GetDatum(data->item_ids[item]);
			values[j] = PointerGetDatum(RecoEncodeFactors(factors + item * k, k));
			popularity[j] = Int64GetDatum(RecoItemPopularity(data, item));
		}
		RecoFactorArgs(args, model_id, ids, values, n);
		args[3] = RecoArrayOf(popularity, n, INT8OID);
		if (keyed)
			args[4] = RecoKeyArray(data->item_keys, ids, n);
		MemoryContextSwitchTo(old);
		RecoInsertBatch(plan, args, batch_cxt);
	}
	MemoryContextDelete(batch_cxt);
}

/* The item rows' columns and types, in the order of a bulk insertion's values. */
static const char *const reco_item_columns[] = {"model_id", "item_id", "factors", "popularity", "item_key"};
static const Oid reco_item_types[] = {INT8OID, INT8OID, BYTEAOID, INT8OID, TEXTOID};

/* The user rows' columns and types, in the order of a bulk insertion's values. */
static const char *const reco_user_columns[] = {"model_id", "user_id", "factors", "seen_items", "seen_weights", "user_key"};
static const Oid reco_user_types[] = {INT8OID, INT8OID, BYTEAOID, INT8ARRAYOID, FLOAT4ARRAYOID, TEXTOID};

/*
 * Opens the bulk insertion of a side's factor rows (RecoStoreInBulk; the
 * key column only for a text or uuid side), or returns false: then SPI.
 */
static bool
RecoStoreSideInBulk(RecoBulkInsert *bulk, const RecoInteractions *data, bool users)
{
	if (users)
		return RecoStoreInBulk(bulk, "user_factors", reco_user_columns, reco_user_types,
							   data->user_keys != NULL ? 6 : 5);
	return RecoStoreInBulk(bulk, "item_factors", reco_item_columns, reco_item_types,
						   data->item_keys != NULL ? 5 : 4);
}

/* Adds item row `item` (factors, popularity, its key if any) to an open bulk insertion. */
static void
RecoBulkAddItem(RecoBulkInsert *bulk, int64 model_id, const RecoInteractions *data,
				const float *factors, int k, int64 item)
{
	MemoryContext old = MemoryContextSwitchTo(bulk->batch_cxt);
	Datum		values[5];

	values[0] = Int64GetDatum(model_id);
	values[1] = Int64GetDatum(data->item_ids[item]);
	values[2] = PointerGetDatum(RecoEncodeFactors(factors + item * k, k));
	values[3] = Int64GetDatum(RecoItemPopularity(data, item));
	if (data->item_keys != NULL)
		values[4] = CStringGetTextDatum(data->item_keys[data->item_ids[item] - 1]);
	MemoryContextSwitchTo(old);
	RecoBulkAdd(bulk, values);
}

/*
 * Inserts every item's factors and popularity (its users with a positive
 * weight); a text or uuid item side its keys too.  In bulk (bulk_insert.c)
 * unless the table needs an INSERT (RecoBulkBegin's reasons): then through
 * SPI.  The same rows either way.
 */
void
RecoStoreItemFactors(int64 model_id, const RecoInteractions *data, const float *factors, int k)
{
	RecoBulkInsert bulk;
	int64		item;

	if (!RecoStoreSideInBulk(&bulk, data, false))
	{
		RecoStoreItemFactorsSpi(model_id, data, factors, k);
		return;
	}
	for (item = 0; item < data->n_items; item++)
		RecoBulkAddItem(&bulk, model_id, data, factors, k, item);
	RecoBulkEnd(&bulk);
}

/*
 * Whether a user's n training interactions fit in one reco.user_factors row:
 * seen_items and seen_weights (12 bytes an interaction) and the rest of the
 * row (1 MB of room) under 1 GB, the most a tuple is formed in.
 */
static bool
RecoSeenFits(int64 n)
{
	return n <= (int64) ((MaxAllocSize - (Size) (1 << 20)) / (sizeof(int64) + sizeof(float)));
}

/* The error of a user whose training interactions are too many to store in one row (54000). */
static void
RecoTooManySeen(const RecoInteractions *data, int64 user, int64 n)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("user %s has too many training interactions to store (" INT64_FORMAT ")",
					data->user_keys != NULL ? psprintf("\"%s\"", data->user_keys[data->user_ids[user] - 1])
					: psprintf(INT64_FORMAT, data->user_ids[user]), n)));
}

/*
 * RecoStoreUsers through SPI: one INSERT ... SELECT FROM unnest(...) per
 * batch of users, their seen lists sliced out of one flat array per batch.
 */
static void
RecoStoreUsersSpi(int64 model_id, const RecoInteractions *data, const float *factors, int k, bool every_user)
{
	bool		keyed = data->user_keys != NULL;
	Oid			types[8] = {INT8OID, INT8ARRAYOID, BYTEAARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
	INT8ARRAYOID, FLOAT4ARRAYOID, TEXTARRAYOID};
	SPIPlanPtr	plan = RecoPrepare(psprintf("INSERT INTO reco.user_factors (model_id, user_id, factors, seen_items, seen_weights%s) "
											"SELECT $1, u.i, u.f, $6[u.s:u.e], $7[u.s:u.e]%s "
											"FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
											"pg_catalog.unnest($5)%s) AS u(i, f, s, e%s)",
											keyed ? ", user_key" : "", keyed ? ", u.k" : "",
											keyed ? ", pg_catalog.unnest($8)" : "", keyed ? ", k" : ""),
								   keyed ? 8 : 7, types);
	MemoryContext batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "reco store batch",
													ALLOCSET_DEFAULT_SIZES);
	Datum	   *ids = palloc(sizeof(Datum) * RECO_STORE_BATCH_ROWS);
	Datum	   *values = palloc(sizeof(Datum) * RECO_STORE_BATCH_ROWS);
	Datum	   *starts = palloc(sizeof(Datum) * RECO_STORE_BATCH_ROWS);
	Datum	   *ends = palloc(sizeof(Datum) * RECO_STORE_BATCH_ROWS);
	int64		user = 0;

	while (user < data->n_users)
	{
		MemoryContext old = MemoryContextSwitchTo(batch_cxt);
		int64		first = user;
		int64		seen_begin = data->user_indptr[first];
		int64		n = 0;
		int64		seen_n;
		int64		p;
		Datum	   *seen_items;
		Datum	   *seen_weights;
		Datum		args[8];

		/* a batch: up to BATCH_ROWS users and about BATCH_SEEN interactions */
		while (user < data->n_users && n < RECO_STORE_BATCH_ROWS &&
			   (n == 0 || data->user_indptr[user + 1] - seen_begin <= RECO_STORE_BATCH_SEEN))
		{
			if (!every_user && !RecoUserHasPositive(data, user))
			{
				user++;			/* trained, but unknown to serving */
				continue;
			}
			if (!RecoSeenFits(data->user_indptr[user + 1] - data->user_indptr[user]))
				RecoTooManySeen(data, user, data->user_indptr[user + 1] - data->user_indptr[user]);
			ids[n] = Int64GetDatum(data->user_ids[user]);
			values[n] = PointerGetDatum(RecoEncodeFactors(factors + user * k, k));
			starts[n] = Int32GetDatum((int32) (data->user_indptr[user] - seen_begin + 1));
			ends[n] = Int32GetDatum((int32) (data->user_indptr[user + 1] - seen_begin));
			n++;
			user++;
		}
		seen_n = data->user_indptr[user] - seen_begin;
		if (seen_n > PG_INT32_MAX / 2)
			RecoTooManySeen(data, first, seen_n);
		seen_items = MemoryContextAllocHuge(batch_cxt, sizeof(Datum) * Max(seen_n, 1));
		seen_weights = MemoryContextAllocHuge(batch_cxt, sizeof(Datum) * Max(seen_n, 1));
		for (p = 0; p < seen_n; p++)
		{
			seen_items[p] = Int64GetDatum(data->item_ids[data->user_items[seen_begin + p]]);
			seen_weights[p] = Float4GetDatum(data->user_weights[seen_begin + p]);
		}
		RecoFactorArgs(args, model_id, ids, values, n);
		args[3] = RecoArrayOf(starts, n, INT4OID);
		args[4] = RecoArrayOf(ends, n, INT4OID);
		args[5] = RecoArrayOf(seen_items, seen_n, INT8OID);
		args[6] = RecoArrayOf(seen_weights, seen_n, FLOAT4OID);
		if (keyed)
			args[7] = RecoKeyArray(data->user_keys, ids, n);
		MemoryContextSwitchTo(old);
		if (n > 0)
			RecoInsertBatch(plan, args, batch_cxt);
		else
			MemoryContextReset(batch_cxt);
	}
	MemoryContextDelete(batch_cxt);
}

/*
 * A one-dimensional array (lower bound 1, no NULLs) of n elements of elmlen
 * bytes, its data left for the caller to fill at ARR_DATA_PTR: the bytes
 * array_get_slice gives the SPI path's rows (n = 0: the empty array).
 */
static ArrayType *
RecoNewArray(Oid elmtype, int elmlen, int64 n)
{
	ArrayType  *array;
	Size		header = ARR_OVERHEAD_NONULLS(1);

	if (n == 0)
		return construct_empty_array(elmtype);
	/* every header byte is set below (24 bytes, no padding), the data by the caller: no zeroing */
	StaticAssertStmt(ARR_OVERHEAD_NONULLS(1) == sizeof(ArrayType) + 2 * sizeof(int),
					 "a one-dimensional array's header has padding");
	array = palloc(add_size(header, mul_size(n, elmlen)));
	SET_VARSIZE(array, header + n * elmlen);
	array->ndim = 1;
	array->dataoffset = 0;
	array->elemtype = elmtype;
	ARR_DIMS(array)[0] = (int) n;
	ARR_LBOUND(array)[0] = 1;
	return array;
}

/*
 * Adds user row `user` (factors, training interactions, its key if any) to
 * an open bulk insertion, unless it has no positive pair and not every_user.
 */
static void
RecoBulkAddUser(RecoBulkInsert *bulk, int64 model_id, const RecoInteractions *data,
				const float *factors, int k, int64 user, bool every_user)
{
	int64		begin = data->user_indptr[user];
	int64		n = data->user_indptr[user + 1] - begin;
	MemoryContext old;
	ArrayType  *seen;
	ArrayType  *weights;
	int64	   *seen_ids;
	Datum		values[6];
	int64		p;

	if (!every_user && !RecoUserHasPositive(data, user))
		return;					/* trained, but unknown to serving */
	if (!RecoSeenFits(n))
		RecoTooManySeen(data, user, n);
	old = MemoryContextSwitchTo(bulk->batch_cxt);
	seen = RecoNewArray(INT8OID, sizeof(int64), n);
	weights = RecoNewArray(FLOAT4OID, sizeof(float), n);
	seen_ids = n > 0 ? (int64 *) ARR_DATA_PTR(seen) : NULL;
	for (p = 0; p < n; p++)
		seen_ids[p] = data->item_ids[data->user_items[begin + p]];
	if (n > 0)
		memcpy(ARR_DATA_PTR(weights), data->user_weights + begin, sizeof(float) * n);
	values[0] = Int64GetDatum(model_id);
	values[1] = Int64GetDatum(data->user_ids[user]);
	values[2] = PointerGetDatum(RecoEncodeFactors(factors + user * k, k));
	values[3] = PointerGetDatum(seen);
	values[4] = PointerGetDatum(weights);
	if (data->user_keys != NULL)
		values[5] = CStringGetTextDatum(data->user_keys[data->user_ids[user] - 1]);
	MemoryContextSwitchTo(old);
	RecoBulkAdd(bulk, values);
}

/*
 * Inserts the factors and training interactions (negative ones included, so
 * that a fold-in reproduces the user) of every user with a positive pair (or,
 * every_user, of every user); a user left out is unknown to serving.  A text
 * or uuid user side its keys too.  In bulk (bulk_insert.c) unless the table
 * needs an INSERT (RecoBulkBegin's reasons): then through SPI.  The same rows
 * either way.
 */
static void
RecoStoreUsers(int64 model_id, const RecoInteractions *data, const float *factors, int k, bool every_user)
{
	RecoBulkInsert bulk;
	int64		user;

	if (!RecoStoreSideInBulk(&bulk, data, true))
	{
		RecoStoreUsersSpi(model_id, data, factors, k, every_user);
		return;
	}
	for (user = 0; user < data->n_users; user++)
		RecoBulkAddUser(&bulk, model_id, data, factors, k, user, every_user);
	RecoBulkEnd(&bulk);
}

/* Inserts every trained user with a positive pair (RecoStoreUsers): what training stores. */
void
RecoStoreUserFactors(int64 model_id, const RecoInteractions *data, const float *factors, int k)
{
	RecoStoreUsers(model_id, data, factors, k, false);
}

/* Inserts every user, with or without interactions (RecoStoreUsers): what an import stores. */
void
RecoStoreEveryUserFactors(int64 model_id, const RecoInteractions *data, const float *factors, int k)
{
	RecoStoreUsers(model_id, data, factors, k, true);
}

/*
 * The factor rows of a training, stored while its final pass solves the
 * users (train.c): the item rows first (final before the pass), then the
 * user rows as they are solved, in row order: the same rows in the same
 * order, through the same bulk insertions, as RecoStoreItemFactors then
 * RecoStoreUserFactors, so the tables end up the same, page for page.  A
 * table that needs an INSERT (RecoBulkBegin's reasons: triggers, rules, row
 * security, ...) is stored through SPI once the pass is over
 * (RecoFactorStoreFinish): its INSERT runs the table's own code, never while
 * the pass's threads run.
 */
struct RecoFactorStore
{
	int64		model_id;
	const RecoInteractions *data;
	const float *X;				/* users x k: row u final once u < rows_ready */
	const float *Y;				/* items x k, final */
	int			k;
	int			stage;			/* RECO_FACTOR_STORE_ITEMS, _USERS or _DONE */
	bool		open;			/* bulk holds the stage's open insertion */
	bool		spi;			/* the stage's table takes the SPI path (after the pass) */
	int64		next;			/* the stage's next row to store */
	RecoBulkInsert bulk;
};

#define RECO_FACTOR_STORE_ITEMS 0
#define RECO_FACTOR_STORE_USERS 1
#define RECO_FACTOR_STORE_DONE 2

/* Starts the store of a training's factors (nothing is written yet); X is solved later. */
RecoFactorStore *
RecoFactorStoreBegin(int64 model_id, const RecoInteractions *data, const float *X, const float *Y, int k)
{
	RecoFactorStore *store = palloc0(sizeof(RecoFactorStore));

	store->model_id = model_id;
	store->data = data;
	store->X = X;
	store->Y = Y;
	store->k = k;
	store->stage = RECO_FACTOR_STORE_ITEMS;
	return store;
}

/*
 * Stores up to max_rows more rows of those ready (every item, the users
 * below users_ready) in bulk, in order; returns whether rows it may store
 * now are left.  A stage that takes the SPI path waits (for
 * RecoFactorStoreFinish).  May raise any error an INSERT raises, a cancel
 * included.
 */
bool
RecoFactorStoreStep(RecoFactorStore *store, int64 users_ready, int64 max_rows)
{
	const RecoInteractions *data = store->data;
	int64		end;

	while (store->stage != RECO_FACTOR_STORE_DONE && !store->spi)
	{
		bool		items = store->stage == RECO_FACTOR_STORE_ITEMS;

		if (!store->open)
		{
			store->spi = !RecoStoreSideInBulk(&store->bulk, data, !items);
			store->open = !store->spi;
			if (store->spi)
				break;
		}
		end = items ? data->n_items : Min(users_ready, data->n_users);
		for (; store->next < end && max_rows > 0; store->next++, max_rows--)
			if (items)
				RecoBulkAddItem(&store->bulk, store->model_id, data, store->Y, store->k, store->next);
			else
				RecoBulkAddUser(&store->bulk, store->model_id, data, store->X, store->k, store->next, false);
		if (store->next < (items ? data->n_items : data->n_users))
			return store->next < end;
		RecoBulkEnd(&store->bulk);
		store->open = false;
		store->next = 0;
		store->stage++;
	}
	return false;
}

/* Stores every row left (all users solved), through SPI where a table needs it, and frees the store. */
void
RecoFactorStoreFinish(RecoFactorStore *store)
{
	while (store->stage != RECO_FACTOR_STORE_DONE)
	{
		if (store->spi && store->stage == RECO_FACTOR_STORE_ITEMS)
			RecoStoreItemFactorsSpi(store->model_id, store->data, store->Y, store->k);
		else if (store->spi)
			RecoStoreUsersSpi(store->model_id, store->data, store->X, store->k, false);
		else
		{
			(void) RecoFactorStoreStep(store, store->data->n_users, PG_INT64_MAX);
			continue;
		}
		store->spi = false;
		store->next = 0;
		store->stage++;
	}
	pfree(store);
}

/* Inserts the reco.models row of a new version. */
void
RecoInsertVersion(const RecoVersionRow *row)
{
	Oid			types[] = {INT8OID, TEXTOID, INT4OID, TEXTOID, INT8OID, INT8OID, INT8OID,
	INT4OID, FLOAT8ARRAYOID, FLOAT8OID, TEXTOID, TEXTOID};
	Datum		values[lengthof(types)];
	Datum	   *loss = palloc(sizeof(Datum) * Max(row->iterations, 1));
	int			i;

	for (i = 0; i < row->iterations; i++)
		loss[i] = Float8GetDatum(row->loss[i]);
	values[0] = Int64GetDatum(row->model_id);
	values[1] = CStringGetTextDatum(row->name);
	values[2] = Int32GetDatum(row->version);
	values[3] = CStringGetTextDatum(row->params_json);
	values[4] = Int64GetDatum(row->n_users);
	values[5] = Int64GetDatum(row->n_items);
	values[6] = Int64GetDatum(row->n_interactions);
	values[7] = Int32GetDatum(row->factors);
	values[8] = RecoArrayOf(loss, row->iterations, FLOAT8OID);
	values[9] = Float8GetDatum(row->train_seconds);
	values[10] = CStringGetTextDatum(row->stats_json);
	values[11] = CStringGetTextDatum(row->algorithm);
	RecoExecuteArgs("INSERT INTO reco.models (model_id, name, version, algorithm, params, n_users, n_items, "
					"n_interactions, factors, loss, train_seconds, stats) "
					"VALUES ($1, $2, $3, $12, $4::jsonb, $5, $6, $7, $8, $9, $10, $11::jsonb)",
					lengthof(types), types, values, false);
}

/* Removes the versions of a name older than the newest `keep`; returns how many. */
int64
RecoPruneVersions(const char *name, int32 newest, int keep)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];

	if (keep <= 0 || newest - keep < 1)
		return 0;
	values[0] = CStringGetTextDatum(name);
	values[1] = Int32GetDatum(newest - keep);
	RecoExecuteArgs("DELETE FROM reco.user_factors WHERE model_id IN "
					"(SELECT model_id FROM reco.models WHERE name = $1 AND version <= $2)",
					2, types, values, false);
	RecoExecuteArgs("DELETE FROM reco.item_factors WHERE model_id IN "
					"(SELECT model_id FROM reco.models WHERE name = $1 AND version <= $2)",
					2, types, values, false);
	/* only versions trained with features have a mapping (and need the right to delete it) */
	if (RecoSchemaHasFeatures())
	{
		RecoExecuteArgs("SELECT 1 FROM reco.models WHERE name = $1 AND version <= $2 "
						"AND params ?| '{item_features,user_features}' LIMIT 1",
						2, types, values, true);
		if (SPI_processed > 0)
			RecoExecuteArgs("DELETE FROM reco.feature_weights WHERE model_id IN "
							"(SELECT model_id FROM reco.models WHERE name = $1 AND version <= $2)",
							2, types, values, false);
	}
	RecoExecuteArgs("DELETE FROM reco.models WHERE name = $1 AND version <= $2",
					2, types, values, false);
	return (int64) SPI_processed;
}

/* Returns the reco.models row of model_id as a composite Datum in the caller's context. */
Datum
RecoFetchVersionRow(int64 model_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(model_id)};
	bool		isnull;

	RecoExecuteArgs("SELECT m FROM reco.models AS m WHERE model_id = $1", 1, types, values, false);
	if (SPI_processed != 1)
		elog(ERROR, "reco: model " INT64_FORMAT " vanished while training, please report a bug", model_id);
	return SPI_datumTransfer(RecoResultValue(1, &isnull), false, -1);
}

/*
 * A read statement prepared once per backend (SPI_keepplan) and kept in
 * *slot: serving runs the same few statements on every call, and the plan
 * cache revalidates them if the tables change.
 */
static SPIPlanPtr
RecoSavedPlan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = RecoPrepare(sql, nargs, types);

		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "reco: SPI_keepplan failed, please report a bug");
		*slot = plan;
	}
	return *slot;
}

/* Comma-separated names of every model, or NULL if there is none. */
static char *
RecoModelNames(void)
{
	bool		isnull;
	Datum		list;

	RecoExecuteArgs("SELECT pg_catalog.string_agg(DISTINCT name, ', ' ORDER BY name) FROM reco.models",
					0, NULL, NULL, true);
	if (SPI_processed != 1)
		return NULL;
	list = RecoResultValue(1, &isnull);
	return isnull ? NULL : TextDatumGetCString(list);
}

/* Columns of the models row RecoLookupModel reads (the SPI query's select list). */
#define RECO_LOOKUP_COLUMNS 15

/* The row RecoLookupModel read directly (reco_lookup_direct), else it is SPI's first row. */
static Datum reco_lookup_values[RECO_LOOKUP_COLUMNS];
static bool reco_lookup_nulls[RECO_LOOKUP_COLUMNS];
static bool reco_lookup_direct = false;

/* Column `col` (1-based, the SPI query's numbering) of the models row RecoLookupModel found. */
static Datum
RecoLookupValue(int col, bool *isnull)
{
	if (!reco_lookup_direct)
		return RecoResultValue(col, isnull);
	*isnull = reco_lookup_nulls[col - 1];
	return reco_lookup_values[col - 1];
}

/*
 * Column `col` of the direct row: (json ->> key), through the type's input
 * function `in` (float4in, int8in; NULL: the text), exactly as the query's
 * operator and cast compute it.
 */
static void
RecoLookupJsonField(Datum json, const char *key, PGFunction in, int col)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		field;

	InitFunctionCallInfoData(*fcinfo, NULL, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = json;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = CStringGetTextDatum(key);
	fcinfo->args[1].isnull = false;
	field = jsonb_object_field_text(fcinfo);
	reco_lookup_nulls[col - 1] = fcinfo->isnull;
	if (fcinfo->isnull)
		reco_lookup_values[col - 1] = (Datum) 0;
	else
		reco_lookup_values[col - 1] = in == NULL ? field
			: DirectFunctionCall1(in, CStringGetDatum(TextDatumGetCString(field)));
}

/*
 * Is the predicate of partial index `index` exactly "att IS NOT NULL" (which
 * every row an equality on att finds satisfies)?
 */
static bool
RecoIndexPredicateIsNotNull(Relation index, AttrNumber att)
{
	List	   *predicate = RelationGetIndexPredicate(index);
	NullTest   *test;

	if (list_length(predicate) != 1 || !IsA(linitial(predicate), NullTest))
		return false;
	test = (NullTest *) linitial(predicate);
	return test->nulltesttype == IS_NOT_NULL && !test->argisrow && IsA(test->arg, Var) &&
		((Var *) test->arg)->varattno == att;
}

/*
 * Is `index` (open) a valid btree index of rel whose keys are exactly (att1,
 * att2), without expressions, whose keys have their columns' collations and
 * that the active snapshot may use (indcheckxmin, as the planner checks)?
 * It has no predicate, or (if not_null) only "att2 IS NOT NULL".
 */
static bool
RecoPairIndexFits(Relation rel, Relation index, AttrNumber att1, AttrNumber att2, bool not_null)
{
	return index->rd_rel->relkind == RELKIND_INDEX && index->rd_index->indrelid == RelationGetRelid(rel) &&
		index->rd_rel->relam == BTREE_AM_OID && index->rd_index->indisvalid &&
		(!index->rd_index->indcheckxmin ||
		 TransactionIdPrecedes(HeapTupleHeaderGetXmin(index->rd_indextuple->t_data), TransactionXmin)) &&
		index->rd_index->indnkeyatts == 2 &&
		index->rd_indcollation[0] == TupleDescAttr(RelationGetDescr(rel), att1 - 1)->attcollation &&
	/* rd_indexprs and rd_indpred are loaded lazily: the catalog row says */
		heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
		index->rd_index->indkey.values[0] == att1 && index->rd_index->indkey.values[1] == att2 &&
		index->rd_indcollation[1] == TupleDescAttr(RelationGetDescr(rel), att2 - 1)->attcollation &&
		(heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) ||
		 (not_null && RecoIndexPredicateIsNotNull(index, att2)));
}

/*
 * An index of rel that RecoPairIndexFits, opened; or NULL.  The index named
 * `likely` (the one reco's tables are created with) is tried first, found by
 * name: a new backend then reads no pg_index rows through an index whose
 * relation cache entry it would build first (RelationGetIndexList); any
 * other fitting index is found as before.
 */
static Relation
RecoOpenPairIndex(Relation rel, const char *likely, AttrNumber att1, AttrNumber att2, bool not_null)
{
	Oid			likely_id = get_relname_relid(likely, RelationGetNamespace(rel));
	List	   *indexes;
	ListCell   *lc;
	Relation	found = NULL;

	if (OidIsValid(likely_id))
	{
		/* not an index_open: it may have been dropped, or be no index, since it was looked up */
		Relation	index = try_relation_open(likely_id, AccessShareLock);

		if (index != NULL && RecoPairIndexFits(rel, index, att1, att2, not_null))
			return index;
		if (index != NULL)
			relation_close(index, AccessShareLock);
	}
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);

		if (RecoPairIndexFits(rel, index, att1, att2, not_null))
		{
			found = index;
			break;
		}
		index_close(index, AccessShareLock);
	}
	list_free(indexes);
	return found;
}

/* Attribute number of column `name` of rel if it has type `type`, else InvalidAttrNumber. */
static AttrNumber
RecoRelColumn(Relation rel, const char *name, Oid type)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), name);

	if (att <= 0 || TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid != type)
		return InvalidAttrNumber;
	return (AttrNumber) att;
}

/*
 * Table relid opened for a direct read (a scan in the active snapshot
 * instead of a planned query), or NULL when the query must decide: no active
 * snapshot, no such table, not a plain table, row security on it,
 * inheritance children (the query reads them too), no USAGE on its schema
 * or no table-wide SELECT privilege for the current role (column privileges
 * are the query's to check).  The lock taken is kept until the transaction
 * ends, as the query's would be.  The training's direct read of a source
 * table (train.c) and the reads of reco's own tables below share it.
 */
Relation
RecoOpenDirectRelation(Oid relid)
{
	Oid			nsp = OidIsValid(relid) ? get_rel_namespace(relid) : InvalidOid;
	Relation	rel;

	if (!OidIsValid(nsp) || !ActiveSnapshotSet() ||
		pg_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE) != ACLCHECK_OK ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return NULL;
	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relrowsecurity || rel->rd_rel->relhassubclass)
	{
		table_close(rel, AccessShareLock);
		return NULL;
	}
	return rel;
}

/*
 * Table reco.`relname` opened for a direct read (RecoOpenDirectRelation), or
 * NULL when the query must decide: RecoOpenDirectRelation's cases, or one of
 * the n columns `names` is missing or not of its type in `types`.  Fills
 * atts with their attribute numbers.
 */
static Relation
RecoOpenDirect(const char *relname, int n, const char *const *names, const Oid *types, AttrNumber *atts)
{
	Oid			nsp = get_namespace_oid("reco", true);
	Relation	rel = RecoOpenDirectRelation(OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid);
	int			c;

	if (rel == NULL)
		return NULL;
	for (c = 0; c < n; c++)
		if ((atts[c] = RecoRelColumn(rel, names[c], types[c])) == InvalidAttrNumber)
		{
			table_close(rel, AccessShareLock);
			return NULL;
		}
	return rel;
}

/*
 * The newest version's row of model `name` in reco.models, read in the active
 * snapshot by scanning the table's pages (a small table: no index to open),
 * copied into `best`; false if no row has that name.  *usable false when
 * the query must decide: a row of that name has a NULL version (the index
 * read's backward scan meets it first, and falls back).  *scanned false
 * (nothing read) when the table is not a heap, has more than
 * RECO_MODELS_SCAN_MAX_BLOCKS pages or the transaction is serializable
 * (a scan's predicate lock is the whole table's): the index decides.  The name is compared with texteq
 * under the column's collation, as the index's equality compares it.
 */
static bool
RecoScanModelRow(Relation rel, AttrNumber name_att, AttrNumber version_att, const char *name,
				 TupleTableSlot *best, bool *usable, bool *scanned)
{
	Oid			collation = TupleDescAttr(RelationGetDescr(rel), name_att - 1)->attcollation;
	Datum		key = CStringGetTextDatum(name);
	TableScanDesc scan;
	TupleTableSlot *slot;
	int32		best_version = 0;
	bool		found = false;

	*usable = true;
	/*
	 * a heap's scan knows its size (one lseek, which the scan needs anyway);
	 * not in a serializable transaction: heap_beginscan predicate-locks the
	 * whole table, so any change to another model's row (forget_user,
	 * refresh) would conflict with this read, where the index read locks
	 * only the model's index page and row
	 */
	*scanned = rel->rd_rel->relam == HEAP_TABLE_AM_OID && !IsolationIsSerializable();
	if (!*scanned)
		return false;
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	if (((HeapScanDesc) scan)->rs_nblocks > RECO_MODELS_SCAN_MAX_BLOCKS)
	{
		table_endscan(scan);
		*scanned = false;
		return false;
	}
	slot = table_slot_create(rel, NULL);
	while (*usable && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, name_att, &isnull);

		if (isnull || !DatumGetBool(DirectFunctionCall2Coll(texteq, collation, value, key)))
			continue;
		value = slot_getattr(slot, version_att, &isnull);
		*usable = !isnull;
		if (*usable && (!found || DatumGetInt32(value) > best_version))
		{
			ExecCopySlot(best, slot);
			best_version = DatumGetInt32(value);
			found = true;
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	return found && *usable;
}

/*
 * The newest version's row of model `name` read through reco.models's
 * (name, version) index (newest first), copied into `best`; false if there
 * is none.  *usable false when the query must decide: no such index.
 */
static bool
RecoIndexModelRow(Relation rel, AttrNumber name_att, AttrNumber version_att, const char *name,
				  TupleTableSlot *best, bool *usable)
{
	Relation	index = RecoOpenPairIndex(rel, "models_name_version_key", name_att, version_att, false);
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData key;
	bool		found;

	*usable = index != NULL;
	if (index == NULL)
		return false;
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(name));
	key.sk_collation = index->rd_indcollation[0];
	scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	found = index_getnext_slot(scan, BackwardScanDirection, slot);
	if (found)
		ExecCopySlot(best, slot);
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, NoLock);
	return found;
}

/*
 * RecoLookupModel's row read straight from reco.models in the active
 * snapshot, without SPI: a new backend's first serving call spent about half
 * of its time parsing and planning the lookup query (operator, cast and
 * statistics lookups).  The newest version's row is found by scanning the
 * table when it has at most RECO_MODELS_SCAN_MAX_BLOCKS pages (what the index
 * would find, without opening it: its relation cache entry and descent were
 * a tenth of a new backend's first call), else through its (name, version)
 * index.  Fills the direct row as the query's columns and sets *found;
 * returns false (nothing read) when the query must decide instead: no
 * table-wide SELECT privilege (column privileges), row security, a changed
 * table or (a larger table) no such index, no active snapshot, or a NULL in
 * a NOT NULL column.
 */
static bool
RecoLookupModelDirect(const char *name, bool *found)
{
	/* "name" last: it is the index's first key, not a column of the row */
	static const char *const column_names[] = {"model_id", "version", "factors", "n_users", "n_items",
	"params", "stats", "algorithm", "name"};
	static const Oid column_types[] = {INT8OID, INT4OID, INT4OID, INT8OID, INT8OID, JSONBOID, JSONBOID, TEXTOID,
	TEXTOID};
	AttrNumber	atts[lengthof(column_names)];
	AttrNumber	name_att;
	Datum		row[lengthof(column_names) - 1];
	bool		nulls[lengthof(column_names) - 1];
	Relation	rel;
	TupleTableSlot *best;
	bool		usable = true;
	bool		scanned;
	int			c;

	*found = false;
	rel = RecoOpenDirect("models", lengthof(column_names), column_names, column_types, atts);
	if (rel == NULL)
		return false;
	name_att = atts[lengthof(column_names) - 1];
	best = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	*found = RecoScanModelRow(rel, name_att, atts[1], name, best, &usable, &scanned);
	if (!scanned)
		*found = RecoIndexModelRow(rel, name_att, atts[1], name, best, &usable);
	if (*found)
	{
		for (c = 0; c < lengthof(row); c++)
		{
			row[c] = slot_getattr(best, atts[c], &nulls[c]);
			usable = usable && !nulls[c];
		}
		if (usable)
		{
			Datum		params = row[5];

			for (c = 0; c < 5; c++)
			{
				reco_lookup_values[c] = row[c];
				reco_lookup_nulls[c] = false;
			}
			RecoLookupJsonField(params, "alpha", float4in, 6);
			RecoLookupJsonField(params, "regularization", float4in, 7);
			RecoLookupJsonField(params, "user_id_type", NULL, 8);
			RecoLookupJsonField(params, "item_id_type", NULL, 9);
			RecoLookupJsonField(row[6], "user_generation", int8in, 10);
			RecoLookupJsonField(row[6], "item_generation", int8in, 11);
			reco_lookup_values[11] = PointerGetDatum(DatumGetTextPCopy(row[7]));
			reco_lookup_nulls[11] = false;
			reco_lookup_values[12] = BoolGetDatum(!(DatumGetBool(DirectFunctionCall2(jsonb_exists, params, CStringGetTextDatum("imported"))) &&
													!DatumGetBool(DirectFunctionCall2(jsonb_exists, params, CStringGetTextDatum("regularization")))));
			reco_lookup_nulls[12] = false;
			RecoLookupJsonField(params, "reg_exponent", float4in, 14);
			RecoLookupJsonField(params, "unobserved_weight", float4in, 15);
		}
	}
	ExecDropSingleTupleTableSlot(best);
	table_close(rel, NoLock);
	return usable;
}

/*
 * The id type of column col of RecoLookupModel's result (params key `key`):
 * bigint if absent (models from before 0.4.0); XX001 if it names no type.
 */
static RecoIdType
RecoModelIdType(const char *name, int32 version, const char *key, int col)
{
	bool		isnull;
	Datum		value = RecoLookupValue(col, &isnull);
	char	   *type_name;
	RecoIdType	type;

	if (isnull)
		return RECO_ID_BIGINT;
	type_name = TextDatumGetCString(value);
	if (!RecoIdTypeFromName(type_name, &type))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("models row of \"%s\" version %d has an invalid %s \"%s\"",
						name, version, key, type_name),
				 errdetail("The id types are: bigint, text, uuid.")));
	return type;
}

/* Reads a models row's algorithm; XX001 if it is none reco knows. */
static void
RecoModelAlgorithm(const char *name, int32 version, const char *word, RecoAlgorithm *out)
{
	if (!RecoParseAlgorithm(word, out))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("models row of \"%s\" version %d has an unknown algorithm \"%s\"",
						name, version, word),
				 errdetail("The algorithms are: ials, als, bpr.")));
}

/* Column `col` (a real) of the looked-up models row, or `absent` if it is NULL. */
static float
RecoResultReal(int col, float absent)
{
	bool		isnull;
	Datum		value = RecoLookupValue(col, &isnull);

	return isnull ? absent : DatumGetFloat4(value);
}

/* Finds the served (newest) version of a model; 42704 with the known names if none. */
void
RecoLookupModel(const char *name, RecoModelInfo *info)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		isnull;
	bool		found = false;

	reco_lookup_direct = RecoLookupModelDirect(name, &found);
	if (!reco_lookup_direct)
	{
		RecoExecute(RecoSavedPlan(&plan,
								  "SELECT model_id, version, factors, n_users, n_items, "
								  "(params->>'alpha')::real, (params->>'regularization')::real, "
								  "params->>'user_id_type', params->>'item_id_type', "
								  "(stats->>'user_generation')::bigint, (stats->>'item_generation')::bigint, algorithm, "
								  "NOT (params ? 'imported' AND NOT params ? 'regularization'), "
								  "(params->>'reg_exponent')::real, (params->>'unobserved_weight')::real "
								  "FROM reco.models WHERE name = $1 ORDER BY version DESC LIMIT 1",
								  1, types),
					values, true, SPI_OK_SELECT);
		found = SPI_processed > 0;
	}
	if (!found)
	{
		char	   *known = RecoModelNames();

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 known ? errhint("The models are: %s.", known)
				 : errhint("No model has been trained yet: train one with reco.train or the reco.fit aggregate.")));
	}
	strlcpy(info->name, name, sizeof(info->name));
	info->model_id = DatumGetInt64(RecoLookupValue(1, &isnull));
	info->version = DatumGetInt32(RecoLookupValue(2, &isnull));
	info->factors = DatumGetInt32(RecoLookupValue(3, &isnull));
	info->n_users = DatumGetInt64(RecoLookupValue(4, &isnull));
	info->n_items = DatumGetInt64(RecoLookupValue(5, &isnull));
	/* a hand-made models row may lack params: confidence = weight, no ridge */
	info->alpha = RecoResultReal(6, 1.0f);
	info->regularization = RecoResultReal(7, 0.0f);
	/* absent in a model trained before 0.6.0: implicit's system */
	info->reg_exponent = RecoResultReal(14, 0.0f);
	info->unobserved_weight = RecoResultReal(15, 1.0f);
	info->user_id_type = RecoModelIdType(name, info->version, "user_id_type", 8);
	info->item_id_type = RecoModelIdType(name, info->version, "item_id_type", 9);
	/* absent until the first refresh: 0 */
	info->user_generation = DatumGetInt64(RecoLookupValue(10, &isnull));
	info->user_generation = isnull ? 0 : info->user_generation;
	info->item_generation = DatumGetInt64(RecoLookupValue(11, &isnull));
	info->item_generation = isnull ? 0 : info->item_generation;
	RecoModelAlgorithm(name, info->version, TextDatumGetCString(RecoLookupValue(12, &isnull)),
					   &info->algorithm);
	/* an import records regularization and alpha only when given them (import.c) */
	info->fold_in = DatumGetBool(RecoLookupValue(13, &isnull));
	/* the tables' CHECK constraints say the same; a hand-edited row must not reach the kernels */
	if (info->factors < 1 || info->factors > RECO_MAX_FACTORS || info->n_users < 0 || info->n_items < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("models row of \"%s\" version %d is invalid: factors %d, n_users " INT64_FORMAT ", n_items " INT64_FORMAT,
						name, info->version, info->factors, info->n_users, info->n_items),
				 errdetail("factors must be between 1 and %d and the counts must not be negative.", RECO_MAX_FACTORS)));
}

/*
 * The model the short forms serve: the setting reco.model if set, else the
 * only model there is; otherwise 42704 with a hint.
 */
char *
RecoDefaultModelName(void)
{
	char	   *known;

	if (reco_model != NULL && reco_model[0] != '\0')
		return pstrdup(reco_model);
	known = RecoModelNames();
	if (known == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no model to serve: reco.model is not set and no model has been trained"),
				 errhint("Train one with reco.train or the reco.fit aggregate.")));
	if (strchr(known, ',') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no model to serve: reco.model is not set and there is more than one model"),
				 errhint("SET reco.model to one of: %s; or name the model: reco.recommend(model, user_id, n).", known)));
	return known;
}

/* Errors out (XX001) if a load read `rows` rows of a side whose models row says `capacity`. */
static void
RecoCheckRowCount(int64 rows, int64 capacity, int64 model_id, const char *side)
{
	if (rows > capacity)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model " INT64_FORMAT " has more %s rows than its models row says (" INT64_FORMAT ")",
						model_id, side, capacity)));
}

/*
 * Fetches the next batch of a load cursor; returns its row count (0: done).
 * Errors out (XX001) if `have` rows plus the batch exceed `capacity`, the
 * models row's count of the side being loaded.
 */
static uint64
RecoFetchRows(Portal portal, int64 have, int64 capacity, int64 model_id, const char *side)
{
	SPI_cursor_fetch(portal, true, RECO_LOAD_BATCH_ROWS);
	RecoCheckRowCount(have + (int64) SPI_processed, capacity, model_id, side);
	return SPI_processed;
}

/* The key of row `row` of a text or uuid side. */
const char *
RecoKeyAt(const RecoKeys *keys, int64 row)
{
	return keys->data + keys->offsets[row];
}

/* The row of `key` among n keys (through their key order), or -1 (binary search). */
int64
RecoFindKey(const RecoKeys *keys, int64 n, const char *key)
{
	int64		lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		int64		row = keys->order != NULL ? keys->order[mid] : mid;
		int			cmp = RecoCompareKeys(RecoKeyAt(keys, row), key);

		if (cmp == 0)
			return row;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * Appends the key of row `row` (a text datum, NULL if isnull) to keys, whose
 * buffers live in mcxt and have room for `rows` offsets; *capacity is the
 * data buffer's size.  A NULL key is XX001 (the model's keys are not what
 * training stores).
 */
static void
RecoAppendKey(RecoKeys *keys, Size *capacity, int64 row, int64 rows, Datum key, bool isnull,
			  int64 model_id, const char *side, MemoryContext mcxt)
{
	text	   *value;
	Size		len;

	if (keys->offsets == NULL)
	{
		*capacity = 16 * (Size) Max(rows, 1);
		keys->data = MemoryContextAllocHuge(mcxt, *capacity);
		keys->offsets = MemoryContextAllocHuge(mcxt, sizeof(int64) * Max(rows, 1));
		keys->order = NULL;
		keys->bytes = 0;
	}
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("%s row " INT64_FORMAT " of model " INT64_FORMAT " has no key, but the model's %s ids are keys",
						side, row + 1, model_id, side)));
	value = DatumGetTextPP(key);
	len = VARSIZE_ANY_EXHDR(value);
	while (keys->bytes + len + 1 > *capacity)
	{
		*capacity *= 2;
		keys->data = repalloc_huge(keys->data, *capacity);
	}
	memcpy(keys->data + keys->bytes, VARDATA_ANY(value), len);
	keys->data[keys->bytes + len] = '\0';
	keys->offsets[row] = (int64) keys->bytes;
	keys->bytes += len + 1;
}

/* qsort_arg order of rows by their keys (arg: the RecoKeys). */
static int
RecoCompareKeyRows(const void *a, const void *b, void *arg)
{
	const RecoKeys *keys = (const RecoKeys *) arg;

	return RecoCompareKeys(RecoKeyAt(keys, *(const int64 *) a), RecoKeyAt(keys, *(const int64 *) b));
}

/*
 * Makes n loaded keys searchable: if code order is not key order (a key
 * refreshed in after training), builds keys->order in mcxt.  Two equal keys
 * are XX001 (the unique key index forbids them: the rows were edited).
 */
static void
RecoIndexKeys(RecoKeys *keys, int64 n, int64 model_id, const char *side, MemoryContext mcxt)
{
	int64		i;
	int64	   *order;

	for (i = 1; i < n; i++)
		if (RecoCompareKeys(RecoKeyAt(keys, i - 1), RecoKeyAt(keys, i)) >= 0)
			break;
	if (i >= n)
		return;					/* code order is key order: no permutation */
	order = MemoryContextAllocHuge(mcxt, sizeof(int64) * n);
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_arg(order, n, sizeof(int64), RecoCompareKeyRows, keys);
	for (i = 1; i < n; i++)
		if (RecoCompareKeys(RecoKeyAt(keys, order[i - 1]), RecoKeyAt(keys, order[i])) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the %s keys of model " INT64_FORMAT " are not unique: \"%s\" is the key of two rows",
							side, model_id, RecoKeyAt(keys, order[i]))));
	keys->order = order;
}

/*
 * Loads one side's factors of a model (every item or every user), ordered by
 * id, into a new set whose arrays live in mcxt; items with their popularity
 * and which were placed from features (placed: NULL when none was), a text
 * or uuid side with its keys.
 */
void
RecoLoadFactors(const RecoModelInfo *model, RecoSide side, RecoFactorSet *set, MemoryContext mcxt)
{
	/*
	 * a bigint side reads no key: before ALTER EXTENSION UPDATE to 0.4.0 there
	 * is no key column; nor, before 0.7.0, a features column
	 */
	static SPIPlanPtr plans[2][2][2] = {{{NULL, NULL}, {NULL, NULL}}, {{NULL, NULL}, {NULL, NULL}}};
	static const char *const sql[2][2] = {
		{"SELECT item_id, factors, NULL::text, popularity, %s FROM reco.item_factors WHERE model_id = $1 ORDER BY item_id",
		 "SELECT item_id, factors, item_key, popularity, %s FROM reco.item_factors WHERE model_id = $1 ORDER BY item_id"},
		{"SELECT user_id, factors, NULL::text, 0, %s FROM reco.user_factors WHERE model_id = $1 ORDER BY user_id",
		 "SELECT user_id, factors, user_key, 0, %s FROM reco.user_factors WHERE model_id = $1 ORDER BY user_id"}
	};
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(model->model_id)};
	int64		expected = side == RECO_SIDE_ITEMS ? model->n_items : model->n_users;
	const char *side_name = side == RECO_SIDE_ITEMS ? "item" : "user";
	bool		keyed = (side == RECO_SIDE_ITEMS ? model->item_id_type : model->user_id_type) != RECO_ID_BIGINT;
	bool		features = side == RECO_SIDE_ITEMS && RecoSchemaHasFeatures();
	SPIPlanPtr *slot = &plans[side][keyed][features];
	Portal		portal;
	bool		any_placed = false;
	int			k = model->factors;
	int64		n = 0;
	Size		key_capacity = 0;

	memset(set, 0, sizeof(*set));
	set->k = k;
	set->cxt = mcxt;
	set->id_type = side == RECO_SIDE_ITEMS ? model->item_id_type : model->user_id_type;
	set->ids = MemoryContextAllocHuge(mcxt, sizeof(int64) * Max(expected, 1));
	set->factors = MemoryContextAllocHuge(mcxt, mul_size(sizeof(float) * k, Max(expected, 1)));
	if (side == RECO_SIDE_ITEMS)
	{
		set->popularity = MemoryContextAllocHuge(mcxt, sizeof(int64) * Max(expected, 1));
		set->placed = MemoryContextAllocHuge(mcxt, sizeof(bool) * Max(expected, 1));
	}
	if (*slot == NULL)
		(void) RecoSavedPlan(slot, psprintf(sql[side][keyed], features ? "features IS NOT NULL" : "false"), 1, types);
	portal = SPI_cursor_open(NULL, *slot, values, NULL, true);
	while (RecoFetchRows(portal, n, expected, model->model_id, side_name) > 0)
	{
		uint64		r;

		for (r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			HeapTuple	tuple = SPI_tuptable->vals[r];

			set->ids[n] = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
			RecoDecodeFactors(DatumGetByteaPP(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull)),
							  k, set->factors + n * k);
			if (set->id_type != RECO_ID_BIGINT)
			{
				Datum		key = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull);

				RecoAppendKey(&set->keys, &key_capacity, n, expected, key, isnull,
							  model->model_id, side_name, mcxt);
			}
			if (set->popularity != NULL)
			{
				set->popularity[n] = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 4, &isnull));
				set->placed[n] = DatumGetBool(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 5, &isnull));
				any_placed |= set->placed[n];
			}
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	set->n = n;
	if (!any_placed && set->placed != NULL)
	{
		pfree(set->placed);		/* no item placed from features: NULL says so */
		set->placed = NULL;
	}
	if (set->keys.data != NULL)
	{
		set->keys.data = repalloc_huge(set->keys.data, Max(set->keys.bytes, 1));	/* what the cache counts */
		RecoIndexKeys(&set->keys, n, model->model_id, side_name, mcxt);
	}
}

/* Checks a stored one-dimensional array without NULLs of the given type; returns its length. */
static int64
RecoStoredArrayLength(ArrayType *array, Oid type, const char *column, int64 user_id, int64 model_id)
{
	if (ARR_NDIM(array) > 1 || ARR_ELEMTYPE(array) != type || array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("%s of user " INT64_FORMAT " in model " INT64_FORMAT " is malformed",
						column, user_id, model_id)));
	return ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
}

/* Starts an empty user set with room for `capacity` users, in mcxt (RecoLoadUserRow fills it). */
static void
RecoUserSetInit(const RecoModelInfo *model, int64 capacity, bool with_weights, RecoUserSet *users,
				MemoryContext mcxt)
{
	int			k = model->factors;

	memset(&users->keys, 0, sizeof(users->keys));
	users->k = k;
	users->n = 0;
	users->ids = MemoryContextAllocHuge(mcxt, sizeof(int64) * Max(capacity, 1));
	users->factors = MemoryContextAllocHuge(mcxt, mul_size(sizeof(float) * k, Max(capacity, 1)));
	users->seen_ptr = MemoryContextAllocHuge(mcxt, sizeof(int64) * (capacity + 1));
	users->seen_items = MemoryContextAllocHuge(mcxt, sizeof(int64) * RECO_LOAD_SEEN_INITIAL);
	users->seen_weights = with_weights ? MemoryContextAllocHuge(mcxt, sizeof(float) * RECO_LOAD_SEEN_INITIAL) : NULL;
	users->seen_ptr[0] = 0;
}

/*
 * Appends one user row (columns RECO_USER_COLUMNS as values[0..5), read by
 * the cursor or straight from the table) to users, whose seen arrays hold
 * *seen_capacity elements (doubled as needed); see RecoLoadUsers for what is
 * kept.
 */
static void
RecoLoadUserRow(const RecoModelInfo *model, const Datum *values, const bool *nulls, int64 capacity,
				bool with_weights, RecoUserSet *users, int64 *seen_capacity, Size *key_capacity,
				MemoryContext mcxt)
{
	int			k = model->factors;
	int64		found = users->n;
	int64		used = users->seen_ptr[found];
	int64		user_id = DatumGetInt64(values[0]);
	ArrayType  *seen;
	ArrayType  *weights;
	int64		count;

	if (nulls[0] || nulls[1] || nulls[2] || nulls[3])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a row of reco.user_factors in model " INT64_FORMAT " has a NULL user_id, factors, seen_items or seen_weights",
						model->model_id),
				 errhint("Those columns are NOT NULL in reco's tables; retrain the model.")));
	users->ids[found] = user_id;
	RecoDecodeFactors(DatumGetByteaPP(values[1]), k, users->factors + found * k);
	if (model->user_id_type != RECO_ID_BIGINT)
		RecoAppendKey(&users->keys, key_capacity, found, capacity, values[4], nulls[4],
					  model->model_id, "user", mcxt);
	seen = DatumGetArrayTypeP(values[2]);
	count = RecoStoredArrayLength(seen, INT8OID, "seen_items", user_id, model->model_id);
	while (used + count > *seen_capacity)
	{
		*seen_capacity *= 2;
		users->seen_items = repalloc_huge(users->seen_items, sizeof(int64) * *seen_capacity);
		if (with_weights)
			users->seen_weights = repalloc_huge(users->seen_weights, sizeof(float) * *seen_capacity);
	}
	weights = DatumGetArrayTypeP(values[3]);
	if (RecoStoredArrayLength(weights, FLOAT4OID, "seen_weights", user_id, model->model_id) != count)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("seen_weights of user " INT64_FORMAT " in model " INT64_FORMAT " does not match seen_items",
						user_id, model->model_id)));
	if (with_weights)
	{
		memcpy(users->seen_items + used, ARR_DATA_PTR(seen), sizeof(int64) * count);
		memcpy(users->seen_weights + used, ARR_DATA_PTR(weights), sizeof(float) * count);
	}
	else
	{
		const int64 *items = (const int64 *) ARR_DATA_PTR(seen);
		const float *w = (const float *) ARR_DATA_PTR(weights);
		int64		j,
					kept = 0;

		for (j = 0; j < count; j++)
			if (w[j] > 0)
				users->seen_items[used + kept++] = items[j];
		count = kept;
	}
	users->seen_ptr[found + 1] = used + count;
	users->n = found + 1;
}

/*
 * Reads the rows of an open user cursor (columns RECO_USER_COLUMNS, ordered
 * by user id, at most `capacity` of them) into users, in mcxt; see
 * RecoLoadUsers for what is kept.
 */
static void
RecoLoadUserRows(const RecoModelInfo *model, Portal portal, int64 capacity, bool with_weights,
				 RecoUserSet *users, MemoryContext mcxt)
{
	int64		seen_capacity = RECO_LOAD_SEEN_INITIAL;
	Size		key_capacity = 0;

	RecoUserSetInit(model, capacity, with_weights, users, mcxt);
	while (RecoFetchRows(portal, users->n, capacity, model->model_id, "user") > 0)
	{
		uint64		r;

		for (r = 0; r < SPI_processed; r++)
		{
			Datum		values[5];
			bool		nulls[5];
			int			c;

			for (c = 0; c < 5; c++)
				values[c] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
			RecoLoadUserRow(model, values, nulls, capacity, with_weights, users, &seen_capacity,
							&key_capacity, mcxt);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
}

/*
 * Loads the one user whose user_id (by_key: user_key) is `match` (an int8 or
 * text datum) as RecoLoadUsersMatching does, read straight from
 * reco.user_factors's (model_id, user_id) index (by_key: (model_id,
 * user_key), partial on user_key IS NOT NULL) in the active snapshot,
 * without SPI: planning the user query (operators, column statistics, the
 * plan cache) was the largest part of a new backend's first serving call.
 * Returns false (nothing read) when the query must decide instead: an id on
 * a text or uuid side or a key on a bigint one, RecoOpenDirect's cases (no
 * table-wide SELECT grant, row security, a table without user_key from
 * before 0.4.0...), no such index, or a NULL in a NOT NULL column.
 */
static bool
RecoLoadUserDirect(const RecoModelInfo *model, bool by_key, Datum match, bool with_weights,
				   RecoUserSet *users, MemoryContext mcxt)
{
	/* RECO_USER_COLUMNS (the key only on a text or uuid side, else NULL), then the index's first key */
	static const char *const column_names[] = {"user_id", "factors", "seen_items", "seen_weights", "user_key",
	"model_id"};
	static const Oid column_types[] = {INT8OID, BYTEAOID, INT8ARRAYOID, FLOAT4ARRAYOID, TEXTOID, INT8OID};
	bool		keyed = model->user_id_type != RECO_ID_BIGINT;
	AttrNumber	atts[lengthof(column_names)];
	AttrNumber	match_att;
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData keys[2];
	int64		seen_capacity = RECO_LOAD_SEEN_INITIAL;
	Size		key_capacity = 0;
	bool		usable = true;
	int			c;

	if (keyed != by_key)
		return false;
	rel = RecoOpenDirect("user_factors", lengthof(column_names), column_names, column_types, atts);
	if (rel == NULL)
		return false;
	match_att = keyed ? atts[4] : atts[0];
	index = RecoOpenPairIndex(rel, keyed ? "user_factors_user_key" : "user_factors_pkey", atts[5], match_att, keyed);
	if (index == NULL)
	{
		table_close(rel, AccessShareLock);
		return false;
	}
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(model->model_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, keyed ? F_TEXTEQ : F_INT8EQ, match);
	keys[1].sk_collation = index->rd_indcollation[1];
	scan = index_beginscan(rel, index, GetActiveSnapshot(), 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	slot = table_slot_create(rel, NULL);
	RecoUserSetInit(model, 1, with_weights, users, mcxt);
	while (usable && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		Datum		values[5];
		bool		nulls[5];

		RecoCheckRowCount(users->n + 1, 1, model->model_id, "user");
		for (c = 0; c < 5; c++)
		{
			values[c] = c < 4 || keyed ? slot_getattr(slot, atts[c], &nulls[c]) : (Datum) 0;
			nulls[c] = c < 4 || keyed ? nulls[c] : true;
			usable = usable && (c == 4 || !nulls[c]);
		}
		if (usable)
			RecoLoadUserRow(model, values, nulls, 1, with_weights, users, &seen_capacity, &key_capacity, mcxt);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return usable;
}

/* How a user load selects its users (RecoUserPlan). */
typedef enum RecoUserWhere
{
	RECO_USERS_ALL = 0,
	RECO_USERS_ID,				/* user_id = $2 */
	RECO_USERS_IDS,				/* user_id = ANY($2) */
	RECO_USERS_KEY,				/* user_key = $2 */
	RECO_USERS_KEYS				/* user_key = ANY($2) */
} RecoUserWhere;

/*
 * The saved plan of a user load: columns RECO_USER_COLUMNS of the model's
 * users selected by `where` ($1 the model_id, $2 of type `match_type`), in
 * user id order.  On a bigint user side the key column is read as NULL:
 * before ALTER EXTENSION UPDATE to 0.4.0 there is no such column.
 */
static SPIPlanPtr
RecoUserPlan(bool keyed, RecoUserWhere where, Oid match_type)
{
	static SPIPlanPtr plans[2][5];
	static const char *const where_sql[5] = {
		"ORDER BY user_id",
		"AND user_id = $2",
		"AND user_id = ANY($2) ORDER BY user_id",
		"AND user_key = $2",
		"AND user_key = ANY($2) ORDER BY user_id"
	};
	Oid			types[2] = {INT8OID, match_type};

	if (plans[keyed][where] == NULL)
	{
		char	   *sql = psprintf("SELECT " RECO_USER_COLUMNS " FROM reco.user_factors WHERE model_id = $1 %s",
								   keyed ? "user_key" : "NULL::text", where_sql[where]);

		RecoSavedPlan(&plans[keyed][where], sql, where == RECO_USERS_ALL ? 1 : 2, types);
		pfree(sql);
	}
	return plans[keyed][where];
}

/*
 * Loads the users whose user_id (by_key: user_key) is one of match[0..n)
 * (int8 or text datums), in code order; see RecoLoadUsers.  One value, as
 * every single-user call has, is looked up with =: ANY's array and sort
 * cost 0.02 ms a call.
 */
static void
RecoLoadUsersMatching(const RecoModelInfo *model, bool by_key, Datum *match, int64 n, bool with_weights,
					  RecoUserSet *users, MemoryContext mcxt)
{
	Oid			elem = by_key ? TEXTOID : INT8OID;
	bool		list = n != 1;
	RecoUserWhere where = by_key ? (list ? RECO_USERS_KEYS : RECO_USERS_KEY) : (list ? RECO_USERS_IDS : RECO_USERS_ID);
	Datum		values[2];
	Portal		portal;

	if (!list && RecoLoadUserDirect(model, by_key, match[0], with_weights, users, mcxt))
		return;
	values[0] = Int64GetDatum(model->model_id);
	values[1] = list ? RecoArrayOf(match, n, elem) : match[0];
	portal = SPI_cursor_open(NULL, RecoUserPlan(model->user_id_type != RECO_ID_BIGINT, where,
												list ? get_array_type(elem) : elem),
							 values, NULL, true);
	RecoLoadUserRows(model, portal, n, with_weights, users, mcxt);
}

/*
 * Loads factors and training interactions of the given users: with_weights,
 * every training item and its net weight (negative ones too: what a fold-in
 * needs); otherwise only the seen items, those with a positive net weight
 * (what exclude_seen excludes).  user_ids ascending (codes on a text or uuid
 * side), or NULL for every user of the model; loaded into mcxt, ordered by
 * user id, with their keys on a text or uuid side; unknown users are left
 * out.
 */
void
RecoLoadUsers(const RecoModelInfo *model, const int64 *user_ids, int64 n, bool with_weights,
			  RecoUserSet *users, MemoryContext mcxt)
{
	Datum		values[1] = {Int64GetDatum(model->model_id)};
	Datum	   *match;
	int64		i;

	if (user_ids == NULL)
	{
		RecoLoadUserRows(model,
						 SPI_cursor_open(NULL, RecoUserPlan(model->user_id_type != RECO_ID_BIGINT, RECO_USERS_ALL,
															InvalidOid),
										 values, NULL, true),
						 model->n_users, with_weights, users, mcxt);
		return;
	}
	match = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
		match[i] = Int64GetDatum(user_ids[i]);
	RecoLoadUsersMatching(model, false, match, n, with_weights, users, mcxt);
}

/*
 * RecoLoadUsers for users of a text or uuid side given by key (stored form:
 * a uuid canonical), found through the index user_factors_user_key; unknown
 * keys are left out, the users come in code order.
 */
void
RecoLoadUsersByKey(const RecoModelInfo *model, const char *const *keys, int64 n, bool with_weights,
				   RecoUserSet *users, MemoryContext mcxt)
{
	Datum	   *match = palloc(sizeof(Datum) * Max(n, 1));
	int64		i;

	Assert(model->user_id_type != RECO_ID_BIGINT);
	for (i = 0; i < n; i++)
		match[i] = CStringGetTextDatum(keys[i]);
	RecoLoadUsersMatching(model, true, match, n, with_weights, users, mcxt);
}
